//! KQL text forms of scalar values: formatting and parsing of datetimes, timespans,
//! reals, booleans and guids (what `tostring`, `todatetime`, `totimespan`, `toguid` use).
//!
//! - datetime prints as ISO 8601 with 7 fraction digits, like Kusto:
//!   `2020-01-01T12:30:00.0000000Z`.
//! - timespan prints as `[-][d.]hh:mm:ss[.fffffff]` (fraction only when non-zero).
//! - real prints in the shortest round-trip form with a `.0` for integral values
//!   (`1.0`, `0.30000000000000004`, `inf`, `NaN`); decimal without the `.0`.
//! - bool prints as `True`/`False` (in dynamic JSON it stays `true`/`false`).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// Nanoseconds per 100-ns tick.
pub const NANOS_PER_TICK: i64 = 100;
/// Ticks from 0001-01-01 to the Unix epoch (what `tolong(datetime)` adds).
pub const EPOCH_TICKS: i64 = 621_355_968_000_000_000;
pub const NANOS_PER_SEC: i64 = 1_000_000_000;
pub const NANOS_PER_MIN: i64 = 60 * NANOS_PER_SEC;
pub const NANOS_PER_HOUR: i64 = 60 * NANOS_PER_MIN;
pub const NANOS_PER_DAY: i64 = 24 * NANOS_PER_HOUR;

/// `2020-01-01T12:30:00.0000000Z` (Kusto's `tostring(datetime)`).
pub fn format_datetime_iso(nanos: i64) -> String {
    let dt = DateTime::from_timestamp_nanos(nanos);
    let frac = nanos.rem_euclid(NANOS_PER_SEC) / NANOS_PER_TICK;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        frac
    )
}

/// `[-][d.]hh:mm:ss[.fffffff]` (Kusto's `tostring(timespan)`).
pub fn format_timespan(nanos: i64) -> String {
    let neg = nanos < 0;
    let ticks = (nanos / NANOS_PER_TICK).unsigned_abs();
    let frac = ticks % 10_000_000;
    let total_secs = ticks / 10_000_000;
    let secs = total_secs % 60;
    let mins = (total_secs / 60) % 60;
    let hours = (total_secs / 3600) % 24;
    let days = total_secs / 86_400;
    let mut out = String::with_capacity(20);
    if neg && ticks != 0 {
        out.push('-');
    }
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{hours:02}:{mins:02}:{secs:02}"));
    if frac != 0 {
        out.push_str(&format!(".{frac:07}"));
    }
    out
}

/// A real as Kusto prints it: shortest round-trip digits, `.0` on integral values
/// (`1.0`, `1.5`, `0.30000000000000004`), .NET-style exponents outside `[1e-5, 1e15)`
/// (`1E+19`, `9.223372036854776E+18`, `1E-07`), and `inf`, `-inf`, `NaN`.
pub fn format_real(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return format!("{v:?}");
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => return format!("{v:?}"),
    };
    if (-4..15).contains(&exp) {
        format!("{v:?}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}E{sign}{:02}", exp.abs())
    }
}

/// A decimal as Kusto prints it (no trailing `.0`).
pub fn format_decimal(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        format_real(v)
    }
}

pub fn format_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// Canonical lower-case `8-4-4-4-12` guid text, or `None` when `s` is not a guid.
pub fn parse_guid(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .or_else(|| s.strip_prefix('(').and_then(|x| x.strip_suffix(')')))
        .unwrap_or(s);
    let hex: String = if s.len() == 36 {
        let b = s.as_bytes();
        for pos in [8usize, 13, 18, 23] {
            if b.get(pos) != Some(&b'-') {
                return None;
            }
        }
        s.chars().filter(|c| *c != '-').collect()
    } else if s.len() == 32 {
        s.to_string()
    } else {
        return None;
    };
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8)?,
        h.get(8..12)?,
        h.get(12..16)?,
        h.get(16..20)?,
        h.get(20..32)?
    ))
}

/// Parses a KQL long from text: optional sign, decimal digits or `0x` hex; surrounding
/// whitespace allowed. `"42.0"` is not a long.
pub fn parse_long(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..)?),
        Some(b'+') => (false, t.get(1..)?),
        _ => (false, t),
    };
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        // `0xFFFFFFFFFFFFFFFF` is -1; a negative hex literal is not a number
        if neg {
            return None;
        }
        return Some(u64::from_str_radix(hex, 16).ok()? as i64);
    }
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i128 = body.parse().ok()?;
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// Parses a KQL real from text (decimal or scientific; `inf`, `nan` accepted).
pub fn parse_real(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    match t.to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" | "∞" => return Some(f64::INFINITY),
        "-infinity" | "-∞" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    if t.starts_with("0x") || t.starts_with("0X") {
        return None;
    }
    t.parse::<f64>().ok()
}

