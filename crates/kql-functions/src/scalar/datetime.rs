//! Date and time: `now`, `ago`, `datetime_add`, `datetime_diff`, `datetime_part`,
//! `getyear`/`getmonth`/`monthofyear`/`dayofmonth`/`dayofyear`/`hourofday`/
//! `weekofyear`/`week_of_year`/`dayofweek`, `startof*`/`endof*` (with offsets),
//! `make_datetime`, `make_timespan`, `unixtime_*_todatetime`, `format_datetime`,
//! `format_timespan`, `ingestion_time`.
//!
//! `now()`/`ago()` read the fixed query start time from [`LowerContext`], never the clock.
//! Weeks start on Sunday (`startofweek`, `dayofweek`), `week_of_year` is the ISO 8601
//! week. `datetime_diff` counts crossed unit boundaries (`diff('day', 23:00, 01:00) = 0`).
//! `ingestion_time()` is null here; the binder reads it as the row's `Timestamp` where there
//! is one (Peregrine does not record a separate ingestion time).

use std::borrow::Cow;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Expr, Operator, binary_expr, cast, lit};
use kql_syntax::KqlType;

use crate::convert::typed_to;
use crate::format::{NANOS_PER_DAY, NANOS_PER_HOUR, NANOS_PER_MIN, NANOS_PER_SEC, NANOS_PER_TICK};
use crate::operators::as_str;
use crate::sig::{self, P, check};
use crate::udf::{Args, build_dur, build_i32, build_i64, build_str, build_ts, call};
use crate::{ArgType, FnError, LowerContext, TypedExpr};

use KqlType as K;

pub(crate) const NAMES: &[&str] = &[
    "now",
    "ago",
    "datetime_add",
    "datetime_diff",
    "datetime_part",
    "getyear",
    "getmonth",
    "monthofyear",
    "dayofmonth",
    "dayofyear",
    "hourofday",
    "weekofyear",
    "week_of_year",
    "dayofweek",
    "startofday",
    "startofweek",
    "startofmonth",
    "startofyear",
    "endofday",
    "endofweek",
    "endofmonth",
    "endofyear",
    "make_datetime",
    "make_timespan",
    "unixtime_seconds_todatetime",
    "unixtime_milliseconds_todatetime",
    "unixtime_microseconds_todatetime",
    "unixtime_nanoseconds_todatetime",
    "format_datetime",
    "format_timespan",
    "ingestion_time",
    "datetime_utc_to_local",
    "datetime_local_to_utc",
    "datetime_list_timezones",
];

