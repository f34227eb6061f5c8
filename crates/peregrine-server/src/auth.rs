//! Tokens: the client-credentials grant, ES256 JWTs, their validation, roles per route,
//! and the documents clients use to find and check keys (JWKS, OpenID discovery).
//!
//! A token carries `aud` (the resource asked for), `iss` (`{base}/{tid}/`, or
//! `{base}/{tid}/v2.0` from the v2 endpoint), `iat`, `nbf`, `exp`, `appid`/`azp` (the client
//! id), `tid` (the tenant: it selects the data a call sees), `roles` (the app's roles), `sub`,
//! `oid`, `idtyp: "app"` and `ver`. A request is let in when its bearer token is signed by
//! this server's key, unexpired, for an accepted audience (Defender XDR, MDE, Graph or this
//! server's own base URL), and its issuer names its `tid` — or, when an external identity
//! provider is configured, when it is that provider's valid token ([`crate::external`]).

use crate::AppState;
use crate::error::{ApiError, Body, ErrorCode};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The Defender XDR resource (`Microsoft Threat Protection`) by URI and app id.
pub const DEFENDER_XDR: &[&str] = &[
    "https://api.security.microsoft.com",
    "8ee8fdad-f234-4243-8f3b-15c294843740",
];
/// The MDE resource (`WindowsDefenderATP`) by its URIs and app id.
pub const MDE: &[&str] = &[
    "https://api.securitycenter.microsoft.com",
    "https://api.securitycenter.windows.com",
    "https://securitycenter.onmicrosoft.com/windowsatpservice",
    "fc780465-2017-40d4-a0c5-307022471b92",
];
/// Microsoft Graph by URI and app id.
pub const GRAPH: &[&str] = &[
    "https://graph.microsoft.com",
    "00000003-0000-0000-c000-000000000000",
];

/// The application roles this server's routes check, with the routes each opens. A token
/// with none of a route's roles gets 403.
pub const ROLES: &[(&str, &str)] = &[
    ("AdvancedHunting.Read.All", "POST /api/advancedhunting/run"),
    ("AdvancedHunting.Read", "POST /api/advancedhunting/run"),
    ("AdvancedQuery.Read.All", "POST /api/advancedqueries/run"),
    ("AdvancedQuery.Read", "POST /api/advancedqueries/run"),
    (
        "ThreatHunting.Read.All",
        "POST /v1.0/security/runHuntingQuery",
    ),
    (
        crate::ingest::INGEST_ROLE,
        "POST /api/ingest, POST /api/ingest/{table} (writes events of the token's tenant)",
    ),
    ("Incident.Read.All", "GET /api/incidents[/{id}]"),
    ("Incident.ReadWrite.All", "GET, PATCH /api/incidents[/{id}]"),
    ("Incident.Read", "GET /api/incidents[/{id}] (delegated)"),
    (
        "Incident.ReadWrite",
        "GET, PATCH /api/incidents[/{id}] (delegated)",
    ),
    (
        "SecurityIncident.Read.All",
        "GET /v1.0/security/incidents[/{id}]",
    ),
    (
        "SecurityIncident.ReadWrite.All",
        "GET, PATCH /v1.0/security/incidents[/{id}], POST .../comments",
    ),
    (
        "SecurityAlert.Read.All",
        "GET /v1.0/security/alerts_v2[/{id}]",
    ),
    (
        "SecurityAlert.ReadWrite.All",
        "GET, PATCH /v1.0/security/alerts_v2[/{id}], POST .../comments",
    ),
    ("CustomDetection.Read.All", "GET /api/detectionrules[/{id}]"),
    (
        "CustomDetection.ReadWrite.All",
        "GET, POST, PUT, DELETE /api/detectionrules[/{id}], POST /api/detectionrules/{id}/run",
    ),
];

/// A resource (or audience) without a trailing slash.
fn normalize(resource: &str) -> &str {
    resource.trim_end_matches('/')
}

/// Whether tokens for `resource` are issued and accepted: a Defender XDR, MDE or Graph
/// resource, or this server's own base URL (`base`).
pub fn accepted_resource(resource: &str, base: &str) -> bool {
    let r = normalize(resource);
    DEFENDER_XDR
        .iter()
        .chain(MDE)
        .chain(GRAPH)
        .any(|a| a.eq_ignore_ascii_case(r))
        || r.eq_ignore_ascii_case(normalize(base))
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub aud: String,
    pub iss: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub appid: String,
    #[serde(default)]
    pub azp: String,
    pub tid: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub sub: String,
    #[serde(default)]
    pub oid: String,
    #[serde(default)]
    pub idtyp: String,
    pub ver: String,
}

