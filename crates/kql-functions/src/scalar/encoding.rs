//! Encodings, hashes and parsers of structured text: `url_encode`,
//! `url_encode_component`, `url_decode`, `base64_*`, `hash_md5`, `hash_sha1`,
//! `hash_sha256`, `hash`/`hash_xxhash64` (XXH64, seed 0, over the UTF-8 text or the
//! 8 little-endian bytes of integers), `parse_url`, `parse_urlquery`, `parse_path`,
//! `parse_command_line`, `parse_csv`.
//!
//! `url_encode` follows .NET's `HttpUtility.UrlEncode` (space → `+`, lower-case hex),
//! `url_encode_component` escapes spaces as `%20`. `parse_url` keeps the text of each
//! part (`Port` is a string, `Query Parameters` a bag of decoded values); a string that is
//! not an absolute URL gives all parts empty.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::{Expr, lit};
use kql_syntax::KqlType;
use md5::{Digest, Md5};
use serde_json::{Map, Value};

use crate::convert::typed_to;
use crate::json::to_text;
use crate::operators::as_str;
use crate::sig::{self, P, check};
use crate::udf::{Args, build_i64, build_str, call};
use crate::{ArgType, FnError, LowerContext, TypedExpr};

use KqlType as K;

pub(crate) const NAMES: &[&str] = &[
    "url_encode",
    "url_encode_component",
    "url_decode",
    "base64_encode_tostring",
    "base64_encodestring",
    "base64_decode_tostring",
    "base64_decodestring",
    "base64_decode_toarray",
    "base64_encode_fromarray",
    "base64_decode_toguid",
    "base64_encode_fromguid",
    "hash_md5",
    "hash_sha1",
    "hash_sha256",
    "hash",
    "hash_xxhash64",
    "parse_url",
    "parseurl",
    "parse_urlquery",
    "parse_path",
    "parse_command_line",
    "parse_csv",
    "parse_xml",
    "format_bytes",
];

