//! Microsoft Entra ID sign-ins (`AADSignInEventsBeta` and its successor
//! `EntraIdSignInEvents`, the same rows in both) per UTC day: each person's morning browser
//! sign-in to Office and the desktop apps' token refreshes during the session, phone apps
//! from home, IT admins in the Azure portal, the scanner's legacy SMTP AUTH, guests in the
//! partner portal, the daily password spray against legacy protocols that conditional
//! access blocks, and (story 1) the stolen session replayed from the attacker's address.

use std::fmt::Write;

use crate::catalog::{FIRST_NAMES, LAST_NAMES, PARTNER_DOMAINS};
use crate::office::EDGE_UA;
use crate::rng::{Rng, fnv};
use crate::sink::Sink;
use crate::world::{DAY, Device, HOUR, MIN, SEC, User, UserKind, World, weekday};

pub(crate) const ENTRA_TABLES: [&str; 2] = ["AADSignInEventsBeta", "EntraIdSignInEvents"];

const CHROME_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const IOS_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";

const OFFICE_HOME: (&str, &str) = ("OfficeHome", "4765445b-32c6-49b0-83e6-1d93765276ca");
const OFFICE_DESKTOP: (&str, &str) = ("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c");
const TEAMS: (&str, &str) = ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264");
const ONEDRIVE: (&str, &str) = (
    "OneDrive SyncEngine",
    "ab9b8c07-8f02-4f72-87fa-80105867a763",
);
const EDGE: (&str, &str) = ("Microsoft Edge", "ecd6b820-32c2-49b6-98a6-444530e5a77a");
const BROKER: (&str, &str) = (
    "Microsoft Authentication Broker",
    "29d9ed98-a469-4536-ade2-f981bc1d605e",
);
const OUTLOOK_MOBILE: (&str, &str) = (
    "Microsoft Outlook Mobile",
    "27922004-5251-4030-b22d-91ecd9a37ea4",
);
const LOOP: (&str, &str) = ("Microsoft Loop", "0922ef46-e1b9-4f7e-9134-9ad00547eb41");
const AZURE_PORTAL: (&str, &str) = ("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c");
const EXO: (&str, &str) = (
    "Office 365 Exchange Online",
    "00000002-0000-0ff1-ce00-000000000000",
);
const SPO: (&str, &str) = (
    "Office 365 SharePoint Online",
    "00000003-0000-0ff1-ce00-000000000000",
);
const GRAPH: (&str, &str) = ("Microsoft Graph", "00000003-0000-0000-c000-000000000000");
const ARM: (&str, &str) = (
    "Windows Azure Service Management API",
    "797f4846-ba00-4fd7-ba43-dac1f8f63013",
);
const PARTNER_PORTAL: (&str, &str) = (
    "Contoso Partner Portal",
    "6b1f3c2a-93d4-4e0b-8a51-2f7d9c4e6a10",
);

const INTERACTIVE: &str = "[\"interactiveUser\"]";
const NON_INTERACTIVE: &str = "[\"nonInteractiveUser\"]";
const AUTH_DETAILS: &str = "[{\"key\":\"Legacy TLS (TLS 1.0, 1.1, 3DES)\",\"value\":\"False\"},{\"key\":\"Is CAE Token\",\"value\":\"True\"}]";
const HQ: &str = "[{\"networkType\":\"namedNetwork\",\"networkNames\":[\"Contoso HQ\"]}]";

/// Where a sign-in comes from.
#[derive(Clone, Copy)]
struct Place<'a> {
    ip: &'a str,
    country: &'a str,
    state: &'a str,
    city: &'a str,
    lat: &'a str,
    lon: &'a str,
    network: &'a str,
}

/// Who signs in.
#[derive(Clone, Copy)]
struct Account<'a> {
    upn: &'a str,
    display: &'a str,
    object_id: &'a str,
    last_password: Option<i64>,
    guest: bool,
}

