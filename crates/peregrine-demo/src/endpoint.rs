//! Background activity of the Defender for Endpoint tables: process creations, network
//! connections, file, registry and image-load events, miscellaneous device events and logons,
//! per device and UTC day.

use std::collections::HashMap;
use std::fmt::Write;

use crate::catalog::{
    COMMON_DLLS, DEPTS, Img, MS_DEFENDER, MS_LOGIN, MS_MDE, MS_OUTLOOK, MS_SHAREPOINT, MS_TEAMS,
    MS_TELEMETRY, MS_UPDATE,
};
use crate::host::{
    self, Acct, Ctx, P, Proc, account, file_of, head, initiating, report_id, version_info,
};
use crate::rng::{Rng, Weighted, file_hashes, fnv, powershell_encoded};
use crate::sink::Sink;
use crate::world::{DAY, Device, HOUR, MIN, NETBIOS, Role, SEC, Svc, UserKind, World};

/// The device tables generated per device and day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DevTable {
    Process,
    Network,
    File,
    Registry,
    ImageLoad,
    Events,
    Logon,
}

impl DevTable {
    pub(crate) const ALL: [DevTable; 7] = [
        DevTable::Process,
        DevTable::Network,
        DevTable::File,
        DevTable::Registry,
        DevTable::ImageLoad,
        DevTable::Events,
        DevTable::Logon,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            DevTable::Process => "DeviceProcessEvents",
            DevTable::Network => "DeviceNetworkEvents",
            DevTable::File => "DeviceFileEvents",
            DevTable::Registry => "DeviceRegistryEvents",
            DevTable::ImageLoad => "DeviceImageLoadEvents",
            DevTable::Events => "DeviceEvents",
            DevTable::Logon => "DeviceLogonEvents",
        }
    }

    /// Events per full day: (system activity, user-session activity) of a workstation.
    /// Servers have no session and twice the system activity.
    fn rates(self) -> (f64, f64) {
        match self {
            DevTable::Process => (970.0, 1_840.0),
            DevTable::Network => (2_910.0, 5_520.0),
            DevTable::File => (1_940.0, 3_680.0),
            DevTable::Registry => (970.0, 1_840.0),
            DevTable::ImageLoad => (1_940.0, 3_680.0),
            DevTable::Events => (220.0, 330.0),
            DevTable::Logon => (12.0, 10.0),
        }
    }

    /// Rows per device and full day, at most (sizes the work units).
    pub(crate) fn max_per_device_day(self) -> u64 {
        let (a, b) = self.rates();
        ((2.0 * a).max(a + b) * 1.4) as u64 + 50
    }

    /// Expected rows per device and full day, on average over a week (for progress).
    pub(crate) fn mean_per_device_day(self) -> f64 {
        let (a, b) = self.rates();
        0.92 * (a + b * (5.0 * 0.93 + 2.0 * 0.08 * 0.25) / 7.0) + 0.08 * 2.0 * a
    }

    fn tag(self) -> u64 {
        fnv(self.name())
    }
}

/// Generation state of one work unit.
pub(crate) struct Gen<'w> {
    pub w: &'w World,
    pub r: Rng,
    pub buf: String,
    hashes: HashMap<u64, (String, String, String)>,
    times: Vec<(i64, bool)>,
}

impl<'w> Gen<'w> {
    pub(crate) fn new(w: &'w World, r: Rng) -> Self {
        Gen {
            w,
            r,
            buf: String::with_capacity(512),
            hashes: HashMap::new(),
            times: Vec::new(),
        }
    }

    /// Writes SHA1, SHA256 and MD5 of a file name (the same name has the same hashes).
    pub(crate) fn write_hashes(&mut self, s: &mut Sink, name: &str, md5: bool) {
        let k = fnv(name);
        let h = self.hashes.entry(k).or_insert_with(|| file_hashes(name));
        let c = s.c;
        s.s(c.SHA1, &h.0);
        s.s(c.SHA256, &h.1);
        if md5 {
            s.s(c.MD5, &h.2);
        }
    }

    /// Event times of a device-day: `n_sys` over the day (busier in office hours) and
    /// `n_user` within the session (fewer at lunch), inside the window, sorted.
    fn event_times(&mut self, ctx: &Ctx, n_sys: u64, n_user: u64) {
        self.times.clear();
        let day0 = ctx.day * DAY;
        for _ in 0..n_sys {
            let t = if self.r.chance(0.6) {
                day0 + (self.r.below((DAY / 100) as u64) as i64) * 100
            } else {
                day0 + 8 * HOUR + (self.r.below((10 * HOUR / 100) as u64) as i64) * 100
            };
            if ctx.in_window(t) {
                self.times.push((t, false));
            }
        }
        if let Some((s0, s1)) = ctx.session {
            let len = ((s1 - s0) / 100).max(1) as u64;
            for _ in 0..n_user {
                let mut t = s0 + (self.r.below(len) as i64) * 100;
                let hour = (t - day0) / HOUR;
                if hour == 12 && self.r.chance(0.5) {
                    t = s0 + (self.r.below(len) as i64) * 100;
                }
                if ctx.in_window(t) {
                    self.times.push((t, true));
                }
            }
        }
        self.times.sort_unstable();
    }
}

/// Generates one device table for devices `devs` on UTC day `day` (window part `lo..hi`).
pub(crate) fn generate(
    w: &World,
    table: DevTable,
    day: i64,
    lo: i64,
    hi: i64,
    devs: std::ops::Range<usize>,
    s: &mut Sink,
) {
    let tabs = Tabs::new();
    for dev in devs {
        let Some(device) = w.device(dev) else {
            continue;
        };
        let ctx = Ctx::new(w, dev, day, lo, hi);
        let mut g = Gen::new(
            w,
            Rng::derive(&[w.seed, table.tag(), dev as u64, day as u64]),
        );
        let mut seq = 0u64;
        if table == DevTable::Logon {
            logons(&mut g, s, &ctx, device, &mut seq);
            continue;
        }
        let (sys, user) = table.rates();
        let weekend = crate::world::weekday(day) >= 5;
        let day_factor = 0.9 + 0.2 * g.r.unit();
        let f = device.activity * day_factor;
        let n_sys = if device.is_server() {
            g.r.count(2.0 * sys * f)
        } else {
            g.r.count(sys * f * if weekend { 0.8 } else { 1.0 })
        };
        let n_user = if ctx.session.is_some() {
            let short = if weekend { 0.25 } else { 1.0 };
            g.r.count(user * f * short)
        } else {
            0
        };
        g.event_times(&ctx, n_sys, n_user);
        let times = std::mem::take(&mut g.times);
        for &(t, is_user) in &times {
            match table {
                DevTable::Process => {
                    process_event(&mut g, &tabs, s, &ctx, device, t, is_user, &mut seq)
                }
                DevTable::Network => {
                    network_event(&mut g, &tabs, s, &ctx, device, t, is_user, &mut seq)
                }
                DevTable::File => file_event(&mut g, &tabs, s, &ctx, device, t, is_user, &mut seq),
                DevTable::Registry => {
                    registry_event(&mut g, &tabs, s, &ctx, device, t, is_user, &mut seq)
                }
                DevTable::ImageLoad => {
                    image_event(&mut g, &tabs, s, &ctx, device, t, is_user, &mut seq)
                }
                DevTable::Events => {
                    device_event(&mut g, &tabs, s, &ctx, device, t, is_user, &mut seq)
                }
                DevTable::Logon => {}
            }
        }
        g.times = times;
        match table {
            DevTable::Process => crate::more::processes(w, s, &ctx, device),
            DevTable::Network => {
                crate::extra::network(w, s, &ctx, device);
                crate::more::network(w, s, &ctx, device);
            }
            DevTable::Events => {
                crate::extra::events(w, s, &ctx, device);
                crate::more::events(w, s, &ctx, device);
            }
            _ => {}
        }
        crate::activity::generate(&mut g, s, &ctx, device, table, &mut seq);
        crate::endpoint2::generate(&mut g, s, &ctx, device, table, &mut seq);
    }
}

// ---------------------------------------------------------------------------------------
// Process creation

