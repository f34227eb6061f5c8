//! KQL `series_*` functions over dynamic numeric arrays.
//!
//! Every function is one [`SeriesUdf`]: arguments are read per row as JSON values
//! (dynamic text is parsed, numbers and booleans are wrapped), a pure function over
//! `serde_json::Value`s computes the result, and the result is written as compact JSON
//! text (dynamic results) or as a `Float64` (real results). Invalid input gives null.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Builder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use kql_syntax::{KqlType, codes};
use serde_json::{Map, Value};

use crate::{ArgType, Const, FnError, LowerContext, TypedExpr, arrow_type};

/// Element-wise functions of one series.
const UNARY: &[&str] = &[
    "series_abs",
    "series_acos",
    "series_asin",
    "series_atan",
    "series_ceiling",
    "series_cos",
    "series_exp",
    "series_floor",
    "series_log",
    "series_sign",
    "series_sin",
    "series_tan",
];

/// Element-wise functions of two series (or a series and a scalar).
const BINARY: &[&str] = &[
    "series_add",
    "series_subtract",
    "series_multiply",
    "series_divide",
    "series_pow",
    "series_greater",
    "series_greater_equals",
    "series_less",
    "series_less_equals",
    "series_equals",
    "series_not_equals",
];

/// Functions returning `real`.
const REAL: &[&str] = &[
    "series_dot_product",
    "series_cosine_similarity",
    "series_pearson_correlation",
    "series_magnitude",
    "series_product",
    "series_sum",
];

/// Other functions returning `dynamic`: (name, min args, max args).
const OTHER: &[(&str, usize, usize)] = &[
    ("series_fill_forward", 1, 2),
    ("series_fill_backward", 1, 2),
    ("series_fill_const", 1, 3),
    ("series_fill_linear", 1, 4),
    ("series_iir", 3, 3),
    ("series_fir", 2, 4),
    ("series_seasonal", 2, 2),
    ("series_stats_dynamic", 1, 2),
    ("series_fit_line_dynamic", 1, 1),
    ("series_outliers", 1, 5),
    ("series_decompose", 1, 5),
    ("series_decompose_anomalies", 1, 7),
    ("series_stats", 1, 2),
    ("series_fit_line", 1, 1),
];

/// Functions that return several values (`extend (flag, score, baseline) =
/// series_decompose_anomalies(y)`): the binder spreads them into columns. Each returns a
/// bag keyed by the output's suffix; the default column name is
/// `<function>_<argument>_<suffix>`.
pub fn tuple_outputs(name: &str) -> Option<&'static [(&'static str, KqlType)]> {
    use KqlType::{Dynamic, Long, Real};
    Some(match name {
        "series_decompose_anomalies" => &[
            ("ad_flag", Dynamic),
            ("ad_score", Dynamic),
            ("baseline", Dynamic),
        ],
        "series_decompose" => &[
            ("baseline", Dynamic),
            ("seasonal", Dynamic),
            ("trend", Dynamic),
            ("residual", Dynamic),
        ],
        "series_stats" => &[
            ("min", Real),
            ("min_idx", Long),
            ("max", Real),
            ("max_idx", Long),
            ("avg", Real),
            ("stdev", Real),
            ("variance", Real),
        ],
        "series_fit_line" => &[
            ("rsquare", Real),
            ("slope", Real),
            ("variance", Real),
            ("rvariance", Real),
            ("interception", Real),
            ("line_fit", Dynamic),
        ],
        _ => return None,
    })
}

/// Is `name` a series function implemented here?
pub fn is_series(name: &str) -> bool {
    UNARY.contains(&name)
        || BINARY.contains(&name)
        || REAL.contains(&name)
        || OTHER.iter().any(|(n, _, _)| *n == name)
}

fn arity(name: &str) -> Option<(usize, usize)> {
    if UNARY.contains(&name) || name == "series_magnitude" || name == "series_product" {
        return Some((1, 1));
    }
    if name == "series_sum" {
        return Some((1, 1));
    }
    if BINARY.contains(&name)
        || name == "series_dot_product"
        || name == "series_pearson_correlation"
    {
        return Some((2, 2));
    }
    if name == "series_cosine_similarity" {
        return Some((2, 4));
    }
    OTHER
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, lo, hi)| (*lo, *hi))
}

fn is_numeric(ty: KqlType) -> bool {
    matches!(
        ty,
        KqlType::Int | KqlType::Long | KqlType::Real | KqlType::Decimal
    )
}

/// Result type of series function `name` over `args`.
pub fn series_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    let Some((lo, hi)) = arity(name) else {
        return Err(FnError::new(
            codes::UNKNOWN_FUNCTION,
            format!("unknown function '{name}'"),
        ));
    };
    if args.len() < lo || args.len() > hi {
        let want = if lo == hi {
            format!("{lo}")
        } else {
            format!("{lo} to {hi}")
        };
        return Err(FnError::new(
            codes::WRONG_ARG_COUNT,
            format!("{name}() expects {want} arguments, got {}", args.len()),
        ));
    }
    for (i, a) in args.iter().enumerate() {
        let ok = match a.ty {
            KqlType::Dynamic => true,
            KqlType::Bool => i > 0 && !BINARY.contains(&name),
            KqlType::String => {
                i > 0
                    && matches!(
                        name,
                        "series_outliers" | "series_decompose" | "series_decompose_anomalies"
                    )
            }
            t => is_numeric(t) && (i > 0 || BINARY.contains(&name) || REAL.contains(&name)),
        };
        if !ok {
            return Err(FnError::new(
                codes::TYPE_MISMATCH,
                format!("{name}(): argument {} has unexpected type {}", i + 1, a.ty),
            )
            .at(i));
        }
    }
    if name == "series_seasonal"
        && let Some(a) = args.get(1)
        && let Some(c) = &a.constant
    {
        let p = match c {
            Const::Int(v) => *v as f64,
            Const::Long(v) => *v as f64,
            Const::Real(v) => *v,
            _ => 0.0,
        };
        if p < 0.0 {
            return Err(
                FnError::unsupported("series_seasonal() with automatic period detection").at(1),
            );
        }
    }
    if REAL.contains(&name) {
        Ok(KqlType::Real)
    } else {
        Ok(KqlType::Dynamic)
    }
}