impl<'a> Account<'a> {
    fn of(w: &World, ui: usize, u: &'a User) -> Self {
        let mut r = Rng::derive(&[w.seed, fnv("password-age"), ui as u64]);
        let max_age = if u.kind == UserKind::Service {
            900
        } else {
            200
        };
        Account {
            upn: &u.upn,
            display: &u.display,
            object_id: &u.object_id,
            last_password: Some(((w.start - r.range(2 * DAY, max_age * DAY)) / SEC) * SEC),
            guest: false,
        }
    }
}

struct SignIn<'a> {
    t: i64,
    app: (&'a str, &'a str),
    resource: (&'a str, &'a str),
    account: Account<'a>,
    logon_type: &'a str,
    error: i32,
    client: &'a str,
    browser: &'a str,
    user_agent: &'a str,
    place: Place<'a>,
    device: Option<&'a Device>,
    os: &'a str,
    mfa: bool,
    /// CA results: (require MFA, block legacy auth, admins on compliant devices).
    ca: (&'a str, &'a str, &'a str),
    session: &'a str,
    risk: (i32, i32),
}

table_cols!(AadCols {
    Timestamp,
    Application,
    ApplicationId,
    LogonType,
    ErrorCode,
    CorrelationId,
    SessionId,
    AccountDisplayName,
    AccountObjectId,
    AccountUpn,
    IsExternalUser,
    IsGuestUser,
    AlternateSignInName,
    LastPasswordChangeTimestamp,
    ResourceDisplayName,
    ResourceId,
    ResourceTenantId,
    DeviceName,
    AadDeviceId,
    EntraIdDeviceId,
    OSPlatform,
    DeviceTrustType,
    IsManaged,
    IsCompliant,
    AuthenticationProcessingDetails,
    AuthenticationRequirement,
    TokenIssuerType,
    RiskLevelAggregated,
    RiskDetails,
    RiskState,
    UserAgent,
    ClientAppUsed,
    Browser,
    ConditionalAccessPolicies,
    ConditionalAccessStatus,
    IPAddress,
    Country,
    State,
    City,
    Latitude,
    Longitude,
    NetworkLocationDetails,
    RequestId,
    ReportId,
    IsThroughGlobalSecureAccess,
    UniqueTokenId,
});

struct Out<'a> {
    sinks: &'a mut [Sink; 2],
    cols: [AadCols; 2],
    tenant: &'a str,
    ca: String,
}

