#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
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
//!
//! Layout:
//! - `operators`: binary operators, unary minus, `in`, `has_any`/`has_all`, `between`,
//!   member/index access (constant paths fused into one `dynamic_path` call);
//! - `convert`: the KQL conversion rules (`tostring`, `tolong`, `todatetime`, ...);
//!   [`mod@format`]: text forms of datetimes, timespans, reals, guids (and their parsers);
//! - `scalar::{string, datetime, dynamic, math, logic, encoding, ip}`: the functions,
//!   each family with its `NAMES`, typing and lowering; `geo`, `series`: geo and series;
//! - `aggregate`: aggregates (DataFusion built-ins where Kusto agrees, own UDAFs else);
//! - `udf`: the one generic scalar UDF running vectorised kernels; `strops`: term
//!   matching and string predicates; `json`: dynamic values; `sig`: argument checks;
//!   `registry`: real KQL functions that are not implemented (typing says `KQL4001`).
//!
//! Typing follows Microsoft's binder (Kusto.Language): accepted argument types, result
//! types (`int + int` is `long`, `-int` is `long`, `iff` branches unify with dynamic
//! adopting the other side), and the null rules of the engine (`==` with one null side
//! is false, `!=` true; strings are never null; integer division by zero is null).

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::logical_expr::Expr;
use kql_syntax::ast::{BinaryOp, HasAnyKind};
use kql_syntax::{KqlType, codes};

mod aggregate;
mod convert;
pub mod format;
pub mod geo;
mod json;
mod operators;
mod registry;
mod scalar;
pub mod series;
mod sig;
mod strops;
mod udf;

#[cfg(test)]
mod tests;

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
///
/// Names are case-sensitive. Implemented functions, real KQL functions Peregrine does not
/// run (their typing returns `KQL4001`), and the special forms the binder handles itself
/// (`arg_max`, `arg_min`, `percentiles`, `toscalar`, `materialize`, `pack_all`,
/// `column_ifexists`, `row_number`, `prev`, `next`, `row_cumsum`) all return `Some`.
pub fn function_kind(name: &str) -> Option<FnKind> {
    if aggregate::is_aggregate(name)
        || registry::UNSUPPORTED_AGGREGATE.contains(&name)
        || registry::SPECIAL_AGGREGATE.contains(&name)
    {
        return Some(FnKind::Aggregate);
    }
    if geo::is_geo(name) || series::is_series(name) {
        return Some(FnKind::Scalar);
    }
    if scalar::family(name).is_some()
        || registry::UNSUPPORTED_SCALAR.contains(&name)
        || registry::SPECIAL_SCALAR.contains(&name)
    {
        return Some(FnKind::Scalar);
    }
    None
}

/// Names of all implemented scalar and aggregate functions (sorted), for coverage reports.
pub fn implemented_functions() -> Vec<(&'static str, FnKind)> {
    let mut v: Vec<(&'static str, FnKind)> = scalar::implemented()
        .into_iter()
        .map(|n| (n, FnKind::Scalar))
        .collect();
    v.extend(aggregate::NAMES.iter().map(|n| (*n, FnKind::Aggregate)));
    v.sort_unstable_by_key(|(n, _)| *n);
    v
}

fn not_a_function(name: &str, kind: &str) -> FnError {
    if registry::SPECIAL_SCALAR.contains(&name) || registry::SPECIAL_AGGREGATE.contains(&name) {
        return FnError::new(
            codes::INTERNAL,
            format!("{name}() is a special form handled by the binder, not by kql-functions"),
        );
    }
    if function_kind(name).is_some() {
        return FnError::unsupported(format!("{kind} {name}()"));
    }
    FnError::new(
        codes::UNKNOWN_FUNCTION,
        format!("unknown {kind} function '{name}'"),
    )
}

/// Result type of scalar function `name` over `args`.
pub fn scalar_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    if geo::is_geo(name) {
        return geo::geo_type(name, args);
    }
    if series::is_series(name) {
        return series::series_type(name, args);
    }
    match scalar::family(name) {
        Some(f) => scalar::return_type(f, name, args),
        None => Err(not_a_function(name, "function")),
    }
}

/// Result type of aggregate function `name` over `args`.
pub fn aggregate_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    if aggregate::is_aggregate(name) {
        aggregate::return_type(name, args)
    } else {
        Err(not_a_function(name, "aggregate"))
    }
}

/// Lowers a scalar call whose type `scalar_type` returned as `ret`.
pub fn lower_scalar(
    ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    ret: KqlType,
) -> Result<Expr, FnError> {
    if geo::is_geo(name) {
        return geo::geo_lower(ctx, name, args, ret);
    }
    if series::is_series(name) {
        return series::series_lower(ctx, name, args, ret);
    }
    match scalar::family(name) {
        Some(f) => scalar::lower(f, ctx, name, args, ret),
        None => Err(not_a_function(name, "function")),
    }
}

