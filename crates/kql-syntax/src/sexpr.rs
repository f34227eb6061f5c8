//! A compact, span-free S-expression rendering of the AST, for snapshot tests and debugging.
//!
//! ```text
//! T | where a > 1 | project b = a * 2
//! ```
//! renders as
//! ```text
//! (name T)
//! | (where (> (name a) 1))
//! | (project (= b (* (name a) 2)))
//! ```
//!
//! Pipelines are printed one operator per line (nested pipelines inside parentheses stay
//! on one line). The format is for people: it may change at any time.

use std::fmt::Write;

use crate::ast::{
    ColumnDecl, DynValue, Expr, ExprKind, HasAnyKind, Lambda, LetValue, Literal, MvExpandItem,
    NamedExpr, NullsOrder, OpParam, Operator, OperatorKind, Param, ParamType, ParsePart, Script,
    SortKey, SortOrder, Statement, TypeName, UnaryOp, UnionOp,
};

/// Renders a whole script, one statement per line.
pub fn script(script: &Script) -> String {
    let mut out = String::new();
    for (i, s) in script.statements.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        statement(&mut out, s, true);
    }
    out
}

/// Renders one expression on one line.
pub fn expr(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e, false);
    out
}

/// Renders one operator on one line.
pub fn operator(op: &Operator) -> String {
    let mut out = String::new();
    write_operator(&mut out, op);
    out
}

/// A name as written in KQL: bare if it is a plain identifier, else `['...']`.
fn name(n: &str) -> String {
    let plain = n
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
        && n.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
    if plain {
        n.to_string()
    } else {
        format!("[{n:?}]")
    }
}

fn statement(out: &mut String, s: &Statement, top: bool) {
    match s {
        Statement::Let { name, value, .. } => {
            let _ = write!(out, "(let {} ", name.name);
            match value {
                LetValue::Expr(e) => write_expr(out, e, top),
                LetValue::Function(l) => lambda(out, l),
            }
            out.push(')');
        }
        Statement::Set { name, value, .. } => {
            let _ = write!(out, "(set {}", name.name);
            if let Some(v) = value {
                out.push(' ');
                write_expr(out, v, false);
            }
            out.push(')');
        }
        Statement::DeclareQueryParameters { params, .. } => {
            out.push_str("(declare-query-parameters");
            for p in params {
                out.push(' ');
                param(out, p);
            }
            out.push(')');
        }
        Statement::Query(e) => write_expr(out, e, top),
    }
}

fn lambda(out: &mut String, l: &Lambda) {
    out.push_str(if l.view { "(view (" } else { "(fn (" });
    for (i, p) in l.params.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        param(out, p);
    }
    out.push_str(") (");
    for s in &l.body.lets {
        statement(out, s, false);
        out.push(' ');
    }
    write_expr(out, &l.body.result, false);
    out.push_str("))");
}

fn param(out: &mut String, p: &Param) {
    let _ = write!(out, "{}:", p.name.name);
    match &p.ty {
        ParamType::Scalar(t) => type_name(out, t),
        ParamType::Tabular { columns, wildcard } => {
            out.push('(');
            let mut first = true;
            for c in columns.iter().flatten() {
                if !first {
                    out.push_str(", ");
                }
                first = false;
                column_decl(out, c);
            }
            if *wildcard {
                out.push_str(if first { "*" } else { ", *" });
            }
            out.push(')');
        }
    }
    if let Some(d) = &p.default {
        out.push_str(" = ");
        write_expr(out, d, false);
    }
}

fn type_name(out: &mut String, t: &TypeName) {
    out.push_str(&t.name);
    if t.ty.is_none() {
        out.push('?');
    }
}

fn column_decl(out: &mut String, c: &ColumnDecl) {
    let _ = write!(out, "{}:", name(&c.name.name));
    type_name(out, &c.ty);
}

fn list(out: &mut String, items: &[Expr]) {
    out.push('(');
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_expr(out, e, false);
    }
    out.push(')');
}