impl Out<'_> {
    fn write(&mut self, r: &mut Rng, e: &SignIn) {
        let request = r.guid();
        let correlation = r.guid();
        let token = r.hex(22);
        self.ca.clear();
        let policies = [
            (
                "b1d5c3e2-0f4a-4c1e-9d2b-7a6e5f4c3b21",
                "CA001: Require MFA for all users",
                e.ca.0,
                "[\"Mfa\"]",
            ),
            (
                "c2e6d4f3-1a5b-4d2f-8e3c-8b7f6a5d4c32",
                "CA002: Block legacy authentication",
                e.ca.1,
                "[\"Block\"]",
            ),
            (
                "d3f7e5a4-2b6c-4e3a-9f4d-9c8a7b6e5d43",
                "CA003: Admins require compliant device",
                e.ca.2,
                "[\"CompliantDevice\"]",
            ),
        ];
        self.ca.push('[');
        for (k, (id, name, result, controls)) in policies.iter().enumerate() {
            if k > 0 {
                self.ca.push(',');
            }
            let enforced = if *result == "success" || *result == "failure" {
                *controls
            } else {
                "[]"
            };
            let _ = write!(
                self.ca,
                "{{\"id\":\"{id}\",\"displayName\":\"{name}\",\"enforcedGrantControls\":{enforced},\"enforcedSessionControls\":[],\"result\":\"{result}\"}}"
            );
        }
        self.ca.push(']');
        let status = if [e.ca.0, e.ca.1, e.ca.2].contains(&"failure") {
            1
        } else if [e.ca.0, e.ca.1, e.ca.2].contains(&"success") {
            0
        } else {
            2
        };
        for (s, c) in self.sinks.iter_mut().zip(self.cols) {
            s.t(c.Timestamp, e.t);
            s.s(c.Application, e.app.0);
            s.s(c.ApplicationId, e.app.1);
            s.s(c.LogonType, e.logon_type);
            s.i(c.ErrorCode, e.error);
            s.s(c.CorrelationId, &correlation);
            s.so(c.SessionId, e.session);
            s.s(c.AccountDisplayName, e.account.display);
            s.s(c.AccountObjectId, e.account.object_id);
            s.s(c.AccountUpn, e.account.upn);
            s.i(c.IsExternalUser, i32::from(e.account.guest));
            s.b(c.IsGuestUser, e.account.guest);
            s.s(c.AlternateSignInName, e.account.upn);
            if let Some(p) = e.account.last_password {
                s.t(c.LastPasswordChangeTimestamp, p);
            }
            s.s(c.ResourceDisplayName, e.resource.0);
            s.s(c.ResourceId, e.resource.1);
            s.s(c.ResourceTenantId, self.tenant);
            match e.device {
                Some(d) => {
                    s.s(c.DeviceName, &d.netbios.to_ascii_lowercase());
                    s.s(c.AadDeviceId, &d.aad_id);
                    s.s(c.EntraIdDeviceId, &d.aad_id);
                    s.s(c.DeviceTrustType, "Hybrid Azure AD joined");
                    s.i(c.IsManaged, 1);
                    s.i(c.IsCompliant, 1);
                }
                None => {
                    s.i(c.IsManaged, 0);
                    s.i(c.IsCompliant, 0);
                }
            }
            s.so(c.OSPlatform, e.os);
            s.s(c.AuthenticationProcessingDetails, AUTH_DETAILS);
            s.s(
                c.AuthenticationRequirement,
                if e.mfa {
                    "multiFactorAuthentication"
                } else {
                    "singleFactorAuthentication"
                },
            );
            s.i(c.TokenIssuerType, 0);
            s.i(c.RiskLevelAggregated, e.risk.0);
            s.i(c.RiskDetails, 0);
            s.i(c.RiskState, e.risk.1);
            s.so(c.UserAgent, e.user_agent);
            s.s(c.ClientAppUsed, e.client);
            s.so(c.Browser, e.browser);
            s.s(c.ConditionalAccessPolicies, &self.ca);
            s.i(c.ConditionalAccessStatus, status);
            s.s(c.IPAddress, e.place.ip);
            s.so(c.Country, e.place.country);
            s.so(c.State, e.place.state);
            s.so(c.City, e.place.city);
            s.so(c.Latitude, e.place.lat);
            s.so(c.Longitude, e.place.lon);
            s.s(c.NetworkLocationDetails, e.place.network);
            s.s(c.RequestId, &request);
            s.s(c.ReportId, &request);
            s.b(c.IsThroughGlobalSecureAccess, false);
            s.s(c.UniqueTokenId, &token);
            s.end();
        }
    }
}

