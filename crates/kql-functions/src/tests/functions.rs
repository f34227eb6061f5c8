use super::*;

#[test]
fn conditionals() {
    assert_eq!(
        call_t("iff", vec![b(true), i64l(1), i64l(2)]),
        (K::Long, "1".into())
    );
    // Whole numbers and reals do not unify in iff/case/coalesce (Kusto rejects them).
    let args = [b(false), i32l(1), f64l(2.5)];
    assert!(crate::scalar_type("iif", &args.iter().map(at).collect::<Vec<_>>()).is_err());
    assert_eq!(
        call_t("iff", vec![null(K::Bool), s("a"), s("b")]),
        (K::String, "b".into())
    );
    assert_eq!(
        call_t("iff", vec![b(true), null(K::Real), f64l(1.5)]),
        (K::Real, "null".into())
    );
    assert_eq!(
        call_t("iff", vec![b(true), i64l(1), s("a")]),
        (K::Dynamic, "1".into())
    );
    assert_eq!(
        call_t("iff", vec![b(true), i64l(5), null(K::Dynamic)]),
        (K::Long, "5".into())
    );
    assert_eq!(
        call_t("iff", vec![b(true), dynl(r#""x""#), s("y")]),
        (K::String, "x".into())
    );
    assert!(crate::scalar_type("iff", &[at(&i64l(1)), at(&i64l(1)), at(&i64l(2))]).is_err());
    assert_eq!(
        call_t("case", vec![b(false), s("a"), b(true), s("b"), s("c")]),
        (K::String, "b".into())
    );
    assert_eq!(call("case", vec![b(false), f64l(1.0), f64l(2.5)]), "2.5");
    assert!(crate::scalar_type("case", &[at(&b(false)), at(&i64l(1)), at(&f64l(2.5))]).is_err());
    assert!(crate::scalar_type("case", &[at(&b(true)), at(&i64l(1))]).is_err());
    assert_eq!(
        call_t(
            "coalesce",
            vec![null(K::Int), null(K::Int), i32l(5), i32l(7)]
        ),
        (K::Int, "5".into())
    );
    assert_eq!(
        call("coalesce", vec![null(K::String), s(""), s("fb")]),
        "fb"
    );
    assert_eq!(
        call_t("coalesce", vec![null(K::Real), f64l(1.5)]),
        (K::Real, "1.5".into())
    );
    assert!(crate::scalar_type("coalesce", &[at(&null(K::Long)), at(&f64l(1.5))]).is_err());
    assert!(crate::scalar_type("coalesce", &[at(&i64l(1)), at(&s("a"))]).is_err());
    let bt = batch(vec![("x", longs(&[Some(1), Some(20), None]))]);
    let cond = crate::lower_binary(
        kql_syntax::ast::BinaryOp::Gt,
        c("x", K::Long),
        i64l(10),
        K::Bool,
    )
    .unwrap();
    let cond = TypedExpr {
        expr: cond,
        ty: K::Bool,
        constant: None,
    };
    assert_eq!(
        call_rows(&bt, "iff", vec![cond, s("big"), s("small")]),
        vec!["small", "big", "small"]
    );
}

#[test]
fn null_and_empty() {
    assert_eq!(call("isnull", vec![null(K::Long)]), "true");
    assert_eq!(call("isnull", vec![null(K::String)]), "false");
    assert_eq!(call("isnull", vec![s("")]), "false");
    assert_eq!(call("isnull", vec![dynl("null")]), "true");
    assert_eq!(call("isnotnull", vec![i64l(1)]), "true");
    assert_eq!(call("isempty", vec![s("")]), "true");
    assert_eq!(call("isempty", vec![null(K::String)]), "true");
    assert_eq!(call("isempty", vec![null(K::Long)]), "true");
    assert_eq!(call("isempty", vec![i64l(0)]), "false");
    assert_eq!(call("isempty", vec![dynl(r#""""#)]), "true");
    assert_eq!(call("isempty", vec![dynl("[]")]), "false");
    assert_eq!(call("isnotempty", vec![s("x")]), "true");
    assert_eq!(call("not", vec![b(true)]), "false");
    assert_eq!(call("not", vec![null(K::Bool)]), "null");
    let bt = batch(vec![("s", strs(&[Some("a"), None, Some("")]))]);
    assert_eq!(
        call_rows(&bt, "isnotempty", vec![c("s", K::String)]),
        vec!["true", "false", "false"]
    );
    assert_eq!(
        call_rows(&bt, "isnull", vec![c("s", K::String)]),
        vec!["false", "false", "false"]
    );
}

#[test]
fn math() {
    assert_eq!(call_t("abs", vec![i32l(-5)]), (K::Long, "5".into()));
    assert_eq!(call_t("abs", vec![f64l(-1.5)]), (K::Real, "1.5".into()));
    assert_eq!(
        call_t("abs", vec![ts("-1h")]),
        (K::TimeSpan, "01:00:00".into())
    );
    assert_eq!(
        call_t("round", vec![f64l(1.23456), i64l(2)]),
        (K::Real, "1.23".into())
    );
    assert_eq!(call("round", vec![f64l(3.25), i64l(1)]), "3.3");
    assert_eq!(call("round", vec![f64l(2.5)]), "3.0");
    assert_eq!(
        call_t("round", vec![i32l(1234), i64l(-2)]),
        (K::Int, "1200".into())
    );
    assert_eq!(call("ceiling", vec![f64l(1.1)]), "2.0");
    assert_eq!(call("sqrt", vec![i64l(16)]), "4.0");
    assert_eq!(call("sqrt", vec![f64l(-1.0)]), "NaN");
    assert_eq!(call("pow", vec![i64l(2), i64l(10)]), "1024.0");
    assert_eq!(call("exp", vec![i64l(0)]), "1.0");
    assert_eq!(call("exp2", vec![i64l(3)]), "8.0");
    assert_eq!(call("exp10", vec![i64l(2)]), "100.0");
    assert_eq!(call("log", vec![f64l(-1.0)]), "null");
    assert_eq!(call("log", vec![f64l(0.0)]), "-inf");
    assert_eq!(call("log10", vec![i64l(100)]), "2.0");
    assert_eq!(call("log2", vec![i64l(8)]), "3.0");
    assert_eq!(call("sign", vec![i64l(-5)]), "-1.0");
    assert_eq!(call("sign", vec![f64l(f64::NAN)]), "0.0");
    assert_eq!(call("isnan", vec![f64l(f64::NAN)]), "true");
    assert_eq!(call("isinf", vec![f64l(f64::NEG_INFINITY)]), "true");
    assert_eq!(call("isfinite", vec![f64l(1.0)]), "true");
    assert_eq!(call("cos", vec![i64l(0)]), "1.0");
    assert_eq!(call("pi", vec![]), "3.141592653589793");
    assert_eq!(
        call_t("binary_and", vec![i64l(6), i64l(3)]),
        (K::Long, "2".into())
    );
    assert_eq!(call("binary_or", vec![i64l(5), i64l(3)]), "7");
    assert_eq!(call("binary_xor", vec![i64l(5), i64l(3)]), "6");
    assert_eq!(call("binary_not", vec![i64l(0)]), "-1");
    assert_eq!(call("binary_shift_left", vec![i64l(1), i64l(4)]), "16");
    assert_eq!(call("binary_shift_right", vec![i64l(16), i64l(4)]), "1");
    assert_eq!(call("tohex", vec![i64l(256)]), "100");
    assert_eq!(call("tohex", vec![i64l(-256)]), "ffffffffffffff00");
    assert_eq!(call("tohex", vec![i32l(-256), i64l(8)]), "ffffff00");
    assert_eq!(call("tohex", vec![i64l(256), i64l(8)]), "00000100");
    assert_eq!(
        call_t("max_of", vec![i64l(10), i64l(1), i64l(-3), i64l(17)]),
        (K::Long, "17".into())
    );
    assert_eq!(
        call_t("min_of", vec![i32l(5), i32l(2)]),
        (K::Int, "2".into())
    );
    assert_eq!(
        call_t("max_of", vec![i32l(1), i64l(2), f64l(3.0)]),
        (K::Real, "3.0".into())
    );
    assert_eq!(call("max_of", vec![null(K::Int), i32l(2)]), "2");
    assert_eq!(
        call(
            "max_of",
            vec![dt("2024-12-15 07:15:22"), dt("2024-12-15 07:15:24")]
        ),
        "2024-12-15T07:15:24.0000000Z"
    );
    assert_eq!(call("min_of", vec![s("b"), s("a")]), "a");
    let r = call("rand", vec![]);
    let v: f64 = r.parse().unwrap();
    assert!((0.0..1.0).contains(&v));
    let v: f64 = call("rand", vec![i64l(10)]).parse().unwrap();
    assert!((0.0..10.0).contains(&v) && v.fract() == 0.0);
    assert_eq!(call("new_guid", vec![]).len(), 36);
}

#[test]
fn ip_functions() {
    assert_eq!(
        call_t("parse_ipv4", vec![s("127.0.0.1")]),
        (K::Long, "2130706433".into())
    );
    assert_eq!(call("parse_ipv4", vec![s("192.1.168.1/24")]), "3221334016");
    assert_eq!(call("parse_ipv4", vec![s("bad")]), "null");
    assert_eq!(
        call("parse_ipv4_mask", vec![s("192.1.168.2"), i64l(16)]),
        "3221291008"
    );
    assert_eq!(call("ipv4_is_private", vec![s("10.1.2.3")]), "true");
    assert_eq!(call("ipv4_is_private", vec![s("172.31.0.1")]), "true");
    assert_eq!(call("ipv4_is_private", vec![s("172.32.0.1")]), "false");
    assert_eq!(call("ipv4_is_private", vec![s("192.168.0.1")]), "true");
    assert_eq!(call("ipv4_is_private", vec![s("8.8.8.8")]), "false");
    assert_eq!(call("ipv4_is_private", vec![s("x")]), "null");
    assert_eq!(
        call(
            "ipv4_is_in_range",
            vec![s("192.168.1.1"), s("192.168.1.255/24")]
        ),
        "true"
    );
    assert_eq!(
        call(
            "ipv4_is_in_range",
            vec![s("192.168.2.1"), s("192.168.1.255/24")]
        ),
        "false"
    );
    assert_eq!(
        call(
            "ipv4_is_in_any_range",
            vec![s("10.1.2.3"), dynl(r#"["192.168.1.1/16","10.0.0.1/8"]"#)]
        ),
        "true"
    );
    assert_eq!(
        call(
            "ipv4_is_in_any_range",
            vec![s("1.1.1.1"), s("192.168.1.1/16"), s("10.0.0.1/8")]
        ),
        "false"
    );
    assert_eq!(
        call(
            "ipv4_is_match",
            vec![s("192.168.1.1/24"), s("192.168.1.255")]
        ),
        "true"
    );
    assert_eq!(
        call(
            "ipv4_is_match",
            vec![s("192.168.1.1"), s("192.168.1.0"), i64l(31)]
        ),
        "true"
    );
    assert_eq!(
        call_t("ipv4_compare", vec![s("192.168.1.1"), s("192.168.1.255")]),
        (K::Long, "-1".into())
    );
    assert_eq!(
        call(
            "ipv4_compare",
            vec![s("192.168.1.1"), s("192.168.1.255"), i64l(24)]
        ),
        "0"
    );
    assert_eq!(call("ipv4_netmask_suffix", vec![s("10.0.0.0/8")]), "8");
    assert_eq!(
        call("format_ipv4", vec![s("192.168.1.1"), i64l(24)]),
        "192.168.1.0"
    );
    assert_eq!(call("format_ipv4", vec![i64l(3232235777)]), "192.168.1.1");
    assert_eq!(
        call("format_ipv4_mask", vec![s("192.168.1.1/24"), i64l(32)]),
        "192.168.1.0/24"
    );
    assert_eq!(
        call("format_ipv4_mask", vec![s("192.168.1.1/24"), i64l(-1)]),
        ""
    );
    assert_eq!(
        call(
            "ipv6_compare",
            vec![
                s("fe80::85d:e82c:9446:7994/120"),
                s("fe80::85d:e82c:9446:7998")
            ]
        ),
        "0"
    );
    assert_eq!(
        call("ipv6_is_match", vec![s("::ffff:7f00:1"), s("127.0.0.1")]),
        "true"
    );
    assert_eq!(
        call("parse_ipv6", vec![s("fe80::85d:e82c:9446:7994/120")]),
        "fe80:0000:0000:0000:085d:e82c:9446:7900"
    );
    assert_eq!(
        call(
            "has_ipv4",
            vec![s("log: 127.0.0.1 connected"), s("127.0.0.1")]
        ),
        "true"
    );
    assert_eq!(
        call("has_ipv4", vec![s("log: 127.0.0.12"), s("127.0.0.1")]),
        "false"
    );
    assert_eq!(
        call("has_ipv4_prefix", vec![s("log: 10.1.2.3"), s("10.1.")]),
        "true"
    );
    assert_eq!(
        call(
            "has_any_ipv4",
            vec![s("a 1.2.3.4 b"), dynl(r#"["5.6.7.8","1.2.3.4"]"#)]
        ),
        "true"
    );
    assert_eq!(
        call_t("geo_info_from_ip_address", vec![s("20.53.203.50")]),
        (K::Dynamic, "{}".into())
    );
}

/// Every implemented scalar function, over extreme and odd literal arguments, must give a
/// value, a null or an error, never a panic.
#[test]
fn extreme_arguments_never_panic() {
    let pool: Vec<TypedExpr> = vec![
        i64l(i64::MIN),
        i64l(i64::MAX),
        i64l(-1),
        i64l(0),
        i32l(i32::MIN),
        f64l(f64::NAN),
        f64l(f64::INFINITY),
        f64l(-1e308),
        s(""),
        s("\u{1F468}\u{200D}\u{1F469}a,\\\"x"),
        s("[1,{\"a\":[2]}]"),
        s(".*("),
        dynl("null"),
        dynl("[1,\"a\",null,[2]]"),
        dynl(r#"{"a":{"b":1}}"#),
        dt("2262-04-11"),
        dt("1677-09-22"),
        ts("-10000.00:00:00"),
        null(K::Long),
        null(K::DateTime),
        b(true),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ctx0 = SessionContext::new();
    let mut evaluated = 0usize;
    for (name, kind) in crate::implemented_functions() {
        if kind != crate::FnKind::Scalar || name == "rand" || name == "new_guid" {
            continue;
        }
        for arity in 0..=3usize {
            let mut idx = vec![0usize; arity];
            loop {
                let args: Vec<TypedExpr> = idx.iter().map(|i| pool[*i].clone()).collect();
                let types: Vec<crate::ArgType> = args.iter().map(at).collect();
                if let Ok(ret) = crate::scalar_type(name, &types)
                    && let Ok(e) = crate::lower_scalar(&ctx(), name, args, ret)
                {
                    let df = ctx0
                        .read_batch(one_row())
                        .unwrap()
                        .select(vec![e.alias("v")]);
                    if let Ok(df) = df {
                        let _ = rt.block_on(df.collect());
                        evaluated += 1;
                    }
                }
                // next combination (sparse: step through the pool with a stride for arity 3)
                let mut k = 0;
                loop {
                    if k == arity {
                        break;
                    }
                    idx[k] += match arity {
                        3 => 6,
                        2 => 2,
                        _ => 1,
                    };
                    if idx[k] < pool.len() {
                        break;
                    }
                    idx[k] = 0;
                    k += 1;
                }
                if k == arity {
                    break;
                }
            }
        }
    }
    assert!(evaluated > 500, "{evaluated}");
}
