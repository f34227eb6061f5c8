//! One device on one UTC day: its long-running processes (boot-time services, the user's
//! session applications), the user's session, and the columns every device event shares.

use std::fmt::Write;

use crate::catalog::{Img, SVCHOST_GROUPS};
use crate::rng::{Rng, fnv};
use crate::sink::Sink;
use crate::world::{DAY, Device, MIN, NETBIOS, Role, SEC, User, World};

/// Who a process runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Acct {
    System,
    LocalService,
    NetworkService,
    User(usize),
}

/// A running process.
#[derive(Debug, Clone)]
pub(crate) struct Proc {
    pub img: Img,
    pub pid: i64,
    pub cmd: String,
    pub created: i64,
    pub acct: Acct,
    pub integrity: &'static str,
    pub elevation: &'static str,
    pub logon_id: i64,
    pub session: i64,
    pub parent_img: Img,
    pub parent_pid: i64,
    pub parent_created: i64,
}

/// The long-running processes of a device (index into [`Ctx::procs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum P {
    Wininit,
    Winlogon,
    Services,
    Lsass,
    SvcDcom,
    SvcNetsvcs,
    SvcLocal,
    SvcNetwork,
    SvcSchedule,
    MsMpEng,
    MsSense,
    SearchIndexer,
    Spoolsv,
    IntuneExt,
    Sqlservr,
    W3wp,
    Dns,
    Dfsrs,
    AdWs,
    System,
    // The user's session.
    Explorer,
    Sihost,
    Chrome,
    Edge,
    Outlook,
    Teams,
    OneDrive,
    Word,
    Excel,
    Code,
}

pub(crate) const P_COUNT: usize = P::Code as usize + 1;

pub(crate) struct Ctx {
    pub dev: usize,
    pub day: i64,
    /// The part of the day inside the window.
    pub lo: i64,
    pub hi: i64,
    pub session: Option<(i64, i64)>,
    pub user: Option<usize>,
    pub logon_id: i64,
    pub procs: Vec<Option<Proc>>,
}

pub(crate) const SYSTEM_LOGON: i64 = 999;

fn pid(r: &mut Rng, lo: i64, hi: i64) -> i64 {
    r.range(lo / 4, hi / 4) * 4
}