pub(crate) fn return_type(name: &str, args: &[ArgType]) -> Result<KqlType, FnError> {
    Ok(match name {
        "now" => {
            check(name, args, 0, &[P::TimeSpan])?;
            K::DateTime
        }
        "ago" => {
            check(name, args, 1, &[P::TimeSpan])?;
            K::DateTime
        }
        "datetime_add" => {
            check(name, args, 3, &[P::Str, P::Int, P::DateTime])?;
            check_part(name, args, true)?;
            K::DateTime
        }
        "datetime_diff" => {
            check(name, args, 3, &[P::Str, P::DateTime, P::DateTime])?;
            check_part(name, args, true)?;
            K::Long
        }
        "datetime_part" => {
            check(name, args, 2, &[P::Str, P::DateTime])?;
            check_part(name, args, false)?;
            K::Int
        }
        "getyear" | "getmonth" | "monthofyear" | "dayofmonth" | "dayofyear" | "hourofday"
        | "minuteofhour" | "secondofminute" | "weekofyear" | "week_of_year" => {
            check(name, args, 1, &[P::DateTime])?;
            K::Int
        }
        "dayofweek" => {
            check(name, args, 1, &[P::DateTime])?;
            K::TimeSpan
        }
        "startofday" | "startofweek" | "startofmonth" | "startofyear" | "endofday"
        | "endofweek" | "endofmonth" | "endofyear" => {
            check(name, args, 1, &[P::DateTime, P::Int])?;
            K::DateTime
        }
        "make_datetime" => {
            check(
                name,
                args,
                3,
                &[P::Num, P::Num, P::Num, P::Num, P::Num, P::Num],
            )?;
            K::DateTime
        }
        "make_timespan" => {
            check(name, args, 2, &[P::Int, P::Int, P::Num, P::Num])?;
            K::TimeSpan
        }
        "unixtime_seconds_todatetime"
        | "unixtime_milliseconds_todatetime"
        | "unixtime_microseconds_todatetime"
        | "unixtime_nanoseconds_todatetime" => {
            check(name, args, 1, &[P::Num])?;
            K::DateTime
        }
        "format_datetime" => {
            check(name, args, 2, &[P::DateTime, P::Str])?;
            if let Some(f) = sig::const_str(args, 1) {
                validate_format(name, f, false)?;
            }
            K::String
        }
        "format_timespan" => {
            check(name, args, 2, &[P::TimeSpan, P::Str])?;
            if let Some(f) = sig::const_str(args, 1) {
                validate_format(name, f, true)?;
            }
            K::String
        }
        "ingestion_time" => {
            check(name, args, 0, &[])?;
            K::DateTime
        }
        "datetime_utc_to_local" | "datetime_local_to_utc" => {
            check(name, args, 2, &[P::DateTime, P::Str])?;
            K::DateTime
        }
        "datetime_list_timezones" => {
            check(name, args, 0, &[])?;
            K::Dynamic
        }
        _ => return Err(FnError::unsupported(format!("function {name}()"))),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    DayOfYear,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
}

fn parse_part(s: &str) -> Option<Part> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "year" | "years" | "yy" | "yyyy" => Part::Year,
        "quarter" | "quarters" | "qq" | "q" => Part::Quarter,
        "month" | "months" | "mm" | "m" => Part::Month,
        "week" | "weeks" | "wk" | "ww" | "week_of_year" | "weekofyear" => Part::Week,
        "day" | "days" | "dd" | "d" => Part::Day,
        "dayofyear" | "day_of_year" | "dy" | "y" => Part::DayOfYear,
        "hour" | "hours" | "hh" => Part::Hour,
        "minute" | "minutes" | "mi" | "n" => Part::Minute,
        "second" | "seconds" | "ss" | "s" => Part::Second,
        "millisecond" | "milliseconds" | "ms" => Part::Millisecond,
        "microsecond" | "microseconds" | "mcs" => Part::Microsecond,
        "nanosecond" | "nanoseconds" | "ns" => Part::Nanosecond,
        _ => return None,
    })
}

fn check_part(name: &str, args: &[ArgType], _add: bool) -> Result<(), FnError> {
    if let Some(p) = sig::const_str(args, 0)
        && parse_part(p).is_none()
    {
        return Err(sig::bad_arg(name, 0, format!("unknown date part '{p}'")));
    }
    Ok(())
}

fn take(it: &mut std::vec::IntoIter<TypedExpr>, name: &str) -> Result<TypedExpr, FnError> {
    it.next().ok_or_else(|| sig::arity_error(name, 1, None, 0))
}

fn i64_of(e: Expr) -> Expr {
    cast(e, DataType::Int64)
}

fn dt(e: TypedExpr) -> (Expr, KqlType) {
    (typed_to(e, K::DateTime), K::DateTime)
}

fn long(e: TypedExpr) -> (Expr, KqlType) {
    (typed_to(e, K::Long), K::Long)
}

fn name_of(name: &str) -> &'static str {
    NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("datetime_function")
}

