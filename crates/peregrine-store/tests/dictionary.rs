//! Dictionary columns: the store writes names and paths as Parquet dictionaries, and scan
//! filters over them are evaluated once per distinct value (`kql_engine::dictscan`). The
//! answers must be the ones the same filter gives over a plain string column.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{open, rows};
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
    for i in 0..2_000usize {
        let mut row = json!({
            "Timestamp": format!("{}T{:02}:00:00Z", day(1 + (i % 2) as i64), i % 24),
            "ReportId": i,
        });
        if let Some(v) = VALUES[i % VALUES.len()] {
            // FileName and FolderPath are dictionary columns, ProcessCommandLine is not.
            row["FileName"] = Value::from(v);
            row["FolderPath"] = Value::from(v);
            row["ProcessCommandLine"] = Value::from(v);
        }
        lines.push(row.to_string());
    }
    let records = parse_records(&lines.join("\n")).unwrap();
    store
        .ingest("default", "DeviceProcessEvents", &records)
        .unwrap();

    // The files say so: dictionaries for names and paths, plain strings for command lines.
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
            ("ProcessCommandLine", false),
            ("SHA256", false),
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
        let plain = count(&store, &q("ProcessCommandLine")).await;
        assert!(plain != "0" || p.contains("isnull"), "{p} selects nothing");
        if p.contains("isnull") {
            assert_eq!(plain, "0", "strings are never null");
        }
        for col in ["FileName", "FolderPath"] {
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
    let plain = column(&store, &groups("ProcessCommandLine")).await;
    assert!(plain.contains(&"=364".to_string()), "{plain:?}");
    assert_eq!(plain.len(), VALUES.len() - 1, "{plain:?}");
    for col in ["FileName", "FolderPath"] {
        assert_eq!(column(&store, &groups(col)).await, plain, "{col}");
    }
    assert_eq!(
        count(
            &store,
            "DeviceProcessEvents | where isnull(FileName) or isnull(ProcessCommandLine) | count"
        )
        .await,
        "0"
    );
}
