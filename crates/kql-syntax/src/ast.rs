//! The KQL abstract syntax tree. Every node carries the byte span it came from.
//!
//! One `Expr` type covers scalar and tabular expressions (KQL's grammar does too: a
//! pipeline is `expr | operator | operator`); the binder decides which one an
//! expression is.

use crate::span::Span;
use crate::types::KqlType;

/// A whole query: `let`/`set`/`declare` statements and tabular expression statements,
/// separated by `;`.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub statements: Vec<Statement>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `let name = expr` or `let f = (params) { body }`.
    Let {
        name: Ident,
        value: LetValue,
        span: Span,
    },
    /// `set name [= value]` (accepted, recorded, mostly ignored).
    Set {
        name: Ident,
        value: Option<Expr>,
        span: Span,
    },
    /// `declare query_parameters(name:type [= default], ...)`.
    DeclareQueryParameters { params: Vec<Param>, span: Span },
    /// A query expression (normally tabular).
    Query(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum LetValue {
    Expr(Expr),
    /// A user-defined function (lambda); `view` is true for `view (...) {...}`.
    Function(Lambda),
}

/// `(a:long, b:string = "x", T:(*)) { let ...; body }`
#[derive(Debug, Clone, PartialEq)]
pub struct Lambda {
    pub params: Vec<Param>,
    pub body: FunctionBody,
    pub view: bool,
    pub span: Span,
}

/// The body of a user-defined function: `let` statements, then one result expression.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionBody {
    pub lets: Vec<Statement>,
    pub result: Box<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: ParamType,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    Scalar(TypeName),
    /// `T:(*)` (any columns) or `T:(a:long, b:string)` (at least these columns).
    Tabular {
        columns: Option<Vec<ColumnDecl>>,
        wildcard: bool,
    },
}

/// An identifier as written, with brackets/quotes removed (`['a b']` → `a b`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A type name as written (`long`, `string`, `dynamic`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct TypeName {
    pub name: String,
    pub ty: Option<KqlType>,
    pub span: Span,
}

/// `name:type` in `datatable`, `externaldata`, `parse-kv ... as (...)`, tabular params.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDecl {
    pub name: Ident,
    pub ty: TypeName,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// A bare name: column, `let` variable, table, or `$left`/`$right`.
    Name(Ident),
    /// `*` where an argument list allows it (`arg_max(x, *)`, `count(*)`? , `pack_all()`).
    Star,
    /// `f(args)`; `name` may be dotted for `database('x').T`-style calls (not supported).
    Call {
        name: Ident,
        args: Vec<Expr>,
    },
    /// `expr.name` (dynamic property access, `$left.x`).
    Member {
        expr: Box<Expr>,
        name: Ident,
    },
    /// `expr[index]` (dynamic index/property access).
    Index {
        expr: Box<Expr>,
        index: Box<Expr>,
    },
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `x in (a, b)`, `x !in~ (T | project y)`, `x in (dynamic([...]))`.
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
        case_insensitive: bool,
    },
    /// `x has_any (a, b)`, `x has_all (...)`, `x has_any_cs`? (not KQL) — see `HasKind`.
    HasAny {
        expr: Box<Expr>,
        list: Vec<Expr>,
        kind: HasAnyKind,
    },
    /// `x between (a .. b)`, `x !between (a .. b)`.
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    /// `(expr)`: kept so auto-naming and printing can see it.
    Paren(Box<Expr>),
    /// `input | operator`.
    Pipe {
        input: Box<Expr>,
        op: Box<Operator>,
    },
    /// `datatable(a:long, b:string) [1, "x", ...]`.
    Datatable {
        columns: Vec<ColumnDecl>,
        values: Vec<Expr>,
    },
    /// `print a = 1, 2` as a tabular source.
    Print(Vec<NamedExpr>),
    /// `range x from a to b step c`.
    Range {
        name: Ident,
        from: Box<Expr>,
        to: Box<Expr>,
        step: Box<Expr>,
    },
    /// `union ...` used as a source (no pipe input).
    Union(UnionOp),
    /// `externaldata (cols) [urls] with (props)`.
    ExternalData {
        columns: Vec<ColumnDecl>,
        uris: Vec<Expr>,
        props: Vec<(Ident, Expr)>,
    },
    /// `find ...` / `search ...` as a source; kept unparsed beyond the keyword.
    UnsupportedSource {
        name: String,
    },
    /// A lambda used inline (rare; e.g. `invoke` arguments). Parsed for completeness.
    Lambda(Box<Lambda>),
    /// `name = value` as a call argument (`bag_unpack(d, columnsConflict='keep_source')`,
    /// `arg_max(t, Name = expr)`).
    NamedArg {
        name: Ident,
        value: Box<Expr>,
    },
    /// `typeof(long)` used as an argument (`extract(..., typeof(long))`, `mv-expand to typeof`).
    TypeOf(TypeName),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HasAnyKind {
    HasAny,
    HasAll,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(Option<bool>),
    Int(Option<i32>),
    Long(Option<i64>),
    Real(Option<f64>),
    /// The literal text of a decimal (`decimal(1.5)`), or `None` for `decimal(null)`.
    Decimal(Option<String>),
    String(String),
    /// The text between `datetime(` and `)`, unparsed (`None` for `datetime(null)`).
    DateTime(Option<String>),
    /// 100-ns ticks (`None` for `timespan(null)`).
    TimeSpan(Option<i64>),
    /// Canonical lower-case guid text (`None` for `guid(null)`).
    Guid(Option<String>),
    /// A `dynamic(...)` literal as a JSON-like value.
    Dynamic(DynValue),
}

