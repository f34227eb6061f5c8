//! Posture snapshots: Defender Vulnerability Management (software inventory, vulnerabilities,
//! secure configuration, antivirus information gathering and browser extensions, with their
//! knowledge bases), the exposure graph (nodes and edges) and the OAuth app inventory.
//!
//! The inventory is what the devices really run: the images of `catalog.rs` (Chrome, Edge,
//! Office, Teams, OneDrive, Acrobat, Git, Node.js, VS Code, SQL Server…) at their catalog
//! versions, plus common tools (7-Zip, Zoom, VLC, PuTTY) on some workstations. A CVE is
//! reported where the installed version is below the version that fixed it, and only once it
//! is published (before the window's end). The workstations run the October 2024 Windows
//! build (`10.0.22621.4317` images), the servers November 2024's.

use std::fmt::Write;

use crate::catalog::{DEPT_IT, DEPTS};
use crate::rng::{Rng, fnv};
use crate::sink::Sink;
use crate::world::{DAY, Device, HOUR, MIN, Role, UserKind, World, iso_seconds};

pub(crate) const POSTURE_TABLES: [&str; 13] = [
    "DeviceTvmSoftwareInventory",
    "DeviceTvmSoftwareVulnerabilities",
    "DeviceTvmSoftwareVulnerabilitiesKB",
    "DeviceTvmSecureConfigurationAssessment",
    "DeviceTvmSecureConfigurationAssessmentKB",
    "DeviceTvmInfoGathering",
    "DeviceTvmInfoGatheringKB",
    "DeviceTvmBrowserExtensions",
    "DeviceTvmBrowserExtensionsKB",
    "ExposureGraphNodes",
    "ExposureGraphEdges",
    "OAuthAppInfo",
    "AADSpnSignInEventsBeta",
];

// ---------------------------------------------------------------------------------------
// Software

/// One installed product as Defender Vulnerability Management names it.
#[derive(Debug, Clone)]
pub(crate) struct Sw {
    pub vendor: &'static str,
    pub name: &'static str,
    pub version: &'static str,
}

const fn sw(vendor: &'static str, name: &'static str, version: &'static str) -> Sw {
    Sw {
        vendor,
        name,
        version,
    }
}

fn os_software(d: &Device) -> Sw {
    match d.os_platform {
        "Windows10" => sw("microsoft", "windows_10", "10.0.19045.5011"),
        "WindowsServer2022" => sw("microsoft", "windows_server_2022", "10.0.20348.2849"),
        "WindowsServer2019" => sw("microsoft", "windows_server_2019", "10.0.17763.6532"),
        _ => sw("microsoft", "windows_11", "10.0.22631.4317"),
    }
}

/// The software installed on device `di` (deterministic per device).
pub(crate) fn software(w: &World, di: usize) -> Vec<Sw> {
    let Some(d) = w.device(di) else {
        return Vec::new();
    };
    let mut r = Rng::derive(&[w.seed, fnv("tvm-software"), di as u64]);
    let mut out = vec![
        os_software(d),
        sw("microsoft", "edge", "131.0.2903.70"),
        sw("microsoft", ".net_framework", "4.8.9277.0"),
        sw("haxx", "curl", "8.9.1"),
    ];
    if d.is_server() {
        match d.role {
            Role::Dc => out.push(sw(
                "microsoft",
                "azure_advanced_threat_protection_sensor",
                "2.243.18152.53712",
            )),
            Role::Sql => {
                out.push(sw("microsoft", "sql_server_2022", "16.0.4145.4"));
                out.push(sw("microsoft", "sql_server_management_studio", "20.2.30.0"));
            }
            Role::Web => {
                out.push(sw(
                    "microsoft",
                    "internet_information_services",
                    "10.0.20348.1",
                ));
                out.push(sw("openbsd", "openssh", "9.5.0.0"));
            }
            Role::App => out.push(sw("microsoft", "powershell", "7.4.6.0")),
            _ => {}
        }
        if r.chance(0.5) {
            out.push(sw("7-zip", "7-zip", "24.08"));
        }
        return out;
    }
    let user = d.user.and_then(|u| w.user(u));
    out.push(sw("microsoft", "edge_webview2_runtime", "131.0.2903.70"));
    out.push(sw("microsoft", "365_apps_enterprise", "16.0.17928.20216"));
    out.push(sw("microsoft", "teams", "24295.605.3225.8804"));
    out.push(sw("microsoft", "onedrive", "24.211.1020.0002"));
    if user.is_some_and(|u| u.uses_chrome) {
        out.push(sw("google", "chrome", "131.0.6778.86"));
    }
    if r.chance(0.6) {
        out.push(sw("adobe", "acrobat_dc", "24.4.20272.0"));
    }
    if r.chance(0.55) {
        let v = *r
            .pick(&["23.01", "24.08", "24.08", "24.09"])
            .unwrap_or(&"24.08");
        out.push(sw("7-zip", "7-zip", v));
    }
    let code = DEPTS.get(d.dept).map_or("", |x| x.code);
    let zoom = if matches!(code, "sales" | "mkt") {
        0.6
    } else {
        0.15
    };
    if r.chance(zoom) {
        let v = if r.chance(0.12) { "5.16.2" } else { "6.2.5" };
        out.push(sw("zoom", "zoom", v));
    }
    let vlc = if code == "mkt" { 0.5 } else { 0.1 };
    if r.chance(vlc) {
        let v = if r.chance(0.7) { "3.0.20" } else { "3.0.21" };
        out.push(sw("videolan", "vlc_media_player", v));
    }
    if code == "eng" {
        out.push(sw("git-scm", "git", "2.47.0.2"));
        out.push(sw("nodejs", "node.js", "20.18.0"));
        out.push(sw("microsoft", "visual_studio_code", "1.95.3"));
    }
    if d.dept == DEPT_IT {
        out.push(sw("microsoft", "visual_studio_code", "1.95.3"));
        if r.chance(0.5) {
            out.push(sw("git-scm", "git", "2.47.0.2"));
        }
        if r.chance(0.7) {
            out.push(sw("simon_tatham", "putty", "0.80"));
        }
        out.push(sw("openbsd", "openssh", "9.5.0.0"));
    }
    if (code == "eng" || d.dept == DEPT_IT) && r.chance(0.5) {
        out.push(sw("notepad++", "notepad++", "8.6.9"));
    }
    if code == "eng" || (d.dept == DEPT_IT && r.chance(0.5)) {
        out.push(sw("python", "python", "3.11.9"));
    }
    out
}

/// Dotted version comparison (`a < b`), numeric parts, missing parts as 0.
fn version_lt(a: &str, b: &str) -> bool {
    let parse = |s: &str| -> Vec<u64> {
        s.split(['.', '-'])
            .map(|p| {
                p.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .unwrap_or(0)
            })
            .collect()
    };
    let (x, y) = (parse(a), parse(b));
    for i in 0..x.len().max(y.len()) {
        let p = x.get(i).copied().unwrap_or(0);
        let q = y.get(i).copied().unwrap_or(0);
        if p != q {
            return p < q;
        }
    }
    false
}

/// End of support of a product version: (date, whole product?).
fn end_of_support(s: &Sw) -> Option<(&'static str, bool)> {
    match s.name {
        "windows_10" => Some(("2025-10-14", true)),
        "windows_11" => Some(("2026-11-10", false)),
        "windows_server_2019" => Some(("2029-01-09", true)),
        "windows_server_2022" => Some(("2031-10-14", true)),
        "node.js" => Some(("2026-04-30", false)),
        "python" => Some(("2027-10-31", false)),
        "sql_server_2022" => Some(("2033-01-11", true)),
        _ => None,
    }
}

fn date_nanos(date: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|d| d.and_utc().timestamp_nanos_opt())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Vulnerabilities

/// (software name, first fixed version, recommended update, update id).
type Fix = (&'static str, &'static str, &'static str, &'static str);

struct Cve {
    id: &'static str,
    severity: &'static str,
    cvss: &'static str,
    exploit: bool,
    zero_day: bool,
    published: &'static str,
    desc: &'static str,
    fixes: &'static [Fix],
}

const NOV24: &[Fix] = &[
    (
        "windows_11",
        "10.0.22631.4460",
        "November 2024 Security Updates",
        "5046633",
    ),
    (
        "windows_10",
        "10.0.19045.5131",
        "November 2024 Security Updates",
        "5046613",
    ),
    (
        "windows_server_2022",
        "10.0.20348.2849",
        "November 2024 Security Updates",
        "5046616",
    ),
    (
        "windows_server_2019",
        "10.0.17763.6532",
        "November 2024 Security Updates",
        "5046615",
    ),
];
const JAN25: &[Fix] = &[
    (
        "windows_11",
        "10.0.22631.4751",
        "January 2025 Security Updates",
        "5050021",
    ),
    (
        "windows_10",
        "10.0.19045.5371",
        "January 2025 Security Updates",
        "5049981",
    ),
    (
        "windows_server_2022",
        "10.0.20348.3091",
        "January 2025 Security Updates",
        "5049983",
    ),
    (
        "windows_server_2019",
        "10.0.17763.6775",
        "January 2025 Security Updates",
        "5050008",
    ),
];
const FEB25: &[Fix] = &[
    (
        "windows_11",
        "10.0.22631.4890",
        "February 2025 Security Updates",
        "5051989",
    ),
    (
        "windows_10",
        "10.0.19045.5487",
        "February 2025 Security Updates",
        "5051974",
    ),
    (
        "windows_server_2022",
        "10.0.20348.3207",
        "February 2025 Security Updates",
        "5051979",
    ),
    (
        "windows_server_2019",
        "10.0.17763.6893",
        "February 2025 Security Updates",
        "5052000",
    ),
];

