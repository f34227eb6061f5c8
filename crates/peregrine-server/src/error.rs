//! The error catalogue and its one mapping to HTTP.
//!
//! Every failure of an API route is an [`ApiError`]: a catalogue [`ErrorCode`] (its HTTP
//! status is decided in [`ErrorCode::status`] and nowhere else), a message for the client
//! and, for server faults, a detail that is logged and never sent. The body is the
//! Defender envelope
//!
//! ```json
//! {"error":{"code":"InvalidRequestBody","message":"Request body is incorrect","target":"<tracking id>"}}
//! ```
//!
//! on the legacy routes, and the Graph envelope
//! (`{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`)
//! on the `/v1.0/` routes (see [`graph_errors`]). The tracking id (a GUID) is in the body
//! and in the log line of the failure, so an operator can find the details of a report.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The documented error codes (Defender XDR `api-error-codes.md`, `common-errors.md`), plus
/// `MethodNotAllowed`, `RequestTimeout`, `RequestTooLarge` and `ServiceUnavailable` for
/// failures the catalogue does not name. Store ingest errors map onto these
/// (`From<IngestError>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    ODataError,
    InvalidInput,
    InvalidRequestBody,
    MissingRequiredParameter,
    MaximumBatchSizeExceeded,
    Unauthorized,
    Forbidden,
    DisabledFeature,
    DisallowedOperation,
    NotFound,
    ResourceNotFound,
    MethodNotAllowed,
    RequestTimeout,
    RequestTooLarge,
    TooManyRequests,
    InternalServerError,
    ServiceUnavailable,
}

impl ErrorCode {
    /// The code as it appears in `error.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "BadRequest",
            ErrorCode::ODataError => "ODataError",
            ErrorCode::InvalidInput => "InvalidInput",
            ErrorCode::InvalidRequestBody => "InvalidRequestBody",
            ErrorCode::MissingRequiredParameter => "MissingRequiredParameter",
            ErrorCode::MaximumBatchSizeExceeded => "MaximumBatchSizeExceeded",
            ErrorCode::Unauthorized => "Unauthorized",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::DisabledFeature => "DisabledFeature",
            ErrorCode::DisallowedOperation => "DisallowedOperation",
            ErrorCode::NotFound => "NotFound",
            ErrorCode::ResourceNotFound => "ResourceNotFound",
            ErrorCode::MethodNotAllowed => "MethodNotAllowed",
            ErrorCode::RequestTimeout => "RequestTimeout",
            ErrorCode::RequestTooLarge => "RequestTooLarge",
            ErrorCode::TooManyRequests => "TooManyRequests",
            ErrorCode::InternalServerError => "InternalServerError",
            ErrorCode::ServiceUnavailable => "ServiceUnavailable",
        }
    }

    /// The HTTP status of the code: the only place this is decided.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest
            | ErrorCode::ODataError
            | ErrorCode::InvalidInput
            | ErrorCode::InvalidRequestBody
            | ErrorCode::MissingRequiredParameter
            | ErrorCode::MaximumBatchSizeExceeded => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::DisabledFeature | ErrorCode::DisallowedOperation => {
                StatusCode::FORBIDDEN
            }
            ErrorCode::NotFound | ErrorCode::ResourceNotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// One failed request.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    /// What the client is told.
    pub message: String,
    /// Structured details for the client (KQL diagnostics with their positions).
    pub details: Vec<Value>,
    /// `Retry-After` in seconds (429).
    pub retry_after: Option<u64>,
    /// What went wrong inside, for the log only.
    internal: Option<String>,
}

/// The message of every server fault; the detail goes to the log.
pub const INTERNAL_MESSAGE: &str =
    "An unexpected error occurred. Please try again in a few minutes.";

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
            internal: None,
        }
    }

    /// A server fault: the client gets [`INTERNAL_MESSAGE`], the log gets `detail`.
    pub fn internal(detail: impl Into<String>) -> Self {
        ApiError {
            internal: Some(detail.into()),
            ..ApiError::new(ErrorCode::InternalServerError, INTERNAL_MESSAGE)
        }
    }

    pub fn with_details(mut self, details: Vec<Value>) -> Self {
        self.details = details;
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Unauthorized, message)
    }

    pub fn bad_body(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidRequestBody, message)
    }

    pub fn missing(parameter: &str) -> Self {
        ApiError::new(
            ErrorCode::MissingRequiredParameter,
            format!("Missing required parameter: {parameter}"),
        )
    }
}

