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

/// Nesting deeper than this is left to `serde_json` (which refuses past 128).
const RAW_MAX_DEPTH: usize = 64;

/// Is `text` exactly the compact text [`to_text`] would print for it after [`parse`]? Then
/// parsing and printing it again can be skipped (`todynamic` of JSON text), and a path
/// into it can be read from the text ([`raw_path`]).
///
/// Conservative: no whitespace outside strings, only the escapes `\"`, `\\`, `\n`, `\r` and
/// `\t`, integers of at most 18 digits (no fractions or exponents, which print
/// differently), no duplicate keys in an object, and a value other than `null`. Anything
/// else answers `false` and takes the general path.
pub fn is_canonical(text: &str) -> bool {
    let b = text.as_bytes();
    let mut keys: Vec<Vec<&[u8]>> = Vec::new();
    match canonical_value(b, 0, &mut keys, 0) {
        Some(end) => end == b.len() && text != "null",
        None => false,
    }
}

/// The end of the canonical JSON value starting at `i`, `None` if it is not one.
fn canonical_value<'a>(
    b: &'a [u8],
    i: usize,
    keys: &mut Vec<Vec<&'a [u8]>>,
    depth: usize,
) -> Option<usize> {
    if depth > RAW_MAX_DEPTH {
        return None;
    }
    match *b.get(i)? {
        b'"' => canonical_string(b, i),
        b'{' => {
            if b.get(i + 1) == Some(&b'}') {
                return Some(i + 2);
            }
            keys.push(Vec::new());
            let mut j = i + 1;
            loop {
                let k_end = canonical_string(b, j)?;
                let key = b.get(j..k_end)?;
                let seen = keys.last_mut()?;
                if seen.contains(&key) {
                    return None;
                }
                seen.push(key);
                if b.get(k_end) != Some(&b':') {
                    return None;
                }
                j = canonical_value(b, k_end + 1, keys, depth + 1)?;
                match b.get(j)? {
                    b',' => j += 1,
                    b'}' => {
                        keys.pop();
                        return Some(j + 1);
                    }
                    _ => return None,
                }
            }
        }
        b'[' => {
            if b.get(i + 1) == Some(&b']') {
                return Some(i + 2);
            }
            let mut j = i + 1;
            loop {
                j = canonical_value(b, j, keys, depth + 1)?;
                match b.get(j)? {
                    b',' => j += 1,
                    b']' => return Some(j + 1),
                    _ => return None,
                }
            }
        }
        b't' => b.get(i..i + 4).filter(|w| *w == b"true").map(|_| i + 4),
        b'f' => b.get(i..i + 5).filter(|w| *w == b"false").map(|_| i + 5),
        b'n' => b.get(i..i + 4).filter(|w| *w == b"null").map(|_| i + 4),
        b'-' | b'0'..=b'9' => {
            let start = usize::from(b[i] == b'-') + i;
            let mut j = start;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            let digits = j - start;
            let leading_zero = digits > 1 && b[start] == b'0';
            let negative_zero = b[i] == b'-' && digits == 1 && b[start] == b'0';
            if digits == 0 || digits > 18 || leading_zero || negative_zero {
                return None;
            }
            // A fraction or exponent prints differently once parsed: not canonical.
            match b.get(j) {
                Some(b'.' | b'e' | b'E') => None,
                _ => Some(j),
            }
        }
        _ => None,
    }
}

/// The end (after the closing quote) of a canonical JSON string starting at `i`.
fn canonical_string(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        let off = memchr::memchr3(b'"', b'\\', b'\n', b.get(j..)?)?;
        // Other control characters must be escaped too.
        if b.get(j..j + off)?.iter().any(|&c| c < 0x20) {
            return None;
        }
        j += off;
        match b[j] {
            b'"' => return Some(j + 1),
            b'\\' => match b.get(j + 1)? {
                b'"' | b'\\' | b'n' | b'r' | b't' => j += 2,
                _ => return None,
            },
            _ => return None,
        }
    }
}

/// The text of the value at `steps` (string keys, non-negative indexes) inside canonical
/// JSON `text` (see [`is_canonical`]), read without parsing the rest. `None` when a step
/// is missing or `text` is not canonical; `Some(None)` when the general path must decide
/// (a negative index, or a key that would need escaping).
pub fn raw_path<'a>(text: &'a str, steps: &[Value]) -> Option<Option<&'a str>> {
    if !is_canonical(text) {
        return Some(None);
    }
    let b = text.as_bytes();
    let (mut start, mut end) = (0, b.len());
    let mut keys = Vec::new();
    for step in steps {
        match step {
            Value::String(k) => {
                if k.bytes().any(|c| c < 0x20 || c == b'"' || c == b'\\') {
                    return Some(None);
                }
                if b.get(start) != Some(&b'{') || b.get(start + 1) == Some(&b'}') {
                    return None;
                }
                let mut j = start + 1;
                let found = loop {
                    let k_end = canonical_string(b, j)?;
                    let v_end = canonical_value(b, k_end + 1, &mut keys, 0)?;
                    if b.get(j + 1..k_end - 1) == Some(k.as_bytes()) {
                        break (k_end + 1, v_end);
                    }
                    match b.get(v_end)? {
                        b',' => j = v_end + 1,
                        _ => return None,
                    }
                };
                (start, end) = found;
            }
            Value::Number(n) => {
                let Some(idx) = n.as_u64() else {
                    return Some(None);
                };
                if b.get(start) != Some(&b'[') || b.get(start + 1) == Some(&b']') {
                    return None;
                }
                let mut j = start + 1;
                let mut k = 0u64;
                let found = loop {
                    let v_end = canonical_value(b, j, &mut keys, 0)?;
                    if k == idx {
                        break (j, v_end);
                    }
                    k += 1;
                    match b.get(v_end)? {
                        b',' => j = v_end + 1,
                        _ => return None,
                    }
                };
                (start, end) = found;
            }
            _ => return None,
        }
    }
    text.get(start..end).map(Some)
}
