//! KQL geospatial scalar functions (`geo_*`).
//!
//! Every function is one [`GeoUdf`]: a row-by-row kernel over arguments cast to a fixed
//! Arrow type (coordinates `Float64`, levels `Int64`, cells and GeoJSON `Utf8`). Invalid
//! input (coordinates out of range, malformed cells or GeoJSON) yields null, never an error.
//!
//! Distances follow Kusto: great-circle distance on a sphere of radius 6,371,010 m
//! (the S2 Earth radius). H3 cells use the `h3o` crate; geohash is implemented here.

use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Float64Builder, Int32Builder, StringBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use kql_syntax::{KqlType, codes};
use serde_json::{Value, json};

use crate::{ArgType, FnError, LowerContext, TypedExpr};

/// Earth radius used by Kusto's spherical geo functions, in meters.
const EARTH_RADIUS: f64 = 6_371_010.0;

// ---------------------------------------------------------------------------------------
// Function table
// ---------------------------------------------------------------------------------------

/// Kind of one argument, which fixes the Arrow type the kernel reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Numeric, read as Float64.
    F,
    /// Integer, read as Int64.
    I,
    /// String, read as Utf8.
    S,
    /// Dynamic (GeoJSON), read as Utf8 JSON text.
    D,
}

type Kernel = fn(&[ArrayRef], usize) -> Result<ArrayRef>;

struct Spec {
    name: &'static str,
    args: &'static [Kind],
    /// Number of required arguments (the rest are optional).
    min: usize,
    ret: KqlType,
    kernel: Kernel,
}

use Kind::{D, F, I, S};

const SPECS: &[Spec] = &[
    Spec {
        name: "geo_distance_2points",
        args: &[F, F, F, F],
        min: 4,
        ret: KqlType::Real,
        kernel: k_distance_2points,
    },
    Spec {
        name: "geo_point_in_circle",
        args: &[F, F, F, F, F],
        min: 5,
        ret: KqlType::Bool,
        kernel: k_point_in_circle,
    },
    Spec {
        name: "geo_azimuth",
        args: &[F, F, F, F],
        min: 4,
        ret: KqlType::Real,
        kernel: k_azimuth,
    },
    Spec {
        name: "geo_angle",
        args: &[F, F, F, F, F, F],
        min: 6,
        ret: KqlType::Real,
        kernel: k_angle,
    },
    Spec {
        name: "geo_point_to_geohash",
        args: &[F, F, I],
        min: 2,
        ret: KqlType::String,
        kernel: k_point_to_geohash,
    },
    Spec {
        name: "geo_geohash_to_central_point",
        args: &[S],
        min: 1,
        ret: KqlType::Dynamic,
        kernel: k_geohash_to_central_point,
    },
    Spec {
        name: "geo_geohash_to_polygon",
        args: &[S],
        min: 1,
        ret: KqlType::Dynamic,
        kernel: k_geohash_to_polygon,
    },
    Spec {
        name: "geo_geohash_neighbors",
        args: &[S],
        min: 1,
        ret: KqlType::Dynamic,
        kernel: k_geohash_neighbors,
    },
    Spec {
        name: "geo_point_to_h3cell",
        args: &[F, F, I],
        min: 2,
        ret: KqlType::String,
        kernel: k_point_to_h3cell,
    },
    Spec {
        name: "geo_h3cell_level",
        args: &[S],
        min: 1,
        ret: KqlType::Int,
        kernel: k_h3cell_level,
    },
    Spec {
        name: "geo_h3cell_parent",
        args: &[S, I],
        min: 1,
        ret: KqlType::String,
        kernel: k_h3cell_parent,
    },
    Spec {
        name: "geo_h3cell_children",
        args: &[S, I],
        min: 1,
        ret: KqlType::Dynamic,
        kernel: k_h3cell_children,
    },
    Spec {
        name: "geo_h3cell_neighbors",
        args: &[S],
        min: 1,
        ret: KqlType::Dynamic,
        kernel: k_h3cell_neighbors,
    },
    Spec {
        name: "geo_h3cell_rings",
        args: &[S, I],
        min: 2,
        ret: KqlType::Dynamic,
        kernel: k_h3cell_rings,
    },
    Spec {
        name: "geo_h3cell_to_polygon",
        args: &[S],
        min: 1,
        ret: KqlType::Dynamic,
        kernel: k_h3cell_to_polygon,
    },
    Spec {
        name: "geo_h3cell_to_central_point",
        args: &[S],
        min: 1,
        ret: KqlType::Dynamic,
        kernel: k_h3cell_to_central_point,
    },
    Spec {
        name: "geo_from_wkt",
        args: &[S],
        min: 1,
        ret: KqlType::Dynamic,
        kernel: k_from_wkt,
    },
    Spec {
        name: "geo_line_length",
        args: &[D],
        min: 1,
        ret: KqlType::Real,
        kernel: k_line_length,
    },
    Spec {
        name: "geo_polygon_perimeter",
        args: &[D],
        min: 1,
        ret: KqlType::Real,
        kernel: k_polygon_perimeter,
    },
    Spec {
        name: "geo_line_interpolate_point",
        args: &[D, F],
        min: 2,
        ret: KqlType::Dynamic,
        kernel: k_line_interpolate_point,
    },
    Spec {
        name: "geo_point_in_polygon",
        args: &[F, F, D],
        min: 3,
        ret: KqlType::Bool,
        kernel: k_point_in_polygon,
    },
];

