//! The check runner: binds and plans hunting-style queries with [`Engine::check`] (no data,
//! no execution) and compares the result columns with the `reference` verdict of
//! Microsoft's own binder, when the input carries one.
//!
//! Input lines: `{"id","query","reference":{"syntax_ok","errors":[{"code","message","start",
//! "length"}],"columns":[{"name","type"}]}}` (`reference` optional).

use crate::pool::{self, JobError};
use kql_engine::Engine;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// One input line.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckCase {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    pub query: String,
    #[serde(default)]
    pub reference: Option<Reference>,
}

fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// Microsoft's binder's verdict on a query.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Reference {
    #[serde(default)]
    pub syntax_ok: bool,
    #[serde(default)]
    pub errors: Vec<ReferenceError>,
    #[serde(default)]
    pub columns: Vec<ReferenceColumn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReferenceError {
    #[serde(default, deserialize_with = "text_or_null")]
    pub code: String,
    #[serde(default, deserialize_with = "text_or_null")]
    pub message: String,
    /// Offset in UTF-16 code units.
    #[serde(default)]
    pub start: Option<usize>,
    #[serde(default)]
    pub length: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ReferenceColumn {
    /// `""` when the reference has none (`null`).
    #[serde(default, deserialize_with = "text_or_null")]
    pub name: String,
    #[serde(rename = "type", default, deserialize_with = "text_or_null")]
    pub ty: String,
}

fn text_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// One result column as printed by `peregrine check --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnOut {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
}

/// The first error, as printed by `peregrine check --json` (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorOut {
    pub code: String,
    pub message: String,
    pub line: usize,
    pub column: usize,
    /// Offset of the error in UTF-16 code units (to compare with the reference).
    #[serde(skip)]
    pub utf16_start: Option<usize>,
}

/// The result for one query: `{"id","ok","columns","error"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub ok: bool,
    /// Empty when not ok.
    pub columns: Vec<ColumnOut>,
    /// `null` when ok.
    pub error: Option<ErrorOut>,
    /// With `--run`: the result's row count (absent when the query was not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<usize>,
}

/// How a result relates to the reference verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agreement {
    /// The reference binds it; we accept it with exactly the reference columns.
    Exact,
    /// The reference binds it; we accept it with other columns.
    ColumnsDiffer,
    /// The reference binds it; we reject it.
    WeReject,
    /// The reference rejects it; so do we.
    BothReject,
    /// The reference rejects it; we accept it.
    WeAccept,
}

fn utf16_offset(text: &str, byte: usize) -> Option<usize> {
    text.get(..byte).map(|s| s.encode_utf16().count())
}

/// Checks one query on the current thread.
pub fn check_one(engine: &Engine, id: &str, query: &str) -> CheckResult {
    match engine.check(query) {
        Ok(columns) => CheckResult {
            id: id.to_string(),
            ok: true,
            columns: columns
                .iter()
                .map(|c| ColumnOut {
                    name: c.name.clone(),
                    ty: c.ty.name().to_string(),
                })
                .collect(),
            error: None,
            rows: None,
        },
        Err(diags) => {
            let error = match diags.first() {
                Some(d) => {
                    let (line, column) = d.line_col(query);
                    ErrorOut {
                        code: d.code.to_string(),
                        message: d.message.clone(),
                        line,
                        column,
                        utf16_start: utf16_offset(query, d.span.start),
                    }
                }
                None => ErrorOut {
                    code: "KQL9001".into(),
                    message: "error without a diagnostic".into(),
                    line: 1,
                    column: 1,
                    utf16_start: None,
                },
            };
            CheckResult {
                id: id.to_string(),
                ok: false,
                columns: Vec::new(),
                error: Some(error),
                rows: None,
            }
        }
    }
}

/// A result for a query whose check panicked or did not finish.
fn aborted(id: String, e: &JobError, timeout: Duration) -> CheckResult {
    let (code, message) = match e {
        JobError::Timeout => (
            "KQL5002",
            format!("check did not finish in {} s", timeout.as_secs_f64()),
        ),
        JobError::Panic(m) => ("KQL9001", format!("internal error: panic: {m}")),
    };
    CheckResult {
        id,
        ok: false,
        columns: Vec::new(),
        error: Some(ErrorOut {
            code: code.into(),
            message,
            line: 1,
            column: 1,
            utf16_start: None,
        }),
        rows: None,
    }
}

