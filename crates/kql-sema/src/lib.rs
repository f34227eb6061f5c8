//! KQL semantics: AST → bound, typed IR.
//!
//! ```text
//! ast::Script ──bind(catalog, options)──▶ ir::BoundQuery (every operator has its output schema,
//!                                          every expression its KqlType and span)
//! ```

// Errors are `Diagnostic`s (code, message, span, labels, notes); they travel on the
// error path only, so their size is not worth boxing.
#![allow(clippy::result_large_err)]

pub mod bind;
pub mod catalog;
pub mod datetime;
pub mod ir;
pub mod naming;

pub use bind::{
    BindFailure, BindOptions, ProbeAnswers, ProbeKey, ProbeKind, ProbeRequest, bind,
    bind_with_probes,
};
pub use catalog::{Catalog, ColumnSchema, MemoryCatalog, TableSchema};
