//! Background activity of Defender for Identity (domain controller view of logons,
//! queries and directory changes) and the inventory tables (`DeviceInfo`,
//! `DeviceNetworkInfo`, `IdentityInfo`).

use std::fmt::Write;

use crate::catalog::{CITIES, DEPTS};
use crate::rng::{Rng, fnv};
use crate::sink::Sink;
use crate::world::{DAY, DOMAIN, Device, HOUR, MIN, Role, SEC, User, UserKind, World};

pub(crate) const IDENTITY_TABLES: [&str; 3] = [
    "IdentityLogonEvents",
    "IdentityQueryEvents",
    "IdentityDirectoryEvents",
];

pub(crate) const INVENTORY_TABLES: [&str; 3] = ["DeviceInfo", "DeviceNetworkInfo", "IdentityInfo"];

/// Writes the `Account*` columns of a Defender for Identity row.
pub(crate) fn identity_account(s: &mut Sink, u: &User) {
    let c = s.c;
    s.s(c.AccountName, &u.sam);
    s.s(c.AccountDomain, DOMAIN);
    s.s(c.AccountUpn, &u.upn);
    s.s(c.AccountSid, &u.sid);
    s.s(c.AccountObjectId, &u.object_id);
    s.s(c.AccountDisplayName, &u.display);
}

/// One `IdentityLogonEvents` row.
pub(crate) struct IdLogon<'a> {
    pub t: i64,
    pub action: &'static str,
    pub application: &'static str,
    pub logon_type: &'static str,
    pub protocol: &'static str,
    pub failure: &'static str,
    pub user: &'a User,
    pub device: Option<&'a Device>,
    pub ip: &'a str,
    pub dest: Option<&'a Device>,
    pub dest_port: i32,
    pub target: Option<&'a Device>,
    pub location: &'a str,
    pub isp: &'a str,
    pub report_id: &'a str,
    pub additional: &'a str,
}

pub(crate) fn write_id_logon(s: &mut Sink, l: &IdLogon) {
    let c = s.c;
    s.t(c.Timestamp, l.t);
    s.s(c.ActionType, l.action);
    s.s(c.Application, l.application);
    s.s(c.LogonType, l.logon_type);
    s.so(c.Protocol, l.protocol);
    s.so(c.FailureReason, l.failure);
    identity_account(s, l.user);
    if let Some(d) = l.device {
        s.s(c.DeviceName, &d.netbios);
        s.s(
            c.DeviceType,
            if d.is_server() { "Server" } else { "Desktop" },
        );
        s.s(c.OSPlatform, d.os_platform);
        s.i(c.Port, 49_152 + (fnv(l.report_id) % 16_000) as i32);
    } else {
        s.s(c.DeviceType, "Desktop");
        s.s(c.OSPlatform, "Windows");
    }
    s.so(c.IPAddress, l.ip);
    if let Some(d) = l.dest {
        s.s(c.DestinationDeviceName, &d.netbios);
        s.s(c.DestinationIPAddress, &d.ip);
        s.i(c.DestinationPort, l.dest_port);
    }
    if let Some(d) = l.target {
        s.s(c.TargetDeviceName, &d.netbios);
    }
    s.so(c.Location, l.location);
    s.so(c.Isp, l.isp);
    s.s(c.ReportId, l.report_id);
    s.so(c.AdditionalFields, l.additional);
    s.end();
}

/// One `IdentityQueryEvents` row.
pub(crate) struct IdQuery<'a> {
    pub t: i64,
    pub action: &'static str,
    pub query_type: &'a str,
    pub target: &'a str,
    pub query: &'a str,
    pub protocol: &'static str,
    pub user: Option<&'a User>,
    pub device: &'a Device,
    pub dest: Option<&'a Device>,
    pub dest_port: i32,
    pub target_upn: &'a str,
    pub target_name: &'a str,
    pub report_id: &'a str,
}

pub(crate) fn write_id_query(s: &mut Sink, q: &IdQuery) {
    let c = s.c;
    s.t(c.Timestamp, q.t);
    s.s(c.ActionType, q.action);
    s.s(c.Application, "Active Directory");
    s.s(c.QueryType, q.query_type);
    s.so(c.QueryTarget, q.target);
    s.s(c.Query, q.query);
    s.s(c.Protocol, q.protocol);
    if let Some(u) = q.user {
        identity_account(s, u);
    }
    s.s(c.DeviceName, &q.device.netbios);
    s.s(c.IPAddress, &q.device.ip);
    s.i(c.Port, 49_152 + (fnv(q.report_id) % 16_000) as i32);
    if let Some(d) = q.dest {
        s.s(c.DestinationDeviceName, &d.netbios);
        s.s(c.DestinationIPAddress, &d.ip);
        s.i(c.DestinationPort, q.dest_port);
    }
    s.so(c.TargetAccountUpn, q.target_upn);
    s.so(c.TargetAccountDisplayName, q.target_name);
    s.s(c.ReportId, q.report_id);
    s.end();
}