/// Truncates a real to a long, saturating at the long range (`None` for NaN and
/// infinities), like Kusto's `tolong(real)`.
pub fn real_to_long(v: f64) -> Option<i64> {
    if v.is_finite() { Some(v as i64) } else { None }
}

/// 100-ns ticks since 0001-01-01 → nanoseconds since the Unix epoch (`None` when out of
/// the representable range).
pub fn ticks_to_datetime(ticks: i64) -> Option<i64> {
    ticks.checked_sub(EPOCH_TICKS)?.checked_mul(NANOS_PER_TICK)
}

/// Nanoseconds since the Unix epoch → 100-ns ticks since 0001-01-01.
pub fn datetime_to_ticks(nanos: i64) -> i64 {
    nanos.div_euclid(NANOS_PER_TICK) + EPOCH_TICKS
}

fn naive_to_nanos(dt: NaiveDateTime) -> Option<i64> {
    dt.and_utc().timestamp_nanos_opt()
}

/// Parses a KQL datetime text: ISO 8601 (`2020-01-02`, `2020-01-02T03:04:05.1234567Z`,
/// `2020-01-02 03:04`, with offsets), `yyyy/MM/dd`, `MM/dd/yyyy` and `dd/MM/yyyy` (when
/// the first number exceeds 12), RFC 822/1123 (`Sat, 8 Nov 2014 15:05:02 GMT`) and
/// RFC 850 (`Saturday, 08-Nov-14 15:05:02 GMT`). Returns nanoseconds since the epoch, UTC.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    parse_numeric_datetime(s).or_else(|| parse_named_month_datetime(s))
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn digits(&mut self) -> Option<(u64, usize)> {
        let start = self.pos;
        let mut v: u64 = 0;
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() {
                v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
                self.pos += 1;
            } else {
                break;
            }
        }
        let n = self.pos - start;
        if n == 0 { None } else { Some((v, n)) }
    }
    fn skip_spaces(&mut self) -> usize {
        let start = self.pos;
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        self.pos - start
    }
    fn rest(&self) -> &[u8] {
        self.b.get(self.pos..).unwrap_or(&[])
    }
    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }
}

/// Parses `H:M[:S[.f]]` then optional AM/PM and a zone; returns (nanos of day, offset secs).
fn parse_time_and_zone(c: &mut Cursor) -> Option<(i64, i64)> {
    let (h, _) = c.digits()?;
    if !c.eat(b':') {
        return None;
    }
    let (m, _) = c.digits()?;
    let mut sec = 0u64;
    let mut frac_ns = 0i64;
    if c.eat(b':') {
        sec = c.digits()?.0;
        if c.eat(b'.') || c.eat(b',') {
            let start = c.pos;
            let mut ns: i64 = 0;
            let mut n = 0;
            while let Some(d) = c.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                if n < 9 {
                    ns = ns * 10 + i64::from(d - b'0');
                    n += 1;
                }
                c.pos += 1;
            }
            if c.pos == start {
                return None;
            }
            while n < 9 {
                ns *= 10;
                n += 1;
            }
            frac_ns = ns;
        }
    }
    let mut h = h;
    let save = c.pos;
    c.skip_spaces();
    let rest = c.rest();
    if let Some(pair) = rest.get(..2) {
        let ampm = [
            pair.first().map_or(0, u8::to_ascii_uppercase),
            pair.get(1).map_or(0, u8::to_ascii_uppercase),
        ];
        if ampm == *b"AM" || ampm == *b"PM" {
            if h == 0 || h > 12 {
                return None;
            }
            if ampm == *b"PM" && h != 12 {
                h += 12;
            } else if ampm == *b"AM" && h == 12 {
                h = 0;
            }
            c.pos += 2;
        } else {
            c.pos = save;
        }
    } else {
        c.pos = save;
    }
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let day_ns = (h as i64) * NANOS_PER_HOUR
        + (m as i64) * NANOS_PER_MIN
        + (sec as i64) * NANOS_PER_SEC
        + frac_ns;
    let offset = parse_zone(c)?;
    Some((day_ns, offset))
}