/// The signing key with what is derived from it.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    jwk: Value,
}

fn b64url(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

impl Keys {
    pub fn new(secret: &p256::SecretKey) -> Result<Keys, String> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        use p256::pkcs8::EncodePrivateKey;
        let der = secret
            .to_pkcs8_der()
            .map_err(|e| format!("signing key: {e}"))?;
        let point = secret.public_key().to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err("signing key: the public key has no coordinates".into());
        };
        let (x, y) = (b64url(x), b64url(y));
        // RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order.
        let thumb = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = b64url(&<sha2::Sha256 as sha2::Digest>::digest(thumb.as_bytes()));
        let jwk = json!({"kty": "EC", "use": "sig", "crv": "P-256", "kid": kid, "x": x, "y": y, "alg": "ES256"});
        Ok(Keys {
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            decoding: DecodingKey::from_ec_der(point.as_bytes()),
            kid,
            jwk,
        })
    }

    /// The key set document (`{"keys":[...]}`).
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk] })
    }

    /// Signs `claims`.
    pub fn issue(&self, claims: &Claims) -> Result<String, String> {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("JWT".into());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| e.to_string())
    }

    /// The claims of `token` if this key signed it, it is in its lifetime (one minute of
    /// clock skew allowed), its audience is accepted and its issuer names its tenant.
    pub fn verify(&self, token: &str, base: &str) -> Result<Claims, String> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_nbf = true;
        validation.validate_aud = false; // checked below, against the server's own URL too
        validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| e.to_string())?;
        let claims = data.claims;
        if !accepted_resource(&claims.aud, base) {
            return Err(format!("audience {} is not accepted", claims.aud));
        }
        let iss = claims.iss.trim_end_matches('/');
        if !(iss.ends_with(&format!("/{}", claims.tid))
            || iss.ends_with(&format!("/{}/v2.0", claims.tid)))
        {
            return Err("the issuer does not name the token's tenant".into());
        }
        Ok(claims)
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// This server's base URL for a request: the configured `public_url`, else `http://` and
/// the request's `Host`.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return normalize(url).to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| state.config.listen.to_string());
    format!("http://{host}")
}

/// The caller of an API route, from its bearer token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: String,
    pub app_id: String,
    pub roles: Vec<String>,
}

impl Principal {
    /// Refuses the call (403) unless the token holds one of `roles`. `Incident.*` roles
    /// are also accepted in their plural spelling (`Incidents.Read.All`).
    pub fn require(&self, roles: &[&str]) -> Result<(), ApiError> {
        let held = |r: &str| {
            self.roles.iter().any(|h| {
                h == r
                    || h.strip_prefix("Incidents.")
                        .map(|rest| format!("Incident.{rest}"))
                        == Some(r.to_string())
            })
        };
        if roles.iter().any(|r| held(r)) {
            return Ok(());
        }
        Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "Missing application roles. API required roles: {}, application roles: {}",
                roles.join(", "),
                self.roles.join(", ")
            ),
        ))
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("Authorization header is missing"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("Authorization header is not a bearer token"))?;
        let base = base_url(state, &parts.headers);
        let verified = match &state.external {
            // A token of the trusted external provider: its keys, its audiences.
            Some(external) if external.claims_issuer(token) => {
                external.verify(token, &base).await.map(|c| Principal {
                    tenant: c.tid,
                    app_id: c.app_id,
                    roles: c.roles,
                })
            }
            _ => state.keys.verify(token, &base).map(|c| Principal {
                tenant: c.tid,
                app_id: c.appid,
                roles: c.roles,
            }),
        };
        verified
            .and_then(|p| {
                if peregrine_store::valid_tenant(&p.tenant) {
                    Ok(p)
                } else {
                    Err(format!("'{}' is not a tenant id", p.tenant))
                }
            })
            .map_err(|reason| {
                tracing::info!(%reason, "token refused");
                ApiError::unauthorized(format!(
                    "Unauthorized request - reason of failure: {reason}"
                ))
            })
    }
}

/// An OAuth error answer, in Entra's shape.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    code: u32,
}

