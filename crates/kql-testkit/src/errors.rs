//! The errors runner: `kql-errors` queries are rejected by the real engine; each must produce
//! an error (any code), never rows. A panic or a timeout does not count as a rejection.

use crate::conformance::{RunError, first_error, run_query};
use crate::pool::{self, JobError};
use kql_engine::Engine;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// One line of `kql-errors.*.jsonl`.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorCase {
    pub id: String,
    pub query: String,
    #[serde(default)]
    pub expected_error: String,
}

/// What happened to one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorOutcome {
    /// We returned an error, with this code.
    Rejected(String),
    /// We returned rows (this many).
    Accepted(usize),
    Timeout,
    Panic(String),
}

impl ErrorOutcome {
    pub fn rejected(&self) -> bool {
        matches!(self, ErrorOutcome::Rejected(_))
    }
}

/// Runs one query on the current thread.
pub fn run_error_case(engine: &Engine, case: &ErrorCase, timeout: Duration) -> ErrorOutcome {
    match run_query(engine, &case.query, timeout) {
        Ok(result) => ErrorOutcome::Accepted(result.row_count()),
        Err(RunError::Diagnostics(diags)) => ErrorOutcome::Rejected(first_error(&diags).0),
        Err(RunError::Timeout) => ErrorOutcome::Timeout,
        Err(RunError::Runtime(m)) => ErrorOutcome::Panic(m),
    }
}

/// Runs every query in parallel; outcomes in input order.
pub fn run_all(
    engine: Arc<Engine>,
    cases: Vec<ErrorCase>,
    parallelism: usize,
    timeout: Duration,
    progress: &mut dyn FnMut(usize, usize),
) -> Vec<ErrorOutcome> {
    pool::run(
        cases,
        parallelism,
        timeout + Duration::from_secs(5),
        move |case: ErrorCase| run_error_case(&engine, &case, timeout),
        progress,
    )
    .into_iter()
    .map(|r| match r {
        Ok(o) => o,
        Err(JobError::Timeout) => ErrorOutcome::Timeout,
        Err(JobError::Panic(m)) => ErrorOutcome::Panic(m),
    })
    .collect()
}
