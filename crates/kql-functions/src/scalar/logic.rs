//! Conditionals, null tests, conversions and type inspection: `iff`/`iif`, `case`,
//! `coalesce`, `isnull`/`isnotnull`, `isempty`/`isnotempty`, `not`, `gettype`,
//! `tostring`, `tolong`, `toint`, `toreal`/`todouble`, `todecimal`, `tobool`/`toboolean`,
//! `todatetime`, `totimespan`, `toguid`, `new_guid`.
//!
//! - `iff`/`case` branches take a common type: dynamic branches adopt the others' type,
//!   numbers widen, mixed types give dynamic (Kusto's binder rule).
//! - `coalesce` over strings returns the first non-empty string (strings are never null).
//! - `isnull(string)` is always false; `isempty` is true for `""` and nulls.

use std::borrow::Cow;

use std::ops::Not;

use datafusion::arrow::array::ArrayRef;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Expr, Volatility, lit, when};
use kql_syntax::{KqlType, codes};

use crate::convert::typed_to;
use crate::json;
use crate::operators::{as_str, nn_str};
use crate::sig::{self, P, check, check_variadic};
use crate::udf::{Args, build_str, call, call_with};
use crate::{ArgType, FnError, LowerContext, TypedExpr};

use KqlType as K;

pub(crate) const NAMES: &[&str] = &[
    "iff",
    "iif",
    "case",
    "coalesce",
    "isnull",
    "isnotnull",
    "isempty",
    "isnotempty",
    "notempty",
    "notnull",
    "not",
    "gettype",
    "tostring",
    "tolong",
    "toint",
    "toreal",
    "todouble",
    "todecimal",
    "tobool",
    "toboolean",
    "todatetime",
    "totimespan",
    "toguid",
    "new_guid",
];

pub(crate) fn return_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    Ok(match name {
        "iff" | "iif" => {
            check(name, args, 3, &[P::Bool, P::Any, P::Any])?;
            let types: Vec<KqlType> = args.iter().skip(1).map(|a| a.ty).collect();
            sig::no_integer_real_mix(name, &types)?;
            sig::branch_type(&types)
        }
        "case" => {
            if args.len() < 3 || args.len().is_multiple_of(2) {
                return Err(FnError::new(
                    codes::WRONG_ARG_COUNT,
                    format!(
                        "function 'case' expects condition/value pairs and an else value (an odd number of at least 3 arguments), got {}",
                        args.len()
                    ),
                ));
            }
            let mut values = Vec::new();
            for (i, a) in args.iter().enumerate() {
                let is_cond = i % 2 == 0 && i + 1 < args.len();
                if is_cond {
                    if !P::Bool.accepts(a.ty) {
                        return Err(sig::type_error(name, i, "bool", a.ty));
                    }
                } else {
                    values.push(a.ty);
                }
            }
            sig::no_integer_real_mix(name, &values)?;
            sig::branch_type(&values)
        }
        "coalesce" => {
            check_variadic(name, args, 2, Some(64), P::Any)?;
            let types: Vec<KqlType> = args.iter().map(|a| a.ty).collect();
            sig::no_integer_real_mix(name, &types)?;
            sig::strict_common_type(&types).ok_or_else(|| {
                FnError::new(
                    codes::TYPE_MISMATCH,
                    "function 'coalesce' needs arguments of one type (numbers may mix)",
                )
            })?
        }
        "isnull" | "isnotnull" | "isempty" | "isnotempty" | "notempty" | "notnull" => {
            check(name, args, 1, &[P::Any])?;
            K::Bool
        }
        "not" => {
            check(name, args, 1, &[P::Bool])?;
            K::Bool
        }
        "gettype" => {
            check(name, args, 1, &[P::Any])?;
            K::String
        }
        "tostring" => {
            check(name, args, 1, &[P::Any])?;
            K::String
        }
        "tolong" => conv(name, args, K::Long)?,
        "toint" => conv(name, args, K::Int)?,
        "toreal" | "todouble" => conv(name, args, K::Real)?,
        "todecimal" => conv(name, args, K::Decimal)?,
        "tobool" | "toboolean" => conv(name, args, K::Bool)?,
        "todatetime" => conv(name, args, K::DateTime)?,
        "totimespan" => conv(name, args, K::TimeSpan)?,
        "toguid" => {
            check(name, args, 1, &[P::Any])?;
            if let Some(a) = args.first()
                && !matches!(a.ty, K::String | K::Dynamic | K::Guid)
            {
                return Err(sig::type_error(name, 0, "string", a.ty));
            }
            K::Guid
        }
        "new_guid" => {
            check(name, args, 0, &[])?;
            K::Guid
        }
        _ => return Err(FnError::unsupported(format!("function {name}()"))),
    })
}

fn conv(name: &str, args: &[ArgType], t: KqlType) -> Result<KqlType, FnError> {
    check(name, args, 1, &[P::Any])?;
    Ok(t)
}

fn take(it: &mut std::vec::IntoIter<TypedExpr>, name: &str) -> Result<TypedExpr, FnError> {
    it.next().ok_or_else(|| sig::arity_error(name, 1, None, 0))
}

