//! Tokens of an external identity provider (`external_issuer`, `external_audiences`,
//! `external_jwks`): a key pair made here, its JWKS in a file or served over HTTP on
//! 127.0.0.1, tokens signed with it checked like the server's own (tid, roles, aud, exp).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use peregrine_server::ServerConfig;
use serde_json::{Value, json};

const ISSUER: &str = "https://idp.example.org/{tid}/v2.0";
const AUDIENCE: &str = "api://peregrine";

/// A provider's signing key: its JWKS document, and tokens signed with it.
struct Idp {
    key: EncodingKey,
    kid: String,
    jwks: Value,
}

impl Idp {
    fn new(seed: u8) -> Idp {
        let secret = p256::SecretKey::from_slice(&[seed; 32]).unwrap();
        // The server's own key type makes the JWK (RFC 7638 kid) of the public key.
        let jwks = peregrine_server::auth::Keys::new(&secret).unwrap().jwks();
        let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_string();
        let der = secret.to_pkcs8_der().unwrap();
        Idp {
            key: EncodingKey::from_ec_der(der.as_bytes()),
            kid,
            jwks,
        }
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }

    fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_string());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

/// Claims as an IdP issues them: v2 style (`azp`, no `appid`), `exp` in an hour.
fn idp_claims(tid: &str, aud: Value, roles: &[&str]) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": ISSUER.replace("{tid}", tid),
        "aud": aud,
        "tid": tid,
        "azp": "0d9f6a1e-idp-client",
        "sub": "0d9f6a1e-idp-client",
        "roles": roles,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
    })
}

fn config(jwks: &str) -> ServerConfig {
    ServerConfig {
        external_issuer: Some(ISSUER.into()),
        external_audiences: vec![AUDIENCE.into()],
        external_jwks: Some(jwks.into()),
        ..test_config()
    }
}

const HUNT: &str =
    "DeviceProcessEvents | summarize n = count() by DeviceName | order by DeviceName asc";

#[tokio::test]
async fn tokens_of_a_trusted_provider_from_a_jwks_file() {
    let idp = Idp::new(11);
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, idp.jwks.to_string()).unwrap();
    let app = app_with(config(jwks.to_str().unwrap()));
    let role = ["AdvancedHunting.Read.All"];

    // tid selects the data, as with the server's own tokens
    let good = idp.sign(&idp_claims(CONTOSO, json!(AUDIENCE), &role));
    let r = app.hunt(&good, HUNT).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["Results"],
        json!([{"DeviceName": "dev1", "n": 2}, {"DeviceName": "dev2", "n": 1}])
    );
    let other = idp.sign(&idp_claims(FABRIKAM, json!(["https://x", AUDIENCE]), &role));
    let r = app.hunt(&other, HUNT).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["Results"], json!([{"DeviceName": "f1", "n": 1}]));

    // roles per route
    let r = app
        .post_json(
            "/api/advancedqueries/run",
            Some(&good),
            r#"{"Query":"print 1"}"#,
        )
        .await;
    assert_envelope(&r, 403, "Forbidden");
    assert_eq!(
        r.body["error"]["message"],
        "Missing application roles. API required roles: AdvancedQuery.Read.All, AdvancedQuery.Read, application roles: AdvancedHunting.Read.All"
    );

    // refused: another audience, expired, no tid, another key under the same kid, an
    // issuer that is not the provider's, a tid that cannot name a tenant
    let mut expired = idp_claims(CONTOSO, json!(AUDIENCE), &role);
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let mut no_tid = idp_claims(CONTOSO, json!(AUDIENCE), &role);
    no_tid.as_object_mut().unwrap().remove("tid");
    no_tid["iss"] = json!(ISSUER.replace("{tid}", ""));
    let mut other_issuer = idp_claims(CONTOSO, json!(AUDIENCE), &role);
    other_issuer["iss"] = json!(format!("https://evil.example/{CONTOSO}/v2.0"));
    let impostor = Idp::new(12);
    let refused = [
        (
            "audience",
            idp.sign(&idp_claims(CONTOSO, json!("api://other"), &role)),
        ),
        (
            "server's own audience when audiences are configured",
            idp.sign(&idp_claims(CONTOSO, json!(XDR), &role)),
        ),
        ("expired", idp.sign(&expired)),
        ("no tid", idp.sign(&no_tid)),
        (
            "forged",
            impostor.sign_as(&idp.kid, &idp_claims(CONTOSO, json!(AUDIENCE), &role)),
        ),
        ("other issuer", idp.sign(&other_issuer)),
        (
            "bad tenant",
            idp.sign(&idp_claims("../x", json!(AUDIENCE), &role)),
        ),
    ];
    for (why, token) in &refused {
        let r = app.hunt(token, "print 1").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{why}: {}", r.text);
        assert_envelope(&r, 401, "Unauthorized");
    }
    // the server's own tokens still work beside the provider's
    let own = app.token_with(CONTOSO, &role).await;
    assert_eq!(app.hunt(&own, "print 1").await.status, StatusCode::OK);

    // without the configuration, the provider's tokens are not trusted
    let plain = common::app();
    assert_envelope(&plain.hunt(&good, "print 1").await, 401, "Unauthorized");
}

