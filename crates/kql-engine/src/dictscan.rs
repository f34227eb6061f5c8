//! Scan predicates over dictionary-encoded string columns, evaluated once per distinct value.
//!
//! The store writes names, paths, ids and kinds as Parquet dictionaries and the Parquet
//! reader hands them back as Arrow dictionary arrays (one dictionary per column chunk; see
//! `docs/storage.md`). Table schemas stay `Utf8`: DataFusion's default
//! [`PhysicalExprAdapter`] wraps each such column in a cast to `Utf8` inside the scan,
//! which would materialise every string before a filter looks at it.
//!
//! [`DictScanAdapterFactory`] runs after that adapter and replaces each maximal
//! deterministic subexpression whose only input is one dictionary column (`FileName =~
//! "powershell.exe"`, `FolderPath startswith @"C:\ProgramData\"`, `FileName in~ (...)`)
//! with a [`DictEval`]: the subexpression is evaluated on the dictionary's values (plus
//! one null, for null keys), once per dictionary, and the per-row answer is a `take` by
//! the keys. A row group of 262,144 rows with a few hundred distinct file names costs a
//! few hundred string tests instead of 262,144, and no string is copied for rows the
//! filter drops.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use crate::dictagg::DictKeep;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, UInt32Array, new_null_array,
};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::{cast, concat, take};
use datafusion::arrow::datatypes::Int32Type;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::ScalarFunctionExpr;
use datafusion::physical_expr::expressions::{
    BinaryExpr, CaseExpr, CastExpr, Column, InListExpr, IsNotNullExpr, IsNullExpr, LikeExpr,
    Literal, NegativeExpr, NotExpr, TryCastExpr,
};
use datafusion::physical_expr_adapter::{
    DefaultPhysicalExprAdapterFactory, PhysicalExprAdapter, PhysicalExprAdapterFactory,
};

/// Dictionaries remembered per [`DictEval`] (the scan's partitions read different row
/// groups at the same time).
const CACHED_DICTIONARIES: usize = 4;

/// Builds [`DictScanAdapter`]s: DataFusion's default adaptation, then [`DictEval`] for
/// subexpressions over one dictionary column.
#[derive(Debug, Default)]
pub struct DictScanAdapterFactory;

impl PhysicalExprAdapterFactory for DictScanAdapterFactory {
    fn create(
        &self,
        logical_file_schema: SchemaRef,
        physical_file_schema: SchemaRef,
    ) -> Result<Arc<dyn PhysicalExprAdapter>> {
        Ok(Arc::new(DictScanAdapter {
            default: DefaultPhysicalExprAdapterFactory
                .create(logical_file_schema, Arc::clone(&physical_file_schema))?,
            physical: physical_file_schema,
        }))
    }
}

#[derive(Debug)]
struct DictScanAdapter {
    default: Arc<dyn PhysicalExprAdapter>,
    physical: SchemaRef,
}

impl PhysicalExprAdapter for DictScanAdapter {
    fn rewrite(&self, expr: Arc<dyn PhysicalExpr>) -> Result<Arc<dyn PhysicalExpr>> {
        let expr = self.default.rewrite(expr)?;
        expr.transform_down(|e| {
            if let Some(column) = self.kept_dictionary(&e) {
                return Ok(Transformed::new(column, true, TreeNodeRecursion::Jump));
            }
            match self.dict_subtree(&e)? {
                Some(d) => Ok(Transformed::new(d, true, TreeNodeRecursion::Jump)),
                None => Ok(Transformed::no(e)),
            }
        })
        .data()
    }
}

