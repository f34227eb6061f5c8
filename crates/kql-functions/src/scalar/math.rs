//! Math: `abs`, `round`, `ceiling`, `sqrt`, `pow`, `exp*`, `log*`, trigonometry, `sign`,
//! `isnan`/`isinf`/`isfinite`, `rand`, `pi`, the `binary_*` bit functions, `tohex`,
//! `min_of`/`max_of`, `bin`/`floor`/`bin_at` (numbers, datetimes, timespans), plus the
//! integer division/modulo and dynamic arithmetic kernels used by the operators.
//!
//! `bin(datetime, span)` aligns bins to 0001-01-01 like Kusto (for spans that divide a
//! day this is the same as aligning to the Unix epoch; `bin(d, 7d)` starts weeks on
//! Mondays). `round` rounds half away from zero. `log` of a negative number is null.

use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::{Expr, Volatility, lit};
use kql_syntax::KqlType;
use serde_json::Value;

use crate::convert::typed_to;
use crate::format::{EPOCH_TICKS, NANOS_PER_TICK};
use crate::json::{self, parse};
use crate::sig::{self, P, check, check_variadic};
use crate::udf::{Args, build_f64, build_i64, build_str, call, call_with};
use crate::{ArgType, FnError, LowerContext, TypedExpr};

use KqlType as K;

pub(crate) const NAMES: &[&str] = &[
    "abs",
    "round",
    "ceiling",
    "sqrt",
    "pow",
    "exp",
    "exp2",
    "exp10",
    "log",
    "log10",
    "log2",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    "cot",
    "degrees",
    "radians",
    "pi",
    "sign",
    "isnan",
    "isinf",
    "isfinite",
    "rand",
    "binary_and",
    "binary_or",
    "binary_xor",
    "binary_not",
    "binary_shift_left",
    "binary_shift_right",
    "tohex",
    "min_of",
    "max_of",
    "bin",
    "floor",
    "bin_at",
];

fn num_result(a: KqlType, b: KqlType) -> KqlType {
    if a == K::Decimal || b == K::Decimal {
        K::Decimal
    } else if a == K::Real || b == K::Real {
        K::Real
    } else {
        K::Long
    }
}

