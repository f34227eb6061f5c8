//! OData query options of the incident and alert lists: `$filter`, `$top`, `$skip`,
//! `$count` and `$expand`.
//!
//! `$filter` grammar (operators and keywords are case-insensitive; property names too):
//!
//! ```text
//! expr       := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | "(" expr ")" | comparison
//! comparison := property ("eq" | "ne" | "gt" | "ge" | "lt" | "le") literal
//! literal    := 'text' ('' is a quote) | 2020-09-06T14:46:57Z (unquoted date-time)
//!             | datetime'…' | datetimeoffset'…' | null
//! ```
//!
//! Each API has its own filterable properties ([`Api::fields`]); a value is checked
//! against its property at parse time (a date-time for the time properties, a member of
//! the enum for enum properties, in any documented spelling), so a filter that parses is
//! well-typed, and the store only turns it into parameterised SQL. Enum properties compare
//! with `eq`/`ne` only, except severity, which is ordered (`severity ge 'medium'`).
//! Nesting is limited to [`MAX_DEPTH`] and the text to [`MAX_FILTER_LEN`] bytes, so no
//! input can exhaust the stack.

use crate::enums::*;
use crate::time::Time;
use std::fmt;

pub const MAX_DEPTH: usize = 64;
pub const MAX_FILTER_LEN: usize = 8192;

/// A bad query option: the message for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ODataError(pub String);

impl fmt::Display for ODataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ODataError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ODataError> {
    Err(ODataError(msg.into()))
}

/// The type of a filterable property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Time,
    Text,
    IncidentStatus,
    AlertStatus,
    Severity,
    Classification,
    Determination,
    ServiceSource,
}

/// A filterable property: its wire name and its column in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub column: &'static str,
    pub kind: Kind,
}

const fn f(name: &'static str, column: &'static str, kind: Kind) -> Field {
    Field { name, column, kind }
}

const DEFENDER_INCIDENTS: &[Field] = &[
    f("lastUpdateTime", "last_update", Kind::Time),
    f("createdTime", "created", Kind::Time),
    f("status", "status", Kind::IncidentStatus),
    f("assignedTo", "assigned_to", Kind::Text),
];
const GRAPH_INCIDENTS: &[Field] = &[
    f("assignedTo", "assigned_to", Kind::Text),
    f("classification", "classification", Kind::Classification),
    f("createdDateTime", "created", Kind::Time),
    f("determination", "determination", Kind::Determination),
    f("lastUpdateDateTime", "last_update", Kind::Time),
    f("severity", "severity", Kind::Severity),
    f("status", "status", Kind::IncidentStatus),
];
const GRAPH_ALERTS: &[Field] = &[
    f("assignedTo", "assigned_to", Kind::Text),
    f("classification", "classification", Kind::Classification),
    f("createdDateTime", "created", Kind::Time),
    f("determination", "determination", Kind::Determination),
    f("lastUpdateDateTime", "last_update", Kind::Time),
    f("severity", "severity", Kind::Severity),
    f("status", "status", Kind::AlertStatus),
    f("serviceSource", "service_source", Kind::ServiceSource),
];

/// The list routes, each with its properties and page sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `GET /api/incidents`: `$top` at most 100 (the documented page size).
    DefenderIncidents,
    /// `GET /v1.0/security/incidents`: `$top` at most 50 (observed).
    GraphIncidents,
    /// `GET /v1.0/security/alerts_v2`: `$top` at most 2000 (undocumented; the docs page
    /// with `$top=100`).
    GraphAlerts,
}

impl Api {
    pub fn fields(self) -> &'static [Field] {
        match self {
            Api::DefenderIncidents => DEFENDER_INCIDENTS,
            Api::GraphIncidents => GRAPH_INCIDENTS,
            Api::GraphAlerts => GRAPH_ALERTS,
        }
    }

    /// The largest `$top`, also the page size without one.
    pub fn max_top(self) -> u64 {
        match self {
            Api::DefenderIncidents => 100,
            Api::GraphIncidents => 50,
            Api::GraphAlerts => 2000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn parse(word: &str) -> Option<Op> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
        }
    }

    fn is_order(self) -> bool {
        !matches!(self, Op::Eq | Op::Ne)
    }
}

