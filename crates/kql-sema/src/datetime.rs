//! Parsing the text of `datetime(...)` literals and timespans into nanoseconds.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// Parses a KQL datetime literal's text into nanoseconds since the Unix epoch (UTC).
/// Accepts ISO 8601 (`2020-01-01`, `2020-01-01T10:00:00Z`, `2020-01-01 10:00:00.1234567`,
/// offsets `+02:00`), `2020/01/01`, and RFC 822/1123 forms.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let t = text.trim().trim_matches('"').trim_matches('\'').trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return dt.naive_utc().and_utc().timestamp_nanos_opt();
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc2822(t) {
        return dt.naive_utc().and_utc().timestamp_nanos_opt();
    }
    let (body, offset_secs) = split_offset(t);
    let body = body.trim_end_matches('Z').trim_end_matches('z');
    let formats = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S%.f",
        "%Y/%m/%d %H:%M",
        "%m/%d/%Y %H:%M:%S%.f",
        "%m/%d/%Y %H:%M",
        "%Y-%m-%dT%H",
        "%Y-%m-%d %H",
    ];
    for f in formats {
        if let Ok(dt) = NaiveDateTime::parse_from_str(body, f) {
            return finish(dt, offset_secs);
        }
    }
    for f in [
        "%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%Y%m%d", "%d %b %Y", "%b %d %Y",
    ] {
        if let Ok(d) = NaiveDate::parse_from_str(body, f) {
            return finish(d.and_time(NaiveTime::MIN), offset_secs);
        }
    }
    None
}

fn finish(dt: NaiveDateTime, offset_secs: i64) -> Option<i64> {
    let nanos = dt.and_utc().timestamp_nanos_opt()?;
    nanos.checked_sub(offset_secs.checked_mul(1_000_000_000)?)
}

/// Splits a trailing `+hh:mm`/`-hh:mm` offset (only after a time part).
fn split_offset(t: &str) -> (&str, i64) {
    if t.len() > 16 {
        for sep in ['+', '-'] {
            if let Some(pos) = t.rfind(sep)
                && pos > 10
            {
                let off = &t[pos + 1..];
                let parts: Vec<&str> = off.split(':').collect();
                let h = parts.first().and_then(|p| p.parse::<i64>().ok());
                let m = parts
                    .get(1)
                    .and_then(|p| p.parse::<i64>().ok())
                    .unwrap_or(0);
                if let Some(h) = h {
                    let secs = h * 3600 + m * 60;
                    return (&t[..pos], if sep == '-' { -secs } else { secs });
                }
            }
        }
    }
    (t, 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let base = parse_datetime("2020-01-01").unwrap();
        assert_eq!(base, 1_577_836_800_000_000_000);
        assert_eq!(parse_datetime("2020-01-01T00:00:00Z"), Some(base));
        assert_eq!(parse_datetime("2020-01-01 00:00:00.0000000"), Some(base));
        assert_eq!(parse_datetime("2020-01-01 01:00:00+01:00"), Some(base));
        assert_eq!(
            parse_datetime("2020-01-01 00:00:01.5"),
            Some(base + 1_500_000_000)
        );
        assert_eq!(parse_datetime("not a date"), None);
    }
}