fn spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

/// Is `name` a geospatial function implemented here?
pub fn is_geo(name: &str) -> bool {
    spec(name).is_some()
}

fn kind_accepts(kind: Kind, ty: KqlType) -> bool {
    match kind {
        F | I => matches!(
            ty,
            KqlType::Int | KqlType::Long | KqlType::Real | KqlType::Decimal
        ),
        S => matches!(ty, KqlType::String | KqlType::Dynamic),
        D => matches!(ty, KqlType::Dynamic | KqlType::String),
    }
}

fn kind_type(kind: Kind) -> DataType {
    match kind {
        F => DataType::Float64,
        I => DataType::Int64,
        S | D => DataType::Utf8,
    }
}

fn check_args(
    name: &str,
    types: impl ExactSizeIterator<Item = KqlType>,
) -> Result<&'static Spec, FnError> {
    let Some(s) = spec(name) else {
        return Err(FnError::new(
            codes::UNKNOWN_FUNCTION,
            format!("unknown function '{name}'"),
        ));
    };
    let n = types.len();
    if n < s.min || n > s.args.len() {
        let want = if s.min == s.args.len() {
            format!("{}", s.min)
        } else {
            format!("{} to {}", s.min, s.args.len())
        };
        return Err(FnError::new(
            codes::WRONG_ARG_COUNT,
            format!("{name}() expects {want} arguments, got {n}"),
        ));
    }
    for (i, (ty, kind)) in types.zip(s.args.iter()).enumerate() {
        if !kind_accepts(*kind, ty) {
            let want = match kind {
                F => "a number",
                I => "an integer",
                S => "a string",
                D => "a dynamic value",
            };
            return Err(FnError::new(
                codes::TYPE_MISMATCH,
                format!("{name}() argument {}: expected {want}, got {ty:?}", i + 1),
            )
            .at(i));
        }
    }
    Ok(s)
}

/// Result type of geospatial function `name` over `args`.
pub fn geo_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    check_args(name, args.iter().map(|a| a.ty)).map(|s| s.ret)
}

/// Lowers a geospatial call to a DataFusion expression.
pub fn geo_lower(
    _ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    _ret: KqlType,
) -> Result<Expr, FnError> {
    let s = check_args(name, args.iter().map(|a| a.ty))?;
    let mut types = Vec::with_capacity(args.len());
    let mut exprs = Vec::with_capacity(args.len());
    for (a, kind) in args.into_iter().zip(s.args.iter()) {
        let dt = kind_type(*kind);
        let e = if crate::arrow_type(a.ty) == dt {
            a.expr
        } else {
            datafusion::logical_expr::cast(a.expr, dt.clone())
        };
        types.push(dt);
        exprs.push(e);
    }
    let udf = GeoUdf {
        name: s.name,
        signature: Signature::exact(types, Volatility::Immutable),
        ret: crate::arrow_type(s.ret),
        kernel: s.kernel,
    };
    Ok(Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(ScalarUDF::new_from_impl(udf)),
        exprs,
    )))
}

// ---------------------------------------------------------------------------------------
// UDF plumbing
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct GeoUdf {
    name: &'static str,
    signature: Signature,
    ret: DataType,
    kernel: Kernel,
}

impl PartialEq for GeoUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.signature == other.signature && self.ret == other.ret
    }
}

impl Eq for GeoUdf {}

impl Hash for GeoUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.ret.hash(state);
    }
}

