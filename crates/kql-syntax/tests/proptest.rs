//! Property tests: no input makes the lexer or parser panic, and every diagnostic is
//! well-formed (a KQL code, a span inside the text that `render` can show).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use kql_syntax::{lex, parse};
use proptest::prelude::*;

fn check(text: &str) {
    let (tokens, lex_diagnostics) = lex(text);
    assert!(matches!(
        tokens.last().map(|t| &t.kind),
        Some(kql_syntax::TokenKind::Eof)
    ));
    for t in &tokens {
        assert!(t.span.start <= t.span.end && t.span.end <= text.len());
        assert!(text.is_char_boundary(t.span.start) && text.is_char_boundary(t.span.end));
    }
    let parsed = parse(text);
    for d in lex_diagnostics.iter().chain(&parsed.diagnostics) {
        assert!(
            d.code.starts_with("KQL1") || d.code.starts_with("KQL4"),
            "{d:?}"
        );
        assert!(
            d.span.start <= d.span.end && d.span.end <= text.len(),
            "{d:?}"
        );
        let _ = d.render(text);
    }
    // The tree can be printed, cloned and dropped (`real(nan)` makes equality partial).
    let _ = kql_syntax::sexpr::script(&parsed.script);
    drop(parsed.clone());
}

/// Words and symbols that KQL queries are made of.
const VOCABULARY: &[&str] = &[
    "T",
    "x",
    "y",
    "$left",
    "$right",
    "['a b']",
    "|",
    ";",
    ",",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ".",
    "..",
    ":",
    "=",
    "==",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "=~",
    "!~",
    "!",
    "~",
    "+",
    "-",
    "*",
    "/",
    "%",
    "=>",
    "let",
    "set",
    "declare",
    "query_parameters",
    "view",
    "where",
    "project",
    "project-away",
    "project-rename",
    "project-reorder",
    "extend",
    "summarize",
    "by",
    "sort",
    "order",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "top",
    "take",
    "distinct",
    "count",
    "join",
    "kind",
    "=",
    "inner",
    "on",
    "lookup",
    "union",
    "mv-expand",
    "mv-apply",
    "to",
    "typeof",
    "limit",
    "parse",
    "parse-where",
    "parse-kv",
    "with",
    "as",
    "make-series",
    "default",
    "from",
    "step",
    "in",
    "range",
    "serialize",
    "invoke",
    "evaluate",
    "top-nested",
    "of",
    "others",
    "sample",
    "sample-distinct",
    "getschema",
    "render",
    "search",
    "find",
    "partition",
    "facet",
    "fork",
    "scan",
    "datatable",
    "print",
    "externaldata",
    "hint.strategy",
    "and",
    "or",
    "not",
    "has",
    "!has",
    "contains",
    "!contains",
    "startswith",
    "has_any",
    "has_all",
    "between",
    "!between",
    "in~",
    "!in",
    "!in~",
    "matches",
    "regex",
    "like",
    "1",
    "0x1F",
    "1.5",
    "1e3",
    "10.",
    "1d",
    "1.5h",
    "100ms",
    "\"s\"",
    "'s'",
    "@\"v\"",
    "h\"x\"",
    "```m```",
    "true",
    "false",
    "null",
    "int(5)",
    "long(null)",
    "real(nan)",
    "decimal(1.5)",
    "bool(true)",
    "datetime(2020-01-01)",
    "timespan(1d)",
    "time(1:02:03)",
    "guid(74be27de-1e4e-49d9-b579-fe0b331d3642)",
    "dynamic(",
    "dynamic([1,{\"a\":2}])",
    "f(",
    "count()",
    "arg_max(x, *)",
    "//c\n",
    "\n",
    "\"unterminated",
    "#dir\n",
    "@",
    "^",
];

const SEEDS: &[&str] = &[
    "T | where a > 1 and b has \"x\" | summarize c = count() by bin(t, 1h) | top 5 by c desc",
    "let f = (a:long, T:(*)) { T | where x == a }; f(1, datatable(x:long)[1, 2])",
    "T | join kind=leftouter (U | project k, v) on $left.k == $right.k | mv-expand d to typeof(string)",
    "print x = dynamic([1, \"a\", {\"k\": [true, null]}]), y = datetime(2020-01-01 10:00), z = 1.5h",
    "T | parse msg with * \"a=\" a:long \",\" b | make-series avg(a) on t from ago(1d) to now() step 1h",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_text(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn ascii_text(text in "[ -~\n\t]{0,200}") {
        check(&text);
    }

    #[test]
    fn token_soup(words in prop::collection::vec(prop::sample::select(VOCABULARY), 0..60), glue in prop::bool::ANY) {
        let text = words.join(if glue { " " } else { "" });
        check(&text);
    }

    #[test]
    fn mutated_queries(seed in prop::sample::select(SEEDS), edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(VOCABULARY), 0..3u8), 1..6)) {
        let mut text = seed.to_string();
        for (index, word, op) in edits {
            let mut at = index.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match op {
                0 => text.insert_str(at, word),
                1 => {
                    let mut end = (at + word.len()).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.replace_range(at..end, "");
                }
                _ => {
                    let mut end = (at + 1).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(at..end, word);
                }
            }
        }
        check(&text);
    }
}