/// The value of a `dynamic(...)` literal.
#[derive(Debug, Clone, PartialEq)]
pub enum DynValue {
    Null,
    Bool(bool),
    Long(i64),
    Real(f64),
    String(String),
    /// A datetime inside a dynamic literal, as written.
    DateTime(String),
    /// A timespan inside a dynamic literal, in 100-ns ticks.
    TimeSpan(i64),
    Array(Vec<DynValue>),
    Object(Vec<(String, DynValue)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `=~`
    EqTilde,
    /// `!~`
    NotEqTilde,
    And,
    Or,
    /// String operators: `has`, `!has`, `has_cs`, `contains`, `startswith`, `matches regex`, ...
    Str(StringOp),
}

/// A KQL string predicate operator, with negation and case-sensitivity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StringOp {
    pub kind: StringOpKind,
    pub negated: bool,
    pub case_sensitive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StringOpKind {
    Has,
    HasPrefix,
    HasSuffix,
    Contains,
    StartsWith,
    EndsWith,
    /// `matches regex` (always case-sensitive, never negated in KQL syntax).
    MatchesRegex,
    /// `like` / `notlike` (SQL-style; accepted by Kusto).
    Like,
}

impl BinaryOp {
    /// The operator as written in KQL.
    pub fn symbol(self) -> String {
        match self {
            BinaryOp::Add => "+".into(),
            BinaryOp::Sub => "-".into(),
            BinaryOp::Mul => "*".into(),
            BinaryOp::Div => "/".into(),
            BinaryOp::Mod => "%".into(),
            BinaryOp::Eq => "==".into(),
            BinaryOp::NotEq => "!=".into(),
            BinaryOp::Lt => "<".into(),
            BinaryOp::LtEq => "<=".into(),
            BinaryOp::Gt => ">".into(),
            BinaryOp::GtEq => ">=".into(),
            BinaryOp::EqTilde => "=~".into(),
            BinaryOp::NotEqTilde => "!~".into(),
            BinaryOp::And => "and".into(),
            BinaryOp::Or => "or".into(),
            BinaryOp::Str(s) => {
                let base = match s.kind {
                    StringOpKind::Has => "has",
                    StringOpKind::HasPrefix => "hasprefix",
                    StringOpKind::HasSuffix => "hassuffix",
                    StringOpKind::Contains => "contains",
                    StringOpKind::StartsWith => "startswith",
                    StringOpKind::EndsWith => "endswith",
                    StringOpKind::MatchesRegex => "matches regex",
                    StringOpKind::Like => "like",
                };
                format!(
                    "{}{}{}",
                    if s.negated { "!" } else { "" },
                    base,
                    if s.case_sensitive && s.kind != StringOpKind::MatchesRegex {
                        "_cs"
                    } else {
                        ""
                    }
                )
            }
        }
    }
}

/// `name = expr`, `(a, b) = expr`, or a bare `expr` in project/extend/summarize/print lists.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedExpr {
    /// Empty when no name was given (the binder derives one).
    pub names: Vec<Ident>,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    pub kind: OperatorKind,
    pub span: Span,
}

