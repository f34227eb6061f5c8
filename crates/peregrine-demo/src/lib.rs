//! The demo tenant: a deterministic, realistic Microsoft Defender XDR tenant written into
//! Peregrine's event store, with attack stories to hunt for.
//!
//! [`generate`] builds a fictitious organisation (Contoso: workstations `ws-<dept>-NNN`,
//! servers `srv-<role>-NN`, one person per workstation, admin and service accounts) and
//! writes `days` days of activity ending at `now_nanos` into 37 hunting tables, straight
//! into Arrow batches in each table's exact schema (no JSON on the way):
//!
//! - Defender for Endpoint: `DeviceProcessEvents` (process trees from boot-time services
//!   and the user's session applications), `DeviceNetworkEvents`, `DeviceFileEvents`,
//!   `DeviceRegistryEvents`, `DeviceImageLoadEvents`, `DeviceEvents`, `DeviceLogonEvents`,
//!   `DeviceInfo`, `DeviceNetworkInfo`, `DeviceFileCertificateInfo`;
//! - Defender for Office 365: `EmailEvents`, `EmailAttachmentInfo`, `EmailUrlInfo`,
//!   `EmailPostDeliveryEvents`, `UrlClickEvents`;
//! - Defender for Identity and Cloud Apps: `IdentityLogonEvents`, `IdentityQueryEvents`,
//!   `IdentityDirectoryEvents`, `IdentityInfo`, `CloudAppEvents`;
//! - `AlertInfo`, `AlertEvidence`.
//!
//! Everything derives from the seed, the options and `now_nanos` through a portable
//! generator (`rng`), per device (or user) and UTC day, so the same inputs give the same
//! rows whatever the number of threads. Work is split into units of at most ~200,000 rows
//! (a range of devices or users on one day); a unit's batch is staged as soon as it is
//! built and each table-day is one store transaction, so memory stays bounded at any scale.
//! Activity follows office hours (UTC): a user's session starts between 07:00 and 09:30 on
//! most weekdays; services run around the clock.
//!
//! The stories (`stories.rs`) are listed in [`DemoReport::stories`].

#[macro_use]
mod tablecols;

mod activity;
mod catalog;
mod certs;
mod endpoint;
mod endpoint2;
mod entra;
mod extra;
mod host;
mod identity;
mod more;
mod office;
mod posture;
mod rng;
mod sink;
mod stories;
mod world;

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use peregrine_store::{IngestError, Store};

use endpoint::DevTable;
use sink::Sink;
use world::{DAY, World};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// Devices (4 to 60,000: about 8% servers, at least a domain controller, a file server
    /// and an internet-facing web server; the rest workstations, one per person).
    pub devices: usize,
    /// Days of activity (1 to 3,650).
    pub days: i64,
    pub seed: u64,
    /// Timestamps end at this instant (nanoseconds since the Unix epoch, UTC; taken
    /// between 2001 and 2198).
    pub now_nanos: i64,
    /// When set, only these of the bulky endpoint tables (`DeviceProcessEvents`,
    /// `DeviceNetworkEvents`, `DeviceFileEvents`, `DeviceRegistryEvents`,
    /// `DeviceImageLoadEvents`, `DeviceEvents`, `DeviceLogonEvents`) get background
    /// activity; the other tables and the stories are always written. For benchmarks.
    pub endpoint_tables: Option<Vec<String>>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            devices: 50,
            days: 7,
            seed: 1,
            now_nanos: chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0),
            endpoint_tables: None,
        }
    }
}

/// Progress of one table. `rows_total` is an estimate until the table is complete; the
/// last report of a table has `rows_done == rows_total`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub table: String,
    pub rows_done: u64,
    pub rows_total: u64,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoReport {
    /// Rows per table.
    pub rows: BTreeMap<String, u64>,
    /// One line per embedded attack story: what happened and the entities to look for.
    pub stories: Vec<String>,
}

