//! Background activity of Defender for Office 365 (mail, attachments, links, clicks,
//! post-delivery actions) and Defender for Cloud Apps (Microsoft 365 activity), per user
//! and UTC day.

use std::fmt::Write;

use crate::catalog::{DEPT_FIN, NEWSLETTER_SENDERS, PARTNER_DOMAINS, SUBJECTS};
use crate::rng::{Rng, fnv};
use crate::sink::Sink;
use crate::world::{DAY, HOUR, MIN, User, UserKind, World, weekday};

pub(crate) const MAIL_TABLES: [&str; 6] = [
    "EmailEvents",
    "EmailAttachmentInfo",
    "EmailUrlInfo",
    "UrlClickEvents",
    "EmailPostDeliveryEvents",
    "CloudAppEvents",
];

/// The sinks of the mail tables, in [`MAIL_TABLES`] order.
pub(crate) struct MailSinks {
    pub events: Sink,
    pub attachments: Sink,
    pub urls: Sink,
    pub clicks: Sink,
    pub post: Sink,
    /// Audit records of mail: quarantine releases, submissions, Safe Links click data.
    pub audit: Sink,
}

impl MailSinks {
    pub(crate) fn all(&mut self) -> [&mut Sink; 6] {
        [
            &mut self.events,
            &mut self.attachments,
            &mut self.urls,
            &mut self.clicks,
            &mut self.post,
            &mut self.audit,
        ]
    }
}

/// A mail message as the mail tables describe it (one recipient).
pub(crate) struct Mail<'a> {
    pub t: i64,
    pub nmid: &'a str,
    pub imid: &'a str,
    pub sender: &'a str,
    pub sender_name: &'a str,
    pub sender_oid: &'a str,
    pub sender_ip: &'a str,
    pub recipient: &'a str,
    pub recipient_oid: &'a str,
    pub subject: &'a str,
    pub direction: &'static str,
    pub delivery_action: &'static str,
    pub delivery_location: &'static str,
    pub latest_location: &'static str,
    pub latest_action: &'static str,
    pub threat: &'static str,
    pub threat_names: &'a str,
    pub detection: &'a str,
    pub confidence: &'a str,
    pub bcl: i32,
    pub email_action: &'static str,
    pub policy: &'static str,
    pub auth: &'static str,
    pub attachments: i32,
    pub urls: i32,
    pub report_id: &'a str,
}

pub(crate) fn write_mail(s: &mut Sink, m: &Mail) {
    write_mail_ext(s, m, ("", ""));
}

/// [`write_mail`] with an organisation-level override: (action, policy).
pub(crate) fn write_mail_ext(s: &mut Sink, m: &Mail, org: (&str, &str)) {
    let c = s.c;
    s.t(c.Timestamp, m.t);
    s.s(c.NetworkMessageId, m.nmid);
    s.s(c.InternetMessageId, m.imid);
    s.s(c.SenderMailFromAddress, m.sender);
    s.s(c.SenderFromAddress, m.sender);
    s.s(c.SenderDisplayName, m.sender_name);
    s.so(c.SenderObjectId, m.sender_oid);
    let domain = m.sender.rsplit_once('@').map_or("", |(_, d)| d);
    s.s(c.SenderMailFromDomain, domain);
    s.s(c.SenderFromDomain, domain);
    s.so(c.SenderIPv4, m.sender_ip);
    s.s(c.RecipientEmailAddress, m.recipient);
    s.so(c.RecipientObjectId, m.recipient_oid);
    s.s(c.Subject, m.subject);
    s.l(c.EmailClusterId, (fnv(m.subject) >> 24) as i64);
    s.s(c.EmailDirection, m.direction);
    s.s(c.DeliveryAction, m.delivery_action);
    s.s(c.DeliveryLocation, m.delivery_location);
    s.so(c.ThreatTypes, m.threat);
    s.so(c.ThreatNames, m.threat_names);
    s.so(c.DetectionMethods, m.detection);
    s.so(c.ConfidenceLevel, m.confidence);
    s.i(c.BulkComplaintLevel, m.bcl);
    s.so(c.EmailAction, m.email_action);
    s.so(c.EmailActionPolicy, m.policy);
    s.s(c.AuthenticationDetails, m.auth);
    s.i(c.AttachmentCount, m.attachments);
    s.i(c.UrlCount, m.urls);
    s.s(c.EmailLanguage, "en");
    s.s(c.ReportId, m.report_id);
    s.s(c.LatestDeliveryLocation, m.latest_location);
    s.s(c.LatestDeliveryAction, m.latest_action);
    s.so(c.OrgLevelAction, org.0);
    s.so(c.OrgLevelPolicy, org.1);
    s.end();
}

const AUTH_PASS: &str =
    "{\"SPF\":\"pass\",\"DKIM\":\"pass\",\"DMARC\":\"pass\",\"CompAuth\":\"pass\"}";
const AUTH_FAIL: &str =
    "{\"SPF\":\"fail\",\"DKIM\":\"none\",\"DMARC\":\"fail\",\"CompAuth\":\"fail\"}";
const AUTH_INTERNAL: &str =
    "{\"SPF\":\"pass\",\"DKIM\":\"pass\",\"DMARC\":\"pass\",\"CompAuth\":\"pass\"}";

fn persons(w: &World) -> impl Iterator<Item = (usize, &User)> {
    w.users
        .iter()
        .enumerate()
        .filter(|(_, u)| u.kind == UserKind::Person)
}

