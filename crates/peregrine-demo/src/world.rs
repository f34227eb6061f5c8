//! The demo tenant's entities: users, devices, images with hashes, internet endpoints, and
//! the activity model (who works when). Everything derives from the seed and the window, so
//! every generator sees the same entities.

use crate::catalog::{self, DEPT_FIN, DEPT_IT, DEPTS, IMAGES, ImageDef, Img};
use crate::rng::{Rng, Weighted, file_hashes, fnv};

pub(crate) const SEC: i64 = 1_000_000_000;
pub(crate) const MIN: i64 = 60 * SEC;
pub(crate) const HOUR: i64 = 60 * MIN;
pub(crate) const DAY: i64 = 24 * HOUR;

pub(crate) const DOMAIN: &str = "contoso.com";
pub(crate) const NETBIOS: &str = "contoso";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserKind {
    Person,
    Admin,
    Service,
}

pub(crate) struct User {
    pub sam: String,
    pub upn: String,
    pub display: String,
    pub given: String,
    pub surname: String,
    pub sid: String,
    pub object_id: String,
    pub cloud_sid: String,
    pub dept: usize,
    pub title: &'static str,
    pub kind: UserKind,
    /// The user's workstation.
    pub device: Option<usize>,
    pub local_admin: bool,
    pub city: usize,
    pub phone: String,
    pub employee_id: String,
    pub created: i64,
    pub manager: Option<usize>,
    /// Documents the user works on (file names).
    pub docs: Vec<String>,
    /// Public address when working from home (cloud sign-ins).
    pub home_ip: String,
    pub uses_chrome: bool,
    /// Person with an `adm-` account: its index.
    pub admin_account: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Workstation,
    Dc,
    File,
    Web,
    Sql,
    App,
}

pub(crate) struct Device {
    pub id: String,
    /// FQDN, as `DeviceName` in the Device* tables.
    pub name: String,
    /// Upper-case NetBIOS name, as Defender for Identity reports it.
    pub netbios: String,
    pub role: Role,
    pub dept: usize,
    pub ip: String,
    pub gateway: String,
    pub mac: String,
    pub user: Option<usize>,
    pub aad_id: String,
    pub boot: i64,
    pub model: &'static str,
    pub vendor: &'static str,
    pub os_platform: &'static str,
    pub os_build: i64,
    pub os_version_info: &'static str,
    pub internet_facing: bool,
    /// Per-device activity factor (0.7 to 1.3).
    pub activity: f64,
    /// The file server this workstation maps its drives from.
    pub file_server: usize,
    pub dc: usize,
}

impl Device {
    pub(crate) fn is_server(&self) -> bool {
        self.role != Role::Workstation
    }
}

/// An executable or library with its hashes.
pub(crate) struct Image {
    pub def: &'static ImageDef,
    pub sha1: String,
    pub sha256: String,
    pub md5: String,
}

/// An internet service with concrete addresses.
pub(crate) struct Svc {
    pub hosts: &'static [&'static str],
    pub ips: Vec<String>,
}

/// When and to whom the attack stories happen.
pub(crate) struct Plan {
    /// Story 1 (phishing → exfiltration): victim user and device, stolen admin account,
    /// lateral-movement target, and its start (the victim's session start that day).
    pub victim_user: usize,
    pub victim_dev: usize,
    pub admin_user: usize,
    pub lateral_dev: usize,
    pub phish_recipients: Vec<usize>,
    pub s1_start: i64,
    /// Story 2 (RDP brute force → ransomware): target server, the guessed account, start.
    pub target_dev: usize,
    pub svc_user: usize,
    pub s2_start: i64,
}

