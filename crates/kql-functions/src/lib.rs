//! KQL functions and expression semantics as DataFusion expressions and UDFs.
//!
//! ```text
//! bound call (name, typed args) ──scalar_type/aggregate_type──▶ KqlType      (used by the binder)
//!                               ──lower_scalar/lower_aggregate─▶ datafusion Expr (used by the planner)
//! ```
//!
//! Everything about *expression* semantics lives here: operator typing and lowering
//! (`has`, `contains`, `=~`, `in~`, `between`, arithmetic with datetime/timespan),
//! dynamic member/index access, conversions, scalar functions and aggregations.
//! Arrow representations follow the one mapping in [`kql_syntax::types`].

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::logical_expr::Expr;
use kql_syntax::ast::{BinaryOp, HasAnyKind};
use kql_syntax::{KqlType, codes};

/// A constant value known at bind time (literals, folded `let` scalars).
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Real(f64),
    String(String),
    /// Nanoseconds since the Unix epoch (UTC).
    DateTime(i64),
    /// Nanoseconds.
    TimeSpan(i64),
    Guid(String),
    Dynamic(serde_json::Value),
    /// `typeof(T)` argument.
    Type(KqlType),
}

/// The binder's view of an argument: its type and, when known, its constant value.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgType {
    pub ty: KqlType,
    pub constant: Option<Const>,
}

/// The planner's view of an argument: a DataFusion expression with its KQL type.
#[derive(Debug, Clone)]
pub struct TypedExpr {
    pub expr: Expr,
    pub ty: KqlType,
    pub constant: Option<Const>,
}

/// Kind of a named function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FnKind {
    Scalar,
    Aggregate,
}

/// Why a call or operator cannot be typed or lowered. `arg` points at the offending
/// argument when there is one (0-based), so the binder can place the span.
#[derive(Debug, Clone, PartialEq)]
pub struct FnError {
    pub code: &'static str,
    pub message: String,
    pub arg: Option<usize>,
}

impl FnError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        FnError {
            code,
            message: message.into(),
            arg: None,
        }
    }

    pub fn at(mut self, arg: usize) -> Self {
        self.arg = Some(arg);
        self
    }

    pub fn unsupported(what: impl Into<String>) -> Self {
        FnError::new(
            codes::UNSUPPORTED,
            format!("{} is not supported by Peregrine yet", what.into()),
        )
    }
}

/// Context for lowering: the fixed query start time.
#[derive(Debug, Clone, Copy)]
pub struct LowerContext {
    /// Query start time, nanoseconds since the Unix epoch. `now()`/`ago()` read this.
    pub now_nanos: i64,
}

/// The one Arrow type for each KQL type.
pub fn arrow_type(ty: KqlType) -> DataType {
    match ty {
        KqlType::Bool => DataType::Boolean,
        KqlType::Int => DataType::Int32,
        KqlType::Long => DataType::Int64,
        KqlType::Real | KqlType::Decimal => DataType::Float64,
        KqlType::String | KqlType::Guid | KqlType::Dynamic => DataType::Utf8,
        KqlType::DateTime => DataType::Timestamp(TimeUnit::Nanosecond, None),
        KqlType::TimeSpan => DataType::Duration(TimeUnit::Nanosecond),
    }
}

/// Is `name` a KQL scalar or aggregate function we know (implemented or not)?
pub fn function_kind(name: &str) -> Option<FnKind> {
    let _ = name;
    None
}

/// Result type of scalar function `name` over `args`.
pub fn scalar_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    let _ = args;
    Err(FnError::unsupported(format!("function {name}()")))
}

/// Result type of aggregate function `name` over `args`.
pub fn aggregate_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    let _ = args;
    Err(FnError::unsupported(format!("aggregate {name}()")))
}

/// Lowers a scalar call whose type `scalar_type` returned as `ret`.
pub fn lower_scalar(
    ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    ret: KqlType,
) -> Result<Expr, FnError> {
    let _ = (ctx, args, ret);
    Err(FnError::unsupported(format!("function {name}()")))
}

/// Lowers an aggregate call to an `Expr::AggregateFunction`.
pub fn lower_aggregate(
    ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    ret: KqlType,
) -> Result<Expr, FnError> {
    let _ = (ctx, args, ret);
    Err(FnError::unsupported(format!("aggregate {name}()")))
}

/// Result type of a binary operator.
pub fn binary_type(op: BinaryOp, left: KqlType, right: KqlType) -> Result<KqlType, FnError> {
    let _ = (left, right);
    Err(FnError::unsupported(format!("operator {}", op.symbol())))
}

/// Lowers a binary operator.
pub fn lower_binary(
    op: BinaryOp,
    left: TypedExpr,
    right: TypedExpr,
    ret: KqlType,
) -> Result<Expr, FnError> {
    let _ = (left, right, ret);
    Err(FnError::unsupported(format!("operator {}", op.symbol())))
}

/// Unary minus.
pub fn lower_negate(expr: TypedExpr) -> Result<Expr, FnError> {
    let _ = expr;
    Err(FnError::unsupported("unary minus"))
}

/// `x in (...)`, `x !in (...)`, `x in~ (...)`, `x !in~ (...)` over scalar elements;
/// elements of type dynamic (arrays) are expanded.
pub fn lower_in(
    expr: TypedExpr,
    list: Vec<TypedExpr>,
    negated: bool,
    case_insensitive: bool,
) -> Result<Expr, FnError> {
    let _ = (expr, list, negated, case_insensitive);
    Err(FnError::unsupported("in"))
}

/// `x has_any (...)` / `x has_all (...)`; dynamic array elements are expanded.
pub fn lower_has_any(expr: TypedExpr, list: Vec<TypedExpr>, kind: HasAnyKind) -> Result<Expr, FnError> {
    let _ = (expr, list, kind);
    Err(FnError::unsupported("has_any"))
}

/// `x between (low .. high)` and `!between`.
pub fn lower_between(
    expr: TypedExpr,
    low: TypedExpr,
    high: TypedExpr,
    negated: bool,
) -> Result<Expr, FnError> {
    let _ = (expr, low, high, negated);
    Err(FnError::unsupported("between"))
}

/// `d.key` / `d["key"]` on a dynamic value (returns dynamic).
pub fn lower_member(expr: TypedExpr, key: &str) -> Result<Expr, FnError> {
    let _ = (expr, key);
    Err(FnError::unsupported("dynamic member access"))
}

/// `d[i]` (long index, negative from the end) or `d[s]` (string key) on a dynamic value.
pub fn lower_index(expr: TypedExpr, index: TypedExpr) -> Result<Expr, FnError> {
    let _ = (expr, index);
    Err(FnError::unsupported("dynamic index access"))
}

/// KQL conversion of `expr` to `to` (the semantics of `tostring`, `tolong`, `todatetime`, ...;
/// used for implicit promotions, typed `datatable` columns, `mv-expand ... to typeof(T)`).
pub fn cast(expr: TypedExpr, to: KqlType) -> Result<Expr, FnError> {
    let _ = (expr, to);
    Err(FnError::unsupported("conversion"))
}

/// A literal constant as a DataFusion expression of the Arrow type of `ty`.
pub fn literal(value: &Const, ty: KqlType) -> Result<Expr, FnError> {
    let _ = (value, ty);
    Err(FnError::unsupported("literal"))
}
