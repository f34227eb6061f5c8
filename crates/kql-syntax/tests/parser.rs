//! Parser tests: AST snapshots (as S-expressions, see `kql_syntax::sexpr`) and targeted
//! checks of precedence, literals, names and spans.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use kql_syntax::ast::{
    BinaryOp, DynValue, Expr, ExprKind, LetValue, Literal, OperatorKind, ParamType, Statement,
};
use kql_syntax::{parse, sexpr};

/// Parses `text`, failing on any diagnostic.
fn clean(text: &str) -> kql_syntax::ast::Script {
    let parsed = parse(text);
    assert!(
        parsed.diagnostics.is_empty(),
        "{text}:\n{}",
        parsed
            .diagnostics
            .iter()
            .map(|d| d.render(text))
            .collect::<String>()
    );
    parsed.script
}

/// The S-expression of a clean single-statement query.
fn sx(text: &str) -> String {
    sexpr::script(&clean(text))
}

/// The one expression of `print e`.
fn print_expr(text: &str) -> Expr {
    let script = clean(&format!("print {text}"));
    match script.statements.into_iter().next() {
        Some(Statement::Query(Expr {
            kind: ExprKind::Print(mut items),
            ..
        })) if items.len() == 1 => items.remove(0).expr,
        other => panic!("{text}: {other:?}"),
    }
}

fn literal(text: &str) -> Literal {
    match print_expr(text).kind {
        ExprKind::Literal(l) => l,
        other => panic!("{text}: {other:?}"),
    }
}

/// Renders each query and its diagnostics, for snapshots.
fn render_all(queries: &[&str]) -> String {
    let mut out = String::new();
    for q in queries {
        let parsed = parse(q);
        out.push_str(&format!("=== {q}\n{}\n", sexpr::script(&parsed.script)));
        for d in &parsed.diagnostics {
            out.push_str(&d.render(q));
        }
    }
    out
}

#[test]
fn statements_snapshot() {
    insta::assert_snapshot!(render_all(&[
        "let x = 5; let y = x * 2; print y",
        "let T1 = datatable(a:long, ['b c']:string)[1, \"x\", -2, 'y' 'z'];\nT1 | take 1;",
        "let f = (a:long, b:string = \"x\", T:(*), U:(c:long, *)) { let y = a * 2; T | extend z = y }; f(1)",
        "let v = view () { print x = 1 }; v",
        "let m = materialize(T | summarize count() by k); m | take 1",
        "let g = () { 42 }; print g()",
        "set notruncation; set query_take_max_records = 10; T",
        "declare query_parameters(p:long = 3, q:string); T | where a == p",
        "T | take 1; T | take 2;",
    ]));
}

#[test]
fn sources_snapshot() {
    insta::assert_snapshot!(render_all(&[
        "T",
        "['My Table'] | take 1",
        "f(1, \"x\") | take 1",
        "(T | where a > 1) | count",
        "datatable(a:long, b:dynamic)[1, dynamic({\"k\": [1, 2]}), 2, dynamic(null)]",
        "print 1, x = 2, y = \"s\"",
        "range x from 1 to 10 step 2",
        "range t from ago(1d) to now() step 1h | extend h = hourofday(t)",
        "union T1, (T2 | where x), Dev*, *Events",
        "union withsource=Source kind=outer isfuzzy=true T1, T2",
        "externaldata (a:string, b:long) [\"https://x/y.csv\", h@\"https://secret\"] with (format=\"csv\", ignoreFirstRecord=true)",
        "externaldata (line:string) [@\"https://x/list.txt\"] with (format=txt)",
        "search \"x\" | take 10",
        "search in (T1, T2) x == 1 and y has \"a\" | count",
        "find in (T) where x has \"y\" project a, b | take 1",
        "cluster_name",
    ]));
}

