//! `DateTimeOffset` on the wire: UTC, ISO 8601 with a trailing `Z`, .NET round-trip style
//! with the fractional digits trimmed (`2020-09-06T14:46:57.0733333Z`,
//! `2020-09-06T14:46:57.29Z`, `2020-09-04T05:22:59Z`), at most seven of them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Ticks per second (one tick is 100 ns, .NET's resolution).
const TICKS_PER_SEC: i64 = 10_000_000;

/// An instant with .NET's 100-ns resolution, as ticks since the Unix epoch (UTC). Ordered
/// and stored (SQLite) as that integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(i64);

impl Time {
    pub fn from_ticks(ticks: i64) -> Time {
        Time(ticks)
    }

    pub fn ticks(self) -> i64 {
        self.0
    }

    /// `t`, cut to 100 ns.
    pub fn from_datetime(t: DateTime<Utc>) -> Option<Time> {
        t.timestamp()
            .checked_mul(TICKS_PER_SEC)?
            .checked_add(i64::from(t.timestamp_subsec_nanos() / 100))
            .map(Time)
    }

    pub fn now() -> Time {
        Time::from_datetime(Utc::now()).unwrap_or(Time(0))
    }

    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        let secs = self.0.div_euclid(TICKS_PER_SEC);
        let sub = self.0.rem_euclid(TICKS_PER_SEC);
        DateTime::from_timestamp(secs, u32::try_from(sub * 100).ok()?)
    }

    /// Unix nanoseconds, as the KQL engine counts (saturating outside its range).
    pub fn unix_nanos(self) -> i64 {
        self.0.saturating_mul(100)
    }

    pub fn from_unix_nanos(nanos: i64) -> Time {
        Time(nanos.div_euclid(100))
    }

    pub fn plus_secs(self, secs: i64) -> Time {
        Time(self.0.saturating_add(secs.saturating_mul(TICKS_PER_SEC)))
    }

    /// Parses an ISO 8601 date-time: RFC 3339 (`Z` or an offset, any number of fractional
    /// digits; past seven they are cut), a date-time without a zone (taken as UTC), or a
    /// bare date (midnight UTC).
    pub fn parse(text: &str) -> Option<Time> {
        let s = text.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Time::from_datetime(t.with_timezone(&Utc));
        }
        // `T` may be lower-case or a space in RFC 3339; chrono accepts both above. Without
        // a zone:
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
                return Time::from_datetime(t.and_utc());
            }
        }
        if s.len() == 10
            && let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        {
            return Time::from_datetime(d.and_hms_opt(0, 0, 0)?.and_utc());
        }
        None
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(t) = self.to_datetime() else {
            return write!(f, "{}", self.0);
        };
        write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S"))?;
        let ticks = self.0.rem_euclid(TICKS_PER_SEC);
        if ticks != 0 {
            let digits = format!("{ticks:07}");
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Time::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("'{s}' is not an ISO 8601 date-time")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotnet_round_trip_style() {
        for s in [
            "2020-09-06T14:46:57.0733333Z",
            "2020-09-06T14:46:57.29Z",
            "2020-09-04T05:22:59Z",
            "2021-04-26T07:45:50.116Z",
            "1969-12-31T23:59:59.9999999Z",
        ] {
            assert_eq!(Time::parse(s).map(|t| t.to_string()).as_deref(), Some(s));
        }
        // cut to seven digits, offsets to UTC, no zone = UTC, bare date
        let t = Time::parse("2020-09-04T14:46:57.123456789+02:00").map(|t| t.to_string());
        assert_eq!(t.as_deref(), Some("2020-09-04T12:46:57.1234567Z"));
        assert_eq!(
            Time::parse("2020-09-04T14:46:57").map(|t| t.to_string()),
            Some("2020-09-04T14:46:57Z".into())
        );
        assert_eq!(
            Time::parse("2020-09-04").map(|t| t.to_string()),
            Some("2020-09-04T00:00:00Z".into())
        );
        assert_eq!(
            Time::parse("2020-09-04T14:46:57.0000000Z"),
            Time::parse("2020-09-04T14:46:57Z")
        );
        for bad in [
            "",
            "yesterday",
            "2020-13-01T00:00:00Z",
            "2020-09-04T25:00:00Z",
            "99999-01-01",
        ] {
            assert_eq!(Time::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ordered_as_ticks() {
        let a = Time::parse("2020-09-04T05:22:59Z");
        let b = Time::parse("2020-09-04T05:22:59.0000001Z");
        assert!(a < b);
        assert_eq!(b.map(|b| b.ticks() - a.map_or(0, Time::ticks)), Some(1));
    }
}