/// Lowers a series function call (`ret` from [`series_type`]).
pub fn series_lower(
    _ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    ret: KqlType,
) -> Result<Expr, FnError> {
    if !is_series(name) {
        return Err(FnError::new(
            codes::UNKNOWN_FUNCTION,
            format!("unknown function '{name}'"),
        ));
    }
    let types: Vec<DataType> = args.iter().map(|a| arrow_type(a.ty)).collect();
    let exprs: Vec<Expr> = args.into_iter().map(|a| a.expr).collect();
    let udf = SeriesUdf {
        name: name.to_string(),
        signature: Signature::exact(types, Volatility::Immutable),
        ret: arrow_type(ret),
    };
    Ok(Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(ScalarUDF::new_from_impl(udf)),
        exprs,
    )))
}

/// One series function as a DataFusion scalar UDF.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SeriesUdf {
    name: String,
    signature: Signature,
    ret: DataType,
}

impl ScalarUDFImpl for SeriesUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.ret.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<_>>()?;
        let mut dyn_out = StringBuilder::new();
        let mut real_out = Float64Builder::new();
        let mut row_vals = Vec::with_capacity(arrays.len());
        for row in 0..rows {
            row_vals.clear();
            for arr in &arrays {
                row_vals.push(cell(arr, row)?);
            }
            let v = eval(&self.name, &row_vals);
            match self.ret {
                DataType::Float64 => real_out.append_option(value_f64(&v)),
                _ => match v {
                    Value::Null => dyn_out.append_null(),
                    other => dyn_out.append_value(other.to_string()),
                },
            }
        }
        let out: ArrayRef = match self.ret {
            DataType::Float64 => Arc::new(real_out.finish()),
            DataType::Utf8 => Arc::new(dyn_out.finish()),
            ref other => {
                return Err(DataFusionError::Internal(format!(
                    "{}: unexpected return type {other}",
                    self.name
                )));
            }
        };
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// Reads one cell as a JSON value (dynamic text is parsed; Arrow null is JSON null).
fn cell(arr: &ArrayRef, row: usize) -> Result<Value> {
    if row >= arr.len() || arr.is_null(row) {
        return Ok(Value::Null);
    }
    Ok(match arr.data_type() {
        // dynamic arguments are JSON text; a string argument (`'linefit'`) is not JSON
        DataType::Utf8 => {
            let t = arr.as_string::<i32>().value(row);
            serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_string()))
        }
        DataType::LargeUtf8 => {
            serde_json::from_str(arr.as_string::<i64>().value(row)).unwrap_or(Value::Null)
        }
        DataType::Utf8View => {
            serde_json::from_str(arr.as_string_view().value(row)).unwrap_or(Value::Null)
        }
        DataType::Int64 => Value::from(arr.as_primitive::<Int64Type>().value(row)),
        DataType::Int32 => Value::from(arr.as_primitive::<Int32Type>().value(row)),
        DataType::Float64 => real(arr.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => Value::Bool(arr.as_boolean().value(row)),
        DataType::Null => Value::Null,
        other => {
            return Err(DataFusionError::Internal(format!(
                "series function: unexpected argument type {other}"
            )));
        }
    })
}

/// A real as a JSON value (non-finite values as the strings `NaN`, `Infinity`, `-Infinity`).
fn real(v: f64) -> Value {
    match serde_json::Number::from_f64(v) {
        Some(n) => Value::Number(n),
        None => Value::String(
            if v.is_nan() {
                "NaN"
            } else if v > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            }
            .to_string(),
        ),
    }
}

/// A JSON value as a number (numbers and the non-finite strings).
fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

fn value_f64(v: &Value) -> Option<f64> {
    num(v)
}

/// An integral JSON number.
fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) if !n.is_f64() => n.as_i64(),
        _ => None,
    }
}

static NULL: Value = Value::Null;

fn arg(args: &[Value], k: usize) -> &Value {
    args.get(k).unwrap_or(&NULL)
}

fn bool_arg(args: &[Value], k: usize, default: bool) -> bool {
    match arg(args, k) {
        Value::Bool(b) => *b,
        Value::Null => default,
        v => num(v).map(|x| x != 0.0).unwrap_or(default),
    }
}

