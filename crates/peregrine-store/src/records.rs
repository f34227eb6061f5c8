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
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

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
    /// A builder for about `rows` values (`bytes` of text for a string column).
    fn with_capacity(ty: KqlType, rows: usize, bytes: usize) -> Self {
        match ty {
            KqlType::Bool => Builder::Bool(BooleanBuilder::with_capacity(rows)),
            KqlType::Int => Builder::Int(Int32Builder::with_capacity(rows)),
            KqlType::Long => Builder::Long(Int64Builder::with_capacity(rows)),
            KqlType::Real | KqlType::Decimal => Builder::Real(Float64Builder::with_capacity(rows)),
            KqlType::DateTime => Builder::Time(TimestampNanosecondBuilder::with_capacity(rows)),
            KqlType::TimeSpan => Builder::Span(DurationNanosecondBuilder::with_capacity(rows)),
            _ => Builder::Str(StringBuilder::with_capacity(rows, bytes)),
        }
    }

    fn append_nulls(&mut self, n: usize) {
        match self {
            Builder::Str(b) => b.append_nulls(n),
            Builder::Bool(b) => b.append_nulls(n),
            Builder::Int(b) => b.append_nulls(n),
            Builder::Long(b) => b.append_nulls(n),
            Builder::Real(b) => b.append_nulls(n),
            Builder::Time(b) => b.append_nulls(n),
            Builder::Span(b) => b.append_nulls(n),
        }
    }

    /// Bytes of text held (string columns).
    fn text_bytes(&self) -> usize {
        match self {
            Builder::Str(b) => b.values_slice().len(),
            _ => 0,
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
    if let Value::String(s) = v
        && ty != KqlType::Dynamic
    {
        return convert_str(s, ty);
    }
    Some(match ty {
        KqlType::String | KqlType::Guid => match v {
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
            Value::Number(n) if n.as_i64() == Some(0) => Cell::Bool(false),
            Value::Number(n) if n.as_i64() == Some(1) => Cell::Bool(true),
            _ => return None,
        },
        KqlType::Int => Cell::Int(i32::try_from(integer(v)?).ok()?),
        KqlType::Long => Cell::Long(integer(v)?),
        KqlType::Real | KqlType::Decimal => match v {
            Value::Number(n) => Cell::Real(n.as_f64()?),
            _ => return None,
        },
        KqlType::DateTime => return None,
        KqlType::TimeSpan => match v {
            Value::Number(n) => Cell::Span(n.as_i64()?.checked_mul(100)?),
            _ => return None,
        },
    })
}

/// Converts a JSON string to a column of KQL type `ty` (not `dynamic`); `None` when it
/// does not fit.
fn convert_str(s: &str, ty: KqlType) -> Option<Cell<'_>> {
    Some(match ty {
        KqlType::String | KqlType::Guid => Cell::Str(s),
        KqlType::Dynamic => match convert(&Value::String(s.to_string()), ty) {
            Some(Cell::Owned(o)) => Cell::Owned(o),
            _ => return None,
        },
        KqlType::Bool if s.eq_ignore_ascii_case("true") => Cell::Bool(true),
        KqlType::Bool if s.eq_ignore_ascii_case("false") => Cell::Bool(false),
        KqlType::Bool => return None,
        KqlType::Int => Cell::Int(i32::try_from(s.trim().parse::<i64>().ok()?).ok()?),
        KqlType::Long => Cell::Long(s.trim().parse().ok()?),
        KqlType::Real | KqlType::Decimal => Cell::Real(s.trim().parse().ok()?),
        KqlType::DateTime => Cell::Time(parse_datetime(s)?),
        KqlType::TimeSpan => return None,
    })
}

