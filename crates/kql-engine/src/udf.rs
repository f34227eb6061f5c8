//! Engine-internal UDFs: turning `dynamic` (JSON text) into Arrow lists for `mv-expand`.

use datafusion::arrow::array::{
    Array, ArrayRef, Int64Builder, ListBuilder, StringArray, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::{Arc, LazyLock};

/// Elements of a dynamic value for `mv-expand`: an array's elements, a bag's
/// `{key: value}` pairs, a scalar as itself; null and empty give no rows.
fn elements(text: &str, bag_as_array: bool) -> Vec<String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(items)) => items.into_iter().map(|v| v.to_string()).collect(),
        Ok(serde_json::Value::Object(map)) if bag_as_array => map
            .into_iter()
            .map(|(k, v)| {
                serde_json::Value::Array(vec![serde_json::Value::String(k), v]).to_string()
            })
            .collect(),
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .map(|(k, v)| {
                let mut m = serde_json::Map::new();
                m.insert(k, v);
                serde_json::Value::Object(m).to_string()
            })
            .collect(),
        Ok(serde_json::Value::Null) => Vec::new(),
        Ok(v) => vec![v.to_string()],
        Err(_) => vec![serde_json::Value::String(text.to_string()).to_string()],
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DynamicToList {
    signature: Signature,
    indices: bool,
    bag_as_array: bool,
}

impl ScalarUDFImpl for DynamicToList {
    fn name(&self) -> &str {
        match (self.indices, self.bag_as_array) {
            (true, _) => "kql_dynamic_indices",
            (false, true) => "kql_dynamic_to_list_arrays",
            (false, false) => "kql_dynamic_to_list",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.indices {
            DataType::List(Arc::new(Field::new("item", DataType::Int64, true)))
        } else {
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(arg) = args.args.first() else {
            return exec_err!("{} needs one argument", self.name());
        };
        let array = arg.to_array(args.number_rows)?;
        let Some(strings) = array.as_any().downcast_ref::<StringArray>() else {
            return exec_err!("{} expects dynamic (text) input", self.name());
        };
        let out: ArrayRef = if self.indices {
            let mut b = ListBuilder::new(Int64Builder::new());
            for i in 0..strings.len() {
                if strings.is_valid(i) {
                    let n = elements(strings.value(i), self.bag_as_array).len();
                    for k in 0..n {
                        b.values().append_value(k as i64);
                    }
                }
                b.append(true);
            }
            Arc::new(b.finish())
        } else {
            let mut b = ListBuilder::new(StringBuilder::new());
            for i in 0..strings.len() {
                if strings.is_valid(i) {
                    for e in elements(strings.value(i), self.bag_as_array) {
                        if e == "null" {
                            b.values().append_null();
                        } else {
                            b.values().append_value(e);
                        }
                    }
                }
                b.append(true);
            }
            Arc::new(b.finish())
        };
        Ok(ColumnarValue::Array(out))
    }
}

static TO_LIST: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::new_from_impl(DynamicToList {
        signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
        indices: false,
        bag_as_array: false,
    }))
});

static TO_LIST_ARRAYS: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::new_from_impl(DynamicToList {
        signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
        indices: false,
        bag_as_array: true,
    }))
});

static INDICES: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::new_from_impl(DynamicToList {
        signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
        indices: true,
        bag_as_array: false,
    }))
});

pub fn dynamic_to_list(e: Expr, bag_as_array: bool) -> Expr {
    if bag_as_array {
        TO_LIST_ARRAYS.call(vec![e])
    } else {
        TO_LIST.call(vec![e])
    }
}

pub fn dynamic_indices(e: Expr) -> Expr {
    INDICES.call(vec![e])
}

// ---------------------------------------------------------------- make-series

use datafusion::arrow::array::{AsArray, BooleanArray, GenericListArray};
use datafusion::arrow::datatypes::{Float64Type, Int64Type};

/// Number of bins and the axis values of a series.
#[derive(Clone, Copy)]
enum Axis {
    /// Datetime axis in ns: from, step, bins.
    Time(i64, i64, usize),
    /// Numeric axis: from, step, bins, integer-valued.
    Num(f64, f64, usize, bool),
}

const MAX_BINS: usize = 1_000_000;