#[tokio::test]
async fn default_audiences_are_the_servers_own() {
    let idp = Idp::new(13);
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, idp.jwks.to_string()).unwrap();
    let app = app_with(ServerConfig {
        external_audiences: Vec::new(),
        ..config(jwks.to_str().unwrap())
    });
    let role = ["ThreatHunting.Read.All"];
    let graph = idp.sign(&idp_claims(
        CONTOSO,
        json!("https://graph.microsoft.com"),
        &role,
    ));
    let r = app
        .post_json(
            "/v1.0/security/runHuntingQuery",
            Some(&graph),
            r#"{"Query":"print 1"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post_json(
            "/v1.0/security/runHuntingQuery",
            Some(&idp.sign(&idp_claims(CONTOSO, json!(AUDIENCE), &role))),
            r#"{"Query":"print 1"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
}

#[tokio::test]
async fn misconfiguration_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = peregrine_store::Store::open_defender(dir.path()).unwrap();
    let missing = dir.path().join("nope.json");
    for (config, expected) in [
        (config(missing.to_str().unwrap()), "nope.json"),
        (
            ServerConfig {
                external_jwks: None,
                ..config("x")
            },
            "set both",
        ),
        (config("https://idp.example.org/keys"), "only http://"),
    ] {
        let e = peregrine_server::AppState::new(config, std::sync::Arc::clone(&store))
            .err()
            .unwrap_or_default();
        assert!(e.contains(expected), "{e}");
    }
    let empty = dir.path().join("empty.json");
    std::fs::write(
        &empty,
        r#"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h"}]}"#,
    )
    .unwrap();
    let e = peregrine_server::AppState::new(config(empty.to_str().unwrap()), store)
        .err()
        .unwrap_or_default();
    assert!(e.contains("no usable public key"), "{e}");
}

/// Serves `body` to every request on 127.0.0.1, counting them.
async fn jwks_server(
    body: String,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let served = std::sync::Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            served.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let answer = if request.starts_with("GET /tenant/keys ") {
                format!(
                    "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string()
            };
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    (addr, count)
}

#[tokio::test]
async fn jwks_fetched_over_http_on_first_use() {
    let idp = Idp::new(14);
    let (addr, count) = jwks_server(idp.jwks.to_string()).await;
    let app = app_with(config(&format!("http://{addr}/tenant/keys")));
    // nothing fetched while the state was made
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 0);
    let role = ["AdvancedHunting.Read.All"];
    let token = idp.sign(&idp_claims(CONTOSO, json!(AUDIENCE), &role));
    let r = app.hunt(&token, HUNT).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);
    // the keys are kept; a token naming an unknown key does not refetch at once
    assert_eq!(app.hunt(&token, "print 1").await.status, StatusCode::OK);
    let unknown = idp.sign_as("rotated", &idp_claims(CONTOSO, json!(AUDIENCE), &role));
    assert_envelope(&app.hunt(&unknown, "print 1").await, 401, "Unauthorized");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);

    // a URL that answers 404: the provider's tokens are refused, nothing else breaks
    let app = app_with(config(&format!("http://{addr}/elsewhere")));
    assert_envelope(&app.hunt(&token, "print 1").await, 401, "Unauthorized");
    let own = app.token_with(CONTOSO, &role).await;
    assert_eq!(app.hunt(&own, "print 1").await.status, StatusCode::OK);
}