impl ScalarUDFImpl for GeoUdf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.ret.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let declared: Vec<DataType> = match &self.signature.type_signature {
            datafusion::logical_expr::TypeSignature::Exact(types) => types.clone(),
            _ => args.args.iter().map(ColumnarValue::data_type).collect(),
        };
        let mut cols = Vec::with_capacity(args.args.len());
        for (i, a) in args.args.iter().enumerate() {
            let arr = a.to_array(rows)?;
            let arr = match declared.get(i) {
                Some(dt) if dt != arr.data_type() => cast(&arr, dt)?,
                _ => arr,
            };
            cols.push(arr);
        }
        let out = (self.kernel)(&cols, rows)?;
        if out.data_type() != &self.ret {
            return Err(DataFusionError::Internal(format!(
                "{}: kernel returned {}, expected {}",
                self.name,
                out.data_type(),
                self.ret
            )));
        }
        Ok(ColumnarValue::Array(out))
    }
}

/// Float argument `k` at row `i` (null when absent, null or NaN).
fn f64_at(cols: &[ArrayRef], k: usize, i: usize) -> Option<f64> {
    let a = cols.get(k)?.as_primitive_opt::<Float64Type>()?;
    if i >= a.len() || a.is_null(i) {
        return None;
    }
    let v = a.value(i);
    v.is_finite().then_some(v)
}

/// Integer argument `k` at row `i`.
fn i64_at(cols: &[ArrayRef], k: usize, i: usize) -> Option<i64> {
    let a = cols.get(k)?.as_primitive_opt::<Int64Type>()?;
    if i >= a.len() || a.is_null(i) {
        return None;
    }
    Some(a.value(i))
}

/// Optional integer argument: `Ok(None)` when the argument is not passed, `Err(())` when
/// it is passed but null at this row.
fn opt_i64_at(cols: &[ArrayRef], k: usize, i: usize) -> Result<Option<i64>, ()> {
    if cols.len() <= k {
        return Ok(None);
    }
    i64_at(cols, k, i).map(Some).ok_or(())
}

/// String argument `k` at row `i`.
fn str_at(cols: &[ArrayRef], k: usize, i: usize) -> Option<&str> {
    let a = cols.get(k)?.as_string_opt::<i32>()?;
    if i >= a.len() || a.is_null(i) {
        return None;
    }
    Some(a.value(i))
}

/// Dynamic argument `k` at row `i`, parsed.
fn json_at(cols: &[ArrayRef], k: usize, i: usize) -> Option<Value> {
    serde_json::from_str(str_at(cols, k, i)?).ok()
}

fn out_f64(rows: usize, f: impl Fn(usize) -> Option<f64>) -> ArrayRef {
    let mut b = Float64Builder::with_capacity(rows);
    for i in 0..rows {
        b.append_option(f(i).filter(|v| v.is_finite()));
    }
    Arc::new(b.finish())
}

fn out_bool(rows: usize, f: impl Fn(usize) -> Option<bool>) -> ArrayRef {
    let mut b = BooleanBuilder::with_capacity(rows);
    for i in 0..rows {
        b.append_option(f(i));
    }
    Arc::new(b.finish())
}

fn out_i32(rows: usize, f: impl Fn(usize) -> Option<i32>) -> ArrayRef {
    let mut b = Int32Builder::with_capacity(rows);
    for i in 0..rows {
        b.append_option(f(i));
    }
    Arc::new(b.finish())
}

fn out_str(rows: usize, f: impl Fn(usize) -> Option<String>) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        b.append_option(f(i));
    }
    Arc::new(b.finish())
}

fn out_json(rows: usize, f: impl Fn(usize) -> Option<Value>) -> ArrayRef {
    out_str(rows, |i| {
        f(i).filter(|v| !v.is_null())
            .and_then(|v| serde_json::to_string(&v).ok())
    })
}

// ---------------------------------------------------------------------------------------
// Spherical math
// ---------------------------------------------------------------------------------------

fn valid_lng(lng: f64) -> bool {
    (-180.0..=180.0).contains(&lng)
}

fn valid_lat(lat: f64) -> bool {
    (-90.0..=90.0).contains(&lat)
}

fn valid_point(lng: f64, lat: f64) -> bool {
    valid_lng(lng) && valid_lat(lat)
}

/// Unit vector of a (lng, lat) point in degrees.
fn to_vec(lng: f64, lat: f64) -> [f64; 3] {
    let (lng, lat) = (lng.to_radians(), lat.to_radians());
    [lat.cos() * lng.cos(), lat.cos() * lng.sin(), lat.sin()]
}

/// (lng, lat) in degrees of a (not necessarily unit) vector.
fn from_vec(v: [f64; 3]) -> (f64, f64) {
    let [x, y, z] = v;
    let lat = z.atan2((x * x + y * y).sqrt());
    let lng = y.atan2(x);
    (lng.to_degrees(), lat.to_degrees())
}