fn axis_at(args: &[ArrayRef], row: usize, integer: bool) -> Option<Axis> {
    let (a, b, c) = (args.first()?, args.get(1)?, args.get(2)?);
    if a.is_null(row) || b.is_null(row) || c.is_null(row) {
        return None;
    }
    match a.data_type() {
        DataType::Int64 => {
            let from = a.as_primitive::<Int64Type>().value(row);
            let to = b.as_primitive::<Int64Type>().value(row);
            let step = c.as_primitive::<Int64Type>().value(row);
            if step <= 0 || to <= from {
                return Some(Axis::Time(from, step.max(1), 0));
            }
            let n = (i128::from(to) - i128::from(from) + i128::from(step) - 1) / i128::from(step);
            Some(Axis::Time(
                from,
                step,
                usize::try_from(n).ok()?.min(MAX_BINS),
            ))
        }
        _ => {
            let from = a.as_primitive::<Float64Type>().value(row);
            let to = b.as_primitive::<Float64Type>().value(row);
            let step = c.as_primitive::<Float64Type>().value(row);
            if step.is_nan() || step <= 0.0 || to <= from {
                return Some(Axis::Num(from, 1.0, 0, integer));
            }
            let n = ((to - from) / step).ceil();
            Some(Axis::Num(from, step, (n as usize).min(MAX_BINS), integer))
        }
    }
}

fn axis_json(axis: Axis) -> serde_json::Value {
    match axis {
        Axis::Time(from, step, n) => serde_json::Value::Array(
            (0..n)
                .map(|i| {
                    let t = from.saturating_add(step.saturating_mul(i as i64));
                    serde_json::Value::String(kql_sema::bind::format_iso(t))
                })
                .collect(),
        ),
        Axis::Num(from, step, n, integer) => serde_json::Value::Array(
            (0..n)
                .map(|i| {
                    let v = from + step * i as f64;
                    if integer {
                        serde_json::Value::from(v as i64)
                    } else {
                        serde_json::Number::from_f64(v)
                            .map(serde_json::Value::Number)
                            .unwrap_or(serde_json::Value::Null)
                    }
                })
                .collect(),
        ),
    }
}

fn bins(axis: Axis) -> usize {
    match axis {
        Axis::Time(_, _, n) | Axis::Num(_, _, n, _) => n,
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SeriesUdf {
    signature: Signature,
    /// true: the axis array; false: fill values into bins.
    axis: bool,
}

impl ScalarUDFImpl for SeriesUdf {
    fn name(&self) -> &str {
        if self.axis {
            "kql_series_axis"
        } else {
            "kql_series_fill"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    /// axis: (from, to, step, integer) ; fill: (from, to, step, integer, idx list, value list, default)
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(n))
            .collect::<Result<Vec<_>>>()?;
        let integer = arrays
            .get(3)
            .and_then(|a| {
                a.as_any()
                    .downcast_ref::<BooleanArray>()
                    .map(|b| b.value(0))
            })
            .unwrap_or(false);
        let mut out = StringBuilder::new();
        for row in 0..n {
            let Some(axis) = axis_at(&arrays, row, integer) else {
                out.append_null();
                continue;
            };
            if self.axis {
                out.append_value(axis_json(axis).to_string());
                continue;
            }
            let default: serde_json::Value = arrays
                .get(6)
                .and_then(|a| {
                    a.as_any()
                        .downcast_ref::<StringArray>()
                        .map(|s| s.value(0).to_string())
                })
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(serde_json::Value::Null);
            let mut values = vec![default; bins(axis)];
            let (Some(idx), Some(vals)) = (arrays.get(4), arrays.get(5)) else {
                return exec_err!("kql_series_fill: missing arguments");
            };
            let (Some(idx), Some(vals)) = (
                idx.as_any().downcast_ref::<GenericListArray<i32>>(),
                vals.as_any().downcast_ref::<GenericListArray<i32>>(),
            ) else {
                return exec_err!("kql_series_fill: expected lists");
            };
            if idx.is_valid(row) && vals.is_valid(row) {
                let iv = idx.value(row);
                let vv = vals.value(row);
                let iv = iv.as_primitive::<Int64Type>();
                let vv = vv.as_string::<i32>();
                for k in 0..iv.len().min(vv.len()) {
                    if iv.is_null(k) || vv.is_null(k) {
                        continue;
                    }
                    let i = iv.value(k);
                    if i < 0 {
                        continue;
                    }
                    if let Some(slot) = values.get_mut(i as usize) {
                        *slot =
                            serde_json::from_str(vv.value(k)).unwrap_or(serde_json::Value::Null);
                    }
                }
            }
            out.append_value(serde_json::Value::Array(values).to_string());
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

static SERIES_AXIS: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::new_from_impl(SeriesUdf {
        signature: Signature::any(4, Volatility::Immutable),
        axis: true,
    }))
});

static SERIES_FILL: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::new_from_impl(SeriesUdf {
        signature: Signature::any(7, Volatility::Immutable),
        axis: false,
    }))
});