pub(crate) fn return_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    Ok(match name {
        "url_encode"
        | "url_encode_component"
        | "url_decode"
        | "base64_encode_tostring"
        | "base64_encodestring"
        | "base64_decode_tostring"
        | "base64_decodestring" => {
            check(name, args, 1, &[P::Str])?;
            K::String
        }
        "base64_decode_toarray"
        | "parse_url"
        | "parseurl"
        | "parse_urlquery"
        | "parse_path"
        | "parse_csv"
        | "parse_xml" => {
            check(name, args, 1, &[P::Str])?;
            K::Dynamic
        }
        "base64_encode_fromarray" => {
            check(name, args, 1, &[P::Dyn])?;
            K::String
        }
        "base64_decode_toguid" => {
            check(name, args, 1, &[P::Str])?;
            K::Guid
        }
        "base64_encode_fromguid" => {
            check(name, args, 1, &[P::Any])?;
            if let Some(a) = args.first()
                && a.ty != K::Guid
                && a.ty != K::String
            {
                return Err(sig::type_error(name, 0, "guid", a.ty));
            }
            K::String
        }
        "hash_md5" | "hash_sha1" | "hash_sha256" => {
            check(name, args, 1, &[P::Scalar])?;
            K::String
        }
        "hash" | "hash_xxhash64" => {
            check(name, args, 1, &[P::Scalar, P::Int])?;
            K::Long
        }
        "format_bytes" => {
            check(name, args, 1, &[P::Num, P::Int, P::Str, P::Int])?;
            K::String
        }
        "parse_command_line" => {
            check(name, args, 2, &[P::Any, P::Str])?;
            if let Some(kind) = sig::const_str(args, 1)
                && !kind.eq_ignore_ascii_case("windows")
            {
                return Err(sig::bad_arg(
                    name,
                    1,
                    "only \"windows\" parsing is supported",
                ));
            }
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

pub(crate) fn lower(
    _ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    _ret: KqlType,
) -> Result<Expr, FnError> {
    let mut it = args.into_iter();
    let one = |k: crate::udf::Kernel,
               n: &'static str,
               ret: KqlType,
               it: &mut std::vec::IntoIter<TypedExpr>|
     -> Result<Expr, FnError> { Ok(call(n, k, vec![s(take(it, n)?)], ret)) };
    Ok(match name {
        "url_encode" => one(url_encode_kernel::<false>, "url_encode", K::String, &mut it)?,
        "url_encode_component" => one(
            url_encode_kernel::<true>,
            "url_encode_component",
            K::String,
            &mut it,
        )?,
        "url_decode" => one(url_decode_kernel, "url_decode", K::String, &mut it)?,
        "base64_encode_tostring" | "base64_encodestring" => one(
            b64_encode_kernel,
            "base64_encode_tostring",
            K::String,
            &mut it,
        )?,
        "base64_decode_tostring" | "base64_decodestring" => one(
            b64_decode_kernel::<0>,
            "base64_decode_tostring",
            K::String,
            &mut it,
        )?,
        "base64_decode_toarray" => one(
            b64_decode_kernel::<1>,
            "base64_decode_toarray",
            K::Dynamic,
            &mut it,
        )?,
        "base64_decode_toguid" => one(
            b64_decode_kernel::<2>,
            "base64_decode_toguid",
            K::Guid,
            &mut it,
        )?,
        "base64_encode_fromarray" => {
            let a = crate::convert::to_dynamic_value(take(&mut it, name)?);
            call(
                "base64_encode_fromarray",
                b64_from_array_kernel,
                vec![(a, K::Dynamic)],
                K::String,
            )
        }
        "base64_encode_fromguid" => {
            let g = typed_to(take(&mut it, name)?, K::Guid);
            call(
                "base64_encode_fromguid",
                b64_from_guid_kernel,
                vec![(g, K::Guid)],
                K::String,
            )
        }
        "hash_md5" => one(digest_kernel::<0>, "hash_md5", K::String, &mut it)?,
        "hash_sha1" => one(digest_kernel::<1>, "hash_sha1", K::String, &mut it)?,
        "hash_sha256" => one(digest_kernel::<2>, "hash_sha256", K::String, &mut it)?,
        "hash" | "hash_xxhash64" => {
            let x = take(&mut it, name)?;
            let m = match it.next() {
                Some(m) => typed_to(m, K::Long),
                None => lit(datafusion::common::ScalarValue::Int64(None)),
            };
            let input = match x.ty {
                K::Int | K::Long | K::Bool => (typed_to(x, K::Long), K::Long),
                K::DateTime => {
                    // hashed as its .NET ticks
                    (typed_to(x, K::Long), K::Long)
                }
                _ => s(x),
            };
            let k: crate::udf::Kernel = if input.1 == K::Long {
                hash_kernel::<true>
            } else {
                hash_kernel::<false>
            };
            call("hash", k, vec![input, (m, K::Long)], K::Long)
        }
        "parse_url" | "parseurl" => {
            one(parse_url_kernel::<false>, "parse_url", K::Dynamic, &mut it)?
        }
        "parse_urlquery" => one(
            parse_url_kernel::<true>,
            "parse_urlquery",
            K::Dynamic,
            &mut it,
        )?,
        "parse_path" => one(parse_path_kernel, "parse_path", K::Dynamic, &mut it)?,
        "parse_command_line" => {
            let cmd = s(take(&mut it, name)?);
            call(
                "parse_command_line",
                parse_command_line_kernel,
                vec![cmd],
                K::Dynamic,
            )
        }
        "parse_csv" => one(parse_csv_kernel, "parse_csv", K::Dynamic, &mut it)?,
        "parse_xml" => one(parse_xml_kernel, "parse_xml", K::Dynamic, &mut it)?,
        "format_bytes" => {
            let v = (typed_to(take(&mut it, name)?, K::Real), K::Real);
            let prec = match it.next() {
                Some(p) => (typed_to(p, K::Long), K::Long),
                None => (lit(0i64), K::Long),
            };
            let unit = match it.next() {
                Some(u) => s(u),
                None => (lit(""), K::String),
            };
            let base = match it.next() {
                Some(b) => (typed_to(b, K::Long), K::Long),
                None => (lit(1024i64), K::Long),
            };
            call(
                "format_bytes",
                format_bytes_kernel,
                vec![v, prec, unit, base],
                K::String,
            )
        }
        _ => return Err(FnError::unsupported(format!("function {name}()"))),
    })
}

// ---- url -----------------------------------------------------------------------------

fn url_encode(s: &str, component: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'*'
            | b'('
            | b')' => out.push(char::from(b)),
            b' ' if !component => out.push('+'),
            other => out.push_str(&format!("%{other:02x}")),
        }
    }
    out
}

/// Decodes `%xx` escapes (and `+` as space when `plus`).
pub(crate) fn url_decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b.get(i) {
            Some(b'%') => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            Some(b'+') if plus => out.push(b' '),
            Some(c) => out.push(*c),
            None => {}
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn url_encode_kernel<const COMPONENT: bool>(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        Some(Cow::Owned(url_encode(x.get(i), COMPONENT)))
    }))
}