const CVES: &[Cve] = &[
    Cve {
        id: "CVE-2024-43451",
        severity: "Medium",
        cvss: "6.5",
        exploit: true,
        zero_day: true,
        published: "2024-11-12",
        desc: "NTLM Hash Disclosure Spoofing Vulnerability",
        fixes: NOV24,
    },
    Cve {
        id: "CVE-2024-49039",
        severity: "High",
        cvss: "8.8",
        exploit: true,
        zero_day: true,
        published: "2024-11-12",
        desc: "Windows Task Scheduler Elevation of Privilege Vulnerability",
        fixes: NOV24,
    },
    Cve {
        id: "CVE-2024-43452",
        severity: "High",
        cvss: "7.5",
        exploit: true,
        zero_day: false,
        published: "2024-11-12",
        desc: "Windows Registry Elevation of Privilege Vulnerability",
        fixes: NOV24,
    },
    Cve {
        id: "CVE-2025-21298",
        severity: "Critical",
        cvss: "9.8",
        exploit: true,
        zero_day: false,
        published: "2025-01-14",
        desc: "Windows OLE Remote Code Execution Vulnerability",
        fixes: JAN25,
    },
    Cve {
        id: "CVE-2025-21333",
        severity: "High",
        cvss: "7.8",
        exploit: true,
        zero_day: true,
        published: "2025-01-14",
        desc: "Windows Hyper-V NT Kernel Integration VSP Elevation of Privilege Vulnerability",
        fixes: JAN25,
    },
    Cve {
        id: "CVE-2025-21418",
        severity: "High",
        cvss: "7.8",
        exploit: true,
        zero_day: true,
        published: "2025-02-11",
        desc: "Windows Ancillary Function Driver for WinSock Elevation of Privilege Vulnerability",
        fixes: FEB25,
    },
    Cve {
        id: "CVE-2025-21391",
        severity: "High",
        cvss: "7.1",
        exploit: true,
        zero_day: true,
        published: "2025-02-11",
        desc: "Windows Storage Elevation of Privilege Vulnerability",
        fixes: FEB25,
    },
    Cve {
        id: "CVE-2024-12053",
        severity: "High",
        cvss: "8.8",
        exploit: false,
        zero_day: false,
        published: "2024-12-03",
        desc: "Type Confusion in V8 in Google Chrome prior to 131.0.6778.108 allowed a remote attacker to potentially perform out of bounds memory access via a crafted HTML page.",
        fixes: &[
            ("chrome", "131.0.6778.108", "", ""),
            ("edge", "131.0.2903.86", "", ""),
            ("edge_webview2_runtime", "131.0.2903.86", "", ""),
        ],
    },
    Cve {
        id: "CVE-2024-12692",
        severity: "High",
        cvss: "8.8",
        exploit: false,
        zero_day: false,
        published: "2024-12-18",
        desc: "Type Confusion in V8 in Google Chrome prior to 131.0.6778.204 allowed a remote attacker to perform an out of bounds memory read via a crafted HTML page.",
        fixes: &[
            ("chrome", "131.0.6778.204", "", ""),
            ("edge", "131.0.2903.112", "", ""),
            ("edge_webview2_runtime", "131.0.2903.112", "", ""),
        ],
    },
    Cve {
        id: "CVE-2025-2783",
        severity: "High",
        cvss: "8.3",
        exploit: true,
        zero_day: true,
        published: "2025-03-26",
        desc: "Incorrect handle provided in unspecified circumstances in Mojo in Google Chrome on Windows prior to 134.0.6998.177 allowed a remote attacker to perform a sandbox escape via a malicious file.",
        fixes: &[
            ("chrome", "134.0.6998.177", "", ""),
            ("edge", "134.0.3124.93", "", ""),
            ("edge_webview2_runtime", "134.0.3124.93", "", ""),
        ],
    },
    Cve {
        id: "CVE-2025-4664",
        severity: "High",
        cvss: "4.3",
        exploit: true,
        zero_day: true,
        published: "2025-05-14",
        desc: "Insufficient policy enforcement in Loader in Google Chrome prior to 136.0.7103.113 allowed a remote attacker to leak cross-origin data via a crafted HTML page.",
        fixes: &[
            ("chrome", "136.0.7103.113", "", ""),
            ("edge", "136.0.3240.76", "", ""),
        ],
    },
    Cve {
        id: "CVE-2024-11477",
        severity: "High",
        cvss: "7.8",
        exploit: false,
        zero_day: false,
        published: "2024-11-22",
        desc: "7-Zip Zstandard Decompression Integer Underflow Remote Code Execution Vulnerability",
        fixes: &[("7-zip", "24.07", "", "")],
    },
    Cve {
        id: "CVE-2025-0411",
        severity: "High",
        cvss: "7.0",
        exploit: true,
        zero_day: false,
        published: "2025-01-25",
        desc: "7-Zip Mark-of-the-Web Bypass Vulnerability",
        fixes: &[("7-zip", "24.09", "", "")],
    },
    Cve {
        id: "CVE-2024-46461",
        severity: "High",
        cvss: "8.1",
        exploit: false,
        zero_day: false,
        published: "2024-09-13",
        desc: "VLC media player 3.0.20 and earlier is vulnerable to a heap-based overflow when processing a maliciously crafted MMS stream.",
        fixes: &[("vlc_media_player", "3.0.21", "", "")],
    },
    Cve {
        id: "CVE-2024-24691",
        severity: "Critical",
        cvss: "9.6",
        exploit: false,
        zero_day: false,
        published: "2024-02-14",
        desc: "Improper input validation in Zoom Desktop Client for Windows before version 5.16.5 may allow an unauthenticated user to conduct an escalation of privilege via network access.",
        fixes: &[("zoom", "5.16.5", "", "")],
    },
    Cve {
        id: "CVE-2024-31497",
        severity: "Medium",
        cvss: "5.9",
        exploit: true,
        zero_day: false,
        published: "2024-04-15",
        desc: "In PuTTY 0.68 through 0.80 biased ECDSA nonce generation allows an attacker to recover a user's NIST P-521 secret key.",
        fixes: &[("putty", "0.81", "", "")],
    },
    Cve {
        id: "CVE-2025-23083",
        severity: "High",
        cvss: "7.7",
        exploit: false,
        zero_day: false,
        published: "2025-01-22",
        desc: "Node.js permission model: internal worker leak allows privilege escalation via the diagnostics channel.",
        fixes: &[("node.js", "20.18.2", "", "")],
    },
    Cve {
        id: "CVE-2024-52006",
        severity: "Low",
        cvss: "2.1",
        exploit: false,
        zero_day: false,
        published: "2025-01-14",
        desc: "Git credential helper protocol: carriage returns in URLs can leak credentials to an attacker-controlled host.",
        fixes: &[("git", "2.47.1.2", "", "")],
    },
    Cve {
        id: "CVE-2024-49021",
        severity: "High",
        cvss: "7.8",
        exploit: false,
        zero_day: false,
        published: "2024-11-12",
        desc: "Microsoft SQL Server Remote Code Execution Vulnerability",
        fixes: &[(
            "sql_server_2022",
            "16.0.4150.1",
            "November 2024 Security Updates",
            "5046059",
        )],
    },
];

/// The CVEs of device `di` (published before `now`): (software, cve, fix).
fn vulnerabilities(w: &World, di: usize) -> Vec<(Sw, &'static Cve, &'static Fix)> {
    let mut out = Vec::new();
    for s in software(w, di) {
        for cve in CVES {
            if date_nanos(cve.published) >= w.now {
                continue;
            }
            for fix in cve.fixes {
                if fix.0 == s.name && version_lt(s.version, fix.1) {
                    out.push((s.clone(), cve, fix));
                }
            }
        }
    }
    out
}

fn os_version(_d: &Device) -> &'static str {
    "10.0"
}

table_cols!(InvCols {
    DeviceId,
    DeviceName,
    OSPlatform,
    OSVersion,
    OSArchitecture,
    SoftwareVendor,
    SoftwareName,
    SoftwareVersion,
    EndOfSupportStatus,
    EndOfSupportDate,
    ProductCodeCpe,
    CveId,
    VulnerabilitySeverityLevel,
    RecommendedSecurityUpdate,
    RecommendedSecurityUpdateId,
    CveTags,
});

table_cols!(CveKbCols {
    CveId,
    CvssScore,
    IsExploitAvailable,
    VulnerabilitySeverityLevel,
    LastModifiedTime,
    PublishedDate,
    VulnerabilityDescription,
    AffectedSoftware,
});