/// The sign-ins of `day`.
pub(crate) fn sign_ins(w: &World, day: i64, lo: i64, hi: i64, sinks: &mut [Sink; 2]) {
    let cols = [AadCols::of(&sinks[0]), AadCols::of(&sinks[1])];
    let mut out = Out {
        sinks,
        cols,
        tenant: &w.tenant_id,
        ca: String::new(),
    };
    let egress = w.egress_ips.first().map_or("", |s| s.as_str());
    let office = Place {
        ip: egress,
        country: "US",
        state: "Washington",
        city: "Redmond",
        lat: "47.674",
        lon: "-122.122",
        network: HQ,
    };
    let day0 = day * DAY;
    let weekend = weekday(day) >= 5;
    let inside = |t: i64| t >= lo && t < hi;

    for (ui, u) in w.users.iter().enumerate() {
        if u.kind != UserKind::Person {
            continue;
        }
        let mut r = Rng::derive(&[w.seed, fnv("entra"), ui as u64, day as u64]);
        let account = Account::of(w, ui, u);
        let dev = u.device.and_then(|d| w.device(d));
        let session_id = Rng::derive(&[w.seed, fnv("entra-session"), ui as u64, day as u64]).guid();
        let home = Place {
            ip: &u.home_ip,
            country: "US",
            state: "Washington",
            city: "Seattle",
            lat: "47.606",
            lon: "-122.332",
            network: "[]",
        };
        let (browser, ua) = if u.uses_chrome {
            ("Chrome 131.0.0", CHROME_UA)
        } else {
            ("Edge 131.0.0", EDGE_UA)
        };
        let session = u.device.and_then(|d| w.session(d, day));
        if let (Some((s0, s1)), Some(d)) = (session, dev) {
            let base = SignIn {
                t: 0,
                app: OFFICE_HOME,
                resource: OFFICE_HOME,
                account,
                logon_type: INTERACTIVE,
                error: 0,
                client: "Browser",
                browser,
                user_agent: ua,
                place: office,
                device: Some(d),
                os: "Windows10",
                mfa: true,
                ca: ("success", "notApplied", "notApplied"),
                session: &session_id,
                risk: (0, 0),
            };
            let mut t = s0 + r.range(MIN, 4 * MIN);
            // A mistyped password, an MFA prompt first, or a denied or timed-out MFA request, on
            // some mornings.
            let x = r.unit();
            if x < 0.03 {
                if inside(t) {
                    out.write(
                        &mut r,
                        &SignIn {
                            t,
                            error: 50_126,
                            mfa: false,
                            ca: ("notApplied", "notApplied", "notApplied"),
                            ..base
                        },
                    );
                }
                t += r.range(10 * SEC, 40 * SEC);
            } else if x < 0.07 {
                if inside(t) {
                    out.write(
                        &mut r,
                        &SignIn {
                            t,
                            error: 50_074,
                            mfa: false,
                            ca: ("failure", "notApplied", "notApplied"),
                            ..base
                        },
                    );
                }
                t += r.range(15 * SEC, 50 * SEC);
            } else if x < 0.1 {
                if inside(t) {
                    out.write(
                        &mut r,
                        &SignIn {
                            t,
                            error: 500_121,
                            mfa: false,
                            ca: ("failure", "notApplied", "notApplied"),
                            ..base
                        },
                    );
                }
                t += r.range(MIN, 3 * MIN);
            }
            if inside(t) {
                out.write(&mut r, &SignIn { t, ..base });
            }
            // Token refreshes of the desktop apps during the session.
            for _ in 0..r.range(5, 11) {
                let t = s0 + r.range(2 * MIN, (s1 - s0).max(3 * MIN));
                if !inside(t) {
                    continue;
                }
                let (app, res) = *r
                    .pick(&[
                        (OFFICE_DESKTOP, EXO),
                        (OFFICE_DESKTOP, SPO),
                        (TEAMS, GRAPH),
                        (TEAMS, SPO),
                        (ONEDRIVE, SPO),
                        (EDGE, GRAPH),
                        (BROKER, GRAPH),
                    ])
                    .unwrap_or(&(TEAMS, GRAPH));
                let e = SignIn {
                    t,
                    app,
                    resource: res,
                    logon_type: NON_INTERACTIVE,
                    client: "Mobile Apps and Desktop clients",
                    browser: "",
                    user_agent: "",
                    ..base
                };
                out.write(&mut r, &e);
            }
            // Microsoft Loop, rolled out to the tenant two days before the window's end.
            if day * DAY >= w.now - 2 * DAY && r.chance(0.3) {
                let t = s0 + r.range(30 * MIN, (s1 - s0).max(31 * MIN));
                if inside(t) {
                    let e = SignIn {
                        t,
                        app: LOOP,
                        resource: SPO,
                        ..base
                    };
                    out.write(&mut r, &e);
                }
            }
            // IT admins in the Azure portal with their admin account.
            if let Some(a) = u.admin_account.and_then(|a| w.user(a))
                && r.chance(0.45)
            {
                let t = s0 + r.range(20 * MIN, (s1 - s0).max(21 * MIN));
                let ai = u.admin_account.unwrap_or(ui);
                if inside(t) {
                    let e = SignIn {
                        t,
                        app: AZURE_PORTAL,
                        resource: ARM,
                        account: Account::of(w, ai, a),
                        ca: ("success", "notApplied", "success"),
                        session: "",
                        ..base
                    };
                    out.write(&mut r, &e);
                }
            }
        } else if r.chance(if weekend { 0.5 } else { 0.3 }) {
            // The phone, from home.
            let t = day0 + r.range(7 * HOUR, 22 * HOUR);
            if inside(t) {
                let e = SignIn {
                    t,
                    app: OUTLOOK_MOBILE,
                    resource: EXO,
                    account,
                    logon_type: NON_INTERACTIVE,
                    error: 0,
                    client: "Mobile Apps and Desktop clients",
                    browser: "",
                    user_agent: IOS_UA,
                    place: home,
                    device: None,
                    os: "Ios",
                    mfa: true,
                    ca: ("success", "notApplied", "notApplied"),
                    session: &session_id,
                    risk: (0, 0),
                };
                out.write(&mut r, &e);
            }
        }
    }

    // The multifunction printers' scan-to-mail: SMTP AUTH with the scanner account,
    // excluded from the legacy-authentication block.
    if let Some((si, scan)) = w
        .users
        .iter()
        .enumerate()
        .find(|(_, u)| u.kind == UserKind::Service && u.sam == "svc-scan")
        && !weekend
    {
        let mut r = Rng::derive(&[w.seed, fnv("entra-smtp"), day as u64]);
        let account = Account::of(w, si, scan);
        for _ in 0..r.range(8, 20) {
            let t = day0 + r.range(8 * HOUR, 18 * HOUR);
            if !inside(t) {
                continue;
            }
            let e = SignIn {
                t,
                app: EXO,
                resource: EXO,
                account,
                logon_type: INTERACTIVE,
                error: 0,
                client: "Authenticated SMTP",
                browser: "",
                user_agent: "",
                place: office,
                device: None,
                os: "",
                mfa: false,
                ca: ("notApplied", "notApplied", "notApplied"),
                session: "",
                risk: (0, 0),
            };
            out.write(&mut r, &e);
        }
    }

    // Partner guests in the partner portal and Teams.
    if !weekend {
        let mut r = Rng::derive(&[w.seed, fnv("entra-guests"), day as u64]);
        for g in 0..6u64 {
            let mut gr = Rng::derive(&[w.seed, fnv("entra-guest"), g]);
            let first = gr.pick_str(FIRST_NAMES);
            let last = gr.pick_str(LAST_NAMES);
            let domain = gr.pick_str(PARTNER_DOMAINS);
            let upn = format!(
                "{}.{}_{}#EXT#@contoso.onmicrosoft.com",
                first.to_lowercase(),
                last.to_lowercase(),
                domain.replace('.', "_")
            );
            let display = format!("{first} {last} ({domain})");
            let oid = gr.guid();
            let ip = format!("131.107.{}.{}", 1 + gr.below(250), 2 + gr.below(250));
            if !r.chance(0.6) {
                continue;
            }
            let place = Place {
                ip: &ip,
                country: "US",
                state: "",
                city: "",
                lat: "",
                lon: "",
                network: "[]",
            };
            for k in 0..r.range(1, 3) {
                let t = day0 + r.range(14 * HOUR, 23 * HOUR);
                if !inside(t) {
                    continue;
                }
                let app = if k == 0 { PARTNER_PORTAL } else { TEAMS };
                let e = SignIn {
                    t,
                    app,
                    resource: if k == 0 { PARTNER_PORTAL } else { GRAPH },
                    account: Account {
                        upn: &upn,
                        display: &display,
                        object_id: &oid,
                        last_password: None,
                        guest: true,
                    },
                    logon_type: INTERACTIVE,
                    error: 0,
                    client: "Browser",
                    browser: "Edge 131.0.0",
                    user_agent: EDGE_UA,
                    place,
                    device: None,
                    os: "Windows10",
                    mfa: true,
                    ca: ("success", "notApplied", "notApplied"),
                    session: "",
                    risk: (0, 0),
                };
                out.write(&mut r, &e);
            }
        }
    }

    // Password spray against legacy protocols from one address a day: wrong passwords,
    // a few smart-lockouts, and conditional access blocking the rare right guess.
    let mut r = Rng::derive(&[w.seed, fnv("entra-spray"), day as u64]);
    if r.chance(0.6) {
        let persons: Vec<(usize, &User)> = w
            .users
            .iter()
            .enumerate()
            .filter(|(_, u)| u.kind == UserKind::Person)
            .collect();
        let ip = format!("203.0.113.{}", 150 + day.rem_euclid(60));
        let (country, city) = *[
            ("RU", "Moscow"),
            ("CN", "Shanghai"),
            ("BR", "Sao Paulo"),
            ("VN", "Hanoi"),
            ("NG", "Lagos"),
        ]
        .get(day.rem_euclid(5) as usize)
        .unwrap_or(&("RU", "Moscow"));
        let place = Place {
            ip: &ip,
            country,
            state: "",
            city,
            lat: "",
            lon: "",
            network: "[]",
        };
        let start = day0 + r.range(0, 20 * HOUR);
        let n = persons.len().min(r.range(12, 30) as usize);
        let client = r.pick_str(&["Authenticated SMTP", "IMAP4", "Exchange ActiveSync"]);
        for k in 0..n {
            let Some(&(ui, u)) = persons.get(r.index(persons.len())) else {
                continue;
            };
            let t = start + (k as i64) * r.range(20 * SEC, 90 * SEC);
            if !inside(t) {
                continue;
            }
            let y = r.unit();
            let (error, ca) = if y < 0.04 {
                (53_003, ("notApplied", "failure", "notApplied"))
            } else if y < 0.12 {
                (50_053, ("notApplied", "notApplied", "notApplied"))
            } else {
                (50_126, ("notApplied", "notApplied", "notApplied"))
            };
            let e = SignIn {
                t,
                app: EXO,
                resource: EXO,
                account: Account::of(w, ui, u),
                logon_type: INTERACTIVE,
                error,
                client,
                browser: "",
                user_agent: "",
                place,
                device: None,
                os: "",
                mfa: false,
                ca,
                session: "",
                risk: (10, 0),
            };
            out.write(&mut r, &e);
        }
    }

    // Story 1: the victim's stolen session cookie replayed from the attacker's server.
    let plan = &w.plan;
    let t = plan.s1_start + 5 * HOUR - 2 * MIN;
    if crate::world::utc_day(t) == day
        && inside(t)
        && let Some(u) = w.user(plan.victim_user)
    {
        let session_id = Rng::derive(&[
            w.seed,
            fnv("entra-session"),
            plan.victim_user as u64,
            day as u64,
        ])
        .guid();
        let mut r = Rng::derive(&[w.seed, fnv("entra-story"), day as u64]);
        let e = SignIn {
            t,
            app: SPO,
            resource: SPO,
            account: Account::of(w, plan.victim_user, u),
            logon_type: NON_INTERACTIVE,
            error: 0,
            client: "Browser",
            browser: "Python Requests 2.31",
            user_agent: "python-requests/2.31.0",
            place: Place {
                ip: crate::stories::C2_IP,
                country: "NL",
                state: "Noord-Holland",
                city: "Amsterdam",
                lat: "52.374",
                lon: "4.890",
                network: "[]",
            },
            device: None,
            os: "",
            mfa: true,
            ca: ("success", "notApplied", "notApplied"),
            session: &session_id,
            risk: (100, 4),
        };
        out.write(&mut r, &e);
    }
}
