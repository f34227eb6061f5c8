//! Literal values: timespans and their units, guids, the typed literals `int(5)`,
//! `real(nan)`, `decimal(1.5)`, `bool(null)`, the raw `datetime(...)`/`timespan(...)`/
//! `guid(...)` tokens, and `dynamic(...)` values.

use super::expr::int_value;
use super::{PResult, Parser};
use crate::ast::{DynValue, Literal};
use crate::diagnostic::codes;
use crate::lexer::{RawKind, TokenKind, truncate};
use crate::span::Span;

/// 100-ns ticks in one microsecond.
pub const TICKS_PER_MICROSECOND: i64 = 10;
/// 100-ns ticks in one millisecond.
pub const TICKS_PER_MILLISECOND: i64 = 10_000;
/// 100-ns ticks in one second.
pub const TICKS_PER_SECOND: i64 = 10_000_000;
/// 100-ns ticks in one minute.
pub const TICKS_PER_MINUTE: i64 = 60 * TICKS_PER_SECOND;
/// 100-ns ticks in one hour.
pub const TICKS_PER_HOUR: i64 = 60 * TICKS_PER_MINUTE;
/// 100-ns ticks in one day.
pub const TICKS_PER_DAY: i64 = 24 * TICKS_PER_HOUR;

/// Ticks per unit for a timespan suffix (`1d`, `2hours`, `10ms`, `1tick`, ...).
pub fn timespan_unit_ticks(unit: &str) -> Option<i64> {
    Some(match unit {
        "d" | "day" | "days" => TICKS_PER_DAY,
        "h" | "hr" | "hrs" | "hour" | "hours" => TICKS_PER_HOUR,
        "m" | "min" | "minute" | "minutes" => TICKS_PER_MINUTE,
        "s" | "sec" | "second" | "seconds" => TICKS_PER_SECOND,
        "ms" | "milli" | "millis" | "millisec" | "millisecond" | "milliseconds" => {
            TICKS_PER_MILLISECOND
        }
        "microsec" | "microsecond" | "microseconds" => TICKS_PER_MICROSECOND,
        "tick" | "ticks" => 1,
        _ => return None,
    })
}

/// `digits[.digits]` times `unit_ticks`, rounded to the nearest tick; `None` if the text is
/// not such a number or the result does not fit in an `i64`.
pub fn decimal_to_ticks(number: &str, unit_ticks: i64) -> Option<i64> {
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || !all_digits(frac_part) {
        return None;
    }
    let mut whole: i128 = 0;
    for b in int_part.bytes() {
        whole = whole.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        if whole > i128::from(i64::MAX) {
            return None;
        }
    }
    let unit = i128::from(unit_ticks);
    let mut ticks = whole.checked_mul(unit)?;
    // Digits past the 20th are far below one tick for every unit.
    let frac: &str = frac_part.get(..frac_part.len().min(20)).unwrap_or("");
    if !frac.is_empty() {
        let mut numerator: i128 = 0;
        let mut denominator: i128 = 1;
        for b in frac.bytes() {
            numerator = numerator * 10 + i128::from(b - b'0');
            denominator *= 10;
        }
        ticks = ticks.checked_add((numerator * unit + denominator / 2) / denominator)?;
    }
    i64::try_from(ticks).ok()
}

/// The contents of `timespan(...)`/`time(...)`: `1d`, `1.5 hours`, `15 seconds`, `2` (days),
/// `[-][d.]hh:mm[:ss[.fffffff]]`. Returns ticks.
pub fn parse_timespan(text: &str) -> Option<i64> {
    let text = unquote(text.trim()).trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text.strip_prefix('+').unwrap_or(text).trim_start()),
    };
    let ticks = if body.contains(':') {
        parse_clock_timespan(body)?
    } else {
        let split = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let number = body.get(..split)?;
        let unit = body.get(split..)?.trim();
        let unit_ticks = if unit.is_empty() {
            TICKS_PER_DAY
        } else {
            timespan_unit_ticks(unit)?
        };
        decimal_to_ticks(number, unit_ticks)?
    };
    Some(if negative { -ticks } else { ticks })
}

