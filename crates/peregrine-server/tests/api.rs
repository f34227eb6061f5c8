//! The HTTP API through the router (no socket), plus one real-socket round trip: every
//! route, role and error, and the token flow end to end (app → token → hunting query over a
//! store ingested here → the result checked field by field).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use peregrine_server::auth::Claims;
use peregrine_server::{AppState, ServerConfig};
use serde_json::{Value, json};

// ---- health, discovery, routing errors ----

#[tokio::test]
async fn health() {
    let app = app();
    let r = app.get("/health").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "Healthy");
}

#[tokio::test]
async fn metadata_endpoints_point_here() {
    let app = app();
    let r = app.get("/metadata/endpoints?api-version=latest").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["authentication"]["loginEndpoint"],
        "http://localhost"
    );
    assert_eq!(r.body["resourceManager"], "http://localhost/");
    assert_eq!(r.body["microsoftGraphResourceId"], "http://localhost/");
    let r = app.get("/metadata/endpoints").await;
    assert_envelope(&r, 400, "MissingRequiredParameter");
}

#[tokio::test]
async fn public_url_wins_over_host() {
    let config = ServerConfig {
        public_url: Some("https://peregrine.example:8443/".into()),
        ..test_config()
    };
    let app = app_with(config);
    let r = app.get("/metadata/endpoints?api-version=2022-09-01").await;
    assert_eq!(
        r.body["authentication"]["loginEndpoint"],
        "https://peregrine.example:8443"
    );
}

#[tokio::test]
async fn unknown_route_and_method() {
    let app = app();
    let r = app.get("/api/nothing/here").await;
    assert_envelope(&r, 404, "NotFound");
    let r = app.get("/api/advancedhunting/run").await;
    assert_envelope(&r, 405, "MethodNotAllowed");
    // each error has its own tracking id
    let again = app.get("/api/nothing/here").await;
    assert_ne!(r.body["error"]["target"], again.body["error"]["target"]);
}

#[tokio::test]
async fn jwks_and_openid_discovery() {
    let app = app();
    let r = app.get(&format!("/{CONTOSO}/discovery/v2.0/keys")).await;
    assert_eq!(r.status, StatusCode::OK);
    let key = &r.body["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["alg"], "ES256");
    let kid = key["kid"].as_str().unwrap().to_string();
    let r = app
        .get(&format!("/{CONTOSO}/v2.0/.well-known/openid-configuration"))
        .await;
    assert_eq!(r.body["issuer"], format!("http://localhost/{CONTOSO}/v2.0"));
    assert_eq!(
        r.body["token_endpoint"],
        format!("http://localhost/{CONTOSO}/oauth2/v2.0/token")
    );
    assert_eq!(
        r.body["jwks_uri"],
        format!("http://localhost/{CONTOSO}/discovery/v2.0/keys")
    );
    let r = app
        .get(&format!("/{CONTOSO}/.well-known/openid-configuration"))
        .await;
    assert_eq!(r.body["issuer"], format!("http://localhost/{CONTOSO}/"));
    // the token's kid names the published key
    let app_reg = app.create_app(CONTOSO, &["AdvancedHunting.Read.All"]);
    let token = app.token(&app_reg, XDR).await;
    use base64::Engine;
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], kid);
}

// ---- tokens ----

#[tokio::test]
async fn token_v1_without_content_type() {
    let app = app();
    let reg = app.create_app(CONTOSO, &["AdvancedHunting.Read.All", "Incident.Read.All"]);
    let form = format!(
        "resource={}&client_id={}&client_secret={}&grant_type=client_credentials",
        urlencode(XDR),
        reg.client_id,
        urlencode(&reg.client_secret)
    );
    let r = app
        .post_form(&format!("/{CONTOSO}/oauth2/token"), &form, false)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], "3599");
    let token = r.body["access_token"].as_str().unwrap();
    let c = claims(token);
    assert_eq!(c["tid"], CONTOSO);
    assert_eq!(c["aud"], XDR);
    assert_eq!(c["appid"], reg.client_id.as_str());
    assert_eq!(
        c["roles"],
        json!(["AdvancedHunting.Read.All", "Incident.Read.All"])
    );
    assert_eq!(c["iss"], format!("http://localhost/{CONTOSO}/"));
    assert_eq!(c["ver"], "1.0");
    let now = chrono::Utc::now().timestamp();
    let exp = c["exp"].as_i64().unwrap();
    assert!((now + 3500..=now + 3600).contains(&exp), "{exp} vs {now}");
}

#[tokio::test]
async fn token_v2_scope() {
    let app = app();
    let reg = app.create_app(CONTOSO, &["ThreatHunting.Read.All"]);
    for content_type in [true, false] {
        let form = format!(
            "grant_type=client_credentials&client_id={}&scope={}&client_secret={}",
            reg.client_id,
            urlencode("https://graph.microsoft.com/.default"),
            urlencode(&reg.client_secret)
        );
        let r = app
            .post_form(
                &format!("/{CONTOSO}/oauth2/v2.0/token"),
                &form,
                content_type,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["expires_in"], 3599);
        let c = claims(r.body["access_token"].as_str().unwrap());
        assert_eq!(c["aud"], "https://graph.microsoft.com");
        assert_eq!(c["iss"], format!("http://localhost/{CONTOSO}/v2.0"));
        assert_eq!(c["ver"], "2.0");
    }
}

