//! More everyday activity of the network, device-event and cloud tables, per device (or
//! tenant) and UTC day, on top of `extra.rs` and `activity.rs`:
//!
//! - `DeviceNetworkEvents`: the remote-access tools found across the fleet (the helpdesk's
//!   support clients, vendors' agents on servers, a few people's own tools), Quick Assist
//!   sessions, a finance macro workbook fetching exchange rates, developers' dev tunnels,
//!   Teams Toolkit (Node.js) and a Google Sheets script, a MEGA sync client, Windows
//!   Installer downloads, the web server's certificate renewal (Posh-ACME) and its exposed
//!   OpenSSH (brute-forced from the internet, inspected), an SFTP partner on a non-standard
//!   port, internet scans of the web server, developers' local databases listening, and the
//!   discovery scan of the lab network.
//! - `DeviceEvents`: Defender troubleshooting mode, MSOnline/AzureAD PowerShell by IT,
//!   SmartScreen overrides, ransomware-protection and App Control audits, the Azure Arc
//!   agent installed on servers, clipboard reads, and the red-team exercise's AMSI
//!   detections, WMI subscription, cleared security log and an impacket-style service.
//! - `CloudAppEvents`: tenant administration and protection events (see [`cloud`]).
//!
//! Rows use their own `ReportId` range per device-day ([`MORE_SEQ`]).

use std::fmt::Write;

use crate::catalog::{DEPT_FIN, DEPT_IT, ImageDef, Img};
use crate::extra::child;
use crate::host::{Acct, Ctx, P, Proc, account, head, initiating, internal_name, report_id};
use crate::rng::{Rng, file_hashes, fnv};
use crate::sink::Sink;
use crate::world::{DAY, Device, HOUR, MIN, Role, SEC, World, utc_day, weekday};

/// First sequence number of these rows in a device-day (background and `activity.rs` rows
/// stay below, `extra.rs` rows from `0xe_0000`, story rows from `0xf_0000`).
pub(crate) const MORE_SEQ: u64 = 0xd_0000;

const DEPT_SALES: usize = 3;
const DEPT_ENG: usize = 4;
const DEPT_MKT: usize = 5;

const fn img(
    name: &'static str,
    path: &'static str,
    company: &'static str,
    product: &'static str,
    version: &'static str,
    description: &'static str,
    size: i64,
) -> ImageDef {
    ImageDef {
        name,
        path,
        company,
        product,
        version,
        description,
        size,
        signer: "ThirdParty",
    }
}

/// Where a remote-access tool runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Where {
    /// A support client on the IT staff's workstations (used during their session).
    Helpdesk,
    /// An agent one person installed on their own workstation (runs as a service).
    Personal,
    /// A vendor's or managed-service provider's agent on a server.
    Server,
}

/// A remote-access tool: its image, where it runs, the hosts it talks to and their /24.
struct Remote {
    def: ImageDef,
    at: Where,
    hosts: &'static [&'static str],
    net: &'static str,
}

const fn rt(def: ImageDef, at: Where, hosts: &'static [&'static str], net: &'static str) -> Remote {
    Remote {
        def,
        at,
        hosts,
        net,
    }
}

/// The remote-access tools found across the fleet (hunting queries for remote monitoring
/// and management tools trip over each of them).
const REMOTES: &[Remote] = &[
    rt(
        img(
            "mRemoteNG.exe",
            r"C:\Program Files (x86)\mRemoteNG\mRemoteNG.exe",
            "mRemoteNG",
            "mRemoteNG",
            "1.76.20.24615",
            "Multi-Remote Next Generation Connection Manager",
            3_584_000,
        ),
        Where::Helpdesk,
        &["mremoteng.org"],
        "104.21.57",
    ),
    rt(
        img(
            "vncviewer.exe",
            r"C:\Program Files\RealVNC\VNC Viewer\vncviewer.exe",
            "RealVNC",
            "VNC Viewer",
            "7.12.1",
            "VNC Viewer",
            11_213_312,
        ),
        Where::Helpdesk,
        &["update-check.realvnc.com", "services.vnc.com"],
        "13.107.4",
    ),
    rt(
        img(
            "rdp.exe",
            r"C:\Program Files (x86)\Remote Desktop Plus\rdp.exe",
            "www.donkz.nl",
            "Remote Desktop Plus",
            "7.2.1",
            "Remote Desktop Plus",
            1_030_144,
        ),
        Where::Helpdesk,
        &[],
        "",
    ),
    rt(
        img(
            "ISLLight.exe",
            r"C:\Program Files (x86)\ISL Online\ISL Light\ISLLight.exe",
            "ISL Online Ltd.",
            "ISL Light",
            "4.4.2325.51",
            "ISL Light Remote Desktop",
            24_512_000,
        ),
        Where::Helpdesk,
        &["grid.islonline.net"],
        "185.58.196",
    ),
    rt(
        img(
            "rutview.exe",
            r"C:\Program Files (x86)\Remote Utilities - Viewer\rutview.exe",
            "Remote Utilities LLC",
            "Remote Utilities - Viewer",
            "7.6.2.0",
            "Remote Utilities - Viewer",
            31_098_880,
        ),
        Where::Helpdesk,
        &["id.remoteutilities.com"],
        "94.130.180",
    ),
    rt(
        img(
            "Supremo.exe",
            r"C:\Program Files (x86)\Supremo\Supremo.exe",
            "NanoSystems S.r.l.",
            "Supremo",
            "4.11.3.3477",
            "Supremo Remote Desktop",
            13_221_888,
        ),
        Where::Helpdesk,
        &["www.supremocontrol.com"],
        "46.252.152",
    ),
    rt(
        img(
            "IperiusRemote.exe",
            r"C:\Program Files (x86)\Iperius Remote\IperiusRemote.exe",
            "Enter Srl",
            "Iperius Remote",
            "4.2.1",
            "Iperius Remote",
            17_825_792,
        ),
        Where::Helpdesk,
        &["api.iperiusremote.de"],
        "217.64.196",
    ),
    rt(
        img(
            "ddsystem.exe",
            r"C:\Program Files (x86)\Distant Desktop\ddsystem.exe",
            "Distant Software",
            "Distant Desktop",
            "4.8.1",
            "Distant Desktop",
            6_291_456,
        ),
        Where::Helpdesk,
        &["www.distantdesktop.com"],
        "172.67.160",
    ),
    rt(
        img(
            "AeroAdmin.exe",
            r"C:\Program Files (x86)\AeroAdmin\AeroAdmin.exe",
            "AeroAdmin Inc.",
            "AeroAdmin",
            "4.9.0.3295",
            "AeroAdmin",
            3_110_912,
        ),
        Where::Helpdesk,
        &["auth.aeroadmin.com"],
        "94.23.169",
    ),
    rt(
        img(
            "AA_v3.exe",
            r"C:\Program Files (x86)\Ammyy\AA_v3.exe",
            "Ammyy LLC",
            "Ammyy Admin",
            "3.10.0.0",
            "Ammyy Admin",
            795_648,
        ),
        Where::Helpdesk,
        &["rl.ammyy.com"],
        "136.243.18",
    ),
    rt(
        img(
            "ZA_Connect.exe",
            r"C:\Program Files (x86)\ZohoMeeting\Connect\ZA_Connect.exe",
            "Zoho Corporation Private Limited",
            "Zoho Assist",
            "112.0.3.225",
            "Zoho Assist Technician Console",
            9_125_888,
        ),
        Where::Helpdesk,
        &["assist.zoho.com"],
        "136.143.190",
    ),
    rt(
        img(
            "remoting_host.exe",
            r"C:\Program Files (x86)\Google\Chrome Remote Desktop\131.0.6778.13\remoting_host.exe",
            "Google LLC",
            "Chrome Remote Desktop",
            "131.0.6778.13",
            "Chrome Remote Desktop Host",
            17_604_608,
        ),
        Where::Personal,
        &["remotedesktop-pa.googleapis.com"],
        "142.250.80",
    ),
    rt(
        img(
            "parsecd.exe",
            r"C:\Program Files\Parsec\parsecd.exe",
            "Parsec Cloud, Inc.",
            "Parsec",
            "150.93.0.0",
            "Parsec",
            4_915_200,
        ),
        Where::Personal,
        &[
            "kessel-ws.parsec.app",
            "kessel-api.parsec.app",
            "stun.parsec.app",
        ],
        "18.65.3",
    ),
    rt(
        img(
            "rustdesk.exe",
            r"C:\Program Files\RustDesk\rustdesk.exe",
            "Purslane Ltd",
            "RustDesk",
            "1.3.2",
            "RustDesk Remote Desktop",
            20_447_232,
        ),
        Where::Personal,
        &["rs-ny.rustdesk.com"],
        "209.250.254",
    ),
    rt(
        img(
            "vncviewer64.exe",
            r"C:\Program Files\TigerVNC\vncviewer64.exe",
            "TigerVNC project",
            "TigerVNC",
            "1.14.1",
            "TigerVNC Viewer",
            2_723_840,
        ),
        Where::Personal,
        &[],
        "",
    ),
    rt(
        img(
            "tvnserver.exe",
            r"C:\Program Files\TightVNC\tvnserver.exe",
            "GlavSoft LLC.",
            "TightVNC",
            "2.8.81.0",
            "TightVNC Server",
            2_056_192,
        ),
        Where::Personal,
        &[],
        "",
    ),
    rt(
        img(
            "AteraAgent.exe",
            r"C:\Program Files\ATERA Networks\AteraAgent\AteraAgent.exe",
            "Atera Networks",
            "AteraAgent",
            "1.8.7.2",
            "AteraAgent",
            1_421_312,
        ),
        Where::Personal,
        &["agent-api.atera.com", "ps.atera.com"],
        "20.37.211",
    ),
    rt(
        img(
            "Syncro.Service.exe",
            r"C:\Program Files\RepairTech\Syncro\Syncro.Service.exe",
            "Servably, Inc.",
            "Syncro",
            "1.0.185.17225",
            "Syncro Service",
            1_187_840,
        ),
        Where::Personal,
        &["rmm.syncromsp.com"],
        "52.2.147",
    ),
    rt(
        img(
            "RPCService.exe",
            r"C:\Program Files (x86)\RemotePC\RPCService.exe",
            "IDrive Inc.",
            "RemotePC",
            "7.6.78",
            "RemotePC Service",
            1_662_976,
        ),
        Where::Personal,
        &["web1.remotepc.com"],
        "66.228.58",
    ),
    rt(
        img(
            "ScreenMeetSupport.exe",
            r"C:\Program Files\ScreenMeet\ScreenMeetSupport.exe",
            "Projector Inc.",
            "ScreenMeet",
            "2.1.24",
            "ScreenMeet Support",
            89_128_960,
        ),
        Where::Personal,
        &["api.screenmeet.com"],
        "34.117.59",
    ),
    rt(
        img(
            "MeshAgent.exe",
            r"C:\Program Files\Mesh Agent\MeshAgent.exe",
            "MeshCentral",
            "MeshCentral Background Service Agent",
            "2022.11.2.0",
            "MeshCentral Background Service Agent",
            3_464_704,
        ),
        Where::Personal,
        &["meshcentral.com"],
        "52.188.224",
    ),
    rt(
        img(
            "NaveriskAgent.exe",
            r"C:\Program Files (x86)\Naverisk\Agent\NaveriskAgent.exe",
            "NavMK1 Limited",
            "Naverisk Agent",
            "7.3.0.2",
            "Naverisk Agent",
            2_351_104,
        ),
        Where::Personal,
        &["agent.naverisk.com"],
        "52.62.10",
    ),
    rt(
        img(
            "fleetdeck_agent.exe",
            r"C:\Program Files\FleetDeck\fleetdeck_agent.exe",
            "FleetDeck Inc.",
            "FleetDeck Agent",
            "1.22.1",
            "FleetDeck Agent",
            9_437_184,
        ),
        Where::Personal,
        &["agent.fleetdeck.io"],
        "35.171.100",
    ),
    rt(
        img(
            "ROMServer.exe",
            r"C:\Program Files (x86)\LiteManager Pro - Server\ROMServer.exe",
            "LiteManagerTeam",
            "LiteManager Pro - Server",
            "5.1.0.0",
            "LiteManager Server",
            6_815_744,
        ),
        Where::Personal,
        &["www.litemanager.com"],
        "95.216.72",
    ),
    rt(
        img(
            "getscreen.exe",
            r"C:\Program Files\Getscreen.me\getscreen.exe",
            "Getscreen.me",
            "Getscreen.me",
            "2.19.1",
            "Getscreen.me",
            4_718_592,
        ),
        Where::Personal,
        &["node-eu.getscreen.me"],
        "185.117.153",
    ),
    rt(
        img(
            "AweSun.exe",
            r"C:\Program Files\AweSun\AweSun.exe",
            "AweRay Pte. Ltd.",
            "AweSun",
            "2.0.0.52011",
            "AweSun",
            31_457_280,
        ),
        Where::Personal,
        &["client-api.aweray.com"],
        "8.219.96",
    ),
    rt(
        img(
            "UltraViewer_Desktop.exe",
            r"C:\Program Files (x86)\UltraViewer\UltraViewer_Desktop.exe",
            "DucFabulous",
            "UltraViewer",
            "6.6.0.107",
            "UltraViewer",
            5_883_392,
        ),
        Where::Personal,
        &["ultraviewer.net"],
        "103.124.92",
    ),
    rt(
        img(
            "LogMeIn.exe",
            r"C:\Program Files (x86)\LogMeIn\x64\LogMeIn.exe",
            "LogMeIn, Inc.",
            "LogMeIn",
            "4.1.16384",
            "LogMeIn",
            86_016,
        ),
        Where::Server,
        &["secure.logmein.com", "update.logmein.com"],
        "216.219.114",
    ),
    rt(
        img(
            "bomgar-scc.exe",
            r"C:\ProgramData\bomgar-scc-0x5f3a91c2\bomgar-scc.exe",
            "BeyondTrust Corporation",
            "BeyondTrust Remote Support",
            "24.1.2",
            "BeyondTrust Remote Support Customer Client",
            5_505_024,
        ),
        Where::Server,
        &["erpvendor.beyondtrustcloud.com"],
        "34.149.20",
    ),
    rt(
        img(
            "winagent.exe",
            r"C:\Program Files (x86)\Advanced Monitoring Agent\winagent.exe",
            "SolarWinds MSP",
            "Advanced Monitoring Agent",
            "10.13.7",
            "Advanced Monitoring Agent",
            9_306_112,
        ),
        Where::Server,
        &["upload3.system-monitor.com", "sis.n-able.com"],
        "52.211.14",
    ),
    rt(
        img(
            "PCMonitorSrv.exe",
            r"C:\Program Files\Pulseway\PCMonitorSrv.exe",
            "MMSoft Design Ltd.",
            "Pulseway",
            "9.8.2",
            "Pulseway Service",
            1_355_776,
        ),
        Where::Server,
        &["eu.pulseway.com"],
        "52.138.228",
    ),
    rt(
        img(
            "CBBackupPlan.exe",
            r"C:\Program Files\MSP360\Online Backup\CBBackupPlan.exe",
            "MSP360",
            "MSP360 Online Backup",
            "7.9.4.83",
            "Backup plan",
            172_032,
        ),
        Where::Server,
        &["rm.mspbackups.com", "settings.services.mspbackups.com"],
        "3.120.116",
    ),
    rt(
        img(
            "ServerEye.Service.exe",
            r"C:\Program Files (x86)\Server-Eye\ServerEye.Service.exe",
            "Krämer IT Solutions GmbH",
            "Server-Eye",
            "4.0.480",
            "Server-Eye Service",
            1_056_768,
        ),
        Where::Server,
        &["occ.server-eye.de"],
        "80.146.182",
    ),
    rt(
        img(
            "MWExpertSystem.exe",
            r"C:\Program Files (x86)\Level Platforms\Onsite Manager\MWExpertSystem.exe",
            "LPI Level Platforms",
            "Managed Workplace",
            "11.0.2.1",
            "Managed Workplace Expert System",
            2_867_200,
        ),
        Where::Server,
        &["rmm.barracudamsp.com"],
        "64.235.150",
    ),
    rt(
        img(
            "Remote Access.exe",
            r"C:\ProgramData\JWrapper-Remote Access\JWAppsSharedConfig\Remote Access.exe",
            "SimpleHelp Ltd",
            "SimpleHelp Remote Access",
            "5.5.7",
            "SimpleHelp Remote Access Service",
            1_203_712,
        ),
        Where::Server,
        &["support.fabrikam-erp.com"],
        "51.105.71",
    ),
];

