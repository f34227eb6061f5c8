//! The store end to end: ingest, then query through the KQL engine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{open, rows};
use peregrine_store::{Store, StoreConfig, parse_records};
use serde_json::json;

fn iso(days_ago: i64, hour: u32) -> String {
    let t = chrono::Utc::now() - chrono::Duration::days(days_ago);
    format!("{}T{hour:02}:00:00Z", t.format("%Y-%m-%d"))
}

fn parquet_files(dir: &Path) -> usize {
    let mut n = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                n += parquet_files(&p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                n += 1;
            }
        }
    }
    n
}

#[tokio::test]
async fn ingested_events_are_queryable_per_day_partition() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let text = [
        json!({"Timestamp": iso(1, 10), "DeviceName": "ws1", "FileName": "cmd.exe", "ProcessId": 10}),
        json!({"Timestamp": iso(1, 11), "DeviceName": "ws1", "FileName": "powershell.exe", "ProcessId": "11"}),
        json!({"Timestamp": iso(2, 9), "DeviceName": "ws2", "FileName": "cmd.exe", "AdditionalFields": "{\"a\":1}"}),
    ]
    .iter()
    .map(|v| v.to_string())
    .collect::<Vec<_>>()
    .join("\n");
    let records = parse_records(&text).unwrap();
    let report = store
        .ingest("default", "DeviceProcessEvents", &records)
        .unwrap();
    assert_eq!(report.events(), 3);
    assert_eq!(report.files, 2, "one file per day");
    let table = store.table_dir("default", "DeviceProcessEvents").unwrap();
    assert_eq!(parquet_files(&table), 2);
    assert_eq!(
        rows(
            &store,
            "DeviceProcessEvents | summarize n = count() by FileName | sort by FileName asc"
        )
        .await,
        vec![vec!["cmd.exe", "2"], vec!["powershell.exe", "1"]]
    );
    // Strings given for longs are converted.
    assert_eq!(
        rows(
            &store,
            "DeviceProcessEvents | where isnotempty(AdditionalFields) | project a = toint(parse_json(AdditionalFields).a), DeviceName"
        )
        .await,
        vec![vec!["1", "ws2"]]
    );
    assert_eq!(
        rows(
            &store,
            "DeviceProcessEvents | where ProcessId == 11 | project FileName"
        )
        .await,
        vec![vec!["powershell.exe"]]
    );
}

#[tokio::test]
async fn bad_records_are_reported_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let good = json!({"Timestamp": iso(1, 1), "DeviceName": "ws1"});
    let bad_type = json!({"Timestamp": iso(1, 1), "ProcessId": "not a number"});
    let unknown = json!({"Timestamp": iso(1, 1), "NoSuchColumn": 1});
    let no_time = json!({"DeviceName": "ws1"});
    let records = vec![(1, good), (2, bad_type), (3, unknown), (4, no_time)];
    let e = store
        .ingest("default", "DeviceProcessEvents", &records)
        .unwrap_err();
    assert_eq!(e.code, "InvalidRecords");
    let found: Vec<(usize, Option<&str>, &str)> = e
        .errors
        .iter()
        .map(|l| (l.line, l.column.as_deref(), l.code))
        .collect();
    assert_eq!(
        found,
        vec![
            (2, Some("ProcessId"), "TypeMismatch"),
            (3, Some("NoSuchColumn"), "UnknownColumn"),
            (4, Some("Timestamp"), "MissingTimestamp"),
        ]
    );
    assert_eq!(parquet_files(dir.path()), 0);
    let e = store
        .ingest("default", "NoSuchTable", &[(1, json!({}))])
        .unwrap_err();
    assert_eq!(e.code, "UnknownTable");
    let e = parse_records("{\"Timestamp\": 1}\n{not json").unwrap_err();
    assert_eq!(e.code, "InvalidJson");
    assert_eq!(e.errors[0].line, 2);
    assert_eq!(
        rows(&store, "DeviceProcessEvents | count").await,
        vec![vec!["0"]]
    );
}