/// The axis array of a series: `(from, to, step, integer)`.
pub fn series_axis(args: Vec<Expr>) -> Expr {
    SERIES_AXIS.call(args)
}

/// One aggregate's series: `(from, to, step, integer, idx list, value list, default json)`.
pub fn series_fill(args: Vec<Expr>) -> Expr {
    SERIES_FILL.call(args)
}

// ---------------------------------------------------------------- parse-kv

/// Options of `parse-kv ... with (...)`.
pub struct KvOptions<'a> {
    pub pair: &'a str,
    pub kv: &'a str,
    /// Quote characters: one char (same open/close) or two (open, close), or several singles.
    pub quote: &'a str,
    pub escape: Option<char>,
    pub greedy: bool,
}

fn quote_pair(quote: &str) -> Vec<(char, char)> {
    let chars: Vec<char> = quote.chars().collect();
    match chars.as_slice() {
        [] => vec![],
        [o, c] if o != c && matches!((o, c), ('(', ')') | ('[', ']') | ('{', '}') | ('<', '>')) => {
            vec![(*o, *c)]
        }
        many => many.iter().map(|c| (*c, *c)).collect(),
    }
}

/// Splits `text` on `delim`, not inside quotes.
fn split_outside_quotes(
    text: &str,
    delim: &str,
    quotes: &[(char, char)],
    escape: Option<char>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut closing: Option<char> = None;
    let mut i = 0;
    let chars: Vec<char> = text.chars().collect();
    let d: Vec<char> = delim.chars().collect();
    while i < chars.len() {
        let c = chars[i];
        if let Some(close) = closing {
            if Some(c) == escape && i + 1 < chars.len() {
                cur.push(c);
                cur.push(chars[i + 1]);
                i += 2;
                continue;
            }
            if c == close {
                closing = None;
            }
            cur.push(c);
            i += 1;
            continue;
        }
        if let Some((_, close)) = quotes.iter().find(|(o, _)| *o == c) {
            closing = Some(*close);
            cur.push(c);
            i += 1;
            continue;
        }
        if !d.is_empty() && chars[i..].starts_with(&d) {
            out.push(std::mem::take(&mut cur));
            i += d.len();
            continue;
        }
        cur.push(c);
        i += 1;
    }
    out.push(cur);
    out
}

fn unquote(s: &str, quotes: &[(char, char)], escape: Option<char>) -> String {
    let t = s.trim();
    let mut chars = t.chars();
    if let Some(first) = chars.next()
        && let Some((_, close)) = quotes.iter().find(|(o, _)| *o == first)
    {
        let mut out = String::new();
        let mut it = t[first.len_utf8()..].chars().peekable();
        while let Some(c) = it.next() {
            if Some(c) == escape {
                if let Some(n) = it.next() {
                    out.push(n);
                }
                continue;
            }
            if c == *close {
                break;
            }
            out.push(c);
        }
        return out;
    }
    t.to_string()
}