/// Images of this module's one-off processes.
const QUICK_ASSIST: ImageDef = ImageDef {
    name: "QuickAssist.exe",
    path: r"C:\Program Files\WindowsApps\MicrosoftCorporationII.QuickAssist_2.0.32.0_x64__8wekyb3d8bbwe\Microsoft.RemoteAssistance.QuickAssist\QuickAssist.exe",
    company: "Microsoft Corporation",
    product: "Microsoft Quick Assist",
    version: "2.0.32.0",
    description: "Quick Assist",
    size: 1_349_632,
    signer: "Microsoft",
};
const MEGASYNC: ImageDef = img(
    "MEGAsync.exe",
    r"C:\Program Files\MEGAsync\MEGAsync.exe",
    "Mega Limited",
    "MEGAsync",
    "5.6.1.0",
    "MEGAsync",
    48_234_496,
);
const SSHD: ImageDef = ImageDef {
    name: "sshd.exe",
    path: r"C:\Windows\System32\OpenSSH\sshd.exe",
    company: "Microsoft Corporation",
    product: "OpenSSH for Windows",
    version: "9.5.4.1",
    description: "OpenSSH SSH daemon",
    size: 1_302_528,
    signer: "OsVendor",
};
const POSTGRES: ImageDef = img(
    "postgres.exe",
    r"C:\Program Files\PostgreSQL\16\bin\postgres.exe",
    "PostgreSQL Global Development Group",
    "PostgreSQL",
    "16.4",
    "PostgreSQL Server",
    10_168_320,
);

/// The remote-access tools of a device.
fn remotes_of(w: &World, dev: usize) -> Vec<&'static Remote> {
    let Some(d) = w.device(dev) else {
        return Vec::new();
    };
    let it: Vec<usize> = w
        .workstations
        .iter()
        .copied()
        .filter(|&i| w.device(i).is_some_and(|x| x.dept == DEPT_IT))
        .collect();
    let others: Vec<usize> = w
        .workstations
        .iter()
        .copied()
        .filter(|&i| w.device(i).is_some_and(|x| x.dept != DEPT_IT))
        .collect();
    let n_personal = REMOTES
        .iter()
        .filter(|t| t.at == Where::Personal)
        .count()
        .max(1);
    let (mut k_help, mut k_pers, mut k_srv) = (0usize, 0usize, 0usize);
    let mut out = Vec::new();
    for t in REMOTES {
        let host = match t.at {
            Where::Helpdesk => {
                k_help += 1;
                it.get((k_help - 1) % it.len().max(1)).copied()
            }
            Where::Personal => {
                k_pers += 1;
                // Spread over the non-IT workstations, one tool each where there are enough.
                let n = others.len().max(1);
                others
                    .get(((k_pers - 1) * n / n_personal + n / 7) % n)
                    .copied()
            }
            Where::Server => {
                k_srv += 1;
                // Not the domain controller.
                let srv: Vec<usize> = w
                    .servers
                    .iter()
                    .copied()
                    .filter(|&i| w.device(i).is_some_and(|x| x.role != Role::Dc))
                    .collect();
                srv.get((k_srv - 1) % srv.len().max(1)).copied()
            }
        };
        if host == Some(dev) && (t.at == Where::Server) == d.is_server() {
            out.push(t);
        }
    }
    out
}

/// The `InitiatingProcess*` image columns of an image outside the catalog (written before
/// [`initiating`], whose values for these columns are then ignored).
fn image_cols(s: &mut Sink, d: &ImageDef) {
    let c = s.c;
    let (sha1, sha256, md5) = file_hashes(d.name);
    s.s(c.InitiatingProcessSHA1, &sha1);
    s.s(c.InitiatingProcessSHA256, &sha256);
    s.s(c.InitiatingProcessMD5, &md5);
    s.s(c.InitiatingProcessFileName, d.name);
    s.l(c.InitiatingProcessFileSize, d.size);
    s.s(c.InitiatingProcessVersionInfoCompanyName, d.company);
    s.s(c.InitiatingProcessVersionInfoProductName, d.product);
    s.s(c.InitiatingProcessVersionInfoProductVersion, d.version);
    s.s(
        c.InitiatingProcessVersionInfoInternalFileName,
        internal_name(d.name),
    );
    s.s(c.InitiatingProcessVersionInfoOriginalFileName, d.name);
    s.s(c.InitiatingProcessVersionInfoFileDescription, d.description);
    s.s(c.InitiatingProcessFolderPath, d.path);
    s.s(c.InitiatingProcessSignerType, d.signer);
    s.s(c.InitiatingProcessSignatureStatus, "Valid");
}

struct Out<'a> {
    s: &'a mut Sink,
    w: &'a World,
    ctx: &'a Ctx,
    dev: &'a Device,
    seq: u64,
}

/// One connection: the initiating process (and its image when outside the catalog), the
/// remote end, and what the sensor adds.
struct Conn<'a> {
    action: &'a str,
    p: &'a Proc,
    def: Option<&'a ImageDef>,
    remote_ip: &'a str,
    remote_port: i32,
    url: &'a str,
    public: bool,
    protocol: &'a str,
    local_port: i32,
    fields: &'a str,
}

impl<'a> Conn<'a> {
    fn new(p: &'a Proc, remote_ip: &'a str, remote_port: i32, url: &'a str) -> Self {
        Conn {
            action: "ConnectionSuccess",
            p,
            def: None,
            remote_ip,
            remote_port,
            url,
            public: true,
            protocol: "Tcp",
            local_port: 0,
            fields: "",
        }
    }
}

impl Out<'_> {
    /// Starts a row; false when `t` is outside the window.
    fn start(&mut self, t: i64, action: &str) -> bool {
        if !self.ctx.in_window(t) {
            return false;
        }
        let c = self.s.c;
        head(
            self.s,
            self.dev,
            t,
            report_id(self.ctx.day, self.ctx.dev, self.seq),
        );
        self.seq += 1;
        self.s.s(c.ActionType, action);
        true
    }

    /// Account and initiating columns of a `DeviceEvents` row, then ends it.
    fn end_event(&mut self, p: &Proc, def: Option<&ImageDef>) {
        let c = self.s.c;
        let (dom, name, sid, _, _) = account(self.w, p.acct);
        self.s.s(c.AccountDomain, dom);
        self.s.s(c.AccountName, name);
        self.s.s(c.AccountSid, sid);
        if let Some(d) = def {
            image_cols(self.s, d);
        }
        initiating(self.s, self.w, p);
        self.s.end();
    }

    fn conn(&mut self, t: i64, k: &Conn, r: &mut Rng) {
        if !self.start(t, k.action) {
            return;
        }
        let c = self.s.c;
        let inbound = k.action.starts_with("Inbound") || k.action.starts_with("Listening");
        self.s.s(c.RemoteIP, k.remote_ip);
        self.s.i(c.RemotePort, k.remote_port);
        self.s.so(c.RemoteUrl, k.url);
        self.s.s(c.LocalIP, &self.dev.ip);
        let lp = if k.local_port != 0 || inbound {
            k.local_port
        } else {
            49_152 + r.below(16_000) as i32
        };
        self.s.i(c.LocalPort, lp);
        self.s.s(c.Protocol, k.protocol);
        self.s.s(c.LocalIPType, "Private");
        self.s
            .s(c.RemoteIPType, if k.public { "Public" } else { "Private" });
        self.s.so(c.AdditionalFields, k.fields);
        if let Some(d) = k.def {
            image_cols(self.s, d);
        }
        initiating(self.s, self.w, k.p);
        self.s.end();
    }

    fn listening(&mut self, t: i64, p: &Proc, def: Option<&ImageDef>, port: i32) {
        if !self.start(t, "ListeningConnectionCreated") {
            return;
        }
        let c = self.s.c;
        self.s.s(c.LocalIP, "0.0.0.0");
        self.s.i(c.LocalPort, port);
        self.s.s(c.Protocol, "Tcp");
        self.s.s(c.LocalIPType, "Unspecified");
        if let Some(d) = def {
            image_cols(self.s, d);
        }
        initiating(self.s, self.w, p);
        self.s.end();
    }
}

