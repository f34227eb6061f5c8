//! Advanced hunting: one engine behind three wire shapes.
//!
//! | route | role | body | answer |
//! | --- | --- | --- | --- |
//! | `POST /api/advancedhunting/run` | `AdvancedHunting.Read.All` | `{"Query"}` | `{"Stats","Schema":[{"Name","Type"}],"Results"}` |
//! | `POST /api/advancedqueries/run` | `AdvancedQuery.Read.All` | `{"Query"}` | the same |
//! | `POST /v1.0/security/runHuntingQuery` | `ThreatHunting.Read.All` | `{"Query","Timespan"?}` | `{"@odata.context","schema":[{"name","type"}],"results"}` |
//!
//! The tenant is the token's `tid`. A call is checked in this order: token (401), role
//! (403), the tenant's execution-time budgets (429, nothing counted), its call quota (429),
//! body (400), then the query runs on the query runtime (never on the HTTP threads) under
//! the timeout; a timed-out query is cancelled (its task and plan are dropped). The
//! query's wall-clock execution time (from the moment a query thread starts it until it
//! ends, fails, times out or its request goes away) is charged to the tenant's budgets
//! ([`crate::quota::TimeQuota`]). The answer is serialised within `max_result_bytes`
//! (else 400). `Type` is the .NET name of the column's KQL type; cells are rendered by
//! `kql_engine::format::cell_json`.
//!
//! `Stats` (legacy shape only) reports what the engine measured ([`kql_engine::QueryStats`]):
//!
//! | field | value |
//! | --- | --- |
//! | `ExecutionTime` | seconds of wall-clock execution (the time charged to the budgets) |
//! | `resource_usage.cpu.user`, `."total cpu"` | operators' busy time over all threads (.NET `hh:mm:ss.fffffff`); `kernel` is `00:00:00` (not measured apart) |
//! | `resource_usage.memory.peak_per_node` | peak accounted memory, bytes |
//! | `resource_usage.cache.{memory,disk}.{hits,misses,total}` | 0: Peregrine keeps no query cache |
//! | `input_dataset_statistics.rows.scanned`, `.bytes.scanned` | rows and Parquet bytes the scans read (Peregrine's addition, after Kusto's `input_dataset_statistics`) |
//! | `dataset_statistics[0].table_row_count`, `.table_size` | the result's rows and Arrow bytes |

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Body, ErrorCode};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use kql_engine::{AbortOnDrop, QueryOptions, QueryResult};
use kql_syntax::{Diagnostic, ErrorClass};
use serde_json::{Map, Value, json};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A query's result and what it cost.
struct Hunted {
    result: QueryResult,
    /// Wall-clock execution time on the query runtime (what the budgets were charged).
    elapsed: Duration,
}

/// Charges a query's execution time to its tenant's budgets when dropped: the measured
/// time once it is known, else (a timeout, a request gone away) the time since a query
/// thread started it; nothing when it never started.
struct Charge {
    quota: Arc<dyn crate::quota::TimeQuota>,
    tenant: String,
    started: Arc<OnceLock<Instant>>,
    used: Option<Duration>,
}

impl Drop for Charge {
    fn drop(&mut self) {
        let used = self
            .used
            .or_else(|| self.started.get().map(Instant::elapsed));
        if let Some(used) = used {
            self.quota.charge(&self.tenant, used, Instant::now());
        }
    }
}

/// `POST /api/advancedhunting/run` (Defender XDR).
pub async fn advanced_hunting(
    State(state): State<AppState>,
    principal: Principal,
    Body(body): Body,
) -> Result<Response, ApiError> {
    principal.require(&["AdvancedHunting.Read.All", "AdvancedHunting.Read"])?;
    legacy(&state, &principal, &body).await
}

/// `POST /api/advancedqueries/run` (the MDE predecessor).
pub async fn advanced_queries(
    State(state): State<AppState>,
    principal: Principal,
    Body(body): Body,
) -> Result<Response, ApiError> {
    principal.require(&["AdvancedQuery.Read.All", "AdvancedQuery.Read"])?;
    legacy(&state, &principal, &body).await
}

