//! Scalar functions, grouped by family. Each family module exposes `NAMES`,
//! `return_type(name, args)` and `lower(ctx, name, args, ret)`.

use std::collections::HashMap;
use std::sync::LazyLock;

use datafusion::logical_expr::Expr;
use kql_syntax::KqlType;

use crate::{ArgType, FnError, LowerContext, TypedExpr};

pub(crate) mod datetime;
pub(crate) mod dynamic;
pub(crate) mod encoding;
pub(crate) mod ip;
pub(crate) mod logic;
pub(crate) mod math;
pub(crate) mod string;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    String,
    DateTime,
    Dynamic,
    Math,
    Logic,
    Encoding,
    Ip,
}

static TABLE: LazyLock<HashMap<&'static str, Family>> = LazyLock::new(|| {
    let mut m = HashMap::new();
    let fams: [(&[&'static str], Family); 7] = [
        (string::NAMES, Family::String),
        (datetime::NAMES, Family::DateTime),
        (dynamic::NAMES, Family::Dynamic),
        (math::NAMES, Family::Math),
        (logic::NAMES, Family::Logic),
        (encoding::NAMES, Family::Encoding),
        (ip::NAMES, Family::Ip),
    ];
    for (names, f) in fams {
        for n in names {
            m.insert(*n, f);
        }
    }
    m
});

/// The family implementing scalar function `name`, if any.
pub(crate) fn family(name: &str) -> Option<Family> {
    TABLE.get(name).copied()
}

/// All implemented scalar function names.
pub(crate) fn implemented() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = TABLE.keys().copied().collect();
    v.sort_unstable();
    v
}

pub(crate) fn return_type(f: Family, name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    match f {
        Family::String => string::return_type(name, args),
        Family::DateTime => datetime::return_type(name, args),
        Family::Dynamic => dynamic::return_type(name, args),
        Family::Math => math::return_type(name, args),
        Family::Logic => logic::return_type(name, args),
        Family::Encoding => encoding::return_type(name, args),
        Family::Ip => ip::return_type(name, args),
    }
}

pub(crate) fn lower(
    f: Family,
    ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    ret: KqlType,
) -> Result<Expr, FnError> {
    match f {
        Family::String => string::lower(ctx, name, args, ret),
        Family::DateTime => datetime::lower(ctx, name, args, ret),
        Family::Dynamic => dynamic::lower(ctx, name, args, ret),
        Family::Math => math::lower(ctx, name, args, ret),
        Family::Logic => logic::lower(ctx, name, args, ret),
        Family::Encoding => encoding::lower(ctx, name, args, ret),
        Family::Ip => ip::lower(ctx, name, args, ret),
    }
}
