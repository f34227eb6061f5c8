use kql_syntax::ast::{BinaryOp, HasAnyKind, StringOp, StringOpKind};

use super::*;
use crate::{
    binary_type, lower_between, lower_binary, lower_has_any, lower_in, lower_index, lower_member,
    lower_negate,
};

fn bin(op: BinaryOp, a: TypedExpr, b: TypedExpr) -> (KqlType, String) {
    let ret = binary_type(op, a.ty, b.ty).unwrap();
    let e = lower_binary(op, a, b, ret).unwrap();
    (ret, eval(e, ret))
}

fn binv(op: BinaryOp, a: TypedExpr, b: TypedExpr) -> String {
    bin(op, a, b).1
}

fn sop(kind: StringOpKind, negated: bool, case_sensitive: bool) -> BinaryOp {
    BinaryOp::Str(StringOp {
        kind,
        negated,
        case_sensitive,
    })
}

#[test]
fn arithmetic_types_and_values() {
    assert_eq!(
        bin(BinaryOp::Add, i32l(2147483647), i32l(1)),
        (K::Long, "2147483648".into())
    );
    assert_eq!(
        bin(BinaryOp::Add, i64l(i64::MAX), i64l(1)),
        (K::Long, i64::MIN.to_string())
    );
    assert_eq!(bin(BinaryOp::Div, i64l(7), i64l(2)), (K::Long, "3".into()));
    assert_eq!(
        bin(BinaryOp::Div, i64l(-7), i64l(2)),
        (K::Long, "-3".into())
    );
    assert_eq!(
        bin(BinaryOp::Div, i64l(1), i64l(0)),
        (K::Long, "null".into())
    );
    assert_eq!(
        bin(BinaryOp::Mod, i64l(1), i64l(0)),
        (K::Long, "null".into())
    );
    assert_eq!(
        bin(BinaryOp::Mod, i64l(-7), i64l(3)),
        (K::Long, "-1".into())
    );
    assert_eq!(
        bin(BinaryOp::Div, f64l(1.0), f64l(0.0)),
        (K::Real, "inf".into())
    );
    assert_eq!(
        bin(BinaryOp::Mul, i64l(3), f64l(1.5)),
        (K::Real, "4.5".into())
    );
    assert_eq!(
        bin(BinaryOp::Add, i32l(1), f64l(0.5)),
        (K::Real, "1.5".into())
    );
    assert_eq!(
        binary_type(BinaryOp::Add, K::Decimal, K::Int).unwrap(),
        K::Decimal
    );
    assert!(binary_type(BinaryOp::Add, K::String, K::String).is_err());
    assert!(binary_type(BinaryOp::Add, K::Bool, K::Long).is_err());
    // dynamic operands
    assert_eq!(
        bin(BinaryOp::Add, dynl("5"), i64l(2)),
        (K::Long, "7".into())
    );
    // Kusto rejects arithmetic between two dynamic values.
    assert!(binary_type(BinaryOp::Add, K::Dynamic, K::Dynamic).is_err());
    assert!(binary_type(BinaryOp::Mul, K::Dynamic, K::Dynamic).is_err());
}

