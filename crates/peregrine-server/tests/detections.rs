//! Detection rules: their routes, and the scheduler run with a fixed clock over events
//! ingested here (rule → rows → de-duplicated alerts → one correlated incident →
//! `AlertInfo`/`AlertEvidence`), plus alerts arriving in the alert tables.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use peregrine_incidents::Time;
use peregrine_server::ServerConfig;
use peregrine_server::detections::{builtin_rules, run_due, sync_alert_tables};
use serde_json::{Value, json};

const RW: &[&str] = &["CustomDetection.ReadWrite.All"];

fn config() -> ServerConfig {
    ServerConfig {
        incident_calls_per_minute: 0,
        incident_calls_per_hour: 0,
        ..test_config()
    }
}

async fn call(app: &TestApp, method: Method, uri: &str, token: &str, body: Option<Value>) -> Reply {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "localhost")
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    let body = body.map(|v| v.to_string()).unwrap_or_default();
    app.send(b.body(Body::from(body)).unwrap()).await
}

fn rule(id: &str) -> Value {
    json!({"id": id, "name": "Encoded PowerShell from Word", "severity": "high", "category": "Execution",
           "query": "DeviceProcessEvents | where ProcessCommandLine has \"-EncodedCommand\" and InitiatingProcessFileName =~ \"winword.exe\" | project Timestamp, DeviceId, DeviceName, AccountName",
           "period": "1h", "lookback": "1d", "mitreTechniques": ["T1059.001"]})
}