/// Evaluates series function `name` on one row's argument values.
pub(crate) fn eval(name: &str, args: &[Value]) -> Value {
    let a0 = arg(args, 0);
    match name {
        n if UNARY.contains(&n) => unary(n, a0),
        n if BINARY.contains(&n) => binary(n, a0, arg(args, 1)),
        "series_fill_forward" => fill_forward(a0, arg(args, 1)),
        "series_fill_backward" => fill_backward(a0, arg(args, 1)),
        "series_fill_const" => {
            let c = if args.len() > 1 {
                arg(args, 1).clone()
            } else {
                Value::from(0)
            };
            fill_const(a0, &c, arg(args, 2))
        }
        "series_fill_linear" => {
            let c = if args.len() > 3 {
                arg(args, 3).clone()
            } else {
                Value::from(0)
            };
            fill_linear(a0, arg(args, 1), bool_arg(args, 2, true), &c)
        }
        "series_iir" => iir(a0, arg(args, 1), arg(args, 2)),
        "series_fir" => fir(
            a0,
            arg(args, 1),
            bool_arg(args, 2, true),
            bool_arg(args, 3, false),
        ),
        "series_seasonal" => match num(arg(args, 1)) {
            Some(p) => seasonal(a0, p),
            None => Value::Null,
        },
        "series_stats_dynamic" | "series_stats" => stats_dynamic(a0, bool_arg(args, 1, false)),
        "series_fit_line" => fit_line_dynamic(a0),
        "series_outliers" => match nums_or_null(a0) {
            Some(v) => Value::Array(
                outliers(
                    &v,
                    str_arg(args, 1, "ctukey"),
                    num(arg(args, 3)).unwrap_or(10.0),
                    num(arg(args, 4)).unwrap_or(90.0),
                )
                .into_iter()
                .map(real)
                .collect(),
            ),
            None => Value::Null,
        },
        "series_decompose" => match nums_or_null(a0) {
            Some(v) => {
                let d = decompose(
                    &v,
                    int(arg(args, 1)).unwrap_or(-1),
                    str_arg(args, 2, "avg"),
                    int(arg(args, 3)).unwrap_or(0),
                    num(arg(args, 4)).unwrap_or(0.6),
                );
                let mut m = Map::new();
                m.insert("baseline".into(), reals(&d.baseline));
                m.insert("seasonal".into(), reals(&d.seasonal));
                m.insert("trend".into(), reals(&d.trend));
                m.insert("residual".into(), reals(&d.residual));
                Value::Object(m)
            }
            None => Value::Null,
        },
        "series_decompose_anomalies" => match nums_or_null(a0) {
            Some(v) => decompose_anomalies(&v, args),
            None => Value::Null,
        },
        "series_fit_line_dynamic" => fit_line_dynamic(a0),
        "series_dot_product" => opt_real(dot_product(a0, arg(args, 1))),
        "series_cosine_similarity" => opt_real(cosine_similarity(
            a0,
            arg(args, 1),
            arg(args, 2),
            arg(args, 3),
        )),
        "series_pearson_correlation" => opt_real(pearson(a0, arg(args, 1))),
        "series_magnitude" => opt_real(
            a0.as_array()
                .map(|a| a.iter().filter_map(num).map(|x| x * x).sum::<f64>().sqrt()),
        ),
        "series_sum" => opt_real(a0.as_array().map(|a| a.iter().filter_map(num).sum::<f64>())),
        "series_product" => opt_real(
            a0.as_array()
                .map(|a| a.iter().filter_map(num).product::<f64>()),
        ),
        _ => Value::Null,
    }
}

fn opt_real(v: Option<f64>) -> Value {
    v.map(real).unwrap_or(Value::Null)
}

fn unary(name: &str, s: &Value) -> Value {
    let Some(arr) = s.as_array() else {
        return Value::Null;
    };
    let f: fn(f64) -> f64 = match name {
        "series_abs" => f64::abs,
        "series_acos" => f64::acos,
        "series_asin" => f64::asin,
        "series_atan" => f64::atan,
        "series_ceiling" => f64::ceil,
        "series_cos" => f64::cos,
        "series_exp" => f64::exp,
        "series_floor" => f64::floor,
        "series_log" => f64::ln,
        "series_sign" => |x: f64| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x
            }
        },
        "series_sin" => f64::sin,
        "series_tan" => f64::tan,
        _ => return Value::Null,
    };
    Value::Array(
        arr.iter()
            .map(|v| num(v).map(|x| real(f(x))).unwrap_or(Value::Null))
            .collect(),
    )
}

/// Element `i` of a series argument; a scalar argument is the same on every position.
fn elem(v: &Value, i: usize) -> &Value {
    match v {
        Value::Array(a) => a.get(i).unwrap_or(&NULL),
        other => other,
    }
}

fn binary(name: &str, a: &Value, b: &Value) -> Value {
    let len = match (a, b) {
        (Value::Array(x), Value::Array(y)) => x.len().max(y.len()),
        (Value::Array(x), _) => x.len(),
        (_, Value::Array(y)) => y.len(),
        _ => return Value::Null,
    };
    if a.is_null() || b.is_null() {
        return Value::Null;
    }
    Value::Array(
        (0..len)
            .map(|i| binary_elem(name, elem(a, i), elem(b, i)))
            .collect(),
    )
}

fn binary_elem(name: &str, x: &Value, y: &Value) -> Value {
    let (Some(p), Some(q)) = (num(x), num(y)) else {
        return Value::Null;
    };
    let ints = int(x).zip(int(y));
    match name {
        "series_add" => match ints {
            Some((i, j)) => i.checked_add(j).map(Value::from).unwrap_or(Value::Null),
            None => real(p + q),
        },
        "series_subtract" => match ints {
            Some((i, j)) => i.checked_sub(j).map(Value::from).unwrap_or(Value::Null),
            None => real(p - q),
        },
        "series_multiply" => match ints {
            Some((i, j)) => i.checked_mul(j).map(Value::from).unwrap_or(Value::Null),
            None => real(p * q),
        },
        "series_divide" => real(p / q),
        "series_pow" => real(p.powf(q)),
        "series_greater" => Value::Bool(p > q),
        "series_greater_equals" => Value::Bool(p >= q),
        "series_less" => Value::Bool(p < q),
        "series_less_equals" => Value::Bool(p <= q),
        "series_equals" => Value::Bool(p == q),
        "series_not_equals" => Value::Bool(p != q),
        _ => Value::Null,
    }
}

/// Is `v` a missing value (null, or equal to the placeholder)?
fn is_missing(v: &Value, placeholder: &Value) -> bool {
    if v.is_null() {
        return true;
    }
    if placeholder.is_null() {
        return false;
    }
    match (num(v), num(placeholder)) {
        (Some(x), Some(y)) => x == y,
        _ => v == placeholder,
    }
}

fn fill_forward(s: &Value, placeholder: &Value) -> Value {
    let Some(arr) = s.as_array() else {
        return Value::Null;
    };
    let mut last: Option<&Value> = None;
    let mut out = Vec::with_capacity(arr.len());
    for v in arr {
        if is_missing(v, placeholder) {
            out.push(last.cloned().unwrap_or_else(|| v.clone()));
        } else {
            last = Some(v);
            out.push(v.clone());
        }
    }
    Value::Array(out)
}