#[tokio::test]
async fn only_the_window_is_visible_and_retention_drops_old_days() {
    let dir = tempfile::tempdir().unwrap();
    let catalog: Arc<dyn kql_sema::Catalog> = Arc::new(kql_sema::MemoryCatalog::defender());
    let config = StoreConfig {
        window_days: 30,
        retention_days: 40,
        ..StoreConfig::default()
    };
    let store = Arc::new(Store::open(dir.path(), catalog, config).unwrap());
    // The window's first day: an event a minute before its start is filtered out, one a
    // minute after it is visible (the other days are read unfiltered).
    let edge = chrono::Utc::now() - chrono::Duration::days(30);
    let at = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339();
    let edge_records = vec![
        (
            1,
            json!({"Timestamp": at(edge - chrono::Duration::minutes(1)), "DeviceName": "before"}),
        ),
        (
            2,
            json!({"Timestamp": at(edge + chrono::Duration::minutes(1)), "DeviceName": "after"}),
        ),
    ];
    store
        .ingest("default", "DeviceNetworkInfo", &edge_records)
        .unwrap();
    assert_eq!(
        rows(&store, "DeviceNetworkInfo | project DeviceName").await,
        vec![vec!["after"]]
    );
    let records: Vec<_> = [1, 29, 31, 45]
        .iter()
        .enumerate()
        .map(|(i, d)| {
            (
                i + 1,
                json!({"Timestamp": iso(*d, 12), "DeviceName": format!("d{d}")}),
            )
        })
        .collect();
    store.ingest("default", "DeviceInfo", &records).unwrap();
    assert_eq!(
        rows(
            &store,
            "DeviceInfo | project DeviceName | sort by DeviceName asc"
        )
        .await,
        vec![vec!["d1"], vec!["d29"]]
    );
    // The 45-day-old partition was dropped as soon as the ingest committed.
    assert_eq!(
        parquet_files(&store.table_dir("default", "DeviceInfo").unwrap()),
        3
    );
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap();
    assert_eq!(store.enforce_retention("default", now).unwrap(), 0);
    // Ten days later, the 31-day-old partition is past the retention too.
    let later = now + 10 * 86_400_000_000_000;
    assert_eq!(store.enforce_retention("default", later).unwrap(), 1);
    assert_eq!(
        parquet_files(&store.table_dir("default", "DeviceInfo").unwrap()),
        2
    );
}

#[tokio::test]
async fn the_streaming_envelope_routes_records_by_category() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let body = json!({"records": [
        {"time": iso(1, 3), "tenantId": "t", "operationName": "Publish", "category": "AdvancedHunting-DeviceInfo",
         "properties": {"Timestamp": iso(1, 3), "DeviceName": "ws1"}},
        {"time": iso(1, 3), "tenantId": "t", "operationName": "Publish", "category": "AdvancedHunting-EmailEvents",
         "properties": {"Timestamp": iso(1, 3), "Subject": "hello"}},
    ]});
    let report = store.ingest_envelope("default", &body).unwrap();
    assert_eq!(report.events(), 2);
    assert_eq!(
        rows(&store, "EmailEvents | project Subject").await,
        vec![vec!["hello"]]
    );
    // One bad record refuses the whole request.
    let bad = json!({"records": [
        {"category": "AdvancedHunting-DeviceInfo", "properties": {"Timestamp": iso(1, 3), "DeviceName": "ws2"}},
        {"category": "AdvancedHunting-NoSuchTable", "properties": {}},
    ]});
    let e = store.ingest_envelope("default", &bad).unwrap_err();
    assert_eq!(e.errors[0].code, "UnknownTable");
    assert_eq!(rows(&store, "DeviceInfo | count").await, vec![vec!["1"]]);
}

