//! Our own aggregate UDAFs (where Kusto's semantics differ from DataFusion's built-ins).

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, DurationNanosecondType, Field, FieldRef, Float64Type, Int32Type, Int64Type,
    TimestampNanosecondType,
};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};
use kql_syntax::KqlType;
use serde_json::{Map, Value};

use crate::arrow_type;
use crate::format::{format_datetime_iso, format_timespan};
use crate::json::{self, set_key, to_text};

use KqlType as K;

fn err(msg: &str) -> DataFusionError {
    DataFusionError::Internal(format!("KQL aggregate: {msg}"))
}

fn read_i64(a: &ArrayRef, i: usize) -> Option<i64> {
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::Int64 => a.as_primitive_opt::<Int64Type>().map(|x| x.value(i)),
        DataType::Int32 => a
            .as_primitive_opt::<Int32Type>()
            .map(|x| i64::from(x.value(i))),
        DataType::Duration(_) => a
            .as_primitive_opt::<DurationNanosecondType>()
            .map(|x| x.value(i)),
        DataType::Timestamp(_, _) => a
            .as_primitive_opt::<TimestampNanosecondType>()
            .map(|x| x.value(i)),
        DataType::Float64 => a
            .as_primitive_opt::<Float64Type>()
            .and_then(|x| crate::format::real_to_long(x.value(i))),
        _ => None,
    }
}

fn read_f64(a: &ArrayRef, i: usize) -> Option<f64> {
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::Float64 => a.as_primitive_opt::<Float64Type>().map(|x| x.value(i)),
        _ => read_i64(a, i).map(|v| v as f64),
    }
}

fn first(values: &[ArrayRef]) -> Result<&ArrayRef> {
    values.first().ok_or_else(|| err("missing input"))
}

// ---- numeric: sum, avg, stdev, variance ----------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum NumKind {
    Sum,
    Avg,
    Stdev,
    StdevP,
    Variance,
    VarianceP,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct NumUdaf {
    kind: NumKind,
    input: KqlType,
    ret: KqlType,
    signature: Signature,
}

impl NumUdaf {
    pub(crate) fn new(kind: NumKind, input: KqlType, ret: KqlType) -> Self {
        NumUdaf {
            kind,
            input,
            ret,
            signature: Signature::exact(vec![arrow_type(input)], Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for NumUdaf {
    fn name(&self) -> &str {
        match self.kind {
            NumKind::Sum => "sum",
            NumKind::Avg => "avg",
            NumKind::Stdev => "stdev",
            NumKind::StdevP => "stdevp",
            NumKind::Variance => "variance",
            NumKind::VarianceP => "variancep",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(arrow_type(self.ret))
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(NumAcc {
            kind: self.kind,
            input: self.input,
            ret: self.ret,
            count: 0,
            isum: 0,
            fsum: 0.0,
            mean: 0.0,
            m2: 0.0,
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format_state_name(args.name, "count"),
                DataType::Int64,
                true,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "isum"),
                DataType::Int64,
                true,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "fsum"),
                DataType::Float64,
                true,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "mean"),
                DataType::Float64,
                true,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "m2"),
                DataType::Float64,
                true,
            )),
        ])
    }
}

#[derive(Debug)]
struct NumAcc {
    kind: NumKind,
    input: KqlType,
    ret: KqlType,
    count: i64,
    isum: i64,
    fsum: f64,
    mean: f64,
    m2: f64,
}

impl NumAcc {
    fn add(&mut self, i: Option<i64>, f: f64) {
        self.count += 1;
        if let Some(i) = i {
            self.isum = self.isum.wrapping_add(i);
        }
        self.fsum += f;
        let delta = f - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (f - self.mean);
    }
}