pub(crate) fn lower(
    ctx: &LowerContext,
    name: &str,
    args: Vec<TypedExpr>,
    ret: KqlType,
) -> Result<Expr, FnError> {
    let _ = ret;
    let now = lit(ScalarValue::TimestampNanosecond(Some(ctx.now_nanos), None));
    let mut it = args.into_iter();
    Ok(match name {
        "now" => match it.next() {
            None => now,
            Some(off) => cast(
                binary_expr(
                    lit(ctx.now_nanos),
                    Operator::Plus,
                    i64_of(typed_to(off, K::TimeSpan)),
                ),
                crate::arrow_type(K::DateTime),
            ),
        },
        "ago" => {
            let span = take(&mut it, name)?;
            if let Expr::Literal(ScalarValue::DurationNanosecond(Some(d)), _) = &span.expr {
                return Ok(match ctx.now_nanos.checked_sub(*d) {
                    Some(v) => lit(ScalarValue::TimestampNanosecond(Some(v), None)),
                    None => lit(ScalarValue::TimestampNanosecond(None, None)),
                });
            }
            cast(
                binary_expr(
                    lit(ctx.now_nanos),
                    Operator::Minus,
                    i64_of(typed_to(span, K::TimeSpan)),
                ),
                crate::arrow_type(K::DateTime),
            )
        }
        "datetime_add" => {
            let p = (as_str(take(&mut it, name)?), K::String);
            let n = long(take(&mut it, name)?);
            let t = dt(take(&mut it, name)?);
            call(
                "datetime_add",
                datetime_add_kernel,
                vec![p, n, t],
                K::DateTime,
            )
        }
        "datetime_diff" => {
            let p = (as_str(take(&mut it, name)?), K::String);
            let a = dt(take(&mut it, name)?);
            let b = dt(take(&mut it, name)?);
            call(
                "datetime_diff",
                datetime_diff_kernel,
                vec![p, a, b],
                K::Long,
            )
        }
        "datetime_part" => {
            let p = (as_str(take(&mut it, name)?), K::String);
            let t = dt(take(&mut it, name)?);
            call("datetime_part", datetime_part_kernel, vec![p, t], K::Int)
        }
        "getyear" | "getmonth" | "monthofyear" | "dayofmonth" | "dayofyear" | "hourofday"
        | "minuteofhour" | "secondofminute" | "weekofyear" | "week_of_year" => {
            let k: crate::udf::Kernel = match name {
                "getyear" => part_kernel::<0>,
                "getmonth" | "monthofyear" => part_kernel::<1>,
                "dayofmonth" => part_kernel::<2>,
                "dayofyear" => part_kernel::<3>,
                "hourofday" => part_kernel::<4>,
                "minuteofhour" => part_kernel::<5>,
                "secondofminute" => part_kernel::<6>,
                _ => part_kernel::<7>,
            };
            call(name_of(name), k, vec![dt(take(&mut it, name)?)], K::Int)
        }
        "dayofweek" => call(
            "dayofweek",
            dayofweek_kernel,
            vec![dt(take(&mut it, name)?)],
            K::TimeSpan,
        ),
        "startofday" | "startofweek" | "startofmonth" | "startofyear" | "endofday"
        | "endofweek" | "endofmonth" | "endofyear" => {
            let t = dt(take(&mut it, name)?);
            let off = match it.next() {
                Some(o) => long(o),
                None => (lit(0i64), K::Long),
            };
            let k: crate::udf::Kernel = match name {
                "startofday" => startof_kernel::<0, false>,
                "startofweek" => startof_kernel::<1, false>,
                "startofmonth" => startof_kernel::<2, false>,
                "startofyear" => startof_kernel::<3, false>,
                "endofday" => startof_kernel::<0, true>,
                "endofweek" => startof_kernel::<1, true>,
                "endofmonth" => startof_kernel::<2, true>,
                _ => startof_kernel::<3, true>,
            };
            call(name_of(name), k, vec![t, off], K::DateTime)
        }
        "make_datetime" => {
            let mut v: Vec<(Expr, KqlType)> = Vec::new();
            for (i, a) in it.enumerate() {
                if i == 5 {
                    v.push((typed_to(a, K::Real), K::Real));
                } else {
                    v.push(long(a));
                }
            }
            while v.len() < 5 {
                v.push((lit(0i64), K::Long));
            }
            if v.len() < 6 {
                v.push((lit(0.0f64), K::Real));
            }
            call("make_datetime", make_datetime_kernel, v, K::DateTime)
        }
        "make_timespan" => {
            let a: Vec<TypedExpr> = it.collect();
            let n = a.len();
            let mut v: Vec<(Expr, KqlType)> = Vec::new();
            // (days, hours, minutes, seconds); 2 args = hours, minutes; 3 = h, m, s
            if n < 4 {
                v.push((lit(0.0f64), K::Real));
            }
            for x in a {
                v.push((typed_to(x, K::Real), K::Real));
            }
            while v.len() < 4 {
                v.push((lit(0.0f64), K::Real));
            }
            call("make_timespan", make_timespan_kernel, v, K::TimeSpan)
        }
        "unixtime_seconds_todatetime"
        | "unixtime_milliseconds_todatetime"
        | "unixtime_microseconds_todatetime"
        | "unixtime_nanoseconds_todatetime" => {
            let per: f64 = match name {
                "unixtime_seconds_todatetime" => 1e9,
                "unixtime_milliseconds_todatetime" => 1e6,
                "unixtime_microseconds_todatetime" => 1e3,
                _ => 1.0,
            };
            let x = take(&mut it, name)?;
            if x.ty.is_integer() {
                let e = binary_expr(typed_to(x, K::Long), Operator::Multiply, lit(per as i64));
                cast(e, crate::arrow_type(K::DateTime))
            } else {
                let v = (typed_to(x, K::Real), K::Real);
                call(
                    name_of(name),
                    unixtime_kernel,
                    vec![v, (lit(per), K::Real)],
                    K::DateTime,
                )
            }
        }
        "format_datetime" => {
            let t = dt(take(&mut it, name)?);
            let f = (as_str(take(&mut it, name)?), K::String);
            call(
                "format_datetime",
                format_datetime_kernel,
                vec![t, f],
                K::String,
            )
        }
        "format_timespan" => {
            let t = (typed_to(take(&mut it, name)?, K::TimeSpan), K::TimeSpan);
            let f = (as_str(take(&mut it, name)?), K::String);
            call(
                "format_timespan",
                format_timespan_kernel,
                vec![t, f],
                K::String,
            )
        }
        "ingestion_time" => lit(ScalarValue::TimestampNanosecond(None, None)),
        "datetime_utc_to_local" | "datetime_local_to_utc" => {
            let t = dt(take(&mut it, name)?);
            let tz = (as_str(take(&mut it, name)?), K::String);
            let k: crate::udf::Kernel = if name == "datetime_utc_to_local" {
                tz_kernel::<true>
            } else {
                tz_kernel::<false>
            };
            call(name_of(name), k, vec![t, tz], K::DateTime)
        }
        "datetime_list_timezones" => {
            let names: Vec<serde_json::Value> = chrono_tz::TZ_VARIANTS
                .iter()
                .map(|z| serde_json::Value::String(z.name().to_string()))
                .collect();
            lit(crate::json::to_text(&serde_json::Value::Array(names)))
        }
        _ => return Err(FnError::unsupported(format!("function {name}()"))),
    })
}

