//! String predicates: `has` (term match), `hasprefix`, `hassuffix`, `contains`,
//! `startswith`, `endswith` (each case-insensitive or `_cs`), `=~`, `matches regex`, `like`.
//!
//! Term semantics (`has*`): a term is a maximal run of alphanumeric characters (Unicode
//! letters and digits; `_`, `-`, `.`, spaces... are delimiters). `x has n` is true when `n`
//! occurs in `x` where the character before the match is not alphanumeric (or the
//! needle starts with a delimiter) and the character after it is not alphanumeric (or the
//! needle ends with a delimiter). `hasprefix` checks only the start, `hassuffix` only the
//! end. An empty needle always matches. Case-insensitive variants compare Unicode
//! lower-case forms.

use std::borrow::Cow;
use std::collections::HashMap;

use datafusion::arrow::array::ArrayRef;
use datafusion::common::{DataFusionError, Result};
use regex::Regex;

use crate::udf::{Args, build_bool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    Has,
    Prefix,
    Suffix,
    Contains,
    StartsWith,
    EndsWith,
    Equals,
}

fn is_term_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Lower-cases into `buf` (ASCII fast path) and returns it.
pub(crate) fn lower_into<'b>(s: &str, buf: &'b mut String) -> &'b str {
    buf.clear();
    if s.is_ascii() {
        buf.extend(s.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        buf.push_str(&s.to_lowercase());
    }
    buf.as_str()
}

pub(crate) fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) || !s.is_ascii() {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Term match of `needle` in `hay` (both already case-normalised when needed).
pub(crate) fn term_match(hay: &str, needle: &str, kind: Match) -> bool {
    if needle.is_empty() {
        return true;
    }
    let check_start = matches!(kind, Match::Has | Match::Prefix)
        && needle.chars().next().is_some_and(is_term_char);
    let check_end = matches!(kind, Match::Has | Match::Suffix)
        && needle.chars().next_back().is_some_and(is_term_char);
    let mut from = 0;
    while let Some(pos) = hay.get(from..).and_then(|h| h.find(needle)) {
        let start = from + pos;
        let end = start + needle.len();
        let ok_start = !check_start
            || hay
                .get(..start)
                .and_then(|p| p.chars().next_back())
                .is_none_or(|c| !is_term_char(c));
        let ok_end = !check_end
            || hay
                .get(end..)
                .and_then(|p| p.chars().next())
                .is_none_or(|c| !is_term_char(c));
        if ok_start && ok_end {
            return true;
        }
        // advance by one character
        let step = hay
            .get(start..)
            .and_then(|p| p.chars().next())
            .map_or(1, char::len_utf8);
        from = start + step;
    }
    false
}

/// One string predicate over already-normalised inputs.
pub(crate) fn apply(hay: &str, needle: &str, kind: Match) -> bool {
    match kind {
        Match::Has | Match::Prefix | Match::Suffix => term_match(hay, needle, kind),
        Match::Contains => hay.contains(needle),
        Match::StartsWith => hay.starts_with(needle),
        Match::EndsWith => hay.ends_with(needle),
        Match::Equals => hay == needle,
    }
}

const fn kind_of(k: u8) -> Match {
    match k {
        0 => Match::Has,
        1 => Match::Prefix,
        2 => Match::Suffix,
        3 => Match::Contains,
        4 => Match::StartsWith,
        5 => Match::EndsWith,
        _ => Match::Equals,
    }
}

pub(crate) const fn kind_code(m: Match) -> u8 {
    match m {
        Match::Has => 0,
        Match::Prefix => 1,
        Match::Suffix => 2,
        Match::Contains => 3,
        Match::StartsWith => 4,
        Match::EndsWith => 5,
        Match::Equals => 6,
    }
}

/// Kernel: `string op string` → bool (never null). `K` = [`Match`] code, `CS` case-sensitive,
/// `NEG` negated.
pub(crate) fn pred_kernel<const K: u8, const CS: bool, const NEG: bool>(
    a: &Args,
) -> Result<ArrayRef> {
    let kind = kind_of(K);
    let hay = a.str(0)?;
    let needle = a.str(1)?;
    if CS {
        return Ok(build_bool(a.rows, |i| {
            Some(apply(hay.get(i), needle.get(i), kind) != NEG)
        }));
    }
    let const_needle = a.is_const(1);
    let fixed = if const_needle {
        Some(lower(needle.get(0)).into_owned())
    } else {
        None
    };
    let mut hbuf = String::new();
    let mut nbuf = String::new();
    Ok(build_bool(a.rows, |i| {
        let n: &str = match &fixed {
            Some(f) => f.as_str(),
            None => {
                let l = lower(needle.get(i)).into_owned();
                nbuf = l;
                nbuf.as_str()
            }
        };
        let h = lower_into(hay.get(i), &mut hbuf);
        Some(apply(h, n, kind) != NEG)
    }))
}

/// A small per-invocation cache of compiled regexes.
#[derive(Default)]
pub(crate) struct RegexCache {
    map: HashMap<String, Option<Regex>>,
}

impl RegexCache {
    /// The compiled regex, `None` when the pattern is invalid.
    pub fn get(&mut self, pattern: &str) -> Option<&Regex> {
        if !self.map.contains_key(pattern) {
            if self.map.len() > 256 {
                self.map.clear();
            }
            self.map
                .insert(pattern.to_string(), compile_regex(pattern).ok());
        }
        self.map.get(pattern).and_then(|r| r.as_ref())
    }
}

/// Compiles a KQL (RE2) regex.
pub(crate) fn compile_regex(pattern: &str) -> Result<Regex> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| DataFusionError::Execution(format!("invalid regular expression: {e}")))
}