/// A checked comparison value, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Null,
    /// Ticks (see [`Time`]).
    Time(i64),
    Text(String),
    /// An enum member's canonical (Graph) name.
    Member(&'static str),
    /// A severity's rank (`unknown` 0 … `high` 4).
    Rank(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Cmp {
        field: Field,
        op: Op,
        value: Literal,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    /// A quoted string (quotes removed, `''` unescaped).
    Str(String),
    /// `datetime'…'` and the like: the prefix and the text.
    Typed(String, String),
    Word(String),
}

fn lex(s: &str) -> Result<Vec<Tok>, ODataError> {
    let mut toks = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                toks.push(Tok::LParen);
            }
            ')' => {
                chars.next();
                toks.push(Tok::RParen);
            }
            '\'' => {
                chars.next();
                toks.push(Tok::Str(quoted(&mut chars, i)?));
            }
            _ => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '\'' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                if let Some(&(q, '\'')) = chars.peek() {
                    chars.next();
                    toks.push(Tok::Typed(word, quoted(&mut chars, q)?));
                } else {
                    toks.push(Tok::Word(word));
                }
            }
        }
    }
    Ok(toks)
}

/// The rest of a quoted string whose opening quote (at byte `start`) was consumed.
fn quoted(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    start: usize,
) -> Result<String, ODataError> {
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return err(format!("unterminated string literal at position {start}")),
            Some((_, '\'')) => {
                if let Some(&(_, '\'')) = chars.peek() {
                    chars.next();
                    out.push('\'');
                } else {
                    return Ok(out);
                }
            }
            Some((_, c)) => out.push(c),
        }
    }
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    fields: &'a [Field],
    depth: usize,
}

impl Parser<'_> {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Filter, ODataError> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, ODataError> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, ODataError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(format!(
                "the filter is nested deeper than {MAX_DEPTH} levels"
            ));
        }
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> Result<Filter, ODataError> {
        if self.peek_word("not") {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        match self.next() {
            Some(Tok::LParen) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(inner),
                    _ => err("')' expected"),
                }
            }
            Some(Tok::Word(name)) => self.comparison(&name),
            Some(Tok::RParen) => err("unexpected ')'"),
            Some(Tok::Str(s)) | Some(Tok::Typed(_, s)) => {
                err(format!("a property name is expected before '{s}'"))
            }
            None => err("the filter ends where a comparison is expected"),
        }
    }

    fn comparison(&mut self, name: &str) -> Result<Filter, ODataError> {
        let field = *self
            .fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let names: Vec<&str> = self.fields.iter().map(|f| f.name).collect();
                ODataError(format!(
                    "'{name}' is not a filterable property; filterable: {}",
                    names.join(", ")
                ))
            })?;
        let op = match self.next() {
            Some(Tok::Word(w)) => Op::parse(&w).ok_or_else(|| {
                ODataError(format!(
                    "'{w}' is not a comparison operator (eq, ne, gt, ge, lt, le)"
                ))
            })?,
            _ => return err(format!("a comparison operator is expected after '{name}'")),
        };
        let value = match self.next() {
            Some(t @ (Tok::Str(_) | Tok::Typed(..) | Tok::Word(_))) => literal(field, op, t)?,
            _ => return err(format!("a value is expected after '{name} {}'", op.name())),
        };
        Ok(Filter::Cmp { field, op, value })
    }
}

fn member<E: WireEnum>(field: &Field, text: &str) -> Result<E, ODataError> {
    E::parse(text).ok_or_else(|| {
        ODataError(format!(
            "'{text}' is not a valid value of {}; expected one of: {}",
            field.name,
            E::expected()
        ))
    })
}