fn url_decode_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        Some(Cow::Owned(url_decode(x.get(i), true)))
    }))
}

// ---- base64 --------------------------------------------------------------------------

fn b64_encode_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        Some(Cow::Owned(STANDARD.encode(x.get(i).as_bytes())))
    }))
}

fn decode_b64(s: &str) -> Option<Vec<u8>> {
    let t = s.trim();
    STANDARD.decode(t).ok().or_else(|| {
        // tolerate missing padding
        let mut p = t.to_string();
        while !p.len().is_multiple_of(4) {
            p.push('=');
        }
        STANDARD.decode(p).ok()
    })
}

fn guid_from_bytes(b: &[u8]) -> Option<String> {
    let b: &[u8; 16] = b.try_into().ok()?;
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    ))
}

/// MODE 0: string, 1: byte array, 2: guid.
fn b64_decode_kernel<const MODE: u8>(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        let bytes = decode_b64(x.get(i));
        match MODE {
            0 => Some(Cow::Owned(
                bytes
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default(),
            )),
            1 => bytes.map(|b| {
                Cow::Owned(to_text(&Value::Array(
                    b.into_iter().map(Value::from).collect(),
                )))
            }),
            _ => bytes.and_then(|b| guid_from_bytes(&b)).map(Cow::Owned),
        }
    }))
}

fn b64_from_array_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        let bytes: Option<Vec<u8>> = match x.opt(i).and_then(crate::json::parse) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok()))
                .collect(),
            _ => None,
        };
        Some(Cow::Owned(
            bytes.map(|b| STANDARD.encode(b)).unwrap_or_default(),
        ))
    }))
}

fn b64_from_guid_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        let hex: String = x.get(i).chars().filter(|c| c.is_ascii_hexdigit()).collect();
        let raw = hex::decode(&hex).ok().filter(|r| r.len() == 16);
        Some(Cow::Owned(match raw {
            Some(r) => {
                let order = [3usize, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
                let b: Vec<u8> = order.iter().filter_map(|k| r.get(*k).copied()).collect();
                STANDARD.encode(b)
            }
            None => String::new(),
        }))
    }))
}

// ---- hashes --------------------------------------------------------------------------

fn digest_kernel<const ALG: u8>(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        let data = x.get(i).as_bytes();
        Some(Cow::Owned(match ALG {
            0 => hex::encode(Md5::digest(data)),
            1 => hex::encode(sha1::Sha1::digest(data)),
            _ => hex::encode(sha2::Sha256::digest(data)),
        }))
    }))
}

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut buf = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        buf.copy_from_slice(s);
    }
    u64::from_le_bytes(buf)
}

fn read_u32(b: &[u8], at: usize) -> u64 {
    let mut buf = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        buf.copy_from_slice(s);
    }
    u64::from(u32::from_le_bytes(buf))
}

