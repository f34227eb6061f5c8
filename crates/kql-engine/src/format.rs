//! Arrow values under the KQL type mapping, rendered as text and JSON.
//!
//! Two renderings of one cell, both driven by the cell's KQL type (the Arrow type only says
//! how to read the value):
//!
//! | KQL type   | text ([`cell_text`])                                   | JSON ([`cell_json`])            |
//! |------------|--------------------------------------------------------|---------------------------------|
//! | `bool`     | `true` / `false`                                       | `true` / `false`                |
//! | `int`, `long` | decimal digits                                      | number                          |
//! | `real`, `decimal` | shortest round-trip, .NET style: `1.5`, `45`, `1E-05`, `1E+15`, `NaN`, `Infinity`, `-Infinity` | number; `"NaN"`, `"Infinity"`, `"-Infinity"` as strings |
//! | `datetime` | `2020-01-01T00:00:00Z`; fraction of up to 7 digits, trailing zeros dropped: `2020-01-01T10:00:00.5Z` | the same text as a string |
//! | `timespan` | `[-][d.]hh:mm:ss[.fffffff]` (.NET `c` format: 7 fraction digits when non-zero) | the same text as a string |
//! | `string`, `guid` | the text                                         | string                          |
//! | `dynamic`  | compact JSON text                                      | the parsed JSON value           |
//!
//! A null is `""` as text. As JSON it is `null`, except in `string` columns, where KQL has
//! no null (a null string reads as `""`).
//!
//! Datetimes and timespans are cut to 100-ns ticks (KQL's precision). Nothing here panics
//! on unexpected Arrow types: a value of an Arrow type outside the mapping is rendered with
//! Arrow's own display.

use crate::QueryResult;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::ArrowNativeType;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, DurationMicrosecondType,
    DurationMillisecondType, DurationNanosecondType, DurationSecondType, Float16Type, Float32Type,
    Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use kql_syntax::KqlType;
use serde_json::Value;

const NANOS_PER_TICK: i64 = 100;
const TICKS_PER_SECOND: i64 = 10_000_000;

/// One cell read out of Arrow, before rendering.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Real(f64),
    Text(String),
    /// Nanoseconds since the Unix epoch, UTC.
    DateTime(i64),
    /// Nanoseconds.
    TimeSpan(i64),
    /// A value of an Arrow type outside the KQL mapping, as Arrow displays it.
    Other(String),
}