/// Domain-controller activity of the workstations `devs` (indexes into the workstation
/// list) on `day`, and (with the first range) the day's directory changes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn identity(
    w: &World,
    day: i64,
    lo: i64,
    hi: i64,
    devs: std::ops::Range<usize>,
    logons: &mut Sink,
    queries: &mut Sink,
    directory: &mut Sink,
) {
    let mut rid = String::new();
    let mut q = String::new();
    let first = devs.start == 0;
    for wi in devs {
        let Some(&di) = w.workstations.get(wi) else {
            continue;
        };
        let (Some(d), Some((s0, s1))) = (w.device(di), w.session(di, day)) else {
            continue;
        };
        let Some(u) = d.user.and_then(|u| w.user(u)) else {
            continue;
        };
        let dc = w.device(d.dc);
        let fs = w.device(d.file_server);
        let mut r = Rng::derive(&[w.seed, fnv("identity"), di as u64, day as u64]);
        let mut seq = 0u32;
        let mut next_rid = |r: &mut Rng, rid: &mut String| {
            rid.clear();
            let _ = write!(rid, "{}-{}", r.guid(), seq);
            seq += 1;
        };
        let mut logon = |r: &mut Rng,
                         rid: &mut String,
                         t: i64,
                         action: &'static str,
                         logon_type: &'static str,
                         failure: &'static str,
                         target: Option<&Device>| {
            if t < lo || t >= hi {
                return;
            }
            next_rid(r, rid);
            write_id_logon(
                logons,
                &IdLogon {
                    t,
                    action,
                    application: "Active Directory",
                    logon_type,
                    protocol: "Kerberos",
                    failure,
                    user: u,
                    device: Some(d),
                    ip: &d.ip,
                    dest: dc,
                    dest_port: 88,
                    target,
                    location: "",
                    isp: "",
                    report_id: rid,
                    additional: "",
                },
            );
        };
        if r.chance(0.03) {
            let t = s0 - r.range(5 * SEC, 40 * SEC);
            logon(
                &mut r,
                &mut rid,
                t,
                "LogonFailed",
                "Interactive",
                "WrongPassword",
                None,
            );
        }
        logon(
            &mut r,
            &mut rid,
            s0 + SEC,
            "LogonSuccess",
            "Interactive",
            "",
            None,
        );
        for _ in 0..r.range(1, 4) {
            let t = s0 + r.range(MIN, (s1 - s0).max(MIN + 1));
            logon(
                &mut r,
                &mut rid,
                t,
                "LogonSuccess",
                "Resource access",
                "",
                fs,
            );
        }
        // Cloud sign-ins seen by Defender for Cloud Apps.
        for _ in 0..r.range(1, 3) {
            let t = s0 + r.range(MIN, (s1 - s0).max(MIN + 1));
            if t < lo || t >= hi {
                continue;
            }
            rid.clear();
            let _ = write!(rid, "{}-c", r.guid());
            write_id_logon(
                logons,
                &IdLogon {
                    t,
                    action: "LogonSuccess",
                    application: "Office 365",
                    logon_type: "Login:login",
                    protocol: "",
                    failure: "",
                    user: u,
                    device: None,
                    ip: w.egress_ips.first().map_or("", |s| s.as_str()),
                    dest: None,
                    dest_port: 0,
                    target: None,
                    location: "US",
                    isp: "Microsoft Azure",
                    report_id: &rid,
                    additional: "",
                },
            );
        }
        // Queries: DNS names, LDAP lookups, an occasional SAM-R lookup.
        for _ in 0..r.range(3, 8) {
            let t = s0 + r.range(0, (s1 - s0).max(1));
            if t < lo || t >= hi {
                continue;
            }
            rid.clear();
            let _ = write!(rid, "{}-q", r.guid());
            let x = r.unit();
            if x < 0.55 {
                let svc = w.ms.get(r.index(w.ms.len()));
                let host = svc
                    .and_then(|s| s.hosts.first().copied())
                    .unwrap_or("login.microsoftonline.com");
                write_id_query(
                    queries,
                    &IdQuery {
                        t,
                        action: "DNS query",
                        query_type: "A",
                        target: host,
                        query: host,
                        protocol: "Dns",
                        user: None,
                        device: d,
                        dest: dc,
                        dest_port: 53,
                        target_upn: "",
                        target_name: "",
                        report_id: &rid,
                    },
                );
            } else if x < 0.95 {
                q.clear();
                let (qt, filter) = if d.dept == crate::catalog::DEPT_IT && r.chance(0.3) {
                    // Group Policy Management on the IT workstations.
                    ("AllGroupPolicies", "(objectCategory=groupPolicyContainer)")
                } else {
                    *r.pick(&[
                        ("AllObjects", "(objectClass=*)"),
                        ("Users", "(&(objectCategory=person)(objectClass=user))"),
                        ("Computers", "(objectCategory=computer)"),
                        ("Groups", "(objectClass=group)"),
                    ])
                    .unwrap_or(&("Users", "(objectClass=user)"))
                };
                let _ = write!(
                    q,
                    "Search Scope: WholeSubtree, Base Object:DC=contoso,DC=com, Search Filter: {filter}"
                );
                write_id_query(
                    queries,
                    &IdQuery {
                        t,
                        action: "LDAP query",
                        query_type: qt,
                        target: "",
                        query: &q,
                        protocol: "Ldap",
                        user: Some(u),
                        device: d,
                        dest: dc,
                        dest_port: 389,
                        target_upn: "",
                        target_name: "",
                        report_id: &rid,
                    },
                );
            } else {
                write_id_query(
                    queries,
                    &IdQuery {
                        t,
                        action: "SAMR query",
                        query_type: "QueryUser",
                        target: &u.display,
                        query: "QueryUser",
                        protocol: "Samr",
                        user: Some(u),
                        device: d,
                        dest: dc,
                        dest_port: 445,
                        target_upn: &u.upn,
                        target_name: &u.display,
                        report_id: &rid,
                    },
                );
            }
        }
    }
    if first {
        directory_changes(w, day, lo, hi, directory);
        directory_extra(w, day, lo, hi, directory);
        scanner_ldap(w, day, lo, hi, logons);
        crate::more::identity(w, day, lo, hi, queries, directory);
    }
}

