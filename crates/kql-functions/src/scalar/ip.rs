//! IP address functions: `parse_ipv4`, `parse_ipv4_mask`, `ipv4_is_private`,
//! `ipv4_is_in_range`, `ipv4_is_in_any_range`, `ipv4_is_match`, `ipv4_compare`,
//! `ipv4_netmask_suffix`, `format_ipv4`, `format_ipv4_mask`, `parse_ipv6`,
//! `parse_ipv6_mask`, `ipv6_compare`, `ipv6_is_match`, `ipv6_is_in_range`,
//! `ipv6_is_in_any_range`, `has_ipv4`, `has_ipv4_prefix`, `has_any_ipv4`,
//! `has_any_ipv4_prefix`, `geo_info_from_ip_address`.
//!
//! Addresses may carry a prefix (`10.1.2.3/8`); comparisons use the shorter prefix of
//! the two (and of the optional prefix argument). Invalid addresses give null.
//! `geo_info_from_ip_address` has no geo database here and returns an empty bag `{}`.

use std::borrow::Cow;
use std::net::Ipv6Addr;

use datafusion::arrow::array::ArrayRef;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Expr, lit};
use kql_syntax::KqlType;
use serde_json::Value;

use crate::convert::typed_to;
use crate::json::dyn_to_string;
use crate::operators::as_str;
use crate::sig::{self, P, check, check_variadic};
use crate::udf::{Args, StrArg, build_bool, build_i64, build_str, call};
use crate::{ArgType, FnError, LowerContext, TypedExpr};

use KqlType as K;

pub(crate) const NAMES: &[&str] = &[
    "parse_ipv4",
    "parse_ipv4_mask",
    "ipv4_is_private",
    "ipv4_is_in_range",
    "ipv4_is_in_any_range",
    "ipv4_is_match",
    "ipv4_compare",
    "ipv4_netmask_suffix",
    "format_ipv4",
    "format_ipv4_mask",
    "parse_ipv6",
    "parse_ipv6_mask",
    "ipv6_compare",
    "ipv6_is_match",
    "ipv6_is_in_range",
    "ipv6_is_in_any_range",
    "has_ipv4",
    "has_ipv4_prefix",
    "has_any_ipv4",
    "has_any_ipv4_prefix",
    "geo_info_from_ip_address",
];

pub(crate) fn return_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    Ok(match name {
        "parse_ipv4" | "ipv4_netmask_suffix" => {
            check(name, args, 1, &[P::Str])?;
            K::Long
        }
        "parse_ipv4_mask" => {
            check(name, args, 2, &[P::Str, P::Int])?;
            K::Long
        }
        "ipv4_is_private" => {
            check(name, args, 1, &[P::Str])?;
            K::Bool
        }
        "ipv4_is_in_range" | "ipv6_is_in_range" | "has_ipv4" | "has_ipv4_prefix" => {
            check(name, args, 2, &[P::Str, P::Str])?;
            K::Bool
        }
        "ipv4_is_in_any_range"
        | "ipv6_is_in_any_range"
        | "has_any_ipv4"
        | "has_any_ipv4_prefix" => {
            check_variadic(name, args, 2, None, P::Str)?;
            K::Bool
        }
        "ipv4_is_match" | "ipv6_is_match" => {
            check(name, args, 2, &[P::Str, P::Str, P::Int])?;
            K::Bool
        }
        "ipv4_compare" | "ipv6_compare" => {
            check(name, args, 2, &[P::Str, P::Str, P::Int])?;
            K::Long
        }
        "format_ipv4" | "format_ipv4_mask" => {
            check(name, args, 1, &[P::Any, P::Int])?;
            K::String
        }
        "parse_ipv6" => {
            check(name, args, 1, &[P::Str])?;
            K::String
        }
        "parse_ipv6_mask" => {
            check(name, args, 2, &[P::Str, P::Int])?;
            K::String
        }
        "geo_info_from_ip_address" => {
            check(name, args, 1, &[P::Str])?;
            K::Dynamic
        }
        _ => return Err(FnError::unsupported(format!("function {name}()"))),
    })
}

fn take(it: &mut std::vec::IntoIter<TypedExpr>, name: &str) -> Result<TypedExpr, FnError> {
    it.next().ok_or_else(|| sig::arity_error(name, 1, None, 0))
}

fn s(e: TypedExpr) -> (Expr, KqlType) {
    (as_str(e), K::String)
}

fn null_long() -> (Expr, KqlType) {
    (lit(ScalarValue::Int64(None)), K::Long)
}

fn name_of(name: &str) -> &'static str {
    NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("ip_function")
}