/// Whether our columns are exactly the reference's (names, order, types; a reference type
/// `unknown` — e.g. columns made by `bag_unpack` — matches any type).
pub fn columns_match(ours: &[ColumnOut], reference: &[ReferenceColumn]) -> bool {
    ours.len() == reference.len()
        && ours.iter().zip(reference).all(|(o, r)| {
            o.name == r.name
                && (r.ty == "unknown"
                    || kql_syntax::KqlType::from_name(&r.ty).map(|t| t.name())
                        == Some(o.ty.as_str()))
        })
}

/// A short description of the first column difference.
pub fn columns_diff(ours: &[ColumnOut], reference: &[ReferenceColumn]) -> String {
    for (i, (o, r)) in ours.iter().zip(reference).enumerate() {
        if o.name != r.name || !columns_match(std::slice::from_ref(o), std::slice::from_ref(r)) {
            return format!(
                "column {i}: expected {}:{}, got {}:{}",
                r.name, r.ty, o.name, o.ty
            );
        }
    }
    if ours.len() > reference.len() {
        format!(
            "{} extra columns, first {}",
            ours.len() - reference.len(),
            ours[reference.len()].name
        )
    } else if reference.len() > ours.len() {
        format!(
            "{} missing columns, first {}",
            reference.len() - ours.len(),
            reference[ours.len()].name
        )
    } else {
        "same columns".into()
    }
}

/// Classifies a result against a reference.
pub fn agreement(result: &CheckResult, reference: &Reference) -> Agreement {
    match (reference.errors.is_empty(), result.ok) {
        (true, true) if columns_match(&result.columns, &reference.columns) => Agreement::Exact,
        (true, true) => Agreement::ColumnsDiffer,
        (true, false) => Agreement::WeReject,
        (false, false) => Agreement::BothReject,
        (false, true) => Agreement::WeAccept,
    }
}

/// Totals of a check run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckSummary {
    pub total: usize,
    /// Queries we accept.
    pub passed: usize,
    /// Queries we reject.
    pub failed: usize,
    /// Queries that carry a reference.
    pub with_reference: usize,
    /// The reference binds them without error.
    pub reference_ok: usize,
    /// ... and we accept them.
    pub accepted: usize,
    /// ... with exactly the reference columns.
    pub exact: usize,
    /// The reference rejects them.
    pub reference_rejected: usize,
    /// ... and we reject them too.
    pub both_reject: usize,
    /// ... with our first error at the start of one of the reference's errors.
    pub same_place: usize,
}

impl CheckSummary {
    pub fn of(cases: &[CheckCase], results: &[CheckResult]) -> CheckSummary {
        let mut s = CheckSummary {
            total: results.len(),
            ..CheckSummary::default()
        };
        for (case, r) in cases.iter().zip(results) {
            if r.ok {
                s.passed += 1;
            } else {
                s.failed += 1;
            }
            let Some(reference) = &case.reference else {
                continue;
            };
            s.with_reference += 1;
            if reference.errors.is_empty() {
                s.reference_ok += 1;
            } else {
                s.reference_rejected += 1;
            }
            match agreement(r, reference) {
                Agreement::Exact => {
                    s.accepted += 1;
                    s.exact += 1;
                }
                Agreement::ColumnsDiffer => s.accepted += 1,
                Agreement::BothReject => {
                    s.both_reject += 1;
                    let ours = r.error.as_ref().and_then(|e| e.utf16_start);
                    if ours.is_some() && reference.errors.iter().any(|e| e.start == ours) {
                        s.same_place += 1;
                    }
                }
                Agreement::WeReject | Agreement::WeAccept => {}
            }
        }
        s
    }

    /// Lines describing agreement with the reference (empty when no line had one).
    pub fn reference_lines(&self) -> Vec<String> {
        if self.with_reference == 0 {
            return Vec::new();
        }
        vec![
            format!(
                "reference: {} bind without error: {} accepted, {} with exactly the reference columns",
                self.reference_ok, self.accepted, self.exact
            ),
            format!(
                "reference: {} rejected by the reference: {} rejected too ({} at the same place)",
                self.reference_rejected, self.both_reject, self.same_place
            ),
        ]
    }

    /// `check: N passed, M failed`
    pub fn line(&self) -> String {
        format!("check: {} passed, {} failed", self.passed, self.failed)
    }
}