// ---- calendar helpers ------------------------------------------------------------------

fn naive(ns: i64) -> NaiveDateTime {
    DateTime::from_timestamp_nanos(ns).naive_utc()
}

fn to_ns(d: NaiveDateTime) -> Option<i64> {
    d.and_utc().timestamp_nanos_opt()
}

fn date_ns(d: NaiveDate) -> Option<i64> {
    to_ns(d.and_hms_opt(0, 0, 0)?)
}

fn add_months(d: NaiveDateTime, months: i64) -> Option<NaiveDateTime> {
    let total = (i64::from(d.year()) * 12 + i64::from(d.month0())).checked_add(months)?;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = u32::try_from(total.rem_euclid(12)).ok()? + 1;
    let mut day = d.day();
    loop {
        if let Some(nd) = NaiveDate::from_ymd_opt(year, month, day) {
            return Some(nd.and_time(d.time()));
        }
        if day <= 28 {
            return None;
        }
        day -= 1;
    }
}

fn start_of_week(d: NaiveDate) -> Option<NaiveDate> {
    let back = i64::from(d.weekday().num_days_from_sunday());
    d.checked_sub_signed(Duration::days(back))
}

// ---- kernels -------------------------------------------------------------------------

fn part_kernel<const P: u8>(a: &Args) -> Result<ArrayRef> {
    let t = a.ts(0)?;
    Ok(build_i32(a.rows, |i| {
        let d = naive(t.get(i)?);
        Some(match P {
            0 => d.year(),
            1 => d.month() as i32,
            2 => d.day() as i32,
            3 => d.ordinal() as i32,
            4 => d.hour() as i32,
            5 => d.minute() as i32,
            6 => d.second() as i32,
            _ => d.iso_week().week() as i32,
        })
    }))
}

