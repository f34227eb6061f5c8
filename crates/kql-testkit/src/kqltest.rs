//! `.kqltest` golden files: KQL queries with their expected results or errors.
//!
//! The format (documented for users in `docs/testing.md`):
//!
//! ```text
//! # A comment: lines starting with `#` outside expected output.
//!
//! query rowsort
//! datatable(x:long, s:string) [1, "a", 2, "b"]
//! | where x > 1
//! ----
//! x:long | s:string
//! 2 | b
//!
//! error KQL4001
//! print x = 1 | evaluate some_plugin()
//! ```
//!
//! Records are separated by blank lines (so a query has no blank line). A record starts
//! with a directive: `query` (rows compared in order; `query nosort` is the same),
//! `query rowsort` (rows sorted before comparing), or `error [CODE]` (the query must fail
//! with a diagnostic of that code, any code when none is given). Query lines follow; for
//! `query`, a line `----` and the expected output: a header `name:type | name:type` and
//! one line per row. Cells are separated by `|` (with a space each side when written);
//! a cell is written bare unless it is empty (a null is `""`), starts with `"`, contains
//! `|` or a control character, or has leading or trailing whitespace: then it is written
//! as a JSON string literal. Cells are KQL display text (`kql_engine::format`).
//!
//! Queries run with `now()` fixed at [`NOW_NANOS`] (2024-01-01T00:00:00Z).
//!
//! `PEREGRINE_COMPLETE=1` rewrites the expected output of every `query` record (and the
//! code of every `error` record) from the actual results. `KQLTEST_FILTER=file[:line]`
//! runs only the records of files whose path contains `file` (and, with `:line`, only the
//! record spanning that line).

use crate::conformance::{RunError, run_query_with};
use crate::pool;
use kql_engine::{Engine, QueryOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// `now()` for `.kqltest` queries: 2024-01-01T00:00:00Z.
pub const NOW_NANOS: i64 = 1_704_067_200_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortMode {
    NoSort,
    RowSort,
}

/// An expected (or actual) table: `(name, type)` columns and display-text rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// `query`: the expected table, `None` when the record has no `----` section yet.
    Table {
        sort: SortMode,
        table: Option<Table>,
    },
    /// `error [CODE]`.
    Error { code: Option<String> },
}

/// One record of a `.kqltest` file. Line numbers are 1-based; indexes are 0-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The file, as given to [`parse_file`].
    pub path: PathBuf,
    /// Line of the directive.
    pub line: usize,
    /// Last line of the record.
    pub end_line: usize,
    pub query: String,
    pub expect: Expect,
    /// Index of the directive line.
    directive_idx: usize,
    /// Index of the `----` line, or of the line after the query when there is none.
    separator_idx: usize,
    /// Index one past the record's last line.
    end_idx: usize,
}

/// A problem with a file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// Whether a cell must be written as a JSON string literal.
fn needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.starts_with('"')
        || s.contains('|')
        || s.trim() != s
        || s.chars().any(char::is_control)
}

/// A cell as written in a `.kqltest` file.
pub fn encode_cell(s: &str) -> String {
    if needs_quotes(s) {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    } else {
        s.to_string()
    }
}

/// The byte length of the JSON string literal at the start of `s` (which starts with `"`).
fn json_string_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Splits a line into raw cells at `|` outside JSON string literals that open a cell.
fn split_raw(line: &str) -> Result<Vec<&str>, String> {
    let mut cells = Vec::new();
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start();
        let scan_from = if trimmed.starts_with('"') {
            json_string_len(trimmed).ok_or_else(|| "unterminated quoted cell".to_string())?
        } else {
            0
        };
        match trimmed[scan_from..].find('|') {
            Some(p) => {
                cells.push(trimmed[..scan_from + p].trim());
                rest = &trimmed[scan_from + p + 1..];
            }
            None => {
                cells.push(trimmed.trim());
                return Ok(cells);
            }
        }
    }
}