pub(crate) fn return_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    let t0 = args.first().map(|a| a.ty);
    Ok(match name {
        "abs" => {
            check(name, args, 1, &[P::Orderable])?;
            match t0 {
                Some(K::Int | K::Long | K::Dynamic) => K::Long,
                Some(K::DateTime) => {
                    return Err(sig::type_error(
                        name,
                        0,
                        "a number or timespan",
                        K::DateTime,
                    ));
                }
                Some(t) => t,
                None => K::Long,
            }
        }
        "round" => {
            check(name, args, 1, &[P::Num, P::Int])?;
            match t0 {
                Some(K::Dynamic) | None => K::Real,
                Some(t) => t,
            }
        }
        "ceiling" => {
            check(name, args, 1, &[P::Num])?;
            match t0 {
                Some(K::Dynamic) | None => K::Real,
                Some(t) => t,
            }
        }
        "sqrt" | "exp" | "exp2" | "exp10" | "log" | "log10" | "log2" | "sin" | "cos" | "tan"
        | "asin" | "acos" | "atan" | "cot" | "degrees" | "radians" | "sign" => {
            check(name, args, 1, &[P::Num])?;
            K::Real
        }
        "pow" | "atan2" => {
            check(name, args, 2, &[P::Num, P::Num])?;
            K::Real
        }
        "pi" => {
            check(name, args, 0, &[])?;
            K::Real
        }
        "isnan" | "isinf" | "isfinite" => {
            check(name, args, 1, &[P::Num])?;
            K::Bool
        }
        "rand" => {
            check(name, args, 0, &[P::Int])?;
            K::Real
        }
        "binary_and" | "binary_or" | "binary_xor" | "binary_shift_left" | "binary_shift_right" => {
            check(name, args, 2, &[P::Int, P::Int])?;
            K::Long
        }
        "binary_not" => {
            check(name, args, 1, &[P::Int])?;
            K::Long
        }
        "tohex" => {
            check(name, args, 1, &[P::Int, P::Int])?;
            if args.first().is_some_and(|a| a.ty == K::Dynamic) {
                return Err(sig::type_error(name, 0, "an integer", K::Dynamic));
            }
            K::String
        }
        "min_of" | "max_of" => {
            check_variadic(name, args, 2, Some(64), P::Scalar)?;
            let types: Vec<KqlType> = args
                .iter()
                .map(|a| a.ty)
                .filter(|t| *t != K::Dynamic)
                .collect();
            match sig::strict_common_type(&types) {
                Some(t) if t != K::Guid && t != K::Dynamic => t,
                None if types.is_empty() => K::Dynamic,
                _ => {
                    return Err(FnError::new(
                        kql_syntax::codes::TYPE_MISMATCH,
                        format!(
                            "function '{name}' needs arguments of one orderable type (numbers, datetimes, timespans, strings or bools)"
                        ),
                    ));
                }
            }
        }
        "bin" | "floor" | "bin_at" => {
            if name == "bin_at" {
                check(name, args, 3, &[P::Orderable, P::Orderable, P::Orderable])?;
            } else {
                check(name, args, 2, &[P::Orderable, P::Orderable])?;
            }
            let size = args.get(1).map(|a| a.ty).unwrap_or(K::Long);
            match t0 {
                Some(K::DateTime) => {
                    if !matches!(size, K::TimeSpan | K::Dynamic) {
                        return Err(sig::type_error(name, 1, "timespan", size));
                    }
                    K::DateTime
                }
                Some(K::TimeSpan) => {
                    if size != K::TimeSpan {
                        return Err(sig::type_error(name, 1, "timespan", size));
                    }
                    K::TimeSpan
                }
                Some(K::Dynamic) => {
                    return Err(sig::type_error(
                        name,
                        0,
                        "a number, datetime or timespan",
                        K::Dynamic,
                    ));
                }
                Some(t) => {
                    if !(size.is_numeric() || size == K::Dynamic) {
                        return Err(sig::type_error(name, 1, "a number", size));
                    }
                    let fixed = args.get(2).map(|a| a.ty).unwrap_or(K::Long);
                    if !fixed.is_numeric() {
                        return Err(sig::type_error(name, 2, "a number", fixed));
                    }
                    num_result(
                        num_result(if t == K::Int { K::Long } else { t }, size),
                        fixed,
                    )
                }
                None => K::Long,
            }
        }
        _ => return Err(FnError::unsupported(format!("function {name}()"))),
    })
}

fn take(args: &mut std::vec::IntoIter<TypedExpr>, name: &str) -> Result<TypedExpr, FnError> {
    args.next()
        .ok_or_else(|| sig::arity_error(name, 1, None, 0))
}

fn f1(name: &'static str, code: u8, a: TypedExpr) -> Expr {
    let k: crate::udf::Kernel = match code {
        0 => f64_unary::<0>,
        1 => f64_unary::<1>,
        2 => f64_unary::<2>,
        3 => f64_unary::<3>,
        4 => f64_unary::<4>,
        5 => f64_unary::<5>,
        6 => f64_unary::<6>,
        7 => f64_unary::<7>,
        8 => f64_unary::<8>,
        9 => f64_unary::<9>,
        10 => f64_unary::<10>,
        11 => f64_unary::<11>,
        12 => f64_unary::<12>,
        13 => f64_unary::<13>,
        14 => f64_unary::<14>,
        15 => f64_unary::<15>,
        16 => f64_unary::<16>,
        17 => f64_unary::<17>,
        _ => f64_unary::<18>,
    };
    call(name, k, vec![(typed_to(a, K::Real), K::Real)], K::Real)
}