/// `[d.]hh:mm[:ss[.fffffff]]`
fn parse_clock_timespan(text: &str) -> Option<i64> {
    let mut parts = text.split(':');
    let first = parts.next()?;
    let minutes = parts.next()?;
    let seconds = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let (days, hours) = match first.split_once('.') {
        Some((d, h)) => (d, h),
        None => ("0", first),
    };
    let whole = |s: &str, unit: i64| -> Option<i64> {
        if s.is_empty() || s.contains('.') {
            return None;
        }
        decimal_to_ticks(s, unit)
    };
    let mut ticks = whole(days, TICKS_PER_DAY)?;
    ticks = ticks.checked_add(whole(hours, TICKS_PER_HOUR)?)?;
    ticks = ticks.checked_add(whole(minutes, TICKS_PER_MINUTE)?)?;
    if let Some(seconds) = seconds {
        if seconds.is_empty() {
            return None;
        }
        ticks = ticks.checked_add(decimal_to_ticks(seconds, TICKS_PER_SECOND)?)?;
    }
    Some(ticks)
}

/// The canonical lower-case form of a guid (`8-4-4-4-12` hex digits, hyphens optional).
pub fn normalize_guid(text: &str) -> Option<String> {
    let text = unquote(text.trim()).trim();
    let hex: String = text.chars().filter(|&c| c != '-').collect();
    let hyphens_ok = if text.contains('-') {
        let groups: Vec<usize> = text.split('-').map(str::len).collect();
        groups == [8, 4, 4, 4, 12]
    } else {
        true
    };
    if !hyphens_ok || hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8)?,
        hex.get(8..12)?,
        hex.get(12..16)?,
        hex.get(16..20)?,
        hex.get(20..32)?
    ))
}

/// `"x"` or `'x'` → `x`; anything else unchanged.
pub fn unquote(text: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote)) {
            return inner;
        }
    }
    text
}

/// The scalar type of a typed literal `int(...)`, `real(...)`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypedKind {
    Int,
    Long,
    Real,
    Decimal,
    Bool,
}

