//! The KQL engine: bound IR → DataFusion `LogicalPlan` → Arrow batches with KQL types.
//!
//! ```text
//! text ─parse─▶ AST ─bind─▶ IR ─plan─▶ LogicalPlan ─DataFusion─▶ RecordBatch stream ─▶ QueryResult
//! ```

// Errors are `Diagnostic`s (code, message, span, labels, notes); they travel on the
// error path only, so their size is not worth boxing.
#![allow(clippy::result_large_err)]

mod external;
pub mod format;
pub mod plan;
mod udf;

use datafusion::arrow::datatypes::{Field as ArrowField, Schema as ArrowSchema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::{MemTable, TableProvider};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
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
        let config = SessionConfig::new()
            .with_target_partitions(2)
            .with_information_schema(false);
        Engine {
            catalog,
            data,
            session: SessionContext::new_with_config(config),
        }
    }

    pub fn catalog(&self) -> &Arc<dyn Catalog> {
        &self.catalog
    }

    /// Parses, binds and plans `query`.
    pub fn plan(&self, query: &str, now_nanos: i64) -> Result<Planned, Vec<Diagnostic>> {
        let parsed = kql_syntax::parse(query);
        let errors: Vec<Diagnostic> = parsed
            .diagnostics
            .into_iter()
            .filter(|d| d.severity == kql_syntax::Severity::Error)
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let bound = kql_sema::bind(
            &parsed.script,
            self.catalog.as_ref(),
            kql_sema::BindOptions { now_nanos },
        )
        .map_err(|d| vec![d])?;
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

    /// Runs `query` and collects the result.
    pub async fn run(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<QueryResult, Vec<Diagnostic>> {
        let now = options.now_nanos.unwrap_or_else(now_nanos);
        let planned = self.plan(query, now)?;
        let plan = LogicalPlanBuilder::from(planned.plan)
            .limit(0, Some(options.max_rows))
            .and_then(|b| b.build())
            .map_err(|e| vec![Diagnostic::internal(e.to_string(), Span::default())])?;
        let session = self.session.clone();
        // Run on its own task so a panic inside DataFusion becomes an internal error.
        let handle = tokio::spawn(async move {
            let df = session.execute_logical_plan(plan).await?;
            df.collect().await
        });
        let batches = match handle.await {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => return Err(vec![runtime_error(e)]),
            Err(_) => {
                return Err(vec![Diagnostic::internal(
                    "query execution panicked",
                    Span::default(),
                )]);
            }
        };
        Ok(QueryResult {
            columns: planned.columns,
            batches,
            visualization: planned.visualization,
        })
    }
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
