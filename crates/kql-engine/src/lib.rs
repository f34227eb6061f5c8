//! The KQL engine: bound IR → DataFusion `LogicalPlan` → Arrow batches with KQL types.
//!
//! ```text
//! text ─parse─▶ AST ─bind─▶ IR ─plan─▶ LogicalPlan ─DataFusion─▶ RecordBatch stream ─▶ QueryResult
//! ```

// Errors are `Diagnostic`s (code, message, span, labels, notes); they travel on the
// error path only, so their size is not worth boxing.
#![allow(clippy::result_large_err)]

pub mod dictagg;
pub mod dictscan;
mod external;
pub mod format;
pub mod plan;
mod udf;

use datafusion::arrow::datatypes::{Field as ArrowField, Schema as ArrowSchema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::{MemTable, TableProvider};
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryPool, PeakRecordingPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use kql_sema::Catalog;
use kql_sema::ir::Field;
use kql_syntax::{Diagnostic, KqlType, Span, codes};
use std::sync::Arc;

/// One result column: its name and KQL type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: KqlType,
}

/// A query's result: columns with KQL types, and the Arrow batches (Arrow types follow
/// the mapping in `kql_syntax::types`).
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub columns: Vec<Column>,
    pub batches: Vec<RecordBatch>,
    /// `render` hint, if the query ended with one (`{"visualization": "timechart", ...}`).
    pub visualization: Option<serde_json::Value>,
    /// What running the query cost.
    pub stats: QueryStats,
}

/// What a query cost, measured while it ran (its probes for `bag_unpack`/`pivot` included):
/// DataFusion's plan metrics, summed over every operator of every executed plan, and the
/// memory pool's high-water mark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Wall-clock time from the start of planning to the last batch.
    pub elapsed: std::time::Duration,
    /// Busy time of the plan's operators, summed over the threads that ran them: each
    /// operator's `elapsed_compute` plus the scans' decoding and filtering
    /// (`time_elapsed_processing`). With several partitions it can exceed `elapsed`; time
    /// spent waiting (for input, for a thread) is not in it.
    pub cpu: std::time::Duration,
    /// The most memory the query held at once, as far as it is accounted: the larger of
    /// the memory pool's peak reservation (hash tables, sort and aggregation buffers) and
    /// the collected result's Arrow buffers. Batches in flight between operators are not
    /// accounted by DataFusion, so this is a lower bound.
    pub peak_memory_bytes: u64,
    /// Rows the Parquet scans read: the rows they returned plus the rows their pushed-down
    /// filters dropped (row groups pruned by statistics are not read and not counted).
    /// In-memory tables (`datatable`, `range`, tables without a store) record none.
    pub rows_scanned: u64,
    /// Bytes the Parquet scans read from their files (`bytes_scanned`; 0 for in-memory
    /// tables).
    pub bytes_scanned: u64,
}

impl QueryStats {
    /// Adds one executed plan's metrics (every operator of the tree) and its memory peak.
    fn add_plan(&mut self, plan: &dyn ExecutionPlan, peak_reserved: usize) {
        let mut cpu_nanos = 0u64;
        let mut stack = vec![plan];
        while let Some(node) = stack.pop() {
            let children = node.children();
            if let Some(metrics) = node.metrics() {
                let sum = |name: &str| metrics.sum_by_name(name).map_or(0, |v| v.as_usize() as u64);
                cpu_nanos +=
                    metrics.elapsed_compute().unwrap_or(0) as u64 + sum("time_elapsed_processing");
                self.bytes_scanned += sum("bytes_scanned");
                if children.is_empty() {
                    self.rows_scanned +=
                        metrics.output_rows().unwrap_or(0) as u64 + sum("pushdown_rows_pruned");
                }
            }
            stack.extend(children.into_iter().map(|c| c.as_ref()));
        }
        self.cpu += std::time::Duration::from_nanos(cpu_nanos);
        self.peak_memory_bytes = self.peak_memory_bytes.max(peak_reserved as u64);
    }
}