fn literal(field: Field, op: Op, tok: Tok) -> Result<Literal, ODataError> {
    let (text, quoted) = match tok {
        Tok::Word(w) if w.eq_ignore_ascii_case("null") => {
            if op.is_order() {
                return err(format!("'{}' cannot compare with null", op.name()));
            }
            return Ok(Literal::Null);
        }
        Tok::Word(w) => (w, false),
        Tok::Str(s) => (s, true),
        Tok::Typed(prefix, s) => {
            let p = prefix.to_ascii_lowercase();
            if field.kind != Kind::Time || !(p == "datetime" || p == "datetimeoffset") {
                return err(format!(
                    "'{prefix}' literals are not supported for {}",
                    field.name
                ));
            }
            (s, true)
        }
        Tok::LParen | Tok::RParen => return err("a value is expected"),
    };
    let ordered_ok = matches!(field.kind, Kind::Time | Kind::Text | Kind::Severity);
    if op.is_order() && !ordered_ok {
        return err(format!(
            "operator '{}' is not supported on {}; use eq or ne",
            op.name(),
            field.name
        ));
    }
    Ok(match field.kind {
        Kind::Time => match Time::parse(&text) {
            Some(t) => Literal::Time(t.ticks()),
            None => {
                return err(format!(
                    "'{text}' is not a valid date-time for {}",
                    field.name
                ));
            }
        },
        _ if !quoted => {
            return err(format!(
                "'{text}' must be a quoted string ('{text}') for {}",
                field.name
            ));
        }
        Kind::Text => Literal::Text(text),
        Kind::IncidentStatus => {
            Literal::Member(member::<IncidentStatus>(&field, &text)?.graph_name())
        }
        Kind::AlertStatus => Literal::Member(member::<AlertStatus>(&field, &text)?.graph_name()),
        Kind::Classification => {
            Literal::Member(member::<Classification>(&field, &text)?.graph_name())
        }
        Kind::Determination => {
            Literal::Member(member::<Determination>(&field, &text)?.graph_name())
        }
        Kind::ServiceSource => {
            Literal::Member(member::<ServiceSource>(&field, &text)?.graph_name())
        }
        Kind::Severity => Literal::Rank(member::<Severity>(&field, &text)? as i64),
    })
}

/// Parses a `$filter` expression against `api`'s properties.
pub fn parse_filter(text: &str, api: Api) -> Result<Filter, ODataError> {
    if text.len() > MAX_FILTER_LEN {
        return err(format!("the filter is longer than {MAX_FILTER_LEN} bytes"));
    }
    let toks = lex(text)?;
    if toks.is_empty() {
        return err("the filter is empty");
    }
    let mut p = Parser {
        toks,
        pos: 0,
        fields: api.fields(),
        depth: 0,
    };
    let f = p.or()?;
    if let Some(t) = p.toks.get(p.pos) {
        let what = match t {
            Tok::Word(w) => w.clone(),
            Tok::Str(s) | Tok::Typed(_, s) => format!("'{s}'"),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
        };
        return err(format!(
            "unexpected {what}; 'and', 'or' or the end expected"
        ));
    }
    Ok(f)
}

/// The list options of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOptions {
    pub filter: Option<Filter>,
    pub top: u64,
    pub skip: u64,
    /// Graph `$count=true`: answer `@odata.count`.
    pub count: bool,
    /// Graph `$expand=alerts`.
    pub expand_alerts: bool,
    /// Whether the request named `$top` (Graph's `@odata.nextLink` keeps it).
    pub explicit_top: bool,
}