impl Out<'_> {
    /// A `ProcessCreated` row of `p`, an image outside the catalog (`def`).
    fn process(&mut self, p: &Proc, def: &ImageDef, parent: &Proc) {
        if !self.start(p.created, "ProcessCreated") {
            return;
        }
        let c = self.s.c;
        let (sha1, sha256, md5) = file_hashes(def.name);
        let s = &mut *self.s;
        s.s(c.FileName, def.name);
        s.s(c.FolderPath, def.path);
        s.s(c.SHA1, &sha1);
        s.s(c.SHA256, &sha256);
        s.s(c.MD5, &md5);
        s.l(c.FileSize, def.size);
        s.s(c.ProcessVersionInfoCompanyName, def.company);
        s.s(c.ProcessVersionInfoProductName, def.product);
        s.s(c.ProcessVersionInfoProductVersion, def.version);
        s.s(
            c.ProcessVersionInfoInternalFileName,
            internal_name(def.name),
        );
        s.s(c.ProcessVersionInfoOriginalFileName, def.name);
        s.s(c.ProcessVersionInfoFileDescription, def.description);
        s.l(c.ProcessId, p.pid);
        s.s(c.ProcessCommandLine, &p.cmd);
        s.s(c.ProcessIntegrityLevel, p.integrity);
        s.s(c.ProcessTokenElevation, p.elevation);
        s.t(c.ProcessCreationTime, p.created);
        let (dom, name, sid, upn, oid) = account(self.w, p.acct);
        s.s(c.AccountDomain, dom);
        s.s(c.AccountName, name);
        s.s(c.AccountSid, sid);
        s.so(c.AccountUpn, upn);
        s.so(c.AccountObjectId, oid);
        s.l(c.LogonId, p.logon_id);
        initiating(s, self.w, parent);
        s.end();
    }
}

/// A public address of a host in a /24 (the same host always has the same address).
fn addr(net: &str, host: &str) -> String {
    format!("{net}.{}", 10 + fnv(host) % 200)
}

/// A time of the day (whole 100 ns), between `a` and `b` after midnight.
fn at(r: &mut Rng, day: i64, a: i64, b: i64) -> i64 {
    (day * DAY + r.range(a, b)) / 100 * 100
}

/// The instance of an agent's service its updater starts on UTC day `day` (between 00:30
/// and 05:00; the previous night's instance runs until then).
fn agent_restart(w: &World, ctx: &Ctx, def: &ImageDef, day: i64) -> Option<Proc> {
    let services = ctx.proc(P::Services)?;
    let mut r = Rng::derive(&[
        w.seed,
        fnv("agent-restart"),
        fnv(def.name),
        ctx.dev as u64,
        day as u64,
    ]);
    Some(Proc {
        img: Img::Services,
        pid: r.range(1000, 40_000) / 4 * 4,
        cmd: format!("\"{}\"", def.path),
        created: (day * DAY + r.range(30 * MIN, 5 * HOUR)) / 100 * 100,
        acct: Acct::System,
        integrity: "System",
        elevation: "TokenElevationTypeDefault",
        logon_id: 999,
        session: 0,
        parent_img: services.img,
        parent_pid: services.pid,
        parent_created: services.created,
    })
}

/// The processes of a remote-access tool on this device-day, oldest first: the support
/// client an IT person starts from Explorer during their session, or an agent's service
/// (last night's instance, then tonight's).
fn remote_procs(w: &World, ctx: &Ctx, t: &Remote) -> Vec<Proc> {
    match t.at {
        Where::Helpdesk => {
            let mut r = Rng::derive(&[
                w.seed,
                fnv("remote-client"),
                fnv(t.def.name),
                ctx.dev as u64,
                ctx.day as u64,
            ]);
            let cmd = format!("\"{}\"", t.def.path);
            ctx.session
                .and_then(|(s0, s1)| {
                    let st = s0 + r.range(20 * MIN, ((s1 - s0) / 2).max(20 * MIN));
                    user_app(&mut r, ctx, Img::Explorer, cmd, st)
                })
                .into_iter()
                .collect()
        }
        _ => [ctx.day - 1, ctx.day]
            .into_iter()
            .filter_map(|day| agent_restart(w, ctx, &t.def, day))
            .collect(),
    }
}

/// The code-signing certificate subject of a remote-access tool's binaries.
fn remote_signer(def: &ImageDef) -> &'static str {
    match def.name {
        "ISLLight.exe" => "XLAB d.o.o.",
        "vncviewer.exe" => "RealVNC Limited",
        "AteraAgent.exe" => "Atera Networks Ltd",
        "ScreenMeetSupport.exe" => "Projector.is, Inc.",
        "getscreen.exe" => "Point B Ltd",
        "winagent.exe" => "N-able Technologies Ltd",
        "CBBackupPlan.exe" => "MSPBytes",
        "MWExpertSystem.exe" => "Barracuda Networks, Inc.",
        "PCMonitorSrv.exe" => "MMSoft Design Ltd.",
        "RPCService.exe" => "IDrive Inc.",
        "UltraViewer_Desktop.exe" => "Duc Fabulous Co.,ltd",
        _ => def.company,
    }
}

/// The remote-access tools' binaries on device `dev` with their signers (for
/// `DeviceFileCertificateInfo`, checked daily like the other agents).
pub(crate) fn remote_images(w: &World, dev: usize) -> Vec<(&'static ImageDef, &'static str)> {
    remotes_of(w, dev)
        .into_iter()
        .map(|t| (&t.def, remote_signer(&t.def)))
        .collect()
}

/// A service started at boot by `services.exe`.
fn service(r: &mut Rng, ctx: &Ctx, img: Img, cmd: &str) -> Option<Proc> {
    let services = ctx.proc(P::Services)?;
    Some(Proc {
        img,
        pid: r.range(1000, 9000) / 4 * 4,
        cmd: cmd.to_string(),
        created: services.created + r.range(20 * SEC, 120 * SEC),
        acct: Acct::System,
        integrity: "System",
        elevation: "TokenElevationTypeDefault",
        logon_id: 999,
        session: 0,
        parent_img: services.img,
        parent_pid: services.pid,
        parent_created: services.created,
    })
}

/// A process the workstation's user starts from Explorer at `t`.
fn user_app(r: &mut Rng, ctx: &Ctx, img: Img, cmd: String, t: i64) -> Option<Proc> {
    let explorer = ctx.proc(P::Explorer)?;
    let u = ctx.user?;
    Some(child(
        r,
        img,
        cmd,
        t,
        explorer,
        Acct::User(u),
        "Medium",
        explorer.logon_id,
    ))
}

