//! JSON records → Arrow batches in a hunting table's exact schema, with a per-line report
//! of every value that does not fit (line, column, expected type).

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, DurationNanosecondBuilder, Float64Builder, Int32Builder,
    Int64Builder, StringBuilder, TimestampNanosecondBuilder,
};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use kql_sema::TableSchema;
use kql_syntax::KqlType;
use serde_json::Value;

use crate::error::{IngestError, LineError};

/// The Arrow schema of a hunting table (types as in `kql_syntax::types`).
pub fn arrow_schema(table: &TableSchema) -> SchemaRef {
    Arc::new(Schema::new(
        table
            .columns
            .iter()
            .map(|c| Field::new(&c.name, kql_functions::arrow_type(c.ty), true))
            .collect::<Vec<_>>(),
    ))
}

/// Builds one column of a batch.
enum Builder {
    Str(StringBuilder),
    Bool(BooleanBuilder),
    Int(Int32Builder),
    Long(Int64Builder),
    Real(Float64Builder),
    Time(TimestampNanosecondBuilder),
    Span(DurationNanosecondBuilder),
}

impl Builder {
    fn new(ty: KqlType) -> Self {
        match ty {
            KqlType::Bool => Builder::Bool(BooleanBuilder::new()),
            KqlType::Int => Builder::Int(Int32Builder::new()),
            KqlType::Long => Builder::Long(Int64Builder::new()),
            KqlType::Real | KqlType::Decimal => Builder::Real(Float64Builder::new()),
            KqlType::DateTime => Builder::Time(TimestampNanosecondBuilder::new()),
            KqlType::TimeSpan => Builder::Span(DurationNanosecondBuilder::new()),
            _ => Builder::Str(StringBuilder::new()),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Builder::Str(mut b) => Arc::new(b.finish()),
            Builder::Bool(mut b) => Arc::new(b.finish()),
            Builder::Int(mut b) => Arc::new(b.finish()),
            Builder::Long(mut b) => Arc::new(b.finish()),
            Builder::Real(mut b) => Arc::new(b.finish()),
            Builder::Time(mut b) => Arc::new(b.finish()),
            Builder::Span(mut b) => Arc::new(b.finish()),
        }
    }
}

/// A converted cell (strings borrowed from the record until appended).
enum Cell<'a> {
    Null,
    Str(&'a str),
    Owned(String),
    Bool(bool),
    Int(i32),
    Long(i64),
    Real(f64),
    Time(i64),
    Span(i64),
}