/// Decodes one raw cell: a JSON string literal, or the text as is.
fn decode_cell(raw: &str) -> Result<String, String> {
    if raw.starts_with('"') {
        match json_string_len(raw) {
            Some(n) if n == raw.len() => serde_json::from_str::<String>(raw)
                .map_err(|e| format!("bad quoted cell {raw}: {e}")),
            _ => Err(format!("text after a quoted cell: {raw}")),
        }
    } else {
        Ok(raw.to_string())
    }
}

/// Parses a row line into cells.
pub fn parse_row(line: &str) -> Result<Vec<String>, String> {
    split_raw(line)?.into_iter().map(decode_cell).collect()
}

/// Parses a header line `name:type | name:type`.
pub fn parse_header(line: &str) -> Result<Vec<(String, String)>, String> {
    split_raw(line)?
        .into_iter()
        .map(|raw| {
            let (name, ty) = if raw.starts_with('"') {
                let n = json_string_len(raw)
                    .ok_or_else(|| format!("unterminated quoted name: {raw}"))?;
                let name = serde_json::from_str::<String>(&raw[..n])
                    .map_err(|e| format!("bad quoted name {raw}: {e}"))?;
                let ty = raw[n..]
                    .trim()
                    .strip_prefix(':')
                    .ok_or_else(|| format!("expected name:type, got {raw}"))?;
                (name, ty.trim().to_string())
            } else {
                let (name, ty) = raw
                    .rsplit_once(':')
                    .ok_or_else(|| format!("expected name:type, got {raw}"))?;
                (name.trim().to_string(), ty.trim().to_string())
            };
            if ty.is_empty() {
                return Err(format!("missing type in header cell {raw}"));
            }
            Ok((name, ty))
        })
        .collect()
}