/// Extra `DeviceProcessEvents` of one device-day: the remote-access tools' processes (the
/// same instances their connections come from) and the agents' restarts after their
/// self-updates.
pub(crate) fn processes(w: &World, s: &mut Sink, ctx: &Ctx, dev: &Device) {
    let mut o = Out {
        s,
        w,
        ctx,
        dev,
        seq: MORE_SEQ,
    };
    let mut rows: Vec<(Proc, &'static ImageDef)> = Vec::new();
    for t in remotes_of(w, ctx.dev) {
        for p in remote_procs(w, ctx, t) {
            if p.created.div_euclid(DAY) == ctx.day {
                rows.push((p, &t.def));
            }
        }
    }
    for a in crate::extra::agent_procs(w, ctx) {
        if let Some((t, _)) = crate::extra::agent_update(w, ctx, a.img) {
            let mut r = Rng::derive(&[w.seed, fnv("agent-updated"), ctx.dev as u64, t as u64]);
            let def = w.image(a.img).def;
            let p = Proc {
                pid: r.range(1000, 40_000) / 4 * 4,
                created: t + r.range(3 * SEC, 9 * SEC),
                ..a
            };
            rows.push((p, def));
        }
    }
    rows.sort_by_key(|(p, _)| p.created);
    for (p, def) in &rows {
        let parent = if p.parent_img == Img::Explorer {
            ctx.proc(P::Explorer)
        } else {
            ctx.proc(P::Services)
        };
        let Some(parent) = parent else { continue };
        o.process(p, def, parent);
    }
}

/// Extra `DeviceNetworkEvents` of one device-day.
pub(crate) fn network(w: &World, s: &mut Sink, ctx: &Ctx, dev: &Device) {
    let mut r = Rng::derive(&[w.seed, fnv("more-net"), ctx.dev as u64, ctx.day as u64]);
    let mut o = Out {
        s,
        w,
        ctx,
        dev,
        seq: MORE_SEQ,
    };
    let user = ctx.user(w);
    let dept = user.map(|u| u.dept);
    let session = ctx.session;
    red_team_network(&mut o, &mut r);

    // Remote-access tools.
    for t in remotes_of(w, ctx.dev) {
        let procs = remote_procs(w, ctx, t);
        let Some(first) = procs.first() else { continue };
        let (n, from, to) = match t.at {
            Where::Helpdesk => {
                let (_, s1) = session.unwrap_or((first.created, first.created + HOUR));
                (
                    r.count(3.0) + 1,
                    first.created - ctx.day * DAY,
                    s1 - ctx.day * DAY,
                )
            }
            _ => (r.count(8.0) + 2, 0, DAY - 1),
        };
        if to <= from {
            continue;
        }
        for _ in 0..n {
            let tt = at(&mut r, ctx.day, from, to);
            // The instance running then (an agent restarts overnight).
            let p = procs
                .iter()
                .rev()
                .find(|p| p.created <= tt)
                .unwrap_or(first);
            if t.hosts.is_empty() {
                // VNC and RDP clients: a machine on the local network.
                match t.def.name {
                    "tvnserver.exe" => {
                        let Some(hd) = w.workstations.get(1).and_then(|&i| w.device(i)) else {
                            continue;
                        };
                        if !(9 * HOUR..17 * HOUR).contains(&(tt - ctx.day * DAY)) {
                            continue;
                        }
                        let k = Conn {
                            action: "InboundConnectionAccepted",
                            def: Some(&t.def),
                            public: false,
                            local_port: 5900,
                            ..Conn::new(p, &hd.ip, 49_152 + r.below(16_000) as i32, "")
                        };
                        o.conn(tt, &k, &mut r);
                    }
                    "vncviewer64.exe" => {
                        let k = Conn {
                            def: Some(&t.def),
                            public: false,
                            ..Conn::new(p, "10.30.5.21", 5901, "")
                        };
                        o.conn(tt, &k, &mut r);
                    }
                    _ => {
                        let Some(sd) = w
                            .servers
                            .get(r.index(w.servers.len().max(1)))
                            .and_then(|&i| w.device(i))
                        else {
                            continue;
                        };
                        let k = Conn {
                            def: Some(&t.def),
                            public: false,
                            ..Conn::new(p, &sd.ip, 3389, "")
                        };
                        o.conn(tt, &k, &mut r);
                    }
                }
                continue;
            }
            let host = r.pick_str(t.hosts);
            let ip = addr(t.net, host);
            let k = Conn {
                action: if r.chance(0.97) {
                    "ConnectionSuccess"
                } else {
                    "ConnectionFailed"
                },
                def: Some(&t.def),
                ..Conn::new(p, &ip, 443, host)
            };
            o.conn(tt, &k, &mut r);
        }
    }

    let Some((s0, s1)) = session else {
        server_network(&mut o, &mut r);
        return;
    };
    let len = (s1 - s0).max(HOUR);
    let in_session = |r: &mut Rng| (s0 + r.range(15 * MIN, len - 10 * MIN)) / 100 * 100;
    let day0 = ctx.day * DAY;
    let is_it = dept == Some(DEPT_IT);
    let helpdesk = w.workstations.get(1) == Some(&ctx.dev);

    // Quick Assist: the helpdesk helps someone; the person shares their screen.
    let qa_helper = helpdesk || (is_it && r.chance(0.2));
    let qa_helped = !is_it && {
        let mut qr = Rng::derive(&[w.seed, fnv("quick-assist"), ctx.day as u64]);
        let n = w.workstations.len().max(1);
        weekday(ctx.day) < 5 && w.workstations.get(qr.index(n)) == Some(&ctx.dev)
    };
    if (qa_helper && weekday(ctx.day) < 5) || qa_helped {
        let t = if qa_helped {
            day0 + 10 * HOUR + r.range(0, 3 * HOUR)
        } else {
            in_session(&mut r)
        };
        let cmd = format!("\"{}\" ", QUICK_ASSIST.path);
        if t > s0
            && t < s1
            && let Some(p) = user_app(&mut r, ctx, Img::Explorer, cmd, t)
        {
            for (k, host) in [
                "remoteassistance.support.services.microsoft.com",
                "rdprelayv3eastusprod-0.support.services.microsoft.com",
                "login.microsoftonline.com",
                "remoteassistance.support.services.microsoft.com",
            ]
            .iter()
            .enumerate()
            {
                let ip = addr("20.42.73", host);
                let c = Conn {
                    def: Some(&QUICK_ASSIST),
                    ..Conn::new(&p, &ip, 443, host)
                };
                o.conn(t + 2 * SEC + k as i64 * 3 * SEC, &c, &mut r);
            }
        }
    }

    // Finance: the exchange-rate workbook's macro refreshes the rates from the ECB.
    if dept == Some(DEPT_FIN)
        && weekday(ctx.day) < 5
        && r.chance(0.5)
        && let Some(u) = user
    {
        let t = in_session(&mut r);
        let cmd = format!(
            "\"C:\\Program Files\\Microsoft Office\\Root\\Office16\\EXCEL.EXE\" \"C:\\Users\\{}\\OneDrive - Contoso\\Finance\\FX_Rates_Daily.xlsm\"",
            u.sam
        );
        if let Some(p) = user_app(&mut r, ctx, Img::Excel, cmd, t) {
            let host = "www.ecb.europa.eu";
            let ip = addr("23.50.131", host);
            o.conn(t + 4 * SEC, &Conn::new(&p, &ip, 443, host), &mut r);
        }
    }

    // Developers: VS Code port forwarding through dev tunnels, Teams Toolkit debugging
    // (Node.js), a Python script updating a Google Sheet, a local database listening.
    if dept == Some(DEPT_ENG) && weekday(ctx.day) < 5 {
        let mut dr = Rng::derive(&[w.seed, fnv("dev-traits"), ctx.dev as u64]);
        let tunnels = dr.chance(0.5);
        let teams_app = dr.chance(0.4);
        let sheets = dr.chance(0.3);
        let db = dr.chance(0.5);
        if let Some(code) = ctx.proc(P::Code) {
            if tunnels && r.chance(0.6) {
                let t = in_session(&mut r).max(code.created + MIN);
                for host in [
                    "global.rel.tunnels.api.visualstudio.com",
                    "usw2-data.rel.tunnels.api.visualstudio.com",
                    "x8k2mq7d-5173.euw.devtunnels.ms",
                ] {
                    let ip = addr("20.189.173", host);
                    o.conn(
                        t + r.range(0, 20 * SEC),
                        &Conn::new(code, &ip, 443, host),
                        &mut r,
                    );
                }
            }
            if teams_app && r.chance(0.6) {
                let t = in_session(&mut r).max(code.created + MIN);
                let node = child(
                    &mut r,
                    Img::Node,
                    "\"C:\\Program Files\\nodejs\\node.exe\" \"C:\\Users\\dev\\AppData\\Roaming\\npm\\node_modules\\@microsoft\\teamsapp-cli\\cli.js\" preview --local"
                        .to_string(),
                    t,
                    code,
                    code.acct,
                    "Medium",
                    code.logon_id,
                );
                for url in [
                    "https://teams.microsoft.com/l/app/a3f2c1d8-7b4e-4c9a-9e1f-2d6b8c0e4f71?installAppPackage=true",
                    "https://www.office.com/",
                ] {
                    let ip = addr("52.113.194", url);
                    o.conn(t + 3 * SEC, &Conn::new(&node, &ip, 443, url), &mut r);
                }
            }
        }
        if sheets && r.chance(0.5) {
            let t = in_session(&mut r);
            let cmd = "\"C:\\Program Files\\Python312\\python.exe\" C:\\src\\release-tools\\update_release_sheet.py".to_string();
            if let Some(p) = user_app(&mut r, ctx, Img::Python, cmd, t) {
                for host in [
                    "oauth2.googleapis.com",
                    "sheets.googleapis.com",
                    "www.googleapis.com",
                ] {
                    let ip = addr("142.250.72", host);
                    o.conn(t + 2 * SEC, &Conn::new(&p, &ip, 443, host), &mut r);
                }
            }
        }
        if db && r.chance(0.3) {
            // The local SQL Server Express / PostgreSQL restarts after an update.
            let t = in_session(&mut r);
            if let Some(p) = service(
                &mut r,
                ctx,
                Img::Sqlservr,
                "\"C:\\Program Files\\Microsoft SQL Server\\MSSQL16.SQLEXPRESS\\MSSQL\\Binn\\sqlservr.exe\" -sSQLEXPRESS",
            ) {
                o.listening(t, &p, None, 1433);
            }
            if let Some(p) = service(
                &mut r,
                ctx,
                Img::Services,
                "\"C:\\Program Files\\PostgreSQL\\16\\bin\\postgres.exe\" -D \"C:\\Program Files\\PostgreSQL\\16\\data\"",
            ) {
                o.listening(t + 2 * SEC, &p, Some(&POSTGRES), 5432);
            }
        }
        // SFTP to the build partner's server on a non-standard port.
        if r.chance(0.15) {
            let t = in_session(&mut r);
            let cmd = "ssh.exe -p 2222 deploy@sftp.fabrikam-builds.com".to_string();
            if let Some(p) = user_app(&mut r, ctx, Img::Ssh, cmd, t) {
                let ip = "198.51.100.140";
                o.conn(
                    t + SEC,
                    &Conn::new(&p, ip, 2222, "sftp.fabrikam-builds.com"),
                    &mut r,
                );
                let k = Conn {
                    action: "NetworkSignatureInspected",
                    fields: "{\"SignatureName\":\"SSH\",\"SignatureMatchedContent\":\"SSH-2.0-OpenSSH_for_Windows_9.5\",\"SamplePacketContent\":\"SSH-2.0-OpenSSH_for_Windows_9.5\\r\\n\"}",
                    ..Conn::new(&p, ip, 2222, "")
                };
                o.conn(t + SEC + 40_000_000, &k, &mut r);
            }
        }
    }

    // One person in marketing syncs a folder to MEGA.
    if dept == Some(DEPT_MKT) && ctx.user.is_some() {
        let mkt: Vec<usize> = w
            .workstations
            .iter()
            .copied()
            .filter(|&i| w.device(i).is_some_and(|d| d.dept == DEPT_MKT))
            .collect();
        if mkt.last() == Some(&ctx.dev) {
            let t = s0 + 5 * MIN;
            if let Some(p) = user_app(
                &mut r,
                ctx,
                Img::Explorer,
                "\"C:\\Program Files\\MEGAsync\\MEGAsync.exe\"".to_string(),
                t,
            ) {
                for _ in 0..r.range(3, 8) {
                    let host =
                        r.pick_str(&["g.api.mega.co.nz", "gfs270n103.userstorage.mega.co.nz"]);
                    let ip = addr("31.216.147", host);
                    let c = Conn {
                        def: Some(&MEGASYNC),
                        ..Conn::new(&p, &ip, 443, host)
                    };
                    o.conn(in_session(&mut r).max(t + SEC), &c, &mut r);
                }
            }
        }
    }

    // IT installs software straight from vendors' download sites.
    if is_it
        && weekday(ctx.day) < 5
        && r.chance(0.3)
        && let Some(u) = user.and_then(|u| u.admin_account)
    {
        let t = in_session(&mut r);
        let (url, host) = *r
            .pick(&[
                (
                    "msiexec.exe /i https://zoom.us/client/latest/ZoomInstallerFull.msi /qn",
                    "zoom.us",
                ),
                (
                    "msiexec.exe /i https://dl.google.com/chrome/install/googlechromestandaloneenterprise64.msi /qn",
                    "dl.google.com",
                ),
                (
                    "msiexec.exe /i https://aka.ms/downloadazcli /qn",
                    "azcliprod.blob.core.windows.net",
                ),
            ])
            .unwrap_or(&("msiexec.exe", "zoom.us"));
        if let Some(explorer) = ctx.proc(P::Explorer) {
            let p = child(
                &mut r,
                Img::Msiexec,
                url.to_string(),
                t,
                explorer,
                Acct::User(u),
                "High",
                explorer.logon_id + 1,
            );
            let ip = addr("170.114.52", host);
            o.conn(t + 2 * SEC, &Conn::new(&p, &ip, 443, host), &mut r);
        }
    }
    let _ = DEPT_SALES;
}

/// Servers' extra connections: the web server's certificate renewal and exposed OpenSSH,
/// internet scans, and the scanner's look at the lab network.
fn server_network(o: &mut Out, r: &mut Rng) {
    let (w, ctx, dev) = (o.w, o.ctx, o.dev);
    let day0 = ctx.day * DAY;
    if dev.internet_facing {
        // Posh-ACME renews the certificate (a scheduled task, daily check).
        if let Some(sched) = ctx.proc(P::SvcSchedule) {
            let t = at(r, ctx.day, 4 * HOUR, 4 * HOUR + 10 * MIN);
            let p = child(
                r,
                Img::PowerShell,
                "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -ExecutionPolicy Bypass -Command \"Import-Module Posh-ACME; Submit-Renewal -AllOrders\""
                    .to_string(),
                t,
                sched,
                Acct::System,
                "System",
                999,
            );
            for (k, host) in [
                "acme-v02.api.letsencrypt.org",
                "r11.o.lencr.org",
                "acme-v02.api.letsencrypt.org",
            ]
            .iter()
            .enumerate()
            {
                let ip = addr("172.65.32", host);
                o.conn(
                    t + 3 * SEC + k as i64 * SEC,
                    &Conn::new(&p, &ip, 443, host),
                    r,
                );
            }
        }
        // OpenSSH (SFTP drop for a partner) is exposed: bots try passwords.
        if let Some(sshd) = service(
            r,
            ctx,
            Img::Services,
            "C:\\Windows\\System32\\OpenSSH\\sshd.exe",
        ) {
            for _ in 0..r.range(2, 5) {
                let ip = r.pick_str(&[
                    "218.92.0.112",
                    "61.177.172.140",
                    "183.81.169.238",
                    "45.148.10.240",
                ]);
                let t0 = at(r, ctx.day, 0, DAY - HOUR);
                for j in 0..r.range(5, 12) {
                    let t = t0 + j * r.range(20 * SEC, 90 * SEC);
                    let attempts = r.range(4, 6);
                    let f = format!(
                        "{{\"direction\":\"In\",\"auth_attempts\":{attempts},\"auth_success\":\"false\",\"client\":\"SSH-2.0-Go\",\"server\":\"SSH-2.0-OpenSSH_for_Windows_9.5\",\"cipher_alg\":\"chacha20-poly1305@openssh.com\",\"version\":2}}"
                    );
                    let k = Conn {
                        action: "SshConnectionInspected",
                        def: Some(&SSHD),
                        local_port: 22,
                        fields: &f,
                        ..Conn::new(&sshd, ip, 40_000 + r.below(20_000) as i32, "")
                    };
                    o.conn(t, &k, r);
                }
            }
        }
        // Internet-wide scanners probe the published ports.
        if let Some(sys) = ctx.proc(P::System) {
            for _ in 0..r.range(3, 7) {
                let (ip, port) = *r
                    .pick(&[
                        ("167.94.138.120", 443),
                        ("162.142.125.221", 22),
                        ("71.6.199.23", 3389),
                        ("198.235.24.156", 80),
                        ("147.185.132.84", 443),
                    ])
                    .unwrap_or(&("167.94.138.120", 443));
                let f = format!(
                    "{{\"PublicScannedIp\":\"20.94.31.10\",\"PublicScannedPort\":{port},\"ScanningIp\":\"{ip}\"}}"
                );
                let t = at(r, ctx.day, 0, DAY - 1);
                let k = Conn {
                    action: "InboundInternetScanInspected",
                    local_port: port,
                    fields: &f,
                    ..Conn::new(sys, ip, 40_000 + r.below(20_000) as i32, "")
                };
                o.conn(t, &k, r);
            }
        }
    }
    // The nightly discovery scan also covers the lab network behind the lab router.
    if crate::extra::scanner(w) == Some(ctx.dev)
        && let Some(p) = crate::extra::agent_procs(w, ctx)
            .into_iter()
            .find(|p| p.img == Img::Nessus)
    {
        let t0 = day0 + 2 * HOUR + 40 * MIN;
        const PORTS: [i32; 14] = [
            21, 22, 23, 80, 443, 445, 502, 1883, 3389, 5900, 8080, 8443, 9100, 161,
        ];
        for h in 0..3i64 {
            let ip = format!("192.168.50.{}", 10 + h * 7);
            for (j, &port) in PORTS.iter().enumerate() {
                let open = matches!(
                    (h, port),
                    (0, 80) | (0, 502) | (1, 9100) | (2, 22) | (2, 1883)
                );
                let k = Conn {
                    action: if open {
                        "ConnectionSuccess"
                    } else {
                        "ConnectionRequest"
                    },
                    public: false,
                    ..Conn::new(&p, &ip, port, "")
                };
                o.conn(t0 + h * 4 * SEC + j as i64 * 30_000_000, &k, r);
            }
        }
    }
}

/// The red-team exercise's connections: downloads from its server by the LOLBins it
/// tests, the reverse shell, and the SSH reverse tunnel over port 443.
/// The domain controller's RPC port for directory replication, and the local port of a
/// DCSync's connection to it (the same in the network and identity tables).
const DRSUAPI_PORT: i32 = 49_667;

fn dcsync_port(p: &Proc) -> i32 {
    50_000 + (p.pid % 10_000) as i32
}

fn red_team_network(o: &mut Out, r: &mut Rng) {
    let rt = crate::activity::RT_IP;
    for p in crate::activity::red_team_procs(o.w, o.ctx, o.dev) {
        let cmd = p.cmd.as_str();
        // Shells and reg.exe only pass the URL on.
        if matches!(p.img, Img::Cmd | Img::Reg) {
            continue;
        }
        if cmd.contains("lsadump::dcsync")
            && let Some(dc) = o.w.dcs.first().and_then(|&i| o.w.device(i))
        {
            // DRSUAPI over RPC to the domain controller.
            let k = Conn {
                public: false,
                local_port: dcsync_port(&p),
                ..Conn::new(&p, &dc.ip, DRSUAPI_PORT, "")
            };
            o.conn(p.created + 3 * SEC, &k, r);
        }
        if p.img == Img::Notepad && p.parent_img == Img::RtImplant {
            // The beacon injected into its spawn-to process.
            let t = p.created + r.range(2 * SEC, 10 * SEC);
            o.conn(t, &Conn::new(&p, rt, 443, ""), r);
            continue;
        }
        let (port, sig) = if p.img == Img::Ssh && cmd.contains(rt) {
            (443, Some("SSH"))
        } else if cmd.contains("-EncodedCommand") {
            (443, None)
        } else if cmd.contains(&format!("http://{rt}/")) {
            (80, Some("HTTP_Client"))
        } else {
            continue;
        };
        let t = p.created + r.range(300_000_000, 1_500_000_000);
        o.conn(t, &Conn::new(&p, rt, port, ""), r);
        if let Some(sig) = sig {
            let fields = if sig == "SSH" {
                "{\"SignatureName\":\"SSH\",\"SignatureMatchedContent\":\"SSH-2.0-OpenSSH_for_Windows_9.5\",\"SamplePacketContent\":\"SSH-2.0-OpenSSH_for_Windows_9.5\\r\\n\"}".to_string()
            } else {
                let path = cmd
                    .split(&format!("http://{rt}"))
                    .nth(1)
                    .and_then(|x| x.split([' ', '"', '\'', ')']).next())
                    .unwrap_or("/");
                format!(
                    "{{\"SignatureName\":\"HTTP_Client\",\"SignatureMatchedContent\":\"GET {path} HTTP/1.1\",\"SamplePacketContent\":\"GET {path} HTTP/1.1\\r\\nHost: {rt}\\r\\n\"}}"
                )
            };
            let k = Conn {
                action: "NetworkSignatureInspected",
                fields: &fields,
                ..Conn::new(&p, rt, port, "")
            };
            o.conn(t + 40_000_000, &k, r);
        }
    }
}

/// Extra `DeviceEvents` of one device-day.
pub(crate) fn events(w: &World, s: &mut Sink, ctx: &Ctx, dev: &Device) {
    let mut r = Rng::derive(&[w.seed, fnv("more-ev"), ctx.dev as u64, ctx.day as u64]);
    let mut o = Out {
        s,
        w,
        ctx,
        dev,
        seq: MORE_SEQ,
    };
    let c = o.s.c;
    let day0 = ctx.day * DAY;
    let user = ctx.user(w);
    let last_day = utc_day(w.now);

    // IT administers Entra ID with the MSOnline and AzureAD modules (pasting lists of
    // accounts from the clipboard).
    if let Some(u) = user
        && u.dept == DEPT_IT
        && weekday(ctx.day) < 5
        && r.chance(0.4)
        && let Some(adm) = u.admin_account
        && let Some((s0, s1)) = ctx.session
        && let Some(explorer) = ctx.proc(P::Explorer)
    {
        let t = (s0 + r.range(30 * MIN, ((s1 - s0) * 3 / 4).max(31 * MIN))) / 100 * 100;
        let p = child(
            &mut r,
            Img::PowerShell,
            "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" ".to_string(),
            t,
            explorer,
            Acct::User(adm),
            "High",
            explorer.logon_id + 1,
        );
        let cmds: &[&str] = if r.chance(0.5) {
            &[
                "Connect-MsolService",
                "Get-MsolUser",
                "Get-MsolAccountSku",
                "Set-MsolUserLicense",
                "Get-MsolUserRole",
            ]
        } else {
            &[
                "Connect-AzureAD",
                "Get-AzureADUser",
                "Get-AzureADGroupMember",
                "Add-AzureADGroupMember",
                "Set-AzureADUserManager",
            ]
        };
        let mut tt = t + 20 * SEC;
        for (i, cmd) in cmds.iter().enumerate() {
            if i == 2 && o.start(tt - 3 * SEC, "GetClipboardData") {
                o.end_event(&p, None);
            }
            if o.start(tt, "PowerShellCommand") {
                o.s.f(
                    c.AdditionalFields,
                    format_args!("{{\"Command\":\"{cmd}\"}}"),
                );
                o.end_event(&p, None);
            }
            tt += r.range(10 * SEC, 3 * MIN);
        }
    }

    // Servers are onboarded to Azure Arc over the last days of the window.
    if dev.is_server()
        && dev.role != Role::Dc
        && ctx.day == last_day - 1 - (fnv(&dev.name) % 3) as i64
        && let Some(services) = ctx.proc(P::Services)
    {
        let t = (day0 + 10 * HOUR + r.range(0, 4 * HOUR)) / SEC * SEC;
        for (k, (name, exe, display)) in [
            (
                "himds",
                "himds.exe",
                "Azure Hybrid Instance Metadata Service",
            ),
            (
                "GCArcService",
                "gc_arc_service.exe",
                "Guest Configuration Arc Service",
            ),
            (
                "ExtensionService",
                "gc_extension_service.exe",
                "Guest Configuration Extension Service",
            ),
        ]
        .iter()
        .enumerate()
        {
            if o.start(t + k as i64 * 2 * SEC, "ServiceInstalled") {
                let folder = if k == 0 {
                    "C:\\Program Files\\AzureConnectedMachineAgent"
                } else {
                    "C:\\Program Files\\AzureConnectedMachineAgent\\GCArcService\\GC"
                };
                let (sha1, sha256, md5) = file_hashes(exe);
                o.s.s(c.FileName, exe);
                o.s.f(c.FolderPath, format_args!("{folder}\\{exe}"));
                o.s.s(c.SHA1, &sha1);
                o.s.s(c.SHA256, &sha256);
                o.s.s(c.MD5, &md5);
                o.s.f(
                    c.AdditionalFields,
                    format_args!("{{\"ServiceName\":\"{name}\",\"ServiceDisplayName\":\"{display}\",\"ServiceImagePath\":\"\\\"{}\\\\{exe}\\\"\",\"ServiceAccount\":\"LocalSystem\",\"ServiceStartType\":\"AutoStart\",\"ServiceType\":\"Win32OwnProcess\"}}", folder.replace('\\', "\\\\")),
                );
                o.end_event(services, None);
            }
        }
    }

    // App Control for Business (WDAC) audit pilot on IT workstations: unsigned tools.
    if user.is_some_and(|u| u.dept == DEPT_IT)
        && let Some((s0, s1)) = ctx.session
        && let Some(explorer) = ctx.proc(P::Explorer)
    {
        for _ in 0..r.count(1.5) {
            let t = (s0 + r.range(10 * MIN, (s1 - s0).max(11 * MIN))) / 100 * 100;
            let (file, path) = *r
                .pick(&[
                    (
                        "procexp64.exe",
                        "C:\\Tools\\SysinternalsSuite\\procexp64.exe",
                    ),
                    ("putty.exe", "C:\\Users\\Public\\Tools\\putty.exe"),
                    ("WinSCP.exe", "C:\\Users\\Public\\Tools\\WinSCP\\WinSCP.exe"),
                    (
                        "npp.8.7.Installer.x64.exe",
                        "C:\\Users\\Public\\Downloads\\npp.8.7.Installer.x64.exe",
                    ),
                ])
                .unwrap_or(&("putty.exe", "C:\\Users\\Public\\Tools\\putty.exe"));
            if o.start(t, "AppControlCodeIntegrityPolicyAudited") {
                let (sha1, sha256, _) = file_hashes(file);
                o.s.s(c.FileName, file);
                o.s.s(c.FolderPath, path);
                o.s.s(c.SHA1, &sha1);
                o.s.s(c.SHA256, &sha256);
                o.s.s(
                    c.AdditionalFields,
                    "{\"PolicyName\":\"Contoso WDAC Audit Pilot\",\"PolicyID\":\"{A244370E-44C9-4C06-B551-F6016E563076}\",\"RequestedSigningLevel\":\"Microsoft\",\"ValidatedSigningLevel\":\"Unsigned\",\"StatusCode\":\"0xc0000428\",\"IsAudit\":true}",
                );
                o.end_event(explorer, None);
            }
        }
    }

    // The red-team exercise: AMSI catches its scripts, a WMI event subscription, an
    // impacket-style service on the target server, Mimikatz reading LSASS's memory,
    // SharpHound loaded from memory, the beacon injecting into its spawn-to process and a
    // Credential Manager backup.
    let red = crate::activity::red_team_procs(w, ctx, dev);
    for p in &red {
        let cmd = p.cmd.as_str();
        if cmd.contains("Invoke-Mimikatz")
            && let Some(lsass) = ctx.proc(P::Lsass)
            && o.start(
                p.created + r.range(4 * SEC, 9 * SEC),
                "ReadProcessMemoryApiCall",
            )
        {
            crate::host::file_of(o.s, w, Img::Lsass);
            o.s.l(c.ProcessId, lsass.pid);
            o.s.t(c.ProcessCreationTime, lsass.created);
            o.s.s(c.ProcessCommandLine, &lsass.cmd);
            o.end_event(p, None);
        }
        if cmd.contains("Invoke-BloodHound")
            && o.start(
                p.created + r.range(2 * SEC, 5 * SEC),
                "ClrUnbackedModuleLoaded",
            )
        {
            o.s.s(
                c.AdditionalFields,
                "{\"ModuleILPathOrName\":\"SharpHound\",\"ClrInstanceId\":0,\"ModuleFlags\":0,\"ModuleIdentifier\":\"SharpHound, Version=2.5.7.0, Culture=neutral, PublicKeyToken=null\"}",
            );
            o.end_event(p, None);
        }
        if p.img == Img::MsBuild
            && p.parent_img == Img::RtImplant
            && let Some(implant) = red.iter().find(|x| x.pid == p.parent_pid)
            && o.start(
                p.created + r.range(200_000_000, 900_000_000),
                "CreateRemoteThreadApiCall",
            )
        {
            crate::host::file_of(o.s, w, Img::MsBuild);
            o.s.l(c.ProcessId, p.pid);
            o.s.t(c.ProcessCreationTime, p.created);
            o.s.s(c.ProcessCommandLine, &p.cmd);
            o.end_event(implant, None);
        }
        if cmd.contains("AppX82a6gwre4fdg3bt635tn5ctqjf8msdd2") {
            for (i, command) in [
                "New-Item",
                "New-ItemProperty",
                "Set-ItemProperty",
                "Start-Process",
            ]
            .into_iter()
            .enumerate()
            {
                if o.start(
                    p.created + 100_000_000 + i as i64 * 50_000_000,
                    "PowerShellCommand",
                ) {
                    o.s.f(
                        c.AdditionalFields,
                        format_args!("{{\"Command\":\"{command}\"}}"),
                    );
                    o.end_event(p, None);
                }
            }
        }
        if cmd.contains("KRShowKeyMgr")
            && o.start(p.created + r.range(20 * SEC, 60 * SEC), "CredentialsBackup")
        {
            o.s.s(c.FileName, "CredentialManager.crd");
            o.s.s(c.FolderPath, "C:\\Users\\Public\\CredentialManager.crd");
            o.end_event(p, None);
        }
        let amsi = if cmd.contains("Invoke-Mimikatz") {
            Some("Invoke-Mimikatz")
        } else if cmd.contains("-EncodedCommand") {
            Some("Reverse shell")
        } else if cmd.contains("stage2.ps1") {
            Some("Suspicious script download")
        } else {
            None
        };
        if let Some(desc) = amsi
            && o.start(p.created + r.range(SEC, 3 * SEC), "AmsiScriptDetection")
        {
            o.s.f(
                c.AdditionalFields,
                format_args!("{{\"Description\":\"{desc}\",\"ContentSource\":\"PowerShell\",\"ContentName\":\"\",\"Action\":\"Detected\"}}"),
            );
            o.end_event(p, None);
        }
        if cmd.contains("Import-Module C:\\AtomicRedTeam") {
            // T1546.003: a permanent WMI event subscription running a script.
            let t = p.created + 17 * MIN;
            if o.start(t, "WmiBindEventFilterToConsumer") {
                o.s.s(
                    c.AdditionalFields,
                    "{\"Namespace\":\"//./root/subscription\",\"ESS\":\"AtomicRedTeam-WMIPersistence-Filter\",\"Consumer\":\"ActiveScriptEventConsumer=\\\"AtomicRedTeam-WMIPersistence-Consumer\\\"\",\"PossibleCause\":\"Binding EventFilter: instance of __EventFilter { EventNamespace = \\\"root\\\\\\\\cimv2\\\"; Name = \\\"AtomicRedTeam-WMIPersistence-Filter\\\"; Query = \\\"SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System' AND TargetInstance.SystemUpTime >= 240\\\"; QueryLanguage = \\\"WQL\\\"; }; Consumer: instance of ActiveScriptEventConsumer { Name = \\\"AtomicRedTeam-WMIPersistence-Consumer\\\"; ScriptingEngine = \\\"VBScript\\\"; ScriptText = \\\"CreateObject(\\\\\\\"WScript.Shell\\\\\\\").Run \\\\\\\"notepad.exe\\\\\\\";\\\"; };\"}",
                );
                o.end_event(p, None);
            }
        }
        if p.img == Img::Psexesvc
            && let Some(services) = ctx.proc(P::Services)
        {
            // The same exercise with impacket's psexec.py: a randomly named service.
            let name: String = {
                let mut x = String::new();
                for i in 0..8 {
                    let ch = (b'a' + r.below(26) as u8) as char;
                    x.push(if i % 3 == 0 {
                        ch.to_ascii_uppercase()
                    } else {
                        ch
                    });
                }
                x
            };
            let t = p.created + 6 * MIN;
            if o.start(t, "ServiceInstalled") {
                let exe = format!("{name}.exe");
                let (sha1, sha256, md5) = file_hashes("impacket-remcomsvc.exe");
                o.s.s(c.FileName, &exe);
                o.s.f(c.FolderPath, format_args!("C:\\Windows\\{exe}"));
                o.s.s(c.SHA1, &sha1);
                o.s.s(c.SHA256, &sha256);
                o.s.s(c.MD5, &md5);
                o.s.f(
                    c.AdditionalFields,
                    format_args!("{{\"ServiceName\":\"{}\",\"ServiceImagePath\":\"C:\\\\Windows\\\\{exe}\",\"ServiceAccount\":\"LocalSystem\",\"ServiceStartType\":\"DemandStart\",\"ServiceType\":\"Win32OwnProcess\"}}", &name[..4]),
                );
                o.end_event(services, None);
            }
        }
    }
}

/// One administrative operation in `CloudAppEvents` by `who`.
#[allow(clippy::too_many_arguments)]
fn admin_op(
    w: &World,
    s: &mut Sink,
    r: &mut Rng,
    lo: i64,
    hi: i64,
    who: usize,
    t: i64,
    action: &str,
    app: &crate::office::CloudApp,
    activity: &str,
    object: (&str, &str, &str),
    raw: &str,
    objects: &str,
) {
    let Some(u) = w.user(who) else {
        return;
    };
    if t < lo || t >= hi {
        return;
    }
    let rid = r.guid();
    let ip = w.egress_ips.first().map_or("", |s| s.as_str());
    let full = format!(
        ",\"OrganizationId\":\"{}\",\"Actor\":[{{\"ID\":\"{}\",\"Type\":5}},{{\"ID\":\"{}\",\"Type\":3}},{{\"ID\":\"User\",\"Type\":2}}]{raw}",
        w.tenant_id, u.upn, u.object_id
    );
    crate::office::write_cloud_ext(
        s,
        &crate::office::CloudEvent {
            t: t / 100 * 100,
            action,
            app,
            user: u,
            ip,
            country: "US",
            city: "Redmond",
            isp: "Microsoft Azure",
            user_agent: crate::office::EDGE_UA,
            activity,
            object_name: object.0,
            object_id: object.1,
            object_type: object.2,
            report_id: &rid,
            uncommon: false,
        },
        &crate::office::CloudExtra {
            raw: &full,
            activity_objects: objects,
            admin: u.kind == crate::world::UserKind::Admin,
            ..crate::office::CloudExtra::default()
        },
    );
}

/// Tenant-wide `CloudAppEvents` of a day beyond `office.rs`: Defender for Office 365
/// detections in SharePoint and OneDrive, Exchange mailbox settings, SharePoint group
/// changes, a service principal given a directory role, a certificate-based app given a
/// client secret, Defender portal operations (an offboarding package, a retired sensor, a
/// sandbox workspace disconnected) and Teams DLP matches.
pub(crate) fn cloud(w: &World, day: i64, lo: i64, hi: i64, s: &mut Sink) {
    use crate::office::{DEFENDER, EXCHANGE, OFFICE365, ONEDRIVE, SHAREPOINT, TEAMS};
    let mut r = Rng::derive(&[w.seed, fnv("more-cloud"), day as u64]);
    let day0 = day * DAY;
    let last = utc_day(w.now);
    let weekend = weekday(day) >= 5;
    let persons: Vec<usize> = w
        .users
        .iter()
        .enumerate()
        .filter(|(_, u)| u.kind == crate::world::UserKind::Person)
        .map(|(i, _)| i)
        .collect();
    let admins: Vec<usize> = w
        .users
        .iter()
        .enumerate()
        .filter(|(_, u)| u.kind == crate::world::UserKind::Admin)
        .map(|(i, _)| i)
        .collect();
    let (Some(&adm), false) = (admins.first(), persons.is_empty()) else {
        return;
    };
    let secadm = admins.get(1).copied().unwrap_or(adm);
    let person = |r: &mut Rng| persons.get(r.index(persons.len())).copied().unwrap_or(0);
    let mut raw = String::new();

    // Safe Attachments for SharePoint/OneDrive and the SharePoint virus engine catch a
    // "free" tool someone uploaded (every third day or so).
    if (day + (w.seed % 3) as i64) % 3 == 0 {
        let who = person(&mut r);
        if let Some(u) = w.user(who) {
            let t = day0 + r.range(9 * HOUR, 17 * HOUR);
            let file = r.pick_str(&[
                "PDFConverterSetup.exe",
                "KMSpico_setup.zip",
                "WinRAR_crack.exe",
            ]);
            let (_, sha256, _) = file_hashes(file);
            let mut url = String::new();
            crate::office::doc_url(&mut url, u, file);
            raw.clear();
            let _ = write!(
                raw,
                ",\"DetectionMethod\":\"Antimalware protection\",\"DetectionType\":\"File\",\"EventDeepLink\":\"https://security.microsoft.com/?hash={sha256}&tid={}\",\"FileData\":{{\"FileName\":\"{file}\",\"FilePath\":\"{url}\",\"FileSize\":2318336,\"SHA256\":\"{sha256}\",\"FileVerdict\":1,\"MalwareFamily\":\"PUA:Win32/Kuping\"}},\"LaunchedBy\":\"SafeAttachmentsForSPO\",\"SourceWorkload\":1",
                w.tenant_id
            );
            admin_op(
                w,
                s,
                &mut r,
                lo,
                hi,
                who,
                t,
                "AtpDetection",
                &ONEDRIVE,
                "Run",
                (file, &url, "File"),
                &raw,
                "",
            );
            raw.clear();
            let _ = write!(
                raw,
                ",\"SourceFileName\":\"{file}\",\"SiteUrl\":\"https://contoso-my.sharepoint.com/personal/{}/\",\"VirusVendor\":\"Microsoft\",\"VirusInfo\":\"PUA:Win32/Kuping\",\"SourceRelativeUrl\":\"Documents\"",
                u.upn.replace(['.', '@'], "_")
            );
            admin_op(
                w,
                s,
                &mut r,
                lo,
                hi,
                who,
                t + 90 * SEC,
                "FileMalwareDetected",
                &ONEDRIVE,
                "Run",
                (file, &url, "File"),
                &raw,
                "",
            );
        }
    }

    if !weekend {
        // SharePoint site owners add people to their sites' member groups.
        for _ in 0..r.range(1, 4) {
            let (owner, member) = (person(&mut r), person(&mut r));
            if let (Some(o), Some(m)) = (w.user(owner), w.user(member)) {
                let dept = crate::catalog::DEPTS.get(o.dept).map_or("team", |d| d.code);
                let site = format!("https://contoso.sharepoint.com/sites/{dept}");
                raw.clear();
                let _ = write!(
                    raw,
                    ",\"SiteUrl\":\"{site}/\",\"TargetUserOrGroupName\":\"{}\",\"TargetUserOrGroupType\":\"Member\",\"EventData\":\"<Group>{dept} Members</Group>\"",
                    m.upn
                );
                let t = day0 + r.range(9 * HOUR, 17 * HOUR);
                admin_op(
                    w,
                    s,
                    &mut r,
                    lo,
                    hi,
                    owner,
                    t,
                    "AddedToGroup",
                    &SHAREPOINT,
                    "Add",
                    (&site, &site, "Site"),
                    &raw,
                    "",
                );
            }
        }
        // Mail-flow changes: a user forwards supplier invoices to the AP mailbox.
        if r.chance(0.3) {
            let who = person(&mut r);
            if let Some(u) = w.user(who) {
                raw.clear();
                let _ = write!(
                    raw,
                    ",\"Parameters\":[{{\"Name\":\"Name\",\"Value\":\"Invoices to AP\"}},{{\"Name\":\"From\",\"Value\":\"billing@northwindtraders.com\"}},{{\"Name\":\"ForwardTo\",\"Value\":\"ap-invoices@contoso.com\"}},{{\"Name\":\"StopProcessingRules\",\"Value\":\"False\"}}],\"ClientIPAddress\":\"{}\",\"ExternalAccess\":false",
                    w.egress_ips.first().map_or("", |s| s.as_str())
                );
                let t = day0 + r.range(9 * HOUR, 17 * HOUR);
                admin_op(
                    w,
                    s,
                    &mut r,
                    lo,
                    hi,
                    who,
                    t,
                    "Set-InboxRule",
                    &EXCHANGE,
                    "Edit",
                    ("Invoices to AP", &u.upn, "Mailbox"),
                    &raw,
                    "",
                );
            }
        }
    }
    // The helpdesk forwards a leaver's mailbox to their manager.
    if day == last - 3 {
        let who = person(&mut r);
        if let Some(u) = w.user(who) {
            let mgr = u.manager.and_then(|m| w.user(m)).unwrap_or(u);
            raw.clear();
            let _ = write!(
                raw,
                ",\"Parameters\":[{{\"Name\":\"Identity\",\"Value\":\"{}\"}},{{\"Name\":\"ForwardingSmtpAddress\",\"Value\":\"smtp:{}\"}},{{\"Name\":\"DeliverToMailboxAndForward\",\"Value\":\"True\"}}]",
                u.upn, mgr.upn
            );
            let t = day0 + r.range(14 * HOUR, 16 * HOUR);
            admin_op(
                w,
                s,
                &mut r,
                lo,
                hi,
                adm,
                t,
                "Set-Mailbox",
                &EXCHANGE,
                "Edit",
                (&u.upn, &u.object_id, "Mailbox"),
                &raw,
                "",
            );
        }
    }
    // The day before the last: the new reporting app's service principal is given the
    // Reports Reader role, and the HR sync app (certificate-authenticated) gets a client
    // secret for a developer's test.
    if day == last - 1 {
        let (app_id, sp_id) = crate::posture::app_ids(w, 2);
        let name = "Contoso Power BI Reporting";
        raw.clear();
        let _ = write!(
            raw,
            ",\"ObjectId\":\"{sp_id}\",\"ModifiedProperties\":[{{\"Name\":\"Role.ObjectID\",\"NewValue\":\"4a5d8f65-41da-4de4-8968-e035b65339cf\",\"OldValue\":\"\"}},{{\"Name\":\"Role.DisplayName\",\"NewValue\":\"Reports Reader\",\"OldValue\":\"\"}},{{\"Name\":\"Role.TemplateId\",\"NewValue\":\"4a5d8f65-41da-4de4-8968-e035b65339cf\",\"OldValue\":\"\"}}],\"Target\":[{{\"ID\":\"ServicePrincipal_{sp_id}\",\"Type\":2}},{{\"ID\":\"{sp_id}\",\"Type\":2}},{{\"ID\":\"ServicePrincipal\",\"Type\":2}},{{\"ID\":\"{name}\",\"Type\":1}},{{\"ID\":\"{app_id}\",\"Type\":2}}]"
        );
        let t = day0 + 16 * HOUR + r.range(0, HOUR);
        admin_op(
            w,
            s,
            &mut r,
            lo,
            hi,
            adm,
            t,
            "Add member to role.",
            &OFFICE365,
            "Add",
            (name, &sp_id, "ServicePrincipal"),
            &raw,
            "",
        );

        let (app_id, sp_id) = crate::posture::app_ids(w, 3);
        let name = "Contoso HR Sync";
        let (k1, k2) = (r.guid(), r.guid());
        raw.clear();
        let _ = write!(
            raw,
            ",\"ObjectId\":\"{sp_id}\",\"ModifiedProperties\":[{{\"Name\":\"KeyDescription\",\"NewValue\":\"[\\\"[KeyIdentifier={k1},KeyType=AsymmetricX509Cert,KeyUsage=Verify,DisplayName=CN=hrsync.contoso.com]\\\",\\\"[KeyIdentifier={k2},KeyType=Password,KeyUsage=Verify,DisplayName=dev-test]\\\"]\",\"OldValue\":\"[\\\"[KeyIdentifier={k1},KeyType=AsymmetricX509Cert,KeyUsage=Verify,DisplayName=CN=hrsync.contoso.com]\\\"]\"}},{{\"Name\":\"Included Updated Properties\",\"NewValue\":\"KeyDescription\",\"OldValue\":\"\"}}],\"Target\":[{{\"ID\":\"ServicePrincipal_{sp_id}\",\"Type\":2}},{{\"ID\":\"{sp_id}\",\"Type\":2}},{{\"ID\":\"ServicePrincipal\",\"Type\":2}},{{\"ID\":\"{name}\",\"Type\":1}},{{\"ID\":\"{app_id}\",\"Type\":2}}]"
        );
        let t = day0 + 11 * HOUR + r.range(0, HOUR);
        admin_op(
            w,
            s,
            &mut r,
            lo,
            hi,
            adm,
            t,
            "Add service principal credentials.",
            &OFFICE365,
            "Add",
            (name, &sp_id, "Application"),
            &raw,
            "",
        );
    }
    // Defender portal housekeeping: a retired laptop's offboarding package, the old
    // domain controller's Defender for Identity sensor, a sandbox Sentinel workspace.
    if day == last - 4 {
        let ip = w.egress_ips.first().map_or("", |s| s.as_str()).to_string();
        let t = day0 + r.range(10 * HOUR, 12 * HOUR);
        raw.clear();
        let _ = write!(
            raw,
            ",\"ClientIP\":\"{ip}\",\"PackageType\":\"Offboarding\",\"OSPlatform\":\"Windows10\""
        );
        admin_op(
            w,
            s,
            &mut r,
            lo,
            hi,
            secadm,
            t,
            "DownloadOffboardingPkg",
            &DEFENDER,
            "Download",
            (
                "Offboarding package",
                "WindowsDefenderATPOffboardingPackage",
                "Other",
            ),
            &raw,
            "",
        );
        raw.clear();
        raw.push_str(",\"ResultDescription\":\"Sensor SRV-DC-00 deleted (decommissioned domain controller)\",\"SensorName\":\"SRV-DC-00\"");
        admin_op(
            w,
            s,
            &mut r,
            lo,
            hi,
            secadm,
            t + 40 * MIN,
            "SensorDeleted",
            &DEFENDER,
            "Delete",
            ("SRV-DC-00", "SRV-DC-00", "Other"),
            &raw,
            "",
        );
        let (ws_id, sub) = (r.guid(), r.guid());
        raw.clear();
        let _ = write!(
            raw,
            ",\"WorkspaceId\":\"{ws_id}\",\"Status\":\"Succeeded\",\"SubscriptionId\":\"{sub}\",\"ResourceGroup\":\"rg-sentinel-sandbox\",\"WorkspaceType\":\"Secondary\",\"WorkspaceName\":\"law-contoso-sandbox\""
        );
        admin_op(
            w,
            s,
            &mut r,
            lo,
            hi,
            secadm,
            t + 55 * MIN,
            "SentinelDisconnectWorkspace",
            &DEFENDER,
            "Edit",
            ("law-contoso-sandbox", &ws_id, "Other"),
            &raw,
            "",
        );
    }
    // Teams DLP: a credit card number pasted into a chat (policy tip shown).
    if !weekend && r.chance(0.5) {
        let who = person(&mut r);
        let t = day0 + r.range(9 * HOUR, 17 * HOUR);
        raw.clear();
        let _ = write!(
            raw,
            ",\"PolicyDetails\":[{{\"PolicyId\":\"{}\",\"PolicyName\":\"PCI DSS - Teams\",\"Rules\":[{{\"RuleName\":\"Credit card numbers shared\",\"Actions\":[\"NotifyUser\",\"BlockAccess\"],\"Severity\":\"Medium\"}}]}}],\"SensitiveInfoDetectionIsIncluded\":true,\"ExceptionInfo\":null",
            r.guid()
        );
        admin_op(
            w,
            s,
            &mut r,
            lo,
            hi,
            who,
            t,
            "DlpRuleMatch",
            &TEAMS,
            "Run",
            ("Chat message", "19:meeting", "Message"),
            &raw,
            "",
        );
    }
}

/// The alerts the red-team exercise raises (Defender for Endpoint), from the exercise's
/// processes.
pub(crate) fn red_team_alerts(
    o: &mut crate::stories::StoryOut,
) -> Result<(), peregrine_store::IngestError> {
    use crate::stories::{ev_machine, ev_process, ev_user};
    let w = o.w;
    let Some(ex) = crate::activity::exercise(w) else {
        return Ok(());
    };
    for dev in [ex.ws, ex.target] {
        let Some(d) = w.device(dev) else { continue };
        let lo = (ex.day * DAY).max(w.start);
        let hi = ((ex.day + 1) * DAY).min(w.now);
        let ctx = Ctx::new(w, dev, ex.day, lo, hi);
        for p in crate::activity::red_team_procs(w, &ctx, d) {
            let cmd = p.cmd.as_str();
            let hit = if cmd.contains("Invoke-Mimikatz") {
                Some((
                    "Mimikatz credential theft tool",
                    "CredentialAccess",
                    "High",
                    "[\"Credential Dumping (T1003)\",\"OS Credential Dumping: LSASS Memory (T1003.001)\"]",
                ))
            } else if cmd.contains("procdump64.exe\" -accepteula -ma lsass") {
                Some((
                    "Suspicious Lsass Process Access",
                    "CredentialAccess",
                    "High",
                    "[\"OS Credential Dumping: LSASS Memory (T1003.001)\"]",
                ))
            } else if cmd.contains("Rubeus.exe\" asktgt") {
                Some((
                    "Command line used for possible overpass-the-hash",
                    "CredentialAccess",
                    "High",
                    "[\"Use Alternate Authentication Material: Pass the Ticket (T1550.003)\"]",
                ))
            } else if cmd.contains("Rubeus.exe\" kerberoast") {
                Some((
                    "Possible Kerberoasting activity",
                    "CredentialAccess",
                    "Medium",
                    "[\"Steal or Forge Kerberos Tickets: Kerberoasting (T1558.003)\"]",
                ))
            } else if cmd.contains("SharpHound.exe") {
                Some((
                    "Bloodhound post-exploitation tool",
                    "Discovery",
                    "High",
                    "[\"Domain Account (T1087.002)\",\"Domain Groups (T1069.002)\"]",
                ))
            } else if cmd.contains("-EncodedCommand") {
                Some((
                    "Suspicious PowerShell download or encoded command execution",
                    "Execution",
                    "Medium",
                    "[\"PowerShell (T1059.001)\"]",
                ))
            } else if p.img == Img::Psexesvc {
                Some((
                    "File dropped and launched from remote location",
                    "LateralMovement",
                    "Medium",
                    "[\"Remote Services: SMB/Windows Admin Shares (T1021.002)\"]",
                ))
            } else {
                None
            };
            let Some((title, category, severity, techniques)) = hit else {
                continue;
            };
            let m = ev_machine(d);
            let pe = ev_process(&p, d);
            let who = match p.acct {
                Acct::User(u) => u,
                _ => d.user.unwrap_or(0),
            };
            let u = ev_user(who, "Impacted");
            o.alert(
                p.created + 5 * SEC,
                title,
                category,
                severity,
                "Microsoft Defender for Endpoint",
                "EDR",
                techniques,
                &[&m, &pe, &u],
            )?;
        }
    }
    Ok(())
}

/// Defender for Identity rows of a day beyond `identity.rs`: the red-team exercise's
/// SharpHound and Rubeus LDAP queries against the domain controller, and a new admin
/// added to Domain Admins (two days before the end of the window).
/// The columns every Active Directory change an administrator makes over LDAP on `dc`
/// shares (the row stays open for the change's `AdditionalFields`).
fn ldap_change(
    directory: &mut Sink,
    t: i64,
    action: &str,
    dc: &Device,
    actor: &crate::world::User,
    target: &crate::world::User,
    report_id: &str,
) {
    let c = directory.c;
    directory.t(c.Timestamp, t);
    directory.s(c.ActionType, action);
    directory.s(c.Application, "Active Directory");
    directory.s(c.DestinationDeviceName, &dc.netbios);
    directory.s(c.DestinationIPAddress, &dc.ip);
    directory.s(c.ReportId, report_id);
    crate::identity::identity_account(directory, actor);
    directory.s(c.TargetAccountUpn, &target.upn);
    directory.s(c.TargetAccountDisplayName, &target.display);
    directory.s(c.Protocol, "Ldap");
    directory.i(c.DestinationPort, 389);
}

pub(crate) fn identity(
    w: &World,
    day: i64,
    lo: i64,
    hi: i64,
    queries: &mut Sink,
    directory: &mut Sink,
) {
    use crate::identity::{IdQuery, identity_account, write_id_query};
    let mut r = Rng::derive(&[w.seed, fnv("more-identity"), day as u64]);
    let dc = w.dcs.first().and_then(|&i| w.device(i));
    if let Some(ex) = crate::activity::exercise(w)
        && ex.day == day
        && let Some(d) = w.device(ex.ws)
        && let Some(u) = d.user.and_then(|u| w.user(u))
    {
        let lo_d = (day * DAY).max(lo);
        let ctx = Ctx::new(w, ex.ws, day, lo_d, hi.min((day + 1) * DAY));
        let procs = crate::activity::red_team_procs(w, &ctx, d);
        let at_of = |needle: &str| {
            procs
                .iter()
                .find(|p| p.cmd.contains(needle))
                .map(|p| p.created)
        };
        const SENSITIVE: [&str; 8] = [
            "Administrators",
            "Domain Controllers",
            "Domain Admins",
            "Account Operators",
            "Backup Operators",
            "Enterprise Admins",
            "Group Policy Creator Owners",
            "Schema Admins",
        ];
        let mut batch: Vec<(i64, &str, String, String, String)> = Vec::new(); // (t, type, target, filter, count)
        if let Some(t0) = at_of("SharpHound.exe") {
            let t0 = t0 + 2 * SEC;
            let mut filters: Vec<(&str, String, String)> = vec![
                ("AllObjects", String::new(), "(objectClass=*)".to_string()),
                ("AllDomains", String::new(), "(objectclass=domain)".to_string()),
                ("AllSecurityPrincipals", String::new(), "(|(samaccounttype=268435456)(samaccounttype=268435457)(samaccounttype=536870912)(samaccounttype=536870913)(samaccounttype=805306368)(samaccounttype=805306369))".to_string()),
                ("AllOrganizationalUnits", String::new(), "(objectcategory=organizationalUnit)".to_string()),
                ("AllGroupPolicies", String::new(), "(objectcategory=groupPolicyContainer)".to_string()),
                ("AllTrustDomains", String::new(), "(objectclass=trusteddomain)".to_string()),
                ("Computers", String::new(), "(&(sAMAccountType=805306369)(!(UserAccountControl:1.2.840.113556.1.4.803:=2))(operatingSystem=*))".to_string()),
                ("Users", String::new(), "(&(objectCategory=person)(objectClass=user)(|(description=*pass*)(comment=*pass*)))".to_string()),
                ("Users", String::new(), "(&(samAccountType=805306368)(admincount=1))".to_string()),
                ("Users", String::new(), "(msds-allowedtodelegateto=*)".to_string()),
                ("Computers", String::new(), "(ms-mcs-admpwdexpirationtime=*)".to_string()),
                ("AllObjects", String::new(), "(objectclass=pKICertificateTemplate)".to_string()),
                ("AllObjects", String::new(), "(objectclass=certificationAuthority)".to_string()),
            ];
            for g in SENSITIVE {
                filters.push((
                    "Group",
                    g.to_string(),
                    format!("(&(objectClass=group)(cn={g}))"),
                ));
            }
            for (k, (qt, target, f)) in filters.into_iter().enumerate() {
                let count = if k == 0 {
                    "742".to_string()
                } else {
                    String::new()
                };
                batch.push((t0 + k as i64 * 1_700_000_000 / 10, qt, target, f, count));
            }
        }
        if let Some(t0) = at_of("Rubeus.exe\" kerberoast") {
            batch.push((
                t0 + 900_000_000,
                "Users",
                String::new(),
                "(&(samAccountType=805306368)(servicePrincipalName=*)(!samAccountName=krbtgt)(!(UserAccountControl:1.2.840.113556.1.4.803:=2)))".to_string(),
                String::new(),
            ));
            batch.push((
                t0 + 1_400_000_000,
                "Users",
                String::new(),
                "(&(samAccountType=805306368)(userAccountControl:1.2.840.113556.1.4.803:=4194304))"
                    .to_string(),
                String::new(),
            ));
        }
        let mut q = String::new();
        for (t, qt, target, filter, count) in &batch {
            let t = t / 100 * 100;
            if t < lo || t >= hi {
                continue;
            }
            if !count.is_empty() {
                // Set before the row's other columns (the first value of a column wins).
                let c = queries.c;
                queries.f(
                    c.AdditionalFields,
                    format_args!("{{\"Count\":\"{count}\"}}"),
                );
            }
            q.clear();
            let _ = write!(
                q,
                "Search Scope: WholeSubtree, Base Object:DC=contoso,DC=com, Search Filter: {filter}"
            );
            let rid = r.guid();
            write_id_query(
                queries,
                &IdQuery {
                    t,
                    action: "LDAP query",
                    query_type: qt,
                    target,
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
        }
    }
    // The red team's DCSync, as Defender for Identity reports it.
    if let Some(ex) = crate::activity::exercise(w)
        && ex.day == day
        && let (Some(d), Some(dc)) = (w.device(ex.ws), dc)
    {
        let ctx = Ctx::new(w, ex.ws, day, (day * DAY).max(lo), hi.min((day + 1) * DAY));
        for p in crate::activity::red_team_procs(w, &ctx, d) {
            let Acct::User(ui) = p.acct else { continue };
            let t = p.created + 3 * SEC;
            if !p.cmd.contains("lsadump::dcsync") || t < lo || t >= hi {
                continue;
            }
            let Some(u) = w.user(ui) else { continue };
            let c = directory.c;
            directory.t(c.Timestamp, t);
            directory.s(c.ActionType, "Directory Services replication");
            directory.s(c.Application, "Active Directory");
            identity_account(directory, u);
            directory.s(c.DeviceName, &d.netbios);
            directory.s(c.IPAddress, &d.ip);
            directory.i(c.Port, dcsync_port(&p));
            directory.s(c.DestinationDeviceName, &dc.netbios);
            directory.s(c.DestinationIPAddress, &dc.ip);
            directory.i(c.DestinationPort, DRSUAPI_PORT);
            directory.s(c.Protocol, "Drsr");
            directory.f(c.ReportId, format_args!("{}-r", r.guid()));
            directory.s(
                c.AdditionalFields,
                "{\"TARGET_OBJECT.USER\":\"krbtgt\",\"ReplicationType\":\"GetNCChanges\"}",
            );
            directory.end();
        }
    }
    // Three days before the end: IT hardens the service accounts to AES-only Kerberos.
    if day == utc_day(w.now) - 3
        && let (Some(actor), Some(dc)) = (admins_first(w), dc)
    {
        for (k, svc) in ["svc-sql", "svc-web", "svc-backup"].into_iter().enumerate() {
            let Some(target) = w.users.iter().find(|u| u.sam == svc) else {
                continue;
            };
            let t =
                (day * DAY + 10 * HOUR + k as i64 * 90 * SEC + r.range(0, 60 * SEC)) / 100 * 100;
            if t < lo || t >= hi {
                continue;
            }
            let c = directory.c;
            let change = "Account Supported Encryption Types changed";
            ldap_change(
                directory,
                t,
                change,
                dc,
                actor,
                target,
                &format!("{}-e", r.guid()),
            );
            directory.f(
                c.AdditionalFields,
                format_args!(
                    "{{\"FROM AccountSupportedEncryptionTypes\":\"Rc4Hmac, Aes128CtsHmacSha196, Aes256CtsHmacSha196\",\"TO AccountSupportedEncryptionTypes\":\"Aes128CtsHmacSha196, Aes256CtsHmacSha196\",\"ACTOR.ACCOUNT\":\"{}\",\"TARGET_OBJECT.USER\":\"{}\"}}",
                    actor.sam, target.sam
                ),
            );
            directory.end();
        }
    }
    // Two days before the end: a newly hired administrator's account joins Domain Admins.
    let admins: Vec<&crate::world::User> = w
        .users
        .iter()
        .filter(|u| u.kind == crate::world::UserKind::Admin)
        .collect();
    if day == utc_day(w.now) - 2
        && let (Some(actor), Some(target), Some(dc)) = (admins.first(), admins.last(), dc)
    {
        let t = (day * DAY + 14 * HOUR + r.range(0, HOUR)) / 100 * 100;
        if t >= lo && t < hi {
            let c = directory.c;
            let change = "Group Membership changed";
            ldap_change(
                directory,
                t,
                change,
                dc,
                actor,
                target,
                &format!("{}-g", r.guid()),
            );
            directory.f(
                c.AdditionalFields,
                format_args!(
                    "{{\"TO.GROUP\":\"Domain Admins\",\"ACTOR.ACCOUNT\":\"{}\",\"TARGET_OBJECT.USER\":\"{}\"}}",
                    actor.sam, target.display
                ),
            );
            directory.end();
        }
    }
}

/// The first administrator account.
fn admins_first(w: &World) -> Option<&crate::world::User> {
    w.users
        .iter()
        .find(|u| u.kind == crate::world::UserKind::Admin)
}

/// Mail threats inside the organisation: people forward a phishing mail to colleagues
/// ("is this real?") and, once, a malicious remittance attachment to accounts payable;
/// Defender for Office 365 catches both (intra-org).
pub(crate) fn mail(w: &World, day: i64, lo: i64, hi: i64, sinks: &mut crate::office::MailSinks) {
    use crate::office::{Mail, write_mail};
    let mut r = Rng::derive(&[w.seed, fnv("more-mail"), day as u64]);
    if weekday(day) >= 5 {
        return;
    }
    let persons: Vec<&crate::world::User> = w
        .users
        .iter()
        .filter(|u| u.kind == crate::world::UserKind::Person)
        .collect();
    if persons.len() < 3 {
        return;
    }
    let auth = "{\"SPF\":\"pass\",\"DKIM\":\"pass\",\"DMARC\":\"pass\",\"CompAuth\":\"pass\"}";
    let malware_day = day == utc_day(w.now) - 3;
    if !(r.chance(0.5) || malware_day) {
        return;
    }
    let Some(&from) = persons.get(r.index(persons.len())) else {
        return;
    };
    let t0 = (day * DAY + r.range(9 * HOUR, 16 * HOUR)) / 100 * 100;
    let (subject, threat, detection, att) = if malware_day {
        (
            "FW: Remittance advice",
            "Malware",
            "{\"Malware\":[\"File detonation\"]}",
            Some("Remittance_Advice.html"),
        )
    } else {
        (
            "FW: Your mailbox is almost full",
            "Phish",
            "{\"Phish\":[\"URL malicious reputation\"]}",
            None,
        )
    };
    let imid = format!("<{}@DM6PR11MB4657.namprd11.prod.outlook.com>", r.hex(24));
    for _ in 0..r.range(1, 3) {
        let Some(&to) = persons.get(r.index(persons.len())) else {
            continue;
        };
        if to.upn == from.upn {
            continue;
        }
        let t = t0 + r.range(2 * SEC, 20 * SEC);
        if t < lo || t >= hi {
            continue;
        }
        let nmid = r.guid();
        let rid = format!("{nmid}-{}", r.below(1_000_000));
        write_mail(
            &mut sinks.events,
            &Mail {
                t,
                nmid: &nmid,
                imid: &imid,
                sender: &from.upn,
                sender_name: &from.display,
                sender_oid: &from.object_id,
                sender_ip: "",
                recipient: &to.upn,
                recipient_oid: &to.object_id,
                subject,
                direction: "Intra-org",
                delivery_action: "Blocked",
                delivery_location: "Quarantine",
                latest_location: "Quarantine",
                latest_action: "Blocked",
                threat,
                threat_names: if att.is_some() {
                    "Trojan:HTML/Phish.PHAC!MTB"
                } else {
                    ""
                },
                detection,
                confidence: if att.is_some() {
                    ""
                } else {
                    "{\"Phish\":\"High\"}"
                },
                bcl: 0,
                email_action: "Send to quarantine",
                policy: if att.is_some() {
                    "Antimalware"
                } else {
                    "Antiphish"
                },
                auth,
                attachments: i32::from(att.is_some()),
                urls: i32::from(att.is_none()),
                report_id: &rid,
            },
        );
        if let Some(file) = att {
            let s = &mut sinks.attachments;
            let c = s.c;
            let (_, sha256, _) = file_hashes(file);
            s.t(c.Timestamp, t);
            s.s(c.NetworkMessageId, &nmid);
            s.s(c.SenderFromAddress, &from.upn);
            s.s(c.SenderDisplayName, &from.display);
            s.s(c.SenderObjectId, &from.object_id);
            s.s(c.RecipientEmailAddress, &to.upn);
            s.s(c.RecipientObjectId, &to.object_id);
            s.s(c.FileName, file);
            s.s(c.FileType, "html");
            s.s(c.SHA256, &sha256);
            s.l(c.FileSize, 6_144);
            s.s(c.ThreatTypes, "Malware");
            s.s(c.ThreatNames, "Trojan:HTML/Phish.PHAC!MTB");
            s.s(c.DetectionMethods, "{\"Malware\":[\"File detonation\"]}");
            s.f(c.ReportId, format_args!("{rid}-a0"));
            s.end();
        } else {
            let s = &mut sinks.urls;
            let c = s.c;
            s.t(c.Timestamp, t);
            s.s(c.NetworkMessageId, &nmid);
            s.s(
                c.Url,
                "https://office365-mailbox.click/owa/quota/upgrade?id=7731",
            );
            s.s(c.UrlDomain, "office365-mailbox.click");
            s.s(c.UrlLocation, "Body");
            s.f(c.ReportId, format_args!("{rid}-u0"));
            s.end();
        }
    }
}