impl QueryResult {
    pub fn row_count(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// Options for one query.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// The query start time in nanoseconds since the Unix epoch; `now()`/`ago()` read it.
    /// `None` means the wall clock at the start of the query.
    pub now_nanos: Option<i64>,
    /// Maximum rows returned (the service limit is 100,000).
    pub max_rows: usize,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            now_nanos: None,
            max_rows: 100_000,
        }
    }
}

/// Where table data comes from: a provider per table (empty tables by default).
pub trait DataSource: Send + Sync {
    fn provider(
        &self,
        name: &str,
        schema: datafusion::arrow::datatypes::SchemaRef,
    ) -> Result<Arc<dyn TableProvider>, Diagnostic>;

    /// Do this source's Parquet files keep the string column `column` as a dictionary?
    /// Then `summarize … by column` groups by dictionary keys ([`dictagg`]).
    fn dictionary_column(&self, _column: &str) -> bool {
        false
    }
}

/// Every table empty: for schema checks and self-contained queries.
pub struct EmptyData;

impl DataSource for EmptyData {
    fn provider(
        &self,
        _name: &str,
        schema: datafusion::arrow::datatypes::SchemaRef,
    ) -> Result<Arc<dyn TableProvider>, Diagnostic> {
        let t = MemTable::try_new(schema, vec![vec![]])
            .map_err(|e| Diagnostic::internal(e.to_string(), Span::default()))?;
        Ok(Arc::new(t))
    }
}

struct Tables<'a> {
    data: &'a dyn DataSource,
}

impl plan::TableSource for Tables<'_> {
    fn provider(&self, name: &str, fields: &[Field]) -> Result<Arc<dyn TableProvider>, Diagnostic> {
        let schema = Arc::new(ArrowSchema::new(
            fields
                .iter()
                .map(|f| ArrowField::new(&f.name, kql_functions::arrow_type(f.ty), true))
                .collect::<Vec<_>>(),
        ));
        self.data.provider(name, schema)
    }
}

/// The engine: a catalog of table schemas and the data behind them.
pub struct Engine {
    catalog: Arc<dyn Catalog>,
    data: Arc<dyn DataSource>,
    session: SessionContext,
}

/// A planned query, ready to run.
pub struct Planned {
    pub columns: Vec<Column>,
    pub plan: LogicalPlan,
    pub visualization: Option<serde_json::Value>,
}

fn now_nanos() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

impl Engine {
    /// An engine over the Defender schema with no data (every table empty).
    pub fn defender() -> Self {
        Engine::new(
            Arc::new(kql_sema::MemoryCatalog::defender()),
            Arc::new(EmptyData),
        )
    }