/// A header line for columns.
pub fn format_header(columns: &[(String, String)]) -> String {
    columns
        .iter()
        .map(|(name, ty)| {
            let name = if needs_quotes(name) || name.contains(':') {
                serde_json::to_string(name).unwrap_or_else(|_| name.clone())
            } else {
                name.clone()
            };
            format!("{name}:{ty}")
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A row line for cells.
pub fn format_row(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| encode_cell(c))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A table as the lines after `----`.
pub fn format_table(table: &Table) -> Vec<String> {
    let mut lines = vec![format_header(&table.columns)];
    lines.extend(table.rows.iter().map(|r| format_row(r)));
    lines
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Parses a file's text into records. Problems are returned apart; the records parsed
/// around them are kept.
pub fn parse_file(path: &Path, text: &str) -> (Vec<Record>, Vec<ParseError>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let err = |line: usize, message: String| ParseError {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut i = 0;
    while i < lines.len() {
        if is_blank(lines[i]) || is_comment(lines[i]) {
            i += 1;
            continue;
        }
        let directive_idx = i;
        let mut end = i;
        while end < lines.len() && !is_blank(lines[end]) {
            end += 1;
        }
        i = end;
        let words: Vec<&str> = lines[directive_idx].split_whitespace().collect();
        let body = &lines[directive_idx + 1..end];
        let sep = body.iter().position(|l| l.trim_end() == "----");
        let query_lines = &body[..sep.unwrap_or(body.len())];
        let query = query_lines
            .iter()
            .filter(|l| !is_comment(l))
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        let separator_idx = directive_idx + 1 + sep.unwrap_or(body.len());
        let line = directive_idx + 1;
        if query.trim().is_empty() {
            errors.push(err(line, "record has no query".into()));
            continue;
        }
        let expect = match words.as_slice() {
            ["query"] | ["query", "nosort"] | ["query", "rowsort"] => {
                let sort = if words.get(1) == Some(&"rowsort") {
                    SortMode::RowSort
                } else {
                    SortMode::NoSort
                };
                let table = match sep {
                    None => None,
                    Some(s) => {
                        let out = &body[s + 1..];
                        let Some(header) = out.first() else {
                            errors.push(err(
                                separator_idx + 1,
                                "`----` without a header line".into(),
                            ));
                            continue;
                        };
                        let columns = match parse_header(header) {
                            Ok(c) => c,
                            Err(m) => {
                                errors.push(err(separator_idx + 2, m));
                                continue;
                            }
                        };
                        let mut rows = Vec::new();
                        let mut bad = false;
                        for (k, l) in out[1..].iter().enumerate() {
                            match parse_row(l) {
                                Ok(r) => rows.push(r),
                                Err(m) => {
                                    errors.push(err(separator_idx + 3 + k, m));
                                    bad = true;
                                }
                            }
                        }
                        if bad {
                            continue;
                        }
                        Some(Table { columns, rows })
                    }
                };
                Expect::Table { sort, table }
            }
            ["error"] => Expect::Error { code: None },
            ["error", code] => Expect::Error {
                code: Some((*code).to_string()),
            },
            _ => {
                errors.push(err(
                    line,
                    format!(
                        "expected `query [rowsort|nosort]` or `error [CODE]`, got `{}`",
                        lines[directive_idx].trim()
                    ),
                ));
                continue;
            }
        };
        if matches!(expect, Expect::Error { .. }) && sep.is_some() {
            errors.push(err(
                separator_idx + 1,
                "an `error` record has no `----` section".into(),
            ));
            continue;
        }
        records.push(Record {
            path: path.to_path_buf(),
            line,
            end_line: end,
            query,
            expect,
            directive_idx,
            separator_idx,
            end_idx: end,
        });
    }
    (records, errors)
}

/// What a record's query did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actual {
    Table(Table),
    /// Every diagnostic's code (at least one), and all diagnostics rendered.
    Error {
        codes: Vec<String>,
        rendered: String,
    },
    /// A panic, a timeout, or no runtime.
    Aborted(String),
}

/// Runs one query (with `now()` at [`NOW_NANOS`]).
pub fn run_record_query(engine: &Engine, query: &str, timeout: Duration) -> Actual {
    let options = QueryOptions {
        now_nanos: Some(NOW_NANOS),
        ..QueryOptions::default()
    };
    match run_query_with(engine, query, &options, timeout) {
        Ok(result) => Actual::Table(Table {
            columns: result
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.ty.name().to_string()))
                .collect(),
            rows: kql_engine::format::result_rows_text(&result),
        }),
        Err(RunError::Diagnostics(diags)) => Actual::Error {
            codes: if diags.is_empty() {
                vec![crate::conformance::first_error(&diags).0]
            } else {
                diags.iter().map(|d| d.code.to_string()).collect()
            },
            rendered: diags.iter().map(|d| d.render(query)).collect(),
        },
        Err(RunError::Timeout) => {
            Actual::Aborted(format!("timeout after {} s", timeout.as_secs_f64()))
        }
        Err(RunError::Runtime(m)) => Actual::Aborted(m),
    }
}

fn sorted(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut r = rows.to_vec();
    r.sort();
    r
}

fn indent(lines: &[String]) -> String {
    lines.iter().map(|l| format!("    {l}\n")).collect()
}

/// Compares a record's expectation with what happened; `None` when they agree, else a
/// description of the difference.
pub fn evaluate(record: &Record, actual: &Actual) -> Option<String> {
    match (&record.expect, actual) {
        (_, Actual::Aborted(m)) => Some(format!("query aborted: {m}")),
        (Expect::Table { table: None, .. }, _) => {
            Some("no expected output (run with PEREGRINE_COMPLETE=1 to fill it in)".into())
        }
        (Expect::Table { .. }, Actual::Error { rendered, .. }) => Some(format!(
            "query failed:\n{}",
            indent(&rendered.lines().map(String::from).collect::<Vec<_>>())
        )),
        (
            Expect::Table {
                sort,
                table: Some(expected),
            },
            Actual::Table(got),
        ) => {
            let (exp_rows, got_rows) = match sort {
                SortMode::RowSort => (sorted(&expected.rows), sorted(&got.rows)),
                SortMode::NoSort => (expected.rows.clone(), got.rows.clone()),
            };
            if expected.columns == got.columns && exp_rows == got_rows {
                return None;
            }
            let what = if expected.columns != got.columns {
                "columns differ"
            } else {
                "rows differ"
            };
            let e = Table {
                columns: expected.columns.clone(),
                rows: exp_rows,
            };
            let g = Table {
                columns: got.columns.clone(),
                rows: got_rows,
            };
            Some(format!(
                "{what}\n  expected:\n{}  actual:\n{}",
                indent(&format_table(&e)),
                indent(&format_table(&g))
            ))
        }
        (Expect::Error { code }, Actual::Error { codes, rendered }) => match code {
            Some(c) if !codes.contains(c) => Some(format!(
                "expected error {c}, got:\n{}",
                indent(&rendered.lines().map(String::from).collect::<Vec<_>>())
            )),
            _ => None,
        },
        (Expect::Error { code }, Actual::Table(t)) => Some(format!(
            "expected error {}, got {} rows:\n{}",
            code.as_deref().unwrap_or("(any code)"),
            t.rows.len(),
            indent(&format_table(t))
        )),
    }
}

/// Rewrites a file's text with actual results (`PEREGRINE_COMPLETE=1`): the expected output
/// of each `query` record that ran, and the code of each `error` record that failed.
/// Records without a usable result are left as they are.
pub fn complete_text(text: &str, results: &[(Record, Actual)]) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut edits: Vec<&(Record, Actual)> = results.iter().collect();
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.directive_idx));
    for (record, actual) in edits {
        match (&record.expect, actual) {
            (Expect::Table { sort, .. }, Actual::Table(t)) => {
                let mut t = t.clone();
                if *sort == SortMode::RowSort {
                    t.rows.sort();
                }
                let mut new = vec!["----".to_string()];
                new.extend(format_table(&t));
                let end = record.end_idx.min(lines.len());
                let start = record.separator_idx.min(end);
                lines.splice(start..end, new);
            }
            (Expect::Error { code }, Actual::Error { codes, .. })
                if code.as_ref().is_some_and(|c| !codes.contains(c)) =>
            {
                if let (Some(l), Some(got)) = (lines.get_mut(record.directive_idx), codes.first()) {
                    *l = format!("error {got}");
                }
            }
            _ => {}
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Which records to run: `KQLTEST_FILTER=file[:line]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub file: String,
    pub line: Option<usize>,
}

impl Filter {
    pub fn parse(s: &str) -> Option<Filter> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        if let Some((file, line)) = s.rsplit_once(':')
            && let Ok(n) = line.parse::<usize>()
        {
            return Some(Filter {
                file: file.to_string(),
                line: Some(n),
            });
        }
        Some(Filter {
            file: s.to_string(),
            line: None,
        })
    }

    /// `KQLTEST_FILTER` from the environment.
    pub fn from_env() -> Option<Filter> {
        std::env::var("KQLTEST_FILTER")
            .ok()
            .and_then(|s| Filter::parse(&s))
    }

    pub fn matches_file(&self, rel_path: &str) -> bool {
        rel_path.contains(&self.file)
    }

    pub fn matches(&self, rel_path: &str, record: &Record) -> bool {
        self.matches_file(rel_path)
            && self
                .line
                .is_none_or(|l| record.line <= l && l <= record.end_line)
    }
}

/// Every `*.kqltest` file under `dir`, sorted.
pub fn find_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "kqltest") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// One failing record (or unreadable file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `path:line`
    pub location: String,
    pub query: String,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}: {}", self.location, self.message.trim_end())?;
        if !self.query.is_empty() {
            writeln!(f, "  query:")?;
            for l in self.query.lines() {
                writeln!(f, "    {l}")?;
            }
        }
        Ok(())
    }
}

/// The outcome of running a directory of `.kqltest` files.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub files: usize,
    pub records: usize,
    pub passed: usize,
    pub failures: Vec<Failure>,
    /// Files rewritten by completion mode.
    pub rewritten: Vec<PathBuf>,
}

/// Settings for [`run_dir`].
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub filter: Option<Filter>,
    /// Rewrite expected output from actual results.
    pub complete: bool,
    pub parallelism: usize,
    pub timeout: Duration,
}

impl RunSettings {
    /// Settings from `KQLTEST_FILTER` and `PEREGRINE_COMPLETE`.
    pub fn from_env() -> RunSettings {
        RunSettings {
            filter: Filter::from_env(),
            complete: std::env::var("PEREGRINE_COMPLETE").is_ok_and(|v| !v.is_empty() && v != "0"),
            parallelism: pool::default_parallelism(),
            timeout: crate::CASE_TIMEOUT,
        }
    }
}

fn rel(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Runs every record of every `.kqltest` file under `dir`. Locations in the report are
/// `display_root`-relative paths with lines (e.g. `tests/kql/operators/where.kqltest:12`).
pub fn run_dir(
    engine: Arc<Engine>,
    dir: &Path,
    display_root: &Path,
    settings: &RunSettings,
) -> Report {
    let mut report = Report::default();
    let files = match find_files(dir) {
        Ok(f) => f,
        Err(e) => {
            report.failures.push(Failure {
                location: dir.display().to_string(),
                query: String::new(),
                message: format!("cannot list .kqltest files: {e}"),
            });
            return report;
        }
    };
    let mut texts = Vec::new();
    let mut records = Vec::new();
    for file in &files {
        let rel_path = rel(dir, file);
        if settings
            .filter
            .as_ref()
            .is_some_and(|f| !f.matches_file(&rel_path))
        {
            continue;
        }
        report.files += 1;
        let shown = rel(display_root, file);
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                report.failures.push(Failure {
                    location: shown,
                    query: String::new(),
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        let (recs, errors) = parse_file(Path::new(&shown), &text);
        for e in errors {
            report.failures.push(Failure {
                location: format!("{}:{}", shown, e.line),
                query: String::new(),
                message: format!("bad .kqltest syntax: {}", e.message),
            });
        }
        for r in recs {
            if settings
                .filter
                .as_ref()
                .is_none_or(|f| f.matches(&rel_path, &r))
            {
                records.push(r);
            }
        }
        texts.push((file.clone(), shown, text));
    }
    if settings.filter.is_some() && records.is_empty() {
        report.failures.push(Failure {
            location: "KQLTEST_FILTER".into(),
            query: String::new(),
            message: "no record matches the filter".into(),
        });
        return report;
    }
    report.records = records.len();
    let timeout = settings.timeout;
    let queries: Vec<String> = records.iter().map(|r| r.query.clone()).collect();
    let actuals = pool::run(
        queries,
        settings.parallelism,
        timeout + Duration::from_secs(5),
        move |q: String| run_record_query(&engine, &q, timeout),
        &mut |_, _| {},
    );
    let results: Vec<(Record, Actual)> = records
        .into_iter()
        .zip(actuals)
        .map(|(r, a)| (r, a.unwrap_or_else(|e| Actual::Aborted(e.to_string()))))
        .collect();
    for (record, actual) in &results {
        let completed = settings.complete
            && matches!(
                (&record.expect, actual),
                (Expect::Table { .. }, Actual::Table(_))
                    | (Expect::Error { .. }, Actual::Error { .. })
            );
        match evaluate(record, actual) {
            None => report.passed += 1,
            Some(_) if completed => report.passed += 1,
            Some(message) => report.failures.push(Failure {
                location: format!("{}:{}", record.path.display(), record.line),
                query: record.query.clone(),
                message,
            }),
        }
    }
    if settings.complete {
        for (file, shown, text) in texts {
            let mine: Vec<(Record, Actual)> = results
                .iter()
                .filter(|(r, _)| r.path == Path::new(&shown))
                .cloned()
                .collect();
            if mine.is_empty() {
                continue;
            }
            let new = complete_text(&text, &mine);
            if new != text {
                match std::fs::write(&file, new) {
                    Ok(()) => report.rewritten.push(file),
                    Err(e) => report.failures.push(Failure {
                        location: shown,
                        query: String::new(),
                        message: format!("cannot rewrite: {e}"),
                    }),
                }
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# comment\n\
query rowsort\n\
datatable(x:long, s:string) [1, \"a\", 2, \"b|c\"]\n\
# a comment inside the query\n\
| where x > 0\n\
----\n\
x:long | s:string\n\
1 | a\n\
2 | \"b|c\"\n\
\n\
\n\
error KQL4001\n\
print 1 | evaluate nope()\n\
\n\
query\n\
print \"\"\n";

    fn parse(text: &str) -> (Vec<Record>, Vec<ParseError>) {
        parse_file(Path::new("t.kqltest"), text)
    }

    #[test]
    fn parses_records() {
        let (recs, errs) = parse(FILE);
        assert_eq!(errs, vec![]);
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].line, 2);
        assert_eq!(recs[0].end_line, 9);
        assert_eq!(
            recs[0].query,
            "datatable(x:long, s:string) [1, \"a\", 2, \"b|c\"]\n| where x > 0"
        );
        assert_eq!(
            recs[0].expect,
            Expect::Table {
                sort: SortMode::RowSort,
                table: Some(Table {
                    columns: vec![("x".into(), "long".into()), ("s".into(), "string".into())],
                    rows: vec![vec!["1".into(), "a".into()], vec!["2".into(), "b|c".into()]],
                })
            }
        );
        assert_eq!(
            recs[1].expect,
            Expect::Error {
                code: Some("KQL4001".into())
            }
        );
        assert_eq!(
            recs[2].expect,
            Expect::Table {
                sort: SortMode::NoSort,
                table: None
            }
        );
    }

    #[test]
    fn cells_round_trip() {
        for cells in [
            vec![
                "".to_string(),
                " x".into(),
                "a|b".into(),
                "\"q\"".into(),
                "tab\there".into(),
            ],
            vec!["plain text".into(), "[1,2]".into(), "{\"a\":\"b\"}".into()],
        ] {
            let line = format_row(&cells);
            assert_eq!(parse_row(&line), Ok(cells));
        }
        assert_eq!(
            parse_row("1|2 |  3"),
            Ok(vec!["1".into(), "2".into(), "3".into()])
        );
        assert!(parse_row("\"abc").is_err());
        let cols = vec![
            ("a b".to_string(), "long".to_string()),
            ("x:y".into(), "string".into()),
        ];
        assert_eq!(parse_header(&format_header(&cols)), Ok(cols));
    }

    #[test]
    fn bad_syntax() {
        let (recs, errs) = parse("select 1\n\nquery\nprint 1\n----\nnocolon\n");
        assert!(recs.is_empty());
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].line, 1);
        assert_eq!(errs[1].line, 6);
    }

    #[test]
    fn evaluates_and_completes() {
        let (recs, _) = parse(FILE);
        let actual = Actual::Table(Table {
            columns: vec![("x".into(), "long".into()), ("s".into(), "string".into())],
            rows: vec![vec!["2".into(), "b|c".into()], vec!["1".into(), "a".into()]],
        });
        assert_eq!(evaluate(&recs[0], &actual), None);
        let err = Actual::Error {
            codes: vec!["KQL4001".into()],
            rendered: "error[KQL4001]: x\n".into(),
        };
        assert_eq!(evaluate(&recs[1], &err), None);
        assert!(evaluate(&recs[1], &actual).is_some());
        let printed = Actual::Table(Table {
            columns: vec![("print_0".into(), "string".into())],
            rows: vec![vec!["".into()]],
        });
        assert!(evaluate(&recs[2], &printed).is_some());
        let results = vec![
            (recs[0].clone(), actual),
            (
                recs[1].clone(),
                Actual::Error {
                    codes: vec!["KQL2003".into()],
                    rendered: String::new(),
                },
            ),
            (recs[2].clone(), printed),
        ];
        let new = complete_text(FILE, &results);
        let (recs2, errs2) = parse(&new);
        assert_eq!(errs2, vec![]);
        assert_eq!(
            recs2[1].expect,
            Expect::Error {
                code: Some("KQL2003".into())
            }
        );
        assert!(new.ends_with("query\nprint \"\"\n----\nprint_0:string\n\"\"\n"));
        assert!(new.contains("x:long | s:string\n1 | a\n2 | \"b|c\"\n"));
    }

    #[test]
    fn filters() {
        let f = Filter::parse("operators/where.kqltest:12");
        assert_eq!(
            f,
            Some(Filter {
                file: "operators/where.kqltest".into(),
                line: Some(12)
            })
        );
        assert_eq!(Filter::parse("where").map(|f| f.line), Some(None));
    }
}
