//! Peregrine's event store: per tenant and hunting table, day-partitioned Parquet (zstd)
//! under a data directory, written all-or-nothing and durably, read through DataFusion.
//!
//! ```text
//! DIR/<tenant>/tables/<Table>/date=YYYY-MM-DD/part-<txid>.parquet   the data (hive layout)
//! DIR/<tenant>/_staging/<txid>/...                                 files being written
//! DIR/<tenant>/_commits/<txid>.json                                a commit being applied
//! ```
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
pub mod records;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::{Array, TimestampNanosecondArray, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
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
use datafusion::scalar::ScalarValue;
use kql_sema::Catalog;
use kql_syntax::{Diagnostic, Span};
use serde_json::Value;

pub use error::{IngestError, LineError};
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
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            window_days: 30,
            retention_days: 30,
            row_group_rows: 256 * 1024,
        }
    }
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
}

impl Store {
    /// Opens (creating it if needed) the store at `root` and recovers every tenant in it.
    pub fn open(
        root: &Path,
        catalog: Arc<dyn Catalog>,
        config: StoreConfig,
    ) -> Result<Store, IngestError> {
        fs::create_dir_all(root)?;
        let store = Store {
            root: root.to_path_buf(),
            catalog,
            config,
            counter: AtomicU64::new(0),
        };
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

    pub fn root(&self) -> &Path {
        &self.root
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
            .ok_or_else(|| unknown_table(table))?;
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
    /// whole input is still all or nothing. `progress(bytes, records)` is called per chunk.
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
            .ok_or_else(|| unknown_table(table))?;
        let mut tx = self.begin(tenant)?;
        let mut builder = TableBatchBuilder::new(&schema);
        let mut errors: Vec<LineError> = Vec::new();
        let (mut bytes, mut records) = (0u64, 0usize);
        for (i, line) in reader.lines().enumerate() {
            let line = line?;
            bytes += line.len() as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(&line) {
                Ok(v) => {
                    if let Err(e) = builder.add(i + 1, &v) {
                        errors.extend(e);
                    }
                }
                Err(e) => errors.push(LineError::new(
                    i + 1,
                    None,
                    "InvalidJson",
                    format!("invalid JSON at column {}: {e}", e.column()),
                )),
            }
            records += 1;
            if builder.rows() >= chunk.max(1) {
                let full = std::mem::replace(&mut builder, TableBatchBuilder::new(&schema));
                if errors.is_empty() {
                    tx.stage(table, &full.finish()?)?;
                }
                progress(bytes, records);
            }
        }
        if !errors.is_empty() {
            return Err(IngestError::records(errors));
        }
        tx.stage(table, &builder.finish()?)?;
        progress(bytes, records);
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
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(1).map_err(|e| IngestError::internal(e.to_string()))?,
            ))
            .set_max_row_group_row_count(Some(self.config.row_group_rows))
            .build();
        let file = File::create(path)?;
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))
            .map_err(|e| IngestError::internal(e.to_string()))?;
        writer
            .write(batch)
            .map_err(|e| IngestError::internal(e.to_string()))?;
        let file = writer
            .into_inner()
            .map_err(|e| IngestError::internal(e.to_string()))?;
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
                        let moves: Vec<(String, String)> =
                            serde_json::from_slice(&text).map_err(|e| {
                                IngestError::internal(format!(
                                    "commit record {}: {e}",
                                    path.display()
                                ))
                            })?;
                        let moves: Vec<(PathBuf, PathBuf)> = moves
                            .into_iter()
                            .map(|(s, d)| (PathBuf::from(s), PathBuf::from(d)))
                            .collect();
                        apply_moves(&moves)?;
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

    /// Deletes the day partitions older than the retention; returns how many.
    pub fn enforce_retention(&self, tenant: &str, now_nanos: i64) -> Result<usize, IngestError> {
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
                {
                    fs::remove_dir_all(&d)?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
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
                && day >= first
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
        for (day, part) in split_by_day(batch)? {
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
        let commits = self.tenant_dir.join("_commits");
        fs::create_dir_all(&commits)?;
        let record = serde_json::to_vec(
            &self
                .moves
                .iter()
                .map(|(s, d)| (s.to_string_lossy(), d.to_string_lossy()))
                .collect::<Vec<_>>(),
        )
        .map_err(|e| IngestError::internal(e.to_string()))?;
        let tmp = commits.join(format!("{}.tmp", self.txid));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&record)?;
            f.sync_all()?;
        }
        let record_path = commits.join(format!("{}.json", self.txid));
        fs::rename(&tmp, &record_path)?;
        sync_dir(&commits)?;
        self.done = true;
        apply_moves(&self.moves)?;
        fs::remove_file(&record_path)?;
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

/// One tenant's tables for the KQL engine: each table is its day partitions within the
/// window, filtered to `Timestamp >= now - window`.
pub struct TenantData {
    store: Arc<Store>,
    tenant: String,
}

impl kql_engine::DataSource for TenantData {
    fn provider(
        &self,
        name: &str,
        schema: SchemaRef,
    ) -> Result<Arc<dyn TableProvider>, Diagnostic> {
        let internal = |e: String| Diagnostic::internal(format!("store: {e}"), Span::default());
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
        let parts = self
            .store
            .partitions_in_window(&self.tenant, name, now)
            .map_err(|e| internal(e.message))?;
        if parts.is_empty() {
            let t = MemTable::try_new(schema, vec![vec![]]).map_err(|e| internal(e.to_string()))?;
            return Ok(Arc::new(t));
        }
        let urls = parts
            .iter()
            .map(|p| ListingTableUrl::parse(format!("{}/", p.to_string_lossy())))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| internal(e.to_string()))?;
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .with_schema(Arc::clone(&schema));
        let listing = ListingTable::try_new(config).map_err(|e| internal(e.to_string()))?;
        let cutoff = now - self.store.config.window_days * NANOS_PER_DAY;
        let mut builder =
            LogicalPlanBuilder::scan(name, provider_as_source(Arc::new(listing)), None)
                .map_err(|e| internal(e.to_string()))?;
        if schema.field_with_name("Timestamp").is_ok() {
            builder = builder
                .filter(
                    ident("Timestamp")
                        .gt_eq(lit(ScalarValue::TimestampNanosecond(Some(cutoff), None))),
                )
                .map_err(|e| internal(e.to_string()))?;
        }
        let plan = builder.build().map_err(|e| internal(e.to_string()))?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}

fn unknown_table(table: &str) -> IngestError {
    IngestError::new(
        "UnknownTable",
        format!("'{table}' is not an advanced hunting table"),
    )
}

fn valid_tenant(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && !name.starts_with('_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

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
        return Ok(vec![("0000-00-00".to_string(), batch.clone())]);
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
