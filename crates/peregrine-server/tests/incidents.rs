//! The Incidents API through the router: every route, role, filter, paging option, PATCH,
//! bad enum, unknown id and the quota, in the Defender and the Graph shapes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use peregrine_incidents::enums::{IncidentStatus, Severity};
use peregrine_incidents::model::{Evidence, EvidenceKind};
use peregrine_incidents::{Alert, AlertOutcome, Incident, Time, legacy};
use peregrine_server::ServerConfig;
use serde_json::{Value, json};

const READ: &[&str] = &["Incident.Read.All"];
const WRITE: &[&str] = &["Incident.ReadWrite.All"];
const G_READ: &[&str] = &["SecurityIncident.Read.All"];
const G_WRITE: &[&str] = &["SecurityIncident.ReadWrite.All"];
const A_READ: &[&str] = &["SecurityAlert.Read.All"];
const A_WRITE: &[&str] = &["SecurityAlert.ReadWrite.All"];

fn config() -> ServerConfig {
    ServerConfig {
        incident_calls_per_minute: 0,
        incident_calls_per_hour: 0,
        ..test_config()
    }
}

fn example(name: &str) -> Value {
    let path = format!(
        "{}/../peregrine-incidents/tests/examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn call(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "localhost");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    app.send(
        b.body(Body::from(body.unwrap_or_default().to_string()))
            .unwrap(),
    )
    .await
}

async fn get(app: &TestApp, uri: &str, token: &str) -> Reply {
    call(app, Method::GET, uri, Some(token), None, &[]).await
}

async fn patch(app: &TestApp, uri: &str, token: &str, body: &str) -> Reply {
    call(app, Method::PATCH, uri, Some(token), Some(body), &[]).await
}

fn t(s: &str) -> Time {
    Time::parse(s).unwrap()
}

fn incident(tenant: &str, id: i64, updated: &str, status: IncidentStatus) -> Incident {
    let mut i = Incident::new(id, tenant, &format!("Incident {id}"), t(updated));
    i.status = status;
    i.severity = Severity::Medium;
    i
}

/// Contoso: the documented incident 924565 (updated 2020-09-06), and incidents 1..=3
/// (updated 2026-11-0{1,2,3}; 2 is resolved); fabrikam: incident 4.
fn seeded() -> TestApp {
    let app = app_with(config());
    let store = &app.state.incidents.store;
    let doc = &example("defender-list.json")["value"][0];
    store
        .put_incident(&legacy::incident_from_json(doc, CONTOSO).unwrap())
        .unwrap();
    store
        .put_incident(&incident(
            CONTOSO,
            1,
            "2026-11-01T00:00:00Z",
            IncidentStatus::Active,
        ))
        .unwrap();
    store
        .put_incident(&incident(
            CONTOSO,
            2,
            "2026-11-02T00:00:00Z",
            IncidentStatus::Resolved,
        ))
        .unwrap();
    store
        .put_incident(&incident(
            CONTOSO,
            3,
            "2026-11-03T00:00:00Z",
            IncidentStatus::Active,
        ))
        .unwrap();
    store
        .put_incident(&incident(
            FABRIKAM,
            4,
            "2026-11-04T00:00:00Z",
            IncidentStatus::Active,
        ))
        .unwrap();
    app
}

fn ids(r: &Reply, key: &str) -> Vec<Value> {
    r.body["value"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.text))
        .iter()
        .map(|i| i[key].clone())
        .collect()
}

/// Graph's envelope: code, message, innerError with a request id.
fn assert_graph_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(r.body["error"]["code"], code, "{}", r.text);
    assert!(
        r.body["error"]["innerError"]["request-id"].is_string(),
        "{}",
        r.text
    );
    assert!(r.body["error"].get("target").is_none(), "{}", r.text);
}

// ---- Defender XDR ----