impl Accumulator for NumAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let a = first(values)?;
        let integer = matches!(self.input, K::Long | K::Int | K::TimeSpan);
        for i in 0..a.len() {
            if integer {
                if let Some(v) = read_i64(a, i) {
                    self.add(Some(v), v as f64);
                }
            } else if let Some(v) = read_f64(a, i) {
                self.add(None, v);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let n = self.count;
        Ok(match self.kind {
            NumKind::Sum => match self.ret {
                K::Long | K::Int => ScalarValue::Int64(Some(self.isum)),
                K::TimeSpan => ScalarValue::DurationNanosecond(Some(self.isum)),
                _ => ScalarValue::Float64(Some(self.fsum)),
            },
            NumKind::Avg => match self.ret {
                K::TimeSpan => {
                    ScalarValue::DurationNanosecond(if n == 0 { None } else { Some(self.isum / n) })
                }
                _ => ScalarValue::Float64(Some(if n == 0 {
                    f64::NAN
                } else {
                    self.fsum / n as f64
                })),
            },
            NumKind::Variance | NumKind::Stdev => {
                let v = if n < 2 {
                    0.0
                } else {
                    (self.m2 / (n - 1) as f64).max(0.0)
                };
                ScalarValue::Float64(Some(if self.kind == NumKind::Stdev {
                    v.sqrt()
                } else {
                    v
                }))
            }
            NumKind::VarianceP | NumKind::StdevP => {
                let v = if n < 1 {
                    0.0
                } else {
                    (self.m2 / n as f64).max(0.0)
                };
                ScalarValue::Float64(Some(if self.kind == NumKind::StdevP {
                    v.sqrt()
                } else {
                    v
                }))
            }
        })
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::Int64(Some(self.count)),
            ScalarValue::Int64(Some(self.isum)),
            ScalarValue::Float64(Some(self.fsum)),
            ScalarValue::Float64(Some(self.mean)),
            ScalarValue::Float64(Some(self.m2)),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [c, is, fs, mean, m2] = states else {
            return Err(err("bad numeric state"));
        };
        for i in 0..c.len() {
            let nb = read_i64(c, i).unwrap_or(0);
            if nb == 0 {
                continue;
            }
            let (isb, fsb, meanb, m2b) = (
                read_i64(is, i).unwrap_or(0),
                read_f64(fs, i).unwrap_or(0.0),
                read_f64(mean, i).unwrap_or(0.0),
                read_f64(m2, i).unwrap_or(0.0),
            );
            let na = self.count;
            let n = na + nb;
            let delta = meanb - self.mean;
            self.mean += delta * nb as f64 / n as f64;
            self.m2 += m2b + delta * delta * (na as f64) * (nb as f64) / n as f64;
            self.count = n;
            self.isum = self.isum.wrapping_add(isb);
            self.fsum += fsb;
        }
        Ok(())
    }
}

// ---- make_set / make_list / make_bag -------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CollectKind {
    Set,
    List,
    ListWithNulls,
    Bag,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct CollectUdaf {
    kind: CollectKind,
    max: usize,
    input: KqlType,
    signature: Signature,
}

