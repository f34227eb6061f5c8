//! The conformance runner: runs `kql-conformance` cases and compares each result with the
//! case's expectation under the corpus rules ([`crate::normalise`]).
//!
//! Checks, in order (the first failing one is the reason):
//! 1. the query runs (no error, no panic, within the time limit);
//! 2. the column count matches;
//! 3. the rows match (in order when `ordered`, else as a multiset);
//! 4. the column types match `expected.types` (when given; classes like `int|long` allowed);
//! 5. the column names match (not for `bare-expression` and `columns-unknown` cases).
//!
//! `approximate` cases (dcount, percentiles) whose numbers are off by at most 5 % still pass,
//! but are counted apart ([`Verdict::ApproxPass`]), and so are exact passes of such cases.

use crate::normalise::{self, CompareOptions, Json, Norm, RowsMismatch};
use crate::pool::{self, JobError};
use kql_engine::{Engine, QueryOptions, QueryResult};
use kql_syntax::Diagnostic;
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One case of `kql-conformance.*.jsonl`.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    pub id: String,
    #[serde(default)]
    pub source: String,
    pub query: String,
    pub expected: Expected,
    #[serde(default)]
    pub ordered: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub oracle: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Expected {
    pub columns: Vec<String>,
    #[serde(default)]
    pub types: Vec<String>,
    /// Every cell a string; a null is `""` (non-string cells are taken as their JSON text).
    #[serde(deserialize_with = "cells")]
    pub rows: Vec<Vec<String>>,
}

fn cells<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Vec<String>>, D::Error> {
    let rows = Vec::<Vec<serde_json::Value>>::deserialize(d)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|c| match c {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect())
}

impl Case {
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }

    /// The query to run: `print <expr>` for `bare-expression` cases.
    pub fn effective_query(&self) -> String {
        if self.has_tag("bare-expression") {
            format!("print {}", self.query)
        } else {
            self.query.clone()
        }
    }
}

/// Why a case failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailKind {
    /// The engine returned diagnostics.
    Error,
    Panic,
    Timeout,
    ColumnCount,
    RowCount,
    Values,
    Types,
    /// Everything matched but the column names: reported apart.
    ColumnNames,
}

impl FailKind {
    pub fn name(self) -> &'static str {
        match self {
            FailKind::Error => "error",
            FailKind::Panic => "panic",
            FailKind::Timeout => "timeout",
            FailKind::ColumnCount => "column-count",
            FailKind::RowCount => "row-count",
            FailKind::Values => "values",
            FailKind::Types => "types",
            FailKind::ColumnNames => "column-names",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// An `approximate` case that passed (exactly or within its tolerance).
    ApproxPass,
    Fail(FailKind),
    Skip,
}

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: String,
    pub verdict: Verdict,
    /// Why it failed or was skipped; empty for passes.
    pub reason: String,
    /// The diagnostic code for [`FailKind::Error`].
    pub error_code: Option<String>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self.verdict, Verdict::Pass | Verdict::ApproxPass)
    }
}

/// Settings for a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub timeout: Duration,
    pub parallelism: usize,
    /// Ids to skip (reported as [`Verdict::Skip`]).
    pub skip_ids: Vec<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeout: crate::CASE_TIMEOUT,
            parallelism: pool::default_parallelism(),
            skip_ids: Vec::new(),
        }
    }
}

/// Totals of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    /// All passes, approximate ones included.
    pub passed: usize,
    /// Passes of `approximate` cases (included in `passed`).
    pub approx_passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Failures by kind, in [`FailKind`] order.
    pub by_kind: Vec<(FailKind, usize)>,
}

impl Summary {
    pub fn of(outcomes: &[Outcome]) -> Summary {
        let mut s = Summary {
            total: outcomes.len(),
            ..Summary::default()
        };
        let mut kinds = std::collections::BTreeMap::new();
        for o in outcomes {
            match &o.verdict {
                Verdict::Pass => s.passed += 1,
                Verdict::ApproxPass => {
                    s.passed += 1;
                    s.approx_passed += 1;
                }
                Verdict::Fail(k) => {
                    s.failed += 1;
                    *kinds.entry(*k).or_insert(0) += 1;
                }
                Verdict::Skip => s.skipped += 1,
            }
        }
        s.by_kind = kinds.into_iter().collect();
        s
    }

