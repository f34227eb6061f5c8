//! Depth and size limits: deep or long input must fail fast with `KQL1020`, never overflow
//! the stack (tests run on threads with a 2 MiB stack, like tokio workers).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use kql_syntax::{MAX_NESTING, codes, parse};

/// Parses on a thread with a small stack, like an async runtime worker thread.
fn parse_small_stack(text: String) -> kql_syntax::Parsed {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let parsed = parse(&text);
            // Cloning, comparing, printing and dropping recurse over the tree too.
            let copy = parsed.clone();
            assert_eq!(copy, parsed);
            assert!(!format!("{copy:?}").is_empty());
            drop(copy);
            parsed
        })
        .unwrap()
        .join()
        .unwrap()
}

fn codes_of(parsed: &kql_syntax::Parsed) -> Vec<&'static str> {
    parsed.diagnostics.iter().map(|d| d.code).collect()
}

fn nested(open: &str, inner: &str, close: &str, n: usize) -> String {
    format!("print {}{}{}", open.repeat(n), inner, close.repeat(n))
}

#[test]
fn nesting_below_the_limit_parses() {
    let depth = MAX_NESTING / 2 - 4;
    for (open, close) in [("(", ")"), ("f(", ")"), ("dynamic([", "])"), ("x[", "]")] {
        let text = nested(open, "1", close, depth);
        let parsed = parse_small_stack(text);
        assert!(
            parsed.diagnostics.is_empty(),
            "{open}: {:?}",
            parsed.diagnostics
        );
    }
    let unary = format!("print {}1", "- ".repeat(MAX_NESTING - 10));
    assert!(parse_small_stack(unary).diagnostics.is_empty());
    let subqueries = format!("T{}", " | where x in (T".repeat(60) + &")".repeat(60));
    assert!(parse_small_stack(subqueries).diagnostics.is_empty());
}

#[test]
fn deep_nesting_is_an_error() {
    for (open, close) in [
        ("(", ")"),
        ("f(", ")"),
        ("dynamic([", "])"),
        ("x[", "]"),
        ("- ", ""),
    ] {
        let text = nested(open, "1", close, MAX_NESTING + 10);
        let parsed = parse_small_stack(text);
        assert_eq!(codes_of(&parsed), vec![codes::TOO_DEEP], "{open}");
    }
}

#[test]
fn very_deep_nesting_fails_fast() {
    for open in ["(", "[", "{", "f(", "- ", "dynamic([", "let f = () { "] {
        let text = format!("print {}", open.repeat(100_000));
        let started = Instant::now();
        let parsed = parse_small_stack(text);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{open} took {:?}",
            started.elapsed()
        );
        assert!(
            parsed
                .diagnostics
                .iter()
                .any(|d| d.code == codes::TOO_DEEP || d.code == codes::EXPECTED),
            "{open}: {:?}",
            codes_of(&parsed)
        );
        assert!(
            parsed.diagnostics.len() <= 2,
            "{open}: {:?}",
            codes_of(&parsed)
        );
    }
}

#[test]
fn long_chains_are_bounded() {
    // Chains build trees without recursion; their height is capped too.
    for (prefix, item, sep) in [
        ("print ", "1", " + "),
        ("print ", "a", " or "),
        ("print x", "", ".a"),
        ("print x", "", "[0]"),
        ("T", "", " | take 1"),
        ("print ", "\"s\"", " "),
    ] {
        let text = format!("{prefix}{}", format!("{item}{sep}").repeat(50_000)) + item;
        let started = Instant::now();
        let parsed = parse_small_stack(text);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{sep} took {:?}",
            started.elapsed()
        );
        if sep == " " {
            // Adjacent strings concatenate into one literal: no depth at all.
            assert!(parsed.diagnostics.is_empty());
        } else {
            assert_eq!(codes_of(&parsed), vec![codes::TOO_DEEP], "{sep}");
        }
    }
    let ok = format!("print {}1", "1 + ".repeat(kql_syntax::MAX_HEIGHT - 5));
    assert!(parse_small_stack(ok).diagnostics.is_empty());
    let ok = format!("T{}", " | take 1".repeat(500));
    assert!(parse_small_stack(ok).diagnostics.is_empty());
}

#[test]
fn many_errors_are_capped() {
    let text = "T | wher x ".repeat(10_000);
    let parsed = parse_small_stack(text);
    assert!(parsed.diagnostics.len() <= 100);
    let text = "#$%^&".repeat(10_000);
    let parsed = parse_small_stack(text);
    assert!(parsed.diagnostics.len() <= 200);
}

#[test]
fn pathological_inputs_are_fast() {
    let inputs = [
        format!("print x{}", " #".repeat(100_000)),
        "#".repeat(200_000),
        format!("T | {}a", "a-".repeat(100_000)),
        format!("T | project-away {}", "a*".repeat(100_000)),
        format!("T | summarize {}= 1", "hint.".repeat(100_000)),
        format!("print guid({})", "1".repeat(200_000)),
        format!("print \"{}", "x".repeat(500_000)),
        format!("print {}", "(a, ".repeat(50_000)),
        format!("print x in ({}1)", "1, ".repeat(100_000)),
        format!("datatable(a:long)[{}1]", "1, ".repeat(100_000)),
        "T | wher ".repeat(50_000),
        ") ] } ".repeat(50_000),
    ];
    for text in inputs {
        let started = Instant::now();
        let parsed = parse_small_stack(text.clone());
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_secs(5),
            "{}… took {elapsed:?}",
            &text[..40]
        );
        for d in &parsed.diagnostics {
            assert!(d.message.len() < 300, "{}", d.message);
        }
    }
}