/// `kql_sema::datetime::parse_datetime`, with a shortcut for the common
/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` form (same result; anything else takes the full parser).
pub fn parse_datetime(s: &str) -> Option<i64> {
    iso_utc(s.as_bytes()).or_else(|| kql_sema::datetime::parse_datetime(s))
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` in nanoseconds since the epoch; `None` for any other
/// form (or an invalid or out-of-range time).
fn iso_utc(b: &[u8]) -> Option<i64> {
    fn digits(b: &[u8], from: usize, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for &c in b.get(from..from + n)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    }
    if b.len() < 20
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || b.last() != Some(&b'Z')
    {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let (month, day) = (digits(b, 5, 2)?, digits(b, 8, 2)?);
    let (hour, minute, second) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    if second > 59 {
        return None;
    }
    let nanos = match b.len() {
        20 => 0,
        n if (22..=30).contains(&n) && b.get(19) == Some(&b'.') => {
            let k = n - 21;
            digits(b, 20, k)? * 10u32.pow(9 - k as u32)
        }
        _ => return None,
    };
    chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?
        .and_hms_nano_opt(hour, minute, second, nanos)?
        .and_utc()
        .timestamp_nanos_opt()
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
    /// State of [`TableBatchBuilder::add_json`] between rows.
    row: RowState,
}

impl TableBatchBuilder {
    pub fn new(table: &TableSchema) -> Self {
        Self::with_capacity(table, 0, &[])
    }

    /// A builder for about `rows` records; `text_bytes` per column as
    /// [`TableBatchBuilder::text_bytes`] of a similar batch (or empty).
    pub fn with_capacity(table: &TableSchema, rows: usize, text_bytes: &[usize]) -> Self {
        let n = table.columns.len();
        TableBatchBuilder {
            table: table.clone(),
            index: table
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.clone(), i))
                .collect(),
            timestamp: table.columns.iter().position(|c| c.name == "Timestamp"),
            builders: table
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let bytes = text_bytes.get(i).copied().unwrap_or(0);
                    Builder::with_capacity(c.ty, rows, bytes + bytes / 8)
                })
                .collect(),
            rows: 0,
            row: RowState {
                slots: vec![Slot::Null; n],
                scratch: String::new(),
                seen: vec![(0, 0); n],
                stamp: 0,
                unknown: Vec::new(),
                errors: Vec::new(),
                key_guess: Vec::new(),
                nulls: vec![0; n],
            },
        }
    }

    /// Appends the nulls [`TableBatchBuilder::add_json`] deferred.
    fn flush_nulls(&mut self) {
        for (b, n) in self.builders.iter_mut().zip(self.row.nulls.iter_mut()) {
            if *n > 0 {
                b.append_nulls(std::mem::take(n));
            }
        }
    }

    /// Bytes of text per column so far (a capacity hint for the next builder).
    pub fn text_bytes(&self) -> Vec<usize> {
        self.builders.iter().map(Builder::text_bytes).collect()
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Adds one record (a JSON object). Nothing is added when a value does not fit; every
    /// problem of the record is reported.
    pub fn add(&mut self, line: usize, record: &Value) -> Result<(), Vec<LineError>> {
        self.flush_nulls();
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
                None => errors.push(LineError::type_mismatch(line, &c.name, c.ty, &short(v))),
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

    /// Adds one record given as JSON text (an NDJSON line), parsed straight into the
    /// columns: the same checks, reports and stored values as [`TableBatchBuilder::add`]
    /// of the parsed value, and an `InvalidJson` report (with the column in the line) when
    /// the text is not JSON.
    pub fn add_json(&mut self, line: usize, text: &str) -> Result<(), Vec<LineError>> {
        let result = self.parse_row(line, text);
        let st = &mut self.row;
        st.stamp += 1;
        st.unknown.clear();
        let errors = std::mem::take(&mut st.errors);
        let object = match result {
            Ok(object) => object,
            Err(e) => {
                st.slots.fill(Slot::Null);
                return Err(vec![LineError::new(
                    line,
                    None,
                    "InvalidJson",
                    format!("invalid JSON at column {}: {e}", e.column()),
                )]);
            }
        };
        if !object {
            st.slots.fill(Slot::Null);
            return Err(vec![LineError::new(
                line,
                None,
                "InvalidRecord",
                "a record must be a JSON object",
            )]);
        }
        let mut errors: Vec<LineError> = if errors.is_empty() {
            Vec::new()
        } else {
            let mut errors = errors;
            // In the order of the record's keys (first occurrence), as `add` reports.
            errors.sort_by_key(|(ord, _)| *ord);
            errors.into_iter().map(|(_, e)| e).collect()
        };
        if let Some(i) = self.timestamp
            && matches!(st.slots.get(i), Some(Slot::Null))
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
            st.slots.fill(Slot::Null);
            return Err(errors);
        }
        let st = &mut self.row;
        for ((b, slot), nulls) in self
            .builders
            .iter_mut()
            .zip(st.slots.iter_mut())
            .zip(st.nulls.iter_mut())
        {
            let slot = std::mem::replace(slot, Slot::Null);
            if let Slot::Null = slot {
                *nulls += 1;
                continue;
            }
            if *nulls > 0 {
                b.append_nulls(std::mem::take(nulls));
            }
            match (b, slot) {
                (Builder::Str(b), Slot::Line(from, to)) => match text.get(from..to) {
                    Some(s) => b.append_value(s),
                    None => b.append_null(),
                },
                (Builder::Str(b), Slot::Scratch(from, to)) => match st.scratch.get(from..to) {
                    Some(s) => b.append_value(s),
                    None => b.append_null(),
                },
                (Builder::Bool(b), Slot::Bool(v)) => b.append_value(v),
                (Builder::Int(b), Slot::Int(v)) => b.append_value(v),
                (Builder::Long(b), Slot::Long(v)) => b.append_value(v),
                (Builder::Real(b), Slot::Real(v)) => b.append_value(v),
                (Builder::Time(b), Slot::Time(v)) => b.append_value(v),
                (Builder::Span(b), Slot::Span(v)) => b.append_value(v),
                (Builder::Str(b), _) => b.append_null(),
                (Builder::Bool(b), _) => b.append_null(),
                (Builder::Int(b), _) => b.append_null(),
                (Builder::Long(b), _) => b.append_null(),
                (Builder::Real(b), _) => b.append_null(),
                (Builder::Time(b), _) => b.append_null(),
                (Builder::Span(b), _) => b.append_null(),
            }
        }
        st.scratch.clear();
        self.rows += 1;
        Ok(())
    }

    /// Parses `text` into the row state; `Ok(false)` when it is JSON but not an object.
    fn parse_row(&mut self, line: usize, text: &str) -> Result<bool, serde_json::Error> {
        self.row.scratch.clear();
        let mut de = serde_json::Deserializer::from_str(text);
        let object = RowVisitor {
            table: &self.table,
            index: &self.index,
            st: &mut self.row,
            line,
            base: text.as_ptr() as usize,
            len: text.len(),
        }
        .deserialize(&mut de)?;
        de.end()?;
        Ok(object)
    }

    pub fn finish(mut self) -> Result<RecordBatch, IngestError> {
        self.flush_nulls();
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

/// A value of the row being parsed by [`TableBatchBuilder::add_json`], kept until the
/// whole row has checked out.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Null,
    /// Bytes `from..to` of the line (a string without escapes).
    Line(usize, usize),
    /// Bytes `from..to` of [`RowState::scratch`].
    Scratch(usize, usize),
    Bool(bool),
    Int(i32),
    Long(i64),
    Real(f64),
    Time(i64),
    Span(i64),
}

/// What [`TableBatchBuilder::add_json`] keeps between rows (to allocate nothing per row).
struct RowState {
    /// Per column, the row's value.
    slots: Vec<Slot>,
    /// Text of the row's values that are not verbatim in the line (escaped strings,
    /// numbers as text, dynamic values).
    scratch: String,
    /// Per column: the row ([`RowState::stamp`]) it last had a key in, and that key's
    /// position in the record (a repeated key keeps its first position, its last value).
    seen: Vec<(u64, u32)>,
    /// Counts rows.
    stamp: u64,
    /// Unknown keys of the row.
    unknown: Vec<String>,
    /// The row's problems with the position of their key in the record.
    errors: Vec<(u32, LineError)>,
    /// The column of each key position of the previous record: records of one source
    /// tend to list their keys in the same order.
    key_guess: Vec<usize>,
    /// Per column, nulls of accepted rows not appended yet (appended in one go before the
    /// column's next value: most records leave most columns out).
    nulls: Vec<usize>,
}

/// Reads one record (a JSON object) into [`RowState`]; `false` for JSON that is not an
/// object.
struct RowVisitor<'a> {
    table: &'a TableSchema,
    index: &'a std::collections::HashMap<String, usize>,
    st: &'a mut RowState,
    line: usize,
    /// Address and length of the line, to tell strings borrowed from it.
    base: usize,
    len: usize,
}

