//! The Incidents API: Defender XDR's `/api/incidents` and Graph's `security/incidents` and
//! `security/alerts_v2`, over the incident store (`peregrine_incidents`).
//!
//! | route | roles (any of) | answer |
//! | --- | --- | --- |
//! | `GET /api/incidents` | `Incident.Read.All`, `Incident.ReadWrite.All` (+ delegated `Incident.Read[Write]`) | `{"@odata.context","value":[incident with alerts]}`; `$filter`, `$top` (≤ 100), `$skip` |
//! | `GET /api/incidents/{id}` | the same | the incident |
//! | `PATCH /api/incidents/{id}` | `Incident.ReadWrite.All` | the updated incident |
//! | `GET /api/incidents/{id}/grouping` | the read roles | why its alerts are grouped (Peregrine's own) |
//! | `GET /v1.0/security/incidents` | `SecurityIncident.Read.All`, `SecurityIncident.ReadWrite.All` | `{"@odata.context","@odata.count"?,"@odata.nextLink"?,"value"}`; `$filter`, `$top` (≤ 50), `$skip`, `$count`, `$expand=alerts` |
//! | `GET /v1.0/security/incidents/{id}` | the same | the incident (`$expand=alerts`) |
//! | `PATCH /v1.0/security/incidents/{id}` | `SecurityIncident.ReadWrite.All` | the updated incident |
//! | `POST /v1.0/security/incidents/{id}/comments` | `SecurityIncident.ReadWrite.All` | all its comments |
//! | `GET /v1.0/security/alerts_v2` | `SecurityAlert.Read.All`, `SecurityAlert.ReadWrite.All` | as incidents; `$top` ≤ 2000, no `$expand` |
//! | `GET /v1.0/security/alerts_v2/{id}` | the same | the alert |
//! | `PATCH /v1.0/security/alerts_v2/{id}` | `SecurityAlert.ReadWrite.All` | the updated alert |
//! | `POST /v1.0/security/alerts_v2/{id}/comments` | `SecurityAlert.ReadWrite.All` | all its comments |
//!
//! A call is checked in this order: token (401), role (403), quota (429: 50 calls a minute
//! and 1,500 an hour per tenant by default, shared by all these routes), query options
//! (400 `ODataError` on the Defender routes, `BadRequest` on Graph's), then the item (404
//! `ResourceNotFound` / `NotFound`) and the body (400 `InvalidRequestBody` / `BadRequest`).
//! The tenant is the token's `tid`: an id of another tenant's incident is unknown (404).
//! Store calls run on the blocking pool. Portal links (`incidentUri`, `incidentWebUrl`,
//! `alertWebUrl`) point at this server's base URL.

use crate::AppState;
use crate::auth::{Principal, base_url};
use crate::error::{ApiError, Body, ErrorCode};
use crate::quota::Quota;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use peregrine_incidents::odata::{Api, ListOptions, parse_options};
use peregrine_incidents::patch::{AlertPatch, IncidentPatch, Shape};
use peregrine_incidents::{
    CorrelationConfig, Incident, IncidentStore, SqliteStore, StoreError, Time, View, graph, legacy,
};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const READ: &[&str] = &[
    "Incident.Read.All",
    "Incident.ReadWrite.All",
    "Incident.Read",
    "Incident.ReadWrite",
];
const WRITE: &[&str] = &["Incident.ReadWrite.All", "Incident.ReadWrite"];
const GRAPH_INCIDENT_READ: &[&str] = &[
    "SecurityIncident.Read.All",
    "SecurityIncident.ReadWrite.All",
];
const GRAPH_INCIDENT_WRITE: &[&str] = &["SecurityIncident.ReadWrite.All"];
const GRAPH_ALERT_READ: &[&str] = &["SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"];
const GRAPH_ALERT_WRITE: &[&str] = &["SecurityAlert.ReadWrite.All"];

const DEFENDER_CONTEXT: &str = "https://api.security.microsoft.com/api/$metadata#Incidents";
const GRAPH_INCIDENTS_CONTEXT: &str =
    "https://graph.microsoft.com/v1.0/$metadata#security/incidents";
const GRAPH_ALERTS_CONTEXT: &str = "https://graph.microsoft.com/v1.0/$metadata#security/alerts_v2";

