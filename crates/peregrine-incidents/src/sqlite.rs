//! The SQLite incident store: one database file per data directory
//! (`DIR/_incidents/incidents.sqlite`, beside the event store's tenants and `_auth`), in
//! WAL mode (readers never wait for the writer), `synchronous=FULL` (a write is durable
//! when it returns), migrated on open (`PRAGMA user_version` counts the applied
//! [`MIGRATIONS`]).
//!
//! Rows keep the filterable and sortable properties in columns (times as 100-ns ticks,
//! severity as its rank, enums in their Graph spelling) and the whole item as JSON in
//! `doc`. Every statement names the tenant; filters become parameterised SQL (column names
//! come from the fixed property table of [`crate::odata`], values are bound). Updates are
//! optimistic (`UPDATE … WHERE version = ?`, retried on the fresh row when another write
//! won); adding an alert (de-duplication, correlation, merge) runs in one `IMMEDIATE`
//! transaction and bumps the version of every incident it changes, so an update racing it
//! retries too. An incident update is written in an `IMMEDIATE` transaction with the
//! alerts it resolves (a transition to `Resolved` resolves every alert not yet resolved).

use crate::correlate::{self, CorrelationConfig, Decision, Known};
use crate::enums::{Classification, Determination, IncidentStatus, WireEnum};
use crate::evidence::entity_keys;
use crate::model::{Alert, Incident};
use crate::odata::{Filter, ListOptions, Literal, Op};
use crate::patch::{resolve_with_incident, resolves_alerts};
use crate::rules::DetectionRule;
use crate::store::{AlertOutcome, IncidentStore, Page, StoreError, Update};
use crate::time::Time;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The schema, one step per entry; never edit a released step, add one.
pub const MIGRATIONS: &[&str] = &[
    // 1: incidents, alerts, the alerts' correlation entities.
    "CREATE TABLE incidents (
        tenant TEXT NOT NULL,
        id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        created INTEGER NOT NULL,
        last_update INTEGER NOT NULL,
        status TEXT NOT NULL,
        severity INTEGER NOT NULL,
        classification TEXT NOT NULL,
        determination TEXT NOT NULL,
        assigned_to TEXT,
        redirect_id INTEGER,
        doc TEXT NOT NULL,
        PRIMARY KEY (tenant, id)
    );
    CREATE INDEX incidents_by_update ON incidents (tenant, last_update DESC, id DESC);
    CREATE TABLE alerts (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        incident_id INTEGER,
        version INTEGER NOT NULL,
        created INTEGER NOT NULL,
        last_update INTEGER NOT NULL,
        activity INTEGER NOT NULL,
        status TEXT NOT NULL,
        severity INTEGER NOT NULL,
        classification TEXT NOT NULL,
        determination TEXT NOT NULL,
        assigned_to TEXT,
        service_source TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (tenant, id)
    );
    CREATE INDEX alerts_by_incident ON alerts (tenant, incident_id);
    CREATE INDEX alerts_by_created ON alerts (tenant, created DESC, id DESC);
    CREATE TABLE alert_entities (
        tenant TEXT NOT NULL,
        alert_id TEXT NOT NULL,
        entity TEXT NOT NULL,
        activity INTEGER NOT NULL,
        PRIMARY KEY (tenant, alert_id, entity)
    );
    CREATE INDEX alert_entities_by_entity ON alert_entities (tenant, entity, activity);",
    // 2: detection rules, and named positions (how far a source was read).
    "CREATE TABLE detection_rules (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (tenant, id)
    );
    CREATE TABLE watermarks (
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (tenant, name)
    );",
];

/// How often an optimistic update is tried before giving up.
const ATTEMPTS: usize = 200;
/// Connections kept for reuse.
const POOL: usize = 8;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Internal(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Internal(format!("stored document: {e}"))
    }
}

pub struct SqliteStore {
    path: PathBuf,
    pool: Mutex<Vec<Connection>>,
}

