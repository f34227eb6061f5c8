//! Cell normalisation and comparison for the KQL corpora: a port of
//! `../shared/corpus/normalise.py` (the reference implementation of "Comparing a result with
//! `expected`" in the corpus README), plus the README rules that script leaves out:
//! `guid` compares case-insensitively, arrays compare as multisets in cases tagged
//! `unordered-collection`, and strings compare with whitespace removed in cases tagged
//! `compare:whitespace-squashed`.
//!
//! Both the expected and the actual cell are normalised from text, under the *actual*
//! column's type (the engine's result type drives the comparison).

use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// 100-ns ticks per second.
const TICKS_PER_SECOND: i64 = 10_000_000;

/// A normalised, comparable cell. `None` (outside this type) is a null / empty cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Norm {
    Bool(bool),
    /// int, long, real, decimal: compared with tolerance.
    Num(f64),
    /// Ticks since 0001-01-01, UTC.
    DateTime(i64),
    /// Ticks.
    TimeSpan(i64),
    /// dynamic: compared structurally.
    Json(Json),
    Str(String),
}

/// A parsed dynamic value; numbers are floats that remember the decimals their text showed.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num { value: f64, decimals: Option<usize> },
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

/// Comparison switches that come from a case's tags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompareOptions {
    /// `unordered-collection`: dynamic arrays compare as multisets.
    pub unordered_collections: bool,
    /// `compare:whitespace-squashed`: strings also match with all whitespace removed.
    pub whitespace_squashed: bool,
}

impl CompareOptions {
    pub fn from_tags<S: AsRef<str>>(tags: &[S]) -> Self {
        let has = |t: &str| tags.iter().any(|x| x.as_ref() == t);
        CompareOptions {
            unordered_collections: has("unordered-collection"),
            whitespace_squashed: has("compare:whitespace-squashed"),
        }
    }
}

#[allow(clippy::unwrap_used)] // constant patterns, checked by the tests
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap()
}