impl DictScanAdapter {
    /// Is `e` `CAST(c AS Utf8)` of a dictionary column of strings? Returns `c`.
    fn dict_cast<'a>(&self, e: &'a Arc<dyn PhysicalExpr>) -> Option<&'a Column> {
        let c = e.downcast_ref::<CastExpr>()?;
        let col = c.expr().downcast_ref::<Column>()?;
        let field = self.physical.fields().get(col.index())?;
        let string_values = matches!(
            field.data_type(),
            DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
        );
        (string_values && field.name() == col.name() && c.cast_type() == &DataType::Utf8)
            .then_some(col)
    }

    /// A [`DictKeep`] of a column the file holds as `Dictionary(Int32, Utf8)`: that
    /// column itself, as it is read.
    fn kept_dictionary(&self, e: &Arc<dyn PhysicalExpr>) -> Option<Arc<dyn PhysicalExpr>> {
        let keep = e.downcast_ref::<DictKeep>()?;
        let col = self.dict_cast(keep.inner())?;
        let field = self.physical.fields().get(col.index())?;
        let exact = matches!(field.data_type(), DataType::Dictionary(k, v)
            if **k == DataType::Int32 && **v == DataType::Utf8);
        exact.then(|| Arc::new(col.clone()) as Arc<dyn PhysicalExpr>)
    }

    /// `e` as a [`DictEval`] when it is deterministic, made only of row-wise expressions,
    /// and reads exactly one dictionary column (through the default adapter's cast).
    fn dict_subtree(&self, e: &Arc<dyn PhysicalExpr>) -> Result<Option<Arc<dyn PhysicalExpr>>> {
        // A bare column or cast gains nothing: the projection casts it anyway.
        if e.downcast_ref::<Column>().is_some() || e.downcast_ref::<CastExpr>().is_some() {
            return Ok(None);
        }
        let mut column: Option<Column> = None;
        let mut eligible = true;
        e.apply(|n| {
            if let Some(c) = self.dict_cast(n) {
                match &column {
                    Some(prev) if prev.index() != c.index() => eligible = false,
                    _ => column = Some(c.clone()),
                }
                return Ok(if eligible {
                    TreeNodeRecursion::Jump
                } else {
                    TreeNodeRecursion::Stop
                });
            }
            if !row_wise(n) {
                eligible = false;
                return Ok(TreeNodeRecursion::Stop);
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        let Some(column) = column.filter(|_| eligible) else {
            return Ok(None);
        };
        let values_schema = Arc::new(Schema::new(vec![Field::new(
            column.name(),
            DataType::Utf8,
            true,
        )]));
        let inner = Arc::clone(e)
            .transform(|n| {
                if self.dict_cast(&n).is_some() {
                    let v: Arc<dyn PhysicalExpr> = Arc::new(Column::new(column.name(), 0));
                    Ok(Transformed::new(v, true, TreeNodeRecursion::Jump))
                } else {
                    Ok(Transformed::no(n))
                }
            })
            .data()?;
        Ok(Some(Arc::new(DictEval::new(inner, column, values_schema))))
    }
}

/// Deterministic, row-wise expression nodes (no column: columns are handled by the
/// caller). Anything else (dynamic join filters, subquery results, volatile functions)
/// keeps the subexpression out of a [`DictEval`].
pub(crate) fn row_wise(n: &Arc<dyn PhysicalExpr>) -> bool {
    if let Some(f) = n.downcast_ref::<ScalarFunctionExpr>() {
        return !f.is_volatile_node();
    }
    n.downcast_ref::<BinaryExpr>().is_some()
        || n.downcast_ref::<Literal>().is_some()
        || n.downcast_ref::<NotExpr>().is_some()
        || n.downcast_ref::<IsNullExpr>().is_some()
        || n.downcast_ref::<IsNotNullExpr>().is_some()
        || n.downcast_ref::<InListExpr>().is_some()
        || n.downcast_ref::<LikeExpr>().is_some()
        || n.downcast_ref::<CaseExpr>().is_some()
        || n.downcast_ref::<CastExpr>().is_some()
        || n.downcast_ref::<TryCastExpr>().is_some()
        || n.downcast_ref::<NegativeExpr>().is_some()
}

/// A dictionary's values as `Utf8`, followed by one null: the slot that null keys read.
pub(crate) fn values_and_null(values: &ArrayRef) -> Result<ArrayRef> {
    let strings = match values.data_type() {
        DataType::Utf8 => Arc::clone(values),
        _ => cast(values, &DataType::Utf8)?,
    };
    Ok(concat(&[
        strings.as_ref(),
        new_null_array(&DataType::Utf8, 1).as_ref(),
    ])?)
}

/// The per-value answers `bits` spread to rows by their `keys`, packed 64 rows per word.
///
/// One byte per value in a table whose length is a power of two, indexed by the key masked
/// to it: no bounds branch per row (a key out of range, which the Parquet reader already
/// refuses, would read some value's answer, never outside the table).
fn answer_words(bits: &BooleanBuffer, keys: &[i32]) -> Vec<u64> {
    let len = bits.len().max(1).next_power_of_two();
    let mut table = vec![0u8; len];
    for (t, b) in table.iter_mut().zip(bits.iter()) {
        *t = u8::from(b);
    }
    let mask = len - 1;
    let word = |rows: &[i32]| {
        rows.iter().enumerate().fold(0u64, |w, (j, &k)| {
            w | (u64::from(table[(k as usize) & mask]) << j)
        })
    };
    let mut chunks = keys.chunks_exact(64);
    let mut words: Vec<u64> = Vec::with_capacity(keys.len().div_ceil(64));
    for rows in &mut chunks {
        // A fixed length, so the fold unrolls.
        if let Ok(rows) = <&[i32; 64]>::try_from(rows) {
            words.push(word(rows));
        }
    }
    if !chunks.remainder().is_empty() {
        words.push(word(chunks.remainder()));
    }
    words
}

/// `expr` (over a one-column batch of strings) evaluated on the distinct values of a
/// dictionary column and spread to the rows by their keys.
pub struct DictEval {
    expr: Arc<dyn PhysicalExpr>,
    column: Arc<dyn PhysicalExpr>,
    values_schema: SchemaRef,
    /// (dictionary values, `expr` on those values plus a trailing null), newest last.
    cache: Mutex<Vec<(ArrayRef, ArrayRef)>>,
}

impl DictEval {
    fn new(expr: Arc<dyn PhysicalExpr>, column: Column, values_schema: SchemaRef) -> Self {
        DictEval {
            expr,
            column: Arc::new(column),
            values_schema,
            cache: Mutex::new(Vec::new()),
        }
    }

    /// `expr` on `values` followed by one null, remembered for the next batches of the
    /// same column chunk (they share the dictionary's buffers).
    fn per_value(&self, values: &ArrayRef) -> Result<ArrayRef> {
        let data = values.to_data();
        {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, r)) = cache.iter().rev().find(|(v, _)| v.to_data().ptr_eq(&data)) {
                return Ok(Arc::clone(r));
            }
        }
        let padded = values_and_null(values)?;
        let rows = padded.len();
        let batch = RecordBatch::try_new(Arc::clone(&self.values_schema), vec![padded])?;
        let out = self.expr.evaluate(&batch)?.into_array(rows)?;
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHED_DICTIONARIES {
            cache.remove(0);
        }
        cache.push((Arc::clone(values), Arc::clone(&out)));
        Ok(out)
    }
}

