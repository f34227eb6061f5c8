//! Dictionary columns: the store declares string columns whose pages stayed
//! dictionary-encoded as dictionaries, scan filters over them are evaluated once per
//! distinct value (`kql_engine::dictscan`) and `summarize … by` them groups by keys
//! (`kql_engine::dictagg`). The answers must be the ones the same query gives over the
//! same values in memory (a `datatable`) and over a plain string column.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{explain, open, rows};
use datafusion::arrow::datatypes::DataType;
use peregrine_store::{Store, parse_records};
use serde_json::{Value, json};

/// The first column of `query`'s rows.
async fn column(store: &Arc<Store>, query: &str) -> Vec<String> {
    rows(store, query)
        .await
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect()
}

/// The one value `query` returns.
async fn count(store: &Arc<Store>, query: &str) -> String {
    column(store, query)
        .await
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// Values with every case the per-value path could get wrong: ASCII case, empty, missing
/// (null), a Kelvin sign that lower-cases to ASCII `k`, other non-ASCII text, terms.
const VALUES: &[Option<&str>] = &[
    Some("powershell.exe"),
    Some("PowerShell.EXE"),
    Some("cmd.exe"),
    Some("CMD.EXE"),
    Some(""),
    None,
    Some("\u{212A}ernel.exe"),
    Some("kernel.exe"),
    Some("Ünïcode.exe"),
    Some("a b shell.exe"),
    Some(r"C:\ProgramData\x.exe"),
];

#[tokio::test]
async fn filters_on_dictionary_columns_match_the_same_filters_on_plain_strings() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let day = |d: i64| (chrono::Utc::now() - chrono::Duration::days(d)).format("%Y-%m-%d");
    let mut lines = Vec::new();
    // The same rows in memory: `COL` and `ReportId`.
    let mut literal = Vec::new();
    for i in 0..2_000usize {
        let v = VALUES[i % VALUES.len()].unwrap_or_default();
        // Two more dictionary columns that vary differently, for distinct counts and
        // pairs of keys.
        let device = format!("host-{}", (i / 3) % 7);
        let account = format!("user-{}", (i * 5 / 2) % 4);
        literal.push(format!("@\"{v}\", {i}, '{device}', '{account}'"));
        let mut row = json!({
            "Timestamp": format!("{}T{:02}:00:00Z", day(1 + (i % 2) as i64), i % 24),
            "ReportId": i,
            "DeviceName": device,
            "AccountName": account,
        });
        if let Some(v) = VALUES[i % VALUES.len()] {
            // FileName and FolderPath are dictionary columns, ProcessCommandLine is not.
            row["FileName"] = Value::from(v);
            row["FolderPath"] = Value::from(v);
            row["ProcessCommandLine"] = Value::from(v);
        }
        // Unique and long: the writer gives up its dictionary, the column stays plain.
        row["InitiatingProcessCommandLine"] = Value::from(format!("{i:05} {}", "x".repeat(3000)));
        lines.push(row.to_string());
    }
    let records = parse_records(&lines.join("\n")).unwrap();
    store
        .ingest("default", "DeviceProcessEvents", &records)
        .unwrap();

    let in_memory = format!(
        "datatable(COL:string, ReportId:long, DeviceName:string, AccountName:string)[{}]",
        literal.join(", ")
    );

    // The files say so: dictionaries where every page stayed dictionary-encoded (repeated
    // values, or all empty), plain strings where the writer gave up.
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap();
    let files = store
        .files_in_window("default", "DeviceProcessEvents", now)
        .unwrap();
    assert_eq!(files.len(), 2);
    for f in &files {
        let reader =
            datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                std::fs::File::open(f).unwrap(),
            )
            .unwrap();
        let schema = reader.schema();
        for (name, dict) in [
            ("FileName", true),
            ("FolderPath", true),
            ("DeviceId", true),
            ("ProcessCommandLine", true),
            ("SHA256", true),
            ("InitiatingProcessCommandLine", false),
        ] {
            let ty = schema.field_with_name(name).unwrap().data_type();
            assert_eq!(
                matches!(ty, DataType::Dictionary(_, _)),
                dict,
                "{name}: {ty}"
            );
        }
    }

    let predicates = [
        r#"COL =~ "powershell.exe""#,
        r#"COL == "powershell.exe""#,
        r#"COL != "cmd.exe""#,
        r#"COL !~ "CMD.EXE""#,
        r#"isempty(COL)"#,
        r#"isnotempty(COL)"#,
        r#"isnull(COL)"#,
        r#"COL in~ ("cmd.exe", "kernel.exe")"#,
        r#"COL in ("cmd.exe", "")"#,
        r#"COL !in~ ("cmd.exe")"#,
        r#"COL startswith "power""#,
        r#"COL startswith_cs "Power""#,
        r#"COL endswith ".EXE""#,
        r#"COL has "shell""#,
        r#"COL !has "shell""#,
        r#"COL hasprefix "pow""#,
        r#"COL contains "SHELL""#,
        r#"COL contains_cs "Shell""#,
        r#"COL matches regex @"^[a-z]+\.exe$""#,
        r#"strlen(COL) > 7"#,
        r#"strlen(COL) >= 0"#,
        r#"tolower(COL) == "kernel.exe""#,
        r#"COL startswith @"C:\ProgramData\""#,
        r#"COL == "" or COL startswith "c""#,
        r#"not(COL has "cmd") and ReportId % 3 == 1"#,
    ];
    for p in predicates {
        let q = |col: &str| {
            format!(
                "DeviceProcessEvents | where {} | count",
                p.replace("COL", col)
            )
        };
        let plain = count(&store, &format!("{in_memory} | where {p} | count")).await;
        assert!(plain != "0" || p.contains("isnull"), "{p} selects nothing");
        if p.contains(">= 0") {
            assert_eq!(plain, "2000", "every row passes");
        }
        if p.contains("isnull") {
            assert_eq!(plain, "0", "strings are never null");
        }
        for col in ["FileName", "FolderPath", "ProcessCommandLine"] {
            assert_eq!(count(&store, &q(col)).await, plain, "{p} on {col}");
        }
    }

    // Grouping reads the dictionary columns as strings, the same as plain ones; a missing
    // string was stored as "" and groups with the empty ones.
    let groups = |col: &str| {
        format!(
            "DeviceProcessEvents | summarize n = count() by V = {col} | project s = strcat(V, '=', n) | order by s asc"
        )
    };
    let plain = column(
        &store,
        &format!(
            "{in_memory} | summarize n = count() by V = COL | project s = strcat(V, '=', n) | order by s asc"
        ),
    )
    .await;
    assert!(plain.contains(&"=364".to_string()), "{plain:?}");
    assert_eq!(plain.len(), VALUES.len() - 1, "{plain:?}");
    for col in ["FileName", "FolderPath", "ProcessCommandLine"] {
        assert_eq!(column(&store, &groups(col)).await, plain, "{col}");
    }
    // Names and paths are grouped by their dictionary keys; the others as strings.
    for (col, by_keys) in [
        ("FileName", true),
        ("FolderPath", true),
        ("ProcessCommandLine", false),
    ] {
        let plan = explain(&store, &groups(col)).await;
        assert_eq!(plan.contains("DictAggregateExec"), by_keys, "{col}: {plan}");
    }
    // Distinct counts and several keys, with other aggregates and a filter beside them:
    // the same answers as in memory. (InitiatingProcessCommandLine is plain in the files:
    // such a column is grouped from a one-row-per-value dictionary.)
    let wide = |source: &str, a: &str, b: &str| {
        format!(
            "{source} | where ReportId % 5 != 0 | summarize n = count(), d = dcount({b}), m = max(ReportId), c = countif(ReportId > 1000) by {a}, {b} \
             | project s = strcat({a}, '|', {b}, '=', n, '/', d, '/', m, '/', c) | order by s asc"
        )
    };
    let expected = column(
        &store,
        &wide(
            &format!("{in_memory} | extend B = tolower(COL)"),
            "COL",
            "B",
        ),
    )
    .await;
    assert!(expected.len() > 5, "{expected:?}");
    let stored = wide(
        "DeviceProcessEvents | extend COL = FileName, B = tolower(FolderPath)",
        "COL",
        "B",
    );
    assert_eq!(column(&store, &stored).await, expected);
    let by_keys = |source: &str| {
        format!(
            "{source} | where ReportId % 5 != 0 \
             | summarize n = count(), d = dcount(DeviceName), c = countif(ReportId > 1000) by FileName, AccountName \
             | project s = strcat(FileName, '|', AccountName, '=', n, '/', d, '/', c) | order by s asc"
        )
    };
    let by_keys_stored = by_keys("DeviceProcessEvents");
    let plan = explain(&store, &by_keys_stored).await;
    assert!(plan.contains("DictAggregateExec"), "{plan}");
    let expected = column(
        &store,
        &by_keys(&format!("{in_memory} | extend FileName = COL")),
    )
    .await;
    // Several distinct devices per group (a count of one would hide a wrong answer).
    assert!(expected.iter().all(|s| !s.contains("/1/")), "{expected:?}");
    assert_eq!(column(&store, &by_keys_stored).await, expected);
    let by_one_key = |source: &str| {
        format!(
            "{source} | summarize d = dcount(DeviceName), n = count() by AccountName \
             | project s = strcat(AccountName, '=', d, '/', n) | order by s asc"
        )
    };
    // Computed keys move into the scan (each evaluated once per distinct value there).
    let computed = |source: &str| {
        format!(
            "{source} | where ReportId % 3 != 0 \
             | summarize n = count(), d = dcount(DeviceName), m = max(ReportId) by K = tolower(FileName), L = strlen(FileName) % 4 \
             | project s = strcat(K, '|', L, '=', n, '/', d, '/', m) | order by s asc"
        )
    };
    let plan = explain(&store, &computed("DeviceProcessEvents")).await;
    assert!(plan.contains("__kql_key0"), "{plan}");
    let expected = column(
        &store,
        &computed(&format!("{in_memory} | extend FileName = COL")),
    )
    .await;
    assert!(expected.len() > 5, "{expected:?}");
    assert_eq!(
        column(&store, &computed("DeviceProcessEvents")).await,
        expected
    );
    let plan = explain(&store, &by_one_key("DeviceProcessEvents")).await;
    assert!(plan.contains("DictAggregateExec"), "{plan}");
    assert_eq!(
        column(&store, &by_one_key("DeviceProcessEvents")).await,
        column(&store, &by_one_key(&in_memory)).await
    );
    assert_eq!(
        count(
            &store,
            "DeviceProcessEvents | where isnull(FileName) or isnull(ProcessCommandLine) | count"
        )
        .await,
        "0"
    );

    // A scan filter over dictionary and fixed-width columns, under an aggregation that
    // reads only dictionary columns, moves into the scan's projection (`__kql_pass`) and
    // the aggregation drops the rows that fail it: the same answers as in memory, for
    // filters that pass some, none or every row of a dictionary.
    let filtered = |source: &str, filter: &str| {
        format!(
            "{source} | where {filter} | summarize n = count(), d = dcount(AccountName) by DeviceName, FileName \
             | project s = strcat(DeviceName, '|', FileName, '=', n, '/', d) | order by s asc"
        )
    };
    let stored_as = "DeviceProcessEvents | extend COL = FolderPath";
    let memory_as = format!("{in_memory} | extend FileName = COL");
    for filter in [
        r#"COL startswith @"C:\ProgramData\""#,
        r#"COL =~ "powershell.exe" and ReportId % 4 != 1"#,
        r#"COL in~ ("cmd.exe", "kernel.exe") or DeviceName == "host-3""#,
        r#"COL == "no such file""#,
        r#"strlen(COL) >= 0"#,
        r#"isempty(COL)"#,
    ] {
        let stored = filtered(stored_as, filter);
        let plan = explain(&store, &stored).await;
        assert!(plan.contains("where=__kql_pass@"), "{filter}: {plan}");
        assert!(plan.contains(" as __kql_pass"), "{filter}: {plan}");
        let expected = column(&store, &filtered(&memory_as, filter)).await;
        assert_eq!(column(&store, &stored).await, expected, "{filter}");
        if filter.contains("no such") {
            assert!(expected.is_empty());
        } else {
            assert!(!expected.is_empty(), "{filter}");
        }
    }
    // A scan that stops after some rows keeps its filter: `take` counts passing rows.
    // (One file, so the limit lands in the scan itself, right under the aggregation.)
    let one_file: Vec<String> = (0..100)
        .map(|i| {
            let name = ["a.exe", "b.exe", "c.exe"][i % 3];
            json!({
                "Timestamp": format!("{}T01:00:00Z", day(1)),
                "FileName": name,
            })
            .to_string()
        })
        .collect();
    store
        .ingest(
            "default",
            "DeviceFileEvents",
            &parse_records(&one_file.join("\n")).unwrap(),
        )
        .unwrap();
    let taken = "DeviceFileEvents | where FileName =~ \"A.EXE\" | take 5 \
                 | summarize n = count() by FileName";
    let plan = explain(&store, taken).await;
    assert!(plan.contains("limit=5"), "{plan}");
    assert!(plan.contains("DictAggregateExec"), "{plan}");
    assert_eq!(rows(&store, taken).await, vec![vec!["a.exe", "5"]]);
    // A filter over a long-string column stays in the Parquet reader (moving it would
    // decode that column for every row), and an aggregate over a column that is not a
    // dictionary keeps the filter there too.
    for stored in [
        filtered(stored_as, r#"ProcessCommandLine has "shell""#),
        r#"DeviceProcessEvents | where FileName =~ "cmd.exe" | summarize max(ReportId) by DeviceName"#
            .to_string(),
    ] {
        let plan = explain(&store, &stored).await;
        assert!(plan.contains("DictAggregateExec"), "{stored}: {plan}");
        assert!(!plan.contains("__kql_pass"), "{stored}: {plan}");
    }
    // A union of scans where only one filter can move: the other scan passes every row
    // it reads (`true`), and keeps its own filter.
    let union = |a: &str, b: &str| {
        format!(
            "union ({a} | where FileName =~ \"cmd.exe\" | project DeviceName), \
                   ({b} | where ProcessCommandLine has \"shell\" | project DeviceName) \
             | summarize n = count() by DeviceName | project s = strcat(DeviceName, '=', n) | order by s asc"
        )
    };
    let stored = union("DeviceProcessEvents", "DeviceProcessEvents");
    let plan = explain(&store, &stored).await;
    assert!(plan.contains("where=__kql_pass@"), "{plan}");
    assert!(plan.contains("true as __kql_pass"), "{plan}");
    let expected = column(
        &store,
        &union(
            &memory_as,
            &format!("{memory_as} | extend ProcessCommandLine = COL"),
        ),
    )
    .await;
    assert!(!expected.is_empty());
    assert_eq!(column(&store, &stored).await, expected);
}
