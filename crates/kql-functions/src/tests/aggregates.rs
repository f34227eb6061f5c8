use super::*;

/// Runs `summarize name(args) [by group]`, returning `group=value` strings sorted.
fn summarize(
    bt: &RecordBatch,
    group: Option<&str>,
    name: &str,
    args: Vec<TypedExpr>,
) -> Vec<String> {
    let types: Vec<crate::ArgType> = args.iter().map(at).collect();
    let ret = crate::aggregate_type(name, &types).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let e =
        crate::lower_aggregate(&ctx(), name, args, ret).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    assert!(
        matches!(e, Expr::AggregateFunction(_)),
        "{name} must lower to an aggregate"
    );
    let bt = bt.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut out: Vec<String> = rt.block_on(async move {
        let ctx = SessionContext::new();
        let df = ctx.read_batch(bt).unwrap();
        let groups: Vec<Expr> = group.map(|g| vec![col(g)]).unwrap_or_default();
        let df = df.aggregate(groups, vec![e.alias("v")]).unwrap();
        let batches = df.collect().await.unwrap();
        let mut rows = Vec::new();
        for b in batches {
            let v = b.column_by_name("v").unwrap();
            assert_eq!(v.data_type(), &arrow_type(ret), "{name} result type");
            for i in 0..b.num_rows() {
                let g = match group {
                    Some(g) => format!("{}=", render(b.column_by_name(g).unwrap(), i)),
                    None => String::new(),
                };
                rows.push(format!("{g}{}", render(v, i)));
            }
        }
        rows
    });
    out.sort();
    out
}