fn fill_backward(s: &Value, placeholder: &Value) -> Value {
    let Some(arr) = s.as_array() else {
        return Value::Null;
    };
    let mut next: Option<&Value> = None;
    let mut out = Vec::with_capacity(arr.len());
    for v in arr.iter().rev() {
        if is_missing(v, placeholder) {
            out.push(next.cloned().unwrap_or_else(|| v.clone()));
        } else {
            next = Some(v);
            out.push(v.clone());
        }
    }
    out.reverse();
    Value::Array(out)
}

fn fill_const(s: &Value, constant: &Value, placeholder: &Value) -> Value {
    let Some(arr) = s.as_array() else {
        return Value::Null;
    };
    Value::Array(
        arr.iter()
            .map(|v| {
                if is_missing(v, placeholder) {
                    constant.clone()
                } else {
                    v.clone()
                }
            })
            .collect(),
    )
}

fn fill_linear(s: &Value, placeholder: &Value, fill_edges: bool, constant: &Value) -> Value {
    let Some(arr) = s.as_array() else {
        return Value::Null;
    };
    // Known points: (index, value).
    let known: Vec<(usize, f64)> = arr
        .iter()
        .enumerate()
        .filter(|(_, v)| !is_missing(v, placeholder))
        .filter_map(|(i, v)| num(v).map(|x| (i, x)))
        .collect();
    let (Some(&(first_i, first_v)), Some(&(last_i, last_v))) = (known.first(), known.last()) else {
        let c = num(constant).map(real).unwrap_or(Value::Null);
        return Value::Array(vec![c; arr.len()]);
    };
    let all_int = arr
        .iter()
        .filter(|v| !is_missing(v, placeholder))
        .all(|v| int(v).is_some());
    let out_num = |x: f64| {
        if all_int {
            Value::from(x.trunc() as i64)
        } else {
            real(x)
        }
    };
    let mut out = Vec::with_capacity(arr.len());
    let mut k = 0usize; // index into `known` of the next known point at or after i
    for (i, v) in arr.iter().enumerate() {
        while known.get(k).is_some_and(|(j, _)| *j < i) {
            k += 1;
        }
        if let Some(&(j, x)) = known.get(k)
            && j == i
        {
            out.push(out_num(x));
            continue;
        }
        if i < first_i {
            out.push(if fill_edges {
                out_num(first_v)
            } else {
                v.clone()
            });
        } else if i > last_i {
            out.push(if fill_edges {
                out_num(last_v)
            } else {
                v.clone()
            });
        } else {
            match (k.checked_sub(1).and_then(|p| known.get(p)), known.get(k)) {
                (Some(&(i0, x0)), Some(&(i1, x1))) if i1 > i0 => {
                    let t = (i - i0) as f64 / (i1 - i0) as f64;
                    out.push(out_num(x0 + (x1 - x0) * t));
                }
                _ => out.push(v.clone()),
            }
        }
    }
    Value::Array(out)
}

fn nums(v: &Value) -> Option<Vec<f64>> {
    v.as_array()
        .map(|a| a.iter().map(|x| num(x).unwrap_or(0.0)).collect())
}

fn iir(s: &Value, numerators: &Value, denominators: &Value) -> Value {
    let (Some(x), Some(b), Some(a)) = (nums(s), nums(numerators), nums(denominators)) else {
        return Value::Null;
    };
    let a0 = match a.first() {
        Some(v) if *v != 0.0 => *v,
        _ => return Value::Null,
    };
    let mut y: Vec<f64> = Vec::with_capacity(x.len());
    for n in 0..x.len() {
        let mut acc = 0.0;
        for (i, bi) in b.iter().enumerate() {
            if let Some(xv) = n.checked_sub(i).and_then(|j| x.get(j)) {
                acc += bi * xv;
            }
        }
        for (j, aj) in a.iter().enumerate().skip(1) {
            if let Some(yv) = n.checked_sub(j).and_then(|k| y.get(k)) {
                acc -= aj * yv;
            }
        }
        y.push(acc / a0);
    }
    Value::Array(y.into_iter().map(real).collect())
}

fn fir(s: &Value, filter: &Value, normalize: bool, center: bool) -> Value {
    let (Some(x), Some(mut f)) = (nums(s), nums(filter)) else {
        return Value::Null;
    };
    if f.is_empty() {
        return Value::Null;
    }
    if normalize {
        let sum: f64 = f.iter().sum();
        if sum == 0.0 || f.iter().any(|c| *c < 0.0) {
            return Value::Null;
        }
        for c in &mut f {
            *c /= sum;
        }
    }
    let shift = if center { (f.len() - 1) / 2 } else { 0 };
    let y = (0..x.len()).map(|n| {
        let mut acc = 0.0;
        for (i, c) in f.iter().enumerate() {
            if let Some(xv) = (n + shift).checked_sub(i).and_then(|j| x.get(j)) {
                acc += c * xv;
            }
        }
        real(acc)
    });
    Value::Array(y.collect())
}

fn median(v: &mut [f64]) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        v.get(n / 2).copied()
    } else {
        Some((v.get(n / 2 - 1)? + v.get(n / 2)?) / 2.0)
    }
}

fn seasonal(s: &Value, period: f64) -> Value {
    let Some(arr) = s.as_array() else {
        return Value::Null;
    };
    if !period.is_finite() || period < 0.0 {
        return Value::Null;
    }
    let p = period.trunc() as usize;
    if p == 0 {
        return Value::Array(vec![real(0.0); arr.len()]);
    }
    let mut phases: Vec<Vec<f64>> = vec![Vec::new(); p];
    for (i, v) in arr.iter().enumerate() {
        if let (Some(x), Some(bucket)) = (num(v), phases.get_mut(i % p))
            && x.is_finite()
        {
            bucket.push(x);
        }
    }
    let meds: Vec<Option<f64>> = phases
        .iter_mut()
        .map(|b| median(b.as_mut_slice()))
        .collect();
    Value::Array(
        (0..arr.len())
            .map(|i| opt_real(meds.get(i % p).copied().flatten()))
            .collect(),
    )
}

