use super::*;

#[test]
fn tostring_of_every_type() {
    assert_eq!(call("tostring", vec![i64l(123)]), "123");
    assert_eq!(call("tostring", vec![f64l(1.0)]), "1.0");
    assert_eq!(
        call("tostring", vec![f64l(0.1 + 0.2)]),
        "0.30000000000000004"
    );
    assert_eq!(call("tostring", vec![f64l(-0.0)]), "-0.0");
    assert_eq!(
        call("tostring", vec![l(Const::Real(100.0), K::Decimal)]),
        "100"
    );
    assert_eq!(call("tostring", vec![b(true)]), "True");
    assert_eq!(
        call("tostring", vec![dt("2020-01-01 12:30")]),
        "2020-01-01T12:30:00.0000000Z"
    );
    assert_eq!(
        call("tostring", vec![dt("2020-06-15 13:45:30.7654321")]),
        "2020-06-15T13:45:30.7654321Z"
    );
    assert_eq!(call("tostring", vec![ts("1d")]), "1.00:00:00");
    assert_eq!(call("tostring", vec![ts("-1.02:03:04")]), "-1.02:03:04");
    assert_eq!(call("tostring", vec![dynl(r#""red""#)]), "red");
    assert_eq!(call("tostring", vec![dynl(r#"{"a":1}"#)]), r#"{"a":1}"#);
    assert_eq!(call("tostring", vec![dynl("true")]), "true");
    assert_eq!(call("tostring", vec![dynl("null")]), "");
    assert_eq!(call("tostring", vec![null(K::Long)]), "");
    assert_eq!(call("tostring", vec![null(K::String)]), "");
    let bt = batch(vec![(
        "d",
        strs(&[Some(r#""x""#), Some("[1,2]"), None, Some(r#"{ "a" : 1 }"#)]),
    )]);
    assert_eq!(
        call_rows(&bt, "tostring", vec![c("d", K::Dynamic)]),
        vec!["x", "[1,2]", "", r#"{"a":1}"#]
    );
    let bt = batch(vec![
        ("n", longs(&[Some(1), None])),
        ("f", bools(&[Some(false), None])),
    ]);
    assert_eq!(
        call_rows(&bt, "tostring", vec![c("n", K::Long)]),
        vec!["1", ""]
    );
    assert_eq!(
        call_rows(&bt, "tostring", vec![c("f", K::Bool)]),
        vec!["False", ""]
    );
}

#[test]
fn numeric_conversions() {
    assert_eq!(call("tolong", vec![s("42")]), "42");
    assert_eq!(call("tolong", vec![s("abc")]), "null");
    assert_eq!(call("tolong", vec![s("42.0")]), "null");
    assert_eq!(call("tolong", vec![s("0x10")]), "16");
    assert_eq!(call("toint", vec![s("0xFF")]), "255");
    assert_eq!(call("toint", vec![f64l(2.7)]), "2");
    assert_eq!(call("toint", vec![ts("1h")]), "1640261632");
    assert_eq!(call("toint", vec![dynl("2147483648")]), "-2147483648");
    assert_eq!(call("tolong", vec![dt("2020-01-01")]), "637134336000000000");
    assert_eq!(call("tolong", vec![ts("1d")]), "864000000000");
    assert_eq!(call("todouble", vec![ts("1h")]), "36000000000.0");
    assert_eq!(call("toreal", vec![s("1.5e3")]), "1500.0");
    assert_eq!(call("todouble", vec![dynl(r#""3.14""#)]), "3.14");
    assert_eq!(call("todouble", vec![b(true)]), "1.0");
    assert_eq!(call("todecimal", vec![s("3.14159")]), "3.14159");
    assert_eq!(call("tolong", vec![dynl("1.9")]), "1");
    assert_eq!(call("tolong", vec![dynl("[1]")]), "null");
    assert_eq!(call("tolong", vec![b(true)]), "1");
    assert_eq!(call("toint", vec![s("")]), "null");
    assert_eq!(call("toint", vec![s("2147483648")]), "null");
    assert_eq!(call("tolong", vec![s("2147483648")]), "2147483648");
    assert_eq!(call("toint", vec![s("0x7FFFFFFF")]), "2147483647");
    assert_eq!(call("tolong", vec![s("0xFFFFFFFFFFFFFFFF")]), "-1");
    assert_eq!(call("toint", vec![s("-0x10")]), "null");
    assert_eq!(call("toint", vec![s("  123  ")]), "123");
    assert_eq!(call("toint", vec![f64l(-2.5)]), "-2");
    let bt = batch(vec![(
        "s",
        strs(&[Some("1"), Some("x"), None, Some(" 7 ")]),
    )]);
    assert_eq!(
        call_rows(&bt, "tolong", vec![c("s", K::String)]),
        vec!["1", "null", "null", "7"]
    );
}

#[test]
fn bool_conversions() {
    for (input, want) in [
        ("true", "true"),
        ("FALSE", "false"),
        ("tRuE", "true"),
        ("1", "true"),
        ("0", "false"),
        ("-1", "true"),
        ("yes", "null"),
        ("", "null"),
        ("1.0", "null"),
        (" true", "null"),
    ] {
        assert_eq!(call("tobool", vec![s(input)]), want, "tobool({input:?})");
    }
    assert_eq!(call("tobool", vec![i64l(-5)]), "true");
    assert_eq!(call("toboolean", vec![f64l(0.5)]), "true");
    assert_eq!(call("tobool", vec![dynl(r#""42""#)]), "true");
}

#[test]
fn datetime_and_timespan_conversions() {
    assert_eq!(
        call("todatetime", vec![s("2015-12-31 23:59:59.9")]),
        "2015-12-31T23:59:59.9000000Z"
    );
    assert_eq!(
        call("todatetime", vec![s("12-02-2022")]),
        "2022-12-02T00:00:00.0000000Z"
    );
    assert_eq!(call("todatetime", vec![s("not a date")]), "null");
    assert_eq!(
        call("todatetime", vec![i64l(637134336000000000)]),
        "2020-01-01T00:00:00.0000000Z"
    );
    assert_eq!(
        call(
            "todatetime",
            vec![dynl(r#""2020-06-15T13:45:09.1234567Z""#)]
        ),
        "2020-06-15T13:45:09.1234567Z"
    );
    assert_eq!(call("totimespan", vec![s("0.00:03:00")]), "00:03:00");
    assert_eq!(call("totimespan", vec![s("1d")]), "1.00:00:00");
    assert_eq!(call("totimespan", vec![s("1.5")]), "null");
    assert_eq!(call("totimespan", vec![i64l(864000000000)]), "1.00:00:00");
    assert_eq!(call("totimespan", vec![s("-00:30:00")]), "-00:30:00");
}

#[test]
fn guid_and_dynamic_conversions() {
    assert_eq!(
        call("toguid", vec![s("74BE27DE-1E4E-49D9-B579-FE0B331D3642")]),
        "74be27de-1e4e-49d9-b579-fe0b331d3642"
    );
    assert_eq!(call("toguid", vec![s("nope")]), "null");
    assert_eq!(
        call("todynamic", vec![s(r#"{"a":1, "b":[1,2]}"#)]),
        r#"{"a":1,"b":[1,2]}"#
    );
    assert_eq!(call("parse_json", vec![s("not json")]), r#""not json""#);
    assert_eq!(call("parse_json", vec![s("123")]), "123");
    assert_eq!(call("parse_json", vec![s("null")]), "null");
    assert_eq!(call("parse_json", vec![dynl(r#"{"a":1}"#)]), r#"{"a":1}"#);
    assert!(crate::scalar_type("parse_json", &[at(&i64l(5))]).is_err());
    let bt = batch(vec![(
        "s",
        strs(&[Some(r#"{"a":"x"}"#), Some("plain"), None]),
    )]);
    assert_eq!(
        call_rows(&bt, "parse_json", vec![c("s", K::String)]),
        vec![r#"{"a":"x"}"#, r#""plain""#, "null"]
    );
}

#[test]
fn cast_and_literal() {
    let e = crate::cast(i32l(5), K::Real).unwrap();
    assert_eq!(eval(e, K::Real), "5.0");
    let e = crate::cast(s("2020-01-01"), K::DateTime).unwrap();
    assert_eq!(eval(e, K::DateTime), "2020-01-01T00:00:00.0000000Z");
    let e = crate::cast(dynl("[1,2]"), K::String).unwrap();
    assert_eq!(eval(e, K::String), "[1,2]");
    let e = crate::cast(c("n", K::Long), K::String).unwrap();
    let bt = batch(vec![("n", longs(&[Some(3), None]))]);
    assert_eq!(eval_rows(&bt, e, K::String), vec!["3", ""]);
    let e = literal(&Const::Long(5), K::Int).unwrap();
    assert_eq!(eval(e, K::Int), "5");
    let e = literal(&Const::Null, K::String).unwrap();
    assert_eq!(eval(e, K::String), "");
    let e = literal(&Const::Null, K::Dynamic).unwrap();
    assert_eq!(eval(e, K::Dynamic), "null");
    let e = literal(
        &Const::Dynamic(serde_json::json!({"k": [1, "a"]})),
        K::Dynamic,
    )
    .unwrap();
    assert_eq!(eval(e, K::Dynamic), r#"{"k":[1,"a"]}"#);
    let e = literal(&Const::String("x".into()), K::Dynamic).unwrap();
    assert_eq!(eval(e, K::Dynamic), r#""x""#);
    let e = crate::to_dynamic_value(s("123"));
    assert_eq!(eval(e, K::Dynamic), r#""123""#);
    assert!(literal(&Const::Type(K::Long), K::Long).is_err());
    assert_eq!(crate::const_to_string(&Const::Bool(false)), "False");
    assert_eq!(
        crate::const_convert(&Const::String("7".into()), K::Long),
        Const::Long(7)
    );
}
