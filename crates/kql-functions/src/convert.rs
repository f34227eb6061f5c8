//! KQL conversions: value-level rules (`tostring`, `tolong`, `todatetime`, ...) and the
//! expression-level [`to_type`] used by `cast`, the `to*` functions and every place an
//! argument must be brought to a kernel's declared type.
//!
//! Rules (checked against the real engine's outputs):
//! - `tostring`: bool → `True`/`False`; real → shortest round trip with `.0`; decimal
//!   without `.0`; datetime → `2020-01-01T00:00:00.0000000Z`; timespan → `[-][d.]hh:mm:ss[.f]`;
//!   dynamic string → the raw string, other dynamic → compact JSON, null → `""`.
//! - `tolong`/`toint`: strings must be integers (`"42"`, `"0x10"`; `"42.0"` is null); reals
//!   truncate; bool → 0/1; datetime → ticks since 0001-01-01; timespan → ticks; `toint`
//!   wraps a long to 32 bits like Kusto.
//! - `toreal`: strings parse as decimal/scientific; datetime/timespan → ticks.
//! - `tobool`: `true`/`false` in any case, or an integer string/number (non-zero → true).
//! - `todatetime`: text formats in [`crate::format::parse_datetime`]; numbers are ticks.
//! - `totimespan`: `[d.]hh:mm:ss`, `1d`/`2h`/`90s`; numbers are ticks.
//! - `todynamic`: strings parse as JSON, non-JSON text becomes a JSON string, `""` is null.

use std::borrow::Cow;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Expr, cast as df_cast};
use kql_syntax::KqlType;
use serde_json::Value;

use crate::format::{
    NANOS_PER_TICK, datetime_to_ticks, format_bool, format_datetime_iso, format_decimal,
    format_real, format_timespan, parse_datetime, parse_guid, parse_long, parse_real,
    parse_timespan, real_to_long, ticks_to_datetime,
};
use crate::json::{self, parse_json_lenient};
use crate::udf::{self, AnyVal, Args};
use crate::{Const, FnError, TypedExpr, arrow_type};

// ---- value level -------------------------------------------------------------------

/// The KQL `tostring` of a value.
pub fn to_kql_string(c: &Const) -> String {
    match c {
        Const::Null => String::new(),
        Const::Bool(b) => format_bool(*b).to_string(),
        Const::Int(v) => v.to_string(),
        Const::Long(v) => v.to_string(),
        Const::Real(v) => format_real(*v),
        Const::String(s) | Const::Guid(s) => s.clone(),
        Const::DateTime(v) => format_datetime_iso(*v),
        Const::TimeSpan(v) => format_timespan(*v),
        Const::Dynamic(v) => json::dyn_to_string(v),
        Const::Type(t) => t.name().to_string(),
    }
}

fn json_to_long(v: &Value) -> Option<i64> {
    match v {
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|u| u as i64))
            .or_else(|| n.as_f64().and_then(real_to_long)),
        Value::String(s) => parse_long(s),
        _ => None,
    }
}

/// KQL `tolong`.
pub fn to_long(c: &Const) -> Option<i64> {
    match c {
        Const::Bool(b) => Some(i64::from(*b)),
        Const::Int(v) => Some(i64::from(*v)),
        Const::Long(v) => Some(*v),
        Const::Real(v) => real_to_long(*v),
        Const::String(s) => parse_long(s),
        Const::DateTime(v) => Some(datetime_to_ticks(*v)),
        Const::TimeSpan(v) => Some(v / NANOS_PER_TICK),
        Const::Dynamic(v) => json_to_long(v),
        Const::Null | Const::Guid(_) | Const::Type(_) => None,
    }
}

