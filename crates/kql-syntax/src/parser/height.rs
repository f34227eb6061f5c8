//! The height of AST trees (a leaf is 1).
//!
//! The parser checks heights as it builds chains (`a + b + ...`, `x.a.b...`, pipelines) so
//! that no tree exceeds [`super::MAX_HEIGHT`]: recursive code over the AST (including `Drop`,
//! `Debug` and `Clone`) is then safe. These functions recurse too, but only over trees the
//! parser already bounded.

use crate::ast::{
    Expr, ExprKind, FunctionBody, Lambda, LetValue, MvExpandItem, NamedExpr, OpParam, Operator,
    OperatorKind, Param, ParamType, SortKey, Statement, TopNestedLevel, UnionOp,
};

fn max_of<'a, T: 'a>(items: impl IntoIterator<Item = &'a T>, f: impl Fn(&T) -> usize) -> usize {
    items.into_iter().map(f).max().unwrap_or(0)
}

fn opt(e: Option<&Expr>) -> usize {
    e.map_or(0, expr_height)
}

fn named(n: &NamedExpr) -> usize {
    expr_height(&n.expr) + 1
}

fn params(p: &[OpParam]) -> usize {
    max_of(p, |p| expr_height(&p.value))
}

fn sort_key(k: &SortKey) -> usize {
    expr_height(&k.expr) + 1
}

fn mv_item(i: &MvExpandItem) -> usize {
    expr_height(&i.expr) + 1
}

fn union(u: &UnionOp) -> usize {
    params(&u.params).max(max_of(&u.tables, expr_height))
}

fn top_nested(l: &TopNestedLevel) -> usize {
    opt(l.count.as_ref())
        .max(named(&l.of))
        .max(opt(l.with_others.as_ref()))
        .max(named(&l.by))
        + 1
}

fn param(p: &Param) -> usize {
    let ty = match &p.ty {
        ParamType::Scalar(_) => 1,
        ParamType::Tabular { .. } => 2,
    };
    ty.max(opt(p.default.as_ref())) + 1
}

fn statement(s: &Statement) -> usize {
    match s {
        Statement::Let { value, .. } => match value {
            LetValue::Expr(e) => expr_height(e),
            LetValue::Function(l) => lambda(l),
        },
        Statement::Set { value, .. } => opt(value.as_ref()),
        Statement::DeclareQueryParameters { params, .. } => max_of(params, param),
        Statement::Query(e) => expr_height(e),
    }
    .saturating_add(1)
}

fn body(b: &FunctionBody) -> usize {
    max_of(&b.lets, statement).max(expr_height(&b.result)) + 1
}

fn lambda(l: &Lambda) -> usize {
    max_of(&l.params, param).max(body(&l.body)) + 1
}

/// The height of an expression tree, operators and nested statements included.
pub fn expr_height(e: &Expr) -> usize {
    let children = match &e.kind {
        ExprKind::Literal(_)
        | ExprKind::Name(_)
        | ExprKind::Star
        | ExprKind::TypeOf(_)
        | ExprKind::UnsupportedSource { .. } => 0,
        ExprKind::Call { args, .. } => max_of(args, expr_height),
        ExprKind::Member { expr, .. } | ExprKind::Unary { expr, .. } | ExprKind::Paren(expr) => {
            expr_height(expr)
        }
        ExprKind::NamedArg { value, .. } => expr_height(value),
        ExprKind::Index { expr, index } => expr_height(expr).max(expr_height(index)),
        ExprKind::Binary { left, right, .. } => expr_height(left).max(expr_height(right)),
        ExprKind::In { expr, list, .. } | ExprKind::HasAny { expr, list, .. } => {
            expr_height(expr).max(max_of(list, expr_height))
        }
        ExprKind::Between {
            expr, low, high, ..
        } => expr_height(expr)
            .max(expr_height(low))
            .max(expr_height(high)),
        ExprKind::Pipe { input, op } => expr_height(input).max(operator_height(op)),
        ExprKind::Datatable { values, .. } => max_of(values, expr_height),
        ExprKind::Print(items) => max_of(items, named),
        ExprKind::Range { from, to, step, .. } => expr_height(from)
            .max(expr_height(to))
            .max(expr_height(step)),
        ExprKind::Union(u) => union(u),
        ExprKind::ExternalData { uris, props, .. } => {
            max_of(uris, expr_height).max(max_of(props, |(_, v)| expr_height(v)))
        }
        ExprKind::Lambda(l) => lambda(l),
    };
    children + 1
}