static DT_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?)?\s*(Z|[+-][0-9]{2}:?[0-9]{2})?$",
    )
});
static US_DT_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})(?: ([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?\s*([AP]M)?)?$",
    )
});
static TS_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^(-)?(?:([0-9]+)[.:])?([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,7}))?$")
});
static NUM_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"));
static THOUSANDS_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"));
static DECIMALS_RE: LazyLock<Regex> = LazyLock::new(|| re(r"^-?[0-9]+\.([0-9]+)$"));

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// Ticks since 0001-01-01 for a valid date and time (Python's `datetime` ranges), else None.
fn ticks(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, frac: &str) -> Option<i64> {
    if !(1..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || d < 1
        || d > days_in_month(y, mo)
        || !(0..24).contains(&h)
        || !(0..60).contains(&mi)
        || !(0..60).contains(&s)
    {
        return None;
    }
    let days = days_from_civil(y, mo, d) - days_from_civil(1, 1, 1);
    let secs = days * 86_400 + h * 3600 + mi * 60 + s;
    Some(secs * TICKS_PER_SECOND + frac_ticks(frac))
}

/// The first 7 fraction digits as ticks (`"5"` → 5,000,000).
fn frac_ticks(frac: &str) -> i64 {
    let mut digits: String = frac.chars().take(7).collect();
    while digits.len() < 7 {
        digits.push('0');
    }
    digits.parse().unwrap_or(0)
}

fn group_i64(c: &regex::Captures<'_>, i: usize) -> Option<i64> {
    match c.get(i) {
        Some(m) => m.as_str().parse().ok(),
        None => Some(0),
    }
}

/// Parses a datetime text to ticks: `T` or space, optional `Z` or offset, 0–9 fraction digits
/// (7 kept), date-only as midnight; also US `M/D/YYYY [h:mm[:ss[.f]] [AM|PM]]`.
pub fn parse_datetime(t: &str) -> Option<i64> {
    if let Some(c) = DT_RE.captures(t) {
        let frac = c.get(7).map_or("", |m| m.as_str());
        let mut v = ticks(
            group_i64(&c, 1)?,
            group_i64(&c, 2)?,
            group_i64(&c, 3)?,
            group_i64(&c, 4)?,
            group_i64(&c, 5)?,
            group_i64(&c, 6)?,
            frac,
        )?;
        if let Some(tz) = c.get(8).map(|m| m.as_str())
            && tz != "Z"
        {
            let sign = if tz.starts_with('+') { 1 } else { -1 };
            let hh: i64 = tz.get(1..3)?.parse().ok()?;
            let mm: i64 = tz.get(tz.len() - 2..)?.parse().ok()?;
            v -= sign * (hh * 3600 + mm * 60) * TICKS_PER_SECOND;
        }
        return Some(v);
    }
    if let Some(c) = US_DT_RE.captures(t) {
        let mut h = group_i64(&c, 4)?;
        match c.get(8).map(|m| m.as_str()) {
            Some("PM") if h < 12 => h += 12,
            Some("AM") if h == 12 => h = 0,
            _ => {}
        }
        let frac = c.get(7).map_or("", |m| m.as_str());
        return ticks(
            group_i64(&c, 3)?,
            group_i64(&c, 1)?,
            group_i64(&c, 2)?,
            h,
            group_i64(&c, 5)?,
            group_i64(&c, 6)?,
            frac,
        );
    }
    None
}

/// Parses a timespan text `[-][d.]hh:mm:ss[.fffffff]` (or `d:hh:mm:ss`) to ticks.
pub fn parse_timespan(t: &str) -> Option<i64> {
    let c = TS_RE.captures(t)?;
    let days = group_i64(&c, 2)?;
    let (h, mi, s) = (group_i64(&c, 3)?, group_i64(&c, 4)?, group_i64(&c, 5)?);
    let secs = days
        .checked_mul(24)?
        .checked_add(h)?
        .checked_mul(3600)?
        .checked_add(mi * 60 + s)?;
    let mut v = secs
        .checked_mul(TICKS_PER_SECOND)?
        .checked_add(frac_ticks(c.get(6).map_or("", |m| m.as_str())))?;
    if c.get(1).is_some() {
        v = -v;
    }
    Some(v)
}

/// The number of decimals a plain decimal text shows (`"1.50"` → 2), if it is one.
fn decimals(text: &str) -> Option<usize> {
    DECIMALS_RE
        .captures(text.trim())
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().len())
}