fn str_arg<'a>(args: &'a [Value], k: usize, default: &'a str) -> &'a str {
    match arg(args, k) {
        Value::String(s) if !s.is_empty() => s.as_str(),
        _ => default,
    }
}

/// The elements of a numeric series (a missing or non-numeric element reads as NaN);
/// `None` when the value is not an array.
fn nums_or_null(v: &Value) -> Option<Vec<f64>> {
    v.as_array()
        .map(|a| a.iter().map(|x| num(x).unwrap_or(f64::NAN)).collect())
}

fn reals(v: &[f64]) -> Value {
    Value::Array(v.iter().map(|x| real(*x)).collect())
}

/// Linear-interpolated percentile `p` (0..100) of the finite values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (p / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let (a, b) = (sorted.get(lo)?, sorted.get(hi)?);
    Some(a + (b - a) * (rank - lo as f64))
}

/// Tukey fence scores (`series_outliers`): a value above the high percentile scores
/// `(x - Qhigh) / (Qhigh - Qlow)`, below the low one `(x - Qlow) / (Qhigh - Qlow)`
/// (negative), 0 in between. `tukey` uses the 25th/75th percentiles, `ctukey` the given
/// ones (10th/90th by default). Missing values score 0.
fn outliers(v: &[f64], kind: &str, min_pct: f64, max_pct: f64) -> Vec<f64> {
    let (lo_p, hi_p) = if kind.eq_ignore_ascii_case("tukey") {
        (25.0, 75.0)
    } else {
        (min_pct.clamp(2.0, 98.0), max_pct.clamp(2.0, 98.0))
    };
    let mut sorted: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let (Some(ql), Some(qh)) = (percentile(&sorted, lo_p), percentile(&sorted, hi_p)) else {
        return vec![0.0; v.len()];
    };
    let iqr = qh - ql;
    v.iter()
        .map(|&x| {
            if !x.is_finite() {
                0.0
            } else if x > qh {
                if iqr > 0.0 {
                    (x - qh) / iqr
                } else {
                    f64::INFINITY
                }
            } else if x < ql {
                if iqr > 0.0 {
                    (x - ql) / iqr
                } else {
                    f64::NEG_INFINITY
                }
            } else {
                0.0
            }
        })
        .map(|s: f64| s.clamp(-f64::MAX, f64::MAX))
        .collect()
}

