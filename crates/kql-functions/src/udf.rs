//! The one generic scalar UDF used by every KQL function implemented as a kernel.
//!
//! A *kernel* is a plain `fn(&Args) -> Result<ArrayRef>`: it reads its arguments through
//! typed readers (a constant argument reads the same value on every row) and builds one
//! output array. [`call`] wraps a kernel in a [`KqlUdf`] with an exact signature and
//! returns the DataFusion call expression; callers convert arguments to the declared
//! KQL types first (see [`crate::convert::to_type`]).
//!
//! When every argument is a constant the kernel runs on one row and the result is a
//! scalar, so constant folding and literal-only calls cost nothing per row.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DurationNanosecondArray, Float64Array, Int32Array,
    Int64Array, StringArray, StringBuilder, TimestampNanosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, DurationNanosecondType, Float64Type, Int32Type, Int64Type, TimestampNanosecondType,
};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use kql_syntax::KqlType;

use crate::arrow_type;

/// A vectorised KQL function body.
pub(crate) type Kernel = fn(&Args) -> Result<ArrayRef>;

/// A scalar UDF running a [`Kernel`] with a fixed signature and return type.
#[derive(Debug)]
pub(crate) struct KqlUdf {
    name: &'static str,
    signature: Signature,
    ret: DataType,
    kernel: Kernel,
}

impl PartialEq for KqlUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.signature == other.signature
            && self.ret == other.ret
            && std::ptr::fn_addr_eq(self.kernel, other.kernel)
    }
}

impl Eq for KqlUdf {}

impl Hash for KqlUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.ret.hash(state);
    }
}

impl ScalarUDFImpl for KqlUdf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.ret.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = !args.args.is_empty()
            && args
                .args
                .iter()
                .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let declared: Vec<DataType> = match &self.signature.type_signature {
            datafusion::logical_expr::TypeSignature::Exact(types) => types.clone(),
            _ => args.args.iter().map(ColumnarValue::data_type).collect(),
        };
        let mut cols = Vec::with_capacity(args.args.len());
        let mut scalar = Vec::with_capacity(args.args.len());
        for (i, a) in args.args.iter().enumerate() {
            let (arr, is_scalar) = match a {
                ColumnarValue::Scalar(s) => (s.to_array_of_size(1)?, true),
                ColumnarValue::Array(arr) => (Arc::clone(arr), false),
            };
            let arr = match declared.get(i) {
                Some(dt) if dt != arr.data_type() => cast(&arr, dt)?,
                _ => arr,
            };
            cols.push(arr);
            scalar.push(is_scalar);
        }
        let out = (self.kernel)(&Args { rows, cols, scalar })?;
        let out = if out.data_type() != &self.ret {
            cast(&out, &self.ret)?
        } else {
            out
        };
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// Builds a call to `kernel` over `args` (already of the given KQL types), returning `ret`.
pub(crate) fn call(
    name: &'static str,
    kernel: Kernel,
    args: Vec<(Expr, KqlType)>,
    ret: KqlType,
) -> Expr {
    call_with(name, kernel, args, ret, Volatility::Immutable)
}

/// Like [`call`] with an explicit volatility (`rand()`, `new_guid()`).
pub(crate) fn call_with(
    name: &'static str,
    kernel: Kernel,
    args: Vec<(Expr, KqlType)>,
    ret: KqlType,
    volatility: Volatility,
) -> Expr {
    let types: Vec<DataType> = args.iter().map(|(_, t)| arrow_type(*t)).collect();
    let exprs: Vec<Expr> = args.into_iter().map(|(e, _)| e).collect();
    let signature = if types.is_empty() {
        Signature::nullary(volatility)
    } else {
        Signature::exact(types, volatility)
    };
    let udf = KqlUdf {
        name,
        signature,
        ret: arrow_type(ret),
        kernel,
    };
    Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(ScalarUDF::new_from_impl(udf)),
        exprs,
    ))
}

/// The arguments of one kernel invocation.
pub(crate) struct Args {
    pub rows: usize,
    cols: Vec<ArrayRef>,
    scalar: Vec<bool>,
}

fn type_err(k: usize, want: &str, got: &DataType) -> DataFusionError {
    DataFusionError::Internal(format!(
        "KQL kernel argument {k}: expected {want}, got {got}"
    ))
}

impl Args {
    pub fn len(&self) -> usize {
        self.cols.len()
    }

    fn col(&self, k: usize) -> Result<(&ArrayRef, bool)> {
        match (self.cols.get(k), self.scalar.get(k)) {
            (Some(c), Some(s)) => Ok((c, *s)),
            _ => Err(DataFusionError::Internal(format!(
                "KQL kernel argument {k} missing"
            ))),
        }
    }

    /// Is argument `k` the same value on every row?
    pub fn is_const(&self, k: usize) -> bool {
        self.scalar.get(k).copied().unwrap_or(false) || self.rows <= 1
    }