/// Central angle (radians) between two points (haversine).
fn central_angle(lng1: f64, lat1: f64, lng2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * a.sqrt().min(1.0).asin()
}

/// Great-circle distance in meters between two valid points.
fn distance(lng1: f64, lat1: f64, lng2: f64, lat2: f64) -> f64 {
    central_angle(lng1, lat1, lng2, lat2) * EARTH_RADIUS
}

/// Checked distance: null when a coordinate is out of range.
fn checked_distance(lng1: f64, lat1: f64, lng2: f64, lat2: f64) -> Option<f64> {
    (valid_point(lng1, lat1) && valid_point(lng2, lat2)).then(|| distance(lng1, lat1, lng2, lat2))
}

/// Initial bearing from point 1 to point 2, radians clockwise from north in [0, 2π).
fn azimuth(lng1: f64, lat1: f64, lng2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dl = (lng2 - lng1).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    y.atan2(x).rem_euclid(std::f64::consts::TAU)
}

/// Spherical linear interpolation between two unit vectors.
fn slerp(a: [f64; 3], b: [f64; 3], t: f64) -> [f64; 3] {
    let dot = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]).clamp(-1.0, 1.0);
    let theta = dot.acos();
    if theta.abs() < 1e-15 {
        return a;
    }
    let s = theta.sin();
    let wa = ((1.0 - t) * theta).sin() / s;
    let wb = (t * theta).sin() / s;
    [
        wa * a[0] + wb * b[0],
        wa * a[1] + wb * b[1],
        wa * a[2] + wb * b[2],
    ]
}

fn point_json(lng: f64, lat: f64) -> Value {
    json!({"type": "Point", "coordinates": [lng, lat]})
}

// ---------------------------------------------------------------------------------------
// Distance, azimuth, angle, circle
// ---------------------------------------------------------------------------------------

fn k_distance_2points(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_f64(rows, |i| {
        checked_distance(
            f64_at(c, 0, i)?,
            f64_at(c, 1, i)?,
            f64_at(c, 2, i)?,
            f64_at(c, 3, i)?,
        )
    }))
}

fn k_point_in_circle(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_bool(rows, |i| {
        let radius = f64_at(c, 4, i)?;
        if radius < 0.0 {
            return None;
        }
        let d = checked_distance(
            f64_at(c, 0, i)?,
            f64_at(c, 1, i)?,
            f64_at(c, 2, i)?,
            f64_at(c, 3, i)?,
        )?;
        Some(d <= radius)
    }))
}

fn k_azimuth(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_f64(rows, |i| {
        let (a, b, x, y) = (
            f64_at(c, 0, i)?,
            f64_at(c, 1, i)?,
            f64_at(c, 2, i)?,
            f64_at(c, 3, i)?,
        );
        if !valid_point(a, b) || !valid_point(x, y) || (a == x && b == y) {
            return None;
        }
        Some(azimuth(a, b, x, y))
    }))
}

fn k_angle(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_f64(rows, |i| {
        let p1 = (f64_at(c, 0, i)?, f64_at(c, 1, i)?);
        let p2 = (f64_at(c, 2, i)?, f64_at(c, 3, i)?);
        let p3 = (f64_at(c, 4, i)?, f64_at(c, 5, i)?);
        if ![p1, p2, p3].iter().all(|p| valid_point(p.0, p.1)) || p1 == p2 || p2 == p3 {
            return None;
        }
        let a1 = azimuth(p2.0, p2.1, p1.0, p1.1);
        let a3 = azimuth(p2.0, p2.1, p3.0, p3.1);
        Some((a3 - a1).rem_euclid(std::f64::consts::TAU))
    }))
}

// ---------------------------------------------------------------------------------------
// Geohash
// ---------------------------------------------------------------------------------------

const GEOHASH_ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

fn geohash_encode(lng: f64, lat: f64, len: usize) -> Option<String> {
    if !valid_point(lng, lat) || !(1..=18).contains(&len) {
        return None;
    }
    let (mut lo_lng, mut hi_lng) = (-180.0_f64, 180.0_f64);
    let (mut lo_lat, mut hi_lat) = (-90.0_f64, 90.0_f64);
    let mut out = String::with_capacity(len);
    let mut even = true;
    for _ in 0..len {
        let mut v = 0usize;
        for _ in 0..5 {
            let (lo, hi, x) = if even {
                (&mut lo_lng, &mut hi_lng, lng)
            } else {
                (&mut lo_lat, &mut hi_lat, lat)
            };
            let mid = (*lo + *hi) / 2.0;
            v <<= 1;
            if x >= mid {
                v |= 1;
                *lo = mid;
            } else {
                *hi = mid;
            }
            even = !even;
        }
        out.push(char::from(*GEOHASH_ALPHABET.get(v)?));
    }
    Some(out)
}