/// The multifunction printers look up the address book with a cleartext LDAP bind of the
/// scanner account (a legacy setting Defender for Identity reports).
fn scanner_ldap(w: &World, day: i64, lo: i64, hi: i64, s: &mut Sink) {
    if crate::world::weekday(day) >= 5 {
        return;
    }
    let Some(scan) = w
        .users
        .iter()
        .find(|u| u.kind == UserKind::Service && u.sam == "svc-scan")
    else {
        return;
    };
    let dc = w.dcs.first().and_then(|&i| w.device(i));
    let mut r = Rng::derive(&[w.seed, fnv("scanner-ldap"), day as u64]);
    let mut rid = String::new();
    for _ in 0..r.range(6, 16) {
        let t = (day * DAY + r.range(8 * HOUR, 18 * HOUR)) / 100 * 100;
        if t < lo || t >= hi {
            continue;
        }
        rid.clear();
        let _ = write!(rid, "{}-p", r.guid());
        write_id_logon(
            s,
            &IdLogon {
                t,
                action: "LogonSuccess",
                application: "Active Directory",
                logon_type: "LDAP cleartext",
                protocol: "Ldap",
                failure: "",
                user: scan,
                device: None,
                ip: "10.0.9.20",
                dest: dc,
                dest_port: 389,
                target: None,
                location: "",
                isp: "",
                report_id: &rid,
                additional: "{\"Pth\":\"False\",\"Spns\":\"\"}",
            },
        );
    }
}

fn days_index(w: &World, day: i64) -> usize {
    w.days().iter().position(|d| d.0 == day).unwrap_or(0)
}

