//! KQL syntax: text → tokens → AST.
//!
//! ```text
//! KQL text ──lex──▶ tokens ──parse──▶ ast::Script  (+ Vec<Diagnostic>, recovering)
//! ```
//!
//! This crate is the root of the pipeline: it also owns the one [`Diagnostic`] type and
//! the [`KqlType`] enum (with its single Arrow mapping, documented in [`types`]).
//!
//! # Use
//!
//! ```
//! let parsed = kql_syntax::parse("T | where a > 1 | summarize count() by b");
//! assert!(parsed.diagnostics.is_empty());
//! assert_eq!(parsed.script.statements.len(), 1);
//! println!("{}", kql_syntax::sexpr::script(&parsed.script));
//! ```
//!
//! - [`lex`] splits text into [`Token`]s (every word is an identifier: KQL keywords are
//!   contextual) and decodes literals.
//! - [`parse`] builds an [`ast::Script`] and never fails: syntax errors (`KQL1xxx`) come
//!   back as diagnostics with byte spans, next to everything that could be parsed. A bad
//!   operator is skipped up to the next `|`, a bad statement up to the next `;`.
//!   Valid KQL that the AST cannot represent yet (named call arguments, `declare pattern`,
//!   control commands) is reported as not supported (`KQL4001`). Known operators that
//!   Peregrine does not implement (`fork`, `scan`, ...) parse to
//!   [`ast::OperatorKind::Unsupported`] without a diagnostic; the binder reports them.
//! - [`sexpr`] renders an AST compactly, for tests and debugging.
//!
//! # Limits
//!
//! Nesting (brackets, sub-queries, unary operators, function bodies) is limited to
//! [`MAX_NESTING`] levels and every expression tree to a height of [`MAX_HEIGHT`]
//! (long `or` chains and pipelines grow trees without nesting). Beyond either, parsing
//! stops with `KQL1020`. Code that walks the AST recursively can rely on these bounds.
//! The parser itself switches to a fresh stack segment when deep nesting leaves little
//! stack, so it is safe on small (2 MiB) thread stacks, even unoptimized.

pub mod ast;
pub mod diagnostic;
pub mod lexer;
pub mod parser;
pub mod sexpr;
pub mod span;
pub mod types;

pub use diagnostic::{Diagnostic, ErrorClass, Severity, codes};
pub use lexer::{Token, TokenKind, lex};
pub use parser::{MAX_HEIGHT, MAX_NESTING, Parsed, parse};
pub use span::Span;
pub use types::KqlType;
