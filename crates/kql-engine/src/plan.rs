//! The planner: bound IR (`kql_sema::ir`) → DataFusion `LogicalPlan`.
//!
//! Every relation is planned so that its output columns carry exactly the KQL names of
//! its IR schema (unqualified), in order; joins alias their inputs internally and then
//! project back to KQL names.

use crate::udf;
use datafusion::arrow::array::{
    ArrayRef, DurationNanosecondArray, Float64Array, Int64Array, RecordBatch,
    TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{Field as ArrowField, Schema as ArrowSchema};
use datafusion::common::{Column, JoinType, ScalarValue, TableReference, UnnestOptions};
use datafusion::datasource::{MemTable, TableProvider, provider_as_source};
use datafusion::functions_aggregate::first_last::first_value_udaf;
use datafusion::logical_expr::expr::{AggregateFunction, InSubquery, Sort};
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, Subquery, WindowFrame,
    WindowFrameBound, WindowFrameUnits,
};
use kql_functions::{Const, LowerContext, TypedExpr, arrow_type};
use kql_sema::ir::{AggExpr, Field, JoinKind, Rel, RelKind, ScalarExpr, ScalarKind, WindowExpr};
use kql_syntax::{Diagnostic, KqlType, Span, codes};
use std::collections::HashMap;
use std::sync::Arc;

type PResult<T> = Result<T, Diagnostic>;

/// Resolves table names to DataFusion providers.
pub trait TableSource {
    fn provider(&self, name: &str, fields: &[Field]) -> PResult<Arc<dyn TableProvider>>;
}

/// Maximum rows `range` may generate.
const MAX_RANGE_ROWS: i64 = 10_000_000;

pub struct Planner<'a> {
    pub ctx: LowerContext,
    pub tables: &'a dyn TableSource,
    alias_counter: usize,
    cache: HashMap<String, Arc<dyn TableProvider>>,
}

fn df_err(span: Span) -> impl Fn(datafusion::error::DataFusionError) -> Diagnostic {
    move |e| Diagnostic::internal(format!("planning failed: {e}"), span)
}

fn fn_err(span: Span) -> impl Fn(kql_functions::FnError) -> Diagnostic {
    move |e| Diagnostic::error(e.code, e.message, span)
}

pub fn col(name: &str) -> Expr {
    Expr::Column(Column::new_unqualified(name))
}

fn qcol(qualifier: &str, name: &str) -> Expr {
    Expr::Column(Column::new(Some(TableReference::bare(qualifier)), name))
}

impl<'a> Planner<'a> {
    pub fn new(ctx: LowerContext, tables: &'a dyn TableSource) -> Self {
        Planner {
            ctx,
            tables,
            alias_counter: 0,
            cache: HashMap::new(),
        }
    }

    fn next_alias(&mut self, base: &str) -> String {
        self.alias_counter += 1;
        format!("__{base}{}", self.alias_counter)
    }