/// Less frequent directory events: lateral movement paths Defender for Identity computes,
/// admins copying logon scripts to SYSVOL, a temporary Domain Admins membership.
fn directory_extra(w: &World, day: i64, lo: i64, hi: i64, s: &mut Sink) {
    let mut r = Rng::derive(&[w.seed, fnv("directory-extra"), day as u64]);
    let admins: Vec<&User> = w
        .users
        .iter()
        .filter(|u| u.kind == UserKind::Admin)
        .collect();
    let Some(dc) = w.dcs.first().and_then(|&i| w.device(i)) else {
        return;
    };
    let weekend = crate::world::weekday(day) >= 5;
    let mut rid = String::new();
    let head = |s: &mut Sink, t: i64, action: &str, rid: &str| {
        let c = s.c;
        s.t(c.Timestamp, t);
        s.s(c.ActionType, action);
        s.s(c.Application, "Active Directory");
        s.s(c.DestinationDeviceName, &dc.netbios);
        s.s(c.DestinationIPAddress, &dc.ip);
        s.s(c.ReportId, rid);
    };
    // Lateral movement path: an admin's credentials are exposed on a workstation whose
    // user is a local administrator.
    if r.chance(0.35) {
        let t = (day * DAY + r.range(HOUR, 23 * HOUR)) / 100 * 100;
        let it_ws: Vec<usize> = w
            .workstations
            .iter()
            .copied()
            .filter(|&d| {
                w.device(d)
                    .is_some_and(|x| x.dept == crate::catalog::DEPT_IT)
                    || d == w.plan.victim_dev
            })
            .collect();
        if let (Some(a), Some(&di)) = (
            admins.get(r.index(admins.len())),
            it_ws.get(r.index(it_ws.len())),
        ) && let Some(d) = w.device(di)
            && let Some(u) = d.user.and_then(|u| w.user(u))
            && t >= lo
            && t < hi
        {
            rid.clear();
            let _ = write!(rid, "{}-m", r.guid());
            head(s, t, "Potential lateral movement path identified", &rid);
            let c = s.c;
            identity_account(s, a);
            s.s(c.DeviceName, &d.netbios);
            s.s(c.TargetDeviceName, &d.netbios);
            s.s(c.Protocol, "Kerberos");
            s.f(
                c.AdditionalFields,
                format_args!(
                    "{{\"ACTOR.ACCOUNT\":\"{}\",\"FROM.ACCOUNT\":\"{}\",\"TO.DEVICE\":\"{}\",\"Count\":\"1\",\"LateralMovementPathType\":\"LocalAdmin\"}}",
                    a.display, u.display, d.netbios
                ),
            );
            s.end();
        }
    }
    // Logon scripts and GPO files copied to SYSVOL by the IT admins.
    if !weekend && r.chance(0.4) {
        let t = (day * DAY + r.range(9 * HOUR, 17 * HOUR)) / 100 * 100;
        if let Some(a) = admins.get(r.index(admins.len()))
            && t >= lo
            && t < hi
        {
            let person = w.users.iter().find(|p| {
                p.admin_account
                    .is_some_and(|x| w.users.get(x).is_some_and(|y| y.sam == a.sam))
            });
            let from = person.and_then(|p| p.device).and_then(|d| w.device(d));
            let file = r.pick_str(&["MapDrives.ps1", "Printers.xml", "logon.cmd", "Registry.pol"]);
            rid.clear();
            let _ = write!(rid, "{}-f", r.guid());
            head(s, t, "SMB file copy", &rid);
            let c = s.c;
            identity_account(s, a);
            if let Some(f) = from {
                s.s(c.DeviceName, &f.netbios);
                s.s(c.IPAddress, &f.ip);
            }
            s.s(c.Protocol, "Smb");
            s.i(c.DestinationPort, 445);
            s.f(
                c.AdditionalFields,
                format_args!(
                    "{{\"FileName\":\"{file}\",\"FilePath\":\"\\\\{}\\SYSVOL\\contoso.com\\scripts\\{file}\",\"FileOperation\":\"Write\",\"ShareName\":\"SYSVOL\"}}",
                    dc.netbios
                ),
            );
            s.end();
        }
    }
    // Offboarding: a leaver's account is disabled and moved to the Disabled Users OU; an
    // account disabled weeks ago is deleted.
    if !weekend && r.chance(0.35) {
        let first = r.pick_str(crate::catalog::FIRST_NAMES);
        let last = r.pick_str(crate::catalog::LAST_NAMES);
        let upn = format!("{}.{}@{DOMAIN}", first.to_lowercase(), last.to_lowercase());
        let actor = admins.get(r.index(admins.len())).copied();
        let t0 = (day * DAY + r.range(14 * HOUR, 18 * HOUR)) / 100 * 100;
        let dept = DEPTS.get(r.index(DEPTS.len())).map_or("Users", |d| d.name);
        let steps: [(&str, String); 3] = [
            ("Account Disabled", "{}".to_string()),
            (
                "Account Path changed",
                format!(
                    "\"FROM Account Path\":\"contoso.com/Contoso/{dept}\",\"TO Account Path\":\"contoso.com/Contoso/Disabled Users\""
                ),
            ),
            (
                "Account deleted",
                "\"TO Account Path\":\"contoso.com/Deleted Objects\"".to_string(),
            ),
        ];
        for (k, (action, extra)) in steps.iter().enumerate() {
            // The deletion is of another leaver's account, disabled weeks ago.
            let (t, target) = if k == 2 {
                (t0 + 20 * MIN, format!("old.{upn}"))
            } else {
                (t0 + k as i64 * 40 * SEC, upn.clone())
            };
            if t < lo || t >= hi {
                continue;
            }
            rid.clear();
            let _ = write!(rid, "{}-o", r.guid());
            head(s, t, action, &rid);
            let c = s.c;
            if let Some(a) = actor {
                identity_account(s, a);
            }
            s.s(c.TargetAccountUpn, &target);
            s.s(c.Protocol, "Ldap");
            s.i(c.DestinationPort, 389);
            let extra = if extra.as_str() == "{}" {
                ""
            } else {
                extra.as_str()
            };
            s.f(
                c.AdditionalFields,
                format_args!(
                    "{{\"ACTOR.ENTITY_USER\":\"{}\",\"TARGET_OBJECT.USER\":\"{target}\"{}{extra}}}",
                    actor.map_or("", |a| a.display.as_str()),
                    if extra.is_empty() { "" } else { "," }
                ),
            );
            s.end();
        }
    }
    // The service accounts' passwords are set never to expire (the first day).
    if days_index(w, day) == 0 {
        for svc in w
            .users
            .iter()
            .filter(|u| u.kind == UserKind::Service)
            .take(1)
        {
            let t = (day * DAY + 11 * HOUR + r.range(0, HOUR)) / 100 * 100;
            if t < lo || t >= hi {
                continue;
            }
            rid.clear();
            let _ = write!(rid, "{}-n", r.guid());
            head(s, t, "Account Password Never Expires changed", &rid);
            let c = s.c;
            if let Some(a) = admins.first() {
                identity_account(s, a);
            }
            s.s(c.TargetAccountUpn, &svc.upn);
            s.s(c.TargetAccountDisplayName, &svc.display);
            s.s(c.Protocol, "Ldap");
            s.s(
                c.AdditionalFields,
                "{\"FROM Account Password Never Expires\":\"False\",\"TO Account Password Never Expires\":\"True\"}",
            );
            s.end();
        }
    }
    // A temporary Domain Admins membership for a maintenance window (third day), removed
    // the next day.
    let days = w.days();
    let index = days.iter().position(|d| d.0 == day).unwrap_or(0);
    if (index == 2 || index == 3)
        && let (Some(ga), Some(target)) = (admins.get(1).or(admins.first()), admins.last())
    {
        let t = (day * DAY + 10 * HOUR + r.range(0, 3 * HOUR)) / 100 * 100;
        if t >= lo && t < hi {
            rid.clear();
            let _ = write!(rid, "{}-g", r.guid());
            head(s, t, "Group Membership changed", &rid);
            let c = s.c;
            identity_account(s, ga);
            s.s(c.TargetAccountUpn, &target.upn);
            s.s(c.TargetAccountDisplayName, &target.display);
            s.s(c.Protocol, "Ldap");
            s.i(c.DestinationPort, 389);
            let key = if index == 2 { "TO.GROUP" } else { "FROM.GROUP" };
            s.f(
                c.AdditionalFields,
                format_args!(
                    "{{\"{key}\":\"Backup Operators\",\"ACTOR.ACCOUNT\":\"{}\",\"TARGET_OBJECT.USER\":\"{}\"}}",
                    ga.sam, target.display
                ),
            );
            s.end();
        }
    }
}

