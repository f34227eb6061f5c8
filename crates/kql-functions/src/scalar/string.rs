//! String functions. Strings are never null: every string result is `""` rather than
//! null, and a null string argument reads as `""`. Lengths and positions count Unicode
//! code points (`strlen("𝓗ello") == 5`), `string_size` counts UTF-8 bytes.
//!
//! Notable semantics (checked against the real engine):
//! - `substring(s, start [, len])`: a negative start counts from the end; out of range → `""`.
//! - `indexof(s, lookup [, start [, length [, occurrence]]])`: `-1` when not found, null
//!   for an empty lookup; negative start counts from the end.
//! - `trim*(regex, s)` removes one match of the regex anchored at the start/end.
//! - `countof(s, t)` counts overlapping occurrences; `countof(s, re, "regex")` matches.
//! - `extract` returns `""` (or null when typed) without a match; `extract_all` returns
//!   null without a match, a flat array for one group, arrays of groups otherwise.
//! - `split(s, d)` of `""` is `[""]`; `split(s, d, i)` is `[part]`, null when out of range.
//! - `replace_regex`/`replace` accept `\1`-style group references.

use std::borrow::Cow;

use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::{Expr, lit};
use kql_syntax::KqlType;
use regex::Regex;
use serde_json::Value;

use crate::convert::{self, typed_to};
use crate::json::to_text;
use crate::operators::as_str;
use crate::sig::{self, P, check, check_variadic};
use crate::strops::{RegexCache, compile_regex};
use crate::udf::{Args, StrArg, build_bool, build_i64, build_str, build_str_buf, call};
use crate::{ArgType, FnError, LowerContext, TypedExpr};

use KqlType as K;

pub(crate) const NAMES: &[&str] = &[
    "strlen",
    "tolower",
    "toupper",
    "strcat",
    "strcat_delim",
    "substring",
    "indexof",
    "trim",
    "trim_start",
    "trim_end",
    "replace_string",
    "replace_regex",
    "replace",
    "reverse",
    "extract",
    "extract_all",
    "countof",
    "split",
    "strrep",
    "string_size",
    "isascii",
    "isutf8",
    "to_utf8",
    "unicode_codepoints_from_string",
    "unicode_codepoints_to_string",
    "make_string",
    "regex_quote",
    "strcmp",
];

pub(crate) fn return_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    Ok(match name {
        "strlen" | "string_size" => {
            check(name, args, 1, &[P::Str])?;
            K::Long
        }
        "tolower" | "toupper" | "reverse" | "regex_quote" => {
            check(name, args, 1, &[P::Any])?;
            K::String
        }
        "strcat" => {
            check_variadic(name, args, 1, Some(64), P::Any)?;
            K::String
        }
        "strcat_delim" => {
            check_variadic(name, args, 3, Some(65), P::Any)?;
            K::String
        }
        "substring" => {
            check(name, args, 2, &[P::Any, P::Int, P::Int])?;
            K::String
        }
        "indexof" => {
            check(name, args, 2, &[P::Any, P::Any, P::Int, P::Int, P::Int])?;
            K::Long
        }
        "trim" | "trim_start" | "trim_end" => {
            check(name, args, 2, &[P::Str, P::Str])?;
            K::String
        }
        "replace_string" | "replace_regex" | "replace" => {
            check(name, args, 3, &[P::Str, P::Str, P::Str])?;
            K::String
        }
        "extract" => {
            check(name, args, 3, &[P::Str, P::Int, P::Str, P::Any])?;
            if args.len() == 4 {
                sig::const_type(args, 3)
                    .ok_or_else(|| sig::bad_arg(name, 3, "expected typeof(T)"))?
            } else {
                K::String
            }
        }
        "extract_all" => {
            if args.len() == 3 {
                check(name, args, 3, &[P::Str, P::Dyn, P::Str])?;
            } else {
                check(name, args, 2, &[P::Str, P::Str])?;
            }
            if let Some(pattern) = sig::const_str(args, 0)
                && let Ok(re) = Regex::new(pattern)
                && !(2..=17).contains(&re.captures_len())
            {
                return Err(sig::bad_arg(
                    name,
                    0,
                    "the regular expression must have between 1 and 16 capture groups",
                ));
            }
            K::Dynamic
        }
        "countof" => {
            check(name, args, 2, &[P::Str, P::Str, P::Str])?;
            if let Some(kind) = sig::const_str(args, 2)
                && kind != "normal"
                && kind != "regex"
            {
                return Err(sig::bad_arg(
                    name,
                    2,
                    "kind must be \"normal\" or \"regex\"",
                ));
            }
            K::Long
        }
        "split" => {
            check(name, args, 2, &[P::Any, P::Str, P::Int])?;
            K::Dynamic
        }
        "strrep" => {
            check(name, args, 2, &[P::Any, P::Int, P::Any])?;
            K::String
        }
        "isascii" | "isutf8" => {
            check(name, args, 1, &[P::Any])?;
            K::Bool
        }
        "to_utf8" | "unicode_codepoints_from_string" => {
            check(name, args, 1, &[P::Any])?;
            K::Dynamic
        }
        // `make_string` is the older name of `unicode_codepoints_to_string`.
        "unicode_codepoints_to_string" | "make_string" => {
            check_variadic(name, args, 1, None, P::Any)?;
            for (i, a) in args.iter().enumerate() {
                if !(a.ty.is_integer() || a.ty == K::Dynamic) {
                    return Err(sig::type_error(
                        name,
                        i,
                        "an integer or a dynamic array",
                        a.ty,
                    ));
                }
            }
            K::String
        }
        "strcmp" => {
            check(name, args, 2, &[P::Any, P::Any])?;
            K::Long
        }
        _ => return Err(FnError::unsupported(format!("function {name}()"))),
    })
}