impl<'de> DeserializeSeed<'de> for RowVisitor<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowVisitor<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        // Read as `serde_json::Value` would (the same syntax errors).
        while seq.next_element::<Value>()?.is_some() {}
        Ok(false)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let RowVisitor {
            table,
            index,
            st,
            line,
            base,
            len,
        } = self;
        let mut pos: u32 = 0;
        while let Some(key) = map.next_key_seed(KeySeed {
            table,
            index,
            guess: &mut st.key_guess,
            pos: pos as usize,
        })? {
            match key {
                Key::Column(i) => {
                    let Some(column) = table.columns.get(i) else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    let ord = match st.seen.get_mut(i) {
                        Some(seen) if seen.0 == st.stamp + 1 => {
                            // A repeated key: its last value counts.
                            let ord = seen.1;
                            st.errors.retain(|(o, _)| *o != ord);
                            ord
                        }
                        Some(seen) => {
                            *seen = (st.stamp + 1, pos);
                            pos
                        }
                        None => pos,
                    };
                    let parsed = map.next_value_seed(CellSeed {
                        ty: column.ty,
                        scratch: &mut st.scratch,
                        base,
                        len,
                    })?;
                    match parsed {
                        Ok(slot) => {
                            if let Some(s) = st.slots.get_mut(i) {
                                *s = slot;
                            }
                        }
                        Err(v) => st.errors.push((
                            ord,
                            LineError::type_mismatch(line, &column.name, column.ty, &short(&v)),
                        )),
                    }
                }
                Key::Unknown(key) => {
                    map.next_value::<Value>()?;
                    if !st.unknown.contains(&key) {
                        st.errors.push((
                            pos,
                            LineError::new(
                                line,
                                Some(key.clone()),
                                "UnknownColumn",
                                format!("table {} has no column '{key}'", table.name),
                            ),
                        ));
                        st.unknown.push(key);
                    }
                }
            }
            pos += 1;
        }
        Ok(true)
    }
}