#[test]
fn time_arithmetic() {
    assert_eq!(
        bin(BinaryOp::Sub, dt("2020-01-02"), dt("2020-01-01")),
        (K::TimeSpan, "1.00:00:00".into())
    );
    assert_eq!(
        bin(BinaryOp::Add, dt("2020-06-15 13:45:00"), ts("01:30:00")),
        (K::DateTime, "2020-06-15T15:15:00.0000000Z".into())
    );
    assert_eq!(
        bin(BinaryOp::Add, ts("01:30:00"), dt("2020-06-15 13:45:00")),
        (K::DateTime, "2020-06-15T15:15:00.0000000Z".into())
    );
    assert_eq!(
        bin(BinaryOp::Sub, dt("2020-06-15"), ts("1d")),
        (K::DateTime, "2020-06-14T00:00:00.0000000Z".into())
    );
    assert_eq!(
        bin(BinaryOp::Add, ts("1d"), ts("2h")),
        (K::TimeSpan, "1.02:00:00".into())
    );
    assert_eq!(
        bin(BinaryOp::Mul, ts("1h"), i64l(5)),
        (K::TimeSpan, "05:00:00".into())
    );
    assert_eq!(
        bin(BinaryOp::Mul, i64l(-2), ts("1h")),
        (K::TimeSpan, "-02:00:00".into())
    );
    assert_eq!(
        bin(BinaryOp::Mul, ts("1h"), f64l(1.5)),
        (K::TimeSpan, "01:30:00".into())
    );
    assert_eq!(
        bin(BinaryOp::Div, ts("1d"), ts("1h")),
        (K::Real, "24.0".into())
    );
    assert_eq!(
        bin(BinaryOp::Div, ts("1m"), f64l(2.0)),
        (K::TimeSpan, "00:00:30".into())
    );
    assert_eq!(
        bin(BinaryOp::Div, ts("1m"), i64l(0)),
        (K::TimeSpan, "null".into())
    );
    assert_eq!(
        bin(BinaryOp::Mod, ts("1d"), ts("5h")),
        (K::TimeSpan, "04:00:00".into())
    );
    assert_eq!(
        bin(BinaryOp::Mod, dt("2020-01-01 13:45:00"), ts("1h")),
        (K::TimeSpan, "00:45:00".into())
    );
}

#[test]
fn negation() {
    let e = lower_negate(i32l(-2147483648)).unwrap();
    assert_eq!(eval(e, crate::negate_type(K::Int).unwrap()), "2147483648");
    let e = lower_negate(ts("1.02:00:00")).unwrap();
    assert_eq!(eval(e, K::TimeSpan), "-1.02:00:00");
    let e = lower_negate(dynl("3")).unwrap();
    assert_eq!(eval(e, K::Dynamic), "-3");
    assert_eq!(eval(lower_negate(f64l(1.5)).unwrap(), K::Real), "-1.5");
}

#[test]
fn comparisons_and_nulls() {
    assert_eq!(binv(BinaryOp::Eq, i64l(1), f64l(1.0)), "true");
    assert_eq!(binv(BinaryOp::Lt, i32l(1), i64l(2)), "true");
    assert_eq!(binv(BinaryOp::Eq, s("aBc"), s("aBc")), "true");
    assert_eq!(binv(BinaryOp::Eq, s("abc"), s("ABC")), "false");
    assert_eq!(binv(BinaryOp::EqTilde, s("abc"), s("ABC")), "true");
    assert_eq!(binv(BinaryOp::NotEqTilde, s("aBc"), s("xyz")), "true");
    assert_eq!(binv(BinaryOp::Eq, null(K::Long), i64l(0)), "false");
    assert_eq!(binv(BinaryOp::NotEq, null(K::Long), i64l(0)), "true");
    assert_eq!(binv(BinaryOp::Eq, null(K::Long), null(K::Long)), "null");
    assert_eq!(binv(BinaryOp::Gt, null(K::Long), i64l(0)), "null");
    assert_eq!(
        binv(BinaryOp::Lt, dt("2020-01-01"), dt("2020-01-02")),
        "true"
    );
    assert!(binary_type(BinaryOp::Lt, K::String, K::String).is_err());
    assert!(binary_type(BinaryOp::Lt, K::DateTime, K::String).is_err());
    assert_eq!(
        binary_type(BinaryOp::Eq, K::String, K::Long).unwrap(),
        K::Bool
    );
    assert_eq!(
        binv(BinaryOp::Eq, dt("2023-01-01"), s("2023-01-01")),
        "true"
    );
    assert_eq!(binv(BinaryOp::Eq, s("42"), i64l(42)), "true");
    assert_eq!(binv(BinaryOp::NotEq, s("x"), i64l(42)), "true");
}