impl Ctx {
    pub(crate) fn new(w: &World, dev: usize, day: i64, lo: i64, hi: i64) -> Ctx {
        let mut procs: Vec<Option<Proc>> = vec![None; P_COUNT];
        let session = w.session(dev, day);
        let d = w.device(dev);
        let user = d.and_then(|d| d.user);
        // Boot-time processes: the same all window long.
        let mut r = Rng::derive(&[w.seed, fnv("boot"), dev as u64]);
        let boot = d.map_or(w.start - DAY, |d| d.boot);
        let sys = |img, pid, cmd: &str, created, parent_img, parent_pid, parent_created| Proc {
            img,
            pid,
            cmd: cmd.to_string(),
            created,
            acct: Acct::System,
            integrity: "System",
            elevation: "TokenElevationTypeDefault",
            logon_id: SYSTEM_LOGON,
            session: 0,
            parent_img,
            parent_pid,
            parent_created,
        };
        let t_wininit = boot + 4 * SEC + r.range(0, SEC);
        let wininit_pid = pid(&mut r, 500, 700);
        let smss_pid = pid(&mut r, 300, 480);
        let set = |procs: &mut Vec<Option<Proc>>, k: P, p: Proc| {
            if let Some(slot) = procs.get_mut(k as usize) {
                *slot = Some(p);
            }
        };
        set(
            &mut procs,
            P::System,
            sys(Img::System, 4, "", boot, Img::System, 0, boot),
        );
        set(
            &mut procs,
            P::Wininit,
            sys(
                Img::Wininit,
                wininit_pid,
                "wininit.exe",
                t_wininit,
                Img::Smss,
                smss_pid,
                boot + 3 * SEC,
            ),
        );
        let winlogon_pid = pid(&mut r, 700, 900);
        set(
            &mut procs,
            P::Winlogon,
            sys(
                Img::Winlogon,
                winlogon_pid,
                "winlogon.exe",
                t_wininit + 200_000_000,
                Img::Smss,
                smss_pid,
                boot + 3 * SEC,
            ),
        );
        let t_services = t_wininit + 300_000_000;
        let services_pid = pid(&mut r, 700, 1000);
        set(
            &mut procs,
            P::Services,
            sys(
                Img::Services,
                services_pid,
                r"C:\Windows\system32\services.exe",
                t_services,
                Img::Wininit,
                wininit_pid,
                t_wininit,
            ),
        );
        set(
            &mut procs,
            P::Lsass,
            sys(
                Img::Lsass,
                pid(&mut r, 700, 1000),
                r"C:\Windows\system32\lsass.exe",
                t_services + 20_000_000,
                Img::Wininit,
                wininit_pid,
                t_wininit,
            ),
        );
        let svc_child = |r: &mut Rng, img: Img, cmd: &str, acct: Acct, after: i64| {
            let mut p = sys(
                img,
                pid(r, 1000, 9000),
                cmd,
                t_services + after,
                Img::Services,
                services_pid,
                t_services,
            );
            p.acct = acct;
            p.logon_id = match acct {
                Acct::LocalService => 997,
                Acct::NetworkService => 996,
                _ => SYSTEM_LOGON,
            };
            p
        };
        let svch = r"C:\Windows\system32\svchost.exe";
        for (k, cmd, acct) in [
            (P::SvcDcom, "-k DcomLaunch -p", Acct::System),
            (P::SvcNetsvcs, "-k netsvcs -p", Acct::System),
            (
                P::SvcLocal,
                "-k LocalServiceNetworkRestricted -p",
                Acct::LocalService,
            ),
            (P::SvcNetwork, "-k NetworkService -p", Acct::NetworkService),
            (P::SvcSchedule, "-k netsvcs -p -s Schedule", Acct::System),
        ] {
            let after = r.range(SEC, 5 * SEC);
            let p = svc_child(&mut r, Img::Svchost, &format!("{svch} {cmd}"), acct, after);
            set(&mut procs, k, p);
        }
        let after = r.range(5 * SEC, 15 * SEC);
        set(
            &mut procs,
            P::MsMpEng,
            svc_child(&mut r, Img::MsMpEng, "\"MsMpEng.exe\"", Acct::System, after),
        );
        let after = r.range(10 * SEC, 30 * SEC);
        set(
            &mut procs,
            P::MsSense,
            svc_child(&mut r, Img::MsSense, "\"MsSense.exe\"", Acct::System, after),
        );
        let after = r.range(20 * SEC, 60 * SEC);
        set(
            &mut procs,
            P::Spoolsv,
            svc_child(
                &mut r,
                Img::Spoolsv,
                r"C:\Windows\System32\spoolsv.exe",
                Acct::System,
                after,
            ),
        );
        let role = d.map_or(Role::Workstation, |d| d.role);
        if role == Role::Workstation {
            let after = r.range(20 * SEC, 90 * SEC);
            set(
                &mut procs,
                P::SearchIndexer,
                svc_child(
                    &mut r,
                    Img::SearchIndexer,
                    r"C:\Windows\system32\SearchIndexer.exe /Embedding",
                    Acct::System,
                    after,
                ),
            );
            let after = r.range(30 * SEC, 120 * SEC);
            set(
                &mut procs,
                P::IntuneExt,
                svc_child(
                    &mut r,
                    Img::IntuneExt,
                    "\"C:\\Program Files (x86)\\Microsoft Intune Management Extension\\Microsoft.Management.Services.IntuneWindowsAgent.exe\"",
                    Acct::System,
                    after,
                ),
            );
        }
        let svc_acct = |name: &str| {
            w.users
                .iter()
                .position(|u| u.sam == name)
                .map_or(Acct::NetworkService, Acct::User)
        };
        match role {
            Role::Sql => {
                let after = r.range(20 * SEC, 60 * SEC);
                let mut p = svc_child(
                    &mut r,
                    Img::Sqlservr,
                    "\"C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe\" -sMSSQLSERVER",
                    svc_acct("svc-sql"),
                    after,
                );
                p.integrity = "High";
                p.logon_id = 0x3_a4c2;
                set(&mut procs, P::Sqlservr, p);
            }
            Role::Web | Role::App => {
                let after = r.range(30 * SEC, 90 * SEC);
                let mut p = svc_child(
                    &mut r,
                    Img::W3wp,
                    "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"DefaultAppPool\" -v \"v4.0\" -l \"webengine4.dll\" -a \\\\.\\pipe\\iisipm3f2c1a7e -h \"C:\\inetpub\\temp\\apppools\\DefaultAppPool\\DefaultAppPool.config\" -w \"\" -m 0",
                    svc_acct("svc-web"),
                    after,
                );
                p.integrity = "High";
                p.logon_id = 0x5_1d20;
                set(&mut procs, P::W3wp, p);
            }
            Role::Dc => {
                for (k, img, cmd) in [
                    (P::Dns, Img::Dns, r"C:\Windows\system32\dns.exe"),
                    (P::Dfsrs, Img::Dfsrs, r"C:\Windows\system32\DFSRs.exe"),
                    (
                        P::AdWs,
                        Img::AdWs,
                        r"C:\Windows\ADWS\Microsoft.ActiveDirectory.WebServices.exe",
                    ),
                ] {
                    let after = r.range(10 * SEC, 60 * SEC);
                    set(
                        &mut procs,
                        k,
                        svc_child(&mut r, img, cmd, Acct::System, after),
                    );
                }
            }
            _ => {}
        }

        // The user's session: applications started after logon.
        let mut logon_id = 0;
        if let (Some((s0, _)), Some(u)) = (session, user) {
            let mut r = Rng::derive(&[w.seed, fnv("session-procs"), dev as u64, day as u64]);
            logon_id = r.range(0x1000_0000, 0x7fff_ffff);
            let uref = w.user(u);
            let services_created = t_services;
            let sihost_parent = procs
                .get(P::SvcNetsvcs as usize)
                .and_then(|p| p.as_ref())
                .map_or((Img::Svchost, 1200, services_created), |p| {
                    (p.img, p.pid, p.created)
                });
            let user_proc =
                |r: &mut Rng, img: Img, cmd: String, t: i64, parent: (Img, i64, i64)| Proc {
                    img,
                    pid: pid(r, 1000, 40000),
                    cmd,
                    created: t,
                    acct: Acct::User(u),
                    integrity: "Medium",
                    elevation: "TokenElevationTypeLimited",
                    logon_id,
                    session: 1,
                    parent_img: parent.0,
                    parent_pid: parent.1,
                    parent_created: parent.2,
                };
            let t_explorer = s0 + r.range(5 * SEC, 20 * SEC);
            let userinit_pid = pid(&mut r, 1000, 40000);
            let explorer = user_proc(
                &mut r,
                Img::Explorer,
                r"C:\Windows\Explorer.EXE".to_string(),
                t_explorer,
                (Img::Userinit, userinit_pid, t_explorer - SEC),
            );
            let ex = (explorer.img, explorer.pid, explorer.created);
            set(&mut procs, P::Explorer, explorer);
            let sihost = user_proc(
                &mut r,
                Img::Sihost,
                "sihost.exe".to_string(),
                s0 + 3 * SEC,
                sihost_parent,
            );
            set(&mut procs, P::Sihost, sihost);
            let mut started = |r: &mut Rng, k: P, img: Img, cmd: String, delay: (i64, i64)| {
                let t = t_explorer + r.range(delay.0, delay.1);
                let p = user_proc(r, img, cmd, t, ex);
                set(&mut procs, k, p);
            };
            started(
                &mut r,
                P::Edge,
                Img::Edge,
                "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" --no-startup-window --win-session-start".into(),
                (10 * SEC, 40 * SEC),
            );
            started(
                &mut r,
                P::OneDrive,
                Img::OneDrive,
                "\"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe\" /background".into(),
                (10 * SEC, 40 * SEC),
            );
            started(
                &mut r,
                P::Teams,
                Img::Teams,
                "\"C:\\Program Files\\WindowsApps\\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe\\ms-teams.exe\" msteams:system-initiated".into(),
                (15 * SEC, 60 * SEC),
            );
            started(
                &mut r,
                P::Outlook,
                Img::Outlook,
                "\"C:\\Program Files\\Microsoft Office\\Root\\Office16\\OUTLOOK.EXE\" ".into(),
                (MIN, 5 * MIN),
            );
            if uref.is_some_and(|u| u.uses_chrome) {
                started(
                    &mut r,
                    P::Chrome,
                    Img::Chrome,
                    "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\"".into(),
                    (2 * MIN, 20 * MIN),
                );
            }
            let docs = uref.map(|u| u.docs.as_slice()).unwrap_or(&[]);
            let sam = uref.map_or("user", |u| u.sam.as_str());
            let pick_doc = |r: &mut Rng, ext: &str| {
                docs.iter()
                    .filter(|d| d.ends_with(ext))
                    .nth(r.index(3))
                    .or_else(|| docs.iter().find(|d| d.ends_with(ext)))
                    .cloned()
                    .unwrap_or_else(|| format!("Document1.{ext}"))
            };
            let dept = uref.map_or(0, |u| u.dept);
            if r.chance(0.65) {
                let doc = pick_doc(&mut r, "docx");
                started(
                    &mut r,
                    P::Word,
                    Img::Word,
                    format!(
                        "\"C:\\Program Files\\Microsoft Office\\Root\\Office16\\WINWORD.EXE\" /n \"C:\\Users\\{sam}\\OneDrive - Contoso\\Documents\\{doc}\" /o \"\""
                    ),
                    (20 * MIN, 3 * 3600 * SEC),
                );
            }
            if r.chance(if dept == 0 { 0.95 } else { 0.5 }) {
                let doc = pick_doc(&mut r, "xlsx");
                started(
                    &mut r,
                    P::Excel,
                    Img::Excel,
                    format!(
                        "\"C:\\Program Files\\Microsoft Office\\Root\\Office16\\EXCEL.EXE\" \"C:\\Users\\{sam}\\OneDrive - Contoso\\Documents\\{doc}\""
                    ),
                    (10 * MIN, 4 * 3600 * SEC),
                );
            }
            if dept == 4 {
                started(
                    &mut r,
                    P::Code,
                    Img::Code,
                    "\"C:\\Program Files\\Microsoft VS Code\\Code.exe\"".into(),
                    (5 * MIN, 60 * MIN),
                );
            }
        }
        Ctx {
            dev,
            day,
            lo,
            hi,
            session,
            user,
            logon_id,
            procs,
        }
    }

