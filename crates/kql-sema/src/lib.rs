//! KQL semantics: AST → bound, typed IR.
//!
//! ```text
//! ast::Script ──bind(catalog, options)──▶ ir::BoundQuery (every operator has its output schema,
//!                                          every expression its KqlType and span)
//! ```

pub mod catalog;

pub use catalog::{Catalog, ColumnSchema, MemoryCatalog, TableSchema};