pub(crate) fn lower(
    _ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    ret: KqlType,
) -> Result<Expr, FnError> {
    let mut it = args.into_iter();
    Ok(match name {
        "abs" => {
            let a = take(&mut it, name)?;
            match ret {
                K::Long => call(
                    "abs",
                    i64_unary::<0>,
                    vec![(typed_to(a, K::Long), K::Long)],
                    K::Long,
                ),
                K::TimeSpan => {
                    let i = datafusion::logical_expr::cast(
                        a.expr,
                        datafusion::arrow::datatypes::DataType::Int64,
                    );
                    datafusion::logical_expr::cast(
                        call("abs", i64_unary::<0>, vec![(i, K::Long)], K::Long),
                        crate::arrow_type(K::TimeSpan),
                    )
                }
                _ => f1("abs", 9, a),
            }
        }
        "round" => {
            let a = take(&mut it, name)?;
            let d = match it.next() {
                Some(d) => typed_to(d, K::Long),
                None => lit(0i64),
            };
            match ret {
                K::Int | K::Long => {
                    let e = call(
                        "round",
                        round_i64_kernel,
                        vec![(typed_to(a, K::Long), K::Long), (d, K::Long)],
                        K::Long,
                    );
                    crate::convert::to_type(e, K::Long, ret)
                }
                _ => call(
                    "round",
                    round_kernel,
                    vec![(typed_to(a, K::Real), K::Real), (d, K::Long)],
                    K::Real,
                ),
            }
        }
        "ceiling" => {
            let a = take(&mut it, name)?;
            match ret {
                K::Int | K::Long => typed_to(a, ret),
                _ => f1("ceiling", 10, a),
            }
        }
        "sqrt" => f1(name_static(name), 0, take(&mut it, name)?),
        "exp" => f1("exp", 1, take(&mut it, name)?),
        "exp2" => f1("exp2", 2, take(&mut it, name)?),
        "exp10" => f1("exp10", 3, take(&mut it, name)?),
        "log" => f1("log", 4, take(&mut it, name)?),
        "log10" => f1("log10", 5, take(&mut it, name)?),
        "log2" => f1("log2", 6, take(&mut it, name)?),
        "sign" => f1("sign", 7, take(&mut it, name)?),
        "sin" => f1("sin", 8, take(&mut it, name)?),
        "cos" => f1("cos", 11, take(&mut it, name)?),
        "tan" => f1("tan", 12, take(&mut it, name)?),
        "asin" => f1("asin", 13, take(&mut it, name)?),
        "acos" => f1("acos", 14, take(&mut it, name)?),
        "atan" => f1("atan", 15, take(&mut it, name)?),
        "cot" => f1("cot", 16, take(&mut it, name)?),
        "degrees" => f1("degrees", 17, take(&mut it, name)?),
        "radians" => f1("radians", 18, take(&mut it, name)?),
        "pi" => lit(std::f64::consts::PI),
        "pow" | "atan2" => {
            let a = typed_to(take(&mut it, name)?, K::Real);
            let b = typed_to(take(&mut it, name)?, K::Real);
            let k: crate::udf::Kernel = if name == "pow" {
                f64_binary::<0>
            } else {
                f64_binary::<1>
            };
            call(
                name_static(name),
                k,
                vec![(a, K::Real), (b, K::Real)],
                K::Real,
            )
        }
        "isnan" | "isinf" | "isfinite" => {
            let a = typed_to(take(&mut it, name)?, K::Real);
            let k: crate::udf::Kernel = match name {
                "isnan" => f64_pred::<0>,
                "isinf" => f64_pred::<1>,
                _ => f64_pred::<2>,
            };
            call(name_static(name), k, vec![(a, K::Real)], K::Bool)
        }
        "rand" => match it.next() {
            None => call_with("rand", rand_kernel, vec![], K::Real, Volatility::Volatile),
            Some(n) => call_with(
                "rand",
                rand_n_kernel,
                vec![(typed_to(n, K::Long), K::Long)],
                K::Real,
                Volatility::Volatile,
            ),
        },
        "binary_and" | "binary_or" | "binary_xor" | "binary_shift_left" | "binary_shift_right" => {
            let a = typed_to(take(&mut it, name)?, K::Long);
            let b = typed_to(take(&mut it, name)?, K::Long);
            let k: crate::udf::Kernel = match name {
                "binary_and" => i64_binary::<2>,
                "binary_or" => i64_binary::<3>,
                "binary_xor" => i64_binary::<4>,
                "binary_shift_left" => i64_binary::<5>,
                _ => i64_binary::<6>,
            };
            call(
                name_static(name),
                k,
                vec![(a, K::Long), (b, K::Long)],
                K::Long,
            )
        }
        "binary_not" => {
            let a = typed_to(take(&mut it, name)?, K::Long);
            call("binary_not", i64_unary::<1>, vec![(a, K::Long)], K::Long)
        }
        "tohex" => {
            let a = take(&mut it, name)?;
            let is_int = a.ty == K::Int;
            let v = typed_to(a, K::Long);
            let len = match it.next() {
                Some(l) => typed_to(l, K::Long),
                None => lit(0i64),
            };
            let k: crate::udf::Kernel = if is_int {
                tohex_kernel::<true>
            } else {
                tohex_kernel::<false>
            };
            call("tohex", k, vec![(v, K::Long), (len, K::Long)], K::String)
        }
        "min_of" | "max_of" => {
            let exprs: Vec<Expr> = it
                .map(|a| {
                    if ret == K::String {
                        crate::operators::as_str(a)
                    } else {
                        typed_to(a, ret)
                    }
                })
                .collect();
            if name == "min_of" {
                datafusion::functions::core::expr_fn::least(exprs)
            } else {
                datafusion::functions::core::expr_fn::greatest(exprs)
            }
        }
        "bin" | "floor" | "bin_at" => {
            let x = take(&mut it, name)?;
            let size = take(&mut it, name)?;
            let fixed = it.next();
            lower_bin(x, size, fixed, ret)?
        }
        _ => return Err(FnError::unsupported(format!("function {name}()"))),
    })
}

