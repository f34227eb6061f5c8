//! Detection rules: their HTTP routes, the scheduler that runs them through the KQL
//! engine, and the import of alerts that arrive in the `AlertInfo`/`AlertEvidence` hunting
//! tables.
//!
//! | route | roles (any of) | answer |
//! | --- | --- | --- |
//! | `GET /api/detectionrules` | `CustomDetection.Read.All`, `CustomDetection.ReadWrite.All` | `{"value":[rule]}` |
//! | `POST /api/detectionrules` | `CustomDetection.ReadWrite.All` | 201, the new rule (400 `InvalidInput` if the id exists) |
//! | `GET /api/detectionrules/{id}` | the read roles | the rule |
//! | `PUT /api/detectionrules/{id}` | `CustomDetection.ReadWrite.All` | 201 new / 200 replaced |
//! | `DELETE /api/detectionrules/{id}` | `CustomDetection.ReadWrite.All` | 204 |
//! | `POST /api/detectionrules/{id}/run` | `CustomDetection.ReadWrite.All` | runs it now: `{"rows","alerts","newAlerts","incidents"}` |
//!
//! A rule's query is checked (parsed and bound) when it is stored: a bad query is 400 with
//! the KQL diagnostics. The scheduler ([`run_due`], every `detection_interval_secs` while
//! `serve` runs, with the clock passed in) runs each due rule for its tenant over the
//! events of `[now - lookback, now)` on the query runtime, under the query timeout; each
//! row becomes an alert ([`DetectionRule::alert_from_row`], de-duplicated across runs by
//! its id), stored and correlated into an incident, and written to the `AlertInfo` and
//! `AlertEvidence` tables (when this server writes the store). Each tick also reads the
//! tenants' `AlertInfo`/`AlertEvidence` rows since the last tick ([`sync_alert_tables`]),
//! so alerts ingested there become incidents the same way.

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Body, ErrorCode};
use crate::hunting::{Stopped, run_query};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kql_engine::QueryOptions;
use peregrine_incidents::rules::{DetectionRule, alerts_from_alert_tables};
use peregrine_incidents::{Alert, AlertOutcome, IncidentStore, Time};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

pub const READ: &[&str] = &["CustomDetection.Read.All", "CustomDetection.ReadWrite.All"];
pub const WRITE: &[&str] = &["CustomDetection.ReadWrite.All"];

/// The watermark of the alert-table import.
const ALERT_TABLES: &str = "alert-tables";

/// What one rule run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    pub tenant: String,
    pub rule: String,
    pub rows: usize,
    pub alerts: usize,
    pub new_alerts: usize,
    pub incidents: BTreeSet<i64>,
    pub error: Option<String>,
}

impl RunReport {
    fn json(&self) -> Value {
        json!({
            "rule": self.rule,
            "rows": self.rows,
            "alerts": self.alerts,
            "newAlerts": self.new_alerts,
            "incidents": self.incidents,
            "error": self.error,
        })
    }
}

/// A store call on the blocking pool, its errors as the Defender API words them.
async fn store_call<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&dyn IncidentStore) -> Result<T, peregrine_incidents::StoreError> + Send + 'static,
    T: Send + 'static,
{
    crate::incidents::blocking(state, crate::incidents::Flavor::Defender, f).await
}

/// The tenant's rule `id`, if there is one.
async fn find_rule(
    state: &AppState,
    tenant: &str,
    id: &str,
) -> Result<Option<DetectionRule>, ApiError> {
    let (t, key) = (tenant.to_string(), id.to_string());
    store_call(state, move |s| s.get_rule(&t, &key)).await
}

/// Runs `query` for `tenant` over `[from, to)` at `now` on the query runtime, under the
/// timeout: the column names and the rows (cells as JSON).
async fn query_rows(
    state: &AppState,
    tenant: &str,
    query: &str,
    range: Option<(Time, Time)>,
    now: Time,
) -> Result<(Vec<String>, Vec<Vec<Value>>), String> {
    let engine = state
        .store
        .engine_in(tenant, range.map(|(f, t)| (f.unix_nanos(), t.unix_nanos())));
    let options = QueryOptions {
        now_nanos: Some(now.unix_nanos()),
        max_rows: state.config.max_rows,
    };
    let started = Arc::new(std::sync::OnceLock::new());
    let result = match run_query(state, engine, query.to_string(), options, started).await {
        Err(Stopped::Timeout) => return Err("the query exceeded the timeout period".into()),
        Err(Stopped::Task(e)) => return Err(format!("query task: {e}")),
        Ok((Err(diagnostics), _)) => {
            return Err(diagnostics
                .iter()
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect::<Vec<_>>()
                .join("; "));
        }
        Ok((Ok(r), _)) => r,
    };
    let columns = result.columns.iter().map(|c| c.name.clone()).collect();
    Ok((columns, kql_engine::format::result_rows_json(&result)))
}

