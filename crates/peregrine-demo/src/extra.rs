//! Endpoint activity beyond the per-event background mix, per device and UTC day: the
//! remote-support, patching and scanning agents some devices run (and their cloud
//! connections), the weekly-ish vulnerability scan from `srv-app-01`, listening sockets,
//! network inspection events, protection events (attack surface reduction, SmartScreen,
//! network protection, controlled folder access), device plumbing (PnP devices, boot
//! attestation, Wi-Fi) and IT administration (Intune scripts, PsExec, service installs).
//!
//! Rows use their own `ReportId` range per device-day ([`EXTRA_SEQ`]).

use crate::catalog::{DEPT_FIN, DEPT_IT, Img};
use crate::host::{Acct, Ctx, P, Proc, account, head, initiating, report_id};
use crate::rng::{Rng, file_hashes, fnv};
use crate::sink::Sink;
use crate::world::{DAY, Device, HOUR, MIN, Role, SEC, World, weekday};

/// First sequence number of these rows in a device-day (background rows stay below, story
/// rows above).
pub(crate) const EXTRA_SEQ: u64 = 0xe_0000;

const DEPT_SALES: usize = 3;
const DEPT_ENG: usize = 4;

/// The agents (long-running third-party services) of a device.
pub(crate) fn agent_images(w: &World, dev: usize) -> Vec<Img> {
    let Some(d) = w.device(dev) else {
        return Vec::new();
    };
    let mut r = Rng::derive(&[w.seed, fnv("agents"), dev as u64]);
    let mut out = Vec::new();
    if d.is_server() {
        out.push(Img::ScreenConnect);
        if Some(dev) == scanner(w) {
            out.push(Img::Nessus);
        }
        return out;
    }
    out.push(Img::PdqConnect);
    let x = r.unit();
    if d.dept == DEPT_IT || x < 0.1 {
        out.push(Img::TeamViewer);
    }
    if d.dept == DEPT_ENG && r.chance(0.4) {
        out.push(Img::Splashtop);
    }
    if d.dept == DEPT_SALES && r.chance(0.3) {
        out.push(Img::AnyDesk);
    }
    out
}

/// The vulnerability scanner: Tenable Nessus on the first application server (the file
/// server in tenants without one).
pub(crate) fn scanner(w: &World) -> Option<usize> {
    let role = |r: Role| {
        w.servers
            .iter()
            .copied()
            .find(|&i| w.device(i).is_some_and(|d| d.role == r))
    };
    role(Role::App).or_else(|| role(Role::File))
}

/// The agent processes of a device: services started at boot by `services.exe`.
pub(crate) fn agent_procs(w: &World, ctx: &Ctx) -> Vec<Proc> {
    let Some(services) = ctx.proc(P::Services) else {
        return Vec::new();
    };
    let mut r = Rng::derive(&[w.seed, fnv("agent-procs"), ctx.dev as u64]);
    agent_images(w, ctx.dev)
        .into_iter()
        .map(|img| {
            let def = w.image(img).def;
            Proc {
                img,
                pid: r.range(1000, 9000) / 4 * 4,
                cmd: if img == Img::ScreenConnect {
                    format!(
                        "\"{}\" \"?e=Access&y=Guest&h=instance-7c1d9e-relay.screenconnect.com&p=443&s=2f4a8b1c-6d3e-4f7a-9b2c-5e8d1a3f7c60&k=BgIAAACkAABSU0ExAAgAAAEAAQ&t=&c=Contoso&c=Servers\"",
                        def.path
                    )
                } else {
                    format!("\"{}\"", def.path)
                },
                created: services.created + r.range(20 * SEC, 120 * SEC),
                acct: Acct::System,
                integrity: "System",
                elevation: "TokenElevationTypeDefault",
                logon_id: 999,
                session: 0,
                parent_img: services.img,
                parent_pid: services.pid,
                parent_created: services.created,
            }
        })
        .collect()
}

/// When an agent of this device updates itself on this UTC day (once in the window, in
/// the night before the last six days), and its service's name.
pub(crate) fn agent_update(w: &World, ctx: &Ctx, img: Img) -> Option<(i64, &'static str)> {
    let mut ar = Rng::derive(&[w.seed, fnv("agent-update"), ctx.dev as u64, img as u64]);
    let update_day = crate::world::utc_day(w.now) - 1 - ar.range(0, 6);
    if update_day != ctx.day {
        return None;
    }
    let name = match img {
        Img::TeamViewer => "TeamViewer",
        Img::ScreenConnect => "ScreenConnect Client (7c1d9e4f2a6b3850)",
        Img::PdqConnect => "PDQConnectAgent",
        Img::Splashtop => "SplashtopRemoteService",
        Img::AnyDesk => "AnyDesk",
        Img::Nessus => "Tenable Nessus",
        _ => return None,
    };
    Some(((ctx.day * DAY + ar.range(HOUR, 5 * HOUR)) / SEC * SEC, name))
}

/// A process started for the occasion (not one of the device's long-running ones).
#[allow(clippy::too_many_arguments)]
pub(crate) fn child(
    r: &mut Rng,
    img: Img,
    cmd: String,
    t: i64,
    parent: &Proc,
    acct: Acct,
    integrity: &'static str,
    logon_id: i64,
) -> Proc {
    Proc {
        img,
        pid: r.range(1000, 40000) / 4 * 4,
        cmd,
        created: t,
        acct,
        integrity,
        elevation: if integrity == "Medium" {
            "TokenElevationTypeLimited"
        } else {
            "TokenElevationTypeDefault"
        },
        logon_id,
        session: if matches!(acct, Acct::User(_)) { 1 } else { 0 },
        parent_img: parent.img,
        parent_pid: parent.pid,
        parent_created: parent.created,
    }
}

struct Out<'a> {
    s: &'a mut Sink,
    w: &'a World,
    ctx: &'a Ctx,
    dev: &'a Device,
    seq: u64,
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
    fn end_event(&mut self, p: Option<&Proc>) {
        let c = self.s.c;
        if let Some(p) = p {
            let (dom, name, sid, _, _) = account(self.w, p.acct);
            self.s.s(c.AccountDomain, dom);
            self.s.s(c.AccountName, name);
            self.s.s(c.AccountSid, sid);
            initiating(self.s, self.w, p);
        }
        self.s.end();
    }

    #[allow(clippy::too_many_arguments)]
    fn conn(
        &mut self,
        t: i64,
        action: &str,
        p: &Proc,
        remote_ip: &str,
        remote_port: i32,
        url: &str,
        public: bool,
        protocol: &str,
        local_port: i32,
        fields: Option<&str>,
    ) {
        if !self.start(t, action) {
            return;
        }
        let c = self.s.c;
        self.s.s(c.RemoteIP, remote_ip);
        self.s.i(c.RemotePort, remote_port);
        self.s.so(c.RemoteUrl, url);
        self.s.s(c.LocalIP, &self.dev.ip);
        self.s.i(c.LocalPort, local_port);
        self.s.s(c.Protocol, protocol);
        self.s.s(c.LocalIPType, "Private");
        self.s
            .s(c.RemoteIPType, if public { "Public" } else { "Private" });
        if let Some(f) = fields {
            self.s.s(c.AdditionalFields, f);
        }
        initiating(self.s, self.w, p);
        self.s.end();
    }

    fn listening(&mut self, t: i64, p: &Proc, port: i32, protocol: &str) {
        if !self.start(t, "ListeningConnectionCreated") {
            return;
        }
        let c = self.s.c;
        self.s.s(c.LocalIP, "0.0.0.0");
        self.s.i(c.LocalPort, port);
        self.s.s(c.Protocol, protocol);
        self.s.s(c.LocalIPType, "Unspecified");
        initiating(self.s, self.w, p);
        self.s.end();
    }
}

