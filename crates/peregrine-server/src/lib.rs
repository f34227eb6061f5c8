//! Peregrine's HTTP API (axum): app tokens and roles, and advanced hunting in the Defender
//! XDR, MDE and Microsoft Graph shapes, over the event store.
//!
//! ```text
//! request ─▶ log ─▶ route ─▶ Principal (bearer token of this server or the external issuer:
//!                               signature, lifetime, audience → tid, roles)
//!                          ─▶ role check ─▶ execution-time budgets ─▶ call quota ─▶ body
//!                          ─▶ query runtime: Engine over the tid's tables (time charged)
//!                          ─▶ wire shape (Stats/Schema/Results or schema/results) within the
//!                             result-size limit, or ApiError envelope
//! ```
//!
//! [`router`] is the testable seam (drive it with `tower::ServiceExt::oneshot`); [`serve`]
//! puts it on a listener with graceful shutdown; [`run`] is `peregrine serve`.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /health` | liveness |
//! | `GET /metadata/endpoints?api-version=…` | cloud discovery (msticpy) |
//! | `POST /{tenant}/oauth2/token`, `POST /{tenant}/oauth2/v2.0/token` | client-credentials grant |
//! | `GET /{tenant}/discovery/keys`, `GET /{tenant}/discovery/v2.0/keys` | JWKS |
//! | `GET /{tenant}/.well-known/openid-configuration`, `GET /{tenant}/v2.0/.well-known/openid-configuration` | OpenID discovery |
//! | `POST /api/advancedhunting/run`, `POST /api/advancedqueries/run`, `POST /v1.0/security/runHuntingQuery` | advanced hunting ([`hunting`]) |
//! | `POST /api/ingest/{table}`, `POST /api/ingest` | ingest events into the token's tenant ([`ingest`]) |
//! | `GET/POST /api/detectionrules`, `GET/PUT/DELETE /api/detectionrules/{id}`, `POST /api/detectionrules/{id}/run` | detection rules ([`detections`]) |
//! | `GET /api/incidents[/{id}]`, `PATCH /api/incidents/{id}`, `GET/PATCH /v1.0/security/incidents[/{id}]`, `GET/PATCH /v1.0/security/alerts_v2[/{id}]` | the Incidents API ([`incidents`]) |

pub mod apps;
pub mod auth;
pub mod config;
pub mod detections;
pub mod error;
pub mod external;
pub mod hunting;
pub mod incidents;
pub mod ingest;
mod metadata;
pub mod quota;
pub mod timespan;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
pub use config::ServerConfig;
use error::{ApiError, ErrorCode};
use peregrine_store::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Everything a request handler may use.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ServerConfig>,
    pub store: Arc<Store>,
    pub auth: apps::AuthDir,
    pub keys: Arc<auth::Keys>,
    /// An external identity provider whose tokens are accepted too ([`external`]).
    pub external: Option<Arc<external::External>>,
    pub hunting_quota: Arc<dyn quota::Quota>,
    /// The tenants' execution-time budgets of advanced hunting.
    pub hunting_time: Arc<dyn quota::TimeQuota>,
    queries: Arc<QueryPool>,
    /// One ingest at a time ([`ingest`]).
    ingests: Arc<tokio::sync::Semaphore>,
    /// The incident store and the Incidents API's quota ([`incidents`]).
    pub incidents: Arc<incidents::Incidents>,
}

impl AppState {
    /// The state over an open store: app registrations and the signing key (made on first
    /// use) in the store's directory, the hunting quota and query runtime from `config`.
    pub fn new(config: ServerConfig, store: Arc<Store>) -> Result<AppState, String> {
        let auth = apps::AuthDir::new(store.root());
        let keys = auth::Keys::new(&auth.signing_key()?)?;
        let external = external::External::from_config(&config)?.map(Arc::new);
        let hunting_quota: Arc<dyn quota::Quota> = match config.hunting_calls_per_minute {
            0 => Arc::new(quota::Unlimited),
            n => Arc::new(quota::SlidingWindows::one(n, Duration::from_secs(60))),
        };
        let secs = |s: f64| Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO);
        let hunting_time: Arc<dyn quota::TimeQuota> = Arc::new(quota::ExecutionBudget::new(vec![
            (
                secs(config.hunting_execution_secs_per_hour),
                Duration::from_secs(3600),
            ),
            (
                secs(config.hunting_execution_secs_per_day),
                Duration::from_secs(86_400),
            ),
        ]));
        let incidents = incidents::Incidents::open(store.root(), &config)?;
        let queries = QueryPool::new(config.query_threads.max(1))
            .map_err(|e| format!("cannot start the query runtime: {e}"))?;
        Ok(AppState {
            config: Arc::new(config),
            store,
            auth,
            keys: Arc::new(keys),
            external,
            hunting_quota,
            hunting_time,
            queries: Arc::new(queries),
            ingests: Arc::new(tokio::sync::Semaphore::new(1)),
            incidents: Arc::new(incidents),
        })
    }

    /// Query tasks alive on the query runtime (running, or cancelled and not yet stopped).
    pub fn query_tasks(&self) -> usize {
        self.queries.tasks()
    }

    /// The same state with another hunting quota (a shared store, a test's).
    pub fn with_hunting_quota(mut self, quota: Arc<dyn quota::Quota>) -> AppState {
        self.hunting_quota = quota;
        self
    }

    /// The same state with other execution-time budgets (a shared store, a test's).
    pub fn with_hunting_time(mut self, quota: Arc<dyn quota::TimeQuota>) -> AppState {
        self.hunting_time = quota;
        self
    }
}