fn take(it: &mut std::vec::IntoIter<TypedExpr>, name: &str) -> Result<TypedExpr, FnError> {
    it.next().ok_or_else(|| sig::arity_error(name, 1, None, 0))
}

fn s(e: TypedExpr) -> (Expr, KqlType) {
    (as_str(e), K::String)
}

fn l(e: TypedExpr) -> (Expr, KqlType) {
    (typed_to(e, K::Long), K::Long)
}

pub(crate) fn lower(
    _ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    ret: KqlType,
) -> Result<Expr, FnError> {
    let mut it = args.into_iter();
    Ok(match name {
        "strlen" => call(
            name_of(name),
            strlen_kernel,
            vec![s(take(&mut it, name)?)],
            K::Long,
        ),
        "string_size" => call(
            "string_size",
            string_size_kernel,
            vec![s(take(&mut it, name)?)],
            K::Long,
        ),
        "tolower" => call(
            "tolower",
            tolower_kernel,
            vec![s(take(&mut it, name)?)],
            K::String,
        ),
        "toupper" => call(
            "toupper",
            toupper_kernel,
            vec![s(take(&mut it, name)?)],
            K::String,
        ),
        "reverse" => call(
            "reverse",
            reverse_kernel,
            vec![s(take(&mut it, name)?)],
            K::String,
        ),
        "regex_quote" => call(
            "regex_quote",
            regex_quote_kernel,
            vec![s(take(&mut it, name)?)],
            K::String,
        ),
        "strcat" => {
            let parts: Vec<(Expr, KqlType)> = it.map(s).collect();
            call("strcat", strcat_kernel, parts, K::String)
        }
        "strcat_delim" => {
            let parts: Vec<(Expr, KqlType)> = it.map(s).collect();
            call("strcat_delim", strcat_delim_kernel, parts, K::String)
        }
        "substring" => {
            let a = s(take(&mut it, name)?);
            let st = l(take(&mut it, name)?);
            let len = match it.next() {
                Some(x) => l(x),
                None => (lit(datafusion::common::ScalarValue::Int64(None)), K::Long),
            };
            call("substring", substring_kernel, vec![a, st, len], K::String)
        }
        "indexof" => {
            let mut v = vec![s(take(&mut it, name)?), s(take(&mut it, name)?)];
            for x in it {
                v.push(l(x));
            }
            let defaults = [0i64, -1, 1];
            while v.len() < 5 {
                let d = defaults.get(v.len() - 2).copied().unwrap_or(0);
                v.push((lit(d), K::Long));
            }
            call("indexof", indexof_kernel, v, K::Long)
        }
        "trim" | "trim_start" | "trim_end" => {
            let re = s(take(&mut it, name)?);
            let text = s(take(&mut it, name)?);
            let k: crate::udf::Kernel = match name {
                "trim" => trim_kernel::<true, true>,
                "trim_start" => trim_kernel::<true, false>,
                _ => trim_kernel::<false, true>,
            };
            call(name_of(name), k, vec![re, text], K::String)
        }
        "replace_string" => {
            let v: Vec<(Expr, KqlType)> = it.map(s).collect();
            call("replace_string", replace_string_kernel, v, K::String)
        }
        "replace_regex" => {
            let v: Vec<(Expr, KqlType)> = it.map(s).collect();
            call("replace_regex", replace_regex_kernel, v, K::String)
        }
        "replace" => {
            // replace(regex, rewrite, text)
            let re = s(take(&mut it, name)?);
            let rw = s(take(&mut it, name)?);
            let text = s(take(&mut it, name)?);
            call(
                "replace_regex",
                replace_regex_kernel,
                vec![text, re, rw],
                K::String,
            )
        }
        "extract" => {
            let re = s(take(&mut it, name)?);
            let g = l(take(&mut it, name)?);
            let text = s(take(&mut it, name)?);
            let raw = call("extract", extract_kernel, vec![re, g, text], K::String);
            if ret == K::String {
                raw
            } else {
                // typed: empty (no match) converts to null
                let nulled = call(
                    "extract",
                    empty_to_null_kernel,
                    vec![(raw, K::String)],
                    K::String,
                );
                convert::to_type(nulled, K::String, ret)
            }
        }
        "extract_all" => {
            let re = s(take(&mut it, name)?);
            let second = take(&mut it, name)?;
            match it.next() {
                Some(text) => {
                    let groups = (convert::to_dynamic_value(second), K::Dynamic);
                    call(
                        "extract_all",
                        extract_all_kernel,
                        vec![re, groups, s(text)],
                        K::Dynamic,
                    )
                }
                None => {
                    let groups = (lit(datafusion::common::ScalarValue::Utf8(None)), K::Dynamic);
                    call(
                        "extract_all",
                        extract_all_kernel,
                        vec![re, groups, s(second)],
                        K::Dynamic,
                    )
                }
            }
        }
        "countof" => {
            let text = s(take(&mut it, name)?);
            let search = s(take(&mut it, name)?);
            let kind = match it.next() {
                Some(k) => s(k),
                None => (lit("normal"), K::String),
            };
            call("countof", countof_kernel, vec![text, search, kind], K::Long)
        }
        "split" => {
            let text = s(take(&mut it, name)?);
            let d = s(take(&mut it, name)?);
            let idx = match it.next() {
                Some(x) => l(x),
                None => (lit(datafusion::common::ScalarValue::Int64(None)), K::Long),
            };
            call("split", split_kernel, vec![text, d, idx], K::Dynamic)
        }
        "strrep" => {
            let v = s(take(&mut it, name)?);
            let n = l(take(&mut it, name)?);
            let d = match it.next() {
                Some(x) => s(x),
                None => (lit(""), K::String),
            };
            call("strrep", strrep_kernel, vec![v, n, d], K::String)
        }
        "isascii" => call(
            "isascii",
            isascii_kernel,
            vec![s(take(&mut it, name)?)],
            K::Bool,
        ),
        "isutf8" => call(
            "isutf8",
            isutf8_kernel,
            vec![s(take(&mut it, name)?)],
            K::Bool,
        ),
        "to_utf8" => call(
            "to_utf8",
            codepoints_kernel::<true>,
            vec![s(take(&mut it, name)?)],
            K::Dynamic,
        ),
        "unicode_codepoints_from_string" => call(
            "unicode_codepoints_from_string",
            codepoints_kernel::<false>,
            vec![s(take(&mut it, name)?)],
            K::Dynamic,
        ),
        "unicode_codepoints_to_string" | "make_string" => {
            let v: Vec<(Expr, KqlType)> = it
                .map(|a| (convert::to_dynamic_value(a), K::Dynamic))
                .collect();
            call(
                "unicode_codepoints_to_string",
                codepoints_to_string_kernel,
                v,
                K::String,
            )
        }
        "strcmp" => {
            let a = s(take(&mut it, name)?);
            let b = s(take(&mut it, name)?);
            call("strcmp", strcmp_kernel, vec![a, b], K::Long)
        }
        _ => return Err(FnError::unsupported(format!("function {name}()"))),
    })
}