fn ephemeral(r: &mut Rng) -> i32 {
    49_152 + r.below(16_000) as i32
}

/// Time of a scan day's run on the scanner (02:00 UTC plus jitter); `None` on days without.
fn scan_start(w: &World, day: i64) -> Option<i64> {
    let mut r = Rng::derive(&[w.seed, fnv("scan"), day as u64]);
    Some(day * DAY + 2 * HOUR + r.range(0, 20 * MIN) / SEC * SEC)
}

/// The ports the discovery scan probes.
const SCAN_PORTS: [i32; 24] = [
    21, 22, 23, 25, 53, 80, 88, 135, 139, 389, 443, 445, 1433, 1434, 3306, 3389, 5432, 5900, 5985,
    5986, 8080, 8443, 9389, 636,
];

/// When the scan reaches target `k`, and the target's devices in scan order.
fn scan_targets(w: &World, me: usize) -> Vec<usize> {
    (0..w.devices.len()).filter(|&i| i != me).collect()
}

fn scan_time(start: i64, k: usize) -> i64 {
    start + (k as i64) * 4 * SEC
}

/// Extra `DeviceNetworkEvents` of one device-day.
pub(crate) fn network(w: &World, s: &mut Sink, ctx: &Ctx, dev: &Device) {
    let mut r = Rng::derive(&[w.seed, fnv("extra-net"), ctx.dev as u64, ctx.day as u64]);
    let mut o = Out {
        s,
        w,
        ctx,
        dev,
        seq: EXTRA_SEQ,
    };
    let day0 = ctx.day * DAY;
    let agents = agent_procs(w, ctx);
    // Agent heartbeats to their clouds.
    for p in &agents {
        let (hosts, prefix, port, n): (&[&str], &str, i32, u64) = match p.img {
            Img::TeamViewer => (
                &[
                    "router4.teamviewer.com",
                    "router11.teamviewer.com",
                    "master9.teamviewer.com",
                    "client.teamviewer.com",
                ],
                "217.146.28",
                5938,
                24,
            ),
            Img::ScreenConnect => (
                &["instance-7c1d9e-relay.screenconnect.com"],
                "147.75.63",
                443,
                24,
            ),
            Img::PdqConnect => (&["app.pdq.com", "cfcdn.pdq.com"], "104.18.21", 443, 12),
            Img::Splashtop => (
                &["st2-v3-dc.splashtop.com", "relay.splashtop.com"],
                "52.5.26",
                443,
                16,
            ),
            Img::AnyDesk => (
                &["relay-4a1f6c2e.net.anydesk.com", "boot.net.anydesk.com"],
                "195.181.174",
                443,
                20,
            ),
            _ => continue,
        };
        for _ in 0..r.count(n as f64) {
            let t = (day0 + r.range(0, DAY - 1)) / 100 * 100;
            if t < p.created {
                continue;
            }
            let host = r.pick_str(hosts);
            let ip = format!("{prefix}.{}", 10 + fnv(host) % 200);
            let action = if r.chance(0.96) {
                "ConnectionSuccess"
            } else {
                "ConnectionFailed"
            };
            let lp = ephemeral(&mut r);
            o.conn(t, action, p, &ip, port, host, true, "Tcp", lp, None);
        }
    }
    // The vulnerability scanner's discovery scan.
    if agents.iter().any(|p| p.img == Img::Nessus)
        && let Some(start) = scan_start(w, ctx.day)
        && let Some(p) = agents.iter().find(|p| p.img == Img::Nessus)
    {
        for (k, &ti) in scan_targets(w, ctx.dev).iter().enumerate() {
            let Some(td) = w.device(ti) else { continue };
            let t0 = scan_time(start, k);
            let icmp = format!(
                "{{\"direction\":\"Out\",\"orig_bytes\":8,\"resp_bytes\":{},\"proto\":\"icmp\"}}",
                if td.is_server() { 8 } else { 0 }
            );
            o.conn(
                t0,
                "IcmpConnectionInspected",
                p,
                &td.ip,
                0,
                "",
                false,
                "Icmp",
                0,
                Some(&icmp),
            );
            for (j, &port) in SCAN_PORTS.iter().enumerate() {
                let t = t0 + SEC / 10 + (j as i64) * 30_000_000;
                let open = match port {
                    135 | 445 => true,
                    3389 | 5985 => td.is_server(),
                    53 | 88 | 389 | 636 | 9389 => td.role == Role::Dc,
                    80 | 443 => matches!(td.role, Role::Web | Role::App),
                    1433 => td.role == Role::Sql,
                    _ => false,
                };
                let lp = ephemeral(&mut r);
                o.conn(
                    t,
                    if open {
                        "ConnectionSuccess"
                    } else {
                        "ConnectionRequest"
                    },
                    p,
                    &td.ip,
                    port,
                    "",
                    false,
                    "Tcp",
                    lp,
                    None,
                );
            }
        }
    }
    // Inbound probes of the scan seen on servers (workstations' firewalls drop them).
    if dev.is_server()
        && let Some(sc) = scanner(w).filter(|&sc| sc != ctx.dev)
        && let Some(sd) = w.device(sc)
        && let Some(start) = scan_start(w, ctx.day)
        && let Some(k) = scan_targets(w, sc).iter().position(|&i| i == ctx.dev)
        && let Some(sys) = ctx.proc(P::System)
    {
        let t = scan_time(start, k) + SEC / 10 + 11 * 30_000_000;
        let c = o.s.c;
        if o.start(t, "InboundConnectionAccepted") {
            o.s.s(c.RemoteIP, &sd.ip);
            o.s.i(c.RemotePort, ephemeral(&mut r));
            o.s.s(c.LocalIP, &dev.ip);
            o.s.i(c.LocalPort, 445);
            o.s.s(c.Protocol, "Tcp");
            o.s.s(c.LocalIPType, "Private");
            o.s.s(c.RemoteIPType, "Private");
            initiating(o.s, w, sys);
            o.s.end();
        }
    }
    // Servers: sockets opened again when services restart after the nightly maintenance
    // (IIS application pool recycle, patch reboots of services).
    if dev.is_server() {
        let t = day0 + 3 * HOUR + r.range(0, 30 * MIN);
        let mut l: Vec<(P, i32, &str)> = vec![(P::System, 445, "Tcp"), (P::System, 139, "Tcp")];
        l.push((P::SvcNetwork, 3389, "Tcp"));
        l.push((P::SvcNetwork, 5985, "Tcp"));
        match dev.role {
            Role::Web | Role::App => {
                l.push((P::W3wp, 80, "Tcp"));
                l.push((P::W3wp, 443, "Tcp"));
            }
            Role::Sql => {
                l.push((P::Sqlservr, 1433, "Tcp"));
                l.push((P::Sqlservr, 1434, "Udp"));
            }
            Role::Dc => {
                l.push((P::Dns, 53, "Udp"));
                l.push((P::Dns, 53, "Tcp"));
                for port in [88, 389, 636, 3268, 49664] {
                    l.push((P::Lsass, port, "Tcp"));
                }
                l.push((P::AdWs, 9389, "Tcp"));
            }
            _ => {}
        }
        for (i, (k, port, proto)) in l.into_iter().enumerate() {
            if let Some(p) = ctx.proc(k) {
                o.listening(t + i as i64 * 7_000_000, p, port, proto);
            }
        }
    }
    // The internet-facing server's exposed RDP port: scanners connect (their logons fail).
    if dev.internet_facing
        && let Some(services) = ctx.proc(P::Services)
    {
        let term = child(
            &mut r,
            Img::Svchost,
            "C:\\Windows\\System32\\svchost.exe -k termsvcs -s TermService".to_string(),
            services.created + 25 * SEC,
            services,
            Acct::NetworkService,
            "System",
            996,
        );
        for _ in 0..r.range(8, 25) {
            let t = (day0 + r.range(0, DAY - 1)) / 100 * 100;
            let ip = r.pick_str(&[
                "91.240.118.172",
                "45.141.84.126",
                "194.165.16.72",
                "80.66.76.134",
                "185.156.73.54",
            ]);
            if o.start(t, "InboundConnectionAccepted") {
                let c = o.s.c;
                o.s.s(c.RemoteIP, ip);
                o.s.i(c.RemotePort, ephemeral(&mut r));
                o.s.s(c.LocalIP, &dev.ip);
                o.s.i(c.LocalPort, 3389);
                o.s.s(c.Protocol, "Tcp");
                o.s.s(c.LocalIPType, "Private");
                o.s.s(c.RemoteIPType, "Public");
                initiating(o.s, w, &term);
                o.s.end();
            }
        }
    }
    // HTTP (port 80) traffic the sensor inspects: certificate trust lists, CRLs, and
    // update downloads served over plain HTTP.
    let svc = ctx.proc(P::SvcNetsvcs);
    if let Some(p) = svc {
        for _ in 0..r.count(if dev.is_server() { 3.0 } else { 4.0 }) {
            let t = (day0 + r.range(0, DAY - 1)) / 100 * 100;
            let (host, uri, ua, ip) = *r
                .pick(&[
                    (
                        "ctldl.windowsupdate.com",
                        "/msdownload/update/v3/static/trustedr/en/authrootstl.cab",
                        "Microsoft-CryptoAPI/10.0",
                        "93.184.221.240",
                    ),
                    (
                        "ctldl.windowsupdate.com",
                        "/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab",
                        "Microsoft-CryptoAPI/10.0",
                        "93.184.221.240",
                    ),
                    (
                        "crl.microsoft.com",
                        "/pki/crl/products/MicCodSigPCA_08-31-2010.crl",
                        "Microsoft-CryptoAPI/10.0",
                        "23.50.131.11",
                    ),
                    (
                        "ocsp.digicert.com",
                        "/MFEwTzBNMEswSTAJBgUrDgMCGgUABBQ50otx%2Fh0Ztl%2Bz8SiPI7wEWVxDlQQUTiJUIBiV5uNu5g%2F6%2BrkS7QYXjzkCEAUZZSZEml49Gjh0j13P68w%3D",
                        "Microsoft-CryptoAPI/10.0",
                        "192.229.211.108",
                    ),
                    (
                        "dl.google.com",
                        "/release2/chrome/acaf4lrmfkbvlhtf6rsjwhsc6lmq_131.0.6778.86/131.0.6778.86_chrome_installer.exe",
                        "Google Update/1.3.36.372;winhttp",
                        "142.250.72.14",
                    ),
                    (
                        "download.windowsupdate.com",
                        "/c/msdownload/update/software/defu/2024/11/am_delta_patch_1.421.1822.0_3c1e0a4b.exe",
                        "Microsoft-Delivery-Optimization/10.0",
                        "23.50.131.72",
                    ),
                ])
                .unwrap_or(&("ctldl.windowsupdate.com", "/", "Microsoft-CryptoAPI/10.0", "93.184.221.240"));
            let lp = ephemeral(&mut r);
            o.conn(
                t,
                "ConnectionSuccess",
                p,
                ip,
                80,
                host,
                true,
                "Tcp",
                lp,
                None,
            );
            let fields = format!(
                "{{\"SignatureName\":\"HTTP_Client\",\"SignatureMatchedContent\":\"GET {uri} HTTP/1.1\",\"SamplePacketContent\":\"GET {uri} HTTP/1.1\\r\\nHost: {host}\\r\\nUser-Agent: {ua}\\r\\n\"}}"
            );
            o.conn(
                t + 20_000_000,
                "NetworkSignatureInspected",
                p,
                ip,
                80,
                "",
                true,
                "Tcp",
                lp,
                Some(&fields),
            );
            let fields = format!(
                "{{\"direction\":\"Out\",\"host\":\"{host}\",\"method\":\"GET\",\"request_body_len\":0,\"response_body_len\":{},\"status_code\":200,\"status_msg\":\"OK\",\"trans_depth\":1,\"uri\":\"{uri}\",\"user_agent\":\"{ua}\",\"version\":\"1.1\"}}",
                2_000 + r.below(400_000)
            );
            o.conn(
                t + 40_000_000,
                "HttpConnectionInspected",
                p,
                ip,
                80,
                "",
                true,
                "Tcp",
                lp,
                Some(&fields),
            );
        }
    }
    let u = ctx.user(w);
    let dept = u.map_or(usize::MAX, |u| u.dept);
    let logon = ctx.logon_id;
    // Developers fetch and push over SSH (git.exe runs ssh.exe).
    if let (Some((s0, s1)), Some(code), Some(ui)) = (ctx.session, ctx.proc(P::Code), ctx.user) {
        for _ in 0..r.count(5.0) {
            let t = s0 + r.range(30 * MIN, (s1 - s0).max(31 * MIN));
            let repo = r.pick_str(&["web-portal", "billing-api", "infra-terraform", "mobile-app"]);
            let op = r.pick_str(&["git-upload-pack", "git-receive-pack"]);
            let git = child(
                &mut r,
                Img::Git,
                format!(
                    "\"C:\\Program Files\\Git\\cmd\\git.exe\" {}",
                    if op == "git-upload-pack" {
                        "fetch"
                    } else {
                        "push"
                    }
                ),
                t - SEC,
                code,
                Acct::User(ui),
                "Medium",
                logon,
            );
            let ssh = child(
                &mut r,
                Img::Ssh,
                format!(
                    "C:/Windows/System32/OpenSSH/ssh.exe git@github.com \"{op} 'contoso/{repo}.git'\""
                ),
                t - 200_000_000,
                &git,
                Acct::User(ui),
                "Medium",
                logon,
            );
            let lp = ephemeral(&mut r);
            o.conn(
                t,
                "ConnectionSuccess",
                &ssh,
                "140.82.112.4",
                22,
                "github.com",
                true,
                "Tcp",
                lp,
                None,
            );
            o.conn(
                t + 30_000_000,
                "NetworkSignatureInspected",
                &ssh,
                "140.82.112.4",
                22,
                "",
                true,
                "Tcp",
                lp,
                Some("{\"SignatureName\":\"SSH\",\"SignatureMatchedContent\":\"SSH-2.0-OpenSSH_for_Windows_9.5\",\"SamplePacketContent\":\"SSH-2.0-OpenSSH_for_Windows_9.5\\r\\n\"}"),
            );
        }
    }
    if let (Some((s0, s1)), Some(ui)) = (ctx.session, ctx.user) {
        let browser = ctx.first_alive(&[P::Chrome, P::Edge], s1 - 1).cloned();
        // IT: the Azure jump host over RDP, and KQL reference sites.
        if dept == DEPT_IT
            && let Some(ex) = ctx.proc(P::Explorer)
        {
            for _ in 0..r.range(1, 3) {
                let t = s0 + r.range(20 * MIN, (s1 - s0).max(21 * MIN));
                let mstsc = child(
                    &mut r,
                    Img::Mstsc,
                    "\"C:\\Windows\\system32\\mstsc.exe\" /v:20.115.48.210".to_string(),
                    t - 3 * SEC,
                    ex,
                    Acct::User(ui),
                    "Medium",
                    logon,
                );
                let lp = ephemeral(&mut r);
                o.conn(
                    t,
                    "ConnectionSuccess",
                    &mstsc,
                    "20.115.48.210",
                    3389,
                    "",
                    true,
                    "Tcp",
                    lp,
                    None,
                );
            }
            // Administration with the Microsoft Graph PowerShell SDK from an elevated
            // prompt.
            if r.chance(0.5) {
                let t = s0 + r.range(30 * MIN, (s1 - s0).max(31 * MIN));
                let mut ps = child(
                    &mut r,
                    Img::PowerShell,
                    "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" "
                        .to_string(),
                    t - 4 * MIN,
                    ex,
                    Acct::User(ui),
                    "High",
                    logon + 1,
                );
                ps.elevation = "TokenElevationTypeFull";
                for k in 0..r.range(3, 12) {
                    let host = if k == 0 {
                        "login.microsoftonline.com"
                    } else {
                        "graph.microsoft.com"
                    };
                    let ip = if k == 0 {
                        "20.190.151.68"
                    } else {
                        "20.190.152.17"
                    };
                    let lp = ephemeral(&mut r);
                    o.conn(
                        t + k * 20 * SEC,
                        "ConnectionSuccess",
                        &ps,
                        ip,
                        443,
                        host,
                        true,
                        "Tcp",
                        lp,
                        None,
                    );
                }
            }
            if let Some(b) = &browser {
                for _ in 0..r.count(3.0) {
                    let t = s0 + r.range(10 * MIN, (s1 - s0).max(11 * MIN));
                    let (host, ip) = *r
                        .pick(&[
                            ("kqlquery.com", "185.199.108.153"),
                            ("kqlsearch.com", "20.61.15.7"),
                            ("learn.microsoft.com", "23.50.131.90"),
                        ])
                        .unwrap_or(&("kqlquery.com", "185.199.108.153"));
                    if t >= b.created {
                        let lp = ephemeral(&mut r);
                        o.conn(
                            t,
                            "ConnectionSuccess",
                            b,
                            ip,
                            443,
                            host,
                            true,
                            "Tcp",
                            lp,
                            None,
                        );
                    }
                }
            }
        }
        // Finance maps the archive share on Azure Files (SMB over the internet).
        if dept == DEPT_FIN
            && let Some(sys) = ctx.proc(P::System)
        {
            for _ in 0..r.count(2.0) {
                let t = s0 + r.range(5 * MIN, (s1 - s0).max(6 * MIN));
                let lp = ephemeral(&mut r);
                o.conn(
                    t,
                    "ConnectionSuccess",
                    sys,
                    "20.60.134.196",
                    445,
                    "contosoarchive.file.core.windows.net",
                    true,
                    "Tcp",
                    lp,
                    None,
                );
            }
        }
        // Some people look at job sites.
        let mut ur = Rng::derive(&[w.seed, fnv("job-seeker"), ui as u64]);
        if ur.chance(0.12)
            && let Some(b) = &browser
        {
            for _ in 0..r.count(3.0) {
                let t = s0 + r.range(10 * MIN, (s1 - s0).max(11 * MIN));
                let (host, ip) = *r
                    .pick(&[
                        ("www.indeed.com", "104.18.37.209"),
                        ("www.glassdoor.com", "104.17.222.127"),
                        ("careers.fabrikam.com", "52.173.14.33"),
                    ])
                    .unwrap_or(&("www.indeed.com", "104.18.37.209"));
                if t >= b.created {
                    let lp = ephemeral(&mut r);
                    o.conn(
                        t,
                        "ConnectionSuccess",
                        b,
                        ip,
                        443,
                        host,
                        true,
                        "Tcp",
                        lp,
                        None,
                    );
                }
            }
        }
    }
}