#[test]
fn dynamic_compares_with_scalars() {
    let d = dynl(r#"{"x":"a","y":5,"z":1.5}"#);
    let x = lower_member(d.clone(), "x").unwrap();
    let dx = TypedExpr {
        expr: x,
        ty: K::Dynamic,
        constant: None,
    };
    assert_eq!(binv(BinaryOp::Eq, dx.clone(), s("a")), "true");
    assert_eq!(binv(BinaryOp::EqTilde, dx.clone(), s("A")), "true");
    assert_eq!(
        binv(
            BinaryOp::Str(StringOp {
                kind: StringOpKind::Has,
                negated: false,
                case_sensitive: false
            }),
            dx,
            s("a")
        ),
        "true"
    );
    let y = TypedExpr {
        expr: lower_member(d.clone(), "y").unwrap(),
        ty: K::Dynamic,
        constant: None,
    };
    assert_eq!(binv(BinaryOp::Eq, y.clone(), i64l(5)), "true");
    assert_eq!(binv(BinaryOp::Gt, y.clone(), i64l(3)), "true");
    let z = TypedExpr {
        expr: lower_member(d.clone(), "z").unwrap(),
        ty: K::Dynamic,
        constant: None,
    };
    assert_eq!(binv(BinaryOp::Gt, z, i64l(1)), "true");
    let missing = TypedExpr {
        expr: lower_member(d, "nope").unwrap(),
        ty: K::Dynamic,
        constant: None,
    };
    assert_eq!(binv(BinaryOp::Eq, missing, i64l(5)), "false");
    assert_eq!(binv(BinaryOp::Eq, dynl("[1,2]"), dynl("[1,2]")), "true");
    assert_eq!(binv(BinaryOp::NotEq, dynl("1"), dynl("1.0")), "false");
}

#[test]
fn logic_three_valued() {
    assert_eq!(binv(BinaryOp::And, b(true), b(false)), "false");
    assert_eq!(binv(BinaryOp::Or, null(K::Bool), b(true)), "true");
    assert_eq!(binv(BinaryOp::And, null(K::Bool), b(true)), "null");
    assert_eq!(binv(BinaryOp::And, dynl("true"), b(true)), "true");
}

#[test]
fn string_predicates() {
    use StringOpKind::*;
    let cases: Vec<(StringOpKind, bool, bool, &str, &str, bool)> = vec![
        (Has, false, false, "North America", "america", true),
        (Has, false, false, "ERROR", "ERR", false),
        (Has, false, false, "alpha_beta", "alpha", true),
        (Has, false, false, "helloworld", "hello", false),
        (Has, false, true, "Hello World", "hello", false),
        (Has, false, true, "hello-world", "hello", true),
        (Has, true, false, "abc def", "def", false),
        (Has, false, false, "x", "", true),
        (HasPrefix, false, false, "Hello World", "wor", true),
        (HasPrefix, false, false, "Hello World", "orld", false),
        (HasSuffix, false, false, "Hello World", "ELLO", true),
        (Contains, false, false, "FabriKam", "BRik", true),
        (Contains, false, true, "FabriKam", "Kam", true),
        (Contains, false, true, "FabriKam", "kam", false),
        (Contains, true, false, "Fabrikam", "xyz", true),
        (StartsWith, false, false, "Fabrikam", "fab", true),
        (StartsWith, false, true, "Fabrikam", "fab", false),
        (EndsWith, false, false, "Fabrikam", "KAM", true),
        (EndsWith, true, false, "Fabrikam", "brik", true),
        (
            MatchesRegex,
            false,
            true,
            "192.168.0.1",
            r"^\d{1,3}(\.\d{1,3}){3}$",
            true,
        ),
        (
            MatchesRegex,
            false,
            true,
            "1.2.3",
            r"^\d{1,3}(\.\d{1,3}){3}$",
            false,
        ),
        (Like, false, false, "Fabrikam", "fab%", true),
        (Like, true, false, "Fabrikam", "fab%", false),
    ];
    for (kind, neg, cs, hay, needle, want) in cases {
        let got = binv(sop(kind, neg, cs), s(hay), s(needle));
        assert_eq!(
            got,
            want.to_string(),
            "{kind:?} neg={neg} cs={cs} {hay:?} {needle:?}"
        );
    }
    // null string reads as ""
    assert_eq!(
        binv(sop(Contains, true, false), null(K::String), s("a")),
        "true"
    );
    assert_eq!(binv(BinaryOp::Eq, null(K::String), s("")), "true");
    assert!(binary_type(sop(Has, false, false), K::Long, K::String).is_err());
}

#[test]
fn string_predicates_over_columns() {
    let bt = batch(vec![
        (
            "s",
            strs(&[
                Some("level ERROR"),
                Some("hello world"),
                None,
                Some("café au lait"),
            ]),
        ),
        (
            "n",
            strs(&[Some("error"), Some("o"), Some("x"), Some("CAFÉ")]),
        ),
    ]);
    let op = sop(StringOpKind::Has, false, false);
    let e = lower_binary(op, c("s", K::String), c("n", K::String), K::Bool).unwrap();
    assert_eq!(
        eval_rows(&bt, e, K::Bool),
        vec!["true", "false", "false", "true"]
    );
    let e = lower_binary(BinaryOp::NotEq, c("s", K::String), s("x"), K::Bool).unwrap();
    assert_eq!(
        eval_rows(&bt, e, K::Bool),
        vec!["true", "true", "true", "true"]
    );
}

#[test]
fn in_operator() {
    let e = lower_in(s("b"), vec![s("a"), s("b")], false, false).unwrap();
    assert_eq!(eval(e, K::Bool), "true");
    let e = lower_in(s("B"), vec![s("a"), s("b")], false, false).unwrap();
    assert_eq!(eval(e, K::Bool), "false");
    let e = lower_in(s("B"), vec![s("a"), s("b")], false, true).unwrap();
    assert_eq!(eval(e, K::Bool), "true");
    let e = lower_in(s("B"), vec![dynl(r#"["a","b"]"#)], true, true).unwrap();
    assert_eq!(eval(e, K::Bool), "false");
    let e = lower_in(s("c"), vec![dynl(r#"["a","b"]"#), s("c")], false, false).unwrap();
    assert_eq!(eval(e, K::Bool), "true");
    let e = lower_in(i64l(3), vec![i64l(1), i32l(3)], false, false).unwrap();
    assert_eq!(eval(e, K::Bool), "true");
    let e = lower_in(i64l(3), vec![dynl("[1,2,3]")], false, false).unwrap();
    assert_eq!(eval(e, K::Bool), "true");
    let e = lower_in(null(K::Long), vec![i64l(1)], true, false).unwrap();
    assert_eq!(eval(e, K::Bool), "true");
    // a runtime dynamic array column
    let bt = batch(vec![
        ("x", strs(&[Some("a"), Some("z")])),
        ("d", strs(&[Some(r#"["A","b"]"#), Some(r#"["a"]"#)])),
    ]);
    let e = lower_in(c("x", K::String), vec![c("d", K::Dynamic)], false, true).unwrap();
    assert_eq!(eval_rows(&bt, e, K::Bool), vec!["true", "false"]);
}

#[test]
fn has_any_and_all() {
    let e = lower_has_any(
        s("The quick brown fox"),
        vec![s("slow"), s("QUICK")],
        HasAnyKind::HasAny,
    )
    .unwrap();
    assert_eq!(eval(e, K::Bool), "true");
    let e = lower_has_any(
        s("The quick brown fox"),
        vec![dynl(r#"["qui","fox"]"#)],
        HasAnyKind::HasAny,
    )
    .unwrap();
    assert_eq!(eval(e, K::Bool), "true");
    let e = lower_has_any(
        s("The quick brown fox"),
        vec![dynl(r#"["qui","fox"]"#)],
        HasAnyKind::HasAll,
    )
    .unwrap();
    assert_eq!(eval(e, K::Bool), "false");
    let e = lower_has_any(
        s("The quick brown fox"),
        vec![s("fox"), s("the")],
        HasAnyKind::HasAll,
    )
    .unwrap();
    assert_eq!(eval(e, K::Bool), "true");
    let bt = batch(vec![
        ("s", strs(&[Some("cmd.exe /c whoami"), Some("notepad.exe")])),
        ("d", strs(&[Some(r#"["whoami"]"#), Some(r#"["calc"]"#)])),
    ]);
    let e = lower_has_any(
        c("s", K::String),
        vec![c("d", K::Dynamic)],
        HasAnyKind::HasAny,
    )
    .unwrap();
    assert_eq!(eval_rows(&bt, e, K::Bool), vec!["true", "false"]);
}

#[test]
fn between_operator() {
    let e = lower_between(i64l(5), i64l(1), i64l(5), false).unwrap();
    assert_eq!(eval(e, K::Bool), "true");
    let e = lower_between(f64l(5.5), i64l(1), i64l(5), false).unwrap();
    assert_eq!(eval(e, K::Bool), "false");
    let e = lower_between(i64l(7), i64l(1), i64l(5), true).unwrap();
    assert_eq!(eval(e, K::Bool), "true");
    let e = lower_between(dt("2020-01-01 12:00"), dt("2020-01-01"), ts("1d"), false).unwrap();
    assert_eq!(eval(e, K::Bool), "true");
    let e = lower_between(dt("2020-01-03"), dt("2020-01-01"), ts("1d"), false).unwrap();
    assert_eq!(eval(e, K::Bool), "false");
    let e = lower_between(ts("90m"), ts("1h"), ts("2h"), false).unwrap();
    assert_eq!(eval(e, K::Bool), "true");
    let ago = crate::lower_scalar(&ctx(), "ago", vec![ts("1d")], K::DateTime).unwrap();
    let now = crate::lower_scalar(&ctx(), "now", vec![], K::DateTime).unwrap();
    let e = lower_between(
        dt("2024-01-15 06:00"),
        TypedExpr {
            expr: ago,
            ty: K::DateTime,
            constant: None,
        },
        TypedExpr {
            expr: now,
            ty: K::DateTime,
            constant: None,
        },
        false,
    )
    .unwrap();
    assert_eq!(eval(e, K::Bool), "true");
}

#[test]
fn member_and_index() {
    let d = dynl(r#"{"a":{"b":[10,20,30]},"s":"x","n":null}"#);
    let ab = lower_member(d.clone(), "a").unwrap();
    let ab = lower_member(
        TypedExpr {
            expr: ab,
            ty: K::Dynamic,
            constant: None,
        },
        "b",
    )
    .unwrap();
    let abt = TypedExpr {
        expr: ab,
        ty: K::Dynamic,
        constant: None,
    };
    assert_eq!(eval(abt.expr.clone(), K::Dynamic), "[10,20,30]");
    assert_eq!(
        eval(lower_index(abt.clone(), i64l(1)).unwrap(), K::Dynamic),
        "20"
    );
    assert_eq!(
        eval(lower_index(abt.clone(), i64l(-1)).unwrap(), K::Dynamic),
        "30"
    );
    assert_eq!(
        eval(lower_index(abt.clone(), i64l(3)).unwrap(), K::Dynamic),
        "null"
    );
    assert_eq!(
        eval(lower_index(abt, i32l(-4)).unwrap(), K::Dynamic),
        "null"
    );
    assert_eq!(
        eval(lower_index(d.clone(), s("s")).unwrap(), K::Dynamic),
        "\"x\""
    );
    assert_eq!(
        eval(lower_member(d.clone(), "n").unwrap(), K::Dynamic),
        "null"
    );
    assert_eq!(
        eval(lower_member(d.clone(), "missing").unwrap(), K::Dynamic),
        "null"
    );
    assert_eq!(
        eval(lower_index(d, dynl("\"s\"")).unwrap(), K::Dynamic),
        "\"x\""
    );
    assert!(lower_member(s("x"), "a").is_err());
}