fn write_expr(out: &mut String, e: &Expr, multiline: bool) {
    match &e.kind {
        ExprKind::Pipe { .. } => {
            // Flatten the left spine: source, then operators in order.
            let mut ops = Vec::new();
            let mut source = e;
            while let ExprKind::Pipe { input, op } = &source.kind {
                ops.push(op.as_ref());
                source = input;
            }
            if !multiline {
                out.push_str("(pipe ");
            }
            write_expr(out, source, false);
            for op in ops.iter().rev() {
                out.push_str(if multiline { "\n| " } else { " | " });
                write_operator(out, op);
            }
            if !multiline {
                out.push(')');
            }
        }
        ExprKind::Literal(l) => literal(out, l),
        ExprKind::Name(id) => {
            let _ = write!(out, "(name {})", name(&id.name));
        }
        ExprKind::Star => out.push('*'),
        ExprKind::Call { name, args } => {
            let _ = write!(out, "(call {}", name.name);
            for a in args {
                out.push(' ');
                write_expr(out, a, false);
            }
            out.push(')');
        }
        ExprKind::Member { expr, name: member } => {
            out.push_str("(. ");
            write_expr(out, expr, false);
            let _ = write!(out, " {})", name(&member.name));
        }
        ExprKind::Index { expr, index } => {
            out.push_str("([] ");
            write_expr(out, expr, false);
            out.push(' ');
            write_expr(out, index, false);
            out.push(')');
        }
        ExprKind::Unary { op, expr } => {
            out.push_str(match op {
                UnaryOp::Neg => "(neg ",
                UnaryOp::Plus => "(plus ",
            });
            write_expr(out, expr, false);
            out.push(')');
        }
        ExprKind::Binary { op, left, right } => {
            let _ = write!(out, "({} ", op.symbol());
            write_expr(out, left, false);
            out.push(' ');
            write_expr(out, right, false);
            out.push(')');
        }
        ExprKind::In {
            expr,
            list: items,
            negated,
            case_insensitive,
        } => {
            let _ = write!(
                out,
                "({}in{} ",
                if *negated { "!" } else { "" },
                if *case_insensitive { "~" } else { "" }
            );
            write_expr(out, expr, false);
            out.push(' ');
            list(out, items);
            out.push(')');
        }
        ExprKind::HasAny {
            expr,
            list: items,
            kind,
        } => {
            out.push_str(match kind {
                HasAnyKind::HasAny => "(has_any ",
                HasAnyKind::HasAll => "(has_all ",
            });
            write_expr(out, expr, false);
            out.push(' ');
            list(out, items);
            out.push(')');
        }
        ExprKind::Between {
            expr,
            low,
            high,
            negated,
        } => {
            out.push_str(if *negated { "(!between " } else { "(between " });
            write_expr(out, expr, false);
            out.push(' ');
            write_expr(out, low, false);
            out.push(' ');
            write_expr(out, high, false);
            out.push(')');
        }
        ExprKind::NamedArg { name, value } => {
            out.push_str("(named ");
            out.push_str(&self::name(&name.name));
            out.push(' ');
            write_expr(out, value, false);
            out.push(')');
        }
        ExprKind::Paren(inner) => {
            out.push_str("(paren ");
            write_expr(out, inner, false);
            out.push(')');
        }
        ExprKind::Datatable { columns, values } => {
            out.push_str("(datatable (");
            for (i, c) in columns.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                column_decl(out, c);
            }
            out.push_str(") ");
            list(out, values);
            out.push(')');
        }
        ExprKind::Print(items) => {
            out.push_str("(print");
            named_list(out, items);
            out.push(')');
        }
        ExprKind::Range {
            name,
            from,
            to,
            step,
        } => {
            let _ = write!(out, "(range {} ", name.name);
            write_expr(out, from, false);
            out.push(' ');
            write_expr(out, to, false);
            out.push(' ');
            write_expr(out, step, false);
            out.push(')');
        }
        ExprKind::Union(u) => union(out, u),
        ExprKind::ExternalData {
            columns,
            uris,
            props,
        } => {
            out.push_str("(externaldata (");
            for (i, c) in columns.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                column_decl(out, c);
            }
            out.push_str(") ");
            list(out, uris);
            for (name, value) in props {
                let _ = write!(out, " {}=", name.name);
                write_expr(out, value, false);
            }
            out.push(')');
        }
        ExprKind::UnsupportedSource { name } => {
            let _ = write!(out, "(unsupported-source {name})");
        }
        ExprKind::Lambda(l) => lambda(out, l),
        ExprKind::TypeOf(t) => {
            out.push_str("(typeof ");
            type_name(out, t);
            out.push(')');
        }
    }
}