impl CollectUdaf {
    pub(crate) fn new(kind: CollectKind, max: usize, input: KqlType) -> Self {
        CollectUdaf {
            kind,
            max,
            input,
            signature: Signature::exact(vec![arrow_type(input)], Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for CollectUdaf {
    fn name(&self) -> &str {
        match self.kind {
            CollectKind::Set => "make_set",
            CollectKind::List => "make_list",
            CollectKind::ListWithNulls => "make_list_with_nulls",
            CollectKind::Bag => "make_bag",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(CollectAcc {
            kind: self.kind,
            max: self.max,
            input: self.input,
            items: Vec::new(),
            seen: HashSet::new(),
            bag: Map::new(),
            bytes: 0,
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "items"),
            DataType::Utf8,
            true,
        ))])
    }
}

#[derive(Debug)]
struct CollectAcc {
    kind: CollectKind,
    max: usize,
    input: KqlType,
    items: Vec<Value>,
    seen: HashSet<String>,
    bag: Map<String, Value>,
    bytes: usize,
}

/// Reads row `i` of an input array as the JSON value a dynamic holding it would have.
fn cell_json(a: &ArrayRef, i: usize, ty: KqlType) -> Value {
    if a.is_null(i) {
        return Value::Null;
    }
    match ty {
        K::Bool => a
            .as_boolean_opt()
            .map_or(Value::Null, |x| Value::Bool(x.value(i))),
        K::Int | K::Long => read_i64(a, i).map_or(Value::Null, Value::from),
        K::Real | K::Decimal => read_f64(a, i).map_or(Value::Null, json::real_to_json),
        K::DateTime => {
            read_i64(a, i).map_or(Value::Null, |v| Value::String(format_datetime_iso(v)))
        }
        K::TimeSpan => read_i64(a, i).map_or(Value::Null, |v| Value::String(format_timespan(v))),
        K::String | K::Guid => a
            .as_string_opt::<i32>()
            .map_or(Value::Null, |x| Value::String(x.value(i).to_string())),
        K::Dynamic => a
            .as_string_opt::<i32>()
            .and_then(|x| json::parse(x.value(i)))
            .unwrap_or(Value::Null),
    }
}

impl CollectAcc {
    fn full(&self) -> bool {
        match self.kind {
            CollectKind::Bag => self.bag.len() >= self.max,
            _ => self.items.len() >= self.max,
        }
    }

    fn push(&mut self, v: Value) {
        if self.full() {
            return;
        }
        match self.kind {
            CollectKind::Set => {
                if v.is_null() {
                    return;
                }
                if self.seen.insert(set_key(&v)) {
                    self.bytes += 16;
                    self.items.push(v);
                }
            }
            CollectKind::List => {
                if !v.is_null() {
                    self.bytes += 16;
                    self.items.push(v);
                }
            }
            CollectKind::ListWithNulls => {
                self.bytes += 16;
                self.items.push(v);
            }
            CollectKind::Bag => {
                if let Value::Object(m) = v {
                    for (k, val) in m {
                        if self.bag.len() >= self.max {
                            break;
                        }
                        if !self.bag.contains_key(&k) {
                            self.bytes += k.len() + 16;
                            self.bag.insert(k, val);
                        }
                    }
                }
            }
        }
    }

    fn add_input(&mut self, v: Value) {
        match (self.kind, v) {
            (
                CollectKind::Set | CollectKind::List | CollectKind::ListWithNulls,
                Value::Array(items),
            ) if self.input == K::Dynamic => {
                for it in items {
                    self.push(it);
                }
            }
            (_, v) => self.push(v),
        }
    }
}

impl Accumulator for CollectAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let a = first(values)?;
        for i in 0..a.len() {
            if self.full() {
                break;
            }
            let v = cell_json(a, i, self.input);
            self.add_input(v);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Utf8(Some(match self.kind {
            CollectKind::Bag => to_text(&Value::Object(self.bag.clone())),
            _ => to_text(&Value::Array(self.items.clone())),
        })))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.bytes
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let a = first(states)?;
        let Some(s) = a.as_string_opt::<i32>() else {
            return Err(err("bad collect state"));
        };
        for i in 0..s.len() {
            if s.is_null(i) {
                continue;
            }
            match json::parse(s.value(i)) {
                Some(Value::Array(items)) => {
                    for it in items {
                        self.push(it);
                    }
                }
                Some(obj @ Value::Object(_)) => self.push(obj),
                _ => {}
            }
        }
        Ok(())
    }
}

// ---- take_any ------------------------------------------------------------------------------

#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct TakeAnyUdaf {
    input: KqlType,
    signature: Signature,
}

impl TakeAnyUdaf {
    pub(crate) fn new(input: KqlType) -> Self {
        TakeAnyUdaf {
            input,
            signature: Signature::exact(vec![arrow_type(input)], Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for TakeAnyUdaf {
    fn name(&self) -> &str {
        "take_any"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(arrow_type(self.input))
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(TakeAnyAcc {
            value: ScalarValue::try_from(&arrow_type(self.input))?,
            strong: false,
        }))
    }
}

#[derive(Debug)]
struct TakeAnyAcc {
    value: ScalarValue,
    strong: bool,
}

fn is_strong(v: &ScalarValue) -> bool {
    match v {
        ScalarValue::Utf8(Some(s)) => !s.is_empty(),
        other => !other.is_null(),
    }
}

impl TakeAnyAcc {
    fn consider(&mut self, a: &ArrayRef) -> Result<()> {
        if self.strong {
            return Ok(());
        }
        for i in 0..a.len() {
            if a.is_null(i) {
                continue;
            }
            let v = ScalarValue::try_from_array(a, i)?;
            if is_strong(&v) {
                self.value = v;
                self.strong = true;
                return Ok(());
            }
            if self.value.is_null() {
                self.value = v;
            }
        }
        Ok(())
    }
}

impl Accumulator for TakeAnyAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.consider(first(values)?)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(self.value.clone())
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.value.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.value.clone()])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.consider(first(states)?)
    }
}

