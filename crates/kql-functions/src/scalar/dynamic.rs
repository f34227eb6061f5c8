//! Dynamic (JSON) functions: `parse_json`, arrays (`array_length`, `array_concat`,
//! `array_slice`, `array_index_of`, `array_sort_*`, `array_reverse`, `array_sum`,
//! `array_iff`, `array_shift_*`, `array_rotate_*`), sets (`set_has_element`, `set_union`,
//! `set_intersect`, `set_difference`), bags (`pack`/`bag_pack`, `bag_keys`, `bag_merge`,
//! `bag_remove_keys`, `bag_has_key`, `bag_set_key`, `bag_zip`), `pack_array`, `zip`,
//! `strcat_array`, `extract_json`, `dynamic_to_json`, `repeat`, `range`, and the kernels
//! behind member/index access, `in` over dynamic arrays and `has_any`.

use std::borrow::Cow;
use std::collections::HashSet;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use kql_syntax::KqlType;
use serde_json::{Map, Value};

use crate::convert::{self, to_dynamic_value, typed_to};
use crate::json::{self, compare, equals, parse, set_key, to_text};
use crate::sig::{self, P, check, check_variadic};
use crate::strops::{self, Match};
use crate::udf::{Args, StrArg, build_bool, build_bool_nn, build_f64, build_i64, build_str, call};
use crate::{ArgType, FnError, LowerContext, TypedExpr};

use KqlType as K;

pub(crate) const NAMES: &[&str] = &[
    "parse_json",
    "parsejson",
    "todynamic",
    "array_length",
    "array_concat",
    "array_slice",
    "array_index_of",
    "array_sort_asc",
    "array_sort_desc",
    "array_reverse",
    "array_sum",
    "array_iff",
    "array_iif",
    "array_shift_left",
    "array_shift_right",
    "array_rotate_left",
    "array_rotate_right",
    "set_has_element",
    "set_union",
    "set_intersect",
    "set_difference",
    "pack",
    "bag_pack",
    "pack_dictionary",
    "pack_array",
    "bag_keys",
    "bag_merge",
    "bag_remove_keys",
    "bag_has_key",
    "bag_set_key",
    "bag_zip",
    "zip",
    "strcat_array",
    "array_strcat",
    "extract_json",
    "extractjson",
    "dynamic_to_json",
    "repeat",
    "range",
    "jaccard_index",
];

pub(crate) fn return_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    Ok(match name {
        "parse_json" | "parsejson" | "todynamic" => {
            check(name, args, 1, &[P::Str])?;
            K::Dynamic
        }
        "array_length" => {
            check(name, args, 1, &[P::Dyn])?;
            K::Long
        }
        "array_concat" | "set_union" | "set_intersect" | "set_difference" => {
            check_variadic(
                name,
                args,
                if name == "array_concat" { 1 } else { 2 },
                None,
                P::Dyn,
            )?;
            K::Dynamic
        }
        "array_slice" => {
            check(name, args, 3, &[P::Dyn, P::Int, P::Int])?;
            K::Dynamic
        }
        "array_index_of" => {
            check(name, args, 2, &[P::Dyn, P::Any, P::Int, P::Int, P::Int])?;
            K::Long
        }
        "array_sort_asc" | "array_sort_desc" => {
            if args.len() == 2 && args.get(1).is_some_and(|a| a.ty == K::Dynamic) {
                return Err(FnError::unsupported(format!(
                    "{name}() over several arrays"
                )));
            }
            check(name, args, 1, &[P::Dyn, P::Bool])?;
            K::Dynamic
        }
        "array_reverse" => {
            check(name, args, 1, &[P::Dyn])?;
            K::Dynamic
        }
        "array_sum" => {
            check(name, args, 1, &[P::Dyn])?;
            K::Real
        }
        "array_iff" | "array_iif" => {
            check(name, args, 3, &[P::Dyn, P::Any, P::Any])?;
            K::Dynamic
        }
        "array_shift_left" | "array_shift_right" => {
            check(name, args, 2, &[P::Dyn, P::Int, P::Any])?;
            K::Dynamic
        }
        "array_rotate_left" | "array_rotate_right" => {
            check(name, args, 2, &[P::Dyn, P::Int])?;
            K::Dynamic
        }
        "set_has_element" => {
            check(name, args, 2, &[P::Dyn, P::Any])?;
            K::Bool
        }
        "pack" | "bag_pack" | "pack_dictionary" => {
            if args.is_empty() || !args.len().is_multiple_of(2) {
                return Err(FnError::new(
                    kql_syntax::codes::WRONG_ARG_COUNT,
                    format!(
                        "function '{name}' expects an even number of arguments (key, value pairs), got {}",
                        args.len()
                    ),
                ));
            }
            for (i, a) in args.iter().enumerate().step_by(2) {
                if !P::Str.accepts(a.ty) {
                    return Err(sig::type_error(name, i, "a string key", a.ty));
                }
            }
            K::Dynamic
        }
        "pack_array" => {
            check_variadic(name, args, 1, None, P::Any)?;
            K::Dynamic
        }
        "bag_keys" => {
            check(name, args, 1, &[P::Dyn])?;
            K::Dynamic
        }
        "bag_merge" => {
            check_variadic(name, args, 2, None, P::Dyn)?;
            K::Dynamic
        }
        "bag_remove_keys" => {
            check(name, args, 2, &[P::Dyn, P::Dyn])?;
            K::Dynamic
        }
        "bag_has_key" => {
            check(name, args, 2, &[P::Dyn, P::Str])?;
            K::Bool
        }
        "bag_set_key" => {
            check(name, args, 3, &[P::Dyn, P::Str, P::Any])?;
            K::Dynamic
        }
        "bag_zip" => {
            check(name, args, 2, &[P::Dyn, P::Dyn])?;
            K::Dynamic
        }
        "zip" => {
            check_variadic(name, args, 2, Some(16), P::Dyn)?;
            K::Dynamic
        }
        "strcat_array" | "array_strcat" => {
            check(name, args, 2, &[P::Dyn, P::Any])?;
            K::String
        }
        "extract_json" | "extractjson" => {
            check(name, args, 2, &[P::Str, P::Str, P::Any])?;
            if args.len() == 3 {
                sig::const_type(args, 2)
                    .ok_or_else(|| sig::bad_arg(name, 2, "expected typeof(T)"))?
            } else {
                K::String
            }
        }
        "dynamic_to_json" => {
            check(name, args, 1, &[P::Any])?;
            K::String
        }
        "repeat" => {
            check(name, args, 2, &[P::Any, P::Int])?;
            if args[0].ty == K::Dynamic {
                return Err(sig::bad_arg(
                    name,
                    0,
                    "expected a scalar value, got dynamic",
                ));
            }
            K::Dynamic
        }
        "jaccard_index" => {
            check(name, args, 2, &[P::Dyn, P::Dyn])?;
            K::Real
        }
        "range" => {
            check(name, args, 2, &[P::Orderable, P::Orderable, P::Orderable])?;
            K::Dynamic
        }
        _ => return Err(FnError::unsupported(format!("function {name}()"))),
    })
}