fn dayofweek_kernel(a: &Args) -> Result<ArrayRef> {
    let t = a.ts(0)?;
    Ok(build_dur(a.rows, |i| {
        let d = naive(t.get(i)?);
        Some(i64::from(d.weekday().num_days_from_sunday()) * NANOS_PER_DAY)
    }))
}

/// UNIT: 0 day, 1 week, 2 month, 3 year. END: end of the period (last tick).
fn startof_kernel<const UNIT: u8, const END: bool>(a: &Args) -> Result<ArrayRef> {
    let t = a.ts(0)?;
    let off = a.i64(1)?;
    Ok(build_ts(a.rows, |i| {
        let d = naive(t.get(i)?).date();
        let k = off.get(i).unwrap_or(0);
        let start = match UNIT {
            0 => d.checked_add_signed(Duration::try_days(k)?)?,
            1 => start_of_week(d)?.checked_add_signed(Duration::try_weeks(k)?)?,
            2 => add_months(
                NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?.and_hms_opt(0, 0, 0)?,
                k,
            )?
            .date(),
            _ => NaiveDate::from_ymd_opt(
                i32::try_from(i64::from(d.year()).checked_add(k)?).ok()?,
                1,
                1,
            )?,
        };
        let s = date_ns(start)?;
        if !END {
            return Some(s);
        }
        let next = match UNIT {
            0 => start.checked_add_signed(Duration::days(1))?,
            1 => start.checked_add_signed(Duration::days(7))?,
            2 => add_months(start.and_hms_opt(0, 0, 0)?, 1)?.date(),
            _ => NaiveDate::from_ymd_opt(start.year().checked_add(1)?, 1, 1)?,
        };
        date_ns(next)?.checked_sub(NANOS_PER_TICK)
    }))
}

fn datetime_add_kernel(a: &Args) -> Result<ArrayRef> {
    let p = a.str(0)?;
    let n = a.i64(1)?;
    let t = a.ts(2)?;
    Ok(build_ts(a.rows, |i| {
        let part = parse_part(p.get(i))?;
        let k = n.get(i)?;
        let ns = t.get(i)?;
        let unit = |u: i64| ns.checked_add(k.checked_mul(u)?);
        match part {
            Part::Year => to_ns(add_months(naive(ns), k.checked_mul(12)?)?),
            Part::Quarter => to_ns(add_months(naive(ns), k.checked_mul(3)?)?),
            Part::Month => to_ns(add_months(naive(ns), k)?),
            Part::Week => unit(7 * NANOS_PER_DAY),
            Part::Day | Part::DayOfYear => unit(NANOS_PER_DAY),
            Part::Hour => unit(NANOS_PER_HOUR),
            Part::Minute => unit(NANOS_PER_MIN),
            Part::Second => unit(NANOS_PER_SEC),
            Part::Millisecond => unit(1_000_000),
            Part::Microsecond => unit(1_000),
            Part::Nanosecond => unit(1),
        }
    }))
}

fn datetime_diff_kernel(a: &Args) -> Result<ArrayRef> {
    let p = a.str(0)?;
    let t1 = a.ts(1)?;
    let t2 = a.ts(2)?;
    Ok(build_i64(a.rows, |i| {
        let part = parse_part(p.get(i))?;
        let (x, y) = (t1.get(i)?, t2.get(i)?);
        let (dx, dy) = (naive(x), naive(y));
        let floor_diff = |u: i64| Some(x.div_euclid(u) - y.div_euclid(u));
        match part {
            Part::Year => Some(i64::from(dx.year()) - i64::from(dy.year())),
            Part::Quarter => {
                let q = |d: &NaiveDateTime| i64::from(d.year()) * 4 + i64::from(d.month0() / 3);
                Some(q(&dx) - q(&dy))
            }
            Part::Month => {
                let m = |d: &NaiveDateTime| i64::from(d.year()) * 12 + i64::from(d.month0());
                Some(m(&dx) - m(&dy))
            }
            Part::Week => {
                let wx = date_ns(start_of_week(dx.date())?)?;
                let wy = date_ns(start_of_week(dy.date())?)?;
                Some((wx - wy) / (7 * NANOS_PER_DAY))
            }
            Part::Day | Part::DayOfYear => floor_diff(NANOS_PER_DAY),
            Part::Hour => floor_diff(NANOS_PER_HOUR),
            Part::Minute => floor_diff(NANOS_PER_MIN),
            Part::Second => floor_diff(NANOS_PER_SEC),
            Part::Millisecond => floor_diff(1_000_000),
            Part::Microsecond => floor_diff(1_000),
            Part::Nanosecond => Some(x - y),
        }
    }))
}

