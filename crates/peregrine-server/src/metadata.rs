//! `GET /metadata/endpoints?api-version=...`: the Azure cloud-discovery document that
//! msticpy reads from its configured `resource_manager_url`, pointing at this server (login
//! endpoint, resource manager, Microsoft Graph resource).

use crate::AppState;
use crate::auth::base_url;
use crate::error::ApiError;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;

pub async fn endpoints(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !params.contains_key("api-version") {
        return Err(ApiError::missing("api-version"));
    }
    let base = base_url(&state, &headers);
    let slash = format!("{base}/");
    Ok(axum::Json(json!({
        "portal": base,
        "authentication": {
            "loginEndpoint": base,
            "audiences": [slash],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "graphAudience": slash,
        "graph": slash,
        "name": "Peregrine",
        "suffixes": {},
        "resourceManager": slash,
        "microsoftGraphResourceId": slash,
        "logAnalyticsResourceId": base,
    }))
    .into_response())
}