impl PhysicalExpr for DictEval {
    fn return_field(&self, _input_schema: &Schema) -> Result<FieldRef> {
        self.expr.return_field(&self.values_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let arr = self.column.evaluate(batch)?.into_array(batch.num_rows())?;
        let Some(dict) = arr.as_any_dictionary_opt() else {
            // Not a dictionary after all (a file written otherwise): evaluate directly.
            let strings = cast(&arr, &DataType::Utf8)?;
            let b = RecordBatch::try_new(Arc::clone(&self.values_schema), vec![strings])?;
            return self.expr.evaluate(&b);
        };
        let per_value = self.per_value(dict.values())?;
        if dict.keys().null_count() == 0 {
            if let Some(bits) = per_value.as_boolean_opt()
                && let Some(keys) = dict.keys().as_primitive_opt::<Int32Type>()
            {
                // A filter's answers: packed 64 rows at a time, no null to carry (the
                // trailing slot, for null keys, is never read).
                let n = dict.values().len();
                if bits.nulls().is_none_or(|m| m.slice(0, n).null_count() == 0) {
                    let keys = keys.values();
                    let bits = bits.values().slice(0, n);
                    let out = match bits.count_set_bits() {
                        // No value of this dictionary passes (or all do): no row to look at.
                        0 => BooleanBuffer::new_unset(keys.len()),
                        c if c == n => BooleanBuffer::new_set(keys.len()),
                        _ => BooleanBuffer::new(
                            datafusion::arrow::buffer::Buffer::from_vec(answer_words(&bits, keys)),
                            0,
                            keys.len(),
                        ),
                    };
                    return Ok(ColumnarValue::Array(Arc::new(BooleanArray::new(out, None))));
                }
            }
            // The keys index the per-value answers as they are.
            return Ok(ColumnarValue::Array(take(
                per_value.as_ref(),
                dict.keys(),
                None,
            )?));
        }
        let null_slot = u32::try_from(dict.values().len()).unwrap_or(u32::MAX);
        let keys = cast(dict.keys(), &DataType::UInt32)?;
        let keys = keys.as_primitive::<datafusion::arrow::datatypes::UInt32Type>();
        let idx: UInt32Array = if keys.null_count() == 0 {
            keys.clone()
        } else {
            keys.iter().map(|k| Some(k.unwrap_or(null_slot))).collect()
        };
        Ok(ColumnarValue::Array(take(per_value.as_ref(), &idx, None)?))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.column]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let column = children
            .into_iter()
            .next()
            .unwrap_or_else(|| Arc::clone(&self.column));
        Ok(Arc::new(DictEval {
            expr: Arc::clone(&self.expr),
            column,
            values_schema: Arc::clone(&self.values_schema),
            cache: Mutex::new(Vec::new()),
        }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for DictEval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "per_dictionary_value({}, {})", self.column, self.expr)
    }
}

impl fmt::Debug for DictEval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DictEval")
            .field("expr", &self.expr)
            .field("column", &self.column)
            .finish()
    }
}

impl PartialEq for DictEval {
    fn eq(&self, other: &Self) -> bool {
        self.expr.as_ref() == other.expr.as_ref() && self.column.as_ref() == other.column.as_ref()
    }
}

impl Eq for DictEval {}