fn data() -> RecordBatch {
    batch(vec![
        (
            "g",
            strs(&[Some("a"), Some("a"), Some("a"), Some("b"), Some("b")]),
        ),
        ("n", longs(&[Some(3), Some(1), None, Some(5), Some(5)])),
        ("i", ints(&[Some(3), Some(1), Some(2), Some(5), Some(5)])),
        (
            "r",
            reals(&[Some(1.5), Some(2.5), Some(3.5), None, Some(10.0)]),
        ),
        (
            "s",
            strs(&[Some("x"), Some("y"), Some("x"), Some(""), Some("z")]),
        ),
        (
            "f",
            bools(&[Some(true), Some(false), Some(true), Some(true), None]),
        ),
        (
            "t",
            times(&[
                Some("2020-01-01"),
                Some("2020-01-03"),
                Some("2020-01-02"),
                None,
                Some("2021-01-01"),
            ]),
        ),
        (
            "d",
            spans(&[Some("1h"), Some("2h"), None, Some("1d"), Some("30m")]),
        ),
        (
            "j",
            strs(&[
                Some(r#"{"a":1,"b":2}"#),
                Some(r#"{"a":10,"c":3}"#),
                Some("[1,2]"),
                None,
                Some(r#"{"b":99}"#),
            ]),
        ),
    ])
}

#[test]
fn counts() {
    let bt = data();
    assert_eq!(summarize(&bt, None, "count", vec![]), vec!["5"]);
    assert_eq!(
        summarize(&bt, Some("g"), "count", vec![]),
        vec!["a=3", "b=2"]
    );
    assert_eq!(
        summarize(&bt, None, "countif", vec![c("f", K::Bool)]),
        vec!["3"]
    );
    assert_eq!(
        summarize(&bt, Some("g"), "dcount", vec![c("n", K::Long)]),
        vec!["a=2", "b=1"]
    );
    assert_eq!(
        summarize(&bt, None, "dcount", vec![c("s", K::String), i32l(2)]),
        vec!["4"]
    );
    assert_eq!(
        summarize(
            &bt,
            None,
            "dcountif",
            vec![c("s", K::String), c("f", K::Bool)]
        ),
        vec!["2"]
    );
    assert_eq!(
        summarize(&bt, None, "count_distinct", vec![c("i", K::Int)]),
        vec!["4"]
    );
}

#[test]
fn sums_and_averages() {
    let bt = data();
    assert_eq!(
        summarize(&bt, Some("g"), "sum", vec![c("n", K::Long)]),
        vec!["a=4", "b=10"]
    );
    assert_eq!(
        summarize(&bt, None, "sum", vec![c("i", K::Int)]),
        vec!["16"]
    );
    assert_eq!(
        summarize(&bt, None, "sum", vec![c("r", K::Real)]),
        vec!["17.5"]
    );
    assert_eq!(
        summarize(&bt, None, "sum", vec![c("d", K::TimeSpan)]),
        vec!["1.03:30:00"]
    );
    assert_eq!(
        summarize(
            &bt,
            Some("g"),
            "sumif",
            vec![c("n", K::Long), c("f", K::Bool)]
        ),
        vec!["a=3", "b=5"]
    );
    assert_eq!(
        summarize(&bt, Some("g"), "avg", vec![c("r", K::Real)]),
        vec!["a=2.5", "b=10.0"]
    );
    assert_eq!(
        summarize(&bt, None, "avg", vec![c("n", K::Long)]),
        vec!["3.5"]
    );
    assert_eq!(
        summarize(&bt, None, "avg", vec![c("d", K::TimeSpan)]),
        vec!["06:52:30"]
    );
    assert_eq!(
        summarize(&bt, None, "avgif", vec![c("i", K::Int), c("f", K::Bool)]),
        vec!["3.3333333333333335"]
    );
    // no values: sum is 0, avg NaN
    let empty = batch(vec![("n", longs(&[None, None]))]);
    assert_eq!(
        summarize(&empty, None, "sum", vec![c("n", K::Long)]),
        vec!["0"]
    );
    assert_eq!(
        summarize(&empty, None, "avg", vec![c("n", K::Long)]),
        vec!["NaN"]
    );
    assert_eq!(
        summarize(&empty, None, "stdev", vec![c("n", K::Long)]),
        vec!["0.0"]
    );
    assert!(
        crate::aggregate_type(
            "sum",
            &[crate::ArgType {
                ty: K::String,
                constant: None
            }]
        )
        .is_err()
    );
}

#[test]
fn extremes() {
    let bt = data();
    assert_eq!(
        summarize(&bt, Some("g"), "max", vec![c("n", K::Long)]),
        vec!["a=3", "b=5"]
    );
    assert_eq!(summarize(&bt, None, "min", vec![c("i", K::Int)]), vec!["1"]);
    assert_eq!(
        summarize(&bt, None, "max", vec![c("s", K::String)]),
        vec!["z"]
    );
    assert_eq!(
        summarize(&bt, None, "min", vec![c("t", K::DateTime)]),
        vec!["2020-01-01T00:00:00.0000000Z"]
    );
    assert_eq!(
        summarize(&bt, None, "max", vec![c("d", K::TimeSpan)]),
        vec!["1.00:00:00"]
    );
    assert_eq!(
        summarize(&bt, None, "maxif", vec![c("n", K::Long), c("f", K::Bool)]),
        vec!["5"]
    );
    assert_eq!(
        summarize(&bt, None, "minif", vec![c("r", K::Real), c("f", K::Bool)]),
        vec!["1.5"]
    );
    assert!(
        crate::aggregate_type(
            "max",
            &[crate::ArgType {
                ty: K::Dynamic,
                constant: None
            }]
        )
        .is_err()
    );
}

#[test]
fn statistics() {
    let bt = batch(vec![(
        "x",
        longs(&[
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
            Some(6),
            Some(7),
            Some(8),
            Some(9),
            Some(10),
        ]),
    )]);
    assert_eq!(
        summarize(&bt, None, "stdev", vec![c("x", K::Long)]),
        vec!["3.0276503540974917"]
    );
    assert_eq!(
        summarize(&bt, None, "variance", vec![c("x", K::Long)]),
        vec!["9.166666666666666"]
    );
    assert_eq!(
        summarize(&bt, None, "stdevp", vec![c("x", K::Long)]),
        vec!["2.8722813232690143"]
    );
    assert_eq!(
        summarize(&bt, None, "variancep", vec![c("x", K::Long)]),
        vec!["8.25"]
    );
    let one = batch(vec![("x", reals(&[Some(10.0)]))]);
    assert_eq!(
        summarize(&one, None, "stdev", vec![c("x", K::Real)]),
        vec!["0.0"]
    );
    assert_eq!(
        summarize(&one, None, "variance", vec![c("x", K::Real)]),
        vec!["0.0"]
    );
    let bt = data();
    assert_eq!(
        summarize(&bt, None, "stdevif", vec![c("r", K::Real), c("f", K::Bool)]),
        vec!["1.4142135623730951"]
    );
    assert_eq!(
        summarize(
            &bt,
            None,
            "varianceif",
            vec![c("r", K::Real), c("f", K::Bool)]
        ),
        vec!["2.0"]
    );
}

#[test]
fn collections() {
    let bt = data();
    assert_eq!(
        summarize(&bt, Some("g"), "make_set", vec![c("s", K::String)]),
        vec![r#"a=["x","y"]"#, r#"b=["","z"]"#]
    );
    assert_eq!(
        summarize(&bt, Some("g"), "make_list", vec![c("n", K::Long)]),
        vec!["a=[3,1]", "b=[5,5]"]
    );
    assert_eq!(
        summarize(&bt, Some("g"), "make_set", vec![c("n", K::Long)]),
        vec!["a=[3,1]", "b=[5]"]
    );
    assert_eq!(
        summarize(
            &bt,
            Some("g"),
            "make_list_with_nulls",
            vec![c("n", K::Long)]
        ),
        vec!["a=[3,1,null]", "b=[5,5]"]
    );
    assert_eq!(
        summarize(&bt, None, "make_list", vec![c("n", K::Long), i64l(2)]),
        vec!["[3,1]"]
    );
    assert_eq!(
        summarize(&bt, None, "makeset", vec![c("i", K::Int), i32l(3)]),
        vec!["[3,1,2]"]
    );
    assert_eq!(
        summarize(
            &bt,
            None,
            "make_set_if",
            vec![c("s", K::String), c("f", K::Bool)]
        ),
        vec![r#"["x",""]"#]
    );
    assert_eq!(
        summarize(
            &bt,
            None,
            "make_list_if",
            vec![c("r", K::Real), c("f", K::Bool)]
        ),
        vec!["[1.5,3.5]"]
    );
    assert_eq!(
        summarize(&bt, Some("g"), "make_list", vec![c("t", K::DateTime)]),
        vec![
            r#"a=["2020-01-01T00:00:00.0000000Z","2020-01-03T00:00:00.0000000Z","2020-01-02T00:00:00.0000000Z"]"#,
            r#"b=["2021-01-01T00:00:00.0000000Z"]"#
        ]
    );
    assert_eq!(
        summarize(&bt, Some("g"), "make_bag", vec![c("j", K::Dynamic)]),
        vec![r#"a={"a":1,"b":2,"c":3}"#, r#"b={"b":99}"#]
    );
    assert_eq!(
        summarize(
            &bt,
            None,
            "make_bag_if",
            vec![c("j", K::Dynamic), c("f", K::Bool)]
        ),
        vec![r#"{"a":1,"b":2}"#]
    );
    // dynamic arrays are flattened into lists and sets
    assert_eq!(
        summarize(&bt, Some("g"), "make_list", vec![c("j", K::Dynamic)]),
        vec![r#"a=[{"a":1,"b":2},{"a":10,"c":3},1,2]"#, r#"b=[{"b":99}]"#]
    );
    let empty = batch(vec![("n", longs(&[None]))]);
    assert_eq!(
        summarize(&empty, None, "make_set", vec![c("n", K::Long)]),
        vec!["[]"]
    );
    assert_eq!(
        summarize(&empty, None, "make_bag", vec![c("n", K::Dynamic)]),
        vec!["{}"]
    );
}

#[test]
fn take_any_and_percentile() {
    let bt = batch(vec![
        ("g", strs(&[Some("a"), Some("a"), Some("b")])),
        ("s", strs(&[Some(""), Some("v"), Some("")])),
        ("n", longs(&[None, Some(7), None])),
    ]);
    assert_eq!(
        summarize(&bt, Some("g"), "take_any", vec![c("s", K::String)]),
        vec!["a=v", "b="]
    );
    assert_eq!(
        summarize(&bt, Some("g"), "any", vec![c("n", K::Long)]),
        vec!["a=7", "b=null"]
    );
    assert_eq!(
        summarize(
            &bt,
            None,
            "take_anyif",
            vec![c("n", K::Long), l(Const::Bool(true), K::Bool)]
        ),
        vec!["7"]
    );
    let nums = batch(vec![(
        "a",
        longs(&(0..10).rev().map(Some).collect::<Vec<_>>()),
    )]);
    assert_eq!(
        summarize(&nums, None, "percentile", vec![c("a", K::Long), i64l(0)]),
        vec!["0"]
    );
    assert_eq!(
        summarize(&nums, None, "percentile", vec![c("a", K::Long), i64l(100)]),
        vec!["9"]
    );
    assert_eq!(
        summarize(&nums, None, "percentile", vec![c("a", K::Long), i64l(50)]),
        vec!["4"]
    );
    assert_eq!(
        summarize(&nums, None, "percentile", vec![c("a", K::Long), f64l(95.0)]),
        vec!["9"]
    );
    let bt = data();
    assert_eq!(
        summarize(&bt, None, "percentile", vec![c("t", K::DateTime), i64l(50)]),
        vec!["2020-01-02T00:00:00.0000000Z"]
    );
    assert_eq!(
        summarize(&bt, None, "percentile", vec![c("r", K::Real), i64l(50)]),
        vec!["2.5"]
    );
    assert!(
        crate::aggregate_type("percentile", &[at(&c("a", K::Long)), at(&c("b", K::Long))]).is_err()
    );
}

#[test]
fn names_and_kinds() {
    use crate::{FnKind, function_kind};
    assert_eq!(function_kind("count"), Some(FnKind::Aggregate));
    assert_eq!(function_kind("arg_max"), Some(FnKind::Aggregate));
    assert_eq!(function_kind("hll"), Some(FnKind::Aggregate));
    assert_eq!(function_kind("tostring"), Some(FnKind::Scalar));
    assert_eq!(
        function_kind("series_decompose_anomalies"),
        Some(FnKind::Scalar)
    );
    assert_eq!(function_kind("ToString"), None);
    assert_eq!(function_kind("no_such_function"), None);
    let e = crate::scalar_type("parse_user_agent", &[]).unwrap_err();
    assert_eq!(e.code, kql_syntax::codes::UNSUPPORTED);
    let e = crate::aggregate_type("hll", &[]).unwrap_err();
    assert_eq!(e.code, kql_syntax::codes::UNSUPPORTED);
    let e = crate::scalar_type("strlen", &[]).unwrap_err();
    assert_eq!(e.code, kql_syntax::codes::WRONG_ARG_COUNT);
    let e = crate::scalar_type("strlen", &[at(&i64l(1))]).unwrap_err();
    assert_eq!(e.code, kql_syntax::codes::TYPE_MISMATCH);
    assert_eq!(e.arg, Some(0));
}

#[test]
fn bitwise_aggregates() {
    let bt = batch(vec![(
        "n",
        longs(&[
            Some(0x8888_8008),
            Some(0x4200_0000),
            Some(0x0076_7000),
            Some(5),
        ]),
    )]);
    assert_eq!(
        summarize(&bt, None, "binary_all_or", vec![c("n", K::Long)]),
        vec![0xCAFE_F00Di64.to_string()]
    );
    let bt = batch(vec![(
        "n",
        longs(&[
            Some(0xFFFF_FFFF),
            Some(0xFFFF_F00F),
            Some(0xCFFF_FFFD),
            Some(0xFAFE_FFFF),
        ]),
    )]);
    assert_eq!(
        summarize(&bt, None, "binary_all_and", vec![c("n", K::Long)]),
        vec![0xCAFE_F00Di64.to_string()]
    );
    let bt = batch(vec![(
        "n",
        longs(&[
            Some(0x4440_4440),
            Some(0x1E1E_1E1E),
            Some(0x90AB_BA09),
            Some(0x000B_105A),
        ]),
    )]);
    assert_eq!(
        summarize(&bt, None, "binary_all_xor", vec![c("n", K::Long)]),
        vec![0xCAFE_F00Di64.to_string()]
    );
}

#[test]
fn registry_lists_are_disjoint() {
    for n in crate::registry::UNSUPPORTED_SCALAR
        .iter()
        .chain(crate::registry::SPECIAL_SCALAR)
    {
        assert!(
            crate::scalar::family(n).is_none(),
            "{n} is implemented and listed as unsupported"
        );
    }
    for n in crate::registry::UNSUPPORTED_AGGREGATE
        .iter()
        .chain(crate::registry::SPECIAL_AGGREGATE)
    {
        assert!(
            !crate::aggregate::is_aggregate(n),
            "{n} is implemented and listed as unsupported"
        );
    }
    for (n, _) in crate::implemented_functions() {
        assert!(crate::function_kind(n).is_some(), "{n}");
    }
}