fn round(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

fn merge_round(acc: u64, val: u64) -> u64 {
    (acc ^ round(0, val)).wrapping_mul(P1).wrapping_add(P4)
}

/// XXH64 with seed 0.
pub(crate) fn xxh64(data: &[u8]) -> u64 {
    let len = data.len();
    let mut i = 0;
    let mut h: u64;
    if len >= 32 {
        let (mut v1, mut v2, mut v3, mut v4) =
            (P1.wrapping_add(P2), P2, 0u64, 0u64.wrapping_sub(P1));
        while i + 32 <= len {
            v1 = round(v1, read_u64(data, i));
            v2 = round(v2, read_u64(data, i + 8));
            v3 = round(v3, read_u64(data, i + 16));
            v4 = round(v4, read_u64(data, i + 24));
            i += 32;
        }
        h = v1
            .rotate_left(1)
            .wrapping_add(v2.rotate_left(7))
            .wrapping_add(v3.rotate_left(12))
            .wrapping_add(v4.rotate_left(18));
        h = merge_round(h, v1);
        h = merge_round(h, v2);
        h = merge_round(h, v3);
        h = merge_round(h, v4);
    } else {
        h = P5;
    }
    h = h.wrapping_add(len as u64);
    while i + 8 <= len {
        h ^= round(0, read_u64(data, i));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        i += 8;
    }
    if i + 4 <= len {
        h ^= read_u32(data, i).wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        i += 4;
    }
    while i < len {
        if let Some(b) = data.get(i) {
            h ^= u64::from(*b).wrapping_mul(P5);
            h = h.rotate_left(11).wrapping_mul(P1);
        }
        i += 1;
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^= h >> 32;
    h
}

fn hash_kernel<const INT: bool>(a: &Args) -> Result<ArrayRef> {
    let m = a.i64(1)?;
    let ints = if INT { Some(a.i64(0)?) } else { None };
    let strs = if INT { None } else { Some(a.str(0)?) };
    Ok(build_i64(a.rows, |i| {
        let h = match (&ints, &strs) {
            (Some(x), _) => xxh64(&x.get(i)?.to_le_bytes()),
            (_, Some(x)) => xxh64(x.get(i).as_bytes()),
            _ => return None,
        } as i64;
        match m.get(i) {
            None => Some(h),
            Some(md) if md > 0 => Some((h as u64 % md as u64) as i64),
            Some(_) => None,
        }
    }))
}

// ---- parse_url / parse_urlquery ------------------------------------------------------------

fn query_params(q: &str) -> Value {
    let mut m = Map::new();
    for pair in q.split('&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        m.insert(url_decode(k, true), Value::String(url_decode(v, true)));
    }
    Value::Object(m)
}

fn url_parts(url: &str) -> Value {
    let mut m = Map::new();
    let field = |m: &mut Map<String, Value>, k: &str, v: &str| {
        m.insert(k.to_string(), Value::String(v.to_string()));
    };
    let (mut scheme, mut host, mut port, mut path, mut user, mut pass, mut query, mut frag) =
        ("", "", "", "", "", "", "", "");
    if let Some((sch, rest)) = url.split_once("://")
        && !sch.is_empty()
        && sch
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        scheme = sch;
        let (rest, f) = rest.split_once('#').unwrap_or((rest, ""));
        frag = f;
        let (rest, q) = rest.split_once('?').unwrap_or((rest, ""));
        query = q;
        let (authority, p) = match rest.find('/') {
            Some(k) => (rest.get(..k).unwrap_or(""), rest.get(k..).unwrap_or("")),
            None => (rest, ""),
        };
        path = p;
        let hostport = match authority.rsplit_once('@') {
            Some((ui, hp)) => {
                let (u, pw) = ui.split_once(':').unwrap_or((ui, ""));
                user = u;
                pass = pw;
                hp
            }
            None => authority,
        };
        if let Some(stripped) = hostport.strip_prefix('[') {
            match stripped.split_once(']') {
                Some((h, rest)) => {
                    host = h;
                    port = rest.strip_prefix(':').unwrap_or("");
                }
                None => host = hostport,
            }
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => {
                    host = h;
                    port = p;
                }
                _ => host = hostport,
            }
        }
    }
    field(&mut m, "Scheme", scheme);
    field(&mut m, "Host", host);
    field(&mut m, "Port", port);
    field(&mut m, "Path", path);
    field(&mut m, "Username", user);
    field(&mut m, "Password", pass);
    m.insert("Query Parameters".to_string(), query_params(query));
    field(&mut m, "Fragment", frag);
    Value::Object(m)
}

fn parse_url_kernel<const QUERY_ONLY: bool>(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        let v = x.get(i);
        let out = if QUERY_ONLY {
            let q = v.strip_prefix('?').unwrap_or(v);
            let mut m = Map::new();
            m.insert("Query Parameters".to_string(), query_params(q));
            Value::Object(m)
        } else {
            url_parts(v)
        };
        Some(Cow::Owned(to_text(&out)))
    }))
}

