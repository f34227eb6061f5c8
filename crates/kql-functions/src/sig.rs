//! Argument checking shared by the function families: arity and parameter kinds, with
//! the error codes the binder reports (`WRONG_ARG_COUNT`, `TYPE_MISMATCH`, `BAD_ARGUMENT`).
//!
//! The accepted types mirror Kusto's binder (checked against Microsoft's Kusto.Language):
//! string parameters accept string or dynamic, numeric parameters int/long/real/decimal,
//! datetime/timespan/bool parameters only their type; some functions take any value and
//! convert it (`tolower(123)`), which their signatures say with `P::Any`.

use kql_syntax::{KqlType, codes};

use crate::{ArgType, Const, FnError};

/// What a parameter accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum P {
    /// Anything.
    Any,
    /// Any scalar type (not dynamic).
    Scalar,
    /// string or dynamic.
    Str,
    /// int, long, real, decimal or dynamic.
    Num,
    /// int or long (or dynamic).
    Int,
    /// bool (or dynamic).
    Bool,
    /// datetime (or dynamic).
    DateTime,
    /// timespan (or dynamic).
    TimeSpan,
    /// dynamic only.
    Dyn,
    /// number, datetime or timespan (`bin`, `floor`, `min_of`, ...).
    Orderable,
}

impl P {
    pub(crate) fn accepts(self, t: KqlType) -> bool {
        use KqlType as K;
        match self {
            P::Any => true,
            P::Scalar => t != K::Dynamic,
            P::Str => matches!(t, K::String | K::Dynamic),
            P::Num => t.is_numeric(),
            P::Int => t.is_integer(),
            P::Bool => t == K::Bool,
            P::DateTime => t == K::DateTime,
            P::TimeSpan => t == K::TimeSpan,
            P::Dyn => t == K::Dynamic,
            P::Orderable => t.is_numeric() || matches!(t, K::DateTime | K::TimeSpan),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            P::Any => "any",
            P::Scalar => "a scalar (not dynamic)",
            P::Str => "string",
            P::Num => "a number",
            P::Int => "an integer",
            P::Bool => "bool",
            P::DateTime => "datetime",
            P::TimeSpan => "timespan",
            P::Dyn => "dynamic",
            P::Orderable => "a number, datetime or timespan",
        }
    }
}

fn ordinal(i: usize) -> String {
    let n = i + 1;
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

pub(crate) fn arity_error(name: &str, min: usize, max: Option<usize>, got: usize) -> FnError {
    let expected = match max {
        Some(m) if m == min => format!("{min} argument{}", if min == 1 { "" } else { "s" }),
        Some(m) => format!("{min} to {m} arguments"),
        None => format!("at least {min} argument{}", if min == 1 { "" } else { "s" }),
    };
    FnError::new(
        codes::WRONG_ARG_COUNT,
        format!("function '{name}' expects {expected}, got {got}"),
    )
}

pub(crate) fn type_error(name: &str, i: usize, want: &str, got: KqlType) -> FnError {
    FnError::new(
        codes::TYPE_MISMATCH,
        format!(
            "function '{name}' expects its {} argument to be {want}, got {got}",
            ordinal(i)
        ),
    )
    .at(i)
}

pub(crate) fn bad_arg(name: &str, i: usize, msg: impl std::fmt::Display) -> FnError {
    FnError::new(
        codes::BAD_ARGUMENT,
        format!("function '{name}', {} argument: {msg}", ordinal(i)),
    )
    .at(i)
}

/// Checks `args` against fixed parameters, the first `min` required.
pub(crate) fn check(name: &str, args: &[ArgType], min: usize, params: &[P]) -> Result<(), FnError> {
    if args.len() < min || args.len() > params.len() {
        return Err(arity_error(name, min, Some(params.len()), args.len()));
    }
    for (i, (a, p)) in args.iter().zip(params.iter()).enumerate() {
        if !p.accepts(a.ty) {
            return Err(type_error(name, i, p.describe(), a.ty));
        }
    }
    Ok(())
}

/// Checks a variadic function: at least `min` (at most `max`) arguments, all of kind `p`.
pub(crate) fn check_variadic(
    name: &str,
    args: &[ArgType],
    min: usize,
    max: Option<usize>,
    p: P,
) -> Result<(), FnError> {
    if args.len() < min || max.is_some_and(|m| args.len() > m) {
        return Err(arity_error(name, min, max, args.len()));
    }
    for (i, a) in args.iter().enumerate() {
        if !p.accepts(a.ty) {
            return Err(type_error(name, i, p.describe(), a.ty));
        }
    }
    Ok(())
}

/// The constant string value of argument `i` when known.
pub(crate) fn const_str(args: &[ArgType], i: usize) -> Option<&str> {
    match args.get(i).and_then(|a| a.constant.as_ref()) {
        Some(Const::String(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// The `typeof(T)` of argument `i` when given.
pub(crate) fn const_type(args: &[ArgType], i: usize) -> Option<KqlType> {
    match args.get(i).and_then(|a| a.constant.as_ref()) {
        Some(Const::Type(t)) => Some(*t),
        _ => None,
    }
}

/// The common type of branch values (`iff`, `case`): dynamic branches (and `dynamic(null)`)
/// adopt the other branches' type; equal types stay; numbers widen
/// (int < long < real < decimal); anything else mixes to dynamic. Mirrors Kusto's binder.
/// Kusto does not unify whole numbers with reals in `iff`/`case`/`coalesce` values
/// (`iff(c, 1, 2.0)` is an error; `int` with `long` is fine).
pub(crate) fn no_integer_real_mix(name: &str, types: &[KqlType]) -> Result<(), FnError> {
    let integer = types
        .iter()
        .any(|t| matches!(t, KqlType::Int | KqlType::Long));
    let real = types
        .iter()
        .any(|t| matches!(t, KqlType::Real | KqlType::Decimal));
    if integer && real {
        return Err(FnError::new(
            codes::TYPE_MISMATCH,
            format!(
                "function '{name}' needs values of one type: got whole numbers and reals (convert with toreal() or tolong())"
            ),
        ));
    }
    Ok(())
}

pub(crate) fn branch_type(types: &[KqlType]) -> KqlType {
    let mut out: Option<KqlType> = None;
    for &t in types {
        if t == KqlType::Dynamic {
            continue;
        }
        out = Some(match out {
            None => t,
            Some(o) => unify(o, t),
        });
    }
    out.unwrap_or(KqlType::Dynamic)
}

/// Strict common type (`coalesce`): equal types, or numbers widened; `None` otherwise.
pub(crate) fn strict_common_type(types: &[KqlType]) -> Option<KqlType> {
    let mut out: Option<KqlType> = None;
    for &t in types {
        out = Some(match out {
            None => t,
            Some(o) if o == t => o,
            Some(o) if o.is_numeric() && t.is_numeric() => unify(o, t),
            Some(_) => return None,
        });
    }
    out
}

pub(crate) fn unify(a: KqlType, b: KqlType) -> KqlType {
    use KqlType as K;
    if a == b {
        return a;
    }
    if a.is_numeric() && b.is_numeric() {
        let rank = |t: KqlType| match t {
            K::Int => 0,
            K::Long => 1,
            K::Real => 2,
            _ => 3,
        };
        return if rank(a) >= rank(b) { a } else { b };
    }
    K::Dynamic
}
