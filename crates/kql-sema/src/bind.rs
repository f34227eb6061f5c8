//! The binder: AST → bound, typed IR.
//!
//! Scopes: an [`Env`] of `let` bindings (scalars, tables, functions) and a row scope
//! (the columns of the operator's input). Names resolve columns first, then `let`s.

use crate::catalog::Catalog;
use crate::datetime::parse_datetime;
use crate::ir::*;
use crate::naming::{
    aggregate_name, expr_name, expr_name_in, path_name, summarize_name, unique_name,
};
use kql_functions::{ArgType, Const, FnKind};
use kql_syntax::ast::{self, Expr, ExprKind, Literal, OperatorKind, Statement};
use kql_syntax::{Diagnostic, KqlType, Span, codes};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// Options fixed for one query.
#[derive(Debug, Clone, Copy)]
pub struct BindOptions {
    /// Query start time (ns since the Unix epoch) used by `now()`/`ago()`.
    pub now_nanos: i64,
}

/// Operators whose output columns depend on the data (`evaluate bag_unpack`, `evaluate
/// pivot` without a declared schema) are bound in two steps: the binder asks for a *probe*
/// (a query over the operator's input), the engine runs it, and the query is bound again
/// with the answer. Without data (`check`), the columns a later operator names are assumed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProbeKey {
    /// The operator's span.
    pub start: usize,
    pub end: usize,
    /// A fingerprint of the operator's bound input (a `let` function may run it on several).
    pub input: u64,
}

/// What a probe must find out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    /// The keys of the bags in the probe's only (dynamic) column, with their value types.
    BagKeys,
    /// The distinct values of the probe's only (string) column.
    DistinctValues,
}

/// A probe the binder needs answered before it can bind the query.
#[derive(Debug, Clone)]
pub struct ProbeRequest {
    pub key: ProbeKey,
    pub kind: ProbeKind,
    /// The query to run: one column.
    pub input: Rel,
}

/// Answers to probes: names (bag keys or distinct values) with their types, in output order.
pub type ProbeAnswers = HashMap<ProbeKey, Vec<(String, KqlType)>>;

/// Why binding stopped.
#[derive(Debug)]
pub enum BindFailure {
    Error(Diagnostic),
    Probe(Box<ProbeRequest>),
}

/// Binds with the data's answers to probes; asks for the next probe when one is missing.
pub fn bind_with_probes(
    script: &ast::Script,
    catalog: &dyn Catalog,
    options: BindOptions,
    answers: &ProbeAnswers,
) -> Result<BoundQuery, BindFailure> {
    let mut binder = Binder::new(catalog, options, Probing::Data(answers));
    match binder.bind_script(script) {
        Ok(q) => Ok(q),
        Err(d) => match binder.pending_probe.take() {
            Some(req) => Err(BindFailure::Probe(Box::new(req))),
            None => Err(BindFailure::Error(d)),
        },
    }
}

type BResult<T> = Result<T, Diagnostic>;

const MAX_DEPTH: usize = 2000;

thread_local! {
    /// Hidden column numbering, reset per `bind` (binding runs on one thread).
    static HIDDEN_COUNTER: std::cell::Cell<usize> = const { std::cell::Cell::new(1) };
}

/// Stack to keep free before recursing; more is allocated on the heap when short.
const RED_ZONE: usize = 128 * 1024;
const STACK_GROWTH: usize = 4 * 1024 * 1024;

#[derive(Clone)]
#[allow(clippy::large_enum_variant)]
enum Binding {
    Scalar(ScalarExpr),
    Tabular(Rel),
    Function(Rc<FunctionDef>),
}

struct FunctionDef {
    lambda: ast::Lambda,
    env: Env,
}

#[derive(Clone, Default)]
struct Env {
    vars: HashMap<String, Binding>,
}

impl Env {
    fn get(&self, name: &str) -> Option<&Binding> {
        self.vars.get(name)
    }
    fn with(&self, name: &str, b: Binding) -> Env {
        let mut e = self.clone();
        e.vars.insert(name.to_string(), b);
        e
    }
}

/// The columns visible to an expression.
#[derive(Clone, Copy)]
struct Scope<'s> {
    fields: &'s [Field],
    left: Option<&'s [Field]>,
    right: Option<&'s [Field]>,
}

impl<'s> Scope<'s> {
    fn of(fields: &'s [Field]) -> Self {
        Scope {
            fields,
            left: None,
            right: None,
        }
    }
    fn empty() -> Scope<'static> {
        Scope {
            fields: &[],
            left: None,
            right: None,
        }
    }
}

/// Where aggregate and window calls found while binding an expression go.
#[derive(Default)]
struct Collector {
    /// Aggregates allowed (summarize context).
    aggs_allowed: bool,
    aggs: Vec<(String, AggExpr)>,
    /// Window functions allowed (extend/serialize context).
    windows: Vec<(String, WindowExpr)>,
    windows_allowed: bool,
    next_hidden: usize,
}

impl Collector {
    fn hidden(&mut self) -> String {
        // Unique across the whole query: several collectors' columns can meet in one plan.
        self.next_hidden = HIDDEN_COUNTER.with(|c| {
            let v = c.get();
            c.set(v + 1);
            v
        });
        format!("__kql_h{}", self.next_hidden)
    }
}

/// Binds a parsed script against a catalog.
pub fn bind(
    script: &ast::Script,
    catalog: &dyn Catalog,
    options: BindOptions,
) -> BResult<BoundQuery> {
    // Without data, the columns of `bag_unpack`/`pivot` are the names later operators use:
    // each unknown name after such an operator is assumed to be one of its columns.
    let mut assumed: HashMap<(usize, usize), Vec<String>> = HashMap::new();
    for _ in 0..256 {
        let mut binder = Binder::new(catalog, options, Probing::Assume(&assumed));
        match binder.bind_script(script) {
            Ok(q) => return Ok(q),
            Err(d) => {
                let unknown = binder.unknown.borrow().clone();
                let open = binder.open_ops.clone();
                let Some((name, at)) = unknown.filter(|_| d.code == codes::UNKNOWN_COLUMN) else {
                    return Err(d);
                };
                let Some(op) = open
                    .iter()
                    .filter(|o| o.start < at.start)
                    .max_by_key(|o| o.start)
                else {
                    return Err(d);
                };
                let names = assumed.entry((op.start, op.end)).or_default();
                if names.contains(&name) {
                    return Err(d);
                }
                names.push(name);
            }
        }
    }
    Err(Diagnostic::unsupported(
        "more than 256 columns assumed from bag_unpack/pivot",
        Span::default(),
    ))
}

enum Probing<'p> {
    /// Columns come from the data's answers.
    Data(&'p ProbeAnswers),
    /// Columns are the names later operators use (per operator span).
    Assume(&'p HashMap<(usize, usize), Vec<String>>),
}

struct Binder<'a> {
    catalog: &'a dyn Catalog,
    options: BindOptions,
    depth: usize,
    render: Option<Render>,
    probing: Probing<'a>,
    pending_probe: Option<ProbeRequest>,
    /// Spans of data-dependent operators bound so far.
    open_ops: Vec<Span>,
    /// The last unknown column name reported.
    unknown: std::cell::RefCell<Option<(String, Span)>>,
}

impl<'a> Binder<'a> {
    fn new(catalog: &'a dyn Catalog, options: BindOptions, probing: Probing<'a>) -> Self {
        HIDDEN_COUNTER.with(|c| c.set(1));
        Binder {
            catalog,
            options,
            depth: 0,
            render: None,
            probing,
            pending_probe: None,
            open_ops: Vec::new(),
            unknown: std::cell::RefCell::new(None),
        }
    }
}

fn err(code: &'static str, msg: impl Into<String>, span: Span) -> Diagnostic {
    Diagnostic::error(code, msg, span)
}

fn schema(fields: Vec<Field>) -> Schema {
    Arc::new(fields)
}

fn suggest<'n>(name: &str, candidates: impl Iterator<Item = &'n str>) -> Option<String> {
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&lower, &c.to_lowercase());
        if score > 0.85 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| format!("did you mean '{c}'?"))
}

fn fn_err(e: kql_functions::FnError, span: Span, args: &[Expr]) -> Diagnostic {
    let span = e
        .arg
        .and_then(|i| args.get(i))
        .map(|a| a.span)
        .unwrap_or(span);
    err(e.code, e.message, span)
}

fn const_long(e: &ScalarExpr) -> Option<i64> {
    match e.constant()? {
        Const::Long(v) => Some(*v),
        Const::Int(v) => Some(i64::from(*v)),
        Const::Real(v) => Some(*v as i64),
        _ => None,
    }
}