/// The value of `key` in `text`, or `None`.
pub fn parse_kv_value(text: &str, key: &str, o: &KvOptions) -> Option<String> {
    let quotes = quote_pair(o.quote);
    let mut normalised = text.to_string();
    if o.pair.trim().is_empty() && !o.kv.trim().is_empty() {
        // `a  =  b` with a whitespace pair delimiter: glue the key/value to the delimiter.
        let mut prev = String::new();
        while prev != normalised {
            prev = normalised.clone();
            normalised = normalised
                .replace(&format!(" {}", o.kv), o.kv)
                .replace(&format!("{} ", o.kv), o.kv);
        }
    }
    let segments: Vec<String> = split_outside_quotes(&normalised, o.pair, &quotes, o.escape)
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect();
    let mut i = 0;
    while i < segments.len() {
        let seg = &segments[i];
        i += 1;
        let parts = split_outside_quotes(seg, o.kv, &quotes, o.escape);
        if parts.len() < 2 {
            continue;
        }
        let raw_key = parts[0].trim();
        let k = if quotes.iter().any(|(q, _)| raw_key.starts_with(*q)) {
            unquote(raw_key, &quotes, o.escape)
        } else {
            raw_key.rsplit(' ').next().unwrap_or(raw_key).to_string()
        };
        if k != key {
            continue;
        }
        let mut value = parts[1..].join(o.kv);
        if o.greedy {
            while i < segments.len()
                && split_outside_quotes(&segments[i], o.kv, &quotes, o.escape).len() < 2
            {
                value.push_str(o.pair);
                value.push_str(&segments[i]);
                i += 1;
            }
        }
        return Some(unquote(&value, &quotes, o.escape));
    }
    None
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ParseKvUdf {
    signature: Signature,
}

impl ScalarUDFImpl for ParseKvUdf {
    fn name(&self) -> &str {
        "kql_parse_kv"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    /// (text, key, pair, kv, quote, escape, greedy) → the value text, "" when absent.
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(n))
            .collect::<Result<Vec<_>>>()?;
        let text = |i: usize| -> Option<&StringArray> {
            arrays.get(i)?.as_any().downcast_ref::<StringArray>()
        };
        let (Some(src), Some(key), Some(pair), Some(kv), Some(quote), Some(escape)) =
            (text(0), text(1), text(2), text(3), text(4), text(5))
        else {
            return exec_err!("kql_parse_kv: bad arguments");
        };
        let greedy = arrays
            .get(6)
            .and_then(|a| {
                a.as_any()
                    .downcast_ref::<BooleanArray>()
                    .map(|b| b.value(0))
            })
            .unwrap_or(false);
        let mut out = StringBuilder::new();
        for row in 0..n {
            if src.is_null(row) {
                out.append_value("");
                continue;
            }
            let opts = KvOptions {
                pair: pair.value(row),
                kv: kv.value(row),
                quote: quote.value(row),
                escape: escape.value(row).chars().next(),
                greedy,
            };
            out.append_value(
                parse_kv_value(src.value(row), key.value(row), &opts).unwrap_or_default(),
            );
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

static PARSE_KV: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::new_from_impl(ParseKvUdf {
        signature: Signature::any(7, Volatility::Immutable),
    }))
});

/// Engine-internal function by name.
pub fn engine_call(name: &str, args: Vec<Expr>) -> Option<Expr> {
    match name {
        "parse_kv" => Some(PARSE_KV.call(args)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(
        text: &str,
        key: &str,
        pair: &str,
        kvd: &str,
        quote: &str,
        greedy: bool,
    ) -> Option<String> {
        parse_kv_value(
            text,
            key,
            &KvOptions {
                pair,
                kv: kvd,
                quote,
                escape: Some('\\'),
                greedy,
            },
        )
    }

    #[test]
    fn parse_kv_cases() {
        assert_eq!(
            kv("a=1;a=2", "a", ";", "=", "", false).as_deref(),
            Some("1")
        );
        assert_eq!(
            kv("  key  =  value  ", "key", " ", "=", "", false).as_deref(),
            Some("value")
        );
        assert_eq!(
            kv("[k1=v1][k2=v2]", "k2", "][", "=", "", false).as_deref(),
            Some("v2]")
        );
        assert_eq!(kv("[k1=v1][k2=v2]", "k1", "][", "=", "", false), None);
        assert_eq!(
            kv("key1==value;k=2", "key1", ";", "=", "", false).as_deref(),
            Some("=value")
        );
        assert_eq!(
            kv(
                "key='quoted value';other='nested ;semicolon'",
                "other",
                ";",
                "=",
                "'",
                false
            )
            .as_deref(),
            Some("nested ;semicolon")
        );
        assert_eq!(
            kv(
                "name=John Doe phone=555 5555 city=New York",
                "phone",
                " ",
                "=",
                "",
                true
            )
            .as_deref(),
            Some("555 5555")
        );
        assert_eq!(
            kv("name=John Doe phone=555", "name", " ", "=", "", false).as_deref(),
            Some("John")
        );
    }
}