fn name_static(name: &str) -> &'static str {
    NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("math")
}

fn lower_bin(
    x: TypedExpr,
    size: TypedExpr,
    fixed: Option<TypedExpr>,
    ret: KqlType,
) -> Result<Expr, FnError> {
    use datafusion::arrow::datatypes::DataType;
    let i64_of = |e: Expr| datafusion::logical_expr::cast(e, DataType::Int64);
    match ret {
        K::DateTime | K::TimeSpan => {
            let xv = i64_of(typed_to(x, ret));
            let sv = i64_of(typed_to(size, K::TimeSpan));
            let align_0001 = ret == K::DateTime && fixed.is_none();
            let fv = match fixed {
                Some(f) => i64_of(typed_to(f, ret)),
                None => lit(0i64),
            };
            let mode = lit(if align_0001 { 1i64 } else { 0 });
            let e = call(
                "bin",
                bin_ns_kernel,
                vec![(xv, K::Long), (sv, K::Long), (fv, K::Long), (mode, K::Long)],
                K::Long,
            );
            Ok(datafusion::logical_expr::cast(e, crate::arrow_type(ret)))
        }
        K::Long => {
            let xv = typed_to(x, K::Long);
            let sv = typed_to(size, K::Long);
            let fv = match fixed {
                Some(f) => typed_to(f, K::Long),
                None => lit(0i64),
            };
            Ok(call(
                "bin",
                bin_i64_kernel,
                vec![(xv, K::Long), (sv, K::Long), (fv, K::Long)],
                K::Long,
            ))
        }
        _ => {
            let xv = typed_to(x, K::Real);
            let sv = typed_to(size, K::Real);
            let fv = match fixed {
                Some(f) => typed_to(f, K::Real),
                None => lit(0.0f64),
            };
            Ok(call(
                "bin",
                bin_f64_kernel,
                vec![(xv, K::Real), (sv, K::Real), (fv, K::Real)],
                K::Real,
            ))
        }
    }
}