#[tokio::test]
async fn get_returns_the_documented_shape() {
    let app = seeded();
    let token = app.token_with(CONTOSO, READ).await;
    let r = get(&app, "/api/incidents/924565", &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // the documented incident, with the portal link of this server after its id
    let doc = example("defender-list.json")["value"][0].clone();
    let mut expected = serde_json::Map::new();
    for (k, v) in doc.as_object().unwrap() {
        expected.insert(k.clone(), v.clone());
        if k == "incidentId" {
            expected.insert(
                "incidentUri".into(),
                json!(format!("http://localhost/incidents/924565?tid={CONTOSO}")),
            );
        }
    }
    assert_eq!(
        serde_json::to_string_pretty(&r.body).unwrap(),
        serde_json::to_string_pretty(&Value::Object(expected)).unwrap()
    );
}

#[tokio::test]
async fn list_shape_order_and_tenant() {
    let app = seeded();
    let token = app.token_with(CONTOSO, READ).await;
    let r = get(&app, "/api/incidents", &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["@odata.context"],
        "https://api.security.microsoft.com/api/$metadata#Incidents"
    );
    assert!(r.body.get("@odata.nextLink").is_none());
    // most recently updated first; fabrikam's incident 4 not there
    assert_eq!(
        ids(&r, "incidentId"),
        [json!(3), json!(2), json!(1), json!(924565)]
    );
    assert_eq!(
        r.body["value"][3]["alerts"][0]["entities"][0]["ipAddress"],
        "62.216.203.204"
    );
    let other = app.token_with(FABRIKAM, READ).await;
    assert_eq!(
        ids(&get(&app, "/api/incidents", &other).await, "incidentId"),
        [json!(4)]
    );
    // another tenant's id is unknown
    assert_envelope(
        &get(&app, "/api/incidents/4", &token).await,
        404,
        "ResourceNotFound",
    );
    assert_envelope(
        &get(&app, "/api/incidents/99", &token).await,
        404,
        "ResourceNotFound",
    );
    assert_envelope(
        &get(&app, "/api/incidents/abc", &token).await,
        404,
        "ResourceNotFound",
    );
}

#[tokio::test]
async fn filters_and_paging() {
    let app = seeded();
    let token = app.token_with(CONTOSO, READ).await;
    let cases: &[(&str, &[i64])] = &[
        // the Hello-World script's request, `+` for spaces
        (
            "$filter=lastUpdateTime+ge+2020-09-04T14:46:57.0000000Z",
            &[3, 2, 1, 924565],
        ),
        ("$filter=lastUpdateTime+ge+2026-11-02T00:00:00Z", &[3, 2]),
        ("$filter=lastUpdateTime%20gt%202026-11-02T00:00:00Z", &[3]),
        ("$filter=status+eq+'Active'", &[3, 1, 924565]),
        ("$filter=status+eq+'Resolved'", &[2]),
        (
            "$filter=status+ne+'Active'+and+createdTime+lt+2026-11-03T00:00:00Z",
            &[2],
        ),
        (
            "$filter=(status+eq+'Resolved'+or+lastUpdateTime+le+2020-12-31T00:00:00Z)",
            &[2, 924565],
        ),
        ("$filter=assignedTo+eq+null", &[3, 2, 1, 924565]),
        ("$filter=assignedTo+eq+'nobody@contoso.com'", &[]),
        ("$top=2", &[3, 2]),
        ("$top=2&$skip=2", &[1, 924565]),
        ("$skip=4", &[]),
    ];
    for (q, want) in cases {
        let r = get(&app, &format!("/api/incidents?{q}"), &token).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
        let want: Vec<Value> = want.iter().map(|i| json!(i)).collect();
        assert_eq!(ids(&r, "incidentId"), want, "{q}");
    }
    for bad in [
        "$filter=status+eq+'Closed'",
        "$filter=severity+eq+'High'",
        "$filter=lastUpdateTime+ge+yesterday",
        "$filter=status+eq+'Active'+and",
        "$filter=(status+eq+'Active'",
        "$top=101",
        "$top=-1",
        "$skip=x",
        "$orderby=lastUpdateTime",
        "$expand=alerts",
    ] {
        let r = get(&app, &format!("/api/incidents?{bad}"), &token).await;
        assert_envelope(&r, 400, "ODataError");
    }
}

#[tokio::test]
async fn roles() {
    let app = seeded();
    let r = call(&app, Method::GET, "/api/incidents", None, None, &[]).await;
    assert_envelope(&r, 401, "Unauthorized");
    let hunting = app.token_with(CONTOSO, &["AdvancedHunting.Read.All"]).await;
    for uri in [
        "/api/incidents",
        "/api/incidents/1",
        "/api/incidents/1/grouping",
    ] {
        assert_envelope(&get(&app, uri, &hunting).await, 403, "Forbidden");
    }
    let r = get(&app, "/api/incidents", &hunting).await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Missing application roles. API required roles: Incident.Read.All"),
        "{}",
        r.text
    );
    // read roles cannot PATCH; Graph's roles do not open the Defender routes
    let read = app.token_with(CONTOSO, READ).await;
    assert_envelope(
        &patch(&app, "/api/incidents/1", &read, "{}").await,
        403,
        "Forbidden",
    );
    let graph = app
        .token_with(CONTOSO, &["SecurityIncident.ReadWrite.All"])
        .await;
    assert_envelope(&get(&app, "/api/incidents", &graph).await, 403, "Forbidden");
    // the plural spelling of the screenshot, and ReadWrite for reading
    for roles in [&["Incidents.Read.All"][..], WRITE, &["Incident.Read"]] {
        let token = app.token_with(CONTOSO, roles).await;
        assert_eq!(
            get(&app, "/api/incidents/1", &token).await.status,
            StatusCode::OK,
            "{roles:?}"
        );
    }
    let plural = app.token_with(CONTOSO, &["Incidents.ReadWrite.All"]).await;
    assert_eq!(
        patch(&app, "/api/incidents/1", &plural, "{}").await.status,
        StatusCode::OK
    );
    // Defender roles do not open Graph's routes; incident roles do not open alerts
    let write = app.token_with(CONTOSO, WRITE).await;
    for uri in ["/v1.0/security/incidents", "/v1.0/security/alerts_v2"] {
        assert_graph_error(&get(&app, uri, &write).await, 403, "Forbidden");
    }
    let g = app.token_with(CONTOSO, G_WRITE).await;
    assert_graph_error(
        &get(&app, "/v1.0/security/alerts_v2", &g).await,
        403,
        "Forbidden",
    );
    let gr = app.token_with(CONTOSO, G_READ).await;
    assert_graph_error(
        &patch(&app, "/v1.0/security/incidents/1", &gr, "{}").await,
        403,
        "Forbidden",
    );
    let ar = app.token_with(CONTOSO, A_READ).await;
    assert_graph_error(
        &get(&app, "/v1.0/security/incidents", &ar).await,
        403,
        "Forbidden",
    );
    assert_graph_error(
        &patch(&app, "/v1.0/security/alerts_v2/x", &ar, "{}").await,
        403,
        "Forbidden",
    );
}

