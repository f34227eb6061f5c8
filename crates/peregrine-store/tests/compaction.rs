//! Compaction: small files merged behind the partition manifest, never a half-compacted
//! view, retired files kept for a grace period; one writing process per directory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use kql_engine::QueryOptions;
use peregrine_store::{Store, StoreConfig};
use serde_json::{Value, json};

fn catalog() -> Arc<dyn kql_sema::Catalog> {
    Arc::new(kql_sema::MemoryCatalog::defender())
}

fn config() -> StoreConfig {
    StoreConfig {
        compact_small_bytes: 1 << 30,
        compact_target_bytes: 1 << 30,
        ..StoreConfig::default()
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap()
}

/// `n` events with ReportIds `first..first+n`, spread over the last two days.
fn batch(first: u64, n: u64) -> Vec<(usize, Value)> {
    (0..n)
        .map(|i| {
            let id = first + i;
            let t = chrono::Utc::now() - chrono::Duration::hours(1 + 24 * (id as i64 % 2));
            (
                i as usize + 1,
                json!({"Timestamp": t.to_rfc3339(), "DeviceName": format!("ws{}", id % 5), "ReportId": id, "FileName": format!("f{}.exe", id % 13)}),
            )
        })
        .collect()
}

/// `count()`, `dcount(ReportId)` and `sum(ReportId)` of the table.
async fn stats(store: &Arc<Store>) -> (u64, u64, u64) {
    let r = store
        .engine("default")
        .run(
            "DeviceProcessEvents | summarize n = count(), d = count_distinct(ReportId), s = sum(ReportId)",
            &QueryOptions::default(),
        )
        .await
        .unwrap();
    let b = &r.batches[0];
    let cell = |c: usize| -> u64 {
        datafusion::arrow::util::display::array_value_to_string(b.column(c), 0)
            .unwrap()
            .parse()
            .unwrap_or(0)
    };
    (cell(0), cell(1), cell(2))
}

fn files_on_disk(dir: &Path) -> usize {
    walk(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .count()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn small_files_are_merged_and_results_do_not_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), catalog(), config()).unwrap());
    for k in 0..10 {
        store
            .ingest("default", "DeviceProcessEvents", &batch(k * 100, 100))
            .unwrap();
    }
    let live = |s: &Store| {
        s.files_in_window("default", "DeviceProcessEvents", now())
            .unwrap()
            .len()
    };
    assert_eq!(live(&store), 20, "ten requests, two days each");
    let before = stats(&store).await;
    assert_eq!(before, (1000, 1000, (0..1000).sum()));

    let report = store.compact("default", now()).unwrap();
    assert_eq!(report.merged_files, 20);
    assert_eq!(report.written_files, 2, "one merged file per day");
    assert_eq!(report.rows, 1000);
    assert_eq!(
        report.deleted_files, 0,
        "retired files wait for the grace period"
    );
    assert_eq!(live(&store), 2);
    assert_eq!(stats(&store).await, before);
    let table = store.table_dir("default", "DeviceProcessEvents").unwrap();
    assert_eq!(files_on_disk(&table), 22);

    // Nothing left to merge; after the grace period the retired files go.
    let later = now() + 601 * 1_000_000_000;
    let report = store.compact("default", later).unwrap();
    assert_eq!(report.merged_files, 0);
    assert_eq!(report.deleted_files, 20);
    assert_eq!(files_on_disk(&table), 2);
    assert_eq!(stats(&store).await, before);

    // New small files join the merged one on the next pass, and the result survives a
    // reopen.
    store
        .ingest("default", "DeviceProcessEvents", &batch(1000, 10))
        .unwrap();
    let report = store.compact("default", now()).unwrap();
    assert_eq!((report.merged_files, report.written_files), (4, 2));
    drop(store);
    let store = Arc::new(Store::open(dir.path(), catalog(), config()).unwrap());
    assert_eq!(stats(&store).await, (1010, 1010, (0..1010).sum()));
    assert_eq!(live(&store), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_racing_ingest_and_compaction_see_every_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), catalog(), config()).unwrap());
    store
        .ingest("default", "DeviceProcessEvents", &batch(0, 50))
        .unwrap();
    let acknowledged = Arc::new(AtomicU64::new(50));
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, acknowledged, done) = (
            Arc::clone(&store),
            Arc::clone(&acknowledged),
            Arc::clone(&done),
        );
        std::thread::spawn(move || {
            for k in 1..40u64 {
                store
                    .ingest("default", "DeviceProcessEvents", &batch(k * 50, 50))
                    .unwrap();
                acknowledged.store((k + 1) * 50, Ordering::SeqCst);
                if k % 3 == 0 {
                    store.compact("default", now()).unwrap();
                }
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    // A second store on the directory reads as another process would (read-only).
    let other = Arc::new(Store::open(dir.path(), catalog(), config()).unwrap());
    assert!(!other.is_writable());
    let mut queries = 0;
    let mut last = 0;
    while !done.load(Ordering::SeqCst) {
        let low = acknowledged.load(Ordering::SeqCst);
        let reader = if queries % 2 == 0 { &store } else { &other };
        let (n, d, s) = stats(reader).await;
        let high = acknowledged.load(Ordering::SeqCst) + 50;
        // Whole requests, no duplicates, nothing acknowledged missing, nothing lost.
        assert_eq!(n % 50, 0, "a request is all or nothing: {n}");
        assert_eq!(n, d, "a row seen twice");
        assert_eq!(s, (0..n).sum::<u64>(), "rows are the first {n}");
        assert!(n >= low && n <= high, "{low} <= {n} <= {high}");
        assert!(n >= last, "rows disappeared: {last} then {n}");
        last = n;
        queries += 1;
    }
    writer.join().unwrap();
    assert!(queries > 3, "only {queries} queries raced the writer");
    assert_eq!(stats(&store).await, (2000, 2000, (0..2000).sum()));
}

#[tokio::test]
async fn background_compactor_merges_while_the_store_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), catalog(), config()).unwrap());
    let compactor = store.spawn_compactor(Duration::from_millis(50));
    for k in 0..6 {
        store
            .ingest("default", "DeviceProcessEvents", &batch(k * 10, 10))
            .unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let live = store
            .files_in_window("default", "DeviceProcessEvents", now())
            .unwrap()
            .len();
        if live == 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{live} files left");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(compactor);
    assert_eq!(stats(&store).await, (60, 60, (0..60).sum()));
}