/// `bin(datetime, span)` over Int64 nanoseconds (bins aligned to 0001-01-01).
pub(crate) fn bin_datetime_ns(x: Expr, span: Expr) -> Expr {
    call(
        "bin",
        bin_ns_kernel,
        vec![
            (x, K::Long),
            (span, K::Long),
            (lit(0i64), K::Long),
            (lit(1i64), K::Long),
        ],
        K::Long,
    )
}

// ---- kernels -------------------------------------------------------------------------

fn f64_unary<const OP: u8>(a: &Args) -> Result<ArrayRef> {
    let x = a.f64(0)?;
    Ok(build_f64(a.rows, |i| {
        let v = x.get(i)?;
        Some(match OP {
            0 => v.sqrt(),
            1 => v.exp(),
            2 => v.exp2(),
            3 => 10f64.powf(v),
            4 => {
                if v < 0.0 {
                    return None;
                }
                v.ln()
            }
            5 => {
                if v < 0.0 {
                    return None;
                }
                v.log10()
            }
            6 => {
                if v < 0.0 {
                    return None;
                }
                v.log2()
            }
            7 => {
                if v > 0.0 {
                    1.0
                } else if v < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            8 => v.sin(),
            9 => v.abs(),
            10 => v.ceil(),
            11 => v.cos(),
            12 => v.tan(),
            13 => v.asin(),
            14 => v.acos(),
            15 => v.atan(),
            16 => 1.0 / v.tan(),
            17 => v.to_degrees(),
            _ => v.to_radians(),
        })
    }))
}

fn f64_binary<const OP: u8>(a: &Args) -> Result<ArrayRef> {
    let x = a.f64(0)?;
    let y = a.f64(1)?;
    Ok(build_f64(a.rows, |i| {
        let (p, q) = (x.get(i)?, y.get(i)?);
        Some(match OP {
            0 => p.powf(q),
            _ => p.atan2(q),
        })
    }))
}

fn f64_pred<const OP: u8>(a: &Args) -> Result<ArrayRef> {
    let x = a.f64(0)?;
    Ok(crate::udf::build_bool(a.rows, |i| {
        let v = x.get(i)?;
        Some(match OP {
            0 => v.is_nan(),
            1 => v.is_infinite(),
            _ => v.is_finite(),
        })
    }))
}

fn i64_unary<const OP: u8>(a: &Args) -> Result<ArrayRef> {
    let x = a.i64(0)?;
    // Kusto (.NET `Math.Abs`) fails the query on abs(long.MinValue) rather than wrap.
    if OP == 0 && (0..a.rows).any(|i| x.get(i) == Some(i64::MIN)) {
        return Err(datafusion::error::DataFusionError::Execution(
            "abs(): arithmetic overflow (the absolute value of -9223372036854775808 is not a long)"
                .into(),
        ));
    }
    Ok(build_i64(a.rows, |i| {
        let v = x.get(i)?;
        Some(match OP {
            0 => v.wrapping_abs(),
            _ => !v,
        })
    }))
}

fn i64_binary<const OP: u8>(a: &Args) -> Result<ArrayRef> {
    let x = a.i64(0)?;
    let y = a.i64(1)?;
    Ok(build_i64(a.rows, |i| {
        let (p, q) = (x.get(i)?, y.get(i)?);
        match OP {
            0 => p.checked_div(q),
            1 => p.checked_rem(q),
            2 => Some(p & q),
            3 => Some(p | q),
            4 => Some(p ^ q),
            5 => u32::try_from(q)
                .ok()
                .filter(|s| *s < 64)
                .map(|s| p.wrapping_shl(s)),
            _ => u32::try_from(q)
                .ok()
                .filter(|s| *s < 64)
                .map(|s| p.wrapping_shr(s)),
        }
    }))
}

/// Integer division (null on division by zero or overflow).
pub(crate) fn idiv_kernel(a: &Args) -> Result<ArrayRef> {
    i64_binary::<0>(a)
}

/// Integer modulo (null on division by zero).
pub(crate) fn imod_kernel(a: &Args) -> Result<ArrayRef> {
    i64_binary::<1>(a)
}

/// Rounds half away from zero to an integer (used when scaling timespans by reals).
pub(crate) fn round_half_away_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.f64(0)?;
    Ok(build_f64(a.rows, |i| x.get(i).map(f64::round)))
}