/// Stores `alerts` for `tenant` (correlated) and, for the new ones, writes their
/// `AlertInfo`/`AlertEvidence` rows when `to_tables`.
async fn store_alerts(
    state: &AppState,
    tenant: &str,
    alerts: Vec<Alert>,
    now: Time,
    to_tables: bool,
    report: &mut RunReport,
) -> Result<(), String> {
    report.alerts += alerts.len();
    let store = Arc::clone(&state.incidents.store);
    let config = state.incidents.correlation;
    let t = tenant.to_string();
    let (outcomes, fresh) = tokio::task::spawn_blocking(move || {
        let mut outcomes = Vec::new();
        let mut fresh = Vec::new();
        for a in alerts {
            let o = store.add_alert(&t, a.clone(), &config, now)?;
            if matches!(o, AlertOutcome::Stored { .. }) {
                fresh.push(a);
            }
            outcomes.push(o);
        }
        Ok::<_, peregrine_incidents::StoreError>((outcomes, fresh))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    for o in outcomes {
        match o {
            AlertOutcome::Stored { incident_id, .. } => {
                report.new_alerts += 1;
                report.incidents.insert(incident_id);
            }
            AlertOutcome::Duplicate { incident_id } => {
                report.incidents.extend(incident_id);
            }
        }
    }
    if to_tables && !fresh.is_empty() && state.store.is_writable() {
        write_alert_tables(state, tenant, &fresh).await?;
    }
    Ok(())
}

/// The `AlertInfo` and `AlertEvidence` rows of new alerts, so hunting sees them.
async fn write_alert_tables(
    state: &AppState,
    tenant: &str,
    alerts: &[Alert],
) -> Result<(), String> {
    let mut info = Vec::new();
    let mut evidence = Vec::new();
    for a in alerts {
        let ts = a.activity_time().to_string();
        let techniques = serde_json::to_string(&a.mitre_techniques).unwrap_or_default();
        let common = json!({
            "Timestamp": ts, "AlertId": a.id, "Title": a.title,
            "Severity": peregrine_incidents::WireEnum::legacy_name(a.severity),
            "ServiceSource": "Microsoft Defender XDR", "DetectionSource": "Custom detection",
            "AttackTechniques": techniques,
        });
        let mut i = common.clone();
        i["Category"] = json!(a.category);
        info.push((info.len() + 1, i));
        for e in &a.evidence {
            let mut r = common.clone();
            r["Categories"] = json!(
                serde_json::to_string(&[a.category.clone().unwrap_or_default()])
                    .unwrap_or_default()
            );
            let s = |k: &str| e.str_prop(k).map(str::to_string);
            let (kind, cols): (&str, Vec<(&str, Option<String>)>) = match e.kind {
                peregrine_incidents::EvidenceKind::Device => (
                    "Machine",
                    vec![
                        ("DeviceId", s("mdeDeviceId")),
                        ("DeviceName", s("deviceDnsName")),
                    ],
                ),
                peregrine_incidents::EvidenceKind::User => (
                    "User",
                    vec![
                        ("AccountUpn", s("userAccount.userPrincipalName")),
                        ("AccountName", s("userAccount.accountName")),
                        ("AccountSid", s("userAccount.userSid")),
                        ("AccountObjectId", s("userAccount.azureAdUserId")),
                    ],
                ),
                peregrine_incidents::EvidenceKind::File => (
                    "File",
                    vec![
                        ("SHA256", s("fileDetails.sha256")),
                        ("SHA1", s("fileDetails.sha1")),
                    ],
                ),
                peregrine_incidents::EvidenceKind::Ip => ("Ip", vec![("RemoteIP", s("ipAddress"))]),
                peregrine_incidents::EvidenceKind::Url => ("Url", vec![("RemoteUrl", s("url"))]),
                peregrine_incidents::EvidenceKind::Mailbox => {
                    ("Mailbox", vec![("AccountUpn", s("primaryAddress"))])
                }
                _ => continue,
            };
            r["EntityType"] = json!(kind);
            r["EvidenceRole"] = json!("Impacted");
            for (c, v) in cols {
                if let Some(v) = v {
                    r[c] = json!(v);
                }
            }
            evidence.push((evidence.len() + 1, r));
        }
    }
    let permit = Arc::clone(&state.ingests)
        .acquire_owned()
        .await
        .map_err(|e| e.to_string())?;
    let store = Arc::clone(&state.store);
    let t = tenant.to_string();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        store.ingest(&t, "AlertInfo", &info)?;
        if !evidence.is_empty() {
            store.ingest(&t, "AlertEvidence", &evidence)?;
        }
        Ok::<_, peregrine_store::IngestError>(())
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("writing AlertInfo/AlertEvidence: {e}"))
}

/// Runs one rule of `tenant` at `now` and records the run.
pub async fn run_rule(
    state: &AppState,
    tenant: &str,
    rule: &DetectionRule,
    now: Time,
) -> RunReport {
    let mut report = RunReport {
        tenant: tenant.to_string(),
        rule: rule.id.clone(),
        ..RunReport::default()
    };
    let range = (now.plus_secs(-rule.lookback_secs), now);
    match query_rows(state, tenant, &rule.query, Some(range), now).await {
        Err(e) => report.error = Some(e),
        Ok((columns, rows)) => {
            report.rows = rows.len();
            let alerts: Vec<Alert> = rows
                .iter()
                .map(|row| rule.alert_from_row(tenant, &columns, row, now))
                .collect();
            if let Err(e) = store_alerts(state, tenant, alerts, now, true, &mut report).await {
                report.error = Some(e);
            }
        }
    }
    let (t, id, raised, error) = (
        tenant.to_string(),
        rule.id.clone(),
        report.new_alerts as u64,
        report.error.clone(),
    );
    let store = Arc::clone(&state.incidents.store);
    let recorded =
        tokio::task::spawn_blocking(move || store.record_run(&t, &id, now, raised, error)).await;
    if !matches!(recorded, Ok(Ok(()))) {
        tracing::error!(tenant, rule = %rule.id, "could not record the rule's run");
    }
    match &report.error {
        Some(e) => tracing::warn!(tenant, rule = %rule.id, error = %e, "detection rule failed"),
        None => tracing::info!(
            tenant,
            rule = %rule.id,
            rows = report.rows,
            new_alerts = report.new_alerts,
            "detection rule ran"
        ),
    }
    report
}

/// Reads `tenant`'s `AlertInfo`/`AlertEvidence` rows since the last import (an hour of
/// overlap for late rows; the first import reads the whole query window) into alerts.
pub async fn sync_alert_tables(state: &AppState, tenant: &str, now: Time) -> RunReport {
    let mut report = RunReport {
        tenant: tenant.to_string(),
        rule: ALERT_TABLES.to_string(),
        ..RunReport::default()
    };
    let store = Arc::clone(&state.incidents.store);
    let t = tenant.to_string();
    let since = match tokio::task::spawn_blocking(move || store.watermark(&t, ALERT_TABLES)).await {
        Ok(Ok(w)) => w.map(|w| Time::from_ticks(w).plus_secs(-3600)),
        _ => {
            report.error = Some("cannot read the import position".into());
            return report;
        }
    };
    let cond = since.map_or(String::new(), |s| {
        format!(" | where Timestamp >= datetime({s})")
    });
    let mut rows: Vec<Map<String, Value>> = Vec::new();
    for table in ["AlertInfo", "AlertEvidence"] {
        match query_rows(state, tenant, &format!("{table}{cond}"), None, now).await {
            Ok((columns, cells)) => rows.extend(cells.into_iter().map(|r| {
                columns
                    .iter()
                    .cloned()
                    .zip(r)
                    .collect::<Map<String, Value>>()
            })),
            Err(e) => {
                report.error = Some(e);
                return report;
            }
        }
    }
    report.rows = rows.len();
    let latest = rows
        .iter()
        .filter_map(|r| {
            r.get("Timestamp")
                .and_then(Value::as_str)
                .and_then(Time::parse)
        })
        .max();
    let mut alerts = alerts_from_alert_tables(tenant, &rows);
    // Older first, so incidents grow in the order things happened.
    alerts.sort_by(|a, b| (a.activity_time(), &a.id).cmp(&(b.activity_time(), &b.id)));
    if let Err(e) = store_alerts(state, tenant, alerts, now, false, &mut report).await {
        report.error = Some(e);
        return report;
    }
    if let Some(latest) = latest {
        let store = Arc::clone(&state.incidents.store);
        let t = tenant.to_string();
        let _ = tokio::task::spawn_blocking(move || {
            store.set_watermark(&t, ALERT_TABLES, latest.ticks())
        })
        .await;
    }
    report
}

/// One scheduler tick at `now`: every due rule of every tenant, then the alert tables of
/// every tenant of the store.
pub async fn run_due(state: &AppState, now: Time) -> Vec<RunReport> {
    let mut reports = Vec::new();
    let store = Arc::clone(&state.incidents.store);
    let rules = match tokio::task::spawn_blocking(move || store.all_rules()).await {
        Ok(Ok(r)) => r,
        _ => {
            tracing::error!("cannot read the detection rules");
            Vec::new()
        }
    };
    for (tenant, rule) in rules.iter().filter(|(_, r)| r.is_due(now)) {
        reports.push(run_rule(state, tenant, rule, now).await);
    }
    let tenants = state.store.tenants().unwrap_or_default();
    for tenant in tenants {
        let r = sync_alert_tables(state, &tenant, now).await;
        if r.new_alerts > 0 || r.error.is_some() {
            tracing::info!(tenant = %tenant, new_alerts = r.new_alerts, error = ?r.error, "alert tables read");
        }
        reports.push(r);
    }
    reports
}

/// Runs [`run_due`] every `interval` until the returned handle is dropped.
pub fn spawn_scheduler(state: AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            run_due(&state, Time::now()).await;
        }
    })
}

