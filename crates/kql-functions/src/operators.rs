//! KQL operators: typing and lowering of arithmetic, comparisons, string predicates,
//! logic, `in`, `has_any`/`has_all`, `between`, unary minus and dynamic member/index access.
//!
//! Typing mirrors Kusto's binder (tables probed with Microsoft's Kusto.Language):
//! - arithmetic: int/long ∘ int/long → long, with real → real, with decimal → decimal;
//!   a dynamic operand takes the other side's numeric type (dynamic ∘ dynamic → dynamic);
//!   datetime − datetime → timespan, datetime ± timespan → datetime, timespan ± timespan,
//!   timespan × number, timespan / number → timespan, timespan / timespan → real,
//!   timespan % timespan → timespan.
//! - `==`/`!=` accept any pair; `<`... accept numbers (and bool), datetime/datetime,
//!   timespan/timespan, dynamic/number; string predicates accept string or dynamic.
//!
//! Semantics: integer division and modulo by zero give null; `==` with one null side is
//! false, `!=` true, both null → null (the documented KQL rule); strings are never null
//! (a null string compares as `""`); string `==` is case-sensitive, `=~` is not.

use std::ops::Not;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, Operator, binary_expr, cast as df_cast, lit, when};
use kql_syntax::ast::{BinaryOp, HasAnyKind, StringOp, StringOpKind};
use kql_syntax::{KqlType, codes};
use serde_json::Value;

use crate::convert::{to_type, typed_to};
use crate::scalar::dynamic as dynk;
use crate::scalar::math as mathk;
use crate::strops::{self, Match, kind_code};
use crate::udf::call;
use crate::{Const, FnError, TypedExpr, arrow_type};

use KqlType as K;

fn mismatch(op: BinaryOp, l: KqlType, r: KqlType) -> FnError {
    FnError::new(
        codes::TYPE_MISMATCH,
        format!(
            "operator '{}' is not defined for operands of types {l} and {r}",
            op.symbol()
        ),
    )
}

fn num_result(a: KqlType, b: KqlType) -> KqlType {
    if a == K::Decimal || b == K::Decimal {
        K::Decimal
    } else if a == K::Real || b == K::Real {
        K::Real
    } else {
        K::Long
    }
}

fn arith_type(op: BinaryOp, l: KqlType, r: KqlType) -> Option<KqlType> {
    let num = |t: KqlType| t.is_numeric();
    if num(l) && num(r) {
        return Some(num_result(l, r));
    }
    match (l, r) {
        (K::Dynamic, b) if num(b) => return Some(num_result(K::Long, b)),
        (a, K::Dynamic) if num(a) => return Some(num_result(a, K::Long)),
        // Kusto rejects arithmetic between two dynamic values.
        (K::Dynamic, K::Dynamic) => return None,
        _ => {}
    }
    Some(match op {
        BinaryOp::Add => match (l, r) {
            (K::DateTime, K::DateTime | K::TimeSpan | K::Dynamic) => K::DateTime,
            (K::TimeSpan, K::DateTime) | (K::Dynamic, K::DateTime) => K::DateTime,
            (K::TimeSpan, K::TimeSpan | K::Dynamic) | (K::Dynamic, K::TimeSpan) => K::TimeSpan,
            _ => return None,
        },
        BinaryOp::Sub => match (l, r) {
            (K::DateTime, K::DateTime | K::Dynamic) => K::TimeSpan,
            (K::DateTime, K::TimeSpan) | (K::TimeSpan, K::DateTime) => K::DateTime,
            (K::TimeSpan, K::TimeSpan | K::Dynamic) => K::TimeSpan,
            (K::Dynamic, K::DateTime | K::TimeSpan) => K::TimeSpan,
            _ => return None,
        },
        BinaryOp::Mul => match (l, r) {
            (a, K::DateTime) if num(a) => K::DateTime,
            (K::DateTime, b) if num(b) => K::DateTime,
            (a, K::TimeSpan) if num(a) => K::TimeSpan,
            (K::TimeSpan, b) if num(b) => K::TimeSpan,
            (K::TimeSpan, K::TimeSpan) => K::TimeSpan,
            _ => return None,
        },
        BinaryOp::Div => match (l, r) {
            (K::DateTime, b) if num(b) => K::DateTime,
            (K::DateTime, K::DateTime | K::TimeSpan) => K::Real,
            (K::TimeSpan, b) if num(b) => K::TimeSpan,
            (K::TimeSpan, K::TimeSpan) => K::Real,
            _ => return None,
        },
        BinaryOp::Mod => match (l, r) {
            (K::DateTime, b) if num(b) => K::DateTime,
            (K::DateTime, K::DateTime | K::TimeSpan) => K::TimeSpan,
            (K::TimeSpan, b) if num(b) => K::TimeSpan,
            (K::TimeSpan, K::TimeSpan) => K::TimeSpan,
            _ => return None,
        },
        _ => return None,
    })
}

