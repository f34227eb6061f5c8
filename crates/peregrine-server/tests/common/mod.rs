//! A test server over a temporary store: apps, tokens and requests through the router.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use peregrine_server::apps::NewApp;
use peregrine_server::{AppState, ServerConfig, router};
use peregrine_store::Store;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

pub const CONTOSO: &str = "6f2c1e5a-1b2c-4d3e-8f90-0a1b2c3d4e5f";
pub const FABRIKAM: &str = "fabrikam";
pub const XDR: &str = "https://api.security.microsoft.com";

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub store: Arc<Store>,
    pub state: AppState,
    pub router: Router,
    /// Timestamps of contoso's events: two at `recent` (1 h ago), one at `older` (48 h).
    pub recent: String,
    pub older: String,
}

/// `YYYY-MM-DDTHH:MM:SSZ`, `hours` ago.
pub fn hours_ago(hours: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::hours(hours))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A store with two tenants: contoso (three process events: two 1 h ago, one 48 h ago)
/// and fabrikam (one).
pub fn app_with(config: ServerConfig) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_defender(dir.path()).unwrap();
    let (recent, older) = (hours_ago(1), hours_ago(48));
    let events = [
        (1, recent.clone(), "powershell.exe", "dev1", 101),
        (2, recent.clone(), "cmd.exe", "dev2", 102),
        (3, older.clone(), "powershell.exe", "dev1", 103),
    ];
    let records: Vec<(usize, Value)> = events
        .iter()
        .map(|(line, ts, file, dev, report)| {
            (
                *line,
                json!({"Timestamp": ts, "FileName": file, "DeviceName": dev, "ReportId": report,
                       "InitiatingProcessFileName": "explorer.exe"}),
            )
        })
        .collect();
    store
        .ingest(CONTOSO, "DeviceProcessEvents", &records)
        .unwrap();
    store
        .ingest(
            FABRIKAM,
            "DeviceProcessEvents",
            &[(1, json!({"Timestamp": hours_ago(2), "FileName": "fabrikam.exe", "DeviceName": "f1", "ReportId": 7}))],
        )
        .unwrap();
    let state = AppState::new(config, Arc::clone(&store)).unwrap();
    let router = router(state.clone());
    TestApp {
        dir,
        store,
        state,
        router,
        recent,
        older,
    }
}

/// No quota, small thread pool.
pub fn test_config() -> ServerConfig {
    ServerConfig {
        hunting_calls_per_minute: 0,
        query_threads: 2,
        ..ServerConfig::default()
    }
}

pub fn app() -> TestApp {
    app_with(test_config())
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    pub fn create_app(&self, tenant: &str, roles: &[&str]) -> NewApp {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        self.state
            .auth
            .create_app(tenant, "test app", &roles)
            .unwrap()
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(
            Request::get(uri)
                .header("host", "localhost")
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// A form POST without a Content-Type header (as some clients send it).
    pub async fn post_form(&self, uri: &str, form: &str, content_type: bool) -> Reply {
        let mut b = Request::post(uri).header("host", "localhost");
        if content_type {
            b = b.header("content-type", "application/x-www-form-urlencoded");
        }
        self.send(b.body(Body::from(form.to_string())).unwrap())
            .await
    }

    pub async fn post_json(&self, uri: &str, token: Option<&str>, body: &str) -> Reply {
        let mut b = Request::post(uri)
            .header("host", "localhost")
            .header("content-type", "application/json");
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        self.send(b.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// `body` POSTed to an ingest route (no Content-Type, as curl --data-binary sends it
    /// with its own; the server ignores it).
    pub async fn ingest(&self, uri: &str, token: Option<&str>, body: impl Into<String>) -> Reply {
        let mut b = Request::post(uri).header("host", "localhost");
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        self.send(b.body(Body::from(body.into())).unwrap()).await
    }

    /// The rows of `query` over `tenant`'s data, through the hunting route.
    pub async fn hunt_rows(&self, tenant: &str, query: &str) -> Value {
        let token = self.token_with(tenant, &["AdvancedHunting.Read.All"]).await;
        let r = self.hunt(&token, query).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["Results"].clone()
    }

    /// Live Parquet files of `tenant` (every table), and whether anything is staged.
    pub fn stored_files(&self, tenant: &str) -> (usize, bool) {
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap();
        let files: usize = self
            .store
            .catalog()
            .table_names()
            .iter()
            .map(|t| self.store.files_in_window(tenant, t, now).unwrap().len())
            .sum();
        let staging = self.dir.path().join(tenant).join("_staging");
        let staged = std::fs::read_dir(&staging).is_ok_and(|mut d| d.next().is_some());
        (files, staged)
    }

    /// A v1 token for `app` and `resource`.
    pub async fn token(&self, app: &NewApp, resource: &str) -> String {
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&resource={}",
            app.client_id,
            app.client_secret,
            urlencode(resource)
        );
        let r = self
            .post_form(&format!("/{}/oauth2/token", app.tenant_id), &form, true)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["access_token"].as_str().unwrap().to_string()
    }

    /// A token of a new app of `tenant` with `roles`, for the Defender XDR resource.
    pub async fn token_with(&self, tenant: &str, roles: &[&str]) -> String {
        let app = self.create_app(tenant, roles);
        self.token(&app, XDR).await
    }

    pub async fn hunt(&self, token: &str, query: &str) -> Reply {
        self.post_json(
            "/api/advancedhunting/run",
            Some(token),
            &json!({ "Query": query }).to_string(),
        )
        .await
    }
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The claims of a JWT, unverified.
pub fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Checks the Defender error envelope: the code, a message, a GUID tracking id.
pub fn assert_envelope(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    let e = &r.body["error"];
    assert_eq!(e["code"], code, "{}", r.text);
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        r.text
    );
    let target = e["target"].as_str().unwrap_or_default();
    assert_eq!(target.len(), 36, "{}", r.text);
    assert_eq!(target.matches('-').count(), 4, "{}", r.text);
}