/// Bounds (min_lng, min_lat, max_lng, max_lat) of a geohash.
fn geohash_bounds(hash: &str) -> Option<(f64, f64, f64, f64)> {
    if hash.is_empty() || hash.len() > 18 {
        return None;
    }
    let (mut lo_lng, mut hi_lng) = (-180.0_f64, 180.0_f64);
    let (mut lo_lat, mut hi_lat) = (-90.0_f64, 90.0_f64);
    let mut even = true;
    for ch in hash.bytes() {
        let v = GEOHASH_ALPHABET
            .iter()
            .position(|c| *c == ch.to_ascii_lowercase())?;
        for bit in (0..5).rev() {
            let (lo, hi) = if even {
                (&mut lo_lng, &mut hi_lng)
            } else {
                (&mut lo_lat, &mut hi_lat)
            };
            let mid = (*lo + *hi) / 2.0;
            if (v >> bit) & 1 == 1 {
                *lo = mid;
            } else {
                *hi = mid;
            }
            even = !even;
        }
    }
    Some((lo_lng, lo_lat, hi_lng, hi_lat))
}

fn geohash_neighbors(hash: &str) -> Option<Vec<String>> {
    let (x0, y0, x1, y1) = geohash_bounds(hash)?;
    let (w, h) = (x1 - x0, y1 - y0);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    // Kusto's order: W, SW, S, SE, NE, E, N, NW.
    const DIRS: [(f64, f64); 8] = [
        (-1.0, 0.0),
        (-1.0, -1.0),
        (0.0, -1.0),
        (1.0, -1.0),
        (1.0, 1.0),
        (1.0, 0.0),
        (0.0, 1.0),
        (-1.0, 1.0),
    ];
    let mut out = Vec::with_capacity(8);
    for (dx, dy) in DIRS {
        let lat = cy + dy * h;
        if !valid_lat(lat) {
            continue;
        }
        let mut lng = cx + dx * w;
        if lng > 180.0 {
            lng -= 360.0;
        } else if lng < -180.0 {
            lng += 360.0;
        }
        let n = geohash_encode(lng, lat, hash.len())?;
        if n != hash && !out.contains(&n) {
            out.push(n);
        }
    }
    Some(out)
}

fn k_point_to_geohash(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_str(rows, |i| {
        let len = opt_i64_at(c, 2, i).ok()?.unwrap_or(5);
        geohash_encode(
            f64_at(c, 0, i)?,
            f64_at(c, 1, i)?,
            usize::try_from(len).ok()?,
        )
    }))
}

fn k_geohash_to_central_point(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_json(rows, |i| {
        let (x0, y0, x1, y1) = geohash_bounds(str_at(c, 0, i)?)?;
        Some(point_json((x0 + x1) / 2.0, (y0 + y1) / 2.0))
    }))
}

fn k_geohash_to_polygon(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_json(rows, |i| {
        let (x0, y0, x1, y1) = geohash_bounds(str_at(c, 0, i)?)?;
        Some(json!({
            "type": "Polygon",
            "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]
        }))
    }))
}

fn k_geohash_neighbors(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_json(rows, |i| {
        Some(Value::from(geohash_neighbors(str_at(c, 0, i)?)?))
    }))
}

// ---------------------------------------------------------------------------------------
// H3
// ---------------------------------------------------------------------------------------

fn h3_cell(s: &str) -> Option<h3o::CellIndex> {
    h3o::CellIndex::from_str(s).ok()
}

fn h3_res(v: i64) -> Option<h3o::Resolution> {
    h3o::Resolution::try_from(u8::try_from(v).ok()?).ok()
}

fn h3_strings(cells: impl IntoIterator<Item = h3o::CellIndex>) -> Value {
    Value::Array(
        cells
            .into_iter()
            .map(|c| Value::String(c.to_string()))
            .collect(),
    )
}

fn k_point_to_h3cell(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_str(rows, |i| {
        let res = h3_res(opt_i64_at(c, 2, i).ok()?.unwrap_or(6))?;
        let (lng, lat) = (f64_at(c, 0, i)?, f64_at(c, 1, i)?);
        if !valid_point(lng, lat) {
            return None;
        }
        let ll = h3o::LatLng::new(lat, lng).ok()?;
        Some(ll.to_cell(res).to_string())
    }))
}

fn k_h3cell_level(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_i32(rows, |i| {
        let cell = h3_cell(str_at(c, 0, i)?)?;
        Some(i32::from(u8::from(cell.resolution())))
    }))
}