pub(crate) fn lower(
    _ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    _ret: KqlType,
) -> Result<Expr, FnError> {
    let mut it = args.into_iter();
    let n = name_of(name);
    Ok(match name {
        "parse_ipv4" => call(
            n,
            parse_ipv4_kernel,
            vec![s(take(&mut it, name)?), null_long()],
            K::Long,
        ),
        "parse_ipv4_mask" => {
            let a = s(take(&mut it, name)?);
            let m = (typed_to(take(&mut it, name)?, K::Long), K::Long);
            call(n, parse_ipv4_kernel, vec![a, m], K::Long)
        }
        "ipv4_netmask_suffix" => call(
            n,
            netmask_suffix_kernel,
            vec![s(take(&mut it, name)?)],
            K::Long,
        ),
        "ipv4_is_private" => call(n, is_private_kernel, vec![s(take(&mut it, name)?)], K::Bool),
        "ipv4_is_in_range" | "ipv6_is_in_range" => {
            let ip = s(take(&mut it, name)?);
            let range = s(take(&mut it, name)?);
            call(n, in_range_kernel, vec![ip, range], K::Bool)
        }
        "ipv4_is_match" | "ipv6_is_match" | "ipv4_compare" | "ipv6_compare" => {
            let a = s(take(&mut it, name)?);
            let b = s(take(&mut it, name)?);
            let p = match it.next() {
                Some(p) => (typed_to(p, K::Long), K::Long),
                None => null_long(),
            };
            if name.ends_with("match") {
                call(n, compare_kernel::<true>, vec![a, b, p], K::Bool)
            } else {
                call(n, compare_kernel::<false>, vec![a, b, p], K::Long)
            }
        }
        "ipv4_is_in_any_range"
        | "ipv6_is_in_any_range"
        | "has_any_ipv4"
        | "has_any_ipv4_prefix" => {
            let ip = s(take(&mut it, name)?);
            let mut v = vec![ip];
            for r in it {
                v.push((crate::convert::to_dynamic_value(r), K::Dynamic));
            }
            let k: crate::udf::Kernel = match name {
                "has_any_ipv4" => any_range_kernel::<1>,
                "has_any_ipv4_prefix" => any_range_kernel::<2>,
                _ => any_range_kernel::<0>,
            };
            call(n, k, v, K::Bool)
        }
        "has_ipv4" | "has_ipv4_prefix" => {
            let src = s(take(&mut it, name)?);
            let ip = s(take(&mut it, name)?);
            let k: crate::udf::Kernel = if name == "has_ipv4" {
                has_ipv4_kernel::<false>
            } else {
                has_ipv4_kernel::<true>
            };
            call(n, k, vec![src, ip], K::Bool)
        }
        "format_ipv4" | "format_ipv4_mask" => {
            let a = take(&mut it, name)?;
            let ip = if a.ty.is_integer() {
                let l = typed_to(a, K::Long);
                call(
                    "format_ipv4",
                    long_to_ip_kernel,
                    vec![(l, K::Long)],
                    K::String,
                )
            } else {
                as_str(a)
            };
            let m = match it.next() {
                Some(m) => (typed_to(m, K::Long), K::Long),
                None => (lit(32i64), K::Long),
            };
            let k: crate::udf::Kernel = if name == "format_ipv4" {
                format_kernel::<false>
            } else {
                format_kernel::<true>
            };
            call(n, k, vec![(ip, K::String), m], K::String)
        }
        "parse_ipv6" => call(
            n,
            parse_ipv6_kernel,
            vec![s(take(&mut it, name)?), null_long()],
            K::String,
        ),
        "parse_ipv6_mask" => {
            let a = s(take(&mut it, name)?);
            let m = (typed_to(take(&mut it, name)?, K::Long), K::Long);
            call(n, parse_ipv6_kernel, vec![a, m], K::String)
        }
        "geo_info_from_ip_address" => {
            let _ = take(&mut it, name)?;
            lit("{}")
        }
        _ => return Err(FnError::unsupported(format!("function {name}()"))),
    })
}

// ---- parsing ---------------------------------------------------------------------------------

/// `a.b.c.d[/n]` → (address, prefix).
pub(crate) fn parse_v4(s: &str) -> Option<(u32, u32)> {
    let s = s.trim();
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, p.trim().parse::<u32>().ok().filter(|p| *p <= 32)?),
        None => (s, 32),
    };
    let mut v: u32 = 0;
    let mut n = 0;
    for part in addr.split('.') {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let x: u32 = part.parse().ok()?;
        if x > 255 {
            return None;
        }
        v = (v << 8) | x;
        n += 1;
    }
    if n != 4 {
        return None;
    }
    Some((v, prefix))
}

fn mask_v4(v: u32, prefix: u32) -> u32 {
    if prefix == 0 {
        0
    } else {
        v & (u32::MAX << (32 - prefix.min(32)))
    }
}