#[tokio::test]
async fn rule_routes() {
    let app = app_with(config());
    let token = app.token_with(CONTOSO, RW).await;
    let r = call(
        &app,
        Method::POST,
        "/api/detectionrules",
        &token,
        Some(rule("ps")),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["period"], "3600s");
    assert_eq!(r.body["lookback"], "86400s");
    assert_eq!(r.body["severity"], "high");
    assert_eq!(r.body["enabled"], true);
    let r = call(
        &app,
        Method::POST,
        "/api/detectionrules",
        &token,
        Some(rule("ps")),
    )
    .await;
    assert_envelope(&r, 400, "InvalidInput");
    let mut bad = rule("bad");
    bad["query"] = json!("DeviceProcessEvents | where NoSuchColumn == 1");
    let r = call(&app, Method::POST, "/api/detectionrules", &token, Some(bad)).await;
    assert_envelope(&r, 400, "InvalidInput");
    assert!(
        r.body["error"]["details"][0]["code"].is_string(),
        "{}",
        r.text
    );
    let mut bad = rule("bad");
    bad["severity"] = json!("apocalyptic");
    let r = call(&app, Method::POST, "/api/detectionrules", &token, Some(bad)).await;
    assert_envelope(&r, 400, "InvalidRequestBody");
    let r = call(&app, Method::GET, "/api/detectionrules", &token, None).await;
    assert_eq!(
        r.body["value"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text
    );
    // PUT replaces (200) or creates (201); the path names the rule
    let mut changed = rule("ps");
    changed["severity"] = json!("low");
    let r = call(
        &app,
        Method::PUT,
        "/api/detectionrules/ps",
        &token,
        Some(changed),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["severity"], "low");
    let r = call(
        &app,
        Method::PUT,
        "/api/detectionrules/other",
        &token,
        Some(rule("ps")),
    )
    .await;
    assert_envelope(&r, 400, "InvalidRequestBody");
    let mut other = rule("other");
    other.as_object_mut().unwrap().remove("id");
    let r = call(
        &app,
        Method::PUT,
        "/api/detectionrules/other",
        &token,
        Some(other),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // tenants and roles
    let fab = app.token_with(FABRIKAM, RW).await;
    assert_envelope(
        &call(&app, Method::GET, "/api/detectionrules/ps", &fab, None).await,
        404,
        "ResourceNotFound",
    );
    let read = app.token_with(CONTOSO, &["CustomDetection.Read.All"]).await;
    assert_eq!(
        call(&app, Method::GET, "/api/detectionrules/ps", &read, None)
            .await
            .status,
        StatusCode::OK
    );
    assert_envelope(
        &call(&app, Method::DELETE, "/api/detectionrules/ps", &read, None).await,
        403,
        "Forbidden",
    );
    let incident = app.token_with(CONTOSO, &["Incident.ReadWrite.All"]).await;
    assert_envelope(
        &call(&app, Method::GET, "/api/detectionrules", &incident, None).await,
        403,
        "Forbidden",
    );
    // delete
    let r = call(&app, Method::DELETE, "/api/detectionrules/ps", &token, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_envelope(
        &call(&app, Method::DELETE, "/api/detectionrules/ps", &token, None).await,
        404,
        "ResourceNotFound",
    );
    // run now: the rule runs over the tenant's events (none match)
    let r = call(
        &app,
        Method::POST,
        "/api/detectionrules/other/run",
        &token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["rows"], 0);
}

fn at(now: Time, offset_secs: i64) -> String {
    now.plus_secs(offset_secs).to_string()
}

/// An encoded PowerShell started by Word on `device`, as `account`.
fn cradle(now: Time, offset: i64, device: &str, account: &str, report: i64) -> Value {
    json!({"Timestamp": at(now, offset), "DeviceId": format!("id-{device}"), "DeviceName": format!("{device}.contoso.com"),
           "FileName": "powershell.exe", "ProcessCommandLine": "powershell.exe -EncodedCommand SQBFAFgA",
           "InitiatingProcessFileName": "WINWORD.EXE", "AccountName": account, "ReportId": report})
}

#[tokio::test]
async fn scheduler_with_a_fixed_clock() {
    let app = app_with(config());
    let store = &app.state.incidents.store;
    // a whole minute, an hour ago: the events are within the store's window
    let now =
        Time::from_unix_nanos((chrono::Utc::now().timestamp() / 60 * 60 - 3600) * 1_000_000_000);
    let rules = builtin_rules();
    for id in ["office-encoded-powershell", "shadow-copy-deletion"] {
        let r = rules.iter().find(|r| r.id == id).unwrap();
        store.put_rule(CONTOSO, r).unwrap();
    }
    app.store
        .ingest(CONTOSO, "DeviceProcessEvents", &[
            (1, cradle(now, -7200, "wks-7", "alice", 901)),
            (2, json!({"Timestamp": at(now, -3600), "DeviceId": "id-wks-7", "DeviceName": "wks-7.contoso.com",
                       "FileName": "vssadmin.exe", "ProcessCommandLine": "vssadmin.exe delete shadows /all /quiet",
                       "AccountName": "svc-backup", "ReportId": 902})),
        ])
        .unwrap();

    let reports = run_due(&app.state, now).await;
    let by_rule = |reports: &[peregrine_server::detections::RunReport], id: &str| {
        reports
            .iter()
            .find(|r| r.rule == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} did not run: {reports:?}"))
    };
    let ps = by_rule(&reports, "office-encoded-powershell");
    let vss = by_rule(&reports, "shadow-copy-deletion");
    assert_eq!(
        (ps.rows, ps.new_alerts, ps.error.clone()),
        (1, 1, None),
        "{ps:?}"
    );
    assert_eq!((vss.rows, vss.new_alerts), (1, 1), "{vss:?}");
    // both on the same device: one incident, explained
    assert_eq!(ps.incidents, vss.incidents);
    let incident_id = *ps.incidents.iter().next().unwrap();
    let incident = store
        .get_incident(CONTOSO, incident_id, true)
        .unwrap()
        .unwrap();
    assert_eq!(incident.alerts.len(), 2);
    assert_eq!(
        incident.severity,
        peregrine_incidents::enums::Severity::High
    );
    assert!(
        incident.grouping.iter().any(|g| g.kind == "joined"
            && g.entity
                .as_deref()
                .is_some_and(|e| e.starts_with("device:"))),
        "{:?}",
        incident.grouping
    );
    assert_eq!(
        incident.name,
        "Multi-stage incident involving Execution & Impact on one endpoint"
    );
    // the alerts are in the hunting tables too, and reading them back adds nothing
    let rows = app
        .hunt_rows(
            CONTOSO,
            "AlertInfo | summarize n = count() by DetectionSource",
        )
        .await;
    assert_eq!(
        rows,
        json!([{"DetectionSource": "Custom detection", "n": 2}])
    );
    let rows = app
        .hunt_rows(
            CONTOSO,
            "AlertEvidence | where EntityType == 'Machine' | distinct DeviceId",
        )
        .await;
    assert_eq!(rows, json!([{"DeviceId": "id-wks-7"}]));
    let sync = by_rule(&reports, "alert-tables");
    assert_eq!(sync.new_alerts, 0, "{sync:?}");

    // half an hour later nothing is due; an hour later the rules run again and find the same rows
    let reports = run_due(&app.state, now.plus_secs(1800)).await;
    assert!(
        reports.iter().all(|r| r.rule == "alert-tables"),
        "{reports:?}"
    );
    let reports = run_due(&app.state, now.plus_secs(3600)).await;
    let ps = by_rule(&reports, "office-encoded-powershell");
    assert_eq!(
        (ps.rows, ps.alerts, ps.new_alerts),
        (1, 1, 0),
        "de-duplicated: {ps:?}"
    );
    let rule = store
        .get_rule(CONTOSO, "office-encoded-powershell")
        .unwrap()
        .unwrap();
    assert_eq!(rule.last_run, Some(now.plus_secs(3600)));
    assert_eq!(rule.alerts_raised, 1);

    // a new cradle on another device and user: a new alert, a new incident
    app.store
        .ingest(
            CONTOSO,
            "DeviceProcessEvents",
            &[(1, cradle(now, 4000, "wks-9", "bob", 903))],
        )
        .unwrap();
    let reports = run_due(&app.state, now.plus_secs(7200)).await;
    let ps = by_rule(&reports, "office-encoded-powershell");
    assert_eq!((ps.rows, ps.new_alerts), (2, 1), "{ps:?}");
    assert_eq!(ps.incidents.len(), 2);
    // a failing rule records its error and the others still run
    let mut broken = builtin_rules().remove(0);
    broken.id = "broken".into();
    broken.query = "DeviceProcessEvents | where toint(FileName) / 0 > 1 | take 1".into();
    store.put_rule(CONTOSO, &broken).unwrap();
    let _ = run_due(&app.state, now.plus_secs(3 * 3600)).await;
    let stored = store.get_rule(CONTOSO, "broken").unwrap().unwrap();
    assert!(stored.last_run.is_some());
    // another tenant's rules and data are apart
    assert!(
        store
            .list_incidents(
                FABRIKAM,
                &peregrine_incidents::odata::parse_options(
                    &[],
                    peregrine_incidents::odata::Api::DefenderIncidents
                )
                .unwrap()
            )
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn alerts_from_the_alert_tables() {
    let app = app_with(config());
    let now = Time::from_unix_nanos((chrono::Utc::now().timestamp() - 600) * 1_000_000_000);
    let info = |n: usize, id: &str, title: &str, off: i64| {
        (
            n,
            json!({"Timestamp": at(now, off), "AlertId": id, "Title": title, "Category": "InitialAccess", "Severity": "Medium",
                   "ServiceSource": "Microsoft Defender for Office 365", "DetectionSource": "Microsoft Defender for Office 365",
                   "AttackTechniques": "[\"T1566.001\"]"}),
        )
    };
    app.store
        .ingest(
            CONTOSO,
            "AlertInfo",
            &[
                info(1, "fa1", "Phish delivered", -3000),
                info(2, "da2", "Suspicious PowerShell", -2000),
            ],
        )
        .unwrap();
    app.store
        .ingest(CONTOSO, "AlertEvidence", &[
            (1, json!({"Timestamp": at(now, -3000), "AlertId": "fa1", "EntityType": "Mailbox", "AccountUpn": "alice@contoso.com"})),
            (2, json!({"Timestamp": at(now, -3000), "AlertId": "fa1", "EntityType": "User", "AccountUpn": "alice@contoso.com", "AccountName": "alice"})),
            (3, json!({"Timestamp": at(now, -2000), "AlertId": "da2", "EntityType": "User", "AccountName": "alice", "AccountDomain": "CONTOSO"})),
            (4, json!({"Timestamp": at(now, -2000), "AlertId": "da2", "EntityType": "Machine", "DeviceId": "id-wks-1", "DeviceName": "wks-1"})),
        ])
        .unwrap();
    let r = sync_alert_tables(&app.state, CONTOSO, now).await;
    assert_eq!(
        (r.alerts, r.new_alerts, r.error.clone()),
        (2, 2, None),
        "{r:?}"
    );
    assert_eq!(r.incidents.len(), 1, "one incident: the same user");
    let token = app.token_with(CONTOSO, &["Incident.Read.All"]).await;
    let id = r.incidents.iter().next().unwrap();
    let reply = call(
        &app,
        Method::GET,
        &format!("/api/incidents/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(
        reply.body["alerts"].as_array().map(Vec::len),
        Some(2),
        "{}",
        reply.text
    );
    assert_eq!(reply.body["alerts"][0]["serviceSource"], "OfficeATP");
    assert_eq!(
        reply.body["alerts"][0]["mitreTechniques"],
        json!(["T1566.001"])
    );
    // read again: nothing new
    let r = sync_alert_tables(&app.state, CONTOSO, now).await;
    assert_eq!(r.new_alerts, 0, "{r:?}");
}