/// A branch value converted to the result type (strings never null).
fn branch(e: TypedExpr, ret: KqlType) -> Expr {
    if ret == K::String {
        as_str(e)
    } else if e.ty == ret {
        e.expr
    } else if matches!(e.constant, Some(crate::Const::Null)) || is_null_literal(&e.expr) {
        lit(crate::convert::const_to_scalar(&crate::Const::Null, ret))
    } else if ret == K::Dynamic {
        crate::convert::to_dynamic_value(e)
    } else {
        typed_to(e, ret)
    }
}

fn is_null_literal(e: &Expr) -> bool {
    matches!(e, Expr::Literal(v, _) if v.is_null())
}

fn cond(e: TypedExpr) -> Expr {
    typed_to(e, K::Bool)
}

fn case_error() -> FnError {
    FnError::new(codes::INTERNAL, "could not build a CASE expression")
}

pub(crate) fn lower(
    _ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    ret: KqlType,
) -> Result<Expr, FnError> {
    let mut it = args.into_iter();
    Ok(match name {
        "iff" | "iif" => {
            let c = cond(take(&mut it, name)?);
            let a = branch(take(&mut it, name)?, ret);
            let b = branch(take(&mut it, name)?, ret);
            when(c, a).otherwise(b).map_err(|_| case_error())?
        }
        "case" => {
            let all: Vec<TypedExpr> = it.collect();
            let n = all.len();
            let mut pairs: Vec<(Expr, Expr)> = Vec::new();
            let mut else_v: Option<Expr> = None;
            let mut pending: Option<Expr> = None;
            for (i, a) in all.into_iter().enumerate() {
                if i + 1 == n {
                    else_v = Some(branch(a, ret));
                } else if i % 2 == 0 {
                    pending = Some(cond(a));
                } else if let Some(c) = pending.take() {
                    pairs.push((c, branch(a, ret)));
                }
            }
            let mut pairs = pairs.into_iter();
            let (c0, v0) = pairs.next().ok_or_else(case_error)?;
            let mut builder = when(c0, v0);
            for (c, v) in pairs {
                builder = builder.when(c, v);
            }
            builder
                .otherwise(else_v.unwrap_or_else(|| lit(ScalarValue::Null)))
                .map_err(|_| case_error())?
        }
        "coalesce" => {
            if ret == K::String {
                let v: Vec<(Expr, KqlType)> = it.map(|a| (as_str(a), K::String)).collect();
                call("coalesce", coalesce_str_kernel, v, K::String)
            } else {
                let v: Vec<Expr> = it.map(|a| branch(a, ret)).collect();
                datafusion::functions::core::expr_fn::coalesce(v)
            }
        }
        "isnull" | "isnotnull" | "notnull" => {
            let a = take(&mut it, name)?;
            let is_null = match a.ty {
                K::String => lit(false),
                _ => a.expr.is_null(),
            };
            if name == "isnull" {
                is_null
            } else {
                is_null.not()
            }
        }
        "isempty" | "isnotempty" | "notempty" => {
            let a = take(&mut it, name)?;
            let empty = match a.ty {
                K::String => nn_str(a.expr).eq(lit("")),
                K::Dynamic => {
                    let t = crate::convert::to_type(a.expr, K::Dynamic, K::String);
                    t.eq(lit(""))
                }
                _ => a.expr.is_null(),
            };
            if name == "isempty" {
                empty
            } else {
                empty.not()
            }
        }
        "not" => cond(take(&mut it, name)?).not(),
        "gettype" => {
            let a = take(&mut it, name)?;
            if a.ty == K::Dynamic {
                call(
                    "gettype",
                    gettype_kernel,
                    vec![(a.expr, K::Dynamic)],
                    K::String,
                )
            } else {
                lit(a.ty.name())
            }
        }
        "tostring" => as_str(take(&mut it, name)?),
        "tolong" | "toint" | "toreal" | "todouble" | "todecimal" | "tobool" | "toboolean"
        | "todatetime" | "totimespan" | "toguid" => typed_to(take(&mut it, name)?, ret),
        "new_guid" => call_with(
            "new_guid",
            new_guid_kernel,
            vec![],
            K::Guid,
            Volatility::Volatile,
        ),
        _ => return Err(FnError::unsupported(format!("function {name}()"))),
    })
}

fn coalesce_str_kernel(a: &Args) -> Result<ArrayRef> {
    let cols: Vec<_> = (0..a.len()).map(|k| a.str(k)).collect::<Result<_>>()?;
    Ok(build_str(a.rows, |i| {
        Some(Cow::Borrowed(
            cols.iter()
                .map(|c| c.get(i))
                .find(|s| !s.is_empty())
                .unwrap_or(""),
        ))
    }))
}

fn gettype_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        Some(Cow::Borrowed(match d.opt(i).and_then(json::parse) {
            None => "null",
            Some(v) => json::type_name(&v),
        }))
    }))
}

fn new_guid_kernel(a: &Args) -> Result<ArrayRef> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut s = STATE.load(Ordering::Relaxed);
    if s == 0 {
        s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x1234_5678)
            | 1;
    }
    let mut next = || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let rows = a.rows.max(1);
    let out = build_str(rows, |_| {
        let (hi, lo) = (next(), next());
        let hi = (hi & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
        let lo = (lo & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
        Some(Cow::Owned(format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xFFFF,
            hi & 0xFFFF,
            lo >> 48,
            lo & 0xFFFF_FFFF_FFFF
        )))
    });
    STATE.store(s, Ordering::Relaxed);
    Ok(out)
}