fn name_of(name: &str) -> &'static str {
    NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("string_function")
}

// ---- kernels -------------------------------------------------------------------------

fn strlen_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_i64(a.rows, |i| Some(x.get(i).chars().count() as i64)))
}

fn string_size_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_i64(a.rows, |i| Some(x.get(i).len() as i64)))
}

/// Unicode lower-casing (`tolower`, also used by `in~`).
pub(crate) fn tolower_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| Some(crate::strops::lower(x.get(i)))))
}

fn toupper_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        let v = x.get(i);
        Some(if v.chars().any(|c| c.is_lowercase()) {
            Cow::Owned(v.to_uppercase())
        } else {
            Cow::Borrowed(v)
        })
    }))
}

fn reverse_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        Some(Cow::Owned(x.get(i).chars().rev().collect()))
    }))
}

fn regex_quote_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        Some(Cow::Owned(regex::escape(x.get(i))))
    }))
}

fn strs(a: &Args) -> Result<Vec<StrArg<'_>>> {
    (0..a.len()).map(|k| a.str(k)).collect()
}

fn strcat_kernel(a: &Args) -> Result<ArrayRef> {
    let cols = strs(a)?;
    Ok(build_str_buf(a.rows, |i, buf| {
        for c in &cols {
            buf.push_str(c.get(i));
        }
        true
    }))
}

