//! An external identity provider whose access tokens are accepted besides this server's
//! own (`external_issuer`, `external_audiences`, `external_jwks` in [`crate::ServerConfig`]),
//! so an organisation can use its own IdP (Entra ID, Keycloak, ...).
//!
//! A bearer token whose (unverified) `iss` equals `external_issuer`, with `{tid}` replaced
//! by the token's `tid` claim, is checked against the provider's keys instead of this
//! server's: a key of the JWKS whose `kid` is the token header's (or the only key, when
//! the token names none), an asymmetric algorithm of that key's family (RSA, EC, EdDSA;
//! never HMAC, never `none`), `exp`/`nbf` (60 s of clock skew), `aud` (a string or a list)
//! among `external_audiences` (by default the resources this server's own tokens may
//! carry), and a valid `tid`. The token's `roles` are its application roles, checked per
//! route as for this server's tokens; `appid`, else `azp`, else `sub` names the app.
//!
//! The JWKS is read from a file or fetched over plain `http://` (an `https://` document can
//! be mirrored to a file by a scheduled `curl`). It is loaded at start and loaded again when
//! a token names a key it does not hold (key rotation), at most every
//! [`RELOAD_INTERVAL`].

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

/// A token naming an unknown key reloads the JWKS at most this often.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(30);
/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 1 << 20;
/// How long fetching the JWKS over HTTP may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the provider's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    File(PathBuf),
    Http(url::Url),
}

/// The trusted external provider.
pub struct External {
    issuer: String,
    audiences: Vec<String>,
    source: Source,
    keys: RwLock<Vec<(Option<String>, DecodingKey)>>,
    loaded: Mutex<Option<Instant>>,
}

/// What the server takes from an external token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalClaims {
    pub tid: String,
    pub app_id: String,
    pub roles: Vec<String>,
}

#[derive(Deserialize)]
struct Unverified {
    #[serde(default)]
    iss: String,
    #[serde(default)]
    tid: String,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    aud: Value,
    #[serde(default)]
    tid: String,
    #[serde(default)]
    appid: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

impl External {
    /// The provider of the configuration, if one is configured: the issuer and a JWKS
    /// source are both needed. A JWKS file is read now (an unreadable one is an error); a
    /// URL is fetched by [`External::reload`].
    pub fn from_config(config: &crate::ServerConfig) -> Result<Option<External>, String> {
        let (issuer, jwks) = match (&config.external_issuer, &config.external_jwks) {
            (None, None) => return Ok(None),
            (Some(i), Some(j)) if !i.trim().is_empty() && !j.trim().is_empty() => (i, j),
            _ => {
                return Err(
                    "external identity provider: set both external_issuer and external_jwks".into(),
                );
            }
        };
        let source = if jwks.starts_with("http://") || jwks.starts_with("https://") {
            let url = url::Url::parse(jwks).map_err(|e| format!("external_jwks: {e}"))?;
            if url.scheme() != "http" {
                return Err(format!(
                    "external_jwks: {jwks}: only http:// URLs are fetched; save an https:// document to a file and name the file"
                ));
            }
            Source::Http(url)
        } else {
            Source::File(PathBuf::from(jwks.strip_prefix("file://").unwrap_or(jwks)))
        };
        let external = External {
            issuer: issuer.trim().to_string(),
            audiences: config.external_audiences.clone(),
            source,
            keys: RwLock::new(Vec::new()),
            loaded: Mutex::new(None),
        };
        if let Source::File(path) = &external.source {
            let text = std::fs::read(path)
                .map_err(|e| format!("external_jwks: {}: {e}", path.display()))?;
            external.install(&text)?;
        }
        Ok(Some(external))
    }

    /// Whether `token` claims to come from this provider (nothing verified yet).
    pub fn claims_issuer(&self, token: &str) -> bool {
        jsonwebtoken::dangerous::insecure_decode::<Unverified>(token)
            .is_ok_and(|d| self.issuer_for(&d.claims.tid) == d.claims.iss.trim_end_matches('/'))
    }

    fn issuer_for(&self, tid: &str) -> String {
        self.issuer
            .replace("{tid}", tid)
            .trim_end_matches('/')
            .to_string()
    }

    /// Loads the JWKS again (from its file or URL).
    pub async fn reload(&self) -> Result<usize, String> {
        let text = match &self.source {
            Source::File(path) => std::fs::read(path)
                .map_err(|e| format!("external_jwks: {}: {e}", path.display()))?,
            Source::Http(url) => fetch(url).await?,
        };
        self.install(&text)
    }