/// The incident store and the Incidents API's own settings.
pub struct Incidents {
    pub store: Arc<dyn IncidentStore>,
    pub quota: Arc<dyn Quota>,
    pub correlation: CorrelationConfig,
}

impl Incidents {
    /// The SQLite store of data directory `data`, with the quota and correlation settings
    /// of `config`.
    pub fn open(data: &std::path::Path, config: &crate::ServerConfig) -> Result<Incidents, String> {
        let store = SqliteStore::open_in(data).map_err(|e| e.to_string())?;
        Ok(Incidents {
            store: Arc::new(store),
            quota: Arc::new(crate::quota::SlidingWindows::new(&[
                (config.incident_calls_per_minute, Duration::from_secs(60)),
                (config.incident_calls_per_hour, Duration::from_secs(3600)),
            ])),
            correlation: CorrelationConfig {
                window_secs: config.correlation_window_secs,
            },
        })
    }
}

/// Which API a route belongs to: its error codes and quota message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Defender,
    Graph,
}

impl Flavor {
    fn bad_request(self, message: impl Into<String>) -> ApiError {
        ApiError::new(
            match self {
                Flavor::Defender => ErrorCode::InvalidRequestBody,
                Flavor::Graph => ErrorCode::BadRequest,
            },
            message,
        )
    }

    fn odata(self, message: impl Into<String>) -> ApiError {
        ApiError::new(
            match self {
                Flavor::Defender => ErrorCode::ODataError,
                Flavor::Graph => ErrorCode::BadRequest,
            },
            message,
        )
    }

    fn not_found(self, what: &str, id: &str) -> ApiError {
        ApiError::new(
            match self {
                Flavor::Defender => ErrorCode::ResourceNotFound,
                Flavor::Graph => ErrorCode::NotFound,
            },
            format!("{what} {id} was not found"),
        )
    }

    fn store(self, e: StoreError) -> ApiError {
        match e {
            StoreError::Invalid(m) => self.bad_request(m),
            StoreError::Contended => ApiError::new(
                ErrorCode::ServiceUnavailable,
                "The item is being changed by other requests; try again.",
            )
            .with_retry_after(1),
            StoreError::Internal(m) => ApiError::internal(m),
        }
    }
}

/// Role, then quota.
fn admit(
    state: &AppState,
    principal: &Principal,
    roles: &[&str],
    flavor: Flavor,
) -> Result<(), ApiError> {
    principal.require(roles)?;
    state
        .incidents
        .quota
        .admit(&principal.tenant, Instant::now())
        .map_err(|r| {
            let message = match flavor {
                Flavor::Defender => r.message(),
                Flavor::Graph => "Too many requests.".to_string(),
            };
            ApiError::new(ErrorCode::TooManyRequests, message)
                .with_retry_after(r.retry_after_secs())
        })
}

/// Runs a store call on the blocking pool.
pub(crate) async fn blocking<T, F>(state: &AppState, flavor: Flavor, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&dyn IncidentStore) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let store = Arc::clone(&state.incidents.store);
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(|e| ApiError::internal(format!("incident store task: {e}")))?
        .map_err(|e| flavor.store(e))
}

/// The decoded query pairs.
fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn options(query: Option<&str>, api: Api, flavor: Flavor) -> Result<ListOptions, ApiError> {
    parse_options(&pairs(query), api).map_err(|e| flavor.odata(e.0))
}

fn view<'a>(base: &'a str, headers: &HeaderMap) -> View<'a> {
    let include = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| {
            p.trim()
                .eq_ignore_ascii_case("include-unknown-enum-members")
        });
    View {
        portal: Some(base),
        include_unknown_enum_members: include,
    }
}

/// A numeric incident id; anything else names no incident.
fn incident_id(id: &str, flavor: Flavor) -> Result<i64, ApiError> {
    id.parse::<i64>()
        .map_err(|_| flavor.not_found("Incident", id))
}

/// Who a comment is from: the calling app.
fn caller(principal: &Principal) -> String {
    principal.app_id.clone()
}

// ---- Defender XDR ----

