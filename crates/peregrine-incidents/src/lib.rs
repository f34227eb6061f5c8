//! Incidents and alerts: the model of the Defender XDR Incidents API and of Microsoft
//! Graph's `security/incidents` and `security/alerts_v2` (spec §5, §8), the OData list
//! options, correlation of alerts into incidents, and the incident store.
//!
//! ```text
//! wire JSON ──legacy::/graph::──▶ model (Incident, Alert, Evidence) ──▶ wire JSON (either shape)
//! $filter/$top/$skip/$count/$expand ──odata::parse_options──▶ ListOptions (typed Filter)
//! ListOptions ──IncidentStore (sqlite::SqliteStore)──▶ parameterised SQL ──▶ Page<Incident | Alert>
//! new Alert ──IncidentStore::add_alert──▶ de-dup ─▶ correlate::correlate (shared entity in window)
//!           ──▶ new / join / merge (old incident redirected) ─▶ correlate::roll_up ─▶ stored
//! PATCH body ──patch::{IncidentPatch, AlertPatch}──▶ checked update ─▶ optimistic write
//! ```
//!
//! | module | what |
//! | --- | --- |
//! | [`time`] | `DateTimeOffset` with .NET's 100-ns ticks, trimmed output |
//! | [`enums`] | every documented enum, each spelling in, one canonical spelling out |
//! | [`model`] | `Incident`, `Alert`, `Evidence`, `Comment`, `GroupingReason` |
//! | [`legacy`], [`graph`], [`evidence`] | the two wire shapes and the conversions |
//! | [`odata`] | `$filter` parser and list options |
//! | [`patch`] | PATCH bodies: read, check, apply |
//! | [`correlate`] | which incident an alert joins, merges, roll-up |
//! | [`rules`] | detection rules: schedule, rows to alerts; `AlertInfo`/`AlertEvidence` rows to alerts |
//! | [`store`], [`sqlite`] | the repository trait and its SQLite implementation |

pub mod correlate;
pub mod enums;
pub mod evidence;
pub mod graph;
pub mod legacy;
pub mod model;
pub mod odata;
pub mod patch;
pub mod rules;
pub mod sqlite;
pub mod store;
pub mod time;

pub use correlate::CorrelationConfig;
pub use enums::WireEnum;
pub use model::{Alert, Comment, Evidence, EvidenceKind, GroupingReason, Incident};
pub use rules::DetectionRule;
pub use sqlite::SqliteStore;
pub use store::{AlertOutcome, IncidentStore, Page, StoreError};
pub use time::Time;

/// How items are written: the portal base for their links, and whether Graph's evolvable
/// enum members are shown (`Prefer: include-unknown-enum-members`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct View<'a> {
    pub portal: Option<&'a str>,
    pub include_unknown_enum_members: bool,
}
