//! Aggregate functions: typing and lowering to `Expr::AggregateFunction`.
//!
//! DataFusion built-ins are used where the semantics match (`count`, `countif` as a
//! filtered count, `dcount`/`count_distinct` as `count(distinct)`, `min`/`max`); Kusto
//! differs elsewhere, so those are our own UDAFs (see [`udafs`]):
//! - `sum` of no values is `0` (not null); `avg` of no values is `NaN`;
//! - `stdev`/`variance` of fewer than two values are `0`;
//! - `make_set`/`make_list`/`make_bag` build dynamic JSON (nulls skipped, dynamic arrays
//!   flattened, bags merged), `make_list_with_nulls` keeps nulls;
//! - `take_any` prefers a non-null, non-empty value;
//! - `percentile(x, p)` is the nearest-rank percentile and keeps the input type.
//!
//! `binary_all_and`/`_or`/`_xor` are DataFusion's bit aggregates.
//! `*if` variants use the aggregate `FILTER` clause. `dcount` counts exactly (equal to
//! Kusto's estimate on small data); the accuracy argument is accepted and ignored.

pub(crate) mod udafs;

use std::sync::Arc;

use datafusion::functions_aggregate::count::count_udaf;
use datafusion::functions_aggregate::min_max::{max_udaf, min_udaf};
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{AggregateUDF, Expr, lit};
use kql_syntax::{KqlType, codes};

use crate::convert::typed_to;
use crate::sig::{self, P, check};
use crate::{ArgType, Const, FnError, LowerContext, TypedExpr};
use udafs::{CollectKind, CollectUdaf, NumKind, NumUdaf, PercentileUdaf, TakeAnyUdaf};

use KqlType as K;

pub(crate) const NAMES: &[&str] = &[
    "count",
    "countif",
    "dcount",
    "dcountif",
    "count_distinct",
    "count_distinctif",
    "sum",
    "sumif",
    "avg",
    "avgif",
    "min",
    "max",
    "minif",
    "maxif",
    "stdev",
    "stdevif",
    "stdevp",
    "variance",
    "varianceif",
    "variancep",
    "make_set",
    "make_set_if",
    "makeset",
    "make_list",
    "make_list_if",
    "makelist",
    "make_list_with_nulls",
    "make_bag",
    "make_bag_if",
    "take_any",
    "any",
    "take_anyif",
    "anyif",
    "percentile",
    "binary_all_and",
    "binary_all_or",
    "binary_all_xor",
];

pub(crate) fn is_aggregate(name: &str) -> bool {
    NAMES.contains(&name)
}

/// Default and largest size of `make_set`/`make_list`/`make_bag` (Kusto's limit).
const MAX_COLLECT: i64 = 1_048_576;

fn orderable(t: KqlType) -> bool {
    t.is_numeric() || matches!(t, K::DateTime | K::TimeSpan | K::String | K::Bool)
}