/// Reads the query options of a list request (already percent- and `+`-decoded pairs).
/// Other parameters than `$`-options are ignored; unknown or repeated `$`-options,
/// malformed values and a `$top` over the limit are errors.
pub fn parse_options(pairs: &[(String, String)], api: Api) -> Result<ListOptions, ODataError> {
    let mut o = ListOptions {
        filter: None,
        top: api.max_top(),
        skip: 0,
        count: false,
        expand_alerts: api == Api::DefenderIncidents,
        explicit_top: false,
    };
    let mut seen: Vec<String> = Vec::new();
    for (k, v) in pairs {
        let Some(name) = k.strip_prefix('$').map(str::to_ascii_lowercase) else {
            continue;
        };
        if seen.contains(&name) {
            return err(format!(
                "the query option '${name}' is given more than once"
            ));
        }
        seen.push(name.clone());
        match name.as_str() {
            "filter" => o.filter = Some(parse_filter(v, api)?),
            "top" => {
                let n = number("$top", v)?;
                if n > api.max_top() {
                    return err(format!(
                        "The query specified in the URI is not valid. The limit of '{}' for Top query has been exceeded. The value from the incoming request is '{n}'.",
                        api.max_top()
                    ));
                }
                o.top = n;
                o.explicit_top = true;
            }
            "skip" => o.skip = number("$skip", v)?,
            "count" if api != Api::DefenderIncidents => {
                o.count = match v.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return err(format!("'{v}' is not a valid $count value (true or false)")),
                }
            }
            "expand" if api == Api::GraphIncidents => {
                if !v.trim().eq_ignore_ascii_case("alerts") {
                    return err(format!(
                        "'{v}' cannot be expanded; the only navigation property is 'alerts'"
                    ));
                }
                o.expand_alerts = true;
            }
            _ => return err(format!("the query option '{k}' is not supported")),
        }
    }
    Ok(o)
}