// ---- parse_path ------------------------------------------------------------------------

fn path_parts(p: &str) -> Value {
    let (scheme, rest) = match p.split_once("://") {
        Some((s, r)) if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()) => (s, r),
        _ => ("", p),
    };
    let is_sep = |c: char| c == '/' || c == '\\';
    let b = rest.as_bytes();
    let root = if b.len() >= 3
        && b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.get(1) == Some(&b':')
        && b.get(2).is_some_and(|c| *c == b'/' || *c == b'\\')
    {
        rest.get(..3).unwrap_or("")
    } else {
        ""
    };
    let (dir, file) = match rest.rfind(is_sep) {
        Some(k) => (rest.get(..k).unwrap_or(""), rest.get(k + 1..).unwrap_or("")),
        None => ("", rest),
    };
    let (file, ads) = match file.split_once(':') {
        Some((f, a)) => (f, a),
        None => (file, ""),
    };
    let dir_name = dir.rsplit(is_sep).next().unwrap_or("");
    let ext = match file.rfind('.') {
        Some(k) => file.get(k + 1..).unwrap_or(""),
        None => "",
    };
    let mut m = Map::new();
    for (k, v) in [
        ("Scheme", scheme),
        ("RootPath", root),
        ("DirectoryPath", dir),
        ("DirectoryName", dir_name),
        ("Filename", file),
        ("Extension", ext),
        ("AlternateDataStreamName", ads),
    ] {
        m.insert(k.to_string(), Value::String(v.to_string()));
    }
    Value::Object(m)
}

fn parse_path_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        Some(Cow::Owned(to_text(&path_parts(x.get(i)))))
    }))
}

// ---- parse_command_line (Windows rules) ---------------------------------------------------

/// Splits a command line like `CommandLineToArgvW`.
pub(crate) fn split_command_line(cmd: &str) -> Vec<String> {
    let chars: Vec<char> = cmd.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    let n = chars.len();
    // program name: quoted or up to whitespace, no escapes
    while i < n && chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    if i >= n {
        return args;
    }
    let mut first = String::new();
    if chars.get(i) == Some(&'"') {
        i += 1;
        while i < n && chars.get(i) != Some(&'"') {
            if let Some(c) = chars.get(i) {
                first.push(*c);
            }
            i += 1;
        }
        i += 1;
    }
    while i < n && !chars.get(i).is_some_and(|c| c.is_whitespace()) {
        if let Some(c) = chars.get(i) {
            first.push(*c);
        }
        i += 1;
    }
    args.push(first);
    loop {
        while i < n && chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        if i >= n {
            break;
        }
        let mut cur = String::new();
        let mut quoted = false;
        while i < n {
            let c = chars.get(i).copied().unwrap_or(' ');
            if c.is_whitespace() && !quoted {
                break;
            }
            if c == '\\' {
                let mut k = 0;
                while chars.get(i + k) == Some(&'\\') {
                    k += 1;
                }
                if chars.get(i + k) == Some(&'"') {
                    cur.extend(std::iter::repeat_n('\\', k / 2));
                    if k % 2 == 1 {
                        cur.push('"');
                        i += k + 1;
                    } else {
                        i += k;
                    }
                } else {
                    cur.extend(std::iter::repeat_n('\\', k));
                    i += k;
                }
                continue;
            }
            if c == '"' {
                if quoted && chars.get(i + 1) == Some(&'"') {
                    cur.push('"');
                    i += 2;
                    continue;
                }
                quoted = !quoted;
                i += 1;
                continue;
            }
            cur.push(c);
            i += 1;
        }
        args.push(cur);
    }
    args
}

fn parse_command_line_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        let parts: Vec<Value> = split_command_line(x.get(i))
            .into_iter()
            .map(Value::String)
            .collect();
        Some(Cow::Owned(to_text(&Value::Array(parts))))
    }))
}

// ---- parse_csv -------------------------------------------------------------------------------