/// The runtime queries run on, apart from the HTTP threads, so a heavy plan never stalls
/// other requests.
struct QueryPool {
    runtime: Option<tokio::runtime::Runtime>,
}

impl QueryPool {
    fn new(threads: usize) -> std::io::Result<QueryPool> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("peregrine-query")
            .enable_all()
            .build()?;
        Ok(QueryPool {
            runtime: Some(runtime),
        })
    }

    fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.runtime {
            Some(rt) => rt.spawn(future),
            // Only while dropping; run on the caller's runtime rather than fail.
            None => tokio::spawn(future),
        }
    }
}

impl QueryPool {
    fn tasks(&self) -> usize {
        self.runtime
            .as_ref()
            .map_or(0, |rt| rt.metrics().num_alive_tasks())
    }
}

impl Drop for QueryPool {
    fn drop(&mut self) {
        // Dropping a runtime may happen inside another runtime (tests, shutdown): do not
        // block there.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Every route of the API.
pub fn router(state: AppState) -> Router {
    let graph = Router::new()
        .route("/v1.0/security/runHuntingQuery", post(hunting::graph))
        .route("/v1.0/security/incidents", get(incidents::graph_list))
        .route(
            "/v1.0/security/incidents/{id}",
            get(incidents::graph_get).patch(incidents::graph_patch),
        )
        .route(
            "/v1.0/security/incidents/{id}/comments",
            post(incidents::graph_incident_comment),
        )
        .route("/v1.0/security/alerts_v2", get(incidents::graph_alerts))
        .route(
            "/v1.0/security/alerts_v2/{id}",
            get(incidents::graph_alert).patch(incidents::graph_alert_patch),
        )
        .route(
            "/v1.0/security/alerts_v2/{id}/comments",
            post(incidents::graph_alert_comment),
        )
        // The docs' own sample spells it `alerts_V2`.
        .route("/v1.0/security/alerts_V2", get(incidents::graph_alerts))
        .route(
            "/v1.0/security/alerts_V2/{id}",
            get(incidents::graph_alert).patch(incidents::graph_alert_patch),
        )
        .layer(middleware::from_fn(error::graph_errors));
    let ingest_limit = usize::try_from(state.config.max_ingest_bytes).unwrap_or(usize::MAX);
    let ingest = Router::new()
        .route("/api/ingest", post(ingest::envelope))
        .route("/api/ingest/{table}", post(ingest::table))
        .layer(DefaultBodyLimit::max(ingest_limit));
    Router::new()
        .route("/health", get(health))
        .route("/metadata/endpoints", get(metadata::endpoints))
        .route("/{tenant}/oauth2/token", post(auth::token_v1))
        .route("/{tenant}/oauth2/v2.0/token", post(auth::token_v2))
        .route("/{tenant}/discovery/keys", get(auth::jwks))
        .route("/{tenant}/discovery/v2.0/keys", get(auth::jwks))
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(auth::openid_v1),
        )
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(auth::openid_v2),
        )
        .route("/api/advancedhunting/run", post(hunting::advanced_hunting))
        .route("/api/advancedqueries/run", post(hunting::advanced_queries))
        .route("/api/incidents", get(incidents::list))
        .route(
            "/api/incidents/{id}",
            get(incidents::get).patch(incidents::patch),
        )
        .route("/api/incidents/{id}/grouping", get(incidents::grouping))
        .route(
            "/api/detectionrules",
            get(detections::list).post(detections::create),
        )
        .route(
            "/api/detectionrules/{id}",
            get(detections::get)
                .put(detections::put)
                .delete(detections::delete),
        )
        .route("/api/detectionrules/{id}/run", post(detections::run_now))
        .merge(graph)
        .merge(ingest)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    axum::Json(serde_json::json!({
        "status": "Healthy",
        "version": env!("CARGO_PKG_VERSION"),
        "queryTasks": state.query_tasks(),
    }))
    .into_response()
}

async fn not_found(request: Request) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("No route for {} {}", request.method(), request.uri().path()),
    )
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
}

/// One log line per request: method, path (never the query string or body), status, time.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// Serves the API on `listener` until `shutdown` completes, then lets the requests in
/// flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

/// `peregrine serve`: opens the store, binds, serves until Ctrl-C or SIGTERM.
pub fn run(config: ServerConfig) -> Result<(), String> {
    run_with(config, |_| {})
}

/// [`run`], calling `ready` with the bound address before serving.
pub fn run_with(
    config: ServerConfig,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<(), String> {
    let data = config
        .data
        .clone()
        .ok_or("no data directory: pass --data DIR (or set `data` / PEREGRINE_DATA)")?;
    let store = Store::open_defender(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    if !store.is_writable() {
        tracing::warn!(
            "another process writes to {}; serving read-only",
            data.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("peregrine-http")
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let listen = config.listen;
    // Merges the small files that ingests over HTTP leave; stops when dropped.
    let _compactor = (store.is_writable() && config.compact_interval_secs > 0)
        .then(|| store.spawn_compactor(Duration::from_secs(config.compact_interval_secs)));
    let state = AppState::new(config, store)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        if let Some(external) = &state.external
            && let Err(e) = external.reload().await
        {
            tracing::warn!("external identity provider: {e} (tried again on its first token)");
        }
        tracing::info!(%addr, data = %data.display(), "Peregrine API listening");
        // Detection rules and the alert tables; stops when dropped with the runtime.
        let _detections = (state.config.detection_interval_secs > 0).then(|| {
            detections::spawn_scheduler(
                state.clone(),
                Duration::from_secs(state.config.detection_interval_secs),
            )
        });
        ready(addr);
        serve(listener, state, shutdown_signal())
            .await
            .map_err(|e| format!("server: {e}"))
    })
}