fn number(name: &str, v: &str) -> Result<u64, ODataError> {
    v.trim().parse::<u64>().map_err(|_| {
        ODataError(format!(
            "'{v}' is not a valid {name} value: a non-negative integer"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str, api: Api) -> Filter {
        match parse_filter(s, api) {
            Ok(f) => f,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn cmp(name: &str, op: Op, value: Literal, api: Api) -> Filter {
        let field = *api.fields().iter().find(|f| f.name == name).expect("field");
        Filter::Cmp { field, op, value }
    }

    #[test]
    fn documented_samples() {
        let t = Time::parse("2020-09-06T14:46:57Z")
            .map(Time::ticks)
            .unwrap_or(0);
        let d = Api::DefenderIncidents;
        assert_eq!(
            ok("lastUpdateTime ge 2020-09-06T14:46:57Z", d),
            cmp("lastUpdateTime", Op::Ge, Literal::Time(t), d)
        );
        // the Hello-World script's seven zero digits
        assert_eq!(
            ok("lastUpdateTime ge 2020-09-06T14:46:57.0000000Z", d),
            cmp("lastUpdateTime", Op::Ge, Literal::Time(t), d)
        );
        assert_eq!(
            ok("status eq 'Active'", d),
            cmp("status", Op::Eq, Literal::Member("active"), d)
        );
        let g = Api::GraphIncidents;
        assert_eq!(
            ok("classification eq 'TruePositive'", g),
            cmp("classification", Op::Eq, Literal::Member("truePositive"), g)
        );
    }

    #[test]
    fn precedence_and_parentheses() {
        let d = Api::DefenderIncidents;
        let a = || cmp("status", Op::Eq, Literal::Member("active"), d);
        let b = || cmp("assignedTo", Op::Eq, Literal::Text("x".into()), d);
        let c = || cmp("assignedTo", Op::Eq, Literal::Null, d);
        assert_eq!(
            ok(
                "status eq 'Active' or assignedTo eq 'x' and assignedTo eq null",
                d
            ),
            Filter::Or(
                Box::new(a()),
                Box::new(Filter::And(Box::new(b()), Box::new(c())))
            )
        );
        assert_eq!(
            ok(
                "(status eq 'active' OR assignedTo eq 'x') and assignedTo eq null",
                d
            ),
            Filter::And(
                Box::new(Filter::Or(Box::new(a()), Box::new(b()))),
                Box::new(c())
            )
        );
        assert_eq!(
            ok("not (status eq 'Active')", d),
            Filter::Not(Box::new(a()))
        );
        assert_eq!(
            ok("assignedTo eq 'O''Brien'", d),
            cmp("assignedTo", Op::Eq, Literal::Text("O'Brien".into()), d)
        );
        assert_eq!(
            ok("severity ge 'Medium'", Api::GraphIncidents),
            cmp("severity", Op::Ge, Literal::Rank(3), Api::GraphIncidents)
        );
        let t = Time::parse("2021-01-01").map(Time::ticks).unwrap_or(0);
        assert_eq!(
            ok(
                "createdDateTime lt datetime'2021-01-01T00:00:00Z'",
                Api::GraphAlerts
            ),
            cmp(
                "createdDateTime",
                Op::Lt,
                Literal::Time(t),
                Api::GraphAlerts
            )
        );
    }

    #[test]
    fn bad_filters() {
        let d = Api::DefenderIncidents;
        let cases = [
            "",
            "   ",
            "status",
            "status eq",
            "status eq 'Closed'",
            "status eq Active",
            "status gt 'Active'",
            "severity eq 'High'", // not filterable on the Defender API
            "title eq 'x'",
            "lastUpdateTime ge yesterday",
            "lastUpdateTime ge 'not a date'",
            "lastUpdateTime gt null",
            "lastUpdateTime ge 2020-09-06T14:46:57Z and",
            "(status eq 'Active'",
            "status eq 'Active')",
            "status eq 'Active' status eq 'Active'",
            "assignedTo eq 'unterminated",
            "assignedTo like 'x'",
            "assignedTo eq x'y'",
            "'x' eq assignedTo",
            ")",
            "not",
        ];
        for c in cases {
            assert!(parse_filter(c, d).is_err(), "{c:?} should fail");
        }
        let deep = format!("{}status eq 'Active'{}", "(".repeat(200), ")".repeat(200));
        assert!(parse_filter(&deep, d).is_err());
        let nots = format!("{}status eq 'Active'", "not ".repeat(200));
        assert!(parse_filter(&nots, d).is_err());
        assert!(parse_filter(&"a".repeat(MAX_FILTER_LEN + 1), d).is_err());
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn options() -> Result<(), ODataError> {
        let o = parse_options(
            &pairs(&[("$top", "10"), ("$skip", "20"), ("api-version", "x")]),
            Api::DefenderIncidents,
        )?;
        assert_eq!(
            (o.top, o.skip, o.expand_alerts, o.count),
            (10, 20, true, false)
        );
        let o = parse_options(&[], Api::GraphIncidents)?;
        assert_eq!((o.top, o.expand_alerts), (50, false));
        let o = parse_options(
            &pairs(&[("$expand", "alerts"), ("$count", "true")]),
            Api::GraphIncidents,
        )?;
        assert!(o.expand_alerts && o.count);
        let e = parse_options(&pairs(&[("$top", "1000")]), Api::GraphIncidents).err();
        assert_eq!(
            e.map(|e| e.0).unwrap_or_default(),
            "The query specified in the URI is not valid. The limit of '50' for Top query has been exceeded. The value from the incoming request is '1000'."
        );
        for bad in [
            &[("$top", "101")][..],
            &[("$top", "-1")],
            &[("$top", "ten")],
            &[("$skip", "1.5")],
            &[("$count", "true")],
            &[("$expand", "alerts")],
            &[("$orderby", "createdTime")],
            &[("$top", "1"), ("$TOP", "2")],
            &[("$filter", "bogus")],
        ] {
            assert!(
                parse_options(&pairs(bad), Api::DefenderIncidents).is_err(),
                "{bad:?}"
            );
        }
        assert!(parse_options(&pairs(&[("$expand", "evidence")]), Api::GraphIncidents).is_err());
        assert!(parse_options(&pairs(&[("$expand", "alerts")]), Api::GraphAlerts).is_err());
        assert!(parse_options(&pairs(&[("$count", "maybe")]), Api::GraphAlerts).is_err());
        assert!(parse_options(&pairs(&[("$top", "2000")]), Api::GraphAlerts).is_ok());
        Ok(())
    }
}