    /// `conformance: N passed, M failed, K skipped`
    pub fn line(&self) -> String {
        format!(
            "conformance: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// Compares a result (columns and display rows) with a case's expectation.
/// Returns the verdict and a reason.
pub fn compare(
    case: &Case,
    columns: &[kql_engine::Column],
    rows: &[Vec<String>],
) -> (Verdict, String) {
    let exp = &case.expected;
    let approximate = case.has_tag("approximate");
    let opts = CompareOptions::from_tags(&case.tags);
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    if columns.len() != exp.columns.len() {
        return (
            Verdict::Fail(FailKind::ColumnCount),
            format!(
                "expected {} columns [{}], got {} [{}]",
                exp.columns.len(),
                crate::short(&exp.columns.join(", "), 100),
                columns.len(),
                crate::short(&names.join(", "), 100)
            ),
        );
    }
    let types: Vec<Option<String>> = columns
        .iter()
        .map(|c| Some(c.ty.name().to_string()))
        .collect();
    if let Err(m) = normalise::compare_rows(&exp.rows, rows, &types, case.ordered, opts) {
        let loose_ok = approximate
            && !matches!(m, RowsMismatch::RowCount { .. })
            && compare_rows_loose(&exp.rows, rows, &types, case.ordered, opts);
        if !loose_ok {
            let kind = match m {
                RowsMismatch::RowCount { .. } => FailKind::RowCount,
                _ => FailKind::Values,
            };
            return (Verdict::Fail(kind), m.to_string());
        }
    }
    for (i, c) in columns.iter().enumerate() {
        if let Some(t) = exp.types.get(i)
            && !normalise::type_matches(t, c.ty)
        {
            return (
                Verdict::Fail(FailKind::Types),
                format!(
                    "column {} ({}): expected type {t}, got {}",
                    i,
                    c.name,
                    c.ty.name()
                ),
            );
        }
    }
    let check_names = !case.has_tag("bare-expression") && !case.has_tag("columns-unknown");
    if check_names && names.iter().zip(&exp.columns).any(|(a, e)| a != e) {
        return (
            Verdict::Fail(FailKind::ColumnNames),
            format!(
                "expected columns [{}], got [{}]",
                crate::short(&exp.columns.join(", "), 100),
                crate::short(&names.join(", "), 100)
            ),
        );
    }
    if approximate {
        (Verdict::ApproxPass, String::new())
    } else {
        (Verdict::Pass, String::new())
    }
}

/// Row comparison with numbers equal within 5 % (for `approximate` cases).
fn compare_rows_loose(
    expected: &[Vec<String>],
    actual: &[Vec<String>],
    types: &[Option<String>],
    ordered: bool,
    opts: CompareOptions,
) -> bool {
    if expected.len() != actual.len() {
        return false;
    }
    let norm = |rows: &[Vec<String>]| -> Vec<Vec<Option<Norm>>> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(i, c)| normalise::normalise(c, types.get(i).and_then(|t| t.as_deref())))
                    .collect()
            })
            .collect()
    };
    let (e, a) = (norm(expected), norm(actual));
    let row_eq = |i: usize, j: usize| {
        e[i].len() == a[j].len()
            && e[i]
                .iter()
                .zip(&a[j])
                .enumerate()
                .all(|(k, (x, y))| loose_eq(x.as_ref(), y.as_ref(), &expected[i][k], opts))
    };
    if ordered {
        return (0..e.len()).all(|i| row_eq(i, i));
    }
    let mut used = vec![false; a.len()];
    (0..e.len()).all(|i| match (0..a.len()).find(|&j| !used[j] && row_eq(i, j)) {
        Some(j) => {
            used[j] = true;
            true
        }
        None => false,
    })
}

