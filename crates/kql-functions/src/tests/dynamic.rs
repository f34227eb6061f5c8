use super::*;
use datafusion::logical_expr::Expr;

#[test]
fn arrays() {
    assert_eq!(
        call_t("array_length", vec![dynl(r#"[1,2,3,"four"]"#)]),
        (K::Long, "4".into())
    );
    assert_eq!(call("array_length", vec![dynl(r#"{"a":1}"#)]), "null");
    assert_eq!(call("array_length", vec![null(K::Dynamic)]), "null");
    assert!(crate::scalar_type("array_length", &[at(&s("x"))]).is_err());
    assert_eq!(
        call("array_concat", vec![dynl("[1,2]"), dynl(r#"["a"]"#)]),
        r#"[1,2,"a"]"#
    );
    assert_eq!(call("array_concat", vec![dynl("[1,2]"), dynl("5")]), "null");
    assert_eq!(
        call("array_slice", vec![dynl("[1,2,3]"), i64l(1), i64l(2)]),
        "[2,3]"
    );
    assert_eq!(
        call("array_slice", vec![dynl("[1,2,3,4,5]"), i64l(-3), i64l(-2)]),
        "[3,4]"
    );
    assert_eq!(
        call(
            "array_slice",
            vec![dynl("[1,2,3,4,5,6]"), i64l(0), i64l(100)]
        ),
        "[1,2,3,4,5,6]"
    );
    assert_eq!(
        call("array_slice", vec![dynl("[1,2]"), i64l(1), i64l(0)]),
        "[]"
    );
    let arr = || dynl(r#"["this","is","an","example","an","example"]"#);
    assert_eq!(call("array_index_of", vec![arr(), s("an")]), "2");
    assert_eq!(
        call(
            "array_index_of",
            vec![arr(), s("example"), i64l(1), i64l(3)]
        ),
        "3"
    );
    assert_eq!(
        call(
            "array_index_of",
            vec![arr(), s("example"), i64l(1), i64l(2)]
        ),
        "-1"
    );
    assert_eq!(
        call(
            "array_index_of",
            vec![arr(), s("an"), i64l(1), i64l(-1), i64l(2)]
        ),
        "4"
    );
    assert_eq!(
        call("array_index_of", vec![dynl("[5,15]"), f64l(15.0)]),
        "1"
    );
    assert_eq!(
        call(
            "array_sort_asc",
            vec![dynl(r#"[null,"blue","yellow","green",null]"#)]
        ),
        r#"["blue","green","yellow",null,null]"#
    );
    assert_eq!(
        call(
            "array_sort_asc",
            vec![dynl(r#"[null,"blue","yellow"]"#), b(false)]
        ),
        r#"[null,"blue","yellow"]"#
    );
    assert_eq!(call("array_sort_desc", vec![dynl("[1,3,2]")]), "[3,2,1]");
    assert_eq!(call("array_reverse", vec![dynl("[1,2,3]")]), "[3,2,1]");
    assert_eq!(
        call_t("array_sum", vec![dynl("[1,2,3,4]")]),
        (K::Real, "10.0".into())
    );
    assert_eq!(call("array_sum", vec![dynl("[1,null,3]")]), "4.0");
    assert_eq!(
        call(
            "array_iff",
            vec![dynl("[true,false,true]"), dynl("[1,2,3]"), dynl("[4,5,6]")]
        ),
        "[1,5,3]"
    );
    assert_eq!(
        call("array_iff", vec![dynl("[1,0,50]"), s("yes"), s("no")]),
        r#"["yes","no","yes"]"#
    );
    assert_eq!(
        call("array_iff", vec![dynl(r#"["s",null]"#), i64l(1), i64l(0)]),
        "[null,null]"
    );
    assert_eq!(
        call("array_shift_left", vec![dynl("[1,2,3,4,5]"), i64l(2)]),
        "[3,4,5,null,null]"
    );
    assert_eq!(
        call(
            "array_shift_right",
            vec![dynl("[1,2,3,4,5]"), i64l(1), i64l(-1)]
        ),
        "[-1,1,2,3,4]"
    );
    assert_eq!(
        call("array_rotate_left", vec![dynl("[1,2,3,4,5]"), i64l(2)]),
        "[3,4,5,1,2]"
    );
    assert_eq!(
        call("array_rotate_right", vec![dynl("[1,2,3,4,5]"), i64l(2)]),
        "[4,5,1,2,3]"
    );
    assert_eq!(
        call("pack_array", vec![i64l(1), s("2"), ts("2s"), null(K::Long)]),
        r#"[1,"2","00:00:02",null]"#
    );
    assert_eq!(
        call("zip", vec![dynl(r#"["A",1,1.5]"#), dynl(r#"[{},"B"]"#)]),
        r#"[["A",{}],[1,"B"],[1.5,null]]"#
    );
    assert_eq!(
        call("strcat_array", vec![dynl("[1,2,3]"), s("->")]),
        "1->2->3"
    );
    assert_eq!(
        call("strcat_array", vec![dynl("[1,null,3]"), s("-")]),
        "1--3"
    );
    assert_eq!(call("repeat", vec![s("a"), i64l(3)]), r#"["a","a","a"]"#);
    assert_eq!(call("range", vec![i64l(1), i64l(3)]), "[1,2,3]");
    assert_eq!(call("range", vec![i64l(1), i64l(8), i64l(3)]), "[1,4,7]");
    assert_eq!(
        call("range", vec![dt("2020-01-01"), dt("2020-01-02"), ts("12h")]),
        r#"["2020-01-01T00:00:00.0000000Z","2020-01-01T12:00:00.0000000Z","2020-01-02T00:00:00.0000000Z"]"#
    );
}

#[test]
fn sets() {
    assert_eq!(
        call_t("set_has_element", vec![dynl(r#"["this","is"]"#), s("is")]),
        (K::Bool, "true".into())
    );
    assert_eq!(
        call("set_has_element", vec![dynl("[1,2,3]"), s("2")]),
        "false"
    );
    assert_eq!(
        call("set_has_element", vec![dynl("[1,2,3]"), i64l(2)]),
        "true"
    );
    assert_eq!(
        call(
            "set_union",
            vec![dynl("[1,2,1,4]"), dynl("[1,2]"), dynl("[8]")]
        ),
        "[1,2,4,8]"
    );
    assert_eq!(
        call("set_intersect", vec![dynl("[1,2,3]"), dynl("[3,4,5]")]),
        "[3]"
    );
    assert_eq!(
        call("set_intersect", vec![dynl("[1,2,3]"), dynl("[4,5]")]),
        "[]"
    );
    assert_eq!(
        call("set_difference", vec![dynl("[1,2,3]"), dynl("[3,4,5]")]),
        "[1,2]"
    );
    assert_eq!(
        call(
            "set_difference",
            vec![dynl("[null,1,null,2]"), dynl("[null]")]
        ),
        "[1,2]"
    );
}

#[test]
fn bags() {
    assert_eq!(
        call_t("bag_pack", vec![s("a"), i64l(1), s("b"), s("x")]),
        (K::Dynamic, r#"{"a":1,"b":"x"}"#.into())
    );
    assert_eq!(
        call("pack", vec![s("t"), dt("2020-01-01")]),
        r#"{"t":"2020-01-01T00:00:00.0000000Z"}"#
    );
    assert!(crate::scalar_type("pack", &[at(&s("a"))]).is_err());
    assert_eq!(
        call("bag_keys", vec![dynl(r#"{"a":1,"b":2}"#)]),
        r#"["a","b"]"#
    );
    assert_eq!(call("bag_keys", vec![dynl("[1]")]), "null");
    assert_eq!(
        call(
            "bag_merge",
            vec![dynl(r#"{"a":1,"b":2}"#), dynl(r#"{"b":3,"c":4}"#)]
        ),
        r#"{"a":1,"b":2,"c":4}"#
    );
    assert_eq!(
        call(
            "bag_remove_keys",
            vec![
                dynl(r#"{"a":1,"b":{"c":2,"d":3}}"#),
                dynl(r#"["a","$.b.c"]"#)
            ]
        ),
        r#"{"b":{"d":3}}"#
    );
    assert_eq!(
        call("bag_has_key", vec![dynl(r#"{"a":{"b":1}}"#), s("$.a.b")]),
        "true"
    );
    assert_eq!(
        call("bag_has_key", vec![dynl(r#"{"a":1}"#), s("b")]),
        "false"
    );
    assert_eq!(
        call("bag_set_key", vec![dynl(r#"{"a":1}"#), s("b.c"), i64l(2)]),
        r#"{"a":1,"b.c":2}"#
    );
    assert_eq!(
        call("bag_set_key", vec![dynl(r#"{"a":1}"#), s("$.b.c"), i64l(2)]),
        r#"{"a":1,"b":{"c":2}}"#
    );
    assert_eq!(
        call("bag_zip", vec![dynl(r#"["a","b"]"#), dynl("[1]")]),
        r#"{"a":1,"b":null}"#
    );
    assert_eq!(
        call("dynamic_to_json", vec![dynl(r#"{"b":1,"a":[2]}"#)]),
        r#"{"a":[2],"b":1}"#
    );
}

#[test]
fn json_paths_and_types() {
    let doc = || s(r#"{"a":{"b":[10,{"c":"x"}]},"n":5}"#);
    assert_eq!(
        call_t("extract_json", vec![s("$.n"), doc()]),
        (K::String, "5".into())
    );
    assert_eq!(call("extractjson", vec![s("$.a.b[1].c"), doc()]), "x");
    assert_eq!(call("extract_json", vec![s("$['a']['b'][0]"), doc()]), "10");
    assert_eq!(call("extract_json", vec![s("$.missing"), doc()]), "");
    assert_eq!(
        call_t("extract_json", vec![s("$.n"), doc(), typeof_(K::Long)]),
        (K::Long, "5".into())
    );
    for (v, want) in [
        ("null", "null"),
        ("1", "long"),
        ("1.5", "double"),
        (r#""s""#, "string"),
        ("[1]", "array"),
        (r#"{"a":1}"#, "dictionary"),
        ("true", "bool"),
    ] {
        assert_eq!(call("gettype", vec![dynl(v)]), want);
    }
    assert_eq!(call("gettype", vec![i32l(1)]), "int");
    assert_eq!(
        call("gettype", vec![l(Const::Real(1.0), K::Decimal)]),
        "decimal"
    );
    let bt = batch(vec![(
        "d",
        strs(&[Some(r#"{"k":"v"}"#), Some("[1,2]"), None]),
    )]);
    assert_eq!(
        call_rows(&bt, "gettype", vec![c("d", K::Dynamic)]),
        vec!["dictionary", "array", "null"]
    );
    assert_eq!(
        call_rows(&bt, "array_length", vec![c("d", K::Dynamic)]),
        vec!["null", "2", "null"]
    );
    assert_eq!(
        call_rows(&bt, "bag_keys", vec![c("d", K::Dynamic)]),
        vec![r#"["k"]"#, "null", "null"]
    );
}

#[test]
fn fused_paths() {
    use crate::{lower_index, lower_member};
    let te = |e: Expr| TypedExpr {
        expr: e,
        ty: K::Dynamic,
        constant: None,
    };
    let bt = batch(vec![(
        "s",
        strs(&[
            Some(r#"{"a":{"b":[1,{"c":"x"}]}}"#),
            Some("not json"),
            None,
            Some("[5,6]"),
        ]),
    )]);
    // parse_json(s).a.b[-1].c
    let pj =
        crate::lower_scalar(&ctx(), "parse_json", vec![c("s", K::String)], K::Dynamic).unwrap();
    let e = lower_member(te(pj), "a").unwrap();
    let e = lower_member(te(e), "b").unwrap();
    let e = lower_index(te(e), i64l(-1)).unwrap();
    let e = lower_member(te(e), "c").unwrap();
    let shown = format!("{e}");
    assert!(shown.matches("dynamic_path").count() == 1, "{shown}");
    assert!(!shown.contains("todynamic"), "{shown}");
    assert_eq!(
        eval_rows(&bt, e, K::Dynamic),
        vec![r#""x""#, "null", "null", "null"]
    );
    let pj =
        crate::lower_scalar(&ctx(), "parse_json", vec![c("s", K::String)], K::Dynamic).unwrap();
    let e = lower_index(te(pj), i32l(1)).unwrap();
    assert_eq!(
        eval_rows(&bt, e, K::Dynamic),
        vec!["null", "null", "null", "6"]
    );
    // a runtime key is not fused
    let bt2 = batch(vec![
        ("d", strs(&[Some(r#"{"k":1}"#)])),
        ("k", strs(&[Some("k")])),
    ]);
    let e = lower_index(c("d", K::Dynamic), c("k", K::String)).unwrap();
    assert_eq!(eval_rows(&bt2, e, K::Dynamic), vec!["1"]);
}

/// Texts for the raw (tree-less) JSON paths: canonical ones and near misses.
const JSON_TEXTS: &[&str] = &[
    r#"{"PipeName":"\\Device\\NamedPipe\\x","FileOperation":"File opened","n":12}"#,
    r#"{"a":{"b":[1,{"c":"d"},[]],"e":{}},"f":null,"g":true,"h":false}"#,
    r#"{"a":1,"a":2}"#,
    r#"{"a": 1}"#,
    r#"{"a":1.5,"b":1e3,"c":-0,"d":007}"#,
    r#"{"a":"\u00e9\/","b":"tab\there"}"#,
    r#"{"k\"q":"v","k\nl":"w"}"#,
    r#"[0,-12,123456789012345678,1234567890123456789]"#,
    r#""just a string""#,
    "null",
    "",
    "not json",
    r#"{"a":[1,2,3]"#,
    r#"{"a":"line
break"}"#,
    r#"{"émoji":"✓","x":[{"y":[[["deep"]]]}]}"#,
];

#[test]
fn canonical_json_is_exactly_what_parsing_and_printing_gives() {
    for t in JSON_TEXTS {
        if crate::json::Canonical::default().check(t) {
            let v = crate::json::parse(t).expect("canonical text parses");
            assert_eq!(&crate::json::to_text(&v), t, "{t}");
        }
    }
    // Printing any parsed text gives text that is canonical or refused, never misjudged.
    for t in JSON_TEXTS {
        if let Some(v) = crate::json::parse(t) {
            let printed = crate::json::to_text(&v);
            if crate::json::Canonical::default().check(&printed) {
                assert_eq!(
                    crate::json::to_text(&crate::json::parse(&printed).unwrap()),
                    printed
                );
            }
        }
    }
    assert!(crate::json::Canonical::default().check(JSON_TEXTS[0]));
    assert!(crate::json::Canonical::default().check(JSON_TEXTS[1]));
    for refused in [2, 3, 4, 5, 9, 10, 11, 12, 13] {
        assert!(
            !crate::json::Canonical::default().check(JSON_TEXTS[refused]),
            "{refused}"
        );
    }
}

#[test]
fn raw_paths_agree_with_the_parsed_tree() {
    let paths: Vec<Vec<serde_json::Value>> = vec![
        vec!["PipeName".into()],
        vec!["FileOperation".into()],
        vec!["n".into()],
        vec!["missing".into()],
        vec!["a".into(), "b".into(), 1.into(), "c".into()],
        vec!["a".into(), "b".into(), 2.into()],
        vec!["a".into(), "b".into(), 3.into()],
        vec!["a".into(), "b".into(), (-1).into()],
        vec!["a".into(), "e".into()],
        vec!["f".into()],
        vec!["g".into()],
        vec!["x".into(), 0.into(), "y".into(), 0.into(), 0.into()],
        vec!["k\"q".into()],
        vec![0.into()],
        vec![3.into()],
        vec![],
    ];
    // Dynamic values as they are stored: the compact text of parse_json(text).
    for t in JSON_TEXTS {
        let d = crate::json::to_text(&crate::json::parse_json_lenient(t));
        let t = d.as_str();
        for p in &paths {
            let tree = crate::json::parse(t).and_then(|root| {
                let mut cur = &root;
                for st in p {
                    cur = match st {
                        serde_json::Value::String(k) => crate::json::member(cur, k)?,
                        serde_json::Value::Number(n) => crate::json::index(cur, n.as_i64()?)?,
                        _ => return None,
                    };
                }
                Some(crate::json::to_text(cur))
            });
            match crate::json::raw_path(t, p) {
                Some(None) => {} // the general path decides
                Some(Some(raw)) => assert_eq!(Some(raw.to_string()), tree, "{t} {p:?}"),
                None => assert_eq!(tree, None, "{t} {p:?}"),
            }
        }
    }
    let q = r#"{"PipeName":"\\Device\\NamedPipe\\x","FileOperation":"File opened","n":12}"#;
    assert_eq!(
        crate::json::raw_path(q, &["PipeName".into()]),
        Some(Some(r#""\\Device\\NamedPipe\\x""#))
    );
    assert_eq!(crate::json::raw_path(q, &["Pipe".into()]), None);
}
