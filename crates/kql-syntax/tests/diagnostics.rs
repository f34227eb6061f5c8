//! Rendered diagnostics for bad input, and recovery: the parser reports several errors and
//! keeps what it could parse.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use kql_syntax::{ErrorClass, codes, parse, sexpr};

fn render(queries: &[&str]) -> String {
    let mut out = String::new();
    for q in queries {
        let parsed = parse(q);
        out.push_str(&format!("=== {q}\n"));
        for d in &parsed.diagnostics {
            out.push_str(&d.render(q));
        }
        let tree = sexpr::script(&parsed.script);
        if !tree.is_empty() {
            out.push_str(&format!("--- kept:\n{tree}\n"));
        }
    }
    out
}

#[test]
fn syntax_errors_snapshot() {
    insta::assert_snapshot!(render(&[
        "",
        "// nothing but a comment",
        "T | wher x > 1 | take 5",
        "T | summarise count() by x",
        "T | frobnicate | take 1",
        "T | where (a + ) | take 1; T2 | project",
        "let x = ; T | take",
        "T | where x > 1 )",
        "T | where x > 1 T2",
        "T | where x in 1, 2",
        "T | project-away",
        "T | join (T2) a",
        "T | sort a",
        "T | top 5 a",
        "T | mv-apply x on summarize count()",
        "datatable(a:long)[1, 2",
        "T | where a == guid(bad) | where b == timespan(1x) | where c == int(3000000000)",
        "T | extend x = dynamic([1, foo])",
        "T | where x == \"unterminated",
        "T | where p matches regex \"\\d+\"",
        "print 1.5x",
        "let f = (a:long) { }; f(1)",
        "let f = (a:long) { T; U }; f(1)",
        "T | parse x with",
        "T | | take 1",
        "| take 1",
        "T | where a == 1 | where (b | c) | take 2",
        "print datetime(2020-01-01",
    ]));
}

#[test]
fn unsupported_snapshot() {
    insta::assert_snapshot!(render(&[
        "T | evaluate ipv4_lookup(R, ip, net, return_unmatched = true)",
        "declare pattern p = (x:string)[y:string] { ... }; T",
        ".create table T (a:string)",
    ]));
}

#[test]
fn recovery_reports_each_bad_operator() {
    let parsed = parse("T | wher x | take 1 | projekt y | count");
    let found: Vec<_> = parsed.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        found,
        vec![codes::UNKNOWN_OPERATOR, codes::UNKNOWN_OPERATOR]
    );
    assert_eq!(
        sexpr::script(&parsed.script),
        "(name T)\n| (take 1)\n| (count)"
    );
}

#[test]
fn recovery_inside_subqueries() {
    let parsed = parse("T | join (T2 | wher x | take 1) on k | count");
    assert_eq!(parsed.diagnostics.len(), 1);
    assert_eq!(
        sexpr::script(&parsed.script),
        "(name T)\n| (join (paren (pipe (name T2) | (take 1))) (on (name k)))\n| (count)"
    );
}

#[test]
fn recovery_across_statements() {
    let parsed = parse("let a = (1; let b = 2; print b, )");
    assert_eq!(parsed.diagnostics.len(), 2, "{:?}", parsed.diagnostics);
    assert_eq!(sexpr::script(&parsed.script), "(let b 2)");
}

#[test]
fn diagnostics_have_codes_and_spans_in_range() {
    for q in [
        "T | wher",
        "print \"x",
        "T | where (((",
        "print @",
        "let = 1",
        "T | join",
    ] {
        let parsed = parse(q);
        assert!(!parsed.diagnostics.is_empty(), "{q}");
        for d in &parsed.diagnostics {
            assert!(d.code.starts_with("KQL1"), "{q}: {d:?}");
            assert_eq!(d.class(), ErrorClass::User);
            assert!(
                d.span.start <= d.span.end && d.span.end <= q.len(),
                "{q}: {d:?}"
            );
        }
    }
}