#[test]
fn an_unfinished_ingest_leaves_nothing_and_reopening_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let schema = kql_sema::Catalog::table(store.catalog().as_ref(), "DeviceInfo").unwrap();
    let mut b = peregrine_store::records::TableBatchBuilder::new(&schema);
    b.add(1, &json!({"Timestamp": iso(1, 1), "DeviceName": "x"}))
        .unwrap();
    let batch = b.finish().unwrap();
    // Staged but never committed (as if the process died): a leftover staging directory.
    let mut tx = store.begin("default").unwrap();
    tx.stage("DeviceInfo", &batch).unwrap();
    std::mem::forget(tx);
    assert_eq!(
        parquet_files(&dir.path().join("default").join("_staging")),
        1
    );
    drop(store);
    let _store = open(dir.path());
    assert!(!dir.path().join("default").join("_staging").exists());
    assert_eq!(parquet_files(dir.path()), 0);
}

/// The ReportIds of a table's live files, in file order then row order.
fn report_ids(store: &Store, table: &str) -> Vec<i64> {
    use datafusion::arrow::array::{Array, Int64Array};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap();
    let mut files = store.files_in_window("default", table, now).unwrap();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let ids = batch
                .column_by_name("ReportId")
                .unwrap()
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap();
            out.extend((0..ids.len()).map(|i| ids.value(i)));
        }
    }
    out
}

#[tokio::test]
async fn ndjson_parsed_in_parallel_blocks_keeps_the_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let t = iso(1, 3);
    let mut text = String::new();
    for id in 0..1000 {
        if id % 7 == 0 {
            text.push_str("\n  \n");
        }
        text.push_str(&format!(
            "{{\"Timestamp\":\"{t}\",\"ReportId\":{id},\"FolderPath\":\"C:\\\\Windows\\\\p{id}.exe\"}}\n"
        ));
    }
    let mut calls = 0;
    let report = store
        .ingest_ndjson(
            "default",
            "DeviceProcessEvents",
            std::io::Cursor::new(text),
            64,
            |_, _| calls += 1,
        )
        .unwrap();
    assert_eq!(report.events(), 1000);
    assert!(calls > 1);
    assert_eq!(
        report_ids(&store, "DeviceProcessEvents"),
        (0..1000).collect::<Vec<i64>>()
    );
    assert_eq!(
        rows(
            &store,
            "DeviceProcessEvents | where ReportId == 999 | project FolderPath"
        )
        .await,
        vec![vec!["C:\\Windows\\p999.exe"]]
    );
}

#[test]
fn ndjson_problems_in_several_blocks_are_reported_in_line_order_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let t = iso(1, 3);
    let mut lines: Vec<String> = (0..100)
        .map(|id| format!("{{\"Timestamp\":\"{t}\",\"ReportId\":{id}}}"))
        .collect();
    lines[2] = format!("{{\"Timestamp\":\"{t}\",\"ReportId\":\"x\",\"Nope\":1}}");
    lines[40] = "{\"Timestamp\":".into();
    lines[41] = String::new();
    lines[77] = "{\"ReportId\":5}".into();
    lines[99] = "[1]".into();
    let e = store
        .ingest_ndjson(
            "default",
            "DeviceProcessEvents",
            std::io::Cursor::new(lines.join("\n")),
            8,
            |_, _| {},
        )
        .unwrap_err();
    assert_eq!(e.code, "InvalidRecords");
    let found: Vec<(usize, Option<&str>, &str)> = e
        .errors
        .iter()
        .map(|l| (l.line, l.column.as_deref(), l.code))
        .collect();
    assert_eq!(
        found,
        vec![
            (3, Some("ReportId"), "TypeMismatch"),
            (3, Some("Nope"), "UnknownColumn"),
            (41, None, "InvalidJson"),
            (78, Some("Timestamp"), "MissingTimestamp"),
            (100, None, "InvalidRecord"),
        ]
    );
    assert_eq!(e.errors[0].message, "expected a long value, got \"x\"");
    assert_eq!(parquet_files(dir.path()), 0);

    // A line that is not UTF-8 stops the reading: the one problem reported.
    let mut bytes = lines[..30].join("\n").into_bytes();
    bytes.extend_from_slice(b"\n{\"DeviceName\":\"\xff\"}\n");
    let e = store
        .ingest_ndjson(
            "default",
            "DeviceProcessEvents",
            std::io::Cursor::new(bytes),
            8,
            |_, _| {},
        )
        .unwrap_err();
    let found: Vec<(usize, &str)> = e.errors.iter().map(|l| (l.line, l.code)).collect();
    assert_eq!(found, vec![(31, "InvalidJson")]);
    assert_eq!(parquet_files(dir.path()), 0);
    let e = store
        .ingest_ndjson(
            "default",
            "DeviceProcessEvents",
            std::io::Cursor::new("\n\n"),
            8,
            |_, _| {},
        )
        .unwrap_err();
    assert_eq!(e.code, "EmptyRequest");
}