fn dynv(e: TypedExpr) -> (Expr, KqlType) {
    (to_dynamic_value(e), K::Dynamic)
}

fn as_ty(e: TypedExpr, t: KqlType) -> (Expr, KqlType) {
    (typed_to(e, t), t)
}

fn nth(args: &mut std::vec::IntoIter<TypedExpr>, name: &str) -> Result<TypedExpr, FnError> {
    args.next()
        .ok_or_else(|| sig::arity_error(name, 1, None, 0))
}

pub(crate) fn lower(
    _ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    ret: KqlType,
) -> Result<Expr, FnError> {
    let n = args.len();
    let mut it = args.into_iter();
    Ok(match name {
        "parse_json" | "parsejson" | "todynamic" => {
            let a = nth(&mut it, name)?;
            typed_to(a, K::Dynamic)
        }
        "array_length" => call(
            name_of(name),
            array_length_kernel,
            vec![dynv(nth(&mut it, name)?)],
            K::Long,
        ),
        "array_concat" => call(
            name_of(name),
            array_concat_kernel,
            it.map(dynv).collect(),
            K::Dynamic,
        ),
        "set_union" => call(
            name_of(name),
            set_op_kernel::<0>,
            it.map(dynv).collect(),
            K::Dynamic,
        ),
        "set_intersect" => call(
            name_of(name),
            set_op_kernel::<1>,
            it.map(dynv).collect(),
            K::Dynamic,
        ),
        "set_difference" => call(
            name_of(name),
            set_op_kernel::<2>,
            it.map(dynv).collect(),
            K::Dynamic,
        ),
        "array_slice" => {
            let a = dynv(nth(&mut it, name)?);
            let s = as_ty(nth(&mut it, name)?, K::Long);
            let e = as_ty(nth(&mut it, name)?, K::Long);
            call(name_of(name), array_slice_kernel, vec![a, s, e], K::Dynamic)
        }
        "array_index_of" => {
            let mut v = vec![dynv(nth(&mut it, name)?), dynv(nth(&mut it, name)?)];
            for x in it {
                v.push(as_ty(x, K::Long));
            }
            while v.len() < 5 {
                let default = if v.len() == 2 {
                    0
                } else if v.len() == 3 {
                    -1
                } else {
                    1
                };
                v.push((datafusion::logical_expr::lit(default as i64), K::Long));
            }
            call(name_of(name), array_index_of_kernel, v, K::Long)
        }
        "array_sort_asc" | "array_sort_desc" => {
            let a = dynv(nth(&mut it, name)?);
            let nulls_last = match it.next() {
                Some(x) => as_ty(x, K::Bool),
                None => (datafusion::logical_expr::lit(true), K::Bool),
            };
            let k: crate::udf::Kernel = if name == "array_sort_asc" {
                array_sort_kernel::<false>
            } else {
                array_sort_kernel::<true>
            };
            call(name_of(name), k, vec![a, nulls_last], K::Dynamic)
        }
        "array_reverse" => call(
            name_of(name),
            array_reverse_kernel,
            vec![dynv(nth(&mut it, name)?)],
            K::Dynamic,
        ),
        "array_sum" => call(
            name_of(name),
            array_sum_kernel,
            vec![dynv(nth(&mut it, name)?)],
            K::Real,
        ),
        "array_iff" | "array_iif" => call(
            "array_iff",
            array_iff_kernel,
            it.map(dynv).collect(),
            K::Dynamic,
        ),
        "array_shift_left" | "array_shift_right" | "array_rotate_left" | "array_rotate_right" => {
            let a = dynv(nth(&mut it, name)?);
            let k = as_ty(nth(&mut it, name)?, K::Long);
            let fill = match it.next() {
                Some(f) => dynv(f),
                None => (
                    datafusion::logical_expr::lit(datafusion::common::ScalarValue::Utf8(None)),
                    K::Dynamic,
                ),
            };
            let kern: crate::udf::Kernel = match name {
                "array_shift_left" => array_shift_kernel::<0>,
                "array_shift_right" => array_shift_kernel::<1>,
                "array_rotate_left" => array_shift_kernel::<2>,
                _ => array_shift_kernel::<3>,
            };
            call(name_of(name), kern, vec![a, k, fill], K::Dynamic)
        }
        "set_has_element" => call(
            name_of(name),
            set_has_element_kernel,
            it.map(dynv).collect(),
            K::Bool,
        ),
        "pack" | "bag_pack" | "pack_dictionary" => {
            let mut v = Vec::with_capacity(n);
            for (i, x) in it.enumerate() {
                if i % 2 == 0 {
                    v.push(as_ty(x, K::String));
                } else {
                    v.push(dynv(x));
                }
            }
            call("bag_pack", bag_pack_kernel, v, K::Dynamic)
        }
        "pack_array" => call(
            name_of(name),
            pack_array_kernel,
            it.map(dynv).collect(),
            K::Dynamic,
        ),
        "bag_keys" => call(
            name_of(name),
            bag_keys_kernel,
            vec![dynv(nth(&mut it, name)?)],
            K::Dynamic,
        ),
        "bag_merge" => call(
            name_of(name),
            bag_merge_kernel,
            it.map(dynv).collect(),
            K::Dynamic,
        ),
        "bag_remove_keys" => call(
            name_of(name),
            bag_remove_keys_kernel,
            it.map(dynv).collect(),
            K::Dynamic,
        ),
        "bag_has_key" => {
            let b = dynv(nth(&mut it, name)?);
            let k = as_ty(nth(&mut it, name)?, K::String);
            call(name_of(name), bag_has_key_kernel, vec![b, k], K::Bool)
        }
        "bag_set_key" => {
            let b = dynv(nth(&mut it, name)?);
            let k = as_ty(nth(&mut it, name)?, K::String);
            let v = dynv(nth(&mut it, name)?);
            call(name_of(name), bag_set_key_kernel, vec![b, k, v], K::Dynamic)
        }
        "bag_zip" => call(
            name_of(name),
            bag_zip_kernel,
            it.map(dynv).collect(),
            K::Dynamic,
        ),
        "zip" => call(
            name_of(name),
            zip_kernel,
            it.map(dynv).collect(),
            K::Dynamic,
        ),
        "strcat_array" | "array_strcat" => {
            let a = dynv(nth(&mut it, name)?);
            let d = as_ty(nth(&mut it, name)?, K::String);
            call("strcat_array", strcat_array_kernel, vec![a, d], K::String)
        }
        "extract_json" | "extractjson" => {
            let p = as_ty(nth(&mut it, name)?, K::String);
            let s = as_ty(nth(&mut it, name)?, K::String);
            let raw = call("extract_json", extract_json_kernel, vec![p, s], K::Dynamic);
            if ret == K::String {
                convert::to_type(raw, K::Dynamic, K::String)
            } else {
                convert::to_type(raw, K::Dynamic, ret)
            }
        }
        "dynamic_to_json" => call(
            name_of(name),
            dynamic_to_json_kernel,
            vec![dynv(nth(&mut it, name)?)],
            K::String,
        ),
        "repeat" => {
            let v = dynv(nth(&mut it, name)?);
            let c = as_ty(nth(&mut it, name)?, K::Long);
            call(name_of(name), repeat_kernel, vec![v, c], K::Dynamic)
        }
        "jaccard_index" => call(
            name_of(name),
            jaccard_kernel,
            it.map(dynv).collect(),
            K::Real,
        ),
        "range" => {
            let a: Vec<TypedExpr> = it.collect();
            lower_range(a)?
        }
        _ => return Err(FnError::unsupported(format!("function {name}()"))),
    })
}

