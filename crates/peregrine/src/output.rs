//! Query results as a table, JSON or CSV, and a progress line for long runs.

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use kql_engine::QueryResult;
use kql_engine::format::{result_rows_json, result_rows_text};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};

/// `(1 row)`, `(3 rows)`.
pub fn row_count_line(n: usize) -> String {
    if n == 1 {
        "(1 row)".to_string()
    } else {
        format!("({n} rows)")
    }
}

/// A readable table: a header with each column's name, one line per row, and a row count.
pub fn table(result: &QueryResult) -> String {
    let rows = result_rows_text(result);
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(result.columns.iter().map(|c| c.name.clone()));
    for r in &rows {
        t.add_row(r.clone());
    }
    for (i, c) in result.columns.iter().enumerate() {
        if c.ty.is_numeric()
            && let Some(col) = t.column_mut(i)
        {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    format!("{t}\n{}\n", row_count_line(rows.len()))
}

/// `{"columns":[{"name","type"}],"rows":[[cell, ...], ...]}` (plus `"visualization"` when the
/// query ended with `render`); cells as in the API (`kql_engine::format::cell_json`).
pub fn json(result: &QueryResult) -> String {
    let mut v = json!({
        "columns": result.columns.iter().map(|c| json!({"name": c.name, "type": c.ty.name()})).collect::<Vec<_>>(),
        "rows": result_rows_json(result).into_iter().map(Value::from).collect::<Vec<_>>(),
    });
    if let (Some(vis), Some(obj)) = (&result.visualization, v.as_object_mut()) {
        obj.insert("visualization".into(), vis.clone());
    }
    let mut s = v.to_string();
    s.push('\n');
    s
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.trim() != s {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_line(cells: impl Iterator<Item = String>) -> String {
    let mut line = cells.map(|c| csv_field(&c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// CSV (RFC 4180): a header line of column names, then rows of display text.
pub fn csv(result: &QueryResult) -> String {
    let mut out = csv_line(result.columns.iter().map(|c| c.name.clone()));
    for r in result_rows_text(result) {
        out.push_str(&csv_line(r.into_iter()));
    }
    out
}

/// A `[done/total]` line on stderr, redrawn in place; silent unless stderr is a terminal.
pub struct Progress {
    enabled: bool,
    label: &'static str,
    last: std::time::Instant,
}

impl Progress {
    pub fn new(label: &'static str) -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            label,
            last: std::time::Instant::now(),
        }
    }

    pub fn update(&mut self, done: usize, total: usize) {
        if !self.enabled {
            return;
        }
        let now = std::time::Instant::now();
        if done < total && now.duration_since(self.last).as_millis() < 100 {
            return;
        }
        self.last = now;
        let mut err = std::io::stderr();
        let _ = write!(err, "\r{} [{done}/{total}]", self.label);
        let _ = err.flush();
    }

    pub fn finish(&mut self) {
        if self.enabled {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("a"), "a");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field(" x"), "\" x\"");
        assert_eq!(
            csv_line(["a".to_string(), "".to_string()].into_iter()),
            "a,\r\n"
        );
    }

    #[test]
    fn counts() {
        assert_eq!(row_count_line(1), "(1 row)");
        assert_eq!(row_count_line(0), "(0 rows)");
    }
}