/// Optional zone at the end: `Z`, `GMT`, `UTC`, `+hh:mm`, `-hhmm`. Must consume the rest.
fn parse_zone(c: &mut Cursor) -> Option<i64> {
    c.skip_spaces();
    if c.at_end() {
        return Some(0);
    }
    let rest = std::str::from_utf8(c.rest()).ok()?.trim_end();
    let upper = rest.to_ascii_uppercase();
    if matches!(upper.as_str(), "Z" | "GMT" | "UTC" | "UT") {
        return Some(0);
    }
    let (sign, body) = match rest.as_bytes().first() {
        Some(b'+') => (1i64, rest.get(1..)?),
        Some(b'-') => (-1i64, rest.get(1..)?),
        _ => return None,
    };
    let digits: String = body.chars().filter(|ch| *ch != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hh, mm) = match digits.len() {
        1 | 2 => (digits.parse::<i64>().ok()?, 0),
        4 => (
            digits.get(0..2)?.parse::<i64>().ok()?,
            digits.get(2..4)?.parse::<i64>().ok()?,
        ),
        _ => return None,
    };
    if hh > 14 || mm > 59 {
        return None;
    }
    Some(sign * (hh * 3600 + mm * 60))
}

fn make_datetime(y: i64, mo: u64, d: u64, day_ns: i64, offset_secs: i64) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(y).ok()?,
        u32::try_from(mo).ok()?,
        u32::try_from(d).ok()?,
    )?;
    let base = naive_to_nanos(date.and_time(NaiveTime::MIN))?;
    base.checked_add(day_ns)?
        .checked_sub(offset_secs.checked_mul(NANOS_PER_SEC)?)
}

fn parse_numeric_datetime(s: &str) -> Option<i64> {
    let mut c = Cursor {
        b: s.as_bytes(),
        pos: 0,
    };
    let (n1, l1) = c.digits()?;
    if l1 == 8 && (c.at_end() || c.peek() == Some(b'T') || c.peek() == Some(b' ')) {
        // yyyyMMdd
        let (y, mo, d) = (n1 / 10_000, (n1 / 100) % 100, n1 % 100);
        return finish_datetime(&mut c, y as i64, mo, d);
    }
    let sep = c.peek()?;
    if !matches!(sep, b'-' | b'/' | b'.') {
        return None;
    }
    c.pos += 1;
    let (n2, _) = c.digits()?;
    if !c.eat(sep) {
        return None;
    }
    let (n3, l3) = c.digits()?;
    let (y, mo, d) = if l1 == 4 {
        (n1 as i64, n2, n3)
    } else if l3 == 4 {
        if n1 > 12 {
            (n3 as i64, n2, n1)
        } else {
            (n3 as i64, n1, n2)
        }
    } else {
        return None;
    };
    finish_datetime(&mut c, y, mo, d)
}

fn finish_datetime(c: &mut Cursor, y: i64, mo: u64, d: u64) -> Option<i64> {
    if c.at_end() {
        return make_datetime(y, mo, d, 0, 0);
    }
    let had_t = c.eat(b'T') || c.eat(b't');
    let spaces = c.skip_spaces();
    if c.at_end() {
        return make_datetime(y, mo, d, 0, 0);
    }
    if !had_t && spaces == 0 {
        // `2020-01-01Z`
        let off = parse_zone(c)?;
        return make_datetime(y, mo, d, 0, off);
    }
    let save = c.pos;
    if let Some((day_ns, off)) = parse_time_and_zone(c) {
        return make_datetime(y, mo, d, day_ns, off);
    }
    c.pos = save;
    let off = parse_zone(c)?;
    make_datetime(y, mo, d, 0, off)
}

fn month_from_name(s: &str) -> Option<u64> {
    let l = s.to_ascii_lowercase();
    let names = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if l.len() < 3 {
        return None;
    }
    let prefix = l.get(0..3)?;
    names
        .iter()
        .position(|n| *n == prefix)
        .map(|i| i as u64 + 1)
}