fn datetime_part_kernel(a: &Args) -> Result<ArrayRef> {
    let p = a.str(0)?;
    let t = a.ts(1)?;
    Ok(build_i32(a.rows, |i| {
        let part = parse_part(p.get(i))?;
        let ns = t.get(i)?;
        let d = naive(ns);
        let sub = ns.rem_euclid(NANOS_PER_SEC);
        Some(match part {
            Part::Year => d.year(),
            Part::Quarter => (d.month0() / 3 + 1) as i32,
            Part::Month => d.month() as i32,
            Part::Week => d.iso_week().week() as i32,
            Part::Day => d.day() as i32,
            Part::DayOfYear => d.ordinal() as i32,
            Part::Hour => d.hour() as i32,
            Part::Minute => d.minute() as i32,
            Part::Second => d.second() as i32,
            Part::Millisecond => (sub / 1_000_000) as i32,
            Part::Microsecond => (sub / 1_000) as i32,
            Part::Nanosecond => sub as i32,
        })
    }))
}

fn make_datetime_kernel(a: &Args) -> Result<ArrayRef> {
    let cols: Vec<_> = (0..5).map(|k| a.i64(k)).collect::<Result<_>>()?;
    let sec = a.f64(5)?;
    Ok(build_ts(a.rows, |i| {
        let get = |k: usize| cols.get(k).and_then(|c| c.get(i));
        let (y, mo, d, h, mi) = (get(0)?, get(1)?, get(2)?, get(3)?, get(4)?);
        let s = sec.get(i)?;
        if !(0.0..60.0).contains(&s) || !(0..24).contains(&h) || !(0..60).contains(&mi) {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(
            i32::try_from(y).ok()?,
            u32::try_from(mo).ok()?,
            u32::try_from(d).ok()?,
        )?;
        let base = date_ns(date)?;
        let ticks = (s * 1e7).round() as i64;
        base.checked_add(h * NANOS_PER_HOUR + mi * NANOS_PER_MIN + ticks * NANOS_PER_TICK)
    }))
}

fn make_timespan_kernel(a: &Args) -> Result<ArrayRef> {
    let cols: Vec<_> = (0..4).map(|k| a.f64(k)).collect::<Result<_>>()?;
    Ok(build_dur(a.rows, |i| {
        let get = |k: usize| cols.get(k).and_then(|c| c.get(i));
        let (d, h, m, s) = (get(0)?, get(1)?, get(2)?, get(3)?);
        if d < 0.0
            || !(0.0..24.0).contains(&h)
            || !(0.0..60.0).contains(&m)
            || !(0.0..60.0).contains(&s)
        {
            return None;
        }
        let ticks = (d * 864e9 + h * 36e9 + m * 6e8 + s * 1e7).round();
        if !ticks.is_finite() || ticks.abs() > 9.2e16 {
            return None;
        }
        Some(ticks as i64 * NANOS_PER_TICK)
    }))
}

fn unixtime_kernel(a: &Args) -> Result<ArrayRef> {
    let x = a.f64(0)?;
    let per = a.f64(1)?;
    Ok(build_ts(a.rows, |i| {
        let v = (x.get(i)? * per.get(i)?).round();
        if v.is_finite() && v.abs() < 9.2e18 {
            // keep 100-ns precision like Kusto
            Some((v as i64 / NANOS_PER_TICK) * NANOS_PER_TICK)
        } else {
            None
        }
    }))
}

/// UTC → local time in a time zone (`TO_LOCAL`), or local → UTC. A local time in a
/// daylight-saving gap takes the offset after the transition; an ambiguous one the
/// earlier instant. Unknown zones give null.
fn convert_tz(ns: i64, zone: &str, to_local: bool) -> Option<i64> {
    use chrono::{LocalResult, Offset, TimeZone};
    let tz: chrono_tz::Tz = zone.trim().parse().ok()?;
    let sub = ns.rem_euclid(NANOS_PER_SEC);
    let naive_secs = naive(ns - sub);
    let offset_secs = if to_local {
        i64::from(
            tz.offset_from_utc_datetime(&naive_secs)
                .fix()
                .local_minus_utc(),
        )
    } else {
        let off = match tz.offset_from_local_datetime(&naive_secs) {
            LocalResult::Single(o) => o.fix(),
            LocalResult::Ambiguous(a, b) => {
                let (fa, fb) = (a.fix(), b.fix());
                if fa.local_minus_utc() >= fb.local_minus_utc() {
                    fa
                } else {
                    fb
                }
            }
            LocalResult::None => tz.offset_from_utc_datetime(&naive_secs).fix(),
        };
        -i64::from(off.local_minus_utc())
    };
    ns.checked_add(offset_secs.checked_mul(NANOS_PER_SEC)?)
}

fn tz_kernel<const TO_LOCAL: bool>(a: &Args) -> Result<ArrayRef> {
    let t = a.ts(0)?;
    let z = a.str(1)?;
    Ok(build_ts(a.rows, |i| {
        convert_tz(t.get(i)?, z.get(i), TO_LOCAL)
    }))
}

/// Splits a format into runs of one repeated letter (or a literal).
fn format_tokens(fmt: &str) -> Vec<(char, usize)> {
    let mut out: Vec<(char, usize)> = Vec::new();
    for c in fmt.chars() {
        match out.last_mut() {
            Some((p, n)) if *p == c && c.is_ascii_alphabetic() => *n += 1,
            _ => out.push((c, 1)),
        }
    }
    out
}

fn push_num(out: &mut String, v: i64, width: usize) {
    out.push_str(&format!("{v:0width$}"));
}

fn push_fraction(out: &mut String, ticks: i64, n: usize, trim: bool) {
    let n = n.min(7);
    let s = format!("{ticks:07}");
    let digits = s.get(..n).unwrap_or("");
    if trim {
        out.push_str(digits.trim_end_matches('0'));
    } else {
        out.push_str(digits);
    }
}

/// KQL `format_datetime`: y, M, d, h, H, m, s, f, F, t runs; other characters literal.
pub(crate) fn format_datetime_with(ns: i64, fmt: &str) -> String {
    let d = naive(ns);
    let ticks = ns.rem_euclid(NANOS_PER_SEC) / NANOS_PER_TICK;
    let mut out = String::new();
    for (c, n) in format_tokens(fmt) {
        match c {
            'y' => {
                let y = i64::from(d.year());
                match n {
                    1 => push_num(&mut out, y % 100, 1),
                    2 => push_num(&mut out, y % 100, 2),
                    _ => push_num(&mut out, y, n),
                }
            }
            'M' | 'd' | 'h' | 'H' | 'm' | 's' => {
                let v = i64::from(match c {
                    'M' => d.month(),
                    'd' => d.day(),
                    'h' => {
                        let h = d.hour() % 12;
                        if h == 0 { 12 } else { h }
                    }
                    'H' => d.hour(),
                    'm' => d.minute(),
                    _ => d.second(),
                });
                // runs longer than 2 repeat the 2-digit form (Kusto has no names)
                let mut left = n;
                while left > 0 {
                    let take = left.min(2);
                    push_num(&mut out, v, take);
                    left -= take;
                }
            }
            'f' => push_fraction(&mut out, ticks, n, false),
            'F' => push_fraction(&mut out, ticks, n, true),
            't' => {
                let am = d.hour() < 12;
                out.push_str(match (n, am) {
                    (1, true) => "A",
                    (1, false) => "P",
                    (_, true) => "AM",
                    (_, false) => "PM",
                });
            }
            other => {
                for _ in 0..n {
                    out.push(other);
                }
            }
        }
    }
    out
}

/// KQL `format_timespan`: d, h, H, m, s, f, F runs; other characters literal.
pub(crate) fn format_timespan_with(ns: i64, fmt: &str) -> String {
    let neg = ns < 0;
    let ticks = (ns / NANOS_PER_TICK).unsigned_abs() as i64;
    let frac = ticks % 10_000_000;
    let secs = ticks / 10_000_000;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    for (c, n) in format_tokens(fmt) {
        match c {
            'd' => push_num(&mut out, secs / 86_400, n),
            'h' | 'H' => push_num(&mut out, (secs / 3600) % 24, n.min(2)),
            'm' => push_num(&mut out, (secs / 60) % 60, n.min(2)),
            's' => push_num(&mut out, secs % 60, n.min(2)),
            'f' => push_fraction(&mut out, frac, n, false),
            'F' => push_fraction(&mut out, frac, n, true),
            other => {
                for _ in 0..n {
                    out.push(other);
                }
            }
        }
    }
    out
}

fn format_datetime_kernel(a: &Args) -> Result<ArrayRef> {
    let t = a.ts(0)?;
    let f = a.str(1)?;
    Ok(build_str(a.rows, |i| {
        Some(Cow::Owned(match t.get(i) {
            Some(ns) => format_datetime_with(ns, f.get(i)),
            None => String::new(),
        }))
    }))
}

fn format_timespan_kernel(a: &Args) -> Result<ArrayRef> {
    let t = a.dur(0)?;
    let f = a.str(1)?;
    Ok(build_str(a.rows, |i| {
        Some(Cow::Owned(match t.get(i) {
            Some(ns) => format_timespan_with(ns, f.get(i)),
            None => String::new(),
        }))
    }))
}

/// Checks a constant `format_datetime`/`format_timespan` format: only the documented
/// element letters (`d f F h H m M s y t` for datetimes, `d f F h H m s` for timespans; longer
/// runs split into elements, as Kusto does: `dddd` is `dd` twice) and delimiters
/// (`space / - : , . _ [ ]`). Anything else (`T`, `%`, `c`, quotes, backslashes) is an error.
fn validate_format(name: &str, format: &str, timespan: bool) -> Result<(), FnError> {
    for c in format.chars() {
        let ok = match c {
            ' ' | '/' | '-' | ':' | ',' | '.' | '_' | '[' | ']' => true,
            'd' | 'f' | 'F' | 'h' | 'H' | 'm' | 's' => true,
            'M' | 'y' | 't' => !timespan,
            _ => false,
        };
        if !ok {
            return Err(sig::bad_arg(
                name,
                1,
                format!("'{c}' is not a supported format element or delimiter"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::parse_datetime;

    fn d(s: &str) -> i64 {
        parse_datetime(s).unwrap_or(0)
    }

    #[test]
    fn formats() {
        assert_eq!(
            format_datetime_with(d("2017-01-29 09:00:05"), "yyyy-M-dd [H:mm:ss]"),
            "2017-1-29 [9:00:05]"
        );
        assert_eq!(format_datetime_with(d("2020-06-15 13:45:09"), "y"), "20");
        assert_eq!(format_datetime_with(d("2020-01-05"), "dddd"), "0505");
        assert_eq!(format_datetime_with(d("2020-01-05"), "ddd"), "055");
        assert_eq!(
            format_datetime_with(d("2020-06-15 13:45:09"), "M/d/yyyy h:mm:ss tt"),
            "6/15/2020 1:45:09 PM"
        );
        assert_eq!(
            format_datetime_with(d("2020-06-15 13:45:09.0000007"), "FFFFFFF"),
            "0000007"
        );
        assert_eq!(
            format_datetime_with(d("2020-06-15 13:45:09"), "FFFFFFF"),
            ""
        );
        assert_eq!(
            format_datetime_with(d("2007-03-09 00:30:00"), "hh:mm tt"),
            "12:30 AM"
        );
        let t = 29 * NANOS_PER_DAY
            + 9 * NANOS_PER_HOUR
            + 5 * NANOS_PER_SEC
            + 1_234_500 * NANOS_PER_TICK;
        assert_eq!(format_timespan_with(t, "dd.hh:mm:ss:FF"), "29.09:00:05:12");
        assert_eq!(
            format_timespan_with(t, "ddd.h:mm:ss [fffffff]"),
            "029.9:00:05 [1234500]"
        );
        assert_eq!(
            format_timespan_with(25 * NANOS_PER_HOUR + 61 * NANOS_PER_MIN, "h:m"),
            "2:1"
        );
        assert_eq!(format_timespan_with(NANOS_PER_DAY, "dddd"), "0001");
    }
}