/// An ingest the store refused or failed: the store's code and message in `message`, its
/// per-record report (`line`, `column`, `code`, `message`, `expected` for a value of the
/// wrong type) in `details`. Bad input is 400 `InvalidRequestBody`, an unknown table 404
/// `ResourceNotFound`, a body over the limit 413; a read-only store (another process
/// writes to the data directory) is 503 and the store's own faults are 500 (detail logged).
impl From<peregrine_store::IngestError> for ApiError {
    fn from(e: peregrine_store::IngestError) -> Self {
        let code = match e.code {
            "UnknownTable" => ErrorCode::ResourceNotFound,
            "RequestTooLarge" => ErrorCode::RequestTooLarge,
            "StoreBusy" => {
                return ApiError {
                    internal: Some(e.to_string()),
                    ..ApiError::new(
                        ErrorCode::ServiceUnavailable,
                        "The event store is read-only: another process writes to it.",
                    )
                };
            }
            _ if e.is_internal() || e.code == "ReadError" => {
                return ApiError::internal(format!("ingest: {e}"));
            }
            _ => ErrorCode::InvalidRequestBody,
        };
        let details = e
            .errors
            .iter()
            .filter_map(|l| serde_json::to_value(l).ok())
            .collect();
        ApiError::new(code, e.to_string()).with_details(details)
    }
}

/// A request body read whole, refused in the API's envelope when it cannot be read or is
/// over the body limit (axum's default, 2 MB).
pub struct Body(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::body::Bytes::from_request(request, state).await {
            Ok(b) => Ok(Body(b)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                ErrorCode::RequestTooLarge,
                "The request body is larger than the limit.",
            )),
            Err(e) => Err(ApiError::bad_body(format!(
                "Request body is incorrect: {e}"
            ))),
        }
    }
}

/// What an error response carries for [`graph_errors`] and the request log.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: ErrorCode,
    pub message: String,
    pub tracking_id: String,
    pub details: Vec<Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let tracking_id = new_guid();
        let status = self.code.status();
        match &self.internal {
            Some(detail) => tracing::error!(
                tracking_id = %tracking_id,
                code = self.code.as_str(),
                "{detail}"
            ),
            None => tracing::info!(
                tracking_id = %tracking_id,
                code = self.code.as_str(),
                status = status.as_u16(),
                "{}",
                self.message
            ),
        }
        let mut error = json!({
            "code": self.code.as_str(),
            "message": self.message,
            "target": tracking_id,
        });
        if !self.details.is_empty()
            && let Some(obj) = error.as_object_mut()
        {
            obj.insert("details".into(), Value::Array(self.details.clone()));
        }
        let mut response = (status, axum::Json(json!({ "error": error }))).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if self.code == ErrorCode::Unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(ErrorInfo {
            code: self.code,
            message: self.message,
            tracking_id,
            details: self.details,
        });
        response
    }
}

/// Middleware of the Graph routes: an error response gets Graph's envelope
/// `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`
/// (the tracking id is the `request-id`); status and headers stay.
pub async fn graph_errors(request: Request, next: Next) -> Response {
    let client_request_id = request
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let response = next.run(request).await;
    let Some(info) = response.extensions().get::<ErrorInfo>().cloned() else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    let mut error = json!({
        "code": info.code.as_str(),
        "message": info.message,
        "innerError": {
            "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
            "request-id": info.tracking_id,
            "client-request-id": client_request_id.unwrap_or_else(|| info.tracking_id.clone()),
        },
    });
    if !info.details.is_empty()
        && let Some(obj) = error.as_object_mut()
    {
        obj.insert("details".into(), Value::Array(info.details));
    }
    let body = json!({ "error": error }).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// A random (version 4) GUID in its usual text form.
pub fn new_guid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_version_4() {
        let g = new_guid();
        assert_eq!(g.len(), 36);
        assert_eq!(g.as_bytes()[14], b'4');
        assert!(matches!(g.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(g, new_guid());
    }

    #[test]
    fn statuses() {
        assert_eq!(
            ErrorCode::InvalidRequestBody.status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(ErrorCode::Unauthorized.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(ErrorCode::Forbidden.status(), StatusCode::FORBIDDEN);
        assert_eq!(ErrorCode::TooManyRequests.status().as_u16(), 429);
        assert_eq!(ErrorCode::InternalServerError.status().as_u16(), 500);
    }
}