fn name_of(name: &str) -> &'static str {
    NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("dynamic_function")
}

fn lower_range(a: Vec<TypedExpr>) -> Result<Expr, FnError> {
    let time = a.first().is_some_and(|x| x.ty == K::DateTime);
    let span = a.first().is_some_and(|x| x.ty == K::TimeSpan);
    let int = a.iter().all(|x| x.ty.is_integer());
    let has_step = a.len() > 2;
    let mut v: Vec<(Expr, KqlType)> = Vec::new();
    for (i, x) in a.into_iter().enumerate() {
        let t = if time {
            if i == 2 { K::TimeSpan } else { K::DateTime }
        } else if span {
            K::TimeSpan
        } else if int {
            K::Long
        } else {
            K::Real
        };
        v.push(as_ty(x, t));
    }
    if !has_step {
        if time {
            return Err(FnError::new(
                kql_syntax::codes::WRONG_ARG_COUNT,
                "function 'range' over datetimes needs a step",
            ));
        }
        let step: Expr = if int || span {
            if span {
                datafusion::logical_expr::lit(datafusion::common::ScalarValue::DurationNanosecond(
                    Some(crate::format::NANOS_PER_HOUR),
                ))
            } else {
                datafusion::logical_expr::lit(1i64)
            }
        } else {
            datafusion::logical_expr::lit(1.0f64)
        };
        v.push((
            step,
            if span {
                K::TimeSpan
            } else if int {
                K::Long
            } else {
                K::Real
            },
        ));
    }
    let k: crate::udf::Kernel = if time || span || int {
        range_kernel::<true>
    } else {
        range_kernel::<false>
    };
    let kind_tag = if time {
        1i64
    } else if span {
        2
    } else {
        0
    };
    v.push((datafusion::logical_expr::lit(kind_tag), K::Long));
    // normalise to i64 (time/span/long) or f64 arguments inside the kernel via AnyArg
    Ok(call("range", k, v, K::Dynamic))
}

// ---- helpers -----------------------------------------------------------------------

pub(crate) fn parse_at(s: &StrArg<'_>, i: usize) -> Option<Value> {
    s.opt(i).and_then(parse)
}

fn out(v: Option<Value>) -> Option<Cow<'static, str>> {
    match v {
        None | Some(Value::Null) => None,
        Some(v) => Some(Cow::Owned(to_text(&v))),
    }
}

fn as_array(v: Option<Value>) -> Option<Vec<Value>> {
    match v {
        Some(Value::Array(a)) => Some(a),
        _ => None,
    }
}