fn parse_number(u: &str) -> Option<f64> {
    if NUM_RE.is_match(u) {
        return u.parse::<f64>().ok();
    }
    match u {
        "NaN" | "nan" => Some(f64::NAN),
        "Infinity" | "+Infinity" | "inf" | "∞" => Some(f64::INFINITY),
        "-Infinity" | "-inf" | "-∞" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// Normalises one cell's text under a Kusto type name (or class such as `int|long`; `None`
/// or `""` when unknown). `None` is a null / empty cell.
pub fn normalise(text: &str, kusto_type: Option<&str>) -> Option<Norm> {
    let t = text.trim();
    let ty = kusto_type.unwrap_or("").to_ascii_lowercase();
    let ty = ty.as_str();
    if t.is_empty() || t == "null" || t == "(null)" {
        return None;
    }
    if ty == "string" {
        return Some(Norm::Str(text.to_string()));
    }
    if ty == "guid" || ty == "uniqueid" {
        return Some(Norm::Str(t.to_lowercase()));
    }
    if ty == "bool"
        || ty == "boolean"
        || (ty.is_empty() && matches!(t, "true" | "false" | "True" | "False"))
    {
        match t.to_ascii_lowercase().as_str() {
            "true" | "1" => return Some(Norm::Bool(true)),
            "false" | "0" => return Some(Norm::Bool(false)),
            _ => {}
        }
    }
    if matches!(ty, "" | "datetime" | "date")
        && let Some(d) = parse_datetime(t)
    {
        return Some(Norm::DateTime(d));
    }
    if matches!(ty, "" | "timespan" | "time")
        && let Some(s) = parse_timespan(t)
    {
        return Some(Norm::TimeSpan(s));
    }
    if matches!(
        ty,
        "" | "int" | "long" | "real" | "double" | "decimal" | "int|long" | "real|decimal"
    ) {
        let u = if THOUSANDS_RE.is_match(t) {
            t.replace(',', "")
        } else {
            t.to_string()
        };
        if let Some(n) = parse_number(&u) {
            return Some(Norm::Num(n));
        }
    }
    if ty == "dynamic" || t.starts_with('[') || t.starts_with('{') {
        if let Some(j) = parse_json_cell(t) {
            return Some(Norm::Json(j));
        }
        if ty == "dynamic" {
            // a bare dynamic string rendered without quotes
            return Some(Norm::Json(Json::Str(t.to_string())));
        }
    }
    Some(Norm::Str(text.to_string()))
}

/// Parses a dynamic cell: JSON, or the looser forms documentation uses (single-quoted
/// strings, Python `True`/`False`/`None`, bare words inside arrays: `[yes, no]`).
pub fn parse_json_cell(t: &str) -> Option<Json> {
    let mut p = JsonParser {
        s: t.as_bytes(),
        text: t,
        pos: 0,
        depth: 0,
    };
    let v = p.value(false)?;
    p.ws();
    if p.pos == p.s.len() { Some(v) } else { None }
}

struct JsonParser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
}

const MAX_JSON_DEPTH: usize = 256;

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn value(&mut self, in_array: bool) -> Option<Json> {
        self.ws();
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' | b'\'' => self.string().map(Json::Str),
            _ if in_array => self.bare_element(),
            _ => self.scalar_word(),
        }
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.depth >= MAX_JSON_DEPTH {
            return None;
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn object(&mut self) -> Option<Json> {
        self.nested(|p| {
            p.pos += 1;
            let mut map = BTreeMap::new();
            p.ws();
            if p.peek() == Some(b'}') {
                p.pos += 1;
                return Some(Json::Obj(map));
            }
            loop {
                p.ws();
                if !matches!(p.peek(), Some(b'"' | b'\'')) {
                    return None;
                }
                let key = p.string()?;
                p.ws();
                if p.peek() != Some(b':') {
                    return None;
                }
                p.pos += 1;
                let v = p.value(false)?;
                map.insert(key, v);
                p.ws();
                match p.peek()? {
                    b',' => p.pos += 1,
                    b'}' => {
                        p.pos += 1;
                        return Some(Json::Obj(map));
                    }
                    _ => return None,
                }
            }
        })
    }

    fn array(&mut self) -> Option<Json> {
        self.nested(|p| {
            p.pos += 1;
            let mut items = Vec::new();
            p.ws();
            if p.peek() == Some(b']') {
                p.pos += 1;
                return Some(Json::Arr(items));
            }
            loop {
                items.push(p.value(true)?);
                p.ws();
                match p.peek()? {
                    b',' => p.pos += 1,
                    b']' => {
                        p.pos += 1;
                        return Some(Json::Arr(items));
                    }
                    _ => return None,
                }
            }
        })
    }

    /// A double- or single-quoted string with JSON escapes.
    fn string(&mut self) -> Option<String> {
        let quote = self.peek()?;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.text.get(self.pos..)?;
            let mut chars = rest.chars();
            let c = chars.next()?;
            self.pos += c.len_utf8();
            if c as u32 == u32::from(quote) {
                return Some(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let e = self.peek()?;
            self.pos += 1;
            match e {
                b'"' => out.push('"'),
                b'\'' => out.push('\''),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let hi = self.hex4()?;
                    if (0xD800..0xDC00).contains(&hi)
                        && self.s.get(self.pos..self.pos + 2) == Some(b"\\u")
                    {
                        self.pos += 2;
                        let lo = self.hex4()?;
                        let cp =
                            0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF);
                        out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                    } else {
                        out.push(char::from_u32(hi).unwrap_or('\u{FFFD}'));
                    }
                }
                _ => return None,
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.text.get(self.pos..self.pos + 4)?;
        self.pos += 4;
        u32::from_str_radix(h, 16).ok()
    }

    /// A top-level or object-member scalar: a number or a literal word.
    fn scalar_word(&mut self) -> Option<Json> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.' | b'_') {
                self.pos += 1;
            } else {
                break;
            }
        }
        let word = self.text.get(start..self.pos)?;
        word_value(word)
    }

    /// An array element that is not a string, array or object: read to the next `,` or `]`;
    /// a word that is not a number or literal becomes a string (`[yes, no]`).
    fn bare_element(&mut self) -> Option<Json> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            match c {
                b',' | b']' => break,
                b'[' | b'{' | b'}' | b'"' => return None,
                _ => self.pos += 1,
            }
        }
        let word = self.text.get(start..self.pos)?.trim();
        if word.is_empty() {
            return None;
        }
        word_value(word).or_else(|| {
            if word.starts_with('\'') || word.starts_with(':') {
                None
            } else {
                Some(Json::Str(word.to_string()))
            }
        })
    }
}