/// A pooled connection, returned on drop.
struct Pooled<'a> {
    conn: Option<Connection>,
    store: &'a SqliteStore,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Always Some until drop.
        self.conn.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            let mut pool = self
                .store
                .pool
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if pool.len() < POOL {
                pool.push(c);
            }
        }
    }
}

impl SqliteStore {
    /// The file of a data directory's incident store.
    pub fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join("_incidents").join("incidents.sqlite")
    }

    /// Opens (creating and migrating) the store of data directory `data_dir`.
    pub fn open_in(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open(&SqliteStore::path_in(data_dir))
    }

    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Internal(format!("{}: {e}", dir.display())))?;
        }
        let store = SqliteStore {
            path: path.to_path_buf(),
            pool: Mutex::new(Vec::new()),
        };
        let mut conn = store.connect()?;
        migrate(&mut conn)?;
        store
            .pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(conn);
        Ok(store)
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open(&self.path)
            .map_err(|e| StoreError::Internal(format!("{}: {e}", self.path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Internal(format!(
                "{}: WAL mode refused ({mode})",
                self.path.display()
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(conn)
    }

    fn conn(&self) -> Result<Pooled<'_>, StoreError> {
        let reused = self
            .pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let conn = match reused {
            Some(c) => c,
            None => self.connect()?,
        };
        Ok(Pooled {
            conn: Some(conn),
            store: self,
        })
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn()?
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::Internal(format!(
            "the incident database has schema version {current}; this Peregrine knows up to {known}"
        )));
    }
    for step in &MIGRATIONS[usize::try_from(current).unwrap_or(0)..] {
        tx.execute_batch(step)?;
    }
    tx.pragma_update(None, "user_version", known)?;
    tx.commit()?;
    Ok(())
}

/// `f` as SQL over the columns of the incident or alert table; values appended to
/// `params` and referenced by number.
fn filter_sql(f: &Filter, params: &mut Vec<Sql>) -> String {
    match f {
        Filter::And(a, b) => format!("({} AND {})", filter_sql(a, params), filter_sql(b, params)),
        Filter::Or(a, b) => format!("({} OR {})", filter_sql(a, params), filter_sql(b, params)),
        Filter::Not(a) => format!("(NOT {})", filter_sql(a, params)),
        Filter::Cmp { field, op, value } => {
            let col = field.column;
            let v = match value {
                Literal::Null => {
                    return match op {
                        Op::Ne => format!("({col} IS NOT NULL)"),
                        _ => format!("({col} IS NULL)"),
                    };
                }
                Literal::Time(t) | Literal::Rank(t) => Sql::Integer(*t),
                Literal::Text(s) => Sql::Text(s.clone()),
                Literal::Member(m) => Sql::Text((*m).to_string()),
            };
            params.push(v);
            let n = params.len();
            match op {
                // Null-safe, as OData's comparisons are (a null is never equal to a value).
                Op::Eq => format!("({col} IS ?{n})"),
                Op::Ne => format!("({col} IS NOT ?{n})"),
                Op::Gt => format!("COALESCE({col} > ?{n}, 0)"),
                Op::Ge => format!("COALESCE({col} >= ?{n}, 0)"),
                Op::Lt => format!("COALESCE({col} < ?{n}, 0)"),
                Op::Le => format!("COALESCE({col} <= ?{n}, 0)"),
            }
        }
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn read_incident(c: &Connection, tenant: &str, id: i64) -> Result<Option<Incident>, StoreError> {
    let row: Option<(String, i64)> = c
        .prepare_cached("SELECT doc, version FROM incidents WHERE tenant = ?1 AND id = ?2")?
        .query_row(params![tenant, id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(doc, version)| {
        let mut i: Incident = serde_json::from_str(&doc)?;
        i.version = version;
        Ok(i)
    })
    .transpose()
}

fn read_alert(c: &Connection, tenant: &str, id: &str) -> Result<Option<Alert>, StoreError> {
    let row: Option<(String, i64, Option<i64>)> = c
        .prepare_cached(
            "SELECT doc, version, incident_id FROM alerts WHERE tenant = ?1 AND id = ?2",
        )?
        .query_row(params![tenant, id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    row.map(|(doc, version, incident)| alert_from_row(&doc, version, incident))
        .transpose()
}

fn alert_from_row(doc: &str, version: i64, incident: Option<i64>) -> Result<Alert, StoreError> {
    let mut a: Alert = serde_json::from_str(doc)?;
    a.version = version;
    a.incident_id = incident;
    Ok(a)
}

fn alerts_of(c: &Connection, tenant: &str, incident: i64) -> Result<Vec<Alert>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT doc, version, incident_id FROM alerts WHERE tenant = ?1 AND incident_id = ?2 ORDER BY activity, id",
    )?;
    let rows = stmt.query_map(params![tenant, incident], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Option<i64>>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (doc, version, incident) = row?;
        out.push(alert_from_row(&doc, version, incident)?);
    }
    Ok(out)
}

/// Inserts or replaces an incident row at `version`.
fn write_incident(c: &Connection, i: &Incident, version: i64) -> Result<(), StoreError> {
    let doc = serde_json::to_string(i)?;
    c.prepare_cached(
        "INSERT OR REPLACE INTO incidents
         (tenant, id, version, created, last_update, status, severity, classification, determination, assigned_to, redirect_id, doc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        i.tenant_id,
        i.id,
        version,
        i.created.ticks(),
        i.last_update.ticks(),
        i.status.graph_name(),
        i.severity as i64,
        i.classification.graph_name(),
        i.determination.graph_name(),
        i.assigned_to,
        i.redirect_incident_id,
        doc
    ])?;
    Ok(())
}

/// Writes `i` if its row is still at `i.version`; whether it was.
fn write_incident_if(c: &Connection, i: &Incident) -> Result<bool, StoreError> {
    let doc = serde_json::to_string(i)?;
    let n = c
        .prepare_cached(
            "UPDATE incidents SET version = version + 1, last_update = ?3, status = ?4, severity = ?5,
             classification = ?6, determination = ?7, assigned_to = ?8, redirect_id = ?9, doc = ?10
             WHERE tenant = ?1 AND id = ?2 AND version = ?11",
        )?
        .execute(params![
            i.tenant_id,
            i.id,
            i.last_update.ticks(),
            i.status.graph_name(),
            i.severity as i64,
            i.classification.graph_name(),
            i.determination.graph_name(),
            i.assigned_to,
            i.redirect_incident_id,
            doc,
            i.version
        ])?;
    Ok(n == 1)
}

fn alert_params(a: &Alert) -> Result<(String, String, String), StoreError> {
    Ok((
        serde_json::to_string(a)?,
        a.classification
            .unwrap_or(Classification::Unknown)
            .graph_name()
            .to_string(),
        a.determination
            .unwrap_or(Determination::Unknown)
            .graph_name()
            .to_string(),
    ))
}

fn write_alert(c: &Connection, a: &Alert, version: i64) -> Result<(), StoreError> {
    let (doc, classification, determination) = alert_params(a)?;
    c.prepare_cached(
        "INSERT OR REPLACE INTO alerts
         (tenant, id, incident_id, version, created, last_update, activity, status, severity, classification, determination, assigned_to, service_source, doc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        a.tenant_id,
        a.id,
        a.incident_id,
        version,
        a.created.ticks(),
        a.last_update.ticks(),
        a.activity_time().ticks(),
        a.status.graph_name(),
        a.severity as i64,
        classification,
        determination,
        a.assigned_to,
        a.service_source.graph_name(),
        doc
    ])?;
    c.prepare_cached("DELETE FROM alert_entities WHERE tenant = ?1 AND alert_id = ?2")?
        .execute(params![a.tenant_id, a.id])?;
    let mut insert = c.prepare_cached(
        "INSERT OR IGNORE INTO alert_entities (tenant, alert_id, entity, activity) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for key in alert_entities(a) {
        insert.execute(params![a.tenant_id, a.id, key, a.activity_time().ticks()])?;
    }
    Ok(())
}

/// An alert's correlation keys, sorted and unique.
pub fn alert_entities(a: &Alert) -> Vec<String> {
    let mut keys: Vec<String> = a.evidence.iter().flat_map(entity_keys).collect();
    keys.sort();
    keys.dedup();
    keys
}

fn write_alert_if(c: &Connection, a: &Alert) -> Result<bool, StoreError> {
    let (doc, classification, determination) = alert_params(a)?;
    let n = c
        .prepare_cached(
            "UPDATE alerts SET version = version + 1, last_update = ?3, status = ?4, severity = ?5,
             classification = ?6, determination = ?7, assigned_to = ?8, doc = ?9
             WHERE tenant = ?1 AND id = ?2 AND version = ?10",
        )?
        .execute(params![
            a.tenant_id,
            a.id,
            a.last_update.ticks(),
            a.status.graph_name(),
            a.severity as i64,
            classification,
            determination,
            a.assigned_to,
            doc,
            a.version
        ])?;
    Ok(n == 1)
}

/// Makes incident `id` follow its alerts (inside the caller's transaction).
fn roll_up_incident(
    tx: &Transaction<'_>,
    tenant: &str,
    id: i64,
    now: Time,
) -> Result<(), StoreError> {
    let Some(mut incident) = read_incident(tx, tenant, id)? else {
        return Ok(());
    };
    let alerts = alerts_of(tx, tenant, id)?;
    if correlate::roll_up(&mut incident, &alerts, now) {
        write_incident(tx, &incident, incident.version + 1)?;
    }
    Ok(())
}

/// The alerts of the tenant's open incidents that share one of `entities`, active within
/// `window_secs` of `time`.
fn known_alerts(
    tx: &Transaction<'_>,
    tenant: &str,
    entities: &[String],
    time: Time,
    window_secs: i64,
) -> Result<Vec<Known>, StoreError> {
    if entities.is_empty() {
        return Ok(Vec::new());
    }
    let mut params: Vec<Sql> = vec![
        Sql::Text(tenant.to_string()),
        Sql::Integer(time.plus_secs(-window_secs).ticks()),
        Sql::Integer(time.plus_secs(window_secs).ticks()),
    ];
    let open: Vec<String> = IncidentStatus::all()
        .iter()
        .filter(|s| s.is_open())
        .map(|s| format!("'{}'", s.graph_name()))
        .collect();
    let mut marks = Vec::new();
    for e in entities {
        params.push(Sql::Text(e.clone()));
        marks.push(format!("?{}", params.len()));
    }
    // The open statuses are this crate's constants; every input value is bound.
    let sql = format!(
        "SELECT e.alert_id, a.incident_id, e.activity, e.entity
         FROM alert_entities e
         JOIN alerts a ON a.tenant = e.tenant AND a.id = e.alert_id
         JOIN incidents i ON i.tenant = a.tenant AND i.id = a.incident_id
         WHERE e.tenant = ?1 AND e.activity BETWEEN ?2 AND ?3 AND e.entity IN ({})
           AND i.status IN ({})
         ORDER BY e.alert_id, e.entity",
        marks.join(", "),
        open.join(", ")
    );
    let mut stmt = tx.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut by_alert: BTreeMap<String, Known> = BTreeMap::new();
    for row in rows {
        let (alert_id, incident_id, activity, entity) = row?;
        by_alert
            .entry(alert_id.clone())
            .or_insert_with(|| Known {
                alert_id,
                incident_id,
                time: Time::from_ticks(activity),
                entities: Vec::new(),
            })
            .entities
            .push(entity);
    }
    Ok(by_alert.into_values().collect())
}

fn next_incident_id(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    Ok(
        tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM incidents", [], |r| {
            r.get(0)
        })?,
    )
}

/// A page of `table` for `tenant` under `opts`: the matching rows' count, and the
/// `SELECT columns … ORDER BY order, id DESC LIMIT top OFFSET skip` with its parameters
/// (the filter is parameterised by [`filter_sql`]; table, columns and order are ours).
fn page_sql(
    tx: &Transaction<'_>,
    table: &str,
    columns: &str,
    order: &str,
    tenant: &str,
    opts: &ListOptions,
) -> Result<(u64, String, Vec<Sql>), StoreError> {
    let mut params = vec![Sql::Text(tenant.to_string())];
    let filter = match &opts.filter {
        Some(f) => format!(" AND {}", filter_sql(f, &mut params)),
        None => String::new(),
    };
    let total: i64 = tx.query_row(
        &format!("SELECT COUNT(*) FROM {table} WHERE tenant = ?1{filter}"),
        rusqlite::params_from_iter(params.iter()),
        |r| r.get(0),
    )?;
    let n = params.len();
    params.push(Sql::Integer(to_i64(opts.top)));
    params.push(Sql::Integer(to_i64(opts.skip)));
    let sql = format!(
        "SELECT {columns} FROM {table} WHERE tenant = ?1{filter}
         ORDER BY {order}, id DESC LIMIT ?{} OFFSET ?{}",
        n + 1,
        n + 2
    );
    Ok((u64::try_from(total).unwrap_or(0), sql, params))
}

impl IncidentStore for SqliteStore {
    fn list_incidents(
        &self,
        tenant: &str,
        opts: &ListOptions,
    ) -> Result<Page<Incident>, StoreError> {
        let mut c = self.conn()?;
        let tx = c.transaction()?;
        let (total, sql, params) = page_sql(
            &tx,
            "incidents",
            "doc, version",
            "last_update DESC",
            tenant,
            opts,
        )?;
        let mut items = Vec::new();
        {
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            for row in rows {
                let (doc, version) = row?;
                let mut i: Incident = serde_json::from_str(&doc)?;
                i.version = version;
                items.push(i);
            }
        }
        if opts.expand_alerts {
            for i in &mut items {
                i.alerts = alerts_of(&tx, tenant, i.id)?;
            }
        }
        tx.commit()?;
        Ok(Page { items, total })
    }

    fn get_incident(
        &self,
        tenant: &str,
        id: i64,
        with_alerts: bool,
    ) -> Result<Option<Incident>, StoreError> {
        let mut c = self.conn()?;
        let tx = c.transaction()?;
        let Some(mut i) = read_incident(&tx, tenant, id)? else {
            return Ok(None);
        };
        if with_alerts {
            i.alerts = alerts_of(&tx, tenant, id)?;
        }
        tx.commit()?;
        Ok(Some(i))
    }

    fn update_incident(
        &self,
        tenant: &str,
        id: i64,
        update: Update<'_, Incident>,
    ) -> Result<Option<Incident>, StoreError> {
        let mut c = self.conn()?;
        for attempt in 0..ATTEMPTS {
            let Some(mut i) = read_incident(&c, tenant, id)? else {
                return Ok(None);
            };
            let was = i.status;
            update(&mut i).map_err(StoreError::Invalid)?;
            // The incident and (when it is resolved now) its alerts in one transaction:
            // holding the write lock, the alerts read here are the ones written.
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if write_incident_if(&tx, &i)? {
                let mut alerts = alerts_of(&tx, tenant, id)?;
                if resolves_alerts(was, i.status) {
                    for a in &mut alerts {
                        if resolve_with_incident(a, i.last_update) {
                            if !write_alert_if(&tx, a)? {
                                return Err(StoreError::Internal(format!(
                                    "alert {} changed inside the transaction",
                                    a.id
                                )));
                            }
                            a.version += 1;
                        }
                    }
                }
                tx.commit()?;
                i.version += 1;
                i.alerts = alerts;
                return Ok(Some(i));
            }
            // Another write won: try again on the fresh row.
            drop(tx);
            backoff(attempt);
        }
        Err(StoreError::Contended)
    }

    fn list_alerts(&self, tenant: &str, opts: &ListOptions) -> Result<Page<Alert>, StoreError> {
        let mut c = self.conn()?;
        let tx = c.transaction()?;
        let (total, sql, params) = page_sql(
            &tx,
            "alerts",
            "doc, version, incident_id",
            "created DESC",
            tenant,
            opts,
        )?;
        let mut items = Vec::new();
        {
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })?;
            for row in rows {
                let (doc, version, incident) = row?;
                items.push(alert_from_row(&doc, version, incident)?);
            }
        }
        tx.commit()?;
        Ok(Page { items, total })
    }

    fn get_alert(&self, tenant: &str, id: &str) -> Result<Option<Alert>, StoreError> {
        let c = self.conn()?;
        read_alert(&c, tenant, id)
    }

    fn update_alert(
        &self,
        tenant: &str,
        id: &str,
        update: Update<'_, Alert>,
        now: Time,
    ) -> Result<Option<Alert>, StoreError> {
        let mut c = self.conn()?;
        for attempt in 0..ATTEMPTS {
            let Some(mut a) = read_alert(&c, tenant, id)? else {
                return Ok(None);
            };
            update(&mut a).map_err(StoreError::Invalid)?;
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if write_alert_if(&tx, &a)? {
                if let Some(incident) = a.incident_id {
                    roll_up_incident(&tx, tenant, incident, now)?;
                }
                tx.commit()?;
                a.version += 1;
                return Ok(Some(a));
            }
            drop(tx);
            backoff(attempt);
        }
        Err(StoreError::Contended)
    }

    fn add_alert(
        &self,
        tenant: &str,
        mut alert: Alert,
        config: &CorrelationConfig,
        now: Time,
    ) -> Result<AlertOutcome, StoreError> {
        alert.tenant_id = tenant.to_string();
        let mut c = self.conn()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<Option<i64>> = tx
            .query_row(
                "SELECT incident_id FROM alerts WHERE tenant = ?1 AND id = ?2",
                params![tenant, alert.id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(incident_id) = existing {
            return Ok(AlertOutcome::Duplicate { incident_id });
        }
        let entities = alert_entities(&alert);
        let time = alert.activity_time();
        let known = known_alerts(&tx, tenant, &entities, time, config.window_secs)?;
        let decision = correlate::correlate(&alert.id, time, &entities, &known, config, now);
        let (incident_id, created, merged, reasons) = match decision {
            Decision::New { reasons } => {
                let id = next_incident_id(&tx)?;
                let mut i = Incident::new(id, tenant, &alert.title, now);
                i.detection_source = Some(alert.detection_source.legacy_name().to_string());
                write_incident(&tx, &i, 0)?;
                (id, true, Vec::new(), reasons)
            }
            Decision::Join {
                incident_id,
                reasons,
            } => (incident_id, false, Vec::new(), reasons),
            Decision::Merge {
                into,
                from,
                reasons,
            } => {
                let mut carried = Vec::new();
                for old in &from {
                    let Some(mut o) = read_incident(&tx, tenant, *old)? else {
                        continue;
                    };
                    carried.append(&mut o.grouping.clone());
                    o.redirect_incident_id = Some(into);
                    o.status = IncidentStatus::Redirected;
                    o.last_update = now;
                    write_incident(&tx, &o, o.version + 1)?;
                    tx.prepare_cached(
                        "UPDATE alerts SET incident_id = ?3, version = version + 1
                         WHERE tenant = ?1 AND incident_id = ?2",
                    )?
                    .execute(params![tenant, old, into])?;
                }
                if let Some(mut target) = read_incident(&tx, tenant, into)? {
                    // The merged incidents' reasons follow the target's own.
                    target.grouping.extend(carried);
                    write_incident(&tx, &target, target.version + 1)?;
                }
                (into, false, from, reasons)
            }
        };
        alert.incident_id = Some(incident_id);
        write_alert(&tx, &alert, 0)?;
        if let Some(mut i) = read_incident(&tx, tenant, incident_id)? {
            i.grouping.extend(reasons);
            let alerts = alerts_of(&tx, tenant, incident_id)?;
            correlate::roll_up(&mut i, &alerts, now);
            i.last_update = now;
            write_incident(&tx, &i, i.version + 1)?;
        }
        tx.commit()?;
        Ok(AlertOutcome::Stored {
            incident_id,
            created,
            merged,
        })
    }

    fn list_rules(&self, tenant: &str) -> Result<Vec<DetectionRule>, StoreError> {
        Ok(self
            .rules_where(Some(tenant))?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    fn all_rules(&self) -> Result<Vec<(String, DetectionRule)>, StoreError> {
        self.rules_where(None)
    }

    fn get_rule(&self, tenant: &str, id: &str) -> Result<Option<DetectionRule>, StoreError> {
        let c = self.conn()?;
        read_rule(&c, tenant, id)
    }

    fn put_rule(&self, tenant: &str, rule: &DetectionRule) -> Result<bool, StoreError> {
        let mut c = self.conn()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let old = read_rule(&tx, tenant, &rule.id)?;
        let mut rule = rule.clone();
        if let Some(old) = &old {
            rule.last_run = old.last_run;
            rule.alerts_raised = old.alerts_raised;
            rule.last_error = old.last_error.clone();
        }
        write_rule(&tx, tenant, &rule)?;
        tx.commit()?;
        Ok(old.is_none())
    }

    fn delete_rule(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        let n = self.conn()?.execute(
            "DELETE FROM detection_rules WHERE tenant = ?1 AND id = ?2",
            params![tenant, id],
        )?;
        Ok(n > 0)
    }

    fn record_run(
        &self,
        tenant: &str,
        id: &str,
        at: Time,
        raised: u64,
        error: Option<String>,
    ) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(mut rule) = read_rule(&tx, tenant, id)? {
            rule.last_run = Some(at);
            rule.alerts_raised = rule.alerts_raised.saturating_add(raised);
            rule.last_error = error;
            write_rule(&tx, tenant, &rule)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn watermark(&self, tenant: &str, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT value FROM watermarks WHERE tenant = ?1 AND name = ?2",
                params![tenant, name],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn set_watermark(&self, tenant: &str, name: &str, value: i64) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT OR REPLACE INTO watermarks (tenant, name, value) VALUES (?1, ?2, ?3)",
            params![tenant, name, value],
        )?;
        Ok(())
    }

    fn put_incident(&self, incident: &Incident) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version =
            read_incident(&tx, &incident.tenant_id, incident.id)?.map_or(0, |i| i.version + 1);
        write_incident(&tx, incident, version)?;
        for a in &incident.alerts {
            let mut a = a.clone();
            a.tenant_id = incident.tenant_id.clone();
            a.incident_id = Some(incident.id);
            write_alert(&tx, &a, 0)?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn read_rule(c: &Connection, tenant: &str, id: &str) -> Result<Option<DetectionRule>, StoreError> {
    let doc: Option<String> = c
        .prepare_cached("SELECT doc FROM detection_rules WHERE tenant = ?1 AND id = ?2")?
        .query_row(params![tenant, id], |r| r.get(0))
        .optional()?;
    Ok(doc.map(|d| serde_json::from_str(&d)).transpose()?)
}

fn write_rule(c: &Connection, tenant: &str, rule: &DetectionRule) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO detection_rules (tenant, id, doc) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![tenant, rule.id, serde_json::to_string(rule)?])?;
    Ok(())
}

impl SqliteStore {
    fn rules_where(
        &self,
        tenant: Option<&str>,
    ) -> Result<Vec<(String, DetectionRule)>, StoreError> {
        let c = self.conn()?;
        let mut stmt = c.prepare_cached(
            "SELECT tenant, doc FROM detection_rules WHERE ?1 IS NULL OR tenant = ?1 ORDER BY tenant, id",
        )?;
        let rows = stmt.query_map(params![tenant], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (t, doc) = row?;
            out.push((t, serde_json::from_str(&doc)?));
        }
        Ok(out)
    }
}

/// A short, growing pause between optimistic attempts.
fn backoff(attempt: usize) {
    if attempt < 4 {
        std::thread::yield_now();
    } else {
        std::thread::sleep(std::time::Duration::from_micros(
            50 * (attempt.min(40) as u64),
        ));
    }
}