    pub fn str(&self, k: usize) -> Result<StrArg<'_>> {
        let (c, scalar) = self.col(k)?;
        let arr = c
            .as_string_opt::<i32>()
            .ok_or_else(|| type_err(k, "Utf8", c.data_type()))?;
        Ok(StrArg { arr, scalar })
    }

    pub fn bool(&self, k: usize) -> Result<Prim<'_, BooleanArray>> {
        let (c, scalar) = self.col(k)?;
        let arr = c
            .as_boolean_opt()
            .ok_or_else(|| type_err(k, "Boolean", c.data_type()))?;
        Ok(Prim { arr, scalar })
    }

    pub fn i64(&self, k: usize) -> Result<Prim<'_, Int64Array>> {
        let (c, scalar) = self.col(k)?;
        let arr = c
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| type_err(k, "Int64", c.data_type()))?;
        Ok(Prim { arr, scalar })
    }

    pub fn f64(&self, k: usize) -> Result<Prim<'_, Float64Array>> {
        let (c, scalar) = self.col(k)?;
        let arr = c
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(|| type_err(k, "Float64", c.data_type()))?;
        Ok(Prim { arr, scalar })
    }

    pub fn ts(&self, k: usize) -> Result<Prim<'_, TimestampNanosecondArray>> {
        let (c, scalar) = self.col(k)?;
        let arr = c
            .as_primitive_opt::<TimestampNanosecondType>()
            .ok_or_else(|| type_err(k, "Timestamp(ns)", c.data_type()))?;
        Ok(Prim { arr, scalar })
    }

    pub fn dur(&self, k: usize) -> Result<Prim<'_, DurationNanosecondArray>> {
        let (c, scalar) = self.col(k)?;
        let arr = c
            .as_primitive_opt::<DurationNanosecondType>()
            .ok_or_else(|| type_err(k, "Duration(ns)", c.data_type()))?;
        Ok(Prim { arr, scalar })
    }

    /// Argument `k` as a generic value reader (any of the KQL Arrow types).
    pub fn any(&self, k: usize) -> Result<AnyArg<'_>> {
        let (c, scalar) = self.col(k)?;
        Ok(AnyArg { arr: c, scalar })
    }
}

/// A string argument. Null reads as `""` through [`StrArg::get`].
pub(crate) struct StrArg<'a> {
    arr: &'a StringArray,
    scalar: bool,
}

impl<'a> StrArg<'a> {
    fn idx(&self, i: usize) -> usize {
        if self.scalar { 0 } else { i }
    }

    /// The value, `None` when null (or out of range).
    pub fn opt(&self, i: usize) -> Option<&'a str> {
        let i = self.idx(i);
        if i >= self.arr.len() || self.arr.is_null(i) {
            None
        } else {
            Some(self.arr.value(i))
        }
    }

    /// The whole array when the argument is a column (not a broadcast scalar).
    pub fn column(&self) -> Option<&'a StringArray> {
        if self.scalar { None } else { Some(self.arr) }
    }

    /// The value, with null read as `""` (KQL strings are never null).
    pub fn get(&self, i: usize) -> &'a str {
        self.opt(i).unwrap_or("")
    }
}

/// Reader over a primitive or boolean array.
pub(crate) struct Prim<'a, A> {
    arr: &'a A,
    scalar: bool,
}

macro_rules! prim_get {
    ($arr:ty, $native:ty) => {
        impl<'a> Prim<'a, $arr> {
            pub fn get(&self, i: usize) -> Option<$native> {
                let i = if self.scalar { 0 } else { i };
                if i >= self.arr.len() || self.arr.is_null(i) {
                    None
                } else {
                    Some(self.arr.value(i))
                }
            }
        }
    };
}
prim_get!(BooleanArray, bool);
prim_get!(Int64Array, i64);
prim_get!(Float64Array, f64);
prim_get!(TimestampNanosecondArray, i64);
prim_get!(DurationNanosecondArray, i64);

/// A generic argument reader: reads any supported Arrow type as a [`crate::Const`]-like value.
pub(crate) struct AnyArg<'a> {
    arr: &'a ArrayRef,
    scalar: bool,
}

impl<'a> AnyArg<'a> {
    /// Reads row `i` as a loosely typed value. `Utf8` reads as [`AnyVal::Str`] (the caller
    /// knows whether it is a string, guid or dynamic).
    pub fn get(&self, i: usize) -> AnyVal<'a> {
        let i = if self.scalar { 0 } else { i };
        if i >= self.arr.len() || self.arr.is_null(i) {
            return AnyVal::Null;
        }
        let a: &'a ArrayRef = self.arr;
        match a.data_type() {
            DataType::Boolean => a
                .as_boolean_opt()
                .map_or(AnyVal::Null, |x| AnyVal::Bool(x.value(i))),
            DataType::Int32 => a
                .as_primitive_opt::<Int32Type>()
                .map_or(AnyVal::Null, |x| AnyVal::Int(x.value(i))),
            DataType::Int64 => a
                .as_primitive_opt::<Int64Type>()
                .map_or(AnyVal::Null, |x| AnyVal::Long(x.value(i))),
            DataType::Float64 => a
                .as_primitive_opt::<Float64Type>()
                .map_or(AnyVal::Null, |x| AnyVal::Real(x.value(i))),
            DataType::Utf8 => a
                .as_string_opt::<i32>()
                .map_or(AnyVal::Null, |x| AnyVal::Str(x.value(i))),
            DataType::Timestamp(_, _) => a
                .as_primitive_opt::<TimestampNanosecondType>()
                .map_or(AnyVal::Null, |x| AnyVal::DateTime(x.value(i))),
            DataType::Duration(_) => a
                .as_primitive_opt::<DurationNanosecondType>()
                .map_or(AnyVal::Null, |x| AnyVal::TimeSpan(x.value(i))),
            _ => AnyVal::Null,
        }
    }
}