fn word_value(word: &str) -> Option<Json> {
    match word {
        "true" | "True" => return Some(Json::Bool(true)),
        "false" | "False" => return Some(Json::Bool(false)),
        "null" | "None" => return Some(Json::Null),
        "NaN" => {
            return Some(Json::Num {
                value: f64::NAN,
                decimals: None,
            });
        }
        "Infinity" => {
            return Some(Json::Num {
                value: f64::INFINITY,
                decimals: None,
            });
        }
        "-Infinity" => {
            return Some(Json::Num {
                value: f64::NEG_INFINITY,
                decimals: None,
            });
        }
        _ => {}
    }
    if NUM_RE.is_match(word) {
        let value = word.parse::<f64>().ok()?;
        return Some(Json::Num {
            value,
            decimals: decimals(word),
        });
    }
    None
}

/// Rounds to `k` decimals as Python's `round(x, k)` does (correctly rounded from the exact
/// binary value).
fn round_to(x: f64, k: usize) -> f64 {
    format!("{x:.k$}").parse::<f64>().unwrap_or(x)
}

fn num_eq(a: f64, b: f64, expected_text: Option<&str>) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() || a.is_nan() || b.is_nan() {
        return false;
    }
    if (a - b).abs() <= f64::max(1e-12, 1e-9 * f64::max(a.abs(), b.abs())) {
        return true;
    }
    match expected_text.and_then(decimals) {
        Some(k) if k < 15 => round_to(b, k) == round_to(a, k),
        _ => false,
    }
}

/// Structural JSON equality; `a` is the expected side (its numbers' decimals allow rounding).
pub fn json_equal(a: &Json, b: &Json, opts: CompareOptions) -> bool {
    match (a, b) {
        (Json::Num { value: x, decimals }, Json::Num { value: y, .. }) => {
            num_eq(*x, *y, None)
                || matches!(decimals, Some(k) if *k < 15 && round_to(*y, *k) == round_to(*x, *k))
        }
        (Json::Str(x), Json::Str(y)) => {
            x == y
                || matches!((parse_datetime(x), parse_datetime(y)), (Some(p), Some(q)) if p == q)
                || (opts.whitespace_squashed && squash(x) == squash(y))
        }
        (Json::Arr(x), Json::Arr(y)) => {
            if x.len() != y.len() {
                return false;
            }
            if opts.unordered_collections {
                multiset_match(x.len(), y.len(), |i, j| json_equal(&x[i], &y[j], opts))
            } else {
                x.iter().zip(y).all(|(p, q)| json_equal(p, q, opts))
            }
        }
        (Json::Obj(x), Json::Obj(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w, opts)))
        }
        // Python's `True == 1.0`
        (Json::Bool(p), Json::Num { value, .. }) | (Json::Num { value, .. }, Json::Bool(p)) => {
            *value == if *p { 1.0 } else { 0.0 }
        }
        (Json::Bool(p), Json::Bool(q)) => p == q,
        (Json::Null, Json::Null) => true,
        _ => false,
    }
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Greedy multiset matching as in `normalise.py`: each left item takes the first unused
/// right item equal to it.
fn multiset_match(n: usize, m: usize, eq: impl Fn(usize, usize) -> bool) -> bool {
    if n != m {
        return false;
    }
    let mut used = vec![false; m];
    for i in 0..n {
        let found = (0..m).find(|&j| !used[j] && eq(i, j));
        match found {
            Some(j) => used[j] = true,
            None => return false,
        }
    }
    true
}