#[tokio::test]
async fn token_refusals_in_oauth_shape() {
    let app = app();
    let reg = app.create_app(CONTOSO, &["AdvancedHunting.Read.All"]);
    let v1 = format!("/{CONTOSO}/oauth2/token");
    let v2 = format!("/{CONTOSO}/oauth2/v2.0/token");
    let form = |id: &str, secret: &str, grant: &str, resource: &str| {
        format!(
            "grant_type={grant}&client_id={id}&client_secret={}&resource={}",
            urlencode(secret),
            urlencode(resource)
        )
    };
    let cases = [
        (
            v1.clone(),
            form(&reg.client_id, "wrong", "client_credentials", XDR),
            401,
            "invalid_client",
        ),
        (
            v1.clone(),
            form(
                "00000000-0000-0000-0000-000000000000",
                &reg.client_secret,
                "client_credentials",
                XDR,
            ),
            400,
            "unauthorized_client",
        ),
        (
            format!("/{FABRIKAM}/oauth2/token"),
            form(
                &reg.client_id,
                &reg.client_secret,
                "client_credentials",
                XDR,
            ),
            400,
            "unauthorized_client",
        ),
        (
            v1.clone(),
            form(&reg.client_id, &reg.client_secret, "password", XDR),
            400,
            "unsupported_grant_type",
        ),
        (
            v1.clone(),
            form(
                &reg.client_id,
                &reg.client_secret,
                "client_credentials",
                "https://example.com",
            ),
            400,
            "invalid_resource",
        ),
        (
            v1.clone(),
            format!("grant_type=client_credentials&resource={}", urlencode(XDR)),
            400,
            "invalid_request",
        ),
        (v1.clone(), String::new(), 400, "invalid_request"),
        (
            v2.clone(),
            format!(
                "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
                reg.client_id,
                urlencode(&reg.client_secret),
                urlencode(XDR)
            ),
            400,
            "invalid_scope",
        ),
        (
            v2.clone(),
            format!(
                "grant_type=client_credentials&client_id={}&client_secret={}",
                reg.client_id,
                urlencode(&reg.client_secret)
            ),
            400,
            "invalid_request",
        ),
    ];
    for (uri, body, status, error) in cases {
        let r = app.post_form(&uri, &body, true).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.text);
        assert_eq!(r.body["error"], error, "{body}: {}", r.text);
        assert!(
            r.body["error_description"]
                .as_str()
                .unwrap()
                .starts_with("AADSTS")
        );
        assert!(r.body["error_codes"][0].is_u64());
        assert!(r.body["trace_id"].is_string());
        assert!(r.body.get("access_token").is_none());
    }
}

#[tokio::test]
async fn accepted_audiences() {
    let app = app();
    let reg = app.create_app(CONTOSO, &["AdvancedHunting.Read.All"]);
    for resource in [
        "https://api.security.microsoft.com",
        "https://api.securitycenter.microsoft.com/",
        "https://api.securitycenter.windows.com",
        "https://graph.microsoft.com/",
        "8ee8fdad-f234-4243-8f3b-15c294843740",
        "http://localhost/",
    ] {
        let token = app.token(&reg, resource).await;
        let r = app.hunt(&token, "print 1").await;
        assert_eq!(r.status, StatusCode::OK, "{resource}: {}", r.text);
    }
}

// ---- 401 / 403 ----

fn claims_for(tenant: &str, aud: &str, exp_offset: i64, roles: &[&str]) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        aud: aud.into(),
        iss: format!("http://localhost/{tenant}/"),
        iat: (now - 7200) as u64,
        nbf: (now - 7200) as u64,
        exp: (now + exp_offset) as u64,
        appid: "a".into(),
        azp: "a".into(),
        tid: tenant.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        sub: "a".into(),
        oid: "a".into(),
        idtyp: "app".into(),
        ver: "1.0".into(),
    }
}