/// The strongest period of `v` by autocorrelation (at least 4 bins, at most half the
/// series), when its score reaches `threshold`.
fn detect_period(v: &[f64], threshold: f64) -> usize {
    let n = v.len();
    if n < 8 {
        return 0;
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    let c: Vec<f64> = v.iter().map(|x| x - mean).collect();
    let denom: f64 = c.iter().map(|x| x * x).sum();
    if denom <= 0.0 {
        return 0;
    }
    let mut best = (0usize, threshold);
    for p in 4..=n / 2 {
        let num: f64 = c.iter().zip(c.iter().skip(p)).map(|(a, b)| a * b).sum();
        // unbiased for the shorter overlap
        let score = num / denom * n as f64 / (n - p) as f64;
        if score >= best.1 {
            best = (p, score);
        }
    }
    best.0
}

struct Decomposition {
    baseline: Vec<f64>,
    seasonal: Vec<f64>,
    trend: Vec<f64>,
    residual: Vec<f64>,
}

/// `series_decompose`: seasonal component (the per-phase median), then the trend of
/// the de-seasonalised series (`avg`, `linefit` or `none`), baseline = seasonal + trend,
/// residual = series - baseline. The last `test_points` points are excluded from learning.
/// Missing values (NaN) are left out of the fits and keep a NaN residual.
fn decompose(
    v: &[f64],
    seasonality: i64,
    trend: &str,
    test_points: i64,
    threshold: f64,
) -> Decomposition {
    let n = v.len();
    let learn = n.saturating_sub(usize::try_from(test_points.max(0)).unwrap_or(0));
    let train = v.get(..learn).unwrap_or(v);
    let finite_train: Vec<f64> = train.iter().copied().filter(|x| x.is_finite()).collect();
    let period = match seasonality {
        p if p < 0 => detect_period(&finite_train, threshold),
        p => usize::try_from(p).unwrap_or(0),
    };
    let mut seasonal = vec![0.0; n];
    if period > 1 && period < n {
        let mut phases: Vec<Vec<f64>> = vec![Vec::new(); period];
        for (i, x) in train.iter().enumerate() {
            if x.is_finite()
                && let Some(b) = phases.get_mut(i % period)
            {
                b.push(*x);
            }
        }
        let meds: Vec<f64> = phases
            .iter_mut()
            .map(|b| median(b.as_mut_slice()).unwrap_or(0.0))
            .collect();
        for (i, s) in seasonal.iter_mut().enumerate() {
            *s = meds.get(i % period).copied().unwrap_or(0.0);
        }
    }
    let deseason: Vec<(f64, f64)> = train
        .iter()
        .zip(&seasonal)
        .enumerate()
        .filter(|(_, (x, _))| x.is_finite())
        .map(|(i, (x, s))| (i as f64, x - s))
        .collect();
    let trend_v: Vec<f64> = match trend {
        "none" => vec![0.0; n],
        "linefit" if deseason.len() > 1 => {
            let (slope, icpt) = least_squares(&deseason);
            (0..n).map(|i| slope * i as f64 + icpt).collect()
        }
        _ => {
            let avg = if deseason.is_empty() {
                0.0
            } else {
                deseason.iter().map(|p| p.1).sum::<f64>() / deseason.len() as f64
            };
            vec![avg; n]
        }
    };
    let baseline: Vec<f64> = seasonal.iter().zip(&trend_v).map(|(s, t)| s + t).collect();
    let residual: Vec<f64> = v.iter().zip(&baseline).map(|(x, b)| x - b).collect();
    Decomposition {
        baseline,
        seasonal,
        trend: trend_v,
        residual,
    }
}

/// `series_decompose_anomalies(y, threshold, seasonality, trend, test_points, ad_method,
/// seasonality_threshold)`: decompose, score the residuals with Tukey's fences
/// (`series_outliers`), and flag scores beyond ±threshold as +1/-1.
fn decompose_anomalies(v: &[f64], args: &[Value]) -> Value {
    let threshold = num(arg(args, 1)).unwrap_or(1.5);
    let d = decompose(
        v,
        int(arg(args, 2)).unwrap_or(-1),
        str_arg(args, 3, "avg"),
        int(arg(args, 4)).unwrap_or(0),
        num(arg(args, 6)).unwrap_or(0.6),
    );
    let scores = outliers(&d.residual, str_arg(args, 5, "ctukey"), 10.0, 90.0);
    let flags: Vec<Value> = scores
        .iter()
        .map(|s| {
            Value::from(if *s > threshold {
                1
            } else if *s < -threshold {
                -1
            } else {
                0
            })
        })
        .collect();
    let mut m = Map::new();
    m.insert("ad_flag".into(), Value::Array(flags));
    m.insert("ad_score".into(), reals(&scores));
    m.insert("baseline".into(), reals(&d.baseline));
    Value::Object(m)
}

fn stats_dynamic(s: &Value, ignore_nonfinite: bool) -> Value {
    let Some(arr) = s.as_array() else {
        return Value::Null;
    };
    let mut vals: Vec<(usize, f64)> = Vec::with_capacity(arr.len());
    let mut nonfinite = false;
    for (i, v) in arr.iter().enumerate() {
        match num(v) {
            Some(x) if x.is_finite() => vals.push((i, x)),
            _ => nonfinite = true,
        }
    }
    let mut m = Map::new();
    let keys = [
        "min", "min_idx", "max", "max_idx", "avg", "stdev", "variance", "sum",
    ];
    if (nonfinite && !ignore_nonfinite) || vals.is_empty() {
        for k in keys {
            m.insert(k.to_string(), Value::Null);
        }
        m.insert("len".to_string(), Value::from(vals.len() as i64));
        return Value::Object(m);
    }
    let n = vals.len() as f64;
    let mut min = (0usize, f64::INFINITY);
    let mut max = (0usize, f64::NEG_INFINITY);
    let mut sum = 0.0;
    for &(i, x) in &vals {
        if x < min.1 {
            min = (i, x);
        }
        if x > max.1 {
            max = (i, x);
        }
        sum += x;
    }
    let avg = sum / n;
    let variance = if vals.len() > 1 {
        vals.iter().map(|(_, x)| (x - avg) * (x - avg)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    m.insert("min".to_string(), real(min.1));
    m.insert("min_idx".to_string(), Value::from(min.0 as i64));
    m.insert("max".to_string(), real(max.1));
    m.insert("max_idx".to_string(), Value::from(max.0 as i64));
    m.insert("avg".to_string(), real(avg));
    m.insert("stdev".to_string(), real(variance.sqrt()));
    m.insert("variance".to_string(), real(variance));
    m.insert("sum".to_string(), real(sum));
    m.insert("len".to_string(), Value::from(vals.len() as i64));
    Value::Object(m)
}

/// The least-squares line through `pts` (non-empty): (slope, intercept); a vertical spread of
/// one x gives slope 0.
fn least_squares(pts: &[(f64, f64)]) -> (f64, f64) {
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pts.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = pts.iter().map(|(x, _)| (x - mx) * (x - mx)).sum();
    let slope = if sxx == 0.0 { 0.0 } else { sxy / sxx };
    (slope, my - slope * mx)
}

fn fit_line_dynamic(s: &Value) -> Value {
    let Some(arr) = s.as_array() else {
        return Value::Null;
    };
    // x = 1..n over the numeric elements.
    let pts: Vec<(f64, f64)> = arr
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            num(v)
                .filter(|x| x.is_finite())
                .map(|y| ((i + 1) as f64, y))
        })
        .collect();
    if pts.is_empty() {
        return Value::Null;
    }
    let n = pts.len() as f64;
    let (slope, icpt) = least_squares(&pts);
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let ss: f64 = pts.iter().map(|(_, y)| (y - my) * (y - my)).sum();
    let rs: f64 = pts
        .iter()
        .map(|(x, y)| {
            let e = y - (slope * x + icpt);
            e * e
        })
        .sum();
    let denom = if pts.len() > 1 { n - 1.0 } else { 1.0 };
    let rsquare = if ss == 0.0 { 1.0 } else { 1.0 - rs / ss };
    let mut m = Map::new();
    m.insert("rsquare".to_string(), real(rsquare));
    m.insert("slope".to_string(), real(slope));
    m.insert("variance".to_string(), real(ss / denom));
    m.insert("rvariance".to_string(), real(rs / denom));
    m.insert("interception".to_string(), real(icpt));
    m.insert(
        "line_fit".to_string(),
        Value::Array(
            (1..=arr.len())
                .map(|i| real(slope * i as f64 + icpt))
                .collect(),
        ),
    );
    Value::Object(m)
}

/// Numeric pairs of two series (a scalar pairs with every element of the other).
fn pairs(a: &Value, b: &Value) -> Option<Vec<(f64, f64)>> {
    let len = match (a, b) {
        (Value::Array(x), Value::Array(y)) => x.len().min(y.len()),
        (Value::Array(x), _) => x.len(),
        (_, Value::Array(y)) => y.len(),
        _ => return None,
    };
    if a.is_null() || b.is_null() {
        return None;
    }
    Some(
        (0..len)
            .filter_map(|i| num(elem(a, i)).zip(num(elem(b, i))))
            .collect(),
    )
}

fn dot_product(a: &Value, b: &Value) -> Option<f64> {
    pairs(a, b).map(|p| p.iter().map(|(x, y)| x * y).sum())
}

fn cosine_similarity(a: &Value, b: &Value, m1: &Value, m2: &Value) -> Option<f64> {
    let dot = dot_product(a, b)?;
    let n1 = match num(m1) {
        Some(m) => m,
        None => dot_product(a, a)?.sqrt(),
    };
    let n2 = match num(m2) {
        Some(m) => m,
        None => dot_product(b, b)?.sqrt(),
    };
    Some(dot / (n1 * n2))
}

fn pearson(a: &Value, b: &Value) -> Option<f64> {
    let p = pairs(a, b)?;
    if p.is_empty() {
        return None;
    }
    let n = p.len() as f64;
    let mx = p.iter().map(|q| q.0).sum::<f64>() / n;
    let my = p.iter().map(|q| q.1).sum::<f64>() / n;
    let sxy: f64 = p.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = p.iter().map(|(x, _)| (x - mx) * (x - mx)).sum();
    let syy: f64 = p.iter().map(|(_, y)| (y - my) * (y - my)).sum();
    Some(sxy / (sxx.sqrt() * syy.sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    fn ev(name: &str, args: &[&str]) -> String {
        let vals: Vec<Value> = args.iter().map(|a| j(a)).collect();
        eval(name, &vals).to_string()
    }

    #[test]
    fn fills() {
        assert_eq!(
            ev(
                "series_fill_forward",
                &["[null,null,36,41,null,null,16,61,33,null,null]"]
            ),
            "[null,null,36,41,41,41,16,61,33,33,33]"
        );
        assert_eq!(
            ev(
                "series_fill_backward",
                &["[111,null,36,41,null,null,16,61,33,null,null]"]
            ),
            "[111,36,36,41,16,16,16,61,33,null,null]"
        );
        assert_eq!(ev("series_fill_const", &["[10,null,30]", "5"]), "[10,5,30]");
        let ints = "[null,111,null,36,41,null,null,16,61,33,null,null]";
        assert_eq!(
            ev("series_fill_linear", &[ints]),
            "[111,111,73,36,41,32,24,16,61,33,33,33]"
        );
        assert_eq!(
            ev("series_fill_linear", &[ints, "null", "false"]),
            "[null,111,73,36,41,32,24,16,61,33,null,null]"
        );
        assert_eq!(
            ev(
                "series_fill_linear",
                &["[null,111.0,null,36.0,41.0,null,null,16.0,61.0,33.0,null,null]"]
            ),
            "[111.0,111.0,73.5,36.0,41.0,32.66666666666667,24.333333333333336,16.0,61.0,33.0,33.0,33.0]"
        );
        assert_eq!(
            ev("series_fill_linear", &["[null,null,null,null]"]),
            "[0.0,0.0,0.0,0.0]"
        );
        assert_eq!(
            ev(
                "series_fill_linear",
                &["[null,null,null,null]", "null", "true", "3.14159"]
            ),
            "[3.14159,3.14159,3.14159,3.14159]"
        );
        assert_eq!(ev("series_fill_linear", &["[10,0,0,40]"]), "[10,0,0,40]");
    }

    #[test]
    fn elementwise() {
        assert_eq!(ev("series_add", &["[1,2,4]", "[4,2,1]"]), "[5,4,5]");
        assert_eq!(ev("series_subtract", &["[1,2,4]", "[4,2,1]"]), "[-3,0,3]");
        assert_eq!(
            ev("series_divide", &["[1,2,4]", "[4,2,1]"]),
            "[0.25,1.0,4.0]"
        );
        assert_eq!(
            ev("series_pow", &["[1,2,3,4]", "[1,2,3,0.5]"]),
            "[1.0,4.0,27.0,2.0]"
        );
        assert_eq!(
            ev("series_greater", &["[1,2,4]", "[4,2,1]"]),
            "[false,false,true]"
        );
        assert_eq!(
            ev("series_greater", &["[60,0,0]", "15"]),
            "[true,false,false]"
        );
        assert_eq!(ev("series_ceiling", &["[-1.5,1,2.5]"]), "[-1.0,1.0,3.0]");
        assert_eq!(
            ev("series_log", &["[1,2,3]"]),
            "[0.0,0.6931471805599453,1.0986122886681098]"
        );
    }

    #[test]
    fn reductions_and_filters() {
        assert_eq!(ev("series_dot_product", &["[1,2,4]", "[4,2,1]"]), "12.0");
        assert_eq!(ev("series_dot_product", &["[1,2,4]", "1"]), "7.0");
        let c = eval(
            "series_cosine_similarity",
            &[j("[0.1,0.2,0.1,0.2]"), j("[1,2,3,4]")],
        );
        assert!((num(&c).unwrap() - 0.9237604307034012).abs() < 1e-12);
        let p = eval(
            "series_pearson_correlation",
            &[j("[1,2,3,4,5]"), j("[2,4,6,8,10]")],
        );
        assert!((num(&p).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(ev("series_product", &["[1,2,3,4]"]), "24.0");
        assert_eq!(
            ev("series_iir", &["[1,2,3,4]", "[1]", "[1,-1]"]),
            "[1.0,3.0,6.0,10.0]"
        );
        assert_eq!(
            ev("series_fir", &["[5,15,10,20]", "[1,-1]", "false", "false"]),
            "[5.0,10.0,-5.0,10.0]"
        );
        assert_eq!(
            ev("series_seasonal", &["[1,3,5,2,4,6,1,3,5,2,4,6]", "3"]),
            "[1.5,3.5,5.5,1.5,3.5,5.5,1.5,3.5,5.5,1.5,3.5,5.5]"
        );
        let st = eval(
            "series_stats_dynamic",
            &[j("[23,46,23,87,4,8,3,75,2,56,13,75,32,16,29]")],
        );
        assert_eq!(st["min"], j("2.0"));
        assert_eq!(st["min_idx"], j("8"));
        assert_eq!(st["max_idx"], j("3"));
        assert_eq!(st["len"], j("15"));
        assert!((num(&st["variance"]).unwrap() - 812.4571428571429).abs() < 1e-9);
        let fl = eval(
            "series_fit_line_dynamic",
            &[j("[2,5,6,8,11,15,17,18,25,26,30,30]")],
        );
        assert!((num(&fl["slope"]).unwrap() - 2.7307692307692313).abs() < 1e-9);
        assert!((num(&fl["interception"]).unwrap() + 1.6666666666666714).abs() < 1e-9);
        assert!((num(&fl["variance"]).unwrap() - 98.62878787878786).abs() < 1e-9);
    }

    #[test]
    fn more_corpus_cases() {
        let close = |name: &str, args: &[&str], want: &[f64]| {
            let vals: Vec<Value> = args.iter().map(|a| j(a)).collect();
            let got = eval(name, &vals);
            let got: Vec<f64> = got
                .as_array()
                .unwrap()
                .iter()
                .map(|v| num(v).unwrap())
                .collect();
            assert_eq!(got.len(), want.len(), "{name}");
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-12, "{name}: {g} vs {w}");
            }
        };
        close(
            "series_asin",
            &["[-1,0,1]"],
            &[
                -std::f64::consts::FRAC_PI_2,
                0.0,
                std::f64::consts::FRAC_PI_2,
            ],
        );
        close(
            "series_cos",
            &["[-1,0,1]"],
            &[0.5403023058681398, 1.0, 0.5403023058681398],
        );
        close(
            "series_exp",
            &["[1,2,3]"],
            &[std::f64::consts::E, 7.38905609893065, 20.085536923187668],
        );
        close(
            "series_tan",
            &["[-1,0,1]"],
            &[-1.5574077246549023, 0.0, 1.5574077246549023],
        );
        close(
            "series_iir",
            &["[5,0,50]", "[1]", "[1,-1]"],
            &[5.0, 5.0, 55.0],
        );
        close(
            "series_seasonal",
            &["[1,3,5,1,3,5,2,4,6]", "3"],
            &[1.0, 3.0, 5.0, 1.0, 3.0, 5.0, 1.0, 3.0, 5.0],
        );
        assert_eq!(ev("series_multiply", &["[10,20]", "[10,20]"]), "[100,400]");
        assert_eq!(
            ev(
                "series_subtract",
                &["[10,20]", &ev("series_fill_const", &["[10,20]", "5"])]
            ),
            "[0,0]"
        );
        let m = eval("series_magnitude", &[j("[1,2,3,4]")]);
        assert!((num(&m).unwrap() - 5.477225575051661).abs() < 1e-12);
        let p = eval("series_pearson_correlation", &[j("[0,0,5]"), j("[0,0,5]")]);
        assert!((num(&p).unwrap() - 1.0).abs() < 1e-9);
        let c = eval(
            "series_cosine_similarity",
            &[j("[0.1,0.2,0.1,0.2]"), j("[0.11,0.2,0.11,0.21]")],
        );
        assert!((num(&c).unwrap() - 0.9993534382550399).abs() < 1e-12);
        let st = eval("series_stats_dynamic", &[j("[10,20]")]);
        assert_eq!(
            st,
            j(
                r#"{"min":10.0,"min_idx":0,"max":20.0,"max_idx":1,"avg":15.0,"stdev":7.0710678118654755,"variance":50.0,"sum":30.0,"len":2}"#
            )
        );
        let fl = eval("series_fit_line_dynamic", &[j("[1.0,2.0,3.0,4.0,5.0]")]);
        assert!((num(&fl["rsquare"]).unwrap() - 1.0).abs() < 1e-9);
        assert!((num(&fl["slope"]).unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(
            ev("series_fill_forward", &["[10,null,null,40,null,60]"]),
            "[10,10,10,40,40,60]"
        );
        assert_eq!(ev("series_add", &["[1,null]", "[1,2,3]"]), "[2,null,null]");
        assert_eq!(ev("series_add", &["null", "[1]"]), "null");
    }

    #[test]
    fn typing() {
        let d = ArgType {
            ty: KqlType::Dynamic,
            constant: None,
        };
        let l = ArgType {
            ty: KqlType::Long,
            constant: None,
        };
        assert_eq!(
            series_type("series_add", &[d.clone(), d.clone()]),
            Ok(KqlType::Dynamic)
        );
        assert_eq!(
            series_type("series_dot_product", &[d.clone(), l.clone()]),
            Ok(KqlType::Real)
        );
        assert!(series_type("series_fill_forward", &[l]).is_err());
        assert!(series_type("series_iir", &[d]).is_err());
        assert!(is_series("series_stats"));
        assert!(tuple_outputs("series_decompose_anomalies").is_some());
    }

    #[tokio::test]
    async fn datafusion_eval() {
        use datafusion::logical_expr::{LogicalPlanBuilder, lit};
        use datafusion::prelude::SessionContext;

        let ctx = LowerContext { now_nanos: 0 };
        let arg = |s: &str| TypedExpr {
            expr: lit(s),
            ty: KqlType::Dynamic,
            constant: None,
        };
        let e = series_lower(
            &ctx,
            "series_fill_forward",
            vec![arg("[null,1,null,3,null]")],
            KqlType::Dynamic,
        )
        .unwrap();
        let r = series_lower(
            &ctx,
            "series_dot_product",
            vec![
                arg("[1,2,4]"),
                TypedExpr {
                    expr: lit(2i64),
                    ty: KqlType::Long,
                    constant: None,
                },
            ],
            KqlType::Real,
        )
        .unwrap();
        let plan = LogicalPlanBuilder::empty(true)
            .project(vec![e.alias("f"), r.alias("d")])
            .unwrap()
            .build()
            .unwrap();
        let sc = SessionContext::new();
        let batches = sc
            .execute_logical_plan(plan)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let b = batches.first().unwrap();
        let f = b.column(0).as_string::<i32>().value(0).to_string();
        assert_eq!(f, "[null,1,1,3,3]");
        let d = b.column(1).as_primitive::<Float64Type>().value(0);
        assert_eq!(d, 14.0);
    }
}