/// The fields of the first CSV record (quotes with `""` escapes).
pub(crate) fn csv_fields(s: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted => {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            }
            '"' if cur.is_empty() => quoted = true,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            '\n' | '\r' if !quoted => break,
            other => cur.push(other),
        }
    }
    fields.push(cur);
    fields
}

fn parse_csv_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        let parts: Vec<Value> = csv_fields(x.get(i))
            .into_iter()
            .map(Value::String)
            .collect();
        Some(Cow::Owned(to_text(&Value::Array(parts))))
    }))
}

// ---- format_bytes -----------------------------------------------------------------------------

const BYTE_UNITS: [&str; 7] = ["Bytes", "KB", "MB", "GB", "TB", "PB", "EB"];

pub(crate) fn format_bytes(v: f64, precision: i64, unit: &str, base: i64) -> Option<String> {
    let base = if base == 1000 { 1000.0 } else { 1024.0 };
    let idx = if unit.is_empty() {
        let mut k = 0usize;
        let mut x = v.abs();
        while x >= base && k + 1 < BYTE_UNITS.len() {
            x /= base;
            k += 1;
        }
        k
    } else {
        BYTE_UNITS.iter().position(|u| {
            u.eq_ignore_ascii_case(unit) || (unit.eq_ignore_ascii_case("bytes") && *u == "Bytes")
        })?
    };
    let scaled = v / base.powi(idx as i32);
    let p = precision.clamp(0, 15) as usize;
    let factor = 10f64.powi(p as i32);
    let rounded = (scaled * factor).round() / factor;
    let text = format!("{rounded:.p$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    Some(format!("{text} {}", BYTE_UNITS.get(idx)?))
}

fn format_bytes_kernel(a: &Args) -> Result<ArrayRef> {
    let v = a.f64(0)?;
    let p = a.i64(1)?;
    let u = a.str(2)?;
    let b = a.i64(3)?;
    Ok(build_str(a.rows, |i| {
        let out = v.get(i).and_then(|x| {
            format_bytes(x, p.get(i).unwrap_or(0), u.get(i), b.get(i).unwrap_or(1024))
        });
        Some(Cow::Owned(out.unwrap_or_default()))
    }))
}

// ---- parse_xml -------------------------------------------------------------------------------

/// A small XML reader for `parse_xml`: elements, attributes, text, CDATA and the standard
/// entities; comments, processing instructions and DOCTYPE are skipped.
struct Xml<'a> {
    s: &'a str,
    pos: usize,
}

#[derive(Debug, Default)]
struct XmlNode {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<XmlNode>,
    text: String,
}

fn decode_entities(t: &str) -> Option<String> {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(k) = rest.find('&') {
        out.push_str(rest.get(..k)?);
        let after = rest.get(k + 1..)?;
        let end = after.find(';')?;
        let ent = after.get(..end)?;
        match ent {
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "amp" => out.push('&'),
            "quot" => out.push('"'),
            "apos" => out.push('\''),
            _ => {
                let code =
                    if let Some(h) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
                        u32::from_str_radix(h, 16).ok()?
                    } else if let Some(d) = ent.strip_prefix('#') {
                        d.parse().ok()?
                    } else {
                        return None;
                    };
                out.push(char::from_u32(code)?);
            }
        }
        rest = after.get(end + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

impl<'a> Xml<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }

    /// Skips `<?...?>`, `<!--...-->` and `<!DOCTYPE ...>`; false when none is next.
    fn skip_misc(&mut self) -> Option<bool> {
        let r = self.rest();
        let end = if r.starts_with("<?") {
            r.find("?>")? + 2
        } else if r.starts_with("<!--") {
            r.find("-->")? + 3
        } else if r.starts_with("<!DOCTYPE") || r.starts_with("<!doctype") {
            r.find('>')? + 1
        } else {
            return Some(false);
        };
        self.pos += end;
        Some(true)
    }

    fn name(&mut self) -> Option<String> {
        let r = self.rest();
        let n = r
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '>' | '='))
            .unwrap_or(r.len());
        if n == 0 {
            return None;
        }
        self.pos += n;
        Some(r.get(..n)?.to_string())
    }

    fn element(&mut self, depth: usize) -> Option<XmlNode> {
        if depth > 256 || !self.rest().starts_with('<') {
            return None;
        }
        self.pos += 1;
        let mut node = XmlNode {
            name: self.name()?,
            ..XmlNode::default()
        };
        loop {
            self.skip_ws();
            let r = self.rest();
            if r.starts_with("/>") {
                self.pos += 2;
                return Some(node);
            }
            if r.starts_with('>') {
                self.pos += 1;
                break;
            }
            let an = self.name()?;
            self.skip_ws();
            if !self.rest().starts_with('=') {
                return None;
            }
            self.pos += 1;
            self.skip_ws();
            let q = self.rest().chars().next()?;
            if q != '"' && q != '\'' {
                return None;
            }
            self.pos += 1;
            let r = self.rest();
            let end = r.find(q)?;
            node.attrs.push((an, decode_entities(r.get(..end)?)?));
            self.pos += end + 1;
        }
        loop {
            let r = self.rest();
            if r.starts_with("</") {
                self.pos += 2;
                let close = self.name()?;
                self.skip_ws();
                if close != node.name || !self.rest().starts_with('>') {
                    return None;
                }
                self.pos += 1;
                return Some(node);
            }
            if r.starts_with("<![CDATA[") {
                let end = r.find("]]>")?;
                node.text.push_str(r.get(9..end)?);
                self.pos += end + 3;
                continue;
            }
            if r.starts_with("<!--") || r.starts_with("<?") {
                self.skip_misc()?;
                continue;
            }
            if r.starts_with('<') {
                let child = self.element(depth + 1)?;
                node.children.push(child);
                continue;
            }
            if r.is_empty() {
                return None;
            }
            let end = r.find('<').unwrap_or(r.len());
            node.text.push_str(&decode_entities(r.get(..end)?)?);
            self.pos += end;
        }
    }
}