/// Compares two normalised cells; `expected_text` is the expected cell's raw text.
pub fn values_equal(
    exp: Option<&Norm>,
    act: Option<&Norm>,
    expected_text: Option<&str>,
    opts: CompareOptions,
) -> bool {
    let empty = |v: Option<&Norm>| match v {
        None => true,
        Some(Norm::Str(s)) => s.is_empty(),
        _ => false,
    };
    let (Some(e), Some(a)) = (exp, act) else {
        // a null and an empty string are indistinguishable in Kusto's string type
        return empty(exp) && empty(act);
    };
    match (e, a) {
        (Norm::Num(x), Norm::Num(y)) => num_eq(*x, *y, expected_text),
        (Norm::Json(x), Norm::Json(y)) => json_equal(x, y, opts),
        (Norm::Json(j), Norm::Str(s)) | (Norm::Str(s), Norm::Json(j)) => {
            // a dynamic string vs plain text
            matches!(j, Json::Str(js) if js == s.trim()
                || (opts.whitespace_squashed && squash(js) == squash(s)))
        }
        (Norm::Json(j), Norm::Num(n)) => json_equal(
            j,
            &Json::Num {
                value: *n,
                decimals: None,
            },
            opts,
        ),
        (Norm::Json(j), Norm::Bool(b)) => json_equal(j, &Json::Bool(*b), opts),
        (Norm::Num(n), Norm::Json(j)) => json_equal(
            j,
            &Json::Num {
                value: *n,
                decimals: None,
            },
            opts,
        ),
        (Norm::Bool(b), Norm::Json(j)) => json_equal(j, &Json::Bool(*b), opts),
        (Norm::Str(x), Norm::Str(y)) => {
            let (e, a) = (x.trim(), y.trim());
            // docs sometimes show string results wrapped in double quotes
            e == a
                || (e.len() >= 2
                    && e.starts_with('"')
                    && e.ends_with('"')
                    && &e[1..e.len() - 1] == a)
                || (opts.whitespace_squashed && squash(e) == squash(a))
        }
        _ => e == a,
    }
}

/// Where two row sets differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowsMismatch {
    RowCount {
        expected: usize,
        actual: usize,
    },
    /// Ordered: the first differing cell (0-based row and column), or a row of another width.
    Cell {
        row: usize,
        column: usize,
        expected: String,
        actual: String,
    },
    /// Unordered: an expected row (0-based) that no actual row matches.
    Unmatched {
        row: usize,
        expected: Vec<String>,
    },
}

impl std::fmt::Display for RowsMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowsMismatch::RowCount { expected, actual } => {
                write!(f, "expected {expected} rows, got {actual}")
            }
            RowsMismatch::Cell {
                row,
                column,
                expected,
                actual,
            } => write!(
                f,
                "row {row}, column {column}: expected {:?}, got {:?}",
                crate::short(expected, 80),
                crate::short(actual, 80)
            ),
            RowsMismatch::Unmatched { row, expected } => write!(
                f,
                "expected row {row} not found: [{}]",
                crate::short(&expected.join(", "), 120)
            ),
        }
    }
}