fn orderable(l: KqlType, r: KqlType) -> bool {
    let numb = |t: KqlType| t.is_numeric() || t == K::Bool;
    (numb(l) && numb(r))
        || (l == K::Dynamic && (r.is_numeric() || r == K::Dynamic))
        || (r == K::Dynamic && l.is_numeric())
        || (l == K::DateTime && r == K::DateTime)
        || (l == K::TimeSpan && r == K::TimeSpan)
}

fn stringish(t: KqlType) -> bool {
    matches!(t, K::String | K::Dynamic)
}

/// Result type of a binary operator.
pub fn binary_type(op: BinaryOp, l: KqlType, r: KqlType) -> Result<KqlType, FnError> {
    match op {
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
            arith_type(op, l, r).ok_or_else(|| mismatch(op, l, r))
        }
        BinaryOp::Eq | BinaryOp::NotEq => Ok(K::Bool),
        BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => {
            if orderable(l, r) {
                Ok(K::Bool)
            } else {
                Err(mismatch(op, l, r))
            }
        }
        BinaryOp::EqTilde | BinaryOp::NotEqTilde | BinaryOp::Str(_) => {
            if stringish(l) && stringish(r) {
                Ok(K::Bool)
            } else {
                Err(mismatch(op, l, r))
            }
        }
        BinaryOp::And | BinaryOp::Or => {
            if matches!(l, K::Bool | K::Dynamic) && matches!(r, K::Bool | K::Dynamic) {
                Ok(K::Bool)
            } else {
                Err(mismatch(op, l, r))
            }
        }
    }
}

/// A string operand that is never null (`coalesce(x, "")` unless it is a non-null literal).
pub(crate) fn nn_str(e: Expr) -> Expr {
    match &e {
        Expr::Literal(ScalarValue::Utf8(Some(_)), _) => e,
        Expr::Literal(ScalarValue::Utf8(None), _) => lit(""),
        // A UDF rather than `coalesce(e, '')`: DataFusion derives coalesce's type and
        // nullability from its arguments separately, which is exponential in the nesting
        // depth of string functions (`replace_string(replace_string(...))`).
        _ => call("nn_str", nn_str_kernel, vec![(e, K::String)], K::String),
    }
}

fn nn_str_kernel(
    a: &crate::udf::Args,
) -> datafusion::common::Result<datafusion::arrow::array::ArrayRef> {
    use datafusion::arrow::array::Array;
    let s = a.str(0)?;
    // Without nulls the column is its own answer (no copy); null slots of zero length are
    // already `""`, so dropping the validity is enough.
    if let Some(col) = s.column() {
        let nulls_empty = col.null_count() == 0
            || (0..col.len()).all(|i| col.is_valid(i) || col.value_length(i) == 0);
        if nulls_empty {
            let (offsets, values, _) = col.clone().into_parts();
            return Ok(std::sync::Arc::new(
                datafusion::arrow::array::StringArray::new(offsets, values, None),
            ));
        }
    }
    Ok(crate::udf::build_str(a.rows, |i| {
        Some(std::borrow::Cow::Borrowed(s.get(i)))
    }))
}

/// `e` as a string (tostring rules), never null.
pub(crate) fn as_str(e: TypedExpr) -> Expr {
    let ty = e.ty;
    let out = typed_to(e, K::String);
    if ty == K::String { nn_str(out) } else { out }
}

fn i64_of(e: Expr) -> Expr {
    df_cast(e, DataType::Int64)
}

fn is_non_null_literal(e: &Expr) -> bool {
    matches!(e, Expr::Literal(v, _) if !v.is_null())
}