#[tokio::test]
async fn unauthorized_calls() {
    let app = app();
    let role = ["AdvancedHunting.Read.All"];
    let expired = app
        .state
        .keys
        .issue(&claims_for(CONTOSO, XDR, -3600, &role))
        .unwrap();
    let wrong_audience = app
        .state
        .keys
        .issue(&claims_for(
            CONTOSO,
            "https://management.azure.com",
            3600,
            &role,
        ))
        .unwrap();
    let other_key = peregrine_server::auth::Keys::new(&p256_key()).unwrap();
    let forged = other_key
        .issue(&claims_for(CONTOSO, XDR, 3600, &role))
        .unwrap();
    let good = app.token_with(CONTOSO, &role).await;
    let mut tampered: Vec<&str> = good.split('.').collect();
    let forged_payload = {
        use base64::Engine;
        let mut c = claims(&good);
        c["tid"] = json!(FABRIKAM);
        c["iss"] = json!(format!("http://localhost/{FABRIKAM}/"));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.to_string())
    };
    tampered[1] = &forged_payload;
    let tampered = tampered.join(".");
    let none_alg = {
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            e.encode(r#"{"alg":"none","typ":"JWT"}"#),
            good.split('.').nth(1).unwrap()
        )
    };
    for token in [
        Some(expired.as_str()),
        Some(wrong_audience.as_str()),
        Some(forged.as_str()),
        Some(tampered.as_str()),
        Some(none_alg.as_str()),
        Some("not-a-jwt"),
        None,
    ] {
        for uri in ["/api/advancedhunting/run", "/api/advancedqueries/run"] {
            let r = app.post_json(uri, token, r#"{"Query":"print 1"}"#).await;
            assert_envelope(&r, 401, "Unauthorized");
            assert_eq!(r.headers["www-authenticate"], "Bearer");
        }
    }
    // a signed token whose tid cannot name a tenant
    let bad_tenant = app
        .state
        .keys
        .issue(&claims_for("../etc", XDR, 3600, &role))
        .unwrap();
    let r = app.hunt(&bad_tenant, "print 1").await;
    assert_envelope(&r, 401, "Unauthorized");
    // a header that is not a bearer token
    let r = app
        .send(
            Request::post("/api/advancedhunting/run")
                .header("authorization", "Basic dXNlcjpwdw==")
                .body(Body::from(r#"{"Query":"print 1"}"#))
                .unwrap(),
        )
        .await;
    assert_envelope(&r, 401, "Unauthorized");
    // the good token passes
    assert_eq!(app.hunt(&good, "print 1").await.status, StatusCode::OK);
}

fn p256_key() -> p256::SecretKey {
    p256::SecretKey::from_slice(&[42u8; 32]).unwrap()
}

#[tokio::test]
async fn roles_per_route() {
    let app = app();
    let hunting = app.token_with(CONTOSO, &["AdvancedHunting.Read.All"]).await;
    let mde = app.token_with(CONTOSO, &["AdvancedQuery.Read.All"]).await;
    let graph = app.token_with(CONTOSO, &["ThreatHunting.Read.All"]).await;
    let none = app.token_with(CONTOSO, &["Incident.Read.All"]).await;
    let body = r#"{"Query":"print 1"}"#;
    let routes = [
        (
            "/api/advancedhunting/run",
            &hunting,
            "AdvancedHunting.Read.All",
        ),
        ("/api/advancedqueries/run", &mde, "AdvancedQuery.Read.All"),
        (
            "/v1.0/security/runHuntingQuery",
            &graph,
            "ThreatHunting.Read.All",
        ),
    ];
    for (uri, allowed, role) in routes {
        assert_eq!(
            app.post_json(uri, Some(allowed), body).await.status,
            StatusCode::OK,
            "{uri}"
        );
        for other in [&hunting, &mde, &graph, &none] {
            if other == allowed {
                continue;
            }
            let r = app.post_json(uri, Some(other), body).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}: {}", r.text);
            let message = if uri.starts_with("/v1.0/") {
                assert_eq!(r.body["error"]["code"], "Forbidden");
                assert!(r.body["error"]["innerError"]["request-id"].is_string());
                r.body["error"]["message"].as_str().unwrap().to_string()
            } else {
                assert_envelope(&r, 403, "Forbidden");
                r.body["error"]["message"].as_str().unwrap().to_string()
            };
            assert!(
                message.starts_with(&format!(
                    "Missing application roles. API required roles: {role}"
                )),
                "{message}"
            );
        }
    }
}

// ---- advanced hunting ----

const POWERSHELL: &str = "DeviceProcessEvents | where FileName =~ \"powershell.exe\" | project Timestamp, FileName, DeviceName, ReportId | order by Timestamp desc";

#[tokio::test]
async fn advanced_hunting_end_to_end() {
    let app = app();
    // create app → token → query, as a client would
    let reg = app.create_app(CONTOSO, &["AdvancedHunting.Read.All"]);
    let token = app.token(&reg, XDR).await;
    let r = app.hunt(&token, POWERSHELL).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["Stats", "Schema", "Results"]);
    let stats = &r.body["Stats"];
    let t = stats["ExecutionTime"].as_f64().unwrap();
    assert!(t > 0.0 && t < 60.0, "{t}");
    assert_eq!(stats["dataset_statistics"][0]["table_row_count"], 2);
    assert!(
        stats["dataset_statistics"][0]["table_size"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(
        r.body["Schema"],
        json!([
            {"Name": "Timestamp", "Type": "DateTime"},
            {"Name": "FileName", "Type": "String"},
            {"Name": "DeviceName", "Type": "String"},
            {"Name": "ReportId", "Type": "Int64"},
        ])
    );
    let results = r.body["Results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let first = results[0].as_object().unwrap();
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        ["Timestamp", "FileName", "DeviceName", "ReportId"]
    );
    assert_eq!(first["Timestamp"], app.recent.as_str());
    assert_eq!(first["FileName"], "powershell.exe");
    assert_eq!(first["DeviceName"], "dev1");
    assert_eq!(first["ReportId"], 101);
    assert_eq!(results[1]["ReportId"], 103);
    assert_eq!(results[1]["Timestamp"], app.older.as_str());
}

#[tokio::test]
async fn advanced_queries_same_shape() {
    let app = app();
    let token = app.token_with(CONTOSO, &["AdvancedQuery.Read.All"]).await;
    let r = app
        .post_json(
            "/api/advancedqueries/run",
            Some(&token),
            &json!({"Query": "DeviceProcessEvents | summarize n = count(), first = min(Timestamp) by DeviceName | order by DeviceName asc | extend ok = n > 1, ratio = n * 0.5, d = pack('k', n)"}).to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["Schema"],
        json!([
            {"Name": "DeviceName", "Type": "String"},
            {"Name": "n", "Type": "Int64"},
            {"Name": "first", "Type": "DateTime"},
            {"Name": "ok", "Type": "Boolean"},
            {"Name": "ratio", "Type": "Double"},
            {"Name": "d", "Type": "Object"},
        ])
    );
    assert_eq!(r.body["Results"][0]["DeviceName"], "dev1");
    assert_eq!(r.body["Results"][0]["n"], 2);
    assert_eq!(r.body["Results"][0]["ok"], true);
    assert_eq!(r.body["Results"][0]["ratio"], 1.0);
    assert_eq!(r.body["Results"][0]["d"], json!({"k": 2}));
    assert_eq!(r.body["Results"][1]["ok"], false);
}

#[tokio::test]
async fn graph_shape_and_timespan() {
    let app = app();
    let token = app.token_with(CONTOSO, &["ThreatHunting.Read.All"]).await;
    let run = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            app.post_json(
                "/v1.0/security/runHuntingQuery",
                Some(&token),
                &body.to_string(),
            )
            .await
        }
    };
    let r = run(json!({"Query": POWERSHELL})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults"
    );
    assert!(r.body.get("Stats").is_none());
    assert_eq!(
        r.body["schema"][0],
        json!({"name": "Timestamp", "type": "DateTime"})
    );
    assert_eq!(
        r.body["schema"][3],
        json!({"name": "ReportId", "type": "Int64"})
    );
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["results"][0]["ReportId"], 101);
    // Timespan: the last 6 hours see only the newer event, in each ISO-8601 form
    let six_hours_ago = hours_ago(6);
    let now = hours_ago(0);
    let four_days_ago = hours_ago(96);
    for span in [
        "PT6H".to_string(),
        six_hours_ago.clone(),
        format!("{six_hours_ago}/{now}"),
        format!("PT6H/{now}"),
        format!("{six_hours_ago}/PT7H"),
    ] {
        let r = run(json!({"Query": POWERSHELL, "Timespan": span})).await;
        assert_eq!(r.status, StatusCode::OK, "{span}: {}", r.text);
        assert_eq!(r.body["results"].as_array().unwrap().len(), 1, "{span}");
        assert_eq!(r.body["results"][0]["ReportId"], 101, "{span}");
    }
    let r = run(json!({"query": POWERSHELL, "timespan": format!("{four_days_ago}/P1D")})).await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 0, "{}", r.text);
    let r = run(json!({"Query": POWERSHELL, "Timespan": "P90D"})).await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    // a bad Timespan: 400 in Graph's envelope
    let r = run(json!({"Query": POWERSHELL, "Timespan": "last week"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"]["code"], "BadRequest");
    assert!(r.body["error"]["innerError"]["date"].is_string());
    assert!(r.body["error"].get("target").is_none());
}

#[tokio::test]
async fn a_tenant_sees_only_its_own_data() {
    let app = app();
    let contoso = app.token_with(CONTOSO, &["AdvancedHunting.Read.All"]).await;
    let fabrikam = app
        .token_with(FABRIKAM, &["AdvancedHunting.Read.All"])
        .await;
    let empty = app
        .token_with("emptyco", &["AdvancedHunting.Read.All"])
        .await;
    let q = "DeviceProcessEvents | project FileName | order by FileName asc";
    let r = app.hunt(&contoso, q).await;
    let names: Vec<&str> = r.body["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["FileName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cmd.exe", "powershell.exe", "powershell.exe"]);
    let r = app.hunt(&fabrikam, q).await;
    assert_eq!(r.body["Results"], json!([{"FileName": "fabrikam.exe"}]));
    let r = app
        .hunt(
            &fabrikam,
            "DeviceProcessEvents | where FileName != 'fabrikam.exe' | count",
        )
        .await;
    assert_eq!(r.body["Results"], json!([{"Count": 0}]));
    let r = app.hunt(&empty, q).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["Results"], json!([]));
}

#[tokio::test]
async fn request_body_errors() {
    let app = app();
    let token = app.token_with(CONTOSO, &["AdvancedHunting.Read.All"]).await;
    let run = |body: &'static str| app.post_json("/api/advancedhunting/run", Some(&token), body);
    assert_envelope(&run("{not json").await, 400, "InvalidRequestBody");
    assert_envelope(&run("[1,2]").await, 400, "InvalidRequestBody");
    assert_envelope(&run("").await, 400, "InvalidRequestBody");
    assert_envelope(&run(r#"{"Query": 5}"#).await, 400, "InvalidRequestBody");
    assert_envelope(&run("{}").await, 400, "MissingRequiredParameter");
    let big = format!(r#"{{"Query":"print '{}'"}}"#, "a".repeat(3 << 20));
    let r = app
        .post_json("/api/advancedhunting/run", Some(&token), &big)
        .await;
    assert_envelope(&r, 413, "RequestTooLarge");
    // property names are case-sensitive on the legacy API
    let r = run(r#"{"query": "print 1"}"#).await;
    assert_envelope(&r, 400, "MissingRequiredParameter");
    assert_eq!(
        r.body["error"]["message"],
        "Missing required parameter: Query"
    );
}

#[tokio::test]
async fn kql_errors_carry_code_and_position() {
    let app = app();
    let token = app.token_with(CONTOSO, &["AdvancedHunting.Read.All"]).await;
    let r = app
        .hunt(&token, "DeviceProcessEvents\n| project NoSuchColumn")
        .await;
    assert_envelope(&r, 400, "BadRequest");
    let d = &r.body["error"]["details"][0];
    assert_eq!(d["code"], "KQL2002");
    assert_eq!(d["line"], 2);
    assert_eq!(d["column"], 11);
    assert!(d["message"].as_str().unwrap().contains("NoSuchColumn"));
    let m = r.body["error"]["message"].as_str().unwrap();
    assert!(
        m.starts_with("KQL2002: ") && m.ends_with("(line 2, column 11)"),
        "{m}"
    );
    let r = app.hunt(&token, "DeviceProcessEvents | where").await;
    assert_envelope(&r, 400, "BadRequest");
    assert!(
        r.body["error"]["details"][0]["code"]
            .as_str()
            .unwrap()
            .starts_with("KQL1")
    );
    let r = app.hunt(&token, "NoSuchTable | take 1").await;
    assert_eq!(r.body["error"]["details"][0]["code"], "KQL2001");
}

// ---- limits and quotas ----

#[tokio::test]
async fn row_cap_and_query_size() {
    let app = app_with(ServerConfig {
        max_rows: 3,
        max_query_bytes: 200,
        ..test_config()
    });
    let token = app.token_with(CONTOSO, &["AdvancedHunting.Read.All"]).await;
    let r = app.hunt(&token, "range x from 1 to 3 step 1").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["Results"].as_array().unwrap().len(), 3);
    let r = app.hunt(&token, "range x from 1 to 4 step 1").await;
    assert_envelope(&r, 400, "BadRequest");
    let m = r.body["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("limit of 3 rows") && m.contains("summarize"),
        "{m}"
    );
    let long = format!("print x = '{}'", "a".repeat(300));
    let r = app.hunt(&token, &long).await;
    assert_envelope(&r, 400, "BadRequest");
}

/// `n` DeviceProcessEvents of `tenant`, `hours` ago: 97 file names on 13 devices, a
/// command line each.
fn ingest_events(app: &TestApp, tenant: &str, n: usize, hours: i64) {
    let ts = hours_ago(hours);
    let records: Vec<(usize, Value)> = (0..n)
        .map(|i| {
            (
                i + 1,
                json!({"Timestamp": ts, "FileName": format!("f{}.exe", i % 97), "DeviceName": format!("d{}", i % 13), "ReportId": i, "ProcessCommandLine": format!("cmd /c echo {i}")}),
            )
        })
        .collect();
    app.store
        .ingest(tenant, "DeviceProcessEvents", &records)
        .unwrap();
}

#[tokio::test]
async fn query_timeout_cancels_and_server_keeps_serving() {
    let app = app_with(ServerConfig {
        query_timeout_secs: 0.5,
        query_threads: 1,
        ..test_config()
    });
    // 40,000 events: the scan yields between its batches, where a cancelled query stops.
    ingest_events(&app, "bulk", 40_000, 3);
    let token = app.token_with("bulk", &["AdvancedHunting.Read.All"]).await;
    let heavy = std::env::var("PEREGRINE_TEST_HEAVY").unwrap_or_else(|_| {
        "DeviceProcessEvents | extend y = range(1, 300, 1) | mv-expand y | extend s = strcat(FileName, tostring(y), DeviceName) | summarize dcount(s)".into()
    });
    let started = std::time::Instant::now();
    let r = app.hunt(&token, &heavy).await;
    let answered = started.elapsed();
    assert_envelope(&r, 408, "RequestTimeout");
    assert_eq!(
        r.body["error"]["message"],
        "Query exceeded the timeout period."
    );
    assert!(answered.as_secs_f64() < 5.0, "{answered:?}");
    // the HTTP threads answer while the query runtime is still busy
    let h = app.get("/health").await;
    assert_eq!(h.status, StatusCode::OK);
    assert!(h.body["queryTasks"].as_u64().is_some());
    // and the next query gets the query thread once the cancelled one has stopped
    let started = std::time::Instant::now();
    while app.state.query_tasks() > 0 {
        assert!(
            started.elapsed().as_secs() < 60,
            "the cancelled query still runs"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    eprintln!(
        "timeout answered after {answered:?}; query tasks gone {:?} later",
        started.elapsed()
    );
    assert_eq!(app.hunt(&token, "print 1").await.status, StatusCode::OK);
    // the same query without the timeout (for the report): how long it would have run
    if std::env::var_os("PEREGRINE_TEST_HEAVY_FULL").is_some() {
        let mut relaxed = app.state.clone();
        relaxed.config = std::sync::Arc::new(ServerConfig {
            query_timeout_secs: 600.0,
            ..(*app.state.config).clone()
        });
        let started = std::time::Instant::now();
        let response = tower::ServiceExt::oneshot(
            peregrine_server::router(relaxed),
            Request::post("/api/advancedhunting/run")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from(json!({ "Query": heavy }).to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
        eprintln!(
            "uncancelled: {} after {:?}",
            response.status(),
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn hunting_quota_429() {
    let app = app_with(ServerConfig {
        hunting_calls_per_minute: 3,
        ..test_config()
    });
    let token = app.token_with(CONTOSO, &["AdvancedHunting.Read.All"]).await;
    for _ in 0..3 {
        assert_eq!(app.hunt(&token, "print 1").await.status, StatusCode::OK);
    }
    let r = app.hunt(&token, "print 1").await;
    assert_envelope(&r, 429, "TooManyRequests");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let m = r.body["error"]["message"].as_str().unwrap();
    assert!(
        m.starts_with("API calls quota exceeded! maximum allowed 3 per 00:01:00."),
        "{m}"
    );
    // per tenant: another tenant is not throttled
    let other = app
        .token_with(FABRIKAM, &["AdvancedHunting.Read.All"])
        .await;
    assert_eq!(app.hunt(&other, "print 1").await.status, StatusCode::OK);
}

#[tokio::test]
async fn quota_is_exact_with_50_racing_clients() {
    let app = app_with(ServerConfig {
        hunting_calls_per_minute: 15,
        query_threads: 2,
        ..test_config()
    });
    let token = app.token_with(CONTOSO, &["AdvancedHunting.Read.All"]).await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let router = app.router.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let response = router
                .oneshot(
                    Request::post("/api/advancedhunting/run")
                        .header("authorization", format!("Bearer {token}"))
                        .body(Body::from(r#"{"Query":"print 1"}"#))
                        .unwrap(),
                )
                .await
                .unwrap();
            response.status()
        }));
    }
    let mut ok = 0;
    let mut throttled = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((ok, throttled), (15, 35));
}

/// The `Retry-After` header of a reply, in seconds.
fn retry_after(r: &Reply) -> u64 {
    r.headers["retry-after"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn execution_time_budget_refuses_once_used_up() {
    // 250 ms of execution per hour; no call quota
    let app = app_with(ServerConfig {
        hunting_execution_secs_per_hour: 0.25,
        ..test_config()
    });
    let token = app.token_with(CONTOSO, &["AdvancedHunting.Read.All"]).await;
    let query = "range x from 1 to 200000 step 1 | summarize n = count() by k = x % 1000";
    let first = std::time::Instant::now();
    let mut used = 0.0;
    let mut calls = 0;
    let refused = loop {
        let r = app.hunt(&token, query).await;
        if r.status != StatusCode::OK {
            break r;
        }
        // admitted only while under the budget
        assert!(used < 0.25, "admitted with {used} s used");
        used += r.body["Stats"]["ExecutionTime"].as_f64().unwrap();
        calls += 1;
        assert!(calls < 500, "never refused ({used} s used)");
    };
    assert!(used >= 0.25, "refused with {used} s used");
    assert_envelope(&refused, 429, "TooManyRequests");
    let m = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        m.starts_with("You have exceeded processing resources allocated to this tenant (query execution time quota: 250 ms per 01:00:00). You can run queries again in "),
        "{m}"
    );
    // the first charge leaves the hour first: back in (3600 s − the time since it)
    let retry = retry_after(&refused);
    let since = first.elapsed().as_secs();
    assert!(
        (3600 - since - 1..=3600).contains(&retry),
        "{retry} after {since} s"
    );
    assert!(m.ends_with(&format!(" ({retry} seconds).")), "{m}");
    // every route of the tenant is refused, another tenant is not
    let graph = app.token_with(CONTOSO, &["ThreatHunting.Read.All"]).await;
    let r = app
        .post_json(
            "/v1.0/security/runHuntingQuery",
            Some(&graph),
            r#"{"Query":"print 1"}"#,
        )
        .await;
    assert_eq!(r.status.as_u16(), 429, "{}", r.text);
    let other = app
        .token_with(FABRIKAM, &["AdvancedHunting.Read.All"])
        .await;
    assert_eq!(app.hunt(&other, "print 1").await.status, StatusCode::OK);
    eprintln!("refused after {calls} calls, {used:.3} s of execution");
}

#[tokio::test]
async fn a_timed_out_query_is_charged_too() {
    let app = app_with(ServerConfig {
        query_timeout_secs: 0.4,
        hunting_execution_secs_per_hour: 0.3,
        query_threads: 1,
        ..test_config()
    });
    ingest_events(&app, "bulk", 20_000, 3);
    let token = app.token_with("bulk", &["AdvancedHunting.Read.All"]).await;
    let heavy = "DeviceProcessEvents | extend y = range(1, 300, 1) | mv-expand y | extend s = strcat(FileName, tostring(y), DeviceName) | summarize dcount(s)";
    let r = app.hunt(&token, heavy).await;
    assert_envelope(&r, 408, "RequestTimeout");
    // at least the 0.4 s until the timeout were charged: over the 0.3 s budget
    let r = app.hunt(&token, "print 1").await;
    assert_envelope(&r, 429, "TooManyRequests");
    assert!(
        (3598..=3600).contains(&retry_after(&r)),
        "{}",
        retry_after(&r)
    );
}

/// Records the charges made, and refuses nothing.
#[derive(Default)]
struct Charges(std::sync::Mutex<Vec<(String, std::time::Duration)>>);

impl peregrine_server::quota::TimeQuota for Charges {
    fn check(
        &self,
        _tenant: &str,
        _now: std::time::Instant,
    ) -> Result<(), peregrine_server::quota::TimeRefusal> {
        Ok(())
    }

    fn charge(&self, tenant: &str, used: std::time::Duration, _at: std::time::Instant) {
        self.0.lock().unwrap().push((tenant.to_string(), used));
    }
}

#[tokio::test]
async fn every_query_is_charged_as_measured() {
    let app = app();
    let charges = std::sync::Arc::new(Charges::default());
    let quota: std::sync::Arc<dyn peregrine_server::quota::TimeQuota> =
        std::sync::Arc::<Charges>::clone(&charges);
    let state = app.state.clone().with_hunting_time(quota);
    let router = peregrine_server::router(state);
    let token = app.token_with(CONTOSO, &["AdvancedHunting.Read.All"]).await;
    let mut statuses = Vec::new();
    for query in ["DeviceProcessEvents | count", "print x", "print 1 | where"] {
        let response = tower::ServiceExt::oneshot(
            router.clone(),
            Request::post("/api/advancedhunting/run")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from(json!({ "Query": query }).to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 400, 400]);
    let charged = charges.0.lock().unwrap().clone();
    // the failing ones too, each with its own measured time
    assert_eq!(charged.len(), 3, "{charged:?}");
    assert!(
        charged
            .iter()
            .all(|(t, d)| t == CONTOSO && *d > std::time::Duration::ZERO),
        "{charged:?}"
    );
}

#[tokio::test]
async fn stats_are_measured() {
    let app = app();
    for (tenant, n) in [("small", 2_000usize), ("big", 20_000)] {
        ingest_events(&app, tenant, n, 2);
    }
    let mut seen = Vec::new();
    for (tenant, n) in [("small", 2_000u64), ("big", 20_000)] {
        let token = app.token_with(tenant, &["AdvancedHunting.Read.All"]).await;
        let r = app
            .hunt(
                &token,
                "DeviceProcessEvents | summarize n = count(), c = dcount(ProcessCommandLine) by FileName",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let s = &r.body["Stats"];
        eprintln!("{tenant}: {s}");
        assert_eq!(r.body["Results"].as_array().unwrap().len(), 97);
        // every row of the table was read, and its bytes
        assert_eq!(s["input_dataset_statistics"]["rows"]["scanned"], n);
        let bytes = s["input_dataset_statistics"]["bytes"]["scanned"]
            .as_u64()
            .unwrap();
        assert!(bytes > 0, "{s}");
        let cpu = s["resource_usage"]["cpu"]["total cpu"].as_str().unwrap();
        assert_eq!(s["resource_usage"]["cpu"]["user"], cpu);
        let cpu_secs: f64 = cpu
            .split(':')
            .fold(0.0, |acc, part| acc * 60.0 + part.parse::<f64>().unwrap());
        let wall = s["ExecutionTime"].as_f64().unwrap();
        assert!(cpu_secs > 0.0 && wall > 0.0, "{s}");
        // two partitions at most run at once
        assert!(cpu_secs < wall * 2.0 + 0.05, "{s}");
        let peak = s["resource_usage"]["memory"]["peak_per_node"]
            .as_u64()
            .unwrap();
        assert!(peak > 0, "{s}");
        assert_eq!(s["dataset_statistics"][0]["table_row_count"], 97);
        seen.push((bytes, peak));
    }
    // a bigger table: more bytes read, more memory held (20,000 distinct command lines)
    assert!(seen[1].0 > seen[0].0, "{seen:?}");
    assert!(seen[1].1 > seen[0].1, "{seen:?}");
    // a filter pushed into the scan: the rows it dropped were read too
    let token = app.token_with("big", &["AdvancedHunting.Read.All"]).await;
    let r = app
        .hunt(
            &token,
            "DeviceProcessEvents | where FileName == 'f1.exe' | count",
        )
        .await;
    assert_eq!(r.body["Results"][0]["Count"], 207, "{}", r.text);
    let scanned = r.body["Stats"]["input_dataset_statistics"]["rows"]["scanned"]
        .as_u64()
        .unwrap();
    assert!((207..=20_000).contains(&scanned), "{scanned}");
    // fewer columns, fewer bytes
    let narrow = r.body["Stats"]["input_dataset_statistics"]["bytes"]["scanned"]
        .as_u64()
        .unwrap();
    assert!(narrow < seen[1].0, "{narrow} vs {seen:?}");
}

#[tokio::test]
async fn result_size_limit() {
    let app = app_with(ServerConfig {
        max_result_bytes: 2_000,
        ..test_config()
    });
    let token = app
        .token_with(
            CONTOSO,
            &["AdvancedHunting.Read.All", "ThreatHunting.Read.All"],
        )
        .await;
    let r = app.hunt(&token, "range x from 1 to 10 step 1").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.len() <= 2_000);
    let r = app.hunt(&token, "range x from 1 to 200 step 1").await;
    assert_envelope(&r, 400, "BadRequest");
    assert_eq!(
        r.body["error"]["message"],
        "Query execution has exceeded the allowed result size. Optimize your query by limiting the number of results and try again. The limit is 2000 bytes of response."
    );
    let r = app
        .post_json(
            "/v1.0/security/runHuntingQuery",
            Some(&token),
            r#"{"Query":"range x from 1 to 200 step 1"}"#,
        )
        .await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "BadRequest");
    assert!(r.body["error"]["innerError"]["request-id"].is_string());
}

// ---- ingest over HTTP ----

const WRITE: &str = peregrine_server::ingest::INGEST_ROLE;

fn process_event(ts: &str, file: &str, report: i64) -> Value {
    json!({"Timestamp": ts, "FileName": file, "DeviceName": "web1", "ReportId": report})
}

#[tokio::test]
async fn ingest_ndjson_then_hunt_at_once() {
    let app = app();
    let writer = app.token_with(CONTOSO, &[WRITE]).await;
    let ts = hours_ago(0);
    let body = format!(
        "{}\n\n{}\n",
        process_event(&ts, "ingested.exe", 1001),
        process_event(&ts, "ingested.exe", 1002)
    );
    let r = app
        .ingest("/api/ingest/DeviceProcessEvents", Some(&writer), body)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"events": 2, "tables": {"DeviceProcessEvents": 2}, "files": 1})
    );
    // queryable at once, by the same tenant
    let q = "DeviceProcessEvents | where FileName == 'ingested.exe' | project ReportId, DeviceName | order by ReportId asc";
    assert_eq!(
        app.hunt_rows(CONTOSO, q).await,
        json!([{"ReportId": 1001, "DeviceName": "web1"}, {"ReportId": 1002, "DeviceName": "web1"}])
    );
    assert_eq!(
        app.hunt_rows(CONTOSO, "DeviceProcessEvents | count").await,
        json!([{"Count": 5}])
    );
    // and by no other tenant
    assert_eq!(app.hunt_rows(FABRIKAM, q).await, json!([]));
    assert_eq!(
        app.hunt_rows(FABRIKAM, "DeviceProcessEvents | count").await,
        json!([{"Count": 1}])
    );
}

#[tokio::test]
async fn ingest_json_array_and_envelope() {
    let app = app();
    let writer = app.token_with(FABRIKAM, &[WRITE]).await;
    let ts = hours_ago(0);
    let array = json!([
        {"Timestamp": ts, "DeviceName": "f1", "ActionType": "LogonSuccess", "AccountName": "alice", "ReportId": 1},
        {"Timestamp": ts, "DeviceName": "f1", "ActionType": "LogonFailed", "AccountName": "bob", "ReportId": 2},
    ]);
    let r = app
        .ingest(
            "/api/ingest/DeviceLogonEvents",
            Some(&writer),
            array.to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["tables"], json!({"DeviceLogonEvents": 2}));
    let envelope = json!({"records": [
        {"time": ts, "tenantId": "some-defender-tenant", "operationName": "Publish",
         "category": "AdvancedHunting-DeviceProcessEvents",
         "properties": process_event(&ts, "exported.exe", 77)},
        {"time": ts, "tenantId": "some-defender-tenant", "operationName": "Publish",
         "category": "AdvancedHunting-DeviceLogonEvents",
         "properties": {"Timestamp": ts, "DeviceName": "f2", "ActionType": "LogonSuccess", "AccountName": "carol", "ReportId": 3}},
    ]});
    let r = app
        .ingest("/api/ingest", Some(&writer), envelope.to_string())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"events": 2, "tables": {"DeviceLogonEvents": 1, "DeviceProcessEvents": 1}, "files": 2})
    );
    // the token's tenant got them (the records' tenantId is not used)
    assert_eq!(
        app.hunt_rows(
            FABRIKAM,
            "DeviceLogonEvents | project AccountName | order by AccountName asc"
        )
        .await,
        json!([{"AccountName": "alice"}, {"AccountName": "bob"}, {"AccountName": "carol"}])
    );
    assert_eq!(
        app.hunt_rows(
            FABRIKAM,
            "DeviceProcessEvents | where FileName == 'exported.exe' | project ReportId"
        )
        .await,
        json!([{"ReportId": 77}])
    );
    assert_eq!(
        app.hunt_rows(CONTOSO, "DeviceLogonEvents | count").await,
        json!([{"Count": 0}])
    );
    assert_eq!(app.stored_files("some-defender-tenant"), (0, false));
}

#[tokio::test]
async fn ingest_errors_store_nothing() {
    let app = app_with(ServerConfig {
        max_ingest_bytes: 4096,
        ..test_config()
    });
    let writer = app.token_with(CONTOSO, &[WRITE]).await;
    let before = app.stored_files(CONTOSO);
    assert!(!before.1);
    let ts = hours_ago(0);
    let good = process_event(&ts, "never.exe", 1).to_string();
    let table = "/api/ingest/DeviceProcessEvents";

    // bad JSON on line 3 (NDJSON): the line and the column in the line
    let r = app
        .ingest(
            table,
            Some(&writer),
            format!("{good}\n{good}\n{{\"Timestamp\": \n"),
        )
        .await;
    assert_envelope(&r, 400, "InvalidRequestBody");
    let d = &r.body["error"]["details"];
    assert_eq!(d.as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(d[0]["line"], 3);
    assert_eq!(d[0]["code"], "InvalidJson");
    assert!(
        d[0]["message"].as_str().unwrap().contains("column"),
        "{}",
        r.text
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("InvalidJson: "),
        "{}",
        r.text
    );

    // a value of the wrong type: line, column, expected type, code
    let bad = json!({"Timestamp": ts, "FileName": "x.exe", "ReportId": "not a number"});
    let r = app
        .ingest(table, Some(&writer), format!("{good}\n{bad}\n"))
        .await;
    assert_envelope(&r, 400, "InvalidRequestBody");
    assert_eq!(
        r.body["error"]["details"],
        json!([{"line": 2, "column": "ReportId", "code": "TypeMismatch",
                "message": "expected a long value, got \"not a number\"", "expected": "long"}])
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("InvalidRecords: 1 record problem(s); nothing was stored"),
        "{}",
        r.text
    );
    // the same in a JSON array: the record's index
    let r = app
        .ingest(
            table,
            Some(&writer),
            json!([process_event(&ts, "a", 1), bad.clone()]).to_string(),
        )
        .await;
    assert_envelope(&r, 400, "InvalidRequestBody");
    assert_eq!(r.body["error"]["details"][0]["line"], 2);
    assert_eq!(r.body["error"]["details"][0]["expected"], "long");
    // an unknown column and a missing Timestamp
    let r = app
        .ingest(
            table,
            Some(&writer),
            json!({"FileName": "x", "Nope": 1}).to_string(),
        )
        .await;
    assert_envelope(&r, 400, "InvalidRequestBody");
    let codes: Vec<&str> = r.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["UnknownColumn", "MissingTimestamp"]);
    // an empty body
    let r = app.ingest(table, Some(&writer), "").await;
    assert_envelope(&r, 400, "InvalidRequestBody");

    // the envelope: not JSON, no records array, an unknown category, one bad record
    let r = app
        .ingest("/api/ingest", Some(&writer), "{\"records\": [")
        .await;
    assert_envelope(&r, 400, "InvalidRequestBody");
    assert_eq!(r.body["error"]["details"][0]["code"], "InvalidJson");
    let r = app
        .ingest("/api/ingest", Some(&writer), "{\"rows\": []}")
        .await;
    assert_envelope(&r, 400, "InvalidRequestBody");
    let envelope = json!({"records": [
        {"category": "AdvancedHunting-DeviceProcessEvents", "properties": process_event(&ts, "a", 1)},
        {"category": "AdvancedHunting-NoSuchTable", "properties": {}},
        {"category": "AdvancedHunting-DeviceProcessEvents", "properties": bad},
    ]});
    let r = app
        .ingest("/api/ingest", Some(&writer), envelope.to_string())
        .await;
    assert_envelope(&r, 400, "InvalidRequestBody");
    assert_eq!(
        r.body["error"]["details"][0],
        json!({"line": 2, "column": "category", "code": "UnknownTable", "message": "unknown table 'NoSuchTable'"})
    );
    assert_eq!(r.body["error"]["details"][1]["line"], 3);
    assert_eq!(r.body["error"]["details"][1]["code"], "TypeMismatch");

    // an unknown table in the path
    let r = app
        .ingest("/api/ingest/NoSuchTable", Some(&writer), good.clone())
        .await;
    assert_envelope(&r, 404, "ResourceNotFound");
    assert_eq!(
        r.body["error"]["message"],
        "UnknownTable: 'NoSuchTable' is not an advanced hunting table"
    );

    // over the limit (4096 bytes): while reading, by Content-Length, and for the envelope
    let big = format!("{good}\n").repeat(4096 / good.len() + 2);
    assert!(big.len() > 4096);
    let r = app.ingest(table, Some(&writer), big.clone()).await;
    assert_envelope(&r, 413, "RequestTooLarge");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit of 4096 bytes"),
        "{}",
        r.text
    );
    let r = app
        .send(
            Request::post(table)
                .header("host", "localhost")
                .header("authorization", format!("Bearer {writer}"))
                .header("content-length", big.len().to_string())
                .body(Body::from(big.clone()))
                .unwrap(),
        )
        .await;
    assert_envelope(&r, 413, "RequestTooLarge");
    let record = json!({"category": "AdvancedHunting-DeviceProcessEvents", "properties": process_event(&ts, "a", 1)});
    let big_envelope = json!({ "records": vec![record; 60] });
    let r = app
        .ingest("/api/ingest", Some(&writer), big_envelope.to_string())
        .await;
    assert_envelope(&r, 413, "RequestTooLarge");
    // nothing of any refused request was stored; a good one within the limit still is
    assert_eq!(app.stored_files(CONTOSO), before);
    assert_eq!(
        app.hunt_rows(CONTOSO, "DeviceProcessEvents | count").await,
        json!([{"Count": 3}])
    );
    let r = app.ingest(table, Some(&writer), good).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(app.stored_files(CONTOSO).0, before.0 + 1);
}

#[tokio::test]
async fn ingest_needs_a_token_and_the_write_role() {
    let app = app();
    let ts = hours_ago(0);
    let body = process_event(&ts, "denied.exe", 1).to_string();
    let hunting = app
        .token_with(
            CONTOSO,
            &[
                "AdvancedHunting.Read.All",
                "AdvancedQuery.Read.All",
                "ThreatHunting.Read.All",
            ],
        )
        .await;
    let writer = app.token_with(CONTOSO, &[WRITE]).await;
    for uri in ["/api/ingest/DeviceProcessEvents", "/api/ingest"] {
        let r = app.ingest(uri, None, body.clone()).await;
        assert_envelope(&r, 401, "Unauthorized");
        let r = app.ingest(uri, Some("not-a-jwt"), body.clone()).await;
        assert_envelope(&r, 401, "Unauthorized");
        // the hunting roles do not allow ingest
        let r = app.ingest(uri, Some(&hunting), body.clone()).await;
        assert_envelope(&r, 403, "Forbidden");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Missing application roles. API required roles: Events.Write.All"),
            "{}",
            r.text
        );
    }
    // an unknown table is not revealed before the role is checked
    let r = app
        .ingest("/api/ingest/NoSuchTable", Some(&hunting), body.clone())
        .await;
    assert_envelope(&r, 403, "Forbidden");
    // nor does the write role allow hunting
    let r = app.hunt(&writer, "print 1").await;
    assert_envelope(&r, 403, "Forbidden");
    assert_eq!(
        app.hunt_rows(
            CONTOSO,
            "DeviceProcessEvents | where FileName == 'denied.exe' | count"
        )
        .await,
        json!([{"Count": 0}])
    );
    // GET is not a route
    let r = app.get("/api/ingest/DeviceProcessEvents").await;
    assert_envelope(&r, 405, "MethodNotAllowed");
}

// ---- a real socket ----

#[tokio::test]
async fn real_socket_round_trip() {
    let app = app();
    let reg = app.create_app(CONTOSO, &["AdvancedHunting.Read.All"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state: AppState = app.state.clone();
    let server = tokio::spawn(peregrine_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let health = http(
        addr,
        "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&resource={}",
        reg.client_id,
        urlencode(&reg.client_secret),
        urlencode(XDR)
    );
    let reply = http(
        addr,
        &format!(
            "POST /{CONTOSO}/oauth2/token HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        ),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let body: Value = serde_json::from_str(reply.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let token = body["access_token"].as_str().unwrap();
    let query = r#"{"Query":"DeviceProcessEvents | count"}"#;
    let reply = http(
        addr,
        &format!(
            "POST /api/advancedhunting/run HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{query}",
            query.len()
        ),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let body: Value = serde_json::from_str(reply.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["Results"], json!([{"Count": 3}]));
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// One HTTP/1.1 exchange over a fresh connection (`Connection: close`): the whole reply.
async fn http(addr: std::net::SocketAddr, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.unwrap();
    String::from_utf8_lossy(&reply).into_owned()
}