/// `GET /api/incidents`.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    admit(&state, &principal, READ, Flavor::Defender)?;
    let opts = options(query.as_deref(), Api::DefenderIncidents, Flavor::Defender)?;
    let tenant = principal.tenant.clone();
    let page = blocking(&state, Flavor::Defender, move |s| {
        s.list_incidents(&tenant, &opts)
    })
    .await?;
    let base = base_url(&state, &headers);
    let v = view(&base, &headers);
    let value: Vec<Value> = page
        .items
        .iter()
        .map(|i| legacy::incident_to_json(i, &v))
        .collect();
    Ok(axum::Json(json!({"@odata.context": DEFENDER_CONTEXT, "value": value})).into_response())
}

/// `GET /api/incidents/{id}`.
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admit(&state, &principal, READ, Flavor::Defender)?;
    let incident = fetch_incident(&state, &principal, &id, true, Flavor::Defender).await?;
    let base = base_url(&state, &headers);
    Ok(axum::Json(legacy::incident_to_json(&incident, &view(&base, &headers))).into_response())
}

/// `GET /api/incidents/{id}/grouping`: why the incident's alerts are grouped.
pub async fn grouping(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admit(&state, &principal, READ, Flavor::Defender)?;
    let incident = fetch_incident(&state, &principal, &id, true, Flavor::Defender).await?;
    let reasons: Vec<Value> = incident
        .grouping
        .iter()
        .map(|g| {
            json!({
                "alertId": g.alert_id,
                "kind": g.kind,
                "entity": g.entity,
                "relatedAlertId": g.related_alert_id,
                "mergedIncidentId": g.merged_incident_id,
                "time": g.time.to_string(),
                "explanation": g.explanation,
            })
        })
        .collect();
    Ok(axum::Json(json!({
        "incidentId": incident.id,
        "redirectIncidentId": incident.redirect_incident_id,
        "alertIds": incident.alerts.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
        "reasons": reasons,
    }))
    .into_response())
}

/// `PATCH /api/incidents/{id}`.
pub async fn patch(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    admit(&state, &principal, WRITE, Flavor::Defender)?;
    let incident = update_incident(&state, &principal, &id, &body, Shape::Defender).await?;
    let base = base_url(&state, &headers);
    Ok(axum::Json(legacy::incident_to_json(&incident, &view(&base, &headers))).into_response())
}

async fn fetch_incident(
    state: &AppState,
    principal: &Principal,
    id: &str,
    with_alerts: bool,
    flavor: Flavor,
) -> Result<Incident, ApiError> {
    let n = incident_id(id, flavor)?;
    let tenant = principal.tenant.clone();
    blocking(state, flavor, move |s| {
        s.get_incident(&tenant, n, with_alerts)
    })
    .await?
    .ok_or_else(|| flavor.not_found("Incident", id))
}

async fn update_incident(
    state: &AppState,
    principal: &Principal,
    id: &str,
    body: &[u8],
    shape: Shape,
) -> Result<Incident, ApiError> {
    let flavor = match shape {
        Shape::Defender => Flavor::Defender,
        Shape::Graph => Flavor::Graph,
    };
    let n = incident_id(id, flavor)?;
    let patch = IncidentPatch::parse(body, shape).map_err(|m| flavor.bad_request(m))?;
    let tenant = principal.tenant.clone();
    let who = caller(principal);
    let updated = blocking(state, flavor, move |s| {
        let apply = |i: &mut Incident| patch.apply(i, &who, Time::now());
        s.update_incident(&tenant, n, &apply)
    })
    .await?
    .ok_or_else(|| flavor.not_found("Incident", id))?;
    tracing::info!(tenant = %principal.tenant, app = %principal.app_id, incident = n, "incident updated");
    Ok(updated)
}

// ---- Graph ----

/// `{"@odata.context","@odata.count"?,"@odata.nextLink"?,"value"}`.
fn graph_page(
    context: &str,
    path: &str,
    base: &str,
    query: Option<&str>,
    opts: &ListOptions,
    total: u64,
    value: Vec<Value>,
) -> Value {
    let mut m = Map::new();
    m.insert("@odata.context".into(), json!(context));
    if opts.count {
        m.insert("@odata.count".into(), json!(total));
    }
    let next = opts.skip.saturating_add(opts.top);
    if opts.top > 0 && next < total {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs(query) {
            if !k.eq_ignore_ascii_case("$skip") && !k.eq_ignore_ascii_case("$top") {
                q.append_pair(&k, &v);
            }
        }
        q.append_pair("$top", &opts.top.to_string());
        q.append_pair("$skip", &next.to_string());
        m.insert(
            "@odata.nextLink".into(),
            json!(format!("{base}{path}?{}", q.finish())),
        );
    }
    m.insert("value".into(), Value::Array(value));
    Value::Object(m)
}