impl Parser<'_> {
    /// Converts a `datetime(...)`/`timespan(...)`/`guid(...)` token.
    pub(crate) fn raw_literal(
        &mut self,
        kind: RawKind,
        text: &str,
        span: Span,
    ) -> PResult<Literal> {
        let is_null = text == "null";
        let literal = match kind {
            RawKind::DateTime if is_null => Some(Literal::DateTime(None)),
            RawKind::DateTime => {
                let value = unquote(text).trim();
                (!value.is_empty()).then(|| Literal::DateTime(Some(value.to_string())))
            }
            RawKind::TimeSpan if is_null => Some(Literal::TimeSpan(None)),
            RawKind::TimeSpan => parse_timespan(text).map(|t| Literal::TimeSpan(Some(t))),
            RawKind::Guid if is_null => Some(Literal::Guid(None)),
            RawKind::Guid => normalize_guid(text).map(|g| Literal::Guid(Some(g))),
        };
        match literal {
            Some(literal) => Ok(literal),
            None => {
                let what = match kind {
                    RawKind::DateTime => "datetime",
                    RawKind::TimeSpan => "timespan",
                    RawKind::Guid => "guid",
                };
                Err(self.error(
                    codes::BAD_LITERAL,
                    format!(
                        "invalid {what} literal `{}`",
                        truncate(self.source(span), 60)
                    ),
                    span,
                ))
            }
        }
    }

    /// At `word(`: if the call is a typed literal (`int(5)`, `real(-inf)`, `long(null)`,
    /// `decimal(1.5)`, `bool(true)`), consumes it. `Ok(None)` if `word(...)` is an ordinary call.
    pub(crate) fn typed_literal_at(&mut self, word: &str) -> PResult<Option<Literal>> {
        let ty = match word {
            "int" | "int32" => TypedKind::Int,
            "long" | "int64" => TypedKind::Long,
            "real" | "double" => TypedKind::Real,
            "decimal" => TypedKind::Decimal,
            "bool" | "boolean" => TypedKind::Bool,
            _ => return Ok(None),
        };
        let (negative, signed, at) = match self.nth_kind(2) {
            TokenKind::Minus => (true, true, 3),
            TokenKind::Plus => (false, true, 3),
            _ => (false, false, 2),
        };
        if !matches!(self.nth_kind(at + 1), TokenKind::RParen) {
            return Ok(None);
        }
        let value = self.nth(at).clone();
        let start = self.start();
        let span = Span::new(start, self.nth(at + 1).span.end);
        let word_is = |w: &str| matches!(&value.kind, TokenKind::Ident(v) if v == w);
        let literal = match (&value.kind, ty) {
            (TokenKind::Ident(v), _) if v == "null" && !signed => Some(match ty {
                TypedKind::Int => Literal::Int(None),
                TypedKind::Long => Literal::Long(None),
                TypedKind::Real => Literal::Real(None),
                TypedKind::Decimal => Literal::Decimal(None),
                TypedKind::Bool => Literal::Bool(None),
            }),
            (TokenKind::Int { value, hex }, TypedKind::Int) => int_value(*value, *hex, negative)
                .and_then(|v| i32::try_from(v).ok())
                .map(|v| Literal::Int(Some(v))),
            (TokenKind::Int { value, hex }, TypedKind::Long) => {
                int_value(*value, *hex, negative).map(|v| Literal::Long(Some(v)))
            }
            (TokenKind::Int { value, hex }, TypedKind::Real) => {
                let v = match int_value(*value, *hex, false) {
                    Some(v) => v as f64,
                    None => *value as f64,
                };
                Some(Literal::Real(Some(if negative { -v } else { v })))
            }
            (TokenKind::Real(v), TypedKind::Real) => {
                Some(Literal::Real(Some(if negative { -v } else { *v })))
            }
            (TokenKind::Ident(_), TypedKind::Real) if word_is("nan") && !signed => {
                Some(Literal::Real(Some(f64::NAN)))
            }
            (TokenKind::Ident(_), TypedKind::Real) if word_is("inf") || word_is("infinity") => {
                Some(Literal::Real(Some(if negative {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                })))
            }
            (TokenKind::Int { hex: false, .. } | TokenKind::Real(_), TypedKind::Decimal) => {
                let digits = self.source(value.span);
                Some(Literal::Decimal(Some(if negative {
                    format!("-{digits}")
                } else {
                    digits.to_string()
                })))
            }
            (TokenKind::Ident(v), TypedKind::Bool) if !signed => match v.as_str() {
                "true" | "True" | "TRUE" => Some(Literal::Bool(Some(true))),
                "false" | "False" | "FALSE" => Some(Literal::Bool(Some(false))),
                _ => None,
            },
            (TokenKind::Int { value, .. }, TypedKind::Bool) if !signed && *value <= 1 => {
                Some(Literal::Bool(Some(*value == 1)))
            }
            (TokenKind::Ident(_), _) => return Ok(None),
            _ => None,
        };
        for _ in 0..at + 2 {
            self.bump();
        }
        match literal {
            Some(literal) => Ok(Some(literal)),
            None => Err(self.error(
                codes::BAD_LITERAL,
                format!(
                    "invalid {word} literal `{}`",
                    truncate(self.source(span), 60)
                ),
                span,
            )),
        }
    }

    /// `dynamic(value)`; the cursor is at `dynamic`.
    pub(crate) fn parse_dynamic_literal(&mut self) -> PResult<DynValue> {
        self.nested(Self::parse_dynamic_literal_inner)
    }

    fn parse_dynamic_literal_inner(&mut self) -> PResult<DynValue> {
        self.bump();
        self.expect(&TokenKind::LParen)?;
        let value = self.parse_dynamic_value()?;
        self.expect(&TokenKind::RParen)?;
        Ok(value)
    }

    /// One JSON-like value inside `dynamic(...)`.
    fn parse_dynamic_value(&mut self) -> PResult<DynValue> {
        let token = self.tok().clone();
        let value = match token.kind {
            TokenKind::LBracket => return self.nested(Self::parse_dynamic_array),
            TokenKind::LBrace => return self.nested(Self::parse_dynamic_object),
            TokenKind::String(_) => return Ok(DynValue::String(self.parse_string_concat())),
            TokenKind::Minus | TokenKind::Plus => match self.signed_number_at()? {
                Some(literal) => return Ok(literal_to_dynamic(literal)),
                None => None,
            },
            TokenKind::Int { value, hex } => Some(match int_value(value, hex, false) {
                Some(v) => DynValue::Long(v),
                None => DynValue::Real(value as f64),
            }),
            TokenKind::Real(v) => Some(DynValue::Real(v)),
            TokenKind::TimeSpan(t) => Some(DynValue::TimeSpan(t)),
            TokenKind::Raw { kind, ref text } => {
                self.bump();
                let literal = self.raw_literal(kind, text, token.span)?;
                return Ok(literal_to_dynamic(literal));
            }
            TokenKind::Ident(ref w) => match w.as_str() {
                "null" => Some(DynValue::Null),
                "true" | "True" | "TRUE" => Some(DynValue::Bool(true)),
                "false" | "False" | "FALSE" => Some(DynValue::Bool(false)),
                "dynamic" if matches!(self.nth_kind(1), TokenKind::LParen) => {
                    return self.parse_dynamic_literal();
                }
                word if matches!(self.nth_kind(1), TokenKind::LParen) => {
                    let word = word.to_string();
                    match self.typed_literal_at(&word)? {
                        Some(literal) => return Ok(literal_to_dynamic(literal)),
                        None => None,
                    }
                }
                _ => None,
            },
            _ => None,
        };
        match value {
            Some(value) => {
                self.bump();
                Ok(value)
            }
            None => {
                let found = self.kind().describe();
                let span = self.tok().span;
                Err(self.error(
                    codes::BAD_LITERAL,
                    format!("expected a dynamic value (JSON-like), found {found}"),
                    span,
                ))
            }
        }
    }

    fn parse_dynamic_array(&mut self) -> PResult<DynValue> {
        self.expect(&TokenKind::LBracket)?;
        let mut items = Vec::new();
        while !self.at(&TokenKind::RBracket) {
            items.push(self.parse_dynamic_value()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect(&TokenKind::RBracket)?;
        Ok(DynValue::Array(items))
    }

    fn parse_dynamic_object(&mut self) -> PResult<DynValue> {
        self.expect(&TokenKind::LBrace)?;
        let mut entries = Vec::new();
        while !self.at(&TokenKind::RBrace) {
            let key = match self.kind().clone() {
                TokenKind::String(_) => self.parse_string_concat(),
                TokenKind::Ident(name) => {
                    self.bump();
                    name
                }
                _ => return Err(self.expected("a property name")),
            };
            self.expect(&TokenKind::Colon)?;
            let value = self.parse_dynamic_value()?;
            entries.push((key, value));
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect(&TokenKind::RBrace)?;
        Ok(DynValue::Object(entries))
    }
}

/// A scalar literal as a value inside `dynamic(...)`.
fn literal_to_dynamic(literal: Literal) -> DynValue {
    match literal {
        Literal::Null
        | Literal::Bool(None)
        | Literal::Int(None)
        | Literal::Long(None)
        | Literal::Real(None)
        | Literal::Decimal(None)
        | Literal::DateTime(None)
        | Literal::TimeSpan(None)
        | Literal::Guid(None) => DynValue::Null,
        Literal::Bool(Some(b)) => DynValue::Bool(b),
        Literal::Int(Some(v)) => DynValue::Long(i64::from(v)),
        Literal::Long(Some(v)) => DynValue::Long(v),
        Literal::Real(Some(v)) => DynValue::Real(v),
        Literal::Decimal(Some(text)) => match text.parse::<f64>() {
            Ok(v) => DynValue::Real(v),
            Err(_) => DynValue::String(text),
        },
        Literal::String(s) | Literal::Guid(Some(s)) => DynValue::String(s),
        Literal::DateTime(Some(s)) => DynValue::DateTime(s),
        Literal::TimeSpan(Some(t)) => DynValue::TimeSpan(t),
        Literal::Dynamic(v) => v,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(timespan_unit_ticks("d"), Some(TICKS_PER_DAY));
        assert_eq!(timespan_unit_ticks("hours"), Some(TICKS_PER_HOUR));
        assert_eq!(timespan_unit_ticks("hrs"), Some(TICKS_PER_HOUR));
        assert_eq!(timespan_unit_ticks("min"), Some(TICKS_PER_MINUTE));
        assert_eq!(timespan_unit_ticks("m"), Some(TICKS_PER_MINUTE));
        assert_eq!(timespan_unit_ticks("sec"), Some(TICKS_PER_SECOND));
        assert_eq!(timespan_unit_ticks("ms"), Some(10_000));
        assert_eq!(timespan_unit_ticks("microsecond"), Some(10));
        assert_eq!(timespan_unit_ticks("tick"), Some(1));
        assert_eq!(timespan_unit_ticks("w"), None);
        assert_eq!(timespan_unit_ticks("D"), None);
    }

    #[test]
    fn decimal_ticks() {
        assert_eq!(decimal_to_ticks("1", TICKS_PER_DAY), Some(864_000_000_000));
        assert_eq!(
            decimal_to_ticks("1.5", TICKS_PER_HOUR),
            Some(54_000_000_000)
        );
        assert_eq!(decimal_to_ticks("0.5", 1), Some(1)); // rounds half up
        assert_eq!(
            decimal_to_ticks("0.1234567", TICKS_PER_SECOND),
            Some(1_234_567)
        );
        assert_eq!(
            decimal_to_ticks("0.12345678", TICKS_PER_SECOND),
            Some(1_234_568)
        );
        assert_eq!(decimal_to_ticks("", 1), None);
        assert_eq!(decimal_to_ticks("1e3", 1), None);
        assert_eq!(
            decimal_to_ticks("99999999999999999999", TICKS_PER_DAY),
            None
        );
        assert_eq!(
            decimal_to_ticks("10675199", TICKS_PER_DAY),
            Some(10_675_199 * TICKS_PER_DAY)
        );
        assert_eq!(decimal_to_ticks("10675200", TICKS_PER_DAY), None);
    }

    #[test]
    fn timespan_text() {
        assert_eq!(parse_timespan("1d"), Some(TICKS_PER_DAY));
        assert_eq!(parse_timespan("2"), Some(2 * TICKS_PER_DAY));
        assert_eq!(parse_timespan("15 seconds"), Some(15 * TICKS_PER_SECOND));
        assert_eq!(parse_timespan("1.5h"), Some(90 * TICKS_PER_MINUTE));
        assert_eq!(parse_timespan("-1d"), Some(-TICKS_PER_DAY));
        assert_eq!(parse_timespan("00:10:00"), Some(10 * TICKS_PER_MINUTE));
        assert_eq!(
            parse_timespan("10:30"),
            Some(10 * TICKS_PER_HOUR + 30 * TICKS_PER_MINUTE)
        );
        assert_eq!(
            parse_timespan("1.02:03:04.5"),
            Some(
                TICKS_PER_DAY
                    + 2 * TICKS_PER_HOUR
                    + 3 * TICKS_PER_MINUTE
                    + 45 * TICKS_PER_SECOND / 10
            )
        );
        assert_eq!(parse_timespan("0.12:34:56.7"), Some(452_967_000_000));
        assert_eq!(parse_timespan("\"1h\""), Some(TICKS_PER_HOUR));
        assert_eq!(parse_timespan("1x"), None);
        assert_eq!(parse_timespan("1:2:3:4"), None);
        assert_eq!(parse_timespan(""), None);
        assert_eq!(parse_timespan("1:"), None);
    }

    #[test]
    fn guids() {
        assert_eq!(
            normalize_guid("74BE27DE-1E4E-49D9-B579-FE0B331D3642").as_deref(),
            Some("74be27de-1e4e-49d9-b579-fe0b331d3642")
        );
        assert_eq!(
            normalize_guid("74be27de1e4e49d9b579fe0b331d3642").as_deref(),
            Some("74be27de-1e4e-49d9-b579-fe0b331d3642")
        );
        assert_eq!(normalize_guid("74be27de-1e4e-49d9-b579"), None);
        assert_eq!(normalize_guid("zzbe27de-1e4e-49d9-b579-fe0b331d3642"), None);
        assert_eq!(normalize_guid("74be27de1-e4e-49d9-b579-fe0b331d3642"), None);
    }

    #[test]
    fn unquoting() {
        assert_eq!(unquote("\"a\""), "a");
        assert_eq!(unquote("'a'"), "a");
        assert_eq!(unquote("a"), "a");
        assert_eq!(unquote("\""), "\"");
    }
}