fn literal(out: &mut String, l: &Literal) {
    fn opt<T: std::fmt::Display>(out: &mut String, ty: &str, v: &Option<T>) {
        match v {
            Some(v) => {
                let _ = write!(out, "{ty}({v})");
            }
            None => {
                let _ = write!(out, "{ty}(null)");
            }
        }
    }
    match l {
        Literal::Null => out.push_str("null"),
        Literal::Bool(Some(b)) => {
            let _ = write!(out, "{b}");
        }
        Literal::Bool(None) => out.push_str("bool(null)"),
        Literal::Int(v) => opt(out, "int", v),
        Literal::Long(Some(v)) => {
            let _ = write!(out, "{v}");
        }
        Literal::Long(None) => out.push_str("long(null)"),
        Literal::Real(Some(v)) => {
            let _ = write!(out, "real({v:?})");
        }
        Literal::Real(None) => out.push_str("real(null)"),
        Literal::Decimal(v) => opt(out, "decimal", v),
        Literal::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        Literal::DateTime(v) => opt(out, "datetime", v),
        Literal::TimeSpan(v) => opt(out, "ticks", v),
        Literal::Guid(v) => opt(out, "guid", v),
        Literal::Dynamic(v) => {
            out.push_str("dynamic(");
            dynamic(out, v);
            out.push(')');
        }
    }
}

fn dynamic(out: &mut String, v: &DynValue) {
    match v {
        DynValue::Null => out.push_str("null"),
        DynValue::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        DynValue::Long(n) => {
            let _ = write!(out, "{n}");
        }
        DynValue::Real(r) => {
            let _ = write!(out, "{r:?}");
        }
        DynValue::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        DynValue::DateTime(s) => {
            let _ = write!(out, "datetime({s})");
        }
        DynValue::TimeSpan(t) => {
            let _ = write!(out, "ticks({t})");
        }
        DynValue::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dynamic(out, item);
            }
            out.push(']');
        }
        DynValue::Object(entries) => {
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{k:?}: ");
                dynamic(out, item);
            }
            out.push('}');
        }
    }
}

fn named(out: &mut String, n: &NamedExpr) {
    match n.names.as_slice() {
        [] => write_expr(out, &n.expr, false),
        [single] => {
            let _ = write!(out, "(= {} ", name(&single.name));
            write_expr(out, &n.expr, false);
            out.push(')');
        }
        names => {
            out.push_str("(= (");
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(&name(&n.name));
            }
            out.push_str(") ");
            write_expr(out, &n.expr, false);
            out.push(')');
        }
    }
}

/// ` item item ...` (each item preceded by a space).
fn named_list(out: &mut String, items: &[NamedExpr]) {
    for item in items {
        out.push(' ');
        named(out, item);
    }
}

fn params(out: &mut String, params: &[OpParam]) {
    for p in params {
        let _ = write!(out, " {}=", p.name.name);
        write_expr(out, &p.value, false);
    }
}

fn sort_key(out: &mut String, k: &SortKey) {
    if k.order.is_none() && k.nulls.is_none() {
        write_expr(out, &k.expr, false);
        return;
    }
    out.push('(');
    write_expr(out, &k.expr, false);
    match k.order {
        Some(SortOrder::Asc) => out.push_str(" asc"),
        Some(SortOrder::Desc) => out.push_str(" desc"),
        None => {}
    }
    match k.nulls {
        Some(NullsOrder::First) => out.push_str(" nulls-first"),
        Some(NullsOrder::Last) => out.push_str(" nulls-last"),
        None => {}
    }
    out.push(')');
}

fn order(out: &mut String, o: Option<SortOrder>) {
    match o {
        Some(SortOrder::Asc) => out.push_str(" asc"),
        Some(SortOrder::Desc) => out.push_str(" desc"),
        None => {}
    }
}

fn mv_items(out: &mut String, items: &[MvExpandItem], limit: Option<&Expr>) {
    for item in items {
        out.push(' ');
        if let Some(name) = &item.name {
            let _ = write!(out, "(= {} ", name.name);
        }
        write_expr(out, &item.expr, false);
        if let Some(t) = &item.to_type {
            out.push_str(" to ");
            type_name(out, t);
        }
        if item.name.is_some() {
            out.push(')');
        }
    }
    if let Some(limit) = limit {
        out.push_str(" (limit ");
        write_expr(out, limit, false);
        out.push(')');
    }
}