/// The height of an operator node and the expressions inside it.
pub fn operator_height(op: &Operator) -> usize {
    let children = match &op.kind {
        OperatorKind::Where(e)
        | OperatorKind::Take(e)
        | OperatorKind::Invoke(e)
        | OperatorKind::Sample(e) => expr_height(e),
        OperatorKind::Project(items)
        | OperatorKind::Extend(items)
        | OperatorKind::Serialize(items) => max_of(items, named),
        OperatorKind::ProjectAway(_)
        | OperatorKind::ProjectKeep(_)
        | OperatorKind::ProjectRename(_)
        | OperatorKind::ProjectReorder(_)
        | OperatorKind::Count
        | OperatorKind::GetSchema
        | OperatorKind::Unsupported { .. } => 1,
        OperatorKind::Summarize {
            params: p,
            aggregates,
            by,
        } => params(p)
            .max(max_of(aggregates, named))
            .max(max_of(by, named)),
        OperatorKind::Sort { params: p, keys } => params(p).max(max_of(keys, sort_key)),
        OperatorKind::Top { count, key } => expr_height(count).max(sort_key(key)),
        OperatorKind::Distinct(items) => max_of(items, expr_height),
        OperatorKind::Join {
            params: p,
            right,
            on,
            ..
        }
        | OperatorKind::Lookup {
            params: p,
            right,
            on,
            ..
        } => params(p)
            .max(expr_height(right))
            .max(max_of(on, expr_height)),
        OperatorKind::Union(u) => union(u),
        OperatorKind::MvExpand {
            params: p,
            items,
            limit,
        } => params(p)
            .max(max_of(items, mv_item))
            .max(opt(limit.as_ref())),
        OperatorKind::MvApply {
            params: p,
            items,
            limit,
            on,
        } => params(p)
            .max(max_of(items, mv_item))
            .max(opt(limit.as_ref()))
            .max(max_of(on, operator_height)),
        OperatorKind::Parse {
            params: p, expr, ..
        } => params(p).max(expr_height(expr)).max(2),
        OperatorKind::ParseKv {
            expr, params: p, ..
        } => params(p).max(expr_height(expr)).max(2),
        OperatorKind::MakeSeries {
            params: p,
            aggregates,
            on,
            from,
            to,
            step,
            by,
        } => params(p)
            .max(max_of(aggregates, |(n, d)| named(n).max(opt(d.as_ref()))))
            .max(expr_height(on))
            .max(opt(from.as_ref()))
            .max(opt(to.as_ref()))
            .max(opt(step.as_ref()))
            .max(max_of(by, named)),
        OperatorKind::As { params: p, .. } => params(p).max(1),
        OperatorKind::Evaluate {
            params: p, plugin, ..
        } => params(p).max(expr_height(plugin)),
        OperatorKind::TopNested(levels) => max_of(levels, top_nested),
        OperatorKind::SampleDistinct { count, expr } => expr_height(count).max(expr_height(expr)),
        OperatorKind::Render { props, .. } => params(props).max(1),
        OperatorKind::Search { params: p, pred } => params(p).max(expr_height(pred)),
        OperatorKind::Partition { params: p, sub, .. } => {
            params(p).max(max_of(sub, operator_height))
        }
    };
    children + 1
}