/// KQL `==` / `!=` null semantics over two same-typed expressions.
fn eq_null_semantics(l: Expr, r: Expr, negated: bool) -> Expr {
    let op = if negated {
        Operator::IsDistinctFrom
    } else {
        Operator::IsNotDistinctFrom
    };
    if is_non_null_literal(&l) || is_non_null_literal(&r) {
        return binary_expr(l, op, r);
    }
    let both_null = l.clone().is_null().and(r.clone().is_null());
    when(both_null, lit(ScalarValue::Boolean(None)))
        .otherwise(binary_expr(l, op, r))
        .unwrap_or_else(|_| lit(ScalarValue::Boolean(None)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Domain {
    Long,
    Real,
    Bool,
    Str,
    DateTime,
    TimeSpan,
    Guid,
    DynDyn,
    RawI64,
}

fn cmp_domain(l: KqlType, r: KqlType) -> Domain {
    let numb = |t: KqlType| t.is_numeric() || t == K::Bool;
    match (l, r) {
        (K::Bool, K::Bool) => Domain::Bool,
        (a, b) if numb(a) && numb(b) => {
            if matches!(a, K::Real | K::Decimal) || matches!(b, K::Real | K::Decimal) {
                Domain::Real
            } else {
                Domain::Long
            }
        }
        (K::Dynamic, K::Dynamic) => Domain::DynDyn,
        (K::Dynamic, t) | (t, K::Dynamic) => match t {
            K::Int | K::Long | K::Real | K::Decimal => Domain::Real,
            K::Bool => Domain::Bool,
            K::DateTime => Domain::DateTime,
            K::TimeSpan => Domain::TimeSpan,
            _ => Domain::Str,
        },
        (K::DateTime, K::DateTime) => Domain::DateTime,
        (K::TimeSpan, K::TimeSpan) => Domain::TimeSpan,
        (K::Guid, K::Guid) => Domain::Guid,
        (K::DateTime, K::TimeSpan) | (K::TimeSpan, K::DateTime) => Domain::RawI64,
        // a string compared with a typed value is converted to that type
        (K::String, t) | (t, K::String) => match t {
            K::DateTime => Domain::DateTime,
            K::TimeSpan => Domain::TimeSpan,
            K::Bool => Domain::Bool,
            K::Int | K::Long => Domain::Long,
            K::Real | K::Decimal => Domain::Real,
            _ => Domain::Str,
        },
        _ => Domain::Str,
    }
}

fn lower_compare(op: BinaryOp, left: TypedExpr, right: TypedExpr) -> Result<Expr, FnError> {
    let dom = cmp_domain(left.ty, right.ty);
    let df_op = match op {
        BinaryOp::Eq => Operator::Eq,
        BinaryOp::NotEq => Operator::NotEq,
        BinaryOp::Lt => Operator::Lt,
        BinaryOp::LtEq => Operator::LtEq,
        BinaryOp::Gt => Operator::Gt,
        BinaryOp::GtEq => Operator::GtEq,
        _ => return Err(FnError::unsupported(format!("operator {}", op.symbol()))),
    };
    let is_eq = matches!(op, BinaryOp::Eq | BinaryOp::NotEq);
    let negated = op == BinaryOp::NotEq;
    let (l, r) = match dom {
        Domain::Str => {
            let (l, r) = (as_str(left), as_str(right));
            return Ok(binary_expr(l, df_op, r));
        }
        Domain::DynDyn if is_eq => {
            let k: crate::udf::Kernel = if negated {
                dynk::dyn_equals_kernel::<true>
            } else {
                dynk::dyn_equals_kernel::<false>
            };
            return Ok(call(
                if negated {
                    "dynamic_not_equals"
                } else {
                    "dynamic_equals"
                },
                k,
                vec![(left.expr, K::Dynamic), (right.expr, K::Dynamic)],
                K::Bool,
            ));
        }
        Domain::DynDyn => (typed_to(left, K::Real), typed_to(right, K::Real)),
        Domain::Long => (typed_to(left, K::Long), typed_to(right, K::Long)),
        Domain::Real => (typed_to(left, K::Real), typed_to(right, K::Real)),
        Domain::Bool => (typed_to(left, K::Bool), typed_to(right, K::Bool)),
        Domain::DateTime => (typed_to(left, K::DateTime), typed_to(right, K::DateTime)),
        Domain::TimeSpan => (typed_to(left, K::TimeSpan), typed_to(right, K::TimeSpan)),
        Domain::Guid => (left.expr, right.expr),
        Domain::RawI64 => (i64_of(left.expr), i64_of(right.expr)),
    };
    if is_eq {
        Ok(eq_null_semantics(l, r, negated))
    } else {
        Ok(binary_expr(l, df_op, r))
    }
}

fn str_pred(sop: StringOp, left: TypedExpr, right: TypedExpr) -> Expr {
    let l = (as_str(left), K::String);
    let r = (as_str(right), K::String);
    let kind = match sop.kind {
        StringOpKind::Has => Match::Has,
        StringOpKind::HasPrefix => Match::Prefix,
        StringOpKind::HasSuffix => Match::Suffix,
        StringOpKind::Contains => Match::Contains,
        StringOpKind::StartsWith => Match::StartsWith,
        StringOpKind::EndsWith => Match::EndsWith,
        StringOpKind::MatchesRegex => {
            let e = call("matches_regex", strops::regex_kernel, vec![l, r], K::Bool);
            return if sop.negated { e.not() } else { e };
        }
        StringOpKind::Like => {
            let k: crate::udf::Kernel = match (sop.case_sensitive, sop.negated) {
                (true, true) => strops::like_kernel::<true, true>,
                (true, false) => strops::like_kernel::<true, false>,
                (false, true) => strops::like_kernel::<false, true>,
                (false, false) => strops::like_kernel::<false, false>,
            };
            return call("like", k, vec![l, r], K::Bool);
        }
    };
    let name = string_op_name(sop);
    call(
        name,
        pred_kernel_for(kind, sop.case_sensitive, sop.negated),
        vec![l, r],
        K::Bool,
    )
}

fn string_op_name(sop: StringOp) -> &'static str {
    use StringOpKind as S;
    match (sop.kind, sop.case_sensitive, sop.negated) {
        (S::Has, false, false) => "has",
        (S::Has, false, true) => "!has",
        (S::Has, true, false) => "has_cs",
        (S::Has, true, true) => "!has_cs",
        (S::HasPrefix, false, false) => "hasprefix",
        (S::HasPrefix, false, true) => "!hasprefix",
        (S::HasPrefix, true, false) => "hasprefix_cs",
        (S::HasPrefix, true, true) => "!hasprefix_cs",
        (S::HasSuffix, false, false) => "hassuffix",
        (S::HasSuffix, false, true) => "!hassuffix",
        (S::HasSuffix, true, false) => "hassuffix_cs",
        (S::HasSuffix, true, true) => "!hassuffix_cs",
        (S::Contains, false, false) => "contains",
        (S::Contains, false, true) => "!contains",
        (S::Contains, true, false) => "contains_cs",
        (S::Contains, true, true) => "!contains_cs",
        (S::StartsWith, false, false) => "startswith",
        (S::StartsWith, false, true) => "!startswith",
        (S::StartsWith, true, false) => "startswith_cs",
        (S::StartsWith, true, true) => "!startswith_cs",
        (S::EndsWith, false, false) => "endswith",
        (S::EndsWith, false, true) => "!endswith",
        (S::EndsWith, true, false) => "endswith_cs",
        (S::EndsWith, true, true) => "!endswith_cs",
        (S::MatchesRegex, _, _) => "matches_regex",
        (S::Like, _, _) => "like",
    }
}

macro_rules! pk {
    ($k:expr, $cs:expr, $neg:expr) => {
        match ($cs, $neg) {
            (true, true) => strops::pred_kernel::<{ $k }, true, true> as crate::udf::Kernel,
            (true, false) => strops::pred_kernel::<{ $k }, true, false>,
            (false, true) => strops::pred_kernel::<{ $k }, false, true>,
            (false, false) => strops::pred_kernel::<{ $k }, false, false>,
        }
    };
}

/// The kernel for a string predicate.
pub(crate) fn pred_kernel_for(kind: Match, cs: bool, neg: bool) -> crate::udf::Kernel {
    const HAS: u8 = kind_code(Match::Has);
    const PRE: u8 = kind_code(Match::Prefix);
    const SUF: u8 = kind_code(Match::Suffix);
    const CON: u8 = kind_code(Match::Contains);
    const STA: u8 = kind_code(Match::StartsWith);
    const END: u8 = kind_code(Match::EndsWith);
    const EQU: u8 = kind_code(Match::Equals);
    match kind {
        Match::Has => pk!(HAS, cs, neg),
        Match::Prefix => pk!(PRE, cs, neg),
        Match::Suffix => pk!(SUF, cs, neg),
        Match::Contains => pk!(CON, cs, neg),
        Match::StartsWith => pk!(STA, cs, neg),
        Match::EndsWith => pk!(END, cs, neg),
        Match::Equals => pk!(EQU, cs, neg),
    }
}

fn unsupported_arith(op: BinaryOp, l: KqlType, r: KqlType) -> FnError {
    FnError::unsupported(format!("operator '{}' on {l} and {r}", op.symbol()))
}

fn from_i64(e: Expr, ty: KqlType) -> Expr {
    df_cast(e, arrow_type(ty))
}

fn lower_arith(
    op: BinaryOp,
    left: TypedExpr,
    right: TypedExpr,
    ret: KqlType,
) -> Result<Expr, FnError> {
    let (lt, rt) = (left.ty, right.ty);
    let df_op = match op {
        BinaryOp::Add => Operator::Plus,
        BinaryOp::Sub => Operator::Minus,
        BinaryOp::Mul => Operator::Multiply,
        BinaryOp::Div => Operator::Divide,
        _ => Operator::Modulo,
    };
    match ret {
        K::Long if lt != K::TimeSpan && rt != K::TimeSpan => {
            let l = typed_to(left, K::Long);
            let r = typed_to(right, K::Long);
            return Ok(match op {
                BinaryOp::Div => call(
                    "divide",
                    mathk::idiv_kernel,
                    vec![(l, K::Long), (r, K::Long)],
                    K::Long,
                ),
                BinaryOp::Mod => call(
                    "modulo",
                    mathk::imod_kernel,
                    vec![(l, K::Long), (r, K::Long)],
                    K::Long,
                ),
                _ => binary_expr(l, df_op, r),
            });
        }
        K::Real | K::Decimal if lt != K::DateTime && lt != K::TimeSpan => {
            let l = typed_to(left, K::Real);
            let r = typed_to(right, K::Real);
            return Ok(binary_expr(l, df_op, r));
        }
        K::Dynamic => {
            let code = match op {
                BinaryOp::Add => 0u8,
                BinaryOp::Sub => 1,
                BinaryOp::Mul => 2,
                BinaryOp::Div => 3,
                _ => 4,
            };
            let k: crate::udf::Kernel = match code {
                0 => mathk::dyn_arith_kernel::<0>,
                1 => mathk::dyn_arith_kernel::<1>,
                2 => mathk::dyn_arith_kernel::<2>,
                3 => mathk::dyn_arith_kernel::<3>,
                _ => mathk::dyn_arith_kernel::<4>,
            };
            return Ok(call(
                "dynamic_arith",
                k,
                vec![(left.expr, K::Dynamic), (right.expr, K::Dynamic)],
                K::Dynamic,
            ));
        }
        _ => {}
    }
    // time arithmetic
    match (op, lt, rt) {
        (BinaryOp::Add, K::DateTime, K::TimeSpan | K::Dynamic)
        | (BinaryOp::Add, K::TimeSpan, K::TimeSpan | K::Dynamic)
        | (BinaryOp::Sub, K::DateTime, K::TimeSpan)
        | (BinaryOp::Sub, K::TimeSpan, K::TimeSpan | K::Dynamic) => {
            let l = i64_of(left.expr);
            let r = i64_of(typed_to(right, K::TimeSpan));
            Ok(from_i64(binary_expr(l, df_op, r), ret))
        }
        (BinaryOp::Add, K::TimeSpan | K::Dynamic, K::DateTime)
        | (BinaryOp::Add, K::Dynamic, K::TimeSpan) => {
            let l = i64_of(typed_to(left, K::TimeSpan));
            let r = i64_of(right.expr);
            Ok(from_i64(binary_expr(l, df_op, r), ret))
        }
        (BinaryOp::Sub, K::DateTime, K::DateTime | K::Dynamic)
        | (BinaryOp::Sub, K::Dynamic, K::DateTime) => {
            let l = i64_of(typed_to(left, K::DateTime));
            let r = i64_of(typed_to(right, K::DateTime));
            Ok(from_i64(binary_expr(l, Operator::Minus, r), K::TimeSpan))
        }
        (BinaryOp::Sub, K::Dynamic, K::TimeSpan) => {
            let l = i64_of(typed_to(left, K::TimeSpan));
            let r = i64_of(right.expr);
            Ok(from_i64(binary_expr(l, Operator::Minus, r), K::TimeSpan))
        }
        (BinaryOp::Mul, K::TimeSpan, n) | (BinaryOp::Mul, n, K::TimeSpan) if n.is_numeric() => {
            let (ts, num) = if lt == K::TimeSpan {
                (left, right)
            } else {
                (right, left)
            };
            scale_timespan(ts, num, false)
        }
        (BinaryOp::Div, K::TimeSpan, n) if n.is_numeric() => scale_timespan(left, right, true),
        (BinaryOp::Div, K::TimeSpan, K::TimeSpan) => Ok(binary_expr(
            df_cast(left.expr, DataType::Float64),
            Operator::Divide,
            df_cast(right.expr, DataType::Float64),
        )),
        (BinaryOp::Mod, K::TimeSpan, K::TimeSpan) => Ok(from_i64(
            call(
                "modulo",
                mathk::imod_kernel,
                vec![(i64_of(left.expr), K::Long), (i64_of(right.expr), K::Long)],
                K::Long,
            ),
            K::TimeSpan,
        )),
        (BinaryOp::Mod, K::DateTime, K::TimeSpan) => {
            // the offset from the bin start (bins aligned to 0001-01-01 like `bin`)
            let x = i64_of(left.expr);
            let floor = mathk::bin_datetime_ns(x.clone(), i64_of(right.expr));
            Ok(from_i64(
                binary_expr(x, Operator::Minus, floor),
                K::TimeSpan,
            ))
        }
        _ => Err(unsupported_arith(op, lt, rt)),
    }
}

/// timespan × number or timespan / number.
fn scale_timespan(ts: TypedExpr, num: TypedExpr, divide: bool) -> Result<Expr, FnError> {
    let ts_i = i64_of(ts.expr);
    if num.ty.is_integer() {
        let n = typed_to(num, K::Long);
        let e = if divide {
            call(
                "divide",
                mathk::idiv_kernel,
                vec![(ts_i, K::Long), (n, K::Long)],
                K::Long,
            )
        } else {
            binary_expr(ts_i, Operator::Multiply, n)
        };
        return Ok(from_i64(e, K::TimeSpan));
    }
    let n = typed_to(num, K::Real);
    let f = binary_expr(
        df_cast(ts_i, DataType::Float64),
        if divide {
            Operator::Divide
        } else {
            Operator::Multiply
        },
        n,
    );
    let rounded = call(
        "round",
        mathk::round_half_away_kernel,
        vec![(f, K::Real)],
        K::Real,
    );
    Ok(Expr::TryCast(datafusion::logical_expr::TryCast::new(
        Box::new(Expr::TryCast(datafusion::logical_expr::TryCast::new(
            Box::new(rounded),
            DataType::Int64,
        ))),
        arrow_type(K::TimeSpan),
    )))
}

/// Lowers a binary operator.
pub fn lower_binary(
    op: BinaryOp,
    left: TypedExpr,
    right: TypedExpr,
    ret: KqlType,
) -> Result<Expr, FnError> {
    match op {
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
            lower_arith(op, left, right, ret)
        }
        BinaryOp::Eq
        | BinaryOp::NotEq
        | BinaryOp::Lt
        | BinaryOp::LtEq
        | BinaryOp::Gt
        | BinaryOp::GtEq => lower_compare(op, left, right),
        BinaryOp::EqTilde | BinaryOp::NotEqTilde => {
            let neg = op == BinaryOp::NotEqTilde;
            Ok(call(
                if neg { "!~" } else { "=~" },
                pred_kernel_for(Match::Equals, false, neg),
                vec![(as_str(left), K::String), (as_str(right), K::String)],
                K::Bool,
            ))
        }
        BinaryOp::And | BinaryOp::Or => {
            let l = typed_to(left, K::Bool);
            let r = typed_to(right, K::Bool);
            Ok(if op == BinaryOp::And {
                l.and(r)
            } else {
                l.or(r)
            })
        }
        BinaryOp::Str(sop) => Ok(str_pred(sop, left, right)),
    }
}

/// Unary minus.
pub fn lower_negate(expr: TypedExpr) -> Result<Expr, FnError> {
    match expr.ty {
        // 0 - x wraps like Kusto instead of failing on the minimum value
        K::Int | K::Long => Ok(binary_expr(
            lit(0i64),
            Operator::Minus,
            typed_to(expr, K::Long),
        )),
        K::Real | K::Decimal => Ok(Expr::Negative(Box::new(expr.expr))),
        K::TimeSpan | K::DateTime => Ok(from_i64(
            binary_expr(lit(0i64), Operator::Minus, i64_of(expr.expr)),
            expr.ty,
        )),
        K::Dynamic => Ok(call(
            "negate",
            mathk::dyn_negate_kernel,
            vec![(expr.expr, K::Dynamic)],
            K::Dynamic,
        )),
        t => Err(FnError::new(
            codes::TYPE_MISMATCH,
            format!("unary minus is not defined for type {t}"),
        )),
    }
}

/// Flattens constant dynamic arrays in an `in`/`has_any` list into scalar constants;
/// returns (constant values, non-constant expressions).
fn expand_list(list: Vec<TypedExpr>) -> (Vec<Const>, Vec<TypedExpr>) {
    let mut consts = Vec::new();
    let mut dynamic = Vec::new();
    for e in list {
        match &e.constant {
            Some(Const::Dynamic(Value::Array(items))) => {
                for it in items {
                    consts.push(match it {
                        Value::Null => Const::Null,
                        Value::Bool(b) => Const::Bool(*b),
                        Value::Number(n) => match n.as_i64() {
                            Some(i) => Const::Long(i),
                            None => Const::Real(n.as_f64().unwrap_or(f64::NAN)),
                        },
                        Value::String(s) => Const::String(s.clone()),
                        other => Const::Dynamic(other.clone()),
                    });
                }
            }
            Some(Const::Dynamic(Value::Null)) => {}
            Some(c) if e.ty != K::Dynamic => consts.push(c.clone()),
            Some(Const::Dynamic(v)) => consts.push(Const::Dynamic(v.clone())),
            _ => {
                if let Expr::Literal(sv, _) = &e.expr
                    && let Some(c) = crate::convert::scalar_to_const(sv, e.ty)
                {
                    if e.ty == K::Dynamic && matches!(c, Const::Dynamic(Value::Array(_))) {
                        {
                            let (mut c2, mut d2) = expand_list(vec![TypedExpr {
                                expr: e.expr.clone(),
                                ty: e.ty,
                                constant: Some(c),
                            }]);
                            consts.append(&mut c2);
                            dynamic.append(&mut d2);
                            continue;
                        }
                    }
                    consts.push(c);
                    continue;
                }
                dynamic.push(e);
            }
        }
    }
    (consts, dynamic)
}

/// `x in (...)`, `x !in (...)`, `x in~ (...)`, `x !in~ (...)`.
pub fn lower_in(
    expr: TypedExpr,
    list: Vec<TypedExpr>,
    negated: bool,
    case_insensitive: bool,
) -> Result<Expr, FnError> {
    let (consts, others) = expand_list(list);
    let ty = expr.ty;
    // comparison domain: strings (incl. dynamic, guid) compare as text, numbers as real or
    // long, datetimes/timespans natively.
    let dom = match ty {
        K::Int | K::Long => {
            if consts.iter().any(|c| matches!(c, Const::Real(_))) {
                K::Real
            } else {
                K::Long
            }
        }
        K::Real | K::Decimal => K::Real,
        K::Bool => K::Bool,
        K::DateTime => K::DateTime,
        K::TimeSpan => K::TimeSpan,
        _ => K::String,
    };
    let text = dom == K::String;
    let ci = case_insensitive && text;
    if ci && others.is_empty() {
        // `x in~ ("a", "b", ...)`: one kernel, no lower-cased copy of the column.
        let items: Vec<Value> = consts
            .iter()
            .filter(|c| !matches!(c, Const::Null))
            .filter_map(|c| match crate::convert::const_as(c, K::String) {
                Const::String(s) => Some(Value::String(s.to_lowercase())),
                _ => None,
            })
            .collect();
        let pred = call(
            "in_ci",
            strops::in_ci_kernel,
            vec![
                (as_str(expr), K::String),
                (lit(crate::json::to_text(&Value::Array(items))), K::Dynamic),
            ],
            K::Bool,
        );
        return Ok(if negated { pred.not() } else { pred });
    }
    let lhs = if text {
        let s = as_str(expr);
        if ci { lower_expr(s) } else { s }
    } else {
        typed_to(expr, dom)
    };
    let mut items: Vec<Expr> = Vec::new();
    for c in &consts {
        if matches!(c, Const::Null) {
            continue;
        }
        let v = crate::convert::const_as(c, dom);
        if matches!(v, Const::Null) {
            continue;
        }
        let v = match (ci, v) {
            (true, Const::String(s)) => Const::String(s.to_lowercase()),
            (_, v) => v,
        };
        items.push(Expr::Literal(
            crate::convert::const_to_scalar(&v, dom),
            None,
        ));
    }
    let mut dyn_checks: Vec<Expr> = Vec::new();
    for o in others {
        if o.ty == K::Dynamic {
            // a runtime array (or scalar): membership test on its elements
            dyn_checks.push(call(
                if ci {
                    "array_contains_ci"
                } else {
                    "array_contains"
                },
                if ci {
                    dynk::array_contains_kernel::<true>
                } else {
                    dynk::array_contains_kernel::<false>
                },
                vec![
                    (o.expr, K::Dynamic),
                    (to_type(lhs.clone(), dom, K::String), K::String),
                ],
                K::Bool,
            ));
        } else if text {
            let s = as_str(o);
            items.push(if ci { lower_expr(s) } else { s });
        } else {
            items.push(typed_to(o, dom));
        }
    }
    let mut pred: Option<Expr> = None;
    if !items.is_empty() {
        let e = lhs.clone().in_list(items, false);
        pred = Some(if text { e } else { null_to(e, false) });
    }
    for d in dyn_checks {
        pred = Some(match pred {
            None => d,
            Some(p) => p.or(d),
        });
    }
    let pred = pred.unwrap_or_else(|| lit(false));
    Ok(if negated { pred.not() } else { pred })
}

fn null_to(e: Expr, v: bool) -> Expr {
    datafusion::functions::core::expr_fn::coalesce(vec![e, lit(v)])
}

/// Unicode lower-casing of a string expression.
pub(crate) fn lower_expr(e: Expr) -> Expr {
    if let Expr::Literal(ScalarValue::Utf8(Some(s)), _) = &e {
        return lit(s.to_lowercase());
    }
    call(
        "tolower",
        crate::scalar::string::tolower_kernel,
        vec![(e, K::String)],
        K::String,
    )
}

/// `x has_any (...)` / `x has_all (...)`.
pub fn lower_has_any(
    expr: TypedExpr,
    list: Vec<TypedExpr>,
    kind: HasAnyKind,
) -> Result<Expr, FnError> {
    let all = kind == HasAnyKind::HasAll;
    let (consts, others) = expand_list(list);
    let hay = (as_str(expr), K::String);
    let needles: Vec<Value> = consts
        .iter()
        .filter(|c| !matches!(c, Const::Null))
        .map(|c| Value::String(crate::convert::to_kql_string(c)))
        .collect();
    let kernel: crate::udf::Kernel = if all {
        dynk::has_any_kernel::<true>
    } else {
        dynk::has_any_kernel::<false>
    };
    let name = if all { "has_all" } else { "has_any" };
    let mut parts: Vec<Expr> = Vec::new();
    if !needles.is_empty() || others.is_empty() {
        let arr = lit(crate::json::to_text(&Value::Array(needles)));
        parts.push(call(
            name,
            kernel,
            vec![hay.clone(), (arr, K::Dynamic)],
            K::Bool,
        ));
    }
    for o in others {
        if o.ty == K::Dynamic {
            parts.push(call(
                name,
                kernel,
                vec![hay.clone(), (o.expr, K::Dynamic)],
                K::Bool,
            ));
        } else {
            parts.push(call(
                "has",
                pred_kernel_for(Match::Has, false, false),
                vec![hay.clone(), (as_str(o), K::String)],
                K::Bool,
            ));
        }
    }
    let mut it = parts.into_iter();
    let first = it.next().unwrap_or_else(|| lit(all));
    Ok(it.fold(first, |acc, p| if all { acc.and(p) } else { acc.or(p) }))
}

/// `x between (low .. high)` and `!between`.
pub fn lower_between(
    expr: TypedExpr,
    low: TypedExpr,
    high: TypedExpr,
    negated: bool,
) -> Result<Expr, FnError> {
    let dom = match expr.ty {
        K::DateTime => K::DateTime,
        K::TimeSpan => K::TimeSpan,
        K::Int | K::Long if low.ty.is_integer() && high.ty.is_integer() => K::Long,
        t if t.is_numeric() || t == K::Dynamic => {
            if matches!(low.ty, K::DateTime) {
                K::DateTime
            } else if matches!(low.ty, K::TimeSpan) {
                K::TimeSpan
            } else {
                K::Real
            }
        }
        t => {
            return Err(FnError::new(
                codes::TYPE_MISMATCH,
                format!("'between' is not defined for type {t}"),
            ));
        }
    };
    let x = typed_to(expr, dom);
    let lo_expr = low.expr.clone();
    let lo_ty = low.ty;
    let lo = typed_to(low, dom);
    let hi = if dom == K::DateTime && high.ty == K::TimeSpan {
        // datetime between (start .. span): the upper bound is start + span
        let start = to_type(lo_expr, lo_ty, K::DateTime);
        from_i64(
            binary_expr(i64_of(start), Operator::Plus, i64_of(high.expr)),
            K::DateTime,
        )
    } else {
        typed_to(high, dom)
    };
    let e = Expr::Between(datafusion::logical_expr::Between::new(
        Box::new(x),
        negated,
        Box::new(lo),
        Box::new(hi),
    ));
    Ok(e)
}

/// `d.key` / `d["key"]` on a dynamic value (returns dynamic).
pub fn lower_member(expr: TypedExpr, key: &str) -> Result<Expr, FnError> {
    if expr.ty != K::Dynamic {
        return Err(FnError::new(
            codes::TYPE_MISMATCH,
            format!(
                "property access '.{key}' needs a dynamic value, got {}",
                expr.ty
            ),
        ));
    }
    Ok(path_step(expr.expr, Value::String(key.to_string())))
}

/// `source.step` as one `dynamic_path(source, "[steps]")` call: consecutive constant
/// steps (`d.a.b[0]`) are fused into one path, and `parse_json(text).a` reads the text
/// directly, so each row's JSON is parsed once per path.
fn path_step(source: Expr, step: Value) -> Expr {
    if let Expr::ScalarFunction(sf) = &source {
        let name = sf.func.name();
        if name == "dynamic_path"
            && let [inner, Expr::Literal(ScalarValue::Utf8(Some(p)), _)] = sf.args.as_slice()
            && let Some(Value::Array(mut steps)) = crate::json::parse(p)
        {
            steps.push(step);
            return path_call(inner.clone(), steps);
        }
        if name == "todynamic"
            && let [inner] = sf.args.as_slice()
            && matches!(
                &sf.func.signature().type_signature,
                datafusion::logical_expr::TypeSignature::Exact(t) if t.as_slice() == [DataType::Utf8]
            )
        {
            // parse_json(text).step: non-JSON text is a dynamic string, which has no
            // members or elements, so reading the text directly gives the same result
            return path_call(inner.clone(), vec![step]);
        }
    }
    path_call(source, vec![step])
}

fn path_call(source: Expr, steps: Vec<Value>) -> Expr {
    call(
        "dynamic_path",
        dynk::path_kernel,
        vec![
            (source, K::Dynamic),
            (lit(crate::json::to_text(&Value::Array(steps))), K::String),
        ],
        K::Dynamic,
    )
}

/// `d[i]` (long index, negative from the end) or `d[s]` (string key) on a dynamic value.
pub fn lower_index(expr: TypedExpr, index: TypedExpr) -> Result<Expr, FnError> {
    if expr.ty != K::Dynamic {
        return Err(FnError::new(
            codes::TYPE_MISMATCH,
            format!("index access needs a dynamic value, got {}", expr.ty),
        ));
    }
    // constant index or key: a fused path step
    match (&index.constant, &index.expr) {
        (Some(Const::Long(i)), _) => return Ok(path_step(expr.expr, Value::from(*i))),
        (Some(Const::Int(i)), _) => return Ok(path_step(expr.expr, Value::from(*i))),
        (Some(Const::String(k)), _) => return Ok(path_step(expr.expr, Value::String(k.clone()))),
        (_, Expr::Literal(ScalarValue::Int64(Some(i)), _)) => {
            return Ok(path_step(expr.expr, Value::from(*i)));
        }
        (_, Expr::Literal(ScalarValue::Utf8(Some(k)), _)) if index.ty == K::String => {
            return Ok(path_step(expr.expr, Value::String(k.clone())));
        }
        _ => {}
    }
    match index.ty {
        K::Int | K::Long => Ok(call(
            "dynamic_index",
            dynk::index_kernel,
            vec![(expr.expr, K::Dynamic), (typed_to(index, K::Long), K::Long)],
            K::Dynamic,
        )),
        K::String => Ok(call(
            "dynamic_member",
            dynk::member_kernel,
            vec![(expr.expr, K::Dynamic), (nn_str(index.expr), K::String)],
            K::Dynamic,
        )),
        K::Dynamic => Ok(call(
            "dynamic_index",
            dynk::index_any_kernel,
            vec![(expr.expr, K::Dynamic), (index.expr, K::Dynamic)],
            K::Dynamic,
        )),
        t => Err(FnError::new(
            codes::TYPE_MISMATCH,
            format!("a dynamic index must be an integer or a string, got {t}"),
        )),
    }
}