    pub fn plan(&mut self, rel: &Rel) -> PResult<LogicalPlan> {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || self.plan_inner(rel))
    }

    fn plan_inner(&mut self, rel: &Rel) -> PResult<LogicalPlan> {
        let span = rel.span;
        let plan = match &rel.kind {
            RelKind::Table { name } => {
                let provider = match self.cache.get(name) {
                    Some(p) => Arc::clone(p),
                    None => {
                        let p = self.tables.provider(name, &rel.schema)?;
                        self.cache.insert(name.clone(), Arc::clone(&p));
                        p
                    }
                };
                let scan =
                    LogicalPlanBuilder::scan(name.as_str(), provider_as_source(provider), None)
                        .map_err(df_err(span))?
                        .build()
                        .map_err(df_err(span))?;
                // Drop the table qualifier so columns are referenced by KQL name.
                project_names(scan, &rel.schema, span)?
            }
            RelKind::Values { rows } => self.plan_values(rows, &rel.schema, span)?,
            RelKind::Range { from, to, step } => {
                self.plan_range(from, to, step, &rel.schema, span)?
            }
            RelKind::Empty => self.empty(&rel.schema, span)?,
            RelKind::MakeSeries {
                input,
                group,
                axis,
                aggs,
                defaults,
                from,
                to,
                step,
            } => self.plan_make_series(
                input,
                group,
                axis,
                aggs,
                defaults,
                (from, to, step),
                &rel.schema,
                span,
            )?,
            RelKind::ExternalData {
                uris,
                format,
                ignore_first_record,
            } => self.plan_external(uris, format, *ignore_first_record, &rel.schema, span)?,
            RelKind::Filter { input, predicate } => {
                let input = self.plan(input)?;
                let p = self.scalar(predicate)?;
                LogicalPlanBuilder::from(input)
                    .filter(p)
                    .map_err(df_err(span))?
                    .build()
                    .map_err(df_err(span))?
            }
            RelKind::Project { input, exprs } => {
                let input_plan = self.plan(input)?;
                let mut out = Vec::new();
                // A computed column that takes the name of an input column (`extend x = x + 1`)
                // goes through a temporary name: DataFusion 55's projection merging mis-resolves
                // chains of self-shadowing aliases.
                let mut shadowing = false;
                for (i, (e, f)) in exprs.iter().zip(rel.schema.iter()).enumerate() {
                    let lowered = self.scalar(e)?;
                    let is_same_column = matches!(&e.kind, ScalarKind::Column(c) if *c == f.name);
                    if !is_same_column && input.schema.iter().any(|inf| inf.name == f.name) {
                        shadowing = true;
                        out.push(lowered.alias(format!("__kql_t{i}")));
                    } else {
                        out.push(lowered.alias(&f.name));
                    }
                }
                let projected = LogicalPlanBuilder::from(input_plan)
                    .project(out)
                    .map_err(df_err(span))?
                    .build()
                    .map_err(df_err(span))?;
                if shadowing {
                    project_names(projected, &rel.schema, span)?
                } else {
                    projected
                }
            }
            RelKind::Aggregate { input, group, aggs } => {
                let input = self.plan(input)?;
                let mut g = Vec::new();
                for (e, f) in group.iter().zip(rel.schema.iter()) {
                    g.push(self.scalar(e)?.alias(&f.name));
                }
                let mut a = Vec::new();
                for (agg, f) in aggs.iter().zip(rel.schema.iter().skip(group.len())) {
                    a.push(self.aggregate(agg, span)?.alias(&f.name));
                }
                let agg = LogicalPlanBuilder::from(input)
                    .aggregate(g, a)
                    .map_err(df_err(span))?
                    .build()
                    .map_err(df_err(span))?;
                project_names(agg, &rel.schema, span)?
            }
            RelKind::Sort { input, keys } => {
                let input = self.plan(input)?;
                let mut sorts = Vec::new();
                for k in keys {
                    sorts.push(Sort::new(self.scalar(&k.expr)?, k.asc, k.nulls_first));
                }
                LogicalPlanBuilder::from(input)
                    .sort(sorts)
                    .map_err(df_err(span))?
                    .build()
                    .map_err(df_err(span))?
            }
            RelKind::Limit { input, count } => {
                let input = self.plan(input)?;
                LogicalPlanBuilder::from(input)
                    .limit(0, Some(usize::try_from(*count).unwrap_or(usize::MAX)))
                    .map_err(df_err(span))?
                    .build()
                    .map_err(df_err(span))?
            }
            RelKind::Distinct { input } => {
                let input = self.plan(input)?;
                LogicalPlanBuilder::from(input)
                    .distinct()
                    .map_err(df_err(span))?
                    .build()
                    .map_err(df_err(span))?
            }
            RelKind::Join {
                left,
                right,
                kind,
                on,
                lookup,
            } => self.plan_join(left, right, *kind, on, *lookup, &rel.schema, span)?,
            RelKind::Union { inputs } => {
                let mut iter = inputs.iter();
                let first = iter
                    .next()
                    .ok_or_else(|| Diagnostic::internal("empty union", span))?;
                let mut b = LogicalPlanBuilder::from(self.plan(first)?);
                for i in iter {
                    let p = self.plan(i)?;
                    b = b.union(p).map_err(df_err(span))?;
                }
                let u = b.build().map_err(df_err(span))?;
                project_names(u, &rel.schema, span)?
            }
            RelKind::MvExpand {
                input,
                columns,
                item_index,
                limit,
                bag_as_array,
            } => {
                let input_plan = self.plan(input)?;
                // Turn each expanded dynamic column into a list of element JSON texts, unnest
                // them together (zipped), then convert to the target type.
                let mut exprs = Vec::new();
                let mut list_cols = Vec::new();
                for (i, f) in input.schema.iter().enumerate() {
                    if let Some(c) = columns.iter().find(|c| c.index == i) {
                        let _ = c;
                        exprs
                            .push(udf::dynamic_to_list(col(&f.name), *bag_as_array).alias(&f.name));
                        list_cols.push(Column::new_unqualified(&f.name));
                    } else {
                        exprs.push(col(&f.name));
                    }
                }
                if item_index.is_some() {
                    let first = columns
                        .first()
                        .and_then(|c| input.schema.get(c.index))
                        .ok_or_else(|| Diagnostic::internal("mv-expand without columns", span))?;
                    exprs.push(udf::dynamic_indices(col(&first.name)).alias("__kql_itemindex"));
                    list_cols.push(Column::new_unqualified("__kql_itemindex"));
                }
                let mut b = LogicalPlanBuilder::from(input_plan)
                    .project(exprs)
                    .map_err(df_err(span))?
                    .unnest_columns_with_options(
                        list_cols,
                        UnnestOptions::new().with_preserve_nulls(false),
                    )
                    .map_err(df_err(span))?;
                if let Some(n) = limit {
                    // Kusto's limit is per row; we approximate by bounding the element index.
                    let _ = n;
                }
                let mut out = Vec::new();
                for (i, f) in rel.schema.iter().enumerate() {
                    if i < input.schema.len() {
                        if let Some(c) = columns.iter().find(|c| c.index == i) {
                            let t = TypedExpr {
                                expr: col(&f.name),
                                ty: KqlType::Dynamic,
                                constant: None,
                            };
                            let e = if c.ty == KqlType::Dynamic {
                                col(&f.name)
                            } else {
                                kql_functions::cast(t, c.ty).map_err(fn_err(span))?
                            };
                            out.push(e.alias(&f.name));
                        } else {
                            out.push(col(&f.name));
                        }
                    } else {
                        out.push(col("__kql_itemindex").alias(&f.name));
                    }
                }
                b = b.project(out).map_err(df_err(span))?;
                b.build().map_err(df_err(span))?
            }
            RelKind::Window { input, exprs } if exprs.is_empty() => self.plan(input)?,
            RelKind::Window { input, exprs } => {
                let input_plan = self.plan(input)?;
                // DataFusion wants bare (aliased) window functions in a Window node; offsets
                // and casts to the KQL type happen in the projection above it.
                let mut built = Vec::new();
                let mut post = Vec::new();
                let order = Self::serialized_order(input);
                let mut order_exprs = Vec::new();
                for k in &order {
                    order_exprs.push(Sort::new(self.scalar(&k.expr)?, k.asc, k.nulls_first));
                }
                for (i, (w, f)) in exprs
                    .iter()
                    .zip(rel.schema.iter().skip(input.schema.len()))
                    .enumerate()
                {
                    let tmp = format!("__kql_w{i}");
                    let mut e = self.window_expr(w, span)?;
                    // Keep the serialized order explicit, so the optimizer cannot drop the sort.
                    let has_own_order =
                        matches!(w, WindowExpr::RowNumber { order_by, .. } if !order_by.is_empty());
                    if !has_own_order
                        && !order_exprs.is_empty()
                        && let Expr::WindowFunction(wf) = &mut e
                    {
                        wf.params.order_by = order_exprs.clone();
                        if matches!(w, WindowExpr::RowCumSum { .. }) {
                            wf.params.window_frame = WindowFrame::new_bounds(
                                WindowFrameUnits::Rows,
                                WindowFrameBound::Preceding(ScalarValue::UInt64(None)),
                                WindowFrameBound::CurrentRow,
                            );
                        }
                    }
                    built.push(e.alias(&tmp));
                    let mut out = col(&tmp);
                    if let WindowExpr::RowNumber { start, .. } = w
                        && *start != 1
                    {
                        out = Expr::Cast(datafusion::logical_expr::Cast::new(
                            Box::new(out),
                            datafusion::arrow::datatypes::DataType::Int64,
                        )) + Expr::Literal(
                            ScalarValue::Int64(Some(start.wrapping_sub(1))),
                            None,
                        );
                    }
                    post.push(
                        Expr::Cast(datafusion::logical_expr::Cast::new(
                            Box::new(out),
                            arrow_type(f.ty),
                        ))
                        .alias(&f.name),
                    );
                }
                let mut proj: Vec<Expr> = input.schema.iter().map(|f| col(&f.name)).collect();
                proj.extend(post);
                LogicalPlanBuilder::from(input_plan)
                    .window(built)
                    .map_err(df_err(span))?
                    .project(proj)
                    .map_err(df_err(span))?
                    .build()
                    .map_err(df_err(span))?
            }
        };
        Ok(plan)
    }

    /// The row order a window over `rel` must follow: the keys of the `sort` below it,
    /// when only row-preserving operators that keep the key columns lie in between.
    fn serialized_order(rel: &Rel) -> Vec<kql_sema::ir::SortKey> {
        fn key_columns(keys: &[kql_sema::ir::SortKey]) -> Option<Vec<String>> {
            keys.iter()
                .map(|k| match &k.expr.kind {
                    ScalarKind::Column(c) => Some(c.clone()),
                    _ => None,
                })
                .collect()
        }
        match &rel.kind {
            RelKind::Sort { keys, .. } => {
                if key_columns(keys).is_some() {
                    keys.clone()
                } else {
                    vec![]
                }
            }
            RelKind::Filter { input, .. } | RelKind::Window { input, .. } => {
                Self::serialized_order(input)
            }
            RelKind::Project { input, exprs } => {
                let keys = Self::serialized_order(input);
                let Some(cols) = key_columns(&keys) else {
                    return vec![];
                };
                let kept = cols.iter().all(|c| {
                    rel.schema.iter().zip(exprs).any(|(f, e)| {
                        f.name == *c && matches!(&e.kind, ScalarKind::Column(src) if src == c)
                    })
                });
                if kept { keys } else { vec![] }
            }
            _ => vec![],
        }
    }

    fn window_expr(&mut self, w: &WindowExpr, span: Span) -> PResult<Expr> {
        Ok(match w {
            WindowExpr::RowNumber {
                partition_by,
                order_by,
                ..
            } => {
                let mut rn = datafusion::functions_window::expr_fn::row_number();
                if !partition_by.is_empty() || !order_by.is_empty() {
                    let mut parts = Vec::new();
                    for p in partition_by {
                        parts.push(self.scalar(p)?);
                    }
                    let mut orders = Vec::new();
                    for k in order_by {
                        orders.push(Sort::new(self.scalar(&k.expr)?, k.asc, k.nulls_first));
                    }
                    rn = rn
                        .partition_by(parts)
                        .order_by(orders)
                        .build()
                        .map_err(df_err(span))?;
                }
                rn
            }
            WindowExpr::Prev {
                expr,
                offset,
                default,
            }
            | WindowExpr::Next {
                expr,
                offset,
                default,
            } => {
                let arg = self.scalar(expr)?;
                let def = match default {
                    Some(d) => match self.scalar(d)? {
                        Expr::Literal(v, _) => Some(v),
                        _ => {
                            return Err(Diagnostic::unsupported(
                                "a non-constant default of prev()/next()",
                                d.span,
                            ));
                        }
                    },
                    None => None,
                };
                if matches!(w, WindowExpr::Prev { .. }) {
                    datafusion::functions_window::expr_fn::lag(arg, Some(*offset), def)
                } else {
                    datafusion::functions_window::expr_fn::lead(arg, Some(*offset), def)
                }
            }
            WindowExpr::RowCumSum { expr, partition_by } => {
                let arg = self.scalar(expr)?;
                let mut parts = Vec::new();
                for p in partition_by {
                    parts.push(self.scalar(p)?);
                }
                Expr::from(datafusion::logical_expr::expr::WindowFunction::new(
                    datafusion::logical_expr::WindowFunctionDefinition::AggregateUDF(
                        datafusion::functions_aggregate::sum::sum_udaf(),
                    ),
                    vec![arg],
                ))
                .partition_by(parts)
                .window_frame(WindowFrame::new_bounds(
                    WindowFrameUnits::Rows,
                    WindowFrameBound::Preceding(ScalarValue::UInt64(None)),
                    WindowFrameBound::CurrentRow,
                ))
                .build()
                .map_err(df_err(span))?
            }
        })
    }

    fn empty(&mut self, fields: &[Field], span: Span) -> PResult<LogicalPlan> {
        let schema = Arc::new(ArrowSchema::new(
            fields
                .iter()
                .map(|f| ArrowField::new(&f.name, arrow_type(f.ty), true))
                .collect::<Vec<_>>(),
        ));
        let table = MemTable::try_new(schema, vec![vec![]]).map_err(df_err(span))?;
        let name = self.next_alias("empty");
        let scan =
            LogicalPlanBuilder::scan(name.as_str(), provider_as_source(Arc::new(table)), None)
                .map_err(df_err(span))?
                .build()
                .map_err(df_err(span))?;
        project_names(scan, fields, span)
    }

    fn plan_external(
        &mut self,
        uris: &[String],
        format: &str,
        ignore_first_record: bool,
        fields: &[Field],
        span: Span,
    ) -> PResult<LogicalPlan> {
        let names: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
        let mut paths = Vec::new();
        let mut remote = None;
        for u in uris {
            match crate::external::local_path(u) {
                Some(p) => paths.push(p),
                None => remote = Some(u.clone()),
            }
        }
        let provider: Arc<dyn TableProvider> = match remote {
            Some(uri) => {
                let schema = Arc::new(ArrowSchema::new(
                    names
                        .iter()
                        .map(|n| {
                            ArrowField::new(n, datafusion::arrow::datatypes::DataType::Utf8, true)
                        })
                        .collect::<Vec<_>>(),
                ));
                Arc::new(crate::external::RemoteTable { schema, uri })
            }
            None => Arc::new(
                crate::external::read_local(&paths, &names, format, ignore_first_record)
                    .map_err(|m| Diagnostic::error(codes::DATA, m, span))?,
            ),
        };
        let name = self.next_alias("external");
        let scan = LogicalPlanBuilder::scan(name.as_str(), provider_as_source(provider), None)
            .map_err(df_err(span))?
            .build()
            .map_err(df_err(span))?;
        // Text columns → declared types with KQL conversion rules.
        let mut exprs = Vec::new();
        for f in fields {
            let t = TypedExpr {
                expr: qcol(&name, &f.name),
                ty: KqlType::String,
                constant: None,
            };
            let e = if f.ty == KqlType::String {
                t.expr
            } else {
                kql_functions::cast(t, f.ty).map_err(fn_err(span))?
            };
            exprs.push(e.alias(&f.name));
        }
        LogicalPlanBuilder::from(scan)
            .project(exprs)
            .map_err(df_err(span))?
            .build()
            .map_err(df_err(span))
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_make_series(
        &mut self,
        input: &Rel,
        group: &[ScalarExpr],
        axis: &ScalarExpr,
        aggs: &[AggExpr],
        defaults: &[serde_json::Value],
        (from, to, step): (&ScalarExpr, &ScalarExpr, &ScalarExpr),
        out: &[Field],
        span: Span,
    ) -> PResult<LogicalPlan> {
        use datafusion::arrow::datatypes::DataType;
        let input_plan = self.plan(input)?;
        let time = axis.ty == KqlType::DateTime;
        let num_ty = if time {
            DataType::Int64
        } else {
            DataType::Float64
        };
        let cast = |e: Expr| {
            Expr::Cast(datafusion::logical_expr::Cast::new(
                Box::new(e),
                num_ty.clone(),
            ))
        };
        let a = cast(self.scalar(axis)?);
        let f = cast(self.scalar(from)?);
        let t = cast(self.scalar(to)?);
        let s = cast(self.scalar(step)?);
        // Bin index of each row within [from, to).
        let idx = if time {
            (a.clone() - f.clone()) / s.clone()
        } else {
            datafusion::functions::expr_fn::floor((a.clone() - f.clone()) / s.clone())
        };
        let idx = Expr::Cast(datafusion::logical_expr::Cast::new(
            Box::new(idx),
            DataType::Int64,
        ));
        let in_range = a.clone().gt_eq(f.clone()).and(a.lt(t.clone()));
        let filtered = LogicalPlanBuilder::from(input_plan)
            .filter(in_range)
            .map_err(df_err(span))?
            .build()
            .map_err(df_err(span))?;
        let group_names: Vec<String> = out
            .iter()
            .take(group.len())
            .map(|f| f.name.clone())
            .collect();
        let mut g = Vec::new();
        for (e, n) in group.iter().zip(&group_names) {
            g.push(self.scalar(e)?.alias(n));
        }
        g.push(idx.alias("__kql_idx"));
        let mut a1 = Vec::new();
        for (i, agg) in aggs.iter().enumerate() {
            a1.push(self.aggregate(agg, span)?.alias(format!("__kql_v{i}")));
        }
        let per_bin = LogicalPlanBuilder::from(filtered)
            .aggregate(g, a1)
            .map_err(df_err(span))?
            .build()
            .map_err(df_err(span))?;
        // Collect (index, value as dynamic) lists per group.
        let g2: Vec<Expr> = group_names.iter().map(|n| col(n)).collect();
        let mut a2 = vec![
            datafusion::functions_aggregate::expr_fn::array_agg(col("__kql_idx"))
                .alias("__kql_idxs"),
        ];
        for (i, agg) in aggs.iter().enumerate() {
            let v = TypedExpr {
                expr: col(&format!("__kql_v{i}")),
                ty: agg.ty(),
                constant: None,
            };
            let dynv = if agg.ty() == KqlType::Dynamic {
                v.expr
            } else {
                kql_functions::cast(v, KqlType::Dynamic).map_err(fn_err(span))?
            };
            a2.push(
                datafusion::functions_aggregate::expr_fn::array_agg(dynv)
                    .alias(format!("__kql_vs{i}")),
            );
        }
        let per_group = LogicalPlanBuilder::from(per_bin)
            .aggregate(g2, a2)
            .map_err(df_err(span))?
            .build()
            .map_err(df_err(span))?;
        let integer = Expr::Literal(ScalarValue::Boolean(Some(axis.ty.is_integer())), None);
        let mut proj: Vec<Expr> = group_names.iter().map(|n| col(n)).collect();
        for (i, d) in defaults.iter().enumerate() {
            let name = &out[group.len() + i].name;
            proj.push(
                udf::series_fill(vec![
                    f.clone(),
                    t.clone(),
                    s.clone(),
                    integer.clone(),
                    col("__kql_idxs"),
                    col(&format!("__kql_vs{i}")),
                    Expr::Literal(ScalarValue::Utf8(Some(d.to_string())), None),
                ])
                .alias(name),
            );
        }
        let axis_name = &out[out.len() - 1].name;
        proj.push(udf::series_axis(vec![f, t, s, integer]).alias(axis_name));
        LogicalPlanBuilder::from(per_group)
            .project(proj)
            .map_err(df_err(span))?
            .build()
            .map_err(df_err(span))
    }

    fn plan_values(
        &mut self,
        rows: &[Vec<ScalarExpr>],
        fields: &[Field],
        span: Span,
    ) -> PResult<LogicalPlan> {
        if fields.is_empty() {
            // `print` input: one row without columns.
            return LogicalPlanBuilder::empty(!rows.is_empty())
                .build()
                .map_err(df_err(span));
        }
        if rows.is_empty() {
            return self.empty(fields, span);
        }
        let mut values = Vec::new();
        for row in rows {
            let mut r = Vec::new();
            for (v, f) in row.iter().zip(fields) {
                let e = self.scalar(v)?;
                r.push(Expr::Cast(datafusion::logical_expr::Cast::new(
                    Box::new(e),
                    arrow_type(f.ty),
                )));
            }
            values.push(r);
        }
        let plan = LogicalPlanBuilder::values(values)
            .map_err(df_err(span))?
            .build()
            .map_err(df_err(span))?;
        // Values names its columns column1..N.
        let exprs: Vec<Expr> = plan
            .schema()
            .fields()
            .iter()
            .zip(fields)
            .map(|(af, f)| col(af.name()).alias(&f.name))
            .collect();
        LogicalPlanBuilder::from(plan)
            .project(exprs)
            .map_err(df_err(span))?
            .build()
            .map_err(df_err(span))
    }

    fn plan_range(
        &mut self,
        from: &ScalarExpr,
        to: &ScalarExpr,
        step: &ScalarExpr,
        fields: &[Field],
        span: Span,
    ) -> PResult<LogicalPlan> {
        let field = fields
            .first()
            .ok_or_else(|| Diagnostic::internal("range without a column", span))?;
        let not_const = || Diagnostic::unsupported("range with non-constant bounds", span);
        let a = from.constant().ok_or_else(not_const)?;
        let b = to.constant().ok_or_else(not_const)?;
        let s = step.constant().ok_or_else(not_const)?;
        let as_i64 = |c: &Const| -> Option<i64> {
            match c {
                Const::Long(v) | Const::DateTime(v) | Const::TimeSpan(v) => Some(*v),
                Const::Int(v) => Some(i64::from(*v)),
                _ => None,
            }
        };
        let as_f64 = |c: &Const| -> Option<f64> {
            match c {
                Const::Real(v) => Some(*v),
                Const::Long(v) => Some(*v as f64),
                Const::Int(v) => Some(f64::from(*v)),
                _ => None,
            }
        };
        let too_many = || {
            Diagnostic::error(
                codes::LIMIT,
                format!("range produces more than {MAX_RANGE_ROWS} rows"),
                span,
            )
        };
        let array: ArrayRef = match field.ty {
            KqlType::Real | KqlType::Decimal => {
                let (a, b, s) = (
                    as_f64(a).ok_or_else(not_const)?,
                    as_f64(b).ok_or_else(not_const)?,
                    as_f64(s).ok_or_else(not_const)?,
                );
                if s == 0.0 || !s.is_finite() {
                    return Err(Diagnostic::error(
                        codes::BAD_ARGUMENT,
                        "range step must not be zero",
                        span,
                    ));
                }
                let n = ((b - a) / s).floor();
                if n > MAX_RANGE_ROWS as f64 {
                    return Err(too_many());
                }
                let n = if n < 0.0 { 0 } else { n as i64 + 1 };
                Arc::new(Float64Array::from_iter_values(
                    (0..n).map(|i| a + s * i as f64),
                ))
            }
            _ => {
                let step_v = match s {
                    Const::TimeSpan(v) => *v,
                    other => as_i64(other).ok_or_else(not_const)?,
                };
                let (a, b) = (
                    as_i64(a).ok_or_else(not_const)?,
                    as_i64(b).ok_or_else(not_const)?,
                );
                if step_v == 0 {
                    return Err(Diagnostic::error(
                        codes::BAD_ARGUMENT,
                        "range step must not be zero",
                        span,
                    ));
                }
                let n = (i128::from(b) - i128::from(a)) / i128::from(step_v);
                if n > i128::from(MAX_RANGE_ROWS) {
                    return Err(too_many());
                }
                let n = if n < 0 { 0 } else { n as i64 + 1 };
                let values = (0..n).map(move |i| a.wrapping_add(step_v.wrapping_mul(i)));
                match field.ty {
                    KqlType::DateTime => {
                        Arc::new(TimestampNanosecondArray::from_iter_values(values))
                    }
                    KqlType::TimeSpan => {
                        Arc::new(DurationNanosecondArray::from_iter_values(values))
                    }
                    KqlType::Long | KqlType::Int => Arc::new(Int64Array::from_iter_values(values)),
                    other => {
                        return Err(Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("range over {other} values is not possible"),
                            span,
                        ));
                    }
                }
            }
        };
        let schema = Arc::new(ArrowSchema::new(vec![ArrowField::new(
            &field.name,
            array.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(Arc::clone(&schema), vec![array])
            .map_err(|e| Diagnostic::internal(e.to_string(), span))?;
        let table = MemTable::try_new(schema, vec![vec![batch]]).map_err(df_err(span))?;
        let name = self.next_alias("range");
        let scan =
            LogicalPlanBuilder::scan(name.as_str(), provider_as_source(Arc::new(table)), None)
                .map_err(df_err(span))?
                .build()
                .map_err(df_err(span))?;
        project_names(scan, fields, span)
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_join(
        &mut self,
        left: &Rel,
        right: &Rel,
        kind: JoinKind,
        on: &[(usize, usize)],
        lookup: bool,
        out_fields: &[Field],
        span: Span,
    ) -> PResult<LogicalPlan> {
        let mut lplan = self.plan(left)?;
        let mut rplan = self.plan(right)?;
        // A side that is a literal table (an IOC list in a `datatable`) also filters the
        // other side by its keys, when rows without a match cannot be in the result: the
        // filter reaches the other side's scan, which tests each distinct value once
        // (`dictscan`) instead of joining every row.
        for (l, r) in on {
            let (Some(lf), Some(rf)) = (left.schema.get(*l), right.schema.get(*r)) else {
                continue;
            };
            if lf.ty != rf.ty {
                continue;
            }
            let filter_left = matches!(
                kind,
                JoinKind::Inner | JoinKind::InnerUnique | JoinKind::LeftSemi | JoinKind::RightOuter
            );
            let filter_right = matches!(
                kind,
                JoinKind::Inner | JoinKind::InnerUnique | JoinKind::RightSemi | JoinKind::LeftOuter
            );
            if filter_left && let Some(values) = literal_column(&rplan, &rf.name) {
                lplan = LogicalPlanBuilder::from(lplan)
                    .filter(col(&lf.name).in_list(values, false))
                    .and_then(|b| b.build())
                    .map_err(df_err(span))?;
            } else if filter_right && let Some(values) = literal_column(&lplan, &lf.name) {
                rplan = LogicalPlanBuilder::from(rplan)
                    .filter(col(&rf.name).in_list(values, false))
                    .and_then(|b| b.build())
                    .map_err(df_err(span))?;
            }
        }
        if kind == JoinKind::InnerUnique {
            // innerunique: keep one (arbitrary) left row per key.
            let keys: Vec<Expr> = on
                .iter()
                .filter_map(|(l, _)| left.schema.get(*l).map(|f| col(&f.name)))
                .collect();
            let all: Vec<Expr> = left.schema.iter().map(|f| col(&f.name)).collect();
            lplan = LogicalPlanBuilder::from(lplan)
                .distinct_on(keys, all, None)
                .map_err(df_err(span))?
                .build()
                .map_err(df_err(span))?;
        }
        // Join keys as extra columns (cast to a common type when the sides differ), so the
        // join can use KQL's null semantics: null keys match each other.
        let mut lkey_exprs = Vec::new();
        let mut rkey_exprs = Vec::new();
        for (i, (l, r)) in on.iter().enumerate() {
            let (Some(lf), Some(rf)) = (left.schema.get(*l), right.schema.get(*r)) else {
                return Err(Diagnostic::internal("join key out of range", span));
            };
            let mut le = col(&lf.name);
            let mut re = col(&rf.name);
            if lf.ty != rf.ty {
                let common = if lf.ty == KqlType::Real || rf.ty == KqlType::Real {
                    KqlType::Real
                } else {
                    KqlType::Long
                };
                le = Expr::Cast(datafusion::logical_expr::Cast::new(
                    Box::new(le),
                    arrow_type(common),
                ));
                re = Expr::Cast(datafusion::logical_expr::Cast::new(
                    Box::new(re),
                    arrow_type(common),
                ));
            }
            lkey_exprs.push(le.alias(format!("__kql_jk{i}")));
            rkey_exprs.push(re.alias(format!("__kql_jk{i}")));
        }
        let with_keys =
            |plan: LogicalPlan, fields: &[Field], keys: Vec<Expr>| -> PResult<LogicalPlan> {
                let mut exprs: Vec<Expr> = fields.iter().map(|f| col(&f.name)).collect();
                exprs.extend(keys);
                LogicalPlanBuilder::from(plan)
                    .project(exprs)
                    .map_err(df_err(span))?
                    .build()
                    .map_err(df_err(span))
            };
        let lplan = with_keys(lplan, &left.schema, lkey_exprs)?;
        let rplan = with_keys(rplan, &right.schema, rkey_exprs)?;
        let la = self.next_alias("l");
        let ra = self.next_alias("r");
        let lplan = LogicalPlanBuilder::from(lplan)
            .alias(la.as_str())
            .map_err(df_err(span))?
            .build()
            .map_err(df_err(span))?;
        let rplan = LogicalPlanBuilder::from(rplan)
            .alias(ra.as_str())
            .map_err(df_err(span))?
            .build()
            .map_err(df_err(span))?;
        let lkeys: Vec<Column> = (0..on.len())
            .map(|i| {
                Column::new(
                    Some(TableReference::bare(la.as_str())),
                    format!("__kql_jk{i}"),
                )
            })
            .collect();
        let rkeys: Vec<Column> = (0..on.len())
            .map(|i| {
                Column::new(
                    Some(TableReference::bare(ra.as_str())),
                    format!("__kql_jk{i}"),
                )
            })
            .collect();
        let jt = match kind {
            JoinKind::InnerUnique | JoinKind::Inner => JoinType::Inner,
            JoinKind::LeftOuter => JoinType::Left,
            JoinKind::RightOuter => JoinType::Right,
            JoinKind::FullOuter => JoinType::Full,
            JoinKind::LeftSemi => JoinType::LeftSemi,
            JoinKind::RightSemi => JoinType::RightSemi,
            JoinKind::LeftAnti => JoinType::LeftAnti,
            JoinKind::RightAnti => JoinType::RightAnti,
        };
        let joined = LogicalPlanBuilder::from(lplan)
            .join_detailed(
                rplan,
                jt,
                (lkeys, rkeys),
                None,
                datafusion::common::NullEquality::NullEqualsNull,
            )
            .map_err(df_err(span))?
            .build()
            .map_err(df_err(span))?;
        // Project back to KQL names.
        let mut exprs = Vec::new();
        match kind {
            JoinKind::LeftSemi | JoinKind::LeftAnti => {
                for (f, o) in left.schema.iter().zip(out_fields) {
                    exprs.push(qcol(&la, &f.name).alias(&o.name));
                }
            }
            JoinKind::RightSemi | JoinKind::RightAnti => {
                for (f, o) in right.schema.iter().zip(out_fields) {
                    exprs.push(qcol(&ra, &f.name).alias(&o.name));
                }
            }
            _ => {
                let mut outs = out_fields.iter();
                for f in left.schema.iter() {
                    if let Some(o) = outs.next() {
                        exprs.push(qcol(&la, &f.name).alias(&o.name));
                    }
                }
                for (i, f) in right.schema.iter().enumerate() {
                    if lookup && on.iter().any(|(_, r)| *r == i) {
                        continue;
                    }
                    if let Some(o) = outs.next() {
                        exprs.push(qcol(&ra, &f.name).alias(&o.name));
                    }
                }
            }
        }
        LogicalPlanBuilder::from(joined)
            .project(exprs)
            .map_err(df_err(span))?
            .build()
            .map_err(df_err(span))
    }

    fn aggregate(&mut self, agg: &AggExpr, span: Span) -> PResult<Expr> {
        match agg {
            AggExpr::Call { name, args, ty } => {
                let mut targs = Vec::new();
                for a in args {
                    targs.push(self.typed(a)?);
                }
                kql_functions::lower_aggregate(&self.ctx, name, targs, *ty).map_err(fn_err(span))
            }
            AggExpr::ArgExtreme { max, by, value, .. } => {
                let by_e = self.scalar(by)?;
                let v = self.scalar(value)?;
                Ok(Expr::AggregateFunction(AggregateFunction::new_udf(
                    first_value_udaf(),
                    vec![v],
                    false,
                    None,
                    vec![Sort::new(by_e, !*max, false)],
                    None,
                )))
            }
        }
    }

    fn typed(&mut self, e: &ScalarExpr) -> PResult<TypedExpr> {
        if let Some(Const::Type(t)) = e.constant() {
            // `typeof(T)` arguments are read from `constant`; the expression is a placeholder.
            return Ok(TypedExpr {
                expr: Expr::Literal(ScalarValue::Utf8(Some(t.name().to_string())), None),
                ty: e.ty,
                constant: e.constant().cloned(),
            });
        }
        Ok(TypedExpr {
            expr: self.scalar(e)?,
            ty: e.ty,
            constant: e.constant().cloned(),
        })
    }

    /// Lowers a scalar expression.
    pub fn scalar(&mut self, e: &ScalarExpr) -> PResult<Expr> {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || self.scalar_inner(e))
    }

    fn scalar_inner(&mut self, e: &ScalarExpr) -> PResult<Expr> {
        let span = e.span;
        match &e.kind {
            ScalarKind::Column(name) => Ok(col(name)),
            ScalarKind::Literal(c) => kql_functions::literal(c, e.ty).map_err(fn_err(span)),
            ScalarKind::Call { name, args } => {
                let mut targs = Vec::new();
                for a in args {
                    targs.push(self.typed(a)?);
                }
                kql_functions::lower_scalar(&self.ctx, name, targs, e.ty).map_err(fn_err(span))
            }
            ScalarKind::Binary { op, left, right } => {
                let l = self.typed(left)?;
                let r = self.typed(right)?;
                kql_functions::lower_binary(*op, l, r, e.ty).map_err(fn_err(span))
            }
            ScalarKind::Negate(inner) => {
                let t = self.typed(inner)?;
                kql_functions::lower_negate(t).map_err(fn_err(span))
            }
            ScalarKind::In {
                expr,
                list,
                negated,
                case_insensitive,
            } => {
                let x = self.typed(expr)?;
                let mut items = Vec::new();
                for i in list {
                    items.push(self.typed(i)?);
                }
                kql_functions::lower_in(x, items, *negated, *case_insensitive).map_err(fn_err(span))
            }
            ScalarKind::InRel {
                expr,
                rel,
                negated,
                case_insensitive,
            } => {
                let sub = self.plan(rel)?;
                let first = rel
                    .schema
                    .first()
                    .ok_or_else(|| Diagnostic::internal("in-subquery without columns", span))?;
                let mut x = self.scalar(expr)?;
                let mut sub_col = col(&first.name);
                let mut x_ty = expr.ty;
                let mut s_ty = first.ty;
                if *case_insensitive {
                    x = to_lower_string(x, x_ty, span)?;
                    sub_col = to_lower_string(sub_col, s_ty, span)?;
                    x_ty = KqlType::String;
                    s_ty = KqlType::String;
                }
                if x_ty != s_ty {
                    let target = if x_ty.is_numeric() && s_ty.is_numeric() {
                        if x_ty == KqlType::Real || s_ty == KqlType::Real {
                            KqlType::Real
                        } else {
                            KqlType::Long
                        }
                    } else {
                        KqlType::String
                    };
                    x = kql_functions::cast(
                        TypedExpr {
                            expr: x,
                            ty: x_ty,
                            constant: None,
                        },
                        target,
                    )
                    .map_err(fn_err(span))?;
                    sub_col = kql_functions::cast(
                        TypedExpr {
                            expr: sub_col,
                            ty: s_ty,
                            constant: None,
                        },
                        target,
                    )
                    .map_err(fn_err(span))?;
                }
                let sub = LogicalPlanBuilder::from(sub)
                    .project(vec![sub_col.alias("__kql_in")])
                    .map_err(df_err(span))?
                    .build()
                    .map_err(df_err(span))?;
                Ok(Expr::InSubquery(InSubquery::new(
                    Box::new(x),
                    Subquery {
                        subquery: Arc::new(sub),
                        outer_ref_columns: vec![],
                        spans: Default::default(),
                    },
                    *negated,
                )))
            }
            ScalarKind::HasAny { expr, list, kind } => {
                let x = self.typed(expr)?;
                let mut items = Vec::new();
                for i in list {
                    items.push(self.typed(i)?);
                }
                kql_functions::lower_has_any(x, items, *kind).map_err(fn_err(span))
            }
            ScalarKind::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let x = self.typed(expr)?;
                let lo = self.typed(low)?;
                let hi = self.typed(high)?;
                kql_functions::lower_between(x, lo, hi, *negated).map_err(fn_err(span))
            }
            ScalarKind::Member { expr, key } => {
                let x = self.typed(expr)?;
                kql_functions::lower_member(x, key).map_err(fn_err(span))
            }
            ScalarKind::Index { expr, index } => {
                let x = self.typed(expr)?;
                let i = self.typed(index)?;
                kql_functions::lower_index(x, i).map_err(fn_err(span))
            }
            ScalarKind::Cast(inner) => {
                let t = self.typed(inner)?;
                kql_functions::cast(t, e.ty).map_err(fn_err(span))
            }
            ScalarKind::EngineCall { name, args } => {
                let mut lowered = Vec::new();
                for a in args {
                    lowered.push(self.scalar(a)?);
                }
                udf::engine_call(name, lowered).ok_or_else(|| {
                    Diagnostic::internal(format!("unknown engine function {name}"), span)
                })
            }
            ScalarKind::ScalarSubquery(rel) => {
                let sub = self.plan(rel)?;
                let first = rel
                    .schema
                    .first()
                    .ok_or_else(|| Diagnostic::internal("toscalar without columns", span))?;
                let sub = LogicalPlanBuilder::from(sub)
                    .limit(0, Some(1))
                    .map_err(df_err(span))?
                    .project(vec![col(&first.name)])
                    .map_err(df_err(span))?
                    .build()
                    .map_err(df_err(span))?;
                Ok(Expr::ScalarSubquery(Subquery {
                    subquery: Arc::new(sub),
                    outer_ref_columns: vec![],
                    spans: Default::default(),
                }))
            }
        }
    }
}

fn to_lower_string(e: Expr, ty: KqlType, span: Span) -> PResult<Expr> {
    let s = if ty == KqlType::String {
        e
    } else {
        kql_functions::cast(
            TypedExpr {
                expr: e,
                ty,
                constant: None,
            },
            KqlType::String,
        )
        .map_err(fn_err(span))?
    };
    Ok(datafusion::functions::expr_fn::lower(s))
}

/// Projects `plan`'s columns (positionally) to the KQL names of `fields`, unqualified.
pub fn project_names(plan: LogicalPlan, fields: &[Field], span: Span) -> PResult<LogicalPlan> {
    let exprs: Vec<Expr> = plan
        .schema()
        .columns()
        .into_iter()
        .zip(fields)
        .map(|(c, f)| Expr::Column(c).alias(&f.name))
        .collect();
    LogicalPlanBuilder::from(plan)
        .project(exprs)
        .map_err(df_err(span))?
        .build()
        .map_err(df_err(span))
}

/// At most this many rows make a literal table whose keys filter the other side of a join.
const LITERAL_JOIN_ROWS: usize = 1_000;

/// The values of column `name` of `plan` when `plan` is a literal table (`Values`, under
/// aliases and projections that only rename), none of them null (null keys match each
/// other in KQL joins, which an `in` list would not).
fn literal_column(plan: &LogicalPlan, name: &str) -> Option<Vec<Expr>> {
    match plan {
        LogicalPlan::SubqueryAlias(a) => literal_column(&a.input, name),
        LogicalPlan::Projection(p) => {
            let i = p.schema.fields().iter().position(|f| f.name() == name)?;
            let mut e = p.expr.get(i)?;
            while let Expr::Alias(a) = e {
                e = &a.expr;
            }
            let Expr::Column(c) = e else {
                return None;
            };
            literal_column(&p.input, &c.name)
        }
        LogicalPlan::Values(v) => {
            let i = v.schema.fields().iter().position(|f| f.name() == name)?;
            let ty = v.schema.field(i).data_type();
            if v.values.is_empty() || v.values.len() > LITERAL_JOIN_ROWS {
                return None;
            }
            v.values
                .iter()
                .map(|row| {
                    // A literal, or a literal cast to the column's type.
                    let mut e = row.get(i)?;
                    while let Expr::Cast(c) = e {
                        e = &c.expr;
                    }
                    let Expr::Literal(value, _) = e else {
                        return None;
                    };
                    let value = value.cast_to(ty).ok()?;
                    (!value.is_null()).then(|| Expr::Literal(value, None))
                })
                .collect()
        }
        _ => None,
    }
}