/// Extra `DeviceEvents` of one device-day.
pub(crate) fn events(w: &World, s: &mut Sink, ctx: &Ctx, dev: &Device) {
    let mut r = Rng::derive(&[w.seed, fnv("extra-ev"), ctx.dev as u64, ctx.day as u64]);
    let mut o = Out {
        s,
        w,
        ctx,
        dev,
        seq: EXTRA_SEQ,
    };
    let day0 = ctx.day * DAY;
    let c = o.s.c;
    let mut dr = Rng::derive(&[w.seed, fnv("device-traits"), ctx.dev as u64]);
    let modern = (dev.os_platform != "Windows10" && dr.chance(0.9))
        || w.workstations.get(3) == Some(&ctx.dev);

    // Boot attestation report (System Guard), refreshed daily.
    if o.start(
        (day0 + r.range(HOUR, 23 * HOUR)) / SEC * SEC,
        "DeviceBootAttestationInfo",
    ) {
        // One laptop got a driver that is incompatible with memory integrity two days ago.
        let hvci_off =
            w.workstations.get(3) == Some(&ctx.dev) && ctx.day >= crate::world::utc_day(w.now) - 2;
        let modern = modern && !hvci_off;
        let level = if modern { 3 } else { 2 };
        let t0 = crate::world::iso_seconds(day0);
        let t1 = crate::world::iso_seconds(day0 + 7 * DAY);
        o.s.f(
            c.AdditionalFields,
            format_args!("{{\"SystemGuardSecurityLevel\":{level},\"ReportValidityStartTime\":\"{t0}\",\"ReportValidityEndTime\":\"{t1}\",\"IsSecureBootOn\":true,\"IsHvciOn\":{modern},\"IsVsmOn\":{modern},\"IsIommuOn\":true,\"IsElamDriverLoaded\":true,\"IsBootDebuggingOn\":false,\"IsTestSigningOn\":false,\"IsWinPEOn\":false}}"),
        );
        o.end_event(None);
    }

    // The discovery scan knocks on closed ports: the workstation firewall drops it.
    if !dev.is_server()
        && let Some(sc) = scanner(w)
        && let Some(sd) = w.device(sc)
        && let Some(start) = scan_start(w, ctx.day)
        && let Some(k) = scan_targets(w, sc).iter().position(|&i| i == ctx.dev)
    {
        let fw = ctx.proc(P::SvcLocal).cloned();
        for (j, &port) in SCAN_PORTS.iter().enumerate() {
            if matches!(port, 135 | 445) {
                continue;
            }
            let t = scan_time(start, k) + SEC / 10 + (j as i64) * 30_000_000 + 1_000_000;
            if o.start(t, "FirewallInboundConnectionBlocked") {
                o.s.s(c.RemoteIP, &sd.ip);
                o.s.i(c.RemotePort, ephemeral(&mut r));
                o.s.s(c.LocalIP, &dev.ip);
                o.s.i(c.LocalPort, port);
                o.end_event(fw.as_ref());
            }
        }
    }

    let agents = agent_procs(w, ctx);
    // Agents update themselves now and then: the service is installed again.
    for p in &agents {
        let Some((t, name)) = agent_update(w, ctx, p.img) else {
            continue;
        };
        let def = w.image(p.img).def;
        if o.start(t, "ServiceInstalled") {
            let (sha1, sha256, md5) = file_hashes(def.name);
            o.s.s(c.FileName, def.name);
            o.s.s(c.FolderPath, def.path);
            o.s.s(c.SHA1, &sha1);
            o.s.s(c.SHA256, &sha256);
            o.s.s(c.MD5, &md5);
            o.s.f(
                c.AdditionalFields,
                format_args!("{{\"ServiceName\":\"{name}\",\"ServiceAccount\":\"LocalSystem\",\"ServiceStartType\":\"AutoStart\",\"ServiceType\":\"Win32OwnProcess\"}}"),
            );
            o.end_event(ctx.proc(P::Services));
        }
    }

    // IT runs PsExec against servers.
    if dev.is_server()
        && weekday(ctx.day) < 5
        && r.chance(0.15)
        && let Some(admin) = w.users.iter().position(|u| u.sam.starts_with("adm-"))
        && let Some(from) = w.workstations.get(1).and_then(|&i| w.device(i))
        && let Some(services) = ctx.proc(P::Services)
    {
        let t = (day0 + r.range(9 * HOUR, 17 * HOUR)) / SEC * SEC;
        if o.start(t, "ServiceInstalled") {
            let (sha1, sha256, md5) = file_hashes("PSEXESVC.exe");
            o.s.s(c.FileName, "PSEXESVC.exe");
            o.s.s(c.FolderPath, r"C:\Windows\PSEXESVC.exe");
            o.s.s(c.SHA1, &sha1);
            o.s.s(c.SHA256, &sha256);
            o.s.s(c.MD5, &md5);
            o.s.s(
                c.AdditionalFields,
                "{\"ServiceName\":\"PSEXESVC\",\"ServiceAccount\":\"LocalSystem\",\"ServiceStartType\":\"DemandStart\",\"ServiceType\":\"Win32OwnProcess\"}",
            );
            o.end_event(Some(services));
        }
        let psexesvc = child(
            &mut r,
            Img::Psexesvc,
            "C:\\Windows\\PSEXESVC.exe".to_string(),
            t + SEC,
            services,
            Acct::System,
            "System",
            999,
        );
        if o.start(t + 2 * SEC - 100_000, "NamedPipeEvent") {
            o.s.s(
                c.AdditionalFields,
                "{\"DesiredAccess\":1180063,\"FileOperation\":\"File created\",\"NamedPipeEnd\":\"Server\",\"PipeName\":\"\\\\Device\\\\NamedPipe\\\\PSEXESVC\",\"RemoteClientsAccess\":\"AcceptRemote\",\"ShareMode\":\"Read, Write\"}",
            );
            o.end_event(Some(&psexesvc));
        }
        if o.start(t + 2 * SEC, "NamedPipeEvent") {
            o.s.f(
                c.AdditionalFields,
                format_args!("{{\"DesiredAccess\":1180063,\"FileOperation\":\"File created\",\"NamedPipeEnd\":\"Server\",\"PipeName\":\"\\\\Device\\\\NamedPipe\\\\PSEXESVC-{}-{}-stdin\",\"RemoteClientsAccess\":\"AcceptRemote\",\"ShareMode\":\"Read, Write\",\"ThreadId\":{}}}", from.netbios, 1000 + r.below(30000), 1000 + r.below(9000)),
            );
            o.s.s(c.RemoteDeviceName, &from.netbios);
            let _ = admin;
            o.end_event(Some(&psexesvc));
        }
    }

    // Help desk: Defender troubleshooting mode on one IT machine, once in the window.
    if w.workstations.get(1) == Some(&ctx.dev) && ctx.day == crate::world::utc_day(w.now) - 2 {
        let t = day0 + 10 * HOUR + 17 * MIN;
        for (i, reason) in ["Troubleshooting mode started", "Troubleshooting mode ended"]
            .iter()
            .enumerate()
        {
            if o.start(t + i as i64 * 3 * HOUR, "AntivirusTroubleshootModeEvent") {
                o.s.f(
                    c.AdditionalFields,
                    format_args!("{{\"TroubleshootingState\":{},\"TroubleshootingStateChangeReason\":\"{reason}\",\"TroubleshootingStartTime\":\"{}\",\"TroubleshootingStateExpiry\":\"{}\"}}", i == 0, crate::world::iso_seconds(t), crate::world::iso_seconds(t + 3 * HOUR)),
                );
                o.end_event(ctx.proc(P::MsMpEng));
            }
        }
    }
    // Servers (audit mode): agents reading LSASS memory trip the credential theft rule.
    if matches!(dev.role, Role::App | Role::File)
        && r.chance(0.3)
        && let Some(p) = agents.last()
    {
        let t = (day0 + r.range(0, DAY - 1)) / 100 * 100;
        if t >= p.created && o.start(t, "AsrLsassCredentialTheftAudited") {
            crate::host::file_of(o.s, w, Img::Lsass);
            if let Some(l) = ctx.proc(P::Lsass) {
                o.s.l(c.ProcessId, l.pid);
                o.s.t(c.ProcessCreationTime, l.created);
            }
            o.s.s(c.AdditionalFields, "{\"IsAudit\":true}");
            o.end_event(Some(p));
        }
    }

    let Some((s0, s1)) = ctx.session else {
        return;
    };
    let Some(ui) = ctx.user else { return };
    let sam = ctx.user(w).map_or("user", |u| u.sam.as_str());
    let dept = ctx.user(w).map_or(usize::MAX, |u| u.dept);
    let logon = ctx.logon_id;
    let in_session =
        |r: &mut Rng, from: i64| (s0 + r.range(from, (s1 - s0).max(from + 1))) / 100 * 100;

    // Docking in the morning: monitors, keyboard, camera, headset.
    if r.chance(0.7) {
        let mut t = s0 + r.range(-60 * SEC, 30 * SEC);
        let n = r.range(2, 5) as usize;
        for (class, guid, desc, vendor) in [
            (
                "Monitor",
                "{4d36e96e-e325-11ce-bfc1-08002be10318}",
                "Dell P2422H",
                "MONITOR\\DELA1F4",
            ),
            (
                "Keyboard",
                "{4d36e96b-e325-11ce-bfc1-08002be10318}",
                "HID Keyboard Device",
                "HID\\VID_046D&PID_C31C",
            ),
            (
                "Camera",
                "{ca3e7ab9-b4c3-4ae6-8251-579ef933890f}",
                "Logitech BRIO",
                "USB\\VID_046D&PID_085E",
            ),
            (
                "AudioEndpoint",
                "{c166523c-fe0c-4a94-a586-f1a80cfbbf3e}",
                "Jabra Evolve2 65",
                "USB\\VID_0B0E&PID_030C",
            ),
            (
                "Net",
                "{4d36e972-e325-11ce-bfc1-08002be10318}",
                "Realtek USB GbE Family Controller",
                "USB\\VID_0BDA&PID_8153",
            ),
        ]
        .into_iter()
        .take(n)
        {
            t += r.range(SEC / 2, 3 * SEC);
            if o.start(t, "PnpDeviceConnected") {
                o.s.f(
                    c.AdditionalFields,
                    format_args!("{{\"ClassName\":\"{class}\",\"ClassId\":\"{guid}\",\"DeviceDescription\":\"{desc}\",\"DeviceId\":\"{}\\\\{}\",\"VendorIds\":\"{}\"}}", vendor.replace('\\', "\\\\"), r.hex(8).to_uppercase(), vendor.replace('\\', "\\\\")),
                );
                o.end_event(None);
            }
        }
    }
    // A USB stick now and then.
    if r.chance(0.04) {
        let t = in_session(&mut r, 30 * MIN);
        let (desc, ven, prod) = *r
            .pick(&[
                (
                    "Kingston DataTraveler 3.0 USB Device",
                    "KINGSTON",
                    "DATATRAVELER_3.0",
                ),
                (
                    "SanDisk Ultra USB 3.0 USB Device",
                    "SANDISK",
                    "ULTRA_USB_3.0",
                ),
                ("Samsung PSSD T7 SCSI Disk Device", "SAMSUNG", "PSSD_T7"),
                ("WD Elements 25A3 USB Device", "WD", "ELEMENTS_25A3"),
                ("Generic Flash Disk USB Device", "GENERIC", "FLASH_DISK"),
            ])
            .unwrap_or(&("Generic Flash Disk USB Device", "GENERIC", "FLASH_DISK"));
        if o.start(t, "PnpDeviceConnected") {
            o.s.f(
                c.AdditionalFields,
                format_args!("{{\"ClassName\":\"DiskDrive\",\"ClassId\":\"{{4d36e967-e325-11ce-bfc1-08002be10318}}\",\"DeviceDescription\":\"{desc}\",\"DeviceId\":\"USBSTOR\\\\DISK&VEN_{ven}&PROD_{prod}&REV_1.00\\\\{}&0\",\"VendorIds\":\"USBSTOR\\\\Disk{ven}{prod}\"}}", r.hex(20).to_uppercase()),
            );
            o.end_event(None);
        }
        // Tools run from the stick (audited by the untrusted USB process rule).
        if r.chance(0.4)
            && let Some(ex) = ctx.proc(P::Explorer)
            && o.start(t + r.range(MIN, 20 * MIN), "AsrUntrustedUsbProcessAudited")
        {
            let f = r.pick_str(&["PortableSetup.exe", "DriverInstall.exe", "FileSync.exe"]);
            let (sha1, sha256, md5) = file_hashes(f);
            o.s.s(c.FileName, f);
            o.s.f(c.FolderPath, format_args!("E:\\Tools\\{f}"));
            o.s.s(c.SHA1, &sha1);
            o.s.s(c.SHA256, &sha256);
            o.s.s(c.MD5, &md5);
            o.s.f(c.ProcessCommandLine, format_args!("\"E:\\Tools\\{f}\""));
            o.s.s(c.AdditionalFields, "{\"IsAudit\":true}");
            o.end_event(Some(ex));
        }
    }
    // Sales on the road: open Wi-Fi networks.
    if dept == DEPT_SALES && r.chance(0.2) {
        let t = in_session(&mut r, 0);
        if o.start(t, "UntrustedWifiConnection") {
            let net = r.pick_str(&["Airport_Free_WiFi", "HotelGuest", "CoffeeHouse-Guest"]);
            o.s.f(
                c.AdditionalFields,
                format_args!("{{\"AuthenticationMethod\":\"Open\",\"EncryptionType\":\"None\",\"WifiConnectionMode\":\"Manual\",\"IsVulnerableToSpoofing\":true,\"WifiNetworkName\":\"{net}\"}}"),
            );
            o.end_event(ctx.proc(P::SvcNetsvcs));
        }
    }

    // Intune's daily compliance script (PowerShell as SYSTEM).
    if let (Some(ime), Some(t)) = (ctx.proc(P::IntuneExt), Some(in_session(&mut r, 10 * MIN))) {
        let agent = child(
            &mut r,
            Img::IntuneAgent,
            "\"C:\\Program Files (x86)\\Microsoft Intune Management Extension\\agentexecutor.exe\" -powershell \"C:\\Program Files (x86)\\Microsoft Intune Management Extension\\Policies\\Scripts\\4f1c2a9e-compliance.ps1\" -ExecutionPolicy Bypass".to_string(),
            t - 2 * SEC,
            ime,
            Acct::System,
            "System",
            999,
        );
        let ps = child(
            &mut r,
            Img::PowerShell,
            "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -executionPolicy bypass -file \"C:\\Program Files (x86)\\Microsoft Intune Management Extension\\Policies\\Scripts\\4f1c2a9e-compliance.ps1\"".to_string(),
            t - SEC,
            &agent,
            Acct::System,
            "System",
            999,
        );
        for (i, cmd) in [
            "Get-MpComputerStatus",
            "Get-MpPreference",
            "Get-BitLockerVolume",
            "Get-ItemProperty",
            "Out-File",
        ]
        .iter()
        .enumerate()
        {
            if o.start(t + i as i64 * 300_000_000, "PowerShellCommand") {
                o.s.f(
                    c.AdditionalFields,
                    format_args!("{{\"Command\":\"{cmd}\"}}"),
                );
                o.end_event(Some(&ps));
            }
        }
    }

    // Attack surface reduction, controlled folder access, SmartScreen, network protection:
    // a handful a day across the tenant.
    // Rules run in audit mode for the IT and engineering pilot ring, block elsewhere.
    let audit = dept == DEPT_IT || dept == DEPT_ENG;
    let asr = |base: &str| -> String {
        format!("Asr{base}{}", if audit { "Audited" } else { "Blocked" })
    };
    let flags = |audit: bool| format!("{{\"IsAudit\":{audit}}}");
    let x = r.unit();
    if x < 0.05 {
        // A finance workbook macro starting a shell.
        if let Some(excel) = ctx.proc(P::Excel) {
            let t = in_session(&mut r, 60 * MIN).max(excel.created + MIN);
            let a = asr("OfficeChildProcess");
            if o.start(t, &a) {
                o.s.s(c.FileName, "cmd.exe");
                o.s.s(c.FolderPath, r"C:\Windows\System32\cmd.exe");
                o.s.s(
                    c.ProcessCommandLine,
                    "cmd.exe /c copy \"\\\\srv-file-01\\Finance\\Templates\\rates.csv\" %TEMP%",
                );
                o.s.s(c.AdditionalFields, &flags(audit));
                o.end_event(Some(excel));
            }
        }
    } else if x < 0.09 {
        // An executable attachment opened from Outlook.
        if let Some(ol) = ctx.proc(P::Outlook) {
            let t = in_session(&mut r, 30 * MIN).max(ol.created + MIN);
            let f = r.pick_str(&[
                "Invoice_Scan_0412.exe",
                "Statement.scr",
                "shipping_label.exe",
            ]);
            let a = asr("ExecutableEmailContent");
            if o.start(t, &a) {
                let (sha1, sha256, md5) = file_hashes(f);
                o.s.s(c.FileName, f);
                o.s.f(
                    c.FolderPath,
                    format_args!("C:\\Users\\{sam}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\Q7K2ZT1M\\{f}"),
                );
                o.s.s(c.SHA1, &sha1);
                o.s.s(c.SHA256, &sha256);
                o.s.s(c.MD5, &md5);
                o.s.s(c.AdditionalFields, &flags(audit));
                o.end_event(Some(ol));
            }
        }
    } else if x < 0.13 {
        // A downloaded installer nobody else runs.
        if let Some(ex) = ctx.proc(P::Explorer) {
            let t = in_session(&mut r, 30 * MIN).max(ex.created + MIN);
            let f = r.pick_str(&[
                "ZoomInstallerFull.exe",
                "npp.8.6.9.Installer.x64.exe",
                "7z2408-x64.exe",
                "WinSCP-6.3.5-Setup.exe",
            ]);
            if o.start(t, "AsrUntrustedExecutableAudited") {
                let (sha1, sha256, md5) = file_hashes(f);
                o.s.s(c.FileName, f);
                o.s.f(
                    c.FolderPath,
                    format_args!("C:\\Users\\{sam}\\Downloads\\{f}"),
                );
                o.s.s(c.SHA1, &sha1);
                o.s.s(c.SHA256, &sha256);
                o.s.s(c.MD5, &md5);
                o.s.f(
                    c.ProcessCommandLine,
                    format_args!("\"C:\\Users\\{sam}\\Downloads\\{f}\""),
                );
                o.s.s(c.AdditionalFields, &flags(true));
                o.end_event(Some(ex));
            }
            if o.start(t + 2 * SEC, "SmartScreenAppWarning") {
                let (sha1, sha256, md5) = file_hashes(f);
                o.s.s(c.FileName, f);
                o.s.f(
                    c.FolderPath,
                    format_args!("C:\\Users\\{sam}\\Downloads\\{f}"),
                );
                o.s.s(c.SHA1, &sha1);
                o.s.s(c.SHA256, &sha256);
                o.s.s(c.MD5, &md5);
                o.s.s(c.AdditionalFields, "{\"Experience\":\"Untrusted\"}");
                o.end_event(ctx.proc(P::Explorer));
            }
            if r.chance(0.5) && o.start(t + 9 * SEC, "SmartScreenUserOverride") {
                let (sha1, sha256, md5) = file_hashes(f);
                o.s.s(c.FileName, f);
                o.s.f(
                    c.FolderPath,
                    format_args!("C:\\Users\\{sam}\\Downloads\\{f}"),
                );
                o.s.s(c.SHA1, &sha1);
                o.s.s(c.SHA256, &sha256);
                o.s.s(c.MD5, &md5);
                o.s.s(c.AdditionalFields, "{\"Experience\":\"Untrusted\"}");
                o.end_event(ctx.proc(P::Explorer));
            }
        }
    } else if x < 0.16 {
        // Backup tools touching LSASS (flagged by the credential theft rule).
        if let Some(p) = agents.first() {
            let t = in_session(&mut r, 0);
            let a = asr("LsassCredentialTheft");
            if o.start(t, &a) {
                crate::host::file_of(o.s, w, Img::Lsass);
                if let Some(l) = ctx.proc(P::Lsass) {
                    o.s.l(c.ProcessId, l.pid);
                    o.s.t(c.ProcessCreationTime, l.created);
                }
                o.s.s(c.AdditionalFields, &flags(audit));
                o.end_event(Some(p));
            }
        }
    } else if x < 0.19 {
        // Software deployment through WMI (PDQ) spawning an installer.
        if let Some(wmi) = ctx.proc(P::SvcDcom) {
            let t = in_session(&mut r, 0);
            if o.start(t, "AsrPsexecWmiChildProcessAudited") {
                o.s.s(c.FileName, "msiexec.exe");
                o.s.s(c.FolderPath, r"C:\Windows\System32\msiexec.exe");
                o.s.s(
                    c.ProcessCommandLine,
                    "msiexec.exe /i \"C:\\Windows\\Temp\\PDQConnectAgent\\GoogleChromeStandaloneEnterprise64.msi\" /qn /norestart",
                );
                o.s.s(c.AdditionalFields, &flags(true));
                o.end_event(Some(wmi));
            }
        }
    } else if x < 0.23 {
        // An unknown app writing into Documents.
        let f = r.pick_str(&["budget_2025.xlsx", "notes.docx", "export.csv"]);
        if let Some(ex) = ctx.proc(P::Explorer) {
            let t = in_session(&mut r, 20 * MIN).max(ex.created + MIN);
            let action = if audit {
                "ControlledFolderAccessViolationAudit"
            } else {
                "ControlledFolderAccessViolationBlocked"
            };
            let p = child(
                &mut r,
                Img::NotepadPP,
                "\"C:\\Program Files\\Notepad++\\notepad++.exe\"".to_string(),
                t - 5 * MIN,
                ex,
                Acct::User(ui),
                "Medium",
                logon,
            );
            if o.start(t, action) {
                o.s.s(c.FileName, f);
                o.s.f(
                    c.FolderPath,
                    format_args!("C:\\Users\\{sam}\\Documents\\{f}"),
                );
                o.s.s(c.AdditionalFields, &flags(audit));
                o.end_event(Some(&p));
            }
        }
    } else if x < 0.28 {
        // Network protection: a known command-and-control or blocked site.
        if let Some(b) = ctx.first_alive(&[P::Chrome, P::Edge], s1 - 1) {
            let t = in_session(&mut r, 0).max(b.created + SEC);
            let (host, cat) = *r
                .pick(&[
                    ("pushnotify-cdn.xyz", "CmdCtrl"),
                    ("free-pdf-convert.online", "Malicious"),
                    ("tiktok.com", "CustomBlockList"),
                    ("thepiratebay.org", "CustomPolicy"),
                ])
                .unwrap_or(&("pushnotify-cdn.xyz", "CmdCtrl"));
            let action = if audit {
                "ExploitGuardNetworkProtectionAudited"
            } else {
                "ExploitGuardNetworkProtectionBlocked"
            };
            if o.start(t, action) {
                o.s.f(c.RemoteUrl, format_args!("{host}"));
                o.s.f(
                    c.AdditionalFields,
                    format_args!("{{\"IsAudit\":{audit},\"ResponseCategory\":\"{cat}\",\"Uri\":\"https://{host}/\",\"DisplayName\":\"{host}\"}}"),
                );
                o.end_event(Some(b));
            }
        }
    } else if x < 0.3 {
        // An ISO image mounted from Downloads.
        if o.start(in_session(&mut r, 30 * MIN), "UsbDriveMounted") {
            o.s.s(
                c.AdditionalFields,
                "{\"DriveLetter\":\"F:\",\"BusType\":\"FileBackedVirtual\",\"ProductName\":\"Virtual DVD-ROM \",\"Manufacturer\":\"Msft    \",\"Volume\":\"\\\\Device\\\\CdRom0\"}",
            );
            o.end_event(ctx.proc(P::Explorer));
        }
    } else if x < 0.32 {
        // A "free converter" download SmartScreen knows as malicious; the user runs it
        // anyway.
        if let Some(b) = ctx.first_alive(&[P::Edge], s1 - 1) {
            let t = in_session(&mut r, 30 * MIN).max(b.created + MIN);
            let f = r.pick_str(&["PDFConverterSetup.exe", "FreeVideoDownloader.exe"]);
            let activity = r.guid();
            for (i, (action, experience)) in [
                ("SmartScreenAppWarning", "Malicious"),
                ("SmartScreenUserOverride", "Malicious"),
            ]
            .into_iter()
            .enumerate()
            {
                if o.start(t + i as i64 * 7 * SEC, action) {
                    let (sha1, sha256, md5) = file_hashes(f);
                    o.s.s(c.FileName, f);
                    o.s.f(
                        c.FolderPath,
                        format_args!("C:\\Users\\{sam}\\Downloads\\{f}"),
                    );
                    o.s.s(c.SHA1, &sha1);
                    o.s.s(c.SHA256, &sha256);
                    o.s.s(c.MD5, &md5);
                    o.s.f(
                        c.AdditionalFields,
                        format_args!(
                            "{{\"Experience\":\"{experience}\",\"ActivityId\":\"{activity}\"}}"
                        ),
                    );
                    o.end_event(Some(b));
                }
            }
        }
    } else if x < 0.34 {
        // A link in a PDF opened from Acrobat.
        if let Some(ex) = ctx.proc(P::Explorer) {
            let t = in_session(&mut r, 30 * MIN).max(ex.created + MIN);
            let pdf = r.pick_str(&["Quote_2291", "Datasheet", "Contract_signed"]);
            let acro = child(
                &mut r,
                Img::Acrobat,
                format!(
                    "\"C:\\Program Files\\Adobe\\Acrobat DC\\Acrobat\\Acrobat.exe\" \"C:\\Users\\{sam}\\Downloads\\{}.pdf\"",
                    pdf
                ),
                t - 2 * MIN,
                ex,
                Acct::User(ui),
                "Medium",
                logon,
            );
            if o.start(t, "AsrAdobeReaderChildProcessAudited") {
                o.s.s(c.FileName, "msedge.exe");
                o.s.s(c.FolderPath, w.image(Img::Edge).def.path);
                o.s.s(
                    c.ProcessCommandLine,
                    "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" --single-argument https://www.adobe.com/acrobat/online.html",
                );
                o.s.s(c.AdditionalFields, "{\"IsAudit\":true}");
                o.end_event(Some(&acro));
            }
        }
    } else if x < 0.36 && dept == DEPT_ENG {
        // Developers: zipping and encrypting a build folder looks like ransomware (audit).
        if let Some(code) = ctx.proc(P::Code) {
            let t = in_session(&mut r, 60 * MIN).max(code.created + MIN);
            for k in 0..r.range(3, 8) {
                if o.start(t + k * 400_000_000, "AsrRansomwareAudited") {
                    let f = format!("bundle-{k}.js.gz");
                    o.s.s(c.FileName, &f);
                    o.s.f(
                        c.FolderPath,
                        format_args!("C:\\Users\\{sam}\\source\\web-portal\\dist\\{f}"),
                    );
                    o.s.s(c.AdditionalFields, "{\"IsAudit\":true}");
                    o.end_event(Some(code));
                }
            }
        }
    }
    // Developers debugging: the debugger sets thread contexts and queues APCs in the
    // debuggee.
    if dept == DEPT_ENG
        && r.chance(0.5)
        && let Some(code) = ctx.proc(P::Code)
    {
        let t = in_session(&mut r, 60 * MIN).max(code.created + MIN);
        let node = child(
            &mut r,
            Img::Node,
            "\"C:\\Program Files\\nodejs\\node.exe\" --inspect-brk=9229 src\\server.js".to_string(),
            t - 2 * SEC,
            code,
            Acct::User(ui),
            "Medium",
            logon,
        );
        for (i, action) in ["SetThreadContextRemoteApiCall", "QueueUserApcRemoteApiCall"]
            .into_iter()
            .enumerate()
        {
            if o.start(t + i as i64 * 50_000_000, action) {
                crate::host::file_of(o.s, w, Img::Node);
                o.s.l(c.ProcessId, node.pid);
                o.s.t(c.ProcessCreationTime, node.created);
                o.s.s(c.ProcessCommandLine, &node.cmd);
                o.end_event(Some(code));
            }
        }
    }
}