fn v4_text(v: u32) -> String {
    format!(
        "{}.{}.{}.{}",
        v >> 24,
        (v >> 16) & 255,
        (v >> 8) & 255,
        v & 255
    )
}

/// IPv6 (or IPv4, mapped to `::ffff:a.b.c.d`) with prefix, as a u128.
pub(crate) fn parse_v6(s: &str) -> Option<(u128, u32)> {
    let s = s.trim();
    if let Some((v, p)) = parse_v4(s) {
        return Some(((0xffffu128 << 32) | u128::from(v), p + 96));
    }
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, p.trim().parse::<u32>().ok().filter(|p| *p <= 128)?),
        None => (s, 128),
    };
    let a: Ipv6Addr = addr.parse().ok()?;
    Some((u128::from(a), prefix))
}

fn mask_v6(v: u128, prefix: u32) -> u128 {
    if prefix == 0 {
        0
    } else {
        v & (u128::MAX << (128 - prefix.min(128)))
    }
}

// ---- kernels -------------------------------------------------------------------------------

fn parse_ipv4_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    let m = a.i64(1)?;
    Ok(build_i64(a.rows, |i| {
        let (v, mut p) = parse_v4(x.get(i))?;
        if let Some(extra) = m.get(i) {
            p = p.min(u32::try_from(extra).ok().filter(|e| *e <= 32)?);
        }
        Some(i64::from(mask_v4(v, p)))
    }))
}

fn netmask_suffix_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_i64(a.rows, |i| {
        parse_v4(x.get(i)).map(|(_, p)| i64::from(p))
    }))
}

fn is_private_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_bool(a.rows, |i| {
        let (v, _) = parse_v4(x.get(i))?;
        Some((v >> 24) == 10 || (v >> 20) == ((172 << 4) | 1) || (v >> 16) == ((192 << 8) | 168))
    }))
}

fn in_range(ip: &str, range: &str) -> Option<bool> {
    if let (Some((v, _)), Some((r, p))) = (parse_v4(ip), parse_v4(range)) {
        return Some(mask_v4(v, p) == mask_v4(r, p));
    }
    let (v, _) = parse_v6(ip)?;
    let (r, p) = parse_v6(range)?;
    Some(mask_v6(v, p) == mask_v6(r, p))
}

fn in_range_kernel(a: &Args) -> Result<ArrayRef> {
    let ip = a.str(0)?;
    let r = a.str(1)?;
    Ok(build_bool(a.rows, |i| in_range(ip.get(i), r.get(i))))
}

fn compare_kernel<const MATCH: bool>(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    let y = a.str(1)?;
    let p = a.i64(2)?;
    let cmp = |i: usize| -> Option<i64> {
        let (u, pu) = parse_v6(x.get(i))?;
        let (w, pw) = parse_v6(y.get(i))?;
        let v4 = parse_v4(x.get(i)).is_some() && parse_v4(y.get(i)).is_some();
        let mut prefix = pu.min(pw);
        if let Some(extra) = p.get(i) {
            let extra = u32::try_from(extra).ok()?;
            prefix = prefix.min(if v4 {
                extra.min(32) + 96
            } else {
                extra.min(128)
            });
        }
        let (mu, mw) = (mask_v6(u, prefix), mask_v6(w, prefix));
        Some(match mu.cmp(&mw) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        })
    };
    if MATCH {
        Ok(build_bool(a.rows, |i| cmp(i).map(|c| c == 0)))
    } else {
        Ok(build_i64(a.rows, cmp))
    }
}