fn strcat_delim_kernel(a: &Args) -> Result<ArrayRef> {
    let cols = strs(a)?;
    Ok(build_str_buf(a.rows, |i, buf| {
        let delim = cols.first().map(|c| c.get(i)).unwrap_or("");
        for (k, c) in cols.iter().skip(1).enumerate() {
            if k > 0 {
                buf.push_str(delim);
            }
            buf.push_str(c.get(i));
        }
        true
    }))
}

/// Byte offset of the `n`-th character of `s` (or `s.len()`).
fn char_byte(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(b, _)| b)
}

fn substring_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    let st = a.i64(1)?;
    let ln = a.i64(2)?;
    Ok(build_str(a.rows, |i| {
        let v = x.get(i);
        let count = v.chars().count() as i64;
        let Some(mut start) = st.get(i) else {
            return Some(Cow::Borrowed(""));
        };
        if start < 0 {
            start += count;
            if start < 0 {
                return Some(Cow::Borrowed(""));
            }
        }
        if start >= count {
            return Some(Cow::Borrowed(""));
        }
        let end = match ln.get(i) {
            None => count,
            Some(len) if len < 0 => return Some(Cow::Borrowed("")),
            Some(len) => start.saturating_add(len).min(count),
        };
        let (b0, b1) = (char_byte(v, start as usize), char_byte(v, end as usize));
        Some(Cow::Borrowed(v.get(b0..b1).unwrap_or("")))
    }))
}

fn indexof_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    let look = a.str(1)?;
    let st = a.i64(2)?;
    let ln = a.i64(3)?;
    let oc = a.i64(4)?;
    Ok(build_i64(a.rows, |i| {
        let v = x.get(i);
        let needle = look.get(i);
        if needle.is_empty() {
            return None;
        }
        let count = v.chars().count() as i64;
        let mut start = st.get(i).unwrap_or(0);
        if start < 0 {
            start += count;
            if start < 0 {
                start = 0;
            }
        }
        if start > count {
            return Some(-1);
        }
        let length = ln.get(i).unwrap_or(-1);
        if length < -1 {
            return None;
        }
        let occurrence = oc.get(i).unwrap_or(1);
        if occurrence <= 0 {
            return None;
        }
        // Each further occurrence is searched from one past the previous match, with the
        // same window length (how Kusto counts occurrences).
        let mut from = start;
        let mut found = 0;
        loop {
            let end = if length == -1 {
                count
            } else {
                from.saturating_add(length).min(count)
            };
            if from > end {
                return Some(-1);
            }
            let (b0, b1) = (char_byte(v, from as usize), char_byte(v, end as usize));
            let window = v.get(b0..b1)?;
            let pos = window.find(needle);
            let Some(p) = pos else {
                return Some(-1);
            };
            let at = from + window.get(..p)?.chars().count() as i64;
            found += 1;
            if found == occurrence {
                return Some(at);
            }
            from = at + 1;
        }
    }))
}

