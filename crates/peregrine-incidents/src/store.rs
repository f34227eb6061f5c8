//! The incident repository: what the API needs of storage, behind a trait so that a
//! PostgreSQL implementation can follow the SQLite one ([`crate::sqlite`]).
//!
//! Every method takes the tenant: no call reads or writes across tenants. Updates are
//! read-modify-write under optimistic concurrency (a row version): an update whose row
//! changed meanwhile is retried on the fresh row, so simultaneous updates never lose a
//! write.

use crate::correlate::CorrelationConfig;
use crate::model::{Alert, Incident};
use crate::odata::ListOptions;
use crate::rules::DetectionRule;
use crate::time::Time;
use std::fmt;

/// A page of a list, with the number of items matching in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The update was refused (bad for this item): the message is for the client.
    Invalid(String),
    /// The row kept changing under the update; the caller may retry later.
    Contended,
    /// The database failed: for the log only.
    Internal(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Invalid(m) => write!(f, "{m}"),
            StoreError::Contended => write!(f, "the item kept changing; try again"),
            StoreError::Internal(m) => write!(f, "incident store: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// What became of an added alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertOutcome {
    /// An alert with its id was already stored: nothing changed.
    Duplicate { incident_id: Option<i64> },
    /// Stored in `incident_id` (new, joined or merged into).
    Stored {
        incident_id: i64,
        created: bool,
        merged: Vec<i64>,
    },
}

/// An update applied to a fresh copy of the item; an `Err` refuses it (nothing stored).
pub type Update<'a, T> = &'a (dyn Fn(&mut T) -> Result<(), String> + Sync);

pub trait IncidentStore: Send + Sync {
    /// The tenant's incidents, most recently updated first, filtered and paged by `opts`;
    /// with their alerts when `opts.expand_alerts`.
    fn list_incidents(
        &self,
        tenant: &str,
        opts: &ListOptions,
    ) -> Result<Page<Incident>, StoreError>;

    fn get_incident(
        &self,
        tenant: &str,
        id: i64,
        with_alerts: bool,
    ) -> Result<Option<Incident>, StoreError>;

    /// Applies `update` (then stores the incident with its alerts loaded); `None` when the
    /// tenant has no such incident. When the update moves the incident to `Resolved`, every
    /// alert of it not yet resolved is resolved at the incident's new `last_update`
    /// ([`crate::patch::resolve_with_incident`]), written atomically with the incident.
    fn update_incident(
        &self,
        tenant: &str,
        id: i64,
        update: Update<'_, Incident>,
    ) -> Result<Option<Incident>, StoreError>;

    /// The tenant's alerts, most recently created first.
    fn list_alerts(&self, tenant: &str, opts: &ListOptions) -> Result<Page<Alert>, StoreError>;

    fn get_alert(&self, tenant: &str, id: &str) -> Result<Option<Alert>, StoreError>;

    /// Applies `update` to the alert, then makes its incident follow its alerts.
    fn update_alert(
        &self,
        tenant: &str,
        id: &str,
        update: Update<'_, Alert>,
        now: Time,
    ) -> Result<Option<Alert>, StoreError>;

    /// Stores a new alert (de-duplicated by id) and correlates it into an incident.
    fn add_alert(
        &self,
        tenant: &str,
        alert: Alert,
        config: &CorrelationConfig,
        now: Time,
    ) -> Result<AlertOutcome, StoreError>;

    /// Stores an incident and its alerts as they are (imports, fixtures), replacing one
    /// with the same id.
    fn put_incident(&self, incident: &Incident) -> Result<(), StoreError>;

    /// The tenant's detection rules, by id.
    fn list_rules(&self, tenant: &str) -> Result<Vec<DetectionRule>, StoreError>;

    /// Every tenant's rules with their tenant: for the scheduler only (the one call that
    /// spans tenants).
    fn all_rules(&self) -> Result<Vec<(String, DetectionRule)>, StoreError>;

    fn get_rule(&self, tenant: &str, id: &str) -> Result<Option<DetectionRule>, StoreError>;

    /// Creates or replaces a rule (a replaced rule keeps its run history); whether it is
    /// new.
    fn put_rule(&self, tenant: &str, rule: &DetectionRule) -> Result<bool, StoreError>;

    /// Whether there was such a rule.
    fn delete_rule(&self, tenant: &str, id: &str) -> Result<bool, StoreError>;

    /// Records a run of a rule: when, how many new alerts, its error.
    fn record_run(
        &self,
        tenant: &str,
        id: &str,
        at: Time,
        raised: u64,
        error: Option<String>,
    ) -> Result<(), StoreError>;

    /// A named position of the tenant (such as how far the `AlertInfo` table was read).
    fn watermark(&self, tenant: &str, name: &str) -> Result<Option<i64>, StoreError>;

    fn set_watermark(&self, tenant: &str, name: &str, value: i64) -> Result<(), StoreError>;
}