impl OAuthError {
    fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        description: impl Into<String>,
    ) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            code,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let trace_id = crate::error::new_guid();
        let timestamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
        tracing::info!(trace_id = %trace_id, error = self.error, "token request refused: {}", self.description);
        let body = json!({
            "error": self.error,
            "error_description": format!("AADSTS{}: {} Trace ID: {trace_id} Timestamp: {timestamp}", self.code, self.description),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": crate::error::new_guid(),
        });
        (self.status, axum::Json(body)).into_response()
    }
}

/// Which token endpoint was called.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    V1,
    V2,
}

pub async fn token_v1(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Body(body): Body,
) -> Response {
    token(state, tenant, headers, body, Flavor::V1).await
}

pub async fn token_v2(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Body(body): Body,
) -> Response {
    token(state, tenant, headers, body, Flavor::V2).await
}

/// The client-credentials grant. The body is read as a form whatever its Content-Type.
async fn token(
    state: AppState,
    tenant: String,
    headers: HeaderMap,
    body: axum::body::Bytes,
    flavor: Flavor,
) -> Response {
    match grant(&state, &tenant, &headers, &body, flavor).await {
        Ok(v) => (
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            axum::Json(v),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn grant(
    state: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
    flavor: Flavor,
) -> Result<Value, OAuthError> {
    let bad =
        |code, msg: String| OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", code, msg);
    let mut form = std::collections::HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        form.insert(k.into_owned(), v.into_owned());
    }
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let grant_type = field("grant_type").ok_or_else(|| {
        bad(
            900144,
            "The request body must contain the following parameter: 'grant_type'.".into(),
        )
    })?;
    if grant_type != "client_credentials" {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        ));
    }
    let client_id = field("client_id").ok_or_else(|| {
        bad(
            900144,
            "The request body must contain the following parameter: 'client_id'.".into(),
        )
    })?;
    let client_secret = field("client_secret").ok_or_else(|| {
        OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    })?;
    let resource = match flavor {
        Flavor::V1 => field("resource")
            .ok_or_else(|| {
                bad(
                    900144,
                    "The request body must contain the following parameter: 'resource'.".into(),
                )
            })?
            .to_string(),
        Flavor::V2 => {
            let scope = field("scope").ok_or_else(|| {
                bad(
                    900144,
                    "The request body must contain the following parameter: 'scope'.".into(),
                )
            })?;
            scope
                .strip_suffix("/.default")
                .ok_or_else(|| {
                    OAuthError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_scope",
                        1002012,
                        format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
                    )
                })?
                .to_string()
        }
    };
    let base = base_url(state, headers);
    if !accepted_resource(&resource, &base) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            if flavor == Flavor::V1 {
                "invalid_resource"
            } else {
                "invalid_scope"
            },
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {tenant}."
            ),
        ));
    }
    let auth = state.auth.clone();
    let (t, c) = (tenant.to_string(), client_id.to_string());
    let app = tokio::task::spawn_blocking(move || auth.find_app(&t, &c))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r)
        .map_err(|e| {
            tracing::error!("app registrations: {e}");
            OAuthError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                90000,
                "The server could not read its app registrations.",
            )
        })?;
    let Some(app) = app else {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
            ),
        ));
    };
    if !app.secret_matches(client_secret) {
        return Err(OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        ));
    }
    let now = now_secs();
    let lifetime = state.config.token_lifetime_secs;
    let claims = Claims {
        aud: resource,
        iss: match flavor {
            Flavor::V1 => format!("{base}/{tenant}/"),
            Flavor::V2 => format!("{base}/{tenant}/v2.0"),
        },
        iat: now,
        nbf: now,
        exp: now + lifetime,
        appid: app.client_id.clone(),
        azp: app.client_id.clone(),
        tid: tenant.to_string(),
        roles: app.roles.clone(),
        sub: app.client_id.clone(),
        oid: app.client_id.clone(),
        idtyp: "app".into(),
        ver: match flavor {
            Flavor::V1 => "1.0".into(),
            Flavor::V2 => "2.0".into(),
        },
    };
    let token = state.keys.issue(&claims).map_err(|e| {
        tracing::error!("signing a token: {e}");
        OAuthError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            90000,
            "The server could not sign the token.",
        )
    })?;
    tracing::info!(tenant, client_id = %app.client_id, app = %app.name, "token issued");
    Ok(match flavor {
        Flavor::V1 => json!({
            "token_type": "Bearer",
            "expires_in": lifetime.to_string(),
            "ext_expires_in": lifetime.to_string(),
            "expires_on": (now + lifetime).to_string(),
            "not_before": now.to_string(),
            "resource": claims.aud,
            "access_token": token,
        }),
        Flavor::V2 => json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }),
    })
}

