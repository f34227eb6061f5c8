//! `summarize … by` string columns that the store keeps as dictionaries: rows are grouped
//! by their dictionary keys, and each distinct string is hashed once per dictionary.
//!
//! DataFusion's partial aggregation hashes and compares every row's string (and the scan
//! first copies every string out of its dictionary, since table schemas are `Utf8`). For
//! `DeviceProcessEvents | summarize count() by FileName` that is 50 M string hashes for a
//! few thousand distinct names.
//!
//! [`DictAggregateRule`] runs last among the physical optimizer rules. It replaces a
//! partial (or single-stage) [`AggregateExec`] whose group keys are columns the
//! [`DataSource`] declares as dictionary columns, and whose input reaches Parquet scans
//! through operators that only pass those columns along, with a [`DictAggregateExec`]:
//!
//! * the scans project those columns through [`DictKeep`], which the scan's expression
//!   adapter ([`crate::dictscan`]) turns into the file's own dictionary array (no copy);
//!   a file that holds plain strings gets a one-value-per-row dictionary instead;
//! * per dictionary (one per Parquet column chunk, shared by its batches), each distinct
//!   value is interned once with DataFusion's own `GroupValues`; each row's group is then
//!   a lookup by its key (two to four key columns: the per-column ids index a dense
//!   table, or are packed and hashed, `PackedKeys`; more: DataFusion's `GroupValues`
//!   over the ids);
//! * the aggregates are DataFusion's own `GroupsAccumulator`s, fed the same group indices,
//!   and the output (group values, then each aggregate's state or value) is exactly the
//!   replaced operator's, so the final aggregation above is unchanged;
//! * when the aggregation reads only dictionary columns, a scan's filter over dictionary
//!   or fixed-width columns moves out of the Parquet reader into the scan's projection as
//!   a boolean column, and the aggregation drops the rows that fail it
//!   (`filter_as_column`): reading dictionary keys whole is cheaper than the reader's
//!   row selection.
//!
//! The rule leaves every other plan alone (aggregates with grouping sets, ordered
//! aggregates, limits, an aggregate without a groups accumulator, an aggregate or filter
//! that reads a key column, inputs it cannot see through).

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, DictionaryArray, Int32Array, Int64Array, ListArray, RecordBatch,
    UInt32Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::{cast, filter_record_batch, prep_null_mask_filter, take};
use datafusion::arrow::datatypes::{DataType, FieldRef, Int32Type, Schema, SchemaRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, Result, ScalarValue, internal_err};
use datafusion::datasource::physical_plan::{FileScanConfig, FileSource, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{ColumnarValue, EmitTo, GroupsAccumulator};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_expr::projection::{ProjectionExpr, ProjectionExprs};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::group_values::{GroupValues, new_group_values};
use datafusion::physical_plan::aggregates::order::GroupOrdering;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, InputOrderMode,
    PlanProperties, ReplaceChildrenOptions,
};
use futures::StreamExt;

use crate::DataSource;

/// The type [`DictKeep`] produces: the store's dictionary columns as Parquet returns them.
fn dict_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// A string column kept as a `Dictionary(Int32, Utf8)` array. Inside a Parquet scan the
/// adapter replaces it by the file's dictionary column itself; evaluated elsewhere, plain
/// strings become a dictionary with one value per row (no hashing).
#[derive(Debug, Eq)]
pub struct DictKeep {
    inner: Arc<dyn PhysicalExpr>,
}

impl PartialEq for DictKeep {
    fn eq(&self, other: &Self) -> bool {
        self.inner.as_ref() == other.inner.as_ref()
    }
}

impl Hash for DictKeep {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.hash(state);
    }
}

impl DictKeep {
    pub fn new(inner: Arc<dyn PhysicalExpr>) -> Self {
        DictKeep { inner }
    }

    pub fn inner(&self) -> &Arc<dyn PhysicalExpr> {
        &self.inner
    }
}

/// `a` as a `Dictionary(Int32, Utf8)` array.
fn to_dict(a: ArrayRef) -> Result<ArrayRef> {
    match a.data_type() {
        DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => Ok(a),
        DataType::Utf8 => {
            let n = i32::try_from(a.len()).map_err(|_| {
                DataFusionError::Execution("batch too large for a dictionary".into())
            })?;
            let keys = Int32Array::from_iter_values(0..n);
            Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(keys, a)?))
        }
        _ => Ok(cast(&a, &dict_type())?),
    }
}

impl PhysicalExpr for DictKeep {
    fn return_field(&self, input_schema: &Schema) -> Result<FieldRef> {
        let f = self.inner.return_field(input_schema)?;
        Ok(Arc::new(f.as_ref().clone().with_data_type(dict_type())))
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let a = self.inner.evaluate(batch)?.into_array(batch.num_rows())?;
        Ok(ColumnarValue::Array(to_dict(a)?))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.inner]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        match <[_; 1]>::try_from(children) {
            Ok([inner]) => Ok(Arc::new(DictKeep { inner })),
            Err(_) => internal_err!("DictKeep takes one child"),
        }
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for DictKeep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dictionary({})", self.inner)
    }
}

/// The physical optimizer rule (see the module docs).
pub struct DictAggregateRule {
    data: Arc<dyn DataSource>,
}

impl DictAggregateRule {
    pub fn new(data: Arc<dyn DataSource>) -> Self {
        DictAggregateRule { data }
    }
}

impl fmt::Debug for DictAggregateRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DictAggregateRule")
    }
}