fn parse_named_month_datetime(s: &str) -> Option<i64> {
    // Tokens: [weekday[,]] day month year [time] [zone]  (day-month-year may be joined by '-')
    let mut tokens: Vec<&str> = Vec::new();
    for t in s.split([' ', ',']) {
        if t.is_empty() {
            continue;
        }
        if t.contains('-')
            && t.chars().any(|c| c.is_ascii_alphabetic())
            && !t.starts_with(['+', '-'])
        {
            tokens.extend(t.split('-').filter(|x| !x.is_empty()));
        } else {
            tokens.push(t);
        }
    }
    let mut i = 0;
    if let Some(first) = tokens.first()
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && month_from_name(first).is_none()
    {
        i = 1;
    }
    let get = |k: usize| tokens.get(k).copied();
    let a = get(i)?;
    let b = get(i + 1)?;
    let y = get(i + 2)?;
    let (d, mo) = if let Some(m) = month_from_name(a) {
        (b.parse::<u64>().ok()?, m)
    } else {
        (a.parse::<u64>().ok()?, month_from_name(b)?)
    };
    let mut year: i64 = y.parse().ok()?;
    if y.len() <= 2 {
        year += if year < 50 { 2000 } else { 1900 };
    }
    let rest: Vec<&str> = tokens.get(i + 3..).map(|r| r.to_vec()).unwrap_or_default();
    let rest_text = rest.join(" ");
    if rest_text.is_empty() {
        return make_datetime(year, mo, d, 0, 0);
    }
    let mut c = Cursor {
        b: rest_text.as_bytes(),
        pos: 0,
    };
    let (day_ns, off) = parse_time_and_zone(&mut c)?;
    make_datetime(year, mo, d, day_ns, off)
}

/// Parses a timespan text: `[-][d.]hh:mm[:ss[.fffffff]]`, or a number with a KQL unit
/// (`1d`, `2h`, `30m`, `1.5s`, `100ms`, `10microseconds`, `5ticks`), or a bare integer
/// (days). Returns nanoseconds.
pub fn parse_timespan(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..)?.trim_start()),
        Some(b'+') => (false, t.get(1..)?.trim_start()),
        _ => (false, t),
    };
    if body.is_empty() {
        return None;
    }
    let v = if body.contains(':') {
        parse_clock_timespan(body)?
    } else {
        parse_unit_timespan(body)?
    };
    Some(if neg { v.checked_neg()? } else { v })
}

fn parse_clock_timespan(body: &str) -> Option<i64> {
    let parts: Vec<&str> = body.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let first = parts.first()?;
    let (days, hours) = match first.split_once('.') {
        Some((d, h)) => (d.parse::<i64>().ok()?, h.parse::<i64>().ok()?),
        None => (0, first.parse::<i64>().ok()?),
    };
    let all_digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    let mins_s = parts.get(1)?;
    if !all_digits(mins_s) {
        return None;
    }
    let mins: i64 = mins_s.parse().ok()?;
    let mut secs = 0i64;
    let mut frac_ns = 0i64;
    if let Some(sec_part) = parts.get(2) {
        let (s_int, s_frac) = match sec_part.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (*sec_part, None),
        };
        if !all_digits(s_int) {
            return None;
        }
        secs = s_int.parse().ok()?;
        if let Some(f) = s_frac {
            if !all_digits(f) {
                return None;
            }
            let mut ns = 0i64;
            for (k, b) in f.bytes().enumerate() {
                if k >= 9 {
                    break;
                }
                ns = ns * 10 + i64::from(b - b'0');
            }
            for _ in f.len()..9 {
                ns *= 10;
            }
            frac_ns = ns;
        }
    }
    if hours > 23 || mins > 59 || secs > 59 || days < 0 || hours < 0 {
        return None;
    }
    days.checked_mul(NANOS_PER_DAY)?
        .checked_add(hours * NANOS_PER_HOUR)?
        .checked_add(mins * NANOS_PER_MIN)?
        .checked_add(secs * NANOS_PER_SEC)?
        .checked_add(frac_ns)
}