/// `GET /{tenant}/discovery/keys`, `/{tenant}/discovery/v2.0/keys`, `/common/...`.
pub async fn jwks(State(state): State<AppState>) -> Response {
    axum::Json(state.keys.jwks()).into_response()
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration` (and the v1 form without `v2.0`).
pub async fn openid_v2(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    openid(&state, &tenant, &headers, true)
}

pub async fn openid_v1(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    openid(&state, &tenant, &headers, false)
}

fn openid(state: &AppState, tenant: &str, headers: &HeaderMap, v2: bool) -> Response {
    let base = base_url(state, headers);
    let (issuer, token, keys) = if v2 {
        (
            format!("{base}/{tenant}/v2.0"),
            format!("{base}/{tenant}/oauth2/v2.0/token"),
            format!("{base}/{tenant}/discovery/v2.0/keys"),
        )
    } else {
        (
            format!("{base}/{tenant}/"),
            format!("{base}/{tenant}/oauth2/token"),
            format!("{base}/{tenant}/discovery/keys"),
        )
    };
    axum::Json(json!({
        "issuer": issuer,
        "token_endpoint": token,
        "jwks_uri": keys,
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "claims_supported": ["aud", "iss", "iat", "nbf", "exp", "appid", "azp", "tid", "roles", "sub", "oid", "idtyp", "ver"],
        "tenant_region_scope": "NA",
        "cloud_instance_name": "peregrine",
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Result<Keys, String> {
        Keys::new(&p256::SecretKey::from_slice(&[7u8; 32]).map_err(|e| e.to_string())?)
    }

    fn claims(aud: &str, exp: u64) -> Claims {
        Claims {
            aud: aud.into(),
            iss: "http://h/t1/".into(),
            iat: 0,
            nbf: 0,
            exp,
            appid: "a".into(),
            azp: "a".into(),
            tid: "t1".into(),
            roles: vec!["AdvancedHunting.Read.All".into()],
            sub: "a".into(),
            oid: "a".into(),
            idtyp: "app".into(),
            ver: "1.0".into(),
        }
    }

    #[test]
    fn round_trip_and_refusals() -> Result<(), String> {
        let k = keys()?;
        let later = now_secs() + 600;
        let t = k.issue(&claims("https://api.security.microsoft.com/", later))?;
        assert_eq!(k.verify(&t, "http://h")?.tid, "t1");
        // expired
        let t = k.issue(&claims(
            "https://api.security.microsoft.com",
            now_secs() - 3600,
        ))?;
        assert!(k.verify(&t, "http://h").is_err());
        // unknown audience
        let t = k.issue(&claims("https://example.com", later))?;
        assert!(k.verify(&t, "http://h").is_err());
        // the server itself is an audience
        let t = k.issue(&claims("http://h/", later))?;
        assert!(k.verify(&t, "http://h").is_ok());
        // another key's signature
        let other =
            Keys::new(&p256::SecretKey::from_slice(&[9u8; 32]).map_err(|e| e.to_string())?)?;
        let t = other.issue(&claims("https://graph.microsoft.com", later))?;
        assert!(k.verify(&t, "http://h").is_err());
        // a tampered payload
        let t = k.issue(&claims("https://graph.microsoft.com", later))?;
        let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
        let mut c = claims("https://graph.microsoft.com", later);
        c.tid = "t2".into();
        c.iss = "http://h/t2/".into();
        parts[1] = b64url(
            serde_json::to_string(&c)
                .map_err(|e| e.to_string())?
                .as_bytes(),
        );
        assert!(k.verify(&parts.join("."), "http://h").is_err());
        Ok(())
    }

    #[test]
    fn roles() {
        let p = Principal {
            tenant: "t".into(),
            app_id: "a".into(),
            roles: vec!["Incidents.Read.All".into()],
        };
        assert!(p.require(&["Incident.Read.All"]).is_ok());
        let e = p.require(&["AdvancedHunting.Read.All"]).err();
        assert_eq!(
            e.map(|e| e.message),
            Some("Missing application roles. API required roles: AdvancedHunting.Read.All, application roles: Incidents.Read.All".into())
        );
    }
}
