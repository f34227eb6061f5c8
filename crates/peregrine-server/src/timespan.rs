//! The Graph hunting API's `Timespan`: an ISO-8601 interval in any of its forms.
//!
//! | form | meaning |
//! | --- | --- |
//! | `2024-02-01T08:00:00Z/2024-02-15T08:00:00Z` | start / end |
//! | `P30D/2024-02-15T08:00:00Z` | duration before the end |
//! | `2024-02-01T08:00:00Z/P30D` | start and duration after it |
//! | `P30D` | duration back from now |
//! | `2024-02-01T08:00:00Z` | start until now |
//!
//! Durations are `PnYnMnWnDTnHnMnS` (fractions allowed on the last part); years and months
//! are 365 and 30 days.

const NANOS_PER_SEC: f64 = 1e9;
const DAY: f64 = 86_400.0;

/// `[from, to)` in nanoseconds since the Unix epoch; `now` is the query's start time.
pub fn parse(text: &str, now: i64) -> Result<(i64, i64), String> {
    let text = text.trim();
    let bad = || format!("'{text}' is not an ISO-8601 time span");
    let (from, to) = match text.split_once('/') {
        Some((a, b)) => match (duration(a), duration(b)) {
            (Some(_), Some(_)) => return Err(bad()),
            (Some(d), None) => {
                let end = instant(b).ok_or_else(bad)?;
                (end.saturating_sub(d), end)
            }
            (None, Some(d)) => {
                let start = instant(a).ok_or_else(bad)?;
                (start, start.saturating_add(d))
            }
            (None, None) => (instant(a).ok_or_else(bad)?, instant(b).ok_or_else(bad)?),
        },
        None => match duration(text) {
            Some(d) => (now.saturating_sub(d), now),
            None => (instant(text).ok_or_else(bad)?, now),
        },
    };
    if from > to {
        return Err(format!("'{text}' ends before it starts"));
    }
    // Half-open: an end of "now" still includes events stamped now.
    Ok((from, to.saturating_add(1)))
}

fn instant(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() || t.starts_with(['P', 'p']) {
        return None;
    }
    kql_sema::datetime::parse_datetime(t)
}

/// An ISO-8601 duration in nanoseconds.
fn duration(text: &str) -> Option<i64> {
    let rest = text.trim().strip_prefix(['P', 'p'])?;
    if rest.is_empty() {
        return None;
    }
    let (date, time) = match rest.split_once(['T', 't']) {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut secs = units(
        date,
        &[
            ('Y', 365.0 * DAY),
            ('M', 30.0 * DAY),
            ('W', 7.0 * DAY),
            ('D', DAY),
        ],
    )?;
    if let Some(t) = time {
        secs += units(t, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    }
    let nanos = secs * NANOS_PER_SEC;
    (nanos.is_finite() && nanos < i64::MAX as f64).then_some(nanos as i64)
}

/// `3D4H`-style parts with units in the given order, each at most once.
fn units(text: &str, order: &[(char, f64)]) -> Option<f64> {
    let mut total = 0.0;
    let mut next = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() || c == '.' || c == ',' {
            number.push(if c == ',' { '.' } else { c });
            continue;
        }
        let u = c.to_ascii_uppercase();
        let pos = order[next..].iter().position(|(name, _)| *name == u)? + next;
        let n: f64 = number.parse().ok()?;
        total += n * order[pos].1;
        number.clear();
        next = pos + 1;
    }
    number.is_empty().then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000_000;
    const D: i64 = 24 * H;

    fn at(s: &str) -> i64 {
        kql_sema::datetime::parse_datetime(s).unwrap_or(i64::MIN)
    }

    #[test]
    fn every_form() {
        let now = at("2024-03-01T00:00:00Z");
        let (s, e) = (at("2024-02-01T08:00:00Z"), at("2024-02-15T08:00:00Z"));
        assert_eq!(
            parse("2024-02-01T08:00:00Z/2024-02-15T08:00:00Z", now),
            Ok((s, e + 1))
        );
        assert_eq!(
            parse("P30D/2024-02-15T08:00:00Z", now),
            Ok((e - 30 * D, e + 1))
        );
        assert_eq!(
            parse("2024-02-01T08:00:00Z/P30D", now),
            Ok((s, s + 30 * D + 1))
        );
        assert_eq!(parse("P30D", now), Ok((now - 30 * D, now + 1)));
        assert_eq!(parse("P90D", now), Ok((now - 90 * D, now + 1)));
        assert_eq!(parse("2024-02-01T08:00:00Z", now), Ok((s, now + 1)));
        assert_eq!(parse("PT1H30M", now), Ok((now - 3 * H / 2, now + 1)));
        assert_eq!(parse("P1DT12H", now), Ok((now - D - 12 * H, now + 1)));
        assert_eq!(parse("PT0.5S", now), Ok((now - 500_000_000, now + 1)));
        assert_eq!(parse("P1W", now), Ok((now - 7 * D, now + 1)));
    }

    #[test]
    fn refusals() {
        let now = at("2024-03-01T00:00:00Z");
        for bad in [
            "",
            "P",
            "PT",
            "P1H",
            "P1D1D",
            "30D",
            "P30D/P1D",
            "yesterday",
            "2024-02-15T08:00:00Z/2024-02-01T08:00:00Z",
            "P1DT",
        ] {
            assert!(parse(bad, now).is_err(), "{bad}");
        }
    }
}
