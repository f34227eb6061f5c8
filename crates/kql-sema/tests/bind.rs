//! Binder tests: result schemas (names and KQL types) and diagnostics. Expected schemas
//! were checked against Microsoft's own KQL binder (Kusto.Language) where noted.
#![allow(clippy::unwrap_used)]

use kql_sema::{BindOptions, MemoryCatalog, bind};

fn schema_of(query: &str) -> Result<String, String> {
    let parsed = kql_syntax::parse(query);
    if let Some(d) = parsed.diagnostics.first() {
        return Err(format!("{}: {}", d.code, d.message));
    }
    let cat = MemoryCatalog::defender();
    let bound = bind(&parsed.script, &cat, BindOptions { now_nanos: 0 })
        .map_err(|d| format!("{}: {}", d.code, d.message))?;
    Ok(bound
        .rel
        .schema
        .iter()
        .map(|f| format!("{}:{}", f.name, f.ty))
        .collect::<Vec<_>>()
        .join(", "))
}

fn code_of(query: &str) -> String {
    match schema_of(query) {
        Ok(s) => panic!("expected an error, got {s}"),
        Err(e) => e.split(':').next().unwrap_or_default().to_string(),
    }
}

#[test]
fn summarize_auto_names_match_kusto() {
    // Kusto.Language: Timestamp, count_, dcount_DeviceId, set_FileName, FileName, any_FolderPath,
    // Timestamp1, FileName1, countif_, avg_FileSize, min_Timestamp.
    let s = schema_of(
        "DeviceProcessEvents | summarize count(), dcount(DeviceId), make_set(FileName), take_any(FileName), \
         any(FolderPath), arg_max(Timestamp, FileName), countif(FileSize > 1), avg(FileSize), min(Timestamp) \
         by bin(Timestamp, 1h)",
    )
    .unwrap();
    assert_eq!(
        s,
        "Timestamp:datetime, count_:long, dcount_DeviceId:long, set_FileName:dynamic, FileName:string, \
         any_FolderPath:string, Timestamp1:datetime, FileName1:string, countif_:long, avg_FileSize:real, \
         min_Timestamp:datetime"
    );
}

#[test]
fn summarize_dedupes_and_orders_keys_first() {
    // Kusto.Language: Column1, sum_FileSize, sum_FileSize1, avg_FileSize, max_FileSize, dcount_, count_
    let s = schema_of(
        "DeviceProcessEvents | summarize sum(FileSize), sum(toint(FileSize)), avg(toint(FileSize)), \
         max(toint(FileSize)), dcount(tolower(FileName)), count() by tolower(FileName)",
    )
    .unwrap();
    assert_eq!(
        s,
        "Column1:string, sum_FileSize:long, sum_FileSize1:long, avg_FileSize:real, max_FileSize:int, dcount_:long, count_:long"
    );
}

#[test]
fn arithmetic_widens_int_to_long() {
    // Kusto.Language: a:int, b:int, c:long, d:long, e:long, f:real, g:long
    let s = schema_of("datatable(a:int, b:int)[1,2] | extend c = a + b, d = a * 2, e = a / b, f = a + 1.5, g = -a").unwrap();
    assert_eq!(s, "a:int, b:int, c:long, d:long, e:long, f:real, g:long");
}

#[test]
fn print_names_by_position() {
    let s = schema_of("print 1, x=2, strlen('a'), tolower('a')").unwrap();
    assert_eq!(s, "print_0:long, x:long, print_2:long, print_3:string");
}

#[test]
fn project_names_like_kusto() {
    // Kusto.Language: FileName, Column1, Column2, FileSize, Column3, Timestamp
    let s = schema_of(
        "DeviceProcessEvents | project FileName, tolower(FileName), 1, toint(FileSize), FileSize + 1, bin(Timestamp,1d)",
    )
    .unwrap();
    assert_eq!(
        s,
        "FileName:string, Column1:string, Column2:long, FileSize:int, Column3:long, Timestamp:datetime"
    );
}