fn k_h3cell_parent(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_str(rows, |i| {
        let cell = h3_cell(str_at(c, 0, i)?)?;
        let level = i64::from(u8::from(cell.resolution()));
        let res = h3_res(opt_i64_at(c, 1, i).ok()?.unwrap_or(level - 1))?;
        Some(cell.parent(res)?.to_string())
    }))
}

fn k_h3cell_children(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_json(rows, |i| {
        let cell = h3_cell(str_at(c, 0, i)?)?;
        let level = i64::from(u8::from(cell.resolution()));
        let target = opt_i64_at(c, 1, i).ok()?.unwrap_or(level + 1);
        // Bound the output size (7^6 cells).
        if target < level || target - level > 6 {
            return None;
        }
        let res = h3_res(target)?;
        Some(h3_strings(cell.children(res)))
    }))
}

fn k_h3cell_neighbors(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_json(rows, |i| {
        let cell = h3_cell(str_at(c, 0, i)?)?;
        let disk: Vec<h3o::CellIndex> = cell.grid_disk(1);
        Some(h3_strings(disk.into_iter().filter(|n| *n != cell)))
    }))
}

fn k_h3cell_rings(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_json(rows, |i| {
        let cell = h3_cell(str_at(c, 0, i)?)?;
        let k = u32::try_from(i64_at(c, 1, i)?).ok()?;
        if k > 142 {
            return None;
        }
        let disk: Vec<(h3o::CellIndex, u32)> = cell.grid_disk_distances(k);
        let mut rings: Vec<Vec<Value>> = vec![Vec::new(); usize::try_from(k).ok()? + 1];
        for (n, d) in disk {
            if let Some(r) = usize::try_from(d).ok().and_then(|d| rings.get_mut(d)) {
                r.push(Value::String(n.to_string()));
            }
        }
        Some(Value::Array(rings.into_iter().map(Value::Array).collect()))
    }))
}

fn k_h3cell_to_polygon(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_json(rows, |i| {
        let cell = h3_cell(str_at(c, 0, i)?)?;
        let boundary = cell.boundary();
        let mut ring: Vec<Value> = boundary
            .iter()
            .map(|ll| json!([ll.lng(), ll.lat()]))
            .collect();
        let first = ring.first()?.clone();
        ring.push(first);
        Some(json!({"type": "Polygon", "coordinates": [ring]}))
    }))
}

fn k_h3cell_to_central_point(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_json(rows, |i| {
        let cell = h3_cell(str_at(c, 0, i)?)?;
        let ll = h3o::LatLng::from(cell);
        Some(point_json(ll.lng(), ll.lat()))
    }))
}

// ---------------------------------------------------------------------------------------
// WKT
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Num(f64),
    Open,
    Close,
    Comma,
}

fn wkt_tokens(s: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&ch) = chars.peek() {
        if ch.is_whitespace() {
            chars.next();
        } else if ch == '(' {
            chars.next();
            out.push(Tok::Open);
        } else if ch == ')' {
            chars.next();
            out.push(Tok::Close);
        } else if ch == ',' {
            chars.next();
            out.push(Tok::Comma);
        } else if ch.is_ascii_alphabetic() {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphabetic() {
                    w.push(c.to_ascii_uppercase());
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Tok::Word(w));
        } else if ch.is_ascii_digit() || matches!(ch, '-' | '+' | '.') {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E') {
                    w.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Tok::Num(w.parse().ok()?));
        } else {
            return None;
        }
    }
    Some(out)
}

struct WktParser {
    toks: Vec<Tok>,
    pos: usize,
}

