//! Lexer tests: token snapshots and literal decoding.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use kql_syntax::lexer::{RawKind, TokenKind, lex};

/// The tokens of `text` (without `Eof`), failing on any diagnostic.
fn kinds(text: &str) -> Vec<TokenKind> {
    let (tokens, diagnostics) = lex(text);
    assert!(diagnostics.is_empty(), "{text}: {diagnostics:?}");
    tokens
        .into_iter()
        .map(|t| t.kind)
        .filter(|k| *k != TokenKind::Eof)
        .collect()
}

fn one(text: &str) -> TokenKind {
    let tokens = kinds(text);
    assert_eq!(tokens.len(), 1, "{text}: {tokens:?}");
    tokens.into_iter().next().unwrap()
}

fn string(text: &str) -> String {
    match one(text) {
        TokenKind::String(s) => s,
        other => panic!("{text}: {other:?}"),
    }
}

fn ticks(text: &str) -> i64 {
    match one(text) {
        TokenKind::TimeSpan(t) => t,
        other => panic!("{text}: {other:?}"),
    }
}

/// One line per token: kind, span and source text.
fn render_tokens(text: &str) -> String {
    let (tokens, diagnostics) = lex(text);
    let mut out = String::new();
    for t in tokens {
        let source = text.get(t.span.start..t.span.end).unwrap_or("");
        out.push_str(&format!(
            "{:>3}..{:<3} {:<40} {:?}\n",
            t.span.start,
            t.span.end,
            format!("{:?}", t.kind),
            source
        ));
    }
    for d in diagnostics {
        out.push_str(&d.render(text));
    }
    out
}

#[test]
fn token_snapshot() {
    let text = r#"let start = datetime(2020-01-01 10:00);  // comment
DeviceProcessEvents
| where Timestamp between (start .. 1.5h) and FileName !in~ ("a.exe", @'b''c')
| project-away *Id, Foo*
| extend x = $left.a[0] =~ h"secret" , y = 0x1F * 10. / 1e3 % 3
| summarize arg_max(t, *) by bin(Timestamp, 1d), ['col name']"#;
    insta::assert_snapshot!(render_tokens(text));
}

#[test]
fn punctuation() {
    use TokenKind::*;
    assert_eq!(
        kinds("| ; , ( ) [ ] { } . .. : = == != <> < <= > >= =~ !~ => ! ~ + - * / % ?"),
        vec![
            Pipe, Semi, Comma, LParen, RParen, LBracket, RBracket, LBrace, RBrace, Dot, DotDot,
            Colon, Assign, EqEq, BangEq, LtGt, Lt, LtEq, Gt, GtEq, EqTilde, BangTilde, FatArrow,
            Bang, Tilde, Plus, Minus, Star, Slash, Percent, Question
        ]
    );
}

#[test]
fn identifiers() {
    for name in [
        "x",
        "_x",
        "$left",
        "Device_Events2",
        "naïve",
        "3rdPartyApp",
        "5_Min_Count",
        "5Minutebin",
    ] {
        assert_eq!(one(name), TokenKind::Ident(name.into()), "{name}");
    }
    // Adjacent words and hyphens stay separate tokens; the parser joins them.
    assert_eq!(kinds("project-away").len(), 3);
}

#[test]
fn numbers() {
    assert_eq!(
        one("42"),
        TokenKind::Int {
            value: 42,
            hex: false
        }
    );
    assert_eq!(
        one("0x1F"),
        TokenKind::Int {
            value: 31,
            hex: true
        }
    );
    assert_eq!(
        one("0xFFFFFFFFFFFFFFFF"),
        TokenKind::Int {
            value: u64::MAX,
            hex: true
        }
    );
    assert_eq!(
        one("9223372036854775808"),
        TokenKind::Int {
            value: 1 << 63,
            hex: false
        }
    );
    assert_eq!(one("1.5"), TokenKind::Real(1.5));
    assert_eq!(one("10."), TokenKind::Real(10.0));
    assert_eq!(one("1e3"), TokenKind::Real(1000.0));
    assert_eq!(one("1.5E-3"), TokenKind::Real(0.0015));
    assert_eq!(
        kinds("1..10"),
        vec![
            TokenKind::Int {
                value: 1,
                hex: false
            },
            TokenKind::DotDot,
            TokenKind::Int {
                value: 10,
                hex: false
            }
        ]
    );
}

#[test]
fn timespans() {
    const SECOND: i64 = 10_000_000;
    const MINUTE: i64 = 60 * SECOND;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    let cases = [
        ("1d", DAY),
        ("5days", 5 * DAY),
        ("1day", DAY),
        ("2h", 2 * HOUR),
        ("1.5h", 90 * MINUTE),
        ("3hr", 3 * HOUR),
        ("3hrs", 3 * HOUR),
        ("4hours", 4 * HOUR),
        ("30m", 30 * MINUTE),
        ("2min", 2 * MINUTE),
        ("2minutes", 2 * MINUTE),
        ("10s", 10 * SECOND),
        ("3sec", 3 * SECOND),
        ("1second", SECOND),
        ("0.5s", SECOND / 2),
        ("100ms", SECOND / 10),
        ("2milliseconds", 20_000),
        ("1millis", 10_000),
        ("5microsecond", 50),
        ("5microseconds", 50),
        ("1tick", 1),
        ("7ticks", 7),
    ];
    for (text, expected) in cases {
        assert_eq!(ticks(text), expected, "{text}");
    }
}