fn write_software(w: &World, inv: &mut Sink, vulns: &mut Sink, kb: &mut Sink) {
    let ci = InvCols::of(inv);
    let cv = InvCols::of(vulns);
    for (di, d) in w.devices.iter().enumerate() {
        for s in software(w, di) {
            inv.s(ci.DeviceId, &d.id);
            inv.s(ci.DeviceName, &d.name);
            inv.s(ci.OSPlatform, d.os_platform);
            inv.s(ci.OSVersion, os_version(d));
            inv.s(ci.OSArchitecture, "x64");
            inv.s(ci.SoftwareVendor, s.vendor);
            inv.s(ci.SoftwareName, s.name);
            inv.s(ci.SoftwareVersion, s.version);
            if let Some((date, whole)) = end_of_support(&s) {
                let t = date_nanos(date);
                let status = if t <= w.now {
                    if whole { "EOS Software" } else { "EOS Version" }
                } else if t - w.now < 365 * DAY {
                    if whole {
                        "Upcoming EOS Software"
                    } else {
                        "Upcoming EOS Version"
                    }
                } else {
                    ""
                };
                if !status.is_empty() {
                    inv.s(ci.EndOfSupportStatus, status);
                    inv.t(ci.EndOfSupportDate, t);
                }
            }
            inv.f(
                ci.ProductCodeCpe,
                format_args!(
                    "cpe:2.3:{}:{}:{}:{}:*:*:*:*:*:*:*",
                    if s.name.starts_with("windows_") {
                        "o"
                    } else {
                        "a"
                    },
                    s.vendor,
                    s.name,
                    s.version
                ),
            );
            inv.end();
        }
        for (s, cve, fix) in vulnerabilities(w, di) {
            vulns.s(cv.DeviceId, &d.id);
            vulns.s(cv.DeviceName, &d.name);
            vulns.s(cv.OSPlatform, d.os_platform);
            vulns.s(cv.OSVersion, os_version(d));
            vulns.s(cv.OSArchitecture, "x64");
            vulns.s(cv.SoftwareVendor, s.vendor);
            vulns.s(cv.SoftwareName, s.name);
            vulns.s(cv.SoftwareVersion, s.version);
            vulns.s(cv.CveId, cve.id);
            vulns.s(cv.VulnerabilitySeverityLevel, cve.severity);
            vulns.so(cv.RecommendedSecurityUpdate, fix.2);
            vulns.so(cv.RecommendedSecurityUpdateId, fix.3);
            vulns.s(
                cv.CveTags,
                if cve.zero_day { "[\"ZeroDay\"]" } else { "[]" },
            );
            vulns.end();
        }
    }
    let ck = CveKbCols::of(kb);
    let mut list = String::new();
    for cve in CVES {
        let published = date_nanos(cve.published);
        if published >= w.now {
            continue;
        }
        kb.s(ck.CveId, cve.id);
        kb.s(ck.CvssScore, cve.cvss);
        kb.b(ck.IsExploitAvailable, cve.exploit);
        kb.s(ck.VulnerabilitySeverityLevel, cve.severity);
        let modified = (published + (5 + (fnv(cve.id) % 60) as i64) * DAY).min(w.now - DAY);
        kb.t(ck.LastModifiedTime, modified.max(published));
        kb.t(ck.PublishedDate, published);
        kb.s(ck.VulnerabilityDescription, cve.desc);
        list.clear();
        list.push('[');
        for (k, fix) in cve.fixes.iter().enumerate() {
            if k > 0 {
                list.push(',');
            }
            let _ = write!(list, "\"{} below {}\"", fix.0, fix.1);
        }
        list.push(']');
        kb.s(ck.AffectedSoftware, &list);
        kb.end();
    }
}

// ---------------------------------------------------------------------------------------
// Antivirus state and secure configuration

const AV_ENGINE: &str = "1.1.24090.11";
const AV_PLATFORM: &str = "4.18.24090.11";

/// Days device `di`'s antivirus definitions lag behind (a few devices fail to update).
fn signature_lag_days(w: &World, di: usize) -> i64 {
    let mut r = Rng::derive(&[w.seed, fnv("av-lag"), di as u64]);
    // A laptop that stopped updating ten days ago (its proxy settings broke), and a few
    // other stragglers.
    if w.workstations.get(5) == Some(&di) {
        10
    } else if di >= 3 && r.chance(0.05) {
        r.range(12, 20)
    } else {
        0
    }
}

/// The definitions version published at `t` and its publication time.
fn signature_at(w: &World, t: i64) -> (String, i64) {
    let step = 8 * HOUR;
    let n = (t - w.start).div_euclid(step);
    (format!("1.421.{}.0", 1500 + n), w.start + n * step)
}

table_cols!(ScaCols {
    DeviceId,
    DeviceName,
    OSPlatform,
    Timestamp,
    ConfigurationId,
    ConfigurationCategory,
    ConfigurationSubcategory,
    ConfigurationImpact,
    IsCompliant,
    IsApplicable,
    Context,
    IsExpectedUserImpact,
    ConfigurationName,
    ConfigurationDescription,
    RiskDescription,
    ConfigurationBenchmarks,
    Tags,
    RemediationOptions,
});