/// The rules `serve --demo` installs: they fire on the demo tenant's attack stories.
pub fn builtin_rules() -> Vec<DetectionRule> {
    let rules = [
        json!({"id": "office-encoded-powershell", "name": "Office application launched encoded PowerShell",
            "query": "DeviceProcessEvents | where FileName =~ \"powershell.exe\" and ProcessCommandLine has \"-EncodedCommand\" and InitiatingProcessFileName in~ (\"winword.exe\", \"excel.exe\", \"powerpnt.exe\", \"outlook.exe\") | project Timestamp, DeviceId, DeviceName, AccountName, AccountSid, SHA256, ProcessCommandLine",
            "period": "1h", "lookback": "P8D", "severity": "high", "category": "Execution", "mitreTechniques": ["T1059.001", "T1204.002"],
            "description": "An Office application started PowerShell with an encoded command, a common macro download cradle."}),
        json!({"id": "lsass-access-rundll32", "name": "LSASS memory read by rundll32 (comsvcs MiniDump)",
            "query": "DeviceEvents | where ActionType == \"OpenProcessApiCall\" and FileName =~ \"lsass.exe\" and InitiatingProcessFileName =~ \"rundll32.exe\" | project Timestamp, DeviceId, DeviceName, AccountName = InitiatingProcessAccountName, AccountSid = InitiatingProcessAccountSid",
            "period": "1h", "lookback": "P8D", "severity": "high", "category": "CredentialAccess", "mitreTechniques": ["T1003.001"]}),
        json!({"id": "rdp-brute-force", "name": "RDP brute force from the internet",
            "query": "DeviceLogonEvents | where ActionType == \"LogonFailed\" and RemoteIPType == \"Public\" | summarize failures = count(), Timestamp = min(Timestamp) by RemoteIP, DeviceId, DeviceName | where failures > 100",
            "period": "1h", "lookback": "P8D", "severity": "medium", "category": "CredentialAccess", "mitreTechniques": ["T1110"]}),
        json!({"id": "shadow-copy-deletion", "name": "Volume shadow copies deleted",
            "query": "DeviceProcessEvents | where FileName =~ \"vssadmin.exe\" and ProcessCommandLine has \"delete shadows\" | project Timestamp, DeviceId, DeviceName, AccountName, AccountSid",
            "period": "1h", "lookback": "P8D", "severity": "high", "category": "Impact", "mitreTechniques": ["T1490"]}),
        json!({"id": "mass-rename-locked", "name": "Ransomware-like mass file renames",
            "query": "DeviceFileEvents | where ActionType == \"FileRenamed\" and FileName endswith \".locked\" | summarize renamed = count(), Timestamp = min(Timestamp) by DeviceId, DeviceName, AccountName = InitiatingProcessAccountName, SHA256 = InitiatingProcessSHA256 | where renamed > 50",
            "period": "1h", "lookback": "P8D", "severity": "high", "category": "Impact", "mitreTechniques": ["T1486"]}),
        json!({"id": "mass-cloud-download", "name": "Mass download from a cloud app",
            "query": "CloudAppEvents | where ActionType == \"FileDownloaded\" | summarize n = count(), Timestamp = min(Timestamp) by AccountObjectId, IPAddress | where n > 50",
            "period": "1h", "lookback": "P8D", "severity": "medium", "category": "Exfiltration", "mitreTechniques": ["T1530"]}),
    ];
    rules
        .iter()
        .filter_map(|r| DetectionRule::from_json(r, None).ok())
        .collect()
}