    pub fn new(catalog: Arc<dyn Catalog>, data: Arc<dyn DataSource>) -> Self {
        // DataFusion's own `DATAFUSION_*` environment variables (e.g.
        // `DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS=true`) tune the session, for
        // benchmarks; the defaults below apply when they are not set.
        let mut config = SessionConfig::from_env()
            .unwrap_or_else(|_| SessionConfig::new())
            .with_information_schema(false);
        let unset = |k: &str| std::env::var_os(k).is_none();
        if unset("DATAFUSION_EXECUTION_TARGET_PARTITIONS") {
            config = config.with_target_partitions(2);
        }
        let opts = config.options_mut();
        // Late materialisation: a scan evaluates the filter on its own columns first and
        // decodes the others only for the rows that pass (hunting filters are selective
        // and tables are wide: 10x on `union` of IOC lookups).
        if unset("DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS") {
            opts.execution.parquet.pushdown_filters = true;
        }
        if unset("DATAFUSION_EXECUTION_PARQUET_REORDER_FILTERS") {
            opts.execution.parquet.reorder_filters = true;
        }
        // Joins build a hash table of the left side once and stream the right side, instead
        // of hash-repartitioning both (the wide right side dominated `x in~ (T | ...)`).
        if unset("DATAFUSION_OPTIMIZER_REPARTITION_JOINS") {
            opts.optimizer.repartition_joins = false;
        }
        // A hash join's dynamic filter (the build side's key bounds and hash table, pushed
        // into the probe side's scan) is evaluated on every probe row's materialised key
        // before the static filters narrow the rows (the Parquet reader orders filters by
        // column size, and the key column is small), so for hunting joins, whose build
        // side usually holds every device or user, it costs more than it removes:
        // `join kind=inner (DeviceInfo | summarize arg_max(...) by DeviceId)` 295 → 195 ms.
        if unset("DATAFUSION_OPTIMIZER_ENABLE_JOIN_DYNAMIC_FILTER_PUSHDOWN") {
            opts.optimizer.enable_join_dynamic_filter_pushdown = false;
        }
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(dictagg::DictAggregateRule::new(Arc::clone(
                &data,
            ))))
            .build();
        Engine {
            catalog,
            data,
            session: SessionContext::new_with_state(state),
        }
    }

    pub fn catalog(&self) -> &Arc<dyn Catalog> {
        &self.catalog
    }

    /// Parses, binds and plans `query` without reading data: the columns of `bag_unpack`
    /// and `pivot` are the ones later operators name (see [`kql_sema::bind`]).
    pub fn plan(&self, query: &str, now_nanos: i64) -> Result<Planned, Vec<Diagnostic>> {
        let script = parse_clean(query)?;
        let bound = kql_sema::bind(
            &script,
            self.catalog.as_ref(),
            kql_sema::BindOptions { now_nanos },
        )
        .map_err(|d| vec![d])?;
        self.plan_bound(bound, now_nanos)
    }

    /// Parses, binds and plans `query` over the data: operators whose columns depend on the
    /// data (`bag_unpack`, `pivot`) first run a probe over their input.
    pub async fn plan_over_data(
        &self,
        query: &str,
        now_nanos: i64,
    ) -> Result<Planned, Vec<Diagnostic>> {
        self.plan_measured(query, now_nanos, &mut QueryStats::default())
            .await
    }

    /// [`Engine::plan_over_data`], adding what its probes cost to `stats`.
    async fn plan_measured(
        &self,
        query: &str,
        now_nanos: i64,
        stats: &mut QueryStats,
    ) -> Result<Planned, Vec<Diagnostic>> {
        let script = parse_clean(query)?;
        let mut answers = kql_sema::ProbeAnswers::new();
        for _ in 0..MAX_PROBES {
            match kql_sema::bind_with_probes(
                &script,
                self.catalog.as_ref(),
                kql_sema::BindOptions { now_nanos },
                &answers,
            ) {
                Ok(bound) => return self.plan_bound(bound, now_nanos),
                // A probe over no rows found no keys, so a column the rest of the query
                // names is unknown. With no rows there is nothing to unpack: bind as without
                // data (the names the query uses), so the query runs and returns what the
                // rest of it gives, instead of failing on the data's absence.
                Err(kql_sema::BindFailure::Error(d))
                    if d.code == codes::UNKNOWN_COLUMN && answers.values().any(Vec::is_empty) =>
                {
                    let bound = kql_sema::bind(
                        &script,
                        self.catalog.as_ref(),
                        kql_sema::BindOptions { now_nanos },
                    )
                    .map_err(|_| vec![d])?;
                    return self.plan_bound(bound, now_nanos);
                }
                Err(kql_sema::BindFailure::Error(d)) => return Err(vec![d]),
                Err(kql_sema::BindFailure::Probe(req)) => {
                    if answers.contains_key(&req.key) {
                        return Err(vec![Diagnostic::internal(
                            "a probe was asked for twice",
                            req.input.span,
                        )]);
                    }
                    let answer = self.run_probe(&req, now_nanos, stats).await?;
                    answers.insert(req.key.clone(), answer);
                }
            }
        }
        Err(vec![Diagnostic::error(
            codes::LIMIT,
            format!(
                "the query has more than {MAX_PROBES} data-dependent operators (bag_unpack, pivot)"
            ),
            Span::default(),
        )])
    }

    /// Runs a probe: the distinct values of its one column, read as bag keys or as names.
    async fn run_probe(
        &self,
        req: &kql_sema::ProbeRequest,
        now_nanos: i64,
        stats: &mut QueryStats,
    ) -> Result<Vec<(String, KqlType)>, Vec<Diagnostic>> {
        // The planner is not `Send`: it is gone before the first await, so a query's future
        // can run on any thread (the server's query runtime).
        let plan = {
            let tables = Tables {
                data: self.data.as_ref(),
            };
            let mut planner =
                plan::Planner::new(kql_functions::LowerContext { now_nanos }, &tables);
            planner.plan(&req.input).map_err(|d| vec![d])?
        };
        let plan = LogicalPlanBuilder::from(plan)
            .distinct()
            .and_then(|b| b.build())
            .map_err(|e| vec![Diagnostic::internal(e.to_string(), req.input.span)])?;
        let batches = self.execute(plan, stats).await?;
        let mut values: Vec<String> = Vec::new();
        for b in &batches {
            let Some(col) = b.columns().first() else {
                continue;
            };
            let Some(arr) = col
                .as_any()
                .downcast_ref::<datafusion::arrow::array::StringArray>()
            else {
                return Err(vec![Diagnostic::internal(
                    "a probe's column is not text",
                    req.input.span,
                )]);
            };
            values.extend(arr.iter().flatten().map(String::from));
        }
        Ok(match req.kind {
            kql_sema::ProbeKind::DistinctValues => {
                values.sort();
                values.dedup();
                values.into_iter().map(|v| (v, KqlType::String)).collect()
            }
            kql_sema::ProbeKind::BagKeys => bag_key_types(&values),
        })
    }

    fn plan_bound(
        &self,
        bound: kql_sema::ir::BoundQuery,
        now_nanos: i64,
    ) -> Result<Planned, Vec<Diagnostic>> {
        let tables = Tables {
            data: self.data.as_ref(),
        };
        let mut planner = plan::Planner::new(kql_functions::LowerContext { now_nanos }, &tables);
        let plan = planner.plan(&bound.rel).map_err(|d| vec![d])?;
        let columns = bound
            .rel
            .schema
            .iter()
            .map(|f| Column {
                name: f.name.clone(),
                ty: f.ty,
            })
            .collect();
        let visualization = bound.render.map(|r| {
            let mut m = serde_json::Map::new();
            m.insert(
                "visualization".into(),
                serde_json::Value::String(r.visualization),
            );
            for (k, v) in r.properties {
                let text = match v {
                    kql_functions::Const::String(s) => serde_json::Value::String(s),
                    kql_functions::Const::Bool(b) => serde_json::Value::Bool(b),
                    kql_functions::Const::Long(n) => serde_json::Value::from(n),
                    other => serde_json::Value::String(format!("{other:?}")),
                };
                m.insert(k, text);
            }
            serde_json::Value::Object(m)
        });
        Ok(Planned {
            columns,
            plan,
            visualization,
        })
    }

    /// Parses, binds and plans `query` without running it; returns the result columns.
    pub fn check(&self, query: &str) -> Result<Vec<Column>, Vec<Diagnostic>> {
        let planned = self.plan(query, now_nanos())?;
        let state = self.session.state();
        // A panic inside DataFusion is a bug, reported as an internal error, never a crash.
        let optimized = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            state.optimize(&planned.plan)
        }))
        .map_err(|_| vec![Diagnostic::internal("optimizer panicked", Span::default())])?;
        optimized.map_err(|e| {
            vec![Diagnostic::internal(
                format!("optimizer: {e}"),
                Span::default(),
            )]
        })?;
        Ok(planned.columns)
    }

    /// Runs `query` and collects the result, with what it cost ([`QueryStats`]).
    pub async fn run(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<QueryResult, Vec<Diagnostic>> {
        let started = std::time::Instant::now();
        let mut stats = QueryStats::default();
        let now = options.now_nanos.unwrap_or_else(now_nanos);
        let planned = self.plan_measured(query, now, &mut stats).await?;
        let plan = LogicalPlanBuilder::from(planned.plan)
            .limit(0, Some(options.max_rows))
            .and_then(|b| b.build())
            .map_err(internal_error)?;
        let batches = self.execute(plan, &mut stats).await?;
        let result_bytes: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
        stats.peak_memory_bytes = stats.peak_memory_bytes.max(result_bytes as u64);
        stats.elapsed = started.elapsed();
        Ok(QueryResult {
            columns: planned.columns,
            batches,
            visualization: planned.visualization,
            stats,
        })
    }

    /// `query`'s logical plan (over the data) and its physical plan.
    async fn physical_plan(
        &self,
        query: &str,
    ) -> Result<(LogicalPlan, Arc<dyn ExecutionPlan>), Vec<Diagnostic>> {
        let planned = self.plan_over_data(query, now_nanos()).await?;
        let physical = self
            .session
            .state()
            .create_physical_plan(&planned.plan)
            .await
            .map_err(internal_error)?;
        Ok((planned.plan, physical))
    }

    /// The optimized logical plan and the physical plan of `query`, as text.
    pub async fn explain(&self, query: &str) -> Result<String, Vec<Diagnostic>> {
        let (plan, physical) = self.physical_plan(query).await?;
        let optimized = self
            .session
            .state()
            .optimize(&plan)
            .map_err(internal_error)?;
        Ok(format!(
            "logical plan:\n{}\n\nphysical plan:\n{}",
            optimized.display_indent(),
            datafusion::physical_plan::displayable(physical.as_ref()).indent(true)
        ))
    }

    /// Runs `query` and returns its physical plan with each operator's metrics (rows,
    /// time, and the Parquet scans' pruning and filtering counters), as text.
    pub async fn explain_analyze(&self, query: &str) -> Result<String, Vec<Diagnostic>> {
        let (_, physical) = self.physical_plan(query).await?;
        let task = Arc::new(TaskContext::from(&self.session.state()));
        let started = std::time::Instant::now();
        let batches = datafusion::physical_plan::collect(Arc::clone(&physical), task)
            .await
            .map_err(internal_error)?;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        Ok(format!(
            "{rows} rows in {:.1} ms\n\n{}",
            started.elapsed().as_secs_f64() * 1e3,
            datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(
                physical.as_ref()
            )
            .indent(true)
        ))
    }

    /// Executes a plan and collects its batches, adding its metrics to `stats`.
    async fn execute(
        &self,
        plan: LogicalPlan,
        stats: &mut QueryStats,
    ) -> Result<Vec<RecordBatch>, Vec<Diagnostic>> {
        let session = self.session.clone();
        // Run on its own task so a panic inside DataFusion becomes an internal error.
        // Dropping this future (a cancelled request, a timeout) aborts the task, and with
        // it the plan's streams.
        let mut handle = AbortOnDrop(tokio::spawn(async move {
            let state = session.state();
            let physical = state.create_physical_plan(&plan).await?;
            // A memory pool of its own per execution (wrapping the session's), so the
            // peak is this plan's even when other queries share the session.
            let peak = Arc::new(PeakRecordingPool::new(Arc::clone(
                &state.runtime_env().memory_pool,
            )));
            let pool: Arc<dyn MemoryPool> = Arc::<PeakRecordingPool>::clone(&peak);
            let runtime = RuntimeEnvBuilder::from_runtime_env(state.runtime_env())
                .with_memory_pool(pool)
                .build_arc()?;
            let task = Arc::new(TaskContext::from(&state).with_runtime(runtime));
            let batches = datafusion::physical_plan::collect(Arc::clone(&physical), task).await?;
            Ok::<_, datafusion::error::DataFusionError>((batches, physical, peak.peak_reserved()))
        }));
        match (&mut handle.0).await {
            Ok(Ok((b, physical, peak))) => {
                stats.add_plan(physical.as_ref(), peak);
                Ok(b)
            }
            Ok(Err(e)) => Err(vec![runtime_error(e)]),
            Err(_) => Err(vec![Diagnostic::internal(
                "query execution panicked",
                Span::default(),
            )]),
        }
    }
}