fn round_to(v: f64, digits: i64) -> f64 {
    let d = digits.clamp(-308, 308) as i32;
    if d == 0 {
        return v.round();
    }
    let p = 10f64.powi(d.abs());
    if d > 0 {
        let r = (v * p).round() / p;
        if r.is_finite() { r } else { v }
    } else {
        (v / p).round() * p
    }
}

fn round_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.f64(0)?;
    let d = a.i64(1)?;
    Ok(build_f64(a.rows, |i| {
        Some(round_to(x.get(i)?, d.get(i).unwrap_or(0)))
    }))
}

fn round_i64_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.i64(0)?;
    let d = a.i64(1)?;
    Ok(build_i64(a.rows, |i| {
        let v = x.get(i)?;
        let digits = d.get(i).unwrap_or(0);
        if digits >= 0 {
            return Some(v);
        }
        let p = 10i64.checked_pow(u32::try_from(digits.checked_neg()?).ok()?)?;
        let q = v / p;
        let r = v % p;
        let q = if r.abs() * 2 >= p { q + v.signum() } else { q };
        q.checked_mul(p)
    }))
}

static RAND_STATE: AtomicU64 = AtomicU64::new(0);

fn next_rand() -> f64 {
    let mut s = RAND_STATE.load(Ordering::Relaxed);
    if s == 0 {
        s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
            | 1;
    }
    // splitmix64
    s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    RAND_STATE.store(s, Ordering::Relaxed);
    let mut z = s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn rand_kernel(a: &Args) -> Result<ArrayRef> {
    Ok(build_f64(a.rows.max(1), |_| Some(next_rand())))
}

fn rand_n_kernel(a: &Args) -> Result<ArrayRef> {
    let n = a.i64(0)?;
    Ok(build_f64(a.rows, |i| {
        let m = n.get(i)?;
        if m <= 0 {
            return None;
        }
        Some((next_rand() * m as f64).floor())
    }))
}

fn tohex_kernel<const INT: bool>(a: &Args) -> Result<ArrayRef> {
    let x = a.i64(0)?;
    let l = a.i64(1)?;
    Ok(build_str(a.rows, |i| {
        let v = match x.get(i) {
            Some(v) => v,
            None => return Some("".into()),
        };
        let s = if INT {
            format!("{:x}", v as i32 as u32)
        } else {
            format!("{:x}", v as u64)
        };
        let min = l.get(i).unwrap_or(0).clamp(0, 64) as usize;
        Some(if s.len() < min {
            format!("{}{}", "0".repeat(min - s.len()), s).into()
        } else {
            s.into()
        })
    }))
}

fn floor_div_i64(x: i64, s: i64) -> Option<i64> {
    let q = x.checked_div(s)?;
    let r = x.checked_rem(s)?;
    Some(if r != 0 && ((r < 0) != (s < 0)) {
        q - 1
    } else {
        q
    })
}

fn bin_i64_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.i64(0)?;
    let s = a.i64(1)?;
    let f = a.i64(2)?;
    Ok(build_i64(a.rows, |i| {
        let (v, size, fixed) = (x.get(i)?, s.get(i)?, f.get(i).unwrap_or(0));
        if size <= 0 {
            return None;
        }
        let q = floor_div_i64(v.checked_sub(fixed)?, size)?;
        q.checked_mul(size)?.checked_add(fixed)
    }))
}