// ---- operator kernels --------------------------------------------------------------

/// `dynamic_path(source, steps)`: follows a JSON array of steps (strings are keys, numbers
/// are indexes, negative from the end). The source may also be the text given to
/// `parse_json`: text that is not JSON is a dynamic string, which has no members.
pub(crate) fn path_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let p = a.str(1)?;
    let fixed: Option<Vec<Value>> = if a.is_const(1) {
        as_array(parse_at(&p, 0))
    } else {
        None
    };
    Ok(build_str(a.rows, |i| {
        // A constant path into canonical text is read off the text (no tree is built).
        if let Some(steps) = &fixed {
            match json::raw_path(d.opt(i)?, steps) {
                Some(Some("null")) | None => return None,
                Some(Some(raw)) => return Some(Cow::Borrowed(raw)),
                Some(None) => {}
            }
        }
        let owned;
        let steps: &Vec<Value> = match &fixed {
            Some(f) => f,
            None => {
                owned = as_array(parse_at(&p, i))?;
                &owned
            }
        };
        let root = parse_at(&d, i)?;
        let mut cur = &root;
        for st in steps {
            cur = match st {
                Value::String(k) => json::member(cur, k)?,
                Value::Number(n) => json::index(cur, n.as_i64()?)?,
                _ => return None,
            };
        }
        out(Some(cur.clone()))
    }))
}

/// `d.key` / `d["key"]`.
pub(crate) fn member_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let k = a.str(1)?;
    Ok(build_str(a.rows, |i| {
        let v = parse_at(&d, i)?;
        json::member(&v, k.get(i)).and_then(|x| out(Some(x.clone())))
    }))
}

/// `d[i]` (negative from the end).
pub(crate) fn index_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let k = a.i64(1)?;
    Ok(build_str(a.rows, |i| {
        let v = parse_at(&d, i)?;
        json::index(&v, k.get(i)?).and_then(|x| out(Some(x.clone())))
    }))
}

/// `d[k]` with a dynamic key (number → index, string → member).
pub(crate) fn index_any_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let k = a.str(1)?;
    Ok(build_str(a.rows, |i| {
        let v = parse_at(&d, i)?;
        let key = parse_at(&k, i)?;
        let r = match &key {
            Value::String(s) => json::member(&v, s),
            Value::Number(n) => json::index(&v, n.as_i64()?),
            _ => None,
        };
        r.and_then(|x| out(Some(x.clone())))
    }))
}

/// Is the string `s` (arg 1) an element of the dynamic array (arg 0)? Elements compare
/// by their `tostring`; a non-array value compares as one element.
///
/// The array is usually the same for every row (a constant, or a `let` set computed by a
/// subquery and broadcast as a column): its parsed form is kept while the text repeats.
pub(crate) fn array_contains_kernel<const CI: bool>(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let s = a.str(1)?;
    let mut memo: Option<(String, HashSet<String>)> = None;
    let mut buf = String::new();
    Ok(build_bool(a.rows, |i| {
        let Some(raw) = d.opt(i) else {
            return Some(false);
        };
        if memo.as_ref().is_none_or(|(r, _)| r != raw) {
            let set = match parse(raw) {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter(|x| !x.is_null())
                    .map(|x| norm::<CI>(&json::dyn_to_string(x)))
                    .collect(),
                Some(Value::Null) | None => HashSet::new(),
                Some(other) => std::iter::once(norm::<CI>(&json::dyn_to_string(&other))).collect(),
            };
            memo = Some((raw.to_owned(), set));
        }
        let set = memo.as_ref().map(|(_, s)| s)?;
        let needle = if CI {
            strops::lower_into(s.get(i), &mut buf)
        } else {
            s.get(i)
        };
        Some(set.contains(needle))
    }))
}

fn norm<const CI: bool>(t: &str) -> String {
    if CI {
        strops::lower(t).into_owned()
    } else {
        t.to_owned()
    }
}

fn needles_of(v: Option<Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter(|x| !x.is_null())
            .map(|x| strops::lower(&json::dyn_to_string(x)).into_owned())
            .collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![strops::lower(&json::dyn_to_string(&other)).into_owned()],
    }
}

/// The parsed needles of `has_any`/`has_all`, searched in one pass by an ASCII-case-
/// insensitive Aho-Corasick automaton (ASCII values are not lower-cased; others are, and the
/// needles are lower-case already); each hit is then checked for term boundaries.
struct Needles {
    /// The distinct lower-case terms.
    terms: Vec<String>,
    /// Per term: must the match start / end on a term boundary?
    bounds: Vec<(bool, bool)>,
    ac: Option<aho_corasick::AhoCorasick>,
}

impl Needles {
    fn new(v: Option<Value>) -> Self {
        let mut terms = needles_of(v);
        let mut uniq = HashSet::new();
        terms.retain(|t| uniq.insert(t.clone()));
        let bounds = terms
            .iter()
            .map(|n| {
                (
                    n.chars().next().is_some_and(strops::is_term_char),
                    n.chars().next_back().is_some_and(strops::is_term_char),
                )
            })
            .collect();
        let ac = if terms.is_empty() {
            None
        } else {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&terms)
                .ok()
        };
        Needles { terms, bounds, ac }
    }

    fn test<const ALL: bool>(&self, raw: &str, buf: &mut String, seen: &mut Vec<bool>) -> bool {
        let Some(ac) = &self.ac else {
            return ALL;
        };
        let h = if raw.is_ascii() {
            raw
        } else {
            strops::lower_into(raw, buf)
        };
        if !ac.is_match(h) {
            return false;
        }
        let ok = |m: &aho_corasick::Match| {
            self.bounds
                .get(m.pattern().as_usize())
                .is_some_and(|&(s, e)| strops::on_boundaries(h, m.start(), m.end(), s, e))
        };
        if !ALL {
            return ac.find_overlapping_iter(h).any(|m| ok(&m));
        }
        seen.clear();
        seen.resize(self.bounds.len(), false);
        let mut left = self.bounds.len();
        for m in ac.find_overlapping_iter(h) {
            if ok(&m)
                && let Some(s) = seen.get_mut(m.pattern().as_usize())
                && !*s
            {
                *s = true;
                left -= 1;
                if left == 0 {
                    return true;
                }
            }
        }
        false
    }
}

