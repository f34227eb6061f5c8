//! `externaldata`: rows from local files. Peregrine does not fetch from the network by
//! default: `http(s)://` and other remote URIs bind and plan (so `check` accepts the
//! query) but fail with "not supported" when the query runs.

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::{Result, not_impl_err};
use datafusion::datasource::{MemTable, TableProvider, TableType};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use std::sync::Arc;

/// A table that cannot be read here (remote URI): fails when scanned.
#[derive(Debug)]
pub struct RemoteTable {
    pub schema: SchemaRef,
    pub uri: String,
}

#[async_trait::async_trait]
impl TableProvider for RemoteTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        _projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        not_impl_err!(
            "externaldata from '{}': Peregrine reads local files only (no network access)",
            self.uri
        )
    }
}

/// Is `uri` a local file reference (plain path or `file://`)?
pub fn local_path(uri: &str) -> Option<String> {
    if let Some(p) = uri.strip_prefix("file://") {
        return Some(p.to_string());
    }
    if uri.contains("://") {
        return None;
    }
    Some(uri.to_string())
}

/// Splits one CSV line into fields (RFC 4180 quotes).
fn csv_fields(line: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' {
            quoted = true;
        } else if c == sep {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

/// Reads local files into a table of text columns named as `names`.
pub fn read_local(
    paths: &[String],
    names: &[String],
    format: &str,
    ignore_first_record: bool,
) -> std::result::Result<MemTable, String> {
    let mut builders: Vec<StringBuilder> = names.iter().map(|_| StringBuilder::new()).collect();
    for path in paths {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("externaldata: cannot read '{path}': {e}"))?;
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        if ignore_first_record {
            lines.next();
        }
        for line in lines {
            match format {
                "json" | "multijson" => {
                    let v: serde_json::Value = serde_json::from_str(line)
                        .map_err(|e| format!("externaldata: bad JSON line in '{path}': {e}"))?;
                    for (b, n) in builders.iter_mut().zip(names) {
                        match v.get(n) {
                            None | Some(serde_json::Value::Null) => b.append_null(),
                            Some(serde_json::Value::String(s)) => b.append_value(s),
                            Some(other) => b.append_value(other.to_string()),
                        }
                    }
                }
                "txt" | "raw" => {
                    for (i, b) in builders.iter_mut().enumerate() {
                        if i == 0 {
                            b.append_value(line);
                        } else {
                            b.append_null();
                        }
                    }
                }
                other => {
                    let sep = match other {
                        "tsv" | "tsve" => '\t',
                        "psv" => '|',
                        "scsv" => ';',
                        _ => ',',
                    };
                    let fields = csv_fields(line, sep);
                    for (i, b) in builders.iter_mut().enumerate() {
                        match fields.get(i) {
                            Some(f) => b.append_value(f),
                            None => b.append_null(),
                        }
                    }
                }
            }
        }
    }
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = builders
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(Arc::clone(&schema), arrays).map_err(|e| e.to_string())?;
    MemTable::try_new(schema, vec![vec![batch]]).map_err(|e| e.to_string())
}