fn check_size(name: &str, args: &[ArgType], i: usize) -> Result<(), FnError> {
    if let Some(a) = args.get(i) {
        match &a.constant {
            Some(Const::Int(_) | Const::Long(_)) => {}
            Some(_) => {
                return Err(sig::bad_arg(
                    name,
                    i,
                    "the size limit must be an integer constant",
                ));
            }
            None => {
                if !a.ty.is_integer() {
                    return Err(sig::type_error(name, i, "an integer", a.ty));
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn return_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    let t0 = args.first().map(|a| a.ty).unwrap_or(K::Long);
    Ok(match name {
        "count" => {
            // `count()`; `count(pred)` counts the rows where true; `count(x)` of any other
            // type counts every row, nulls included (as Kusto does).
            check(name, args, 0, &[P::Any])?;
            K::Long
        }
        "countif" => {
            check(name, args, 1, &[P::Bool])?;
            K::Long
        }
        "dcount" => {
            check(name, args, 1, &[P::Any, P::Scalar])?;
            K::Long
        }
        "count_distinct" => {
            check(name, args, 1, &[P::Scalar])?;
            K::Long
        }
        "dcountif" => {
            check(name, args, 2, &[P::Any, P::Bool, P::Scalar])?;
            K::Long
        }
        "count_distinctif" => {
            check(name, args, 2, &[P::Scalar, P::Bool])?;
            K::Long
        }
        "sum" | "sumif" => {
            if name == "sum" {
                check(name, args, 1, &[P::Any])?;
            } else {
                check(name, args, 2, &[P::Any, P::Bool])?;
            }
            match t0 {
                K::Int | K::Long => K::Long,
                K::Real | K::Decimal | K::TimeSpan => t0,
                t => return Err(sig::type_error(name, 0, "a number or timespan", t)),
            }
        }
        "avg" | "avgif" => {
            if name == "avg" {
                check(name, args, 1, &[P::Any])?;
            } else {
                check(name, args, 2, &[P::Any, P::Bool])?;
            }
            match t0 {
                K::Int | K::Long | K::Real => K::Real,
                K::Decimal | K::TimeSpan => t0,
                t => return Err(sig::type_error(name, 0, "a number or timespan", t)),
            }
        }
        "min" | "max" | "minif" | "maxif" => {
            if name.ends_with("if") {
                check(name, args, 2, &[P::Any, P::Bool])?;
            } else {
                check(name, args, 1, &[P::Any])?;
            }
            if !orderable(t0) {
                return Err(sig::type_error(
                    name,
                    0,
                    "orderable (a number, timespan, datetime, string or bool)",
                    t0,
                ));
            }
            t0
        }
        "stdev" | "stdevp" | "variance" | "variancep" => {
            check(name, args, 1, &[P::Num])?;
            K::Real
        }
        "stdevif" | "varianceif" => {
            check(name, args, 2, &[P::Num, P::Bool])?;
            K::Real
        }
        "make_list_with_nulls" => {
            check(name, args, 1, &[P::Any])?;
            K::Dynamic
        }
        "make_set" | "makeset" | "make_list" | "makelist" | "make_bag" => {
            check(name, args, 1, &[P::Any, P::Int])?;
            check_size(name, args, 1)?;
            if name == "make_bag" && t0 != K::Dynamic {
                return Err(sig::type_error(name, 0, "dynamic", t0));
            }
            K::Dynamic
        }
        "make_set_if" | "make_list_if" | "make_bag_if" => {
            check(name, args, 2, &[P::Any, P::Bool, P::Int])?;
            check_size(name, args, 2)?;
            if name == "make_bag_if" && t0 != K::Dynamic {
                return Err(sig::type_error(name, 0, "dynamic", t0));
            }
            K::Dynamic
        }
        "take_any" | "any" => {
            if args.len() > 1 {
                return Err(FnError::unsupported(format!(
                    "{name}() over several expressions (the binder expands it to one {name} per column)"
                )));
            }
            check(name, args, 1, &[P::Any])?;
            t0
        }
        "take_anyif" | "anyif" => {
            check(name, args, 2, &[P::Any, P::Bool])?;
            t0
        }
        "percentile" => {
            check(name, args, 2, &[P::Orderable, P::Num])?;
            match args.get(1).and_then(|a| a.constant.as_ref()) {
                Some(Const::Int(_) | Const::Long(_) | Const::Real(_)) => {}
                _ => {
                    return Err(sig::bad_arg(
                        name,
                        1,
                        "the percentile must be a numeric constant",
                    ));
                }
            }
            match t0 {
                K::Int | K::Long => K::Long,
                K::Dynamic => {
                    return Err(sig::type_error(
                        name,
                        0,
                        "a number, datetime or timespan",
                        t0,
                    ));
                }
                t => t,
            }
        }
        "binary_all_and" | "binary_all_or" | "binary_all_xor" => {
            check(name, args, 1, &[P::Int])?;
            K::Long
        }
        _ => return Err(FnError::unsupported(format!("aggregate {name}()"))),
    })
}

fn agg(udaf: Arc<AggregateUDF>, args: Vec<Expr>, distinct: bool, filter: Option<Expr>) -> Expr {
    Expr::AggregateFunction(AggregateFunction::new_udf(
        udaf,
        args,
        distinct,
        filter.map(Box::new),
        vec![],
        None,
    ))
}

fn take(it: &mut std::vec::IntoIter<TypedExpr>, name: &str) -> Result<TypedExpr, FnError> {
    it.next().ok_or_else(|| sig::arity_error(name, 1, None, 0))
}

fn pred(e: TypedExpr) -> Expr {
    typed_to(e, K::Bool)
}

fn const_size(e: Option<TypedExpr>) -> Result<usize, FnError> {
    let n = match e {
        None => MAX_COLLECT,
        Some(x) => match x.constant {
            Some(Const::Int(v)) => i64::from(v),
            Some(Const::Long(v)) => v,
            _ => {
                return Err(FnError::new(
                    codes::BAD_ARGUMENT,
                    "the size limit of make_set/make_list/make_bag must be an integer constant",
                ));
            }
        },
    };
    Ok(n.clamp(0, MAX_COLLECT) as usize)
}

fn udaf<T: datafusion::logical_expr::AggregateUDFImpl + 'static>(u: T) -> Arc<AggregateUDF> {
    Arc::new(AggregateUDF::new_from_impl(u))
}

pub(crate) fn lower(
    _ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    ret: KqlType,
) -> Result<Expr, FnError> {
    let mut it = args.into_iter();
    Ok(match name {
        "count" => match it.next() {
            None => agg(count_udaf(), vec![lit(1i64)], false, None),
            Some(p) if p.ty == K::Bool => agg(count_udaf(), vec![lit(1i64)], false, Some(pred(p))),
            Some(_) => agg(count_udaf(), vec![lit(1i64)], false, None),
        },
        "countif" => {
            let p = pred(take(&mut it, name)?);
            agg(count_udaf(), vec![lit(1i64)], false, Some(p))
        }
        "dcount" | "count_distinct" => {
            let x = take(&mut it, name)?;
            agg(count_udaf(), vec![x.expr], true, None)
        }
        "dcountif" | "count_distinctif" => {
            let x = take(&mut it, name)?;
            let p = pred(take(&mut it, name)?);
            agg(count_udaf(), vec![x.expr], true, Some(p))
        }
        "sum" | "sumif" | "avg" | "avgif" => {
            let x = take(&mut it, name)?;
            let filter = if name.ends_with("if") {
                Some(pred(take(&mut it, name)?))
            } else {
                None
            };
            let input = match x.ty {
                K::Int | K::Long => K::Long,
                K::TimeSpan => K::TimeSpan,
                _ => K::Real,
            };
            let kind = if name.starts_with("sum") {
                NumKind::Sum
            } else {
                NumKind::Avg
            };
            let e = typed_to(x, input);
            agg(udaf(NumUdaf::new(kind, input, ret)), vec![e], false, filter)
        }
        "stdev" | "stdevp" | "variance" | "variancep" | "stdevif" | "varianceif" => {
            let x = typed_to(take(&mut it, name)?, K::Real);
            let filter = if name.ends_with("if") {
                Some(pred(take(&mut it, name)?))
            } else {
                None
            };
            let kind = match name {
                "stdev" | "stdevif" => NumKind::Stdev,
                "stdevp" => NumKind::StdevP,
                "variance" | "varianceif" => NumKind::Variance,
                _ => NumKind::VarianceP,
            };
            agg(
                udaf(NumUdaf::new(kind, K::Real, K::Real)),
                vec![x],
                false,
                filter,
            )
        }
        "min" | "max" | "minif" | "maxif" => {
            let x = take(&mut it, name)?;
            let e = if x.ty == K::String {
                crate::operators::nn_str(x.expr)
            } else {
                x.expr
            };
            let filter = if name.ends_with("if") {
                Some(pred(take(&mut it, name)?))
            } else {
                None
            };
            let u = if name.starts_with("min") {
                min_udaf()
            } else {
                max_udaf()
            };
            agg(u, vec![e], false, filter)
        }
        "make_set"
        | "makeset"
        | "make_list"
        | "makelist"
        | "make_list_with_nulls"
        | "make_bag"
        | "make_set_if"
        | "make_list_if"
        | "make_bag_if" => {
            let x = take(&mut it, name)?;
            let filter = if name.ends_with("_if") {
                Some(pred(take(&mut it, name)?))
            } else {
                None
            };
            let max = const_size(it.next())?;
            let kind = match name {
                "make_set" | "makeset" | "make_set_if" => CollectKind::Set,
                "make_list" | "makelist" | "make_list_if" => CollectKind::List,
                "make_list_with_nulls" => CollectKind::ListWithNulls,
                _ => CollectKind::Bag,
            };
            let input = x.ty;
            agg(
                udaf(CollectUdaf::new(kind, max, input)),
                vec![x.expr],
                false,
                filter,
            )
        }
        "take_any" | "any" | "take_anyif" | "anyif" => {
            let x = take(&mut it, name)?;
            let filter = if name.ends_with("if") {
                Some(pred(take(&mut it, name)?))
            } else {
                None
            };
            agg(udaf(TakeAnyUdaf::new(x.ty)), vec![x.expr], false, filter)
        }
        "percentile" => {
            let x = take(&mut it, name)?;
            let p = take(&mut it, name)?;
            let pv = match p.constant {
                Some(Const::Int(v)) => f64::from(v),
                Some(Const::Long(v)) => v as f64,
                Some(Const::Real(v)) => v,
                _ => {
                    return Err(FnError::new(
                        codes::BAD_ARGUMENT,
                        "the percentile must be a numeric constant",
                    ));
                }
            };
            let input = match x.ty {
                K::Int | K::Long => K::Long,
                K::DateTime | K::TimeSpan => x.ty,
                _ => K::Real,
            };
            let e = typed_to(x, input);
            agg(
                udaf(PercentileUdaf::new(pv, input, ret)),
                vec![e],
                false,
                None,
            )
        }
        "binary_all_and" | "binary_all_or" | "binary_all_xor" => {
            use datafusion::functions_aggregate::bit_and_or_xor::{
                bit_and_udaf, bit_or_udaf, bit_xor_udaf,
            };
            let x = typed_to(take(&mut it, name)?, K::Long);
            let u = match name {
                "binary_all_and" => bit_and_udaf(),
                "binary_all_or" => bit_or_udaf(),
                _ => bit_xor_udaf(),
            };
            agg(u, vec![x], false, None)
        }
        _ => return Err(FnError::unsupported(format!("aggregate {name}()"))),
    })
}