/// `hay has_any (needles)` / `has_all`; needles is a dynamic array, usually the same for
/// every row (a constant, or a `let` set computed by a subquery and broadcast as a column):
/// its parsed form is kept while the text repeats.
pub(crate) fn has_any_kernel<const ALL: bool>(a: &Args) -> Result<ArrayRef> {
    let hay = a.str(0)?;
    let nd = a.str(1)?;
    let mut seen: Vec<bool> = Vec::new();
    let mut buf = String::new();
    if a.is_const(1) {
        let needles = Needles::new(nd.opt(0).and_then(parse));
        // A short list of ASCII terms over a column: search the whole batch at once.
        let terms = &needles.terms;
        let scan_needles: Vec<strops::ScanNeedle> = terms
            .iter()
            .filter_map(|t| strops::ScanNeedle::new(t, Match::Has))
            .collect();
        if let Some(col) = hay.column()
            && !terms.is_empty()
            && scan_needles.len() == terms.len()
            && terms.len() <= 16
        {
            let sc = strops::scan(col, &scan_needles);
            let full = (1u64 << terms.len()) - 1;
            return Ok(build_bool_nn(a.rows, |i| {
                if col.is_null(i)
                    || sc
                        .non_ascii
                        .as_ref()
                        .is_some_and(|v| v.get(i) == Some(&true))
                {
                    return needles.test::<ALL>(hay.get(i), &mut buf, &mut seen);
                }
                let m = sc.masks.get(i).copied().unwrap_or(0);
                if ALL { m == full } else { m != 0 }
            }));
        }
        return Ok(build_bool_nn(a.rows, |i| {
            needles.test::<ALL>(hay.get(i), &mut buf, &mut seen)
        }));
    }
    let mut memo: Option<(Option<String>, Needles)> = None;
    Ok(build_bool_nn(a.rows, |i| {
        let raw = nd.opt(i);
        if memo.as_ref().is_none_or(|(r, _)| r.as_deref() != raw) {
            memo = Some((raw.map(str::to_owned), Needles::new(raw.and_then(parse))));
        }
        memo.as_ref()
            .is_some_and(|(_, n)| n.test::<ALL>(hay.get(i), &mut buf, &mut seen))
    }))
}

/// `dynamic == dynamic` with KQL null semantics.
pub(crate) fn dyn_equals_kernel<const NEG: bool>(a: &Args) -> Result<ArrayRef> {
    let l = a.str(0)?;
    let r = a.str(1)?;
    Ok(build_bool(a.rows, |i| {
        let x = parse_at(&l, i).filter(|v| !v.is_null());
        let y = parse_at(&r, i).filter(|v| !v.is_null());
        match (x, y) {
            (None, None) => None,
            (Some(p), Some(q)) => Some(equals(&p, &q) != NEG),
            _ => Some(NEG),
        }
    }))
}

// ---- function kernels --------------------------------------------------------------

fn array_length_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    Ok(build_i64(a.rows, |i| match parse_at(&d, i)? {
        Value::Array(x) => Some(x.len() as i64),
        _ => None,
    }))
}

fn array_concat_kernel(a: &Args) -> Result<ArrayRef> {
    let cols: Vec<StrArg> = (0..a.len()).map(|k| a.str(k)).collect::<Result<_>>()?;
    Ok(build_str(a.rows, |i| {
        let mut outv = Vec::new();
        for c in &cols {
            outv.extend(as_array(parse_at(c, i))?);
        }
        out(Some(Value::Array(outv)))
    }))
}

fn set_op_kernel<const OP: u8>(a: &Args) -> Result<ArrayRef> {
    let cols: Vec<StrArg> = (0..a.len()).map(|k| a.str(k)).collect::<Result<_>>()?;
    Ok(build_str(a.rows, |i| {
        let mut arrays = Vec::with_capacity(cols.len());
        for c in &cols {
            arrays.push(as_array(parse_at(c, i))?);
        }
        let mut seen = HashSet::new();
        let mut result = Vec::new();
        match OP {
            0 => {
                for arr in &arrays {
                    for v in arr {
                        if seen.insert(set_key(v)) {
                            result.push(v.clone());
                        }
                    }
                }
            }
            _ => {
                let others: Vec<HashSet<String>> = arrays
                    .iter()
                    .skip(1)
                    .map(|arr| arr.iter().map(set_key).collect())
                    .collect();
                if let Some(first) = arrays.first() {
                    for v in first {
                        let k = set_key(v);
                        let keep = if OP == 1 {
                            others.iter().all(|o| o.contains(&k))
                        } else {
                            !others.iter().any(|o| o.contains(&k))
                        };
                        if keep && seen.insert(k) {
                            result.push(v.clone());
                        }
                    }
                }
            }
        }
        out(Some(Value::Array(result)))
    }))
}

/// Resolves a KQL slice/index bound (negative from the end).
fn norm_index(i: i64, len: i64) -> i64 {
    if i < 0 { len + i } else { i }
}

