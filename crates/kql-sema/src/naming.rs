//! KQL's automatic column names (`count_`, `sum_X`, `Column1`, `print_0`, `X_Y` ...).

use kql_syntax::ast::{Expr, ExprKind, Literal};

/// Functions whose result takes the name of their first argument (as Kusto's binder
/// names them: `tostring(X)` → `X`, `bin(Timestamp, 1h)` → `Timestamp`).
const NAME_FROM_FIRST_ARG: &[&str] = &[
    "tostring",
    "toint",
    "tolong",
    "toreal",
    "todouble",
    "todecimal",
    "tobool",
    "toboolean",
    "todatetime",
    "totimespan",
    "toguid",
    "todynamic",
    "toobject",
    "parse_json",
    "parse_xml",
    "bin",
    "bin_at",
    "floor",
    "ceiling",
    "round",
    "abs",
    "sqrt",
    "log",
    "log10",
    "log2",
    "exp",
    "exp2",
    "exp10",
    "pow",
    "startofday",
    "format_datetime",
    "split",
    "tohex",
    "array_sort_asc",
    "array_sort_desc",
    "trim",
    "trim_start",
    "trim_end",
    "binary_and",
    "binary_or",
    "binary_xor",
    "binary_not",
    "binary_shift_left",
    "binary_shift_right",
    "bitset_count_ones",
];

/// Functions named `<prefix>_<first argument>` (`strlen(X)` → `strlen_X`).
const PREFIXED: &[(&str, &str)] = &[
    ("strlen", "strlen"),
    ("gettype", "type"),
    ("dcount_hll", "dcount_hll"),
];

/// The name KQL gives to a column computed by `expr` when none is written, or `None`
/// when KQL falls back to `ColumnN` / `print_N`.
pub fn expr_name(expr: &Expr) -> Option<String> {
    expr_name_in(expr, &|_| true)
}

/// Like [`expr_name`], where a bare name only names the column if `is_column` says it is
/// one (a `let` variable does not lend its name: `print x` → `print_0`).
pub fn expr_name_in(expr: &Expr, is_column: &dyn Fn(&str) -> bool) -> Option<String> {
    match &expr.kind {
        ExprKind::Name(id) => is_column(&id.name).then(|| id.name.clone()),
        ExprKind::Paren(inner) => expr_name_in(inner, is_column),
        ExprKind::NamedArg { name, .. } => Some(name.name.clone()),
        // Paths join with `_`: `d.a.b` → `d_a_b`, `parse_json(s)["k"]` → `s_k`, `d.b[0]` → `d_b_0`.
        ExprKind::Member { expr, name } => {
            Some(format!("{}_{}", expr_name_in(expr, is_column)?, name.name))
        }
        ExprKind::Index { expr, index } => {
            let key = match &index.kind {
                ExprKind::Literal(Literal::String(s)) => s.clone(),
                ExprKind::Literal(Literal::Long(Some(i))) => i.to_string(),
                ExprKind::Literal(Literal::Int(Some(i))) => i.to_string(),
                _ => return None,
            };
            Some(format!("{}_{key}", expr_name_in(expr, is_column)?))
        }
        ExprKind::Call { name, args } if NAME_FROM_FIRST_ARG.contains(&name.name.as_str()) => {
            args.first().and_then(|a| expr_name_in(a, is_column))
        }
        ExprKind::Call { name, args } => {
            let (_, prefix) = PREFIXED.iter().find(|(f, _)| *f == name.name)?;
            args.first()
                .and_then(|a| expr_name_in(a, is_column))
                .map(|a| format!("{prefix}_{a}"))
        }
        _ => None,
    }
}

/// Name of an aggregate written without a name: `count()` → `count_`, `sum(X)` → `sum_X`,
/// `make_set(X)` → `set_X`, `dcountif(X, p)` → `dcountif_X`.
pub fn aggregate_name(func: &str, args: &[Expr]) -> String {
    let prefix = match func {
        "make_set" | "makeset" => "set",
        "make_set_if" => "set",
        "make_list" | "makelist" => "list",
        "make_list_if" => "list",
        "make_list_with_nulls" => "list",
        "make_bag" | "make_bag_if" => "bag",
        "any" => "any",
        "take_anyif" | "anyif" => "anyif",
        "arg_max" | "argmax" => "max",
        "arg_min" | "argmin" => "min",
        other => other,
    };
    let arg = args.first().and_then(expr_name);
    match (func, arg) {
        ("percentile", Some(a)) => {
            let p = args
                .get(1)
                .map(literal_text)
                .unwrap_or_default()
                .replace('.', "_");
            format!("percentile_{a}_{p}")
        }
        ("count", _) => format!("{prefix}_"),
        ("take_any", Some(a)) => a,
        (_, Some(a)) => format!("{prefix}_{a}"),
        (_, None) => format!("{prefix}_"),
    }
}

fn literal_text(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Literal(Literal::Long(Some(v))) => v.to_string(),
        ExprKind::Literal(Literal::Int(Some(v))) => v.to_string(),
        ExprKind::Literal(Literal::Real(Some(v))) => v.to_string(),
        _ => String::new(),
    }
}

/// Makes `name` unique among `taken` the way KQL does (`x`, `x1`, `x2`, ...).
pub fn unique_name(name: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == name) {
        return name.to_string();
    }
    let mut i = 1;
    loop {
        let candidate = format!("{name}{i}");
        if !taken.contains(&candidate) {
            return candidate;
        }
        i += 1;
    }
}

/// The `mv-expand` name of a path: `d.a.b` → `d_a_b`, `d['z']` → `d_z`.
pub fn path_name(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Name(id) => Some(id.name.clone()),
        ExprKind::Paren(inner) => path_name(inner),
        ExprKind::Member { expr, name } => Some(format!("{}_{}", path_name(expr)?, name.name)),
        ExprKind::Index { expr, index } => match &index.kind {
            ExprKind::Literal(Literal::String(s)) => Some(format!("{}_{s}", path_name(expr)?)),
            _ => None,
        },
        _ => expr_name(expr),
    }
}

/// The name of an unnamed `summarize` output: aggregates by [`aggregate_name`], and
/// name-passing wrappers around them (`tostring(make_set(x))` → `set_x`,
/// `round(avg(a), 2)` → `avg_a`).
pub fn summarize_name(
    expr: &Expr,
    is_aggregate: &dyn Fn(&str) -> bool,
    is_column: &dyn Fn(&str) -> bool,
) -> Option<String> {
    match &expr.kind {
        ExprKind::Paren(inner) => summarize_name(inner, is_aggregate, is_column),
        ExprKind::NamedArg { name, .. } => Some(name.name.clone()),
        ExprKind::Call { name, args } if is_aggregate(&name.name) => {
            Some(aggregate_name(&name.name, args))
        }
        ExprKind::Call { name, args } if NAME_FROM_FIRST_ARG.contains(&name.name.as_str()) => args
            .first()
            .and_then(|a| summarize_name(a, is_aggregate, is_column)),
        _ => expr_name_in(expr, is_column),
    }
}