/// KQL `toint`: reals truncate and saturate at the int range; longs wrap to 32 bits.
pub fn to_int(c: &Const) -> Option<i32> {
    let real = match c {
        Const::Real(v) => Some(*v),
        Const::Dynamic(Value::Number(n)) if !(n.is_i64() || n.is_u64()) => n.as_f64(),
        _ => None,
    };
    let text = match c {
        Const::String(s) => Some(s.as_str()),
        Const::Dynamic(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    match (real, text) {
        (Some(f), _) => {
            if f.is_finite() {
                Some(f as i32)
            } else {
                None
            }
        }
        // text must fit an int (`toint("2147483648")` is null); hex wraps to 32 bits
        (None, Some(t)) => {
            let v = parse_long(t)?;
            let t = t.trim();
            if t.starts_with("0x") || t.starts_with("0X") {
                u32::try_from(v).ok().map(|u| u as i32)
            } else {
                i32::try_from(v).ok()
            }
        }
        (None, None) => to_long(c).map(|v| v as i32),
    }
}

/// KQL `toreal`/`todouble`/`todecimal`.
pub fn to_real(c: &Const) -> Option<f64> {
    match c {
        Const::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Const::Int(v) => Some(f64::from(*v)),
        Const::Long(v) => Some(*v as f64),
        Const::Real(v) => Some(*v),
        Const::String(s) => parse_real(s),
        Const::DateTime(v) => Some(datetime_to_ticks(*v) as f64),
        Const::TimeSpan(v) => Some((v / NANOS_PER_TICK) as f64),
        Const::Dynamic(v) => match v {
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Number(n) => n.as_f64(),
            Value::String(s) => parse_real(s),
            _ => None,
        },
        Const::Null | Const::Guid(_) | Const::Type(_) => None,
    }
}

fn str_to_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else if !s.is_empty() && s.trim() == s {
        parse_long(s).map(|v| v != 0)
    } else {
        None
    }
}

/// KQL `tobool`.
pub fn to_bool(c: &Const) -> Option<bool> {
    match c {
        Const::Bool(b) => Some(*b),
        Const::Int(v) => Some(*v != 0),
        Const::Long(v) => Some(*v != 0),
        Const::Real(v) => {
            if v.is_nan() {
                None
            } else {
                Some(*v != 0.0)
            }
        }
        Const::String(s) => str_to_bool(s),
        Const::Dynamic(v) => match v {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => n.as_f64().map(|f| f != 0.0),
            Value::String(s) => str_to_bool(s),
            _ => None,
        },
        Const::DateTime(_) | Const::TimeSpan(_) | Const::Null | Const::Guid(_) | Const::Type(_) => {
            None
        }
    }
}

/// KQL `todatetime` (nanoseconds since the Unix epoch).
pub fn to_datetime(c: &Const) -> Option<i64> {
    match c {
        Const::DateTime(v) => Some(*v),
        Const::String(s) => parse_datetime(s),
        Const::Int(v) => ticks_to_datetime(i64::from(*v)),
        Const::Long(v) => ticks_to_datetime(*v),
        Const::Real(v) => real_to_long(*v).and_then(ticks_to_datetime),
        Const::Dynamic(v) => match v {
            Value::String(s) => parse_datetime(s),
            Value::Number(_) => json_to_long(v).and_then(ticks_to_datetime),
            _ => None,
        },
        _ => None,
    }
}

/// KQL `totimespan` (nanoseconds).
pub fn to_timespan(c: &Const) -> Option<i64> {
    match c {
        Const::TimeSpan(v) => Some(*v),
        Const::String(s) => parse_timespan(s),
        Const::Int(v) => i64::from(*v).checked_mul(NANOS_PER_TICK),
        Const::Long(v) => v.checked_mul(NANOS_PER_TICK),
        Const::Real(v) => real_to_long(*v).and_then(|t| t.checked_mul(NANOS_PER_TICK)),
        Const::Dynamic(v) => match v {
            Value::String(s) => parse_timespan(s),
            Value::Number(_) => json_to_long(v).and_then(|t| t.checked_mul(NANOS_PER_TICK)),
            _ => None,
        },
        _ => None,
    }
}

/// KQL `toguid` (canonical lower-case text).
pub fn to_guid(c: &Const) -> Option<String> {
    match c {
        Const::Guid(s) => Some(s.clone()),
        Const::String(s) => parse_guid(s),
        Const::Dynamic(Value::String(s)) => parse_guid(s),
        _ => None,
    }
}

/// A value as a JSON value inside a dynamic (datetime/timespan as their text; NaN and
/// infinities as strings since JSON has no such numbers).
pub fn to_json(c: &Const) -> Value {
    match c {
        Const::Null => Value::Null,
        Const::Bool(b) => Value::Bool(*b),
        Const::Int(v) => Value::from(*v),
        Const::Long(v) => Value::from(*v),
        Const::Real(v) => json::real_to_json(*v),
        Const::String(s) | Const::Guid(s) => Value::String(s.clone()),
        Const::DateTime(v) => Value::String(format_datetime_iso(*v)),
        Const::TimeSpan(v) => Value::String(format_timespan(*v)),
        Const::Dynamic(v) => v.clone(),
        Const::Type(t) => Value::String(t.name().to_string()),
    }
}

/// KQL `todynamic`: strings are parsed as JSON (non-JSON text becomes a JSON string);
/// other values are wrapped.
pub fn to_dynamic(c: &Const) -> Value {
    match c {
        Const::String(s) if s.trim().is_empty() => Value::Null,
        Const::String(s) => parse_json_lenient(s),
        other => to_json(other),
    }
}

/// Converts `c` to KQL type `ty` with the KQL conversion rules. Unconvertible values
/// become `Const::Null` (strings become `""`).
pub fn const_as(c: &Const, ty: KqlType) -> Const {
    match ty {
        KqlType::Bool => to_bool(c).map_or(Const::Null, Const::Bool),
        KqlType::Int => to_int(c).map_or(Const::Null, Const::Int),
        KqlType::Long => to_long(c).map_or(Const::Null, Const::Long),
        KqlType::Real | KqlType::Decimal => to_real(c).map_or(Const::Null, Const::Real),
        KqlType::String => Const::String(to_kql_string(c)),
        KqlType::DateTime => to_datetime(c).map_or(Const::Null, Const::DateTime),
        KqlType::TimeSpan => to_timespan(c).map_or(Const::Null, Const::TimeSpan),
        KqlType::Guid => to_guid(c).map_or(Const::Null, Const::Guid),
        KqlType::Dynamic => match to_dynamic(c) {
            Value::Null => Const::Null,
            v => Const::Dynamic(v),
        },
    }
}

/// The `Utf8` representation of a value of type string/guid/dynamic (`None` = Arrow null).
pub fn const_to_text(c: &Const, ty: KqlType) -> Option<String> {
    match ty {
        KqlType::String => Some(match c {
            Const::Null => String::new(),
            other => to_kql_string(other),
        }),
        KqlType::Guid => to_guid(c),
        KqlType::Dynamic => match c {
            Const::Null => None,
            Const::Dynamic(Value::Null) => None,
            Const::Dynamic(v) => Some(json::to_text(v)),
            other => match to_json(other) {
                Value::Null => None,
                v => Some(json::to_text(&v)),
            },
        },
        _ => None,
    }
}

/// Reads a loosely typed kernel value as a [`Const`] of KQL type `ty`.
pub fn anyval_to_const(v: AnyVal<'_>, ty: KqlType) -> Const {
    match v {
        AnyVal::Null => Const::Null,
        AnyVal::Bool(b) => Const::Bool(b),
        AnyVal::Int(x) => Const::Int(x),
        AnyVal::Long(x) => Const::Long(x),
        AnyVal::Real(x) => Const::Real(x),
        AnyVal::DateTime(x) => Const::DateTime(x),
        AnyVal::TimeSpan(x) => Const::TimeSpan(x),
        AnyVal::Str(s) => match ty {
            KqlType::Dynamic => match json::parse(s) {
                Some(Value::Null) | None => Const::Null,
                Some(v) => Const::Dynamic(v),
            },
            KqlType::Guid => Const::Guid(s.to_string()),
            _ => Const::String(s.to_string()),
        },
    }
}

/// A constant as a DataFusion scalar of the Arrow type of `ty` (converted by KQL rules).
pub fn const_to_scalar(c: &Const, ty: KqlType) -> ScalarValue {
    let v = const_as(c, ty);
    match ty {
        KqlType::Bool => ScalarValue::Boolean(match v {
            Const::Bool(b) => Some(b),
            _ => None,
        }),
        KqlType::Int => ScalarValue::Int32(match v {
            Const::Int(b) => Some(b),
            _ => None,
        }),
        KqlType::Long => ScalarValue::Int64(match v {
            Const::Long(b) => Some(b),
            _ => None,
        }),
        KqlType::Real | KqlType::Decimal => ScalarValue::Float64(match v {
            Const::Real(b) => Some(b),
            _ => None,
        }),
        KqlType::DateTime => ScalarValue::TimestampNanosecond(
            match v {
                Const::DateTime(b) => Some(b),
                _ => None,
            },
            None,
        ),
        KqlType::TimeSpan => ScalarValue::DurationNanosecond(match v {
            Const::TimeSpan(b) => Some(b),
            _ => None,
        }),
        KqlType::String | KqlType::Guid | KqlType::Dynamic => {
            ScalarValue::Utf8(const_to_text(&v, ty))
        }
    }
}

// ---- expression level --------------------------------------------------------------

const fn code(t: KqlType) -> u8 {
    match t {
        KqlType::Bool => 0,
        KqlType::Int => 1,
        KqlType::Long => 2,
        KqlType::Real => 3,
        KqlType::Decimal => 4,
        KqlType::String => 5,
        KqlType::DateTime => 6,
        KqlType::TimeSpan => 7,
        KqlType::Guid => 8,
        KqlType::Dynamic => 9,
    }
}

const fn from_code(c: u8) -> KqlType {
    match c {
        0 => KqlType::Bool,
        1 => KqlType::Int,
        2 => KqlType::Long,
        3 => KqlType::Real,
        4 => KqlType::Decimal,
        5 => KqlType::String,
        6 => KqlType::DateTime,
        7 => KqlType::TimeSpan,
        8 => KqlType::Guid,
        _ => KqlType::Dynamic,
    }
}

/// The conversion kernel from KQL type `S` to `D` (type codes, see `code`).
fn conv<const S: u8, const D: u8>(a: &Args) -> Result<ArrayRef> {
    let src = from_code(S);
    let dst = from_code(D);
    let rows = a.rows;
    // fast paths
    match (src, dst) {
        (KqlType::String, KqlType::String) => {
            let s = a.str(0)?;
            return Ok(udf::build_str(rows, |i| Some(Cow::Borrowed(s.get(i)))));
        }
        (KqlType::Dynamic, KqlType::String) => {
            let s = a.str(0)?;
            return Ok(udf::build_str(rows, |i| {
                Some(match s.opt(i) {
                    None => Cow::Borrowed(""),
                    Some(t) => json::text_to_kql_string(t),
                })
            }));
        }
        (KqlType::String, KqlType::Long) => {
            let s = a.str(0)?;
            return Ok(udf::build_i64(rows, |i| parse_long(s.get(i))));
        }
        (KqlType::String, KqlType::Dynamic) => {
            let s = a.str(0)?;
            let mut canon = json::Canonical::default();
            // Every row already canonical (and none null or empty): the column is its own
            // dynamic text, no copy.
            if let Some(col) = s.column()
                && col.len() == rows
                && col.null_count() == 0
                && col.iter().all(|t| t.is_some_and(|t| canon.check(t)))
            {
                return Ok(Arc::new(col.clone()));
            }
            return Ok(udf::build_str(rows, |i| {
                let t = s.get(i);
                // Already the text parsing and printing would give (JSON written by a
                // program usually is): no need to build it.
                if canon.check(t) {
                    return Some(Cow::Borrowed(t));
                }
                if t.trim().is_empty() {
                    return None;
                }
                match json::parse(t) {
                    Some(Value::Null) => None,
                    Some(v) => Some(Cow::Owned(json::to_text(&v))),
                    None => Some(Cow::Owned(json::to_text(&Value::String(t.to_string())))),
                }
            }));
        }
        (KqlType::Decimal, KqlType::String) => {
            let s = a.f64(0)?;
            return Ok(udf::build_str(rows, |i| {
                Some(Cow::Owned(s.get(i).map(format_decimal).unwrap_or_default()))
            }));
        }
        _ => {}
    }
    let arg = a.any(0)?;
    Ok(udf::build_const(rows, dst, |i| {
        anyval_to_const(arg.get(i), src)
    }))
}

macro_rules! conv_table {
    ($s:expr, $d:expr; $($sv:literal),*) => {
        conv_row($s, $d, [$(conv_for::<$sv>($d)),*])
    };
}

fn conv_for<const S: u8>(d: u8) -> udf::Kernel {
    match d {
        0 => conv::<S, 0>,
        1 => conv::<S, 1>,
        2 => conv::<S, 2>,
        3 => conv::<S, 3>,
        4 => conv::<S, 4>,
        5 => conv::<S, 5>,
        6 => conv::<S, 6>,
        7 => conv::<S, 7>,
        8 => conv::<S, 8>,
        _ => conv::<S, 9>,
    }
}

fn conv_row(s: u8, _d: u8, row: [udf::Kernel; 10]) -> udf::Kernel {
    let idx = usize::from(s.min(9));
    row.get(idx).copied().unwrap_or(conv::<9, 9>)
}

fn kernel_for(from: KqlType, to: KqlType) -> udf::Kernel {
    conv_table!(code(from), code(to); 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
}

/// The KQL function name used for a conversion to `to` (shown in plans).
fn conv_name(to: KqlType) -> &'static str {
    match to {
        KqlType::Bool => "tobool",
        KqlType::Int => "toint",
        KqlType::Long => "tolong",
        KqlType::Real => "toreal",
        KqlType::Decimal => "todecimal",
        KqlType::String => "tostring",
        KqlType::DateTime => "todatetime",
        KqlType::TimeSpan => "totimespan",
        KqlType::Guid => "toguid",
        KqlType::Dynamic => "todynamic",
    }
}

/// Converts `expr` (of KQL type `from`) to KQL type `to` with the KQL rules.
pub fn to_type(expr: Expr, from: KqlType, to: KqlType) -> Expr {
    if from == to {
        return expr;
    }
    match (from, to) {
        (KqlType::Real, KqlType::Decimal) | (KqlType::Decimal, KqlType::Real) => expr,
        (KqlType::Int, KqlType::Long | KqlType::Real | KqlType::Decimal)
        | (KqlType::Long, KqlType::Real | KqlType::Decimal)
        | (KqlType::Bool, KqlType::Long | KqlType::Int) => df_cast(expr, arrow_type(to)),
        _ => {
            if let Expr::Literal(sv, _) = &expr
                && let Some(c) = scalar_to_const(sv, from)
            {
                if let (KqlType::Decimal, KqlType::String, Const::Real(v)) = (from, to, &c) {
                    return Expr::Literal(ScalarValue::Utf8(Some(format_decimal(*v))), None);
                }
                return Expr::Literal(const_to_scalar(&c, to), None);
            }
            udf::call(conv_name(to), kernel_for(from, to), vec![(expr, from)], to)
        }
    }
}

/// Converts a typed expression to `to` (see [`to_type`]).
pub fn typed_to(e: TypedExpr, to: KqlType) -> Expr {
    to_type(e.expr, e.ty, to)
}

/// Reads a DataFusion scalar as a [`Const`] of KQL type `ty` (for folding literals).
pub fn scalar_to_const(sv: &ScalarValue, ty: KqlType) -> Option<Const> {
    Some(match sv {
        ScalarValue::Null => Const::Null,
        ScalarValue::Boolean(v) => v.map_or(Const::Null, Const::Bool),
        ScalarValue::Int32(v) => v.map_or(Const::Null, Const::Int),
        ScalarValue::Int64(v) => v.map_or(Const::Null, Const::Long),
        ScalarValue::Float64(v) => v.map_or(Const::Null, Const::Real),
        ScalarValue::TimestampNanosecond(v, _) => v.map_or(Const::Null, Const::DateTime),
        ScalarValue::DurationNanosecond(v) => v.map_or(Const::Null, Const::TimeSpan),
        ScalarValue::Utf8(v) => match v {
            None => Const::Null,
            Some(s) => anyval_to_const(AnyVal::Str(s), ty),
        },
        _ => return None,
    })
}

/// `cast()` of the contract: checks the conversion is meaningful, then [`to_type`].
pub fn cast(expr: TypedExpr, to: KqlType) -> Result<Expr, FnError> {
    Ok(typed_to(expr, to))
}

fn wrap_string_kernel(a: &Args) -> Result<ArrayRef> {
    let s = a.str(0)?;
    Ok(udf::build_str(a.rows, |i| {
        Some(Cow::Owned(json::to_text(&Value::String(
            s.get(i).to_string(),
        ))))
    }))
}

/// A value as a dynamic *value* (no JSON parsing of strings: `"123"` stays the string
/// `"123"`), as `pack_array`, `pack`, `set_has_element`, `make_list` need.
pub fn to_dynamic_value(e: TypedExpr) -> Expr {
    match e.ty {
        KqlType::Dynamic => e.expr,
        KqlType::String => {
            if let Expr::Literal(ScalarValue::Utf8(v), _) = &e.expr {
                let s = v.clone().unwrap_or_default();
                return Expr::Literal(
                    ScalarValue::Utf8(Some(json::to_text(&Value::String(s)))),
                    None,
                );
            }
            udf::call(
                "to_dynamic_value",
                wrap_string_kernel,
                vec![(e.expr, KqlType::String)],
                KqlType::Dynamic,
            )
        }
        t => to_type(e.expr, t, KqlType::Dynamic),
    }
}