/// (id, impact, name, category, subcategory, description, risk, benchmarks, remediation).
type ScaDef = (
    &'static str,
    f64,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const CIS: &str = "[{\"benchmarkName\":\"CIS\",\"benchmarkVersion\":\"3.0.0\"}]";

const SCA: &[ScaDef] = &[
    (
        "scid-2000",
        9.0,
        "Turn on Microsoft Defender for Endpoint sensor",
        "Security controls",
        "EDR",
        "The Microsoft Defender for Endpoint sensor collects behavioral signals from the device.",
        "Devices without an active sensor are not monitored for threats.",
        "[]",
        "Onboard the device and make sure the DiagTrack and Sense services run.",
    ),
    (
        "scid-2001",
        8.0,
        "Fix Microsoft Defender for Endpoint sensor data collection",
        "Security controls",
        "EDR",
        "The sensor must be able to collect and send telemetry.",
        "Missing telemetry hides attacker activity.",
        "[]",
        "Check the Connected User Experiences and Telemetry service.",
    ),
    (
        "scid-2002",
        8.0,
        "Fix Microsoft Defender for Endpoint impaired communications",
        "Security controls",
        "EDR",
        "The sensor must be able to reach the Defender cloud service.",
        "Impaired communications delay detections and response actions.",
        "[]",
        "Allow the Defender for Endpoint URLs through the proxy.",
    ),
    (
        "scid-2003",
        8.0,
        "Turn on Tamper Protection",
        "Security controls",
        "EDR",
        "Tamper Protection prevents changes to security settings by malicious apps.",
        "Attackers disable antivirus protection before deploying payloads.",
        "[]",
        "Turn on Tamper Protection in the Microsoft Defender portal.",
    ),
    (
        "scid-2010",
        9.0,
        "Turn on Microsoft Defender Antivirus",
        "Security controls",
        "Antivirus",
        "Microsoft Defender Antivirus must be running in active mode.",
        "Devices without an active antivirus are exposed to known malware.",
        "[]",
        "Set 'Turn off Microsoft Defender Antivirus' to Disabled.",
    ),
    (
        "scid-2011",
        9.0,
        "Update Microsoft Defender Antivirus definitions",
        "Security controls",
        "Antivirus",
        "Security intelligence updates must be current.",
        "Outdated definitions miss recent malware.",
        "[]",
        "Update security intelligence via Windows Update or MpCmdRun -SignatureUpdate.",
    ),
    (
        "scid-2012",
        9.0,
        "Turn on real-time protection",
        "Security controls",
        "Antivirus",
        "Real-time protection scans files when they are accessed.",
        "Without it malware can run before a scheduled scan.",
        "[]",
        "Set 'Turn off real-time protection' to Disabled.",
    ),
    (
        "scid-91",
        8.0,
        "Turn on behavior monitoring",
        "Security controls",
        "Antivirus",
        "Behavior monitoring detects suspicious process behavior.",
        "Fileless and living-off-the-land attacks evade signature scanning.",
        "[]",
        "Set 'Turn on behavior monitoring' to Enabled.",
    ),
    (
        "scid-2013",
        3.0,
        "Turn on PUA protection in block mode",
        "Security controls",
        "Antivirus",
        "Potentially unwanted applications are blocked.",
        "PUA such as bundlers and adware degrade devices and open the door to malware.",
        "[]",
        "Set 'Configure detection for potentially unwanted applications' to Block.",
    ),
    (
        "scid-2014",
        7.0,
        "Fix Microsoft Defender Antivirus reporting",
        "Security controls",
        "Antivirus",
        "The antivirus must report its state to Microsoft Defender for Endpoint.",
        "Without reporting, the antivirus state of the device is unknown.",
        "[]",
        "Check that the Windows Defender service reports to the Sense service.",
    ),
    (
        "scid-2016",
        6.0,
        "Turn on cloud-delivered protection",
        "Security controls",
        "Antivirus",
        "Cloud-delivered protection blocks new threats within seconds.",
        "New malware is not blocked until definitions arrive.",
        "[]",
        "Set 'Join Microsoft MAPS' to Advanced MAPS.",
    ),
    (
        "scid-24",
        5.0,
        "Set Remote Desktop security level to TLS",
        "OS",
        "Remote Desktop",
        "Remote Desktop connections must use TLS for server authentication.",
        "Without TLS, RDP sessions are exposed to man-in-the-middle attacks.",
        CIS,
        "Set 'Require use of specific security layer for remote (RDP) connections' to SSL.",
    ),
    (
        "scid-4001",
        6.0,
        "Remove share write permission set to 'Everyone'",
        "Network",
        "Network shares",
        "Shares must not grant write access to Everyone.",
        "Any user, or ransomware running as any user, can modify the share's content.",
        "[]",
        "Remove the Everyone group from the share's permissions.",
    ),
    (
        "scid-89",
        7.0,
        "Enable 'Local Security Authority (LSA) protection'",
        "OS",
        "Credential protection",
        "LSA protection runs lsass.exe as a protected process.",
        "Attackers dump credentials from LSASS memory.",
        CIS,
        "Set RunAsPPL to 1 under HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa.",
    ),
    (
        "scid-64",
        6.0,
        "Set LAN Manager authentication level to 'Send NTLMv2 response only. Refuse LM & NTLM'",
        "OS",
        "Network authentication",
        "Only NTLMv2 is accepted.",
        "LM and NTLMv1 hashes are easily cracked or relayed.",
        CIS,
        "Set 'Network security: LAN Manager authentication level' accordingly.",
    ),
    (
        "scid-67",
        4.0,
        "Disable 'Autoplay' for all drives",
        "OS",
        "Removable media",
        "AutoPlay must not run content from inserted media.",
        "Malware spreads through removable drives.",
        CIS,
        "Set 'Turn off Autoplay' to Enabled: All drives.",
    ),
    (
        "scid-96",
        7.0,
        "Turn on Microsoft Defender Firewall",
        "Network",
        "Firewall",
        "The firewall must be on for every profile.",
        "An exposed device accepts unsolicited inbound connections.",
        CIS,
        "Set the firewall state to On for the domain, private and public profiles.",
    ),
];

fn write_config(w: &World, day_hi: i64, sca: &mut Sink, kb: &mut Sink) {
    let c = ScaCols::of(sca);
    for (di, d) in w.devices.iter().enumerate() {
        let mut r = Rng::derive(&[w.seed, fnv("tvm-config"), di as u64]);
        let t = (day_hi - r.range(30 * MIN, 8 * HOUR)) / 100 * 100;
        let lag = signature_lag_days(w, di);
        for def in SCA {
            let (id, impact, _, cat, sub, ..) = *def;
            let mut context = String::new();
            let (compliant, applicable) = match id {
                "scid-2011" => {
                    let (v, published) = signature_at(w, t - lag * DAY - 3 * HOUR);
                    let _ = write!(
                        context,
                        "[[\"{v}\",\"{AV_ENGINE}\",\"{}\",\"{AV_PLATFORM}\"]]",
                        iso_seconds(published + 2 * HOUR)
                    );
                    (lag == 0, true)
                }
                "scid-2010" => {
                    context.push_str("[[\"0\"]]");
                    (true, true)
                }
                "scid-2013" => (d.dept == DEPT_IT || r.chance(0.7), true),
                "scid-2016" => (true, true),
                "scid-2002" => (lag == 0, true),
                "scid-24" => (d.is_server() || r.chance(0.8), true),
                "scid-4001" => {
                    if d.role == Role::File {
                        context.push_str("[[\"Public\",\"D:\\\\Shares\\\\Public\"]]");
                        (false, true)
                    } else {
                        (true, d.is_server())
                    }
                }
                "scid-89" => (!d.is_server() && r.chance(0.6), true),
                "scid-64" => (d.role == Role::Dc || r.chance(0.5), true),
                "scid-67" => (r.chance(0.9), !d.is_server()),
                _ => (true, true),
            };
            sca.s(c.DeviceId, &d.id);
            sca.s(c.DeviceName, &d.name);
            sca.s(c.OSPlatform, d.os_platform);
            sca.t(c.Timestamp, t);
            sca.s(c.ConfigurationId, id);
            sca.s(c.ConfigurationCategory, cat);
            sca.s(c.ConfigurationSubcategory, sub);
            sca.r(c.ConfigurationImpact, impact);
            sca.b(c.IsCompliant, compliant);
            sca.b(c.IsApplicable, applicable);
            if context.is_empty() {
                sca.s(c.Context, "[]");
            } else {
                sca.s(c.Context, &context);
            }
            sca.b(c.IsExpectedUserImpact, matches!(id, "scid-67" | "scid-96"));
            sca.end();
        }
    }
    let k = ScaCols::of(kb);
    for &(id, impact, name, cat, sub, desc, risk, bench, fix) in SCA {
        kb.s(k.ConfigurationId, id);
        kb.r(k.ConfigurationImpact, impact);
        kb.s(k.ConfigurationName, name);
        kb.s(k.ConfigurationDescription, desc);
        kb.s(k.RiskDescription, risk);
        kb.s(k.ConfigurationCategory, cat);
        kb.s(k.ConfigurationSubcategory, sub);
        kb.s(k.ConfigurationBenchmarks, bench);
        kb.s(k.Tags, "[]");
        kb.s(k.RemediationOptions, fix);
        kb.end();
    }
}

table_cols!(IgCols {
    Timestamp,
    LastSeenTime,
    DeviceId,
    DeviceName,
    OSPlatform,
    AdditionalFields,
    IgId,
    FieldName,
    Description,
    Categories,
    DataStructure,
});

/// Antivirus information gathering: one report per device and day (the last one shortly
/// before the window's end).
fn write_info_gathering(w: &World, ig: &mut Sink, kb: &mut Sink) {
    let c = IgCols::of(ig);
    let mut af = String::new();
    for (di, d) in w.devices.iter().enumerate() {
        let lag = signature_lag_days(w, di);
        let ring = if d.dept == DEPT_IT && !d.is_server() {
            "2"
        } else {
            "4"
        };
        for (day, lo, hi) in w.days() {
            let mut r = Rng::derive(&[w.seed, fnv("tvm-ig"), di as u64, day as u64]);
            let t = if hi == w.now {
                hi - r.range(20 * MIN, 3 * HOUR)
            } else {
                day * DAY + r.range(HOUR, 20 * HOUR)
            } / 100
                * 100;
            if t < lo || t >= hi {
                continue;
            }
            let (sig, published) = signature_at(w, t - lag * DAY - 3 * HOUR);
            let updated = published + r.range(30 * MIN, 3 * HOUR);
            af.clear();
            let _ = write!(
                af,
                "{{\"AvMode\":\"0\",\"AvEngineVersion\":\"{AV_ENGINE}\",\"AvPlatformVersion\":\"{AV_PLATFORM}\",\"AvSignatureVersion\":\"{sig}\",\"AvSignaturePublishTime\":\"{}\",\"AvSignatureUpdateTime\":\"{}\",\"AvSignatureDataRefreshTime\":\"{}\",\"AvEngineUpdateTime\":\"{}\",\"AvEnginePublishTime\":\"{}\",\"AvPlatformUpdateTime\":\"{}\",\"AvPlatformPublishTime\":\"{}\",\"AvIsSignatureUptoDate\":\"{}\",\"AvIsEngineUptodate\":\"true\",\"AvIsPlatformUptodate\":\"true\",\"AvSignatureRing\":\"{ring}\",\"AvEngineRing\":\"{ring}\",\"AvPlatformRing\":\"{ring}\",\"AvScanResults\":\"{{\\\"Quick\\\":{{\\\"ScanStatus\\\":\\\"Completed\\\",\\\"Timestamp\\\":\\\"{}\\\"}}}}\",\"CloudProtectionState\":\"Enabled\",\"TamperProtection\":\"Enabled\",\"AsrConfigurationStates\":{{\"BlockOfficeCreateProcess\":\"Block\",\"BlockOfficeChildProcess\":\"Block\",\"BlockCredentialStealing\":\"Block\",\"BlockExecutableContentFromEmail\":\"Block\",\"BlockPsExecAndWmiProcessCreation\":\"Audit\",\"BlockUntrustedUnsignedProcessesFromUSB\":\"Audit\"}}}}",
                iso_seconds(published),
                iso_seconds(updated),
                iso_seconds(t - r.range(MIN, 20 * MIN)),
                iso_seconds(w.start - 9 * DAY),
                iso_seconds(w.start - 12 * DAY),
                iso_seconds(w.start - 9 * DAY),
                iso_seconds(w.start - 12 * DAY),
                lag == 0,
                iso_seconds(day * DAY + 2 * HOUR),
            );
            ig.t(c.Timestamp, t);
            ig.t(c.LastSeenTime, t);
            ig.s(c.DeviceId, &d.id);
            ig.s(c.DeviceName, &d.name);
            ig.s(c.OSPlatform, d.os_platform);
            ig.s(c.AdditionalFields, &af);
            ig.end();
        }
    }
    let k = IgCols::of(kb);
    for (i, (field, desc)) in [
        (
            "AvMode",
            "Antivirus mode: 0 active, 1 passive, 4 EDR in block mode",
        ),
        (
            "AvSignatureVersion",
            "Security intelligence (definitions) version",
        ),
        ("AvEngineVersion", "Antimalware engine version"),
        ("AvPlatformVersion", "Antimalware platform version"),
        (
            "AvIsSignatureUptoDate",
            "Whether the definitions are up to date",
        ),
        ("AvSignatureRing", "Gradual rollout ring of the definitions"),
        (
            "AsrConfigurationStates",
            "Attack surface reduction rule states",
        ),
        ("TamperProtection", "Tamper Protection state"),
    ]
    .into_iter()
    .enumerate()
    {
        kb.f(k.IgId, format_args!("{}", 1001 + i));
        kb.s(k.FieldName, field);
        kb.s(k.Description, desc);
        kb.s(k.Categories, "[\"Antivirus\"]");
        kb.s(
            k.DataStructure,
            if field == "AsrConfigurationStates" {
                "Dictionary"
            } else {
                "String"
            },
        );
        kb.end();
    }
}

// ---------------------------------------------------------------------------------------
// Browser extensions

/// (browser, id, name, description, version, risk, vendor, permissions (id, name, risk, required)).
type Ext = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str, bool)],
);