/// Directory changes of a day: password changes, group membership changes, unlocks.
fn directory_changes(w: &World, day: i64, lo: i64, hi: i64, s: &mut Sink) {
    let mut r = Rng::derive(&[w.seed, fnv("directory"), day as u64]);
    let persons: Vec<&User> = w
        .users
        .iter()
        .filter(|u| u.kind == UserKind::Person)
        .collect();
    let admin = w.users.iter().find(|u| u.kind == UserKind::Admin);
    let dc = w.dcs.first().and_then(|&i| w.device(i));
    let n = (persons.len() / 40).max(2);
    let mut rid = String::new();
    for _ in 0..n {
        let t = (day * DAY + r.range(8 * HOUR, 18 * HOUR)) / 100 * 100;
        if t < lo || t >= hi {
            continue;
        }
        let Some(&u) = persons.get(r.index(persons.len())) else {
            continue;
        };
        rid.clear();
        let _ = write!(rid, "{}-d", r.guid());
        let x = r.unit();
        let c = s.c;
        s.t(c.Timestamp, t);
        s.s(c.Application, "Active Directory");
        s.s(c.TargetAccountUpn, &u.upn);
        s.s(c.TargetAccountDisplayName, &u.display);
        if let Some(dc) = dc {
            s.s(c.DestinationDeviceName, &dc.netbios);
            s.s(c.DestinationIPAddress, &dc.ip);
            s.i(c.DestinationPort, 389);
        }
        s.s(c.Protocol, "Ldap");
        if x < 0.5 {
            s.s(c.ActionType, "Account Password changed");
            identity_account(s, u);
            if let Some(d) = u.device.and_then(|d| w.device(d)) {
                s.s(c.DeviceName, &d.netbios);
                s.s(c.IPAddress, &d.ip);
            }
            s.s(c.AdditionalFields, "{\"TARGET_OBJECT.USER\":\"changed\"}");
        } else if x < 0.85 {
            s.s(c.ActionType, "Group Membership changed");
            if let Some(a) = admin {
                identity_account(s, a);
            }
            let group = DEPTS.get(u.dept).map_or("Staff", |d| d.name);
            s.f(
                c.AdditionalFields,
                format_args!(
                    "{{\"TO.GROUP\":\"{group} Readers\",\"ACTOR.ACCOUNT\":\"{}\",\"TARGET_OBJECT.USER\":\"{}\"}}",
                    admin.map_or("", |a| a.sam.as_str()),
                    u.display
                ),
            );
        } else {
            s.s(c.ActionType, "Account Unlocked");
            if let Some(a) = admin {
                identity_account(s, a);
            }
            s.s(c.AdditionalFields, "{}");
        }
        s.s(c.ReportId, &rid);
        s.end();
    }
}