#[test]
fn join_renames_right_columns() {
    let s = schema_of("DeviceProcessEvents | join (DeviceNetworkEvents) on DeviceId | project DeviceId, DeviceId1, Timestamp1").unwrap();
    assert_eq!(s, "DeviceId:string, DeviceId1:string, Timestamp1:datetime");
    let s = schema_of(
        "datatable(a:long, b:string)[] | join kind=leftsemi (datatable(a:long, c:string)[]) on a",
    )
    .unwrap();
    assert_eq!(s, "a:long, b:string");
    let s = schema_of("datatable(a:long, b:string)[] | lookup (datatable(x:long, c:string)[]) on $left.a == $right.x").unwrap();
    assert_eq!(s, "a:long, b:string, c:string");
}

#[test]
fn arg_max_star_keeps_all_columns() {
    let s = schema_of("datatable(k:string, t:datetime, v:long)[] | summarize arg_max(t, *) by k")
        .unwrap();
    assert_eq!(s, "k:string, t:datetime, v:long");
}

#[test]
fn let_functions_and_tabular_lets() {
    let s = schema_of(
        "let f = (T:(*), n:long) { T | take n }; let x = datatable(a:long)[1,2,3]; x | invoke f(2) | extend b = a * 2",
    )
    .unwrap();
    assert_eq!(s, "a:long, b:long");
    let s = schema_of("let g = (x:long) { x + 1 }; print g(2)").unwrap();
    assert_eq!(s, "print_0:long");
}

#[test]
fn member_access_names() {
    // Kusto.Language: paths join with `_`, through name-passing functions like parse_json.
    let s = schema_of(
        "datatable(d:dynamic, s:string)[] | extend tostring(d.a), d.b.c, d['x'], parse_json(s).k, d.b[0], todynamic(s).q.r",
    )
    .unwrap();
    assert_eq!(
        s,
        "d:dynamic, s:string, d_a:string, d_b_c:dynamic, d_x:dynamic, s_k:dynamic, d_b_0:dynamic, s_q_r:dynamic"
    );
}

#[test]
fn builtin_defender_functions() {
    let s = schema_of("DeviceFromIP('10.0.0.1')").unwrap();
    assert_eq!(s, "IP:string, DeviceId:string");
}

#[test]
fn diagnostics_have_codes_and_suggestions() {
    assert_eq!(code_of("DeviceProcessEvent | take 1"), "KQL2001");
    assert_eq!(
        code_of("DeviceProcessEvents | where FileNam == 'a'"),
        "KQL2002"
    );
    assert_eq!(code_of("DeviceProcessEvents | where FileSize"), "KQL3001");
    assert_eq!(
        code_of("DeviceProcessEvents | evaluate some_plugin()"),
        "KQL4001"
    );
    let parsed = kql_syntax::parse("DeviceProcessEvents | where FileNam == 'a'");
    let d = bind(
        &parsed.script,
        &MemoryCatalog::defender(),
        BindOptions { now_nanos: 0 },
    )
    .unwrap_err();
    assert_eq!(d.help.as_deref(), Some("did you mean 'FileName'?"));
}

