//! kql-testkit: measuring the KQL engine.
//!
//! - [`normalise`]: the corpus comparison rules (`../shared/corpus/README.md`, "Comparing a
//!   result with expected"; a port of `normalise.py`).
//! - [`conformance`]: runs `kql-conformance` cases (`{"id","query","expected",...}`) and
//!   compares their results.
//! - [`check`]: binds and plans hunting-style queries (`{"id","query","reference"}`) and
//!   compares the result columns with Microsoft's binder.
//! - [`errors`]: runs `kql-errors` queries, which must be rejected.
//! - [`kqltest`]: the `.kqltest` golden-file format and runner (`docs/testing.md`).
//! - [`pool`]: runs jobs on worker threads with a timeout each, turning panics into results.
//!
//! Every runner catches panics and timeouts per case: one bad case never aborts a run.

pub mod check;
pub mod conformance;
pub mod errors;
pub mod jsonl;
pub mod kqltest;
pub mod normalise;
pub mod pool;

use std::path::PathBuf;
use std::time::Duration;

/// The default time limit for one case.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(10);

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

/// The read-only shared data beside the repository: `$PEREGRINE_SHARED` if set, else
/// `<repo>/../shared`.
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PEREGRINE_SHARED") {
        return PathBuf::from(dir);
    }
    repo_root().join("..").join("shared")
}

/// `<shared>/corpus/<name>`.
pub fn corpus_file(name: &str) -> PathBuf {
    shared_dir().join("corpus").join(name)
}

/// A one-line, length-limited rendering of a text for reports.
pub fn short(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    if flat.chars().count() <= max {
        flat
    } else {
        let mut s: String = flat.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}
