//! Crate tests: lower expressions and evaluate them with DataFusion over small batches.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DurationNanosecondArray, Float64Array, Int32Array,
    Int64Array, RecordBatch, StringArray, TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{
    DataType, DurationNanosecondType, Field, Float64Type, Int32Type, Int64Type, Schema,
    TimestampNanosecondType,
};
use datafusion::logical_expr::{Expr, col};
use datafusion::prelude::SessionContext;
use kql_syntax::KqlType;

use crate::format::{format_datetime_iso, format_timespan, parse_datetime, parse_timespan};
use crate::{Const, LowerContext, TypedExpr, arrow_type, literal};

mod aggregates;
mod conversions;
mod datetime;
mod dynamic;
mod functions;
mod operators;
mod strings;

pub(crate) use kql_syntax::KqlType as K;

/// 2024-01-15T12:00:00Z — the fixed "now" of the tests.
pub(crate) const NOW: i64 = 1_705_320_000_000_000_000;

pub(crate) fn ctx() -> LowerContext {
    LowerContext { now_nanos: NOW }
}

/// A literal typed expression.
pub(crate) fn l(c: Const, ty: KqlType) -> TypedExpr {
    TypedExpr {
        expr: literal(&c, ty).unwrap(),
        ty,
        constant: Some(c),
    }
}

pub(crate) fn s(v: &str) -> TypedExpr {
    l(Const::String(v.to_string()), K::String)
}

pub(crate) fn i64l(v: i64) -> TypedExpr {
    l(Const::Long(v), K::Long)
}

pub(crate) fn i32l(v: i32) -> TypedExpr {
    l(Const::Int(v), K::Int)
}

pub(crate) fn f64l(v: f64) -> TypedExpr {
    l(Const::Real(v), K::Real)
}

pub(crate) fn b(v: bool) -> TypedExpr {
    l(Const::Bool(v), K::Bool)
}

pub(crate) fn dt(v: &str) -> TypedExpr {
    l(Const::DateTime(parse_datetime(v).unwrap()), K::DateTime)
}

pub(crate) fn ts(v: &str) -> TypedExpr {
    l(Const::TimeSpan(parse_timespan(v).unwrap()), K::TimeSpan)
}

pub(crate) fn dynl(json: &str) -> TypedExpr {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    l(Const::Dynamic(v), K::Dynamic)
}

/// A `typeof(T)` argument.
pub(crate) fn typeof_(t: KqlType) -> TypedExpr {
    TypedExpr {
        expr: datafusion::logical_expr::lit(datafusion::common::ScalarValue::Null),
        ty: t,
        constant: Some(Const::Type(t)),
    }
}

pub(crate) fn null(ty: KqlType) -> TypedExpr {
    TypedExpr {
        expr: literal(&Const::Null, ty).unwrap(),
        ty,
        constant: Some(Const::Null),
    }
}

/// A column reference.
pub(crate) fn c(name: &str, ty: KqlType) -> TypedExpr {
    TypedExpr {
        expr: col(name),
        ty,
        constant: None,
    }
}

/// The `ArgType` view of a typed expression.
pub(crate) fn at(e: &TypedExpr) -> crate::ArgType {
    crate::ArgType {
        ty: e.ty,
        constant: e.constant.clone(),
    }
}

/// Renders one cell: null → `null`, strings raw, datetimes/timespans in KQL form.
pub(crate) fn render(a: &ArrayRef, i: usize) -> String {
    if a.is_null(i) {
        return "null".to_string();
    }
    match a.data_type() {
        DataType::Boolean => a.as_boolean().value(i).to_string(),
        DataType::Int32 => a.as_primitive::<Int32Type>().value(i).to_string(),
        DataType::Int64 => a.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Float64 => crate::format::format_real(a.as_primitive::<Float64Type>().value(i)),
        DataType::Utf8 => a.as_string::<i32>().value(i).to_string(),
        DataType::Timestamp(_, _) => {
            format_datetime_iso(a.as_primitive::<TimestampNanosecondType>().value(i))
        }
        DataType::Duration(_) => {
            format_timespan(a.as_primitive::<DurationNanosecondType>().value(i))
        }
        other => format!("<{other}>"),
    }
}