impl Hash for DictEval {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.expr.hash(state);
        self.column.hash(state);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use datafusion::arrow::array::{BooleanArray, DictionaryArray, Int32Array, StringArray};
    use datafusion::arrow::datatypes::Int32Type;
    use datafusion::logical_expr::Operator;
    use datafusion::physical_expr::expressions::{binary, col, is_null, lit};

    fn schemas() -> (SchemaRef, SchemaRef) {
        let logical = Schema::new(vec![
            Field::new("n", DataType::Int32, true),
            Field::new("FileName", DataType::Utf8, true),
        ]);
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let physical = Schema::new(vec![
            Field::new("n", DataType::Int32, true),
            Field::new("FileName", dict, true),
        ]);
        (Arc::new(logical), Arc::new(physical))
    }

    /// Rows: a, b, null key, a, null value, c (the dictionary holds a null too).
    fn batch(physical: &SchemaRef) -> RecordBatch {
        let values = StringArray::from(vec![Some("a"), Some("b"), None, Some("c")]);
        let keys = Int32Array::from(vec![Some(0), Some(1), None, Some(0), Some(2), Some(3)]);
        let dict = DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values)).unwrap();
        let n = Int32Array::from(vec![1, 2, 3, 4, 5, 6]);
        RecordBatch::try_new(Arc::clone(physical), vec![Arc::new(n), Arc::new(dict)]).unwrap()
    }

    fn eval(e: &Arc<dyn PhysicalExpr>, b: &RecordBatch) -> ArrayRef {
        e.evaluate(b).unwrap().into_array(b.num_rows()).unwrap()
    }

    #[test]
    fn one_dictionary_column_is_evaluated_per_value_with_the_same_answers() {
        let (logical, physical) = schemas();
        let b = batch(&physical);
        let ours = DictScanAdapterFactory
            .create(Arc::clone(&logical), Arc::clone(&physical))
            .unwrap();
        let default = DefaultPhysicalExprAdapterFactory
            .create(Arc::clone(&logical), Arc::clone(&physical))
            .unwrap();
        let file = col("FileName", &logical).unwrap();
        let eq_a = binary(Arc::clone(&file), Operator::Eq, lit("a"), &logical).unwrap();
        let null = is_null(Arc::clone(&file)).unwrap();
        let either = binary(Arc::clone(&eq_a), Operator::Or, Arc::clone(&null), &logical).unwrap();
        for e in [eq_a, null, either] {
            let rewritten = ours.rewrite(Arc::clone(&e)).unwrap();
            assert!(
                rewritten.downcast_ref::<DictEval>().is_some(),
                "{e} became {rewritten}"
            );
            let want = eval(&default.rewrite(Arc::clone(&e)).unwrap(), &b);
            // Twice: the second batch reads the cached per-value answers.
            assert_eq!(eval(&rewritten, &b).as_ref(), want.as_ref(), "{e}");
            assert_eq!(eval(&rewritten, &b).as_ref(), want.as_ref(), "{e} (cached)");
        }
        let expected = BooleanArray::from(vec![
            Some(true),
            Some(false),
            None,
            Some(true),
            None,
            Some(false),
        ]);
        let eq_a = binary(file, Operator::Eq, lit("a"), &logical).unwrap();
        assert_eq!(eval(&ours.rewrite(eq_a).unwrap(), &b).as_ref(), &expected);
    }

    #[test]
    fn expressions_over_other_columns_keep_their_shape() {
        let (logical, physical) = schemas();
        let ours = DictScanAdapterFactory
            .create(Arc::clone(&logical), Arc::clone(&physical))
            .unwrap();
        let file = col("FileName", &logical).unwrap();
        let n = col("n", &logical).unwrap();
        let eq_a = binary(Arc::clone(&file), Operator::Eq, lit("a"), &logical).unwrap();
        let gt = binary(n, Operator::Gt, lit(3), &logical).unwrap();
        // `n > 3 AND FileName = 'a'`: only the right side is per value.
        let both = binary(Arc::clone(&gt), Operator::And, eq_a, &logical).unwrap();
        let r = ours.rewrite(both).unwrap();
        let and = r.downcast_ref::<BinaryExpr>().expect("still a conjunction");
        assert!(and.left().downcast_ref::<DictEval>().is_none());
        assert!(and.right().downcast_ref::<DictEval>().is_some(), "{r}");
        let b = batch(&physical);
        assert_eq!(
            eval(&r, &b).as_ref(),
            &BooleanArray::from(vec![
                Some(false),
                Some(false),
                Some(false),
                Some(true),
                None,
                Some(false)
            ])
        );
        // A bare column is only cast, as the default adapter does.
        let bare = ours.rewrite(file).unwrap();
        assert!(bare.downcast_ref::<CastExpr>().is_some(), "{bare}");
    }
}