fn ranges_of(cols: &[StrArg<'_>], i: usize) -> Vec<String> {
    let mut out = Vec::new();
    for c in cols {
        match c.opt(i).and_then(crate::json::parse) {
            Some(Value::Array(items)) => out.extend(items.iter().map(dyn_to_string)),
            Some(v) => out.push(dyn_to_string(&v)),
            None => {}
        }
    }
    out
}

/// MODE 0: ip in any range; 1: source has any of the IPs; 2: source has any IP prefix.
fn any_range_kernel<const MODE: u8>(a: &Args) -> Result<ArrayRef> {
    let ip = a.str(0)?;
    let cols: Vec<StrArg> = (1..a.len()).map(|k| a.str(k)).collect::<Result<_>>()?;
    let fixed = if (1..a.len()).all(|k| a.is_const(k)) {
        Some(ranges_of(&cols, 0))
    } else {
        None
    };
    Ok(build_bool(a.rows, |i| {
        let owned;
        let ranges: &Vec<String> = match &fixed {
            Some(f) => f,
            None => {
                owned = ranges_of(&cols, i);
                &owned
            }
        };
        let v = ip.get(i);
        Some(match MODE {
            0 => {
                parse_v6(v)?;
                ranges.iter().any(|r| in_range(v, r) == Some(true))
            }
            1 => ranges.iter().any(|r| has_ipv4(v, r, false)),
            _ => ranges.iter().any(|r| has_ipv4(v, r, true)),
        })
    }))
}

fn is_ip_char(c: char) -> bool {
    c.is_ascii_digit() || c == '.'
}

/// Does `source` contain the IPv4 address (or address prefix) `ip` as a whole token?
/// A token is a maximal run of digits and dots, not touching letters.
fn has_ipv4(source: &str, ip: &str, prefix: bool) -> bool {
    let ip = ip.trim();
    if ip.is_empty() || (!prefix && parse_v4(ip).is_none()) {
        return false;
    }
    let mut from = 0;
    while let Some(pos) = source.get(from..).and_then(|s| s.find(ip)) {
        let start = from + pos;
        let before_ok = source
            .get(..start)
            .and_then(|p| p.chars().next_back())
            .is_none_or(|c| !is_ip_char(c) && !c.is_alphanumeric());
        if before_ok {
            let rest = source.get(start..).unwrap_or("");
            let tok_len = rest.find(|c: char| !is_ip_char(c)).unwrap_or(rest.len());
            let after_ok = rest
                .get(tok_len..)
                .and_then(|p| p.chars().next())
                .is_none_or(|c| !c.is_alphanumeric());
            let token = rest.get(..tok_len).unwrap_or("").trim_end_matches('.');
            if after_ok
                && parse_v4(token).is_some()
                && (token == ip || (prefix && token.starts_with(ip)))
            {
                return true;
            }
        }
        from = start + 1;
    }
    false
}

fn has_ipv4_kernel<const PREFIX: bool>(a: &Args) -> Result<ArrayRef> {
    let src = a.str(0)?;
    let ip = a.str(1)?;
    Ok(build_bool(a.rows, |i| {
        Some(has_ipv4(src.get(i), ip.get(i), PREFIX))
    }))
}

fn long_to_ip_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.i64(0)?;
    Ok(build_str(a.rows, |i| {
        Some(Cow::Owned(
            x.get(i)
                .and_then(|v| u32::try_from(v).ok())
                .map(v4_text)
                .unwrap_or_default(),
        ))
    }))
}

fn format_kernel<const WITH_MASK: bool>(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    let m = a.i64(1)?;
    Ok(build_str(a.rows, |i| {
        let out = (|| {
            let (v, p) = parse_v4(x.get(i))?;
            let extra = u32::try_from(m.get(i)?).ok().filter(|e| *e <= 32)?;
            let prefix = p.min(extra);
            let masked = v4_text(mask_v4(v, prefix));
            Some(if WITH_MASK {
                format!("{masked}/{prefix}")
            } else {
                masked
            })
        })();
        Some(Cow::Owned(out.unwrap_or_default()))
    }))
}

fn parse_ipv6_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    let m = a.i64(1)?;
    Ok(build_str(a.rows, |i| {
        let out = (|| {
            let (v, mut p) = parse_v6(x.get(i))?;
            if let Some(extra) = m.get(i) {
                let extra = u32::try_from(extra).ok()?;
                let extra = if parse_v4(x.get(i)).is_some() {
                    extra.min(32) + 96
                } else {
                    extra.min(128)
                };
                p = p.min(extra);
            }
            let masked = mask_v6(v, p);
            let segs: Vec<String> = (0..8)
                .map(|k| format!("{:04x}", (masked >> (112 - 16 * k)) & 0xffff))
                .collect();
            Some(segs.join(":"))
        })();
        Some(Cow::Owned(out.unwrap_or_default()))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_and_ranges() {
        assert_eq!(parse_v4("192.168.1.1"), Some((0xC0A8_0101, 32)));
        assert_eq!(parse_v4("10.0.0.0/8"), Some((0x0A00_0000, 8)));
        assert_eq!(parse_v4("256.1.1.1"), None);
        assert_eq!(parse_v4("1.2.3"), None);
        assert_eq!(in_range("192.168.1.1", "192.168.1.255/24"), Some(true));
        assert_eq!(in_range("10.1.2.3", "192.168.1.1/16"), Some(false));
        assert_eq!(in_range("fe80::1", "fe80::/64"), Some(true));
        assert!(has_ipv4("src=10.1.1.1:80", "10.1.1.1", false));
        assert!(!has_ipv4("src=10.1.1.10", "10.1.1.1", false));
        assert!(!has_ipv4("210.1.1.1", "10.1.1.1", false));
        assert!(has_ipv4("dst 10.1.1.10", "10.1.", true));
    }
}
