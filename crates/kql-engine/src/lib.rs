//! The KQL engine: bound IR → DataFusion `LogicalPlan` → Arrow batches with KQL types.
//!
//! ```text
//! text ─parse─▶ AST ─bind─▶ IR ─plan─▶ LogicalPlan ─DataFusion─▶ RecordBatch stream ─▶ QueryResult
//! ```

pub mod format;

use datafusion::arrow::record_batch::RecordBatch;
use kql_sema::Catalog;
use kql_syntax::{Diagnostic, KqlType};
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

/// The engine: a catalog of table schemas and the data behind them.
pub struct Engine {
    catalog: Arc<dyn Catalog>,
}

impl Engine {
    /// An engine over the Defender schema with no data (every table empty).
    pub fn defender() -> Self {
        Engine {
            catalog: Arc::new(kql_sema::MemoryCatalog::defender()),
        }
    }

    pub fn new(catalog: Arc<dyn Catalog>) -> Self {
        Engine { catalog }
    }

    pub fn catalog(&self) -> &Arc<dyn Catalog> {
        &self.catalog
    }

    /// Parses, binds and plans `query` without running it; returns the result columns.
    pub fn check(&self, query: &str) -> Result<Vec<Column>, Vec<Diagnostic>> {
        let _ = query;
        Err(vec![Diagnostic::unsupported("the engine", kql_syntax::Span::default())])
    }

    /// Runs `query` and collects the result.
    pub async fn run(&self, query: &str, options: &QueryOptions) -> Result<QueryResult, Vec<Diagnostic>> {
        let _ = (query, options);
        Err(vec![Diagnostic::unsupported("the engine", kql_syntax::Span::default())])
    }
}