#[test]
fn newer_operators_schemas_match_kusto() {
    // Each expectation is Kusto.Language's result schema for the same query.
    let cases = [
        (
            "datatable(t:datetime, v:long, k:string)[] | make-series s = sum(v) default = 0, avg(v) on t from datetime(2021-01-01) to datetime(2021-01-03) step 1d by k",
            "k:string, s:dynamic, avg_v:dynamic, t:dynamic",
        ),
        (
            "datatable(cat:string, sub:string, v:long)[] | top-nested 2 of cat by Tot=sum(v), top-nested 1 of sub by sum(v)",
            "cat:string, Tot:long, sub:string, aggregated_sub:long",
        ),
        (
            "datatable(s:string)[] | parse-kv s as (a:int, b:string) with (pair_delimiter=';', kv_delimiter='=')",
            "s:string, a:int, b:string",
        ),
        (
            "datatable(s:string, n:long)[] | search 'a'",
            "$table:string, s:string, n:long",
        ),
        (
            "datatable(k:string, v:long)[] | partition by k (summarize c=count())",
            "c:long",
        ),
        (
            "datatable(k:string, v:long)[] | partition by k (top 1 by v)",
            "k:string, v:long",
        ),
        (
            "datatable(a:long, d:dynamic)[] | mv-apply d to typeof(long) on (summarize m = max(d))",
            "a:long, m:long",
        ),
        (
            "union (datatable(a:long, b:string)[]), (datatable(a:string, c:long)[])",
            "a_long:long, a_string:string, b:string, c:long",
        ),
        (
            "union withsource=T (datatable(a:long, b:string)[]), (datatable(a:long, c:long)[])",
            "T:string, a:long, b:string, c:long",
        ),
        (
            "datatable(a:long, b:string)[] | getschema",
            "ColumnName:string, ColumnOrdinal:long, DataType:string, ColumnType:string",
        ),
        (
            "datatable(s:string)[] | parse s with 'a' x:long ',' y '.' *",
            "s:string, x:long, y:string",
        ),
        (
            "datatable(s:string)[] | distinct s, strlen(s)",
            "s:string, strlen_s:long",
        ),
        ("datatable(s:string)[] | count", "Count:long"),
    ];
    for (q, want) in cases {
        assert_eq!(schema_of(q).unwrap_or_else(|e| e), want, "query: {q}");
    }
}

#[test]
fn bag_unpack_without_data_assumes_the_names_used_later() {
    // Kusto.Language: the input's columns without the bag, then the names used later
    // (their type is unknown to it; dynamic here).
    let s = schema_of(
        "EmailEvents | project NetworkMessageId, AR = parse_json(AuthenticationDetails) \
         | evaluate bag_unpack(AR) | where SPF == 'fail' or DKIM == 'fail' | project NetworkMessageId, SPF, DKIM",
    )
    .unwrap();
    assert_eq!(s, "NetworkMessageId:string, SPF:dynamic, DKIM:dynamic");
    // A declared schema is used as written.
    let s = schema_of("print d = dynamic({'a': 1}) | evaluate bag_unpack(d) : (a:long, b:string)")
        .unwrap();
    assert_eq!(s, "a:long, b:string");
    // Names nobody uses after the operator are still unknown before it.
    assert_eq!(
        code_of("print d = dynamic({'a': 1}) | where nope == 1 | evaluate bag_unpack(d)"),
        "KQL2002"
    );
}

#[test]
fn pivot_without_data_keeps_the_group_columns() {
    // Kusto.Language: DeviceName (the values of ActionType become columns at run time).
    let s = schema_of("DeviceEvents | project DeviceName, ActionType | evaluate pivot(ActionType)")
        .unwrap();
    assert_eq!(s, "DeviceName:string");
    let s = schema_of(
        "DeviceEvents | project DeviceName, ActionType | evaluate pivot(ActionType) : (DeviceName:string, A:long)",
    )
    .unwrap();
    assert_eq!(s, "DeviceName:string, A:long");
}

#[test]
fn union_name_types_follow_kusto() {
    // Kusto.Language: differing types give name_type columns...
    let s = schema_of("union (datatable(x:string)['a']), (datatable(x:long)[1])").unwrap();
    assert_eq!(s, "x_string:string, x_long:long");
    // ... unless two inputs already agreed on the type, which then stays.
    let s = schema_of(
        "union (datatable(x:string)['a']), (datatable(x:string)['b']), (datatable(x:long)[1])",
    )
    .unwrap();
    assert_eq!(s, "x:string");
}

#[test]
fn parse_never_replaces_a_column() {
    // Kusto.Language: s:dynamic, s1:string.
    let s = schema_of("print s = dynamic('a://b') | parse s with * '://' s:string").unwrap();
    assert_eq!(s, "s:dynamic, s1:string");
}