fn run(batch: RecordBatch, exprs: Vec<Expr>) -> Vec<ArrayRef> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async move {
        let ctx = SessionContext::new();
        let df = ctx.read_batch(batch).unwrap();
        let df = df
            .select(
                exprs
                    .into_iter()
                    .enumerate()
                    .map(|(i, e)| e.alias(format!("c{i}")))
                    .collect::<Vec<_>>(),
            )
            .unwrap();
        let batches = df.collect().await.unwrap();
        let ncols = batches.first().map(|b| b.num_columns()).unwrap_or(0);
        (0..ncols)
            .map(|k| {
                let parts: Vec<ArrayRef> =
                    batches.iter().map(|b| Arc::clone(b.column(k))).collect();
                let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
                datafusion::arrow::compute::concat(&refs).unwrap()
            })
            .collect()
    })
}

fn one_row() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "dummy",
        DataType::Int64,
        true,
    )]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1]))]).unwrap()
}

/// Evaluates a constant expression; also checks its Arrow type is `arrow_type(ty)`.
pub(crate) fn eval(e: Expr, ty: KqlType) -> String {
    let out = run(one_row(), vec![e]);
    let a = &out[0];
    assert_eq!(a.data_type(), &arrow_type(ty), "result Arrow type");
    render(a, 0)
}

/// Evaluates an expression over a batch, one rendered string per row.
pub(crate) fn eval_rows(batch: &RecordBatch, e: Expr, ty: KqlType) -> Vec<String> {
    let out = run(batch.clone(), vec![e]);
    let a = &out[0];
    assert_eq!(a.data_type(), &arrow_type(ty), "result Arrow type");
    (0..a.len()).map(|i| render(a, i)).collect()
}

/// Types and lowers a scalar call on literal/typed args, evaluating it.
pub(crate) fn call(name: &str, args: Vec<TypedExpr>) -> String {
    let types: Vec<crate::ArgType> = args.iter().map(at).collect();
    let ret = crate::scalar_type(name, &types).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let e =
        crate::lower_scalar(&ctx(), name, args, ret).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    eval(e, ret)
}

/// Like [`call`], returning the KQL type too.
pub(crate) fn call_t(name: &str, args: Vec<TypedExpr>) -> (KqlType, String) {
    let types: Vec<crate::ArgType> = args.iter().map(at).collect();
    let ret = crate::scalar_type(name, &types).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let e =
        crate::lower_scalar(&ctx(), name, args, ret).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    (ret, eval(e, ret))
}

/// Evaluates a scalar call over a batch.
pub(crate) fn call_rows(batch: &RecordBatch, name: &str, args: Vec<TypedExpr>) -> Vec<String> {
    let types: Vec<crate::ArgType> = args.iter().map(at).collect();
    let ret = crate::scalar_type(name, &types).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let e =
        crate::lower_scalar(&ctx(), name, args, ret).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    eval_rows(batch, e, ret)
}

/// A batch builder: `batch(vec![("s", strs(..)), ("n", longs(..))])`.
pub(crate) fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        cols.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap()
}

pub(crate) fn strs(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

pub(crate) fn longs(v: &[Option<i64>]) -> ArrayRef {
    Arc::new(Int64Array::from(v.to_vec()))
}

pub(crate) fn ints(v: &[Option<i32>]) -> ArrayRef {
    Arc::new(Int32Array::from(v.to_vec()))
}

pub(crate) fn reals(v: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(v.to_vec()))
}

pub(crate) fn bools(v: &[Option<bool>]) -> ArrayRef {
    Arc::new(BooleanArray::from(v.to_vec()))
}

pub(crate) fn times(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from(
        v.iter()
            .map(|x| x.and_then(parse_datetime))
            .collect::<Vec<_>>(),
    ))
}

pub(crate) fn spans(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(DurationNanosecondArray::from(
        v.iter()
            .map(|x| x.and_then(parse_timespan))
            .collect::<Vec<_>>(),
    ))
}

mod reference;