fn parse_unit_timespan(body: &str) -> Option<i64> {
    let split = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (num, unit) = body.split_at(split);
    if num.is_empty() {
        return None;
    }
    let unit = unit.trim().to_ascii_lowercase();
    let per: f64 = match unit.as_str() {
        "" => {
            // a bare integer is a number of days
            if num.contains('.') {
                return None;
            }
            NANOS_PER_DAY as f64
        }
        "d" | "day" | "days" => NANOS_PER_DAY as f64,
        "h" | "hr" | "hrs" | "hour" | "hours" => NANOS_PER_HOUR as f64,
        "m" | "min" | "mins" | "minute" | "minutes" => NANOS_PER_MIN as f64,
        "s" | "sec" | "secs" | "second" | "seconds" => NANOS_PER_SEC as f64,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1e6,
        "microsecond" | "microseconds" | "us" => 1e3,
        "tick" | "ticks" => NANOS_PER_TICK as f64,
        "nanosecond" | "nanoseconds" | "ns" => 1.0,
        _ => return None,
    };
    if let Ok(i) = num.parse::<i64>() {
        return i.checked_mul(per as i64);
    }
    let f: f64 = num.parse().ok()?;
    let v = (f * per).round();
    if v.is_finite() && v.abs() < 9.2e18 {
        Some(v as i64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> String {
        parse_datetime(s)
            .map(format_datetime_iso)
            .unwrap_or_default()
    }

    #[test]
    fn datetime_formats() {
        assert_eq!(dt("2020-01-01"), "2020-01-01T00:00:00.0000000Z");
        assert_eq!(dt("2015-12-31 23:59:59.9"), "2015-12-31T23:59:59.9000000Z");
        assert_eq!(
            dt("2020-06-15T13:45:09.1234567Z"),
            "2020-06-15T13:45:09.1234567Z"
        );
        assert_eq!(dt("1969-07-20"), "1969-07-20T00:00:00.0000000Z");
        assert_eq!(dt("12-02-2022"), "2022-12-02T00:00:00.0000000Z");
        assert_eq!(dt("15/01/2024 12:35:35"), "2024-01-15T12:35:35.0000000Z");
        assert_eq!(dt("2024/01/15 12:35:35"), "2024-01-15T12:35:35.0000000Z");
        assert_eq!(
            dt("2014-11-08T15:55:55+02:00"),
            "2014-11-08T13:55:55.0000000Z"
        );
        assert_eq!(
            dt("Sat, 8 Nov 2014 15:05:02 GMT"),
            "2014-11-08T15:05:02.0000000Z"
        );
        assert_eq!(
            dt("Saturday, 08-Nov-14 15:05:02 GMT"),
            "2014-11-08T15:05:02.0000000Z"
        );
        assert_eq!(dt("8/30/2023 11:00:00 PM"), "2023-08-30T23:00:00.0000000Z");
        assert_eq!(dt("20140525"), "2014-05-25T00:00:00.0000000Z");
        assert_eq!(dt("abc"), "");
        assert_eq!(dt("2020-13-01"), "");
        assert_eq!(dt(""), "");
    }

    #[test]
    fn timespan_formats() {
        let ts = |s: &str| parse_timespan(s).map(format_timespan);
        assert_eq!(ts("1.02:03:04.5").as_deref(), Some("1.02:03:04.5000000"));
        assert_eq!(ts("-00:30:00").as_deref(), Some("-00:30:00"));
        assert_eq!(ts("13:00").as_deref(), Some("13:00:00"));
        assert_eq!(ts("0:0:0.001").as_deref(), Some("00:00:00.0010000"));
        assert_eq!(ts("1d").as_deref(), Some("1.00:00:00"));
        assert_eq!(ts("90s").as_deref(), Some("00:01:30"));
        assert_eq!(ts("-1d").as_deref(), Some("-1.00:00:00"));
        assert_eq!(ts("1.5").as_deref(), None);
        assert_eq!(ts("abc").as_deref(), None);
        assert_eq!(ts("100.00:00:00").as_deref(), Some("100.00:00:00"));
        assert_eq!(
            format_timespan(
                -(NANOS_PER_DAY + 2 * NANOS_PER_HOUR + 3 * NANOS_PER_MIN + 4 * NANOS_PER_SEC)
            ),
            "-1.02:03:04"
        );
    }

    #[test]
    fn numbers_and_guids() {
        assert_eq!(parse_long("0xFF"), Some(255));
        assert_eq!(parse_long("42.0"), None);
        assert_eq!(parse_long("-12"), Some(-12));
        assert_eq!(parse_long(""), None);
        assert_eq!(parse_real("1.5e3"), Some(1500.0));
        assert_eq!(parse_real("abc"), None);
        assert_eq!(format_real(1.0), "1.0");
        assert_eq!(format_real(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_real(f64::INFINITY), "inf");
        assert_eq!(format_real(1e19), "1E+19");
        assert_eq!(
            format_real(-9_223_372_036_854_775_807.0),
            "-9.223372036854776E+18"
        );
        assert_eq!(format_real(1e-7), "1E-07");
        assert_eq!(format_real(0.0001), "0.0001");
        assert_eq!(format_real(0.00001), "1E-05");
        assert_eq!(format_real(100_000_000_000.0), "100000000000.0");
        assert_eq!(format_real(5e-324), "5E-324");
        assert_eq!(format_decimal(100.0), "100");
        assert_eq!(
            parse_guid("{74BE27DE-1E4E-49D9-B579-FE0B331D3642}").as_deref(),
            Some("74be27de-1e4e-49d9-b579-fe0b331d3642")
        );
        assert_eq!(parse_guid("nope"), None);
        assert_eq!(
            datetime_to_ticks(parse_datetime("2020-01-01").unwrap_or(0)),
            637_134_336_000_000_000
        );
    }
}