/// Compares row sets: `types` are the (actual) column type names that drive normalisation.
pub fn compare_rows(
    expected: &[Vec<String>],
    actual: &[Vec<String>],
    types: &[Option<String>],
    ordered: bool,
    opts: CompareOptions,
) -> Result<(), RowsMismatch> {
    if expected.len() != actual.len() {
        return Err(RowsMismatch::RowCount {
            expected: expected.len(),
            actual: actual.len(),
        });
    }
    let norm_rows = |rows: &[Vec<String>]| -> Vec<Vec<Option<Norm>>> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(i, c)| normalise(c, types.get(i).and_then(|t| t.as_deref())))
                    .collect()
            })
            .collect()
    };
    let e = norm_rows(expected);
    let a = norm_rows(actual);
    let cell_eq = |i: usize, j: usize, k: usize| {
        values_equal(
            e[i][k].as_ref(),
            a[j][k].as_ref(),
            Some(expected[i][k].as_str()),
            opts,
        )
    };
    let row_eq =
        |i: usize, j: usize| e[i].len() == a[j].len() && (0..e[i].len()).all(|k| cell_eq(i, j, k));
    if ordered {
        for i in 0..e.len() {
            if e[i].len() != a[i].len() {
                return Err(RowsMismatch::Cell {
                    row: i,
                    column: e[i].len().min(a[i].len()),
                    expected: format!("{} cells", e[i].len()),
                    actual: format!("{} cells", a[i].len()),
                });
            }
            if let Some(k) = (0..e[i].len()).find(|&k| !cell_eq(i, i, k)) {
                return Err(RowsMismatch::Cell {
                    row: i,
                    column: k,
                    expected: expected[i][k].clone(),
                    actual: actual[i][k].clone(),
                });
            }
        }
        return Ok(());
    }
    let mut used = vec![false; a.len()];
    for (i, row) in expected.iter().enumerate() {
        match (0..a.len()).find(|&j| !used[j] && row_eq(i, j)) {
            Some(j) => used[j] = true,
            None => {
                return Err(RowsMismatch::Unmatched {
                    row: i,
                    expected: row.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Whether an actual type name satisfies an expected type or class (`int|long`, `real|decimal`).
/// An empty expected type accepts anything.
pub fn type_matches(expected: &str, actual: kql_syntax::KqlType) -> bool {
    let expected = expected.trim();
    if expected.is_empty() || expected.eq_ignore_ascii_case("unknown") {
        return true;
    }
    expected
        .split('|')
        .any(|alt| kql_syntax::KqlType::from_name(alt.trim()) == Some(actual))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(t: &str, ty: &str) -> Option<Norm> {
        normalise(t, Some(ty))
    }

    fn eq(e: &str, a: &str, ty: &str) -> bool {
        values_equal(
            n(e, ty).as_ref(),
            n(a, ty).as_ref(),
            Some(e),
            CompareOptions::default(),
        )
    }

    #[test]
    fn datetimes() {
        let base = parse_datetime("2020-01-01T00:00:00Z");
        assert!(base.is_some());
        assert_eq!(parse_datetime("2020-01-01"), base);
        assert_eq!(parse_datetime("2020-01-01 00:00:00"), base);
        assert_eq!(parse_datetime("2020-01-01T00:00:00.0000000Z"), base);
        assert_eq!(parse_datetime("2020-01-01T01:00:00+01:00"), base);
        assert_eq!(parse_datetime("2019-12-31T23:00:00-0100"), base);
        assert_eq!(parse_datetime("1/1/2020 12:00:00 AM"), base);
        assert_eq!(parse_datetime("0001-01-01"), Some(0));
        assert_eq!(
            parse_datetime("0001-01-01T00:00:00.123456789"),
            Some(1_234_567)
        );
        assert_eq!(parse_datetime("2020-02-30"), None);
        assert_eq!(parse_datetime("2020-13-01"), None);
        assert_eq!(parse_datetime("hello"), None);
        assert!(eq(
            "2016-02-17T08:40:01Z",
            "2016-02-17T08:40:01.0000000Z",
            "datetime"
        ));
        assert!(!eq(
            "2016-02-17T08:40:01Z",
            "2016-02-17T08:40:02Z",
            "datetime"
        ));
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("01:02:03"), Some(37_230_000_000));
        assert_eq!(parse_timespan("1.00:00:00"), Some(864_000_000_000));
        assert_eq!(parse_timespan("-1.02:03:04.5"), Some(-937_845_000_000));
        assert_eq!(parse_timespan("00:00:00.0000001"), Some(1));
        assert!(eq("1.00:00:00", "1.00:00:00", "timespan"));
        assert!(!eq("01:00:00", "00:01:00", "timespan"));
    }

    #[test]
    fn numbers() {
        assert!(eq("1", "1", "long"));
        assert!(eq("45.0", "45", "real"));
        assert!(eq("0.46364760900080609", "0.4636476090008061", "real"));
        assert!(eq("3.14", "3.14159", "real"));
        assert!(!eq("3.15", "3.14159", "real"));
        assert!(eq("1,234", "1234", "long"));
        assert!(eq("NaN", "NaN", "real"));
        assert!(eq("Infinity", "Infinity", "real"));
        assert!(!eq("Infinity", "-Infinity", "real"));
        assert!(eq(
            "2.2090496998585438e-05",
            "2.2090496998585438E-05",
            "real"
        ));
        assert!(eq("1", "1.0000000001", "real"));
        assert!(!eq("1", "2", "int|long"));
    }

    #[test]
    fn bools_and_strings() {
        assert!(eq("True", "true", "bool"));
        assert!(eq("1", "true", "bool"));
        assert!(!eq("False", "true", "bool"));
        assert!(eq(" a ", "a", "string"));
        assert!(eq("\"a\"", "a", "string"));
        assert!(!eq("a", "b", "string"));
        // null and empty string are the same value
        assert!(eq("", "", "string"));
        assert!(eq("", "", "long"));
        assert!(!eq("", "0", "long"));
        assert!(eq(
            "ABCDEF00-0000-0000-0000-000000000000",
            "abcdef00-0000-0000-0000-000000000000",
            "guid"
        ));
    }

    #[test]
    fn dynamic() {
        assert!(eq(
            r#"{"a":1,"b":[1,2]}"#,
            r#"{"b":[1,2.0],"a":1}"#,
            "dynamic"
        ));
        assert!(!eq("[1,2]", "[2,1]", "dynamic"));
        assert!(eq("[yes, no]", r#"["yes","no"]"#, "dynamic"));
        assert!(eq("{'a': 'b'}", r#"{"a":"b"}"#, "dynamic"));
        assert!(eq("[1.50]", "[1.5049]", "dynamic"));
        assert!(eq("\"prop1\"", "\"prop1\"", "dynamic"));
        assert!(eq("prop1", "\"prop1\"", "dynamic"));
        assert!(eq("5", "5", "dynamic"));
        assert!(eq(
            r#"["2020-01-01T00:00:00Z"]"#,
            r#"["2020-01-01T00:00:00.0000000Z"]"#,
            "dynamic"
        ));
        let opts = CompareOptions {
            unordered_collections: true,
            whitespace_squashed: false,
        };
        let e = n("[1,2,2]", "dynamic");
        let a = n("[2,1,2]", "dynamic");
        assert!(values_equal(e.as_ref(), a.as_ref(), None, opts));
        assert!(!values_equal(
            e.as_ref(),
            a.as_ref(),
            None,
            CompareOptions::default()
        ));
        // deep nesting does not overflow
        let deep = "[".repeat(10_000);
        assert_eq!(parse_json_cell(&deep), None);
    }

    #[test]
    fn rows() {
        let s = |rows: &[&[&str]]| -> Vec<Vec<String>> {
            rows.iter()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect()
        };
        let types = vec![Some("string".to_string()), Some("long".to_string())];
        let e = s(&[&["a", "1"], &["b", "2"]]);
        let a = s(&[&["b", "2"], &["a", "1"]]);
        let o = CompareOptions::default();
        assert!(compare_rows(&e, &a, &types, false, o).is_ok());
        assert!(matches!(
            compare_rows(&e, &a, &types, true, o),
            Err(RowsMismatch::Cell {
                row: 0,
                column: 0,
                ..
            })
        ));
        assert!(matches!(
            compare_rows(&e, &a[..1], &types, true, o),
            Err(RowsMismatch::RowCount {
                expected: 2,
                actual: 1
            })
        ));
    }

    #[test]
    fn types() {
        use kql_syntax::KqlType;
        assert!(type_matches("int|long", KqlType::Long));
        assert!(type_matches("int|long", KqlType::Int));
        assert!(!type_matches("int|long", KqlType::Real));
        assert!(type_matches("real|decimal", KqlType::Real));
        assert!(type_matches("", KqlType::Real));
        assert!(type_matches("double", KqlType::Real));
    }
}
