//! Ingestion errors: a stable code, a message, and for record problems the line and column.

use serde::Serialize;

/// One problem with one input record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// 1-based line (NDJSON) or record index (JSON array / envelope).
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub code: &'static str,
    pub message: String,
    /// The column's type, for a value of the wrong type (`TypeMismatch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
}

impl LineError {
    pub fn new(
        line: usize,
        column: Option<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        LineError {
            line,
            column,
            code,
            message: message.into(),
            expected: None,
        }
    }

    /// A value of column `column` that does not fit its type `expected` (`TypeMismatch`);
    /// `got` describes the value.
    pub fn type_mismatch(
        line: usize,
        column: &str,
        expected: impl std::fmt::Display,
        got: &str,
    ) -> Self {
        let expected = expected.to_string();
        LineError {
            message: format!("expected a {expected} value, got {got}"),
            expected: Some(expected),
            ..LineError::new(line, Some(column.to_string()), "TypeMismatch", "")
        }
    }
}

/// Why an ingest request was refused (nothing of it was stored) or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestError {
    /// `UnknownTable`, `InvalidJson`, `InvalidRecords`, `InvalidRequestBody`,
    /// `RequestTooLarge`, `EmptyRequest`, `ReadError` (the input could not be read),
    /// `StoreBusy`, `InvalidTenant`, or `InternalError` (the store's fault; no detail of the
    /// input is lost).
    pub code: &'static str,
    pub message: String,
    /// Per-record problems (for `InvalidRecords` and `InvalidJson`), at most
    /// [`MAX_REPORTED`] of them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<LineError>,
    /// How many record problems there were in all.
    pub error_count: usize,
}

/// At most this many record problems are listed in one error.
pub const MAX_REPORTED: usize = 100;

impl IngestError {
    /// A request body larger than the configured limit (`RequestTooLarge`; HTTP 413).
    pub fn too_large(limit: u64) -> Self {
        IngestError::new(
            "RequestTooLarge",
            format!(
                "the request body is larger than the limit of {limit} bytes; \
                 send NDJSON (streamed, no limit) or split the request"
            ),
        )
    }

    /// A table name that is not an advanced hunting table (`UnknownTable`).
    pub fn unknown_table(table: &str) -> Self {
        IngestError::new(
            "UnknownTable",
            format!("'{table}' is not an advanced hunting table"),
        )
    }

    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        IngestError {
            code,
            message: message.into(),
            errors: Vec::new(),
            error_count: 0,
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        IngestError::new("InternalError", message)
    }

    pub fn records(mut errors: Vec<LineError>) -> Self {
        let count = errors.len();
        errors.truncate(MAX_REPORTED);
        let first = errors
            .first()
            .map(|e| format!(" (first: line {}: {})", e.line, e.message))
            .unwrap_or_default();
        let code = if errors.iter().all(|e| e.code == "InvalidJson") {
            "InvalidJson"
        } else {
            "InvalidRecords"
        };
        IngestError {
            code,
            message: format!("{count} record problem(s); nothing was stored{first}"),
            errors,
            error_count: count,
        }
    }

    pub fn is_internal(&self) -> bool {
        self.code == "InternalError"
    }
}

impl std::fmt::Display for IngestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for IngestError {}

impl From<std::io::Error> for IngestError {
    fn from(e: std::io::Error) -> Self {
        IngestError::internal(format!("storage: {e}"))
    }
}