fn read_cell(array: &dyn Array, row: usize) -> Cell {
    if row >= array.len() || array.is_null(row) {
        return Cell::Null;
    }
    macro_rules! prim {
        ($t:ty) => {
            array.as_primitive_opt::<$t>().map(|a| a.value(row))
        };
    }
    let cell = match array.data_type() {
        DataType::Null => Some(Cell::Null),
        DataType::Boolean => array.as_boolean_opt().map(|a| Cell::Bool(a.value(row))),
        DataType::Int8 => prim!(Int8Type).map(|v| Cell::Int(i64::from(v))),
        DataType::Int16 => prim!(Int16Type).map(|v| Cell::Int(i64::from(v))),
        DataType::Int32 => prim!(Int32Type).map(|v| Cell::Int(i64::from(v))),
        DataType::Int64 => prim!(Int64Type).map(Cell::Int),
        DataType::UInt8 => prim!(UInt8Type).map(|v| Cell::Int(i64::from(v))),
        DataType::UInt16 => prim!(UInt16Type).map(|v| Cell::Int(i64::from(v))),
        DataType::UInt32 => prim!(UInt32Type).map(|v| Cell::Int(i64::from(v))),
        DataType::UInt64 => prim!(UInt64Type).map(Cell::UInt),
        DataType::Float16 => prim!(Float16Type).map(|v| Cell::Real(f64::from(v))),
        DataType::Float32 => prim!(Float32Type).map(|v| Cell::Real(f64::from(v))),
        DataType::Float64 => prim!(Float64Type).map(Cell::Real),
        DataType::Decimal128(_, scale) => {
            let scale = i32::from(*scale);
            prim!(Decimal128Type).map(|v| Cell::Real(v as f64 / 10f64.powi(scale)))
        }
        DataType::Utf8 => array
            .as_string_opt::<i32>()
            .map(|a| Cell::Text(a.value(row).to_string())),
        DataType::LargeUtf8 => array
            .as_string_opt::<i64>()
            .map(|a| Cell::Text(a.value(row).to_string())),
        DataType::Utf8View => array
            .as_string_view_opt()
            .map(|a| Cell::Text(a.value(row).to_string())),
        DataType::Timestamp(unit, tz) => {
            // A zone only changes how Arrow displays the value; the stored value is UTC.
            let _ = tz;
            let nanos = match unit {
                TimeUnit::Second => {
                    prim!(TimestampSecondType).map(|v| v.saturating_mul(1_000_000_000))
                }
                TimeUnit::Millisecond => {
                    prim!(TimestampMillisecondType).map(|v| v.saturating_mul(1_000_000))
                }
                TimeUnit::Microsecond => {
                    prim!(TimestampMicrosecondType).map(|v| v.saturating_mul(1_000))
                }
                TimeUnit::Nanosecond => prim!(TimestampNanosecondType),
            };
            nanos.map(Cell::DateTime)
        }
        DataType::Date32 => prim!(Date32Type)
            .map(|d| Cell::DateTime(i64::from(d).saturating_mul(86_400_000_000_000))),
        DataType::Date64 => {
            prim!(Date64Type).map(|ms| Cell::DateTime(ms.saturating_mul(1_000_000)))
        }
        DataType::Duration(unit) => {
            let nanos = match unit {
                TimeUnit::Second => {
                    prim!(DurationSecondType).map(|v| v.saturating_mul(1_000_000_000))
                }
                TimeUnit::Millisecond => {
                    prim!(DurationMillisecondType).map(|v| v.saturating_mul(1_000_000))
                }
                TimeUnit::Microsecond => {
                    prim!(DurationMicrosecondType).map(|v| v.saturating_mul(1_000))
                }
                TimeUnit::Nanosecond => prim!(DurationNanosecondType),
            };
            nanos.map(Cell::TimeSpan)
        }
        DataType::Dictionary(key, _) => {
            macro_rules! dict {
                ($k:ty) => {
                    array.as_dictionary_opt::<$k>().map(|d| {
                        let k = d.keys().value(row).as_usize();
                        read_cell(d.values().as_ref(), k)
                    })
                };
            }
            match key.as_ref() {
                DataType::Int8 => dict!(Int8Type),
                DataType::Int16 => dict!(Int16Type),
                DataType::Int32 => dict!(Int32Type),
                DataType::Int64 => dict!(Int64Type),
                DataType::UInt8 => dict!(UInt8Type),
                DataType::UInt16 => dict!(UInt16Type),
                DataType::UInt32 => dict!(UInt32Type),
                DataType::UInt64 => dict!(UInt64Type),
                _ => None,
            }
        }
        _ => None,
    };
    cell.unwrap_or_else(|| Cell::Other(arrow_display(array, row)))
}

fn arrow_display(array: &dyn Array, row: usize) -> String {
    let options = FormatOptions::default();
    match ArrayFormatter::try_new(array, &options) {
        Ok(f) => f.value(row).to_string(),
        Err(_) => String::new(),
    }
}

/// A cell as KQL displays it; a null is `""`.
pub fn cell_text(array: &dyn Array, row: usize, ty: KqlType) -> String {
    cell_to_text(read_cell(array, row), ty)
}