#[tokio::test]
async fn a_second_process_opening_the_directory_reads_but_does_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Arc::new(Store::open(dir.path(), catalog(), config()).unwrap());
    assert!(writer.is_writable());
    writer
        .ingest("default", "DeviceProcessEvents", &batch(0, 7))
        .unwrap();
    let reader = Arc::new(Store::open(dir.path(), catalog(), config()).unwrap());
    assert!(!reader.is_writable());
    let e = reader
        .ingest("default", "DeviceProcessEvents", &batch(7, 1))
        .unwrap_err();
    assert_eq!(e.code, "StoreBusy");
    assert_eq!(
        reader.compact("default", now()).unwrap_err().code,
        "StoreBusy"
    );
    assert_eq!(stats(&reader).await, (7, 7, 21));
    drop(writer);
    let again = Store::open(dir.path(), catalog(), config()).unwrap();
    assert!(again.is_writable(), "the lock goes with the writer");
}

/// The Arrow types a Parquet file declares, and the null count of its `column`.
fn file_types(path: &Path, column: &str) -> (Vec<(String, String)>, usize) {
    use datafusion::arrow::array::Array;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap()).unwrap();
    let types = reader
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().to_string()))
        .collect();
    let nulls = reader
        .build()
        .unwrap()
        .map(|b| {
            let b = b.unwrap();
            b.column(b.schema().index_of(column).unwrap()).null_count()
        })
        .sum();
    (types, nulls)
}

#[tokio::test]
async fn rewrite_brings_files_of_an_older_layout_to_todays() {
    use datafusion::arrow::array::{ArrayRef, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), catalog(), config()).unwrap());
    store
        .ingest("default", "DeviceProcessEvents", &batch(0, 400))
        .unwrap();
    let before = stats(&store).await;
    // Each file as an older version wrote it: plain strings, and FileName null on the
    // rows whose ReportId is a multiple of 7.
    let files = store
        .files_in_window("default", "DeviceProcessEvents", now())
        .unwrap();
    assert_eq!(files.len(), 2);
    for f in &files {
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(f).unwrap()).unwrap();
        let plain: Vec<Field> = reader
            .schema()
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Dictionary(_, v) => f.as_ref().clone().with_data_type(*v.clone()),
                _ => f.as_ref().clone(),
            })
            .collect();
        let schema = Arc::new(Schema::new(plain));
        let mut batches = Vec::new();
        for b in reader.build().unwrap() {
            let b = b.unwrap();
            let ids = b.column(b.schema().index_of("ReportId").unwrap());
            let ids = datafusion::arrow::compute::cast(ids, &DataType::Int64).unwrap();
            let ids = ids
                .as_any()
                .downcast_ref::<datafusion::arrow::array::Int64Array>()
                .unwrap();
            let columns: Vec<ArrayRef> = schema
                .fields()
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let c = datafusion::arrow::compute::cast(b.column(i), f.data_type()).unwrap();
                    if f.name() == "FileName" {
                        let s = c.as_any().downcast_ref::<StringArray>().unwrap();
                        let v: StringArray = s
                            .iter()
                            .zip(ids.iter())
                            .map(|(s, id)| if id.unwrap() % 7 == 0 { None } else { s })
                            .collect();
                        Arc::new(v) as ArrayRef
                    } else {
                        c
                    }
                })
                .collect();
            batches.push(RecordBatch::try_new(Arc::clone(&schema), columns).unwrap());
        }
        let mut w = ArrowWriter::try_new(std::fs::File::create(f).unwrap(), schema, None).unwrap();
        for b in &batches {
            w.write(b).unwrap();
        }
        w.close().unwrap();
        let (types, nulls) = file_types(f, "FileName");
        assert!(nulls > 0);
        assert!(
            types.contains(&("FileName".into(), "Utf8".into())),
            "{types:?}"
        );
    }
    assert_eq!(stats(&store).await, before);

    // Plain compaction leaves single files alone; a rewrite takes every file.
    assert_eq!(store.compact("default", now()).unwrap().written_files, 0);
    let r = store.compact_with("default", now(), true).unwrap();
    assert_eq!((r.merged_files, r.written_files, r.rows), (2, 2, 400));
    let files = store
        .files_in_window("default", "DeviceProcessEvents", now())
        .unwrap();
    assert_eq!(files.len(), 2);
    let dict = "Dictionary(Int32, Utf8)".to_string();
    for f in &files {
        let (types, nulls) = file_types(f, "FileName");
        assert_eq!(nulls, 0, "missing strings are stored as \"\"");
        for col in ["FileName", "DeviceName", "ProcessCommandLine"] {
            assert!(
                types.contains(&(col.to_string(), dict.clone())),
                "{col}: {types:?}"
            );
        }
        // Not strings: as they were.
        assert!(
            types.contains(&("ReportId".into(), "Int64".into())),
            "{types:?}"
        );
    }
    assert_eq!(stats(&store).await, before);
}