    pub(crate) fn proc(&self, k: P) -> Option<&Proc> {
        self.procs.get(k as usize).and_then(|p| p.as_ref())
    }

    /// The first of `keys` this device runs.
    pub(crate) fn first(&self, keys: &[P]) -> Option<&Proc> {
        keys.iter().find_map(|k| self.proc(*k))
    }

    /// Process `k` if it is running at `t`.
    pub(crate) fn alive(&self, k: P, t: i64) -> Option<&Proc> {
        self.proc(k).filter(|p| p.created <= t)
    }

    /// The first of `keys` running at `t`.
    pub(crate) fn first_alive(&self, keys: &[P], t: i64) -> Option<&Proc> {
        keys.iter().find_map(|k| self.alive(*k, t))
    }

    pub(crate) fn user<'w>(&self, w: &'w World) -> Option<&'w User> {
        self.user.and_then(|u| w.user(u))
    }

    /// Whether `t` is inside this device-day's part of the window.
    pub(crate) fn in_window(&self, t: i64) -> bool {
        t >= self.lo && t < self.hi
    }
}

/// The account columns of a process owner: (domain, name, sid, upn, object id).
pub(crate) fn account(w: &World, a: Acct) -> (&str, &str, &str, &str, &str) {
    match a {
        Acct::System => ("nt authority", "system", "S-1-5-18", "", ""),
        Acct::LocalService => ("nt authority", "local service", "S-1-5-19", "", ""),
        Acct::NetworkService => ("nt authority", "network service", "S-1-5-20", "", ""),
        Acct::User(u) => match w.user(u) {
            Some(u) => (
                NETBIOS,
                u.sam.as_str(),
                u.sid.as_str(),
                u.upn.as_str(),
                u.object_id.as_str(),
            ),
            None => (NETBIOS, "", "", "", ""),
        },
    }
}