// ---------------------------------------------------------------------------------------
// Inventory

/// Device and identity inventory snapshots of `day`: `DeviceInfo` and `DeviceNetworkInfo`
/// every few hours per device, `IdentityInfo` daily per account.
pub(crate) fn inventory(
    w: &World,
    day: i64,
    lo: i64,
    hi: i64,
    info: &mut Sink,
    net: &mut Sink,
    ids: &mut Sink,
) {
    let mut buf = String::new();
    for (di, d) in w.devices.iter().enumerate() {
        let mut r = Rng::derive(&[w.seed, fnv("inventory"), di as u64, day as u64]);
        let phase = r.range(0, 4 * HOUR - 1);
        let mut seq = 0u64;
        let logged_on = d.user.and_then(|u| w.user(u));
        let session = w.session(di, day);
        for k in 0..6 {
            let t = (day * DAY + phase + k * 4 * HOUR) / 100 * 100;
            if t < lo || t >= hi {
                continue;
            }
            let rid = crate::host::report_id(day, di, 0xe_0000 + seq);
            seq += 1;
            let c = info.c;
            info.t(c.Timestamp, t);
            info.s(c.DeviceId, &d.id);
            info.s(c.DeviceName, &d.name);
            info.s(c.ClientVersion, crate::endpoint2::client_version(w, di));
            info.so(c.PublicIP, w.egress_ips.first().map_or("", |s| s.as_str()));
            info.s(c.OSArchitecture, "64-bit");
            info.s(c.OSPlatform, d.os_platform);
            info.l(c.OSBuild, d.os_build);
            info.b(c.IsAzureADJoined, !d.is_server());
            info.s(
                c.JoinType,
                if d.is_server() {
                    "Domain Joined"
                } else {
                    "Hybrid Azure AD Join"
                },
            );
            info.s(c.AadDeviceId, &d.aad_id);
            match (logged_on, session) {
                (Some(u), Some((s0, s1))) if t >= s0 && t < s1 => info.f(
                    c.LoggedOnUsers,
                    format_args!(
                        "[{{\"UserName\":\"{}\",\"DomainName\":\"CONTOSO\",\"Sid\":\"{}\"}}]",
                        u.sam, u.sid
                    ),
                ),
                _ => info.s(c.LoggedOnUsers, "[]"),
            }
            info.s(c.OSVersion, "10.0");
            let group = if d.is_server() {
                "Servers".to_string()
            } else {
                format!("{} Workstations", DEPTS.get(d.dept).map_or("", |x| x.name))
            };
            info.s(c.MachineGroup, &group);
            info.l(c.ReportId, rid);
            info.s(c.OnboardingStatus, "Onboarded");
            info.s(c.DeviceCategory, "Endpoint");
            info.s(
                c.DeviceType,
                if d.is_server() {
                    "Server"
                } else {
                    "Workstation"
                },
            );
            info.s(c.Model, d.model);
            info.s(c.Vendor, d.vendor);
            info.s(
                c.OSDistribution,
                if d.is_server() {
                    "Windows Server"
                } else {
                    "Windows"
                },
            );
            info.s(c.OSVersionInfo, d.os_version_info);
            info.b(c.IsInternetFacing, d.internet_facing);
            info.s(c.SensorHealthState, "Active");
            info.b(c.IsExcluded, false);
            info.s(
                c.ExposureLevel,
                if d.internet_facing {
                    "High"
                } else if d.is_server() {
                    "Medium"
                } else {
                    "Low"
                },
            );
            info.s(
                c.AssetValue,
                if d.role == Role::Dc || d.role == Role::Sql {
                    "High"
                } else {
                    "Normal"
                },
            );
            info.s(c.DeviceManualTags, "[]");
            info.s(
                c.DeviceDynamicTags,
                if d.internet_facing {
                    "[\"Internet facing\"]"
                } else {
                    "[]"
                },
            );
            info.s(c.ConnectivityType, "Streamlined");
            info.s(
                c.AdditionalFields,
                "{\"AsimovDeviceTicket\":\"Enabled\",\"SenseVersion\":\"10.8760.22621.1105\"}",
            );
            info.end();

            // Network adapters, every other snapshot.
            if k % 2 == 0 {
                for (a, (adapter, kind, up)) in [
                    ("Ethernet", "Ethernet", true),
                    ("Wi-Fi", "Wireless80211", !d.is_server()),
                ]
                .into_iter()
                .enumerate()
                {
                    if d.is_server() && a > 0 {
                        continue;
                    }
                    let c = net.c;
                    net.t(c.Timestamp, t);
                    net.s(c.DeviceId, &d.id);
                    net.s(c.DeviceName, &d.name);
                    net.s(c.NetworkAdapterName, adapter);
                    buf.clear();
                    buf.push_str(&d.mac);
                    if a > 0 {
                        buf.replace_range(buf.len().saturating_sub(2).., "7F");
                    }
                    net.s(c.MacAddress, &buf);
                    net.s(c.NetworkAdapterType, kind);
                    // Servers are wired; laptops are docked (Ethernet) or on Wi-Fi.
                    let docked = d.activity > 1.0;
                    let up = up && (d.is_server() || (a == 0) == docked);
                    net.s(c.NetworkAdapterStatus, if up { "Up" } else { "Down" });
                    net.s(c.TunnelType, "None");
                    if up {
                        net.s(
                            c.ConnectedNetworks,
                            "[{\"Name\":\"contoso.com\",\"Description\":\"contoso.com\",\"IsConnectedToInternet\":true,\"Category\":\"Domain\"}]",
                        );
                        let dc_ip = w
                            .dcs
                            .first()
                            .and_then(|&i| w.device(i))
                            .map_or("", |x| x.ip.as_str());
                        net.f(c.DnsAddresses, format_args!("[\"{dc_ip}\"]"));
                        net.s(c.IPv4Dhcp, &d.gateway);
                        net.f(c.DefaultGateways, format_args!("[\"{}\"]", d.gateway));
                        net.f(
                            c.IPAddresses,
                            format_args!(
                                "[{{\"IPAddress\":\"{}\",\"SubnetPrefix\":24,\"AddressType\":\"Private\"}}]",
                                d.ip
                            ),
                        );
                    }
                    net.l(c.ReportId, crate::host::report_id(day, di, 0xe_8000 + seq));
                    seq += 1;
                    net.s(
                        c.NetworkAdapterVendor,
                        if d.is_server() {
                            "Microsoft"
                        } else if a == 0 {
                            "Intel Corporation"
                        } else {
                            "Intel(R) Wi-Fi 6E AX211 160MHz"
                        },
                    );
                    net.end();
                }
            }
        }
    }

    // IdentityInfo: one snapshot per account per day.
    for (ui, u) in w.users.iter().enumerate() {
        let mut r = Rng::derive(&[w.seed, fnv("identity-info"), ui as u64, day as u64]);
        let t = (day * DAY + 2 * HOUR + r.range(0, HOUR)) / 100 * 100;
        if t < lo || t >= hi {
            continue;
        }
        let c = ids.c;
        let dept = DEPTS.get(u.dept);
        let (city, country, address) = CITIES.get(u.city).copied().unwrap_or(("Redmond", "US", ""));
        ids.t(c.Timestamp, t);
        ids.f(c.ReportId, format_args!("{}-{}", u.object_id, day));
        ids.s(c.AccountObjectId, &u.object_id);
        ids.s(c.AccountUpn, &u.upn);
        ids.s(c.OnPremSid, &u.sid);
        ids.s(c.AccountDisplayName, &u.display);
        ids.s(c.AccountName, &u.sam);
        ids.s(c.AccountDomain, DOMAIN);
        ids.i(
            c.CriticalityLevel,
            match u.kind {
                UserKind::Admin => 4,
                UserKind::Service => 3,
                UserKind::Person => 0,
            },
        );
        ids.s(
            c.Type,
            if u.kind == UserKind::Service {
                "ServiceAccount"
            } else {
                "User"
            },
        );
        let ou = match u.kind {
            UserKind::Person => dept.map_or("Users", |d| d.name),
            UserKind::Admin => "Admins",
            UserKind::Service => "Service Accounts",
        };
        ids.f(
            c.DistinguishedName,
            format_args!("CN={},OU={ou},OU=Contoso,DC=contoso,DC=com", u.display),
        );
        ids.s(c.CloudSid, &u.cloud_sid);
        ids.so(c.GivenName, &u.given);
        ids.so(c.Surname, &u.surname);
        ids.s(c.Department, dept.map_or("", |d| d.name));
        ids.s(c.JobTitle, u.title);
        ids.s(c.EmailAddress, &u.upn);
        if u.kind == UserKind::Person {
            ids.f(c.SipProxyAddress, format_args!("sip:{}", u.upn));
            ids.s(c.Address, address);
            ids.s(c.City, city);
            ids.s(c.Country, country);
            ids.s(c.Phone, &u.phone);
            ids.s(c.EmployeeId, &u.employee_id);
        }
        ids.b(c.IsAccountEnabled, true);
        if let Some(m) = u.manager.and_then(|m| w.user(m)) {
            ids.s(c.Manager, &m.display);
        }
        ids.t(c.CreatedDateTime, u.created);
        ids.s(c.ChangeSource, "AD");
        ids.s(c.CompanyName, "Contoso Ltd");
        ids.s(c.OtherMailAddresses, "[]");
        ids.s(c.RiskLevel, "None");
        ids.s(c.RiskStatus, "None");
        ids.s(
            c.Tags,
            if u.kind == UserKind::Admin {
                "[\"Sensitive\"]"
            } else {
                "[]"
            },
        );
        let roles = crate::posture::entra_roles(w, ui);
        let mut list = String::from("[");
        for (k, role) in roles.iter().enumerate() {
            if k > 0 {
                list.push(',');
            }
            let _ = write!(list, "\"{role}\"");
        }
        list.push(']');
        ids.s(c.AssignedRoles, &list);
        ids.s(
            c.BlastRadius,
            match u.kind {
                UserKind::Admin => "High",
                UserKind::Service => "Medium",
                UserKind::Person => "Low",
            },
        );
        ids.s(c.TenantId, &w.tenant_id);
        ids.s(c.SourceSystem, "ActiveDirectory");
        ids.s(c.OnPremObjectId, &u.object_id);
        ids.s(c.TenantMembershipType, "Member");
        ids.s(
            c.UserAccountControl,
            if u.kind == UserKind::Service {
                "[\"NormalAccount\",\"PasswordNeverExpires\"]"
            } else {
                "[\"NormalAccount\"]"
            },
        );
        ids.s(c.IdentityEnvironment, "Hybrid");
        ids.s(
            c.SourceProviders,
            "[\"ActiveDirectory\",\"AzureActiveDirectory\"]",
        );
        ids.f(
            c.GroupMembership,
            format_args!(
                "[\"Domain Users\",\"{}\"{}]",
                dept.map_or("Staff", |d| d.name),
                if u.kind == UserKind::Admin {
                    ",\"Domain Admins\""
                } else {
                    ""
                }
            ),
        );
        ids.end();
    }
}