/// Checks every query (in parallel; panics and hangs become errors). Results in input order.
/// Checks `query`, then (if it binds) runs it and records its row count; a failure to run
/// makes the result not ok, with the run's error.
pub fn check_and_run(engine: &Engine, id: &str, query: &str) -> CheckResult {
    let checked = check_one(engine, id, query);
    if !checked.ok {
        return checked;
    }
    let fail = |code: &str, message: String, line: usize, column: usize| CheckResult {
        id: id.to_string(),
        ok: false,
        columns: Vec::new(),
        error: Some(ErrorOut {
            code: code.to_string(),
            message,
            line,
            column,
            utf16_start: None,
        }),
        rows: None,
    };
    let rt = match pool::job_runtime() {
        Ok(rt) => rt,
        Err(e) => return fail("KQL9001", format!("runtime: {e}"), 1, 1),
    };
    // Stop the query itself at the deadline (dropping it cancels the plan), rather than
    // leaving it running after the pool has given up on it.
    let limit = crate::CASE_TIMEOUT.saturating_sub(Duration::from_secs(1));
    let run = rt.block_on(async {
        tokio::time::timeout(
            limit,
            engine.run(query, &kql_engine::QueryOptions::default()),
        )
        .await
    });
    let Ok(run) = run else {
        return fail(
            "KQL5002",
            format!("the query did not finish in {} s", limit.as_secs()),
            1,
            1,
        );
    };
    match run {
        Ok(result) => CheckResult {
            rows: Some(result.row_count()),
            ..checked
        },
        Err(diags) => match diags.first() {
            Some(d) => {
                let (line, column) = d.line_col(query);
                fail(d.code, d.message.clone(), line, column)
            }
            None => fail("KQL9001", "error without a diagnostic".into(), 1, 1),
        },
    }
}

pub fn check_all(
    engine: Arc<Engine>,
    cases: &[CheckCase],
    parallelism: usize,
    timeout: Duration,
    progress: &mut dyn FnMut(usize, usize),
) -> Vec<CheckResult> {
    check_all_with(engine, cases, parallelism, timeout, false, progress)
}

/// [`check_all`], and with `run` each accepted query is also executed.
pub fn check_all_with(
    engine: Arc<Engine>,
    cases: &[CheckCase],
    parallelism: usize,
    timeout: Duration,
    run: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Vec<CheckResult> {
    let items: Vec<(String, String)> = cases
        .iter()
        .map(|c| (c.id.clone(), c.query.clone()))
        .collect();
    let ids: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
    let results = pool::run(
        items,
        parallelism,
        timeout,
        move |(id, query): (String, String)| {
            if run {
                check_and_run(&engine, &id, &query)
            } else {
                check_one(&engine, &id, &query)
            }
        },
        progress,
    );
    results
        .into_iter()
        .zip(ids)
        .map(|(r, id)| match r {
            Ok(r) => r,
            Err(e) => aborted(id, &e, timeout),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, ty: &str) -> ColumnOut {
        ColumnOut {
            name: name.into(),
            ty: ty.into(),
        }
    }

    fn r(name: &str, ty: &str) -> ReferenceColumn {
        ReferenceColumn {
            name: name.into(),
            ty: ty.into(),
        }
    }

    #[test]
    fn column_matching() {
        assert!(columns_match(&[c("a", "long")], &[r("a", "long")]));
        assert!(columns_match(&[c("a", "long")], &[r("a", "unknown")]));
        assert!(!columns_match(&[c("a", "long")], &[r("a", "int")]));
        assert!(!columns_match(&[c("a", "long")], &[r("b", "long")]));
        assert!(!columns_match(&[c("a", "long")], &[]));
        assert_eq!(
            columns_diff(&[c("a", "long")], &[r("a", "int")]),
            "column 0: expected a:int, got a:long"
        );
    }

    #[test]
    fn json_shape() {
        let ok = CheckResult {
            id: "q1".into(),
            ok: true,
            columns: vec![c("a", "long")],
            error: None,
            rows: None,
        };
        assert_eq!(
            serde_json::to_string(&ok).unwrap_or_default(),
            r#"{"id":"q1","ok":true,"columns":[{"name":"a","type":"long"}],"error":null}"#
        );
        // With --run, the row count.
        let ran = CheckResult {
            rows: Some(3),
            ..ok
        };
        assert_eq!(
            serde_json::to_string(&ran).unwrap_or_default(),
            r#"{"id":"q1","ok":true,"columns":[{"name":"a","type":"long"}],"error":null,"rows":3}"#
        );
    }
}