/// A task aborted when its handle is dropped (a cancelled request, a timed-out query).
pub struct AbortOnDrop<T>(pub tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Another data source's tables, restricted to `from <= Timestamp < to` (nanoseconds since
/// the Unix epoch); tables without a `Timestamp` column are left whole. The Graph hunting
/// API's `Timespan`.
pub struct TimeRange {
    inner: Arc<dyn DataSource>,
    from: i64,
    to: i64,
}

impl TimeRange {
    pub fn new(inner: Arc<dyn DataSource>, from: i64, to: i64) -> Self {
        TimeRange { inner, from, to }
    }
}

impl DataSource for TimeRange {
    fn provider(
        &self,
        name: &str,
        schema: datafusion::arrow::datatypes::SchemaRef,
    ) -> Result<Arc<dyn TableProvider>, Diagnostic> {
        use datafusion::logical_expr::{ident, lit};
        use datafusion::scalar::ScalarValue;
        let dated = schema.field_with_name("Timestamp").is_ok();
        let table = self.inner.provider(name, schema)?;
        if !dated {
            return Ok(table);
        }
        let at = |n: i64| lit(ScalarValue::TimestampNanosecond(Some(n), None));
        let plan = LogicalPlanBuilder::scan(
            name,
            datafusion::datasource::provider_as_source(table),
            None,
        )
        .and_then(|b| {
            b.filter(
                ident("Timestamp")
                    .gt_eq(at(self.from))
                    .and(ident("Timestamp").lt(at(self.to))),
            )
        })
        .and_then(|b| b.build())
        .map_err(|e| Diagnostic::internal(format!("time range: {e}"), Span::default()))?;
        Ok(Arc::new(datafusion::datasource::ViewTable::new(plan, None)))
    }
    fn dictionary_column(&self, column: &str) -> bool {
        self.inner.dictionary_column(column)
    }
}

/// At most this many data-dependent operators (`bag_unpack`, `pivot`) in one query.
const MAX_PROBES: usize = 64;

/// Parses `query`; its syntax errors, if any.
fn parse_clean(query: &str) -> Result<kql_syntax::ast::Script, Vec<Diagnostic>> {
    let parsed = kql_syntax::parse(query);
    let errors: Vec<Diagnostic> = parsed
        .diagnostics
        .into_iter()
        .filter(|d| d.severity == kql_syntax::Severity::Error)
        .collect();
    if errors.is_empty() {
        Ok(parsed.script)
    } else {
        Err(errors)
    }
}

/// The keys of JSON bags (as text) with the type of their values, sorted by key: one type
/// for all non-null values (`long`, `real`, `bool`, `string`; whole numbers and reals make
/// `real`), else `dynamic`.
fn bag_key_types(bags: &[String]) -> Vec<(String, KqlType)> {
    let mut keys: std::collections::BTreeMap<String, Option<KqlType>> = Default::default();
    for text in bags {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text)
        else {
            continue;
        };
        for (k, v) in map {
            let t = match &v {
                serde_json::Value::Null => None,
                serde_json::Value::Bool(_) => Some(KqlType::Bool),
                serde_json::Value::Number(n) if n.is_i64() => Some(KqlType::Long),
                serde_json::Value::Number(_) => Some(KqlType::Real),
                serde_json::Value::String(_) => Some(KqlType::String),
                _ => Some(KqlType::Dynamic),
            };
            let slot = keys.entry(k).or_insert(None);
            *slot = match (*slot, t) {
                (s, None) => s,
                (None, t) => t,
                (Some(a), Some(b)) if a == b => Some(a),
                (Some(KqlType::Long), Some(KqlType::Real))
                | (Some(KqlType::Real), Some(KqlType::Long)) => Some(KqlType::Real),
                _ => Some(KqlType::Dynamic),
            };
        }
    }
    keys.into_iter()
        .map(|(k, t)| (k, t.unwrap_or(KqlType::Dynamic)))
        .collect()
}

