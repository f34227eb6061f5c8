//! The one diagnostic type used by every stage of the KQL pipeline.
//!
//! Codes are stable strings:
//! - `KQL1xxx` syntax (lexer, parser)
//! - `KQL2xxx` names and scopes (unknown table, column, function)
//! - `KQL3xxx` types and overloads
//! - `KQL4xxx` not supported (yet) by Peregrine: valid KQL we do not run
//! - `KQL5xxx` limits and resources, runtime errors caused by the data
//! - `KQL9xxx` internal errors (a bug in Peregrine; no detail is shown to API clients)

use crate::span::{Span, line_col};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// What kind of failure a diagnostic describes; drives HTTP status and exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The query is wrong (4xx).
    User,
    /// The query is valid KQL that Peregrine does not run yet (4xx, own code).
    Unsupported,
    /// A limit or resource was exceeded (4xx/429).
    Limit,
    /// A bug in Peregrine (5xx, details not shown to clients).
    Internal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span,
            labels: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// A "not supported" error: valid KQL that Peregrine does not run.
    pub fn unsupported(what: impl Into<String>, span: Span) -> Self {
        Diagnostic::error(
            codes::UNSUPPORTED,
            format!("{} is not supported by Peregrine yet", what.into()),
            span,
        )
    }

    /// An internal error (a bug). The message is for logs, not for API clients.
    pub fn internal(message: impl Into<String>, span: Span) -> Self {
        Diagnostic::error(codes::INTERNAL, message, span)
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn class(&self) -> ErrorClass {
        match self.code.as_bytes().get(3) {
            Some(b'4') => ErrorClass::Unsupported,
            Some(b'5') => ErrorClass::Limit,
            Some(b'9') => ErrorClass::Internal,
            _ => ErrorClass::User,
        }
    }

    /// 1-based (line, column) of the primary span's start.
    pub fn line_col(&self, text: &str) -> (usize, usize) {
        line_col(text, self.span.start)
    }

    /// A plain-text rendering with a caret line, for the CLI and snapshots.
    pub fn render(&self, text: &str) -> String {
        let (line, col) = self.line_col(text);
        let mut out = format!(
            "error[{}]: {}\n --> {}:{}\n",
            self.code, self.message, line, col
        );
        if let Some(src_line) = text.lines().nth(line.saturating_sub(1)) {
            let width = self
                .span
                .len()
                .clamp(1, src_line.chars().count().saturating_sub(col - 1).max(1));
            out.push_str(&format!(
                "  | {src_line}\n  | {}{}\n",
                " ".repeat(col - 1),
                "^".repeat(width)
            ));
        }
        for label in &self.labels {
            let (l, c) = line_col(text, label.span.start);
            out.push_str(&format!("  = {}:{}: {}\n", l, c, label.message));
        }
        for note in &self.notes {
            out.push_str(&format!("  = note: {note}\n"));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("  = help: {help}\n"));
        }
        out
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// The catalogue of stable diagnostic codes.
pub mod codes {
    // 1xxx syntax
    pub const UNEXPECTED_CHAR: &str = "KQL1001";
    pub const UNTERMINATED_STRING: &str = "KQL1002";
    pub const BAD_NUMBER: &str = "KQL1003";
    pub const BAD_LITERAL: &str = "KQL1004";
    pub const EXPECTED: &str = "KQL1010";
    pub const UNEXPECTED_TOKEN: &str = "KQL1011";
    pub const UNKNOWN_OPERATOR: &str = "KQL1012";
    pub const TOO_DEEP: &str = "KQL1020";
    pub const EMPTY_QUERY: &str = "KQL1030";
    // 2xxx names and scopes
    pub const UNKNOWN_TABLE: &str = "KQL2001";
    pub const UNKNOWN_COLUMN: &str = "KQL2002";
    pub const UNKNOWN_FUNCTION: &str = "KQL2003";
    pub const UNKNOWN_NAME: &str = "KQL2004";
    pub const DUPLICATE_COLUMN: &str = "KQL2005";
    pub const NOT_TABULAR: &str = "KQL2006";
    pub const NOT_SCALAR: &str = "KQL2007";
    pub const AMBIGUOUS: &str = "KQL2008";
    // 3xxx types and overloads
    pub const TYPE_MISMATCH: &str = "KQL3001";
    pub const WRONG_ARG_COUNT: &str = "KQL3002";
    pub const BAD_ARGUMENT: &str = "KQL3003";
    pub const NOT_CONSTANT: &str = "KQL3004";
    pub const AGGREGATE_CONTEXT: &str = "KQL3005";
    pub const UNKNOWN_TYPE: &str = "KQL3006";
    // 4xxx not supported
    pub const UNSUPPORTED: &str = "KQL4001";
    // 5xxx limits and runtime
    pub const LIMIT: &str = "KQL5001";
    pub const TIMEOUT: &str = "KQL5002";
    pub const RUNTIME: &str = "KQL5003";
    pub const DATA: &str = "KQL5004";
    // 9xxx internal
    pub const INTERNAL: &str = "KQL9001";
}