pub(crate) struct World {
    pub seed: u64,
    pub start: i64,
    pub now: i64,
    pub tenant_id: String,
    pub users: Vec<User>,
    pub devices: Vec<Device>,
    pub images: Vec<Image>,
    pub egress_ips: Vec<String>,
    pub web: Vec<Svc>,
    pub ms: Vec<Svc>,
    pub workstations: Vec<usize>,
    pub servers: Vec<usize>,
    pub dcs: Vec<usize>,
    pub persons: Vec<usize>,
    pub service_accounts: Vec<usize>,
    pub plan: Plan,
    /// The story victim's session on the story day: (device, UTC day, start offset).
    forced_session: (usize, i64, i64),
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a time.
pub(crate) fn iso_seconds(t: i64) -> String {
    chrono::DateTime::from_timestamp(t.div_euclid(SEC), 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

pub(crate) fn utc_day(t: i64) -> i64 {
    t.div_euclid(DAY)
}

/// 0 = Monday … 6 = Sunday.
pub(crate) fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

fn sid_part(r: &mut Rng) -> u64 {
    1_000_000_000 + r.below(3_000_000_000)
}

impl World {
    pub(crate) fn new(seed: u64, devices: usize, days: i64, now: i64) -> World {
        let devices = devices.clamp(4, 60_000);
        let days = days.clamp(1, 3_650);
        // Between 2001 and 2198: every day of the window is after 1970 and every time fits.
        let now = now.clamp(1_000_000_000 * SEC, 7_200_000_000 * SEC);
        let start = now - days * DAY;
        let mut r = Rng::derive(&[seed, fnv("world")]);
        let domain_sid = format!(
            "S-1-5-21-{}-{}-{}",
            sid_part(&mut r),
            sid_part(&mut r),
            sid_part(&mut r)
        );
        let tenant_id = r.guid();

        let images = IMAGES
            .iter()
            .map(|def| {
                let (sha1, sha256, md5) = file_hashes(def.name);
                Image {
                    def,
                    sha1,
                    sha256,
                    md5,
                }
            })
            .collect();

        let ip_of = |prefix: &str, r: &mut Rng, n: usize| -> Vec<String> {
            (0..n)
                .map(|_| format!("{prefix}.{}", 2 + r.below(250)))
                .collect()
        };
        let web = catalog::WEB_SERVICES
            .iter()
            .map(|s| Svc {
                hosts: s.hosts,
                ips: ip_of(s.prefix, &mut r, 3),
            })
            .collect();
        let ms = catalog::MS_SERVICES
            .iter()
            .map(|s| Svc {
                hosts: s.hosts,
                ips: ip_of(s.prefix, &mut r, 3),
            })
            .collect();
        let egress_ips = vec![
            format!("20.94.31.{}", 10 + r.below(40)),
            format!("20.94.31.{}", 60 + r.below(40)),
        ];

        // Devices: servers first in role order, then workstations.
        let n_servers = (devices * 8 / 100).max(3).min(devices - 1);
        let roles_cycle = [
            Role::App,
            Role::File,
            Role::Sql,
            Role::App,
            Role::Dc,
            Role::File,
            Role::App,
            Role::Web,
            Role::Sql,
            Role::App,
        ];
        let mut devs: Vec<Device> = Vec::with_capacity(devices);
        let mut role_count = [0usize; 6];
        let dept_w = Weighted::new(DEPTS.iter().map(|d| d.weight));
        let mut dept_count = vec![0usize; DEPTS.len()];
        for i in 0..devices {
            let role = if i < n_servers {
                match i {
                    0 => Role::Dc,
                    1 => Role::File,
                    2 => Role::Web,
                    _ => roles_cycle
                        .get((i - 3) % roles_cycle.len())
                        .copied()
                        .unwrap_or(Role::App),
                }
            } else {
                Role::Workstation
            };
            let ws_index = i.saturating_sub(n_servers);
            let dept = match (role, ws_index) {
                (Role::Workstation, 0) => DEPT_FIN,
                (Role::Workstation, 1) => DEPT_IT,
                (Role::Workstation, _) => dept_w.pick(&mut r),
                _ => DEPT_IT,
            };
            let (name_short, ip, gateway) = if role == Role::Workstation {
                let c = dept_count.get_mut(dept).map_or(1, |c| {
                    *c += 1;
                    *c
                });
                let code = DEPTS.get(dept).map_or("ws", |d| d.code);
                let n = ws_index;
                let second = 20 + n / (250 * 200);
                let third = 10 + (n / 250) % 200;
                let fourth = 10 + n % 250;
                (
                    format!("ws-{code}-{c:03}"),
                    format!("10.{second}.{third}.{fourth}"),
                    format!("10.{second}.{third}.1"),
                )
            } else {
                let k = role as usize;
                let c = role_count.get_mut(k).map_or(1, |c| {
                    *c += 1;
                    *c
                });
                let code = match role {
                    Role::Dc => "dc",
                    Role::File => "file",
                    Role::Web => "web",
                    Role::Sql => "sql",
                    _ => "app",
                };
                let third = 1 + i / 240;
                let fourth = 10 + i % 240;
                (
                    format!("srv-{code}-{c:02}"),
                    format!("10.0.{third}.{fourth}"),
                    format!("10.0.{third}.1"),
                )
            };
            let server = role != Role::Workstation;
            let (model, vendor) = if server {
                ("Virtual Machine", "Microsoft Corporation")
            } else {
                *r.pick(&[
                    ("Latitude 7440", "Dell Inc."),
                    ("Latitude 5540", "Dell Inc."),
                    ("ThinkPad T14 Gen 4", "LENOVO"),
                    ("Surface Laptop 5", "Microsoft Corporation"),
                    ("EliteBook 840 G10", "HP"),
                ])
                .unwrap_or(&("Latitude 7440", "Dell Inc."))
            };
            let (os_platform, os_build, os_version_info) = if server {
                if r.chance(0.7) {
                    ("WindowsServer2022", 20348, "21H2")
                } else {
                    ("WindowsServer2019", 17763, "1809")
                }
            } else if r.chance(0.75) {
                ("Windows11", 22631, "23H2")
            } else {
                ("Windows10", 19045, "22H2")
            };
            let mut mac = String::with_capacity(17);
            mac.push_str(if server { "00-15-5D" } else { "D4-81-D7" });
            for _ in 0..3 {
                mac.push('-');
                let b = r.below(256);
                mac.push_str(&format!("{b:02X}"));
            }
            devs.push(Device {
                id: r.hex(40),
                name: format!("{name_short}.{DOMAIN}"),
                netbios: name_short.to_ascii_uppercase(),
                role,
                dept,
                ip,
                gateway,
                mac,
                user: None,
                aad_id: r.guid(),
                boot: start - r.range(HOUR, 9 * DAY),
                model,
                vendor,
                os_platform,
                os_build,
                os_version_info,
                internet_facing: role == Role::Web,
                activity: 0.7 + 0.6 * r.unit(),
                file_server: 0,
                dc: 0,
            });
        }
        let servers: Vec<usize> = (0..n_servers).collect();
        let workstations: Vec<usize> = (n_servers..devices).collect();
        let of_role = |role: Role| -> Vec<usize> {
            devs.iter()
                .enumerate()
                .filter(|(_, d)| d.role == role)
                .map(|(i, _)| i)
                .collect()
        };
        let dcs = of_role(Role::Dc);
        let files = of_role(Role::File);
        for (k, d) in devs.iter_mut().enumerate() {
            d.file_server = files.get(k % files.len().max(1)).copied().unwrap_or(0);
            d.dc = dcs.get(k % dcs.len().max(1)).copied().unwrap_or(0);
        }

        // Users: one person per workstation, an admin account per IT person, services.
        let mut users: Vec<User> = Vec::new();
        let mut sams: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut upns: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut rid = 1104u64;
        let mut new_user = |r: &mut Rng,
                            users: &mut Vec<User>,
                            given: String,
                            surname: String,
                            sam_base: String,
                            dept: usize,
                            kind: UserKind,
                            device: Option<usize>| {
            let mut sam = sam_base.clone();
            let mut k = 1;
            while sams.contains(&sam) {
                k += 1;
                sam = format!("{sam_base}{k}");
            }
            sams.insert(sam.clone());
            let upn_base = match kind {
                UserKind::Person => {
                    format!("{}.{}", given.to_lowercase(), surname.to_lowercase())
                }
                _ => sam.clone(),
            };
            let mut upn_local = upn_base.clone();
            let mut k = 1;
            while upns.contains(&upn_local) {
                k += 1;
                upn_local = format!("{upn_base}{k}");
            }
            upns.insert(upn_local.clone());
            rid += 1 + r.below(3);
            let dept_def = DEPTS.get(dept);
            let title = match kind {
                UserKind::Person => dept_def
                    .and_then(|d| r.pick(d.titles).copied())
                    .unwrap_or("Employee"),
                UserKind::Admin => "Administrator account",
                UserKind::Service => "Service account",
            };
            let mut docs = Vec::new();
            for _ in 0..12 {
                let topic = r.pick_str(catalog::DOC_TOPICS);
                let period = r.pick_str(catalog::DOC_PERIODS);
                let ext = r.pick_str(catalog::DOC_EXTS);
                let v = if r.chance(0.3) {
                    format!(" v{}", 2 + r.below(3))
                } else {
                    String::new()
                };
                docs.push(format!("{topic} {period}{v}.{ext}"));
            }
            let display = match kind {
                UserKind::Person => format!("{given} {surname}"),
                UserKind::Admin => format!("{given} {surname} (Admin)"),
                UserKind::Service => sam.clone(),
            };
            users.push(User {
                upn: format!("{upn_local}@{DOMAIN}"),
                display,
                sid: String::new(),
                object_id: r.guid(),
                cloud_sid: format!(
                    "S-1-12-1-{}-{}-{}-{}",
                    r.below(u64::from(u32::MAX)),
                    r.below(u64::from(u32::MAX)),
                    r.below(u64::from(u32::MAX)),
                    r.below(u64::from(u32::MAX))
                ),
                given,
                surname,
                sam,
                dept,
                title,
                kind,
                device,
                local_admin: kind == UserKind::Admin || r.chance(0.35),
                city: r.index(catalog::CITIES.len()),
                phone: format!("+1 425 555 {:04}", r.below(10_000)),
                employee_id: format!("{}", 100_000 + rid),
                created: start - r.range(30 * DAY, 2_000 * DAY),
                manager: None,
                docs,
                home_ip: format!(
                    "{}.{}.{}.{}",
                    r.pick(&[73u64, 24, 98, 67, 108, 174])
                        .copied()
                        .unwrap_or(73),
                    r.below(256),
                    r.below(256),
                    1 + r.below(254)
                ),
                uses_chrome: r.chance(0.7),
                admin_account: None,
            });
            rid
        };
        let mut rids = Vec::new();
        for &d in &workstations {
            let given = r.pick_str(catalog::FIRST_NAMES).to_string();
            let surname = r.pick_str(catalog::LAST_NAMES).to_string();
            let sam = format!(
                "{}{}",
                given.chars().next().unwrap_or('x').to_ascii_lowercase(),
                surname.to_lowercase()
            );
            let dept = devs.get(d).map_or(0, |x| x.dept);
            let id = new_user(
                &mut r,
                &mut users,
                given,
                surname,
                sam,
                dept,
                UserKind::Person,
                Some(d),
            );
            rids.push(id);
            let u = users.len() - 1;
            if let Some(dev) = devs.get_mut(d) {
                dev.user = Some(u);
            }
        }
        if !users.iter().any(|u| u.dept == DEPT_IT) {
            let id = new_user(
                &mut r,
                &mut users,
                "Kai".into(),
                "Carter".into(),
                "kcarter".into(),
                DEPT_IT,
                UserKind::Person,
                None,
            );
            rids.push(id);
        }
        let persons: Vec<usize> = (0..users.len()).collect();
        // Managers: the first person of each department manages the others.
        for dept in 0..DEPTS.len() {
            let members: Vec<usize> = persons
                .iter()
                .copied()
                .filter(|&u| users.get(u).is_some_and(|x| x.dept == dept))
                .collect();
            if let Some((&head, rest)) = members.split_first() {
                for &m in rest {
                    if let Some(x) = users.get_mut(m) {
                        x.manager = Some(head);
                    }
                }
            }
        }
        let it_people: Vec<usize> = persons
            .iter()
            .copied()
            .filter(|&u| users.get(u).is_some_and(|x| x.dept == DEPT_IT))
            .take(8)
            .collect();
        for &p in &it_people {
            let (given, surname, sam) = match users.get(p) {
                Some(x) => (x.given.clone(), x.surname.clone(), format!("adm-{}", x.sam)),
                None => continue,
            };
            let id = new_user(
                &mut r,
                &mut users,
                given,
                surname,
                sam,
                DEPT_IT,
                UserKind::Admin,
                None,
            );
            rids.push(id);
            let a = users.len() - 1;
            if let Some(x) = users.get_mut(p) {
                x.admin_account = Some(a);
            }
        }
        let mut service_accounts = Vec::new();
        for name in ["svc-backup", "svc-sql", "svc-web", "svc-scan"] {
            let id = new_user(
                &mut r,
                &mut users,
                String::new(),
                String::new(),
                name.to_string(),
                DEPT_IT,
                UserKind::Service,
                None,
            );
            rids.push(id);
            service_accounts.push(users.len() - 1);
        }
        for (u, rid) in users.iter_mut().zip(rids) {
            u.sid = format!("{domain_sid}-{rid}");
            if u.kind == UserKind::Service {
                u.local_admin = true;
            }
        }

        let mut world = World {
            seed,
            start,
            now,
            tenant_id,
            users,
            devices: devs,
            images,
            egress_ips,
            web,
            ms,
            workstations,
            servers,
            dcs,
            persons,
            service_accounts,
            plan: Plan {
                victim_user: 0,
                victim_dev: 0,
                admin_user: 0,
                lateral_dev: 0,
                phish_recipients: Vec::new(),
                s1_start: start,
                target_dev: 0,
                svc_user: 0,
                s2_start: start,
            },
            forced_session: (usize::MAX, i64::MIN, 0),
        };
        world.plan_stories(&mut r);
        world
    }

    fn plan_stories(&mut self, r: &mut Rng) {
        let victim_dev = self.workstations.first().copied().unwrap_or(0);
        let victim_user = self
            .devices
            .get(victim_dev)
            .and_then(|d| d.user)
            .unwrap_or(0);
        let admin_user = self
            .users
            .iter()
            .position(|u| u.kind == UserKind::Admin)
            .unwrap_or(victim_user);
        let lateral_dev = self
            .devices
            .iter()
            .position(|d| d.role == Role::File)
            .unwrap_or(0);
        let target_dev = self
            .devices
            .iter()
            .position(|d| d.role == Role::Web)
            .unwrap_or_else(|| self.servers.last().copied().unwrap_or(0));
        let svc_user = self.service_accounts.first().copied().unwrap_or(0);
        // The campaign: the victim and a few other people.
        let mut recipients = vec![victim_user];
        for &p in self.persons.iter().skip(1) {
            if recipients.len() >= 5 {
                break;
            }
            if p != victim_user && self.users.get(p).is_some_and(|u| u.dept != DEPT_IT) {
                recipients.push(p);
            }
        }

        // Story 1 runs from 30 minutes before the victim's session start to 7 hours after;
        // it takes the weekday nearest 40% into the window where it fits.
        let first_day = utc_day(self.start);
        let last_day = utc_day(self.now - 1);
        let session_start = r.range(7 * HOUR, 9 * HOUR + 30 * MIN);
        let fits = |d: i64, from: i64, to: i64| {
            let t0 = d * DAY + from;
            let t1 = d * DAY + to;
            t0 >= self.start && t1 < self.now
        };
        let target = self.start + (self.now - self.start) * 2 / 5;
        let mut best: Option<(bool, i64, i64)> = None; // (weekday, distance, day)
        for d in first_day..=last_day {
            if !fits(d, session_start - 40 * MIN, session_start + 7 * HOUR) {
                continue;
            }
            let wk = weekday(d) < 5;
            let dist = (d * DAY + session_start - target).abs();
            let better = match best {
                None => true,
                Some((bw, bd, _)) => (wk && !bw) || (wk == bw && dist < bd),
            };
            if better {
                best = Some((wk, dist, d));
            }
        }
        let s1_start = match best {
            Some((_, _, d)) => d * DAY + session_start,
            // The window is too short for a working day: start an hour in.
            None => self.start + 40 * MIN + (self.now - self.start) / 20,
        };
        self.forced_session = (
            victim_dev,
            utc_day(s1_start),
            s1_start - utc_day(s1_start) * DAY,
        );

        // Story 2 runs at night (01:30 to 04:30 UTC) on the latest day where it fits.
        let s2_offset = r.range(HOUR + 30 * MIN, 2 * HOUR);
        let mut s2 = None;
        for d in (first_day..=last_day).rev() {
            if fits(d, s2_offset, s2_offset + 3 * HOUR) && d != utc_day(s1_start) {
                s2 = Some(d * DAY + s2_offset);
                break;
            }
        }
        if s2.is_none() {
            for d in (first_day..=last_day).rev() {
                if fits(d, s2_offset, s2_offset + 3 * HOUR) {
                    s2 = Some(d * DAY + s2_offset);
                    break;
                }
            }
        }
        let s2_start = s2.unwrap_or_else(|| (self.now - 3 * HOUR - 10 * MIN).max(self.start));

        self.plan = Plan {
            victim_user,
            victim_dev,
            admin_user,
            lateral_dev,
            phish_recipients: recipients,
            s1_start,
            target_dev,
            svc_user,
            s2_start,
        };
    }

    pub(crate) fn image(&self, img: Img) -> &Image {
        // `images` is built from `IMAGES`, so every `Img` has an entry.
        self.images
            .get(img as usize)
            .or_else(|| self.images.first())
            .unwrap_or_else(|| unreachable_image())
    }

    /// The interactive session of a workstation's user on a UTC day: (start, end).
    pub(crate) fn session(&self, dev: usize, day: i64) -> Option<(i64, i64)> {
        let d = self.devices.get(dev)?;
        if d.role != Role::Workstation {
            return None;
        }
        d.user?;
        let base = day * DAY;
        if self.forced_session.0 == dev && self.forced_session.1 == day {
            let s = base + self.forced_session.2;
            return Some((s, s + 9 * HOUR + 20 * MIN));
        }
        let mut r = Rng::derive(&[self.seed, fnv("session"), dev as u64, day as u64]);
        let weekend = weekday(day) >= 5;
        let works = if weekend {
            r.chance(0.08)
        } else {
            r.chance(0.93)
        };
        if !works {
            return None;
        }
        if weekend {
            let s = base + r.range(10 * HOUR, 15 * HOUR);
            return Some((s, s + r.range(HOUR, 3 * HOUR)));
        }
        let s = base + r.range(7 * HOUR, 9 * HOUR + 30 * MIN);
        Some((s, s + r.range(8 * HOUR, 10 * HOUR)))
    }

    pub(crate) fn user(&self, u: usize) -> Option<&User> {
        self.users.get(u)
    }

    pub(crate) fn device(&self, d: usize) -> Option<&Device> {
        self.devices.get(d)
    }

    /// The UTC days the window touches, with the part of each inside the window.
    pub(crate) fn days(&self) -> Vec<(i64, i64, i64)> {
        let mut out = Vec::new();
        let mut d = utc_day(self.start);
        while d * DAY < self.now {
            let lo = (d * DAY).max(self.start);
            let hi = ((d + 1) * DAY).min(self.now);
            if lo < hi {
                out.push((d, lo, hi));
            }
            d += 1;
        }
        out
    }
}

fn unreachable_image() -> &'static Image {
    static EMPTY: std::sync::OnceLock<Image> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Image {
        def: &IMAGES[0],
        sha1: String::new(),
        sha256: String::new(),
        md5: String::new(),
    })
}