#[derive(Debug, Clone, Copy)]
enum CmdT {
    S(&'static str),
    Svchost,
    ChromeRenderer,
    ChromeUtility,
    EdgeRenderer,
    TeamsWebView,
    OutlookWebView,
    OpenDoc(&'static str),
    OutlookAttachment,
    Git,
    Node,
    IntunePs,
    SchedCmd,
    WerFault,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AcctT {
    Parent,
    System,
    User,
}

struct Spawn {
    parent: P,
    child: Img,
    weight: u64,
    cmd: CmdT,
    acct: AcctT,
    ws_only: bool,
}

const fn sp(parent: P, child: Img, weight: u64, cmd: CmdT, acct: AcctT, ws_only: bool) -> Spawn {
    Spawn {
        parent,
        child,
        weight,
        cmd,
        acct,
        ws_only,
    }
}

const MPCMDRUN_SIG: &str = "\"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MpCmdRun.exe\" SignaturesUpdateService -ScheduleJob -UnmanagedUpdate";
const MPCMDRUN_WD: &str = "\"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MpCmdRun.exe\" -wdenable";
const SEARCH_PROTO: &str = "\"C:\\Windows\\system32\\SearchProtocolHost.exe\" Global\\UsGthrFltPipeMssGthrPipe5_ Global\\UsGthrCtrlFltPipeMssGthrPipe5 1 -2147483646 \"Software\\Microsoft\\Windows Search\" \"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)\" \"C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc\" \"DownLevelDaemon\" ";
const SEARCH_FILTER: &str =
    "\"C:\\Windows\\system32\\SearchFilterHost.exe\" 0 824 828 836 8192 832 808 ";

const SYS_SPAWNS: &[Spawn] = &[
    sp(
        P::Services,
        Img::Svchost,
        120,
        CmdT::Svchost,
        AcctT::System,
        false,
    ),
    sp(
        P::SvcDcom,
        Img::WmiPrvSE,
        60,
        CmdT::S(r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding"),
        AcctT::System,
        false,
    ),
    sp(
        P::SvcDcom,
        Img::Dllhost,
        50,
        CmdT::S(
            r"C:\Windows\system32\DllHost.exe /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}",
        ),
        AcctT::System,
        false,
    ),
    sp(
        P::MsMpEng,
        Img::MpCmdRun,
        25,
        CmdT::S(MPCMDRUN_SIG),
        AcctT::System,
        false,
    ),
    sp(
        P::MsMpEng,
        Img::MpCmdRun,
        10,
        CmdT::S(MPCMDRUN_WD),
        AcctT::System,
        false,
    ),
    sp(
        P::MsSense,
        Img::SenseCncProxy,
        40,
        CmdT::S(
            "\"C:\\Program Files\\Windows Defender Advanced Threat Protection\\SenseCncProxy.exe\"",
        ),
        AcctT::System,
        false,
    ),
    sp(
        P::SearchIndexer,
        Img::SearchProtocolHost,
        120,
        CmdT::S(SEARCH_PROTO),
        AcctT::System,
        true,
    ),
    sp(
        P::SearchIndexer,
        Img::SearchFilterHost,
        110,
        CmdT::S(SEARCH_FILTER),
        AcctT::System,
        true,
    ),
    sp(
        P::SvcNetsvcs,
        Img::CompatTelRunner,
        8,
        CmdT::S(r"C:\Windows\system32\compattelrunner.exe -maintenance"),
        AcctT::System,
        false,
    ),
    sp(
        P::SvcNetsvcs,
        Img::MoUsoCoreWorker,
        15,
        CmdT::S(r"C:\Windows\System32\mousocoreworker.exe -Embedding"),
        AcctT::System,
        false,
    ),
    sp(
        P::SvcNetsvcs,
        Img::Sihclient,
        5,
        CmdT::S(r"C:\Windows\System32\sihclient.exe  /cv yY3F8o5/2UaO4x1m.0.2"),
        AcctT::System,
        false,
    ),
    sp(
        P::Services,
        Img::TrustedInstaller,
        4,
        CmdT::S(r"C:\Windows\servicing\TrustedInstaller.exe"),
        AcctT::System,
        false,
    ),
    sp(
        P::Services,
        Img::Msiexec,
        4,
        CmdT::S(r"C:\Windows\system32\msiexec.exe /V"),
        AcctT::System,
        false,
    ),
    sp(
        P::SvcSchedule,
        Img::Cmd,
        20,
        CmdT::SchedCmd,
        AcctT::System,
        false,
    ),
    sp(
        P::SvcSchedule,
        Img::GoogleUpdate,
        8,
        CmdT::S(
            "\"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe\" /ua /installsource scheduler",
        ),
        AcctT::System,
        true,
    ),
    sp(
        P::SvcSchedule,
        Img::ClickToRun,
        4,
        CmdT::S(
            "\"C:\\Program Files\\Common Files\\microsoft shared\\ClickToRun\\OfficeClickToRun.exe\" /frequentupdate SCHEDULEDTASK displaylevel=False",
        ),
        AcctT::System,
        true,
    ),
    sp(
        P::IntuneExt,
        Img::IntuneAgent,
        6,
        CmdT::S(
            "\"C:\\Program Files (x86)\\Microsoft Intune Management Extension\\AgentExecutor.exe\" -remediationScript \"C:\\Windows\\IMECache\\HealthScripts\\5d3f2a1c-7b8e-4f60-9a41-2c7e8d9b0f13_3\\detect.ps1\" \"C:\\Windows\\IMECache\\HealthScripts\\5d3f2a1c-7b8e-4f60-9a41-2c7e8d9b0f13_3\" 3600 \"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" 0 \"\" false",
        ),
        AcctT::System,
        true,
    ),
    sp(
        P::IntuneExt,
        Img::PowerShell,
        6,
        CmdT::IntunePs,
        AcctT::System,
        true,
    ),
    sp(
        P::SvcDcom,
        Img::WerFault,
        3,
        CmdT::WerFault,
        AcctT::System,
        false,
    ),
    sp(
        P::Sqlservr,
        Img::Cmd,
        2,
        CmdT::S(
            "cmd.exe /c \"C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlmaint.cmd\"",
        ),
        AcctT::Parent,
        false,
    ),
    sp(
        P::Dfsrs,
        Img::Conhost,
        1,
        CmdT::S(r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1"),
        AcctT::System,
        false,
    ),
];

const USER_SPAWNS: &[Spawn] = &[
    sp(
        P::Chrome,
        Img::Chrome,
        300,
        CmdT::ChromeRenderer,
        AcctT::User,
        true,
    ),
    sp(
        P::Chrome,
        Img::Chrome,
        60,
        CmdT::ChromeUtility,
        AcctT::User,
        true,
    ),
    sp(
        P::Edge,
        Img::Edge,
        220,
        CmdT::EdgeRenderer,
        AcctT::User,
        true,
    ),
    sp(
        P::Teams,
        Img::WebView2,
        160,
        CmdT::TeamsWebView,
        AcctT::User,
        true,
    ),
    sp(
        P::Outlook,
        Img::WebView2,
        40,
        CmdT::OutlookWebView,
        AcctT::User,
        true,
    ),
    sp(
        P::SvcDcom,
        Img::RuntimeBroker,
        60,
        CmdT::S(r"C:\Windows\System32\RuntimeBroker.exe -Embedding"),
        AcctT::User,
        true,
    ),
    sp(
        P::SvcDcom,
        Img::BackgroundTaskHost,
        50,
        CmdT::S(
            "\"C:\\Windows\\system32\\backgroundTaskHost.exe\" -ServerName:BackgroundTaskHost.WebAccountProvider",
        ),
        AcctT::User,
        true,
    ),
    sp(
        P::SvcDcom,
        Img::Smartscreen,
        12,
        CmdT::S(r"C:\Windows\System32\smartscreen.exe -Embedding"),
        AcctT::User,
        true,
    ),
    sp(
        P::SvcSchedule,
        Img::Taskhostw,
        15,
        CmdT::S("taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly"),
        AcctT::User,
        true,
    ),
    sp(
        P::Explorer,
        Img::Notepad,
        8,
        CmdT::OpenDoc("txt"),
        AcctT::User,
        true,
    ),
    sp(
        P::Explorer,
        Img::Word,
        10,
        CmdT::OpenDoc("docx"),
        AcctT::User,
        true,
    ),
    sp(
        P::Explorer,
        Img::Excel,
        10,
        CmdT::OpenDoc("xlsx"),
        AcctT::User,
        true,
    ),
    sp(
        P::Explorer,
        Img::PowerPoint,
        4,
        CmdT::OpenDoc("pptx"),
        AcctT::User,
        true,
    ),
    sp(
        P::Explorer,
        Img::Acrobat,
        6,
        CmdT::OpenDoc("pdf"),
        AcctT::User,
        true,
    ),
    sp(
        P::Outlook,
        Img::Acrobat,
        8,
        CmdT::OutlookAttachment,
        AcctT::User,
        true,
    ),
    sp(
        P::Explorer,
        Img::Cmd,
        3,
        CmdT::S("\"C:\\Windows\\system32\\cmd.exe\" "),
        AcctT::User,
        true,
    ),
    sp(
        P::Explorer,
        Img::PowerShell,
        2,
        CmdT::S("\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" "),
        AcctT::User,
        true,
    ),
    sp(
        P::Explorer,
        Img::Chrome,
        5,
        CmdT::S("\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\""),
        AcctT::User,
        true,
    ),
    sp(P::Code, Img::Git, 60, CmdT::Git, AcctT::User, true),
    sp(P::Code, Img::Node, 20, CmdT::Node, AcctT::User, true),
    sp(
        P::Code,
        Img::PowerShell,
        5,
        CmdT::S(
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -noexit -command \"try { . \\\"c:\\Program Files\\Microsoft VS Code\\resources\\app\\out\\vs\\workbench\\contrib\\terminal\\common\\scripts\\shellIntegration.ps1\\\" } catch {}\"",
        ),
        AcctT::User,
        true,
    ),
];

/// Pre-built weighted choices shared by the generators.
struct Tabs {
    sys_spawn: Weighted,
    user_spawn: Weighted,
    net_sys: Weighted,
    net_user: Weighted,
    file_sys: Weighted,
    file_user: Weighted,
    reg_sys: Weighted,
    reg_user: Weighted,
    img_sys: Weighted,
    img_user: Weighted,
}

const NET_SYS: &[(P, u64)] = &[
    (P::SvcNetsvcs, 20),
    (P::SvcNetwork, 15),
    (P::MsSense, 20),
    (P::MsMpEng, 8),
    (P::System, 12),
    (P::IntuneExt, 4),
    (P::Lsass, 6),
    (P::Sqlservr, 40),
    (P::W3wp, 50),
    (P::Dns, 40),
    (P::Dfsrs, 5),
    (P::AdWs, 5),
];
const NET_USER: &[(P, u64)] = &[
    (P::Chrome, 35),
    (P::Edge, 30),
    (P::Teams, 20),
    (P::Outlook, 12),
    (P::OneDrive, 10),
    (P::Word, 2),
    (P::Excel, 2),
    (P::Code, 6),
    (P::Explorer, 3),
];
const FILE_SYS: &[(P, u64)] = &[
    (P::SvcNetsvcs, 20),
    (P::SvcLocal, 5),
    (P::MsMpEng, 15),
    (P::MsSense, 10),
    (P::SearchIndexer, 10),
    (P::SvcSchedule, 5),
    (P::System, 12),
    (P::IntuneExt, 5),
    (P::Sqlservr, 10),
    (P::W3wp, 10),
];
const FILE_USER: &[(P, u64)] = &[
    (P::Chrome, 20),
    (P::Edge, 15),
    (P::Outlook, 15),
    (P::Word, 12),
    (P::Excel, 12),
    (P::OneDrive, 15),
    (P::Explorer, 8),
    (P::Teams, 8),
    (P::Code, 10),
];
const REG_SYS: &[(P, u64)] = &[
    (P::SvcNetsvcs, 25),
    (P::SvcLocal, 10),
    (P::SvcDcom, 5),
    (P::MsMpEng, 10),
    (P::MsSense, 10),
    (P::Services, 10),
    (P::IntuneExt, 5),
    (P::SvcSchedule, 5),
];
const REG_USER: &[(P, u64)] = &[
    (P::Explorer, 30),
    (P::Chrome, 5),
    (P::Edge, 8),
    (P::Outlook, 15),
    (P::Word, 8),
    (P::Excel, 8),
    (P::Teams, 10),
    (P::OneDrive, 10),
    (P::Sihost, 5),
];
const IMG_SYS: &[(P, u64)] = &[
    (P::SvcNetsvcs, 15),
    (P::SvcDcom, 10),
    (P::MsMpEng, 10),
    (P::MsSense, 10),
    (P::SearchIndexer, 10),
    (P::Services, 5),
    (P::IntuneExt, 5),
    (P::Sqlservr, 10),
    (P::W3wp, 10),
];
const IMG_USER: &[(P, u64)] = &[
    (P::Chrome, 25),
    (P::Edge, 20),
    (P::Teams, 15),
    (P::Outlook, 10),
    (P::Word, 8),
    (P::Excel, 8),
    (P::Explorer, 10),
    (P::OneDrive, 5),
    (P::Code, 5),
];

impl Tabs {
    fn new() -> Self {
        let w = |l: &[(P, u64)]| Weighted::new(l.iter().map(|x| x.1));
        Tabs {
            sys_spawn: Weighted::new(SYS_SPAWNS.iter().map(|s| s.weight)),
            user_spawn: Weighted::new(USER_SPAWNS.iter().map(|s| s.weight)),
            net_sys: w(NET_SYS),
            net_user: w(NET_USER),
            file_sys: w(FILE_SYS),
            file_user: w(FILE_USER),
            reg_sys: w(REG_SYS),
            reg_user: w(REG_USER),
            img_sys: w(IMG_SYS),
            img_user: w(IMG_USER),
        }
    }
}

/// Picks an initiating process of the device from a weighted list (a few tries, then the
/// first present of `fallback`).
fn pick_proc<'c>(
    r: &mut Rng,
    ctx: &'c Ctx,
    t: i64,
    list: &[(P, u64)],
    weights: &Weighted,
    fallback: &[P],
) -> Option<&'c Proc> {
    for _ in 0..4 {
        let k = list.get(weights.pick(r)).map(|x| x.0)?;
        if let Some(p) = ctx.alive(k, t) {
            return Some(p);
        }
    }
    ctx.first_alive(fallback, t)
}

fn child_cmd(g: &mut Gen, ctx: &Ctx, w: &World, cmd: CmdT) {
    let r = &mut g.r;
    let out = &mut g.buf;
    out.clear();
    let sam = ctx.user(w).map_or("user", |u| u.sam.as_str());
    match cmd {
        CmdT::S(s) => out.push_str(s),
        CmdT::Svchost => host::svchost_cmd(out, r),
        CmdT::ChromeRenderer => {
            let _ = write!(
                out,
                "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=renderer --lang=en-US --device-scale-factor=1.25 --num-raster-threads=4 --enable-main-frame-before-activation --renderer-client-id={} --launch-time-ticks={} --field-trial-handle=1916,i,{},{},262144 /prefetch:1",
                5 + r.below(400),
                r.below(900_000_000_000),
                r.next_u64() >> 1,
                r.next_u64() >> 1
            );
        }
        CmdT::ChromeUtility => {
            let _ = write!(
                out,
                "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none --field-trial-handle=1916,i,{},{},262144 --mojo-platform-channel-handle={} /prefetch:11",
                r.next_u64() >> 1,
                r.next_u64() >> 1,
                2000 + r.below(2000)
            );
        }
        CmdT::EdgeRenderer => {
            let _ = write!(
                out,
                "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" --type=renderer --lang=en-US --js-flags=--ms-user-locale= --device-scale-factor=1.25 --num-raster-threads=4 --renderer-client-id={} --launch-time-ticks={} --mojo-platform-channel-handle={} /prefetch:1",
                5 + r.below(400),
                r.below(900_000_000_000),
                3000 + r.below(4000)
            );
        }
        CmdT::TeamsWebView => {
            let _ = write!(
                out,
                "\"C:\\Program Files (x86)\\Microsoft\\EdgeWebView\\Application\\131.0.2903.70\\msedgewebview2.exe\" --type=renderer --noerrdialogs --user-data-dir=\"C:\\Users\\{sam}\\AppData\\Local\\Packages\\MSTeams_8wekyb3d8bbwe\\LocalCache\\Microsoft\\MSTeams\\EBWebView\" --webview-exe-name=ms-teams.exe --embedded-browser-webview=1 --renderer-client-id={} /prefetch:1",
                5 + r.below(200)
            );
        }
        CmdT::OutlookWebView => {
            let _ = write!(
                out,
                "\"C:\\Program Files (x86)\\Microsoft\\EdgeWebView\\Application\\131.0.2903.70\\msedgewebview2.exe\" --embedded-browser-webview=1 --webview-exe-name=OUTLOOK.EXE --user-data-dir=\"C:\\Users\\{sam}\\AppData\\Local\\Microsoft\\Olk\\EBWebView\" --noerrdialogs --mojo-named-platform-channel-pipe={}.{}",
                1000 + r.below(30000),
                r.below(1_000_000_000)
            );
        }
        CmdT::OpenDoc(ext) => {
            let doc = doc_of(ctx, w, r, ext);
            let def = w.image(match ext {
                "docx" => Img::Word,
                "xlsx" => Img::Excel,
                "pptx" => Img::PowerPoint,
                "pdf" => Img::Acrobat,
                _ => Img::Notepad,
            });
            let _ = write!(
                out,
                "\"{}\" \"C:\\Users\\{sam}\\OneDrive - Contoso\\Documents\\{doc}\"",
                def.def.path
            );
        }
        CmdT::OutlookAttachment => {
            let doc = doc_of(ctx, w, r, "pdf");
            let _ = write!(
                out,
                "\"C:\\Program Files\\Adobe\\Acrobat DC\\Acrobat\\Acrobat.exe\" \"C:\\Users\\{sam}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\{}\\{doc}\"",
                outlook_cache_dir(r)
            );
        }
        CmdT::Git => {
            let sub = r.pick_str(&[
                "status -z -uall",
                "fetch",
                "rev-parse --show-toplevel",
                "log --oneline -n 20",
                "diff --stat",
                "pull --ff-only",
            ]);
            let _ = write!(out, "\"C:\\Program Files\\Git\\cmd\\git.exe\" {sub}");
        }
        CmdT::Node => {
            let _ = write!(
                out,
                "\"C:\\Program Files\\nodejs\\node.exe\" C:\\Users\\{sam}\\source\\repos\\contoso-web\\node_modules\\.bin\\..\\{}",
                r.pick_str(&[
                    "jest\\bin\\jest.js",
                    "vite\\bin\\vite.js",
                    "eslint\\bin\\eslint.js",
                    "typescript\\bin\\tsc"
                ])
            );
        }
        CmdT::IntunePs => {
            let script = r.pick_str(&[
                "Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion' | Select-Object ProductName, DisplayVersion | ConvertTo-Json -Compress",
                "Get-CimInstance -ClassName Win32_BIOS | Select-Object SerialNumber, SMBIOSBIOSVersion | ConvertTo-Json -Compress",
                "if ((Get-BitLockerVolume -MountPoint 'C:').ProtectionStatus -eq 'On') { exit 0 } else { exit 1 }",
            ]);
            let _ = write!(
                out,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand {}",
                powershell_encoded(script)
            );
        }
        CmdT::SchedCmd => {
            let s = r.pick_str(&[
                "C:\\Windows\\system32\\cmd.exe /c \"C:\\ProgramData\\Contoso\\Scripts\\inventory.cmd\"",
                "C:\\Windows\\system32\\cmd.exe /d /c C:\\Windows\\system32\\silcollector.cmd publish",
                "C:\\Windows\\system32\\cmd.exe /c \"C:\\ProgramData\\Contoso\\Scripts\\map-drives.cmd\"",
            ]);
            out.push_str(s);
        }
        CmdT::WerFault => {
            let _ = write!(
                out,
                "C:\\Windows\\system32\\WerFault.exe -u -p {} -s {}",
                r.range(1000, 9000) * 4,
                r.range(100, 2000)
            );
        }
    }
}

fn doc_of<'w>(ctx: &Ctx, w: &'w World, r: &mut Rng, ext: &str) -> &'w str {
    let docs = ctx.user(w).map(|u| u.docs.as_slice()).unwrap_or(&[]);
    let start = r.index(docs.len().max(1));
    if ext == "."
        && let Some(d) = docs.get(start)
    {
        return d;
    }
    for i in 0..docs.len() {
        if let Some(d) = docs.get((start + i) % docs.len())
            && d.ends_with(ext)
        {
            return d;
        }
    }
    match ext {
        "docx" => "Document1.docx",
        "xlsx" => "Book1.xlsx",
        "pptx" => "Presentation1.pptx",
        "pdf" => "Scan_0001.pdf",
        _ => "notes.txt",
    }
}

fn outlook_cache_dir(r: &mut Rng) -> &'static str {
    r.pick_str(&["8Q2ZK1LM", "RT7W0ZPA", "B3N9X6QD", "ZK4C1Y8E"])
}

#[allow(clippy::too_many_arguments)]
fn process_event(
    g: &mut Gen,
    tabs: &Tabs,
    s: &mut Sink,
    ctx: &Ctx,
    dev: &Device,
    t: i64,
    user: bool,
    seq: &mut u64,
) {
    let w = g.w;
    let (list, weights) = if user {
        (USER_SPAWNS, &tabs.user_spawn)
    } else {
        (SYS_SPAWNS, &tabs.sys_spawn)
    };
    let mut chosen: Option<(&Spawn, &Proc)> = None;
    for _ in 0..4 {
        let Some(sp) = list.get(weights.pick(&mut g.r)) else {
            break;
        };
        if sp.ws_only && dev.is_server() {
            continue;
        }
        if let Some(p) = ctx.alive(sp.parent, t) {
            chosen = Some((sp, p));
            break;
        }
    }
    let (sp, parent) = match chosen {
        Some(c) => c,
        None => match (SYS_SPAWNS.first(), ctx.alive(P::Services, t)) {
            (Some(sp), Some(p)) => (sp, p),
            _ => return,
        },
    };
    let acct = match sp.acct {
        AcctT::System => Acct::System,
        AcctT::User => ctx.user.map_or(parent.acct, Acct::User),
        AcctT::Parent => parent.acct,
    };
    let (integrity, elevation) = match acct {
        Acct::User(_) => ("Medium", "TokenElevationTypeLimited"),
        _ if sp.acct == AcctT::Parent => (parent.integrity, parent.elevation),
        _ => ("System", "TokenElevationTypeDefault"),
    };
    child_cmd(g, ctx, w, sp.cmd);
    let pid = g.r.range(250, 10_000) * 4;
    let cmd = std::mem::take(&mut g.buf);
    let child = Proc {
        img: sp.child,
        pid,
        cmd,
        created: t,
        acct,
        integrity,
        elevation,
        logon_id: match acct {
            Acct::User(_) => ctx.logon_id,
            _ => parent.logon_id,
        },
        session: if matches!(acct, Acct::User(_)) { 1 } else { 0 },
        parent_img: parent.img,
        parent_pid: parent.pid,
        parent_created: parent.created,
    };
    write_process(s, w, ctx, dev, t, seq, parent, &child);
    // Console programs get their console host.
    if matches!(sp.child, Img::Cmd | Img::PowerShell) {
        let t2 = t + g.r.range(2_000_000, 40_000_000);
        if ctx.in_window(t2) {
            let conhost = Proc {
                img: Img::Conhost,
                pid: g.r.range(250, 10_000) * 4,
                cmd: r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1".to_string(),
                created: t2,
                acct,
                integrity,
                elevation,
                logon_id: child.logon_id,
                session: child.session,
                parent_img: child.img,
                parent_pid: child.pid,
                parent_created: child.created,
            };
            write_process(s, w, ctx, dev, t2, seq, &child, &conhost);
        }
    }
    g.buf = child.cmd;
}

/// One `ProcessCreated` row: `parent` creates `child`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_process(
    s: &mut Sink,
    w: &World,
    ctx: &Ctx,
    dev: &Device,
    t: i64,
    seq: &mut u64,
    parent: &Proc,
    child: &Proc,
) {
    let c = s.c;
    head(s, dev, t, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    s.s(c.ActionType, "ProcessCreated");
    file_of(s, w, child.img);
    version_info(s, w, child.img);
    s.l(c.ProcessId, child.pid);
    s.s(c.ProcessCommandLine, &child.cmd);
    s.s(c.ProcessIntegrityLevel, child.integrity);
    s.s(c.ProcessTokenElevation, child.elevation);
    s.t(c.ProcessCreationTime, child.created);
    let (dom, name, sid, upn, oid) = account(w, child.acct);
    s.s(c.AccountDomain, dom);
    s.s(c.AccountName, name);
    s.s(c.AccountSid, sid);
    s.so(c.AccountUpn, upn);
    s.so(c.AccountObjectId, oid);
    s.l(c.LogonId, child.logon_id);
    initiating(s, w, parent);
    s.end();
}

// ---------------------------------------------------------------------------------------
// Network connections

#[allow(clippy::too_many_arguments)]
fn network_event(
    g: &mut Gen,
    tabs: &Tabs,
    s: &mut Sink,
    ctx: &Ctx,
    dev: &Device,
    t: i64,
    user: bool,
    seq: &mut u64,
) {
    let w = g.w;
    let (list, weights) = if user {
        (NET_USER, &tabs.net_user)
    } else {
        (NET_SYS, &tabs.net_sys)
    };
    let Some(p) = pick_proc(&mut g.r, ctx, t, list, weights, &[P::Edge, P::SvcNetsvcs]) else {
        return;
    };
    let r = &mut g.r;
    let c = s.c;
    let ms = |k: usize| w.ms.get(k);
    // (remote ip, port, url, inbound)
    let mut inbound = false;
    let mut remote_ip: &str = "";
    let mut url: &str = "";
    let mut port = 443;
    let mut protocol = "Tcp";
    let mut public = true;
    let mut buf_ip = false;
    let peer = |r: &mut Rng| peer_ws(w, r, dev);
    match p.img {
        Img::Chrome | Img::Edge => {
            let svc = if r.chance(0.8) {
                w.web.get(r.index(w.web.len()))
            } else {
                ms(*r
                    .pick(&[MS_SHAREPOINT, MS_LOGIN, MS_OUTLOOK])
                    .unwrap_or(&MS_LOGIN))
            };
            (remote_ip, url) = pick_svc(r, svc);
            if r.chance(0.02) {
                port = 80;
            }
        }
        Img::Teams => {
            let k = if r.chance(0.8) { MS_TEAMS } else { MS_LOGIN };
            (remote_ip, url) = pick_svc(r, ms(k))
        }
        Img::Outlook => {
            let k = if r.chance(0.85) { MS_OUTLOOK } else { MS_LOGIN };
            (remote_ip, url) = pick_svc(r, ms(k))
        }
        Img::OneDrive | Img::Word | Img::Excel => {
            let k = if r.chance(0.8) {
                MS_SHAREPOINT
            } else {
                MS_LOGIN
            };
            (remote_ip, url) = pick_svc(r, ms(k))
        }
        Img::Code => (remote_ip, url) = pick_svc(r, w.web.get(3)),
        Img::MsSense => (remote_ip, url) = pick_svc(r, ms(MS_MDE)),
        Img::MsMpEng => (remote_ip, url) = pick_svc(r, ms(MS_DEFENDER)),
        Img::IntuneExt => (remote_ip, url) = pick_svc(r, ms(MS_LOGIN)),
        Img::Explorer => {
            public = false;
            port = 445;
            remote_ip = w.device(dev.file_server).map_or("", |d| d.ip.as_str());
        }
        Img::System if dev.role == Role::File => {
            public = false;
            inbound = true;
            port = 445;
            remote_ip = peer(r).ip.as_str();
        }
        Img::System => {
            public = false;
            port = 445;
            remote_ip = w.device(dev.file_server).map_or("", |d| d.ip.as_str());
        }
        Img::Lsass if dev.role == Role::Dc => {
            public = false;
            inbound = true;
            port = *r.pick(&[88, 389, 445, 135, 49664]).unwrap_or(&389);
            remote_ip = peer(r).ip.as_str();
        }
        Img::Lsass => {
            public = false;
            port = *r.pick(&[88, 389]).unwrap_or(&389);
            remote_ip = w.device(dev.dc).map_or("", |d| d.ip.as_str());
        }
        Img::Sqlservr => {
            public = false;
            inbound = true;
            port = 1433;
            let peer = w
                .servers
                .get(r.index(w.servers.len()))
                .and_then(|&i| w.device(i))
                .unwrap_or(dev);
            remote_ip = peer.ip.as_str();
        }
        Img::W3wp if dev.internet_facing => {
            inbound = true;
            buf_ip = true;
            g.buf.clear();
            let _ = write!(
                g.buf,
                "{}.{}.{}.{}",
                r.pick(&[73u64, 98, 24, 81, 92, 176, 185, 5]).unwrap_or(&73),
                r.below(256),
                r.below(256),
                1 + r.below(254)
            );
        }
        Img::W3wp => {
            public = false;
            inbound = true;
            remote_ip = peer(r).ip.as_str();
        }
        Img::Dns => {
            public = false;
            inbound = true;
            port = 53;
            protocol = "Udp";
            remote_ip = peer(r).ip.as_str();
        }
        Img::Dfsrs | Img::AdWs => {
            public = false;
            inbound = true;
            port = if p.img == Img::AdWs { 9389 } else { 5722 };
            remote_ip = peer(r).ip.as_str();
        }
        _ => {
            // svchost: updates, telemetry, or the domain controller.
            if r.chance(0.25) {
                public = false;
                port = *r.pick(&[389, 88, 135, 445]).unwrap_or(&389);
                remote_ip = w.device(dev.dc).map_or("", |d| d.ip.as_str());
            } else {
                let k = if r.chance(0.5) {
                    MS_UPDATE
                } else {
                    MS_TELEMETRY
                };
                (remote_ip, url) = pick_svc(r, ms(k));
            }
        }
    }
    let action = if inbound {
        "InboundConnectionAccepted"
    } else {
        let x = r.unit();
        if x < 0.93 {
            "ConnectionSuccess"
        } else if x < 0.97 {
            "ConnectionFailed"
        } else if x < 0.99 {
            "ConnectionAttempt"
        } else {
            "ConnectionRequest"
        }
    };
    let ephemeral = 49_152 + r.below(16_000) as i32;
    head(s, dev, t, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    s.s(c.ActionType, action);
    if buf_ip {
        s.s(c.RemoteIP, &g.buf);
    } else {
        s.so(c.RemoteIP, remote_ip);
    }
    if inbound {
        s.i(c.RemotePort, ephemeral);
        s.i(c.LocalPort, port);
    } else {
        s.i(c.RemotePort, port);
        s.i(c.LocalPort, ephemeral);
        if !url.is_empty() {
            s.s(c.RemoteUrl, url);
        }
    }
    s.s(c.LocalIP, &dev.ip);
    s.s(c.Protocol, protocol);
    s.s(c.LocalIPType, "Private");
    s.s(c.RemoteIPType, if public { "Public" } else { "Private" });
    initiating(s, w, p);
    s.end();
}

fn pick_svc<'a>(r: &mut Rng, svc: Option<&'a Svc>) -> (&'a str, &'a str) {
    match svc {
        Some(svc) => (
            svc.ips
                .get(r.index(svc.ips.len()))
                .map_or("", |s| s.as_str()),
            svc.hosts
                .get(r.index(svc.hosts.len()))
                .copied()
                .unwrap_or(""),
        ),
        None => ("", ""),
    }
}

fn peer_ws<'w>(w: &'w World, r: &mut Rng, dflt: &'w Device) -> &'w Device {
    let i = w
        .workstations
        .get(r.index(w.workstations.len()))
        .copied()
        .unwrap_or(usize::MAX);
    w.device(i).unwrap_or(dflt)
}

// ---------------------------------------------------------------------------------------
// Files

#[allow(clippy::too_many_arguments)]
fn file_event(
    g: &mut Gen,
    tabs: &Tabs,
    s: &mut Sink,
    ctx: &Ctx,
    dev: &Device,
    t: i64,
    user: bool,
    seq: &mut u64,
) {
    let w = g.w;
    let (list, weights) = if user {
        (FILE_USER, &tabs.file_user)
    } else {
        (FILE_SYS, &tabs.file_sys)
    };
    let Some(p) = pick_proc(&mut g.r, ctx, t, list, weights, &[P::SvcNetsvcs]) else {
        return;
    };
    let c = s.c;
    let sam = ctx.user(w).map_or("user", |u| u.sam.as_str());
    let x = g.r.unit();
    let mut action = if x < 0.55 {
        "FileCreated"
    } else if x < 0.85 {
        "FileModified"
    } else if x < 0.95 {
        "FileDeleted"
    } else {
        "FileRenamed"
    };
    head(s, dev, t, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    let mut size = g.r.range(1_000, 2_000_000);
    // (file name, folder path written in buf)
    g.buf.clear();
    let name: &str;
    match p.img {
        Img::Chrome | Img::Edge => {
            let doc = doc_of(ctx, w, &mut g.r, ".");
            name = doc;
            action = if x < 0.75 {
                "FileCreated"
            } else {
                "FileRenamed"
            };
            let _ = write!(g.buf, "C:\\Users\\{sam}\\Downloads\\{doc}");
            let svc = w.web.get(g.r.index(w.web.len()));
            if let Some(svc) = svc {
                let host = svc.hosts.first().copied().unwrap_or("");
                s.f(
                    c.FileOriginUrl,
                    format_args!("https://{host}/download/{}", doc.replace(' ', "%20")),
                );
                s.f(c.FileOriginReferrerUrl, format_args!("https://{host}/"));
                s.so(c.FileOriginIP, svc.ips.first().map_or("", |s| s.as_str()));
            }
            if action == "FileRenamed" {
                s.f(c.PreviousFileName, format_args!("{doc}.crdownload"));
                s.f(
                    c.PreviousFolderPath,
                    format_args!("C:\\Users\\{sam}\\Downloads\\{doc}.crdownload"),
                );
            }
        }
        Img::Outlook => {
            let doc = doc_of(ctx, w, &mut g.r, ".");
            name = doc;
            let dir = outlook_cache_dir(&mut g.r);
            let _ = write!(
                g.buf,
                "C:\\Users\\{sam}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\{dir}\\{doc}"
            );
        }
        Img::Word | Img::Excel | Img::OneDrive => {
            let doc = doc_of(
                ctx,
                w,
                &mut g.r,
                if p.img == Img::Excel { "xlsx" } else { "." },
            );
            if p.img != Img::OneDrive && g.r.chance(0.3) {
                // Office's owner file next to an open document.
                g.buf.push_str("~$");
                g.buf.push_str(doc.get(2..).unwrap_or(doc));
                let owner = g.buf.clone();
                g.buf.clear();
                let _ = write!(
                    g.buf,
                    "C:\\Users\\{sam}\\OneDrive - Contoso\\Documents\\{owner}"
                );
                s.s(c.FileName, &owner);
                s.s(c.FolderPath, &g.buf);
                size = 162;
                g.write_hashes(s, &owner, true);
                name = "";
            } else {
                name = doc;
                let _ = write!(
                    g.buf,
                    "C:\\Users\\{sam}\\OneDrive - Contoso\\Documents\\{doc}"
                );
                if g.r.chance(0.1) {
                    s.s(
                        c.SensitivityLabel,
                        if g.r.chance(0.5) {
                            "Confidential"
                        } else {
                            "General"
                        },
                    );
                    s.b(c.IsAzureInfoProtectionApplied, true);
                }
            }
        }
        Img::Explorer => {
            let doc = doc_of(ctx, w, &mut g.r, ".");
            action = "FileCreated";
            size = g.r.range(700, 1_500);
            // The shortcut, with the shortcut's own hashes.
            let lnk = format!("{doc}.lnk");
            let _ = write!(
                g.buf,
                "C:\\Users\\{sam}\\AppData\\Roaming\\Microsoft\\Windows\\Recent\\{lnk}"
            );
            s.s(c.FileName, &lnk);
            s.s(c.FolderPath, &g.buf);
            g.write_hashes(s, &lnk, true);
            name = "";
        }
        Img::Teams => {
            name = g.r.pick_str(&[
                "Local State",
                "Preferences",
                "data_1",
                "index",
                "000003.log",
            ]);
            let _ = write!(
                g.buf,
                "C:\\Users\\{sam}\\AppData\\Local\\Packages\\MSTeams_8wekyb3d8bbwe\\LocalCache\\Microsoft\\MSTeams\\EBWebView\\Default\\{name}"
            );
        }
        Img::Code => {
            name = g.r.pick_str(&[
                "index.ts",
                "app.tsx",
                "package.json",
                "README.md",
                "server.ts",
                "utils.ts",
                "config.yaml",
            ]);
            let _ = write!(
                g.buf,
                "C:\\Users\\{sam}\\source\\repos\\contoso-web\\src\\{name}"
            );
        }
        Img::MsMpEng => {
            name = g.r.pick_str(&[
                "mpenginedb.db-wal",
                "MpDiag.bin",
                "mpavbase.vdm",
                "mpasdlta.vdm",
                "MpWppTracing-00.bin",
            ]);
            let _ = write!(
                g.buf,
                "C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\{name}"
            );
        }
        Img::MsSense => {
            name = g.r.pick_str(&[
                "SenseCM.cache",
                "CyberData.bin",
                "Tvm.db",
                "NetworkScan.json",
            ]);
            let _ = write!(
                g.buf,
                "C:\\ProgramData\\Microsoft\\Windows Defender Advanced Threat Protection\\Cache\\{name}"
            );
        }
        Img::SearchIndexer => {
            name =
                g.r.pick_str(&["MSS.log", "MSS00012.log", "Windows.edb", "tmp.edb"]);
            let _ = write!(
                g.buf,
                "C:\\ProgramData\\Microsoft\\Search\\Data\\Applications\\Windows\\{name}"
            );
        }
        Img::IntuneExt => {
            name = g.r.pick_str(&[
                "IntuneManagementExtension.log",
                "AgentExecutor.log",
                "HealthScripts.log",
            ]);
            let _ = write!(
                g.buf,
                "C:\\ProgramData\\Microsoft\\IntuneManagementExtension\\Logs\\{name}"
            );
        }
        Img::Sqlservr => {
            name = g.r.pick_str(&[
                "ContosoCRM_log.ldf",
                "ContosoCRM.bak",
                "ERRORLOG",
                "system_health_0_133.xel",
            ]);
            size = g.r.range(1_000_000, 900_000_000);
            let _ = write!(g.buf, "D:\\SQLData\\{name}");
        }
        Img::W3wp => {
            name = g.r.pick_str(&[
                "u_ex241112.log",
                "u_ex241113.log",
                "web.config",
                "Global.asax",
            ]);
            let _ = write!(g.buf, "C:\\inetpub\\logs\\LogFiles\\W3SVC1\\{name}");
        }
        Img::System if dev.role == Role::File => {
            // A user writes to a share over SMB.
            let ws = w
                .workstations
                .get(g.r.index(w.workstations.len()))
                .and_then(|&i| w.device(i));
            let u = ws.and_then(|d| d.user).and_then(|u| w.user(u));
            let share = u
                .and_then(|u| DEPTS.get(u.dept))
                .map_or("Public", |d| d.share);
            let doc = u
                .and_then(|u| u.docs.get(g.r.index(u.docs.len())))
                .map_or("Shared.docx", |s| s.as_str());
            name = doc;
            let _ = write!(g.buf, "D:\\Shares\\{share}\\{doc}");
            s.s(c.RequestProtocol, "SMB");
            if let Some(ws) = ws {
                s.s(c.RequestSourceIP, &ws.ip);
                s.i(c.RequestSourcePort, 49_152 + g.r.below(16_000) as i32);
            }
            if let Some(u) = u {
                s.s(c.RequestAccountName, &u.sam);
                s.s(c.RequestAccountDomain, NETBIOS);
                s.s(c.RequestAccountSid, &u.sid);
            }
            s.s(c.ShareName, share);
        }
        _ => {
            name = g.r.pick_str(&[
                "edb.log",
                "DataStore.edb",
                "ReportingEvents.log",
                "CHROME.EXE-A1B2C3D4.pf",
                "MSEDGE.EXE-5E6F7A8B.pf",
                "OUTLOOK.EXE-9C0D1E2F.pf",
                "wct1A2B.tmp",
                "SRUDB.dat",
            ]);
            let dir = if name.ends_with(".pf") {
                "C:\\Windows\\Prefetch"
            } else if name.starts_with("wct") {
                "C:\\Windows\\Temp"
            } else if name == "SRUDB.dat" {
                "C:\\Windows\\System32\\sru"
            } else {
                "C:\\Windows\\SoftwareDistribution\\DataStore\\Logs"
            };
            let _ = write!(g.buf, "{dir}\\{name}");
        }
    }
    s.s(c.ActionType, action);
    if !name.is_empty() {
        s.s(c.FileName, name);
        s.s(c.FolderPath, &g.buf);
        g.write_hashes(s, name, true);
    }
    if action != "FileDeleted" {
        s.l(c.FileSize, size);
    }
    initiating(s, w, p);
    if p.img == Img::System {
        // SMB writes run in the kernel on behalf of the remote user.
        s.s(c.InitiatingProcessAccountName, "system");
    }
    s.end();
}

// ---------------------------------------------------------------------------------------
// Registry

const HKLM: &str = "HKEY_LOCAL_MACHINE";

#[allow(clippy::too_many_arguments)]
fn registry_event(
    g: &mut Gen,
    tabs: &Tabs,
    s: &mut Sink,
    ctx: &Ctx,
    dev: &Device,
    t: i64,
    user: bool,
    seq: &mut u64,
) {
    let w = g.w;
    let (list, weights) = if user {
        (REG_USER, &tabs.reg_user)
    } else {
        (REG_SYS, &tabs.reg_sys)
    };
    let Some(p) = pick_proc(&mut g.r, ctx, t, list, weights, &[P::SvcNetsvcs]) else {
        return;
    };
    let c = s.c;
    let r = &mut g.r;
    let sid = ctx.user(w).map_or("S-1-5-18", |u| u.sid.as_str());
    let x = r.unit();
    let action = if x < 0.8 {
        "RegistryValueSet"
    } else if x < 0.9 {
        "RegistryKeyCreated"
    } else if x < 0.93 {
        "RegistryKeyDeleted"
    } else {
        "RegistryValueDeleted"
    };
    head(s, dev, t, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    s.s(c.ActionType, action);
    let (key, value, vtype): (&str, &str, &str);
    g.buf.clear();
    let hkcu = matches!(p.acct, Acct::User(_));
    match p.img {
        Img::Explorer | Img::Sihost => {
            (key, value, vtype) = *r
                .pick(&[
                    ("Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs\\.docx", "MRUListEx", "Binary"),
                    ("Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UserAssist\\{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}\\Count", "HRZR_PGYFRFFVBA", "Binary"),
                    ("Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FeatureUsage\\AppSwitched", "Microsoft.Office.OUTLOOK.EXE.15", "Dword"),
                    ("Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\SessionInfo\\1\\ApplicationViewManagement", "VirtualDesktop", "Binary"),
                    ("Software\\Microsoft\\Windows\\CurrentVersion\\CloudStore\\Store\\Cache\\DefaultAccount", "Data", "Binary"),
                ])
                .unwrap_or(&("Software\\Microsoft\\Windows\\CurrentVersion\\Explorer", "ShellState", "Binary"));
        }
        Img::Outlook | Img::Word | Img::Excel => {
            let app = match p.img {
                Img::Outlook => "Outlook",
                Img::Word => "Word",
                _ => "Excel",
            };
            let _ = write!(
                g.buf,
                "Software\\Microsoft\\Office\\16.0\\{app}\\{}",
                r.pick_str(&[
                    "Resiliency\\DocumentRecovery",
                    "Reading Locations\\Document 0",
                    "Security\\Trusted Documents\\TrustRecords",
                    "Options",
                    "Place MRU"
                ])
            );
            key = "";
            (value, vtype) = *r
                .pick(&[
                    ("File Path", "String"),
                    ("Datetime", "String"),
                    ("Position", "String"),
                    ("LastUpdated", "Qword"),
                ])
                .unwrap_or(&("File Path", "String"));
        }
        Img::Teams | Img::OneDrive | Img::Chrome | Img::Edge => {
            (key, value, vtype) = *r
                .pick(&[
                    ("Software\\Microsoft\\OneDrive\\Accounts\\Business1", "LastSignInTime", "Qword"),
                    ("Software\\Microsoft\\Office\\Teams", "LastRunVersion", "String"),
                    ("Software\\Microsoft\\Edge\\BLBeacon", "version", "String"),
                    ("Software\\Google\\Chrome\\BLBeacon", "state", "Dword"),
                    ("Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections", "SavedLegacySettings", "Binary"),
                ])
                .unwrap_or(&("Software\\Microsoft\\OneDrive", "Version", "String"));
        }
        Img::MsMpEng => {
            (key, value, vtype) = *r
                .pick(&[
                    (
                        "SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates",
                        "SignaturesLastUpdated",
                        "Binary",
                    ),
                    (
                        "SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates",
                        "AVSignatureVersion",
                        "String",
                    ),
                    (
                        "SOFTWARE\\Microsoft\\Windows Defender\\Scan",
                        "LastScanRun",
                        "Binary",
                    ),
                ])
                .unwrap_or(&(
                    "SOFTWARE\\Microsoft\\Windows Defender",
                    "ProductStatus",
                    "Dword",
                ));
        }
        Img::MsSense => {
            (key, value, vtype) = *r
                .pick(&[
                    (
                        "SOFTWARE\\Microsoft\\Windows Advanced Threat Protection\\Status",
                        "LastConnected",
                        "Qword",
                    ),
                    (
                        "SOFTWARE\\Microsoft\\Windows Advanced Threat Protection\\Status",
                        "OnboardingState",
                        "Dword",
                    ),
                    (
                        "SOFTWARE\\Microsoft\\Windows Advanced Threat Protection\\Configuration",
                        "SenseCncProxyTimestamp",
                        "Qword",
                    ),
                ])
                .unwrap_or(&(
                    "SOFTWARE\\Microsoft\\Windows Advanced Threat Protection",
                    "Status",
                    "Dword",
                ));
        }
        Img::IntuneExt => {
            (key, value, vtype) = (
                "SOFTWARE\\Microsoft\\IntuneManagementExtension\\SideCarPolicies\\Scripts\\Execution",
                "LastExecution",
                "String",
            );
        }
        _ => {
            (key, value, vtype) = *r
                .pick(&[
                    ("SYSTEM\\ControlSet001\\Services\\bam\\State\\UserSettings", "\\Device\\HarddiskVolume3\\Windows\\System32\\svchost.exe", "Binary"),
                    ("SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Orchestrator", "LastScanTime", "String"),
                    ("SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan", "Index", "Dword"),
                    ("SYSTEM\\ControlSet001\\Services\\Tcpip\\Parameters\\Interfaces\\{3b1a7c5e-9d2f-4e80-b6a1-0c4d2e8f9a17}", "DhcpIPAddress", "String"),
                    ("SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Group Policy\\State\\Machine", "LastGPOListUpdate", "Qword"),
                    ("SYSTEM\\ControlSet001\\Control\\Session Manager\\Memory Management\\PrefetchParameters", "EnablePrefetcher", "Dword"),
                    ("SOFTWARE\\Microsoft\\SQMClient\\Windows", "LastUpload", "Qword"),
                ])
                .unwrap_or(&("SOFTWARE\\Microsoft\\Windows\\CurrentVersion", "ProgramFilesDir", "String"));
        }
    }
    let key_text = if key.is_empty() { g.buf.as_str() } else { key };
    if hkcu && !key_text.starts_with("SOFTWARE") && !key_text.starts_with("SYSTEM") {
        s.f(
            c.RegistryKey,
            format_args!("HKEY_CURRENT_USER\\{sid}\\{key_text}"),
        );
    } else {
        s.f(c.RegistryKey, format_args!("{HKLM}\\{key_text}"));
    }
    if action.contains("Value") {
        s.s(c.RegistryValueName, value);
        if action == "RegistryValueSet" {
            s.s(c.RegistryValueType, vtype);
            let r = &mut g.r;
            match vtype {
                "Dword" => s.f(c.RegistryValueData, format_args!("{}", r.below(4))),
                "Qword" => s.f(
                    c.RegistryValueData,
                    format_args!("{}", 133_700_000_000_000_000 + r.below(1_000_000_000_000)),
                ),
                "String" => {
                    if value.contains("IPAddress") {
                        s.s(c.RegistryValueData, &dev.ip);
                    } else if value == "File Path" {
                        let sam = ctx.user(w).map_or("user", |u| u.sam.as_str());
                        let doc = doc_of(ctx, w, r, ".");
                        s.f(
                            c.RegistryValueData,
                            format_args!("C:\\Users\\{sam}\\OneDrive - Contoso\\Documents\\{doc}"),
                        );
                    } else if value.contains("Time")
                        || value.contains("Datetime")
                        || value.contains("Execution")
                    {
                        s.f(
                            c.RegistryValueData,
                            format_args!("{}", crate::world::iso_seconds(t)),
                        );
                    } else {
                        s.f(
                            c.RegistryValueData,
                            format_args!(
                                "{}.{}.{}.{}",
                                1 + r.below(30),
                                r.below(10),
                                r.below(9999),
                                r.below(99)
                            ),
                        );
                    }
                }
                _ => {}
            }
        }
    }
    initiating(s, w, p);
    s.end();
}

// ---------------------------------------------------------------------------------------
// Image loads

#[allow(clippy::too_many_arguments)]
fn image_event(
    g: &mut Gen,
    tabs: &Tabs,
    s: &mut Sink,
    ctx: &Ctx,
    dev: &Device,
    t: i64,
    user: bool,
    seq: &mut u64,
) {
    let w = g.w;
    let (list, weights) = if user {
        (IMG_USER, &tabs.img_user)
    } else {
        (IMG_SYS, &tabs.img_sys)
    };
    let Some(p) = pick_proc(&mut g.r, ctx, t, list, weights, &[P::SvcNetsvcs]) else {
        return;
    };
    let r = &mut g.r;
    let special: &[Img] = match p.img {
        Img::Chrome => &[Img::ChromeElf],
        Img::Word => &[Img::Mso, Img::Wwlib],
        Img::Excel | Img::Outlook => &[Img::Mso],
        Img::IntuneExt => &[Img::Clr, Img::Mscoree],
        Img::Sqlservr => &[Img::Sqlmin],
        Img::Teams | Img::Edge => &[Img::D3d11],
        _ => &[],
    };
    let dll = if !special.is_empty() && r.chance(0.3) {
        special.get(r.index(special.len())).copied()
    } else {
        COMMON_DLLS.get(r.index(COMMON_DLLS.len())).copied()
    }
    .unwrap_or(Img::Ntdll);
    head(s, dev, t, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    let c = s.c;
    s.s(c.ActionType, "ImageLoaded");
    file_of(s, w, dll);
    initiating(s, w, p);
    s.end();
}

// ---------------------------------------------------------------------------------------
// Miscellaneous device events

#[allow(clippy::too_many_arguments)]
fn device_event(
    g: &mut Gen,
    _tabs: &Tabs,
    s: &mut Sink,
    ctx: &Ctx,
    dev: &Device,
    t: i64,
    user: bool,
    seq: &mut u64,
) {
    let w = g.w;
    let c = s.c;
    let r = &mut g.r;
    let x = r.unit();
    let sam = ctx.user(w).map_or("user", |u| u.sam.as_str());
    let (action, p) = if user {
        if x < 0.35 {
            (
                "BrowserLaunchedToOpenUrl",
                ctx.first_alive(&[P::Outlook, P::Teams, P::Explorer], t),
            )
        } else if x < 0.6 {
            (
                "GetClipboardData",
                ctx.first_alive(&[P::Teams, P::Word, P::Outlook, P::Explorer], t),
            )
        } else if x < 0.78 {
            ("ShellLinkCreateFileEvent", ctx.alive(P::Explorer, t))
        } else if x < 0.992 {
            ("DpapiAccessed", ctx.first_alive(&[P::Chrome, P::Edge], t))
        } else if x < 0.999 {
            ("SmartScreenUrlWarning", ctx.first_alive(&[P::Edge], t))
        } else {
            ("UsbDriveMounted", ctx.alive(P::System, t))
        }
    } else if x < 0.55 {
        ("DnsQueryResponse", ctx.alive(P::SvcNetwork, t))
    } else if x < 0.75 {
        (
            "NamedPipeEvent",
            ctx.first_alive(&[P::SvcNetsvcs, P::Services], t),
        )
    } else if x < 0.85 {
        ("LdapSearch", ctx.first_alive(&[P::SvcNetsvcs, P::Lsass], t))
    } else if x < 0.92 {
        ("ScheduledTaskUpdated", ctx.alive(P::SvcSchedule, t))
    } else if x < 0.96 {
        (
            "FirewallInboundConnectionBlocked",
            ctx.alive(P::SvcLocal, t),
        )
    } else if x < 0.985 {
        ("AntivirusScanCompleted", ctx.alive(P::MsMpEng, t))
    } else if x < 0.995 {
        ("ProcessCreatedUsingWmiQuery", ctx.alive(P::SvcDcom, t))
    } else {
        ("OpenProcessApiCall", ctx.alive(P::MsSense, t))
    };
    let Some(p) = p.filter(|p| p.created <= t) else {
        return;
    };
    head(s, dev, t, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    s.s(c.ActionType, action);
    match action {
        "BrowserLaunchedToOpenUrl" | "SmartScreenUrlWarning" => {
            let svc = w.web.get(r.index(w.web.len()));
            let host = if action == "SmartScreenUrlWarning" {
                r.pick_str(&[
                    "free-pdf-convert.online",
                    "win-prize-now.top",
                    "cdn-fileshare.xyz",
                ])
            } else {
                svc.and_then(|s| s.hosts.first().copied())
                    .unwrap_or("www.bing.com")
            };
            s.f(c.RemoteUrl, format_args!("https://{host}/{}", r.hex(8)));
            if action == "SmartScreenUrlWarning" {
                s.s(c.AdditionalFields, "{\"Experience\":\"Phishing\"}");
            }
        }
        "ShellLinkCreateFileEvent" => {
            let doc = doc_of(ctx, w, r, ".");
            s.f(c.FileName, format_args!("{doc}.lnk"));
            s.f(
                c.FolderPath,
                format_args!(
                    "C:\\Users\\{sam}\\AppData\\Roaming\\Microsoft\\Windows\\Recent\\{doc}.lnk"
                ),
            );
            s.f(
                c.AdditionalFields,
                format_args!("{{\"ShellLinkWorkingDirectory\":\"C:\\\\Users\\\\{sam}\\\\OneDrive - Contoso\\\\Documents\",\"ShellLinkCommandLineArguments\":\"\"}}"),
            );
        }
        "DpapiAccessed" => {
            s.s(
                c.AdditionalFields,
                "{\"DataDescription\":\"Google Chrome\",\"OperationType\":\"Unprotect\",\"ProtectionFlags\":0}",
            );
        }
        "UsbDriveMounted" => {
            s.s(
                c.AdditionalFields,
                "{\"DriveLetter\":\"E:\",\"BusType\":7,\"ProductName\":\"DataTraveler 3.0\",\"Manufacturer\":\"Kingston\",\"Volume\":\"\\\\Device\\\\HarddiskVolume9\"}",
            );
        }
        "DnsQueryResponse" => {
            let svc = if r.chance(0.5) {
                w.web.get(r.index(w.web.len()))
            } else {
                w.ms.get(r.index(w.ms.len()))
            };
            if let Some(svc) = svc {
                let host = svc
                    .hosts
                    .get(r.index(svc.hosts.len()))
                    .copied()
                    .unwrap_or("");
                let ip = svc.ips.first().map_or("", |s| s.as_str());
                s.f(
                    c.AdditionalFields,
                    format_args!("{{\"DnsQueryString\":\"{host}\",\"DnsQueryResult\":[{{\"DnsQueryType\":1,\"DnsQueryTypeName\":\"A\",\"DnsQueryResultRecord\":\"{ip}\"}}]}}"),
                );
            }
        }
        "NamedPipeEvent" => {
            let pipe = r.pick_str(&[
                "lsarpc",
                "srvsvc",
                "wkssvc",
                "samr",
                "netlogon",
                "PIPE_EVENTROOT\\\\CIMV2SCM EVENT PROVIDER",
            ]);
            s.f(
                c.AdditionalFields,
                format_args!("{{\"DesiredAccess\":1180063,\"FileOperation\":\"File opened\",\"NamedPipeEnd\":\"Client\",\"PipeName\":\"\\\\Device\\\\NamedPipe\\\\{pipe}\",\"RemoteClientsAccess\":\"AcceptRemote\",\"ShareMode\":\"Read, Write\"}}"),
            );
        }
        "LdapSearch" => {
            s.f(
                c.AdditionalFields,
                format_args!("{{\"AttributeList\":[\"objectSid\",\"sAMAccountName\"],\"ScopeOfSearch\":\"SubTree\",\"SearchFilter\":\"(&(objectClass=user)(sAMAccountName={sam}))\",\"DistinguishedName\":\"DC=contoso,DC=com\"}}"),
            );
        }
        "ScheduledTaskUpdated" if !dev.is_server() && r.chance(0.25) => {
            // Per-user updaters registered from the profile.
            let (task, cmd) = *r
                .pick(&[
                    ("ZoomUpdateTaskUser", "AppData\\\\Roaming\\\\Zoom\\\\bin\\\\Zoom.exe"),
                    (
                        "OneDrive Standalone Update Task",
                        "AppData\\\\Local\\\\Microsoft\\\\OneDrive\\\\OneDriveStandaloneUpdater.exe",
                    ),
                ])
                .unwrap_or(&("ZoomUpdateTaskUser", "AppData\\\\Roaming\\\\Zoom\\\\bin\\\\Zoom.exe"));
            let (sid, sam) = ctx
                .user(w)
                .map_or(("", "user"), |u| (u.sid.as_str(), u.sam.as_str()));
            s.f(
                c.AdditionalFields,
                format_args!("{{\"TaskName\":\"\\\\{task}-{sid}\",\"TaskContent\":\"<?xml version=\\\"1.0\\\" encoding=\\\"UTF-16\\\"?><Task version=\\\"1.2\\\"><Triggers><CalendarTrigger><Repetition><Interval>PT4H</Interval></Repetition></CalendarTrigger></Triggers><Principals><Principal id=\\\"Author\\\"><UserId>{sid}</UserId><LogonType>InteractiveToken</LogonType></Principal></Principals><Actions Context=\\\"Author\\\"><Exec><Command>C:\\\\Users\\\\{sam}\\\\{cmd}</Command><Arguments>--update</Arguments></Exec></Actions></Task>\"}}"),
            );
        }
        "ScheduledTaskUpdated" => {
            let task = r.pick_str(&[
                "\\\\Microsoft\\\\Windows\\\\UpdateOrchestrator\\\\Schedule Scan",
                "\\\\Microsoft\\\\Windows\\\\WindowsUpdate\\\\Scheduled Start",
                "\\\\GoogleUpdateTaskMachineUA",
                "\\\\Microsoft\\\\Office\\\\Office Automatic Updates 2.0",
            ]);
            s.f(
                c.AdditionalFields,
                format_args!("{{\"TaskName\":\"{task}\"}}"),
            );
        }
        "FirewallInboundConnectionBlocked" => {
            s.f(
                c.RemoteIP,
                format_args!(
                    "10.{}.{}.{}",
                    20 + r.below(2),
                    10 + r.below(50),
                    10 + r.below(240)
                ),
            );
            s.i(c.RemotePort, 49_152 + r.below(16_000) as i32);
            s.s(c.LocalIP, &dev.ip);
            s.i(
                c.LocalPort,
                *r.pick(&[5353, 137, 1900, 5355]).unwrap_or(&137),
            );
        }
        "AntivirusScanCompleted" => {
            s.s(
                c.AdditionalFields,
                "{\"ScanTypeIndex\":\"Quick\",\"Domain\":\"NT AUTHORITY\",\"User\":\"SYSTEM\"}",
            );
        }
        "ProcessCreatedUsingWmiQuery" => {
            file_of(s, w, Img::WmiPrvSE);
            s.s(c.ProcessCommandLine, "wmiprvse.exe -secured -Embedding");
        }
        "OpenProcessApiCall" => {
            file_of(s, w, Img::Lsass);
            if let Some(l) = ctx.proc(P::Lsass) {
                s.l(c.ProcessId, l.pid);
                s.t(c.ProcessCreationTime, l.created);
            }
            s.s(c.AdditionalFields, "{\"DesiredAccess\":4096}");
        }
        _ => {}
    }
    if action != "UsbDriveMounted" {
        initiating(s, w, p);
    }
    let (dom, name, sid, _, _) = account(w, p.acct);
    s.s(c.AccountDomain, dom);
    s.s(c.AccountName, name);
    s.s(c.AccountSid, sid);
    s.end();
}

// ---------------------------------------------------------------------------------------
// Logons

/// One `DeviceLogonEvents` row.
pub(crate) struct Logon<'a> {
    pub t: i64,
    pub action: &'static str,
    pub logon_type: &'static str,
    pub protocol: &'static str,
    pub acct: Acct,
    /// An account name without a user record (brute-force guesses).
    pub raw_name: Option<&'a str>,
    pub failure: &'static str,
    pub logon_id: i64,
    pub remote: Option<(&'a str, &'a str, bool)>, // (ip, device name, public)
    pub by: Option<&'a Proc>,
}

pub(crate) fn write_logon(
    s: &mut Sink,
    w: &World,
    ctx: &Ctx,
    dev: &Device,
    seq: &mut u64,
    l: &Logon,
) {
    let c = s.c;
    head(s, dev, l.t, report_id(ctx.day, ctx.dev, *seq));
    *seq += 1;
    s.s(c.ActionType, l.action);
    s.s(c.LogonType, l.logon_type);
    if let Some(name) = l.raw_name {
        s.s(c.AccountDomain, &dev.netbios);
        s.s(c.AccountName, name);
    } else {
        let (dom, name, sid, _, _) = account(w, l.acct);
        s.s(c.AccountDomain, dom);
        s.s(c.AccountName, name);
        s.s(c.AccountSid, sid);
    }
    s.so(c.Protocol, l.protocol);
    s.so(c.FailureReason, l.failure);
    if l.action == "LogonSuccess" {
        let admin = match l.acct {
            Acct::User(u) => w.user(u).is_some_and(|u| u.local_admin),
            _ => true,
        };
        s.b(c.IsLocalAdmin, admin);
        s.l(c.LogonId, l.logon_id);
    }
    if let Some((ip, name, public)) = l.remote {
        s.s(c.RemoteIP, ip);
        s.so(c.RemoteDeviceName, name);
        s.s(c.RemoteIPType, if public { "Public" } else { "Private" });
        s.i(
            c.RemotePort,
            if l.logon_type == "RemoteInteractive" {
                3389
            } else {
                0
            },
        );
    }
    if let Some(p) = l.by {
        initiating(s, w, p);
    }
    let local = matches!(l.logon_type, "Interactive" | "Unlock" | "CachedInteractive");
    s.s(
        c.AdditionalFields,
        if local {
            "{\"IsLocalLogon\":true}"
        } else {
            "{\"IsLocalLogon\":false}"
        },
    );
    s.end();
}

fn logons(g: &mut Gen, s: &mut Sink, ctx: &Ctx, dev: &Device, seq: &mut u64) {
    let w = g.w;
    let mut out: Vec<Logon> = Vec::new();
    let day0 = ctx.day * DAY;
    let r = &mut g.r;
    let winlogon = ctx.proc(P::Winlogon);
    let lsass = ctx.proc(P::Lsass);
    let services = ctx.proc(P::Services);
    let sched = ctx.proc(P::SvcSchedule);
    // The user's session.
    if let (Some((s0, s1)), Some(u)) = (ctx.session, ctx.user) {
        if r.chance(0.06) {
            out.push(Logon {
                t: s0 - r.range(5 * SEC, 40 * SEC),
                action: "LogonFailed",
                logon_type: "Interactive",
                protocol: "Negotiate",
                acct: Acct::User(u),
                raw_name: None,
                failure: "InvalidUserNameOrPassword",
                logon_id: 0,
                remote: None,
                by: winlogon,
            });
        }
        out.push(Logon {
            t: s0,
            action: "LogonSuccess",
            logon_type: "Interactive",
            protocol: "Kerberos",
            acct: Acct::User(u),
            raw_name: None,
            failure: "",
            logon_id: ctx.logon_id,
            remote: None,
            by: winlogon,
        });
        for _ in 0..r.range(2, 6) {
            out.push(Logon {
                t: s0 + r.range(HOUR, (s1 - s0).max(HOUR + 1)),
                action: "LogonSuccess",
                logon_type: "Unlock",
                protocol: "Negotiate",
                acct: Acct::User(u),
                raw_name: None,
                failure: "",
                logon_id: ctx.logon_id,
                remote: None,
                by: winlogon,
            });
        }
    }
    // Services and scheduled tasks.
    for _ in 0..r.range(4, 9) {
        let acct = *r
            .pick(&[Acct::System, Acct::LocalService, Acct::NetworkService])
            .unwrap_or(&Acct::System);
        out.push(Logon {
            t: day0 + r.range(0, DAY - 1),
            action: "LogonSuccess",
            logon_type: "Service",
            protocol: "Negotiate",
            acct,
            raw_name: None,
            failure: "",
            logon_id: match acct {
                Acct::LocalService => 997,
                Acct::NetworkService => 996,
                _ => 999,
            },
            remote: None,
            by: services,
        });
    }
    for _ in 0..r.range(2, 5) {
        out.push(Logon {
            t: day0 + r.range(0, DAY - 1),
            action: "LogonSuccess",
            logon_type: "Batch",
            protocol: "Negotiate",
            acct: Acct::System,
            raw_name: None,
            failure: "",
            logon_id: 999,
            remote: None,
            by: sched,
        });
    }
    // Servers: users and services connecting.
    let svc = |name: &str| w.users.iter().position(|u| u.sam == name);
    if dev.is_server() {
        if matches!(dev.role, Role::File | Role::Sql)
            && let Some(b) = svc("svc-backup")
        {
            out.push(Logon {
                t: day0 + HOUR + r.range(0, 10 * MIN),
                action: "LogonSuccess",
                logon_type: "Network",
                protocol: "Kerberos",
                acct: Acct::User(b),
                raw_name: None,
                failure: "",
                logon_id: r.range(0x10_0000, 0x7fff_ffff),
                remote: w
                    .servers
                    .last()
                    .and_then(|&i| w.device(i))
                    .map(|d| (d.ip.as_str(), d.name.as_str(), false)),
                by: lsass,
            });
        }
        if dev.role == Role::Sql
            && let Some(sv) = svc("svc-web")
        {
            for _ in 0..r.range(12, 30) {
                let peer = w
                    .devices
                    .iter()
                    .find(|d| d.role == Role::Web)
                    .unwrap_or(dev);
                out.push(Logon {
                    t: day0 + r.range(0, DAY - 1),
                    action: "LogonSuccess",
                    logon_type: "Network",
                    protocol: "NTLM",
                    acct: Acct::User(sv),
                    raw_name: None,
                    failure: "",
                    logon_id: r.range(0x10_0000, 0x7fff_ffff),
                    remote: Some((peer.ip.as_str(), peer.name.as_str(), false)),
                    by: lsass,
                });
            }
        }
        if matches!(dev.role, Role::File | Role::Dc) {
            for &ws in &w.workstations {
                let Some(wd) = w.device(ws) else {
                    continue;
                };
                let mapped = if dev.role == Role::File {
                    wd.file_server == ctx.dev
                } else {
                    wd.dc == ctx.dev
                };
                if !mapped {
                    continue;
                }
                let (Some((s0, s1)), Some(u)) = (w.session(ws, ctx.day), wd.user) else {
                    continue;
                };
                let n = if dev.role == Role::File {
                    r.range(1, 4)
                } else {
                    1
                };
                for _ in 0..n {
                    out.push(Logon {
                        t: s0 + r.range(MIN, (s1 - s0).max(MIN + 1)),
                        action: "LogonSuccess",
                        logon_type: "Network",
                        protocol: "Kerberos",
                        acct: Acct::User(u),
                        raw_name: None,
                        failure: "",
                        logon_id: r.range(0x10_0000, 0x7fff_ffff),
                        remote: Some((wd.ip.as_str(), "", false)),
                        by: lsass,
                    });
                }
            }
        }
        if dev.internet_facing {
            // The internet knocks on every exposed RDP port.
            for _ in 0..r.range(5, 20) {
                let name = r.pick_str(&[
                    "administrator",
                    "admin",
                    "user",
                    "test",
                    "guest",
                    "scanner",
                    "backup",
                    "support",
                ]);
                out.push(Logon {
                    t: day0 + r.range(0, DAY - 1),
                    action: "LogonFailed",
                    logon_type: "Network",
                    protocol: "NTLM",
                    acct: Acct::System,
                    raw_name: Some(name),
                    failure: if name == "administrator" {
                        "InvalidUserNameOrPassword"
                    } else {
                        "UnknownUser"
                    },
                    logon_id: 0,
                    remote: Some((
                        r.pick_str(&[
                            "91.240.118.172",
                            "45.141.84.126",
                            "194.165.16.72",
                            "80.66.76.134",
                            "185.156.73.54",
                        ]),
                        "",
                        true,
                    )),
                    by: lsass,
                });
            }
        }
        // An administrator's remote session on weekdays.
        if crate::world::weekday(ctx.day) < 5 && r.chance(0.3) {
            let admins: Vec<usize> = w
                .users
                .iter()
                .enumerate()
                .filter(|(_, u)| u.kind == UserKind::Admin)
                .map(|(i, _)| i)
                .collect();
            if let Some(&a) = admins.get(r.index(admins.len())) {
                let from = w
                    .workstations
                    .get(1)
                    .and_then(|&i| w.device(i))
                    .unwrap_or(dev);
                out.push(Logon {
                    t: day0 + r.range(9 * HOUR, 17 * HOUR),
                    action: "LogonSuccess",
                    logon_type: "RemoteInteractive",
                    protocol: "Negotiate",
                    acct: Acct::User(a),
                    raw_name: None,
                    failure: "",
                    logon_id: r.range(0x10_0000, 0x7fff_ffff),
                    remote: Some((from.ip.as_str(), from.netbios.as_str(), false)),
                    by: winlogon,
                });
            }
        }
    }
    // Someone without the right tries to sign in to a server over RDP.
    if matches!(dev.role, Role::App | Role::File)
        && crate::world::weekday(ctx.day) < 5
        && r.chance(0.2)
        && let Some(&ws) = w.workstations.get(r.index(w.workstations.len()))
        && let Some(wd) = w.device(ws)
        && let Some(u) = wd.user
    {
        out.push(Logon {
            t: day0 + r.range(9 * HOUR, 17 * HOUR),
            action: "LogonFailed",
            logon_type: "RemoteInteractive",
            protocol: "Negotiate",
            acct: Acct::User(u),
            raw_name: None,
            failure: "UnauthorizedLogonType",
            logon_id: 0,
            remote: Some((wd.ip.as_str(), wd.netbios.as_str(), false)),
            by: lsass,
        });
    }
    // The vulnerability scanner's credentialed checks.
    let scanner_dev = crate::extra::scanner(w).and_then(|i| w.device(i));
    if let (Some((t, acct, protocol)), Some(sd)) = (crate::extra::scan_logons(w, ctx), scanner_dev)
    {
        out.push(Logon {
            t,
            action: "LogonSuccess",
            logon_type: "Network",
            protocol,
            acct: Acct::User(acct),
            raw_name: None,
            failure: "",
            logon_id: r.range(0x10_0000, 0x7fff_ffff),
            remote: Some((sd.ip.as_str(), sd.netbios.as_str(), false)),
            by: lsass,
        });
    }
    out.retain(|l| ctx.in_window(l.t));
    out.sort_by_key(|l| l.t);
    for l in &out {
        write_logon(s, w, ctx, dev, seq, l);
    }
}
