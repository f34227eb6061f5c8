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

use datafusion::arrow::array::{Array, ArrayRef, StringArray};
use datafusion::common::{DataFusionError, Result};
use regex::Regex;

use crate::udf::{Args, build_bool, build_bool_nn};

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

pub(crate) fn is_term_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Lower-cases into `buf` (ASCII fast path) and returns it.
pub(crate) fn lower_into<'b>(s: &str, buf: &'b mut String) -> &'b str {
    buf.clear();
    if s.is_ascii() {
        buf.push_str(s);
        buf.make_ascii_lowercase();
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

/// Does the match `hay[start..end]` sit on term boundaries where required (`check_start`:
/// no term character just before it; `check_end`: none just after it)?
pub(crate) fn on_boundaries(
    hay: &str,
    start: usize,
    end: usize,
    check_start: bool,
    check_end: bool,
) -> bool {
    (!check_start
        || hay
            .get(..start)
            .and_then(|p| p.chars().next_back())
            .is_none_or(|c| !is_term_char(c)))
        && (!check_end
            || hay
                .get(end..)
                .and_then(|p| p.chars().next())
                .is_none_or(|c| !is_term_char(c)))
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

/// An anchored case-insensitive predicate (`startswith`, `endswith`, `=~`) for one constant,
/// non-empty ASCII needle, tested on ASCII values by comparing bytes ignoring ASCII case,
/// without copying. A non-ASCII value is not decided here (Unicode lower-casing can turn a
/// non-ASCII character into an ASCII one, e.g. the Kelvin sign); the caller lower-cases it.
/// The unanchored predicates (`has`, `contains`, ...) search whole batches with [`scan`].
pub(crate) struct AsciiCi {
    needle: Vec<u8>,
    kind: Match,
}

impl AsciiCi {
    /// `needle` must already be lower-case; `None` when it is empty or not ASCII, or `kind`
    /// is not anchored.
    pub(crate) fn new(needle: &str, kind: Match) -> Option<Self> {
        if needle.is_empty()
            || !needle.is_ascii()
            || !matches!(kind, Match::StartsWith | Match::EndsWith | Match::Equals)
        {
            return None;
        }
        Some(AsciiCi {
            needle: needle.as_bytes().to_vec(),
            kind,
        })
    }

    /// The predicate on `h`; `None` when the bytes that decide it are not all ASCII (the
    /// caller then lower-cases `h` the Unicode way).
    ///
    /// Lower-casing maps each character on its own (the one contextual rule, final sigma,
    /// yields a non-ASCII letter), and maps ASCII to ASCII byte for byte. So when the
    /// compared window of `h` (its first or last `n` bytes) is ASCII, `lower(h)` starts
    /// (ends) with `n` exactly when that window does, ignoring ASCII case; the rest of `h`
    /// need not be looked at. Equality needs the whole of `h` to be ASCII.
    pub(crate) fn test(&self, h: &str) -> Option<bool> {
        let h = h.as_bytes();
        let n = self.needle.as_slice();
        let window = match self.kind {
            Match::StartsWith => h.get(..n.len()),
            Match::EndsWith => h.len().checked_sub(n.len()).and_then(|s| h.get(s..)),
            Match::Equals => Some(h),
            _ => return None,
        };
        match window {
            Some(w) if w.is_ascii() => Some(w.len() == n.len() && w.eq_ignore_ascii_case(n)),
            // Shorter than the needle: only non-ASCII text could lower-case to it.
            None if h.is_ascii() => Some(false),
            _ => None,
        }
    }
}

/// One needle of a [`scan`]: lower-case ASCII bytes, and whether a match must start / end on
/// a term boundary.
pub(crate) struct ScanNeedle {
    pub bytes: Vec<u8>,
    pub check_start: bool,
    pub check_end: bool,
}

impl ScanNeedle {
    /// `None` unless `needle` (already lower-case) is non-empty ASCII.
    pub(crate) fn new(needle: &str, kind: Match) -> Option<Self> {
        if needle.is_empty() || !needle.is_ascii() {
            return None;
        }
        let b = needle.as_bytes();
        Some(ScanNeedle {
            bytes: b.to_vec(),
            check_start: matches!(kind, Match::Has | Match::Prefix)
                && b.first().is_some_and(u8::is_ascii_alphanumeric),
            check_end: matches!(kind, Match::Has | Match::Suffix)
                && b.last().is_some_and(u8::is_ascii_alphanumeric),
        })
    }
}

/// The result of a [`scan`]: per row, a bit per needle found (on its boundaries); and, when
/// the values are not all ASCII, which rows are not (their answer must be computed with
/// Unicode lower-casing instead, since e.g. the Kelvin sign lower-cases to `k`).
pub(crate) struct Scan {
    pub masks: Vec<u64>,
    pub non_ascii: Option<Vec<bool>>,
}

/// Case-insensitive search of up to 64 ASCII needles in every value of `arr` at once: the
/// value bytes are ASCII-lower-cased in one pass and each needle is searched through the
/// whole buffer with `memchr::memmem` (SIMD), hits mapped back to rows by the offsets. This
/// avoids a per-row call and copy, which dominate on short values.
pub(crate) fn scan(arr: &StringArray, needles: &[ScanNeedle]) -> Scan {
    let n = arr.len();
    let offsets = arr.value_offsets();
    let off = |i: usize| {
        offsets
            .get(i)
            .map_or(0, |&o| usize::try_from(o).unwrap_or(0))
    };
    let base = off(0);
    let end = off(n);
    let bytes = arr.value_data().get(base..end).unwrap_or_default();
    let non_ascii = if bytes.is_ascii() {
        None
    } else {
        Some((0..n).map(|i| !arr.value(i).is_ascii()).collect())
    };
    let mut low = bytes.to_vec();
    low.make_ascii_lowercase();
    let mut masks = vec![0u64; n];
    for (k, nd) in needles.iter().enumerate().take(64) {
        let bit = 1u64 << k;
        let finder = memchr::memmem::Finder::new(&nd.bytes);
        let len = nd.bytes.len();
        let mut row = 0usize;
        let mut at = 0usize;
        while let Some(p) = low.get(at..).and_then(|h| finder.find(h)) {
            let ms = at + p;
            let me = ms + len;
            while row < n && off(row + 1) - base <= ms {
                row += 1;
            }
            if row >= n {
                break;
            }
            let rs = off(row) - base;
            let re = off(row + 1) - base;
            let ok = me <= re
                && (!nd.check_start
                    || ms == rs
                    || low.get(ms - 1).is_some_and(|c| !c.is_ascii_alphanumeric()))
                && (!nd.check_end
                    || me == re
                    || low.get(me).is_some_and(|c| !c.is_ascii_alphanumeric()));
            if ok {
                if let Some(m) = masks.get_mut(row) {
                    *m |= bit;
                }
                at = re.max(ms + 1);
            } else {
                at = ms + 1;
            }
        }
    }
    Scan { masks, non_ascii }
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
        return Ok(build_bool_nn(a.rows, |i| {
            apply(hay.get(i), needle.get(i), kind) != NEG
        }));
    }
    let const_needle = a.is_const(1);
    let fixed = if const_needle {
        Some(lower(needle.get(0)).into_owned())
    } else {
        None
    };
    let mut hbuf = String::new();
    if let (Some(n), Some(col)) = (fixed.as_deref(), hay.column())
        && matches!(
            kind,
            Match::Has | Match::Prefix | Match::Suffix | Match::Contains
        )
        && let Some(sn) = ScanNeedle::new(n, kind)
    {
        let sc = scan(col, std::slice::from_ref(&sn));
        return Ok(build_bool_nn(a.rows, |i| {
            let r = if col.is_null(i)
                || sc
                    .non_ascii
                    .as_ref()
                    .is_some_and(|v| v.get(i) == Some(&true))
            {
                apply(lower_into(hay.get(i), &mut hbuf), n, kind)
            } else {
                sc.masks.get(i).is_some_and(|m| *m != 0)
            };
            r != NEG
        }));
    }
    if let Some((n, m)) = fixed
        .as_deref()
        .and_then(|n| Some((n, AsciiCi::new(n, kind)?)))
    {
        return Ok(build_bool_nn(a.rows, |i| {
            let h = hay.get(i);
            let r = match m.test(h) {
                Some(r) => r,
                None => apply(lower_into(h, &mut hbuf), n, kind),
            };
            r != NEG
        }));
    }
    let mut nbuf = String::new();
    Ok(build_bool_nn(a.rows, |i| {
        let n: &str = match &fixed {
            Some(f) => f.as_str(),
            None => {
                let l = lower(needle.get(i)).into_owned();
                nbuf = l;
                nbuf.as_str()
            }
        };
        let h = lower_into(hay.get(i), &mut hbuf);
        apply(h, n, kind) != NEG
    }))
}

/// `x in~ (list)`: arg 1 is a constant JSON array of lower-case strings. Short ASCII lists
/// compare bytes ignoring ASCII case; otherwise the value is lower-cased into a reused
/// buffer and looked up.
pub(crate) fn in_ci_kernel(a: &Args) -> Result<ArrayRef> {
    let hay = a.str(0)?;
    let list = a.str(1)?;
    let items: Vec<String> = match crate::json::parse(list.get(0)) {
        Some(serde_json::Value::Array(v)) => v
            .iter()
            .filter_map(|x| x.as_str().map(|s| lower(s).into_owned()))
            .collect(),
        _ => Vec::new(),
    };
    let set: std::collections::HashSet<&str> = items.iter().map(String::as_str).collect();
    let linear = items.len() <= 8 && items.iter().all(|s| s.is_ascii());
    let mut buf = String::new();
    Ok(build_bool_nn(a.rows, |i| {
        let h = hay.get(i);
        if linear && h.is_ascii() {
            let hb = h.as_bytes();
            return items
                .iter()
                .any(|n| n.len() == hb.len() && n.as_bytes().eq_ignore_ascii_case(hb));
        }
        set.contains(lower_into(h, &mut buf))
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

    const HAYS: &[&str] = &[
        "",
        "ax-x-x",
        "powershell.exe -EncodedCommand SQBFAFgA",
        "C:\\ProgramData\\x.ps1",
        "North America",
        "abcabc abc",
        "alpha_beta",
        "Ka\u{212A}e",
        "NAÏVE x-x",
        "helloworld",
        "HELLO-world",
        "x",
    ];
    const NEEDLES: &[&str] = &[
        "x-x",
        "-encodedcommand",
        "america",
        "abc",
        "alpha",
        "ke",
        "hello",
        "x",
        ".ps1",
        "c:\\",
    ];
    const KINDS: &[Match] = &[
        Match::Has,
        Match::Prefix,
        Match::Suffix,
        Match::Contains,
        Match::StartsWith,
        Match::EndsWith,
        Match::Equals,
    ];

    fn reference(h: &str, n: &str, kind: Match) -> bool {
        apply(&h.to_lowercase(), &n.to_lowercase(), kind)
    }

    /// The fast case-insensitive paths (per value and whole batch) agree with lower-casing
    /// both sides, including a value where Unicode lower-casing yields ASCII (Kelvin sign).
    #[test]
    fn fast_paths_match_the_reference() {
        // a sliced array, so offsets do not start at 0
        let all: Vec<&str> = std::iter::once("zzz").chain(HAYS.iter().copied()).collect();
        let full = StringArray::from(all);
        let arr = full.slice(1, HAYS.len());
        for &n in NEEDLES {
            for &kind in KINDS {
                let m = AsciiCi::new(n, kind);
                let sn = ScanNeedle::new(n, kind);
                let sc = sn.as_ref().map(|sn| scan(&arr, std::slice::from_ref(sn)));
                for (i, &h) in HAYS.iter().enumerate() {
                    let want = reference(h, n, kind);
                    if let Some(got) = m.as_ref().and_then(|m| m.test(h)) {
                        assert_eq!(got, want, "ascii-ci {kind:?} {h:?} {n:?}");
                    }
                    if let Some(sc) = &sc
                        && matches!(
                            kind,
                            Match::Has | Match::Prefix | Match::Suffix | Match::Contains
                        )
                        && !sc.non_ascii.as_ref().is_some_and(|v| v[i])
                    {
                        assert_eq!(sc.masks[i] != 0, want, "scan {kind:?} {h:?} {n:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn scan_reports_each_needle() {
        let arr = StringArray::from(vec!["cmd /c whoami", "net user", "WHOAMI /all net"]);
        let needles: Vec<ScanNeedle> = ["whoami", "net"]
            .iter()
            .filter_map(|n| ScanNeedle::new(n, Match::Has))
            .collect();
        let sc = scan(&arr, &needles);
        assert_eq!(sc.masks, vec![0b01, 0b10, 0b11]);
        assert!(sc.non_ascii.is_none());
    }

    #[test]
    fn like_patterns() {
        let re = Regex::new(&like_to_regex("a%c_", false)).ok();
        assert!(re.as_ref().is_some_and(|r| r.is_match("ABxCd")));
        assert!(re.as_ref().is_some_and(|r| !r.is_match("ABxC")));
    }
}