/// `name = value` hints/parameters written before an operator's arguments
/// (`kind=inner`, `hint.strategy=shuffle`, `withsource=T`, `isfuzzy=true`, `bagexpansion=array`).
#[derive(Debug, Clone, PartialEq)]
pub struct OpParam {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullsOrder {
    First,
    Last,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub order: Option<SortOrder>,
    pub nulls: Option<NullsOrder>,
    pub span: Span,
}

/// A column name or wildcard pattern (`Foo*`, `*Id`) in `project-away`/`project-keep`/`project-reorder`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnPattern {
    pub pattern: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnionOp {
    pub params: Vec<OpParam>,
    /// Tables: names (possibly with wildcards, as `Name` whose text contains `*`) or
    /// parenthesized subqueries.
    pub tables: Vec<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MvExpandItem {
    pub name: Option<Ident>,
    pub expr: Expr,
    pub to_type: Option<TypeName>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParsePart {
    /// A string literal to match.
    Literal(String),
    /// A column to extract, with optional type (default string).
    Column { name: Ident, ty: Option<TypeName> },
    /// `*`: skip anything.
    Wildcard,
}

#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum OperatorKind {
    /// `where pred` / `filter pred`
    Where(Expr),
    Project(Vec<NamedExpr>),
    ProjectAway(Vec<ColumnPattern>),
    ProjectKeep(Vec<ColumnPattern>),
    /// `project-rename new = old, ...`
    ProjectRename(Vec<(Ident, Ident)>),
    ProjectReorder(Vec<(ColumnPattern, Option<SortOrder>)>),
    Extend(Vec<NamedExpr>),
    Summarize {
        params: Vec<OpParam>,
        aggregates: Vec<NamedExpr>,
        by: Vec<NamedExpr>,
    },
    /// `sort by` / `order by`
    Sort {
        params: Vec<OpParam>,
        keys: Vec<SortKey>,
    },
    Top {
        count: Expr,
        key: SortKey,
    },
    /// `take n` / `limit n`
    Take(Expr),
    /// `distinct a, b` or `distinct *`
    Distinct(Vec<Expr>),
    Count,
    Join {
        params: Vec<OpParam>,
        right: Expr,
        /// `on a, b` or `on $left.a == $right.b and ...` (each element one condition).
        on: Vec<Expr>,
        /// `where` conditions form (`join ... on` is the norm; kept for completeness).
        span_on: Span,
    },
    Lookup {
        params: Vec<OpParam>,
        right: Expr,
        on: Vec<Expr>,
    },
    Union(UnionOp),
    MvExpand {
        params: Vec<OpParam>,
        items: Vec<MvExpandItem>,
        limit: Option<Expr>,
    },
    MvApply {
        params: Vec<OpParam>,
        items: Vec<MvExpandItem>,
        limit: Option<Expr>,
        /// The subquery after `on`: a pipeline of operators applied to each row's expansion.
        on: Vec<Operator>,
    },
    Parse {
        /// `parse` or `parse-where`.
        where_: bool,
        params: Vec<OpParam>,
        expr: Expr,
        parts: Vec<ParsePart>,
    },
    ParseKv {
        expr: Expr,
        columns: Vec<ColumnDecl>,
        params: Vec<OpParam>,
    },
    MakeSeries {
        params: Vec<OpParam>,
        /// aggregates with optional `default = value`
        aggregates: Vec<(NamedExpr, Option<Expr>)>,
        on: Expr,
        from: Option<Expr>,
        to: Option<Expr>,
        step: Option<Expr>,
        /// `in range(start, stop, step)` form
        by: Vec<NamedExpr>,
    },
    Serialize(Vec<NamedExpr>),
    As {
        params: Vec<OpParam>,
        name: Ident,
    },
    /// `invoke f(args)`
    Invoke(Expr),
    /// `evaluate [hints] plugin(args) [: (col:type, ...)]`
    Evaluate {
        params: Vec<OpParam>,
        plugin: Expr,
        /// The declared output schema (`evaluate bag_unpack(d) : (a:long, b:string)`).
        schema: Option<Vec<ColumnDecl>>,
    },
    TopNested(Vec<TopNestedLevel>),
    Sample(Expr),
    SampleDistinct {
        count: Expr,
        expr: Expr,
    },
    GetSchema,
    Render {
        chart: Ident,
        props: Vec<OpParam>,
    },
    /// `search [in (T...)] pred` after a pipe; `find` likewise.
    Search {
        params: Vec<OpParam>,
        pred: Expr,
    },
    /// `partition by col (subquery)`
    Partition {
        params: Vec<OpParam>,
        by: Ident,
        sub: Vec<Operator>,
    },
    /// `facet by ...`, `fork`, `scan`, `reduce`, `consume` ... parsed only as far as their name.
    Unsupported {
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TopNestedLevel {
    pub count: Option<Expr>,
    pub of: NamedExpr,
    pub with_others: Option<Expr>,
    pub by: NamedExpr,
    pub order: Option<SortOrder>,
    pub span: Span,
}