#[test]
fn operators_snapshot() {
    insta::assert_snapshot!(render_all(&[
        "T | where a > 1 | filter b has \"x\"",
        "T | project a, b = c + 1, (d, e) = f(x)",
        "T | project-away a, b*, *c, d*e, ['f g'], *1 | project-keep Foo*",
        "T | project-rename new = old, ['n 2'] = ['o 2']",
        "T | project-reorder a asc, b* desc, c granny-asc, d",
        "T | extend x = 1, y = x * 2",
        "T | summarize count()",
        "T | summarize by a, b",
        "T | summarize hint.strategy=shuffle hint.shufflekey=k c = count(), arg_max(t, *), (m, n) = arg_min(t, x, y) by bin(t, 1h), k = tolower(k)",
        "T | sort by a desc nulls last, b asc nulls first, c",
        "T | order by a",
        "T | top 10 by a desc nulls first",
        "T | take 5 | limit 10",
        "T | distinct a, b | distinct *",
        "T | count",
        "T | count as n",
        "T | distinct Caller = tostring(x), y",
        "T | join kind=leftouter hint.strategy=broadcast (T2 | where x > 1) on $left.a == $right.b, c",
        "T | join T2 on a",
        "T | lookup kind=inner (T2) on k",
        "T | lookup T2 on $left.k == $right.k2",
        "T | union T2, (T3)",
        "T | mv-expand bagexpansion=array with_itemindex=i v = d to typeof(string), e limit 10",
        "T | mvexpand d",
        "T | mv-apply x = d to typeof(long) on (summarize s = sum(x) | where s > 1)",
        "T | mv-apply with_itemindex=i d on (| top 1 by d)",
        "T | parse msg with * \"a=\" a:long \",\" b \" \" * | parse kind=regex flags=Ui msg with \"(?<x>a)\" x:string",
        "T | parse-where kind=simple msg with \"a=\" a:int",
        "T | parse-kv msg as (a:long, ['b c']:string) with (pair_delimiter=',', kv_delimiter='=', quote='\"')",
        "T | make-series n = count() default = 0, avg(x) on t from ago(7d) to now() step 1d by k",
        "T | make-series kind=nonempty s = sum(x) on t in range(datetime(2020-01-01), datetime(2020-01-08), 1d)",
        "T | make-series s = sum(x) on t step 1h",
        "T | serialize | serialize rn = row_number()",
        "T | as M | as hint.materialized=true N",
        "T | invoke f(1) | invoke g()",
        "T | evaluate bag_unpack(d) | evaluate hint.distribution=per_node pivot(k, sum(v)) | evaluate bag_unpack(d) : (a:long, b:string)",
        "T | top-nested 3 of a with others = \"Other\" by s = sum(x) desc, top-nested of b by count(), top-nested 2 of n = c by max(x) asc",
        "T | sample 10 | sample-distinct 5 of a",
        "T | getschema",
        "T | render timechart | render piechart with (title=\"t\", ycolumns=a, b, kind=stacked)",
        "T | search \"x\" | search kind=case_sensitive x:\"y\"",
        "T | partition hint.strategy=native by k (top 1 by t | project a)",
        "T | partition by k { T | take 1 }",
        "T | facet by a | fork (take 1) (take 2) | scan declare (s:long=0) with (step a: true => s = x;) | reduce by m",
        "T | make-graph a --> b with N on id | graph-match (a)-[e*1..3]->(b) project a | take 1",
        "T | where x = true",
    ]));
}

