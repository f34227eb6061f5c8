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

/// Checks texts with [`Canonical::check`], reusing its scratch space across rows.
#[derive(Default)]
pub struct Canonical {
    /// Byte ranges of the keys of the objects being read, innermost last.
    keys: Vec<(usize, usize)>,
}

impl Canonical {
    /// Is `text` exactly the compact text [`to_text`] would print for it after [`parse`]?
    /// Then parsing and printing it again can be skipped (`todynamic` of JSON text).
    ///
    /// Conservative: no whitespace outside strings, only the escapes `\"`, `\\`, `\n`,
    /// `\r` and `\t`, integers of at most 18 digits (no fractions or exponents, which print
    /// differently), no duplicate keys in an object, and a value other than `null`.
    /// Anything else answers `false` and takes the general path.
    pub fn check(&mut self, text: &str) -> bool {
        self.keys.clear();
        let b = text.as_bytes();
        match self.value(b, 0, 0) {
            Some(end) => end == b.len() && text != "null",
            None => false,
        }
    }

    /// The end of the canonical JSON value starting at `i`, `None` if it is not one.
    fn value(&mut self, b: &[u8], i: usize, depth: usize) -> Option<usize> {
        if depth > RAW_MAX_DEPTH {
            return None;
        }
        match *b.get(i)? {
            b'"' => canonical_string(b, i),
            b'{' => {
                if b.get(i + 1) == Some(&b'}') {
                    return Some(i + 2);
                }
                let base = self.keys.len();
                let mut j = i + 1;
                loop {
                    let k_end = canonical_string(b, j)?;
                    let key = b.get(j..k_end)?;
                    if self.keys[base..]
                        .iter()
                        .any(|&(s, e)| b.get(s..e) == Some(key))
                    {
                        return None;
                    }
                    self.keys.push((j, k_end));
                    if b.get(k_end) != Some(&b':') {
                        return None;
                    }
                    j = self.value(b, k_end + 1, depth + 1)?;
                    match b.get(j)? {
                        b',' => j += 1,
                        b'}' => {
                            self.keys.truncate(base);
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
                    j = self.value(b, j, depth + 1)?;
                    match b.get(j)? {
                        b',' => j += 1,
                        b']' => return Some(j + 1),
                        _ => return None,
                    }
                }
            }
            b't' => literal(b, i, b"true"),
            b'f' => literal(b, i, b"false"),
            b'n' => literal(b, i, b"null"),
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
}

fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    (b.get(i..i + word.len()) == Some(word)).then_some(i + word.len())
}

/// The end (after the closing quote) of a canonical JSON string starting at `i`.
fn canonical_string(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        match *b.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' => match b.get(j + 1)? {
                b'"' | b'\\' | b'n' | b'r' | b't' => j += 2,
                _ => return None,
            },
            // Control characters must be escaped.
            c if c < 0x20 => return None,
            _ => j += 1,
        }
    }
}

/// The end of the JSON value starting at `i` of compact JSON (as [`to_text`] prints it:
/// valid, no whitespace), `None` on anything unexpected.
fn skip_compact(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => {
            let mut j = i + 1;
            loop {
                match *b.get(j)? {
                    b'"' => return Some(j + 1),
                    b'\\' => j += 2,
                    _ => j += 1,
                }
            }
        }
        b'{' | b'[' => {
            // Brackets balance outside strings.
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match *b.get(j)? {
                    b'"' => {
                        j = skip_compact(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while b.get(j).is_some_and(|c| !matches!(c, b',' | b'}' | b']')) {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// The text of the value at `steps` (string keys, non-negative indexes) inside a
/// `dynamic` value's text (compact JSON as [`to_text`] prints it: valid, unique keys),
/// read without parsing the rest. `None` when a step is missing; `Some(None)` when the
/// general path must decide (a negative index, a key that would need escaping, text that
/// is not as expected). The value's text is what [`to_text`] prints for it, as printing
/// is compositional.
pub fn raw_path<'a>(text: &'a str, steps: &[Value]) -> Option<Option<&'a str>> {
    let b = text.as_bytes();
    let (mut start, mut end) = (0, b.len());
    for step in steps {
        match step {
            Value::String(k) => {
                if k.bytes().any(|c| c < 0x20 || c == b'"' || c == b'\\') {
                    return Some(None);
                }
                match b.get(start) {
                    Some(b'{') => {}
                    Some(b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => return None,
                    _ => return Some(None),
                }
                if b.get(start + 1) == Some(&b'}') {
                    return None;
                }
                let mut j = start + 1;
                let found = loop {
                    let Some(k_end) = skip_compact(b, j) else {
                        return Some(None);
                    };
                    if b.get(k_end) != Some(&b':') {
                        return Some(None);
                    }
                    let Some(v_end) = skip_compact(b, k_end + 1) else {
                        return Some(None);
                    };
                    if b.get(j..k_end).is_some_and(|raw| {
                        raw.len() == k.len() + 2 && raw.get(1..raw.len() - 1) == Some(k.as_bytes())
                    }) {
                        break (k_end + 1, v_end);
                    }
                    match b.get(v_end) {
                        Some(b',') => j = v_end + 1,
                        Some(b'}') if v_end < end => return None,
                        _ => return Some(None),
                    }
                };
                (start, end) = found;
            }
            Value::Number(n) => {
                let Some(idx) = n.as_u64() else {
                    return Some(None);
                };
                match b.get(start) {
                    Some(b'[') => {}
                    Some(b'{' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => return None,
                    _ => return Some(None),
                }
                if b.get(start + 1) == Some(&b']') {
                    return None;
                }
                let mut j = start + 1;
                let mut k = 0u64;
                let found = loop {
                    let Some(v_end) = skip_compact(b, j) else {
                        return Some(None);
                    };
                    if k == idx {
                        break (j, v_end);
                    }
                    k += 1;
                    match b.get(v_end) {
                        Some(b',') => j = v_end + 1,
                        Some(b']') if v_end < end => return None,
                        _ => return Some(None),
                    }
                };
                (start, end) = found;
            }
            _ => return None,
        }
    }
    text.get(start..end).map(Some)
}