/// Writes `Timestamp`, `DeviceId`, `DeviceName` and `ReportId`.
#[inline]
pub(crate) fn head(s: &mut Sink, dev: &Device, t: i64, report_id: i64) {
    let c = s.c;
    s.t(c.Timestamp, t);
    s.s(c.DeviceId, &dev.id);
    s.s(c.DeviceName, &dev.name);
    s.l(c.ReportId, report_id);
}

/// Writes the `InitiatingProcess*` columns of `p`.
pub(crate) fn initiating(s: &mut Sink, w: &World, p: &Proc) {
    let c = s.c;
    let img = w.image(p.img);
    let def = img.def;
    let (dom, name, sid, upn, oid) = account(w, p.acct);
    s.s(c.InitiatingProcessAccountDomain, dom);
    s.s(c.InitiatingProcessAccountName, name);
    s.s(c.InitiatingProcessAccountSid, sid);
    s.so(c.InitiatingProcessAccountUpn, upn);
    s.so(c.InitiatingProcessAccountObjectId, oid);
    s.s(c.InitiatingProcessIntegrityLevel, p.integrity);
    s.s(c.InitiatingProcessTokenElevation, p.elevation);
    s.so(c.InitiatingProcessSHA1, &img.sha1);
    s.so(c.InitiatingProcessSHA256, &img.sha256);
    s.so(c.InitiatingProcessMD5, &img.md5);
    s.s(c.InitiatingProcessFileName, def.name);
    s.l(c.InitiatingProcessFileSize, def.size);
    s.so(c.InitiatingProcessVersionInfoCompanyName, def.company);
    s.so(c.InitiatingProcessVersionInfoProductName, def.product);
    s.so(c.InitiatingProcessVersionInfoProductVersion, def.version);
    if !def.company.is_empty() {
        s.s(
            c.InitiatingProcessVersionInfoInternalFileName,
            internal_name(def.name),
        );
        s.s(c.InitiatingProcessVersionInfoOriginalFileName, def.name);
    }
    s.so(
        c.InitiatingProcessVersionInfoFileDescription,
        def.description,
    );
    s.l(c.InitiatingProcessId, p.pid);
    s.s(c.InitiatingProcessCommandLine, &p.cmd);
    s.t(c.InitiatingProcessCreationTime, p.created);
    s.so(c.InitiatingProcessFolderPath, def.path);
    s.l(c.InitiatingProcessParentId, p.parent_pid);
    s.s(
        c.InitiatingProcessParentFileName,
        w.image(p.parent_img).def.name,
    );
    s.t(c.InitiatingProcessParentCreationTime, p.parent_created);
    s.l(c.InitiatingProcessLogonId, p.logon_id);
    s.l(c.InitiatingProcessSessionId, p.session);
    s.b(c.IsInitiatingProcessRemoteSession, false);
    s.s(c.InitiatingProcessSignerType, def.signer);
    s.s(
        c.InitiatingProcessSignatureStatus,
        if def.signer == "None" {
            "Unsigned"
        } else {
            "Valid"
        },
    );
}

