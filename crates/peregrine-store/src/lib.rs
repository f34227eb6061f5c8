//! Peregrine's event store: per tenant and hunting table, day-partitioned Parquet (zstd)
//! under a data directory, written all-or-nothing and durably, read through DataFusion.
//!
//! ```text
//! DIR/_writer.lock                                                 held by the writing process
//! DIR/<tenant>/tables/<Table>/date=YYYY-MM-DD/part-<txid>.parquet   the data (hive layout)
//! DIR/<tenant>/tables/<Table>/date=YYYY-MM-DD/_manifest.json       the partition's live files
//! DIR/<tenant>/_staging/<txid>/...                                 files being written
//! DIR/<tenant>/_commits/<txid>.json                                a commit being applied
//! ```
//!
//! One process writes a data directory at a time: [`Store::open`] takes `_writer.lock`; a
//! store opened while another process holds it is read-only (queries work, ingest is
//! refused with `StoreBusy`).
//!
//! Small files are merged by [`Store::compact`] (or a [`Compactor`] thread): the merged
//! file is staged and committed like an ingest, and the partition's manifest switches from
//! the small files to the merged one in one atomic rename (see [`manifest`]).
//!
//! An ingest request writes its Parquet files under `_staging` and fsyncs them, then writes
//! and fsyncs a commit record listing where each file goes, and only then is acknowledged.
//! The files are renamed into place and the record deleted. After a crash, opening the
//! store finishes every recorded commit (renames are idempotent) and deletes what was
//! staged without a record: every acknowledged event is there once, nothing else is.
//!
//! DuckDB reads a table directly:
//! `SELECT * FROM read_parquet('DIR/default/tables/DeviceProcessEvents/*/*.parquet', hive_partitioning = true)`.

pub mod error;
pub mod manifest;
pub mod records;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use datafusion::arrow::array::{Array, TimestampNanosecondArray, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::{MemTable, ViewTable, provider_as_source};
use datafusion::logical_expr::{LogicalPlanBuilder, ident, lit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;
use datafusion::scalar::ScalarValue;
use kql_sema::Catalog;
use kql_syntax::{Diagnostic, Span};
use serde_json::Value;

/// The default limit of a request body that is read whole (a JSON array or a streaming-export
/// envelope); NDJSON is streamed and not limited.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 512 * 1024 * 1024;

pub use error::{IngestError, LineError};
use manifest::Manifest;
use records::TableBatchBuilder;

const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// Store settings (defaults as documented for the service).
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Queries see events of the last this many days.
    pub window_days: i64,
    /// Day partitions older than this many days are deleted.
    pub retention_days: i64,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// Files smaller than this are merged by compaction.
    pub compact_small_bytes: u64,
    /// Compaction merges small files into files of about this size (the inputs' sizes).
    pub compact_target_bytes: u64,
    /// Files replaced by a compaction stay this long for the queries already reading them.
    pub retired_grace: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            window_days: 30,
            retention_days: 30,
            row_group_rows: 256 * 1024,
            compact_small_bytes: 32 << 20,
            compact_target_bytes: 256 << 20,
            retired_grace: Duration::from_secs(600),
        }
    }
}

/// What a compaction pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CompactionReport {
    /// Small files merged away.
    pub merged_files: usize,
    /// Files written by the merges.
    pub written_files: usize,
    /// Rows rewritten.
    pub rows: u64,
    /// Retired files deleted after their grace period.
    pub deleted_files: usize,
}

/// A commit record: files to move into place, then files to retire per partition.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct CommitRecord {
    moves: Vec<(String, String)>,
    #[serde(default)]
    retire: Vec<(String, Vec<String>)>,
}

/// What an accepted ingest request stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestReport {
    /// Events stored per table.
    pub tables: BTreeMap<String, usize>,
    /// Parquet files written.
    pub files: usize,
}

impl IngestReport {
    pub fn events(&self) -> usize {
        self.tables.values().sum()
    }
}

/// The store under one data directory.
pub struct Store {
    root: PathBuf,
    catalog: Arc<dyn Catalog>,
    config: StoreConfig,
    counter: AtomicU64,
    /// `_writer.lock`, held while this store may write; `None` when read-only.
    writer: Option<File>,
    /// Manifest updates and retention (write) against readers of several manifests (read),
    /// so a query sees an ingest that spans days whole or not at all.
    manifests: std::sync::RwLock<()>,
    /// One compaction at a time.
    compacting: Mutex<()>,
}