/// Mail activity of the people in `users` (indexes into the person list) on `day`.
pub(crate) fn mail(
    w: &World,
    day: i64,
    lo: i64,
    hi: i64,
    users: std::ops::Range<usize>,
    out: &mut MailSinks,
) {
    let people: Vec<usize> = persons(w).map(|(i, _)| i).collect();
    let weekend = weekday(day) >= 5;
    let day0 = day * DAY;
    let mut nmid = String::new();
    let mut imid = String::new();
    let mut rid = String::new();
    let mut sender = String::new();
    let mut url = String::new();
    let mut detection = String::new();
    let mut raw = String::new();
    let secadm = w.users.iter().enumerate().find(|(i, x)| {
        x.kind == UserKind::Admin
            && crate::posture::entra_roles(w, *i).contains(&"Security Administrator")
    });
    let secadm = secadm
        .map(|(_, x)| x)
        .or_else(|| w.users.iter().find(|x| x.kind == UserKind::Admin));
    let egress = w.egress_ips.first().map_or("", |s| s.as_str());
    for pi in users {
        let Some(&ui) = people.get(pi) else {
            continue;
        };
        let Some(u) = w.user(ui) else {
            continue;
        };
        let mut r = Rng::derive(&[w.seed, fnv("mail"), ui as u64, day as u64]);
        // An audit record of this mail (in `CloudAppEvents`).
        let audit = |s: &mut Sink,
                     r: &mut Rng,
                     t: i64,
                     who: &User,
                     action: &str,
                     raw: &str,
                     record_type: i32,
                     workload: &str| {
            if t >= hi {
                return;
            }
            let rid = r.guid();
            let admin = who.kind == UserKind::Admin;
            write_cloud_ext(
                s,
                &CloudEvent {
                    t: t / 100 * 100,
                    action,
                    app: &EXCHANGE,
                    user: who,
                    ip: egress,
                    country: "US",
                    city: "Redmond",
                    isp: "Microsoft Azure",
                    user_agent: if admin { EDGE_UA } else { OUTLOOK_UA },
                    activity: "Basic",
                    object_name: "",
                    object_id: &rid,
                    object_type: "Email",
                    report_id: &rid,
                    uncommon: false,
                },
                &CloudExtra {
                    raw,
                    admin,
                    workload,
                    record_type,
                    ..CloudExtra::default()
                },
            );
        };
        let f = r.unit();
        let n = if weekend {
            r.count(8.0 * (0.5 + f))
        } else {
            r.count(50.0 * (0.7 + 0.6 * f))
        };
        let n_out = if weekend {
            r.count(0.5)
        } else {
            r.range(2, 8) as u64
        };
        for k in 0..(n + n_out) {
            let outbound = k >= n;
            // Time: office hours for people, any time for newsletters and spam.
            let t = if r.chance(0.8) {
                day0 + r.range(7 * HOUR, 18 * HOUR)
            } else {
                day0 + r.range(0, DAY - 1)
            };
            let t = t / 100 * 100;
            if t < lo || t >= hi {
                continue;
            }
            nmid.clear();
            let g = r.guid();
            nmid.push_str(&g);
            imid.clear();
            rid.clear();
            let _ = write!(rid, "{nmid}-{}", 1 + r.below(60_000));
            let x = r.unit();
            let mut m = Mail {
                t,
                nmid: "",
                imid: "",
                sender: "",
                sender_name: "",
                sender_oid: "",
                sender_ip: "",
                recipient: &u.upn,
                recipient_oid: &u.object_id,
                subject: r.pick_str(SUBJECTS),
                direction: "Inbound",
                delivery_action: "Delivered",
                delivery_location: "Inbox/folder",
                latest_location: "Inbox/folder",
                latest_action: "Delivered",
                threat: "",
                threat_names: "",
                detection: "",
                confidence: "",
                bcl: 0,
                email_action: "",
                policy: "",
                auth: AUTH_PASS,
                attachments: 0,
                urls: 0,
                report_id: "",
            };
            sender.clear();
            let mut sender_name = String::new();
            let mut sender_ip = String::new();
            let mut recipient = String::new();
            if outbound {
                let partner = r.pick_str(PARTNER_DOMAINS);
                let _ = write!(
                    recipient,
                    "{}.{}@{partner}",
                    r.pick_str(crate::catalog::FIRST_NAMES).to_lowercase(),
                    r.pick_str(crate::catalog::LAST_NAMES).to_lowercase()
                );
                sender.push_str(&u.upn);
                sender_name.push_str(&u.display);
                m.sender_oid = &u.object_id;
                m.direction = "Outbound";
                m.delivery_location = "On-premises/external";
                m.latest_location = "On-premises/external";
                m.recipient_oid = "";
                let _ = write!(imid, "<{}@PH0PR11MB.prod.outlook.com>", r.hex(24));
            } else if x < 0.5 && people.len() > 1 {
                // Intra-org.
                let other = people
                    .get(r.index(people.len()))
                    .and_then(|&i| w.user(i))
                    .filter(|o| o.upn != u.upn)
                    .or_else(|| people.first().and_then(|&i| w.user(i)));
                if let Some(o) = other {
                    sender.push_str(&o.upn);
                    sender_name.push_str(&o.display);
                    m.sender_oid = &o.object_id;
                }
                m.direction = "Intra-org";
                m.auth = AUTH_INTERNAL;
                let _ = write!(imid, "<{}@SA1PR11MB.prod.outlook.com>", r.hex(24));
            } else if x < 0.62 {
                let (addr, name) = *r
                    .pick(NEWSLETTER_SENDERS)
                    .unwrap_or(&("news@example.org", "News"));
                sender.push_str(addr);
                sender_name.push_str(name);
                m.bcl = r.range(5, 8) as i32;
                m.subject = r.pick_str(&[
                    "Your weekly digest",
                    "This week's top stories",
                    "Upcoming events near you",
                    "Webinar: scaling your team",
                ]);
                let _ = write!(
                    sender_ip,
                    "198.2.{}.{}",
                    128 + r.below(64),
                    1 + r.below(254)
                );
                let _ = write!(
                    imid,
                    "<{}@{}>",
                    r.hex(20),
                    addr.rsplit_once('@').map_or("mail", |x| x.1)
                );
            } else {
                let partner = r.pick_str(PARTNER_DOMAINS);
                let first = r.pick_str(crate::catalog::FIRST_NAMES);
                let last = r.pick_str(crate::catalog::LAST_NAMES);
                let _ = write!(
                    sender,
                    "{}.{}@{partner}",
                    first.to_lowercase(),
                    last.to_lowercase()
                );
                let _ = write!(sender_name, "{first} {last}");
                let _ = write!(sender_ip, "40.107.{}.{}", r.below(256), 1 + r.below(254));
                let _ = write!(imid, "<{}@{partner}>", r.hex(24));
            }
            // Threats among external mail.
            detection.clear();
            // Phish or malware missed at delivery and removed later by ZAP (the QR-code
            // lures half the time).
            let mut missed = "";
            let mut qr = false;
            if m.direction == "Inbound" {
                let y = r.unit();
                if y < 0.05 {
                    m.threat = "Spam";
                    m.delivery_action = "Junked";
                    m.delivery_location = "Junk folder";
                    m.latest_location = "Junk folder";
                    m.latest_action = "Junked";
                    m.email_action = "Move message to junk mail folder";
                    m.policy = "Antispam";
                    m.confidence = "{\"Spam\":\"Normal\"}";
                    m.auth = AUTH_FAIL;
                    detection.push_str("{\"Spam\":[\"Advanced filter\"]}");
                    sender.clear();
                    let _ = write!(
                        sender,
                        "promo{}@{}",
                        r.below(999),
                        r.pick_str(&["deals-today.biz", "bestoffers.top", "win-big.click"])
                    );
                    m.subject = r.pick_str(&[
                        "You have (1) pending reward",
                        "Limited time offer!!!",
                        "Final notice: claim your prize",
                    ]);
                } else if y < 0.053 {
                    m.threat = "Phish";
                    m.delivery_action = "Blocked";
                    m.delivery_location = "Quarantine";
                    m.latest_location = "Quarantine";
                    m.latest_action = "Blocked";
                    m.email_action = "Send to quarantine";
                    m.policy = "Antiphish";
                    m.confidence = "{\"Phish\":\"High\"}";
                    m.auth = AUTH_FAIL;
                    detection.push_str("{\"Phish\":[\"URL detonation reputation\"]}");
                    m.subject = r.pick_str(&[
                        "Your mailbox is almost full",
                        "Password expires today",
                        "Shared document: Invoice",
                    ]);
                } else if y < 0.054 {
                    m.threat = "Malware";
                    m.threat_names = "Trojan:Win32/Wacatac.B!ml";
                    m.delivery_action = "Blocked";
                    m.delivery_location = "Quarantine";
                    m.latest_location = "Quarantine";
                    m.latest_action = "Blocked";
                    m.email_action = "Send to quarantine";
                    m.policy = "Antimalware";
                    detection.push_str("{\"Malware\":[\"File detonation\"]}");
                    m.subject = "Invoice overdue";
                } else if y < 0.0556 {
                    missed = "Phish";
                    qr = r.chance(0.5);
                    m.latest_location = "Quarantine";
                    m.latest_action = "Quarantined";
                    m.subject = if qr {
                        r.pick_str(&[
                            "Action required: re-register your MFA device",
                            "Your password expires today - scan to keep it",
                        ])
                    } else {
                        r.pick_str(&[
                            "Shared document: Q4 invoice",
                            "You have a new voice message",
                            "DocuSign: please review and sign",
                        ])
                    };
                } else if y < 0.0562 {
                    missed = "Malware";
                    m.latest_location = "Quarantine";
                    m.latest_action = "Quarantined";
                    m.subject = r.pick_str(&["Remittance advice", "Purchase order PO-48213"]);
                }
            }
            let n_att = if m.threat == "Malware" || missed == "Malware" || qr || r.chance(0.2) {
                1 + i32::from(r.chance(0.25))
            } else {
                0
            };
            // Partners' signatures carry an inline logo.
            let logo = m.direction == "Inbound"
                && m.bcl == 0
                && m.threat.is_empty()
                && missed.is_empty()
                && r.chance(0.25);
            let n_att = n_att + i32::from(logo);
            let n_url = if qr {
                1
            } else if m.threat == "Phish" || missed == "Phish" || r.chance(0.4) {
                r.range(1, 3) as i32
            } else {
                0
            };
            m.attachments = n_att;
            m.urls = n_url;
            let zap = m.direction == "Inbound" && m.threat.is_empty() && r.chance(0.003);
            if zap {
                m.threat = "Spam";
                m.latest_location = "Junk folder";
                m.latest_action = "Moved to junk folder";
                detection.push_str("{\"Spam\":[\"Advanced filter\"]}");
            }
            m.nmid = &nmid;
            m.imid = &imid;
            m.sender = &sender;
            m.sender_name = &sender_name;
            m.sender_ip = &sender_ip;
            m.report_id = &rid;
            m.detection = &detection;
            if !recipient.is_empty() {
                m.recipient = &recipient;
            }
            // The bank's statements bypass filtering through a transport rule.
            let org = if m.direction == "Inbound" && sender.ends_with("@woodgrovebank.com") {
                ("Allow", "Exchange transport rule")
            } else {
                ("", "")
            };
            write_mail_ext(&mut out.events, &m, org);
            // False positives released from quarantine by the security team; phish and
            // junk reported by users with the Report button.
            if m.threat == "Phish"
                && m.delivery_action == "Blocked"
                && r.chance(0.35)
                && let Some(a) = secadm
            {
                raw.clear();
                let _ = write!(
                    raw,
                    ",\"NetworkMessageId\":\"{nmid}\",\"ReleaseTo\":\"{}\",\"RequestSource\":\"SecurityComplianceCenter\",\"RequestType\":\"Release\"",
                    m.recipient
                );
                let tr = t + r.range(HOUR, 20 * HOUR);
                audit(
                    &mut out.audit,
                    &mut r,
                    tr,
                    a,
                    "QuarantineReleaseMessage",
                    &raw,
                    0,
                    "",
                );
            }
            let report = if missed == "Phish" {
                r.chance(0.3).then_some("Phish")
            } else if m.threat == "Spam" && m.delivery_action == "Junked" {
                r.chance(0.03).then_some("NotJunk")
            } else if m.bcl > 0 {
                r.chance(0.004).then_some("Spam")
            } else {
                None
            };
            if let Some(kind) = report {
                let ts = t + r.range(5 * MIN, 2 * HOUR);
                let sid = r.guid();
                raw.clear();
                let _ = write!(
                    raw,
                    ",\"SubmissionId\":\"{sid}\",\"SubmissionType\":\"Email\",\"SubmissionContentType\":\"{kind}\",\"SubmissionState\":\"Submitted\",\"NetworkMessageId\":\"{nmid}\",\"ReportedBy\":\"{}\"",
                    u.upn
                );
                audit(
                    &mut out.audit,
                    &mut r,
                    ts,
                    u,
                    "UserSubmission",
                    &raw,
                    29,
                    "ThreatIntelligence",
                );
                if kind == "Phish"
                    && let Some(a) = secadm
                {
                    raw.clear();
                    let _ = write!(
                        raw,
                        ",\"SubmissionId\":\"{}\",\"SubmissionType\":\"Email\",\"SubmissionContentType\":\"Phish\",\"SubmissionState\":\"Completed\",\"NetworkMessageId\":\"{nmid}\",\"UserSubmissionId\":\"{sid}\"",
                        r.guid()
                    );
                    let ta = ts + r.range(20 * MIN, 3 * HOUR);
                    audit(
                        &mut out.audit,
                        &mut r,
                        ta,
                        a,
                        "AdminSubmission",
                        &raw,
                        29,
                        "ThreatIntelligence",
                    );
                }
            }

            for a in 0..n_att {
                let s = &mut out.attachments;
                let c = s.c;
                let doc = if logo && a == n_att - 1 {
                    "image001.png"
                } else if m.threat == "Malware" {
                    if nmid.as_bytes().first().is_some_and(|b| b % 2 == 0) {
                        "Invoice_88213.iso"
                    } else {
                        "Payment_Remittance_0311.wsf"
                    }
                } else if missed == "Malware" {
                    "Remittance_Advice.html"
                } else if qr {
                    "Security_Notice.pdf"
                } else if m.direction == "Inbound" && u.dept == DEPT_FIN && r.chance(0.12) {
                    // Suppliers' price lists and order forms with macros.
                    r.pick_str(&["Supplier_Price_List_2026.xlsm", "Northwind_Order_Form.xlsm"])
                } else {
                    u.docs
                        .get(r.index(u.docs.len()))
                        .map_or("Document.pdf", |d| d.as_str())
                };
                let ext = doc.rsplit_once('.').map_or("", |x| x.1);
                let (_, sha256, _) = crate::rng::file_hashes(doc);
                s.t(c.Timestamp, t);
                s.s(c.NetworkMessageId, &nmid);
                s.s(c.SenderFromAddress, &sender);
                s.s(c.SenderDisplayName, &sender_name);
                s.so(c.SenderObjectId, m.sender_oid);
                s.s(c.RecipientEmailAddress, m.recipient);
                s.so(c.RecipientObjectId, m.recipient_oid);
                s.s(c.FileName, doc);
                s.s(c.FileType, ext);
                s.s(c.SHA256, &sha256);
                s.l(c.FileSize, r.range(20_000, 4_000_000));
                if m.threat == "Malware" {
                    s.s(c.ThreatTypes, "Malware");
                    s.s(c.ThreatNames, m.threat_names);
                    s.s(c.DetectionMethods, "{\"Malware\":[\"File detonation\"]}");
                }
                s.f(c.ReportId, format_args!("{rid}-a{a}"));
                s.end();
            }
            for k in 0..n_url {
                url.clear();
                let domain = if m.threat == "Phish" || missed == "Phish" {
                    r.pick_str(&[
                        "microsoft-verify-login.top",
                        "office365-mailbox.click",
                        "docs-share-view.xyz",
                    ])
                } else if m.bcl > 0 {
                    sender.rsplit_once('@').map_or("example.org", |x| x.1)
                } else if m.direction == "Intra-org" {
                    "contoso.sharepoint.com"
                } else {
                    r.pick_str(&[
                        "fabrikam.sharepoint.com",
                        "www.linkedin.com",
                        "zoom.us",
                        "github.com",
                        "docs.google.com",
                        "www.adatum.com",
                    ])
                };
                let _ = write!(
                    url,
                    "https://{domain}/{}",
                    r.pick_str(&["s/", "sites/Projects/", "view?id=", "j/", "events/"])
                );
                let _ = write!(url, "{}", r.hex(10));
                {
                    let s = &mut out.urls;
                    let c = s.c;
                    s.t(c.Timestamp, t);
                    s.s(c.NetworkMessageId, &nmid);
                    s.s(c.Url, &url);
                    s.s(c.UrlDomain, domain);
                    s.s(
                        c.UrlLocation,
                        if qr {
                            "QRCode"
                        } else if missed == "Malware" {
                            "Attachment"
                        } else {
                            "Body"
                        },
                    );
                    s.f(c.ReportId, format_args!("{rid}-u{k}"));
                    s.end();
                }
                if k == 0 && missed == "Phish" && !qr && r.chance(0.4) {
                    // Safe Links blocks the click once the URL is known to be malicious.
                    let tc = t + r.range(20 * MIN, 5 * HOUR);
                    if tc < hi {
                        raw.clear();
                        let _ = write!(
                            raw,
                            ",\"AppName\":\"Email Client\",\"UserIp\":\"{egress}\",\"Url\":\"{url}\",\"UrlClickAction\":2,\"TimeOfClick\":\"{}\",\"SourceId\":\"{nmid}\"",
                            crate::world::iso_seconds(tc)
                        );
                        audit(
                            &mut out.audit,
                            &mut r,
                            tc,
                            u,
                            "TIUrlClickData",
                            &raw,
                            41,
                            "ThreatIntelligence",
                        );
                        write_click_ext(
                            &mut out.clicks,
                            tc,
                            &url,
                            &u.upn,
                            &nmid,
                            "ClickBlocked",
                            "",
                            w.egress_ips.first().map_or("", |s| s.as_str()),
                            &r.guid(),
                            "Phish",
                        );
                    }
                } else if k == 0
                    && m.delivery_action == "Delivered"
                    && missed.is_empty()
                    && m.direction != "Outbound"
                    && r.chance(0.06)
                {
                    let tc = t + r.range(2 * MIN, 3 * HOUR);
                    if tc < hi {
                        write_click(
                            &mut out.clicks,
                            tc,
                            &url,
                            &u.upn,
                            &nmid,
                            "ClickAllowed",
                            "",
                            w.egress_ips.first().map_or("", |s| s.as_str()),
                            &r.guid(),
                        );
                    }
                }
            }
            if !missed.is_empty() {
                let s = &mut out.post;
                let c = s.c;
                let tz = t + r.range(10 * MIN, 4 * HOUR);
                if tz < hi {
                    s.t(c.Timestamp, tz);
                    s.s(c.NetworkMessageId, &nmid);
                    s.s(c.InternetMessageId, &imid);
                    s.s(c.Action, "Moved to quarantine");
                    s.f(c.ActionType, format_args!("{missed} ZAP"));
                    s.s(c.ActionTrigger, "SpecialAction");
                    s.s(c.ActionResult, "Success");
                    s.s(c.RecipientEmailAddress, m.recipient);
                    s.s(c.DeliveryLocation, "Quarantine");
                    s.s(c.ThreatTypes, missed);
                    s.s(
                        c.DetectionMethods,
                        if missed == "Phish" {
                            "{\"Phish\":[\"URL detonation reputation\"]}"
                        } else {
                            "{\"Malware\":[\"File detonation\"]}"
                        },
                    );
                    s.f(c.ReportId, format_args!("{rid}-z"));
                    s.end();
                }
            }
            if zap || (m.direction == "Inbound" && m.threat == "Spam" && r.chance(0.02)) {
                let s = &mut out.post;
                let c = s.c;
                let tz = t + r.range(10 * MIN, 6 * HOUR);
                if tz < hi {
                    s.t(c.Timestamp, tz);
                    s.s(c.NetworkMessageId, &nmid);
                    s.s(c.InternetMessageId, &imid);
                    s.s(c.Action, "Moved to junk folder");
                    s.s(c.ActionType, "Spam ZAP");
                    s.s(c.ActionTrigger, "SpecialAction");
                    s.s(c.ActionResult, "Success");
                    s.s(c.RecipientEmailAddress, m.recipient);
                    s.s(c.DeliveryLocation, "Junk folder");
                    s.s(c.ThreatTypes, "Spam");
                    s.s(c.DetectionMethods, "{\"Spam\":[\"Advanced filter\"]}");
                    s.f(c.ReportId, format_args!("{rid}-z"));
                    s.end();
                }
            }
        }
        // Links clicked in Teams and Office documents.
        if !weekend {
            for _ in 0..r.range(0, 3) {
                let t = (day0 + r.range(8 * HOUR, 18 * HOUR)) / 100 * 100;
                if t < lo || t >= hi {
                    continue;
                }
                url.clear();
                let _ = write!(
                    url,
                    "https://contoso.sharepoint.com/sites/{}/{}",
                    r.pick_str(&["Projects", "HR", "Sales", "Engineering"]),
                    r.hex(12)
                );
                let workload = if r.chance(0.6) { "Teams" } else { "Office" };
                write_click(
                    &mut out.clicks,
                    t,
                    &url,
                    &u.upn,
                    "",
                    "ClickAllowed",
                    workload,
                    w.egress_ips.first().map_or("", |s| s.as_str()),
                    &r.guid(),
                );
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn write_click(
    s: &mut Sink,
    t: i64,
    url: &str,
    upn: &str,
    nmid: &str,
    action: &str,
    workload: &str,
    ip: &str,
    report_id: &str,
) {
    write_click_ext(s, t, url, upn, nmid, action, workload, ip, report_id, "");
}

/// [`write_click`] of a URL with a threat verdict (`ThreatTypes`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_click_ext(
    s: &mut Sink,
    t: i64,
    url: &str,
    upn: &str,
    nmid: &str,
    action: &str,
    workload: &str,
    ip: &str,
    report_id: &str,
    threat: &str,
) {
    let c = s.c;
    s.so(c.ThreatTypes, threat);
    s.t(c.Timestamp, t);
    s.s(c.Url, url);
    s.s(c.ActionType, action);
    s.s(c.AccountUpn, upn);
    s.s(
        c.Workload,
        if workload.is_empty() {
            "Email"
        } else {
            workload
        },
    );
    s.so(c.NetworkMessageId, nmid);
    s.s(c.IPAddress, ip);
    s.b(c.IsClickedThrough, false);
    s.f(c.UrlChain, format_args!("[\"{url}\"]"));
    s.s(c.ReportId, report_id);
    s.end();
}

// ---------------------------------------------------------------------------------------
// Cloud apps

pub(crate) struct CloudApp {
    pub name: &'static str,
    pub id: i32,
    pub workload: &'static str,
}

pub(crate) const EXCHANGE: CloudApp = CloudApp {
    name: "Microsoft Exchange Online",
    id: 20893,
    workload: "Exchange",
};
pub(crate) const SHAREPOINT: CloudApp = CloudApp {
    name: "Microsoft SharePoint Online",
    id: 20892,
    workload: "SharePoint",
};
pub(crate) const ONEDRIVE: CloudApp = CloudApp {
    name: "Microsoft OneDrive for Business",
    id: 15600,
    workload: "OneDrive",
};
pub(crate) const TEAMS: CloudApp = CloudApp {
    name: "Microsoft Teams",
    id: 28375,
    workload: "MicrosoftTeams",
};

pub(crate) const EDGE_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
const SYNC_UA: &str = "Microsoft SkyDriveSync 24.211.1020.0002 ship; Windows NT 10.0 (22631)";
const OUTLOOK_UA: &str =
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)";

/// One `CloudAppEvents` row.
pub(crate) struct CloudEvent<'a> {
    pub t: i64,
    pub action: &'a str,
    pub app: &'a CloudApp,
    pub user: &'a User,
    pub ip: &'a str,
    pub country: &'a str,
    pub city: &'a str,
    pub isp: &'a str,
    pub user_agent: &'a str,
    pub activity: &'a str,
    pub object_name: &'a str,
    pub object_id: &'a str,
    pub object_type: &'a str,
    pub report_id: &'a str,
    pub uncommon: bool,
}

/// What some activities add to a [`CloudEvent`].
#[derive(Default)]
pub(crate) struct CloudExtra<'a> {
    /// More members of `RawEventData` (JSON text starting with a comma).
    pub raw: &'a str,
    /// `ActivityObjects` (JSON array) instead of the single target object.
    pub activity_objects: &'a str,
    /// An administrative operation by an admin account.
    pub admin: bool,
    pub oauth_app_id: &'a str,
    /// `RawEventData.Workload` instead of the application's.
    pub workload: &'a str,
    /// `RawEventData.RecordType` instead of the workload's usual one.
    pub record_type: i32,
}