fn xml_value(n: XmlNode) -> Value {
    let text = n.text.trim().to_string();
    if n.attrs.is_empty() && n.children.is_empty() {
        return if text.is_empty() {
            Value::Null
        } else {
            Value::String(text)
        };
    }
    let mut m = Map::new();
    for (k, v) in n.attrs {
        m.insert(format!("@{k}"), Value::String(v));
    }
    if !text.is_empty() {
        m.insert("#text".to_string(), Value::String(text));
    }
    for c in n.children {
        let name = c.name.clone();
        let v = xml_value(c);
        match m.get_mut(&name) {
            Some(Value::Array(arr)) => arr.push(v),
            Some(existing) => {
                let prev = existing.take();
                *existing = Value::Array(vec![prev, v]);
            }
            None => {
                m.insert(name, v);
            }
        }
    }
    Value::Object(m)
}

/// `parse_xml`: the document as JSON (`{"root": ...}`), `None` when it is not XML.
pub(crate) fn parse_xml(s: &str) -> Option<Value> {
    if s.len() > 1_048_576 {
        return None;
    }
    let mut x = Xml { s, pos: 0 };
    loop {
        x.skip_ws();
        if !x.skip_misc()? {
            break;
        }
    }
    let root = x.element(0)?;
    loop {
        x.skip_ws();
        if !x.skip_misc()? {
            break;
        }
    }
    if !x.rest().is_empty() {
        return None;
    }
    let mut m = Map::new();
    let name = root.name.clone();
    m.insert(name, xml_value(root));
    Some(Value::Object(m))
}

