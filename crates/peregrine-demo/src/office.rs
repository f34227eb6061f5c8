//! Background activity of Defender for Office 365 (mail, attachments, links, clicks,
//! post-delivery actions) and Defender for Cloud Apps (Microsoft 365 activity), per user
//! and UTC day.

use std::fmt::Write;

use crate::catalog::{NEWSLETTER_SENDERS, PARTNER_DOMAINS, SUBJECTS};
use crate::rng::{Rng, fnv};
use crate::sink::Sink;
use crate::world::{DAY, HOUR, MIN, User, UserKind, World, weekday};

pub(crate) const MAIL_TABLES: [&str; 5] = [
    "EmailEvents",
    "EmailAttachmentInfo",
    "EmailUrlInfo",
    "UrlClickEvents",
    "EmailPostDeliveryEvents",
];

/// The sinks of the mail tables, in [`MAIL_TABLES`] order.
pub(crate) struct MailSinks {
    pub events: Sink,
    pub attachments: Sink,
    pub urls: Sink,
    pub clicks: Sink,
    pub post: Sink,
}

impl MailSinks {
    pub(crate) fn all(&mut self) -> [&mut Sink; 5] {
        [
            &mut self.events,
            &mut self.attachments,
            &mut self.urls,
            &mut self.clicks,
            &mut self.post,
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
    for pi in users {
        let Some(&ui) = people.get(pi) else {
            continue;
        };
        let Some(u) = w.user(ui) else {
            continue;
        };
        let mut r = Rng::derive(&[w.seed, fnv("mail"), ui as u64, day as u64]);
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
                }
            }
            let n_att = if m.threat == "Malware" || r.chance(0.2) {
                1 + i32::from(r.chance(0.25))
            } else {
                0
            };
            let n_url = if m.threat == "Phish" || r.chance(0.4) {
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
            write_mail(&mut out.events, &m);

            for a in 0..n_att {
                let s = &mut out.attachments;
                let c = s.c;
                let doc = if m.threat == "Malware" {
                    "Invoice_88213.iso"
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
                let domain = if m.threat == "Phish" {
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
                    s.s(c.UrlLocation, "Body");
                    s.f(c.ReportId, format_args!("{rid}-u{k}"));
                    s.end();
                }
                if k == 0
                    && m.delivery_action == "Delivered"
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
    let c = s.c;
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

pub(crate) fn write_cloud(s: &mut Sink, e: &CloudEvent) {
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
    s.b(c.IsAdminOperation, false);
    s.s(c.DeviceType, "Desktop");
    s.s(c.OSPlatform, "Windows");
    s.s(c.IPAddress, e.ip);
    s.b(c.IsAnonymousProxy, false);
    s.s(c.CountryCode, e.country);
    s.s(c.City, e.city);
    s.s(c.Isp, e.isp);
    s.s(c.UserAgent, e.user_agent);
    s.s(c.ActivityType, e.activity);
    s.f(
        c.ActivityObjects,
        format_args!(
            "[{{\"Type\":\"{}\",\"Role\":\"Target object\",\"Name\":\"{}\",\"Id\":\"{}\"}}]",
            e.object_type, e.object_name, e.object_id
        ),
    );
    s.s(c.ObjectName, e.object_name);
    s.s(c.ObjectType, e.object_type);
    s.s(c.ObjectId, e.object_id);
    s.s(c.ReportId, e.report_id);
    s.s(c.AccountType, "Regular");
    s.b(c.IsExternalUser, false);
    s.b(c.IsImpersonated, false);
    s.f(
        c.RawEventData,
        format_args!(
            "{{\"Operation\":\"{}\",\"UserId\":\"{}\",\"ClientIP\":\"{}\",\"ObjectId\":\"{}\",\"Workload\":\"{}\",\"UserAgent\":\"{}\"}}",
            e.action, u.upn, e.ip, e.object_id, e.app.workload, e.user_agent
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
    let mut obj = String::new();
    let mut rid = String::new();
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
            let (app, action, activity, ua, otype): (&CloudApp, &str, &str, &str, &str) =
                if x < 0.35 {
                    obj.push_str(&r.hex(16));
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
                        "MessagesListed",
                        "ChatRetrieved",
                        "MeetingParticipantDetail",
                    ]);
                    (&TEAMS, a, "Basic", EDGE_UA, "Structured")
                };
            let name = if otype == "File" { doc } else { "" };
            write_cloud(
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
            );
        }
    }
}

pub(crate) fn person_count(w: &World) -> usize {
    persons(w).count()
}