async fn legacy(
    state: &AppState,
    principal: &Principal,
    body: &[u8],
) -> Result<Response, ApiError> {
    admit(state, principal)?;
    let body = json_object(body)?;
    // Property names are case-sensitive on the legacy API.
    let query = string_field(&body, &["Query"])?.ok_or_else(|| ApiError::missing("Query"))?;
    let hunted = hunt(state, principal, query, None).await?;
    let r = &hunted.result;
    let schema: Vec<Value> = r
        .columns
        .iter()
        .map(|c| json!({"Name": c.name, "Type": c.ty.dotnet_name()}))
        .collect();
    respond(
        state,
        &json!({
            "Stats": stats(&hunted),
            "Schema": schema,
            "Results": rows(r),
        }),
    )
}

/// The answer as JSON, refused (400) when its text would pass `max_result_bytes`; the
/// serialisation stops at the limit.
fn respond(state: &AppState, body: &Value) -> Result<Response, ApiError> {
    let limit = state.config.max_result_bytes;
    let mut out = Capped {
        bytes: Vec::new(),
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
        over: false,
    };
    if let Err(e) = serde_json::to_writer(&mut out, body) {
        if out.over {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                format!(
                    "Query execution has exceeded the allowed result size. Optimize your query by limiting the number of results and try again. The limit is {limit} bytes of response."
                ),
            ));
        }
        return Err(ApiError::internal(format!("serialising a result: {e}")));
    }
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        out.bytes,
    )
        .into_response())
}

/// A writer that refuses to hold more than `limit` bytes (and then sets `over`).
struct Capped {
    bytes: Vec<u8>,
    limit: usize,
    over: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > self.limit {
            self.over = true;
            self.bytes = Vec::new();
            return Err(std::io::Error::other("result size limit"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `POST /v1.0/security/runHuntingQuery` (Microsoft Graph).
pub async fn graph(
    State(state): State<AppState>,
    principal: Principal,
    Body(body): Body,
) -> Result<Response, ApiError> {
    principal.require(&["ThreatHunting.Read.All"])?;
    admit(&state, &principal)?;
    let body = json_object(&body)?;
    let query =
        string_field(&body, &["Query", "query"])?.ok_or_else(|| ApiError::missing("Query"))?;
    let now = now_nanos();
    let range = match string_field(&body, &["Timespan", "timespan"])? {
        Some(t) => Some(
            crate::timespan::parse(&t, now)
                .map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("Timespan: {e}")))?,
        ),
        None => None,
    };
    let hunted = hunt(&state, &principal, query, range).await?;
    let r = &hunted.result;
    let schema: Vec<Value> = r
        .columns
        .iter()
        .map(|c| json!({"name": c.name, "type": c.ty.dotnet_name()}))
        .collect();
    respond(
        &state,
        &json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults",
            "schema": schema,
            "results": rows(r),
        }),
    )
}

/// The tenant's execution-time budgets (nothing counted), then its call quota (the call
/// counted).
fn admit(state: &AppState, principal: &Principal) -> Result<(), ApiError> {
    let now = Instant::now();
    state
        .hunting_time
        .check(&principal.tenant, now)
        .map_err(|r| {
            ApiError::new(ErrorCode::TooManyRequests, r.message())
                .with_retry_after(r.retry_after_secs())
        })?;
    state
        .hunting_quota
        .admit(&principal.tenant, now)
        .map_err(|r| {
            ApiError::new(ErrorCode::TooManyRequests, r.message())
                .with_retry_after(r.retry_after_secs())
        })
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::bad_body("Request body is incorrect")),
    }
}

/// The first of `names` present in `body`, which must be a string.
fn string_field(body: &Map<String, Value>, names: &[&str]) -> Result<Option<String>, ApiError> {
    for name in names {
        match body.get(*name) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => return Ok(Some(s.clone())),
            Some(_) => {
                return Err(ApiError::bad_body(format!(
                    "Request body is incorrect: '{name}' must be a string"
                )));
            }
        }
    }
    Ok(None)
}