impl PhysicalOptimizerRule for DictAggregateRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|p| {
            let Some(agg) = p.downcast_ref::<AggregateExec>() else {
                return Ok(Transformed::no(p));
            };
            let pushed = push_group_keys(agg)?;
            let agg = pushed
                .as_ref()
                .and_then(|p| p.downcast_ref::<AggregateExec>())
                .unwrap_or(agg);
            match self.rewrite(agg)? {
                Some(new) => Ok(Transformed::yes(new)),
                None => match pushed {
                    Some(new) => Ok(Transformed::yes(new)),
                    None => Ok(Transformed::no(p)),
                },
            }
        })
        .data()
    }

    fn name(&self) -> &str {
        "kql_dictionary_aggregate"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Does `e` read any input column in `cols`?
fn reads_any(e: &Arc<dyn PhysicalExpr>, cols: &[usize]) -> bool {
    let mut found = false;
    let _ = e.apply(|n| {
        if let Some(c) = n.downcast_ref::<Column>()
            && cols.contains(&c.index())
        {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

impl DictAggregateRule {
    /// `count(distinct c)` (KQL's exact `dcount`) of a dictionary column, unfiltered:
    /// the input index of `c`.
    fn distinct_column(
        &self,
        a: &AggregateFunctionExpr,
        filter: Option<&Arc<dyn PhysicalExpr>>,
        schema: &Schema,
    ) -> Option<usize> {
        if !a.is_distinct() || a.fun().name() != "count" || filter.is_some() {
            return None;
        }
        let args = a.expressions();
        let [arg] = args.as_slice() else {
            return None;
        };
        let c = arg.downcast_ref::<Column>()?;
        let f = schema.fields().get(c.index())?;
        (f.data_type() == &DataType::Utf8
            && f.name() == c.name()
            && self.data.dictionary_column(c.name()))
        .then_some(c.index())
    }

    fn rewrite(&self, agg: &AggregateExec) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(single) = plain_grouping(agg) else {
            return Ok(None);
        };
        let input = agg.input();
        let in_schema = input.schema();
        let mut keys = Vec::with_capacity(agg.group_expr().expr().len());
        for (e, _) in agg.group_expr().expr() {
            let Some(c) = e.downcast_ref::<Column>() else {
                return Ok(None);
            };
            let Some(f) = in_schema.fields().get(c.index()) else {
                return Ok(None);
            };
            if f.data_type() != &DataType::Utf8
                || f.name() != c.name()
                || !self.data.dictionary_column(c.name())
                || keys.contains(&c.index())
            {
                return Ok(None);
            }
            keys.push(c.index());
        }
        let distinct: Vec<Option<usize>> = agg
            .aggr_expr()
            .iter()
            .zip(agg.filter_expr())
            .map(|(a, f)| self.distinct_column(a, f.as_ref(), &in_schema))
            .collect();
        // The columns read as dictionaries: the keys, then the distinct-counted ones.
        let mut kept = keys.clone();
        for &c in distinct.iter().flatten() {
            if keys.contains(&c) {
                return Ok(None);
            }
            if !kept.contains(&c) {
                kept.push(c);
            }
        }
        // Every other aggregate has a groups accumulator and reads no kept column.
        for ((a, filter), d) in agg.aggr_expr().iter().zip(agg.filter_expr()).zip(&distinct) {
            if d.is_none()
                && (!a.groups_accumulator_supported()
                    || a.expressions().iter().any(|e| reads_any(e, &kept))
                    || filter.as_ref().is_some_and(|f| reads_any(f, &kept)))
            {
                return Ok(None);
            }
        }
        // With the scans' filters moved to a pass column where they can move, else (none
        // moved) as they are.
        let is_dict = |c: &str| self.data.dictionary_column(c);
        let with_pass = keep_dictionary(input, &kept, Some(&is_dict))?;
        let (new_input, pass) = match with_pass {
            Some((plan, true)) => {
                let last = plan.schema().fields().len().saturating_sub(1);
                (plan, Some(last))
            }
            _ => match keep_dictionary(input, &kept, None)? {
                Some((plan, _)) => (plan, None),
                None => return Ok(None),
            },
        };
        let new_schema = new_input.schema();
        if kept
            .iter()
            .any(|&k| new_schema.fields().get(k).map(|f| f.data_type()) != Some(&dict_type()))
        {
            return Ok(None);
        }
        Ok(Some(Arc::new(DictAggregateExec::new(
            agg, new_input, keys, distinct, single, pass,
        )?)))
    }
}

/// Is `agg` a plain hash aggregation (partial or single-stage, grouped, no grouping sets,
/// limit, dynamic filter, input order or ordered aggregate) that these rewrites may
/// replace? `Some(true)` for a single-stage one (it emits final values, not states).
fn plain_grouping(agg: &AggregateExec) -> Option<bool> {
    let single = match agg.mode() {
        AggregateMode::Partial => false,
        AggregateMode::Single | AggregateMode::SinglePartitioned => true,
        _ => return None,
    };
    let plain = !agg.group_expr().expr().is_empty()
        && !agg.group_expr().has_grouping_set()
        && agg.limit_options().is_none()
        && agg.dynamic_expressions_produced().is_empty()
        && matches!(agg.input_order_mode(), InputOrderMode::Linear)
        && agg.aggr_expr().iter().all(|a| a.order_bys().is_empty());
    plain.then_some(single)
}

/// Computed group keys (`by PipeName = tostring(AF.PipeName)`) of an aggregation straight
/// over a Parquet scan, moved into the scan's projection: the scan's expression adapter
/// then evaluates a key whose only input is a dictionary column once per distinct value
/// ([`crate::dictscan`]), and the aggregation groups by plain columns. The aggregation's
/// output is unchanged; `None` when there is nothing to move or the plan is another shape.
fn push_group_keys(agg: &AggregateExec) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    use datafusion::physical_plan::aggregates::PhysicalGroupBy;
    if plain_grouping(agg).is_none() {
        return Ok(None);
    }
    let gby = agg.group_expr().expr();
    let computed = |e: &Arc<dyn PhysicalExpr>| e.downcast_ref::<Column>().is_none();
    if !gby.iter().any(|(e, _)| computed(e)) {
        return Ok(None);
    }
    // Row-wise and deterministic keys only (no subquery results or dynamic filters).
    for (e, _) in gby {
        let mut ok = true;
        let _ = e.apply(|n| {
            if n.downcast_ref::<Column>().is_none() && !crate::dictscan::row_wise(n) {
                ok = false;
                return Ok(TreeNodeRecursion::Stop);
            }
            Ok(TreeNodeRecursion::Continue)
        });
        if !ok {
            return Ok(None);
        }
    }
    let input = agg.input();
    let Some(config) = parquet_scan(input) else {
        return Ok(None);
    };
    let in_schema = input.schema();
    // The new scan's columns: the keys, then the input columns the aggregates read.
    let mut read: Vec<usize> = Vec::new();
    let args_and_filters = agg
        .aggr_expr()
        .iter()
        .flat_map(|a| a.expressions())
        .chain(agg.filter_expr().iter().flatten().cloned());
    for e in args_and_filters {
        e.apply(|n| {
            if let Some(c) = n.downcast_ref::<Column>()
                && !read.contains(&c.index())
            {
                read.push(c.index());
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
    }
    read.sort_unstable();
    let mut exprs = Vec::with_capacity(gby.len() + read.len());
    for (i, (e, _)) in gby.iter().enumerate() {
        exprs.push(ProjectionExpr::new(Arc::clone(e), format!("__kql_key{i}")));
    }
    for &c in &read {
        let Some(f) = in_schema.fields().get(c) else {
            return Ok(None);
        };
        exprs.push(ProjectionExpr::new(
            Arc::new(Column::new(f.name(), c)),
            f.name().clone(),
        ));
    }
    let Some(source) = config
        .file_source()
        .try_pushdown_projection(&ProjectionExprs::new(exprs))?
    else {
        return Ok(None);
    };
    let mut new_config = config.clone();
    new_config.file_source = source;
    let new_input: Arc<dyn ExecutionPlan> = Arc::new(DataSourceExec::new(Arc::new(new_config)));
    let remap = |e: &Arc<dyn PhysicalExpr>| -> Result<Arc<dyn PhysicalExpr>> {
        Arc::clone(e)
            .transform(|n| {
                if let Some(c) = n.downcast_ref::<Column>() {
                    let Some(pos) = read.iter().position(|&r| r == c.index()) else {
                        return internal_err!("unmapped column {c}");
                    };
                    let new: Arc<dyn PhysicalExpr> =
                        Arc::new(Column::new(c.name(), gby.len() + pos));
                    return Ok(Transformed::yes(new));
                }
                Ok(Transformed::no(n))
            })
            .data()
    };
    let mut aggr = Vec::with_capacity(agg.aggr_expr().len());
    for a in agg.aggr_expr() {
        let args = a
            .expressions()
            .iter()
            .map(remap)
            .collect::<Result<Vec<_>>>()?;
        let Some(new) = a.with_new_expressions(args, Vec::new()) else {
            return Ok(None);
        };
        aggr.push(Arc::new(new));
    }
    let filters = agg
        .filter_expr()
        .iter()
        .map(|f| f.as_ref().map(remap).transpose())
        .collect::<Result<Vec<_>>>()?;
    let keys = gby
        .iter()
        .enumerate()
        .map(|(i, (_, name))| {
            (
                Arc::new(Column::new(&format!("__kql_key{i}"), i)) as Arc<dyn PhysicalExpr>,
                name.clone(),
            )
        })
        .collect();
    let new_schema = new_input.schema();
    let new = AggregateExec::try_new(
        *agg.mode(),
        PhysicalGroupBy::new_single(keys),
        aggr,
        filters,
        new_input,
        new_schema,
    )?;
    // The same output, or nothing.
    let (old, now) = (agg.schema(), new.schema());
    let same = old.fields().len() == now.fields().len()
        && old
            .fields()
            .iter()
            .zip(now.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
    Ok(same.then(|| Arc::new(new) as Arc<dyn ExecutionPlan>))
}

/// `plan`'s file scan configuration when it is a scan of Parquet files.
fn parquet_scan(plan: &Arc<dyn ExecutionPlan>) -> Option<&FileScanConfig> {
    let config = plan
        .downcast_ref::<DataSourceExec>()?
        .data_source()
        .downcast_ref::<FileScanConfig>()?;
    config
        .file_source()
        .downcast_ref::<ParquetSource>()
        .map(|_| config)
}

/// The name of the column [`keep_dictionary`] appends when it moves the scans' filters.
const PASS: &str = "__kql_pass";

/// `plan` with the output columns `keep` (all `Utf8`) produced as dictionaries, when
/// every operator down to the Parquet scans passes them along untouched. With `pass`
/// (which says whether a column is a dictionary column), a scan's filter moves into its
/// projection as a boolean [`PASS`] column when it can ([`filter_as_column`]); every scan
/// then ends with such a column (`true` where the filter stays in the scan), and the flag
/// says whether any filter moved.
fn keep_dictionary(
    plan: &Arc<dyn ExecutionPlan>,
    keep: &[usize],
    pass: Option<&dyn Fn(&str) -> bool>,
) -> Result<Option<(Arc<dyn ExecutionPlan>, bool)>> {
    if let Some(dse) = plan.downcast_ref::<DataSourceExec>() {
        let Some(config) = parquet_scan(plan) else {
            return Ok(None);
        };
        let schema = plan.schema();
        let mut exprs: Vec<ProjectionExpr> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let col: Arc<dyn PhysicalExpr> = Arc::new(Column::new(f.name(), i));
                let expr: Arc<dyn PhysicalExpr> = if keep.contains(&i) {
                    Arc::new(DictKeep::new(col))
                } else {
                    col
                };
                ProjectionExpr::new(expr, f.name().clone())
            })
            .collect();
        if let Some(is_dict) = pass {
            let every_output_kept = (0..schema.fields().len()).all(|i| keep.contains(&i));
            if every_output_kept && let Some(scan) = filter_as_column(config, &exprs, is_dict)? {
                return Ok(Some((scan, true)));
            }
            exprs.push(ProjectionExpr::new(
                Arc::new(Literal::new(ScalarValue::Boolean(Some(true)))),
                PASS.to_string(),
            ));
        }
        let projection = ProjectionExprs::new(exprs);
        return Ok(dse
            .data_source()
            .try_swapping_with_projection(&projection)?
            .map(|ds| {
                // This scan keeps its filter.
                (
                    Arc::new(DataSourceExec::new(ds)) as Arc<dyn ExecutionPlan>,
                    false,
                )
            }));
    }
    let one_child = |child: &Arc<dyn ExecutionPlan>, keep_child: &[usize]| {
        keep_dictionary(child, keep_child, pass)?
            .map(|(c, moved)| {
                replace_children_if_necessary(Arc::clone(plan), vec![c]).map(|p| (p, moved))
            })
            .transpose()
    };
    if let Some(f) = plan.downcast_ref::<FilterExec>() {
        if f.projection().is_some() || reads_any(f.predicate(), keep) {
            return Ok(None);
        }
        return one_child(f.input(), keep);
    }
    if let Some(r) = plan.downcast_ref::<RepartitionExec>() {
        if let Partitioning::Hash(exprs, _) = r.partitioning()
            && exprs.iter().any(|e| reads_any(e, keep))
        {
            return Ok(None);
        }
        return one_child(r.input(), keep);
    }
    if let Some(p) = plan.downcast_ref::<ProjectionExec>() {
        let mut keep_child = Vec::new();
        for &k in keep {
            let Some(c) = p
                .expr()
                .get(k)
                .and_then(|e| e.expr.downcast_ref::<Column>())
            else {
                return Ok(None);
            };
            keep_child.push(c.index());
        }
        let others_read_kept = p
            .expr()
            .iter()
            .enumerate()
            .any(|(i, e)| !keep.contains(&i) && reads_any(&e.expr, &keep_child));
        if others_read_kept {
            return Ok(None);
        }
        let Some((child, moved)) = keep_dictionary(p.input(), &keep_child, pass)? else {
            return Ok(None);
        };
        let mut exprs: Vec<ProjectionExpr> = p.expr().to_vec();
        if pass.is_some() {
            // The child's pass column, carried along as the last column.
            let last = child.schema().fields().len().saturating_sub(1);
            exprs.push(ProjectionExpr::new(
                Arc::new(Column::new(PASS, last)),
                PASS.to_string(),
            ));
        }
        return Ok(Some((
            Arc::new(ProjectionExec::try_new(exprs, child)?),
            moved,
        )));
    }
    if let Some(u) = plan.downcast_ref::<UnionExec>() {
        let mut children = Vec::with_capacity(u.inputs().len());
        let mut moved = false;
        for c in u.inputs() {
            let Some((c, m)) = keep_dictionary(c, keep, pass)? else {
                return Ok(None);
            };
            moved |= m;
            children.push(c);
        }
        return Ok(Some((
            replace_children_if_necessary(Arc::clone(plan), children)?,
            moved,
        )));
    }
    Ok(None)
}

/// A Parquet scan whose output is only dictionary columns, with its filter moved from the
/// Parquet reader into the projection as a last, boolean [`PASS`] column.
///
/// The reader's own filtering (late materialisation) pays per batch: it turns each
/// batch's answers into a row selection and reads the other columns through it, which
/// for dictionary keys costs more than reading them whole. The filter still prunes row
/// groups and pages by statistics, the scan's expression adapter still evaluates it once
/// per dictionary value ([`crate::dictscan`]), and [`DictAggregateExec`] drops the rows
/// that do not pass. Only for filters that read dictionary or fixed-width columns, so no
/// long string is decoded for every row; `None` for any other scan.
fn filter_as_column(
    config: &FileScanConfig,
    exprs: &[ProjectionExpr],
    is_dict: &dyn Fn(&str) -> bool,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some(source) = config.file_source().downcast_ref::<ParquetSource>() else {
        return Ok(None);
    };
    let Some(predicate) = source.filter() else {
        return Ok(None);
    };
    // A scan that stops after a number of rows counts the rows that pass its filter.
    if !source.table_parquet_options().global.pushdown_filters || config.limit.is_some() {
        return Ok(None);
    }
    let table = source.table_schema().table_schema();
    let mut eligible = true;
    predicate.apply(|n| {
        if let Some(c) = n.downcast_ref::<Column>() {
            eligible &= table.fields().get(c.index()).is_some_and(|f| {
                f.name() == c.name()
                    && match f.data_type() {
                        DataType::Utf8 => is_dict(c.name()),
                        t => t.is_primitive() || t == &DataType::Boolean,
                    }
            });
        } else if !crate::dictscan::row_wise(n) {
            eligible = false;
        }
        Ok(if eligible {
            TreeNodeRecursion::Continue
        } else {
            TreeNodeRecursion::Stop
        })
    })?;
    if !eligible {
        return Ok(None);
    }
    // The projection, as the scan applies it (over the table's columns), then the filter.
    let Some(scan) = config
        .file_source()
        .try_pushdown_projection(&ProjectionExprs::new(exprs.to_vec()))?
    else {
        return Ok(None);
    };
    let Some(projected) = scan.projection() else {
        return Ok(None);
    };
    let mut over_table: Vec<ProjectionExpr> = projected.iter().cloned().collect();
    over_table.push(ProjectionExpr::new(
        Arc::clone(&predicate),
        PASS.to_string(),
    ));
    // A fresh source (its projection is every table column), so the new projection may
    // read columns the old one did not output.
    let mut fresh = ParquetSource::new(source.table_schema().clone())
        .with_table_parquet_options(source.table_parquet_options().clone())
        .with_predicate(predicate)
        .with_pushdown_filters(false);
    if let Some(f) = source.parquet_file_reader_factory() {
        fresh = fresh.with_parquet_file_reader_factory(Arc::clone(f));
    }
    let Some(file_source) = fresh.try_pushdown_projection(&ProjectionExprs::new(over_table))?
    else {
        return Ok(None);
    };
    let mut new_config = config.clone();
    new_config.file_source = file_source;
    Ok(Some(Arc::new(DataSourceExec::new(Arc::new(new_config)))))
}

/// A partial (or single-stage) aggregation grouped by dictionary columns; see the module
/// docs. Its output is the replaced [`AggregateExec`]'s.
#[derive(Debug)]
pub struct DictAggregateExec {
    input: Arc<dyn ExecutionPlan>,
    /// Input columns of the group keys, in output order.
    keys: Vec<usize>,
    key_names: Vec<String>,
    aggr: Vec<Arc<AggregateFunctionExpr>>,
    filters: Vec<Option<Arc<dyn PhysicalExpr>>>,
    /// Per aggregate: the input column it counts distinct values of (read as a
    /// dictionary), or `None` for a groups accumulator.
    distinct: Vec<Option<usize>>,
    /// Final values (single-stage) rather than states (partial).
    single: bool,
    /// The input's boolean column of the scans' filters (see [`filter_as_column`]): rows
    /// where it is not `true` are dropped.
    pass: Option<usize>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl DictAggregateExec {
    fn new(
        agg: &AggregateExec,
        input: Arc<dyn ExecutionPlan>,
        keys: Vec<usize>,
        distinct: Vec<Option<usize>>,
        single: bool,
        pass: Option<usize>,
    ) -> Result<Self> {
        let schema = agg.schema();
        Ok(DictAggregateExec {
            properties: properties(&schema, &input),
            key_names: agg
                .group_expr()
                .expr()
                .iter()
                .map(|(_, n)| n.clone())
                .collect(),
            input,
            keys,
            aggr: agg.aggr_expr().to_vec(),
            filters: agg.filter_expr().to_vec(),
            distinct,
            single,
            pass,
            schema,
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }
}

/// The plan properties of a [`DictAggregateExec`] of `schema` over `input`: the input's
/// partitioning, every row at the end.
fn properties(schema: &SchemaRef, input: &Arc<dyn ExecutionPlan>) -> Arc<PlanProperties> {
    Arc::new(PlanProperties::new(
        EquivalenceProperties::new(Arc::clone(schema)),
        input.properties().output_partitioning().clone(),
        EmissionType::Final,
        Boundedness::Bounded,
    ))
}

impl DisplayAs for DictAggregateExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let keys: Vec<String> = self
            .keys
            .iter()
            .zip(&self.key_names)
            .map(|(k, n)| format!("{n}@{k}"))
            .collect();
        let aggr: Vec<&str> = self.aggr.iter().map(|a| a.name()).collect();
        write!(
            f,
            "DictAggregateExec: mode={}, gby=[{}], aggr=[{}]",
            if self.single { "Single" } else { "Partial" },
            keys.join(", "),
            aggr.join(", ")
        )?;
        match self.pass {
            Some(p) => write!(f, ", where={PASS}@{p}"),
            None => Ok(()),
        }
    }
}

impl ExecutionPlan for DictAggregateExec {
    fn name(&self) -> &str {
        "DictAggregateExec"
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Ok([input]) = <[_; 1]>::try_from(children) else {
            return internal_err!("DictAggregateExec takes one child");
        };
        Ok(Arc::new(DictAggregateExec {
            properties: properties(&self.schema, &input),
            input,
            keys: self.keys.clone(),
            key_names: self.key_names.clone(),
            aggr: self.aggr.clone(),
            filters: self.filters.clone(),
            distinct: self.distinct.clone(),
            single: self.single,
            pass: self.pass,
            schema: Arc::clone(&self.schema),
            metrics: ExecutionPlanMetricsSet::new(),
        }))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let mut input = self.input.execute(partition, Arc::clone(&context))?;
        let reservation = MemoryConsumer::new(format!("DictAggregateExec[{partition}]"))
            .register(context.memory_pool());
        let mut state = GroupState::new(
            self.keys.clone(),
            &self.aggr,
            &self.filters,
            &self.distinct,
            self.single,
            Arc::clone(&self.schema),
            reservation,
            context.session_config().batch_size(),
        )?;
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let pass = self.pass;
        let stream = futures::stream::once(async move {
            while let Some(batch) = input.next().await {
                let batch = batch?;
                let _timer = baseline.elapsed_compute().timer();
                match pass {
                    Some(p) => {
                        if let Some(batch) = passing(batch, p)? {
                            state.update(&batch)?;
                        }
                    }
                    None => state.update(&batch)?,
                }
            }
            let _timer = baseline.elapsed_compute().timer();
            let out = state.finish()?;
            baseline.record_output(out.iter().map(RecordBatch::num_rows).sum());
            Ok::<_, DataFusionError>(futures::stream::iter(out.into_iter().map(Ok)))
        })
        .map(|r| match r {
            Ok(s) => s.left_stream(),
            Err(e) => futures::stream::iter(vec![Err(e)]).right_stream(),
        })
        .flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// The rows of `batch` whose boolean column `pass` is `true`; `None` when there are none.
fn passing(batch: RecordBatch, pass: usize) -> Result<Option<RecordBatch>> {
    let Some(mask) = batch.column(pass).as_boolean_opt() else {
        return internal_err!("{PASS} is not boolean");
    };
    let mask = match mask.null_count() {
        0 => mask.clone(),
        _ => prep_null_mask_filter(mask),
    };
    Ok(match mask.true_count() {
        0 => None,
        n if n == batch.num_rows() => Some(batch),
        _ => Some(filter_record_batch(&batch, &mask)?),
    })
}

/// One key column: its distinct values interned, and the ids of the last dictionaries.
struct KeyColumn {
    input: usize,
    values: Box<dyn GroupValues>,
    /// Last dictionaries seen, newest last.
    cache: Vec<SeenDictionary>,
}

/// A dictionary's values (as `Utf8`, followed by one null for null keys) and the id of
/// each value that a row has used so far ([`UNSEEN`] otherwise: values no row uses must
/// not become groups).
struct SeenDictionary {
    values: ArrayRef,
    padded: ArrayRef,
    ids: Vec<usize>,
}

const UNSEEN: usize = usize::MAX;
const CACHED_DICTIONARIES: usize = 4;

impl KeyColumn {
    /// The id of each row's value.
    fn ids(&mut self, batch: &RecordBatch) -> Result<Vec<usize>> {
        let col = to_dict(Arc::clone(batch.column(self.input)))?;
        let dict = col.as_dictionary::<Int32Type>();
        let values = dict.values();
        let data = values.to_data();
        let pos = self
            .cache
            .iter()
            .position(|d| d.values.to_data().ptr_eq(&data));
        let pos = match pos {
            Some(p) => p,
            None => {
                let padded = crate::dictscan::values_and_null(values)?;
                if self.cache.len() >= CACHED_DICTIONARIES {
                    self.cache.remove(0);
                }
                self.cache.push(SeenDictionary {
                    values: Arc::clone(values),
                    ids: vec![UNSEEN; padded.len()],
                    padded,
                });
                self.cache.len() - 1
            }
        };
        let seen = &mut self.cache[pos];
        let null_slot = values.len();
        let keys = dict.keys();
        let slot =
            |k: Option<i32>| k.map_or(null_slot, |k| usize::try_from(k).unwrap_or(null_slot));
        // One gather; a value no earlier row used reads `UNSEEN` and sends the batch down
        // the slow path, which interns such values in the order of their first row.
        let gather = |ids: &[usize]| -> (Vec<usize>, bool) {
            let mut unseen = false;
            let out: Vec<usize> = if keys.null_count() == 0 {
                keys.values()
                    .iter()
                    .map(|&k| {
                        let id = ids.get(k as usize).copied().unwrap_or(0);
                        unseen |= id == UNSEEN;
                        id
                    })
                    .collect()
            } else {
                keys.iter()
                    .map(|k| {
                        let id = ids.get(slot(k)).copied().unwrap_or(0);
                        unseen |= id == UNSEEN;
                        id
                    })
                    .collect()
            };
            (out, unseen)
        };
        let (out, unseen) = gather(&seen.ids);
        if !unseen {
            return Ok(out);
        }
        let mut fresh: Vec<u32> = Vec::new();
        for k in keys.iter() {
            let s = slot(k);
            if let Some(id) = seen.ids.get_mut(s)
                && *id == UNSEEN
            {
                *id = UNSEEN - 1;
                fresh.push(u32::try_from(s).unwrap_or(u32::MAX));
            }
        }
        let picked = take(
            seen.padded.as_ref(),
            &UInt32Array::from(fresh.clone()),
            None,
        )?;
        let mut ids = Vec::with_capacity(fresh.len());
        self.values.intern(&[picked], &mut ids)?;
        for (s, id) in fresh.into_iter().zip(ids) {
            if let Some(slot) = seen.ids.get_mut(s as usize) {
                *slot = id;
            }
        }
        let (out, _) = gather(&seen.ids);
        Ok(out)
    }
}

/// One aggregate's running state.
enum Agg {
    /// DataFusion's groups accumulator, with its argument and filter expressions.
    Groups {
        acc: Box<dyn GroupsAccumulator>,
        args: Vec<Arc<dyn PhysicalExpr>>,
        filter: Option<Arc<dyn PhysicalExpr>>,
    },
    /// `count(distinct c)` of a dictionary column: `c`'s values interned like a key, and
    /// the distinct (group, value id) pairs.
    Distinct {
        values: KeyColumn,
        pairs: HashSet<u64, BuildPairHasher>,
    },
}

/// A multiplicative hash for the packed (group, value id) pairs.
#[derive(Default, Clone, Copy)]
struct BuildPairHasher;

#[derive(Default)]
struct PairHasher(u64);

impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u64(&mut self, v: u64) {
        let x = (v ^ (v >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        self.0 = x ^ (x >> 32);
    }

    fn write_u128(&mut self, v: u128) {
        let (lo, hi) = (v as u64, (v >> 64) as u64);
        self.write_u64(lo ^ hi.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    }
}

/// Two to four key columns: a group is its keys' value ids (32 bits each, packed into a
/// `u128`). While the ids are few, a group is found by indexing a dense table with the ids'
/// bits side by side; past [`DENSE_BITS`] bits, by a multiplicative hash of the packed ids.
/// (DataFusion's general `GroupValues` hashes and compares them as columns, several times
/// slower.)
struct PackedKeys {
    /// Each group's packed ids, in group order.
    groups: Vec<u128>,
    /// The dense table: bits per key, and per position the group + 1 (0: none yet).
    dense: Option<(Vec<u32>, Vec<u32>)>,
    /// The packed ids' groups, once the table would be too large.
    index: std::collections::HashMap<u128, usize, BuildPairHasher>,
}

/// At most this many keys are packed; more go to DataFusion's `GroupValues`.
const PACKED_KEYS: usize = 4;

/// The dense table has at most `2^DENSE_BITS` positions (16 MiB).
const DENSE_BITS: u32 = 22;

impl PackedKeys {
    fn new(keys: usize) -> Self {
        PackedKeys {
            groups: Vec::new(),
            dense: Some((vec![0; keys], vec![0; 1])),
            index: std::collections::HashMap::with_hasher(BuildPairHasher),
        }
    }

    /// Bits needed for ids up to `max`.
    fn bits_for(max: usize) -> u32 {
        usize::BITS - max.leading_zeros()
    }

    /// `packed`'s position in a dense table of `bits` per key.
    fn position(packed: u128, bits: &[u32]) -> usize {
        let mut pos = 0usize;
        let mut shift = 0u32;
        for (i, &b) in bits.iter().enumerate() {
            let id = ((packed >> (32 * i)) & 0xffff_ffff) as usize;
            pos |= id << shift;
            shift += b;
        }
        pos
    }

    /// Makes room in the dense table for ids up to `maxes`, or moves to the hash index.
    fn grow(&mut self, maxes: &[usize]) {
        let Some((bits, _)) = &self.dense else {
            return;
        };
        let wanted: Vec<u32> = bits
            .iter()
            .zip(maxes)
            .map(|(&b, &m)| b.max(Self::bits_for(m)))
            .collect();
        if &wanted == bits {
            return;
        }
        if wanted.iter().sum::<u32>() > DENSE_BITS {
            self.dense = None;
            self.index = self
                .groups
                .iter()
                .enumerate()
                .map(|(g, &p)| (p, g))
                .collect();
            return;
        }
        let mut table = vec![0u32; 1usize << wanted.iter().sum::<u32>()];
        for (g, &p) in self.groups.iter().enumerate() {
            if let Some(slot) = table.get_mut(Self::position(p, &wanted)) {
                *slot = u32::try_from(g + 1).unwrap_or(u32::MAX);
            }
        }
        self.dense = Some((wanted, table));
    }

    /// The group of each row, given each key's value ids.
    fn intern(&mut self, ids: &[Vec<usize>], out: &mut Vec<usize>) -> Result<()> {
        let rows = ids.first().map_or(0, Vec::len);
        let mut maxes = Vec::with_capacity(ids.len());
        for k in ids {
            let max = k.iter().copied().max().unwrap_or(0);
            if k.len() != rows || max > u32::MAX as usize {
                return internal_err!("key ids out of range");
            }
            maxes.push(max);
        }
        let pack = |r: usize| {
            ids.iter()
                .enumerate()
                .fold(0u128, |p, (i, k)| p | ((k[r] as u128) << (32 * i)))
        };
        self.grow(&maxes);
        out.clear();
        out.reserve(rows);
        match &mut self.dense {
            Some((bits, table)) => {
                // Each row's position, a key at a time.
                let mut pos = vec![0usize; rows];
                let mut shift = 0u32;
                for (k, &b) in ids.iter().zip(bits.iter()) {
                    for (p, &id) in pos.iter_mut().zip(k) {
                        *p |= id << shift;
                    }
                    shift += b;
                }
                for (r, &p) in pos.iter().enumerate() {
                    let Some(slot) = table.get_mut(p) else {
                        return internal_err!("dense group table too small");
                    };
                    if *slot == 0 {
                        self.groups.push(pack(r));
                        *slot = u32::try_from(self.groups.len()).unwrap_or(u32::MAX);
                    }
                    out.push(*slot as usize - 1);
                }
            }
            None => {
                // Runs of equal keys (sorted or clustered rows) find their group once.
                let mut last: Option<(u128, usize)> = None;
                for r in 0..rows {
                    let key = pack(r);
                    let g = match last {
                        Some((p, g)) if p == key => g,
                        _ => {
                            let next = self.groups.len();
                            let g = *self.index.entry(key).or_insert(next);
                            if g == next {
                                self.groups.push(key);
                            }
                            last = Some((key, g));
                            g
                        }
                    };
                    out.push(g);
                }
            }
        }
        Ok(())
    }

    /// Key `i`'s value id of every group.
    fn ids(&self, i: usize) -> UInt32Array {
        self.groups
            .iter()
            .map(|&p| ((p >> (32 * i)) & 0xffff_ffff) as u32)
            .collect()
    }

    fn size(&self) -> usize {
        self.index.capacity() * 24
            + self.groups.capacity() * 16
            + self.dense.as_ref().map_or(0, |(_, t)| t.capacity() * 4)
    }
}

/// How the groups of two or more keys are found.
enum Combined {
    Packed(PackedKeys),
    /// More keys than [`PACKED_KEYS`]: the ids interned as integer columns.
    Values(Box<dyn GroupValues>),
}

impl BuildHasher for BuildPairHasher {
    type Hasher = PairHasher;

    fn build_hasher(&self) -> PairHasher {
        PairHasher(0)
    }
}

struct GroupState {
    keys: Vec<KeyColumn>,
    /// Two or more keys: groups interned from the per-key ids.
    combined: Option<Combined>,
    aggs: Vec<Agg>,
    single: bool,
    schema: SchemaRef,
    reservation: MemoryReservation,
    batch_size: usize,
    groups: Vec<usize>,
}

fn string_values() -> Result<Box<dyn GroupValues>> {
    let schema = Arc::new(Schema::new(vec![datafusion::arrow::datatypes::Field::new(
        "v",
        DataType::Utf8,
        true,
    )]));
    new_group_values(schema, &GroupOrdering::None)
}

fn key_column(input: usize) -> Result<KeyColumn> {
    Ok(KeyColumn {
        input,
        values: string_values()?,
        cache: Vec::new(),
    })
}

impl GroupState {
    #[allow(clippy::too_many_arguments)]
    fn new(
        keys: Vec<usize>,
        aggr: &[Arc<AggregateFunctionExpr>],
        filters: &[Option<Arc<dyn PhysicalExpr>>],
        distinct: &[Option<usize>],
        single: bool,
        schema: SchemaRef,
        reservation: MemoryReservation,
        batch_size: usize,
    ) -> Result<Self> {
        let combined = if keys.len() > 1 && keys.len() <= PACKED_KEYS {
            Some(Combined::Packed(PackedKeys::new(keys.len())))
        } else if keys.len() > 1 {
            let fields: Vec<_> = (0..keys.len())
                .map(|i| {
                    datafusion::arrow::datatypes::Field::new(
                        format!("k{i}"),
                        DataType::UInt32,
                        false,
                    )
                })
                .collect();
            Some(Combined::Values(new_group_values(
                Arc::new(Schema::new(fields)),
                &GroupOrdering::None,
            )?))
        } else {
            None
        };
        let mut aggs = Vec::with_capacity(aggr.len());
        for (i, a) in aggr.iter().enumerate() {
            aggs.push(match distinct.get(i).copied().flatten() {
                Some(input) => Agg::Distinct {
                    values: key_column(input)?,
                    pairs: HashSet::with_hasher(BuildPairHasher),
                },
                None => Agg::Groups {
                    acc: a.create_groups_accumulator()?,
                    args: a.expressions(),
                    filter: filters.get(i).cloned().flatten(),
                },
            });
        }
        Ok(GroupState {
            keys: keys.into_iter().map(key_column).collect::<Result<_>>()?,
            combined,
            aggs,
            single,
            schema,
            reservation,
            batch_size: batch_size.max(1),
            groups: Vec::new(),
        })
    }

    fn num_groups(&self) -> usize {
        match &self.combined {
            Some(Combined::Packed(c)) => c.groups.len(),
            Some(Combined::Values(c)) => c.len(),
            None => self.keys.first().map_or(0, |k| k.values.len()),
        }
    }

    fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows();
        if rows == 0 {
            return Ok(());
        }
        match &mut self.combined {
            None => {
                let Some(k) = self.keys.first_mut() else {
                    return internal_err!("DictAggregateExec without keys");
                };
                self.groups = k.ids(batch)?;
            }
            Some(Combined::Packed(packed)) => {
                let ids = self
                    .keys
                    .iter_mut()
                    .map(|k| k.ids(batch))
                    .collect::<Result<Vec<_>>>()?;
                packed.intern(&ids, &mut self.groups)?;
            }
            Some(Combined::Values(combined)) => {
                let mut cols: Vec<ArrayRef> = Vec::with_capacity(self.keys.len());
                for k in &mut self.keys {
                    let ids = k.ids(batch)?;
                    let ids: UInt32Array = ids
                        .into_iter()
                        .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
                        .collect();
                    cols.push(Arc::new(ids));
                }
                self.groups.clear();
                combined.intern(&cols, &mut self.groups)?;
            }
        }
        let total = self.num_groups();
        let mut size = 0;
        for agg in &mut self.aggs {
            match agg {
                Agg::Groups { acc, args, filter } => {
                    let values = args
                        .iter()
                        .map(|e| e.evaluate(batch)?.into_array(rows))
                        .collect::<Result<Vec<_>>>()?;
                    let filter = match filter {
                        Some(f) => {
                            let a = f.evaluate(batch)?.into_array(rows)?;
                            match a.as_boolean_opt() {
                                Some(b) => Some(b.clone()),
                                None => return internal_err!("aggregate filter is not boolean"),
                            }
                        }
                        None => None,
                    };
                    acc.update_batch(&values, &self.groups, filter.as_ref(), total)?;
                    size += acc.size();
                }
                Agg::Distinct { values, pairs } => {
                    let ids = values.ids(batch)?;
                    let nulls = batch.column(values.input).logical_nulls();
                    for (row, (&g, &v)) in self.groups.iter().zip(&ids).enumerate() {
                        if nulls.as_ref().is_none_or(|n| n.is_valid(row)) {
                            pairs.insert(((g as u64) << 32) | (v as u64 & 0xffff_ffff));
                        }
                    }
                    size += values.values.size() + pairs.capacity() * 9;
                }
            }
        }
        size += self.keys.iter().map(|k| k.values.size()).sum::<usize>()
            + match &self.combined {
                Some(Combined::Packed(c)) => c.size(),
                Some(Combined::Values(c)) => c.size(),
                None => 0,
            };
        self.reservation.try_resize(size)
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>> {
        let n = self.num_groups();
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        match &mut self.combined {
            None => {
                for k in &mut self.keys {
                    columns.extend(k.values.emit(EmitTo::All)?);
                }
            }
            Some(combined) => {
                let ids: Vec<ArrayRef> = match combined {
                    Combined::Packed(p) => (0..self.keys.len())
                        .map(|i| Arc::new(p.ids(i)) as ArrayRef)
                        .collect(),
                    Combined::Values(c) => c.emit(EmitTo::All)?,
                };
                for (k, ids) in self.keys.iter_mut().zip(ids) {
                    let values = k.values.emit(EmitTo::All)?;
                    let Some(values) = values.into_iter().next() else {
                        return internal_err!("no key values");
                    };
                    columns.push(take(values.as_ref(), ids.as_ref(), None)?);
                }
            }
        }
        for agg in &mut self.aggs {
            match agg {
                Agg::Groups { acc, .. } => {
                    if self.single {
                        columns.push(acc.evaluate(EmitTo::All)?);
                    } else {
                        columns.extend(acc.state(EmitTo::All)?);
                    }
                }
                Agg::Distinct { values, pairs } => {
                    let field = self.schema.fields().get(columns.len()).cloned();
                    columns.push(distinct_output(values, pairs, n, self.single, field)?);
                }
            }
        }
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)?;
        self.reservation.free();
        let mut out = Vec::with_capacity(n.div_ceil(self.batch_size));
        let mut offset = 0;
        while offset < n {
            let len = self.batch_size.min(n - offset);
            out.push(batch.slice(offset, len));
            offset += len;
        }
        Ok(out)
    }
}

/// The distinct count of each group (single stage), or each group's list of distinct
/// values (the state `count(distinct)` merges in its final stage).
fn distinct_output(
    values: &mut KeyColumn,
    pairs: &HashSet<u64, BuildPairHasher>,
    groups: usize,
    single: bool,
    field: Option<FieldRef>,
) -> Result<ArrayRef> {
    if single {
        let mut counts = vec![0i64; groups];
        for p in pairs {
            if let Some(c) = counts.get_mut((p >> 32) as usize) {
                *c += 1;
            }
        }
        return Ok(Arc::new(Int64Array::from(counts)));
    }
    let Some(DataType::List(item)) = field.map(|f| f.data_type().clone()) else {
        return internal_err!("count(distinct) state is not a list");
    };
    let mut sorted: Vec<u64> = pairs.iter().copied().collect();
    sorted.sort_unstable();
    let mut offsets = Vec::with_capacity(groups + 1);
    offsets.push(0i32);
    let mut at = 0usize;
    for g in 0..groups as u64 {
        while at < sorted.len() && (sorted[at] >> 32) == g {
            at += 1;
        }
        offsets.push(i32::try_from(at).map_err(|_| {
            DataFusionError::Execution("too many distinct values for one partition".into())
        })?);
    }
    let ids: UInt32Array = sorted.iter().map(|p| (p & 0xffff_ffff) as u32).collect();
    let emitted = values.values.emit(EmitTo::All)?;
    let Some(all) = emitted.into_iter().next() else {
        return internal_err!("no distinct values");
    };
    let items = take(all.as_ref(), &ids, None)?;
    let items = if items.data_type() == item.data_type() {
        items
    } else {
        cast(&items, item.data_type())?
    };
    Ok(Arc::new(ListArray::try_new(
        item,
        OffsetBuffer::new(offsets.into()),
        items,
        None,
    )?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use datafusion::arrow::array::StringArray;
    use datafusion::arrow::datatypes::Field;

    fn batch(values: &ArrayRef, keys: Vec<Option<i32>>) -> RecordBatch {
        let keys = Int32Array::from(keys);
        let dict = DictionaryArray::<Int32Type>::try_new(keys, Arc::clone(values)).unwrap();
        let schema = Schema::new(vec![Field::new("k", dict_type(), true)]);
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(dict)]).unwrap()
    }

    #[test]
    fn packed_keys_keep_their_groups_as_the_table_grows_and_after_it_moves_to_hashing() {
        let mut p = PackedKeys::new(2);
        let mut out = Vec::new();
        // Small ids: the dense table.
        p.intern(&[vec![0, 1, 0, 1], vec![0, 0, 0, 2]], &mut out)
            .unwrap();
        assert_eq!(out, vec![0, 1, 0, 2]);
        assert!(p.dense.is_some());
        // Larger ids grow the table; the old pairs keep their groups.
        p.intern(&[vec![1, 300, 0], vec![2, 7, 0]], &mut out)
            .unwrap();
        assert_eq!(out, vec![2, 3, 0]);
        assert!(p.dense.is_some());
        // Ids too large for a dense table: hashing, the same groups.
        let big = 1usize << 20;
        p.intern(&[vec![big, 0, 300, big], vec![big, 0, 7, big]], &mut out)
            .unwrap();
        assert_eq!(out, vec![4, 0, 3, 4]);
        assert!(p.dense.is_none());
        p.intern(&[vec![1, big], vec![2, 3]], &mut out).unwrap();
        assert_eq!(out, vec![2, 5]);
        let firsts: Vec<u32> = p.ids(0).values().to_vec();
        let seconds: Vec<u32> = p.ids(1).values().to_vec();
        assert_eq!(firsts, vec![0, 1, 1, 300, big as u32, big as u32]);
        assert_eq!(seconds, vec![0, 0, 2, 7, big as u32, 3]);
        // Ids that do not fit 32 bits are refused, not folded into another group.
        assert!(p.intern(&[vec![1 << 40], vec![0]], &mut out).is_err());
    }

    #[test]
    fn only_values_that_rows_use_become_groups() {
        let values: ArrayRef = Arc::new(StringArray::from(vec!["a", "b", "c"]));
        let mut k = key_column(0).unwrap();
        let ids = k
            .ids(&batch(&values, vec![Some(2), Some(0), Some(2), None]))
            .unwrap();
        assert_eq!(ids, vec![0, 1, 0, 2]);
        assert_eq!(k.values.len(), 3, "c, a and null; b is unused");
        // The next batch of the same column chunk shares the dictionary: `b` is new.
        let ids = k.ids(&batch(&values, vec![Some(1), Some(0)])).unwrap();
        assert_eq!(ids, vec![3, 1]);
        // Another chunk's dictionary with overlapping values maps to the same groups.
        let other: ArrayRef = Arc::new(StringArray::from(vec!["c", "z", "a"]));
        let ids = k
            .ids(&batch(&other, vec![Some(2), Some(1), Some(0)]))
            .unwrap();
        assert_eq!(ids, vec![1, 4, 0]);
        let emitted = k.values.emit(EmitTo::All).unwrap();
        let strings = emitted[0].as_string::<i32>();
        let shown: Vec<Option<&str>> = strings.iter().collect();
        assert_eq!(
            shown,
            vec![Some("c"), Some("a"), None, Some("b"), Some("z")]
        );
    }

    #[test]
    fn plain_strings_become_a_dictionary_without_hashing() {
        let plain: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None, Some("x")]));
        let d = to_dict(Arc::clone(&plain)).unwrap();
        assert_eq!(d.data_type(), &dict_type());
        let back = cast(&d, &DataType::Utf8).unwrap();
        assert_eq!(back.as_ref(), plain.as_ref());
        let keep = DictKeep::new(Arc::new(Column::new("s", 0)));
        let schema = Schema::new(vec![Field::new("s", DataType::Utf8, true)]);
        let b = RecordBatch::try_new(Arc::new(schema.clone()), vec![plain]).unwrap();
        let out = keep.evaluate(&b).unwrap().into_array(3).unwrap();
        assert_eq!(out.data_type(), &dict_type());
        assert_eq!(
            keep.return_field(&schema).unwrap().data_type(),
            &dict_type()
        );
    }
}