#[test]
fn expressions_snapshot() {
    insta::assert_snapshot!(render_all(&[
        "print a or b and c",
        "print (a or b) and c",
        "print a + b * c - d / e % f",
        "print -a * -b, - - c, -1, +1.5, -1d, -(1)",
        "print a == b + 1, a != b, a <> b, a < b, a <= b, a > b, a >= b, a =~ b, a !~ b",
        "print a has \"x\", a !has \"x\", a has_cs \"x\", a !has_cs \"x\", a hasprefix \"x\", a !hasprefix_cs \"x\"",
        "print a hassuffix \"x\", a !hassuffix \"x\", a contains \"x\", a !contains_cs \"x\", a notcontains \"x\", a containscs \"x\"",
        "print a startswith \"x\", a !startswith_cs \"x\", a endswith \"x\", a !endswith \"x\", a matches regex \"x+\", a like \"x%\"",
        "print a in (1, 2), a !in (\"a\"), a in~ (\"a\"), a !in~ (\"a\"), a in (T | project b), a in (dynamic([1, 2])), a in (list)",
        "print a has_any (\"x\", \"y\"), a has_all (\"x\"), a has_any(list)",
        "print a between (1 .. 10), a !between (ago(1d) .. now()), a between(1..2)",
        "print a in (1) and b or c == d + 1",
        "print not(a), not (a or b), isnotempty(x)",
        "print d.a.b, d[\"a\"][0], d['a'].b, $left.x, d.['a b'], d.[k], split(s, \",\")[-1]",
        "print arg_max(x, *), take_any(*), pack_all(), count(), dcount(x, 2)",
        "print typeof(long), extract(\"(\\\\d+)\", 1, s, typeof(int))",
        "print ['a b'], [\"c\"], [@\"d\"]",
        "print type, kind, count, by, on, with",
        "print iff(a, b, c), case(a, 1, b, 2, 3)",
        "print \"a\" \"b\" 'c' @\"d\"",
    ]));
}

#[test]
fn literals_snapshot() {
    insta::assert_snapshot!(render_all(&[
        "print 1, 0x10, 0xFFFFFFFFFFFFFFFF, 1.5, 1e3, 10., 9223372036854775807, -9223372036854775808",
        "print int(5), int(-5), int(null), long(5), long(-9223372036854775808), long(null), int64(1)",
        "print real(1.5), real(-2), real(nan), real(+inf), real(-inf), real(null), double(2), double(-1.0)",
        "print decimal(1.5), decimal(-0.10), decimal(null), decimal(3)",
        "print bool(true), bool(false), bool(null), boolean(1), true, false, True, FALSE",
        "print datetime(2020-01-01), datetime(2020-01-01 10:00:00.1234567), datetime(\"2020-01-01T10:00:00Z\"), datetime(null)",
        "print timespan(1d), time(1.02:03:04.5), time(00:10:00), time(2), timespan(15 seconds), timespan(null), time(-1h)",
        "print 1d, 2h, 30m, 10s, 100ms, 5microsecond, 1tick, 1.5h, 2min, 3sec, 4hours, 5days, 2ms",
        "print guid(74BE27DE-1E4E-49D9-B579-FE0B331D3642), guid(null)",
        "print dynamic([1, \"a\", {\"k\": 2}, null, true, 1.5, datetime(2020-01-01), 1h, -3, [], {}]), dynamic({}), dynamic(null)",
        "print dynamic({'single': 'quoted', \"nested\": {\"x\": [timespan(1d), guid(null), long(7)]}})",
        "print \"tab\\t\", 'q\\'', @\"C:\\x\", h\"hidden\", ```multi\nline```",
        "print null",
    ]));
}

#[test]
fn precedence() {
    assert_eq!(
        sexpr::expr(&print_expr("a or b and c == d + e * -f")),
        "(or (name a) (and (name b) (== (name c) (+ (name d) (* (name e) (neg (name f)))))))"
    );
    assert_eq!(
        sexpr::expr(&print_expr("a - b - c")),
        "(- (- (name a) (name b)) (name c))"
    );
    assert_eq!(
        sexpr::expr(&print_expr("a / b * c")),
        "(* (/ (name a) (name b)) (name c))"
    );
    assert_eq!(
        sexpr::expr(&print_expr("x in (1) and y !between (1 .. 2)")),
        "(and (in (name x) (1)) (!between (name y) 1 2))"
    );
    assert_eq!(
        sexpr::expr(&print_expr("a has \"x\" or b contains \"y\" and c")),
        "(or (has (name a) \"x\") (and (contains (name b) \"y\") (name c)))"
    );
    assert_eq!(
        sexpr::expr(&print_expr("-a.b[0]")),
        "(neg ([] (. (name a) b) 0))"
    );
}