fn now_nanos() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

/// Runs `query` over the principal's tenant (within `range`, `[from, to)` in nanoseconds,
/// when given) on the query runtime.
async fn hunt(
    state: &AppState,
    principal: &Principal,
    query: String,
    range: Option<(i64, i64)>,
) -> Result<Hunted, ApiError> {
    let limit = state.config.max_query_bytes;
    if query.len() > limit {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("The query text is longer than the limit of {limit} bytes."),
        ));
    }
    let tenant = &principal.tenant;
    let engine = state.store.engine_in(tenant, range);
    let max_rows = state.config.max_rows;
    let options = QueryOptions {
        now_nanos: Some(now_nanos()),
        // One more row than allowed tells a result over the limit from one at it.
        max_rows: max_rows.saturating_add(1),
    };
    let started = Instant::now();
    let mut charge = Charge {
        quota: Arc::clone(&state.hunting_time),
        tenant: tenant.clone(),
        started: Arc::new(OnceLock::new()),
        used: None,
    };
    let running = Arc::clone(&charge.started);
    let outcome = run_query(state, engine, query.clone(), options, running).await;
    let elapsed = started.elapsed();
    if let Ok((_, ran)) = &outcome {
        charge.used = Some(*ran);
    }
    // Charged now, before the answer goes out (the next call sees it).
    drop(charge);
    let (result, ran) = match outcome {
        Err(Stopped::Timeout) => {
            tracing::info!(
                tenant = %tenant,
                elapsed_ms = elapsed.as_millis() as u64,
                "query cancelled at the timeout"
            );
            return Err(ApiError::new(
                ErrorCode::RequestTimeout,
                "Query exceeded the timeout period.",
            ));
        }
        Err(Stopped::Task(e)) => return Err(ApiError::internal(format!("query task: {e}"))),
        Ok((Err(diagnostics), _)) => return Err(kql_error(&diagnostics, &query)),
        Ok((Ok(result), ran)) => (result, ran),
    };
    let rows = result.row_count();
    let s = &result.stats;
    tracing::info!(
        tenant = %tenant,
        rows,
        elapsed_ms = elapsed.as_millis() as u64,
        execution_ms = ran.as_millis() as u64,
        cpu_ms = s.cpu.as_millis() as u64,
        peak_memory = s.peak_memory_bytes,
        rows_scanned = s.rows_scanned,
        bytes_scanned = s.bytes_scanned,
        "query ran"
    );
    if rows > max_rows {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!(
                "Query result exceeds the limit of {max_rows} rows. Use \"summarize\" to aggregate results, \"project\" to drop uninteresting columns, or \"take\" to truncate results."
            ),
        ));
    }
    Ok(Hunted {
        result,
        elapsed: ran,
    })
}

/// Why a query on the query runtime gave no answer.
pub(crate) enum Stopped {
    /// It ran past the configured timeout and was cancelled.
    Timeout,
    /// Its task failed (a panic inside the engine).
    Task(String),
}

/// Runs `query` with `engine` on the query runtime under the configured timeout. The query
/// is cancelled when the timeout passes or when the caller stops waiting; `started` is set
/// when a query thread takes it up. The engine's answer, and how long it ran.
pub(crate) async fn run_query(
    state: &AppState,
    engine: kql_engine::Engine,
    query: String,
    options: QueryOptions,
    started: Arc<OnceLock<Instant>>,
) -> Result<(Result<QueryResult, Vec<Diagnostic>>, Duration), Stopped> {
    let mut task = AbortOnDrop(state.queries.spawn(async move {
        let start = *started.get_or_init(Instant::now);
        let result = engine.run(&query, &options).await;
        (result, start.elapsed())
    }));
    let timeout =
        Duration::try_from_secs_f64(state.config.query_timeout_secs).unwrap_or(Duration::MAX);
    match tokio::time::timeout(timeout, &mut task.0).await {
        Err(_) => Err(Stopped::Timeout),
        Ok(Err(e)) => Err(Stopped::Task(e.to_string())),
        Ok(Ok(answer)) => Ok(answer),
    }
}