fn cell_to_text(cell: Cell, ty: KqlType) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Bool(b) => if b { "true" } else { "false" }.to_string(),
        Cell::Int(v) => match ty {
            KqlType::Bool => (v != 0).to_string(),
            KqlType::DateTime => format_datetime(v),
            KqlType::TimeSpan => format_timespan(v),
            _ => v.to_string(),
        },
        Cell::UInt(v) => v.to_string(),
        Cell::Real(f) => format_real(f),
        Cell::Text(s) => s,
        Cell::DateTime(ns) => match ty {
            KqlType::Long | KqlType::Int => ns.to_string(),
            _ => format_datetime(ns),
        },
        Cell::TimeSpan(ns) => match ty {
            KqlType::Long | KqlType::Int => ns.to_string(),
            _ => format_timespan(ns),
        },
        Cell::Other(s) => s,
    }
}

/// A cell as a JSON value for the API: `null` for nulls (but `""` for a null `string`),
/// numbers for `int`/`long`/`real` (`"NaN"`, `"Infinity"`, `"-Infinity"` as strings),
/// datetimes and timespans as their text, `dynamic` as the parsed JSON value.
pub fn cell_json(array: &dyn Array, row: usize, ty: KqlType) -> Value {
    cell_to_json(read_cell(array, row), ty)
}

fn cell_to_json(cell: Cell, ty: KqlType) -> Value {
    match cell {
        Cell::Null => match ty {
            KqlType::String => Value::String(String::new()),
            _ => Value::Null,
        },
        Cell::Bool(b) => Value::Bool(b),
        Cell::Int(v) => match ty {
            KqlType::DateTime => Value::String(format_datetime(v)),
            KqlType::TimeSpan => Value::String(format_timespan(v)),
            KqlType::Bool => Value::Bool(v != 0),
            _ => Value::from(v),
        },
        Cell::UInt(v) => Value::from(v),
        Cell::Real(f) => real_json(f),
        Cell::Text(s) => match ty {
            KqlType::Dynamic => serde_json::from_str(&s).unwrap_or(Value::String(s)),
            _ => Value::String(s),
        },
        Cell::DateTime(ns) => match ty {
            KqlType::Long | KqlType::Int => Value::from(ns),
            _ => Value::String(format_datetime(ns)),
        },
        Cell::TimeSpan(ns) => match ty {
            KqlType::Long | KqlType::Int => Value::from(ns),
            _ => Value::String(format_timespan(ns)),
        },
        Cell::Other(s) => Value::String(s),
    }
}

/// A real as a JSON number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub fn real_json(f: f64) -> Value {
    match serde_json::Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None => Value::String(format_real(f)),
    }
}

/// Every row of a result as display text, columns in result order.
pub fn result_rows_text(result: &QueryResult) -> Vec<Vec<String>> {
    result_rows(result, cell_text)
}

/// Every row of a result as JSON values, columns in result order.
pub fn result_rows_json(result: &QueryResult) -> Vec<Vec<Value>> {
    result_rows(result, cell_json)
}