/// Lowers an aggregate call to an `Expr::AggregateFunction`.
pub fn lower_aggregate(
    ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    ret: KqlType,
) -> Result<Expr, FnError> {
    if aggregate::is_aggregate(name) {
        aggregate::lower(ctx, name, args, ret)
    } else {
        Err(not_a_function(name, "aggregate"))
    }
}

/// Result type of a binary operator.
pub fn binary_type(op: BinaryOp, left: KqlType, right: KqlType) -> Result<KqlType, FnError> {
    operators::binary_type(op, left, right)
}

/// Lowers a binary operator.
pub fn lower_binary(
    op: BinaryOp,
    left: TypedExpr,
    right: TypedExpr,
    ret: KqlType,
) -> Result<Expr, FnError> {
    operators::lower_binary(op, left, right, ret)
}

/// Result type of unary minus: int widens to long (like Kusto: `-int(-2147483648)` is
/// `2147483648`), other numbers, timespan, datetime and dynamic keep their type.
pub fn negate_type(ty: KqlType) -> Result<KqlType, FnError> {
    match ty {
        KqlType::Int => Ok(KqlType::Long),
        KqlType::Long
        | KqlType::Real
        | KqlType::Decimal
        | KqlType::TimeSpan
        | KqlType::DateTime
        | KqlType::Dynamic => Ok(ty),
        t => Err(FnError::new(
            codes::TYPE_MISMATCH,
            format!("unary minus is not defined for type {t}"),
        )),
    }
}

/// Unary minus (result type: [`negate_type`]).
pub fn lower_negate(expr: TypedExpr) -> Result<Expr, FnError> {
    operators::lower_negate(expr)
}

/// `x in (...)`, `x !in (...)`, `x in~ (...)`, `x !in~ (...)` over scalar elements;
/// elements of type dynamic (arrays) are expanded.
pub fn lower_in(
    expr: TypedExpr,
    list: Vec<TypedExpr>,
    negated: bool,
    case_insensitive: bool,
) -> Result<Expr, FnError> {
    operators::lower_in(expr, list, negated, case_insensitive)
}

/// `x has_any (...)` / `x has_all (...)`; dynamic array elements are expanded.
pub fn lower_has_any(
    expr: TypedExpr,
    list: Vec<TypedExpr>,
    kind: HasAnyKind,
) -> Result<Expr, FnError> {
    operators::lower_has_any(expr, list, kind)
}

/// `x between (low .. high)` and `!between`.
pub fn lower_between(
    expr: TypedExpr,
    low: TypedExpr,
    high: TypedExpr,
    negated: bool,
) -> Result<Expr, FnError> {
    operators::lower_between(expr, low, high, negated)
}

/// `d.key` / `d["key"]` on a dynamic value (returns dynamic).
pub fn lower_member(expr: TypedExpr, key: &str) -> Result<Expr, FnError> {
    operators::lower_member(expr, key)
}

/// `d[i]` (long index, negative from the end) or `d[s]` (string key) on a dynamic value.
pub fn lower_index(expr: TypedExpr, index: TypedExpr) -> Result<Expr, FnError> {
    operators::lower_index(expr, index)
}

/// KQL conversion of `expr` to `to` (the semantics of `tostring`, `tolong`, `todatetime`, ...;
/// used for implicit promotions, typed `datatable` columns, `mv-expand ... to typeof(T)`).
/// A string converted to dynamic is parsed as JSON (`todynamic`); see [`to_dynamic_value`]
/// to wrap a value into a dynamic without parsing.
pub fn cast(expr: TypedExpr, to: KqlType) -> Result<Expr, FnError> {
    convert::cast(expr, to)
}

/// Wraps a value into a dynamic without parsing strings (`pack_array` semantics:
/// `"123"` becomes the JSON string `"123"`).
pub fn to_dynamic_value(expr: TypedExpr) -> Expr {
    convert::to_dynamic_value(expr)
}

/// A literal constant as a DataFusion expression of the Arrow type of `ty` (converted
/// with the KQL rules when the constant is of another type; a null string is `""`).
pub fn literal(value: &Const, ty: KqlType) -> Result<Expr, FnError> {
    if let Const::Type(t) = value {
        return Err(FnError::new(
            codes::TYPE_MISMATCH,
            format!("typeof({t}) is not a value"),
        ));
    }
    Ok(Expr::Literal(convert::const_to_scalar(value, ty), None))
}

/// KQL `tostring` of a constant (for folding and display).
pub fn const_to_string(value: &Const) -> String {
    convert::to_kql_string(value)
}

/// Converts a constant to type `ty` with the KQL conversion rules (folding).
pub fn const_convert(value: &Const, ty: KqlType) -> Const {
    convert::const_as(value, ty)
}