#[test]
fn strings() {
    assert_eq!(string(r#""plain""#), "plain");
    assert_eq!(string(r#"'single'"#), "single");
    assert_eq!(
        string(r#""tab\tnl\ncr\rbs\\dq\"sq\'""#),
        "tab\tnl\ncr\rbs\\dq\"sq'"
    );
    assert_eq!(string(r#"'it\'s "quoted"'"#), "it's \"quoted\"");
    assert_eq!(string(r#""\u00e9\u00A0""#), "é\u{a0}");
    assert_eq!(string(r#""\U0001F600""#), "😀");
    assert_eq!(string(r#""path\3""#), "path\\3");
    assert_eq!(string(r#"@"C:\dir\""quoted""""#), r#"C:\dir\"quoted""#);
    assert_eq!(string(r#"@'a''b\n'"#), r"a'b\n");
    assert_eq!(string(r#"h"secret""#), "secret");
    assert_eq!(string(r#"H'secret'"#), "secret");
    assert_eq!(string(r#"h@"C:\x""#), r"C:\x");
    assert_eq!(
        string("```line 1\nline \"2\"\\n```"),
        "line 1\nline \"2\"\\n"
    );
    assert_eq!(string(r#""""#), "");
    // Adjacent literals stay separate tokens; the parser concatenates them.
    assert_eq!(kinds(r#""a" 'b'"#).len(), 2);
}

#[test]
fn raw_literals() {
    let raw = |text: &str| match one(text) {
        TokenKind::Raw { kind, text } => (kind, text),
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(
        raw("datetime(2020-01-01)"),
        (RawKind::DateTime, "2020-01-01".into())
    );
    assert_eq!(
        raw("datetime(2020-01-01 10:00:00.1234567)"),
        (RawKind::DateTime, "2020-01-01 10:00:00.1234567".into())
    );
    assert_eq!(
        raw(r#"datetime("2020-01-01T10:00:00Z")"#),
        (RawKind::DateTime, r#""2020-01-01T10:00:00Z""#.into())
    );
    assert_eq!(raw("datetime( null )"), (RawKind::DateTime, "null".into()));
    assert_eq!(
        raw("datetime (2020-01-01)"),
        (RawKind::DateTime, "2020-01-01".into())
    );
    assert_eq!(
        raw("time(1.02:03:04.5)"),
        (RawKind::TimeSpan, "1.02:03:04.5".into())
    );
    assert_eq!(
        raw("timespan(15 seconds)"),
        (RawKind::TimeSpan, "15 seconds".into())
    );
    assert_eq!(
        raw("guid(74be27de-1e4e-49d9-b579-fe0b331d3642)"),
        (RawKind::Guid, "74be27de-1e4e-49d9-b579-fe0b331d3642".into())
    );
    // Not a literal: a type name, or a call that does not close on the line.
    assert_eq!(one("datetime"), TokenKind::Ident("datetime".into()));
    assert_eq!(
        kinds("todatetime(x)")[0],
        TokenKind::Ident("todatetime".into())
    );
    assert_eq!(
        kinds("datetime(\n2020)")[0],
        TokenKind::Ident("datetime".into())
    );
}

#[test]
fn trivia() {
    assert_eq!(kinds("// only a comment"), vec![]);
    assert_eq!(
        kinds("#connect cluster('x')\nT"),
        vec![TokenKind::Ident("T".into())]
    );
    assert_eq!(
        kinds("\u{feff}\u{200b}T // end"),
        vec![TokenKind::Ident("T".into())]
    );
    assert_eq!(
        kinds("a/b"),
        vec![
            TokenKind::Ident("a".into()),
            TokenKind::Slash,
            TokenKind::Ident("b".into())
        ]
    );
}

#[test]
fn spans() {
    let (tokens, _) = lex("ab  \"é\" 1.5h");
    let spans: Vec<_> = tokens.iter().map(|t| (t.span.start, t.span.end)).collect();
    assert_eq!(spans, vec![(0, 2), (4, 8), (9, 13), (13, 13)]);
}

#[test]
fn errors_snapshot() {
    let mut out = String::new();
    for text in [
        "print \"unterminated",
        "print 'no end\nT",
        "print @\"verbatim",
        "print ```never closed",
        "print \"bad \\d escape\"",
        "print \"\\u12\"",
        "print \"\\uD800\"",
        "print 1.5x",
        "print 0x1FFFFFFFFFFFFFFFF",
        "print 99999999999999999999",
        "print 1e999",
        "print 99999999999d",
        "print a ^ b & c",
    ] {
        let (_, diagnostics) = lex(text);
        out.push_str(&format!("=== {text:?}\n"));
        for d in diagnostics {
            out.push_str(&d.render(text));
        }
    }
    insta::assert_snapshot!(out);
}