fn bin_f64_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.f64(0)?;
    let s = a.f64(1)?;
    let f = a.f64(2)?;
    Ok(build_f64(a.rows, |i| {
        let (v, size, fixed) = (x.get(i)?, s.get(i)?, f.get(i).unwrap_or(0.0));
        if size <= 0.0 || !size.is_finite() {
            return None;
        }
        Some(((v - fixed) / size).floor() * size + fixed)
    }))
}

/// `bin` over nanoseconds. `mode` 1: datetime aligned to 0001-01-01; otherwise aligned
/// to the fixed point (arg 2).
fn bin_ns_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.i64(0)?;
    let s = a.i64(1)?;
    let f = a.i64(2)?;
    let m = a.i64(3)?;
    let origin_0001: i128 = -(i128::from(EPOCH_TICKS) * i128::from(NANOS_PER_TICK));
    Ok(build_i64(a.rows, |i| {
        let (v, size) = (i128::from(x.get(i)?), i128::from(s.get(i)?));
        if size <= 0 {
            return None;
        }
        let fixed: i128 = if m.get(i) == Some(1) {
            origin_0001
        } else {
            i128::from(f.get(i).unwrap_or(0))
        };
        let d = v - fixed;
        let q = d.div_euclid(size);
        i64::try_from(q * size + fixed).ok()
    }))
}

// ---- dynamic arithmetic --------------------------------------------------------------

fn num_of(v: &Value) -> Option<Result<i64, f64>> {
    match v {
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => Ok(i),
            None => Err(n.as_f64()?),
        }),
        Value::Bool(b) => Some(Ok(i64::from(*b))),
        Value::String(s) => crate::format::parse_long(s)
            .map(Ok)
            .or_else(|| crate::format::parse_real(s).map(Err)),
        _ => None,
    }
}

/// `dynamic ∘ dynamic` (OP: 0 + 1 - 2 * 3 / 4 %): integers stay integers.
pub(crate) fn dyn_arith_kernel<const OP: u8>(a: &Args) -> Result<ArrayRef> {
    let l = a.str(0)?;
    let r = a.str(1)?;
    Ok(build_str(a.rows, |i| {
        let x = num_of(&parse(l.opt(i)?)?)?;
        let y = num_of(&parse(r.opt(i)?)?)?;
        let v = match (x, y) {
            (Ok(p), Ok(q)) => Value::from(match OP {
                0 => p.wrapping_add(q),
                1 => p.wrapping_sub(q),
                2 => p.wrapping_mul(q),
                3 => p.checked_div(q)?,
                _ => p.checked_rem(q)?,
            }),
            (p, q) => {
                let f = |z: Result<i64, f64>| match z {
                    Ok(i) => i as f64,
                    Err(f) => f,
                };
                let (p, q) = (f(p), f(q));
                json::real_to_json(match OP {
                    0 => p + q,
                    1 => p - q,
                    2 => p * q,
                    3 => p / q,
                    _ => p % q,
                })
            }
        };
        Some(json::to_text(&v).into())
    }))
}

/// Unary minus on a dynamic number.
pub(crate) fn dyn_negate_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        let v = match num_of(&parse(d.opt(i)?)?)? {
            Ok(n) => Value::from(n.wrapping_neg()),
            Err(f) => json::real_to_json(-f),
        };
        Some(json::to_text(&v).into())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding() {
        assert_eq!(round_to(3.25, 1), 3.3);
        assert_eq!(round_to(-5.5, 1), -5.5);
        assert_eq!(round_to(2.5, 0), 3.0);
        assert_eq!(round_to(1234.0, -2), 1200.0);
        assert_eq!(floor_div_i64(-5, 2), Some(-3));
        assert_eq!(floor_div_i64(5, 2), Some(2));
    }
}
