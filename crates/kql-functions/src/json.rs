//! `dynamic` values: compact JSON text in a `Utf8` column, JSON `null`/missing = Arrow null.
//! Helpers to parse, print, compare and navigate them.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use crate::format::format_real;

/// Parses JSON text (`None` when it is not JSON).
pub fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// `parse_json`/`todynamic` of a string: JSON when the text is JSON, otherwise the text
/// itself as a JSON string.
pub fn parse_json_lenient(text: &str) -> Value {
    match parse(text) {
        Some(v) => v,
        None => Value::String(text.to_string()),
    }
}

/// Compact JSON text.
pub fn to_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A real inside a dynamic: a JSON number, or the strings `NaN`/`Infinity`/`-Infinity`.
pub fn real_to_json(v: f64) -> Value {
    match serde_json::Number::from_f64(v) {
        Some(n) => Value::Number(n),
        None => Value::String(if v.is_nan() {
            "NaN".to_string()
        } else if v > 0.0 {
            "Infinity".to_string()
        } else {
            "-Infinity".to_string()
        }),
    }
}

/// KQL `tostring` of a dynamic value: strings unquoted, null → `""`, others compact JSON.
pub fn dyn_to_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => to_text(other),
    }
}

/// `tostring` of stored dynamic text, avoiding a parse for plain scalars.
pub fn text_to_kql_string(t: &str) -> Cow<'_, str> {
    let first = t.as_bytes().first().copied();
    match first {
        Some(b'"') => match serde_json::from_str::<String>(t) {
            Ok(s) => Cow::Owned(s),
            Err(_) => Cow::Borrowed(t),
        },
        Some(b'{') | Some(b'[') | Some(b' ') | Some(b'\n') | Some(b'\t') | Some(b'\r') => {
            match parse(t) {
                Some(v) => Cow::Owned(dyn_to_string(&v)),
                None => Cow::Borrowed(t),
            }
        }
        None => Cow::Borrowed(""),
        _ => {
            if t == "null" {
                Cow::Borrowed("")
            } else {
                Cow::Borrowed(t)
            }
        }
    }
}

/// `gettype` of a dynamic value.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                "long"
            } else {
                "double"
            }
        }
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "dictionary",
    }
}

/// `d.key` / `d["key"]`.
pub fn member<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m.get(key),
        _ => None,
    }
}

/// `d[i]`, negative indexes from the end.
pub fn index(v: &Value, i: i64) -> Option<&Value> {
    match v {
        Value::Array(a) => {
            let len = a.len() as i64;
            let idx = if i < 0 { len + i } else { i };
            if idx < 0 || idx >= len {
                None
            } else {
                a.get(usize::try_from(idx).ok()?)
            }
        }
        _ => None,
    }
}

/// Total order used by `array_sort_*`, `set_*` de-duplication and dynamic comparisons:
/// null < bool < numbers < strings < arrays < objects; numbers numerically.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                i.cmp(&j)
            } else {
                let (f, g) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                f.total_cmp(&g)
            }
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                let c = compare(p, q);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(_), Value::Object(_)) => to_text(a).cmp(&to_text(b)),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Equality used by sets and `array_index_of`: numbers compare numerically (1 == 1.0).
pub fn equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => compare(a, b) == Ordering::Equal,
        _ => a == b,
    }
}

/// A key for hashing values into sets (numbers normalised so `1` and `1.0` collide).
pub fn set_key(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => format!("n{i}"),
            None => {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    format!("n{}", f as i64)
                } else {
                    format!("n{}", format_real(f))
                }
            }
        },
        other => to_text(other),
    }
}