impl Store {
    /// Opens (creating it if needed) the store at `root` and recovers every tenant in it.
    pub fn open(
        root: &Path,
        catalog: Arc<dyn Catalog>,
        config: StoreConfig,
    ) -> Result<Store, IngestError> {
        fs::create_dir_all(root)?;
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join("_writer.lock"))?;
        let writer = match lock.try_lock() {
            Ok(()) => Some(lock),
            Err(fs::TryLockError::WouldBlock) => None,
            Err(fs::TryLockError::Error(e)) => return Err(e.into()),
        };
        let store = Store {
            root: root.to_path_buf(),
            catalog,
            config,
            counter: AtomicU64::new(0),
            writer,
            manifests: std::sync::RwLock::new(()),
            compacting: Mutex::new(()),
        };
        if store.writer.is_none() {
            // Another process writes here and recovers its own commits.
            return Ok(store);
        }
        for entry in fs::read_dir(root)? {
            let entry = entry?;
            if entry.file_type()?.is_dir()
                && let Some(name) = entry.file_name().to_str()
                && valid_tenant(name)
            {
                store.recover(name)?;
                let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
                store.enforce_retention(name, now)?;
            }
        }
        Ok(store)
    }

    /// Opens the store at `root` over the Defender hunting schema with the default
    /// settings (what the CLI and the server use).
    pub fn open_defender(root: &Path) -> Result<Arc<Store>, IngestError> {
        let catalog: Arc<dyn Catalog> = Arc::new(kql_sema::MemoryCatalog::defender());
        Store::open(root, catalog, StoreConfig::default()).map(Arc::new)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether this store may write (it holds the directory's writer lock).
    pub fn is_writable(&self) -> bool {
        self.writer.is_some()
    }

    fn require_writable(&self) -> Result<(), IngestError> {
        if self.writer.is_some() {
            Ok(())
        } else {
            Err(IngestError::new(
                "StoreBusy",
                format!(
                    "another Peregrine process is writing to {}; send the events to it",
                    self.root.display()
                ),
            ))
        }
    }

    fn lock_manifests(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        self.manifests
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The tenants with a directory in the store.
    pub fn tenants(&self) -> Result<Vec<String>, IngestError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.root)? {
            let entry = entry?;
            if entry.file_type()?.is_dir()
                && let Some(name) = entry.file_name().to_str()
                && valid_tenant(name)
            {
                out.push(name.to_string());
            }
        }
        out.sort();
        Ok(out)
    }

    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    pub fn catalog(&self) -> &Arc<dyn Catalog> {
        &self.catalog
    }

    fn tenant_dir(&self, tenant: &str) -> Result<PathBuf, IngestError> {
        if !valid_tenant(tenant) {
            return Err(IngestError::new(
                "InvalidTenant",
                format!("'{tenant}' is not a valid tenant name"),
            ));
        }
        Ok(self.root.join(tenant))
    }

    /// The directory of one table of a tenant.
    pub fn table_dir(&self, tenant: &str, table: &str) -> Result<PathBuf, IngestError> {
        Ok(self.tenant_dir(tenant)?.join("tables").join(table))
    }

    /// Ingests the records of one table (`(line, record)` pairs): all or nothing.
    pub fn ingest(
        &self,
        tenant: &str,
        table: &str,
        records: &[(usize, Value)],
    ) -> Result<IngestReport, IngestError> {
        let schema = self
            .catalog
            .table(table)
            .ok_or_else(|| IngestError::unknown_table(table))?;
        let mut builder = TableBatchBuilder::new(&schema);
        let mut errors = Vec::new();
        for (line, r) in records {
            if let Err(e) = builder.add(*line, r) {
                errors.extend(e);
            }
        }
        if !errors.is_empty() {
            return Err(IngestError::records(errors));
        }
        if builder.rows() == 0 {
            return Err(IngestError::new("EmptyRequest", "no events to ingest"));
        }
        let batch = builder.finish()?;
        self.commit(tenant, vec![(table.to_string(), batch)])
    }

    /// Ingests NDJSON records of one table from a reader, in bounded memory: batches of
    /// `chunk` records are staged as they come and committed together at the end, so the
    /// whole input is still all or nothing. `progress(bytes, records)` is called as the
    /// input is read.
    ///
    /// This thread reads blocks of lines; parser threads (one per core, at most
    /// [`MAX_PARSERS`]) turn blocks into Arrow batches; a stager thread takes the batches
    /// back in input order, so rows and reports keep the order of the input, and writes
    /// each `chunk` of rows as Parquet.
    pub fn ingest_ndjson(
        &self,
        tenant: &str,
        table: &str,
        reader: impl std::io::BufRead,
        chunk: usize,
        mut progress: impl FnMut(u64, usize),
    ) -> Result<IngestReport, IngestError> {
        let schema = self
            .catalog
            .table(table)
            .ok_or_else(|| IngestError::unknown_table(table))?;
        let chunk = chunk.max(1);
        let block_lines = chunk.min(BLOCK_LINES);
        let parsers = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
            .clamp(1, MAX_PARSERS);
        let mut tx = self.begin(tenant)?;
        let (send_block, receive_block) = std::sync::mpsc::sync_channel::<Block>(parsers * 2);
        // Shared by the parsers only: once they are all gone, the reader's sends fail.
        let receive_block = Arc::new(Mutex::new(receive_block));
        let (send_parsed, receive_parsed) = std::sync::mpsc::sync_channel::<Parsed>(parsers * 2);
        let staged = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..parsers)
                .map(|_| {
                    let send_parsed = send_parsed.clone();
                    let receive_block = Arc::clone(&receive_block);
                    let schema = &schema;
                    scope.spawn(move || {
                        let mut hint: Vec<usize> = Vec::new();
                        loop {
                            let block = match receive_block
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .recv()
                            {
                                Ok(b) => b,
                                Err(_) => return,
                            };
                            let mut builder =
                                TableBatchBuilder::with_capacity(schema, block.lines.len(), &hint);
                            let mut errors = Vec::new();
                            for &(line, from, to) in &block.lines {
                                let text = block.text.get(from..to).unwrap_or_default();
                                if let Err(e) = builder.add_json(line, text) {
                                    errors.extend(e);
                                }
                            }
                            hint = builder.text_bytes();
                            let batch = if errors.is_empty() {
                                builder.finish()
                            } else {
                                // Nothing of the request will be stored.
                                Ok(RecordBatch::new_empty(records::arrow_schema(schema)))
                            };
                            let parsed = Parsed {
                                seq: block.seq,
                                batch,
                                errors,
                            };
                            if send_parsed.send(parsed).is_err() {
                                return;
                            }
                        }
                    })
                })
                .collect();
            drop(send_parsed);
            drop(receive_block);
            let tx = &mut tx;
            let stager = scope.spawn(move || -> Result<(Vec<LineError>, u64), IngestError> {
                let mut errors: Vec<LineError> = Vec::new();
                let mut failed: Option<IngestError> = None;
                let mut waiting: BTreeMap<u64, Parsed> = BTreeMap::new();
                let mut next = 0u64;
                let mut pending: Vec<RecordBatch> = Vec::new();
                let mut pending_rows = 0usize;
                let mut stage = |pending: &mut Vec<RecordBatch>| -> Result<(), IngestError> {
                    let Some(first) = pending.first() else {
                        return Ok(());
                    };
                    let batch = concat_batches(&first.schema(), pending.iter())
                        .map_err(|e| IngestError::internal(e.to_string()))?;
                    pending.clear();
                    tx.stage(table, &batch)
                };
                // Keeps receiving after a failure so the parsers and the reader finish.
                for parsed in receive_parsed {
                    waiting.insert(parsed.seq, parsed);
                    while let Some(p) = waiting.remove(&next) {
                        next += 1;
                        errors.extend(p.errors);
                        if !errors.is_empty() || failed.is_some() {
                            pending.clear();
                            continue;
                        }
                        match p.batch {
                            Ok(batch) => {
                                pending_rows += batch.num_rows();
                                pending.push(batch);
                            }
                            Err(e) => failed = Some(e),
                        }
                        if pending_rows >= chunk {
                            pending_rows = 0;
                            if let Err(e) = stage(&mut pending) {
                                failed = Some(e);
                            }
                        }
                    }
                }
                if let Some(e) = failed {
                    return Err(e);
                }
                if errors.is_empty() {
                    stage(&mut pending)?;
                }
                Ok((errors, next))
            });
            let read = read_blocks(reader, block_lines, &send_block, &mut progress);
            drop(send_block);
            let mut parsers_ok = true;
            for w in workers {
                parsers_ok &= w.join().is_ok();
            }
            let staged = stager
                .join()
                .unwrap_or_else(|_| Err(IngestError::internal("the staging thread failed")));
            // A line that is not text stops the reading and is the one problem reported.
            let sent = read?;
            let (errors, taken) = staged?;
            if !parsers_ok || taken != sent {
                return Err(IngestError::internal("an NDJSON parser thread failed"));
            }
            if errors.is_empty() {
                Ok(())
            } else {
                Err(IngestError::records(errors))
            }
        });
        staged?;
        tx.commit()
    }

    /// Ingests a Defender streaming-export envelope (`{"records":[{"time","tenantId",
    /// "operationName","category":"AdvancedHunting-<Table>","properties":{...}}]}`), each
    /// record into the table its `category` names: all or nothing.
    pub fn ingest_envelope(&self, tenant: &str, body: &Value) -> Result<IngestReport, IngestError> {
        let Some(Value::Array(records)) = body.get("records") else {
            return Err(IngestError::new(
                "InvalidRequestBody",
                "expected an object with a \"records\" array",
            ));
        };
        let mut by_table: BTreeMap<String, TableBatchBuilder> = BTreeMap::new();
        let mut errors = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let line = i + 1;
            let category = r
                .get("category")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let Some(table) = category.strip_prefix("AdvancedHunting-") else {
                errors.push(LineError::new(
                    line,
                    Some("category".into()),
                    "UnknownTable",
                    format!("category '{category}' is not AdvancedHunting-<Table>"),
                ));
                continue;
            };
            let Some(schema) = self.catalog.table(table) else {
                errors.push(LineError::new(
                    line,
                    Some("category".into()),
                    "UnknownTable",
                    format!("unknown table '{table}'"),
                ));
                continue;
            };
            let Some(props) = r.get("properties") else {
                errors.push(LineError::new(
                    line,
                    Some("properties".into()),
                    "InvalidRecord",
                    "a record needs \"properties\"",
                ));
                continue;
            };
            let builder = by_table
                .entry(table.to_string())
                .or_insert_with(|| TableBatchBuilder::new(&schema));
            if let Err(e) = builder.add(line, props) {
                errors.extend(e);
            }
        }
        if !errors.is_empty() {
            return Err(IngestError::records(errors));
        }
        if by_table.is_empty() {
            return Err(IngestError::new("EmptyRequest", "no events to ingest"));
        }
        let mut batches = Vec::new();
        for (t, b) in by_table {
            batches.push((t, b.finish()?));
        }
        self.commit(tenant, batches)
    }

    /// Ingests one table's records as a client sends them (what `peregrine ingest --table`
    /// and `POST /api/ingest/{table}` use): a JSON array of objects, read whole (at most
    /// `max_body_bytes`, else `RequestTooLarge`), or NDJSON, streamed in chunks of
    /// [`NDJSON_CHUNK_RECORDS`] records ([`Store::ingest_ndjson`]). All or nothing.
    pub fn ingest_body(
        &self,
        tenant: &str,
        table: &str,
        mut reader: impl std::io::BufRead,
        max_body_bytes: u64,
        progress: impl FnMut(u64, usize),
    ) -> Result<IngestReport, IngestError> {
        // The first buffer decides (not consumed, so NDJSON line numbers stay right).
        let first = reader
            .fill_buf()
            .map_err(read_error)?
            .iter()
            .find(|c| !c.is_ascii_whitespace())
            .copied();
        if first == Some(b'[') {
            let text = read_body(reader, max_body_bytes)?;
            let records = parse_records(&text)?;
            return self.ingest(tenant, table, &records);
        }
        self.ingest_ndjson(tenant, table, reader, NDJSON_CHUNK_RECORDS, progress)
    }

    /// Ingests a streaming-export envelope as a client sends it (what `peregrine ingest
    /// --envelope` and `POST /api/ingest` use): read whole (at most `max_body_bytes`, else
    /// `RequestTooLarge`), then [`Store::ingest_envelope`]. All or nothing.
    pub fn ingest_envelope_body(
        &self,
        tenant: &str,
        reader: impl std::io::Read,
        max_body_bytes: u64,
    ) -> Result<IngestReport, IngestError> {
        let text = read_body(reader, max_body_bytes)?;
        let body = serde_json::from_str::<Value>(&text).map_err(|e| {
            IngestError::records(vec![LineError::new(
                e.line(),
                None,
                "InvalidJson",
                format!("invalid JSON at column {}: {e}", e.column()),
            )])
        })?;
        self.ingest_envelope(tenant, &body)
    }

    fn next_txid(&self) -> String {
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{now:020}-{}-{n:06}", std::process::id())
    }

    /// Writes the batches durably and atomically (see the module documentation).
    fn commit(
        &self,
        tenant: &str,
        batches: Vec<(String, RecordBatch)>,
    ) -> Result<IngestReport, IngestError> {
        let mut tx = self.begin(tenant)?;
        for (table, batch) in &batches {
            tx.stage(table, batch)?;
        }
        tx.commit()
    }

    /// Starts an all-or-nothing ingest: stage batches, then [`Transaction::commit`].
    /// Dropping a transaction without committing removes what it staged.
    pub fn begin(&self, tenant: &str) -> Result<Transaction<'_>, IngestError> {
        self.require_writable()?;
        let tenant_dir = self.tenant_dir(tenant)?;
        let txid = self.next_txid();
        let staging = tenant_dir.join("_staging").join(&txid);
        fs::create_dir_all(&staging)?;
        Ok(Transaction {
            store: self,
            tenant_dir,
            txid,
            staging,
            moves: Vec::new(),
            report: IngestReport::default(),
            done: false,
        })
    }

    fn write_parquet(&self, path: &Path, batch: &RecordBatch) -> Result<(), IngestError> {
        let batch = to_logical(batch)?;
        let mut writer = self.parquet_writer(File::create(path)?, batch.schema())?;
        writer
            .write(&batch)
            .map_err(|e| IngestError::internal(e.to_string()))?;
        let file = finish_parquet(writer, &batch.schema())?;
        file.sync_all()?;
        Ok(())
    }

    /// Finishes the commits a crash interrupted and drops what was staged without one.
    pub fn recover(&self, tenant: &str) -> Result<(), IngestError> {
        let tenant_dir = self.tenant_dir(tenant)?;
        let commits = tenant_dir.join("_commits");
        if commits.is_dir() {
            let mut records: Vec<PathBuf> = fs::read_dir(&commits)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            records.sort();
            for path in records {
                match path.extension().and_then(|e| e.to_str()) {
                    Some("json") => {
                        let text = fs::read(&path)?;
                        let record = parse_commit_record(&text).map_err(|e| {
                            IngestError::internal(format!("commit record {}: {e}", path.display()))
                        })?;
                        self.apply(&record)?;
                        fs::remove_file(&path)?;
                    }
                    // A record never finished: its request was not acknowledged.
                    _ => fs::remove_file(&path)?,
                }
            }
        }
        let staging = tenant_dir.join("_staging");
        if staging.is_dir() {
            fs::remove_dir_all(&staging)?;
        }
        Ok(())
    }

    /// Applies a durable commit record: moves its files into place, then updates the
    /// manifests of the partitions it touches. Idempotent, so recovery can replay it.
    fn apply(&self, record: &CommitRecord) -> Result<(), IngestError> {
        let moves: Vec<(PathBuf, PathBuf)> = record
            .moves
            .iter()
            .map(|(s, d)| (PathBuf::from(s), PathBuf::from(d)))
            .collect();
        apply_moves(&moves)?;
        let mut added: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
        for (_, dst) in &moves {
            if let (Some(dir), Some(name)) =
                (dst.parent(), dst.file_name().and_then(|n| n.to_str()))
            {
                added
                    .entry(dir.to_path_buf())
                    .or_default()
                    .push(name.to_string());
            }
        }
        let mut retired: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
        for (dir, names) in &record.retire {
            retired
                .entry(PathBuf::from(dir))
                .or_default()
                .extend(names.iter().cloned());
        }
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
        let _guard = self.lock_manifests();
        let dirs: std::collections::BTreeSet<&PathBuf> =
            added.keys().chain(retired.keys()).collect();
        for dir in dirs {
            if !dir.is_dir() {
                continue;
            }
            let mut m = Manifest::read(dir)?;
            let before = m.clone();
            let new = added.get(dir).map(Vec::as_slice).unwrap_or_default();
            let old = retired.get(dir).map(Vec::as_slice).unwrap_or_default();
            m.replace(old, new, now);
            if m != before || !dir.join(manifest::MANIFEST).exists() {
                m.write(dir)?;
            }
        }
        if let Some(tenant_dir) = record
            .moves
            .first()
            .and_then(|(_, d)| tenant_of(Path::new(d)))
            .or_else(|| {
                record
                    .retire
                    .first()
                    .and_then(|(d, _)| tenant_of(Path::new(d)))
            })
        {
            bump_version(&tenant_dir)?;
        }
        Ok(())
    }

    /// Writes `record` durably under `_commits` (the point of no return), applies it and
    /// deletes it.
    fn commit_record(
        &self,
        tenant_dir: &Path,
        txid: &str,
        record: &CommitRecord,
    ) -> Result<(), IngestError> {
        let path = self.write_record(tenant_dir, txid, record)?;
        self.apply(record)?;
        fs::remove_file(&path)?;
        Ok(())
    }

    /// Writes `record` durably under `_commits`; returns its path.
    fn write_record(
        &self,
        tenant_dir: &Path,
        txid: &str,
        record: &CommitRecord,
    ) -> Result<PathBuf, IngestError> {
        let commits = tenant_dir.join("_commits");
        fs::create_dir_all(&commits)?;
        let bytes = serde_json::to_vec(record).map_err(|e| IngestError::internal(e.to_string()))?;
        let tmp = commits.join(format!("{txid}.tmp"));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        let record_path = commits.join(format!("{txid}.json"));
        fs::rename(&tmp, &record_path)?;
        sync_dir(&commits)?;
        Ok(record_path)
    }

    /// Merges the small files of every partition of `tenant` and deletes retired files
    /// whose grace period has passed. Queries are never blocked and never see a partition
    /// half compacted.
    pub fn compact(&self, tenant: &str, now_nanos: i64) -> Result<CompactionReport, IngestError> {
        self.compact_with(tenant, now_nanos, false)
    }

    /// [`Store::compact`], or with `rewrite` every file: all files of each partition are
    /// rewritten (merged up to the target size) in today's layout, which brings a store
    /// written by an older version to its dictionary columns and never-null strings.
    pub fn compact_with(
        &self,
        tenant: &str,
        now_nanos: i64,
        rewrite: bool,
    ) -> Result<CompactionReport, IngestError> {
        self.require_writable()?;
        let _one = self
            .compacting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tenant_dir = self.tenant_dir(tenant)?;
        let tables = tenant_dir.join("tables");
        let mut report = CompactionReport::default();
        if !tables.is_dir() {
            return Ok(report);
        }
        let mut partitions = Vec::new();
        for t in fs::read_dir(&tables)? {
            let t = t?.path();
            if !t.is_dir() {
                continue;
            }
            for d in fs::read_dir(&t)? {
                let d = d?.path();
                if partition_day(&d).is_some() {
                    partitions.push(d);
                }
            }
        }
        partitions.sort();
        for part in partitions {
            self.compact_partition(&tenant_dir, &part, rewrite, &mut report)?;
            report.deleted_files += self.delete_retired(&part, now_nanos)?;
        }
        Ok(report)
    }

    fn compact_partition(
        &self,
        tenant_dir: &Path,
        part: &Path,
        rewrite: bool,
        report: &mut CompactionReport,
    ) -> Result<(), IngestError> {
        let manifest = {
            let _guard = self.lock_manifests();
            Manifest::read(part)?
        };
        let mut small: Vec<(String, u64)> = Vec::new();
        for f in &manifest.files {
            let len = fs::metadata(part.join(f))?.len();
            if rewrite || len < self.config.compact_small_bytes {
                small.push((f.clone(), len));
            }
        }
        // Groups of at least two files of about the target size, in the manifest's order.
        let mut groups: Vec<Vec<String>> = Vec::new();
        let (mut group, mut size) = (Vec::new(), 0u64);
        for (f, len) in small {
            group.push(f);
            size += len;
            if size >= self.config.compact_target_bytes {
                groups.push(std::mem::take(&mut group));
                size = 0;
            }
        }
        groups.push(group);
        let least = if rewrite { 1 } else { 2 };
        for group in groups.into_iter().filter(|g| g.len() >= least) {
            let txid = self.next_txid();
            let staging = tenant_dir.join("_staging").join(&txid);
            fs::create_dir_all(&staging)?;
            let result = self.merge_group(tenant_dir, part, &group, &staging, &txid, least, report);
            let _ = fs::remove_dir_all(&staging);
            result?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn merge_group(
        &self,
        tenant_dir: &Path,
        part: &Path,
        group: &[String],
        staging: &Path,
        txid: &str,
        least: usize,
        report: &mut CompactionReport,
    ) -> Result<(), IngestError> {
        use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let err = |e: &dyn std::fmt::Display| IngestError::internal(e.to_string());
        let staged = staging.join("compacted.parquet");
        let mut writer: Option<ArrowWriter<File>> = None;
        let mut schema: Option<SchemaRef> = None;
        let mut merged = Vec::new();
        let mut rows = 0u64;
        // The table's schema, for strings that files of older versions left null.
        let table = part
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| self.catalog.table(&n.to_string_lossy()));
        for name in group {
            let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(part.join(name))?)
                .map_err(|e| err(&e))?
                .with_batch_size(8192);
            // Files are compared by their logical schema: dictionary encoding is how a
            // column is stored, and the output takes today's storage schema.
            let file_schema = logical_schema(reader.schema());
            match &schema {
                // A file written under another schema stays as it is.
                Some(s) if s != &file_schema => continue,
                Some(_) => {}
                None => {
                    writer = Some(
                        self.parquet_writer(File::create(&staged)?, Arc::clone(&file_schema))?,
                    );
                    schema = Some(file_schema);
                }
            }
            let Some(w) = writer.as_mut() else {
                continue;
            };
            for batch in reader.build().map_err(|e| err(&e))? {
                let batch = to_logical(&batch.map_err(|e| err(&e))?)?;
                let batch = match &table {
                    Some(t) => strings_never_null(&batch, t)?,
                    None => batch,
                };
                rows += batch.num_rows() as u64;
                w.write(&batch).map_err(|e| err(&e))?;
            }
            merged.push(name.clone());
        }
        let Some(w) = writer else {
            return Ok(());
        };
        let Some(schema) = schema else {
            return Ok(());
        };
        let file = finish_parquet(w, &schema)?;
        file.sync_all()?;
        if merged.len() < least {
            return Ok(());
        }
        sync_dir(staging)?;
        let dest = part.join(format!("part-{txid}-c.parquet"));
        let record = CommitRecord {
            moves: vec![(
                staged.to_string_lossy().into_owned(),
                dest.to_string_lossy().into_owned(),
            )],
            retire: vec![(part.to_string_lossy().into_owned(), merged.clone())],
        };
        if !part.is_dir() {
            // Dropped by retention meanwhile.
            return Ok(());
        }
        self.commit_record(tenant_dir, txid, &record)?;
        report.merged_files += merged.len();
        report.written_files += 1;
        report.rows += rows;
        Ok(())
    }

    /// Deletes the partition's retired files older than the grace period.
    fn delete_retired(&self, part: &Path, now_nanos: i64) -> Result<usize, IngestError> {
        let _guard = self.lock_manifests();
        if !part.join(manifest::MANIFEST).exists() {
            return Ok(0);
        }
        let mut m = Manifest::read(part)?;
        let grace = i64::try_from(self.config.retired_grace.as_nanos()).unwrap_or(i64::MAX);
        let (old, keep): (Vec<_>, Vec<_>) = m
            .retired
            .drain(..)
            .partition(|r| now_nanos.saturating_sub(r.at) >= grace);
        if old.is_empty() {
            m.retired = keep;
            return Ok(0);
        }
        m.retired = keep;
        // The manifest first: a crash in between leaves unlisted files, never listed
        // files that are gone.
        m.write(part)?;
        for r in &old {
            match fs::remove_file(part.join(&r.file)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(old.len())
    }

    /// Starts a thread that compacts every tenant every `every`, until the returned
    /// handle is dropped.
    pub fn spawn_compactor(self: &Arc<Self>, every: Duration) -> Compactor {
        let stop = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let store = Arc::clone(self);
        let stop2 = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let (lock, cvar) = &*stop2;
            loop {
                {
                    let guard = lock
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let (guard, _) = cvar
                        .wait_timeout_while(guard, every, |stopped| !*stopped)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if *guard {
                        return;
                    }
                }
                let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
                if let Ok(tenants) = store.tenants() {
                    for t in tenants {
                        // A failed pass is retried on the next tick; nothing it did is
                        // visible unless committed.
                        let _ = store.compact(&t, now);
                    }
                }
            }
        });
        Compactor {
            stop,
            thread: Some(thread),
        }
    }

    /// A Parquet writer for batches of `logical` (strings as `Utf8`). The writer
    /// dictionary-encodes strings itself; [`finish_parquet`] then declares the columns
    /// whose pages all stayed dictionary-encoded as dictionaries in the file's Arrow
    /// schema, so that readers get them back as dictionaries.
    fn parquet_writer(
        &self,
        file: File,
        logical: SchemaRef,
    ) -> Result<ArrowWriter<File>, IngestError> {
        let props = self.writer_properties(&logical)?;
        let options = datafusion::parquet::arrow::arrow_writer::ArrowWriterOptions::new()
            .with_properties(props)
            .with_skip_arrow_metadata(true);
        ArrowWriter::try_new_with_options(file, logical, options)
            .map_err(|e| IngestError::internal(e.to_string()))
    }

    /// Writer settings for a file of `schema`: string columns get room for a row group's
    /// distinct values in one dictionary page (names, paths and kinds more than others),
    /// so that readers get them back as one Arrow dictionary per column chunk.
    fn writer_properties(&self, schema: &Schema) -> Result<WriterProperties, IngestError> {
        let mut b = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(1).map_err(|e| IngestError::internal(e.to_string()))?,
            ))
            .set_max_row_group_row_count(Some(self.config.row_group_rows));
        for f in schema.fields() {
            if f.data_type() == &DataType::Utf8 {
                let limit = if dictionary_column(f.name()) {
                    DICTIONARY_PAGE_BYTES
                } else {
                    OTHER_DICTIONARY_PAGE_BYTES
                };
                b = b.set_column_dictionary_page_size_limit(
                    ColumnPath::from(f.name().as_str()),
                    limit,
                );
            }
        }
        Ok(b.build())
    }

    /// Deletes the day partitions older than the retention; returns how many.
    pub fn enforce_retention(&self, tenant: &str, now_nanos: i64) -> Result<usize, IngestError> {
        self.require_writable()?;
        let _guard = self.lock_manifests();
        let cutoff = day_name(now_nanos - self.config.retention_days * NANOS_PER_DAY);
        let tables = self.tenant_dir(tenant)?.join("tables");
        let mut removed = 0;
        if !tables.is_dir() {
            return Ok(0);
        }
        for t in fs::read_dir(&tables)? {
            let t = t?.path();
            for d in fs::read_dir(&t)? {
                let d = d?.path();
                if let Some(day) = partition_day(&d)
                    && day < cutoff
                    && day != UNDATED
                {
                    fs::remove_dir_all(&d)?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// The live files of a table's day partitions within the query window, as of one
    /// moment: an ingest that spans several days is seen whole or not at all.
    pub fn files_in_window(
        &self,
        tenant: &str,
        table: &str,
        now_nanos: i64,
    ) -> Result<Vec<PathBuf>, IngestError> {
        Ok(self
            .dated_files_in_window(tenant, table, now_nanos)?
            .into_iter()
            .map(|(_, f)| f)
            .collect())
    }

    /// [`Store::files_in_window`] with each file's partition day.
    fn dated_files_in_window(
        &self,
        tenant: &str,
        table: &str,
        now_nanos: i64,
    ) -> Result<Vec<(String, PathBuf)>, IngestError> {
        let read = || -> Result<Vec<(String, PathBuf)>, IngestError> {
            let mut out = Vec::new();
            for part in self.partitions_in_window(tenant, table, now_nanos)? {
                let day = partition_day(&part).unwrap_or_default();
                out.extend(
                    Manifest::read(&part)?
                        .live_paths(&part)
                        .into_iter()
                        .map(|f| (day.clone(), f)),
                );
            }
            Ok(out)
        };
        if self.is_writable() {
            // Commits of this process update manifests under the write lock.
            let _guard = self
                .manifests
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            return read();
        }
        // Another process writes: read between two looks at its commit state, retrying
        // while a commit is being applied (a commit takes milliseconds).
        let tenant_dir = self.tenant_dir(tenant)?;
        let mut files = Vec::new();
        for _ in 0..400 {
            let before = commit_state(&tenant_dir)?;
            files = read()?;
            let after = commit_state(&tenant_dir)?;
            if before.1 == 0 && before == after {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(files)
    }

    /// The day partitions of a table within the query window, oldest first.
    fn partitions_in_window(
        &self,
        tenant: &str,
        table: &str,
        now_nanos: i64,
    ) -> Result<Vec<PathBuf>, IngestError> {
        let dir = self.table_dir(tenant, table)?;
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let first = day_name(now_nanos - self.config.window_days * NANOS_PER_DAY);
        let mut out: Vec<(String, PathBuf)> = Vec::new();
        for d in fs::read_dir(&dir)? {
            let d = d?.path();
            if let Some(day) = partition_day(&d)
                && (day >= first || day == UNDATED)
            {
                out.push((day, d));
            }
        }
        out.sort();
        Ok(out.into_iter().map(|(_, p)| p).collect())
    }

    /// The data of one tenant as a [`kql_engine::DataSource`].
    pub fn data_source(self: &Arc<Self>, tenant: &str) -> TenantData {
        TenantData {
            store: Arc::clone(self),
            tenant: tenant.to_string(),
        }
    }

    /// A KQL engine over one tenant's tables (the store's catalog, [`Store::data_source`]).
    pub fn engine(self: &Arc<Self>, tenant: &str) -> kql_engine::Engine {
        self.engine_in(tenant, None)
    }

    /// [`Store::engine`], its dated tables restricted to `from <= Timestamp < to`
    /// (nanoseconds since the Unix epoch) when a range is given ([`kql_engine::TimeRange`]).
    pub fn engine_in(
        self: &Arc<Self>,
        tenant: &str,
        range: Option<(i64, i64)>,
    ) -> kql_engine::Engine {
        let data: Arc<dyn kql_engine::DataSource> = Arc::new(self.data_source(tenant));
        let data = match range {
            None => data,
            Some((from, to)) => Arc::new(kql_engine::TimeRange::new(data, from, to)),
        };
        kql_engine::Engine::new(Arc::clone(&self.catalog), data)
    }
}

/// An ingest in progress (see [`Store::begin`]).
pub struct Transaction<'s> {
    store: &'s Store,
    tenant_dir: PathBuf,
    txid: String,
    staging: PathBuf,
    moves: Vec<(PathBuf, PathBuf)>,
    report: IngestReport,
    done: bool,
}

impl Transaction<'_> {
    /// Writes a batch of `table` (in its exact schema) to staged, fsync'd Parquet files,
    /// one per day.
    pub fn stage(&mut self, table: &str, batch: &RecordBatch) -> Result<(), IngestError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        *self.report.tables.entry(table.to_string()).or_default() += batch.num_rows();
        let batch = match self.store.catalog.table(table) {
            Some(schema) => strings_never_null(batch, &schema)?,
            None => batch.clone(),
        };
        for (day, part) in split_by_day(&batch)? {
            let n = self.moves.len();
            let staged = self.staging.join(format!("{n:06}-{table}-{day}.parquet"));
            self.store.write_parquet(&staged, &part)?;
            let dest = self
                .tenant_dir
                .join("tables")
                .join(table)
                .join(format!("date={day}"))
                .join(format!("part-{}-{n:06}.parquet", self.txid));
            self.moves.push((staged, dest));
        }
        Ok(())
    }

    /// Makes everything staged durable at once; returns what was stored.
    pub fn commit(mut self) -> Result<IngestReport, IngestError> {
        if self.moves.is_empty() {
            return Err(IngestError::new("EmptyRequest", "no events to ingest"));
        }
        sync_dir(&self.staging)?;
        // The commit record: once it is on disk, the request is durable.
        let record = CommitRecord {
            moves: self
                .moves
                .iter()
                .map(|(s, d)| {
                    (
                        s.to_string_lossy().into_owned(),
                        d.to_string_lossy().into_owned(),
                    )
                })
                .collect(),
            retire: Vec::new(),
        };
        let path = self
            .store
            .write_record(&self.tenant_dir, &self.txid, &record)?;
        self.done = true;
        self.store.apply(&record)?;
        fs::remove_file(&path)?;
        let _ = fs::remove_dir(&self.staging);
        self.report.files = self.moves.len();
        // Day partitions past the retention go as soon as new data arrives.
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
        if let Some(tenant) = self.tenant_dir.file_name().and_then(|t| t.to_str()) {
            self.store.enforce_retention(tenant, now)?;
        }
        Ok(std::mem::take(&mut self.report))
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Name endings of the string columns that repeat across events: names, paths, ids and
/// kinds. Their dictionary pages may grow to [`DICTIONARY_PAGE_BYTES`] (other strings':
/// [`OTHER_DICTIONARY_PAGE_BYTES`]), and `summarize … by` them groups by dictionary keys
/// (`kql_engine::dictagg`).
///
/// Any string column whose Parquet pages all stayed dictionary-encoded is declared
/// `Dictionary(Int32, Utf8)` in the file's embedded Arrow schema ([`finish_parquet`]);
/// Arrow readers then get one dictionary per column chunk and Peregrine tests a filter
/// once per distinct value (`kql_engine::dictscan`). Other Parquet readers see plain
/// strings.
const DICTIONARY_SUFFIXES: &[&str] = &[
    "FileName",
    "FolderPath",
    "ActionType",
    "DeviceName",
    "DeviceId",
    "AccountName",
    "AccountDomain",
    "AccountSid",
    "AccountUpn",
    "AccountObjectId",
    "AccountDisplayName",
    "Platform",
    "Protocol",
    "Type",
    "IntegrityLevel",
    "TokenElevation",
    "SignatureStatus",
    "CompanyName",
    "ProductName",
    "ProductVersion",
    "FileDescription",
    "Severity",
    "Category",
    "Country",
    "CountryCode",
    "City",
    "ISP",
    "Isp",
    "Application",
    "DetectionSource",
    "ServiceSource",
    "Workload",
];

/// A dictionary page may hold this many bytes (Parquet's default is 1 MiB; past the
/// limit the writer falls back to plain pages and readers must re-encode).
const DICTIONARY_PAGE_BYTES: usize = 8 << 20;

/// A dictionary page of any other string column may hold this many bytes: JSON fields
/// and messages that repeat keep their dictionary (and are then declared one too).
const OTHER_DICTIONARY_PAGE_BYTES: usize = 2 << 20;

/// Is the string column `name` usually stored as a dictionary? See
/// [`DICTIONARY_SUFFIXES`]. (Whether a given file's column is one depends on its data:
/// [`finish_parquet`].)
pub fn dictionary_column(name: &str) -> bool {
    DICTIONARY_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Closes a writer from [`Store::parquet_writer`]: every string column whose data pages
/// are all dictionary-encoded, in every row group, is declared `Dictionary(Int32, Utf8)`
/// in the file's embedded Arrow schema (the storage schema); the others stay `Utf8`, so
/// that no reader has to build a dictionary from plain pages.
fn finish_parquet(mut writer: ArrowWriter<File>, logical: &Schema) -> Result<File, IngestError> {
    use datafusion::parquet::arrow::{ARROW_SCHEMA_META_KEY, encode_arrow_schema};
    use datafusion::parquet::file::metadata::KeyValue;
    let err = |e: datafusion::parquet::errors::ParquetError| IngestError::internal(e.to_string());
    writer.flush().map_err(err)?;
    let groups = writer.flushed_row_groups();
    let fields: Vec<Field> = logical
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let dictionary = f.data_type() == &DataType::Utf8
                && !groups.is_empty()
                && groups.iter().all(|g| {
                    // One leaf per top-level column: these schemas have no nested types.
                    g.columns().get(i).is_some_and(all_dictionary_pages)
                });
            if dictionary {
                f.as_ref().clone().with_data_type(DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(DataType::Utf8),
                ))
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let storage = Schema::new_with_metadata(fields, logical.metadata().clone());
    writer.append_key_value_metadata(KeyValue::new(
        ARROW_SCHEMA_META_KEY.to_string(),
        encode_arrow_schema(&storage),
    ));
    writer.into_inner().map_err(err)
}

/// Are all of a column chunk's data pages dictionary-encoded?
fn all_dictionary_pages(c: &datafusion::parquet::file::metadata::ColumnChunkMetaData) -> bool {
    use datafusion::parquet::basic::{Encoding, PageType};
    if c.dictionary_page_offset().is_none() {
        return false;
    }
    if let Some(stats) = c.page_encoding_stats() {
        return stats
            .iter()
            .filter(|s| matches!(s.page_type, PageType::DATA_PAGE | PageType::DATA_PAGE_V2))
            .all(|s| {
                matches!(
                    s.encoding,
                    Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY
                )
            });
    }
    c.page_encoding_stats_mask().is_some_and(|m| {
        m.is_only(Encoding::RLE_DICTIONARY) || m.is_only(Encoding::PLAIN_DICTIONARY)
    })
}

/// A stored file's schema as the engine sees it: dictionaries as their value type.
fn logical_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Dictionary(_, v) => f.as_ref().clone().with_data_type(v.as_ref().clone()),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// KQL strings are never null: a missing `string` value is stored as `""` (so it groups,
/// joins and counts as the empty string). `guid` and `dynamic` keep their nulls.
fn strings_never_null(
    batch: &RecordBatch,
    table: &kql_sema::TableSchema,
) -> Result<RecordBatch, IngestError> {
    use datafusion::arrow::array::{AsArray, StringArray};
    let schema = batch.schema();
    let mut columns = batch.columns().to_vec();
    let mut changed = false;
    for (i, f) in schema.fields().iter().enumerate() {
        let is_string = table
            .columns
            .iter()
            .any(|c| &c.name == f.name() && c.ty == kql_syntax::KqlType::String);
        let Some(col) = columns.get_mut(i) else {
            continue;
        };
        if !is_string || col.null_count() == 0 {
            continue;
        }
        let Some(strings) = col.as_string_opt::<i32>() else {
            continue;
        };
        let filled: StringArray = strings.iter().map(|v| Some(v.unwrap_or(""))).collect();
        *col = Arc::new(filled);
        changed = true;
    }
    if !changed {
        return Ok(batch.clone());
    }
    RecordBatch::try_new(schema, columns).map_err(|e| IngestError::internal(e.to_string()))
}

/// `batch` with its dictionary columns as plain strings (as batches are written; see
/// [`Store::parquet_writer`]).
fn to_logical(batch: &RecordBatch) -> Result<RecordBatch, IngestError> {
    let target = logical_schema(&batch.schema());
    if target == batch.schema() {
        return Ok(batch.clone());
    }
    let columns = batch
        .columns()
        .iter()
        .zip(target.fields())
        .map(|(c, f)| datafusion::arrow::compute::cast(c, f.data_type()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| IngestError::internal(e.to_string()))?;
    RecordBatch::try_new(target, columns).map_err(|e| IngestError::internal(e.to_string()))
}

/// One tenant's tables for the KQL engine: each table is its day partitions within the
/// window, filtered to `Timestamp >= now - window`.
pub struct TenantData {
    store: Arc<Store>,
    tenant: String,
}

impl kql_engine::DataSource for TenantData {
    fn dictionary_column(&self, column: &str) -> bool {
        dictionary_column(column)
    }

    fn provider(
        &self,
        name: &str,
        schema: SchemaRef,
    ) -> Result<Arc<dyn TableProvider>, Diagnostic> {
        let internal = |e: String| Diagnostic::internal(format!("store: {e}"), Span::default());
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
        let files = self
            .store
            .dated_files_in_window(&self.tenant, name, now)
            .map_err(|e| internal(e.message))?;
        if files.is_empty() {
            let t = MemTable::try_new(schema, vec![vec![]]).map_err(|e| internal(e.to_string()))?;
            return Ok(Arc::new(t));
        }
        // Only the window's first day holds events older than the window: its files are
        // filtered by `Timestamp >= now - window`; every later day is read as it is, so
        // scans of whole days keep their statistics (a count is read from the footers).
        let cutoff = now - self.store.config.window_days * NANOS_PER_DAY;
        let first_day = day_name(cutoff);
        let dated = schema.field_with_name("Timestamp").is_ok();
        let (edge, inner): (Vec<_>, Vec<_>) = files
            .into_iter()
            .partition(|(day, _)| dated && *day <= first_day);
        let listing = |files: &[(String, PathBuf)]| -> Result<Arc<dyn TableProvider>, String> {
            let urls = files
                .iter()
                .map(|(_, p)| ListingTableUrl::parse(p.to_string_lossy()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet");
            let config = ListingTableConfig::new_with_multi_paths(urls)
                .with_listing_options(options)
                .with_schema(Arc::clone(&schema))
                .with_expr_adapter_factory(Arc::new(kql_engine::dictscan::DictScanAdapterFactory));
            Ok(Arc::new(
                ListingTable::try_new(config).map_err(|e| e.to_string())?,
            ))
        };
        if edge.is_empty() {
            return listing(&inner).map_err(internal);
        }
        let edge_table = listing(&edge).map_err(internal)?;
        let mut builder = LogicalPlanBuilder::scan(name, provider_as_source(edge_table), None)
            .and_then(|b| {
                b.filter(
                    ident("Timestamp")
                        .gt_eq(lit(ScalarValue::TimestampNanosecond(Some(cutoff), None))),
                )
            })
            .map_err(|e| internal(e.to_string()))?;
        if !inner.is_empty() {
            let inner_table = listing(&inner).map_err(internal)?;
            let rest = LogicalPlanBuilder::scan(name, provider_as_source(inner_table), None)
                .and_then(|b| b.build())
                .map_err(|e| internal(e.to_string()))?;
            builder = builder.union(rest).map_err(|e| internal(e.to_string()))?;
        }
        let plan = builder.build().map_err(|e| internal(e.to_string()))?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}

/// A background compaction thread (see [`Store::spawn_compactor`]); stops when dropped.
pub struct Compactor {
    stop: Arc<(Mutex<bool>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Compactor {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.stop;
        *lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        cvar.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `DIR/<tenant>` of a path under `DIR/<tenant>/tables/...`.
fn tenant_of(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "tables"))
        .and_then(Path::parent)
        .map(Path::to_path_buf)
}

/// Counts applied commits, for readers in other processes (see [`commit_state`]).
fn bump_version(tenant_dir: &Path) -> Result<(), IngestError> {
    let path = tenant_dir.join("_version");
    let v: u64 = fs::read_to_string(&path)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    let tmp = tenant_dir.join("_version.tmp");
    fs::write(&tmp, (v + 1).to_string())?;
    fs::rename(&tmp, &path)?;
    Ok(())
}

/// (applied commits, commits being applied) of a tenant: a commit's record exists while
/// it is applied, and the version is bumped before the record goes.
fn commit_state(tenant_dir: &Path) -> Result<(u64, usize), IngestError> {
    let version = fs::read_to_string(tenant_dir.join("_version"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    let pending = match fs::read_dir(tenant_dir.join("_commits")) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_str().is_some_and(|n| n.ends_with(".json")))
            .count(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e.into()),
    };
    Ok((version, pending))
}

/// A commit record: the current form, or the bare list of moves of earlier versions.
fn parse_commit_record(bytes: &[u8]) -> Result<CommitRecord, serde_json::Error> {
    serde_json::from_slice::<CommitRecord>(bytes).or_else(|_| {
        serde_json::from_slice::<Vec<(String, String)>>(bytes).map(|moves| CommitRecord {
            moves,
            retire: Vec::new(),
        })
    })
}

/// Whether `name` can name a tenant: 1 to 64 ASCII letters, digits, `-`, `_` and `.`, not
/// starting with `.` or `_` (a GUID qualifies).
pub fn valid_tenant(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && !name.starts_with('_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// The partition of a table without a `Timestamp` column (inventories and knowledge bases,
/// such as `DeviceTvmSoftwareInventory`): always in the query window, never past retention.
const UNDATED: &str = "0000-00-00";

/// `YYYY-MM-DD` of a time in nanoseconds (UTC).
fn day_name(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "0000-00-00".into())
}

/// The day of a `date=YYYY-MM-DD` directory.
fn partition_day(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let day = name.strip_prefix("date=")?;
    (day.len() == 10).then(|| day.to_string())
}

/// Splits a batch by the UTC day of its `Timestamp` column.
fn split_by_day(batch: &RecordBatch) -> Result<Vec<(String, RecordBatch)>, IngestError> {
    let Ok(idx) = batch.schema().index_of("Timestamp") else {
        return Ok(vec![(UNDATED.to_string(), batch.clone())]);
    };
    let ts = batch
        .column(idx)
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .ok_or_else(|| IngestError::internal("Timestamp is not a timestamp column"))?;
    let mut days: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
    for i in 0..ts.len() {
        let day = if ts.is_null(i) {
            0
        } else {
            ts.value(i).div_euclid(NANOS_PER_DAY)
        };
        days.entry(day).or_default().push(i as u32);
    }
    if days.len() == 1 {
        let day = days.keys().next().copied().unwrap_or(0);
        return Ok(vec![(day_name(day * NANOS_PER_DAY), batch.clone())]);
    }
    let mut out = Vec::new();
    for (day, rows) in days {
        let part = take_record_batch(batch, &UInt32Array::from(rows))
            .map_err(|e| IngestError::internal(e.to_string()))?;
        out.push((day_name(day * NANOS_PER_DAY), part));
    }
    Ok(out)
}

/// Renames staged files into place; a move already done (source gone, target there) is
/// skipped, so replaying a commit is safe.
fn apply_moves(moves: &[(PathBuf, PathBuf)]) -> Result<(), IngestError> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (src, dst) in moves {
        if !src.exists() {
            if dst.exists() {
                continue;
            }
            return Err(IngestError::internal(format!(
                "a committed file is missing: {}",
                src.display()
            )));
        }
        if let Some(parent) = dst.parent() {
            fs::create_dir_all(parent)?;
            if !dirs.contains(&parent.to_path_buf()) {
                dirs.push(parent.to_path_buf());
            }
        }
        fs::rename(src, dst)?;
    }
    for d in dirs {
        sync_dir(&d)?;
        if let Some(p) = d.parent() {
            sync_dir(p)?;
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), IngestError> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Records per staged chunk of an NDJSON input read by [`Store::ingest_body`].
pub const NDJSON_CHUNK_RECORDS: usize = 256 * 1024;

fn read_error(e: std::io::Error) -> IngestError {
    IngestError::new("ReadError", format!("cannot read the input: {e}"))
}

/// Reads a whole input of at most `limit` bytes as text: `RequestTooLarge` when it is
/// longer, `InvalidJson` (with the line) when it is not UTF-8, `ReadError` when it cannot
/// be read.
pub fn read_body(reader: impl std::io::Read, limit: u64) -> Result<String, IngestError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > limit {
        return Err(IngestError::too_large(limit));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = e
            .as_bytes()
            .get(..valid)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
            + 1;
        IngestError::records(vec![LineError::new(
            line,
            None,
            "InvalidJson",
            "the text is not UTF-8",
        )])
    })
}

/// Reads request text as records: a JSON array of objects, or NDJSON (one object per
/// line; blank lines skipped). Each record carries its 1-based line (or array index).
pub fn parse_records(text: &str) -> Result<Vec<(usize, Value)>, IngestError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return match serde_json::from_str::<Value>(trimmed) {
            Ok(Value::Array(items)) => Ok(items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i + 1, v))
                .collect()),
            Ok(_) => Err(IngestError::new("InvalidJson", "expected a JSON array")),
            Err(e) => Err(IngestError::records(vec![LineError::new(
                e.line(),
                None,
                "InvalidJson",
                format!("invalid JSON: {e}"),
            )])),
        };
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(v) => out.push((i + 1, v)),
            Err(e) => errors.push(LineError::new(
                i + 1,
                None,
                "InvalidJson",
                format!("invalid JSON at column {}: {e}", e.column()),
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(IngestError::records(errors))
    }
}

/// Lines per block handed to an NDJSON parser thread (see [`Store::ingest_ndjson`]).
const BLOCK_LINES: usize = 4096;
/// Bytes after which a block is handed over even if it has fewer lines.
const BLOCK_BYTES: usize = 4 << 20;
/// At most this many NDJSON parser threads.
const MAX_PARSERS: usize = 4;

/// Lines of NDJSON input: `(line number, from, to)` in `text`.
struct Block {
    seq: u64,
    text: String,
    lines: Vec<(usize, usize, usize)>,
}

/// A parsed [`Block`]: its rows (none if it had a problem) and its problems.
struct Parsed {
    seq: u64,
    batch: Result<RecordBatch, IngestError>,
    errors: Vec<LineError>,
}

/// Reads NDJSON into blocks of at most `block_lines` records (blank lines skipped) and
/// sends them on; returns how many (`u64::MAX` when the receivers are gone). Stops at the
/// first line that is not UTF-8 text (reported alone: the input cannot be read further).
fn read_blocks(
    mut reader: impl std::io::BufRead,
    block_lines: usize,
    send: &std::sync::mpsc::SyncSender<Block>,
    progress: &mut impl FnMut(u64, usize),
) -> Result<u64, IngestError> {
    let (mut bytes, mut records) = (0u64, 0usize);
    let mut seq = 0u64;
    let new_block = |seq: u64| Block {
        seq,
        text: String::with_capacity(BLOCK_BYTES + (64 << 10)),
        lines: Vec::with_capacity(block_lines),
    };
    let mut block = new_block(seq);
    let mut i = 0usize;
    loop {
        i += 1;
        let from = block.text.len();
        match reader.read_line(&mut block.text) {
            Ok(0) => break,
            Ok(n) => bytes += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(IngestError::records(vec![LineError::new(
                    i,
                    None,
                    "InvalidJson",
                    "the line is not UTF-8 text",
                )]));
            }
            Err(e) => return Err(e.into()),
        }
        let to = block.text.len();
        if block.text.get(from..to).is_none_or(|l| l.trim().is_empty()) {
            block.text.truncate(from);
            continue;
        }
        block.lines.push((i, from, to));
        records += 1;
        if block.lines.len() >= block_lines || block.text.len() >= BLOCK_BYTES {
            seq += 1;
            let full = std::mem::replace(&mut block, new_block(seq));
            if send.send(full).is_err() {
                // The parsers are gone (failed); reported by the caller.
                return Ok(u64::MAX);
            }
            progress(bytes, records);
        }
    }
    if !block.lines.is_empty() {
        if send.send(block).is_err() {
            return Ok(u64::MAX);
        }
        seq += 1;
    }
    progress(bytes, records);
    Ok(seq)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn open(dir: &Path) -> Store {
        let catalog: Arc<dyn Catalog> = Arc::new(kql_sema::MemoryCatalog::defender());
        Store::open(dir, catalog, StoreConfig::default()).unwrap()
    }

    fn ingest(store: &Store, id: u64) {
        let t = chrono::Utc::now().to_rfc3339();
        let records = parse_records(&format!(
            "{{\"Timestamp\":\"{t}\",\"ReportId\":{id},\"DeviceName\":\"ws\"}}"
        ))
        .unwrap();
        store
            .ingest("default", "DeviceProcessEvents", &records)
            .unwrap();
    }

    /// A compaction whose record is durable but which crashed before switching the
    /// manifest is finished on the next open; one without a record leaves nothing.
    #[test]
    fn recovery_finishes_a_recorded_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        for id in 0..3 {
            ingest(&store, id);
        }
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap();
        let live = |s: &Store| {
            s.files_in_window("default", "DeviceProcessEvents", now)
                .unwrap()
        };
        let files = live(&store);
        assert_eq!(files.len(), 3);
        let part = files[0].parent().unwrap().to_path_buf();
        let tenant_dir = dir.path().join("default");

        // Stage a merged file of the first two, write its record, "crash".
        let txid = store.next_txid();
        let staging = tenant_dir.join("_staging").join(&txid);
        fs::create_dir_all(&staging).unwrap();
        let merged = staging.join("compacted.parquet");
        fs::copy(&files[0], &merged).unwrap();
        let names: Vec<String> = files[..2]
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let record = CommitRecord {
            moves: vec![(
                merged.to_string_lossy().into_owned(),
                part.join("part-merged.parquet")
                    .to_string_lossy()
                    .into_owned(),
            )],
            retire: vec![(part.to_string_lossy().into_owned(), names.clone())],
        };
        store.write_record(&tenant_dir, &txid, &record).unwrap();
        // An unrecorded one too.
        let orphan = tenant_dir.join("_staging").join("x");
        fs::create_dir_all(&orphan).unwrap();
        fs::copy(&files[2], orphan.join("compacted.parquet")).unwrap();
        drop(store);

        let store = open(dir.path());
        let after = live(&store);
        let after_names: Vec<String> = after
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(after.len(), 2, "{after_names:?}");
        assert!(after_names.contains(&"part-merged.parquet".to_string()));
        assert!(!after_names.iter().any(|n| names.contains(n)));
        assert!(!tenant_dir.join("_staging").exists());
        assert_eq!(
            fs::read_dir(tenant_dir.join("_commits")).unwrap().count(),
            0
        );
        let m = Manifest::read(&part).unwrap();
        assert_eq!(m.retired.len(), 2);
        // Replaying the same record again changes nothing.
        store.apply(&record).unwrap();
        assert_eq!(Manifest::read(&part).unwrap().files, m.files);
    }
}