fn trim_kernel<const START: bool, const END: bool>(a: &Args) -> Result<ArrayRef> {
    let re = a.str(0)?;
    let x = a.str(1)?;
    let mut cache: Vec<(String, Option<(Regex, Regex)>)> = Vec::new();
    Ok(build_str(a.rows, |i| {
        let pat = re.get(i);
        if !cache.iter().any(|(p, _)| p == pat) {
            if cache.len() > 64 {
                cache.clear();
            }
            let compiled = match (
                compile_regex(&format!("^(?:{pat})")),
                compile_regex(&format!("(?:{pat})$")),
            ) {
                (Ok(s), Ok(e)) => Some((s, e)),
                _ => None,
            };
            cache.push((pat.to_string(), compiled));
        }
        let (sre, ere) = cache
            .iter()
            .find(|(p, _)| p == pat)
            .and_then(|(_, c)| c.as_ref())?;
        let mut v = x.get(i);
        if START && let Some(m) = sre.find(v) {
            v = v.get(m.end()..).unwrap_or("");
        }
        if END {
            // the leftmost match that reaches the end of the string
            let mut from = 0;
            while from <= v.len() {
                let Some(m) = v.get(from..).and_then(|t| ere.find(t)) else {
                    break;
                };
                let start = from + m.start();
                if from + m.end() == v.len() {
                    v = v.get(..start).unwrap_or("");
                    break;
                }
                from = start
                    + v.get(start..)
                        .and_then(|t| t.chars().next())
                        .map_or(1, char::len_utf8);
            }
        }
        Some(Cow::Owned(v.to_string()))
    }))
}

fn replace_string_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    let look = a.str(1)?;
    let rw = a.str(2)?;
    Ok(build_str(a.rows, |i| {
        let (v, l) = (x.get(i), look.get(i));
        Some(if l.is_empty() {
            Cow::Borrowed(v)
        } else {
            Cow::Owned(v.replace(l, rw.get(i)))
        })
    }))
}

/// Converts a KQL rewrite (`\1`, `$1`) to the `regex` crate's syntax (`${1}`).
fn rewrite_to_regex(rw: &str) -> String {
    let mut out = String::with_capacity(rw.len());
    let mut chars = rw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(d) = chars.peek().copied()
                && d.is_ascii_digit()
            {
                let mut num = String::new();
                while let Some(d) = chars.peek().copied() {
                    if d.is_ascii_digit() {
                        num.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push_str(&format!("${{{num}}}"));
                continue;
            }
            out.push(c);
        } else if c == '$' {
            match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut num = String::new();
                    while let Some(d) = chars.peek().copied() {
                        if d.is_ascii_digit() {
                            num.push(d);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    out.push_str(&format!("${{{num}}}"));
                }
                Some('{') => out.push('$'),
                _ => out.push_str("$$"),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn replace_regex_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    let re = a.str(1)?;
    let rw = a.str(2)?;
    let mut cache = RegexCache::default();
    Ok(build_str(a.rows, |i| {
        let v = x.get(i);
        let Some(r) = cache.get(re.get(i)) else {
            return Some(Cow::Borrowed(v));
        };
        let rep = rewrite_to_regex(rw.get(i));
        Some(Cow::Owned(r.replace_all(v, rep.as_str()).into_owned()))
    }))
}

fn extract_kernel(a: &Args) -> Result<ArrayRef> {
    let re = a.str(0)?;
    let g = a.i64(1)?;
    let x = a.str(2)?;
    let mut cache = RegexCache::default();
    Ok(build_str(a.rows, |i| {
        let r = cache.get(re.get(i));
        let group = g.get(i).and_then(|g| usize::try_from(g).ok());
        let found = match (r, group) {
            (Some(r), Some(group)) => r
                .captures(x.get(i))
                .and_then(|c| c.get(group))
                .map(|m| m.as_str().to_string()),
            _ => None,
        };
        Some(Cow::Owned(found.unwrap_or_default()))
    }))
}

fn empty_to_null_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        x.opt(i).filter(|v| !v.is_empty()).map(Cow::Borrowed)
    }))
}