/// `ProcessVersionInfoInternalFileName` as Windows binaries carry it (the name without
/// its extension).
pub(crate) fn internal_name(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(a, _)| a)
}

/// Writes the created-process columns (`FileName`, hashes, `ProcessVersionInfo*`, ...) of an
/// image.
pub(crate) fn file_of(s: &mut Sink, w: &World, img: Img) {
    let c = s.c;
    let i = w.image(img);
    s.s(c.FileName, i.def.name);
    s.so(c.FolderPath, i.def.path);
    s.s(c.SHA1, &i.sha1);
    s.s(c.SHA256, &i.sha256);
    s.s(c.MD5, &i.md5);
    s.l(c.FileSize, i.def.size);
}

pub(crate) fn version_info(s: &mut Sink, w: &World, img: Img) {
    let c = s.c;
    let def = w.image(img).def;
    s.so(c.ProcessVersionInfoCompanyName, def.company);
    s.so(c.ProcessVersionInfoProductName, def.product);
    s.so(c.ProcessVersionInfoProductVersion, def.version);
    if !def.company.is_empty() {
        s.s(
            c.ProcessVersionInfoInternalFileName,
            internal_name(def.name),
        );
        s.s(c.ProcessVersionInfoOriginalFileName, def.name);
    }
    s.so(c.ProcessVersionInfoFileDescription, def.description);
}

/// A svchost command line for a service.
pub(crate) fn svchost_cmd(out: &mut String, r: &mut Rng) {
    let (group, svc) = r
        .pick(SVCHOST_GROUPS)
        .copied()
        .unwrap_or(("netsvcs", "Schedule"));
    let _ = write!(
        out,
        r"C:\Windows\system32\svchost.exe -k {group} -p -s {svc}"
    );
}

/// A ReportId: unique per table; increasing per device over time.
#[inline]
pub(crate) fn report_id(day: i64, dev: usize, seq: u64) -> i64 {
    (day.max(0) << 36) | (((dev as i64) & 0xffff) << 20) | ((seq as i64) & 0xf_ffff)
}

/// First sequence number of story events in a device-day (background events stay below).
pub(crate) const STORY_SEQ: u64 = 0xf_0000;