impl WktParser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, t: &Tok) -> Option<()> {
        (self.next()? == *t).then_some(())
    }

    fn point(&mut self) -> Option<Value> {
        let Some(Tok::Num(x)) = self.next() else {
            return None;
        };
        let Some(Tok::Num(y)) = self.next() else {
            return None;
        };
        // Ignore Z / M values.
        while let Some(Tok::Num(_)) = self.peek() {
            self.pos += 1;
        }
        if !valid_point(x, y) {
            return None;
        }
        Some(json!([x, y]))
    }

    /// `( item, item, ... )`
    fn list(&mut self, item: fn(&mut Self) -> Option<Value>) -> Option<Value> {
        self.expect(&Tok::Open)?;
        let mut v = vec![item(self)?];
        loop {
            match self.next()? {
                Tok::Comma => v.push(item(self)?),
                Tok::Close => return Some(Value::Array(v)),
                _ => return None,
            }
        }
    }

    fn points(&mut self) -> Option<Value> {
        self.list(Self::point)
    }

    fn multipoint_item(&mut self) -> Option<Value> {
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            let p = self.point()?;
            self.expect(&Tok::Close)?;
            Some(p)
        } else {
            self.point()
        }
    }

    fn rings(&mut self) -> Option<Value> {
        self.list(Self::points)
    }

    fn geometry(&mut self) -> Option<Value> {
        let Some(Tok::Word(kind)) = self.next() else {
            return None;
        };
        if let Some(Tok::Word(w)) = self.peek()
            && matches!(w.as_str(), "Z" | "M" | "ZM")
        {
            self.pos += 1;
        }
        let (name, coords) = match kind.as_str() {
            "POINT" => {
                self.expect(&Tok::Open)?;
                let p = self.point()?;
                self.expect(&Tok::Close)?;
                ("Point", p)
            }
            "LINESTRING" => ("LineString", self.points()?),
            "POLYGON" => ("Polygon", self.rings()?),
            "MULTIPOINT" => ("MultiPoint", self.list(Self::multipoint_item)?),
            "MULTILINESTRING" => ("MultiLineString", self.rings()?),
            "MULTIPOLYGON" => ("MultiPolygon", self.list(Self::rings)?),
            "GEOMETRYCOLLECTION" => {
                let g = self.list(Self::geometry)?;
                return Some(json!({"type": "GeometryCollection", "geometries": g}));
            }
            _ => return None,
        };
        Some(json!({"type": name, "coordinates": coords}))
    }
}

fn from_wkt(s: &str) -> Option<Value> {
    let mut p = WktParser {
        toks: wkt_tokens(s)?,
        pos: 0,
    };
    let g = p.geometry()?;
    (p.pos == p.toks.len()).then_some(g)
}

fn k_from_wkt(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_json(rows, |i| from_wkt(str_at(c, 0, i)?)))
}

// ---------------------------------------------------------------------------------------
// GeoJSON lines and polygons
// ---------------------------------------------------------------------------------------

type Pt = (f64, f64);

fn geo_point(v: &Value) -> Option<Pt> {
    let a = v.as_array()?;
    if a.len() < 2 {
        return None;
    }
    let lng = a.first()?.as_f64()?;
    let lat = a.get(1)?.as_f64()?;
    valid_point(lng, lat).then_some((lng, lat))
}

fn geo_points(v: &Value) -> Option<Vec<Pt>> {
    v.as_array()?.iter().map(geo_point).collect()
}

/// A valid line: at least two points, not all equal.
fn geo_line(v: &Value) -> Option<Vec<Pt>> {
    let pts = geo_points(v)?;
    let first = *pts.first()?;
    (pts.len() >= 2 && pts.iter().any(|p| *p != first)).then_some(pts)
}

/// Lines of a LineString or MultiLineString.
fn geo_lines(g: &Value) -> Option<Vec<Vec<Pt>>> {
    let coords = g.get("coordinates")?;
    match g.get("type")?.as_str()? {
        "LineString" => Some(vec![geo_line(coords)?]),
        "MultiLineString" => {
            let v: Option<Vec<_>> = coords.as_array()?.iter().map(geo_line).collect();
            v.filter(|v| !v.is_empty())
        }
        _ => None,
    }
}

/// A valid ring: closed, at least 4 points, at least 3 distinct vertices.
fn geo_ring(v: &Value) -> Option<Vec<Pt>> {
    let pts = geo_points(v)?;
    if pts.len() < 4 || pts.first() != pts.last() {
        return None;
    }
    let mut distinct: Vec<Pt> = Vec::new();
    for p in &pts {
        if !distinct.contains(p) {
            distinct.push(*p);
        }
    }
    (distinct.len() >= 3).then_some(pts)
}

fn geo_polygon_rings(v: &Value) -> Option<Vec<Vec<Pt>>> {
    let v: Option<Vec<_>> = v.as_array()?.iter().map(geo_ring).collect();
    v.filter(|v| !v.is_empty())
}

/// Polygons (each a list of rings, the first the shell) of a Polygon or MultiPolygon.
fn geo_polygons(g: &Value) -> Option<Vec<Vec<Vec<Pt>>>> {
    let coords = g.get("coordinates")?;
    match g.get("type")?.as_str()? {
        "Polygon" => Some(vec![geo_polygon_rings(coords)?]),
        "MultiPolygon" => {
            let v: Option<Vec<_>> = coords.as_array()?.iter().map(geo_polygon_rings).collect();
            v.filter(|v| !v.is_empty())
        }
        _ => None,
    }
}