/// Extra `DeviceLogonEvents` of one device-day: the scanner's credentialed logons.
pub(crate) fn scan_logons(w: &World, ctx: &Ctx) -> Option<(i64, usize, &'static str)> {
    let sc = scanner(w)?;
    if sc == ctx.dev {
        return None;
    }
    let start = scan_start(w, ctx.day)?;
    let k = scan_targets(w, sc).iter().position(|&i| i == ctx.dev)?;
    let acct = w.users.iter().position(|u| u.sam == "svc-scan")?;
    Some((scan_time(start, k) + 2 * SEC, acct, "NTLM"))
}

/// Devices Defender's device discovery sees on the network without a sensor: printers,
/// network gear, and a few unmanaged computers that can be onboarded. Each is reported
/// twice a day in `DeviceInfo`.
pub(crate) fn discovered(w: &World, day: i64, lo: i64, hi: i64, info: &mut Sink) {
    // ((name, category, type, subtype, vendor), (model, OS platform, OS distribution,
    // onboarding status))
    type Seen = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    );
    type Os = (&'static str, &'static str, &'static str, &'static str);
    const SEEN: &[(Seen, Os)] = &[
        (
            ("prn-hq-01", "IoT", "Printer", "", "HP"),
            ("LaserJet Enterprise M611", "", "", "Unsupported"),
        ),
        (
            ("prn-hq-02", "IoT", "Printer", "", "Canon"),
            ("imageRUNNER ADVANCE DX C5840i", "", "", "Unsupported"),
        ),
        (
            (
                "cam-lobby-01",
                "IoT",
                "SurveillanceCamera",
                "",
                "Axis Communications",
            ),
            ("P3265-LVE", "", "", "Unsupported"),
        ),
        (
            (
                "sw-core-01",
                "NetworkDevice",
                "NetworkDevice",
                "Switch",
                "Cisco",
            ),
            ("Catalyst 9300", "IOS", "IOS XE", "Unsupported"),
        ),
        (
            (
                "fw-edge-01",
                "NetworkDevice",
                "NetworkDevice",
                "Firewall",
                "Palo Alto Networks",
            ),
            ("PA-3410", "PAN-OS", "PAN-OS", "Unsupported"),
        ),
        (
            (
                "ap-floor2-01",
                "NetworkDevice",
                "NetworkDevice",
                "WirelessAccessPoint",
                "Cisco",
            ),
            ("Catalyst 9120AX", "IOS", "IOS XE", "Unsupported"),
        ),
        (
            (
                "desktop-7f3k2q1",
                "Endpoint",
                "Workstation",
                "",
                "Dell Inc.",
            ),
            ("OptiPlex 7010", "Windows10", "Windows", "Can be onboarded"),
        ),
        (
            (
                "build-linux-01",
                "Endpoint",
                "Server",
                "",
                "Microsoft Corporation",
            ),
            ("Virtual Machine", "Linux", "Ubuntu", "Can be onboarded"),
        ),
        (
            ("mbp-design-04", "Endpoint", "Workstation", "", "Apple Inc."),
            ("MacBook Pro", "macOS", "macOS", "Insufficient info"),
        ),
    ];
    let c = info.c;
    for (k, &((name, category, dtype, subtype, vendor), (model, os, dist, status))) in
        SEEN.iter().enumerate()
    {
        let mut idr = Rng::derive(&[w.seed, fnv("discovered"), k as u64]);
        let id = idr.hex(40);
        let third = 200 + k as u64 / 200;
        let ip_last = 20 + k as u64 * 7;
        let mut r = Rng::derive(&[w.seed, fnv("discovered-day"), k as u64, day as u64]);
        for half in 0..2 {
            let t = (day * DAY + half * 12 * HOUR + r.range(0, 11 * HOUR)) / SEC * SEC;
            if t < lo || t >= hi {
                continue;
            }
            info.t(c.Timestamp, t);
            info.s(c.DeviceId, &id);
            info.f(c.DeviceName, format_args!("{name}.contoso.com"));
            info.so(c.OSPlatform, os);
            info.so(c.OSDistribution, dist);
            info.s(c.OnboardingStatus, status);
            info.s(c.DeviceCategory, category);
            info.s(c.DeviceType, dtype);
            info.so(c.DeviceSubtype, subtype);
            info.s(c.Vendor, vendor);
            info.s(c.Model, model);
            info.s(c.SensorHealthState, "");
            info.b(c.IsExcluded, false);
            info.s(
                c.ExposureLevel,
                if category == "Endpoint" {
                    "Medium"
                } else {
                    "Low"
                },
            );
            info.s(c.AssetValue, "Normal");
            info.s(c.DeviceManualTags, "[]");
            info.s(c.DeviceDynamicTags, "[]");
            info.b(c.IsInternetFacing, false);
            info.l(c.ReportId, report_id(day, 0xff00 + k, half as u64));
            info.f(
                c.AdditionalFields,
                format_args!("{{\"DiscoverySources\":[\"NetworkScan\",\"PassiveNetwork\"],\"IPAddress\":\"10.{third}.0.{ip_last}\"}}"),
            );
            info.end();
        }
    }
}