fn union(out: &mut String, u: &UnionOp) {
    out.push_str("(union");
    params(out, &u.params);
    for t in &u.tables {
        out.push(' ');
        write_expr(out, t, false);
    }
    out.push(')');
}

fn operators(out: &mut String, ops: &[Operator]) {
    out.push('(');
    for (i, op) in ops.iter().enumerate() {
        if i > 0 {
            out.push_str(" | ");
        }
        write_operator(out, op);
    }
    out.push(')');
}

fn write_operator(out: &mut String, op: &Operator) {
    match &op.kind {
        OperatorKind::Where(e) => {
            out.push_str("(where ");
            write_expr(out, e, false);
            out.push(')');
        }
        OperatorKind::Project(items) => {
            out.push_str("(project");
            named_list(out, items);
            out.push(')');
        }
        OperatorKind::ProjectAway(patterns) | OperatorKind::ProjectKeep(patterns) => {
            out.push_str(if matches!(op.kind, OperatorKind::ProjectAway(_)) {
                "(project-away"
            } else {
                "(project-keep"
            });
            for p in patterns {
                let _ = write!(out, " {}", p.pattern);
            }
            out.push(')');
        }
        OperatorKind::ProjectRename(pairs) => {
            out.push_str("(project-rename");
            for (new, old) in pairs {
                let _ = write!(out, " (= {} {})", name(&new.name), name(&old.name));
            }
            out.push(')');
        }
        OperatorKind::ProjectReorder(items) => {
            out.push_str("(project-reorder");
            for (p, o) in items {
                let _ = write!(out, " {}", p.pattern);
                order(out, *o);
            }
            out.push(')');
        }
        OperatorKind::Extend(items) => {
            out.push_str("(extend");
            named_list(out, items);
            out.push(')');
        }
        OperatorKind::Summarize {
            params: p,
            aggregates,
            by,
        } => {
            out.push_str("(summarize");
            params(out, p);
            named_list(out, aggregates);
            if !by.is_empty() {
                out.push_str(" (by");
                named_list(out, by);
                out.push(')');
            }
            out.push(')');
        }
        OperatorKind::Sort { params: p, keys } => {
            out.push_str("(sort");
            params(out, p);
            for k in keys {
                out.push(' ');
                sort_key(out, k);
            }
            out.push(')');
        }
        OperatorKind::Top { count, key } => {
            out.push_str("(top ");
            write_expr(out, count, false);
            out.push(' ');
            sort_key(out, key);
            out.push(')');
        }
        OperatorKind::Take(e) => {
            out.push_str("(take ");
            write_expr(out, e, false);
            out.push(')');
        }
        OperatorKind::Distinct(items) => {
            out.push_str("(distinct ");
            list(out, items);
            out.push(')');
        }
        OperatorKind::Count => out.push_str("(count)"),
        OperatorKind::Join {
            params: p,
            right,
            on,
            ..
        } => {
            out.push_str("(join");
            params(out, p);
            out.push(' ');
            write_expr(out, right, false);
            out.push_str(" (on");
            for e in on {
                out.push(' ');
                write_expr(out, e, false);
            }
            out.push_str("))");
        }
        OperatorKind::Lookup {
            params: p,
            right,
            on,
        } => {
            out.push_str("(lookup");
            params(out, p);
            out.push(' ');
            write_expr(out, right, false);
            out.push_str(" (on");
            for e in on {
                out.push(' ');
                write_expr(out, e, false);
            }
            out.push_str("))");
        }
        OperatorKind::Union(u) => union(out, u),
        OperatorKind::MvExpand {
            params: p,
            items,
            limit,
        } => {
            out.push_str("(mv-expand");
            params(out, p);
            mv_items(out, items, limit.as_ref());
            out.push(')');
        }
        OperatorKind::MvApply {
            params: p,
            items,
            limit,
            on,
        } => {
            out.push_str("(mv-apply");
            params(out, p);
            mv_items(out, items, limit.as_ref());
            out.push_str(" (on ");
            operators(out, on);
            out.push_str("))");
        }
        OperatorKind::Parse {
            where_,
            params: p,
            expr,
            parts,
        } => {
            out.push_str(if *where_ { "(parse-where" } else { "(parse" });
            params(out, p);
            out.push(' ');
            write_expr(out, expr, false);
            out.push_str(" (with");
            for part in parts {
                match part {
                    ParsePart::Literal(s) => {
                        let _ = write!(out, " {s:?}");
                    }
                    ParsePart::Column { name, ty } => {
                        let _ = write!(out, " {}", name.name);
                        if let Some(t) = ty {
                            out.push(':');
                            type_name(out, t);
                        }
                    }
                    ParsePart::Wildcard => out.push_str(" *"),
                }
            }
            out.push_str("))");
        }
        OperatorKind::ParseKv {
            expr,
            columns,
            params: p,
        } => {
            out.push_str("(parse-kv ");
            write_expr(out, expr, false);
            out.push_str(" (");
            for (i, c) in columns.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                column_decl(out, c);
            }
            out.push(')');
            params(out, p);
            out.push(')');
        }
        OperatorKind::MakeSeries {
            params: p,
            aggregates,
            on,
            from,
            to,
            step,
            by,
        } => {
            out.push_str("(make-series");
            params(out, p);
            for (agg, default) in aggregates {
                out.push(' ');
                named(out, agg);
                if let Some(d) = default {
                    out.push_str(" (default ");
                    write_expr(out, d, false);
                    out.push(')');
                }
            }
            out.push_str(" (on ");
            write_expr(out, on, false);
            out.push(')');
            for (label, value) in [("from", from), ("to", to), ("step", step)] {
                if let Some(v) = value {
                    let _ = write!(out, " ({label} ");
                    write_expr(out, v, false);
                    out.push(')');
                }
            }
            if !by.is_empty() {
                out.push_str(" (by");
                named_list(out, by);
                out.push(')');
            }
            out.push(')');
        }
        OperatorKind::Serialize(items) => {
            out.push_str("(serialize");
            named_list(out, items);
            out.push(')');
        }
        OperatorKind::As { params: p, name } => {
            out.push_str("(as");
            params(out, p);
            let _ = write!(out, " {})", name.name);
        }
        OperatorKind::Invoke(e) => {
            out.push_str("(invoke ");
            write_expr(out, e, false);
            out.push(')');
        }
        OperatorKind::Evaluate {
            params: p,
            plugin,
            schema,
        } => {
            out.push_str("(evaluate");
            params(out, p);
            out.push(' ');
            write_expr(out, plugin, false);
            if let Some(columns) = schema {
                out.push_str(" (schema");
                for c in columns {
                    out.push(' ');
                    column_decl(out, c);
                }
                out.push(')');
            }
            out.push(')');
        }
        OperatorKind::TopNested(levels) => {
            out.push_str("(top-nested");
            for level in levels {
                out.push_str(" (level ");
                match &level.count {
                    Some(c) => write_expr(out, c, false),
                    None => out.push_str("all"),
                }
                out.push_str(" (of ");
                named(out, &level.of);
                out.push(')');
                if let Some(others) = &level.with_others {
                    out.push_str(" (others ");
                    write_expr(out, others, false);
                    out.push(')');
                }
                out.push_str(" (by ");
                named(out, &level.by);
                order(out, level.order);
                out.push_str("))");
            }
            out.push(')');
        }
        OperatorKind::Sample(e) => {
            out.push_str("(sample ");
            write_expr(out, e, false);
            out.push(')');
        }
        OperatorKind::SampleDistinct { count, expr } => {
            out.push_str("(sample-distinct ");
            write_expr(out, count, false);
            out.push(' ');
            write_expr(out, expr, false);
            out.push(')');
        }
        OperatorKind::GetSchema => out.push_str("(getschema)"),
        OperatorKind::Render { chart, props } => {
            let _ = write!(out, "(render {}", chart.name);
            params(out, props);
            out.push(')');
        }
        OperatorKind::Search { params: p, pred } => {
            out.push_str("(search");
            params(out, p);
            out.push(' ');
            write_expr(out, pred, false);
            out.push(')');
        }
        OperatorKind::Partition { params: p, by, sub } => {
            out.push_str("(partition");
            params(out, p);
            let _ = write!(out, " (by {}) ", by.name);
            operators(out, sub);
            out.push(')');
        }
        OperatorKind::Unsupported { name } => {
            let _ = write!(out, "(unsupported {name})");
        }
    }
}