fn array_slice_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let s = a.i64(1)?;
    let e = a.i64(2)?;
    Ok(build_str(a.rows, |i| {
        let arr = as_array(parse_at(&d, i))?;
        let len = arr.len() as i64;
        let start = norm_index(s.get(i)?, len).max(0);
        let end = norm_index(e.get(i)?, len).min(len - 1);
        let slice: Vec<Value> = if start > end || start >= len {
            Vec::new()
        } else {
            arr.get(start as usize..=end as usize)
                .map(<[Value]>::to_vec)
                .unwrap_or_default()
        };
        out(Some(Value::Array(slice)))
    }))
}

fn array_index_of_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let v = a.str(1)?;
    let st = a.i64(2)?;
    let ln = a.i64(3)?;
    let oc = a.i64(4)?;
    Ok(build_i64(a.rows, |i| {
        let arr = as_array(parse_at(&d, i))?;
        let needle = parse_at(&v, i).unwrap_or(Value::Null);
        let len = arr.len() as i64;
        let start = norm_index(st.get(i).unwrap_or(0), len);
        if start < 0 || start > len {
            return None;
        }
        let length = ln.get(i).unwrap_or(-1);
        let end = if length < 0 {
            len
        } else {
            start.saturating_add(length).min(len)
        };
        let occurrence = oc.get(i).unwrap_or(1).max(1);
        let mut found = 0;
        for idx in start..end {
            if arr.get(idx as usize).is_some_and(|x| equals(x, &needle)) {
                found += 1;
                if found == occurrence {
                    return Some(idx);
                }
            }
        }
        Some(-1)
    }))
}

fn array_sort_kernel<const DESC: bool>(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let nl = a.bool(1)?;
    Ok(build_str(a.rows, |i| {
        let arr = as_array(parse_at(&d, i))?;
        let nulls_last = nl.get(i).unwrap_or(true);
        let (mut vals, nulls): (Vec<Value>, Vec<Value>) =
            arr.into_iter().partition(|v| !v.is_null());
        vals.sort_by(|x, y| if DESC { compare(y, x) } else { compare(x, y) });
        let result = if nulls_last {
            vals.into_iter().chain(nulls).collect()
        } else {
            nulls.into_iter().chain(vals).collect()
        };
        out(Some(Value::Array(result)))
    }))
}

fn array_reverse_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        let mut arr = as_array(parse_at(&d, i))?;
        arr.reverse();
        out(Some(Value::Array(arr)))
    }))
}

fn array_sum_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    Ok(build_f64(a.rows, |i| {
        let arr = as_array(parse_at(&d, i))?;
        let mut sum = 0.0;
        for v in &arr {
            match v {
                Value::Number(n) => sum += n.as_f64().unwrap_or(0.0),
                Value::Null => {}
                _ => return None,
            }
        }
        Some(sum)
    }))
}

fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        _ => None,
    }
}

fn array_iff_kernel(a: &Args) -> Result<ArrayRef> {
    let c = a.str(0)?;
    let t = a.str(1)?;
    let f = a.str(2)?;
    Ok(build_str(a.rows, |i| {
        let conds = as_array(parse_at(&c, i))?;
        let tv = parse_at(&t, i).unwrap_or(Value::Null);
        let fv = parse_at(&f, i).unwrap_or(Value::Null);
        let pick = |v: &Value, k: usize| -> Value {
            match v {
                Value::Array(items) => items.get(k).cloned().unwrap_or(Value::Null),
                other => other.clone(),
            }
        };
        let result: Vec<Value> = conds
            .iter()
            .enumerate()
            .map(|(k, cv)| match truthy(cv) {
                Some(true) => pick(&tv, k),
                Some(false) => pick(&fv, k),
                None => Value::Null,
            })
            .collect();
        out(Some(Value::Array(result)))
    }))
}

fn array_shift_kernel<const OP: u8>(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let n = a.i64(1)?;
    let fill = a.str(2)?;
    Ok(build_str(a.rows, |i| {
        let arr = as_array(parse_at(&d, i))?;
        let len = arr.len();
        if len == 0 {
            return out(Some(Value::Array(arr)));
        }
        let k = n.get(i)?;
        let fillv = parse_at(&fill, i).unwrap_or(Value::Null);
        let result: Vec<Value> = match OP {
            0 | 1 => {
                // shift left by k (negative k shifts right)
                let shift = if OP == 0 { k } else { k.checked_neg()? };
                (0..len as i64)
                    .map(|p| {
                        let src = p.saturating_add(shift);
                        if src >= 0 && src < len as i64 {
                            arr.get(src as usize).cloned().unwrap_or(Value::Null)
                        } else {
                            fillv.clone()
                        }
                    })
                    .collect()
            }
            _ => {
                let shift = if OP == 2 { k } else { k.checked_neg()? };
                let m = shift.rem_euclid(len as i64) as usize;
                arr.iter().cycle().skip(m).take(len).cloned().collect()
            }
        };
        out(Some(Value::Array(result)))
    }))
}

fn set_has_element_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let v = a.str(1)?;
    Ok(build_bool(a.rows, |i| {
        let arr = as_array(parse_at(&d, i))?;
        let needle = parse_at(&v, i).unwrap_or(Value::Null);
        Some(arr.iter().any(|x| equals(x, &needle)))
    }))
}

fn bag_pack_kernel(a: &Args) -> Result<ArrayRef> {
    let cols: Vec<StrArg> = (0..a.len()).map(|k| a.str(k)).collect::<Result<_>>()?;
    Ok(build_str(a.rows, |i| {
        let mut m = Map::new();
        for pair in cols.chunks(2) {
            if let [k, v] = pair {
                m.insert(k.get(i).to_string(), parse_at(v, i).unwrap_or(Value::Null));
            }
        }
        out(Some(Value::Object(m)))
    }))
}