/// KQL diagnostics as an API error: the user's mistakes (and unsupported features, and
/// limits) are 400 with each diagnostic's code, message, line and column; an internal
/// error is logged and reported without detail.
fn kql_error(diagnostics: &[Diagnostic], query: &str) -> ApiError {
    let Some(first) = diagnostics.first() else {
        return ApiError::internal("the query failed without a diagnostic");
    };
    if first.class() == ErrorClass::Internal {
        let all: Vec<String> = diagnostics.iter().map(|d| d.render(query)).collect();
        return ApiError::internal(format!("query: {}", all.join("")));
    }
    if first.code == kql_syntax::codes::TIMEOUT {
        return ApiError::new(
            ErrorCode::RequestTimeout,
            "Query exceeded the timeout period.",
        );
    }
    let details: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let (line, column) = d.line_col(query);
            json!({"code": d.code, "message": d.message, "line": line, "column": column})
        })
        .collect();
    let (line, column) = first.line_col(query);
    ApiError::new(
        ErrorCode::BadRequest,
        format!(
            "{}: {} (line {line}, column {column})",
            first.code, first.message
        ),
    )
    .with_details(details)
}

/// `Stats` of the legacy shape (the table in the module's documentation).
fn stats(h: &Hunted) -> Value {
    let bytes: usize = h
        .result
        .batches
        .iter()
        .map(|b| b.get_array_memory_size())
        .sum();
    let s = &h.result.stats;
    let cpu =
        kql_engine::format::format_timespan(i64::try_from(s.cpu.as_nanos()).unwrap_or(i64::MAX));
    let no_cache = json!({"hits": 0, "misses": 0, "total": 0});
    json!({
        "ExecutionTime": (h.elapsed.as_secs_f64() * 1e6).round() / 1e6,
        "resource_usage": {
            "cache": {"memory": no_cache, "disk": no_cache},
            "cpu": {"user": cpu, "kernel": "00:00:00", "total cpu": cpu},
            "memory": {"peak_per_node": s.peak_memory_bytes},
        },
        "input_dataset_statistics": {
            "rows": {"scanned": s.rows_scanned},
            "bytes": {"scanned": s.bytes_scanned},
        },
        "dataset_statistics": [{
            "table_row_count": h.result.row_count(),
            "table_size": bytes,
        }],
    })
}

/// Rows as objects keyed by column name, in column order.
fn rows(r: &QueryResult) -> Vec<Value> {
    kql_engine::format::result_rows_json(r)
        .into_iter()
        .map(|cells| {
            Value::Object(
                r.columns
                    .iter()
                    .map(|c| c.name.clone())
                    .zip(cells)
                    .collect(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kql_syntax::KqlType;

    #[test]
    fn type_names() {
        assert_eq!(KqlType::DateTime.dotnet_name(), "DateTime");
        assert_eq!(KqlType::String.dotnet_name(), "String");
        assert_eq!(KqlType::Long.dotnet_name(), "Int64");
        assert_eq!(KqlType::Dynamic.dotnet_name(), "Object");
    }

    #[test]
    fn diagnostics_become_bad_requests() {
        let q = "print x";
        let d = Diagnostic::error(
            kql_syntax::codes::UNKNOWN_NAME,
            "unknown name 'x'",
            kql_syntax::Span::new(6, 7),
        );
        let e = kql_error(&[d], q);
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert_eq!(e.message, "KQL2004: unknown name 'x' (line 1, column 7)");
        assert_eq!(e.details[0]["column"], 7);
        let i = kql_error(
            &[Diagnostic::internal("boom", kql_syntax::Span::default())],
            q,
        );
        assert_eq!(i.code, ErrorCode::InternalServerError);
        assert!(!i.message.contains("boom"));
    }
}