/// Classifies an execution error: resource and data errors are the user's; the rest is ours.
fn runtime_error(e: datafusion::error::DataFusionError) -> Diagnostic {
    use datafusion::error::DataFusionError as E;
    match e {
        E::ResourcesExhausted(m) => Diagnostic::error(
            codes::LIMIT,
            format!("query exceeded its resources: {m}"),
            Span::default(),
        ),
        E::ArrowError(err, _) => Diagnostic::error(
            codes::RUNTIME,
            format!("query failed on the data: {err}"),
            Span::default(),
        ),
        E::Execution(m) => Diagnostic::error(
            codes::RUNTIME,
            format!("query failed: {m}"),
            Span::default(),
        ),
        E::NotImplemented(m) => Diagnostic::unsupported(m, Span::default()),
        other => Diagnostic::internal(format!("execution: {other}"), Span::default()),
    }
}

/// A DataFusion error where none is the user's doing: an internal diagnostic.
fn internal_error(e: datafusion::error::DataFusionError) -> Vec<Diagnostic> {
    vec![Diagnostic::internal(e.to_string(), Span::default())]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dropping the handle stops the task at its next await: what cancels a query's
    /// execution when its request times out.
    #[tokio::test]
    async fn abort_on_drop_stops_the_task() {
        let (held, released) = tokio::sync::oneshot::channel::<()>();
        let handle = AbortOnDrop(tokio::spawn(async move {
            let _held = held;
            std::future::pending::<()>().await;
        }));
        drop(handle);
        let r = tokio::time::timeout(std::time::Duration::from_secs(5), released).await;
        assert!(matches!(r, Ok(Err(_))), "the task still holds its sender");
    }

    /// A run's stats come from its plan: a grouping reserves memory in the pool (more for
    /// more groups), and the operators' compute time adds up.
    #[tokio::test]
    async fn run_measures_its_plan() -> Result<(), String> {
        let engine = Engine::defender();
        let run = |q: &'static str| {
            let engine = &engine;
            async move {
                engine
                    .run(q, &QueryOptions::default())
                    .await
                    .map_err(|d| format!("{d:?}"))
            }
        };
        let small =
            run("range x from 1 to 1000 step 1 | summarize c = count() by k = x % 997").await?;
        let big =
            run("range x from 1 to 300000 step 1 | summarize c = count() by k = x % 99991").await?;
        eprintln!("small: {:?}\nbig: {:?}", small.stats, big.stats);
        for r in [&small, &big] {
            let s = &r.stats;
            assert!(s.cpu > std::time::Duration::ZERO, "{s:?}");
            assert!(s.elapsed > std::time::Duration::ZERO, "{s:?}");
            assert!(s.peak_memory_bytes > 0, "{s:?}");
            assert_eq!(s.bytes_scanned, 0, "no files: {s:?}");
        }
        assert_eq!(big.row_count(), 99991);
        assert!(big.stats.peak_memory_bytes > small.stats.peak_memory_bytes);
        // in-memory tables: nothing read from files (the store's tests cover Parquet)
        assert_eq!(big.stats.rows_scanned, 0);
        Ok(())
    }
}