fn extract_all_kernel(a: &Args) -> Result<ArrayRef> {
    let re = a.str(0)?;
    let groups = a.str(1)?;
    let x = a.str(2)?;
    let mut cache = RegexCache::default();
    Ok(build_str(a.rows, |i| {
        let r = cache.get(re.get(i))?;
        let names: Vec<String> = r
            .capture_names()
            .map(|n| n.unwrap_or("").to_string())
            .collect();
        let wanted: Option<Vec<usize>> = match groups.opt(i).and_then(crate::json::parse) {
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .filter_map(|it| match it {
                        Value::Number(n) => n.as_u64().map(|u| u as usize),
                        Value::String(s) => names.iter().position(|n| n == s),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        };
        let group_count = r.captures_len() - 1;
        let idx: Vec<usize> = match wanted {
            Some(w) => w,
            None if group_count == 0 => vec![0],
            None => (1..=group_count).collect(),
        };
        let mut out = Vec::new();
        for caps in r.captures_iter(x.get(i)) {
            let vals: Vec<Value> = idx
                .iter()
                .map(|g| {
                    Value::String(
                        caps.get(*g)
                            .map(|m| m.as_str().to_string())
                            .unwrap_or_default(),
                    )
                })
                .collect();
            if vals.len() == 1 {
                out.extend(vals);
            } else {
                out.push(Value::Array(vals));
            }
        }
        if out.is_empty() {
            None
        } else {
            Some(Cow::Owned(to_text(&Value::Array(out))))
        }
    }))
}

fn countof_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    let t = a.str(1)?;
    let k = a.str(2)?;
    let mut cache = RegexCache::default();
    Ok(build_i64(a.rows, |i| {
        let (v, needle) = (x.get(i), t.get(i));
        if needle.is_empty() {
            return Some(0);
        }
        if k.get(i) == "regex" {
            let r = cache.get(needle)?;
            return Some(r.find_iter(v).count() as i64);
        }
        let mut n = 0i64;
        let mut from = 0;
        while let Some(p) = v.get(from..).and_then(|h| h.find(needle)) {
            n += 1;
            let start = from + p;
            from = start
                + v.get(start..)
                    .and_then(|h| h.chars().next())
                    .map_or(1, char::len_utf8);
        }
        Some(n)
    }))
}

fn split_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    let d = a.str(1)?;
    let idx = a.i64(2)?;
    Ok(build_str(a.rows, |i| {
        let (v, delim) = (x.get(i), d.get(i));
        let parts: Vec<&str> = if delim.is_empty() {
            vec![v]
        } else {
            v.split(delim).collect()
        };
        let arr = match idx.get(i) {
            None => parts
                .into_iter()
                .map(|p| Value::String(p.to_string()))
                .collect(),
            Some(k) => {
                let p = usize::try_from(k).ok().and_then(|k| parts.get(k))?;
                vec![Value::String((*p).to_string())]
            }
        };
        Some(Cow::Owned(to_text(&Value::Array(arr))))
    }))
}

/// Largest string `strrep` builds (bytes).
const MAX_STRREP: usize = 1 << 24;

fn strrep_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    let n = a.i64(1)?;
    let d = a.str(2)?;
    Ok(build_str(a.rows, |i| {
        let (v, delim) = (x.get(i), d.get(i));
        let times = n.get(i).unwrap_or(0).clamp(0, i64::from(u16::MAX)) as usize;
        if times == 0 {
            return Some(Cow::Borrowed(""));
        }
        let per = v.len() + delim.len();
        let times = times.min(MAX_STRREP / per.max(1)).max(1);
        let mut out = String::with_capacity(per * times);
        for k in 0..times {
            if k > 0 {
                out.push_str(delim);
            }
            out.push_str(v);
        }
        Some(Cow::Owned(out))
    }))
}

fn isascii_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_bool(a.rows, |i| Some(x.get(i).is_ascii())))
}

fn isutf8_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_bool(a.rows, |i| Some(!x.get(i).contains('\u{FFFD}'))))
}

fn codepoints_kernel<const BYTES: bool>(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        let v = x.get(i);
        let arr: Vec<Value> = if BYTES {
            v.bytes().map(Value::from).collect()
        } else {
            v.chars().map(|c| Value::from(u32::from(c))).collect()
        };
        Some(Cow::Owned(to_text(&Value::Array(arr))))
    }))
}

fn codepoints_to_string_kernel(a: &Args) -> Result<ArrayRef> {
    let cols = strs(a)?;
    Ok(build_str(a.rows, |i| {
        let mut out = String::new();
        let mut push = |v: &Value| -> Option<()> {
            let n = v.as_u64()?;
            out.push(char::from_u32(u32::try_from(n).ok()?)?);
            Some(())
        };
        for c in &cols {
            match c.opt(i).and_then(crate::json::parse) {
                Some(Value::Array(items)) => {
                    for it in &items {
                        push(it)?;
                    }
                }
                Some(v) => push(&v)?,
                None => return Some(Cow::Borrowed("")),
            }
        }
        Some(Cow::Owned(out))
    }))
}

fn strcmp_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    let y = a.str(1)?;
    Ok(build_i64(a.rows, |i| {
        Some(match x.get(i).cmp(y.get(i)) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites() {
        assert_eq!(rewrite_to_regex(r"\2\1"), "${2}${1}");
        assert_eq!(rewrite_to_regex("a$1b"), "a${1}b");
        assert_eq!(rewrite_to_regex("cost $"), "cost $$");
    }
}