fn const_string(e: &ScalarExpr) -> Option<String> {
    match e.constant()? {
        Const::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn pattern_matches(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == name;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

fn dyn_to_json(v: &ast::DynValue) -> serde_json::Value {
    use serde_json::Value;
    match v {
        ast::DynValue::Null => Value::Null,
        ast::DynValue::Bool(b) => Value::Bool(*b),
        ast::DynValue::Long(i) => Value::from(*i),
        ast::DynValue::Real(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        ast::DynValue::String(s) => Value::String(s.clone()),
        ast::DynValue::DateTime(s) => match parse_datetime(s) {
            Some(n) => Value::String(format_iso(n)),
            None => Value::String(s.clone()),
        },
        ast::DynValue::TimeSpan(t) => Value::String(format_timespan(t.saturating_mul(100))),
        ast::DynValue::Array(items) => Value::Array(items.iter().map(dyn_to_json).collect()),
        ast::DynValue::Object(kv) => {
            let mut m = serde_json::Map::new();
            for (k, v) in kv {
                m.insert(k.clone(), dyn_to_json(v));
            }
            Value::Object(m)
        }
    }
}

/// A constant as a JSON value (as it appears inside `dynamic`).
pub fn const_to_json(c: &Const) -> serde_json::Value {
    use serde_json::Value;
    match c {
        Const::Null | Const::Type(_) => Value::Null,
        Const::Bool(b) => Value::Bool(*b),
        Const::Int(i) => Value::from(*i),
        Const::Long(i) => Value::from(*i),
        Const::Real(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Const::String(s) | Const::Guid(s) => Value::String(s.clone()),
        Const::DateTime(n) => Value::String(format_iso(*n)),
        Const::TimeSpan(n) => Value::String(format_timespan(*n)),
        Const::Dynamic(v) => v.clone(),
    }
}

/// ISO 8601 text of a datetime, as Kusto prints it inside dynamic values.
pub fn format_iso(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let sub = nanos.rem_euclid(1_000_000_000) as u32;
    match chrono::DateTime::from_timestamp(secs, sub) {
        Some(dt) => format!("{}.{:07}Z", dt.format("%Y-%m-%dT%H:%M:%S"), sub / 100),
        None => String::new(),
    }
}

/// `[-][d.]hh:mm:ss[.fffffff]` text of a timespan in nanoseconds.
pub fn format_timespan(nanos: i64) -> String {
    let neg = nanos < 0;
    let ticks = (nanos / 100).unsigned_abs();
    let frac = ticks % 10_000_000;
    let total_secs = ticks / 10_000_000;
    let days = total_secs / 86_400;
    let h = (total_secs / 3600) % 24;
    let m = (total_secs / 60) % 60;
    let s = total_secs % 60;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if frac > 0 {
        out.push_str(&format!(".{frac:07}"));
    }
    out
}

impl<'a> Binder<'a> {
    fn enter(&mut self, span: Span) -> BResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(codes::TOO_DEEP, "query is nested too deeply", span));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn bind_script(&mut self, script: &ast::Script) -> BResult<BoundQuery> {
        let mut env = Env::default();
        let mut result: Option<Rel> = None;
        for stmt in &script.statements {
            match stmt {
                Statement::Let { name, value, .. } => {
                    let b = self.bind_let_value(value, &env)?;
                    env = env.with(&name.name, b);
                }
                Statement::Set { .. } => {}
                Statement::DeclareQueryParameters { params, .. } => {
                    for p in params {
                        if let Some(default) = &p.default {
                            let v = self.bind_scalar_simple(default, &env)?;
                            env = env.with(&p.name.name, Binding::Scalar(v));
                        } else {
                            return Err(Diagnostic::unsupported(
                                format!("query parameter '{}' without a value", p.name.name),
                                p.span,
                            ));
                        }
                    }
                }
                Statement::Query(expr) => {
                    result = Some(self.bind_rel_or_scalar(expr, &env)?);
                }
            }
        }
        match result {
            Some(rel) => Ok(BoundQuery {
                rel,
                render: self.render.take(),
            }),
            None => Err(err(
                codes::EMPTY_QUERY,
                "the query has no tabular expression to run",
                script.span,
            )),
        }
    }

    fn bind_let_value(&mut self, value: &ast::LetValue, env: &Env) -> BResult<Binding> {
        match value {
            ast::LetValue::Function(lambda) => Ok(Binding::Function(Rc::new(FunctionDef {
                lambda: lambda.clone(),
                env: env.clone(),
            }))),
            ast::LetValue::Expr(e) => {
                if let ExprKind::Lambda(l) = &e.kind {
                    return Ok(Binding::Function(Rc::new(FunctionDef {
                        lambda: (**l).clone(),
                        env: env.clone(),
                    })));
                }
                if self.is_tabular(e, env) {
                    Ok(Binding::Tabular(self.bind_rel(e, env)?))
                } else {
                    Ok(Binding::Scalar(self.bind_scalar_simple(e, env)?))
                }
            }
        }
    }

    /// A top-level query statement; a scalar expression becomes `print`.
    fn bind_rel_or_scalar(&mut self, e: &Expr, env: &Env) -> BResult<Rel> {
        if self.is_tabular(e, env) {
            self.bind_rel(e, env)
        } else {
            let item = ast::NamedExpr {
                names: vec![],
                expr: e.clone(),
                span: e.span,
            };
            self.bind_print(&[item], env, e.span)
        }
    }

    // ---------------------------------------------------------------- tabular / scalar?

    fn is_tabular(&self, e: &Expr, env: &Env) -> bool {
        match &e.kind {
            ExprKind::Pipe { .. }
            | ExprKind::Datatable { .. }
            | ExprKind::Print(_)
            | ExprKind::Range { .. }
            | ExprKind::Union(_)
            | ExprKind::ExternalData { .. }
            | ExprKind::UnsupportedSource { .. } => true,
            ExprKind::Paren(inner) => self.is_tabular(inner, env),
            ExprKind::Name(id) => match env.get(&id.name) {
                Some(Binding::Tabular(_)) => true,
                Some(Binding::Function(f)) => f.lambda.params.is_empty() && self.fn_is_tabular(f),
                Some(Binding::Scalar(_)) => false,
                None => {
                    self.catalog.table(&id.name).is_some()
                        || (id.name.contains('*') && !id.name.starts_with('*'))
                }
            },
            ExprKind::Call { name, .. } => match env.get(&name.name) {
                Some(Binding::Function(f)) => self.fn_is_tabular(f),
                Some(_) => false,
                None => {
                    matches!(name.name.as_str(), "materialize" | "view" | "table")
                        || self.catalog.builtin_function(&name.name).is_some()
                }
            },
            _ => false,
        }
    }

    fn fn_is_tabular(&self, f: &FunctionDef) -> bool {
        let mut env = f.env.clone();
        for p in &f.lambda.params {
            let b = match &p.ty {
                ast::ParamType::Tabular { .. } => Binding::Tabular(Rel {
                    kind: RelKind::Empty,
                    schema: schema(vec![]),
                    span: p.span,
                }),
                ast::ParamType::Scalar(t) => {
                    Binding::Scalar(ScalarExpr::null(t.ty.unwrap_or(KqlType::Dynamic), p.span))
                }
            };
            env = env.with(&p.name.name, b);
        }
        for l in &f.lambda.body.lets {
            if let Statement::Let { name, value, .. } = l {
                let b = match value {
                    ast::LetValue::Function(lambda) => Binding::Function(Rc::new(FunctionDef {
                        lambda: lambda.clone(),
                        env: env.clone(),
                    })),
                    ast::LetValue::Expr(e) => {
                        if self.is_tabular(e, &env) {
                            Binding::Tabular(Rel {
                                kind: RelKind::Empty,
                                schema: schema(vec![]),
                                span: e.span,
                            })
                        } else {
                            Binding::Scalar(ScalarExpr::null(KqlType::Dynamic, e.span))
                        }
                    }
                };
                env = env.with(&name.name, b);
            }
        }
        self.is_tabular(&f.lambda.body.result, &env)
    }

    // ---------------------------------------------------------------- relations

    fn bind_rel(&mut self, e: &Expr, env: &Env) -> BResult<Rel> {
        self.enter(e.span)?;
        let r = stacker::maybe_grow(RED_ZONE, STACK_GROWTH, || self.bind_rel_inner(e, env));
        self.leave();
        r
    }

    fn bind_rel_inner(&mut self, e: &Expr, env: &Env) -> BResult<Rel> {
        match &e.kind {
            ExprKind::Paren(inner) => self.bind_rel(inner, env),
            ExprKind::Pipe { .. } => {
                // Flatten the left-deep chain: source | op1 | op2 ...
                let mut ops: Vec<&ast::Operator> = Vec::new();
                let mut cur = e;
                while let ExprKind::Pipe { input, op } = &cur.kind {
                    ops.push(op);
                    cur = input;
                }
                let mut rel = self.bind_rel(cur, env)?;
                let mut local = env.clone();
                for op in ops.into_iter().rev() {
                    if let OperatorKind::As { name, .. } = &op.kind {
                        local = local.with(&name.name, Binding::Tabular(rel.clone()));
                        continue;
                    }
                    rel = self.bind_op(rel, op, &local)?;
                }
                Ok(rel)
            }
            ExprKind::Name(id) => self.bind_table_name(id, env),
            ExprKind::Call { name, args } => self.bind_tabular_call(name, args, None, env, e.span),
            ExprKind::Datatable { columns, values } => {
                self.bind_datatable(columns, values, env, e.span)
            }
            ExprKind::Print(items) => self.bind_print(items, env, e.span),
            ExprKind::Range {
                name,
                from,
                to,
                step,
            } => {
                let from = self.bind_scalar_simple(from, env)?;
                let to = self.bind_scalar_simple(to, env)?;
                let step = self.bind_scalar_simple(step, env)?;
                let ty = match from.ty {
                    KqlType::Int => KqlType::Long,
                    t => t,
                };
                let to = to.cast_to(ty);
                Ok(Rel {
                    kind: RelKind::Range {
                        from: from.cast_to(ty),
                        to,
                        step,
                    },
                    schema: schema(vec![Field::new(&name.name, ty)]),
                    span: e.span,
                })
            }
            ExprKind::Union(u) => self.bind_union(None, u, env, e.span),
            ExprKind::ExternalData {
                columns,
                uris,
                props,
            } => {
                let mut fields = Vec::new();
                for c in columns {
                    let ty = c.ty.ty.ok_or_else(|| {
                        err(
                            codes::UNKNOWN_TYPE,
                            format!("unknown type '{}'", c.ty.name),
                            c.ty.span,
                        )
                    })?;
                    fields.push(Field::new(&c.name.name, ty));
                }
                let mut uri_texts = Vec::new();
                for u in uris {
                    let v = self.bind_scalar_simple(u, env)?;
                    uri_texts.push(const_string(&v).ok_or_else(|| {
                        err(
                            codes::NOT_CONSTANT,
                            "externaldata needs constant URIs",
                            u.span,
                        )
                    })?);
                }
                let mut format = String::from("csv");
                let mut ignore_first_record = false;
                for (k, v) in props {
                    let text = match &v.kind {
                        ExprKind::Name(id) => id.name.clone(),
                        ExprKind::Literal(Literal::String(s)) => s.clone(),
                        ExprKind::Literal(Literal::Bool(Some(b))) => b.to_string(),
                        _ => String::new(),
                    };
                    match k.name.to_ascii_lowercase().as_str() {
                        "format" => format = text.to_ascii_lowercase(),
                        "ignorefirstrecord" => {
                            ignore_first_record = text.eq_ignore_ascii_case("true")
                        }
                        _ => {}
                    }
                }
                Ok(Rel {
                    kind: RelKind::ExternalData {
                        uris: uri_texts,
                        format,
                        ignore_first_record,
                    },
                    schema: schema(fields),
                    span: e.span,
                })
            }
            ExprKind::UnsupportedSource { name } => Err(Diagnostic::unsupported(
                format!("the '{name}' operator"),
                e.span,
            )),
            _ => Err(err(
                codes::NOT_TABULAR,
                "expected a tabular expression (a table, a let-bound table or a pipeline)",
                e.span,
            )),
        }
    }

    fn bind_table_name(&mut self, id: &ast::Ident, env: &Env) -> BResult<Rel> {
        match env.get(&id.name) {
            Some(Binding::Tabular(rel)) => return Ok(rel.clone()),
            Some(Binding::Function(f)) if f.lambda.params.is_empty() => {
                let f = Rc::clone(f);
                return self.invoke_function(&f, &[], None, env, id.span);
            }
            Some(Binding::Function(_)) => {
                return Err(err(
                    codes::WRONG_ARG_COUNT,
                    format!("function '{}' needs arguments", id.name),
                    id.span,
                ));
            }
            Some(Binding::Scalar(_)) => {
                return Err(err(
                    codes::NOT_TABULAR,
                    format!("'{}' is a scalar value, not a table", id.name),
                    id.span,
                ));
            }
            None => {}
        }
        if let Some(t) = self.catalog.table(&id.name) {
            return Ok(Rel {
                kind: RelKind::Table {
                    name: t.name.clone(),
                },
                schema: schema(
                    t.columns
                        .iter()
                        .map(|c| Field::new(&c.name, c.ty))
                        .collect(),
                ),
                span: id.span,
            });
        }
        if let Some(f) = self.catalog.builtin_function(&id.name) {
            return self.invoke_builtin(&f, &[], None, env, id.span);
        }
        let names = self.catalog.table_names();
        let mut d = err(
            codes::UNKNOWN_TABLE,
            format!("unknown table or tabular expression '{}'", id.name),
            id.span,
        );
        if let Some(s) = suggest(
            &id.name,
            names
                .iter()
                .map(|s| s.as_str())
                .chain(env.vars.keys().map(|s| s.as_str())),
        ) {
            d = d.with_help(s);
        }
        Err(d)
    }

    fn bind_tabular_call(
        &mut self,
        name: &ast::Ident,
        args: &[Expr],
        pipe_input: Option<Rel>,
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        if pipe_input.is_none() {
            match name.name.as_str() {
                "materialize" | "view" => {
                    let arg = args.first().ok_or_else(|| {
                        err(
                            codes::WRONG_ARG_COUNT,
                            "materialize() needs one argument",
                            span,
                        )
                    })?;
                    return self.bind_rel(arg, env);
                }
                "table" => {
                    let arg = args
                        .first()
                        .ok_or_else(|| err(codes::WRONG_ARG_COUNT, "table() needs a name", span))?;
                    let s = self.bind_scalar_simple(arg, env)?;
                    let tname = const_string(&s).ok_or_else(|| {
                        err(
                            codes::NOT_CONSTANT,
                            "table() needs a constant name",
                            arg.span,
                        )
                    })?;
                    return self.bind_table_name(
                        &ast::Ident {
                            name: tname,
                            span: arg.span,
                        },
                        env,
                    );
                }
                _ => {}
            }
        }
        match env.get(&name.name) {
            Some(Binding::Function(f)) => {
                let f = Rc::clone(f);
                return self.invoke_function(&f, args, pipe_input, env, span);
            }
            Some(_) => {
                return Err(err(
                    codes::NOT_TABULAR,
                    format!("'{}' is not a function", name.name),
                    name.span,
                ));
            }
            None => {}
        }
        if let Some(f) = self.catalog.builtin_function(&name.name) {
            return self.invoke_builtin(&f, args, pipe_input, env, span);
        }
        Err(err(
            codes::UNKNOWN_FUNCTION,
            format!("unknown tabular function '{}'", name.name),
            name.span,
        ))
    }

    fn invoke_builtin(
        &mut self,
        f: &crate::catalog::BuiltinFunction,
        args: &[Expr],
        pipe_input: Option<Rel>,
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let text = format!("let {} = {};", f.name, f.definition);
        let parsed: kql_syntax::Parsed = kql_syntax::parse(&text);
        let lambda = parsed.script.statements.iter().find_map(|s| match s {
            Statement::Let {
                value: ast::LetValue::Function(l),
                ..
            } => Some(l.clone()),
            Statement::Let {
                value:
                    ast::LetValue::Expr(Expr {
                        kind: ExprKind::Lambda(l),
                        ..
                    }),
                ..
            } => Some(ast::Lambda::clone(l)),
            _ => None,
        });
        let Some(lambda) = lambda else {
            return Err(Diagnostic::internal(
                format!("built-in function {} failed to parse", f.name),
                span,
            ));
        };
        let def = FunctionDef {
            lambda,
            env: Env::default(),
        };
        // Bind with spans pointing at the call site: the definition text is not the query.
        self.invoke_function(&def, args, pipe_input, env, span)
            .map_err(|mut d| {
                d.span = span;
                d
            })
    }

    fn invoke_function(
        &mut self,
        f: &FunctionDef,
        args: &[Expr],
        pipe_input: Option<Rel>,
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        self.enter(span)?;
        let r = (|| {
            let fenv = self.function_env(
                f,
                args,
                pipe_input,
                env,
                &Scope::empty(),
                &mut Collector::default(),
                span,
            )?;
            self.bind_rel(&f.lambda.body.result, &fenv)
        })();
        self.leave();
        r
    }

    /// Binds the arguments of a user function call into a new environment
    /// (captured environment + parameters + the body's `let`s).
    #[allow(clippy::too_many_arguments)]
    fn function_env(
        &mut self,
        f: &FunctionDef,
        args: &[Expr],
        pipe_input: Option<Rel>,
        env: &Env,
        scope: &Scope,
        col: &mut Collector,
        span: Span,
    ) -> BResult<Env> {
        let mut fenv = f.env.clone();
        let mut args_iter = args.iter();
        let mut pipe_input = pipe_input;
        for p in &f.lambda.params {
            let binding = match &p.ty {
                ast::ParamType::Tabular { .. } => {
                    if let Some(rel) = pipe_input.take() {
                        Binding::Tabular(rel)
                    } else if let Some(a) = args_iter.next() {
                        Binding::Tabular(self.bind_rel(a, env)?)
                    } else {
                        return Err(err(
                            codes::WRONG_ARG_COUNT,
                            format!("missing tabular argument '{}'", p.name.name),
                            span,
                        ));
                    }
                }
                ast::ParamType::Scalar(t) => {
                    let want = t.ty.unwrap_or(KqlType::Dynamic);
                    let value = match args_iter.next() {
                        Some(a) => self.bind_scalar(a, env, scope, col)?,
                        None => match &p.default {
                            Some(d) => self.bind_scalar(d, &f.env, &Scope::empty(), col)?,
                            None => {
                                return Err(err(
                                    codes::WRONG_ARG_COUNT,
                                    format!("missing argument '{}'", p.name.name),
                                    span,
                                ));
                            }
                        },
                    };
                    let value = if value.ty == want || want == KqlType::Dynamic {
                        value
                    } else if value.ty.is_numeric() && want.is_numeric()
                        || matches!(value.kind, ScalarKind::Literal(Const::Null))
                    {
                        value.cast_to(want)
                    } else {
                        return Err(err(
                            codes::TYPE_MISMATCH,
                            format!(
                                "argument '{}' expects {} but got {}",
                                p.name.name, want, value.ty
                            ),
                            value.span,
                        ));
                    };
                    Binding::Scalar(value)
                }
            };
            fenv = fenv.with(&p.name.name, binding);
        }
        if let Some(extra) = args_iter.next() {
            return Err(err(
                codes::WRONG_ARG_COUNT,
                "too many arguments",
                extra.span,
            ));
        }
        for stmt in &f.lambda.body.lets {
            if let Statement::Let { name, value, .. } = stmt {
                let b = self.bind_let_value(value, &fenv)?;
                fenv = fenv.with(&name.name, b);
            }
        }
        Ok(fenv)
    }

    fn bind_datatable(
        &mut self,
        columns: &[ast::ColumnDecl],
        values: &[Expr],
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let mut fields = Vec::new();
        for c in columns {
            let ty = c.ty.ty.ok_or_else(|| {
                err(
                    codes::UNKNOWN_TYPE,
                    format!("unknown type '{}'", c.ty.name),
                    c.ty.span,
                )
            })?;
            fields.push(Field::new(&c.name.name, ty));
        }
        if fields.is_empty() {
            return Err(err(
                codes::EXPECTED,
                "datatable needs at least one column",
                span,
            ));
        }
        if !values.len().is_multiple_of(fields.len()) {
            return Err(err(
                codes::BAD_LITERAL,
                format!(
                    "datatable has {} values, which is not a multiple of its {} columns",
                    values.len(),
                    fields.len()
                ),
                span,
            ));
        }
        let mut rows = Vec::new();
        for chunk in values.chunks(fields.len()) {
            let mut row = Vec::new();
            for (v, f) in chunk.iter().zip(&fields) {
                let b = self.bind_scalar_simple(v, env)?;
                if f.ty == KqlType::String && matches!(v.kind, ExprKind::Literal(Literal::Null)) {
                    return Err(err(
                        codes::TYPE_MISMATCH,
                        format!(
                            "'null' is not a string value (datatable column '{}'); KQL strings are never null",
                            f.name
                        ),
                        v.span,
                    ));
                }
                if b.constant().is_none() {
                    return Err(err(
                        codes::NOT_CONSTANT,
                        "datatable values must be constants",
                        v.span,
                    ));
                }
                let ok = b.ty == f.ty
                    || matches!(b.constant(), Some(Const::Null))
                    || (b.ty.is_numeric() && f.ty.is_numeric())
                    || f.ty == KqlType::Dynamic;
                if !ok {
                    return Err(err(
                        codes::TYPE_MISMATCH,
                        format!(
                            "value of type {} in datatable column '{}' of type {}",
                            b.ty, f.name, f.ty
                        ),
                        v.span,
                    ));
                }
                row.push(b.cast_to(f.ty));
            }
            rows.push(row);
        }
        Ok(Rel {
            kind: RelKind::Values { rows },
            schema: schema(fields),
            span,
        })
    }

    fn one_row(span: Span) -> Rel {
        Rel {
            kind: RelKind::Values { rows: vec![vec![]] },
            schema: schema(vec![]),
            span,
        }
    }

    fn bind_print(&mut self, items: &[ast::NamedExpr], env: &Env, span: Span) -> BResult<Rel> {
        let input = Self::one_row(span);
        let mut exprs = Vec::new();
        let mut fields = Vec::new();
        let mut col = Collector::default();
        for (i, item) in items.iter().enumerate() {
            check_assignable(&item.names)?;
            let e = self.bind_scalar(&item.expr, env, &Scope::empty(), &mut col)?;
            let name = match item.names.first() {
                Some(n) => n.name.clone(),
                None => {
                    expr_name_in(&item.expr, &|_| false).unwrap_or_else(|| format!("print_{i}"))
                }
            };
            let taken: Vec<String> = fields.iter().map(|f: &Field| f.name.clone()).collect();
            let name = unique_name(&name, &taken);
            fields.push(Field::new(&name, e.ty));
            exprs.push(e);
        }
        Ok(Rel {
            kind: RelKind::Project {
                input: Box::new(input),
                exprs,
            },
            schema: schema(fields),
            span,
        })
    }

    // ---------------------------------------------------------------- operators

    fn bind_op(&mut self, input: Rel, op: &ast::Operator, env: &Env) -> BResult<Rel> {
        let span = op.span;
        match &op.kind {
            OperatorKind::Where(pred) => {
                let p = self.bind_scalar(
                    pred,
                    env,
                    &Scope::of(&input.schema),
                    &mut Collector::default(),
                )?;
                if p.ty != KqlType::Bool {
                    return Err(err(
                        codes::TYPE_MISMATCH,
                        format!("the where predicate must be bool, got {}", p.ty),
                        pred.span,
                    ));
                }
                let s = Arc::clone(&input.schema);
                Ok(Rel {
                    kind: RelKind::Filter {
                        input: Box::new(input),
                        predicate: p,
                    },
                    schema: s,
                    span,
                })
            }
            OperatorKind::Extend(items) => self.bind_extend(input, items, env, span, false),
            OperatorKind::Serialize(items) => self.bind_extend(input, items, env, span, true),
            OperatorKind::Project(items) => self.bind_project(input, items, env, span),
            OperatorKind::ProjectAway(patterns) => {
                for p in patterns {
                    if !p.pattern.contains('*') && !input.schema.iter().any(|f| f.name == p.pattern)
                    {
                        return Err(self.unknown_column(&p.pattern, &input.schema, p.span));
                    }
                }
                let keep: Vec<usize> = (0..input.schema.len())
                    .filter(|&i| {
                        !patterns
                            .iter()
                            .any(|p| pattern_matches(&p.pattern, &input.schema[i].name))
                    })
                    .collect();
                Ok(select(input, &keep, span))
            }
            OperatorKind::ProjectKeep(patterns) => {
                for p in patterns {
                    if !p.pattern.contains('*') && !input.schema.iter().any(|f| f.name == p.pattern)
                    {
                        return Err(self.unknown_column(&p.pattern, &input.schema, p.span));
                    }
                }
                let keep: Vec<usize> = (0..input.schema.len())
                    .filter(|&i| {
                        patterns
                            .iter()
                            .any(|p| pattern_matches(&p.pattern, &input.schema[i].name))
                    })
                    .collect();
                Ok(select(input, &keep, span))
            }
            OperatorKind::ProjectRename(pairs) => {
                let mut fields: Vec<Field> = input.schema.to_vec();
                for (new, old) in pairs {
                    let Some(f) = fields.iter_mut().find(|f| f.name == old.name) else {
                        return Err(self.unknown_column(&old.name, &input.schema, old.span));
                    };
                    f.name = new.name.clone();
                }
                Ok(rename(input, fields, span))
            }
            OperatorKind::ProjectReorder(items) => {
                let mut order: Vec<usize> = Vec::new();
                for (p, dir) in items {
                    let mut matched: Vec<usize> = (0..input.schema.len())
                        .filter(|&i| {
                            pattern_matches(&p.pattern, &input.schema[i].name)
                                && !order.contains(&i)
                        })
                        .collect();
                    if matched.is_empty() && !p.pattern.contains('*') {
                        return Err(self.unknown_column(&p.pattern, &input.schema, p.span));
                    }
                    match dir {
                        Some(ast::SortOrder::Asc) => matched
                            .sort_by(|a, b| input.schema[*a].name.cmp(&input.schema[*b].name)),
                        Some(ast::SortOrder::Desc) => matched
                            .sort_by(|a, b| input.schema[*b].name.cmp(&input.schema[*a].name)),
                        None => {}
                    }
                    order.extend(matched);
                }
                for i in 0..input.schema.len() {
                    if !order.contains(&i) {
                        order.push(i);
                    }
                }
                Ok(select(input, &order, span))
            }
            OperatorKind::Summarize { aggregates, by, .. } => {
                self.bind_summarize(input, aggregates, by, env, span)
            }
            OperatorKind::Count => {
                let agg = AggExpr::Call {
                    name: "count".into(),
                    args: vec![],
                    ty: KqlType::Long,
                };
                Ok(Rel {
                    kind: RelKind::Aggregate {
                        input: Box::new(input),
                        group: vec![],
                        aggs: vec![agg],
                    },
                    schema: schema(vec![Field::new("Count", KqlType::Long)]),
                    span,
                })
            }
            OperatorKind::Sort { keys, .. } => {
                let keys = self.bind_sort_keys(&input, keys, env)?;
                no_dynamic_sort_keys(&keys)?;
                let s = Arc::clone(&input.schema);
                Ok(Rel {
                    kind: RelKind::Sort {
                        input: Box::new(input),
                        keys,
                    },
                    schema: s,
                    span,
                })
            }
            OperatorKind::Top { count, key } => {
                let n = self.bind_count(count, env)?;
                let keys = self.bind_sort_keys(&input, std::slice::from_ref(key), env)?;
                let s = Arc::clone(&input.schema);
                let sorted = Rel {
                    kind: RelKind::Sort {
                        input: Box::new(input),
                        keys,
                    },
                    schema: Arc::clone(&s),
                    span,
                };
                Ok(Rel {
                    kind: RelKind::Limit {
                        input: Box::new(sorted),
                        count: n,
                    },
                    schema: s,
                    span,
                })
            }
            OperatorKind::Take(count) | OperatorKind::Sample(count) => {
                let n = self.bind_count(count, env)?;
                let s = Arc::clone(&input.schema);
                Ok(Rel {
                    kind: RelKind::Limit {
                        input: Box::new(input),
                        count: n,
                    },
                    schema: s,
                    span,
                })
            }
            OperatorKind::Distinct(items) => {
                let projected = if items.iter().any(|e| matches!(e.kind, ExprKind::Star)) {
                    input
                } else {
                    let named: Vec<ast::NamedExpr> = items
                        .iter()
                        .map(|e| ast::NamedExpr {
                            names: vec![],
                            expr: e.clone(),
                            span: e.span,
                        })
                        .collect();
                    self.bind_project(input, &named, env, span)?
                };
                if let Some(f) = projected.schema.iter().find(|f| f.ty == KqlType::Dynamic) {
                    return Err(dynamic_not_allowed(
                        span,
                        &format!("a distinct column ('{}')", f.name),
                    ));
                }
                let s = Arc::clone(&projected.schema);
                Ok(Rel {
                    kind: RelKind::Distinct {
                        input: Box::new(projected),
                    },
                    schema: s,
                    span,
                })
            }
            OperatorKind::Join {
                params, right, on, ..
            } => {
                let kind = self.join_kind(params, JoinKind::InnerUnique)?;
                let right = self.bind_rel(right, env)?;
                self.bind_join(input, right, kind, on, false, env, span)
            }
            OperatorKind::Lookup { params, right, on } => {
                let kind = self.join_kind(params, JoinKind::LeftOuter)?;
                if !matches!(kind, JoinKind::LeftOuter | JoinKind::Inner) {
                    return Err(err(
                        codes::BAD_ARGUMENT,
                        "lookup kind must be leftouter or inner",
                        span,
                    ));
                }
                let right = self.bind_rel(right, env)?;
                self.bind_join(input, right, kind, on, true, env, span)
            }
            OperatorKind::Union(u) => self.bind_union(Some(input), u, env, span),
            OperatorKind::MvExpand {
                params,
                items,
                limit,
            } => self.bind_mv_expand(input, params, items, limit.as_ref(), env, span),
            OperatorKind::Parse {
                where_,
                params,
                expr,
                parts,
            } => self.bind_parse(input, *where_, params, expr, parts, env, span),
            OperatorKind::As { .. } => Ok(input),
            OperatorKind::Invoke(call) => match &call.kind {
                ExprKind::Call { name, args } => {
                    self.bind_tabular_call(name, args, Some(input), env, span)
                }
                ExprKind::Name(name) => self.bind_tabular_call(name, &[], Some(input), env, span),
                _ => Err(err(
                    codes::EXPECTED,
                    "invoke expects a function call",
                    call.span,
                )),
            },
            OperatorKind::GetSchema => {
                let rows = input
                    .schema
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        vec![
                            ScalarExpr::literal(
                                Const::String(f.name.clone()),
                                KqlType::String,
                                span,
                            ),
                            ScalarExpr::literal(Const::Long(i as i64), KqlType::Long, span),
                            ScalarExpr::literal(
                                Const::String(format!("System.{}", f.ty.dotnet_name())),
                                KqlType::String,
                                span,
                            ),
                            ScalarExpr::literal(
                                Const::String(f.ty.name().to_string()),
                                KqlType::String,
                                span,
                            ),
                        ]
                    })
                    .collect();
                Ok(Rel {
                    kind: RelKind::Values { rows },
                    schema: schema(vec![
                        Field::new("ColumnName", KqlType::String),
                        Field::new("ColumnOrdinal", KqlType::Long),
                        Field::new("DataType", KqlType::String),
                        Field::new("ColumnType", KqlType::String),
                    ]),
                    span,
                })
            }
            OperatorKind::Render { chart, props } => {
                let mut properties = Vec::new();
                for p in props {
                    if let Ok(v) = self.bind_scalar_simple(&p.value, env)
                        && let Some(c) = v.constant()
                    {
                        properties.push((p.name.name.clone(), c.clone()));
                    }
                }
                self.render = Some(Render {
                    visualization: chart.name.clone(),
                    properties,
                });
                Ok(input)
            }
            OperatorKind::Search { params, pred } => {
                self.bind_search(input, params, pred, env, span)
            }
            OperatorKind::MvApply {
                params,
                items,
                limit,
                on,
            } => self.bind_mv_apply(input, params, items, limit.as_ref(), on, env, span),

            OperatorKind::ParseKv {
                expr,
                columns,
                params,
            } => self.bind_parse_kv(input, expr, columns, params, env, span),
            OperatorKind::MakeSeries {
                aggregates,
                on,
                from,
                to,
                step,
                by,
                ..
            } => self.bind_make_series(
                input,
                aggregates,
                on,
                from.as_ref(),
                to.as_ref(),
                step.as_ref(),
                by,
                env,
                span,
            ),
            OperatorKind::TopNested(levels) => self.bind_top_nested(input, levels, env, span),
            OperatorKind::SampleDistinct { .. } => Err(Diagnostic::unsupported(
                "the 'sample-distinct' operator",
                span,
            )),
            OperatorKind::Partition { by, sub, .. } => {
                let f = input
                    .schema
                    .iter()
                    .find(|f| f.name == by.name)
                    .cloned()
                    .ok_or_else(|| self.unknown_column(&by.name, &input.schema, by.span))?;
                let (out, internal) = self.bind_grouped_ops(input, sub, &f.name, f.ty, env)?;
                if internal {
                    let keep: Vec<usize> = (0..out.schema.len())
                        .filter(|&i| out.schema[i].name != f.name)
                        .collect();
                    return Ok(select(out, &keep, span));
                }
                Ok(out)
            }
            OperatorKind::Evaluate {
                plugin,
                schema: declared,
                ..
            } => {
                let name = match &plugin.kind {
                    ExprKind::Call { name, .. } => name.name.clone(),
                    _ => "?".into(),
                };
                if let ExprKind::Call { args, .. } = &plugin.kind {
                    match name.as_str() {
                        "bag_unpack" => {
                            return self.bind_bag_unpack(
                                input,
                                args,
                                declared.as_deref(),
                                env,
                                span,
                            );
                        }
                        "pivot" => {
                            return self.bind_pivot(input, args, declared.as_deref(), env, span);
                        }
                        _ => {}
                    }
                }
                Err(Diagnostic::unsupported(
                    format!("the '{name}' plugin (evaluate)"),
                    span,
                ))
            }
            OperatorKind::Unsupported { name } => Err(Diagnostic::unsupported(
                format!("the '{name}' operator"),
                span,
            )),
        }
    }

    // ------------------------------------------------------- data-dependent schemas

    /// The names (and types) a data-dependent operator produces: from the data's answer,
    /// or (without data) the names later operators use. `true` when assumed.
    fn probe(
        &mut self,
        kind: ProbeKind,
        input: Rel,
        span: Span,
    ) -> BResult<(Vec<(String, KqlType)>, bool)> {
        match &self.probing {
            Probing::Data(answers) => {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                format!("{input:?}").hash(&mut h);
                let key = ProbeKey {
                    start: span.start,
                    end: span.end,
                    input: h.finish(),
                };
                if let Some(a) = answers.get(&key) {
                    return Ok((a.clone(), false));
                }
                self.pending_probe = Some(ProbeRequest { key, kind, input });
                Err(Diagnostic::internal(
                    "this operator's columns depend on the data, which was not probed",
                    span,
                ))
            }
            Probing::Assume(assumed) => {
                let names = assumed
                    .get(&(span.start, span.end))
                    .map(|v| v.iter().map(|n| (n.clone(), KqlType::Dynamic)).collect())
                    .unwrap_or_default();
                self.open_ops.push(span);
                Ok((names, true))
            }
        }
    }

    fn const_arg_string(&mut self, e: &Expr, env: &Env, what: &str) -> BResult<String> {
        let v = self.bind_scalar_simple(e, env)?;
        const_string(&v).ok_or_else(|| {
            err(
                codes::NOT_CONSTANT,
                format!("{what} must be a constant string"),
                e.span,
            )
        })
    }

    /// `evaluate bag_unpack(bag [, prefix] [, columnsConflict] [, ignoredProperties]) [: schema]`
    fn bind_bag_unpack(
        &mut self,
        input: Rel,
        args: &[Expr],
        declared: Option<&[ast::ColumnDecl]>,
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let mut positional: Vec<&Expr> = Vec::new();
        let mut named: HashMap<String, &Expr> = HashMap::new();
        for a in args {
            match &a.kind {
                ExprKind::NamedArg { name, value } => {
                    named.insert(name.name.to_ascii_lowercase(), value.as_ref());
                }
                _ => positional.push(a),
            }
        }
        let Some(bag_ast) = positional.first().copied() else {
            return Err(err(
                codes::WRONG_ARG_COUNT,
                "bag_unpack expects the column to unpack",
                span,
            ));
        };
        let arg = |i: usize, key: &str| positional.get(i).copied().or(named.get(key).copied());
        let (prefix_e, conflict_e, ignored_e) = (
            arg(1, "outputcolumnprefix"),
            arg(2, "columnsconflict"),
            arg(3, "ignoredproperties"),
        );
        let fields = Arc::clone(&input.schema);
        let bag = self.bind_scalar(bag_ast, env, &Scope::of(&fields), &mut Collector::default())?;
        if bag.ty != KqlType::Dynamic {
            return Err(err(
                codes::TYPE_MISMATCH,
                format!("bag_unpack expects a dynamic column, got {}", bag.ty),
                bag_ast.span,
            ));
        }
        let source = match &bag_ast.kind {
            ExprKind::Name(id) if fields.iter().any(|f| f.name == id.name) => Some(id.name.clone()),
            _ => None,
        };
        let prefix = match prefix_e {
            Some(e) => self.const_arg_string(e, env, "the bag_unpack column prefix")?,
            None => String::new(),
        };
        let conflict = match conflict_e {
            Some(e) => self.const_arg_string(e, env, "columnsConflict")?,
            None => "error".to_string(),
        };
        if !matches!(
            conflict.as_str(),
            "error" | "replace_source" | "keep_source"
        ) {
            return Err(err(
                codes::BAD_ARGUMENT,
                format!(
                    "columnsConflict must be 'error', 'replace_source' or 'keep_source', got '{conflict}'"
                ),
                conflict_e.map_or(span, |e| e.span),
            ));
        }
        let mut ignored: Vec<String> = Vec::new();
        if let Some(e) = ignored_e {
            let v = self.bind_scalar_simple(e, env)?;
            match v.constant() {
                Some(Const::Dynamic(serde_json::Value::Array(items))) => {
                    ignored.extend(items.iter().filter_map(|i| i.as_str().map(String::from)));
                }
                Some(Const::Null) | None if v.ty != KqlType::Dynamic => {
                    return Err(err(
                        codes::BAD_ARGUMENT,
                        "ignoredProperties must be a constant dynamic array of names",
                        e.span,
                    ));
                }
                _ => {}
            }
        }
        let scope_fields = Arc::clone(&fields);
        let extract = |me: &mut Self, key: &str, ty: KqlType| -> BResult<ScalarExpr> {
            let ast_index = Expr::new(
                ExprKind::Index {
                    expr: Box::new(bag_ast.clone()),
                    index: Box::new(Expr::new(
                        ExprKind::Literal(Literal::String(key.to_string())),
                        bag_ast.span,
                    )),
                },
                bag_ast.span,
            );
            let e = me.bind_scalar(
                &ast_index,
                env,
                &Scope::of(&scope_fields),
                &mut Collector::default(),
            )?;
            Ok(e.cast_to(ty))
        };
        let mut out_fields: Vec<Field> = Vec::new();
        let mut exprs: Vec<ScalarExpr> = Vec::new();
        if let Some(decl) = declared {
            for d in decl {
                let ty = d.ty.ty.ok_or_else(|| {
                    err(
                        codes::UNKNOWN_TYPE,
                        format!("unknown type '{}'", d.ty.name),
                        d.ty.span,
                    )
                })?;
                let from_input = fields
                    .iter()
                    .find(|f| f.name == d.name.name && Some(&f.name) != source.as_ref());
                let e = match from_input {
                    Some(f) => ScalarExpr::column(&f.name, f.ty, span).cast_to(ty),
                    None => {
                        let key = d
                            .name
                            .name
                            .strip_prefix(prefix.as_str())
                            .unwrap_or(&d.name.name);
                        extract(self, key, ty)?
                    }
                };
                out_fields.push(Field::new(&d.name.name, ty));
                exprs.push(e);
            }
        } else {
            let probe_input = Rel {
                kind: RelKind::Project {
                    input: Box::new(input.clone()),
                    exprs: vec![bag.clone()],
                },
                schema: schema(vec![Field::new("bag", KqlType::Dynamic)]),
                span,
            };
            let (keys, _) = self.probe(ProbeKind::BagKeys, probe_input, span)?;
            let mut source_at = None;
            for f in fields.iter() {
                if Some(&f.name) == source.as_ref() {
                    source_at = Some(out_fields.len());
                    continue;
                }
                out_fields.push(f.clone());
                exprs.push(ScalarExpr::column(&f.name, f.ty, span));
            }
            let mut in_place: Option<(Field, ScalarExpr)> = None;
            for (key, ty) in keys {
                if ignored.contains(&key) {
                    continue;
                }
                let name = format!("{prefix}{key}");
                let e = extract(self, &key, ty)?;
                if Some(&name) == source.as_ref() {
                    in_place = Some((Field::new(&name, ty), e));
                } else if let Some(i) = out_fields.iter().position(|f| f.name == name) {
                    match conflict.as_str() {
                        "replace_source" => {
                            out_fields[i] = Field::new(&name, ty);
                            exprs[i] = e;
                        }
                        "keep_source" => {}
                        _ => {
                            return Err(err(
                                codes::DUPLICATE_COLUMN,
                                format!(
                                    "bag_unpack: the bag key '{key}' would make a second column '{name}'; use columnsConflict='replace_source' or 'keep_source', or a prefix"
                                ),
                                span,
                            ));
                        }
                    }
                } else {
                    out_fields.push(Field::new(&name, ty));
                    exprs.push(e);
                }
            }
            if let (Some(at), Some((f, e))) = (source_at, in_place) {
                out_fields.insert(at, f);
                exprs.insert(at, e);
            }
        }
        Ok(Rel {
            kind: RelKind::Project {
                input: Box::new(input),
                exprs,
            },
            schema: schema(out_fields),
            span,
        })
    }

    /// `evaluate pivot(column [, aggregation [, column1, ...]]) [: schema]`: one row per
    /// group, one column per distinct value of `column` holding the aggregation of its rows.
    fn bind_pivot(
        &mut self,
        input: Rel,
        args: &[Expr],
        declared: Option<&[ast::ColumnDecl]>,
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let Some(ExprKind::Name(pivot)) = args.first().map(|a| &a.kind) else {
            return Err(err(
                codes::BAD_ARGUMENT,
                "pivot expects a column name as its first argument",
                args.first().map_or(span, |a| a.span),
            ));
        };
        if !input.schema.iter().any(|f| f.name == pivot.name) {
            return Err(self.unknown_column(&pivot.name, &input.schema, pivot.span));
        }
        let sp = pivot.span;
        let name_expr = |n: &str| {
            Expr::new(
                ExprKind::Name(ast::Ident {
                    name: n.to_string(),
                    span: sp,
                }),
                sp,
            )
        };
        let call = |n: &str, args: Vec<Expr>| {
            Expr::new(
                ExprKind::Call {
                    name: ast::Ident {
                        name: n.to_string(),
                        span: sp,
                    },
                    args,
                },
                sp,
            )
        };
        // Generated names are given zero-width spans: they are not written by the user.
        let ident = |n: &str| ast::Ident {
            name: n.to_string(),
            span: Span::new(sp.start, sp.start),
        };
        let agg = args
            .get(1)
            .cloned()
            .unwrap_or_else(|| call("count", vec![]));
        let group: Vec<String> = if args.len() > 2 {
            let mut g = Vec::new();
            for a in &args[2..] {
                match &a.kind {
                    ExprKind::Name(id) => g.push(id.name.clone()),
                    _ => {
                        return Err(err(
                            codes::BAD_ARGUMENT,
                            "pivot's group columns must be column names",
                            a.span,
                        ));
                    }
                }
            }
            g
        } else {
            let mut used = Vec::new();
            collect_names(&agg, &mut used);
            input
                .schema
                .iter()
                .filter(|f| f.name != pivot.name && !used.contains(&f.name))
                .map(|f| f.name.clone())
                .collect()
        };
        let group_by = |extra: Option<ast::NamedExpr>| {
            let mut v: Vec<ast::NamedExpr> = group
                .iter()
                .map(|g| ast::NamedExpr {
                    names: vec![],
                    expr: name_expr(g),
                    span: sp,
                })
                .collect();
            v.extend(extra);
            v
        };
        const KEY: &str = "__kql_pk";
        const VALUE: &str = "__kql_pv";
        let key_item = ast::NamedExpr {
            names: vec![ident(KEY)],
            expr: call("tostring", vec![name_expr(&pivot.name)]),
            span: sp,
        };
        let stage1 = self.bind_summarize(
            input.clone(),
            &[ast::NamedExpr {
                names: vec![ident(VALUE)],
                expr: agg.clone(),
                span: agg.span,
            }],
            &group_by(Some(key_item)),
            env,
            span,
        )?;
        let value_ty = stage1
            .schema
            .iter()
            .find(|f| f.name == VALUE)
            .map_or(KqlType::Dynamic, |f| f.ty);
        let values: Vec<(String, KqlType)> = match declared {
            Some(decl) => {
                let mut v = Vec::new();
                for d in decl {
                    if group.contains(&d.name.name) {
                        continue;
                    }
                    let ty = d.ty.ty.ok_or_else(|| {
                        err(
                            codes::UNKNOWN_TYPE,
                            format!("unknown type '{}'", d.ty.name),
                            d.ty.span,
                        )
                    })?;
                    v.push((d.name.name.clone(), ty));
                }
                v
            }
            None => {
                let key_scalar = self.bind_scalar(
                    &call("tostring", vec![name_expr(&pivot.name)]),
                    env,
                    &Scope::of(&input.schema),
                    &mut Collector::default(),
                )?;
                let probe_input = Rel {
                    kind: RelKind::Project {
                        input: Box::new(input),
                        exprs: vec![key_scalar],
                    },
                    schema: schema(vec![Field::new("value", KqlType::String)]),
                    span,
                };
                let (names, _) = self.probe(ProbeKind::DistinctValues, probe_input, span)?;
                names.into_iter().map(|(n, _)| (n, value_ty)).collect()
            }
        };
        let count_like = matches!(
            &agg.kind,
            ExprKind::Call { name, .. }
                if matches!(name.name.as_str(), "count" | "countif" | "dcount" | "dcountif")
        );
        let mut aggs2 = Vec::new();
        for (i, (v, _)) in values.iter().enumerate() {
            let column = if v.is_empty() {
                format!("Column{}", i + 1)
            } else {
                v.clone()
            };
            let pick = call(
                "take_anyif",
                vec![
                    name_expr(VALUE),
                    Expr::new(
                        ExprKind::Binary {
                            op: ast::BinaryOp::Eq,
                            left: Box::new(name_expr(KEY)),
                            right: Box::new(Expr::new(
                                ExprKind::Literal(Literal::String(v.clone())),
                                sp,
                            )),
                        },
                        sp,
                    ),
                ],
            );
            let expr = if count_like {
                call(
                    "coalesce",
                    vec![
                        pick,
                        Expr::new(ExprKind::Literal(Literal::Long(Some(0))), sp),
                    ],
                )
            } else {
                pick
            };
            aggs2.push(ast::NamedExpr {
                names: vec![ident(&column)],
                expr,
                span: sp,
            });
        }
        let stage2 = self.bind_summarize(stage1, &aggs2, &group_by(None), env, span)?;
        if declared.is_none() {
            return Ok(stage2);
        }
        // A declared schema fixes the order and the types.
        let mut out_fields = Vec::new();
        let mut exprs = Vec::new();
        for d in declared.unwrap_or_default() {
            let ty = d.ty.ty.unwrap_or(KqlType::Dynamic);
            let f = stage2
                .schema
                .iter()
                .find(|f| f.name == d.name.name)
                .ok_or_else(|| self.unknown_column(&d.name.name, &stage2.schema, d.name.span))?;
            exprs.push(ScalarExpr::column(&f.name, f.ty, span).cast_to(ty));
            out_fields.push(Field::new(&d.name.name, ty));
        }
        Ok(Rel {
            kind: RelKind::Project {
                input: Box::new(stage2),
                exprs,
            },
            schema: schema(out_fields),
            span,
        })
    }

    fn unknown_column(&self, name: &str, fields: &[Field], span: Span) -> Diagnostic {
        *self.unknown.borrow_mut() = Some((name.to_string(), span));
        let mut d = err(
            codes::UNKNOWN_COLUMN,
            format!("unknown column '{name}'"),
            span,
        );
        if let Some(s) = suggest(name, fields.iter().map(|f| f.name.as_str())) {
            d = d.with_help(s);
        }
        d
    }

    fn bind_count(&mut self, e: &Expr, env: &Env) -> BResult<u64> {
        let v = self.bind_scalar_simple(e, env)?;
        match const_long(&v) {
            Some(n) if n >= 0 => Ok(n as u64),
            Some(_) => Ok(0),
            None => Err(err(
                codes::NOT_CONSTANT,
                "expected a constant row count",
                e.span,
            )),
        }
    }

    fn join_kind(&mut self, params: &[ast::OpParam], default: JoinKind) -> BResult<JoinKind> {
        for p in params {
            if p.name.name.eq_ignore_ascii_case("kind") {
                let text = match &p.value.kind {
                    ExprKind::Name(id) => id.name.clone(),
                    ExprKind::Literal(Literal::String(s)) => s.clone(),
                    _ => String::new(),
                };
                return JoinKind::from_name(&text).ok_or_else(|| {
                    err(
                        codes::BAD_ARGUMENT,
                        format!("unknown join kind '{text}'"),
                        p.value.span,
                    )
                });
            }
        }
        Ok(default)
    }

    fn bind_sort_keys(
        &mut self,
        input: &Rel,
        keys: &[ast::SortKey],
        env: &Env,
    ) -> BResult<Vec<SortKey>> {
        let mut out = Vec::new();
        for k in keys {
            let e = self.bind_scalar(
                &k.expr,
                env,
                &Scope::of(&input.schema),
                &mut Collector::default(),
            )?;
            let asc = matches!(k.order, Some(ast::SortOrder::Asc));
            let nulls_first = match k.nulls {
                Some(ast::NullsOrder::First) => true,
                Some(ast::NullsOrder::Last) => false,
                None => asc,
            };
            out.push(SortKey {
                expr: e,
                asc,
                nulls_first,
            });
        }
        Ok(out)
    }

    /// `extend`/`serialize`: each item may use the ones before it.
    fn bind_extend(
        &mut self,
        input: Rel,
        items: &[ast::NamedExpr],
        env: &Env,
        span: Span,
        serialize: bool,
    ) -> BResult<Rel> {
        let mut rel = if serialize {
            // `serialize` marks the row order as fixed (an empty window node).
            let s = Arc::clone(&input.schema);
            Rel {
                kind: RelKind::Window {
                    input: Box::new(input),
                    exprs: vec![],
                },
                schema: s,
                span,
            }
        } else {
            input
        };
        let mut auto = 0usize;
        // Every item sees the input's columns only, never the ones defined before it in the
        // same operator (Kusto rejects `extend a = 1, b = a`). An item that replaces an input
        // column a later item may still read is computed under a temporary name first.
        let base = Arc::clone(&rel.schema);
        let mut replaced: Vec<(String, String)> = Vec::new();
        for (idx, item) in items.iter().enumerate() {
            check_assignable(&item.names)?;
            let mut col = Collector {
                windows_allowed: true,
                ..Default::default()
            };
            let e = self.bind_scalar(&item.expr, env, &Scope::of(&base), &mut col)?;
            if let ExprKind::Call { name: fname, args } = &item.expr.kind
                && let Some(outs) = kql_functions::series::tuple_outputs(&fname.name)
            {
                rel = self.spread_tuple(rel, item, &fname.name, args, outs, e, idx, env)?;
                continue;
            }
            let names: Vec<String> = if item.names.is_empty() {
                vec![
                    match expr_name_in(&item.expr, &|n| rel.schema.iter().any(|f| f.name == n)) {
                        Some(n) => n,
                        None => {
                            auto += 1;
                            let taken: Vec<String> =
                                rel.schema.iter().map(|f| f.name.clone()).collect();
                            unique_name(&format!("Column{auto}"), &taken)
                        }
                    },
                ]
            } else {
                item.names.iter().map(|n| n.name.clone()).collect()
            };
            if names.len() != 1 {
                return Err(Diagnostic::unsupported(
                    "assigning to several columns at once",
                    item.span,
                ));
            }
            if !col.windows.is_empty() {
                require_serialized(&rel, item.span)?;
                rel = self.add_windows(rel, std::mem::take(&mut col.windows), span);
            }
            if idx + 1 < items.len() && base.iter().any(|f| f.name == names[0]) {
                let tmp = format!("__kql_x{idx}");
                rel = extend_one(rel, &tmp, e, span);
                replaced.push((names[0].clone(), tmp));
            } else {
                rel = extend_one(rel, &names[0], e, span);
            }
        }
        if !replaced.is_empty() {
            let mut fields = Vec::new();
            let mut exprs = Vec::new();
            for f in rel.schema.iter() {
                if replaced.iter().any(|(_, t)| *t == f.name) {
                    continue;
                }
                let source = replaced
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == f.name)
                    .and_then(|(_, t)| rel.schema.iter().find(|g| g.name == *t))
                    .unwrap_or(f);
                fields.push(Field::new(&f.name, source.ty));
                exprs.push(ScalarExpr::column(&source.name, source.ty, span));
            }
            rel = Rel {
                kind: RelKind::Project {
                    input: Box::new(rel),
                    exprs,
                },
                schema: schema(fields),
                span,
            };
        }
        Ok(drop_hidden(rel, span))
    }

    fn add_windows(&mut self, input: Rel, windows: Vec<(String, WindowExpr)>, span: Span) -> Rel {
        let mut fields = input.schema.to_vec();
        let mut input_len = fields.len();
        let mut rel = input;
        let mut exprs: Vec<WindowExpr> = Vec::new();
        for (name, w) in windows {
            let ty = match &w {
                WindowExpr::RowNumber { .. } => KqlType::Long,
                WindowExpr::Prev { expr, .. } | WindowExpr::Next { expr, .. } => expr.ty,
                WindowExpr::RowCumSum { expr, .. } => expr.ty,
            };
            // A window over another window's result (`row_number(0, g != prev(g))`) goes
            // in a node of its own above the one that computes it.
            let needs_layer = exprs.iter().zip(fields.iter().skip(input_len)).any(
                |(_, f): (&WindowExpr, &Field)| format!("{w:?}").contains(&format!("{:?}", f.name)),
            );
            if needs_layer {
                let layer = Rel {
                    kind: RelKind::Window {
                        input: Box::new(rel),
                        exprs: std::mem::take(&mut exprs),
                    },
                    schema: schema(fields.clone()),
                    span,
                };
                input_len = fields.len();
                rel = layer;
            }
            fields.push(Field::new(name, ty));
            exprs.push(w);
        }
        Rel {
            kind: RelKind::Window {
                input: Box::new(rel),
                exprs,
            },
            schema: schema(fields),
            span,
        }
    }

    fn bind_project(
        &mut self,
        input: Rel,
        items: &[ast::NamedExpr],
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let mut exprs = Vec::new();
        let mut fields: Vec<Field> = Vec::new();
        let mut auto = 0usize;
        let mut col = Collector {
            windows_allowed: true,
            ..Default::default()
        };
        for item in items {
            check_assignable(&item.names)?;
            if let ExprKind::Name(id) = &item.expr.kind
                && item.names.is_empty()
                && id.name.contains('*')
            {
                for f in input.schema.iter() {
                    if pattern_matches(&id.name, &f.name) {
                        exprs.push(ScalarExpr::column(&f.name, f.ty, item.span));
                        fields.push(f.clone());
                    }
                }
                continue;
            }
            let e = self.bind_scalar(&item.expr, env, &Scope::of(&input.schema), &mut col)?;
            let name = match item.names.first() {
                Some(n) => n.name.clone(),
                None => {
                    match expr_name_in(&item.expr, &|n| input.schema.iter().any(|f| f.name == n)) {
                        Some(n) => n,
                        None => {
                            auto += 1;
                            format!("Column{auto}")
                        }
                    }
                }
            };
            if fields.iter().any(|f| f.name == name) {
                return Err(err(
                    codes::DUPLICATE_COLUMN,
                    format!("column '{name}' is projected more than once"),
                    item.span,
                ));
            }
            fields.push(Field::new(&name, e.ty));
            exprs.push(e);
        }
        let input = if col.windows.is_empty() {
            input
        } else {
            require_serialized(&input, span)?;
            self.add_windows(input, std::mem::take(&mut col.windows), span)
        };
        Ok(Rel {
            kind: RelKind::Project {
                input: Box::new(input),
                exprs,
            },
            schema: schema(fields),
            span,
        })
    }

    /// `extend (a, b, c) = f(x)` for a function with several outputs ([`tuple_outputs`]):
    /// the bag `f` returns goes into a hidden column, and each output becomes a column, named
    /// by the list or `<f>_<x>_<output>` by default.
    ///
    /// [`tuple_outputs`]: kql_functions::series::tuple_outputs
    #[allow(clippy::too_many_arguments)]
    fn spread_tuple(
        &mut self,
        rel: Rel,
        item: &ast::NamedExpr,
        fname: &str,
        args: &[Expr],
        outs: &[(&str, KqlType)],
        e: ScalarExpr,
        idx: usize,
        env: &Env,
    ) -> BResult<Rel> {
        let span = item.span;
        if item.names.len() > outs.len() {
            return Err(err(
                codes::WRONG_ARG_COUNT,
                format!(
                    "{fname}() returns {} values, {} names were given",
                    outs.len(),
                    item.names.len()
                ),
                span,
            ));
        }
        let hidden = format!("__kql_h_tuple{idx}");
        let mut rel = extend_one(rel, &hidden, e, span);
        let base = match args.first().and_then(|a| expr_name_in(a, &|_| true)) {
            Some(arg) => format!("{fname}_{arg}"),
            None => fname.to_string(),
        };
        for (k, (suffix, ty)) in outs.iter().enumerate() {
            let name = item
                .names
                .get(k)
                .map_or_else(|| format!("{base}_{suffix}"), |n| n.name.clone());
            let ident = |n: &str| ast::Ident {
                name: n.to_string(),
                span,
            };
            let access = Expr::new(
                ExprKind::Member {
                    expr: Box::new(Expr::new(ExprKind::Name(ident(&hidden)), span)),
                    name: ident(suffix),
                },
                span,
            );
            let conv = match ty {
                KqlType::Real => Some("toreal"),
                KqlType::Long => Some("tolong"),
                _ => None,
            };
            let value = match conv {
                None => access,
                Some(f) => Expr::new(
                    ExprKind::Call {
                        name: ident(f),
                        args: vec![access],
                    },
                    span,
                ),
            };
            let b = self.bind_scalar(
                &value,
                env,
                &Scope::of(&Arc::clone(&rel.schema)),
                &mut Collector::default(),
            )?;
            rel = extend_one(rel, &name, b, span);
        }
        Ok(rel)
    }

    fn bind_summarize(
        &mut self,
        input: Rel,
        aggregates: &[ast::NamedExpr],
        by: &[ast::NamedExpr],
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let scope_fields = Arc::clone(&input.schema);
        let scope = Scope::of(&scope_fields);
        // Group keys.
        let mut group = Vec::new();
        let mut group_fields: Vec<Field> = Vec::new();
        let mut auto = 0usize;
        for item in by {
            check_assignable(&item.names)?;
            let e = self.bind_scalar(&item.expr, env, &scope, &mut Collector::default())?;
            if e.ty == KqlType::Dynamic {
                return Err(dynamic_not_allowed(item.expr.span, "a summarize group key"));
            }
            let name = match item.names.first() {
                Some(n) => n.name.clone(),
                None => {
                    match expr_name_in(&item.expr, &|n| scope.fields.iter().any(|f| f.name == n)) {
                        Some(n) => n,
                        None => {
                            auto += 1;
                            format!("Column{auto}")
                        }
                    }
                }
            };
            group_fields.push(Field::new(&name, e.ty));
            group.push(e);
        }
        // Aggregates: each item is either one aggregate call (direct) or an expression over
        // aggregates (computed in a projection after the aggregation).
        let mut col = Collector {
            aggs_allowed: true,
            ..Default::default()
        };
        let mut outputs: Vec<(String, ScalarExpr)> = Vec::new();
        let mut arg_extreme_expansions: Vec<(usize, Vec<(String, AggExpr)>)> = Vec::new();
        for item in aggregates {
            // arg_max(by, *) / arg_max(by, c1, c2): several output columns.
            // (`argmax`/`argmin` are their deprecated spellings.)
            if let ExprKind::Call { name, args } = &item.expr.kind
                && matches!(
                    name.name.as_str(),
                    "arg_max" | "arg_min" | "argmax" | "argmin"
                )
            {
                let cols = self.bind_arg_extreme(
                    matches!(name.name.as_str(), "arg_max" | "argmax"),
                    args,
                    item,
                    env,
                    &scope,
                    &group_fields,
                    item.span,
                )?;
                arg_extreme_expansions.push((outputs.len(), cols.clone()));
                for (n, agg) in cols {
                    let ty = agg.ty();
                    let hidden = col.hidden();
                    col.aggs.push((hidden.clone(), agg));
                    outputs.push((n, ScalarExpr::column(&hidden, ty, item.span)));
                }
                continue;
            }
            if let Some(expanded) = self.expand_multi_aggregate(item, env, &scope, &group_fields)? {
                for (n, agg) in expanded {
                    let ty = agg.ty();
                    let hidden = col.hidden();
                    col.aggs.push((hidden.clone(), agg));
                    outputs.push((n, ScalarExpr::column(&hidden, ty, item.span)));
                }
                continue;
            }
            let e = self.bind_scalar(&item.expr, env, &scope, &mut col)?;
            let name = match item.names.first() {
                Some(n) => n.name.clone(),
                None => match summarize_name(
                    &item.expr,
                    &|f| kql_functions::function_kind(f) == Some(FnKind::Aggregate),
                    &|n| scope.fields.iter().any(|f| f.name == n),
                ) {
                    Some(n) => n,
                    None => {
                        auto += 1;
                        format!("Column{auto}")
                    }
                },
            };
            outputs.push((name, e));
        }
        let _ = arg_extreme_expansions;
        if col.aggs.is_empty() && outputs.is_empty() && group.is_empty() {
            return Err(err(
                codes::EXPECTED,
                "summarize needs an aggregate or a 'by' clause",
                span,
            ));
        }
        // Aggregate node: group keys, then each collected aggregate under its hidden name.
        let mut agg_fields = group_fields.clone();
        for (hname, a) in &col.aggs {
            agg_fields.push(Field::new(hname, a.ty()));
        }
        let aggs: Vec<AggExpr> = col.aggs.iter().map(|(_, a)| a.clone()).collect();
        let agg_rel = Rel {
            kind: RelKind::Aggregate {
                input: Box::new(input),
                group,
                aggs,
            },
            schema: schema(agg_fields),
            span,
        };
        // Final projection: keys by name, then the outputs; uniquify names as KQL does.
        let mut exprs = Vec::new();
        let mut fields: Vec<Field> = Vec::new();
        for f in &group_fields {
            exprs.push(ScalarExpr::column(&f.name, f.ty, span));
            fields.push(f.clone());
        }
        for (name, e) in outputs {
            let taken: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
            let name = unique_name(&name, &taken);
            fields.push(Field::new(&name, e.ty));
            exprs.push(e);
        }
        Ok(Rel {
            kind: RelKind::Project {
                input: Box::new(agg_rel),
                exprs,
            },
            schema: schema(fields),
            span,
        })
    }

    /// `top-nested N of K1 by agg1, top-nested M of K2 by agg2, ...`: level i keeps the top
    /// rows of `summarize agg_i by K1..Ki` within each kept group of level i-1.
    fn bind_top_nested(
        &mut self,
        input: Rel,
        levels: &[ast::TopNestedLevel],
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let mut keys: Vec<ast::NamedExpr> = Vec::new();
        let mut out_names: Vec<String> = Vec::new();
        let mut prev: Option<Rel> = None;
        let is_col = |n: &str| input.schema.iter().any(|f| f.name == n);
        for level in levels {
            if level.with_others.is_some() {
                return Err(Diagnostic::unsupported(
                    "top-nested 'with others'",
                    level.span,
                ));
            }
            let key_name = match level.of.names.first() {
                Some(n) => n.name.clone(),
                None => expr_name_in(&level.of.expr, &is_col)
                    .unwrap_or_else(|| format!("Column{}", keys.len() + 1)),
            };
            let agg_name = match level.by.names.first() {
                Some(n) => n.name.clone(),
                None => format!("aggregated_{key_name}"),
            };
            keys.push(ast::NamedExpr {
                names: vec![ast::Ident {
                    name: key_name.clone(),
                    span: level.of.span,
                }],
                expr: level.of.expr.clone(),
                span: level.of.span,
            });
            let agg_item = ast::NamedExpr {
                names: vec![ast::Ident {
                    name: "__kql_tn_a".into(),
                    span: level.by.span,
                }],
                expr: level.by.expr.clone(),
                span: level.by.span,
            };
            let summed = self.bind_summarize(
                input.clone(),
                std::slice::from_ref(&agg_item),
                &keys,
                env,
                level.span,
            )?;
            let nkeys = keys.len();
            // Attach the previous level's columns (inner join on the previous keys).
            let current = match prev.take() {
                None => summed,
                Some(p) => {
                    let pairs: Vec<(usize, usize)> = (0..nkeys - 1).map(|i| (i, 2 * i)).collect();
                    let fields =
                        join_schema(&summed.schema, &p.schema, JoinKind::Inner, &pairs, false);
                    let width = summed.schema.len();
                    let pwidth = p.schema.len();
                    let joined = Rel {
                        kind: RelKind::Join {
                            left: Box::new(summed),
                            right: Box::new(p),
                            kind: JoinKind::Inner,
                            on: pairs,
                            lookup: false,
                        },
                        schema: schema(fields),
                        span: level.span,
                    };
                    // Order: previous levels' columns, this key, this aggregate.
                    let mut order: Vec<usize> = (width..width + pwidth).collect();
                    order.push(nkeys - 1);
                    order.push(nkeys);
                    let sel = select(joined, &order, level.span);
                    let mut renamed: Vec<Field> = sel.schema.to_vec();
                    for (i, n) in out_names.iter().enumerate() {
                        if let Some(f) = renamed.get_mut(i) {
                            f.name = n.clone();
                        }
                    }
                    if let Some(f) = renamed.get_mut(out_names.len()) {
                        f.name = key_name.clone();
                    }
                    rename(sel, renamed, level.span)
                }
            };
            // Rank within the parent group and keep the top N.
            let agg_col = ScalarExpr::column(
                "__kql_tn_a",
                current.schema[current.schema.len() - 1].ty,
                level.span,
            );
            let parent_keys: Vec<ScalarExpr> = (0..nkeys - 1)
                .map(|i| {
                    let f = &current.schema[2 * i];
                    ScalarExpr::column(&f.name, f.ty, level.span)
                })
                .collect();
            let asc = matches!(level.order, Some(ast::SortOrder::Asc));
            let kept = match &level.count {
                Some(c) => {
                    let n = self.bind_count(c, env)?;
                    let numbered = self.add_windows(
                        current,
                        vec![(
                            "__kql_rn".to_string(),
                            WindowExpr::RowNumber {
                                start: 1,
                                partition_by: parent_keys,
                                order_by: vec![SortKey {
                                    expr: agg_col,
                                    asc,
                                    nulls_first: asc,
                                }],
                            },
                        )],
                        level.span,
                    );
                    let pred = ScalarExpr::new(
                        ScalarKind::Binary {
                            op: ast::BinaryOp::LtEq,
                            left: Box::new(ScalarExpr::column(
                                "__kql_rn",
                                KqlType::Long,
                                level.span,
                            )),
                            right: Box::new(ScalarExpr::literal(
                                Const::Long(n as i64),
                                KqlType::Long,
                                level.span,
                            )),
                        },
                        KqlType::Bool,
                        level.span,
                    );
                    let s2 = Arc::clone(&numbered.schema);
                    let f = Rel {
                        kind: RelKind::Filter {
                            input: Box::new(numbered),
                            predicate: pred,
                        },
                        schema: s2,
                        span: level.span,
                    };
                    let keep: Vec<usize> = (0..f.schema.len() - 1).collect();
                    select(f, &keep, level.span)
                }
                None => current,
            };
            let mut renamed: Vec<Field> = kept.schema.to_vec();
            if let Some(last) = renamed.last_mut() {
                last.name = agg_name.clone();
            }
            out_names.push(key_name);
            out_names.push(agg_name);
            prev = Some(rename(kept, renamed, level.span));
        }
        prev.ok_or_else(|| err(codes::EXPECTED, "top-nested needs at least one level", span))
    }

    /// `T | search [kind=case_sensitive] pred`: bare string terms match any string column
    /// (`"x"` → has, `"x*"` → hasprefix, `"*x"` → hassuffix, `"*x*"` → contains).
    fn bind_search(
        &mut self,
        input: Rel,
        params: &[ast::OpParam],
        pred: &Expr,
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let mut case_sensitive = false;
        for p in params {
            if p.name.name.eq_ignore_ascii_case("kind")
                && let ExprKind::Name(id) = &p.value.kind
            {
                case_sensitive = id.name.eq_ignore_ascii_case("case_sensitive");
            } else if p.name.name.eq_ignore_ascii_case("in") {
                return Err(Diagnostic::unsupported(
                    "search in (tables) after a pipe",
                    p.span,
                ));
            }
        }
        let columns: Vec<String> = input
            .schema
            .iter()
            .filter(|f| f.ty == KqlType::String)
            .map(|f| f.name.clone())
            .collect();
        let rewritten = rewrite_search(pred, &columns, case_sensitive);
        let p = self.bind_scalar(
            &rewritten,
            env,
            &Scope::of(&input.schema),
            &mut Collector::default(),
        )?;
        if p.ty != KqlType::Bool {
            return Err(err(
                codes::TYPE_MISMATCH,
                "the search predicate must be bool",
                pred.span,
            ));
        }
        let s = Arc::clone(&input.schema);
        let filtered = Rel {
            kind: RelKind::Filter {
                input: Box::new(input),
                predicate: p,
            },
            schema: s,
            span,
        };
        let mut fields = vec![Field::new("$table", KqlType::String)];
        fields.extend(filtered.schema.iter().cloned());
        let mut exprs = vec![ScalarExpr::literal(
            Const::String("search_arg0".into()),
            KqlType::String,
            span,
        )];
        exprs.extend(
            filtered
                .schema
                .iter()
                .map(|f| ScalarExpr::column(&f.name, f.ty, span)),
        );
        Ok(Rel {
            kind: RelKind::Project {
                input: Box::new(filtered),
                exprs,
            },
            schema: schema(fields),
            span,
        })
    }

    /// `parse-kv expr as (k:type, ...) with (pair_delimiter=..., kv_delimiter=..., quote=..., escape=..., greedy=...)`.
    fn bind_parse_kv(
        &mut self,
        input: Rel,
        expr: &Expr,
        columns: &[ast::ColumnDecl],
        params: &[ast::OpParam],
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let source = self.bind_scalar(
            expr,
            env,
            &Scope::of(&input.schema),
            &mut Collector::default(),
        )?;
        let source = source.cast_to(KqlType::String);
        let mut pair = " ".to_string();
        let mut kv = ":".to_string();
        let mut quote = String::new();
        let mut escape = String::new();
        let mut greedy = false;
        for p in params {
            let v = self.bind_scalar_simple(&p.value, env)?;
            let text = match v.constant() {
                Some(Const::String(s)) => s.clone(),
                Some(Const::Bool(b)) => b.to_string(),
                _ => match &p.value.kind {
                    ExprKind::Name(id) => id.name.clone(),
                    _ => String::new(),
                },
            };
            match p.name.name.to_ascii_lowercase().as_str() {
                "pair_delimiter" => pair = text,
                "kv_delimiter" => kv = text,
                "quote" => quote = text,
                "escape" => escape = text,
                "greedy" => greedy = text.eq_ignore_ascii_case("true"),
                "regex" => return Err(Diagnostic::unsupported("parse-kv with regex=", p.span)),
                other => {
                    return Err(err(
                        codes::BAD_ARGUMENT,
                        format!("unknown parse-kv option '{other}'"),
                        p.span,
                    ));
                }
            }
        }
        let lit =
            |s: &str| ScalarExpr::literal(Const::String(s.to_string()), KqlType::String, span);
        let mut rel = input;
        for c in columns {
            check_assignable(std::slice::from_ref(&c.name))?;
            let ty = c.ty.ty.ok_or_else(|| {
                err(
                    codes::UNKNOWN_TYPE,
                    format!("unknown type '{}'", c.ty.name),
                    c.ty.span,
                )
            })?;
            let raw = ScalarExpr::new(
                ScalarKind::EngineCall {
                    name: "parse_kv".into(),
                    args: vec![
                        source.clone(),
                        lit(&c.name.name),
                        lit(&pair),
                        lit(&kv),
                        lit(&quote),
                        lit(&escape),
                        ScalarExpr::literal(Const::Bool(greedy), KqlType::Bool, span),
                    ],
                },
                KqlType::String,
                span,
            );
            rel = extend_one(rel, &c.name.name, raw.cast_to(ty), span);
        }
        Ok(rel)
    }

    /// Applies a subquery's operators per group of the column `RID` (mv-apply rows,
    /// partition groups): `summarize` groups by it too, `top`/`take` rank within it.
    fn bind_grouped_ops(
        &mut self,
        input: Rel,
        on: &[ast::Operator],
        rid_col: &str,
        rid_ty: KqlType,
        env: &Env,
    ) -> BResult<(Rel, bool)> {
        let rid = |sp: Span| ScalarExpr::column(rid_col, rid_ty, sp);
        let mut internal = false;
        let mut sub = input;
        for op in on {
            let sp = op.span;
            sub = match &op.kind {
                OperatorKind::Where(_)
                | OperatorKind::Extend(_)
                | OperatorKind::ProjectAway(_)
                | OperatorKind::ProjectRename(_)
                | OperatorKind::ProjectReorder(_) => self.bind_op(sub, op, env)?,
                OperatorKind::Project(list) => {
                    let mut list = list.clone();
                    list.push(ast::NamedExpr {
                        names: vec![],
                        expr: Expr::new(
                            ExprKind::Name(ast::Ident {
                                name: rid_col.to_string(),
                                span: sp,
                            }),
                            sp,
                        ),
                        span: sp,
                    });
                    self.bind_project(sub, &list, env, sp)?
                }
                OperatorKind::ProjectKeep(pats) => {
                    let mut pats = pats.clone();
                    pats.push(ast::ColumnPattern {
                        pattern: rid_col.to_string(),
                        span: sp,
                    });
                    self.bind_op(
                        sub,
                        &ast::Operator {
                            kind: OperatorKind::ProjectKeep(pats),
                            span: sp,
                        },
                        env,
                    )?
                }
                OperatorKind::Summarize {
                    params,
                    aggregates,
                    by,
                } => {
                    let mut by2 = vec![ast::NamedExpr {
                        names: vec![],
                        expr: Expr::new(
                            ExprKind::Name(ast::Ident {
                                name: rid_col.to_string(),
                                span: sp,
                            }),
                            sp,
                        ),
                        span: sp,
                    }];
                    internal = !by
                        .iter()
                        .any(|b| matches!(&b.expr.kind, ExprKind::Name(id) if id.name == rid_col));
                    by2.extend(by.iter().filter(|b| !matches!(&b.expr.kind, ExprKind::Name(id) if id.name == rid_col)).cloned());
                    let _ = params;
                    let r = self.bind_summarize(sub, aggregates, &by2, env, sp)?;
                    // Kusto puts the subquery's own keys first; the row id goes last.
                    let mut order: Vec<usize> = (1..r.schema.len()).collect();
                    order.push(0);
                    select(r, &order, sp)
                }
                OperatorKind::Distinct(list) => {
                    let mut list = list.clone();
                    if !list.iter().any(|e| matches!(e.kind, ExprKind::Star)) {
                        list.push(Expr::new(
                            ExprKind::Name(ast::Ident {
                                name: rid_col.to_string(),
                                span: sp,
                            }),
                            sp,
                        ));
                    }
                    self.bind_op(
                        sub,
                        &ast::Operator {
                            kind: OperatorKind::Distinct(list),
                            span: sp,
                        },
                        env,
                    )?
                }
                OperatorKind::Take(n) | OperatorKind::Top { count: n, .. } => {
                    let count = self.bind_count(n, env)?;
                    let order_by = match &op.kind {
                        OperatorKind::Top { key, .. } => {
                            self.bind_sort_keys(&sub, std::slice::from_ref(key), env)?
                        }
                        _ => vec![],
                    };
                    let numbered = self.add_windows(
                        sub,
                        vec![(
                            "__kql_rn".to_string(),
                            WindowExpr::RowNumber {
                                start: 1,
                                partition_by: vec![rid(sp)],
                                order_by,
                            },
                        )],
                        sp,
                    );
                    let pred = ScalarExpr::new(
                        ScalarKind::Binary {
                            op: ast::BinaryOp::LtEq,
                            left: Box::new(ScalarExpr::column("__kql_rn", KqlType::Long, sp)),
                            right: Box::new(ScalarExpr::literal(
                                Const::Long(count as i64),
                                KqlType::Long,
                                sp,
                            )),
                        },
                        KqlType::Bool,
                        sp,
                    );
                    let s2 = Arc::clone(&numbered.schema);
                    let filtered = Rel {
                        kind: RelKind::Filter {
                            input: Box::new(numbered),
                            predicate: pred,
                        },
                        schema: s2,
                        span: sp,
                    };
                    let keep: Vec<usize> = (0..filtered.schema.len())
                        .filter(|&i| filtered.schema[i].name != "__kql_rn")
                        .collect();
                    select(filtered, &keep, sp)
                }
                OperatorKind::Sort { keys, .. } => {
                    let mut k = vec![SortKey {
                        expr: rid(sp),
                        asc: true,
                        nulls_first: true,
                    }];
                    let user_keys = self.bind_sort_keys(&sub, keys, env)?;
                    no_dynamic_sort_keys(&user_keys)?;
                    k.extend(user_keys);
                    let s2 = Arc::clone(&sub.schema);
                    Rel {
                        kind: RelKind::Sort {
                            input: Box::new(sub),
                            keys: k,
                        },
                        schema: s2,
                        span: sp,
                    }
                }
                _ => return Err(Diagnostic::unsupported("this operator inside mv-apply", sp)),
            };
            if !sub.schema.iter().any(|f| f.name == rid_col) {
                return Err(Diagnostic::unsupported("this operator inside mv-apply", sp));
            }
        }
        Ok((sub, internal))
    }

    /// `mv-apply`: expand per row, run the subquery per row, join back to the row.
    #[allow(clippy::too_many_arguments)]
    fn bind_mv_apply(
        &mut self,
        input: Rel,
        params: &[ast::OpParam],
        items: &[ast::MvExpandItem],
        limit: Option<&Expr>,
        on: &[ast::Operator],
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        const RID: &str = "__kql_rid";
        // base = input + row id. The input is planned twice (the expanded side and the row
        // side joined back by row id), so the numbering must not depend on the order rows
        // arrive in: number them in the order of all their columns. Identical rows may swap
        // ids, which cannot change the result.
        let order_by: Vec<SortKey> = input
            .schema
            .iter()
            .map(|f| SortKey {
                expr: ScalarExpr::column(&f.name, f.ty, span),
                asc: true,
                nulls_first: true,
            })
            .collect();
        let base = self.add_windows(
            input,
            vec![(
                RID.to_string(),
                WindowExpr::RowNumber {
                    start: 1,
                    partition_by: vec![],
                    order_by,
                },
            )],
            span,
        );
        let expanded = self.bind_mv_expand(base.clone(), params, items, limit, env, span)?;
        let expanded_names: Vec<String> = items
            .iter()
            .filter_map(|it| match (&it.name, &it.expr.kind) {
                (Some(n), _) => Some(n.name.clone()),
                (None, ExprKind::Name(id)) => Some(id.name.clone()),
                _ => None,
            })
            .collect();
        let (sub, _) = self.bind_grouped_ops(expanded, on, RID, KqlType::Long, env)?;
        // Left: the row's columns that were not expanded (+ row id).
        let left_keep: Vec<usize> = (0..base.schema.len())
            .filter(|&i| !expanded_names.contains(&base.schema[i].name))
            .collect();
        let left = select(base, &left_keep, span);
        let left_names: Vec<String> = left.schema.iter().map(|f| f.name.clone()).collect();
        // Right: the subquery's columns that are not the row's own (+ row id).
        let right_keep: Vec<usize> = (0..sub.schema.len())
            .filter(|&i| sub.schema[i].name == RID || !left_names.contains(&sub.schema[i].name))
            .collect();
        let right = select(sub, &right_keep, span);
        let (Some(l), Some(r)) = (
            left.schema.iter().position(|f| f.name == RID),
            right.schema.iter().position(|f| f.name == RID),
        ) else {
            return Err(Diagnostic::internal("mv-apply lost its row id", span));
        };
        let fields = join_schema(
            &left.schema,
            &right.schema,
            JoinKind::Inner,
            &[(l, r)],
            false,
        );
        let joined = Rel {
            kind: RelKind::Join {
                left: Box::new(left),
                right: Box::new(right),
                kind: JoinKind::Inner,
                on: vec![(l, r)],
                lookup: false,
            },
            schema: schema(fields),
            span,
        };
        let keep: Vec<usize> = (0..joined.schema.len())
            .filter(|&i| !joined.schema[i].name.starts_with(RID))
            .collect();
        Ok(select(joined, &keep, span))
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_make_series(
        &mut self,
        input: Rel,
        aggregates: &[(ast::NamedExpr, Option<Expr>)],
        on: &Expr,
        from: Option<&Expr>,
        to: Option<&Expr>,
        step: Option<&Expr>,
        by: &[ast::NamedExpr],
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let scope_fields = Arc::clone(&input.schema);
        let scope = Scope::of(&scope_fields);
        let is_col = |n: &str| scope_fields.iter().any(|f| f.name == n);
        let axis = self.bind_scalar(on, env, &scope, &mut Collector::default())?;
        let axis_name = expr_name_in(on, &is_col).unwrap_or_else(|| "Column1".into());
        let (Some(from), Some(to), Some(step)) = (from, to, step) else {
            return Err(Diagnostic::unsupported(
                "make-series without explicit 'from', 'to' and 'step'",
                span,
            ));
        };
        let from = self.bind_scalar_simple(from, env)?;
        let to = self.bind_scalar_simple(to, env)?;
        let step = self.bind_scalar_simple(step, env)?;
        match axis.ty {
            KqlType::DateTime => {
                if from.ty != KqlType::DateTime
                    || to.ty != KqlType::DateTime
                    || step.ty != KqlType::TimeSpan
                {
                    return Err(err(
                        codes::TYPE_MISMATCH,
                        "a datetime axis needs datetime 'from'/'to' and a timespan 'step'",
                        span,
                    ));
                }
            }
            t if t.is_numeric() => {
                if !(from.ty.is_numeric() && to.ty.is_numeric() && step.ty.is_numeric()) {
                    return Err(err(
                        codes::TYPE_MISMATCH,
                        "a numeric axis needs numeric 'from'/'to'/'step'",
                        span,
                    ));
                }
            }
            other => {
                return Err(err(
                    codes::TYPE_MISMATCH,
                    format!("make-series needs a datetime or numeric axis, got {other}"),
                    on.span,
                ));
            }
        }
        let mut group = Vec::new();
        let mut fields: Vec<Field> = Vec::new();
        let mut auto = 0usize;
        for item in by {
            check_assignable(&item.names)?;
            let e = self.bind_scalar(&item.expr, env, &scope, &mut Collector::default())?;
            if e.ty == KqlType::Dynamic {
                return Err(dynamic_not_allowed(item.expr.span, "a summarize group key"));
            }
            let name = match item.names.first() {
                Some(n) => n.name.clone(),
                None => expr_name_in(&item.expr, &is_col).unwrap_or_else(|| {
                    auto += 1;
                    format!("Column{auto}")
                }),
            };
            fields.push(Field::new(&name, e.ty));
            group.push(e);
        }
        let mut aggs = Vec::new();
        let mut defaults = Vec::new();
        for (item, default) in aggregates {
            let ExprKind::Call { name, args } = &item.expr.kind else {
                return Err(err(
                    codes::EXPECTED,
                    "make-series needs aggregate calls",
                    item.span,
                ));
            };
            let mut col = Collector {
                aggs_allowed: true,
                ..Default::default()
            };
            let e = self.bind_scalar(&item.expr, env, &scope, &mut col)?;
            let agg = match (col.aggs.pop(), col.aggs.is_empty(), &e.kind) {
                (Some((hidden, agg)), true, ScalarKind::Column(c)) if *c == hidden => agg,
                _ => {
                    return Err(Diagnostic::unsupported(
                        "make-series over an expression of aggregates",
                        item.span,
                    ));
                }
            };
            let out_name = match item.names.first() {
                Some(n) => n.name.clone(),
                None => aggregate_name(&name.name, args),
            };
            let default_json = match default {
                Some(d) => {
                    let v = self.bind_scalar_simple(d, env)?;
                    match v.constant() {
                        Some(c) => const_to_json(c),
                        None => {
                            return Err(err(
                                codes::NOT_CONSTANT,
                                "default= needs a constant",
                                d.span,
                            ));
                        }
                    }
                }
                None => match agg.ty() {
                    t if t.is_numeric() => serde_json::Value::from(0),
                    _ => serde_json::Value::Null,
                },
            };
            let taken: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
            fields.push(Field::new(unique_name(&out_name, &taken), KqlType::Dynamic));
            aggs.push(agg);
            defaults.push(default_json);
        }
        let taken: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
        fields.push(Field::new(
            unique_name(&axis_name, &taken),
            KqlType::Dynamic,
        ));
        Ok(Rel {
            kind: RelKind::MakeSeries {
                input: Box::new(input),
                group,
                axis,
                aggs,
                defaults,
                from,
                to,
                step,
            },
            schema: schema(fields),
            span,
        })
    }

    /// `take_any(a, b)`, `take_any(*)`, `any(a, b)`, `percentiles(x, 50, 95)`: one output
    /// column per argument (or percentile).
    fn expand_multi_aggregate(
        &mut self,
        item: &ast::NamedExpr,
        env: &Env,
        scope: &Scope,
        group_fields: &[Field],
    ) -> BResult<Option<Vec<(String, AggExpr)>>> {
        let ExprKind::Call { name, args } = &item.expr.kind else {
            return Ok(None);
        };
        let f = name.name.as_str();
        let multi = match f {
            "take_any" | "any" => {
                args.len() > 1 || args.iter().any(|a| matches!(a.kind, ExprKind::Star))
            }
            "percentiles" => true,
            _ => false,
        };
        if !multi {
            return Ok(None);
        }
        let mut out = Vec::new();
        if f == "percentiles" {
            let Some(first) = args.first() else {
                return Err(err(
                    codes::WRONG_ARG_COUNT,
                    "percentiles() needs a column and percentages",
                    item.span,
                ));
            };
            let x = self.bind_scalar(first, env, scope, &mut Collector::default())?;
            let base = expr_name(first).unwrap_or_default();
            for p in &args[1..] {
                let pv = self.bind_scalar(p, env, scope, &mut Collector::default())?;
                let types = [
                    ArgType {
                        ty: x.ty,
                        constant: None,
                    },
                    ArgType {
                        ty: pv.ty,
                        constant: pv.constant().cloned(),
                    },
                ];
                let ty = kql_functions::aggregate_type("percentile", &types)
                    .map_err(|e| fn_err(e, p.span, args))?;
                let ptext = match pv.constant() {
                    Some(Const::Long(v)) => v.to_string(),
                    Some(Const::Int(v)) => v.to_string(),
                    Some(Const::Real(v)) => v.to_string(),
                    _ => String::new(),
                }
                .replace('.', "_");
                let name = if item.names.is_empty() {
                    format!("percentile_{base}_{ptext}")
                } else {
                    format!(
                        "{}_{ptext}",
                        item.names
                            .first()
                            .map(|n| n.name.as_str())
                            .unwrap_or_default()
                    )
                };
                out.push((
                    name,
                    AggExpr::Call {
                        name: "percentile".into(),
                        args: vec![x.clone(), pv],
                        ty,
                    },
                ));
            }
            return Ok(Some(out));
        }
        let mut targets: Vec<(String, ScalarExpr)> = Vec::new();
        for a in args {
            if matches!(a.kind, ExprKind::Star) {
                for fl in scope.fields {
                    if group_fields.iter().any(|g| g.name == fl.name) {
                        continue;
                    }
                    targets.push((fl.name.clone(), ScalarExpr::column(&fl.name, fl.ty, a.span)));
                }
                continue;
            }
            let v = self.bind_scalar(a, env, scope, &mut Collector::default())?;
            let n = expr_name(a).unwrap_or_else(|| format!("Column{}", targets.len() + 1));
            targets.push((n, v));
        }
        for (n, v) in targets {
            let types = [ArgType {
                ty: v.ty,
                constant: None,
            }];
            let ty = kql_functions::aggregate_type("take_any", &types)
                .map_err(|e| err(e.code, e.message, item.span))?;
            let name = if f == "any" { format!("any_{n}") } else { n };
            out.push((
                name,
                AggExpr::Call {
                    name: "take_any".into(),
                    args: vec![v],
                    ty,
                },
            ));
        }
        Ok(Some(out))
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_arg_extreme(
        &mut self,
        max: bool,
        args: &[Expr],
        item: &ast::NamedExpr,
        env: &Env,
        scope: &Scope,
        group_fields: &[Field],
        span: Span,
    ) -> BResult<Vec<(String, AggExpr)>> {
        let fname = if max { "arg_max" } else { "arg_min" };
        let Some(by_expr) = args.first() else {
            return Err(err(
                codes::WRONG_ARG_COUNT,
                format!("{fname}() needs at least one argument"),
                span,
            ));
        };
        let (by_expr, by_given) = match &by_expr.kind {
            ExprKind::NamedArg { name, value } => (value.as_ref(), Some(name.name.clone())),
            _ => (by_expr, None),
        };
        let by = self.bind_scalar(by_expr, env, scope, &mut Collector::default())?;
        let by_name = match by_given.or_else(|| item.names.first().map(|n| n.name.clone())) {
            Some(n) => n,
            None => match expr_name(by_expr) {
                Some(n) => n,
                None => format!("{}_", if max { "max" } else { "min" }),
            },
        };
        let mut out: Vec<(String, AggExpr)> = vec![(
            by_name.clone(),
            AggExpr::ArgExtreme {
                max,
                by: by.clone(),
                value: by.clone(),
                ty: by.ty,
            },
        )];
        // Names are made unique here among this call's outputs; the summarize's projection
        // then numbers them against the group keys and the other outputs (`g1`, `g2`).
        let mut taken: Vec<String> = vec![by_name.clone()];
        for a in &args[1..] {
            if matches!(a.kind, ExprKind::Star) {
                for f in scope.fields {
                    if f.name == by_name || group_fields.iter().any(|g| g.name == f.name) {
                        continue;
                    }
                    if expr_name(by_expr).as_deref() == Some(f.name.as_str()) {
                        continue;
                    }
                    let name = unique_name(&f.name, &taken);
                    taken.push(name.clone());
                    out.push((
                        name,
                        AggExpr::ArgExtreme {
                            max,
                            by: by.clone(),
                            value: ScalarExpr::column(&f.name, f.ty, a.span),
                            ty: f.ty,
                        },
                    ));
                }
                continue;
            }
            let (name, expr) = match &a.kind {
                ExprKind::NamedArg { name, value } => (Some(name.name.clone()), value.as_ref()),
                ExprKind::Binary {
                    op: ast::BinaryOp::Eq,
                    left,
                    right,
                } if matches!(left.kind, ExprKind::Name(_)) => {
                    let ExprKind::Name(id) = &left.kind else {
                        continue;
                    };
                    (Some(id.name.clone()), right.as_ref())
                }
                _ => (None, a),
            };
            let v = self.bind_scalar(expr, env, scope, &mut Collector::default())?;
            let name = name
                .or_else(|| expr_name(expr))
                .unwrap_or_else(|| format!("Column{}", out.len()));
            let name = unique_name(&name, &taken);
            taken.push(name.clone());
            let ty = v.ty;
            out.push((
                name,
                AggExpr::ArgExtreme {
                    max,
                    by: by.clone(),
                    value: v,
                    ty,
                },
            ));
        }
        // `(A, B, C) = arg_max(...)` names the outputs in order.
        for (slot, n) in out.iter_mut().zip(item.names.iter()).skip(1) {
            slot.0 = n.name.clone();
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_join(
        &mut self,
        left: Rel,
        right: Rel,
        kind: JoinKind,
        on: &[Expr],
        lookup: bool,
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let _ = env;
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        let mut conds: Vec<&Expr> = Vec::new();
        for c in on {
            flatten_and(c, &mut conds);
        }
        if conds.is_empty() {
            return Err(err(codes::EXPECTED, "join needs an 'on' clause", span));
        }
        for c in conds {
            match &c.kind {
                ExprKind::Name(id) => {
                    let l = left.schema.iter().position(|f| f.name == id.name);
                    let r = right.schema.iter().position(|f| f.name == id.name);
                    match (l, r) {
                        (Some(l), Some(r)) => pairs.push((l, r)),
                        (None, _) => {
                            return Err(self.unknown_column(&id.name, &left.schema, id.span));
                        }
                        (_, None) => {
                            return Err(self.unknown_column(&id.name, &right.schema, id.span));
                        }
                    }
                }
                ExprKind::Binary {
                    op: ast::BinaryOp::Eq,
                    left: a,
                    right: b,
                } => {
                    let sa = side_column(a);
                    let sb = side_column(b);
                    let (lname, rname) = match (sa, sb) {
                        (Some((Side::Left, l)), Some((Side::Right, r))) => (l, r),
                        (Some((Side::Right, r)), Some((Side::Left, l))) => (l, r),
                        _ => {
                            return Err(err(
                                codes::BAD_ARGUMENT,
                                "join conditions must compare $left.column with $right.column",
                                c.span,
                            ));
                        }
                    };
                    let l = left
                        .schema
                        .iter()
                        .position(|f| f.name == lname.name)
                        .ok_or_else(|| {
                            self.unknown_column(&lname.name, &left.schema, lname.span)
                        })?;
                    let r = right
                        .schema
                        .iter()
                        .position(|f| f.name == rname.name)
                        .ok_or_else(|| {
                            self.unknown_column(&rname.name, &right.schema, rname.span)
                        })?;
                    pairs.push((l, r));
                }
                _ => {
                    return Err(Diagnostic::unsupported(
                        "join conditions other than equality of columns",
                        c.span,
                    ));
                }
            }
        }
        for (l, r) in &pairs {
            let lt = left.schema[*l].ty;
            let rt = right.schema[*r].ty;
            if lt != rt && !(lt.is_numeric() && rt.is_numeric()) {
                return Err(err(
                    codes::TYPE_MISMATCH,
                    format!(
                        "join keys '{}' ({lt}) and '{}' ({rt}) have different types",
                        left.schema[*l].name, right.schema[*r].name
                    ),
                    span,
                ));
            }
        }
        let fields = join_schema(&left.schema, &right.schema, kind, &pairs, lookup);
        Ok(Rel {
            kind: RelKind::Join {
                left: Box::new(left),
                right: Box::new(right),
                kind,
                on: pairs,
                lookup,
            },
            schema: schema(fields),
            span,
        })
    }

    fn bind_union(
        &mut self,
        first: Option<Rel>,
        u: &ast::UnionOp,
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let mut outer = true;
        let mut withsource: Option<String> = None;
        let mut fuzzy = false;
        for p in &u.params {
            let key = p.name.name.to_ascii_lowercase();
            let text = match &p.value.kind {
                ExprKind::Name(id) => id.name.clone(),
                ExprKind::Literal(Literal::String(s)) => s.clone(),
                ExprKind::Literal(Literal::Bool(Some(b))) => b.to_string(),
                _ => String::new(),
            };
            match key.as_str() {
                "kind" => outer = !text.eq_ignore_ascii_case("inner"),
                "withsource" => withsource = Some(text),
                "isfuzzy" => fuzzy = text.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        let mut inputs: Vec<(String, Rel)> = Vec::new();
        if let Some(f) = first {
            inputs.push(("".into(), f));
        }
        for t in &u.tables {
            match &t.kind {
                ExprKind::Name(id) if id.name.contains('*') => {
                    for name in self.catalog.table_names() {
                        if pattern_matches(&id.name, &name) {
                            let rel = self.bind_table_name(
                                &ast::Ident {
                                    name: name.clone(),
                                    span: id.span,
                                },
                                env,
                            )?;
                            inputs.push((name, rel));
                        }
                    }
                }
                ExprKind::Name(id) => match self.bind_table_name(id, env) {
                    Ok(rel) => {
                        // withsource names catalog tables and views; anything else is
                        // `union_argN`.
                        let is_view = matches!(env.get(&id.name), Some(Binding::Function(f)) if f.lambda.view);
                        let label = if is_view
                            || (env.get(&id.name).is_none()
                                && self.catalog.table(&id.name).is_some())
                        {
                            id.name.clone()
                        } else {
                            format!("union_arg{}", inputs.len())
                        };
                        inputs.push((label, rel))
                    }
                    Err(e) if fuzzy && e.code == codes::UNKNOWN_TABLE => {}
                    Err(e) => return Err(e),
                },
                _ => {
                    let rel = self.bind_rel(t, env)?;
                    inputs.push((format!("union_arg{}", inputs.len()), rel));
                }
            }
        }
        if inputs.is_empty() {
            return Err(err(codes::UNKNOWN_TABLE, "union has no tables", span));
        }
        // Output columns.
        // Columns by first appearance of their name; the types of one name stay together.
        // As Kusto's binder does, a name that two inputs already agree on keeps its type:
        // a later input's column of that name and another type is left out.
        let mut names: Vec<(String, KqlType)> = Vec::new();
        let mut agreed: HashMap<String, usize> = HashMap::new();
        for (_, r) in &inputs {
            for f in r.schema.iter() {
                if names.iter().any(|(n, t)| *n == f.name && *t == f.ty) {
                    *agreed.entry(f.name.clone()).or_default() += 1;
                    continue;
                }
                let same_name = names.iter().filter(|(n, _)| *n == f.name).count();
                if same_name == 1 && agreed.get(&f.name).is_some_and(|c| *c >= 1) {
                    continue;
                }
                match names.iter().rposition(|(n, _)| *n == f.name) {
                    Some(pos) => names.insert(pos + 1, (f.name.clone(), f.ty)),
                    None => names.push((f.name.clone(), f.ty)),
                }
            }
        }
        if !outer {
            names.retain(|(n, t)| {
                inputs
                    .iter()
                    .all(|(_, r)| r.schema.iter().any(|f| f.name == *n && f.ty == *t))
            });
        }
        let out_name = |n: &str, t: KqlType, names: &[(String, KqlType)]| -> String {
            if names.iter().filter(|(m, _)| m == n).count() > 1 {
                format!("{n}_{}", t.name())
            } else {
                n.to_string()
            }
        };
        let mut fields: Vec<Field> = Vec::new();
        if let Some(ws) = &withsource {
            fields.push(Field::new(ws, KqlType::String));
        }
        // A `name_type` that is already some input's column name gets a number (`x_long1`).
        let plain: Vec<String> = names
            .iter()
            .filter(|(n, _)| names.iter().filter(|(m, _)| m == n).count() == 1)
            .map(|(n, _)| n.clone())
            .collect();
        for (n, t) in &names {
            let mut name = out_name(n, *t, &names);
            if name != *n {
                let mut taken: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
                taken.extend(plain.iter().cloned());
                name = unique_name(&name, &taken);
            }
            fields.push(Field::new(name, *t));
        }
        let mut projected = Vec::new();
        for (tname, r) in inputs {
            let mut exprs = Vec::new();
            if withsource.is_some() {
                exprs.push(ScalarExpr::literal(
                    Const::String(tname.clone()),
                    KqlType::String,
                    span,
                ));
            }
            for (n, t) in &names {
                if r.schema.iter().any(|f| f.name == *n && f.ty == *t) {
                    exprs.push(ScalarExpr::column(n, *t, span));
                } else {
                    exprs.push(ScalarExpr::null(*t, span));
                }
            }
            projected.push(Rel {
                kind: RelKind::Project {
                    input: Box::new(r),
                    exprs,
                },
                schema: schema(fields.clone()),
                span,
            });
        }
        if projected.len() == 1 {
            return projected
                .pop()
                .ok_or_else(|| Diagnostic::internal("union", span));
        }
        Ok(Rel {
            kind: RelKind::Union { inputs: projected },
            schema: schema(fields),
            span,
        })
    }

    fn bind_mv_expand(
        &mut self,
        input: Rel,
        params: &[ast::OpParam],
        items: &[ast::MvExpandItem],
        limit: Option<&Expr>,
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let mut rel = input;
        let mut columns = Vec::new();
        let mut item_index = None;
        let mut bag_as_array = false;
        for p in params {
            if (p.name.name.eq_ignore_ascii_case("kind")
                || p.name.name.eq_ignore_ascii_case("bagexpansion"))
                && let ExprKind::Name(id) = &p.value.kind
            {
                bag_as_array = id.name.eq_ignore_ascii_case("array");
            }
            if p.name.name.eq_ignore_ascii_case("with_itemindex")
                && let ExprKind::Name(id) = &p.value.kind
            {
                item_index = Some(id.name.clone());
            }
        }
        for item in items {
            // Non-column expressions are first added as columns.
            let (name, is_col) = match (&item.name, &item.expr.kind) {
                (Some(n), _) => (n.name.clone(), false),
                (None, ExprKind::Name(id)) => (id.name.clone(), true),
                (None, _) => (
                    path_name(&item.expr).unwrap_or_else(|| "Column1".into()),
                    false,
                ),
            };
            if !is_col {
                let e = self.bind_scalar(
                    &item.expr,
                    env,
                    &Scope::of(&rel.schema),
                    &mut Collector::default(),
                )?;
                rel = extend_one(rel, &name, e, item.span);
            }
            let idx = rel
                .schema
                .iter()
                .position(|f| f.name == name)
                .ok_or_else(|| self.unknown_column(&name, &rel.schema, item.span))?;
            if rel.schema[idx].ty != KqlType::Dynamic {
                return Err(err(
                    codes::TYPE_MISMATCH,
                    format!(
                        "mv-expand needs a dynamic column; '{name}' is {}",
                        rel.schema[idx].ty
                    ),
                    item.span,
                ));
            }
            let ty = match &item.to_type {
                Some(t) => t.ty.ok_or_else(|| {
                    err(
                        codes::UNKNOWN_TYPE,
                        format!("unknown type '{}'", t.name),
                        t.span,
                    )
                })?,
                None => KqlType::Dynamic,
            };
            columns.push(MvExpandColumn { index: idx, ty });
        }
        let limit = match limit {
            Some(l) => Some(self.bind_count(l, env)?),
            None => None,
        };
        let mut fields = rel.schema.to_vec();
        for c in &columns {
            fields[c.index].ty = c.ty;
        }
        if let Some(ix) = &item_index {
            fields.push(Field::new(ix, KqlType::Long));
        }
        Ok(Rel {
            kind: RelKind::MvExpand {
                input: Box::new(rel),
                columns,
                item_index,
                limit,
                bag_as_array,
            },
            schema: schema(fields),
            span,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_parse(
        &mut self,
        input: Rel,
        where_: bool,
        params: &[ast::OpParam],
        expr: &Expr,
        parts: &[ast::ParsePart],
        env: &Env,
        span: Span,
    ) -> BResult<Rel> {
        let mut regex_mode = false;
        for p in params {
            if p.name.name.eq_ignore_ascii_case("kind") {
                let text = match &p.value.kind {
                    ExprKind::Name(id) => id.name.to_ascii_lowercase(),
                    _ => String::new(),
                };
                match text.as_str() {
                    "regex" => regex_mode = true,
                    "simple" => {}
                    "relaxed" => return Err(Diagnostic::unsupported("parse kind=relaxed", p.span)),
                    _ => return Err(err(codes::BAD_ARGUMENT, "unknown parse kind", p.value.span)),
                }
            } else if p.name.name.eq_ignore_ascii_case("flags") {
                return Err(Diagnostic::unsupported("parse flags", p.span));
            }
        }
        let source = self.bind_scalar(
            expr,
            env,
            &Scope::of(&input.schema),
            &mut Collector::default(),
        )?;
        let source = if source.ty == KqlType::String {
            source
        } else {
            source.cast_to(KqlType::String)
        };
        let mut pattern = String::from("^");
        let mut cols: Vec<(String, KqlType, usize)> = Vec::new();
        let last_col_is_last = matches!(parts.last(), Some(ast::ParsePart::Column { .. }));
        let mut group = 0usize;
        for (i, part) in parts.iter().enumerate() {
            match part {
                ast::ParsePart::Literal(s) => {
                    if regex_mode {
                        pattern.push_str(s);
                    } else {
                        pattern.push_str(&regex_escape(s));
                    }
                }
                ast::ParsePart::Wildcard => pattern.push_str(if regex_mode { ".*" } else { ".*?" }),
                ast::ParsePart::Column { name, ty } => {
                    check_assignable(std::slice::from_ref(name))?;
                    if i > 0 && !matches!(parts[i - 1], ast::ParsePart::Literal(_)) {
                        return Err(err(
                            codes::BAD_ARGUMENT,
                            "in a parse pattern, a column name must follow a string literal",
                            name.span,
                        ));
                    }
                    let t = match ty {
                        Some(t) => t.ty.ok_or_else(|| {
                            err(
                                codes::UNKNOWN_TYPE,
                                format!("unknown type '{}'", t.name),
                                t.span,
                            )
                        })?,
                        None => KqlType::String,
                    };
                    group += 1;
                    let is_last = i + 1 == parts.len() && last_col_is_last;
                    let sub = match t {
                        KqlType::Int | KqlType::Long => r"[-+]?\d+".to_string(),
                        KqlType::Real | KqlType::Decimal => {
                            r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?".to_string()
                        }
                        KqlType::Bool => "(?i:true|false)".to_string(),
                        _ if is_last || regex_mode => ".*".to_string(),
                        _ => ".*?".to_string(),
                    };
                    pattern.push_str(&format!("({sub})"));
                    cols.push((name.name.clone(), t, group));
                }
            }
        }
        if !last_col_is_last {
            // Simple mode: the pattern must match through the end only if it ends with a literal.
            if !regex_mode && !matches!(parts.last(), Some(ast::ParsePart::Wildcard)) {
                pattern.push('$');
            }
        }
        pattern = format!("(?s){pattern}");
        let matched = ScalarExpr::new(
            ScalarKind::Binary {
                op: ast::BinaryOp::Str(ast::StringOp {
                    kind: ast::StringOpKind::MatchesRegex,
                    negated: false,
                    case_sensitive: true,
                }),
                left: Box::new(source.clone()),
                right: Box::new(ScalarExpr::literal(
                    Const::String(pattern.clone()),
                    KqlType::String,
                    span,
                )),
            },
            KqlType::Bool,
            span,
        );
        let mut rel = input;
        if where_ {
            let s = Arc::clone(&rel.schema);
            rel = Rel {
                kind: RelKind::Filter {
                    input: Box::new(rel),
                    predicate: matched,
                },
                schema: s,
                span,
            };
        }
        for (name, ty, g) in cols {
            let e = ScalarExpr::new(
                ScalarKind::Call {
                    name: "extract".into(),
                    args: vec![
                        ScalarExpr::literal(Const::String(pattern.clone()), KqlType::String, span),
                        ScalarExpr::literal(Const::Long(g as i64), KqlType::Long, span),
                        source.clone(),
                        ScalarExpr::literal(Const::Type(ty), KqlType::String, span),
                    ],
                },
                ty,
                span,
            );
            // A parsed column never replaces an existing one (which later parsed columns
            // may still read): like Kusto's binder, it gets the next free name (`Issuer1`).
            let taken: Vec<String> = rel.schema.iter().map(|f| f.name.clone()).collect();
            let name = unique_name(&name, &taken);
            rel = extend_one(rel, &name, e, span);
        }
        Ok(rel)
    }

    // ---------------------------------------------------------------- scalars

    fn bind_scalar_simple(&mut self, e: &Expr, env: &Env) -> BResult<ScalarExpr> {
        self.bind_scalar(e, env, &Scope::empty(), &mut Collector::default())
    }

    fn bind_scalar(
        &mut self,
        e: &Expr,
        env: &Env,
        scope: &Scope,
        col: &mut Collector,
    ) -> BResult<ScalarExpr> {
        self.enter(e.span)?;
        let r = stacker::maybe_grow(RED_ZONE, STACK_GROWTH, || {
            self.bind_scalar_inner(e, env, scope, col)
        });
        self.leave();
        r
    }

    fn bind_scalar_inner(
        &mut self,
        e: &Expr,
        env: &Env,
        scope: &Scope,
        col: &mut Collector,
    ) -> BResult<ScalarExpr> {
        let span = e.span;
        match &e.kind {
            ExprKind::Literal(lit) => self.bind_literal(lit, span),
            ExprKind::Paren(inner) => self.bind_scalar(inner, env, scope, col),
            ExprKind::Name(id) => self.bind_name(id, env, scope),
            ExprKind::Star => Err(err(
                codes::UNEXPECTED_TOKEN,
                "'*' is not allowed here",
                span,
            )),
            ExprKind::TypeOf(t) => {
                let ty = t.ty.ok_or_else(|| {
                    err(
                        codes::UNKNOWN_TYPE,
                        format!("unknown type '{}'", t.name),
                        t.span,
                    )
                })?;
                Ok(ScalarExpr::literal(Const::Type(ty), KqlType::String, span))
            }
            ExprKind::Member { expr, name } => {
                if let ExprKind::Name(side) = &expr.kind
                    && (side.name == "$left" || side.name == "$right")
                {
                    let fields = if side.name == "$left" {
                        scope.left
                    } else {
                        scope.right
                    };
                    let fields = fields.ok_or_else(|| {
                        err(
                            codes::UNKNOWN_NAME,
                            format!("'{}' is only valid in a join condition", side.name),
                            side.span,
                        )
                    })?;
                    let f = fields
                        .iter()
                        .find(|f| f.name == name.name)
                        .ok_or_else(|| self.unknown_column(&name.name, fields, name.span))?;
                    return Ok(ScalarExpr::column(&f.name, f.ty, span));
                }
                let base = self.bind_scalar(expr, env, scope, col)?;
                if base.ty != KqlType::Dynamic {
                    return Err(err(
                        codes::TYPE_MISMATCH,
                        format!(
                            "property access '.{}' needs a dynamic value, got {}",
                            name.name, base.ty
                        ),
                        span,
                    ));
                }
                Ok(ScalarExpr::new(
                    ScalarKind::Member {
                        expr: Box::new(base),
                        key: name.name.clone(),
                    },
                    KqlType::Dynamic,
                    span,
                ))
            }
            ExprKind::Index { expr, index } => {
                let base = self.bind_scalar(expr, env, scope, col)?;
                let idx = self.bind_scalar(index, env, scope, col)?;
                if base.ty != KqlType::Dynamic {
                    return Err(err(
                        codes::TYPE_MISMATCH,
                        format!("index access needs a dynamic value, got {}", base.ty),
                        span,
                    ));
                }
                if let Some(key) = const_string(&idx) {
                    return Ok(ScalarExpr::new(
                        ScalarKind::Member {
                            expr: Box::new(base),
                            key,
                        },
                        KqlType::Dynamic,
                        span,
                    ));
                }
                Ok(ScalarExpr::new(
                    ScalarKind::Index {
                        expr: Box::new(base),
                        index: Box::new(idx),
                    },
                    KqlType::Dynamic,
                    span,
                ))
            }
            ExprKind::Unary { op, expr } => {
                let inner = self.bind_scalar(expr, env, scope, col)?;
                match op {
                    ast::UnaryOp::Plus => Ok(inner),
                    ast::UnaryOp::Neg => {
                        // Fold negative literals.
                        let folded = match inner.constant() {
                            Some(Const::Long(v)) => Some(Const::Long(v.wrapping_neg())),
                            Some(Const::Int(v)) => Some(Const::Int(v.wrapping_neg())),
                            Some(Const::Real(v)) => Some(Const::Real(-v)),
                            Some(Const::TimeSpan(v)) => Some(Const::TimeSpan(v.wrapping_neg())),
                            _ => None,
                        };
                        if let Some(c) = folded {
                            return Ok(ScalarExpr::literal(c, inner.ty, span));
                        }
                        if !(inner.ty.is_numeric()
                            || inner.ty == KqlType::TimeSpan
                            || inner.ty == KqlType::Dynamic)
                        {
                            return Err(err(
                                codes::TYPE_MISMATCH,
                                format!("cannot negate a {}", inner.ty),
                                span,
                            ));
                        }
                        // KQL widens: -int is long.
                        let ty = if inner.ty == KqlType::Int {
                            KqlType::Long
                        } else {
                            inner.ty
                        };
                        let inner = inner.cast_to(ty);
                        Ok(ScalarExpr::new(
                            ScalarKind::Negate(Box::new(inner)),
                            ty,
                            span,
                        ))
                    }
                }
            }
            ExprKind::Binary { op, left, right } => {
                let l = self.bind_scalar(left, env, scope, col)?;
                let r = self.bind_scalar(right, env, scope, col)?;
                let ty = kql_functions::binary_type(*op, l.ty, r.ty)
                    .map_err(|fe| err(fe.code, fe.message, span))?;
                Ok(ScalarExpr::new(
                    ScalarKind::Binary {
                        op: *op,
                        left: Box::new(l),
                        right: Box::new(r),
                    },
                    ty,
                    span,
                ))
            }
            ExprKind::In {
                expr,
                list,
                negated,
                case_insensitive,
            } => {
                let x = self.bind_scalar(expr, env, scope, col)?;
                if list.len() == 1
                    && let Some(first) = list.first()
                    && self.is_tabular(first, env)
                {
                    let rel = self.bind_rel(first, env)?;
                    if rel.schema.is_empty() {
                        return Err(err(
                            codes::NOT_SCALAR,
                            "the 'in' subquery has no columns",
                            first.span,
                        ));
                    }
                    return Ok(ScalarExpr::new(
                        ScalarKind::InRel {
                            expr: Box::new(x),
                            rel: Box::new(rel),
                            negated: *negated,
                            case_insensitive: *case_insensitive,
                        },
                        KqlType::Bool,
                        span,
                    ));
                }
                let mut items = Vec::new();
                for i in list {
                    items.push(self.bind_scalar(i, env, scope, col)?);
                }
                Ok(ScalarExpr::new(
                    ScalarKind::In {
                        expr: Box::new(x),
                        list: items,
                        negated: *negated,
                        case_insensitive: *case_insensitive,
                    },
                    KqlType::Bool,
                    span,
                ))
            }
            ExprKind::HasAny { expr, list, kind } => {
                let x = self.bind_scalar(expr, env, scope, col)?;
                let mut items = Vec::new();
                for i in list {
                    if self.is_tabular(i, env) {
                        items.push(self.set_of_first_column(i, env)?);
                    } else {
                        items.push(self.bind_scalar(i, env, scope, col)?);
                    }
                }
                Ok(ScalarExpr::new(
                    ScalarKind::HasAny {
                        expr: Box::new(x),
                        list: items,
                        kind: *kind,
                    },
                    KqlType::Bool,
                    span,
                ))
            }
            ExprKind::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let x = self.bind_scalar(expr, env, scope, col)?;
                let lo = self.bind_scalar(low, env, scope, col)?;
                let hi = self.bind_scalar(high, env, scope, col)?;
                Ok(ScalarExpr::new(
                    ScalarKind::Between {
                        expr: Box::new(x),
                        low: Box::new(lo),
                        high: Box::new(hi),
                        negated: *negated,
                    },
                    KqlType::Bool,
                    span,
                ))
            }
            ExprKind::Call { name, args } => self.bind_call(name, args, env, scope, col, span),
            ExprKind::Lambda(_) => Err(Diagnostic::unsupported(
                "a function literal used as a value",
                span,
            )),
            // `f(Name = x)` where `f` takes no named parameters: the value is `x`; the
            // name only names the column (`bin(Minute = Timestamp, 5m)` → `Minute`).
            ExprKind::NamedArg { value, .. } => self.bind_scalar(value, env, scope, col),
            ExprKind::Pipe { .. }
            | ExprKind::Datatable { .. }
            | ExprKind::Print(_)
            | ExprKind::Range { .. }
            | ExprKind::Union(_)
            | ExprKind::ExternalData { .. }
            | ExprKind::UnsupportedSource { .. } => Err(err(
                codes::NOT_SCALAR,
                "a tabular expression is not allowed here (use toscalar() for a single value)",
                span,
            )),
        }
    }

    /// `toscalar(T | summarize make_set(first column))`: a tabular list operand as one
    /// dynamic array.
    fn set_of_first_column(&mut self, e: &Expr, env: &Env) -> BResult<ScalarExpr> {
        let rel = self.bind_rel(e, env)?;
        let first = rel
            .schema
            .first()
            .cloned()
            .ok_or_else(|| err(codes::NOT_SCALAR, "the subquery has no columns", e.span))?;
        let arg = ScalarExpr::column(&first.name, first.ty, e.span);
        let types = [ArgType {
            ty: first.ty,
            constant: None,
        }];
        let ty = kql_functions::aggregate_type("make_set", &types)
            .map_err(|fe| err(fe.code, fe.message, e.span))?;
        let agg = Rel {
            kind: RelKind::Aggregate {
                input: Box::new(rel),
                group: vec![],
                aggs: vec![AggExpr::Call {
                    name: "make_set".into(),
                    args: vec![arg],
                    ty,
                }],
            },
            schema: schema(vec![Field::new("__kql_set", ty)]),
            span: e.span,
        };
        Ok(ScalarExpr::new(
            ScalarKind::ScalarSubquery(Box::new(agg)),
            ty,
            e.span,
        ))
    }

    fn bind_literal(&mut self, lit: &Literal, span: Span) -> BResult<ScalarExpr> {
        let (c, ty) = match lit {
            Literal::Null => (Const::Null, KqlType::Dynamic),
            Literal::Bool(b) => (b.map(Const::Bool).unwrap_or(Const::Null), KqlType::Bool),
            Literal::Int(v) => (v.map(Const::Int).unwrap_or(Const::Null), KqlType::Int),
            Literal::Long(v) => (v.map(Const::Long).unwrap_or(Const::Null), KqlType::Long),
            Literal::Real(v) => (v.map(Const::Real).unwrap_or(Const::Null), KqlType::Real),
            Literal::Decimal(v) => (
                match v {
                    Some(t) => Const::Real(t.trim().parse::<f64>().map_err(|_| {
                        err(
                            codes::BAD_LITERAL,
                            format!("bad decimal literal '{t}'"),
                            span,
                        )
                    })?),
                    None => Const::Null,
                },
                KqlType::Decimal,
            ),
            Literal::String(s) => (Const::String(s.clone()), KqlType::String),
            Literal::DateTime(v) => (
                match v {
                    Some(t) => Const::DateTime(parse_datetime(t).ok_or_else(|| {
                        err(
                            codes::BAD_LITERAL,
                            format!("bad or out-of-range datetime literal '{t}'"),
                            span,
                        )
                    })?),
                    None => Const::Null,
                },
                KqlType::DateTime,
            ),
            Literal::TimeSpan(v) => (
                match v {
                    Some(ticks) => Const::TimeSpan(ticks.checked_mul(100).ok_or_else(|| {
                        err(codes::BAD_LITERAL, "timespan literal out of range", span)
                    })?),
                    None => Const::Null,
                },
                KqlType::TimeSpan,
            ),
            Literal::Guid(v) => (
                v.clone().map(Const::Guid).unwrap_or(Const::Null),
                KqlType::Guid,
            ),
            Literal::Dynamic(d) => (
                match d {
                    ast::DynValue::Null => Const::Null,
                    other => Const::Dynamic(dyn_to_json(other)),
                },
                KqlType::Dynamic,
            ),
        };
        Ok(ScalarExpr::literal(c, ty, span))
    }

    fn bind_name(&mut self, id: &ast::Ident, env: &Env, scope: &Scope) -> BResult<ScalarExpr> {
        if let Some(f) = scope.fields.iter().find(|f| f.name == id.name) {
            return Ok(ScalarExpr::column(&f.name, f.ty, id.span));
        }
        match env.get(&id.name) {
            Some(Binding::Scalar(s)) => {
                let mut s = s.clone();
                s.span = id.span;
                return Ok(s);
            }
            Some(Binding::Tabular(_)) => {
                return Err(err(
                    codes::NOT_SCALAR,
                    format!(
                        "'{}' is a table; use toscalar() to get a single value from it",
                        id.name
                    ),
                    id.span,
                ));
            }
            Some(Binding::Function(f)) if f.lambda.params.is_empty() => {
                let f = Rc::clone(f);
                let fenv = self.function_env(
                    &f,
                    &[],
                    None,
                    env,
                    scope,
                    &mut Collector::default(),
                    id.span,
                )?;
                return self.bind_scalar(
                    &f.lambda.body.result,
                    &fenv,
                    scope,
                    &mut Collector::default(),
                );
            }
            Some(Binding::Function(_)) => {
                return Err(err(
                    codes::NOT_SCALAR,
                    format!("'{}' is a function; call it with ()", id.name),
                    id.span,
                ));
            }
            None => {}
        }
        if self.catalog.table(&id.name).is_some() {
            return Err(err(
                codes::NOT_SCALAR,
                format!("'{}' is a table, not a column", id.name),
                id.span,
            ));
        }
        *self.unknown.borrow_mut() = Some((id.name.clone(), id.span));
        let mut d = err(
            codes::UNKNOWN_COLUMN,
            format!("unknown column or variable '{}'", id.name),
            id.span,
        );
        if let Some(s) = suggest(
            &id.name,
            scope
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .chain(env.vars.keys().map(|k| k.as_str())),
        ) {
            d = d.with_help(s);
        }
        Err(d)
    }

    fn bind_call(
        &mut self,
        name: &ast::Ident,
        args: &[Expr],
        env: &Env,
        scope: &Scope,
        col: &mut Collector,
        span: Span,
    ) -> BResult<ScalarExpr> {
        let fname = name.name.as_str();
        // User-defined functions shadow built-ins.
        if let Some(Binding::Function(f)) = env.get(fname) {
            let f = Rc::clone(f);
            if self.fn_is_tabular(&f) {
                return Err(err(
                    codes::NOT_SCALAR,
                    format!("function '{fname}' returns a table; it cannot be used as a value"),
                    span,
                ));
            }
            self.enter(span)?;
            let r = (|| {
                let fenv = self.function_env(&f, args, None, env, scope, col, span)?;
                self.bind_scalar(&f.lambda.body.result, &fenv, scope, col)
            })();
            self.leave();
            return r.map(|mut s| {
                s.span = span;
                s
            });
        }
        match fname {
            // Peregrine records no separate ingestion time: a hunting row's ingestion time is
            // its `Timestamp` (Defender ingests within minutes); elsewhere it is null.
            "ingestion_time"
                if args.is_empty()
                    && scope
                        .fields
                        .iter()
                        .any(|f| f.name == "Timestamp" && f.ty == KqlType::DateTime) =>
            {
                return Ok(ScalarExpr::column("Timestamp", KqlType::DateTime, span));
            }
            "toscalar" => {
                let arg = args.first().ok_or_else(|| {
                    err(
                        codes::WRONG_ARG_COUNT,
                        "toscalar() needs one argument",
                        span,
                    )
                })?;
                if !self.is_tabular(arg, env) {
                    return self.bind_scalar(arg, env, scope, col);
                }
                let rel = self.bind_rel(arg, env)?;
                let ty = rel.schema.first().map(|f| f.ty).ok_or_else(|| {
                    err(
                        codes::NOT_SCALAR,
                        "toscalar() of a table without columns",
                        span,
                    )
                })?;
                return Ok(ScalarExpr::new(
                    ScalarKind::ScalarSubquery(Box::new(rel)),
                    ty,
                    span,
                ));
            }
            "pack_all" => {
                let mut pargs = Vec::new();
                for f in scope.fields {
                    pargs.push(ScalarExpr::literal(
                        Const::String(f.name.clone()),
                        KqlType::String,
                        span,
                    ));
                    pargs.push(ScalarExpr::column(&f.name, f.ty, span));
                }
                let types: Vec<ArgType> = pargs
                    .iter()
                    .map(|a| ArgType {
                        ty: a.ty,
                        constant: a.constant().cloned(),
                    })
                    .collect();
                let ty = kql_functions::scalar_type("bag_pack", &types)
                    .map_err(|e| err(e.code, e.message, span))?;
                return Ok(ScalarExpr::new(
                    ScalarKind::Call {
                        name: "bag_pack".into(),
                        args: pargs,
                    },
                    ty,
                    span,
                ));
            }
            // `bag_pack_columns(A, B)` is `bag_pack("A", A, "B", B)`.
            "bag_pack_columns" => {
                let mut pargs = Vec::new();
                for a in args {
                    let key = expr_name(a).ok_or_else(|| {
                        err(
                            codes::BAD_ARGUMENT,
                            "bag_pack_columns() takes column names",
                            a.span,
                        )
                    })?;
                    pargs.push(ScalarExpr::literal(
                        Const::String(key),
                        KqlType::String,
                        a.span,
                    ));
                    pargs.push(self.bind_scalar(a, env, scope, col)?);
                }
                let types: Vec<ArgType> = pargs
                    .iter()
                    .map(|a| ArgType {
                        ty: a.ty,
                        constant: a.constant().cloned(),
                    })
                    .collect();
                let ty = kql_functions::scalar_type("bag_pack", &types)
                    .map_err(|e| err(e.code, e.message, span))?;
                return Ok(ScalarExpr::new(
                    ScalarKind::Call {
                        name: "bag_pack".into(),
                        args: pargs,
                    },
                    ty,
                    span,
                ));
            }
            "column_ifexists" => {
                let (Some(cname), Some(default)) = (args.first(), args.get(1)) else {
                    return Err(err(
                        codes::WRONG_ARG_COUNT,
                        "column_ifexists() needs two arguments",
                        span,
                    ));
                };
                let cname = self.bind_scalar(cname, env, scope, col)?;
                let cname = const_string(&cname).ok_or_else(|| {
                    err(
                        codes::NOT_CONSTANT,
                        "column_ifexists() needs a constant column name",
                        span,
                    )
                })?;
                if let Some(f) = scope.fields.iter().find(|f| f.name == cname) {
                    return Ok(ScalarExpr::column(&f.name, f.ty, span));
                }
                return self.bind_scalar(default, env, scope, col);
            }
            "row_number" | "prev" | "next" | "row_cumsum" => {
                if !col.windows_allowed {
                    return Err(err(
                        codes::AGGREGATE_CONTEXT,
                        format!("{fname}() is only allowed in extend/project on serialized rows"),
                        span,
                    ));
                }
                // Arguments may use windows themselves (`prev()` in a restart condition):
                // those are computed first, in a node below.
                let mut bound = Vec::new();
                for a in args {
                    bound.push(self.bind_scalar(a, env, scope, col)?);
                }
                // `row_number(start, restart)` / `row_cumsum(x, restart)`: rows are grouped
                // by the running count of restarts, and numbering/summing restarts per group.
                let restart_group = |col: &mut Collector, restart: Option<&ScalarExpr>| {
                    let r = restart?;
                    let flag = ScalarExpr::new(
                        ScalarKind::Call {
                            name: "iff".into(),
                            args: vec![
                                r.clone(),
                                ScalarExpr::literal(Const::Long(1), KqlType::Long, span),
                                ScalarExpr::literal(Const::Long(0), KqlType::Long, span),
                            ],
                        },
                        KqlType::Long,
                        span,
                    );
                    let g = col.hidden();
                    col.windows.push((
                        g.clone(),
                        WindowExpr::RowCumSum {
                            expr: flag,
                            partition_by: vec![],
                        },
                    ));
                    Some(vec![ScalarExpr::column(&g, KqlType::Long, span)])
                };
                if let Some(r) = bound.get(1)
                    && matches!(fname, "row_number" | "row_cumsum")
                    && r.ty != KqlType::Bool
                {
                    return Err(err(
                        codes::TYPE_MISMATCH,
                        format!(
                            "the restart argument of {fname}() must be bool, got {}",
                            r.ty
                        ),
                        r.span,
                    ));
                }
                let w = match fname {
                    "row_number" => WindowExpr::RowNumber {
                        start: bound.first().and_then(const_long).unwrap_or(1),
                        partition_by: restart_group(col, bound.get(1)).unwrap_or_default(),
                        order_by: vec![],
                    },
                    "row_cumsum" => WindowExpr::RowCumSum {
                        partition_by: restart_group(col, bound.get(1)).unwrap_or_default(),
                        expr: bound.into_iter().next().ok_or_else(|| {
                            err(
                                codes::WRONG_ARG_COUNT,
                                "row_cumsum() needs an argument",
                                span,
                            )
                        })?,
                    },
                    _ => {
                        let mut it = bound.into_iter();
                        let expr = it.next().ok_or_else(|| {
                            err(
                                codes::WRONG_ARG_COUNT,
                                format!("{fname}() needs an argument"),
                                span,
                            )
                        })?;
                        let offset = match it.next() {
                            Some(o) => const_long(&o).ok_or_else(|| {
                                err(codes::NOT_CONSTANT, "the offset must be a constant", o.span)
                            })?,
                            None => 1,
                        };
                        if offset < 1 {
                            return Err(err(
                                codes::BAD_ARGUMENT,
                                format!("the offset of {fname}() must be at least 1"),
                                span,
                            ));
                        }
                        let default = it.next().map(|d| d.cast_to(expr.ty));
                        if fname == "prev" {
                            WindowExpr::Prev {
                                expr,
                                offset,
                                default,
                            }
                        } else {
                            WindowExpr::Next {
                                expr,
                                offset,
                                default,
                            }
                        }
                    }
                };
                let ty = match &w {
                    WindowExpr::RowNumber { .. } => KqlType::Long,
                    WindowExpr::Prev { expr, .. }
                    | WindowExpr::Next { expr, .. }
                    | WindowExpr::RowCumSum { expr, .. } => expr.ty,
                };
                let hidden = col.hidden();
                col.windows.push((hidden.clone(), w));
                return Ok(ScalarExpr::column(&hidden, ty, span));
            }
            "arg_max" | "arg_min" => {
                return Err(err(
                    codes::AGGREGATE_CONTEXT,
                    format!("{fname}() must be a top-level aggregate of summarize"),
                    span,
                ));
            }
            _ => {}
        }
        let kind = kql_functions::function_kind(fname);
        match kind {
            Some(FnKind::Aggregate) => {
                if !col.aggs_allowed {
                    return Err(err(
                        codes::AGGREGATE_CONTEXT,
                        format!("aggregate function {fname}() is only allowed in summarize"),
                        span,
                    ));
                }
                let mut bound = Vec::new();
                let mut inner = Collector::default();
                for a in args {
                    if matches!(a.kind, ExprKind::Star) {
                        continue;
                    }
                    bound.push(self.bind_scalar(a, env, scope, &mut inner)?);
                }
                let types: Vec<ArgType> = bound
                    .iter()
                    .map(|a| ArgType {
                        ty: a.ty,
                        constant: a.constant().cloned(),
                    })
                    .collect();
                let ty = kql_functions::aggregate_type(fname, &types)
                    .map_err(|e| fn_err(e, span, args))?;
                let hidden = col.hidden();
                col.aggs.push((
                    hidden.clone(),
                    AggExpr::Call {
                        name: fname.to_string(),
                        args: bound,
                        ty,
                    },
                ));
                Ok(ScalarExpr::column(&hidden, ty, span))
            }
            Some(FnKind::Scalar) => {
                let mut bound = Vec::new();
                for a in args {
                    bound.push(self.bind_scalar(a, env, scope, col)?);
                }
                let types: Vec<ArgType> = bound
                    .iter()
                    .map(|a| ArgType {
                        ty: a.ty,
                        constant: a.constant().cloned(),
                    })
                    .collect();
                let ty =
                    kql_functions::scalar_type(fname, &types).map_err(|e| fn_err(e, span, args))?;
                if fname == "now" && bound.is_empty() {
                    return Ok(ScalarExpr::literal(
                        Const::DateTime(self.options.now_nanos),
                        KqlType::DateTime,
                        span,
                    ));
                }
                Ok(ScalarExpr::new(
                    ScalarKind::Call {
                        name: fname.to_string(),
                        args: bound,
                    },
                    ty,
                    span,
                ))
            }
            None => {
                if self.is_tabular(
                    &Expr::new(
                        ExprKind::Call {
                            name: name.clone(),
                            args: args.to_vec(),
                        },
                        span,
                    ),
                    env,
                ) {
                    return Err(err(
                        codes::NOT_SCALAR,
                        format!("'{fname}' returns a table; it cannot be used as a value"),
                        span,
                    ));
                }
                let mut d = err(
                    codes::UNKNOWN_FUNCTION,
                    format!("unknown function '{fname}'"),
                    name.span,
                );
                if let Some(s) = suggest(fname, KNOWN_FUNCTION_HINTS.iter().copied()) {
                    d = d.with_help(s);
                }
                Err(d)
            }
        }
    }
}

/// Common function names used for "did you mean" suggestions.
const KNOWN_FUNCTION_HINTS: &[&str] = &[
    "ago",
    "tostring",
    "count",
    "isnotempty",
    "make_set",
    "parse_json",
    "arg_max",
    "max",
    "min",
    "dcount",
    "now",
    "strcat",
    "bin",
    "tolower",
    "toupper",
    "iff",
    "split",
    "extract",
    "todynamic",
    "array_length",
    "case",
    "isempty",
    "pack_array",
    "make_list",
    "toscalar",
    "countif",
    "datetime_diff",
    "todatetime",
    "take_any",
    "arg_min",
    "coalesce",
    "parse_url",
    "toint",
    "tolong",
    "replace_string",
    "startofday",
    "ipv4_is_private",
    "sum",
    "avg",
    "set_has_element",
    "isnotnull",
    "isnull",
    "substring",
    "make_bag",
    "dcountif",
    "extract_all",
    "format_datetime",
    "strlen",
    "trim",
    "base64_decode_tostring",
    "bag_pack",
    "indexof",
    "parse_command_line",
    "round",
    "floor",
    "abs",
    "hash_sha256",
    "sumif",
];

enum Side {
    Left,
    Right,
}

fn side_column(e: &Expr) -> Option<(Side, ast::Ident)> {
    match &e.kind {
        ExprKind::Member { expr, name } => match &expr.kind {
            ExprKind::Name(id) if id.name == "$left" => Some((Side::Left, name.clone())),
            ExprKind::Name(id) if id.name == "$right" => Some((Side::Right, name.clone())),
            _ => None,
        },
        ExprKind::Paren(inner) => side_column(inner),
        _ => None,
    }
}

fn flatten_and<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Binary {
            op: ast::BinaryOp::And,
            left,
            right,
        } => {
            flatten_and(left, out);
            flatten_and(right, out);
        }
        ExprKind::Paren(inner) => flatten_and(inner, out),
        _ => out.push(e),
    }
}

/// Output columns of a join: left columns, then right columns (renamed on collision
/// with a numeric suffix), per kind.
fn join_schema(
    left: &[Field],
    right: &[Field],
    kind: JoinKind,
    on: &[(usize, usize)],
    lookup: bool,
) -> Vec<Field> {
    match kind {
        JoinKind::LeftSemi | JoinKind::LeftAnti => return left.to_vec(),
        JoinKind::RightSemi | JoinKind::RightAnti => return right.to_vec(),
        _ => {}
    }
    let mut fields: Vec<Field> = left.to_vec();
    for (i, f) in right.iter().enumerate() {
        if lookup && on.iter().any(|(_, r)| *r == i) {
            continue;
        }
        let taken: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
        fields.push(Field::new(unique_name(&f.name, &taken), f.ty));
    }
    fields
}

/// Projects the columns at `indices` (in that order).
fn select(input: Rel, indices: &[usize], span: Span) -> Rel {
    let fields: Vec<Field> = indices
        .iter()
        .filter_map(|&i| input.schema.get(i).cloned())
        .collect();
    let exprs = fields
        .iter()
        .map(|f| ScalarExpr::column(&f.name, f.ty, span))
        .collect();
    Rel {
        kind: RelKind::Project {
            input: Box::new(input),
            exprs,
        },
        schema: schema(fields),
        span,
    }
}

/// Renames columns positionally (same count and order).
fn rename(input: Rel, fields: Vec<Field>, span: Span) -> Rel {
    let exprs = input
        .schema
        .iter()
        .map(|f| ScalarExpr::column(&f.name, f.ty, span))
        .collect();
    Rel {
        kind: RelKind::Project {
            input: Box::new(input),
            exprs,
        },
        schema: schema(fields),
        span,
    }
}

/// Adds or replaces (in place) one column.
fn extend_one(input: Rel, name: &str, e: ScalarExpr, span: Span) -> Rel {
    let mut fields: Vec<Field> = Vec::new();
    let mut exprs = Vec::new();
    let mut replaced = false;
    let mut e = Some(e);
    for f in input.schema.iter() {
        if f.name == name {
            if let Some(v) = e.take() {
                fields.push(Field::new(name, v.ty));
                exprs.push(v);
                replaced = true;
            }
        } else {
            fields.push(f.clone());
            exprs.push(ScalarExpr::column(&f.name, f.ty, span));
        }
    }
    if !replaced && let Some(v) = e.take() {
        fields.push(Field::new(name, v.ty));
        exprs.push(v);
    }
    Rel {
        kind: RelKind::Project {
            input: Box::new(input),
            exprs,
        },
        schema: schema(fields),
        span,
    }
}

/// Removes the hidden helper columns (window results) from the output.
fn drop_hidden(input: Rel, span: Span) -> Rel {
    if !input.schema.iter().any(|f| f.name.starts_with("__kql_h")) {
        return input;
    }
    let keep: Vec<usize> = (0..input.schema.len())
        .filter(|&i| !input.schema[i].name.starts_with("__kql_h"))
        .collect();
    select(input, &keep, span)
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Rewrites bare string terms of a `search` predicate into column matches.
fn rewrite_search(e: &Expr, columns: &[String], case_sensitive: bool) -> Expr {
    match &e.kind {
        ExprKind::Binary {
            op: op @ (ast::BinaryOp::And | ast::BinaryOp::Or),
            left,
            right,
        } => Expr::new(
            ExprKind::Binary {
                op: *op,
                left: Box::new(rewrite_search(left, columns, case_sensitive)),
                right: Box::new(rewrite_search(right, columns, case_sensitive)),
            },
            e.span,
        ),
        ExprKind::Paren(inner) => Expr::new(
            ExprKind::Paren(Box::new(rewrite_search(inner, columns, case_sensitive))),
            e.span,
        ),
        ExprKind::Call { name, args } if name.name == "not" => Expr::new(
            ExprKind::Call {
                name: name.clone(),
                args: args
                    .iter()
                    .map(|a| rewrite_search(a, columns, case_sensitive))
                    .collect(),
            },
            e.span,
        ),
        ExprKind::Literal(Literal::String(term)) => {
            let (kind, needle) =
                match (term.starts_with('*'), term.ends_with('*') && term.len() > 1) {
                    (true, true) => (ast::StringOpKind::Contains, term.trim_matches('*')),
                    (false, true) => (ast::StringOpKind::HasPrefix, term.trim_end_matches('*')),
                    (true, false) => (ast::StringOpKind::HasSuffix, term.trim_start_matches('*')),
                    (false, false) => (ast::StringOpKind::Has, term.as_str()),
                };
            let op = ast::BinaryOp::Str(ast::StringOp {
                kind,
                negated: false,
                case_sensitive,
            });
            let mut acc: Option<Expr> = None;
            for c in columns {
                let m = Expr::new(
                    ExprKind::Binary {
                        op,
                        left: Box::new(Expr::new(
                            ExprKind::Name(ast::Ident {
                                name: c.clone(),
                                span: e.span,
                            }),
                            e.span,
                        )),
                        right: Box::new(Expr::new(
                            ExprKind::Literal(Literal::String(needle.to_string())),
                            e.span,
                        )),
                    },
                    e.span,
                );
                acc = Some(match acc {
                    None => m,
                    Some(prev) => Expr::new(
                        ExprKind::Binary {
                            op: ast::BinaryOp::Or,
                            left: Box::new(prev),
                            right: Box::new(m),
                        },
                        e.span,
                    ),
                });
            }
            acc.unwrap_or_else(|| Expr::new(ExprKind::Literal(Literal::Bool(Some(false))), e.span))
        }
        _ => e.clone(),
    }
}

/// Names KQL reserves: they cannot name a column without brackets (`['first']`).
/// The list is Kusto.Language's (checked name by name against the reference binder).
const RESERVED_NAMES: &[&str] = &[
    "first",
    "last",
    "where",
    "true",
    "false",
    "asc",
    "desc",
    "has",
    "contains",
    "and",
    "or",
    "to",
    "missing",
    "by",
    "of",
    "in",
    "kind",
    "title",
    "between",
    "set",
    "dynamic",
    "int",
    "long",
    "real",
    "string",
    "datetime",
    "timespan",
    "decimal",
    "int32",
    "int64",
    "uint8",
    "float",
    "double",
    "date",
    "time",
    "boolean",
    "project",
    "union",
    "as",
    "like",
    "withsource",
    "with_source",
    "materialize",
    "toscalar",
    "find",
    "search",
    "invoke",
    "sample",
    "with_itemindex",
    "isfuzzy",
    "bagexpansion",
    "decodeblocks",
    "datatable",
    "externaldata",
    "external_data",
    "contains_cs",
    "has_cs",
    "hasprefix",
    "hassuffix",
    "hasprefix_cs",
    "hassuffix_cs",
    "has_all",
    "has_any",
    "startswith",
    "endswith",
    "startswith_cs",
    "endswith_cs",
    "notcontains",
    "notlike",
];

/// Every name an expression mentions.
fn collect_names(e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Name(id) => out.push(id.name.clone()),
        ExprKind::Call { args, .. } => args.iter().for_each(|a| collect_names(a, out)),
        ExprKind::Binary { left, right, .. } => {
            collect_names(left, out);
            collect_names(right, out);
        }
        ExprKind::Paren(inner) => collect_names(inner, out),
        ExprKind::Member { expr, .. } => collect_names(expr, out),
        ExprKind::Index { expr, index } => {
            collect_names(expr, out);
            collect_names(index, out);
        }
        _ => {}
    }
}

fn dynamic_not_allowed(span: Span, what: &str) -> Diagnostic {
    err(
        codes::TYPE_MISMATCH,
        format!("a dynamic value cannot be {what}; convert it first (tostring(), tolong(), ...)"),
        span,
    )
}

fn no_dynamic_sort_keys(keys: &[SortKey]) -> Result<(), Diagnostic> {
    match keys.iter().find(|k| k.expr.ty == KqlType::Dynamic) {
        Some(k) => Err(dynamic_not_allowed(k.expr.span, "a sort key")),
        None => Ok(()),
    }
}

fn check_assignable(names: &[ast::Ident]) -> Result<(), Diagnostic> {
    for n in names {
        // `['time']` is written with brackets: its span is longer than the name.
        let bracketed = n.span.end.saturating_sub(n.span.start) != n.name.len();
        if !bracketed && RESERVED_NAMES.contains(&n.name.as_str()) {
            return Err(err(
                codes::UNEXPECTED_TOKEN,
                format!(
                    "'{}' is a keyword; write ['{}'] to use it as a column name",
                    n.name, n.name
                ),
                n.span,
            ));
        }
    }
    Ok(())
}

/// Is the row order of `rel` defined (after `sort`, `top`, `range`, `serialize`, and the
/// row-preserving operators that follow them)?
fn is_serialized(rel: &Rel) -> bool {
    match &rel.kind {
        RelKind::Sort { .. } | RelKind::Range { .. } | RelKind::Window { .. } => true,
        RelKind::Filter { input, .. }
        | RelKind::Project { input, .. }
        | RelKind::Limit { input, .. }
        | RelKind::MvExpand { input, .. } => is_serialized(input),
        RelKind::Values { rows } => rows.len() <= 1,
        _ => false,
    }
}

fn require_serialized(rel: &Rel, span: Span) -> Result<(), Diagnostic> {
    if is_serialized(rel) {
        Ok(())
    } else {
        Err(err(
            codes::AGGREGATE_CONTEXT,
            "row_number(), prev(), next() and row_cumsum() need serialized rows: add 'serialize' or 'sort' first",
            span,
        ))
    }
}
