//! Ratchets: pass counts over the shared corpora (`<repo>/../shared/corpus`) must not fall
//! below the floors in `<repo>/tests/ratchet-floors.json`:
//!
//! - `conformance_pass`: `kql-conformance.dev.jsonl` cases that pass (approximate included);
//! - `hunting_exact`: `hunting.dev.jsonl` queries that Microsoft's binder accepts and that we
//!   accept with exactly the reference columns;
//! - `errors_rejected`: `kql-errors.dev.jsonl` queries we reject (an error, no rows).
//!
//! Each test prints its counts. Set `RATCHET_REPORT_DIR=DIR` to also write one line per
//! case (`id <TAB> verdict <TAB> reason`) to `DIR/<name>.tsv`.

use kql_engine::Engine;
use kql_testkit::check::{self, Agreement, CheckCase};
use kql_testkit::conformance::{self, Case, RunOptions, Summary, Verdict};
use kql_testkit::errors::{self, ErrorCase, ErrorOutcome};
use kql_testkit::{CASE_TIMEOUT, corpus_file, jsonl, pool, repo_root, short};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

fn floor(key: &str) -> usize {
    let path = repo_root().join("tests").join("ratchet-floors.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    };
    let v: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => panic!("{} is not JSON: {e}", path.display()),
    };
    v.get(key)
        .and_then(serde_json::Value::as_u64)
        .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

fn load<T: serde::de::DeserializeOwned>(name: &str) -> Vec<T> {
    let path = corpus_file(name);
    match jsonl::load::<T>(&path) {
        Ok(items) => items.into_iter().map(|(_, t)| t).collect(),
        Err(e) => panic!(
            "cannot load the corpus ({e}); the shared data is expected at {} (or set PEREGRINE_SHARED)",
            kql_testkit::shared_dir().display()
        ),
    }
}

fn report(name: &str, lines: impl Iterator<Item = String>) {
    let Some(dir) = std::env::var_os("RATCHET_REPORT_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let path = dir.join(format!("{name}.tsv"));
    let text: String = lines.map(|l| l + "\n").collect();
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
        eprintln!("cannot write {}: {e}", path.display());
    } else {
        println!("report: {}", path.display());
    }
}

fn verdict(key: &str, count: usize) {
    let floor = floor(key);
    println!("{key}: {count} (floor {floor})");
    if count > floor {
        println!("{key}: the floor can be raised to {count}");
    }
    assert!(
        count >= floor,
        "{key} fell to {count}, below its floor {floor} (tests/ratchet-floors.json)"
    );
}

#[test]
fn conformance_ratchet() {
    let cases: Vec<Case> = load("kql-conformance.dev.jsonl");
    let start = Instant::now();
    let engine = Arc::new(Engine::defender());
    let outcomes = conformance::run_all(engine, cases, &RunOptions::default(), &mut |_, _| {});
    let s = Summary::of(&outcomes);
    println!(
        "conformance: {} cases in {:.1} s; {} approximate passes",
        s.total,
        start.elapsed().as_secs_f64(),
        s.approx_passed
    );
    for (kind, n) in &s.by_kind {
        println!("  failed ({}): {n}", kind.name());
    }
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for o in &outcomes {
        if let Some(c) = &o.error_code {
            *codes.entry(c.clone()).or_default() += 1;
        }
    }
    for (c, n) in &codes {
        println!("  error {c}: {n}");
    }
    report(
        "conformance",
        outcomes.iter().map(|o| {
            let v = match &o.verdict {
                Verdict::Pass => "pass".to_string(),
                Verdict::ApproxPass => "approx-pass".to_string(),
                Verdict::Fail(k) => format!("fail:{}", k.name()),
                Verdict::Skip => "skip".to_string(),
            };
            format!("{}\t{v}\t{}", o.id, short(&o.reason, 300))
        }),
    );
    println!("{}", s.line());
    verdict("conformance_pass", s.passed);
}

#[test]
fn hunting_ratchet() {
    let cases: Vec<CheckCase> = load("hunting.dev.jsonl");
    let start = Instant::now();
    let engine = Arc::new(Engine::defender());
    let results = check::check_all(
        engine,
        &cases,
        pool::default_parallelism(),
        CASE_TIMEOUT,
        &mut |_, _| {},
    );
    let s = check::CheckSummary::of(&cases, &results);
    println!(
        "hunting: {} queries in {:.1} s",
        s.total,
        start.elapsed().as_secs_f64()
    );
    for l in s.reference_lines() {
        println!("{l}");
    }
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for (c, r) in cases.iter().zip(&results) {
        if c.reference.as_ref().is_some_and(|r| r.errors.is_empty())
            && let Some(e) = &r.error
        {
            *codes.entry(e.code.clone()).or_default() += 1;
        }
    }
    for (c, n) in &codes {
        println!("  reference-ok rejected with {c}: {n}");
    }
    report(
        "hunting",
        cases.iter().zip(&results).map(|(c, r)| {
            let (v, why) = match &c.reference {
                None => ("no-reference", String::new()),
                Some(reference) => match check::agreement(r, reference) {
                    Agreement::Exact => ("exact", String::new()),
                    Agreement::ColumnsDiffer => (
                        "columns-differ",
                        check::columns_diff(&r.columns, &reference.columns),
                    ),
                    Agreement::WeReject | Agreement::BothReject => (
                        if reference.errors.is_empty() {
                            "we-reject"
                        } else {
                            "both-reject"
                        },
                        r.error
                            .as_ref()
                            .map(|e| format!("{}: {}", e.code, e.message))
                            .unwrap_or_default(),
                    ),
                    Agreement::WeAccept => ("we-accept", String::new()),
                },
            };
            format!("{}\t{v}\t{}", c.id, short(&why, 300))
        }),
    );
    println!("{}", s.line());
    verdict("hunting_exact", s.exact);
}

#[test]
fn errors_ratchet() {
    let cases: Vec<ErrorCase> = load("kql-errors.dev.jsonl");
    let ids: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
    let engine = Arc::new(Engine::defender());
    let outcomes = errors::run_all(
        engine,
        cases,
        pool::default_parallelism(),
        CASE_TIMEOUT,
        &mut |_, _| {},
    );
    let rejected = outcomes.iter().filter(|o| o.rejected()).count();
    println!(
        "errors: {} of {} queries rejected",
        rejected,
        outcomes.len()
    );
    report(
        "errors",
        ids.iter().zip(&outcomes).map(|(id, o)| {
            let v = match o {
                ErrorOutcome::Rejected(code) => format!("rejected\t{code}"),
                ErrorOutcome::Accepted(n) => format!("accepted\t{n} rows"),
                ErrorOutcome::Timeout => "timeout\t".to_string(),
                ErrorOutcome::Panic(m) => format!("panic\t{}", short(m, 200)),
            };
            format!("{id}\t{v}")
        }),
    );
    verdict("errors_rejected", rejected);
}