fn path_length(pts: &[Pt]) -> f64 {
    pts.windows(2)
        .map(|w| match w {
            [a, b] => distance(a.0, a.1, b.0, b.1),
            _ => 0.0,
        })
        .sum()
}

fn k_line_length(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_f64(rows, |i| {
        let lines = geo_lines(&json_at(c, 0, i)?)?;
        Some(lines.iter().map(|l| path_length(l)).sum())
    }))
}

fn k_polygon_perimeter(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_f64(rows, |i| {
        let polys = geo_polygons(&json_at(c, 0, i)?)?;
        Some(polys.iter().flatten().map(|r| path_length(r)).sum())
    }))
}

fn interpolate_line(pts: &[Pt], fraction: f64) -> Option<Pt> {
    if !(0.0..=1.0).contains(&fraction) {
        return None;
    }
    let total = path_length(pts);
    let target = total * fraction;
    let mut acc = 0.0;
    for w in pts.windows(2) {
        let [a, b] = w else { continue };
        let d = distance(a.0, a.1, b.0, b.1);
        if d > 0.0 && acc + d >= target {
            let t = ((target - acc) / d).clamp(0.0, 1.0);
            return Some(from_vec(slerp(to_vec(a.0, a.1), to_vec(b.0, b.1), t)));
        }
        acc += d;
    }
    pts.last().copied()
}

fn k_line_interpolate_point(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_json(rows, |i| {
        let g = json_at(c, 0, i)?;
        if g.get("type")?.as_str()? != "LineString" {
            return None;
        }
        let pts = geo_line(g.get("coordinates")?)?;
        let (lng, lat) = interpolate_line(&pts, f64_at(c, 1, i)?)?;
        Some(point_json(lng, lat))
    }))
}

/// Planar even-odd test of a point against one ring.
fn ring_contains(ring: &[Pt], p: Pt) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let [a, b] = w else { continue };
        if (a.1 > p.1) != (b.1 > p.1) {
            let x = a.0 + (p.1 - a.1) / (b.1 - a.1) * (b.0 - a.0);
            if p.0 < x {
                inside = !inside;
            }
        }
    }
    inside
}

fn polygon_contains(rings: &[Vec<Pt>], p: Pt) -> bool {
    let Some((shell, holes)) = rings.split_first() else {
        return false;
    };
    ring_contains(shell, p) && !holes.iter().any(|h| ring_contains(h, p))
}

fn k_point_in_polygon(c: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    Ok(out_bool(rows, |i| {
        let p = (f64_at(c, 0, i)?, f64_at(c, 1, i)?);
        if !valid_point(p.0, p.1) {
            return None;
        }
        let polys = geo_polygons(&json_at(c, 2, i)?)?;
        Some(polys.iter().any(|r| polygon_contains(r, p)))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_matches_kusto() {
        let d = distance(-122.407628, 47.578557, -118.275287, 34.019056);
        assert!((d - 1546754.3519738095).abs() < 1e-3, "{d}");
        let d = distance(-122.3518577, 47.6205099, -122.3519241, 47.6097268);
        assert_eq!(d as i64, 1199);
    }

    #[test]
    fn geohash_roundtrip() {
        assert_eq!(
            geohash_encode(-80.195829, 25.802215, 8).as_deref(),
            Some("dhwfz15h")
        );
        assert_eq!(
            geohash_encode(139.806115, 35.554128, 5).as_deref(),
            Some("xn76m")
        );
        assert_eq!(
            geohash_neighbors("sunny"),
            Some(
                [
                    "sunnv", "sunnt", "sunnw", "sunnx", "sunpp", "sunnz", "sunpn", "sunpj"
                ]
                .iter()
                .map(|s| (*s).to_string())
                .collect()
            )
        );
        assert_eq!(geohash_bounds("a"), None);
    }

    #[test]
    fn angles() {
        let a = azimuth(5.0, 10.0, 10.0, -40.0);
        assert!((a - 3.054599397964492).abs() < 1e-9, "{a}");
    }

    #[test]
    fn wkt() {
        let g = from_wkt("MULTIPOLYGON (((0 0, 2 0, 2 2, 0 0)),((10 10, 12 10, 12 12, 10 10)))");
        assert_eq!(
            g.map(|v| v.to_string()).as_deref(),
            Some(
                "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0.0,0.0],[2.0,0.0],[2.0,2.0],[0.0,0.0]]],[[[10.0,10.0],[12.0,10.0],[12.0,12.0],[10.0,10.0]]]]}"
            )
        );
        assert_eq!(from_wkt("LINESTRING"), None);
    }
}