#[tokio::test]
async fn patch_then_list() {
    let app = seeded();
    let token = app.token_with(CONTOSO, WRITE).await;
    let body = example("defender-patch.json").to_string();
    let r = patch(&app, "/api/incidents/3", &token, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "Resolved");
    assert_eq!(r.body["assignedTo"], "secop2@contoso.com");
    assert_eq!(r.body["classification"], "TruePositive");
    assert_eq!(r.body["determination"], "Malware");
    assert_eq!(
        r.body["tags"],
        json!(["Yossi's playground", "Don't mess with the Zohan"])
    );
    assert_eq!(r.body["comments"][0]["comment"], "pen testing");
    assert!(r.body["comments"][0]["createdBy"].is_string());
    let updated = r.body["lastUpdateTime"].as_str().unwrap().to_string();
    // the next list shows it: first (most recent), and under status filters
    let r = get(&app, "/api/incidents?$filter=status+eq+'Resolved'", &token).await;
    assert_eq!(ids(&r, "incidentId"), [json!(3), json!(2)]);
    assert_eq!(r.body["value"][0]["classification"], "TruePositive");
    let r = get(
        &app,
        &format!("/api/incidents?$filter=lastUpdateTime+ge+{updated}"),
        &token,
    )
    .await;
    assert_eq!(ids(&r, "incidentId"), [json!(3)]);
    let r = get(
        &app,
        "/api/incidents?$filter=assignedTo+eq+'secop2@contoso.com'",
        &token,
    )
    .await;
    assert_eq!(ids(&r, "incidentId"), [json!(3)]);
    // omitted fields keep their values; a comment appends
    let r = patch(&app, "/api/incidents/3", &token, r#"{"comment":"second"}"#).await;
    assert_eq!(r.body["status"], "Resolved");
    assert_eq!(r.body["comments"].as_array().unwrap().len(), 2);
    // PascalCase, camelCase and the PATCH page's spellings are all accepted
    let r = patch(&app, "/api/incidents/1", &token, r#"{"status":"inProgress","classification":"truePositive","determination":"CompromisedAccount"}"#).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "InProgress");
    assert_eq!(r.body["determination"], "CompromisedUser");
}

#[tokio::test]
async fn bad_patches() {
    let app = seeded();
    let token = app.token_with(CONTOSO, WRITE).await;
    for body in [
        r#"{"status":"Closed"}"#,
        r#"{"classification":"Maybe"}"#,
        r#"{"determination":"Aliens"}"#,
        r#"{"classification":"FalsePositive","determination":"Malware"}"#,
        r#"{"Status":"Resolved"}"#,
        r#"{"customTags":["x"]}"#,
        r#"{"tags":"x"}"#,
        r#"{"assignedTo":5}"#,
        r#"[]"#,
        "not json",
    ] {
        let r = patch(&app, "/api/incidents/1", &token, body).await;
        assert_envelope(&r, 400, "InvalidRequestBody");
    }
    // nothing of a refused PATCH is stored
    let r = get(&app, "/api/incidents/1", &token).await;
    assert_eq!(r.body["status"], "Active");
    assert_eq!(r.body["classification"], "Unknown");
    assert_envelope(
        &patch(&app, "/api/incidents/77", &token, "{}").await,
        404,
        "ResourceNotFound",
    );
    assert_envelope(
        &patch(&app, "/api/incidents/4", &token, "{}").await,
        404,
        "ResourceNotFound",
    );
    let r = call(
        &app,
        Method::DELETE,
        "/api/incidents/1",
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_envelope(&r, 405, "MethodNotAllowed");
}

#[tokio::test]
async fn simultaneous_patches_lose_no_comment() {
    let app = seeded();
    let token = app.token_with(CONTOSO, WRITE).await;
    let n = 24;
    let calls: Vec<_> = (0..n)
        .map(|k| {
            let body =
                json!({"comment": format!("c{k}"), "assignedTo": format!("u{k}@contoso.com")})
                    .to_string();
            let (app, token) = (&app, token.clone());
            Box::pin(async move { patch(app, "/api/incidents/1", &token, &body).await.status })
        })
        .collect();
    let statuses = join_all(calls).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let r = get(&app, "/api/incidents/1", &token).await;
    let comments: Vec<&str> = r.body["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["comment"].as_str().unwrap())
        .collect();
    assert_eq!(comments.len(), n);
    for k in 0..n {
        assert!(comments.contains(&format!("c{k}").as_str()), "c{k} lost");
    }
}

/// Polls `fs` together until all are done (each PATCH's store work runs on the blocking
/// pool, so they overlap).
async fn join_all<F: Future + Unpin>(mut fs: Vec<F>) -> Vec<F::Output> {
    use std::task::Poll;
    let mut done: Vec<Option<F::Output>> = fs.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for (i, f) in fs.iter_mut().enumerate() {
            if done[i].is_none() {
                match std::pin::Pin::new(f).poll(cx) {
                    Poll::Ready(v) => done[i] = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(done.iter_mut().map(|d| d.take().unwrap()).collect())
        }
    })
    .await
}

#[tokio::test]
async fn quota_429_with_retry_after() {
    let app = app_with(ServerConfig {
        incident_calls_per_minute: 3,
        incident_calls_per_hour: 100,
        ..test_config()
    });
    let token = app
        .token_with(CONTOSO, &["Incident.Read.All", "SecurityIncident.Read.All"])
        .await;
    for _ in 0..2 {
        assert_eq!(
            get(&app, "/api/incidents", &token).await.status,
            StatusCode::OK
        );
    }
    // the Graph routes count in the same quota
    assert_eq!(
        get(&app, "/v1.0/security/incidents", &token).await.status,
        StatusCode::OK
    );
    let r = get(&app, "/api/incidents", &token).await;
    assert_envelope(&r, 429, "TooManyRequests");
    let msg = r.body["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("API calls quota exceeded! maximum allowed 3 per 00:01:00."),
        "{msg}"
    );
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let r = get(&app, "/v1.0/security/incidents", &token).await;
    assert_graph_error(&r, 429, "TooManyRequests");
    assert_eq!(r.body["error"]["message"], "Too many requests.");
    assert!(r.headers.contains_key("retry-after"));
    // per tenant
    let other = app.token_with(FABRIKAM, READ).await;
    assert_eq!(
        get(&app, "/api/incidents", &other).await.status,
        StatusCode::OK
    );
    // a missing role is refused before the quota counts
    let none = app
        .token_with(FABRIKAM, &["AdvancedHunting.Read.All"])
        .await;
    for _ in 0..5 {
        assert_eq!(
            get(&app, "/api/incidents", &none).await.status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        get(&app, "/api/incidents", &other).await.status,
        StatusCode::OK
    );
}

// ---- Graph ----

#[tokio::test]
async fn graph_list_count_paging_and_expand() {
    let app = seeded();
    let token = app.token_with(CONTOSO, G_READ).await;
    let r = get(&app, "/v1.0/security/incidents?$count=true&$top=2", &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#security/incidents"
    );
    assert_eq!(r.body["@odata.count"], 4);
    assert_eq!(ids(&r, "id"), [json!("3"), json!("2")]);
    assert!(
        r.body["value"][0].get("alerts").is_none(),
        "alerts only when expanded"
    );
    assert_eq!(
        r.body["value"][0]["@odata.type"],
        "#microsoft.graph.security.incident"
    );
    assert_eq!(r.body["value"][0]["status"], "active");
    assert_eq!(r.body["value"][1]["status"], "resolved");
    // follow the next links to the end
    let mut next = r.body["@odata.nextLink"].as_str().unwrap().to_string();
    assert!(
        next.starts_with("http://localhost/v1.0/security/incidents?"),
        "{next}"
    );
    assert!(
        next.contains("%24skip=2") && next.contains("%24count=true"),
        "{next}"
    );
    let r = get(&app, next.trim_start_matches("http://localhost"), &token).await;
    assert_eq!(ids(&r, "id"), [json!("1"), json!("924565")]);
    assert!(r.body.get("@odata.nextLink").is_none(), "{}", r.text);
    next.clear();
    // default page, no count
    let r = get(&app, "/v1.0/security/incidents", &token).await;
    assert!(r.body.get("@odata.count").is_none());
    assert_eq!(ids(&r, "id").len(), 4);
    // $expand=alerts, on the list and on one
    let r = get(
        &app,
        "/v1.0/security/incidents?$expand=alerts&$filter=createdDateTime+lt+2021-01-01T00:00:00Z",
        &token,
    )
    .await;
    assert_eq!(ids(&r, "id"), [json!("924565")]);
    let alert = &r.body["value"][0]["alerts"][0];
    assert_eq!(alert["@odata.type"], "#microsoft.graph.security.alert");
    assert_eq!(alert["id"], "caD70CFEE2-1F54-32DB-9988-3A868A1EBFAC");
    assert_eq!(alert["evidence"][0]["ipAddress"], "62.216.203.204");
    let r = get(
        &app,
        "/v1.0/security/incidents/924565?$expand=alerts",
        &token,
    )
    .await;
    assert_eq!(
        r.body["alerts"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text
    );
    assert_eq!(
        r.body["incidentWebUrl"],
        format!("http://localhost/incidents/924565?tid={CONTOSO}")
    );
    let r = get(&app, "/v1.0/security/incidents/924565", &token).await;
    assert!(r.body.get("alerts").is_none());
    // filters of Graph's properties
    let cases: &[(&str, &[&str])] = &[
        ("status+eq+'active'", &["3", "1", "924565"]),
        ("status+eq+'Resolved'", &["2"]),
        ("severity+eq+'medium'", &["3", "2", "1", "924565"]),
        (
            "classification+eq+'unknown'+and+determination+eq+'unknown'",
            &["3", "2", "1", "924565"],
        ),
        ("lastUpdateDateTime+ge+2026-11-02T00:00:00Z", &["3", "2"]),
        ("assignedTo+ne+null", &[]),
    ];
    for (f, want) in cases {
        let r = get(
            &app,
            &format!("/v1.0/security/incidents?$filter={f}"),
            &token,
        )
        .await;
        let want: Vec<Value> = want.iter().map(|i| json!(i)).collect();
        assert_eq!(ids(&r, "id"), want, "{f}: {}", r.text);
    }
}

#[tokio::test]
async fn graph_errors() {
    let app = seeded();
    let token = app.token_with(CONTOSO, G_WRITE).await;
    let r = get(&app, "/v1.0/security/incidents?$top=1000", &token).await;
    assert_graph_error(&r, 400, "BadRequest");
    assert_eq!(
        r.body["error"]["message"],
        "The query specified in the URI is not valid. The limit of '50' for Top query has been exceeded. The value from the incoming request is '1000'."
    );
    for q in [
        "$filter=status+eq+'Closed'",
        "$filter=lastUpdateTime+ge+2020-01-01T00:00:00Z",
        "$filter=severity+gt+'loud'",
        "$expand=evidence",
        "$count=maybe",
        "$skip=-3",
    ] {
        let r = get(&app, &format!("/v1.0/security/incidents?{q}"), &token).await;
        assert_graph_error(&r, 400, "BadRequest");
    }
    assert_graph_error(
        &get(&app, "/v1.0/security/incidents/1?$top=1", &token).await,
        400,
        "BadRequest",
    );
    assert_graph_error(
        &get(&app, "/v1.0/security/incidents/99", &token).await,
        404,
        "NotFound",
    );
    assert_graph_error(
        &get(&app, "/v1.0/security/incidents/4", &token).await,
        404,
        "NotFound",
    );
    for body in [
        r#"{"status":"Closed"}"#,
        r#"{"tags":["x"]}"#,
        r#"{"status":"unknownFutureValue"}"#,
        "x",
    ] {
        let r = patch(&app, "/v1.0/security/incidents/1", &token, body).await;
        assert_graph_error(&r, 400, "BadRequest");
    }
    assert_graph_error(
        &patch(&app, "/v1.0/security/incidents/99", &token, "{}").await,
        404,
        "NotFound",
    );
}

#[tokio::test]
async fn graph_patch_then_list_and_comment() {
    let app = seeded();
    let token = app.token_with(CONTOSO, G_WRITE).await;
    let r = patch(
        &app,
        "/v1.0/security/incidents/1",
        &token,
        &example("graph-incident-patch.json").to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["classification"], "truePositive");
    assert_eq!(r.body["determination"], "multiStagedAttack");
    assert_eq!(r.body["customTags"], json!(["Demo"]));
    let r = patch(
        &app,
        "/v1.0/security/incidents/1",
        &token,
        r#"{"status":"resolved","assignedTo":"KaiC@contoso.onmicrosoft.com"}"#,
    )
    .await;
    assert_eq!(r.body["status"], "resolved");
    let r = get(
        &app,
        "/v1.0/security/incidents?$filter=status+eq+'resolved'",
        &token,
    )
    .await;
    assert_eq!(ids(&r, "id"), [json!("1"), json!("2")]);
    assert_eq!(
        r.body["value"][0]["assignedTo"],
        "KaiC@contoso.onmicrosoft.com"
    );
    // and the Defender route sees the same change
    let d = app.token_with(CONTOSO, READ).await;
    let r = get(&app, "/api/incidents/1", &d).await;
    assert_eq!(r.body["status"], "Resolved");
    assert_eq!(r.body["classification"], "TruePositive");
    assert_eq!(r.body["determination"], "MultiStagedAttack");
    // comments: POST returns them all
    let body =
        r#"{"@odata.type": "microsoft.graph.security.alertComment", "comment": "Demo for docs"}"#;
    let r = call(
        &app,
        Method::POST,
        "/v1.0/security/incidents/924565/comments",
        Some(&token),
        Some(body),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let comments = r.body["value"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0]["comment"], "test comment for docs");
    assert_eq!(comments[1]["comment"], "Demo for docs");
    assert!(comments[1]["createdDateTime"].is_string());
    let r = call(
        &app,
        Method::POST,
        "/v1.0/security/incidents/924565/comments",
        Some(&token),
        Some(r#"{"comment":""}"#),
        &[],
    )
    .await;
    assert_graph_error(&r, 400, "BadRequest");
}

#[tokio::test]
async fn evolvable_members_only_when_asked() {
    let app = seeded();
    let mut i = incident(
        CONTOSO,
        9,
        "2026-11-09T00:00:00Z",
        IncidentStatus::AwaitingAction,
    );
    i.severity = Severity::High;
    app.state.incidents.store.put_incident(&i).unwrap();
    let token = app.token_with(CONTOSO, G_READ).await;
    let r = get(&app, "/v1.0/security/incidents/9", &token).await;
    assert_eq!(r.body["status"], "unknownFutureValue");
    let r = call(
        &app,
        Method::GET,
        "/v1.0/security/incidents/9",
        Some(&token),
        None,
        &[("prefer", "include-unknown-enum-members")],
    )
    .await;
    assert_eq!(r.body["status"], "awaitingAction");
}

fn device(id: &str) -> Evidence {
    let mut e = Evidence::new(EvidenceKind::Device);
    e.props.insert("mdeDeviceId".into(), json!(id));
    e
}

fn user(upn: &str) -> Evidence {
    let mut e = Evidence::new(EvidenceKind::User);
    e.props
        .insert("userAccount".into(), json!({"userPrincipalName": upn}));
    e
}

/// Two correlated alerts (shared user) and one on another device: incidents for both.
fn with_alerts() -> (TestApp, i64, i64) {
    let app = app_with(config());
    let store = &app.state.incidents.store;
    let cfg = app.state.incidents.correlation;
    let now = Time::now();
    let mut ids = Vec::new();
    for (id, sev, ev) in [
        (
            "da1",
            Severity::Low,
            vec![device("d1"), user("alice@contoso.com")],
        ),
        (
            "da2",
            Severity::High,
            vec![device("d2"), user("alice@contoso.com")],
        ),
        ("da3", Severity::Medium, vec![device("d3")]),
    ] {
        let mut a = Alert::new(id, CONTOSO, &format!("Alert {id}"), sev, now);
        a.evidence = ev;
        match store.add_alert(CONTOSO, a, &cfg, now).unwrap() {
            AlertOutcome::Stored { incident_id, .. } => ids.push(incident_id),
            o => panic!("{o:?}"),
        }
    }
    assert_eq!(ids[0], ids[1]);
    assert_ne!(ids[0], ids[2]);
    (app, ids[0], ids[2])
}

#[tokio::test]
async fn alerts_v2_routes() {
    let (app, i1, _) = with_alerts();
    let token = app.token_with(CONTOSO, A_WRITE).await;
    let r = get(&app, "/v1.0/security/alerts_v2?$count=true", &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["@odata.count"], 3);
    assert_eq!(
        r.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#security/alerts_v2"
    );
    let r = get(&app, "/v1.0/security/alerts_V2?$top=1&$skip=1", &token).await;
    assert_eq!(
        r.body["value"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text
    );
    assert!(
        r.body["@odata.nextLink"]
            .as_str()
            .unwrap()
            .contains("%24skip=2")
    );
    let r = get(&app, "/v1.0/security/alerts_v2?$filter=severity+ge+'medium'+and+serviceSource+eq+'microsoft365Defender'", &token).await;
    let mut got: Vec<String> = ids(&r, "id")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, ["da2", "da3"]);
    let r = get(&app, "/v1.0/security/alerts_v2/da1", &token).await;
    assert_eq!(r.body["incidentId"], i1.to_string());
    assert_eq!(
        r.body["evidence"][1]["@odata.type"],
        "#microsoft.graph.security.userEvidence"
    );
    assert_eq!(r.body["detectionSource"], "customDetection");
    // the documented PATCH body
    let r = patch(
        &app,
        "/v1.0/security/alerts_v2/da1",
        &token,
        &example("graph-alert-patch.json").to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "inProgress");
    assert_eq!(r.body["classification"], "truePositive");
    assert_eq!(r.body["determination"], "malware");
    assert_eq!(r.body["assignedTo"], "secAdmin@contoso.onmicrosoft.com");
    let r = get(
        &app,
        "/v1.0/security/alerts_v2?$filter=status+eq+'inProgress'",
        &token,
    )
    .await;
    assert_eq!(ids(&r, "id"), [json!("da1")]);
    assert_graph_error(
        &patch(
            &app,
            "/v1.0/security/alerts_v2/da1",
            &token,
            r#"{"status":"sleeping"}"#,
        )
        .await,
        400,
        "BadRequest",
    );
    assert_graph_error(
        &patch(
            &app,
            "/v1.0/security/alerts_v2/da1",
            &token,
            r#"{"severity":"high"}"#,
        )
        .await,
        400,
        "BadRequest",
    );
    assert_graph_error(
        &patch(&app, "/v1.0/security/alerts_v2/nope", &token, "{}").await,
        404,
        "NotFound",
    );
    assert_graph_error(
        &get(&app, "/v1.0/security/alerts_v2/nope", &token).await,
        404,
        "NotFound",
    );
    assert_graph_error(
        &get(&app, "/v1.0/security/alerts_v2?$expand=alerts", &token).await,
        400,
        "BadRequest",
    );
    // another tenant sees none of them
    let other = app.token_with(FABRIKAM, A_READ).await;
    assert_eq!(
        ids(&get(&app, "/v1.0/security/alerts_v2", &other).await, "id"),
        Vec::<Value>::new()
    );
    assert_graph_error(
        &get(&app, "/v1.0/security/alerts_v2/da1", &other).await,
        404,
        "NotFound",
    );
    // comments
    let r = call(
        &app,
        Method::POST,
        "/v1.0/security/alerts_v2/da3/comments",
        Some(&token),
        Some(r#"{"comment":"looked at it"}"#),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["value"][0]["comment"], "looked at it");
}

#[tokio::test]
async fn resolving_every_alert_resolves_the_incident() {
    let (app, i1, _) = with_alerts();
    let token = app.token_with(CONTOSO, A_WRITE).await;
    let d = app.token_with(CONTOSO, READ).await;
    let r = get(&app, &format!("/api/incidents/{i1}"), &d).await;
    assert_eq!(r.body["severity"], "High", "the highest of its alerts");
    assert_eq!(r.body["status"], "Active");
    assert_eq!(r.body["alerts"].as_array().map(Vec::len), Some(2));
    for a in ["da1", "da2"] {
        let r = patch(
            &app,
            &format!("/v1.0/security/alerts_v2/{a}"),
            &token,
            r#"{"status":"resolved"}"#,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(r.body["resolvedDateTime"].is_string());
    }
    let r = get(&app, &format!("/api/incidents/{i1}"), &d).await;
    assert_eq!(r.body["status"], "Resolved");
}

#[tokio::test]
async fn resolving_an_incident_resolves_its_alerts() {
    let (app, i1, i2) = with_alerts();
    let alerts = app.token_with(CONTOSO, A_WRITE).await;
    let d = app.token_with(CONTOSO, WRITE).await;
    let g = app.token_with(CONTOSO, G_WRITE).await;
    // da1 is resolved on its own first; da2 is left in progress
    let r = patch(
        &app,
        "/v1.0/security/alerts_v2/da1",
        &alerts,
        r#"{"status":"resolved"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let da1_updated = r.body["lastUpdateDateTime"].clone();
    let da1_resolved = r.body["resolvedDateTime"].clone();
    assert!(da1_resolved.is_string(), "{}", r.text);
    let r = patch(
        &app,
        "/v1.0/security/alerts_v2/da2",
        &alerts,
        r#"{"status":"inProgress"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    std::thread::sleep(std::time::Duration::from_millis(5));

    // Defender: PATCH the incident to Resolved
    let r = patch(
        &app,
        &format!("/api/incidents/{i1}"),
        &d,
        r#"{"status":"Resolved"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "Resolved");
    let when = r.body["lastUpdateTime"].clone();
    let check_defender = |body: &Value| {
        let list = body["alerts"].as_array().unwrap();
        assert_eq!(list.len(), 2, "{body}");
        for a in list {
            assert_eq!(a["status"], "Resolved", "{a}");
            if a["alertId"] == "da1" {
                assert_eq!(a["lastUpdatedTime"], da1_updated, "{a}");
                assert_eq!(a["resolvedTime"], da1_resolved, "{a}");
            } else {
                assert_eq!(a["lastUpdatedTime"], when, "{a}");
                assert_eq!(a["resolvedTime"], when, "{a}");
            }
        }
    };
    check_defender(&r.body);
    let r = get(&app, &format!("/api/incidents/{i1}"), &d).await;
    check_defender(&r.body);
    // Graph alerts_v2 sees them resolved too
    let r = get(&app, "/v1.0/security/alerts_v2/da2", &alerts).await;
    assert_eq!(r.body["status"], "resolved", "{}", r.text);
    assert!(r.body["resolvedDateTime"].is_string(), "{}", r.text);
    assert_eq!(r.body["resolvedDateTime"], r.body["lastUpdateDateTime"]);
    assert_ne!(r.body["lastUpdateDateTime"], da1_updated);
    let r = get(&app, "/v1.0/security/alerts_v2/da1", &alerts).await;
    assert_eq!(r.body["status"], "resolved", "{}", r.text);
    assert_eq!(r.body["lastUpdateDateTime"], da1_updated, "kept");
    assert_eq!(r.body["resolvedDateTime"], da1_resolved, "kept");

    // Graph: PATCH the other incident to resolved
    let r = patch(
        &app,
        &format!("/v1.0/security/incidents/{i2}"),
        &g,
        r#"{"status":"resolved"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let when = r.body["lastUpdateDateTime"].clone();
    let r = get(&app, "/v1.0/security/alerts_v2/da3", &alerts).await;
    assert_eq!(r.body["status"], "resolved", "{}", r.text);
    assert_eq!(r.body["lastUpdateDateTime"], when, "{}", r.text);
    assert_eq!(r.body["resolvedDateTime"], when, "{}", r.text);
    let r = get(
        &app,
        &format!("/v1.0/security/incidents/{i2}?$expand=alerts"),
        &g,
    )
    .await;
    assert_eq!(r.body["alerts"][0]["status"], "resolved", "{}", r.text);

    // reopening leaves the alerts alone
    let r = patch(
        &app,
        &format!("/api/incidents/{i1}"),
        &d,
        r#"{"status":"Active"}"#,
    )
    .await;
    assert_eq!(r.body["status"], "Active", "{}", r.text);
    for a in r.body["alerts"].as_array().unwrap() {
        assert_eq!(a["status"], "Resolved", "{a}");
    }
}

#[tokio::test]
async fn grouping_explains_the_incident() {
    let (app, i1, i2) = with_alerts();
    let token = app.token_with(CONTOSO, READ).await;
    let r = get(&app, &format!("/api/incidents/{i1}/grouping"), &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["alertIds"], json!(["da1", "da2"]));
    let reasons = r.body["reasons"].as_array().unwrap();
    assert_eq!(reasons[0]["kind"], "created");
    assert_eq!(reasons[1]["kind"], "joined");
    assert_eq!(reasons[1]["entity"], "user:alice");
    assert_eq!(reasons[1]["relatedAlertId"], "da1");
    assert!(
        reasons[1]["explanation"]
            .as_str()
            .unwrap()
            .contains("shares user:alice with alert da1")
    );
    let r = get(&app, &format!("/api/incidents/{i2}/grouping"), &token).await;
    assert_eq!(r.body["reasons"][0]["kind"], "created");
    let other = app.token_with(FABRIKAM, READ).await;
    assert_envelope(
        &get(&app, &format!("/api/incidents/{i1}/grouping"), &other).await,
        404,
        "ResourceNotFound",
    );
}
