//! Runs every `<repo>/tests/kql/**/*.kqltest` golden file (format: `docs/testing.md`).
//!
//! `KQLTEST_FILTER=file[:line]` runs a subset; `PEREGRINE_COMPLETE=1` rewrites expected
//! output from actual results.

use kql_engine::Engine;
use kql_testkit::kqltest::{RunSettings, run_dir};
use kql_testkit::repo_root;
use std::sync::Arc;

#[test]
fn kqltest_files() {
    let root = repo_root();
    let dir = root.join("tests").join("kql");
    let settings = RunSettings::from_env();
    let report = run_dir(Arc::new(Engine::defender()), &dir, &root, &settings);
    for f in &report.failures {
        println!("{f}");
    }
    for p in &report.rewritten {
        println!("rewrote {}", p.display());
    }
    println!(
        "kqltest: {} passed, {} failed ({} records in {} files)",
        report.passed,
        report.failures.len(),
        report.records,
        report.files
    );
    assert!(
        report.files > 0,
        "no .kqltest files under {}",
        dir.display()
    );
    assert!(
        report.failures.is_empty(),
        "{} .kqltest records failed (listed above)",
        report.failures.len()
    );
}