/// The tables the demo writes.
pub const TABLES: [&str; 37] = [
    "DeviceProcessEvents",
    "DeviceNetworkEvents",
    "DeviceFileEvents",
    "DeviceRegistryEvents",
    "DeviceLogonEvents",
    "DeviceImageLoadEvents",
    "DeviceEvents",
    "DeviceInfo",
    "DeviceNetworkInfo",
    "EmailEvents",
    "EmailAttachmentInfo",
    "EmailUrlInfo",
    "EmailPostDeliveryEvents",
    "UrlClickEvents",
    "IdentityLogonEvents",
    "IdentityQueryEvents",
    "IdentityDirectoryEvents",
    "IdentityInfo",
    "CloudAppEvents",
    "AlertInfo",
    "AlertEvidence",
    // Entra ID sign-ins.
    "AADSignInEventsBeta",
    "EntraIdSignInEvents",
    "AADSpnSignInEventsBeta",
    // Posture snapshots: vulnerability management, exposure graph, OAuth apps.
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
    "DeviceFileCertificateInfo",
];

/// The bulky endpoint tables [`DemoOptions::endpoint_tables`] can select.
pub const ENDPOINT_TABLES: [&str; 7] = [
    "DeviceProcessEvents",
    "DeviceNetworkEvents",
    "DeviceFileEvents",
    "DeviceRegistryEvents",
    "DeviceLogonEvents",
    "DeviceImageLoadEvents",
    "DeviceEvents",
];

/// Rows per work unit (one staged batch per table).
const UNIT_ROWS: u64 = 200_000;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Device(DevTable),
    Mail,
    Cloud,
    Identity,
    Inventory,
    Stories,
    /// Entra ID sign-ins of one day.
    Entra,
    /// The posture snapshots (whole window, one task).
    Posture,
    Certs,
}

struct Task {
    kind: Kind,
    day: i64,
    lo: i64,
    hi: i64,
    parts: Vec<Range<usize>>,
}

enum Msg {
    Rows(&'static str, u64),
    Failed(IngestError),
}

/// The single part of a task that is not split.
fn whole() -> Range<usize> {
    0..1
}

fn split(n: usize, per_part: u64) -> Vec<Range<usize>> {
    let per = usize::try_from(per_part.max(1))
        .unwrap_or(usize::MAX)
        .max(1);
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let j = (i + per).min(n);
        out.push(i..j);
        i = j;
    }
    if out.is_empty() {
        out.push(0..0);
    }
    out
}