#[test]
fn client_bodies_json_array_ndjson_envelope_and_their_limits() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = json!({"Timestamp": iso(1, 10), "FileName": "a.exe", "ReportId": 1});
    let b = json!({"Timestamp": iso(1, 11), "FileName": "b.exe", "ReportId": 2});
    let t = "DeviceProcessEvents";
    // a JSON array (after blank space) and NDJSON (with a blank first line)
    let array = format!("\n  [{a}, {b}]");
    let r = store
        .ingest_body("default", t, array.as_bytes(), 1 << 20, |_, _| {})
        .unwrap();
    assert_eq!(r.events(), 2);
    let ndjson = format!("\n{a}\n{b}\n");
    let r = store
        .ingest_body("default", t, ndjson.as_bytes(), 1 << 20, |_, _| {})
        .unwrap();
    assert_eq!(r.events(), 2);
    // NDJSON line numbers count the blank lines; the type's name is in the report
    let bad = format!(
        "\n{a}\n{}\n",
        json!({"Timestamp": iso(1, 12), "ReportId": "x"})
    );
    let e = store
        .ingest_body("default", t, bad.as_bytes(), 1 << 20, |_, _| {})
        .unwrap_err();
    assert_eq!(e.code, "InvalidRecords");
    assert_eq!(
        (
            e.errors[0].line,
            e.errors[0].column.as_deref(),
            e.errors[0].code
        ),
        (3, Some("ReportId"), "TypeMismatch")
    );
    assert_eq!(e.errors[0].expected.as_deref(), Some("long"));
    // a JSON array over the limit, a body that is not UTF-8
    let e = store
        .ingest_body("default", t, array.as_bytes(), 10, |_, _| {})
        .unwrap_err();
    assert_eq!(e.code, "RequestTooLarge");
    let e = store
        .ingest_body(
            "default",
            t,
            &b"[\n{\"FileName\": \"\xff\"}]"[..],
            1 << 20,
            |_, _| {},
        )
        .unwrap_err();
    assert_eq!((e.code, e.errors[0].line), ("InvalidJson", 2));
    // the envelope: routed by category; not JSON; over the limit
    let envelope =
        json!({"records": [{"category": "AdvancedHunting-DeviceProcessEvents", "properties": a}]})
            .to_string();
    let r = store
        .ingest_envelope_body("default", envelope.as_bytes(), 1 << 20)
        .unwrap();
    assert_eq!(r.tables.get(t), Some(&1));
    let e = store
        .ingest_envelope_body("default", &b"{\n\"records\": ["[..], 1 << 20)
        .unwrap_err();
    assert_eq!((e.code, e.errors[0].line), ("InvalidJson", 2));
    let e = store
        .ingest_envelope_body("default", envelope.as_bytes(), 10)
        .unwrap_err();
    assert_eq!(e.code, "RequestTooLarge");
    assert_eq!(
        report_ids(&store, t).len(),
        5,
        "nothing of the refused bodies was stored"
    );
}