/// `GET /v1.0/security/incidents`.
pub async fn graph_list(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    admit(&state, &principal, GRAPH_INCIDENT_READ, Flavor::Graph)?;
    let opts = options(query.as_deref(), Api::GraphIncidents, Flavor::Graph)?;
    let tenant = principal.tenant.clone();
    let o = opts.clone();
    let page = blocking(&state, Flavor::Graph, move |s| {
        s.list_incidents(&tenant, &o)
    })
    .await?;
    let base = base_url(&state, &headers);
    let v = view(&base, &headers);
    let value = page
        .items
        .iter()
        .map(|i| graph::incident_to_json(i, &v, opts.expand_alerts))
        .collect();
    Ok(axum::Json(graph_page(
        GRAPH_INCIDENTS_CONTEXT,
        "/v1.0/security/incidents",
        &base,
        query.as_deref(),
        &opts,
        page.total,
        value,
    ))
    .into_response())
}

/// Only `$expand=alerts` is accepted on a single incident.
fn expand_alerts(query: Option<&str>) -> Result<bool, ApiError> {
    let mut expand = false;
    for (k, v) in pairs(query) {
        if !k.starts_with('$') {
            continue;
        }
        if k.eq_ignore_ascii_case("$expand") && v.trim().eq_ignore_ascii_case("alerts") {
            expand = true;
        } else {
            return Err(Flavor::Graph.odata(format!(
                "the query option '{k}={v}' is not supported here (only $expand=alerts)"
            )));
        }
    }
    Ok(expand)
}

/// `GET /v1.0/security/incidents/{id}`.
pub async fn graph_get(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    admit(&state, &principal, GRAPH_INCIDENT_READ, Flavor::Graph)?;
    let expand = expand_alerts(query.as_deref())?;
    let incident = fetch_incident(&state, &principal, &id, expand, Flavor::Graph).await?;
    let base = base_url(&state, &headers);
    Ok(axum::Json(graph::incident_to_json(
        &incident,
        &view(&base, &headers),
        expand,
    ))
    .into_response())
}

/// `PATCH /v1.0/security/incidents/{id}`.
pub async fn graph_patch(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    admit(&state, &principal, GRAPH_INCIDENT_WRITE, Flavor::Graph)?;
    let incident = update_incident(&state, &principal, &id, &body, Shape::Graph).await?;
    let base = base_url(&state, &headers);
    Ok(axum::Json(graph::incident_to_json(
        &incident,
        &view(&base, &headers),
        false,
    ))
    .into_response())
}

/// The `comment` of a comment POST body.
fn comment_body(body: &[u8]) -> Result<String, ApiError> {
    let bad = |m: &str| Flavor::Graph.bad_request(m);
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) else {
        return Err(bad("the body must be a JSON object with a 'comment'"));
    };
    for k in m.keys() {
        if k != "comment" && !k.starts_with("@odata.") {
            return Err(bad(&format!("'{k}' is not a property of a comment")));
        }
    }
    match m.get("comment") {
        Some(Value::String(c)) if !c.trim().is_empty() => Ok(c.clone()),
        _ => Err(bad("'comment' must be a non-empty string")),
    }
}

fn comments_json(context: String, comments: &[peregrine_incidents::Comment]) -> Value {
    let value: Vec<Value> = comments
        .iter()
        .map(|c| {
            json!({
                "comment": c.comment,
                "createdByDisplayName": c.created_by,
                "createdDateTime": c.created_time.map(|t| t.to_string()),
            })
        })
        .collect();
    json!({"@odata.context": context, "value": value})
}