/// Writes the demo tenant `tenant` into `store`; see the crate documentation.
pub fn generate(
    store: &Store,
    tenant: &str,
    opts: &DemoOptions,
    mut progress: impl FnMut(&Progress),
) -> Result<DemoReport, IngestError> {
    for t in TABLES {
        if store.catalog().table(t).is_none() {
            return Err(IngestError::new(
                "UnknownTable",
                format!("the store's catalog has no table {t}"),
            ));
        }
    }
    let w = World::new(opts.seed, opts.devices, opts.days, opts.now_nanos);
    let days = w.days();
    let n_dev = w.devices.len();
    let n_people = office::person_count(&w);
    let n_ws = w.workstations.len();

    let mut tasks: Vec<Task> = Vec::new();
    for &(day, lo, hi) in &days {
        for t in DevTable::ALL {
            if let Some(only) = &opts.endpoint_tables
                && !only.iter().any(|n| n == t.name())
            {
                continue;
            }
            tasks.push(Task {
                kind: Kind::Device(t),
                day,
                lo,
                hi,
                parts: split(n_dev, UNIT_ROWS / t.max_per_device_day().max(1)),
            });
        }
        tasks.push(Task {
            kind: Kind::Mail,
            day,
            lo,
            hi,
            parts: split(n_people, UNIT_ROWS / 120),
        });
        tasks.push(Task {
            kind: Kind::Cloud,
            day,
            lo,
            hi,
            parts: split(n_people, UNIT_ROWS / 60),
        });
        tasks.push(Task {
            kind: Kind::Identity,
            day,
            lo,
            hi,
            parts: split(n_ws, UNIT_ROWS / 20),
        });
        tasks.push(Task {
            kind: Kind::Certs,
            day,
            lo,
            hi,
            parts: split(n_dev, UNIT_ROWS / certs::MAX_PER_DEVICE_DAY),
        });
        tasks.push(Task {
            kind: Kind::Inventory,
            day,
            lo,
            hi,
            parts: vec![whole()],
        });
    }
    tasks.push(Task {
        kind: Kind::Stories,
        day: 0,
        lo: w.start,
        hi: w.now,
        parts: vec![whole()],
    });
    for &(day, lo, hi) in &days {
        tasks.push(Task {
            kind: Kind::Entra,
            day,
            lo,
            hi,
            parts: vec![whole()],
        });
    }
    tasks.push(Task {
        kind: Kind::Posture,
        day: 0,
        lo: w.start,
        hi: w.now,
        parts: vec![whole()],
    });
    // Big units first: the workers finish together.
    tasks.sort_by_key(|t| match t.kind {
        Kind::Device(DevTable::Network) => 0,
        Kind::Device(DevTable::File | DevTable::ImageLoad) => 1,
        Kind::Device(DevTable::Process | DevTable::Registry) => 2,
        Kind::Stories => 3,
        _ => 4,
    });

    let span_days = (w.now - w.start) as f64 / DAY as f64;
    let mut totals: BTreeMap<&'static str, u64> = BTreeMap::new();
    for t in DevTable::ALL {
        if let Some(only) = &opts.endpoint_tables
            && !only.iter().any(|n| n == t.name())
        {
            continue;
        }
        totals.insert(
            t.name(),
            (t.mean_per_device_day() * n_dev as f64 * span_days) as u64,
        );
    }
    let per_person = |x: f64| (x * n_people as f64 * span_days) as u64;
    let per_ws = |x: f64| (x * n_ws as f64 * span_days) as u64;
    totals.insert("EmailEvents", per_person(40.0));
    totals.insert("EmailAttachmentInfo", per_person(10.0));
    totals.insert("EmailUrlInfo", per_person(32.0));
    totals.insert("UrlClickEvents", per_person(2.0));
    totals.insert("EmailPostDeliveryEvents", per_person(0.1) + 5);
    totals.insert("CloudAppEvents", per_person(25.0) + 80);
    totals.insert("IdentityLogonEvents", per_ws(5.5));
    totals.insert("IdentityQueryEvents", per_ws(4.8));
    totals.insert(
        "IdentityDirectoryEvents",
        ((n_people / 40).max(2) as f64 * span_days * 0.9) as u64,
    );
    totals.insert("DeviceInfo", (6.0 * n_dev as f64 * span_days) as u64);
    totals.insert("DeviceNetworkInfo", (5.0 * n_dev as f64 * span_days) as u64);
    totals.insert(certs::TABLE, (30.0 * n_dev as f64 * span_days) as u64);
    totals.insert("IdentityInfo", (w.users.len() as f64 * span_days) as u64);
    totals.insert("AlertInfo", (n_ws as f64 / 30.0 * span_days) as u64 + 8);
    totals.insert(
        "AlertEvidence",
        (n_ws as f64 / 10.0 * span_days) as u64 + 30,
    );
    for t in entra::ENTRA_TABLES {
        totals.insert(t, per_person(9.0));
    }
    totals.insert("DeviceTvmSoftwareInventory", 10 * n_dev as u64);
    totals.insert("DeviceTvmSoftwareVulnerabilities", 20 * n_dev as u64);
    totals.insert("DeviceTvmSecureConfigurationAssessment", 17 * n_dev as u64);
    totals.insert("DeviceTvmInfoGathering", (n_dev as f64 * span_days) as u64);
    totals.insert("ExposureGraphEdges", 20 * n_dev as u64);

    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8);
    let (tx, rx) = mpsc::channel::<Msg>();
    let mut done: BTreeMap<&'static str, u64> = TABLES.iter().map(|t| (*t, 0)).collect();
    let mut stories: Vec<String> = Vec::new();
    let mut failure: Option<IngestError> = None;
    let story_lines = std::sync::Mutex::new(Vec::new());
    // Commits run one at a time: a commit also enforces the store's retention, which must
    // not race another commit's renames into the same day directories.
    let commit_lock = std::sync::Mutex::new(());

    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (w, tasks, next, abort) = (&w, &tasks, &next, &abort);
            let (story_lines, commit_lock) = (&story_lines, &commit_lock);
            scope.spawn(move || {
                loop {
                    if abort.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(task) = tasks.get(i) else {
                        break;
                    };
                    let result = run_task(store, tenant, w, task, &tx, story_lines, commit_lock);
                    if let Err(e) = result {
                        abort.store(true, Ordering::Relaxed);
                        let _ = tx.send(Msg::Failed(e));
                        break;
                    }
                }
            });
        }
        drop(tx);
        for msg in rx {
            match msg {
                Msg::Rows(table, n) => {
                    let d = done.entry(table).or_default();
                    *d += n;
                    let total = totals.get(table).copied().unwrap_or(0).max(*d);
                    progress(&Progress {
                        table: table.to_string(),
                        rows_done: *d,
                        rows_total: total,
                    });
                }
                Msg::Failed(e) => {
                    if failure.is_none() {
                        failure = Some(e);
                    }
                }
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    if let Ok(mut lines) = story_lines.lock() {
        stories.append(&mut lines);
    }
    for (table, n) in &done {
        progress(&Progress {
            table: (*table).to_string(),
            rows_done: *n,
            rows_total: *n,
        });
    }
    Ok(DemoReport {
        rows: done.into_iter().map(|(t, n)| (t.to_string(), n)).collect(),
        stories,
    })
}

/// Generates one task (a table group on one day) and commits it as one transaction.
fn run_task(
    store: &Store,
    tenant: &str,
    w: &World,
    task: &Task,
    tx: &mpsc::Sender<Msg>,
    story_lines: &std::sync::Mutex<Vec<String>>,
    commit_lock: &std::sync::Mutex<()>,
) -> Result<(), IngestError> {
    let mut txn = store.begin(tenant)?;
    let mut staged = 0u64;
    let mut stage = |txn: &mut peregrine_store::Transaction<'_>,
                     table: &'static str,
                     s: &mut Sink|
     -> Result<(), IngestError> {
        if s.rows() == 0 {
            return Ok(());
        }
        let batch = s.finish()?;
        let n = batch.num_rows() as u64;
        txn.stage(table, &batch)?;
        staged += n;
        let _ = tx.send(Msg::Rows(table, n));
        Ok(())
    };
    let cap = 4_096;
    match task.kind {
        Kind::Device(t) => {
            let mut s = Sink::new(store, t.name(), cap)?;
            for part in &task.parts {
                endpoint::generate(w, t, task.day, task.lo, task.hi, part.clone(), &mut s);
                stage(&mut txn, t.name(), &mut s)?;
            }
        }
        Kind::Mail => {
            let [a, b, c, d, e, f] = office::MAIL_TABLES;
            let mut sinks = office::MailSinks {
                events: Sink::new(store, a, cap)?,
                attachments: Sink::new(store, b, cap)?,
                urls: Sink::new(store, c, cap)?,
                clicks: Sink::new(store, d, cap)?,
                post: Sink::new(store, e, cap)?,
                audit: Sink::new(store, f, cap)?,
            };
            for part in &task.parts {
                office::mail(w, task.day, task.lo, task.hi, part.clone(), &mut sinks);
                if part.start == 0 {
                    more::mail(w, task.day, task.lo, task.hi, &mut sinks);
                }
                for (table, s) in office::MAIL_TABLES.into_iter().zip(sinks.all()) {
                    stage(&mut txn, table, s)?;
                }
            }
        }
        Kind::Cloud => {
            let mut s = Sink::new(store, "CloudAppEvents", cap)?;
            for part in &task.parts {
                office::cloud(w, task.day, task.lo, task.hi, part.clone(), &mut s);
                stage(&mut txn, "CloudAppEvents", &mut s)?;
            }
        }
        Kind::Identity => {
            let [a, b, c] = identity::IDENTITY_TABLES;
            let (mut l, mut q, mut d) = (
                Sink::new(store, a, cap)?,
                Sink::new(store, b, cap)?,
                Sink::new(store, c, cap)?,
            );
            for part in &task.parts {
                identity::identity(
                    w,
                    task.day,
                    task.lo,
                    task.hi,
                    part.clone(),
                    &mut l,
                    &mut q,
                    &mut d,
                );
                stage(&mut txn, a, &mut l)?;
                stage(&mut txn, b, &mut q)?;
                stage(&mut txn, c, &mut d)?;
            }
        }
        Kind::Inventory => {
            let [a, b, c] = identity::INVENTORY_TABLES;
            let (mut i, mut n, mut d) = (
                Sink::new(store, a, cap)?,
                Sink::new(store, b, cap)?,
                Sink::new(store, c, cap)?,
            );
            identity::inventory(w, task.day, task.lo, task.hi, &mut i, &mut n, &mut d);
            extra::discovered(w, task.day, task.lo, task.hi, &mut i);
            endpoint2::discovered(w, task.day, task.lo, task.hi, &mut i);
            stage(&mut txn, a, &mut i)?;
            stage(&mut txn, b, &mut n)?;
            stage(&mut txn, c, &mut d)?;
        }
        Kind::Entra => {
            let [a, b] = entra::ENTRA_TABLES;
            let mut sinks = [Sink::new(store, a, cap)?, Sink::new(store, b, cap)?];
            entra::sign_ins(w, task.day, task.lo, task.hi, &mut sinks);
            for (table, s) in entra::ENTRA_TABLES.into_iter().zip(sinks.iter_mut()) {
                stage(&mut txn, table, s)?;
            }
        }
        Kind::Posture => {
            let t = posture::POSTURE_TABLES;
            let mut sinks = [
                Sink::new(store, t[0], cap)?,
                Sink::new(store, t[1], cap)?,
                Sink::new(store, t[2], cap)?,
                Sink::new(store, t[3], cap)?,
                Sink::new(store, t[4], cap)?,
                Sink::new(store, t[5], cap)?,
                Sink::new(store, t[6], cap)?,
                Sink::new(store, t[7], cap)?,
                Sink::new(store, t[8], cap)?,
                Sink::new(store, t[9], cap)?,
                Sink::new(store, t[10], cap)?,
                Sink::new(store, t[11], cap)?,
                Sink::new(store, t[12], cap)?,
            ];
            posture::write(w, &mut sinks);
            for (table, s) in t.into_iter().zip(sinks.iter_mut()) {
                stage(&mut txn, table, s)?;
            }
        }
        Kind::Certs => {
            let mut s = Sink::new(store, certs::TABLE, cap)?;
            for part in &task.parts {
                certs::generate(w, task.day, task.lo, task.hi, part.clone(), &mut s);
                stage(&mut txn, certs::TABLE, &mut s)?;
            }
        }
        Kind::Stories => {
            let mut out = stories::StoryOut::new(w, store);
            let lines = stories::write(&mut out)?;
            for (day, lo, hi) in w.days() {
                stories::background_alerts(&mut out, day, lo, hi)?;
            }
            more::red_team_alerts(&mut out)?;
            for table in TABLES {
                if let Some(s) = out.sinks.get_mut(table) {
                    stage(&mut txn, table, s)?;
                }
            }
            if let Ok(mut l) = story_lines.lock() {
                *l = lines;
            }
        }
    }
    if staged > 0 {
        let _guard = commit_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        txn.commit()?;
    }
    Ok(())
}