/// A rule's query must parse and bind against the tables.
fn check_query(state: &AppState, query: &str) -> Result<(), ApiError> {
    let engine = kql_engine::Engine::new(
        Arc::clone(state.store.catalog()),
        Arc::new(kql_engine::EmptyData),
    );
    match engine.plan(query, Time::now().unix_nanos()) {
        Ok(_) => Ok(()),
        Err(diagnostics) => Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!(
                "The rule's query is not valid KQL: {}",
                diagnostics
                    .first()
                    .map(|d| d.message.clone())
                    .unwrap_or_default()
            ),
        )
        .with_details(
            diagnostics
                .iter()
                .map(|d| json!({"code": d.code, "message": d.message}))
                .collect(),
        )),
    }
}

fn rule_body(state: &AppState, body: &[u8], id: Option<&str>) -> Result<DetectionRule, ApiError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_body(format!("Request body is incorrect: {e}")))?;
    let rule = DetectionRule::from_json(&v, id).map_err(ApiError::bad_body)?;
    let limit = state.config.max_query_bytes;
    if rule.query.len() > limit {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("The rule's query is longer than the limit of {limit} bytes."),
        ));
    }
    check_query(state, &rule.query)?;
    Ok(rule)
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFound,
        format!("Detection rule {id} was not found"),
    )
}