fn pack_array_kernel(a: &Args) -> Result<ArrayRef> {
    let cols: Vec<StrArg> = (0..a.len()).map(|k| a.str(k)).collect::<Result<_>>()?;
    Ok(build_str(a.rows, |i| {
        let items: Vec<Value> = cols
            .iter()
            .map(|c| parse_at(c, i).unwrap_or(Value::Null))
            .collect();
        out(Some(Value::Array(items)))
    }))
}

fn bag_keys_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    Ok(build_str(a.rows, |i| match parse_at(&d, i)? {
        Value::Object(m) => out(Some(Value::Array(
            m.keys().map(|k| Value::String(k.clone())).collect(),
        ))),
        _ => None,
    }))
}

fn bag_merge_kernel(a: &Args) -> Result<ArrayRef> {
    let cols: Vec<StrArg> = (0..a.len()).map(|k| a.str(k)).collect::<Result<_>>()?;
    Ok(build_str(a.rows, |i| {
        let mut m = Map::new();
        for c in &cols {
            if let Some(Value::Object(o)) = parse_at(c, i) {
                for (k, v) in o {
                    if !m.contains_key(&k) {
                        m.insert(k, v);
                    }
                }
            }
        }
        out(Some(Value::Object(m)))
    }))
}

/// Splits a key or JSONPath (`$.a.b`, `$['a']`) into steps.
fn path_steps(key: &str) -> Vec<String> {
    let Some(rest) = key.strip_prefix('$') else {
        return vec![key.to_string()];
    };
    parse_json_path(rest)
        .map(|steps| {
            steps
                .into_iter()
                .map(|s| match s {
                    PathStep::Key(k) => k,
                    PathStep::Index(i) => i.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn remove_path(v: &mut Value, steps: &[String]) {
    match steps {
        [] => {}
        [last] => {
            if let Value::Object(m) = v {
                m.shift_remove(last);
            }
        }
        [first, rest @ ..] => {
            if let Value::Object(m) = v
                && let Some(child) = m.get_mut(first)
            {
                remove_path(child, rest);
            }
        }
    }
}

fn bag_remove_keys_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let ks = a.str(1)?;
    Ok(build_str(a.rows, |i| {
        let mut v = parse_at(&d, i)?;
        if !v.is_object() {
            return None;
        }
        if let Some(Value::Array(keys)) = parse_at(&ks, i) {
            for k in keys {
                if let Value::String(k) = k {
                    remove_path(&mut v, &path_steps(&k));
                }
            }
        }
        out(Some(v))
    }))
}

fn bag_has_key_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let k = a.str(1)?;
    Ok(build_bool(a.rows, |i| {
        let v = parse_at(&d, i)?;
        if !v.is_object() {
            return None;
        }
        let mut cur = &v;
        for step in path_steps(k.get(i)) {
            match cur {
                Value::Object(m) => match m.get(&step) {
                    Some(x) => cur = x,
                    None => return Some(false),
                },
                _ => return Some(false),
            }
        }
        Some(true)
    }))
}

fn set_path(v: &mut Value, steps: &[String], val: Value) {
    match steps {
        [] => {}
        [last] => {
            if let Value::Object(m) = v {
                m.insert(last.clone(), val);
            }
        }
        [first, rest @ ..] => {
            if let Value::Object(m) = v {
                let child = m
                    .entry(first.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !child.is_object() {
                    *child = Value::Object(Map::new());
                }
                set_path(child, rest, val);
            }
        }
    }
}

fn bag_set_key_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let k = a.str(1)?;
    let val = a.str(2)?;
    Ok(build_str(a.rows, |i| {
        let mut v = parse_at(&d, i)?;
        if !v.is_object() {
            return None;
        }
        set_path(
            &mut v,
            &path_steps(k.get(i)),
            parse_at(&val, i).unwrap_or(Value::Null),
        );
        out(Some(v))
    }))
}

fn bag_zip_kernel(a: &Args) -> Result<ArrayRef> {
    let ks = a.str(0)?;
    let vs = a.str(1)?;
    Ok(build_str(a.rows, |i| {
        let keys = as_array(parse_at(&ks, i))?;
        let vals = as_array(parse_at(&vs, i)).unwrap_or_default();
        let mut m = Map::new();
        for (idx, k) in keys.iter().enumerate() {
            if let Value::String(k) = k {
                m.insert(k.clone(), vals.get(idx).cloned().unwrap_or(Value::Null));
            }
        }
        out(Some(Value::Object(m)))
    }))
}

fn zip_kernel(a: &Args) -> Result<ArrayRef> {
    let cols: Vec<StrArg> = (0..a.len()).map(|k| a.str(k)).collect::<Result<_>>()?;
    Ok(build_str(a.rows, |i| {
        let mut arrays = Vec::new();
        for c in &cols {
            arrays.push(as_array(parse_at(c, i))?);
        }
        let len = arrays.iter().map(Vec::len).max().unwrap_or(0);
        let result: Vec<Value> = (0..len)
            .map(|k| {
                Value::Array(
                    arrays
                        .iter()
                        .map(|arr| arr.get(k).cloned().unwrap_or(Value::Null))
                        .collect(),
                )
            })
            .collect();
        out(Some(Value::Array(result)))
    }))
}

fn strcat_array_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    let delim = a.str(1)?;
    Ok(build_str(a.rows, |i| {
        let arr = as_array(parse_at(&d, i)).unwrap_or_default();
        let parts: Vec<String> = arr.iter().map(json::dyn_to_string).collect();
        Some(Cow::Owned(parts.join(delim.get(i))))
    }))
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PathStep {
    Key(String),
    Index(i64),
}

/// Parses the part of a JSONPath after `$`: `.a`, `['a']`, `["a"]`, `[0]`, `.a[1].b`.
pub(crate) fn parse_json_path(p: &str) -> Option<Vec<PathStep>> {
    let mut steps = Vec::new();
    let b: Vec<char> = p.chars().collect();
    let mut i = 0;
    while i < b.len() {
        match b.get(i)? {
            '.' => {
                i += 1;
                let start = i;
                while i < b.len() && !matches!(b.get(i), Some('.') | Some('[')) {
                    i += 1;
                }
                let key: String = b.get(start..i)?.iter().collect();
                if key.is_empty() {
                    return None;
                }
                steps.push(PathStep::Key(key));
            }
            '[' => {
                i += 1;
                match b.get(i)? {
                    q @ ('\'' | '"') => {
                        let q = *q;
                        i += 1;
                        let start = i;
                        while i < b.len() && b.get(i) != Some(&q) {
                            i += 1;
                        }
                        let key: String = b.get(start..i)?.iter().collect();
                        i += 1; // quote
                        if b.get(i) != Some(&']') {
                            return None;
                        }
                        i += 1;
                        steps.push(PathStep::Key(key));
                    }
                    _ => {
                        let start = i;
                        while i < b.len() && b.get(i) != Some(&']') {
                            i += 1;
                        }
                        let num: String = b.get(start..i)?.iter().collect();
                        i += 1;
                        steps.push(PathStep::Index(num.trim().parse().ok()?));
                    }
                }
            }
            _ => return None,
        }
    }
    Some(steps)
}

fn extract_json_kernel(a: &Args) -> Result<ArrayRef> {
    let p = a.str(0)?;
    let s = a.str(1)?;
    Ok(build_str(a.rows, |i| {
        let path = p.get(i).trim();
        let steps = parse_json_path(path.strip_prefix('$')?)?;
        let mut cur = parse(s.get(i))?;
        for st in steps {
            cur = match (st, cur) {
                (PathStep::Key(k), Value::Object(mut m)) => m.shift_remove(&k)?,
                (PathStep::Index(ix), Value::Array(arr)) => {
                    let len = arr.len() as i64;
                    let idx = norm_index(ix, len);
                    if idx < 0 {
                        return None;
                    }
                    arr.into_iter().nth(idx as usize)?
                }
                _ => return None,
            };
        }
        out(Some(cur))
    }))
}

fn dynamic_to_json_kernel(a: &Args) -> Result<ArrayRef> {
    let d = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        Some(Cow::Owned(match parse_at(&d, i) {
            None => "null".to_string(),
            Some(v) => to_text(&sort_keys(v)),
        }))
    }))
}

fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|x, y| x.0.cmp(&y.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// Largest array `range`/`repeat` build (Kusto's limit).
const MAX_ARRAY: i64 = 1_048_576;

fn repeat_kernel(a: &Args) -> Result<ArrayRef> {
    let v = a.str(0)?;
    let c = a.i64(1)?;
    Ok(build_str(a.rows, |i| {
        let n = c.get(i)?.clamp(0, MAX_ARRAY);
        let val = parse_at(&v, i).unwrap_or(Value::Null);
        out(Some(Value::Array(vec![val; n as usize])))
    }))
}

fn range_kernel<const INT: bool>(a: &Args) -> Result<ArrayRef> {
    let kind = a.i64(3)?.get(0).unwrap_or(0);
    let (s, e, st) = (a.any(0)?, a.any(1)?, a.any(2)?);
    let as_i64 = |v: crate::udf::AnyVal| -> Option<i64> {
        match v {
            crate::udf::AnyVal::Long(x)
            | crate::udf::AnyVal::DateTime(x)
            | crate::udf::AnyVal::TimeSpan(x) => Some(x),
            crate::udf::AnyVal::Int(x) => Some(i64::from(x)),
            crate::udf::AnyVal::Real(x) => crate::format::real_to_long(x),
            _ => None,
        }
    };
    let as_f64 = |v: crate::udf::AnyVal| -> Option<f64> {
        match v {
            crate::udf::AnyVal::Real(x) => Some(x),
            crate::udf::AnyVal::Long(x) => Some(x as f64),
            crate::udf::AnyVal::Int(x) => Some(f64::from(x)),
            _ => None,
        }
    };
    Ok(build_str(a.rows, |i| {
        let mut items = Vec::new();
        if INT {
            let (start, stop, step) = (as_i64(s.get(i))?, as_i64(e.get(i))?, as_i64(st.get(i))?);
            if step == 0 {
                return None;
            }
            let mut x = start;
            while (step > 0 && x <= stop) || (step < 0 && x >= stop) {
                items.push(match kind {
                    1 => Value::String(crate::format::format_datetime_iso(x)),
                    2 => Value::String(crate::format::format_timespan(x)),
                    _ => Value::from(x),
                });
                if items.len() as i64 >= MAX_ARRAY {
                    break;
                }
                x = x.checked_add(step)?;
            }
        } else {
            let (start, stop, step) = (as_f64(s.get(i))?, as_f64(e.get(i))?, as_f64(st.get(i))?);
            if step == 0.0 || !step.is_finite() {
                return None;
            }
            let mut k = 0.0;
            loop {
                let x = start + k * step;
                if (step > 0.0 && x > stop) || (step < 0.0 && x < stop) {
                    break;
                }
                items.push(json::real_to_json(x));
                if items.len() as i64 >= MAX_ARRAY {
                    break;
                }
                k += 1.0;
            }
        }
        out(Some(Value::Array(items)))
    }))
}

fn jaccard_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    let y = a.str(1)?;
    Ok(build_f64(a.rows, |i| {
        let p: HashSet<String> = as_array(parse_at(&x, i))?.iter().map(set_key).collect();
        let q: HashSet<String> = as_array(parse_at(&y, i))?.iter().map(set_key).collect();
        let union = p.union(&q).count();
        if union == 0 {
            return Some(0.0);
        }
        Some(p.intersection(&q).count() as f64 / union as f64)
    }))
}
