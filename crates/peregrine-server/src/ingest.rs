//! Ingestion over HTTP: events into the token's tenant, all or nothing.
//!
//! | route | role | body | answer |
//! | --- | --- | --- | --- |
//! | `POST /api/ingest/{table}` | `Events.Write.All` | NDJSON, or a JSON array of records of `table` | `{"events","tables":{table:n},"files"}` |
//! | `POST /api/ingest` | `Events.Write.All` | streaming-export envelope `{"records":[{"time","tenantId","operationName","category":"AdvancedHunting-<Table>","properties":{...}}]}` | the same |
//!
//! The tenant is the token's `tid` (a record's `tenantId` is not used): an app writes its
//! own tenant's tables only. The hunting roles do not allow ingest, nor does
//! `Events.Write.All` allow hunting. A call is checked in this order: token (401), role
//! (403), table (404 `ResourceNotFound`), body size (413 `RequestTooLarge`, from
//! `Content-Length` or while reading; at most `max_ingest_bytes`), then the records (400
//! `InvalidRequestBody` with the store's report per record in `error.details`). The
//! answer (200) comes only after the store's commit is durable (fsync'd); on any error
//! nothing of the request is stored.
//!
//! The store's work (parsing, Parquet, fsync) runs on tokio's blocking pool, one ingest
//! at a time (NDJSON parsing is already parallel inside the store), so the HTTP threads
//! never wait on it. Ingest commits and compaction (`serve` runs the store's compactor)
//! are serialised by the store itself: both switch a partition's manifest under its
//! manifest lock, and a compaction keeps the files an ingest added meanwhile.

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Body, ErrorCode};
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use peregrine_store::{IngestError, IngestReport, Store};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// The application role that lets an app write events into its tenant.
pub const INGEST_ROLE: &str = "Events.Write.All";

/// `POST /api/ingest/{table}`: NDJSON or a JSON array of `table`'s records.
pub async fn table(
    State(state): State<AppState>,
    principal: Principal,
    Path(table): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    principal.require(&[INGEST_ROLE])?;
    if state.store.catalog().table(&table).is_none() {
        return Err(IngestError::unknown_table(&table).into());
    }
    let body = read_body(&state, request).await?;
    // The body is already within the server's limit.
    let report = run(&state, &principal, move |store, tenant| {
        store.ingest_body(tenant, &table, &body[..], u64::MAX, |_, _| {})
    })
    .await?;
    Ok(acknowledge(&report))
}

/// `POST /api/ingest`: a Defender streaming-export envelope, each record into the table
/// its `category` names.
pub async fn envelope(
    State(state): State<AppState>,
    principal: Principal,
    request: Request,
) -> Result<Response, ApiError> {
    principal.require(&[INGEST_ROLE])?;
    let body = read_body(&state, request).await?;
    let report = run(&state, &principal, move |store, tenant| {
        store.ingest_envelope_body(tenant, &body[..], u64::MAX)
    })
    .await?;
    Ok(acknowledge(&report))
}

/// The request body, refused (413) when it is over `max_ingest_bytes`: at once when its
/// `Content-Length` says so, else as soon as more has been read (the route's
/// `DefaultBodyLimit`).
async fn read_body(state: &AppState, request: Request) -> Result<axum::body::Bytes, ApiError> {
    let limit = state.config.max_ingest_bytes;
    let too_large = || {
        ApiError::new(
            ErrorCode::RequestTooLarge,
            format!(
                "The request body is larger than the limit of {limit} bytes; nothing was stored. Split the events into smaller requests."
            ),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    match Body::from_request(request, state).await {
        Ok(Body(bytes)) => Ok(bytes),
        Err(e) if e.code == ErrorCode::RequestTooLarge => Err(too_large()),
        Err(e) => Err(e),
    }
}

/// Runs `ingest` for the principal's tenant on the blocking pool, one ingest at a time;
/// returns once the store has answered (for a success: once the commit is durable).
async fn run<F>(
    state: &AppState,
    principal: &Principal,
    ingest: F,
) -> Result<IngestReport, ApiError>
where
    F: FnOnce(&Store, &str) -> Result<IngestReport, IngestError> + Send + 'static,
{
    let permit = Arc::clone(&state.ingests)
        .acquire_owned()
        .await
        .map_err(|e| ApiError::internal(format!("ingest gate: {e}")))?;
    let store = Arc::clone(&state.store);
    let tenant = principal.tenant.clone();
    let started = Instant::now();
    // The task finishes even if the client goes away: an ingest is never cut midway.
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        ingest(store.as_ref(), tenant.as_str())
    })
    .await
    .map_err(|e| ApiError::internal(format!("ingest task: {e}")))?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match outcome {
        Ok(report) => {
            tracing::info!(
                tenant = %principal.tenant,
                app = %principal.app_id,
                events = report.events(),
                files = report.files,
                elapsed_ms,
                "ingested"
            );
            Ok(report)
        }
        Err(e) => {
            tracing::info!(tenant = %principal.tenant, code = e.code, elapsed_ms, "ingest refused");
            Err(e.into())
        }
    }
}

/// The answer to a durable ingest: events in all, per table, and Parquet files written.
fn acknowledge(report: &IngestReport) -> Response {
    axum::Json(json!({
        "events": report.events(),
        "tables": report.tables,
        "files": report.files,
    }))
    .into_response()
}