/// `GET /api/detectionrules`.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    principal.require(READ)?;
    let t = principal.tenant.clone();
    let rules = store_call(&state, move |s| s.list_rules(&t)).await?;
    let value: Vec<Value> = rules.iter().map(DetectionRule::to_json).collect();
    Ok(axum::Json(json!({ "value": value })).into_response())
}

/// `GET /api/detectionrules/{id}`.
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(READ)?;
    let rule = find_rule(&state, &principal.tenant, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(axum::Json(rule.to_json()).into_response())
}

/// `POST /api/detectionrules`.
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Body(body): Body,
) -> Result<Response, ApiError> {
    principal.require(WRITE)?;
    let rule = rule_body(&state, &body, None)?;
    if find_rule(&state, &principal.tenant, &rule.id)
        .await?
        .is_some()
    {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!(
                "A detection rule with id '{}' exists; PUT /api/detectionrules/{} replaces it.",
                rule.id, rule.id
            ),
        ));
    }
    let (t, r) = (principal.tenant.clone(), rule.clone());
    store_call(&state, move |s| s.put_rule(&t, &r)).await?;
    Ok((StatusCode::CREATED, axum::Json(rule.to_json())).into_response())
}

/// `PUT /api/detectionrules/{id}`.
pub async fn put(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    principal.require(WRITE)?;
    let rule = rule_body(&state, &body, Some(&id))?;
    let (t, r) = (principal.tenant.clone(), rule.clone());
    let created = store_call(&state, move |s| s.put_rule(&t, &r)).await?;
    let stored = find_rule(&state, &principal.tenant, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(stored.to_json())).into_response())
}

/// `DELETE /api/detectionrules/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(WRITE)?;
    let (t, key) = (principal.tenant.clone(), id.clone());
    if store_call(&state, move |s| s.delete_rule(&t, &key)).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(not_found(&id))
    }
}

/// `POST /api/detectionrules/{id}/run`: runs the rule now.
pub async fn run_now(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(WRITE)?;
    let rule = find_rule(&state, &principal.tenant, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let report = run_rule(&state, &principal.tenant, &rule, Time::now()).await;
    if let Some(e) = &report.error {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("The rule failed: {e}"),
        ));
    }
    Ok(axum::Json(report.json()).into_response())
}