const ALL_URLS: (&str, &str, &str, bool) = (
    "<all_urls>",
    "Read and change all your data on all websites",
    "High",
    true,
);
const TABS: (&str, &str, &str, bool) = ("tabs", "Read your browsing history", "Medium", true);
const STORAGE: (&str, &str, &str, bool) = ("storage", "Store data locally", "Low", true);
const NOTIFY: (&str, &str, &str, bool) = ("notifications", "Display notifications", "Low", false);
const COOKIES: (&str, &str, &str, bool) = (
    "cookies",
    "Read and change cookies of the websites you visit",
    "High",
    true,
);
const NATIVE: (&str, &str, &str, bool) = (
    "nativeMessaging",
    "Communicate with cooperating native applications",
    "Medium",
    true,
);
const MANAGEMENT: (&str, &str, &str, bool) = (
    "management",
    "Manage your apps, extensions, and themes (can turn off malware protections)",
    "Critical",
    true,
);

const EXTENSIONS: &[Ext] = &[
    (
        "Edge",
        "ppnbnpeolgkicgegkbkbjmhlideopiji",
        "Microsoft Single Sign On",
        "Single sign-on to Microsoft Entra ID accounts",
        "1.0.9",
        "Low",
        "Microsoft Corporation",
        &[NATIVE, STORAGE],
    ),
    (
        "Chrome",
        "ppnbnpeolgkicgegkbkbjmhlideopiji",
        "Microsoft Single Sign On",
        "Single sign-on to Microsoft Entra ID accounts",
        "1.0.9",
        "Low",
        "Microsoft Corporation",
        &[NATIVE, STORAGE],
    ),
    (
        "Chrome",
        "ghbmnnjooekpmoecnnnilnnbdlolhkhi",
        "Google Docs Offline",
        "Edit, create, and view your documents, spreadsheets, and presentations without internet access.",
        "1.88.1",
        "Low",
        "Google LLC",
        &[STORAGE, NOTIFY],
    ),
    (
        "Chrome",
        "efaidnbmnnnibpcajpcglclefindmkaj",
        "Adobe Acrobat: PDF edit, convert, sign tools",
        "Do more in Google Chrome with Adobe Acrobat PDF tools.",
        "24.11.1.1",
        "Medium",
        "Adobe Inc.",
        &[ALL_URLS, TABS, STORAGE, NATIVE, NOTIFY],
    ),
    (
        "Edge",
        "elhekieabhbkpmcefcoobjddigjcaadp",
        "Adobe Acrobat: PDF edit, convert, sign tools",
        "Do more in Microsoft Edge with Adobe Acrobat PDF tools.",
        "24.11.1.1",
        "Medium",
        "Adobe Inc.",
        &[ALL_URLS, TABS, STORAGE, NATIVE, NOTIFY],
    ),
    (
        "Chrome",
        "kbfnbcaeplbcioakkpcpgfkobkghlhen",
        "Grammarly: AI Writing and Grammar Checker App",
        "Improve your writing with all-in-one assistance.",
        "14.1205.0",
        "High",
        "Grammarly",
        &[ALL_URLS, TABS, STORAGE, COOKIES, NOTIFY],
    ),
    (
        "Chrome",
        "hdokiejnpimakedhajhdlcegeplioahd",
        "LastPass: Free Password Manager",
        "LastPass, an award-winning password manager, saves your passwords.",
        "4.138.3",
        "High",
        "LastPass",
        &[ALL_URLS, TABS, STORAGE, COOKIES, NATIVE, NOTIFY],
    ),
    (
        "Chrome",
        "kgjfgplpablkjnlkjmjdecgdpfankdle",
        "Zoom Chrome Extension",
        "Easily schedule your Zoom meetings directly from Google Calendar.",
        "1.9.5",
        "Medium",
        "Zoom Video Communications",
        &[TABS, STORAGE, COOKIES],
    ),
    (
        "Edge",
        "jlhmfgmfgeifomenelglieieghnjghma",
        "Cisco Webex Extension",
        "Join Webex meetings from the browser.",
        "1.22.0",
        "Low",
        "Cisco Webex",
        &[NATIVE],
    ),
    (
        "Chrome",
        "cjpalhdlnbpafiamejdnhcphjbkeiagm",
        "uBlock Origin",
        "Finally, an efficient blocker. Easy on CPU and memory.",
        "1.61.2",
        "High",
        "Raymond Hill",
        &[ALL_URLS, TABS, STORAGE, NOTIFY],
    ),
    (
        "Chrome",
        "gighmmpiobklfepjocnamgkkbiglidom",
        "AdBlock - block ads across the web",
        "Block ads and pop-ups on YouTube, Facebook, Twitch, and your favorite websites.",
        "6.10.0",
        "Critical",
        "getadblock.com",
        &[ALL_URLS, TABS, STORAGE, MANAGEMENT, NOTIFY],
    ),
    (
        "Edge",
        "oldceeleldhonbafppcapldpdifcinji",
        "Microsoft Editor: Spelling & Grammar Checker",
        "Boost your writing with Microsoft Editor.",
        "1.0.113",
        "Medium",
        "Microsoft Corporation",
        &[ALL_URLS, STORAGE],
    ),
];

table_cols!(ExtCols {
    DeviceId,
    BrowserName,
    ExtensionId,
    ExtensionName,
    ExtensionDescription,
    ExtensionVersion,
    ExtensionRisk,
    ExtensionVendor,
    IsActivated,
    InstallationTime,
    PermissionId,
    PermissionName,
    PermissionDescription,
    PermissionRisk,
    IsPermissionRequired,
});