/// A key of a record: a column of the table, or not.
enum Key {
    Column(usize),
    Unknown(String),
}

/// Finds the column of a key, trying first the column at the same position in the
/// previous record.
struct KeySeed<'a> {
    table: &'a TableSchema,
    index: &'a std::collections::HashMap<String, usize>,
    guess: &'a mut Vec<usize>,
    pos: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a column name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        if let Some(&i) = self.guess.get(self.pos)
            && self.table.columns.get(i).is_some_and(|c| c.name == key)
        {
            return Ok(Key::Column(i));
        }
        let Some(&i) = self.index.get(key) else {
            return Ok(Key::Unknown(key.to_string()));
        };
        if self.guess.len() <= self.pos {
            self.guess.resize(self.pos + 1, usize::MAX);
        }
        if let Some(g) = self.guess.get_mut(self.pos) {
            *g = i;
        }
        Ok(Key::Column(i))
    }
}

/// Reads one value for a column of type `ty`: its [`Slot`], or the value as JSON when it
/// does not fit (for the report).
struct CellSeed<'a> {
    ty: KqlType,
    scratch: &'a mut String,
    base: usize,
    len: usize,
}

impl CellSeed<'_> {
    /// A converted cell as a slot (text copied to the scratch buffer).
    fn slot(self, cell: Cell<'_>) -> Slot {
        let mut text = |s: &str| {
            let from = self.scratch.len();
            self.scratch.push_str(s);
            Slot::Scratch(from, self.scratch.len())
        };
        match cell {
            Cell::Null => Slot::Null,
            Cell::Str(s) => text(s),
            Cell::Owned(s) => text(&s),
            Cell::Bool(v) => Slot::Bool(v),
            Cell::Int(v) => Slot::Int(v),
            Cell::Long(v) => Slot::Long(v),
            Cell::Real(v) => Slot::Real(v),
            Cell::Time(v) => Slot::Time(v),
            Cell::Span(v) => Slot::Span(v),
        }
    }

    /// A scalar that is not a string, converted as [`convert`] does.
    fn scalar(self, v: Value) -> Result<Slot, Value> {
        match convert(&v, self.ty) {
            Some(cell) => Ok(self.slot(cell)),
            None => Err(v),
        }
    }

    fn string(self, s: &str, borrowed: bool) -> Result<Slot, Value> {
        match convert_str(s, self.ty) {
            Some(Cell::Str(t)) if borrowed => {
                let from = (t.as_ptr() as usize).wrapping_sub(self.base);
                if from <= self.len && self.len - from >= t.len() {
                    Ok(Slot::Line(from, from + t.len()))
                } else {
                    Ok(self.slot(Cell::Str(t)))
                }
            }
            Some(cell) => Ok(self.slot(cell)),
            None => Err(Value::String(s.to_string())),
        }
    }
}