fn parse_xml_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.str(0)?;
    Ok(build_str(a.rows, |i| {
        parse_xml(x.get(i)).map(|v| Cow::Owned(to_text(&v)))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xxhash_matches_kusto() {
        assert_eq!(xxh64(b"World") as i64, 1_846_988_464_401_551_951);
        assert_eq!(xxh64(b"Hello") as i64, 753_694_413_698_530_628);
        assert_eq!(xxh64(b"World") % 100, 51);
    }

    #[test]
    fn command_lines() {
        assert_eq!(
            split_command_line(r#"echo "hello world!""#),
            vec!["echo", "hello world!"]
        );
        assert_eq!(
            split_command_line(r#""C:\Program Files\x.exe" -a "b c" d\"e f\\"#),
            vec![r"C:\Program Files\x.exe", "-a", "b c", "d\"e", r"f\\"]
        );
        assert_eq!(split_command_line("  "), Vec::<String>::new());
    }

    #[test]
    fn csv_and_paths() {
        assert_eq!(
            csv_fields("aa,\"b,b,b\",cc,\"Escaping quotes: \"\"Title\"\"\",\"line1\nline2\""),
            vec![
                "aa",
                "b,b,b",
                "cc",
                "Escaping quotes: \"Title\"",
                "line1\nline2"
            ]
        );
        assert_eq!(
            csv_fields("record1,a,b,c\nrecord2,x,y,z"),
            vec!["record1", "a", "b", "c"]
        );
        assert_eq!(
            to_text(&path_parts(r"C:\temp\file.txt")),
            r#"{"Scheme":"","RootPath":"C:\\","DirectoryPath":"C:\\temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":""}"#
        );
        assert_eq!(
            to_text(&path_parts("file://C:/temp/file.txt:some.exe")),
            r#"{"Scheme":"file","RootPath":"C:/","DirectoryPath":"C:/temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":"some.exe"}"#
        );
        assert_eq!(
            to_text(&path_parts(r"\\shared\users\temp\file.txt.gz")),
            r#"{"Scheme":"","RootPath":"","DirectoryPath":"\\\\shared\\users\\temp","DirectoryName":"temp","Filename":"file.txt.gz","Extension":"gz","AlternateDataStreamName":""}"#
        );
    }

    #[test]
    fn xml_and_bytes() {
        let x = |s: &str| {
            parse_xml(s)
                .map(|v| to_text(&v))
                .unwrap_or_else(|| "null".into())
        };
        assert_eq!(x("<e/>"), r#"{"e":null}"#);
        assert_eq!(x("<e>text</e>"), r#"{"e":"text"}"#);
        assert_eq!(x(r#"<e name="value" />"#), r#"{"e":{"@name":"value"}}"#);
        assert_eq!(
            x(r#"<e name="value">text</e>"#),
            r##"{"e":{"@name":"value","#text":"text"}}"##
        );
        assert_eq!(
            x("<e> <a>text</a> <b>text</b> </e>"),
            r#"{"e":{"a":"text","b":"text"}}"#
        );
        assert_eq!(
            x("<e> <a>t1</a> <a>t2</a> </e>"),
            r#"{"e":{"a":["t1","t2"]}}"#
        );
        assert_eq!(
            x("<e> text <a>text</a> </e>"),
            r##"{"e":{"#text":"text","a":"text"}}"##
        );
        assert_eq!(
            x("<?xml version=\"1.0\"?><!-- c --><d><v>1 &amp; 2</v><![CDATA[<raw>]]></d>"),
            r##"{"d":{"#text":"<raw>","v":"1 & 2"}}"##
        );
        assert_eq!(x("<a><b></a>"), "null");
        assert_eq!(x("not xml"), "null");
        assert_eq!(
            format_bytes(564.0, 0, "", 1024).as_deref(),
            Some("564 Bytes")
        );
        assert_eq!(
            format_bytes(10332.0, 1, "", 1024).as_deref(),
            Some("10.1 KB")
        );
        assert_eq!(
            format_bytes(20010332.0, 0, "", 1024).as_deref(),
            Some("19 MB")
        );
        assert_eq!(
            format_bytes(20010332.0, 2, "", 1024).as_deref(),
            Some("19.08 MB")
        );
        assert_eq!(
            format_bytes(20010332.0, 0, "KB", 1024).as_deref(),
            Some("19541 KB")
        );
    }

    #[test]
    fn urls() {
        assert_eq!(
            to_text(&url_parts(
                "scheme://username:password@host:1234/this/is/a/path?k1=v1&k2=v2#fragment"
            )),
            r#"{"Scheme":"scheme","Host":"host","Port":"1234","Path":"/this/is/a/path","Username":"username","Password":"password","Query Parameters":{"k1":"v1","k2":"v2"},"Fragment":"fragment"}"#
        );
        assert_eq!(
            url_encode("https://www.bing.com/hello world/", true),
            "https%3a%2f%2fwww.bing.com%2fhello%20world%2f"
        );
        assert_eq!(url_encode("a b&c", false), "a+b%26c");
        assert_eq!(url_decode("a+b%26c%zz", true), "a b&c%zz");
    }
}