/// One value read by [`AnyArg`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum AnyVal<'a> {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Real(f64),
    Str(&'a str),
    DateTime(i64),
    TimeSpan(i64),
}

// ---- output builders -------------------------------------------------------------

/// Builds a `Utf8` array; `f` returns `None` for null.
pub(crate) fn build_str<'s, F>(rows: usize, mut f: F) -> ArrayRef
where
    F: FnMut(usize) -> Option<Cow<'s, str>>,
{
    let mut b = StringBuilder::with_capacity(rows, rows * 8);
    for i in 0..rows {
        match f(i) {
            Some(s) => b.append_value(s),
            None => b.append_null(),
        }
    }
    Arc::new(b.finish())
}

/// Builds a `Utf8` array through a reused buffer: `f` writes the value and returns
/// `false` for null.
pub(crate) fn build_str_buf<F>(rows: usize, mut f: F) -> ArrayRef
where
    F: FnMut(usize, &mut String) -> bool,
{
    let mut b = StringBuilder::with_capacity(rows, rows * 8);
    let mut buf = String::new();
    for i in 0..rows {
        buf.clear();
        if f(i, &mut buf) {
            b.append_value(&buf);
        } else {
            b.append_null();
        }
    }
    Arc::new(b.finish())
}

pub(crate) fn build_bool(rows: usize, f: impl FnMut(usize) -> Option<bool>) -> ArrayRef {
    Arc::new((0..rows).map(f).collect::<BooleanArray>())
}

/// A boolean array without nulls, packed 64 values at a time.
pub(crate) fn build_bool_nn(rows: usize, f: impl FnMut(usize) -> bool) -> ArrayRef {
    Arc::new(BooleanArray::new(
        datafusion::arrow::buffer::BooleanBuffer::collect_bool(rows, f),
        None,
    ))
}

pub(crate) fn build_i32(rows: usize, f: impl FnMut(usize) -> Option<i32>) -> ArrayRef {
    Arc::new((0..rows).map(f).collect::<Int32Array>())
}

pub(crate) fn build_i64(rows: usize, f: impl FnMut(usize) -> Option<i64>) -> ArrayRef {
    Arc::new((0..rows).map(f).collect::<Int64Array>())
}

pub(crate) fn build_f64(rows: usize, f: impl FnMut(usize) -> Option<f64>) -> ArrayRef {
    Arc::new((0..rows).map(f).collect::<Float64Array>())
}

pub(crate) fn build_ts(rows: usize, f: impl FnMut(usize) -> Option<i64>) -> ArrayRef {
    Arc::new((0..rows).map(f).collect::<TimestampNanosecondArray>())
}

pub(crate) fn build_dur(rows: usize, f: impl FnMut(usize) -> Option<i64>) -> ArrayRef {
    Arc::new((0..rows).map(f).collect::<DurationNanosecondArray>())
}

/// Builds an array of KQL type `ty` from per-row [`crate::Const`] values (generic path for
/// polymorphic kernels). Values are converted with the KQL conversion rules.
pub(crate) fn build_const(
    rows: usize,
    ty: KqlType,
    mut f: impl FnMut(usize) -> crate::Const,
) -> ArrayRef {
    use crate::convert::const_as;
    match ty {
        KqlType::Bool => build_bool(rows, |i| match const_as(&f(i), ty) {
            crate::Const::Bool(b) => Some(b),
            _ => None,
        }),
        KqlType::Int => build_i32(rows, |i| match const_as(&f(i), ty) {
            crate::Const::Int(v) => Some(v),
            _ => None,
        }),
        KqlType::Long => build_i64(rows, |i| match const_as(&f(i), ty) {
            crate::Const::Long(v) => Some(v),
            _ => None,
        }),
        KqlType::Real | KqlType::Decimal => build_f64(rows, |i| match const_as(&f(i), ty) {
            crate::Const::Real(v) => Some(v),
            _ => None,
        }),
        KqlType::DateTime => build_ts(rows, |i| match const_as(&f(i), ty) {
            crate::Const::DateTime(v) => Some(v),
            _ => None,
        }),
        KqlType::TimeSpan => build_dur(rows, |i| match const_as(&f(i), ty) {
            crate::Const::TimeSpan(v) => Some(v),
            _ => None,
        }),
        KqlType::String | KqlType::Guid | KqlType::Dynamic => build_str(rows, |i| {
            crate::convert::const_to_text(&const_as(&f(i), ty), ty).map(Cow::Owned)
        }),
    }
}