/// `POST /v1.0/security/incidents/{id}/comments`.
pub async fn graph_incident_comment(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    admit(&state, &principal, GRAPH_INCIDENT_WRITE, Flavor::Graph)?;
    let n = incident_id(&id, Flavor::Graph)?;
    let comment = comment_body(&body)?;
    let (tenant, who) = (principal.tenant.clone(), caller(&principal));
    let incident = blocking(&state, Flavor::Graph, move |s| {
        let apply = |i: &mut Incident| {
            i.comments.push(peregrine_incidents::Comment {
                comment: comment.clone(),
                created_by: Some(who.clone()),
                created_time: Some(Time::now()),
            });
            i.last_update = Time::now();
            Ok(())
        };
        s.update_incident(&tenant, n, &apply)
    })
    .await?
    .ok_or_else(|| Flavor::Graph.not_found("Incident", &id))?;
    let context =
        format!("https://graph.microsoft.com/v1.0/$metadata#security/incidents('{n}')/comments");
    Ok(axum::Json(comments_json(context, &incident.comments)).into_response())
}

/// `GET /v1.0/security/alerts_v2`.
pub async fn graph_alerts(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    admit(&state, &principal, GRAPH_ALERT_READ, Flavor::Graph)?;
    let opts = options(query.as_deref(), Api::GraphAlerts, Flavor::Graph)?;
    let tenant = principal.tenant.clone();
    let o = opts.clone();
    let page = blocking(&state, Flavor::Graph, move |s| s.list_alerts(&tenant, &o)).await?;
    let base = base_url(&state, &headers);
    let v = view(&base, &headers);
    let value = page
        .items
        .iter()
        .map(|a| graph::alert_to_json(a, &v, None))
        .collect();
    Ok(axum::Json(graph_page(
        GRAPH_ALERTS_CONTEXT,
        "/v1.0/security/alerts_v2",
        &base,
        query.as_deref(),
        &opts,
        page.total,
        value,
    ))
    .into_response())
}

/// `GET /v1.0/security/alerts_v2/{id}`.
pub async fn graph_alert(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admit(&state, &principal, GRAPH_ALERT_READ, Flavor::Graph)?;
    let tenant = principal.tenant.clone();
    let key = id.clone();
    let alert = blocking(&state, Flavor::Graph, move |s| s.get_alert(&tenant, &key))
        .await?
        .ok_or_else(|| Flavor::Graph.not_found("Alert", &id))?;
    let base = base_url(&state, &headers);
    Ok(axum::Json(graph::alert_to_json(&alert, &view(&base, &headers), None)).into_response())
}

async fn update_alert(
    state: &AppState,
    principal: &Principal,
    id: &str,
    patch: AlertPatch,
) -> Result<peregrine_incidents::Alert, ApiError> {
    let (tenant, who, key) = (principal.tenant.clone(), caller(principal), id.to_string());
    blocking(state, Flavor::Graph, move |s| {
        let apply = |a: &mut peregrine_incidents::Alert| patch.apply(a, &who, Time::now());
        s.update_alert(&tenant, &key, &apply, Time::now())
    })
    .await?
    .ok_or_else(|| Flavor::Graph.not_found("Alert", id))
}

/// `PATCH /v1.0/security/alerts_v2/{id}`.
pub async fn graph_alert_patch(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    admit(&state, &principal, GRAPH_ALERT_WRITE, Flavor::Graph)?;
    let patch = AlertPatch::parse(&body).map_err(|m| Flavor::Graph.bad_request(m))?;
    let alert = update_alert(&state, &principal, &id, patch).await?;
    let base = base_url(&state, &headers);
    Ok(axum::Json(graph::alert_to_json(&alert, &view(&base, &headers), None)).into_response())
}

/// `POST /v1.0/security/alerts_v2/{id}/comments`.
pub async fn graph_alert_comment(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    admit(&state, &principal, GRAPH_ALERT_WRITE, Flavor::Graph)?;
    let patch = AlertPatch {
        comment: Some(comment_body(&body)?),
        ..AlertPatch::default()
    };
    let alert = update_alert(&state, &principal, &id, patch).await?;
    let context =
        format!("https://graph.microsoft.com/v1.0/$metadata#security/alerts_v2('{id}')/comments");
    Ok(axum::Json(comments_json(context, &alert.comments)).into_response())
}