/// Converts a JSON value to a column of KQL type `ty`; `None` when it does not fit.
fn convert(v: &Value, ty: KqlType) -> Option<Cell<'_>> {
    if v.is_null() {
        return Some(Cell::Null);
    }
    Some(match ty {
        KqlType::String | KqlType::Guid => match v {
            Value::String(s) => Cell::Str(s),
            Value::Number(n) => Cell::Owned(n.to_string()),
            Value::Bool(b) => Cell::Owned(b.to_string()),
            _ => return None,
        },
        KqlType::Dynamic => match v {
            // A JSON text (as the streaming export sends `AdditionalFields`) is stored parsed.
            Value::String(s) => match s.trim_start().as_bytes().first() {
                Some(b'{' | b'[') => match serde_json::from_str::<Value>(s) {
                    Ok(parsed @ (Value::Object(_) | Value::Array(_))) => {
                        Cell::Owned(parsed.to_string())
                    }
                    _ => Cell::Owned(v.to_string()),
                },
                _ => Cell::Owned(v.to_string()),
            },
            other => Cell::Owned(other.to_string()),
        },
        KqlType::Bool => match v {
            Value::Bool(b) => Cell::Bool(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Cell::Bool(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Cell::Bool(false),
            Value::Number(n) if n.as_i64() == Some(0) => Cell::Bool(false),
            Value::Number(n) if n.as_i64() == Some(1) => Cell::Bool(true),
            _ => return None,
        },
        KqlType::Int => Cell::Int(i32::try_from(integer(v)?).ok()?),
        KqlType::Long => Cell::Long(integer(v)?),
        KqlType::Real | KqlType::Decimal => match v {
            Value::Number(n) => Cell::Real(n.as_f64()?),
            Value::String(s) => Cell::Real(s.trim().parse().ok()?),
            _ => return None,
        },
        KqlType::DateTime => match v {
            Value::String(s) => Cell::Time(kql_sema::datetime::parse_datetime(s)?),
            _ => return None,
        },
        KqlType::TimeSpan => match v {
            Value::Number(n) => Cell::Span(n.as_i64()?.checked_mul(100)?),
            _ => return None,
        },
    })
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn push(b: &mut Builder, c: Cell<'_>) {
    match (b, c) {
        (Builder::Str(b), Cell::Str(s)) => b.append_value(s),
        (Builder::Str(b), Cell::Owned(s)) => b.append_value(s),
        (Builder::Bool(b), Cell::Bool(v)) => b.append_value(v),
        (Builder::Int(b), Cell::Int(v)) => b.append_value(v),
        (Builder::Long(b), Cell::Long(v)) => b.append_value(v),
        (Builder::Real(b), Cell::Real(v)) => b.append_value(v),
        (Builder::Time(b), Cell::Time(v)) => b.append_value(v),
        (Builder::Span(b), Cell::Span(v)) => b.append_value(v),
        (Builder::Str(b), _) => b.append_null(),
        (Builder::Bool(b), _) => b.append_null(),
        (Builder::Int(b), _) => b.append_null(),
        (Builder::Long(b), _) => b.append_null(),
        (Builder::Real(b), _) => b.append_null(),
        (Builder::Time(b), _) => b.append_null(),
        (Builder::Span(b), _) => b.append_null(),
    }
}

/// Collects the records of one table.
pub struct TableBatchBuilder {
    table: TableSchema,
    /// Column index by name.
    index: std::collections::HashMap<String, usize>,
    timestamp: Option<usize>,
    builders: Vec<Builder>,
    rows: usize,
}

impl TableBatchBuilder {
    pub fn new(table: &TableSchema) -> Self {
        TableBatchBuilder {
            table: table.clone(),
            index: table
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.clone(), i))
                .collect(),
            timestamp: table.columns.iter().position(|c| c.name == "Timestamp"),
            builders: table.columns.iter().map(|c| Builder::new(c.ty)).collect(),
            rows: 0,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Adds one record (a JSON object). Nothing is added when a value does not fit; every
    /// problem of the record is reported.
    pub fn add(&mut self, line: usize, record: &Value) -> Result<(), Vec<LineError>> {
        let Value::Object(map) = record else {
            return Err(vec![LineError::new(
                line,
                None,
                "InvalidRecord",
                "a record must be a JSON object",
            )]);
        };
        let mut errors = Vec::new();
        let mut cells: Vec<Cell<'_>> = Vec::with_capacity(self.builders.len());
        cells.resize_with(self.builders.len(), || Cell::Null);
        for (key, v) in map {
            let Some(&i) = self.index.get(key.as_str()) else {
                errors.push(LineError::new(
                    line,
                    Some(key.clone()),
                    "UnknownColumn",
                    format!("table {} has no column '{key}'", self.table.name),
                ));
                continue;
            };
            let Some(c) = self.table.columns.get(i) else {
                continue;
            };
            match convert(v, c.ty) {
                Some(cell) => {
                    if let Some(slot) = cells.get_mut(i) {
                        *slot = cell;
                    }
                }
                None => errors.push(LineError::new(
                    line,
                    Some(c.name.clone()),
                    "TypeMismatch",
                    format!("expected a {} value, got {}", c.ty, short(v)),
                )),
            }
        }
        if let Some(i) = self.timestamp
            && matches!(cells.get(i), Some(Cell::Null))
            && !errors
                .iter()
                .any(|e| e.column.as_deref() == Some("Timestamp"))
        {
            errors.push(LineError::new(
                line,
                Some("Timestamp".into()),
                "MissingTimestamp",
                "every event needs a Timestamp",
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        for (b, cell) in self.builders.iter_mut().zip(cells) {
            push(b, cell);
        }
        self.rows += 1;
        Ok(())
    }

    pub fn finish(self) -> Result<RecordBatch, IngestError> {
        let schema = arrow_schema(&self.table);
        let columns: Vec<ArrayRef> = self.builders.into_iter().map(Builder::finish).collect();
        RecordBatch::try_new(schema, columns).map_err(|e| IngestError::internal(e.to_string()))
    }
}

fn short(v: &Value) -> String {
    let t = v.to_string();
    if t.chars().count() > 40 {
        format!("{}…", t.chars().take(40).collect::<String>())
    } else {
        t
    }
}