fn close(x: f64, y: f64) -> bool {
    (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 0.05 * x.abs().max(y.abs())
}

fn loose_json(x: &Json, y: &Json) -> bool {
    match (x, y) {
        (Json::Num { value: p, .. }, Json::Num { value: q, .. }) => close(*p, *q),
        (Json::Arr(p), Json::Arr(q)) => {
            p.len() == q.len() && p.iter().zip(q).all(|(a, b)| loose_json(a, b))
        }
        (Json::Obj(p), Json::Obj(q)) => {
            p.len() == q.len()
                && p.iter()
                    .all(|(k, v)| q.get(k).is_some_and(|w| loose_json(v, w)))
        }
        _ => x == y,
    }
}

fn loose_eq(e: Option<&Norm>, a: Option<&Norm>, text: &str, opts: CompareOptions) -> bool {
    if normalise::values_equal(e, a, Some(text), opts) {
        return true;
    }
    match (e, a) {
        (Some(Norm::Num(x)), Some(Norm::Num(y))) => close(*x, *y),
        (Some(Norm::Json(x)), Some(Norm::Json(y))) => loose_json(x, y),
        _ => false,
    }
}

/// Runs one case on the current thread (in its own runtime, with the time limit).
pub fn run_case(engine: &Engine, case: &Case, timeout: Duration) -> Outcome {
    let start = Instant::now();
    let mut outcome = Outcome {
        id: case.id.clone(),
        verdict: Verdict::Skip,
        reason: String::new(),
        error_code: None,
        elapsed: Duration::ZERO,
    };
    if case.query.trim().is_empty() {
        outcome.reason = "empty query".into();
        return outcome;
    }
    let result = run_query(engine, &case.effective_query(), timeout);
    match result {
        Err(RunError::Diagnostics(diags)) => {
            let (code, message) = first_error(&diags);
            outcome.verdict = Verdict::Fail(FailKind::Error);
            outcome.reason = format!("{code}: {}", crate::short(&message, 160));
            outcome.error_code = Some(code);
        }
        Err(RunError::Timeout) => {
            outcome.verdict = Verdict::Fail(FailKind::Timeout);
            outcome.reason = format!("timeout after {} s", timeout.as_secs_f64());
        }
        Err(RunError::Runtime(m)) => {
            outcome.verdict = Verdict::Fail(FailKind::Panic);
            outcome.reason = format!("could not start a runtime: {m}");
        }
        Ok(result) => {
            let rows = kql_engine::format::result_rows_text(&result);
            let (verdict, reason) = compare(case, &result.columns, &rows);
            outcome.verdict = verdict;
            outcome.reason = reason;
        }
    }
    outcome.elapsed = start.elapsed();
    outcome
}

/// Why [`run_query`] has no result.
#[derive(Debug, Clone, PartialEq)]
pub enum RunError {
    /// The engine's diagnostics (at least one).
    Diagnostics(Vec<Diagnostic>),
    Timeout,
    /// No runtime could be made.
    Runtime(String),
}

/// Runs a query with default options on a fresh current-thread runtime, with a time limit.
pub fn run_query(engine: &Engine, query: &str, timeout: Duration) -> Result<QueryResult, RunError> {
    run_query_with(engine, query, &QueryOptions::default(), timeout)
}

/// Runs a query on a fresh current-thread runtime, with a time limit.
pub fn run_query_with(
    engine: &Engine,
    query: &str,
    options: &QueryOptions,
    timeout: Duration,
) -> Result<QueryResult, RunError> {
    let rt = pool::job_runtime().map_err(|e| RunError::Runtime(e.to_string()))?;
    let r = rt.block_on(async { tokio::time::timeout(timeout, engine.run(query, options)).await });
    // Do not wait for tasks the query left behind.
    rt.shutdown_background();
    match r {
        Err(_) => Err(RunError::Timeout),
        Ok(Ok(result)) => Ok(result),
        Ok(Err(diags)) if diags.is_empty() => {
            Err(RunError::Diagnostics(vec![Diagnostic::internal(
                "error without a diagnostic",
                kql_syntax::Span::default(),
            )]))
        }
        Ok(Err(diags)) => Err(RunError::Diagnostics(diags)),
    }
}

/// The first diagnostic's code and message.
pub fn first_error(diags: &[Diagnostic]) -> (String, String) {
    match diags.first() {
        Some(d) => (d.code.to_string(), d.message.clone()),
        None => ("KQL9001".into(), "error without a diagnostic".into()),
    }
}

/// Runs every case (in parallel, each with its time limit; panics and hangs become failures).
/// Outcomes come back in case order.
pub fn run_all(
    engine: Arc<Engine>,
    cases: Vec<Case>,
    options: &RunOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Vec<Outcome> {
    let ids: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
    let timeout = options.timeout;
    let skip = options.skip_ids.clone();
    let results = pool::run(
        cases,
        options.parallelism,
        timeout + Duration::from_secs(5),
        move |case: Case| {
            if skip.contains(&case.id) {
                return Outcome {
                    id: case.id,
                    verdict: Verdict::Skip,
                    reason: "in the skip list".into(),
                    error_code: None,
                    elapsed: Duration::ZERO,
                };
            }
            run_case(&engine, &case, timeout)
        },
        progress,
    );
    results
        .into_iter()
        .zip(ids)
        .map(|(r, id)| match r {
            Ok(o) => o,
            Err(e) => Outcome {
                id,
                verdict: Verdict::Fail(match e {
                    JobError::Timeout => FailKind::Timeout,
                    JobError::Panic(_) => FailKind::Panic,
                }),
                reason: crate::short(&e.to_string(), 200),
                error_code: None,
                elapsed: timeout,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kql_engine::Column;
    use kql_syntax::KqlType;

    fn case(json: &str) -> Case {
        match serde_json::from_str(json) {
            Ok(c) => c,
            Err(e) => panic!("bad test case: {e}"),
        }
    }

    fn col(name: &str, ty: KqlType) -> Column {
        Column {
            name: name.into(),
            ty,
        }
    }

    #[test]
    fn verdicts() {
        let c = case(
            r#"{"id":"x","query":"q","expected":{"columns":["a","n"],"types":["string","int|long"],"rows":[["x","1"],["y",2]]},"ordered":false,"tags":[]}"#,
        );
        let rows = vec![
            vec!["y".to_string(), "2".to_string()],
            vec!["x".into(), "1".into()],
        ];
        let cols = vec![col("a", KqlType::String), col("n", KqlType::Long)];
        assert_eq!(compare(&c, &cols, &rows).0, Verdict::Pass);
        let bad_names = vec![col("a", KqlType::String), col("m", KqlType::Long)];
        assert_eq!(
            compare(&c, &bad_names, &rows).0,
            Verdict::Fail(FailKind::ColumnNames)
        );
        let bad_types = vec![col("a", KqlType::String), col("n", KqlType::Real)];
        assert_eq!(
            compare(&c, &bad_types, &rows).0,
            Verdict::Fail(FailKind::Types)
        );
        assert_eq!(
            compare(&c, &cols[..1], &rows).0,
            Verdict::Fail(FailKind::ColumnCount)
        );
        assert_eq!(
            compare(&c, &cols, &rows[..1]).0,
            Verdict::Fail(FailKind::RowCount)
        );
        let wrong = vec![
            vec!["y".to_string(), "3".to_string()],
            vec!["x".into(), "1".into()],
        ];
        assert_eq!(
            compare(&c, &cols, &wrong).0,
            Verdict::Fail(FailKind::Values)
        );
    }

    #[test]
    fn approximate_and_bare() {
        let c = case(
            r#"{"id":"x","query":"1+1","expected":{"columns":["result"],"types":[],"rows":[["100"]]},"ordered":true,"tags":["approximate","bare-expression"]}"#,
        );
        assert_eq!(c.effective_query(), "print 1+1");
        let cols = vec![col("print_0", KqlType::Long)];
        assert_eq!(
            compare(&c, &cols, &[vec!["100".into()]]).0,
            Verdict::ApproxPass
        );
        assert_eq!(
            compare(&c, &cols, &[vec!["103".into()]]).0,
            Verdict::ApproxPass
        );
        assert_eq!(
            compare(&c, &cols, &[vec!["120".into()]]).0,
            Verdict::Fail(FailKind::Values)
        );
    }
}
