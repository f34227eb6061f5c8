//! Parses every query of the shared test corpora (`../shared/corpus`, beside the repository;
//! the tests are skipped when that folder is absent).
//!
//! - `kql-conformance.dev.jsonl`: every query must parse without syntax diagnostics;
//! - `hunting.dev.jsonl`: every query Microsoft's parser accepts (`reference.syntax_ok`) must
//!   parse without syntax diagnostics;
//! - `kql-errors.dev.jsonl`: every query must parse without panicking (most of these are
//!   semantic errors, so the verdict is not checked).
//!
//! Valid KQL that the AST cannot represent yet is reported as "not supported" (`KQL4001`),
//! not as a syntax error: named call arguments (`bag_unpack(d, columnsConflict='keep_source')`),
//! `declare pattern` and control commands. Those queries are counted against a budget per
//! file, so that a regression shows up as a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use kql_syntax::{ErrorClass, parse};
use serde_json::Value;

/// Queries allowed to produce syntax diagnostics: (id, reason). Empty: every query parses.
const SYNTAX_ALLOWED: &[(&str, &str)] = &[];

/// At most this many queries of each file may produce "not supported" diagnostics.
const UNSUPPORTED_BUDGET_CONFORMANCE: usize = 9;
const UNSUPPORTED_BUDGET_HUNTING: usize = 27;

fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus"
    ));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("corpus folder {} is absent: skipping", dir.display());
        None
    }
}

struct Case {
    id: String,
    query: String,
    syntax_ok: bool,
}

fn read_cases(file: &str) -> Vec<Case> {
    let Some(dir) = corpus_dir() else {
        return Vec::new();
    };
    let text = std::fs::read_to_string(dir.join(file)).expect("read corpus file");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let value: Value = serde_json::from_str(line).expect("corpus line is JSON");
            Case {
                id: value["id"].as_str().unwrap_or_default().to_string(),
                query: value["query"].as_str().unwrap_or_default().to_string(),
                syntax_ok: value["reference"]["syntax_ok"].as_bool().unwrap_or(true),
            }
        })
        .collect()
}

fn check_file(file: &str, unsupported_budget: usize) {
    let cases = read_cases(file);
    let mut checked = 0;
    let mut clean = 0;
    let mut unsupported = Vec::new();
    let mut failures = Vec::new();
    for case in cases.iter().filter(|c| c.syntax_ok) {
        checked += 1;
        let parsed = parse(&case.query);
        if parsed.diagnostics.is_empty() {
            clean += 1;
            if SYNTAX_ALLOWED.iter().any(|(id, _)| *id == case.id) {
                failures.push(format!(
                    "{}: is in SYNTAX_ALLOWED but parses cleanly",
                    case.id
                ));
            }
            continue;
        }
        let (not_supported, syntax): (Vec<_>, Vec<_>) = parsed
            .diagnostics
            .iter()
            .partition(|d| d.class() == ErrorClass::Unsupported);
        if !not_supported.is_empty() {
            unsupported.push(format!("{}: {}", case.id, not_supported[0].message));
        }
        if !syntax.is_empty() && !SYNTAX_ALLOWED.iter().any(|(id, _)| *id == case.id) {
            let rendered: Vec<String> = syntax.iter().map(|d| d.render(&case.query)).collect();
            failures.push(format!("{}:\n{}", case.id, rendered.join("")));
        }
    }
    eprintln!(
        "{file}: {clean} of {checked} queries parse without diagnostics; {} use valid KQL \
         reported as not supported:\n  {}",
        unsupported.len(),
        unsupported.join("\n  ")
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} queries of {file} have syntax diagnostics:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        unsupported.len() <= unsupported_budget,
        "{} queries of {file} are reported as not supported (budget {unsupported_budget})",
        unsupported.len()
    );
}

#[test]
fn conformance_queries_parse() {
    check_file("kql-conformance.dev.jsonl", UNSUPPORTED_BUDGET_CONFORMANCE);
}

#[test]
fn hunting_queries_parse() {
    check_file("hunting.dev.jsonl", UNSUPPORTED_BUDGET_HUNTING);
}

#[test]
fn error_queries_do_not_panic() {
    let cases = read_cases("kql-errors.dev.jsonl");
    let with_diagnostics = cases
        .iter()
        .filter(|case| !parse(&case.query).diagnostics.is_empty())
        .count();
    eprintln!(
        "kql-errors.dev.jsonl: {} queries parsed, {with_diagnostics} with parse diagnostics",
        cases.len()
    );
}

#[test]
fn syntax_rejected_hunting_queries_do_not_panic() {
    let cases = read_cases("hunting.dev.jsonl");
    let rejected: Vec<_> = cases.iter().filter(|c| !c.syntax_ok).collect();
    let flagged = rejected
        .iter()
        .filter(|case| !parse(&case.query).diagnostics.is_empty())
        .count();
    eprintln!(
        "hunting.dev.jsonl: {flagged} of {} queries that Microsoft's parser rejects have parse diagnostics",
        rejected.len()
    );
}
