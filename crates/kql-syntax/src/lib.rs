//! KQL syntax: text → tokens → AST.
//!
//! ```text
//! KQL text ──lex──▶ tokens ──parse──▶ ast::Script  (+ Vec<Diagnostic>, recovering)
//! ```
//!
//! This crate is the root of the pipeline: it also owns the one [`Diagnostic`] type and
//! the [`KqlType`] enum (with its single Arrow mapping, documented in [`types`]).

pub mod ast;
pub mod diagnostic;
pub mod span;
pub mod types;

pub use diagnostic::{Diagnostic, ErrorClass, Severity, codes};
pub use span::Span;
pub use types::KqlType;
