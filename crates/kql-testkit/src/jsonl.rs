//! Reading JSON Lines files: one JSON object a line, blank lines ignored.

use serde::de::DeserializeOwned;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a JSONL file could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    /// 1-based line number, when one line is at fault.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for LoadError {}

/// Reads every non-blank line of `path` as a `T`. Returns the 1-based line number with each
/// item. The first unreadable line is an error.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<Vec<(usize, T)>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError {
        path: path.to_path_buf(),
        line: None,
        message: e.to_string(),
    })?;
    parse(&text, path)
}

/// Parses JSONL text (see [`load`]); `path` only labels errors.
pub fn parse<T: DeserializeOwned>(text: &str, path: &Path) -> Result<Vec<(usize, T)>, LoadError> {
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let item = serde_json::from_str::<T>(line).map_err(|e| LoadError {
            path: path.to_path_buf(),
            line: Some(i + 1),
            message: format!("invalid JSONL line: {e}"),
        })?;
        items.push((i + 1, item));
    }
    Ok(items)
}