fn write_extensions(w: &World, ext: &mut Sink, kb: &mut Sink) {
    let c = ExtCols::of(ext);
    for &di in &w.workstations {
        let Some(d) = w.device(di) else {
            continue;
        };
        let chrome = d
            .user
            .and_then(|u| w.user(u))
            .is_some_and(|u| u.uses_chrome);
        let mut r = Rng::derive(&[w.seed, fnv("tvm-ext"), di as u64]);
        for (k, e) in EXTENSIONS.iter().enumerate() {
            let (browser, id, name, desc, version, risk, vendor, _) = *e;
            if browser == "Chrome" && !chrome {
                continue;
            }
            let p = match k {
                0 | 1 => 1.0,
                2 | 4 | 11 => 0.5,
                3 => 0.6,
                5 => 0.25,
                6 | 9 => 0.12,
                10 => 0.06,
                _ => 0.15,
            };
            if !r.chance(p) {
                continue;
            }
            ext.s(c.DeviceId, &d.id);
            ext.s(c.BrowserName, browser);
            ext.s(c.ExtensionId, id);
            ext.s(c.ExtensionName, name);
            ext.s(c.ExtensionDescription, desc);
            ext.s(c.ExtensionVersion, version);
            ext.s(c.ExtensionRisk, risk);
            ext.s(c.ExtensionVendor, vendor);
            ext.s(c.IsActivated, if r.chance(0.9) { "true" } else { "false" });
            ext.t(
                c.InstallationTime,
                (w.start - r.range(2 * DAY, 400 * DAY)) / 100 * 100,
            );
            ext.end();
        }
    }
    let k = ExtCols::of(kb);
    for &(browser, id, name, desc, version, risk, _, perms) in EXTENSIONS {
        for &(pid, pname, prisk, required) in perms {
            kb.s(k.BrowserName, browser);
            kb.s(k.ExtensionId, id);
            kb.s(k.ExtensionName, name);
            kb.s(k.ExtensionDescription, desc);
            kb.f(k.ExtensionVersion, format_args!("[\"{version}\"]"));
            kb.s(k.ExtensionRisk, risk);
            kb.s(k.PermissionId, pid);
            kb.s(k.PermissionName, pname);
            kb.s(k.PermissionDescription, pname);
            kb.s(k.PermissionRisk, prisk);
            kb.s(
                k.IsPermissionRequired,
                if required { "true" } else { "false" },
            );
            kb.end();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Entra roles (shared with IdentityInfo) and the exposure graph

/// The Entra ID roles of account `ui`: the second admin account is a Global Administrator,
/// the third a Security and Exchange Administrator, the other admins helpdesk operators.
pub(crate) fn entra_roles(w: &World, ui: usize) -> &'static [&'static str] {
    let Some(u) = w.user(ui) else {
        return &[];
    };
    if u.kind != UserKind::Admin {
        return &[];
    }
    let admins: Vec<usize> = w
        .users
        .iter()
        .enumerate()
        .filter(|(_, x)| x.kind == UserKind::Admin)
        .map(|(i, _)| i)
        .collect();
    let rank = admins.iter().position(|&i| i == ui).unwrap_or(0);
    let ga = usize::from(admins.len() > 1);
    if rank == ga {
        &["Global Administrator"]
    } else if rank == 2 {
        &["Security Administrator", "Exchange Administrator"]
    } else {
        &["Global Reader", "Helpdesk Administrator"]
    }
}

fn node_id(w: &World, key: &str) -> String {
    Rng::derive(&[w.seed, fnv("xg-node"), fnv(key)]).hex(32)
}

table_cols!(XgCols {
    NodeId,
    NodeLabel,
    NodeName,
    Categories,
    NodeProperties,
    EntityIds,
    EdgeId,
    EdgeLabel,
    SourceNodeId,
    SourceNodeName,
    SourceNodeLabel,
    SourceNodeCategories,
    TargetNodeId,
    TargetNodeName,
    TargetNodeLabel,
    TargetNodeCategories,
    EdgeProperties,
});

struct Node {
    key: String,
    id: String,
    label: &'static str,
    name: String,
    categories: &'static str,
}

struct Graph<'a> {
    w: &'a World,
    nodes: &'a mut Sink,
    edges: &'a mut Sink,
    nc: XgCols,
    ec: XgCols,
}

impl Graph<'_> {
    fn node(
        &mut self,
        key: &str,
        label: &'static str,
        name: &str,
        categories: &'static str,
        props: &str,
        entity_ids: &str,
    ) -> Node {
        let id = node_id(self.w, key);
        let (s, c) = (&mut *self.nodes, self.nc);
        s.s(c.NodeId, &id);
        s.s(c.NodeLabel, label);
        s.s(c.NodeName, name);
        s.s(c.Categories, categories);
        s.f(c.NodeProperties, format_args!("{{\"rawData\":{props}}}"));
        s.s(c.EntityIds, entity_ids);
        s.end();
        Node {
            key: key.to_string(),
            id,
            label,
            name: name.to_string(),
            categories,
        }
    }

    fn edge(&mut self, label: &str, from: &Node, to: &Node, props: &str) {
        let (s, c) = (&mut *self.edges, self.ec);
        let id = Rng::derive(&[
            self.w.seed,
            fnv("xg-edge"),
            fnv(label),
            fnv(&from.key),
            fnv(&to.key),
        ])
        .hex(32);
        s.s(c.EdgeId, &id);
        s.s(c.EdgeLabel, label);
        s.s(c.SourceNodeId, &from.id);
        s.s(c.SourceNodeName, &from.name);
        s.s(c.SourceNodeLabel, from.label);
        s.s(c.SourceNodeCategories, from.categories);
        s.s(c.TargetNodeId, &to.id);
        s.s(c.TargetNodeName, &to.name);
        s.s(c.TargetNodeLabel, to.label);
        s.s(c.TargetNodeCategories, to.categories);
        s.f(c.EdgeProperties, format_args!("{{\"rawData\":{props}}}"));
        s.end();
    }
}

const ID_CATS: &str = "[\"identity\"]";