/// Kernel: `s matches regex re`.
pub(crate) fn regex_kernel(a: &Args) -> Result<ArrayRef> {
    let hay = a.str(0)?;
    let pat = a.str(1)?;
    if a.is_const(1) {
        let re = compile_regex(pat.get(0))?;
        return Ok(build_bool(a.rows, |i| Some(re.is_match(hay.get(i)))));
    }
    let mut cache = RegexCache::default();
    Ok(build_bool(a.rows, |i| {
        cache.get(pat.get(i)).map(|re| re.is_match(hay.get(i)))
    }))
}

/// Translates a SQL `LIKE` pattern (`%`, `_`, `\` escape) to an anchored regex.
pub(crate) fn like_to_regex(pattern: &str, case_sensitive: bool) -> String {
    let mut out = String::from(if case_sensitive { "^" } else { "(?i)^" });
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push_str("(?s:.*)"),
            '_' => out.push_str("(?s:.)"),
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push_str(&regex::escape(&n.to_string()));
                }
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    out.push('$');
    out
}

/// Kernel: `s like pattern` (`CS` case-sensitive, `NEG` negated).
pub(crate) fn like_kernel<const CS: bool, const NEG: bool>(a: &Args) -> Result<ArrayRef> {
    let hay = a.str(0)?;
    let pat = a.str(1)?;
    let mut cache = RegexCache::default();
    Ok(build_bool(a.rows, |i| {
        let re = like_to_regex(pat.get(i), CS);
        cache.get(&re).map(|r| r.is_match(hay.get(i)) != NEG)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(h: &str, n: &str) -> bool {
        term_match(&h.to_lowercase(), &n.to_lowercase(), Match::Has)
    }

    #[test]
    fn has_terms() {
        assert!(has("North America", "america"));
        assert!(!has("ERROR", "ERR"));
        assert!(has("alpha_beta", "alpha"));
        assert!(!has("helloworld", "hello"));
        assert!(has("hello-world", "hello"));
        assert!(has("12.34.56", "34"));
        assert!(!has("123456", "34"));
        assert!(has("a", ""));
        assert!(!has("ПриветМир", "привет"));
        assert!(has("МИР привет", "привет"));
        assert!(has("NAÏVE", "naïve"));
        assert!(has("foo.bar.baz", "bar.baz"));
        assert!(!has("xfoo.bar", "foo.bar"));
        assert!(has("a-abc", "-abc"));
        assert!(has("abcabc abc", "abc"));
        assert!(term_match("alpha", "a", Match::Prefix));
        assert!(!term_match("beta", "a", Match::Prefix));
        assert!(term_match("beta", "a", Match::Suffix));
        assert!(!term_match("word boundary", "test", Match::Suffix));
    }

    #[test]
    fn like_patterns() {
        let re = Regex::new(&like_to_regex("a%c_", false)).ok();
        assert!(re.as_ref().is_some_and(|r| r.is_match("ABxCd")));
        assert!(re.as_ref().is_some_and(|r| !r.is_match("ABxC")));
    }
}