// ---- percentile ----------------------------------------------------------------------------

#[derive(Debug)]
pub(crate) struct PercentileUdaf {
    p: f64,
    input: KqlType,
    ret: KqlType,
    signature: Signature,
}

impl PartialEq for PercentileUdaf {
    fn eq(&self, other: &Self) -> bool {
        self.p.to_bits() == other.p.to_bits() && self.input == other.input && self.ret == other.ret
    }
}

impl Eq for PercentileUdaf {}

impl Hash for PercentileUdaf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.p.to_bits().hash(state);
        self.input.hash(state);
        self.ret.hash(state);
    }
}

impl PercentileUdaf {
    pub(crate) fn new(p: f64, input: KqlType, ret: KqlType) -> Self {
        PercentileUdaf {
            p,
            input,
            ret,
            signature: Signature::exact(vec![arrow_type(input)], Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for PercentileUdaf {
    fn name(&self) -> &str {
        "percentile"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(arrow_type(self.ret))
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(PercentileAcc {
            p: self.p,
            integer: matches!(self.input, K::Long | K::Int | K::DateTime | K::TimeSpan),
            ret: self.ret,
            ints: Vec::new(),
            reals: Vec::new(),
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "values"),
            DataType::Utf8,
            true,
        ))])
    }
}

#[derive(Debug)]
struct PercentileAcc {
    p: f64,
    integer: bool,
    ret: KqlType,
    ints: Vec<i64>,
    reals: Vec<f64>,
}

/// Nearest-rank index (0-based) of percentile `p` among `n` sorted values.
pub(crate) fn nearest_rank(p: f64, n: usize) -> usize {
    let rank = (p.clamp(0.0, 100.0) / 100.0 * n as f64).ceil() as usize;
    rank.clamp(1, n.max(1)) - 1
}

impl Accumulator for PercentileAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let a = first(values)?;
        for i in 0..a.len() {
            if self.integer {
                if let Some(v) = read_i64(a, i) {
                    self.ints.push(v);
                }
            } else if let Some(v) = read_f64(a, i)
                && !v.is_nan()
            {
                self.reals.push(v);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.integer {
            self.ints.sort_unstable();
            let v = if self.ints.is_empty() {
                None
            } else {
                self.ints
                    .get(nearest_rank(self.p, self.ints.len()))
                    .copied()
            };
            Ok(match self.ret {
                K::DateTime => ScalarValue::TimestampNanosecond(v, None),
                K::TimeSpan => ScalarValue::DurationNanosecond(v),
                _ => ScalarValue::Int64(v),
            })
        } else {
            self.reals.sort_by(f64::total_cmp);
            let v = if self.reals.is_empty() {
                None
            } else {
                self.reals
                    .get(nearest_rank(self.p, self.reals.len()))
                    .copied()
            };
            Ok(ScalarValue::Float64(v))
        }
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.ints.capacity() * 8 + self.reals.capacity() * 8
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let v: Vec<Value> = if self.integer {
            self.ints.iter().map(|x| Value::from(*x)).collect()
        } else {
            self.reals.iter().map(|x| json::real_to_json(*x)).collect()
        };
        Ok(vec![ScalarValue::Utf8(Some(to_text(&Value::Array(v))))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let a = first(states)?;
        let Some(s) = a.as_string_opt::<i32>() else {
            return Err(err("bad percentile state"));
        };
        for i in 0..s.len() {
            if s.is_null(i) {
                continue;
            }
            if let Some(Value::Array(items)) = json::parse(s.value(i)) {
                for it in items {
                    if self.integer {
                        if let Some(v) = it.as_i64() {
                            self.ints.push(v);
                        }
                    } else if let Some(v) = it.as_f64() {
                        self.reals.push(v);
                    }
                }
            }
        }
        Ok(())
    }
}