fn write_graph(w: &World, nodes: &mut Sink, edges: &mut Sink) {
    let nc = XgCols::of(nodes);
    let ec = XgCols::of(edges);
    let mut g = Graph {
        w,
        nodes,
        edges,
        nc,
        ec,
    };
    let mut props = String::new();

    // Devices.
    let mut dev_nodes = Vec::new();
    for (di, d) in w.devices.iter().enumerate() {
        let vulns = vulnerabilities(w, di);
        let max_cvss = vulns
            .iter()
            .filter_map(|(_, c, _)| c.cvss.parse::<f64>().ok())
            .fold(0.0f64, f64::max);
        let high = vulns
            .iter()
            .any(|(_, c, _)| matches!(c.severity, "High" | "Critical"));
        let rce = vulns.iter().any(|(_, c, _)| c.desc.contains("Remote Code"));
        let (role, crit): (&str, Option<(i32, &str)>) = match d.role {
            Role::Dc => ("DomainController", Some((0, "Domain Controller"))),
            Role::Sql => ("DatabaseServer", Some((1, "Database Server"))),
            Role::File => ("FileServer", Some((2, "File Server"))),
            Role::Web => ("WebServer", Some((2, "Internet Facing Device"))),
            Role::App => ("Server", None),
            Role::Workstation => ("Workstation", None),
        };
        props.clear();
        let _ = write!(
            props,
            "{{\"deviceName\":\"{}\",\"deviceId\":\"{}\",\"osPlatform\":\"{}\",\"deviceType\":\"{}\",\"deviceRole\":[\"{role}\"],\"isInternetFacing\":{},\"onboardingStatus\":\"Onboarded\",\"exposureScore\":\"{}\",\"riskScore\":\"None\",\"ipAddress\":\"{}\"",
            d.name,
            d.id,
            d.os_platform,
            if d.is_server() {
                "Server"
            } else {
                "Workstation"
            },
            d.internet_facing,
            if max_cvss >= 9.0 { "High" } else { "Medium" },
            d.ip
        );
        if let Some((level, rule)) = crit {
            let _ = write!(
                props,
                ",\"criticalityLevel\":{{\"criticalityLevel\":{level},\"ruleName\":\"{rule}\",\"ruleBasedCriticalityLevel\":{level}}}"
            );
        }
        if high {
            let _ = write!(
                props,
                ",\"highRiskVulnerabilityInsights\":{{\"hasHighOrCritical\":true,\"maxCvssScore\":{max_cvss},\"vulnerableToRemoteCodeExecution\":{rce},\"vulnerableToPrivilegeEscalation\":true}}"
            );
        }
        props.push('}');
        let cats = if d.is_server() {
            "[\"compute\",\"device\",\"virtual_machine\"]"
        } else {
            "[\"compute\",\"device\"]"
        };
        let ids = format!(
            "[{{\"type\":\"DeviceInventoryId\",\"id\":\"{}\"}},{{\"type\":\"AadDeviceId\",\"id\":\"{}\"}}]",
            d.id, d.aad_id
        );
        dev_nodes.push(g.node(
            &format!("dev:{}", d.id),
            "device",
            &d.name,
            cats,
            &props,
            &ids,
        ));
    }

    // Identities.
    let mut user_nodes = Vec::new();
    for (ui, u) in w.users.iter().enumerate() {
        let roles = entra_roles(w, ui);
        props.clear();
        let _ = write!(
            props,
            "{{\"accountName\":\"{}\",\"accountDomain\":\"contoso.com\",\"accountUpn\":\"{}\",\"accountObjectId\":\"{}\",\"accountSid\":\"{}\",\"accountDisplayName\":\"{}\",\"isActive\":true,\"assignedRoles\":[",
            u.sam, u.upn, u.object_id, u.sid, u.display
        );
        for (k, role) in roles.iter().enumerate() {
            if k > 0 {
                props.push(',');
            }
            let _ = write!(props, "\"{role}\"");
        }
        props.push(']');
        let crit = match (u.kind, roles.first()) {
            (UserKind::Admin, Some(&"Global Administrator")) => Some((0, "Global Administrator")),
            (UserKind::Admin, Some(&"Security Administrator")) => {
                Some((1, "Security Administrator"))
            }
            (UserKind::Admin, _) => Some((2, "Helpdesk Administrator")),
            (UserKind::Service, _) if u.sam == "svc-backup" => Some((1, "Domain Admins")),
            _ => None,
        };
        if let Some((level, rule)) = crit {
            let _ = write!(
                props,
                ",\"criticalityLevel\":{{\"criticalityLevel\":{level},\"ruleName\":\"{rule}\",\"ruleBasedCriticalityLevel\":{level}}}"
            );
        }
        props.push('}');
        let ids = format!(
            "[{{\"type\":\"AadObjectId\",\"id\":\"{}\"}},{{\"type\":\"SecurityIdentifier\",\"id\":\"{}\"}}]",
            u.object_id, u.sid
        );
        user_nodes.push(g.node(
            &format!("user:{}", u.object_id),
            "user",
            &u.display,
            ID_CATS,
            &props,
            &ids,
        ));
    }

    // Groups and roles.
    let group = |g: &mut Graph, name: &str| {
        let p = format!("{{\"displayName\":\"{name}\",\"isSecurityGroup\":true}}");
        g.node(
            &format!("group:{name}"),
            "group",
            name,
            "[\"identity\",\"group\"]",
            &p,
            "[]",
        )
    };
    let domain_admins = group(&mut g, "Domain Admins");
    let ws_admins = group(&mut g, "Workstation Admins");
    let dept_groups: Vec<Node> = DEPTS.iter().map(|d| group(&mut g, d.name)).collect();
    let mut role_nodes: Vec<Node> = Vec::new();
    for role in [
        "Global Administrator",
        "Security Administrator",
        "Exchange Administrator",
        "Global Reader",
        "Helpdesk Administrator",
    ] {
        let p = format!("{{\"displayName\":\"{role}\",\"isBuiltIn\":true}}");
        role_nodes.push(g.node(
            &format!("role:{role}"),
            "role",
            role,
            "[\"identity\",\"role\"]",
            &p,
            "[]",
        ));
    }
    // Azure resources.
    let sub = "3f2b5a1e-7c44-4d1a-9b0e-2c6f8e9d1a37";
    let mut res_nodes = Vec::new();
    for (label, name, cats) in [
        (
            "microsoft.resources/subscriptions",
            "Contoso Production",
            "[\"subscription\",\"cloud\"]",
        ),
        (
            "microsoft.storage/storageaccounts",
            "contosobackupsa",
            "[\"storage_account\",\"data\",\"cloud\"]",
        ),
        (
            "microsoft.keyvault/vaults",
            "kv-contoso-prod",
            "[\"key_vault\",\"cloud\"]",
        ),
    ] {
        let p = format!(
            "{{\"resourceName\":\"{name}\",\"subscriptionId\":\"{sub}\",\"type\":\"{label}\"}}"
        );
        res_nodes.push(g.node(
            &format!("res:{name}"),
            label,
            name,
            cats,
            &p,
            &format!("[{{\"type\":\"AzureResourceId\",\"id\":\"/subscriptions/{sub}/{name}\"}}]"),
        ));
    }

    // Edges.
    let admin = |b: bool| format!("{{\"userRightsOnDevice\":{{\"isLocalAdmin\":{b}}}}}");
    let creds = |cookie: bool, prt: bool| {
        format!(
            "{{\"ntlmHash\":{{\"ntlmHash\":true}},\"browserCookies\":{{\"browserCookies\":{cookie}}},\"primaryRefreshToken\":{{\"primaryRefreshToken\":{prt}}}}}"
        )
    };
    for (ui, u) in w.users.iter().enumerate() {
        let Some(un) = user_nodes.get(ui) else {
            continue;
        };
        match u.kind {
            UserKind::Person => {
                if let Some(dn) = u.device.and_then(|d| dev_nodes.get(d)) {
                    g.edge("can authenticate to", un, dn, &admin(u.local_admin));
                    g.edge("has credentials of", dn, un, &creds(true, true));
                    g.edge("can authenticate as", dn, un, &creds(true, true));
                }
                if let Some(gn) = dept_groups.get(u.dept) {
                    g.edge("member of", un, gn, "{}");
                }
                // The IT person's own workstation holds the admin account's credentials
                // (run-as sessions and the admin portals in the browser).
                if let (Some(a), Some(dn)) =
                    (u.admin_account, u.device.and_then(|d| dev_nodes.get(d)))
                    && let Some(an) = user_nodes.get(a)
                {
                    g.edge("has credentials of", dn, an, &creds(true, false));
                    g.edge("can authenticate as", dn, an, &creds(true, false));
                }
            }
            UserKind::Admin => {
                g.edge("member of", un, &domain_admins, "{}");
                g.edge("member of", un, &ws_admins, "{}");
                for role in entra_roles(w, ui) {
                    if let Some(rn) = role_nodes.iter().find(|n| n.name == *role) {
                        g.edge("member of", un, rn, "{}");
                    }
                }
                for (di, d) in w.devices.iter().enumerate() {
                    if let Some(dn) = dev_nodes.get(di) {
                        g.edge("can authenticate to", un, dn, &admin(true));
                        if d.is_server() {
                            g.edge("has credentials of", dn, un, &creds(false, false));
                            g.edge("can authenticate as", dn, un, &creds(false, false));
                        }
                    }
                }
                let azure_role = if entra_roles(w, ui).first() == Some(&"Global Administrator") {
                    "Owner"
                } else {
                    "Contributor"
                };
                for rn in &res_nodes {
                    g.edge(
                        "has permissions to",
                        un,
                        rn,
                        &format!("{{\"permissions\":{{\"roles\":[{{\"name\":\"{azure_role}\"}}],\"scope\":\"/subscriptions/{sub}\"}}}}"),
                    );
                }
            }
            UserKind::Service => {
                for (di, d) in w.devices.iter().enumerate() {
                    let runs_on = match u.sam.as_str() {
                        "svc-backup" => d.is_server(),
                        "svc-sql" => d.role == Role::Sql,
                        "svc-web" => d.role == Role::Web,
                        _ => d.role == Role::File,
                    };
                    if runs_on && let Some(dn) = dev_nodes.get(di) {
                        g.edge("can authenticate to", un, dn, &admin(true));
                        g.edge("has credentials of", dn, un, &creds(false, false));
                    }
                }
                if u.sam == "svc-backup" {
                    g.edge("member of", un, &domain_admins, "{}");
                    if let Some(rn) = res_nodes.get(1) {
                        g.edge(
                            "has permissions to",
                            un,
                            rn,
                            "{\"permissions\":{\"roles\":[{\"name\":\"Storage Blob Data Contributor\"}],\"scope\":\"contosobackupsa\"}}",
                        );
                    }
                }
            }
        }
    }
    // The helpdesk admin logged on to the story victim's workstation (story 1).
    if let (Some(dn), Some(an)) = (
        dev_nodes.get(w.plan.victim_dev),
        user_nodes.get(w.plan.admin_user),
    ) && w.plan.victim_dev != w.plan.admin_user
    {
        g.edge("has credentials of", dn, an, &creds(false, false));
    }
    for (di, d) in w.devices.iter().enumerate() {
        if let Some(dn) = dev_nodes.get(di) {
            g.edge("can authenticate to", &domain_admins, dn, &admin(true));
            if !d.is_server() {
                g.edge("can authenticate to", &ws_admins, dn, &admin(true));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// OAuth apps and their service principal sign-ins

struct App {
    name: &'static str,
    publisher: &'static str,
    origin: &'static str,
    privilege: &'static str,
    admin_consent: bool,
    users: i32,
    added_days_ago: i64,
    /// (permission, type, privilege, in use).
    perms: &'static [(&'static str, &'static str, &'static str, bool)],
}

const APPS: &[App] = &[
    App {
        name: "Zoom",
        publisher: "Zoom Video Communications, Inc.",
        origin: "External",
        privilege: "Medium",
        admin_consent: false,
        users: 14,
        added_days_ago: 620,
        perms: &[
            ("User.Read", "Delegated", "Low", true),
            ("Calendars.ReadWrite", "Delegated", "Medium", true),
            ("offline_access", "Delegated", "Low", true),
        ],
    },
    App {
        name: "Adobe Acrobat",
        publisher: "Adobe Inc.",
        origin: "External",
        privilege: "High",
        admin_consent: true,
        users: 0,
        added_days_ago: 900,
        perms: &[
            ("User.Read", "Delegated", "Low", true),
            ("Files.ReadWrite.All", "Delegated", "High", true),
            ("Sites.ReadWrite.All", "Delegated", "High", false),
        ],
    },
    App {
        name: "DocuSign",
        publisher: "DocuSign, Inc.",
        origin: "External",
        privilege: "Medium",
        admin_consent: true,
        users: 0,
        added_days_ago: 1100,
        perms: &[
            ("User.Read", "Delegated", "Low", true),
            ("Mail.Send", "Delegated", "Medium", true),
            ("Files.Read.All", "Delegated", "Medium", false),
        ],
    },
    App {
        name: "Salesforce",
        publisher: "Salesforce.com, Inc.",
        origin: "External",
        privilege: "Medium",
        admin_consent: true,
        users: 0,
        added_days_ago: 1400,
        perms: &[
            ("User.Read", "Delegated", "Low", true),
            ("Mail.Read", "Delegated", "Medium", true),
            ("Calendars.Read", "Delegated", "Medium", true),
            ("offline_access", "Delegated", "Low", true),
        ],
    },
    App {
        name: "Veeam Backup for Microsoft 365",
        publisher: "Veeam Software Group GmbH",
        origin: "External",
        privilege: "High",
        admin_consent: true,
        users: 0,
        added_days_ago: 700,
        perms: &[
            ("Mail.ReadWrite", "Application", "High", true),
            ("Sites.FullControl.All", "Application", "High", true),
            ("Directory.Read.All", "Application", "High", true),
            ("TeamSettings.ReadWrite.All", "Application", "High", false),
        ],
    },
    App {
        name: "Contoso HR Sync",
        publisher: "",
        origin: "Internal",
        privilege: "High",
        admin_consent: true,
        users: 0,
        added_days_ago: 480,
        perms: &[
            ("User.ReadWrite.All", "Application", "High", true),
            ("Group.Read.All", "Application", "High", true),
            ("Mail.Send", "Application", "High", false),
        ],
    },
    App {
        name: "Contoso Invoice Automation",
        publisher: "",
        origin: "Internal",
        privilege: "Medium",
        admin_consent: true,
        users: 0,
        added_days_ago: 260,
        perms: &[
            ("Mail.Read", "Application", "High", true),
            ("Files.ReadWrite.All", "Application", "High", true),
        ],
    },
    App {
        name: "PDF Converter Online",
        publisher: "",
        origin: "External",
        privilege: "High",
        admin_consent: false,
        users: 2,
        added_days_ago: 45,
        perms: &[
            ("User.Read", "Delegated", "Low", true),
            ("Mail.Read", "Delegated", "Medium", true),
            ("Files.ReadWrite.All", "Delegated", "High", true),
            ("offline_access", "Delegated", "Low", true),
        ],
    },
];

/// (application id, service principal id) of app `i`.
pub(crate) fn app_ids(w: &World, i: usize) -> (String, String) {
    let mut r = Rng::derive(&[w.seed, fnv("oauth-app"), i as u64]);
    (r.guid(), r.guid())
}

table_cols!(OAuthCols {
    ReportId,
    Timestamp,
    OAuthAppId,
    ServicePrincipalId,
    AppName,
    AddedOnTime,
    LastModifiedTime,
    AppStatus,
    VerifiedPublisher,
    PrivilegeLevel,
    Permissions,
    ConsentedUsersCount,
    IsAdminConsented,
    AppOrigin,
    LastUsedTime,
    AppOwnerTenantId,
    RiskScore,
    AssignedRoles,
});

fn write_oauth(w: &World, s: &mut Sink) {
    let c = OAuthCols::of(s);
    let mut perms = String::new();
    for (i, app) in APPS.iter().enumerate() {
        let (app_id, sp_id) = app_ids(w, i);
        let owner = if app.origin == "Internal" {
            w.tenant_id.clone()
        } else {
            Rng::derive(&[w.seed, fnv("oauth-owner"), fnv(app.name)]).guid()
        };
        perms.clear();
        perms.push('[');
        for (k, &(value, kind, level, in_use)) in app.perms.iter().enumerate() {
            if k > 0 {
                perms.push(',');
            }
            let _ = write!(
                perms,
                "{{\"PermissionValue\":\"{value}\",\"TargetAppId\":\"00000003-0000-0000-c000-000000000000\",\"TargetAppDisplayName\":\"Microsoft Graph\",\"PermissionType\":\"{kind}\",\"PrivilegeLevel\":\"{level}\",\"UsageStatus\":\"{}\",\"InUse\":{in_use}}}",
                if in_use { "InUse" } else { "NotInUse" }
            );
        }
        perms.push(']');
        let added = (w.start - app.added_days_ago * DAY) / 100 * 100;
        for (day, lo, hi) in w.days() {
            let mut r = Rng::derive(&[w.seed, fnv("oauth-snap"), i as u64, day as u64]);
            let t = (day * DAY + r.range(HOUR, 5 * HOUR)) / 100 * 100;
            if t < lo || t >= hi {
                continue;
            }
            s.f(c.ReportId, format_args!("{sp_id}-{day}"));
            s.t(c.Timestamp, t);
            s.s(c.OAuthAppId, &app_id);
            s.s(c.ServicePrincipalId, &sp_id);
            s.s(c.AppName, app.name);
            s.t(c.AddedOnTime, added);
            s.t(c.LastModifiedTime, added + 3 * DAY);
            s.s(c.AppStatus, "Enabled");
            if app.publisher.is_empty() {
                s.s(c.VerifiedPublisher, "{}");
            } else {
                s.f(
                    c.VerifiedPublisher,
                    format_args!(
                        "{{\"displayName\":\"{}\",\"verifiedPublisherId\":\"{}\",\"addedDateTime\":\"{}\"}}",
                        app.publisher,
                        1_000_000 + fnv(app.publisher) % 8_000_000,
                        iso_seconds(added)
                    ),
                );
            }
            s.s(c.PrivilegeLevel, app.privilege);
            s.s(c.Permissions, &perms);
            s.i(c.ConsentedUsersCount, app.users);
            s.b(c.IsAdminConsented, app.admin_consent);
            s.s(c.AppOrigin, app.origin);
            s.t(
                c.LastUsedTime,
                (t - r.range(10 * MIN, 20 * HOUR)).max(added),
            );
            s.s(c.AppOwnerTenantId, &owner);
            s.i(
                c.RiskScore,
                if app.publisher.is_empty() && app.origin == "External" {
                    70
                } else {
                    5
                },
            );
            s.s(c.AssignedRoles, "[]");
            s.end();
        }
    }
}

table_cols!(SpnCols {
    Timestamp,
    Application,
    ApplicationId,
    IsManagedIdentity,
    ErrorCode,
    CorrelationId,
    ServicePrincipalName,
    ServicePrincipalId,
    ResourceDisplayName,
    ResourceId,
    ResourceTenantId,
    IPAddress,
    Country,
    State,
    City,
    Latitude,
    Longitude,
    RequestId,
    ReportId,
});

/// Service principal sign-ins: the daemon apps (HR sync hourly, backup every 30 minutes,
/// invoice automation from two Azure regions, one instance still on an expired secret)
/// and a managed identity.
fn write_spn(w: &World, s: &mut Sink) {
    let c = SpnCols::of(s);
    let egress = w.egress_ips.first().map_or("", |x| x.as_str());
    // (app index or none for the managed identity, period, ip, country, state, city, lat, lon)
    type Src = (
        Option<usize>,
        &'static str,
        i64,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    );
    let sources: [Src; 6] = [
        (
            Some(5),
            "",
            HOUR,
            "",
            "US",
            "Washington",
            "Redmond",
            "47.674",
            "-122.122",
        ),
        (
            Some(4),
            "",
            30 * MIN,
            "",
            "US",
            "Washington",
            "Redmond",
            "47.674",
            "-122.122",
        ),
        (
            Some(6),
            "",
            2 * HOUR,
            "20.61.14.77",
            "NL",
            "Noord-Holland",
            "Amsterdam",
            "52.374",
            "4.890",
        ),
        (
            Some(6),
            "",
            2 * HOUR,
            "52.160.40.12",
            "US",
            "California",
            "San Francisco",
            "37.775",
            "-122.418",
        ),
        (
            Some(8),
            "",
            3 * HOUR,
            "",
            "US",
            "Washington",
            "Redmond",
            "47.674",
            "-122.122",
        ),
        (
            None,
            "contoso-func-prod",
            HOUR,
            "52.160.40.31",
            "US",
            "California",
            "San Francisco",
            "37.775",
            "-122.418",
        ),
    ];
    for (k, &(app, mi_name, period, ip, country, state, city, lat, lon)) in
        sources.iter().enumerate()
    {
        let (name, app_id, sp_id) = match app {
            Some(8) => {
                let mut r = Rng::derive(&[w.seed, fnv("legacy-reporting")]);
                ("Contoso Legacy Reporting", r.guid(), r.guid())
            }
            Some(i) => {
                let (a, s) = app_ids(w, i);
                (APPS.get(i).map_or("", |x| x.name), a, s)
            }
            None => {
                let mut r = Rng::derive(&[w.seed, fnv("managed-identity")]);
                (mi_name, r.guid(), r.guid())
            }
        };
        let ip = if ip.is_empty() { egress } else { ip };
        let mut r = Rng::derive(&[w.seed, fnv("spn"), k as u64]);
        let mut t = w.start + r.range(0, period);
        while t < w.now {
            // The Amsterdam instance of the invoice automation still uses the secret that
            // expired two days into the window.
            // The legacy reporting job's secret expired long ago and nobody noticed.
            let error = if (k == 2 && t > w.start + 2 * DAY) || app == Some(8) {
                7_000_222
            } else {
                0
            };
            let (res, res_id) = match app {
                Some(4) if r.chance(0.5) => (
                    "Office 365 Exchange Online",
                    "00000002-0000-0ff1-ce00-000000000000",
                ),
                None => ("Azure Key Vault", "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"),
                _ => ("Microsoft Graph", "00000003-0000-0000-c000-000000000000"),
            };
            let ts = t / 100 * 100;
            s.t(c.Timestamp, ts);
            s.s(c.Application, name);
            s.s(c.ApplicationId, &app_id);
            s.b(c.IsManagedIdentity, app.is_none());
            s.i(c.ErrorCode, error);
            s.s(c.CorrelationId, &r.guid());
            s.s(c.ServicePrincipalName, name);
            s.s(c.ServicePrincipalId, &sp_id);
            s.s(c.ResourceDisplayName, res);
            s.s(c.ResourceId, res_id);
            s.s(c.ResourceTenantId, &w.tenant_id);
            s.s(c.IPAddress, ip);
            s.s(c.Country, country);
            s.s(c.State, state);
            s.s(c.City, city);
            s.s(c.Latitude, lat);
            s.s(c.Longitude, lon);
            let req = r.guid();
            s.s(c.RequestId, &req);
            s.s(c.ReportId, &req);
            s.end();
            t += period + r.range(-2 * MIN, 2 * MIN);
        }
    }
}

/// Writes the posture tables, in [`POSTURE_TABLES`] order.
pub(crate) fn write(w: &World, s: &mut [Sink; 13]) {
    let [
        inv,
        vul,
        vkb,
        sca,
        skb,
        ig,
        igkb,
        ext,
        ekb,
        nodes,
        edges,
        oauth,
        spn,
    ] = s;
    write_software(w, inv, vul, vkb);
    write_config(w, w.now, sca, skb);
    write_info_gathering(w, ig, igkb);
    write_extensions(w, ext, ekb);
    write_graph(w, nodes, edges);
    write_oauth(w, oauth);
    write_spn(w, spn);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(version_lt("131.0.6778.86", "131.0.6778.108"));
        assert!(!version_lt("131.0.6778.204", "131.0.6778.108"));
        assert!(version_lt("23.01", "24.07"));
        assert!(!version_lt("24.09", "24.09"));
        assert!(version_lt("10.0.22631.4317", "10.0.22631.4460"));
    }
}