pub(crate) fn write_cloud(s: &mut Sink, e: &CloudEvent) {
    write_cloud_ext(s, e, &CloudExtra::default());
}

pub(crate) fn write_cloud_ext(s: &mut Sink, e: &CloudEvent, x: &CloudExtra) {
    let c = s.c;
    let u = e.user;
    s.t(c.Timestamp, e.t);
    s.s(c.ActionType, e.action);
    s.s(c.Application, e.app.name);
    s.i(c.ApplicationId, e.app.id);
    s.i(c.AppInstanceId, 0);
    s.s(c.AccountObjectId, &u.object_id);
    s.s(c.AccountId, &u.object_id);
    s.s(c.AccountDisplayName, &u.display);
    s.b(c.IsAdminOperation, x.admin);
    s.so(c.OAuthAppId, x.oauth_app_id);
    s.s(c.DeviceType, "Desktop");
    s.s(c.OSPlatform, "Windows");
    s.s(c.IPAddress, e.ip);
    s.b(c.IsAnonymousProxy, false);
    s.s(c.CountryCode, e.country);
    s.s(c.City, e.city);
    s.s(c.Isp, e.isp);
    s.s(c.UserAgent, e.user_agent);
    s.s(c.ActivityType, e.activity);
    if x.activity_objects.is_empty() {
        s.f(
            c.ActivityObjects,
            format_args!(
                "[{{\"Type\":\"{}\",\"Role\":\"Target object\",\"Name\":\"{}\",\"Id\":\"{}\"}}]",
                e.object_type, e.object_name, e.object_id
            ),
        );
    } else {
        s.s(c.ActivityObjects, x.activity_objects);
    }
    s.s(c.ObjectName, e.object_name);
    s.s(c.ObjectType, e.object_type);
    s.s(c.ObjectId, e.object_id);
    s.s(c.ReportId, e.report_id);
    s.s(c.AccountType, if x.admin { "Admin" } else { "Regular" });
    s.b(c.IsExternalUser, false);
    // Acting in someone else's mailbox (delegate access) is an impersonated activity.
    let owner = x
        .raw
        .split("\"MailboxOwnerUPN\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next());
    s.b(c.IsImpersonated, owner.is_some_and(|o| o != u.upn));
    let workload = if x.workload.is_empty() {
        e.app.workload
    } else {
        x.workload
    };
    let record_type = if x.record_type != 0 {
        x.record_type
    } else {
        match workload {
            "Exchange" if e.action == "MailItemsAccessed" => 50,
            "Exchange" => 2,
            "SharePoint" | "OneDrive" => 6,
            "MicrosoftTeams" => 25,
            "AzureActiveDirectory" => 8,
            "Copilot" => 261,
            _ => 1,
        }
    };
    let status = if workload == "AzureActiveDirectory" {
        "Success"
    } else {
        "Succeeded"
    };
    s.f(
        c.RawEventData,
        format_args!(
            "{{\"CreationTime\":\"{}\",\"Id\":\"{}\",\"Operation\":\"{}\",\"RecordType\":{record_type},\"ResultStatus\":\"{status}\",\"UserKey\":\"{}\",\"UserType\":{},\"UserId\":\"{}\",\"ClientIP\":\"{}\",\"ObjectId\":\"{}\",\"Workload\":\"{workload}\",\"UserAgent\":\"{}\"{}}}",
            crate::world::iso_seconds(e.t),
            e.report_id,
            e.action,
            u.object_id,
            if x.admin { 2 } else { 0 },
            u.upn,
            e.ip,
            e.object_id,
            e.user_agent,
            x.raw
        ),
    );
    if e.uncommon {
        s.s(c.UncommonForUser, "[\"IPAddress\",\"ISP\",\"CountryCode\"]");
        s.s(
            c.LastSeenForUser,
            "{\"IPAddress\":-1,\"ISP\":-1,\"CountryCode\":-1}",
        );
    } else {
        s.s(c.UncommonForUser, "[]");
        s.s(
            c.LastSeenForUser,
            "{\"IPAddress\":0,\"ISP\":0,\"CountryCode\":0}",
        );
    }
    s.end();
}

/// The SharePoint/OneDrive URL of a user's document.
pub(crate) fn doc_url(out: &mut String, u: &User, doc: &str) {
    let local = u.upn.replace(['.', '@'], "_");
    let _ = write!(
        out,
        "https://contoso-my.sharepoint.com/personal/{local}/Documents/{doc}"
    );
}

pub(crate) const COPILOT: CloudApp = CloudApp {
    name: "Microsoft Copilot for Microsoft 365",
    id: 33457,
    workload: "Copilot",
};
pub(crate) const OFFICE365: CloudApp = CloudApp {
    name: "Office 365",
    id: 11161,
    workload: "AzureActiveDirectory",
};
pub(crate) const DEFENDER: CloudApp = CloudApp {
    name: "Microsoft Defender for Endpoint",
    id: 60003,
    workload: "MicrosoftDefenderForEndpoint",
};

const TEAMS_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0 Teams/24295.605.3225.8804";

/// Users with a Microsoft 365 Copilot licence.
pub(crate) fn has_copilot(w: &World, ui: usize) -> bool {
    Rng::derive(&[w.seed, fnv("copilot-licence"), ui as u64]).chance(0.35)
}

pub(crate) fn cloud(
    w: &World,
    day: i64,
    lo: i64,
    hi: i64,
    users: std::ops::Range<usize>,
    s: &mut Sink,
) {
    let people: Vec<usize> = persons(w).map(|(i, _)| i).collect();
    let day0 = day * DAY;
    let first = users.start == 0;
    let mut obj = String::new();
    let mut rid = String::new();
    let mut raw = String::new();
    let salesforce = crate::posture::app_ids(w, 3).0;
    // Department heads (no manager) and the operations assistant who handles two of their
    // mailboxes.
    let heads: Vec<usize> = people
        .iter()
        .copied()
        .filter(|&p| w.user(p).is_some_and(|x| x.manager.is_none()))
        .take(2)
        .collect();
    let delegate = people.iter().copied().find(|&p| {
        w.user(p).is_some_and(|x| {
            x.manager.is_some()
                && crate::catalog::DEPTS
                    .get(x.dept)
                    .is_some_and(|d| d.code == "ops")
        })
    });
    for pi in users {
        let Some(&ui) = people.get(pi) else {
            continue;
        };
        let Some(u) = w.user(ui) else {
            continue;
        };
        let mut r = Rng::derive(&[w.seed, fnv("cloud"), ui as u64, day as u64]);
        let session = u.device.and_then(|d| w.session(d, day));
        let f = r.unit();
        let (n, from, to) = match session {
            Some((s0, s1)) => (r.count(30.0 * (0.6 + 0.8 * f)), s0, s1),
            None => (r.count(2.0), day0 + 9 * HOUR, day0 + 20 * HOUR),
        };
        let (ip, isp, city) = if session.is_some() {
            (
                w.egress_ips.first().map_or("", |s| s.as_str()),
                "Microsoft Azure",
                crate::catalog::CITIES
                    .get(u.city)
                    .map_or("Redmond", |c| c.0),
            )
        } else {
            (u.home_ip.as_str(), "Comcast Cable", "Seattle")
        };
        let mailbox_guid = Rng::derive(&[w.seed, fnv("mailbox"), ui as u64]).guid();
        let session_id = Rng::derive(&[w.seed, fnv("entra-session"), ui as u64, day as u64]).guid();
        for _ in 0..n {
            let t = (from + r.range(0, (to - from).max(1))) / 100 * 100;
            if t < lo || t >= hi {
                continue;
            }
            let x = r.unit();
            let doc = u
                .docs
                .get(r.index(u.docs.len()))
                .map_or("Document.docx", |d| d.as_str());
            obj.clear();
            rid.clear();
            rid.push_str(&r.guid());
            raw.clear();
            let (app, action, activity, ua, otype): (&CloudApp, &str, &str, &str, &str) = if x
                < 0.35
            {
                obj.push_str(&r.hex(16));
                let _ = write!(
                    raw,
                    ",\"MailboxOwnerUPN\":\"{}\",\"MailboxGuid\":\"{mailbox_guid}\",\"LogonType\":0,\"SessionId\":\"{session_id}\",\"ClientInfoString\":\"Client=MSExchangeRPC\",\"AppId\":\"d3590ed6-52b3-4102-aeff-aad2292ab01c\",\"OperationCount\":{},\"OperationProperties\":[{{\"Name\":\"MailAccessType\",\"Value\":\"Bind\"}},{{\"Name\":\"IsThrottled\",\"Value\":\"False\"}}],\"Folders\":[{{\"Path\":\"\\\\Inbox\",\"FolderItems\":[{{\"InternetMessageId\":\"<{}@SA1PR11MB.prod.outlook.com>\"}}]}}]",
                    u.upn,
                    r.range(1, 12),
                    r.hex(24)
                );
                (&EXCHANGE, "MailItemsAccessed", "Read", OUTLOOK_UA, "Email")
            } else if x < 0.42 {
                obj.push_str(&r.hex(16));
                (&EXCHANGE, "Send", "Send", OUTLOOK_UA, "Email")
            } else if x < 0.75 {
                doc_url(&mut obj, u, doc);
                let (a, act) = *r
                    .pick(&[
                        ("FileAccessed", "Read"),
                        ("FileModified", "Edit"),
                        ("FileDownloaded", "Download"),
                        ("FileUploaded", "Upload"),
                        ("FilePreviewed", "Read"),
                    ])
                    .unwrap_or(&("FileAccessed", "Read"));
                let app = if r.chance(0.6) {
                    &ONEDRIVE
                } else {
                    &SHAREPOINT
                };
                let ua = if a == "FileUploaded" {
                    SYNC_UA
                } else {
                    EDGE_UA
                };
                (app, a, act, ua, "File")
            } else {
                obj.push_str(&r.hex(16));
                let a = r.pick_str(&[
                    "MessageSent",
                    "MessageSent",
                    "MessagesListed",
                    "ChatRetrieved",
                    "MeetingParticipantDetail",
                    "ReactedToMessage",
                    "ChatCreated",
                ]);
                let external = r.chance(0.05);
                match a {
                    "MessageSent" => {
                        let _ = write!(
                            raw,
                            ",\"CommunicationType\":\"{}\",\"ChatThreadId\":\"19:{}@thread.v2\",\"ParticipantInfo\":{{\"HasForeignTenantUsers\":{external},\"HasGuestUsers\":false,\"HasOtherGovernmentUsers\":false,\"HasUnauthenticatedUsers\":false}}",
                            r.pick_str(&["OneOnOne", "GroupChat", "Channel"]),
                            r.hex(32)
                        );
                        if r.chance(0.15) {
                            let _ = write!(
                                raw,
                                ",\"MessageURLs\":[\"https://contoso.sharepoint.com/sites/{}/Shared%20Documents/{}\"]",
                                r.pick_str(&["Projects", "HR", "Sales", "Engineering"]),
                                r.hex(8)
                            );
                        }
                    }
                    "ChatCreated" => {
                        let _ = write!(
                            raw,
                            ",\"CommunicationType\":\"GroupChat\",\"ChatThreadId\":\"19:{}@thread.v2\",\"ParticipantInfo\":{{\"HasForeignTenantUsers\":{external},\"HasGuestUsers\":false,\"HasOtherGovernmentUsers\":false,\"HasUnauthenticatedUsers\":false}},\"Members\":[{{\"DisplayName\":\"{}\",\"Role\":1,\"UPN\":\"{}\"}}]",
                            r.hex(32),
                            u.display,
                            u.upn
                        );
                    }
                    "ReactedToMessage" => {
                        let _ = write!(
                            raw,
                            ",\"MessageReactionType\":\"{}\",\"CommunicationType\":\"GroupChat\"",
                            r.pick_str(&["like", "like", "heart", "laugh", "surprised", "sad"])
                        );
                    }
                    "MeetingParticipantDetail" => {
                        let join = t - r.range(20 * MIN, 60 * MIN);
                        let _ = write!(
                            raw,
                            ",\"MeetingDetailId\":\"{}\",\"JoinTime\":\"{}\",\"LeaveTime\":\"{}\",\"DeviceInformation\":\"Windows\",\"ClientIP\":\"{ip}\"",
                            r.guid(),
                            crate::world::iso_seconds(join),
                            crate::world::iso_seconds(t)
                        );
                    }
                    _ => {}
                }
                (&TEAMS, a, "Basic", TEAMS_UA, "Structured")
            };
            let name = if otype == "File" { doc } else { "" };
            write_cloud_ext(
                s,
                &CloudEvent {
                    t,
                    action,
                    app,
                    user: u,
                    ip,
                    country: "US",
                    city,
                    isp,
                    user_agent: ua,
                    activity,
                    object_name: name,
                    object_id: &obj,
                    object_type: otype,
                    report_id: &rid,
                    uncommon: false,
                },
                &CloudExtra {
                    raw: &raw,
                    ..CloudExtra::default()
                },
            );
        }
        let Some((s0, s1)) = session else {
            continue;
        };
        let one = |s: &mut Sink,
                   r: &mut Rng,
                   t: i64,
                   action: &str,
                   app: &CloudApp,
                   activity: &str,
                   object: (&str, &str, &str),
                   raw: &str,
                   oauth: &str| {
            if t < lo || t >= hi {
                return;
            }
            let rid = r.guid();
            write_cloud_ext(
                s,
                &CloudEvent {
                    t,
                    action,
                    app,
                    user: u,
                    ip,
                    country: "US",
                    city,
                    isp,
                    user_agent: if oauth.is_empty() { EDGE_UA } else { "" },
                    activity,
                    object_name: object.0,
                    object_id: object.1,
                    object_type: object.2,
                    report_id: &rid,
                    uncommon: false,
                },
                &CloudExtra {
                    raw,
                    oauth_app_id: oauth,
                    ..CloudExtra::default()
                },
            );
        };
        let span = (s1 - s0).max(HOUR);
        // Microsoft 365 Copilot prompts.
        if has_copilot(w, ui) {
            for _ in 0..r.count(3.0) {
                let t = (s0 + r.range(10 * MIN, span)) / 100 * 100;
                let host = r.pick_str(&[
                    "bizchat",
                    "bizchat",
                    "Word",
                    "Teams",
                    "Outlook",
                    "PowerPoint",
                ]);
                let doc = u
                    .docs
                    .get(r.index(u.docs.len()))
                    .map_or("Document.docx", |d| d.as_str());
                obj.clear();
                doc_url(&mut obj, u, doc);
                let plugin = if host == "bizchat" && r.chance(0.3) {
                    "[{\"Id\":\"BingWebSearch\",\"Name\":\"Bing Web Search\"}]"
                } else if host == "bizchat" {
                    "[{\"Id\":\"EnterpriseSearch\",\"Name\":\"Enterprise Search\"}]"
                } else {
                    "[]"
                };
                raw.clear();
                let _ = write!(
                    raw,
                    ",\"CopilotEventData\":{{\"AppHost\":\"{host}\",\"ThreadId\":\"19:{}@thread.v2\",\"Type\":\"UserPrompt\",\"Contexts\":[{{\"Id\":\"{obj}\",\"Type\":\"{}\"}}],\"Messages\":[{{\"Id\":\"{}\",\"isPrompt\":true}},{{\"Id\":\"{}\",\"isPrompt\":false}}],\"AccessedResources\":[{{\"Id\":\"{}\",\"Name\":\"{doc}\",\"SiteUrl\":\"{obj}\",\"Type\":\"File\",\"Action\":\"Read\"}}],\"AISystemPlugin\":{plugin},\"ModelTransparencyDetails\":[{{\"ModelName\":\"GPT-4o\"}}]}}",
                    r.hex(32),
                    if host == "bizchat" { "TeamsChat" } else { host },
                    t / 1_000_000,
                    t / 1_000_000 + 1,
                    r.guid()
                );
                let id = r.guid();
                one(
                    s,
                    &mut r,
                    t,
                    "CopilotInteraction",
                    &COPILOT,
                    "Basic",
                    (doc, &id, "File"),
                    &raw,
                    "",
                );
            }
        }
        // Salesforce syncs the sales team's mailboxes through Microsoft Graph.
        if DEPTS_SALES == crate::catalog::DEPTS.get(u.dept).map_or("", |d| d.code) {
            let mut t = s0 + r.range(0, HOUR);
            while t < s1 {
                raw.clear();
                let _ = write!(
                    raw,
                    ",\"MailboxOwnerUPN\":\"{}\",\"MailboxGuid\":\"{mailbox_guid}\",\"LogonType\":0,\"AppId\":\"00000003-0000-0000-c000-000000000000\",\"ClientAppId\":\"{salesforce}\",\"ClientInfoString\":\"Client=REST;Client=RESTSystem;\",\"OperationCount\":{},\"OperationProperties\":[{{\"Name\":\"MailAccessType\",\"Value\":\"Sync\"}},{{\"Name\":\"IsThrottled\",\"Value\":\"False\"}}],\"Folders\":[{{\"Path\":\"\\\\Inbox\"}}]",
                    u.upn,
                    r.range(1, 40)
                );
                let id = r.hex(16);
                one(
                    s,
                    &mut r,
                    t / 100 * 100,
                    "MailItemsAccessed",
                    &EXCHANGE,
                    "Read",
                    ("", &id, "Email"),
                    &raw,
                    &salesforce,
                );
                t += HOUR + r.range(-5 * MIN, 5 * MIN);
            }
        }
        // The operations assistant works in two department heads' mailboxes (delegate
        // access).
        if delegate == Some(ui) {
            for &head in &heads {
                let Some(h) = w.user(head) else {
                    continue;
                };
                let guid = Rng::derive(&[w.seed, fnv("mailbox"), head as u64]).guid();
                for _ in 0..r.range(2, 6) {
                    let t = (s0 + r.range(0, span)) / 100 * 100;
                    raw.clear();
                    let _ = write!(
                        raw,
                        ",\"MailboxOwnerUPN\":\"{}\",\"MailboxGuid\":\"{guid}\",\"LogonType\":1,\"ClientInfoString\":\"Client=MSExchangeRPC\",\"AppId\":\"d3590ed6-52b3-4102-aeff-aad2292ab01c\",\"OperationCount\":{},\"Folders\":[{{\"Path\":\"{}\"}}]",
                        h.upn,
                        r.range(1, 8),
                        r.pick_str(&["\\\\Inbox", "\\\\Calendar", "\\\\Sent Items"])
                    );
                    let id = r.hex(16);
                    one(
                        s,
                        &mut r,
                        t,
                        "MailItemsAccessed",
                        &EXCHANGE,
                        "Read",
                        ("", &id, "Email"),
                        &raw,
                        "",
                    );
                }
            }
        }
        // Occasional mailbox and search housekeeping.
        if r.chance(0.12) {
            let t = (s0 + r.range(0, span)) / 100 * 100;
            raw.clear();
            let _ = write!(
                raw,
                ",\"MailboxOwnerUPN\":\"{}\",\"AffectedItems\":[{{\"Id\":\"{}\",\"ParentFolder\":{{\"Path\":\"\\\\Deleted Items\"}},\"Subject\":\"{}\"}}]",
                u.upn,
                r.hex(24),
                r.pick_str(SUBJECTS)
            );
            let id = r.hex(16);
            one(
                s,
                &mut r,
                t,
                "HardDelete",
                &EXCHANGE,
                "Delete",
                ("", &id, "Email"),
                &raw,
                "",
            );
        }
        if r.chance(0.15) {
            let t = (s0 + r.range(0, span)) / 100 * 100;
            raw.clear();
            let _ = write!(
                raw,
                ",\"QueryText\":\"{}\",\"QuerySource\":\"SharePoint\"",
                r.pick_str(&[
                    "budget",
                    "onboarding checklist",
                    "holiday calendar",
                    "expense policy",
                    "project plan",
                    "org chart",
                    "vpn setup"
                ])
            );
            let id = r.guid();
            one(
                s,
                &mut r,
                t,
                "SearchQueryInitiatedSharePoint",
                &SHAREPOINT,
                "Basic",
                ("", &id, "Structured"),
                &raw,
                "",
            );
        }
        if r.chance(0.02) {
            let t = (s0 + r.range(0, span)) / 100 * 100;
            raw.clear();
            let _ = write!(
                raw,
                ",\"Parameters\":[{{\"Name\":\"Name\",\"Value\":\"Newsletters\"}},{{\"Name\":\"From\",\"Value\":\"{}\"}},{{\"Name\":\"MoveToFolder\",\"Value\":\"Newsletters\"}},{{\"Name\":\"StopProcessingRules\",\"Value\":\"True\"}}]",
                NEWSLETTER_SENDERS
                    .first()
                    .map_or("news@example.org", |x| x.0)
            );
            let id = format!("{}\\Newsletters", u.upn);
            one(
                s,
                &mut r,
                t,
                "New-InboxRule",
                &EXCHANGE,
                "Create",
                ("Newsletters", &id, "Structured"),
                &raw,
                "",
            );
        }
        if r.chance(0.01) {
            let t = (s0 + r.range(0, span)) / 100 * 100;
            let addon = r.pick_str(&["Workflows", "Polly", "Zoom", "Adobe Acrobat", "Planner"]);
            raw.clear();
            let _ = write!(
                raw,
                ",\"AddOnName\":\"{addon}\",\"AddOnType\":1,\"AzureADAppId\":\"{}\"",
                r.guid()
            );
            let id = r.guid();
            one(
                s,
                &mut r,
                t,
                "AppInstalled",
                &TEAMS,
                "Basic",
                (addon, &id, "Structured"),
                &raw,
                "",
            );
        }
    }
    if first {
        cloud_admin(w, day, lo, hi, s);
        crate::more::cloud(w, day, lo, hi, s);
    }
}

const DEPTS_SALES: &str = "sales";

/// One admin operation in `CloudAppEvents`.
struct AdminOp<'a> {
    /// By an admin account (otherwise a regular user, e.g. a group owner).
    admin: bool,
    t: i64,
    action: &'a str,
    app: &'a CloudApp,
    activity: &'a str,
    object: (&'a str, &'a str, &'a str),
    raw: &'a str,
    objects: &'a str,
}

/// Administrators' activity of a day: Entra ID changes, Exchange Online protection
/// settings and Defender response actions (some of them the response to story 1).
fn cloud_admin(w: &World, day: i64, lo: i64, hi: i64, s: &mut Sink) {
    let mut r = Rng::derive(&[w.seed, fnv("cloud-admin"), day as u64]);
    let day0 = day * DAY;
    let weekend = weekday(day) >= 5;
    let admins: Vec<usize> = w
        .users
        .iter()
        .enumerate()
        .filter(|(_, u)| u.kind == UserKind::Admin)
        .map(|(i, _)| i)
        .collect();
    let with_role = |role: &str| {
        admins
            .iter()
            .copied()
            .find(|&a| crate::posture::entra_roles(w, a).contains(&role))
            .or_else(|| admins.first().copied())
    };
    let (Some(ga), Some(secadm), Some(helpdesk)) = (
        with_role("Global Administrator"),
        with_role("Security Administrator"),
        with_role("Helpdesk Administrator"),
    ) else {
        return;
    };
    let ip = w.egress_ips.first().map_or("", |s| s.as_str());
    let tenant = w.tenant_id.as_str();
    let write = |s: &mut Sink, r: &mut Rng, who: usize, op: &AdminOp| {
        let Some(u) = w.user(who) else {
            return;
        };
        if op.t < lo || op.t >= hi {
            return;
        }
        let rid = r.guid();
        let mut raw = String::new();
        let _ = write!(
            raw,
            ",\"OrganizationId\":\"{tenant}\",\"Actor\":[{{\"ID\":\"{}\",\"Type\":5}},{{\"ID\":\"{}\",\"Type\":3}},{{\"ID\":\"User\",\"Type\":2}}]{}",
            u.upn, u.object_id, op.raw
        );
        write_cloud_ext(
            s,
            &CloudEvent {
                t: op.t / 100 * 100,
                action: op.action,
                app: op.app,
                user: u,
                ip,
                country: "US",
                city: "Redmond",
                isp: "Microsoft Azure",
                user_agent: EDGE_UA,
                activity: op.activity,
                object_name: op.object.0,
                object_id: op.object.1,
                object_type: op.object.2,
                report_id: &rid,
                uncommon: false,
            },
            &CloudExtra {
                raw: &raw,
                activity_objects: op.objects,
                admin: op.admin,
                ..CloudExtra::default()
            },
        );
    };
    let persons: Vec<&User> = w
        .users
        .iter()
        .filter(|u| u.kind == UserKind::Person)
        .collect();
    let mut raw = String::new();
    let mut objects = String::new();
    if !weekend {
        // Group membership changes by the helpdesk.
        for _ in 0..r.range(1, 4) {
            let Some(u) = persons.get(r.index(persons.len())).copied() else {
                continue;
            };
            let group = crate::catalog::DEPTS
                .get(u.dept)
                .map_or("Staff", |d| d.name);
            let gid = Rng::derive(&[w.seed, fnv("group"), fnv(group)]).guid();
            raw.clear();
            let _ = write!(
                raw,
                ",\"ObjectId\":\"{}\",\"ModifiedProperties\":[{{\"Name\":\"Group.ObjectID\",\"NewValue\":\"{gid}\",\"OldValue\":\"\"}},{{\"Name\":\"Group.DisplayName\",\"NewValue\":\"{group}\",\"OldValue\":\"\"}}],\"Target\":[{{\"ID\":\"User_{}\",\"Type\":2}},{{\"ID\":\"{}\",\"Type\":2}},{{\"ID\":\"User\",\"Type\":2}},{{\"ID\":\"{}\",\"Type\":5}}]",
                u.upn, u.object_id, u.object_id, u.upn
            );
            objects.clear();
            let _ = write!(
                objects,
                "[{{\"Type\":\"User\",\"Role\":\"Target object\",\"Name\":\"{}\",\"Id\":\"{}\"}},{{\"Type\":\"Group\",\"Role\":\"Destination object\",\"Name\":\"{group}\",\"Id\":\"{gid}\"}}]",
                u.upn, u.object_id
            );
            let t = day0 + r.range(8 * HOUR, 17 * HOUR);
            // Department heads own their team's group; the helpdesk handles the rest.
            let owner = u.manager.filter(|_| r.chance(0.6));
            write(
                s,
                &mut r,
                owner.unwrap_or(helpdesk),
                &AdminOp {
                    admin: owner.is_none(),
                    t,
                    action: "Add member to group.",
                    app: &OFFICE365,
                    activity: "Add",
                    object: (&u.upn, &u.object_id, "User"),
                    raw: &raw,
                    objects: &objects,
                },
            );
        }
        // Licence and profile updates.
        for _ in 0..r.range(1, 4) {
            let Some(u) = persons.get(r.index(persons.len())).copied() else {
                continue;
            };
            raw.clear();
            let _ = write!(
                raw,
                ",\"ObjectId\":\"{}\",\"ModifiedProperties\":[{{\"Name\":\"AssignedLicense\",\"NewValue\":\"[\\\"SkuName=SPE_E5\\\"]\",\"OldValue\":\"[\\\"SkuName=SPE_E3\\\"]\"}}],\"Target\":[{{\"ID\":\"User_{}\",\"Type\":2}},{{\"ID\":\"{}\",\"Type\":2}},{{\"ID\":\"User\",\"Type\":2}},{{\"ID\":\"{}\",\"Type\":5}}]",
                u.upn, u.object_id, u.object_id, u.upn
            );
            let t = day0 + r.range(8 * HOUR, 17 * HOUR);
            write(
                s,
                &mut r,
                helpdesk,
                &AdminOp {
                    admin: true,
                    t,
                    action: "Update user.",
                    app: &OFFICE365,
                    activity: "Edit",
                    object: (&u.upn, &u.object_id, "User"),
                    raw: &raw,
                    objects: "",
                },
            );
        }
        // A partner guest invited to a project.
        if r.chance(0.3) {
            let first = r.pick_str(crate::catalog::FIRST_NAMES).to_lowercase();
            let last = r.pick_str(crate::catalog::LAST_NAMES).to_lowercase();
            let domain = r.pick_str(PARTNER_DOMAINS);
            let guest = format!(
                "{first}.{last}_{}#EXT#@contoso.onmicrosoft.com",
                domain.replace('.', "_")
            );
            let gid = r.guid();
            raw.clear();
            let _ = write!(
                raw,
                ",\"ObjectId\":\"{guest}\",\"ModifiedProperties\":[{{\"Name\":\"AccountEnabled\",\"NewValue\":\"[true]\",\"OldValue\":\"[]\"}},{{\"Name\":\"UserType\",\"NewValue\":\"[\\\"Guest\\\"]\",\"OldValue\":\"[]\"}},{{\"Name\":\"UserPrincipalName\",\"NewValue\":\"[\\\"{guest}\\\"]\",\"OldValue\":\"[]\"}}],\"Target\":[{{\"ID\":\"User_{gid}\",\"Type\":2}},{{\"ID\":\"{gid}\",\"Type\":2}},{{\"ID\":\"User\",\"Type\":2}},{{\"ID\":\"{guest}\",\"Type\":5}}]"
            );
            let t = day0 + r.range(9 * HOUR, 17 * HOUR);
            write(
                s,
                &mut r,
                helpdesk,
                &AdminOp {
                    admin: true,
                    t,
                    action: "Add user.",
                    app: &OFFICE365,
                    activity: "Add",
                    object: (&guest, &gid, "User"),
                    raw: &raw,
                    objects: "",
                },
            );
        }
        // Offboarded accounts purged from the recycle bin.
        if r.chance(0.5) {
            let gid = r.guid();
            let name = format!(
                "{}{}.{}@contoso.com",
                gid.replace('-', "").get(..32).unwrap_or(""),
                r.pick_str(crate::catalog::FIRST_NAMES).to_lowercase(),
                r.pick_str(crate::catalog::LAST_NAMES).to_lowercase()
            );
            raw.clear();
            let _ = write!(
                raw,
                ",\"ObjectId\":\"{name}\",\"Target\":[{{\"ID\":\"User_{gid}\",\"Type\":2}},{{\"ID\":\"{gid}\",\"Type\":2}},{{\"ID\":\"User\",\"Type\":2}},{{\"ID\":\"{name}\",\"Type\":5}}]"
            );
            let t = day0 + r.range(9 * HOUR, 17 * HOUR);
            write(
                s,
                &mut r,
                ga,
                &AdminOp {
                    admin: true,
                    t,
                    action: "Hard Delete user.",
                    app: &OFFICE365,
                    activity: "Delete",
                    object: (&name, &gid, "User"),
                    raw: &raw,
                    objects: "",
                },
            );
        }
    }
    let days: Vec<(i64, i64, i64)> = w.days();
    let index = days.iter().position(|d| d.0 == day).unwrap_or(0);
    // Day 3: the invoice automation's secret expired; the global admin adds a new one.
    if index == 2 {
        let (app_id, sp_id) = crate::posture::app_ids(w, 6);
        let name = "Contoso Invoice Automation";
        let key_old = Rng::derive(&[w.seed, fnv("key-old")]).guid();
        let key_new = Rng::derive(&[w.seed, fnv("key-new")]).guid();
        raw.clear();
        let _ = write!(
            raw,
            ",\"ObjectId\":\"{sp_id}\",\"ModifiedProperties\":[{{\"Name\":\"KeyDescription\",\"NewValue\":\"[\\\"[KeyIdentifier={key_old},KeyType=Password,KeyUsage=Verify,DisplayName=invoice-2025]\\\",\\\"[KeyIdentifier={key_new},KeyType=Password,KeyUsage=Verify,DisplayName=invoice-2026]\\\"]\",\"OldValue\":\"[\\\"[KeyIdentifier={key_old},KeyType=Password,KeyUsage=Verify,DisplayName=invoice-2025]\\\"]\"}},{{\"Name\":\"Included Updated Properties\",\"NewValue\":\"KeyDescription\",\"OldValue\":\"\"}}],\"Target\":[{{\"ID\":\"ServicePrincipal_{sp_id}\",\"Type\":2}},{{\"ID\":\"{sp_id}\",\"Type\":2}},{{\"ID\":\"ServicePrincipal\",\"Type\":2}},{{\"ID\":\"{name}\",\"Type\":1}},{{\"ID\":\"{app_id}\",\"Type\":2}}]"
        );
        objects.clear();
        let _ = write!(
            objects,
            "[{{\"Type\":\"User\",\"Role\":\"Actor\",\"Name\":\"admin\",\"Id\":\"admin\"}},{{\"Type\":\"Application\",\"Role\":\"Target object\",\"Name\":\"{name}\",\"Id\":\"{sp_id}\"}}]"
        );
        let t = day0 + r.range(10 * HOUR, 15 * HOUR);
        write(
            s,
            &mut r,
            ga,
            &AdminOp {
                admin: true,
                t,
                action: "Add service principal credentials.",
                app: &OFFICE365,
                activity: "Add",
                object: (name, &sp_id, "Application"),
                raw: &raw,
                objects: &objects,
            },
        );
        write(
            s,
            &mut r,
            ga,
            &AdminOp {
                admin: true,
                t: t + 4 * crate::world::SEC,
                action: "Update application – Certificates and secrets management ",
                app: &OFFICE365,
                activity: "Edit",
                object: (name, &app_id, "Application"),
                raw: &raw,
                objects: &objects,
            },
        );
    }
    // Day 4: admin consent for Adobe Acrobat's new permission.
    if index == 3 {
        let (app_id, sp_id) = crate::posture::app_ids(w, 1);
        let name = "Adobe Acrobat";
        raw.clear();
        let _ = write!(
            raw,
            ",\"ObjectId\":\"{sp_id}\",\"ModifiedProperties\":[{{\"Name\":\"ConsentContext.IsAdminConsent\",\"NewValue\":\"True\",\"OldValue\":\"\"}},{{\"Name\":\"ConsentContext.IsAppOnly\",\"NewValue\":\"False\",\"OldValue\":\"\"}},{{\"Name\":\"ConsentContext.OnBehalfOfAll\",\"NewValue\":\"True\",\"OldValue\":\"\"}},{{\"Name\":\"ConsentAction.Permissions\",\"NewValue\":\"[] => [[Id: {}, ClientId: {sp_id}, PrincipalId: , ResourceId: 00000003-0000-0000-c000-000000000000, ConsentType: AllPrincipals, Scope:  User.Read Files.ReadWrite.All Sites.ReadWrite.All]]\",\"OldValue\":\"\"}}],\"Target\":[{{\"ID\":\"ServicePrincipal_{sp_id}\",\"Type\":2}},{{\"ID\":\"{sp_id}\",\"Type\":2}},{{\"ID\":\"ServicePrincipal\",\"Type\":2}},{{\"ID\":\"{name}\",\"Type\":1}},{{\"ID\":\"{app_id}\",\"Type\":2}}]",
            r.hex(22)
        );
        objects.clear();
        let _ = write!(
            objects,
            "[{{\"Type\":\"User\",\"Role\":\"Actor\",\"Name\":\"admin\",\"Id\":\"admin\"}},{{\"Type\":\"Application\",\"Role\":\"Target object\",\"Name\":\"{name}\",\"Id\":\"{sp_id}\"}}]"
        );
        let t = day0 + r.range(13 * HOUR, 16 * HOUR);
        write(
            s,
            &mut r,
            ga,
            &AdminOp {
                admin: true,
                t,
                action: "Consent to application.",
                app: &OFFICE365,
                activity: "Add",
                object: (name, &sp_id, "Application"),
                raw: &raw,
                objects: &objects,
            },
        );
    }
    // The security team's response to story 1: isolate the victim's device, block the
    // phishing domain, release the device the next morning.
    let plan = &w.plan;
    let victim = w.device(plan.victim_dev);
    if let Some(v) = victim {
        let t_iso = plan.s1_start + 5 * HOUR + 40 * MIN;
        if crate::world::utc_day(t_iso) == day {
            raw.clear();
            let _ = write!(
                raw,
                ",\"DeviceName\":\"{}\",\"DeviceId\":\"{}\",\"ActionComment\":\"Suspicious PowerShell and LSASS access, isolating pending investigation\",\"ActionScope\":\"Full\"",
                v.name, v.id
            );
            write(
                s,
                &mut r,
                secadm,
                &AdminOp {
                    admin: true,
                    t: t_iso,
                    action: "IsolateDevice",
                    app: &DEFENDER,
                    activity: "Basic",
                    object: (&v.name, &v.id, "Device"),
                    raw: &raw,
                    objects: "",
                },
            );
            raw.clear();
            let (_, sha256, _) = crate::rng::file_hashes(crate::stories::PHISH_DOC);
            let _ = write!(
                raw,
                ",\"DeviceName\":\"{}\",\"FileName\":\"{}\",\"FileSHA256\":\"{sha256}\",\"FileSize\":\"48128\"",
                v.name,
                crate::stories::PHISH_DOC
            );
            write(
                s,
                &mut r,
                secadm,
                &AdminOp {
                    admin: true,
                    t: t_iso + 12 * MIN,
                    action: "LiveResponseGetFile",
                    app: &DEFENDER,
                    activity: "Basic",
                    object: (&v.name, &v.id, "Device"),
                    raw: &raw,
                    objects: "",
                },
            );
            raw.clear();
            let _ = write!(
                raw,
                ",\"Parameters\":[{{\"Name\":\"ListType\",\"Value\":\"Url\"}},{{\"Name\":\"Block\",\"Value\":\"True\"}},{{\"Name\":\"Entries\",\"Value\":\"*.contoso-hr.net/*\"}},{{\"Name\":\"NoExpiration\",\"Value\":\"True\"}},{{\"Name\":\"Notes\",\"Value\":\"Payroll phishing campaign\"}}]"
            );
            objects.clear();
            objects.push_str("[{\"Type\":\"Parameter\",\"Role\":\"Parameter\",\"Name\":\"ListType\",\"Value\":\"Url\"},{\"Type\":\"Parameter\",\"Role\":\"Parameter\",\"Name\":\"Block\",\"Value\":\"True\"},{\"Type\":\"Parameter\",\"Role\":\"Parameter\",\"Name\":\"Entries\",\"Value\":\"*.contoso-hr.net/*\"},{\"Type\":\"Parameter\",\"Role\":\"Parameter\",\"Name\":\"NoExpiration\",\"Value\":\"True\"},{\"Type\":\"Parameter\",\"Role\":\"Parameter\",\"Name\":\"Notes\",\"Value\":\"Payroll phishing campaign\"}]");
            write(
                s,
                &mut r,
                secadm,
                &AdminOp {
                    admin: true,
                    t: t_iso + 25 * MIN,
                    action: "New-TenantAllowBlockListItems",
                    app: &EXCHANGE,
                    activity: "Add",
                    object: ("*.contoso-hr.net/*", "*.contoso-hr.net/*", "Structured"),
                    raw: &raw,
                    objects: &objects,
                },
            );
        }
        let t_rel = crate::world::utc_day(plan.s1_start) * DAY + DAY + 10 * HOUR;
        if crate::world::utc_day(t_rel) == day {
            raw.clear();
            let _ = write!(
                raw,
                ",\"DeviceName\":\"{}\",\"DeviceId\":\"{}\",\"ActionComment\":\"Reimaged, credentials reset\"",
                v.name, v.id
            );
            write(
                s,
                &mut r,
                secadm,
                &AdminOp {
                    admin: true,
                    t: t_rel,
                    action: "ReleaseFromIsolation",
                    app: &DEFENDER,
                    activity: "Basic",
                    object: (&v.name, &v.id, "Device"),
                    raw: &raw,
                    objects: "",
                },
            );
        }
    }
    // Security operations housekeeping: detection rules and Safe Attachments settings.
    if !weekend && r.chance(0.4) {
        let rule = r.pick_str(&[
            "Encoded PowerShell from Office apps",
            "RDP from public IP to servers",
            "Mass file download from SharePoint",
            "New local admin account",
        ]);
        let action = r.pick_str(&["CreateCustomDetection", "EditCustomDetection"]);
        raw.clear();
        let _ = write!(
            raw,
            ",\"RuleName\":\"{rule}\",\"RuleId\":\"{}\",\"IsEnabled\":\"true\"",
            r.below(900) + 100
        );
        let t = day0 + r.range(9 * HOUR, 17 * HOUR);
        write(
            s,
            &mut r,
            secadm,
            &AdminOp {
                admin: true,
                t,
                action,
                app: &DEFENDER,
                activity: "Edit",
                object: (rule, rule, "Structured"),
                raw: &raw,
                objects: "",
            },
        );
    }
    // One-off changes of the security team during the week.
    let soc: Option<(&str, String)> = match index {
        3 => Some((
            "EditRole",
            ",\"RoleName\":\"SOC Analysts\",\"RolePermissions\":\"View data, Alerts investigation, Live response capabilities: Basic\",\"AssignedGroups\":\"SOC Analysts\"".to_string(),
        )),
        1 => Some((
            "ExclusionConfigurationAdded",
            ",\"ResultStatus\":\"Succeeded\",\"ResultDescription\":\"Folder exclusion D:\\\\SQLData added to the SQL Servers policy\"".to_string(),
        )),
        2 => Some((
            "Write AlertsSuppressionRules",
            ",\"RuleTitle\":\"PUA:Win32/Presenoker on IT tools share\",\"Scope\":\"Organization\"".to_string(),
        )),
        4 => Some((
            "ChangeCustomDetectionRuleStatus",
            ",\"RuleName\":\"RDP from public IP to servers\",\"RuleId\":\"412\",\"IsEnabled\":\"false\",\"Query\":\"DeviceLogonEvents | where LogonType == 'RemoteInteractive' and RemoteIPType == 'Public'\"".to_string(),
        )),
        5 => Some((
            "SetAdvancedFeatures",
            ",\"SettingName\":\"Live Response unsigned script execution\",\"SettingsNewValue\":false".to_string(),
        )),
        _ => None,
    };
    if let Some((action, extra)) = soc {
        let t = day0 + r.range(10 * HOUR, 16 * HOUR);
        write(
            s,
            &mut r,
            secadm,
            &AdminOp {
                admin: true,
                t,
                action,
                app: &DEFENDER,
                activity: "Edit",
                object: (action, action, "Structured"),
                raw: &extra,
                objects: "",
            },
        );
    }
    if index == 1 {
        objects.clear();
        objects.push_str("[{\"Type\":\"Parameter\",\"Role\":\"Parameter\",\"Name\":\"Identity\",\"Value\":\"Default\"},{\"Type\":\"Parameter\",\"Role\":\"Parameter\",\"Name\":\"EnableATPForSPOTeamsODB\",\"Value\":\"True\"},{\"Type\":\"Parameter\",\"Role\":\"Parameter\",\"Name\":\"EnableSafeDocs\",\"Value\":\"True\"},{\"Type\":\"Parameter\",\"Role\":\"Parameter\",\"Name\":\"AllowSafeDocsOpen\",\"Value\":\"False\"}]");
        raw.clear();
        raw.push_str(",\"Parameters\":[{\"Name\":\"Identity\",\"Value\":\"Default\"},{\"Name\":\"EnableATPForSPOTeamsODB\",\"Value\":\"True\"},{\"Name\":\"EnableSafeDocs\",\"Value\":\"True\"},{\"Name\":\"AllowSafeDocsOpen\",\"Value\":\"False\"}]");
        let t = day0 + r.range(10 * HOUR, 16 * HOUR);
        write(
            s,
            &mut r,
            secadm,
            &AdminOp {
                admin: true,
                t,
                action: "Set-AtpPolicyForO365",
                app: &EXCHANGE,
                activity: "Edit",
                object: ("Default", "Default", "Structured"),
                raw: &raw,
                objects: &objects,
            },
        );
    }
}

pub(crate) fn person_count(w: &World) -> usize {
    persons(w).count()
}