impl<'de> DeserializeSeed<'de> for CellSeed<'_> {
    type Value = Result<Slot, Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.ty == KqlType::Dynamic {
            // Rare, and stored exactly as `convert` stores a parsed value.
            let v = Value::deserialize(d)?;
            return Ok(self.scalar(v));
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CellSeed<'_> {
    type Value = Result<Slot, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Ok(Slot::Null))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.scalar(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.scalar(Value::Number(v.into())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.scalar(Value::Number(v.into())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(self.scalar(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(self.string(v, true))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.string(v, false))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let v = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(self.scalar(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(self.scalar(v))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use kql_sema::ColumnSchema;

    /// A table with a column of every type.
    fn table() -> TableSchema {
        let col = |name: &str, ty| ColumnSchema {
            name: name.into(),
            ty,
        };
        TableSchema {
            name: "T".into(),
            columns: vec![
                col("Timestamp", KqlType::DateTime),
                col("S", KqlType::String),
                col("G", KqlType::Guid),
                col("B", KqlType::Bool),
                col("I", KqlType::Int),
                col("L", KqlType::Long),
                col("R", KqlType::Real),
                col("Dec", KqlType::Decimal),
                col("D", KqlType::Dynamic),
                col("Span", KqlType::TimeSpan),
                col("When", KqlType::DateTime),
            ],
        }
    }

    const T: &str = r#""Timestamp":"2026-11-20T00:03:34.858734600Z""#;

    /// Lines that exercise every conversion, report and JSON error.
    fn corpus() -> Vec<String> {
        let mut lines: Vec<String> = [
            // Valid rows.
            r#"{"S":"a","G":"5e8f0c1a-0000-4000-8000-000000000001","B":true,"I":7,"L":-9,"R":1.5,"Dec":2,"D":{"k":[1,2.50,"x"],"a":null},"Span":5,"When":"2026-01-02 03:04:05"}"#,
            r#"{"S":"C:\\Windows\\system32\\svchost.exe -k \"x\"","B":"TRUE","I":" 12 ","L":"-34","R":"1e3","Dec":" 2.5 "}"#,
            r#"{"S":"caf\u00e9 \ud83d\ude00 \/ \t","B":"false","I":0,"L":18446744073709551615}"#,
            r#"{"S":12,"G":true,"B":0,"L":9223372036854775807,"R":-0,"D":"{\"x\": 1,  \"y\":[ ]}"}"#,
            r#"{"S":1.0e2,"G":-3,"B":1,"I":-2147483648,"R":12345678901234567890,"D":"plain text"}"#,
            r#"{"S":null,"G":null,"B":null,"I":null,"L":null,"R":null,"Dec":null,"D":null,"Span":null,"When":null}"#,
            r#"{"D":"[1, 2","S":"","When":"2026-11-20T00:03:34Z"}"#,
            r#"{"D":" {\"a\":\"\\u00e9\"}","S":"x","D":5}"#,
            r#"{"D":1e400}"#,
            r#"{"D":[{"deep":{"deeper":[true,false,null,-1.25e-5]}}],"R":5e-324}"#,
            r#"{"D":"true","Span":-7}"#,
            r#"{"D":12.0}"#,
            r#"{ "S" : "spaces" , "L" : 5 }  "#,
            // Wrong types.
            r#"{"B":"yes","I":2147483648,"L":1.5,"R":"x","Dec":true,"Span":"00:01:00","When":5}"#,
            r#"{"S":[1,2],"G":{"a":1},"B":2,"I":"1.0","L":{"a very long key that is longer than forty":[1,2,3]}}"#,
            r#"{"Span":1.5,"Span":9223372036854775807,"I":-1e2}"#,
            r#"{"L":"9223372036854775808","I":true,"R":[],"When":"not a time"}"#,
            // Unknown columns, repeated keys, timestamps.
            r#"{"Nope":1,"S":"a","Nope":{"x":2},"Other":[1}"#,
            r#"{"Nope":1,"S":"a","Nope":{"x":2},"Other":[1]}"#,
            r#"{"L":"x","S":"a","L":5}"#,
            r#"{"L":5,"S":"a","L":"x","Nope":1,"I":"y"}"#,
            r#"{"Timestamp":"bad","Timestamp":"2026-11-20T00:03:34Z"}"#,
            r#"{"Timestamp":"2026-11-20T00:03:34Z","Timestamp":null}"#,
            r#"{"Timestamp":"2026-11-20T00:03:34Z","Timestamp":7}"#,
            r#"{"Time\u0073tamp":"2026-11-20T00:03:34Z","S":"escaped key"}"#,
            r#"{"S":"no timestamp"}"#,
            r#"{}"#,
            r#"{"Timestamp":null}"#,
            r#"{"Timestamp":1700000000}"#,
            // Not objects.
            r#"[1,2,3]"#,
            r#""text""#,
            r#"42"#,
            r#"null"#,
            r#"true"#,
            // Not JSON.
            r#"{"S":"a""#,
            r#"{"S":"a"} x"#,
            r#"{"S":"a",}"#,
            r#"{"S":"\q"}"#,
            r#"{"S":"\ud800"}"#,
            r#"{"Nope":"\ud800"}"#,
            r#"{"D":"\ud800"}"#,
            r#"{"L":01}"#,
            r#"{"L":1.}"#,
            r#"{"R":-}"#,
            r#"{1:2}"#,
            r#"{"S":"a" "L":1}"#,
            r#"{"S":tru}"#,
            r#"[1,2"#,
            r#"{"S":"a"}{"S":"b"}"#,
            r#"{"D":[1,{"a":]}]}"#,
            r#"{"Nope":[1,{"a":]}]}"#,
            r#"{"S":[1,{"a":]}]}"#,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Datetimes in many forms.
        for t in [
            "2026-11-20T00:03:34.1Z",
            "2026-11-20T00:03:34.123456789Z",
            "2026-11-20T00:03:34.1234567891Z",
            "2026-11-20T00:03:34.Z",
            "2026-11-20T23:59:60Z",
            "2026-02-29T00:00:00Z",
            "2024-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-20t00:03:34z",
            "2026-11-20T00:03:34+02:00",
            "2026-11-20T00:03:34.5-05:30",
            "2026-11-20 00:03:34",
            "2026-11-20",
            "2026-11-20T24:00:00Z",
            "1600-01-01T00:00:00Z",
            "2300-01-01T00:00:00Z",
            " 2026-11-20T00:03:34Z",
            "2026-11-20T00:03:34Z ",
            "Fri, 20 Nov 2026 00:03:34 GMT",
            "2026-1-20T00:03:34Z",
            "+2026-11-20T00:03:34Z",
        ] {
            lines.push(format!(r#"{{"Timestamp":"{t}","When":"{t}"}}"#));
        }
        // Nesting beyond serde_json's recursion limit.
        lines.push(format!(
            r#"{{"D":{}1{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        ));
        lines.push(format!(
            r#"{{"Nope":{}1{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        ));
        // Every line also with a valid Timestamp first.
        let with_time: Vec<String> = lines
            .iter()
            .filter_map(|l| l.strip_prefix('{').map(|rest| format!("{{{T},{rest}")))
            .collect();
        lines.extend(with_time);
        lines
    }

    /// The reference: the line parsed into a `serde_json::Value`, then `add`.
    fn add_parsed(
        b: &mut TableBatchBuilder,
        line: usize,
        text: &str,
    ) -> Result<(), Vec<LineError>> {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => b.add(line, &v),
            Err(e) => Err(vec![LineError::new(
                line,
                None,
                "InvalidJson",
                format!("invalid JSON at column {}: {e}", e.column()),
            )]),
        }
    }

    #[test]
    fn add_json_stores_and_reports_exactly_as_add_of_the_parsed_value() {
        let table = table();
        let mut typed = TableBatchBuilder::new(&table);
        let mut reference = TableBatchBuilder::new(&table);
        let lines = corpus();
        let mut accepted = 0;
        for (i, line) in lines.iter().enumerate() {
            let want = add_parsed(&mut reference, i + 1, line);
            let got = typed.add_json(i + 1, line);
            assert_eq!(got, want, "line {}: {line}", i + 1);
            accepted += usize::from(want.is_ok());
        }
        assert!(accepted > 30, "{accepted}");
        assert_eq!(typed.rows(), reference.rows());
        let (typed, reference) = (typed.finish().unwrap(), reference.finish().unwrap());
        for r in 0..reference.num_rows() {
            for (c, field) in reference.schema().fields().iter().enumerate() {
                assert_eq!(
                    typed.column(c).slice(r, 1).as_ref(),
                    reference.column(c).slice(r, 1).as_ref(),
                    "row {r}, column {}",
                    field.name()
                );
            }
        }
        assert_eq!(typed, reference);
    }

    #[test]
    fn add_and_add_json_mix_on_one_builder() {
        let table = table();
        let mut mixed = TableBatchBuilder::new(&table);
        let mut reference = TableBatchBuilder::new(&table);
        let lines = [
            format!(r#"{{{T},"S":"a"}}"#),
            format!(r#"{{{T},"L":1}}"#),
            format!(r#"{{{T},"S":"b","L":2}}"#),
            format!(r#"{{{T}}}"#),
            format!(r#"{{{T},"S":"c"}}"#),
        ];
        for (i, line) in lines.iter().chain(lines.iter()).enumerate() {
            add_parsed(&mut reference, i, line).unwrap();
            if i % 3 == 0 {
                add_parsed(&mut mixed, i, line).unwrap();
            } else {
                mixed.add_json(i, line).unwrap();
            }
        }
        assert_eq!(mixed.finish().unwrap(), reference.finish().unwrap());
    }

    #[test]
    fn add_json_reports_line_column_and_expected_type() {
        let table = table();
        let mut b = TableBatchBuilder::new(&table);
        let line = format!(r#"{{{T},"L":"12x","Nope":1,"B":"maybe","L":[1]}}"#);
        let errors = b.add_json(7, &line).unwrap_err();
        let found: Vec<(usize, Option<&str>, &str, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column.as_deref(), e.code, e.message.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    7,
                    Some("L"),
                    "TypeMismatch",
                    "expected a long value, got [1]"
                ),
                (
                    7,
                    Some("Nope"),
                    "UnknownColumn",
                    "table T has no column 'Nope'"
                ),
                (
                    7,
                    Some("B"),
                    "TypeMismatch",
                    "expected a bool value, got \"maybe\""
                ),
            ]
        );
        let errors = b.add_json(8, r#"{"S":"a"}"#).unwrap_err();
        assert_eq!(errors[0].code, "MissingTimestamp");
        assert_eq!(errors[0].column.as_deref(), Some("Timestamp"));
        let errors = b.add_json(9, r#"{"S":"a",}"#).unwrap_err();
        assert_eq!(
            (errors[0].line, errors[0].code, errors[0].column.as_deref()),
            (9, "InvalidJson", None)
        );
        assert!(
            errors[0].message.starts_with("invalid JSON at column 10:"),
            "{}",
            errors[0].message
        );
        assert_eq!(b.add_json(10, "[]").unwrap_err()[0].code, "InvalidRecord");
        // Nothing of a refused row is kept; the next row goes in whole.
        assert_eq!(b.rows(), 0);
        b.add_json(11, &format!(r#"{{{T},"S":"ok","L":3}}"#))
            .unwrap();
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.num_columns(), table.columns.len());
    }

    #[test]
    fn the_datetime_shortcut_agrees_with_the_full_parser() {
        let mut checked = 0;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..20_000 {
            let digits = next(11) as usize;
            let frac: String = (0..digits)
                .map(|_| char::from(b'0' + next(10) as u8))
                .collect();
            let t = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{}Z",
                1500 + next(900),
                next(14),
                next(33),
                next(26),
                next(61),
                next(62),
                if digits > 0 || next(4) == 0 { "." } else { "" },
                frac
            );
            let full = kql_sema::datetime::parse_datetime(&t);
            if let Some(fast) = iso_utc(t.as_bytes()) {
                assert_eq!(Some(fast), full, "{t}");
                checked += 1;
            }
            assert_eq!(parse_datetime(&t), full, "{t}");
        }
        assert!(checked > 1000, "{checked}");
    }
}