fn result_rows<T>(
    result: &QueryResult,
    f: impl Fn(&dyn Array, usize, KqlType) -> T,
) -> Vec<Vec<T>> {
    let mut rows = Vec::with_capacity(result.row_count());
    for batch in &result.batches {
        for row in 0..batch.num_rows() {
            let cells = result
                .columns
                .iter()
                .enumerate()
                .map(|(i, col)| match batch.columns().get(i) {
                    Some(array) => f(array.as_ref(), row, col.ty),
                    None => f(&datafusion::arrow::array::NullArray::new(0), 0, col.ty),
                })
                .collect();
            rows.push(cells);
        }
    }
    rows
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A datetime (nanoseconds since the Unix epoch, UTC) as `2020-01-01T00:00:00[.fffffff]Z`:
/// the fraction has up to 7 digits with trailing zeros dropped, and is absent when zero.
pub fn format_datetime(nanos: i64) -> String {
    let ticks = nanos.div_euclid(NANOS_PER_TICK);
    let secs = ticks.div_euclid(TICKS_PER_SECOND);
    let frac = ticks.rem_euclid(TICKS_PER_SECOND);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
    if frac != 0 {
        let digits = format!("{frac:07}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// A timespan (nanoseconds) as .NET's constant format `[-][d.]hh:mm:ss[.fffffff]`.
pub fn format_timespan(nanos: i64) -> String {
    // Truncate toward zero to whole ticks, as .NET does.
    let ticks = nanos / NANOS_PER_TICK;
    let neg = ticks < 0;
    let t = ticks.unsigned_abs();
    let tps = TICKS_PER_SECOND.unsigned_abs();
    let frac = t % tps;
    let secs = t / tps;
    let days = secs / 86_400;
    let sod = secs % 86_400;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!(
        "{:02}:{:02}:{:02}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    ));
    if frac != 0 {
        out.push_str(&format!(".{frac:07}"));
    }
    out
}

/// A real as .NET prints a double: the shortest text that round-trips, positional for
/// decimal exponents -4..=14 (`0.0001`, `45`, `123456789012345`), scientific outside
/// (`1E-05`, `1.5E+15`); `NaN`, `Infinity`, `-Infinity`.
pub fn format_real(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if f == 0.0 {
        return "0".to_string();
    }
    // `{:e}` is the shortest round-trip mantissa with a decimal exponent: `1.5e-7`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    if (-4..15).contains(&exp) {
        format!("{f}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}E{sign}{:02}", exp.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        ArrayRef, BooleanArray, DictionaryArray, DurationNanosecondArray, Float64Array, Int32Array,
        Int64Array, StringArray, TimestampNanosecondArray,
    };
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn datetimes() {
        assert_eq!(format_datetime(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_datetime(1_577_836_800_000_000_000),
            "2020-01-01T00:00:00Z"
        );
        assert_eq!(
            format_datetime(1_577_836_800_500_000_000),
            "2020-01-01T00:00:00.5Z"
        );
        assert_eq!(
            format_datetime(1_577_836_800_123_456_700),
            "2020-01-01T00:00:00.1234567Z"
        );
        // sub-tick nanoseconds are cut
        assert_eq!(
            format_datetime(1_577_836_800_000_000_099),
            "2020-01-01T00:00:00Z"
        );
        assert_eq!(format_datetime(-1), "1969-12-31T23:59:59.9999999Z");
        assert_eq!(format_datetime(-86_400_000_000_000), "1969-12-31T00:00:00Z");
        assert_eq!(
            format_datetime(951_782_400_000_000_000),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn timespans() {
        assert_eq!(format_timespan(0), "00:00:00");
        assert_eq!(format_timespan(3_723_000_000_000), "01:02:03");
        assert_eq!(format_timespan(86_400_000_000_000 * 2), "2.00:00:00");
        assert_eq!(format_timespan(1_000_000), "00:00:00.0010000");
        assert_eq!(format_timespan(100), "00:00:00.0000001");
        assert_eq!(
            format_timespan(-(93_784_500_000_000)),
            "-1.02:03:04.5000000"
        );
    }

    #[test]
    fn reals() {
        assert_eq!(format_real(45.0), "45");
        assert_eq!(format_real(0.1), "0.1");
        assert_eq!(format_real(-1.5), "-1.5");
        assert_eq!(format_real(0.0001), "0.0001");
        assert_eq!(format_real(0.00001), "1E-05");
        assert_eq!(
            format_real(2.2090496998585438e-05),
            "2.2090496998585438E-05"
        );
        assert_eq!(format_real(123_456_789_012_345.0), "123456789012345");
        assert_eq!(format_real(1e15), "1E+15");
        assert_eq!(format_real(1.5e300), "1.5E+300");
        assert_eq!(format_real(f64::NAN), "NaN");
        assert_eq!(format_real(f64::INFINITY), "Infinity");
        assert_eq!(format_real(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(format_real(0.30000000000000004), "0.30000000000000004");
    }

    #[test]
    fn cells() {
        let longs: ArrayRef = Arc::new(Int64Array::from(vec![Some(5), None]));
        assert_eq!(cell_text(longs.as_ref(), 0, KqlType::Long), "5");
        assert_eq!(cell_text(longs.as_ref(), 1, KqlType::Long), "");
        assert_eq!(cell_json(longs.as_ref(), 0, KqlType::Long), json!(5));
        assert_eq!(cell_json(longs.as_ref(), 1, KqlType::Long), Value::Null);
        // out of range rows are nulls, not panics
        assert_eq!(cell_text(longs.as_ref(), 9, KqlType::Long), "");

        let ints: ArrayRef = Arc::new(Int32Array::from(vec![-3]));
        assert_eq!(cell_text(ints.as_ref(), 0, KqlType::Int), "-3");

        let bools: ArrayRef = Arc::new(BooleanArray::from(vec![Some(true), Some(false), None]));
        assert_eq!(cell_text(bools.as_ref(), 0, KqlType::Bool), "true");
        assert_eq!(cell_text(bools.as_ref(), 1, KqlType::Bool), "false");
        assert_eq!(cell_json(bools.as_ref(), 2, KqlType::Bool), Value::Null);

        let reals: ArrayRef = Arc::new(Float64Array::from(vec![1.0, f64::NAN, 2.5]));
        assert_eq!(cell_text(reals.as_ref(), 0, KqlType::Real), "1");
        assert_eq!(cell_json(reals.as_ref(), 1, KqlType::Real), json!("NaN"));
        assert_eq!(cell_json(reals.as_ref(), 2, KqlType::Real), json!(2.5));

        let strings: ArrayRef = Arc::new(StringArray::from(vec![Some("a b"), None]));
        assert_eq!(cell_text(strings.as_ref(), 0, KqlType::String), "a b");
        assert_eq!(cell_json(strings.as_ref(), 1, KqlType::String), json!(""));

        let dynamic: ArrayRef = Arc::new(StringArray::from(vec![
            Some(r#"{"a":[1,2]}"#),
            None,
            Some("not json"),
        ]));
        assert_eq!(
            cell_text(dynamic.as_ref(), 0, KqlType::Dynamic),
            r#"{"a":[1,2]}"#
        );
        assert_eq!(
            cell_json(dynamic.as_ref(), 0, KqlType::Dynamic),
            json!({"a": [1, 2]})
        );
        assert_eq!(
            cell_json(dynamic.as_ref(), 1, KqlType::Dynamic),
            Value::Null
        );
        assert_eq!(
            cell_json(dynamic.as_ref(), 2, KqlType::Dynamic),
            json!("not json")
        );

        let dts: ArrayRef = Arc::new(TimestampNanosecondArray::from(vec![
            1_577_836_800_000_000_000,
        ]));
        assert_eq!(
            cell_text(dts.as_ref(), 0, KqlType::DateTime),
            "2020-01-01T00:00:00Z"
        );
        assert_eq!(
            cell_json(dts.as_ref(), 0, KqlType::DateTime),
            json!("2020-01-01T00:00:00Z")
        );

        let dict: ArrayRef = Arc::new(
            vec![Some("x"), None, Some("y"), Some("x")]
                .into_iter()
                .collect::<DictionaryArray<Int32Type>>(),
        );
        assert_eq!(cell_text(dict.as_ref(), 0, KqlType::String), "x");
        assert_eq!(cell_text(dict.as_ref(), 1, KqlType::String), "");
        assert_eq!(cell_text(dict.as_ref(), 3, KqlType::String), "x");

        let tss: ArrayRef = Arc::new(DurationNanosecondArray::from(vec![3_600_000_000_000]));
        assert_eq!(cell_text(tss.as_ref(), 0, KqlType::TimeSpan), "01:00:00");
        assert_eq!(
            cell_json(tss.as_ref(), 0, KqlType::TimeSpan),
            json!("01:00:00")
        );
    }
}