    /// Replaces the keys with those of a JWKS document; symmetric and unusable keys are
    /// left out.
    fn install(&self, text: &[u8]) -> Result<usize, String> {
        let set: JwkSet =
            serde_json::from_slice(text).map_err(|e| format!("external_jwks: {e}"))?;
        let keys: Vec<(Option<String>, DecodingKey)> = set
            .keys
            .iter()
            .filter(|k| !matches!(k.algorithm, AlgorithmParameters::OctetKey(_)))
            .filter_map(|k| {
                DecodingKey::from_jwk(k)
                    .ok()
                    .map(|d| (k.common.key_id.clone(), d))
            })
            .collect();
        if keys.is_empty() {
            return Err("external_jwks: the document holds no usable public key".into());
        }
        let n = keys.len();
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        tracing::info!(keys = n, "external identity provider keys loaded");
        Ok(n)
    }

    /// The key for a token's `kid`, reloading the JWKS once when it is unknown.
    async fn key(&self, kid: Option<&str>) -> Result<DecodingKey, String> {
        if let Some(k) = self.find(kid) {
            return Ok(k);
        }
        let due = self
            .loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none_or(|at| at.elapsed() >= RELOAD_INTERVAL);
        if due {
            if let Err(e) = self.reload().await {
                tracing::warn!("reloading the external identity provider's keys: {e}");
                // Do not try again at once.
                *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            }
            if let Some(k) = self.find(kid) {
                return Ok(k);
            }
        }
        Err(match kid {
            Some(kid) => format!("the identity provider has no key '{kid}'"),
            None => "the token names no key".into(),
        })
    }

    fn find(&self, kid: Option<&str>) -> Option<DecodingKey> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        match kid {
            Some(kid) => keys
                .iter()
                .find(|(k, _)| k.as_deref() == Some(kid))
                .map(|(_, d)| d.clone()),
            None if keys.len() == 1 => keys.first().map(|(_, d)| d.clone()),
            None => None,
        }
    }

    /// Verifies a token of this provider; `base` is this server's base URL (an accepted
    /// audience when no audiences are configured).
    pub async fn verify(&self, token: &str, base: &str) -> Result<ExternalClaims, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
        let unverified = jsonwebtoken::dangerous::insecure_decode::<Unverified>(token)
            .map_err(|e| e.to_string())?
            .claims;
        let key = self.key(header.kid.as_deref()).await?;
        let alg = header.alg;
        if alg.family() != key.family()
            || matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
        {
            return Err(format!("algorithm {alg:?} does not fit the key"));
        }
        let mut validation = Validation::new(alg);
        validation.validate_nbf = true;
        validation.validate_aud = false; // checked below: a string or a list
        validation.leeway = 60;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let issuer = self.issuer_for(&unverified.tid);
        validation.set_issuer(&[issuer.clone(), format!("{issuer}/")]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| e.to_string())?
            .claims;
        if claims.tid.is_empty() {
            return Err("the token has no tid".into());
        }
        let audiences: Vec<&str> = match &claims.aud {
            Value::String(a) => vec![a.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let accepted = |aud: &str| {
            if self.audiences.is_empty() {
                crate::auth::accepted_resource(aud, base)
            } else {
                self.audiences
                    .iter()
                    .any(|a| a.trim_end_matches('/') == aud.trim_end_matches('/'))
            }
        };
        if !audiences.iter().any(|a| accepted(a)) {
            return Err(format!("audience {} is not accepted", claims.aud));
        }
        let app_id = claims
            .appid
            .or(claims.azp)
            .or(claims.sub)
            .unwrap_or_default();
        Ok(ExternalClaims {
            tid: claims.tid,
            app_id,
            roles: claims.roles,
        })
    }
}

/// GET over plain HTTP/1.0 (one request, the connection closed by the server): the body of
/// a 200 answer.
async fn fetch(url: &url::Url) -> Result<Vec<u8>, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = url.host_str().ok_or("external_jwks: the URL has no host")?;
    let port = url.port_or_known_default().unwrap_or(80);
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let get = async {
        let mut stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("external_jwks: {url}: {e}"))?;
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("external_jwks: {url}: {e}"))?;
        let mut answer = Vec::new();
        stream
            .take((MAX_JWKS_BYTES + 16 * 1024) as u64)
            .read_to_end(&mut answer)
            .await
            .map_err(|e| format!("external_jwks: {url}: {e}"))?;
        Ok::<_, String>(answer)
    };
    let answer = tokio::time::timeout(FETCH_TIMEOUT, get)
        .await
        .map_err(|_| format!("external_jwks: {url}: no answer within {FETCH_TIMEOUT:?}"))??;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("external_jwks: {url}: not an HTTP answer"))?;
    let head = String::from_utf8_lossy(&answer[..split]);
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(format!("external_jwks: {url}: HTTP status {status}"));
    }
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Err(format!(
            "external_jwks: {url}: chunked answers are not read"
        ));
    }
    let body = answer[split + 4..].to_vec();
    if body.len() > MAX_JWKS_BYTES {
        return Err(format!(
            "external_jwks: {url}: larger than {MAX_JWKS_BYTES} bytes"
        ));
    }
    Ok(body)
}