#[test]
fn typed_literals() {
    assert_eq!(literal("int(5)"), Literal::Int(Some(5)));
    assert_eq!(literal("int(-2147483648)"), Literal::Int(Some(i32::MIN)));
    assert_eq!(literal("long(null)"), Literal::Long(None));
    assert_eq!(
        literal("-9223372036854775808"),
        Literal::Long(Some(i64::MIN))
    );
    assert_eq!(literal("0xFFFFFFFFFFFFFFFF"), Literal::Long(Some(-1)));
    assert_eq!(
        literal("real(-inf)"),
        Literal::Real(Some(f64::NEG_INFINITY))
    );
    assert!(matches!(literal("real(nan)"), Literal::Real(Some(v)) if v.is_nan()));
    assert_eq!(
        literal("decimal(-1.50)"),
        Literal::Decimal(Some("-1.50".into()))
    );
    assert_eq!(literal("bool(null)"), Literal::Bool(None));
    assert_eq!(literal("datetime(null)"), Literal::DateTime(None));
    assert_eq!(literal("timespan(null)"), Literal::TimeSpan(None));
    assert_eq!(literal("guid(null)"), Literal::Guid(None));
    assert_eq!(literal("dynamic(null)"), Literal::Dynamic(DynValue::Null));
    assert_eq!(
        literal("time(2)"),
        Literal::TimeSpan(Some(2 * 864_000_000_000))
    );
    assert_eq!(literal("1.5h"), Literal::TimeSpan(Some(54_000_000_000)));
    assert_eq!(literal("-1d"), Literal::TimeSpan(Some(-864_000_000_000)));
    assert_eq!(
        literal("datetime( 2020-01-01 10:00 )"),
        Literal::DateTime(Some("2020-01-01 10:00".into()))
    );
    assert_eq!(literal("\"a\" 'b'"), Literal::String("ab".into()));
    // Not literal forms: ordinary calls, left to the binder.
    assert!(matches!(print_expr("int(x)").kind, ExprKind::Call { .. }));
    assert!(matches!(
        print_expr("real(1 + 2)").kind,
        ExprKind::Call { .. }
    ));
}

#[test]
fn keywords_as_names() {
    assert_eq!(
        sx("T | project type, kind, count, ['where'] | where type == \"a\" and kind != 1"),
        "(name T)\n| (project (name type) (name kind) (name count) (name where))\n| (where (and (== (name type) \"a\") (!= (name kind) 1)))"
    );
    assert_eq!(
        sx("T | extend count = 1"),
        "(name T)\n| (extend (= count 1))"
    );
}

#[test]
fn lambdas() {
    let script = clean(
        "let f = (T:(*), U:(a:long, *), x:string = \"d\") { let y = 1; T | take y }; f(T1, T1)",
    );
    let Statement::Let {
        value: LetValue::Function(lambda),
        ..
    } = &script.statements[0]
    else {
        panic!("{:?}", script.statements[0]);
    };
    assert!(!lambda.view);
    assert_eq!(lambda.params.len(), 3);
    assert_eq!(
        lambda.params[0].ty,
        ParamType::Tabular {
            columns: None,
            wildcard: true
        }
    );
    assert!(matches!(
        &lambda.params[1].ty,
        ParamType::Tabular { columns: Some(c), wildcard: true } if c.len() == 1
    ));
    assert!(lambda.params[2].default.is_some());
    assert_eq!(lambda.body.lets.len(), 1);
}

#[test]
fn spans() {
    let text = "T | where a > 10";
    let script = clean(text);
    let Statement::Query(expr) = &script.statements[0] else {
        panic!()
    };
    assert_eq!((expr.span.start, expr.span.end), (0, text.len()));
    let ExprKind::Pipe { op, .. } = &expr.kind else {
        panic!()
    };
    assert_eq!(&text[op.span.start..op.span.end], "where a > 10");
    let OperatorKind::Where(pred) = &op.kind else {
        panic!()
    };
    assert_eq!(&text[pred.span.start..pred.span.end], "a > 10");
    let ExprKind::Binary {
        op: BinaryOp::Gt,
        right,
        ..
    } = &pred.kind
    else {
        panic!()
    };
    assert_eq!(&text[right.span.start..right.span.end], "10");
    assert_eq!((script.span.start, script.span.end), (0, text.len()));
}
