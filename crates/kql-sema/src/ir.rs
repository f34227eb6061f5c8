//! The bound, typed intermediate representation.
//!
//! Every relational node carries its output schema (KQL names and types, in order)
//! and the span of the operator it came from; every scalar expression carries its
//! KQL type. The planner lowers this 1:1 to a DataFusion `LogicalPlan`.

use kql_functions::Const;
use kql_syntax::ast::{BinaryOp, HasAnyKind};
use kql_syntax::{KqlType, Span};
use std::sync::Arc;

/// One output column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub ty: KqlType,
}

impl Field {
    pub fn new(name: impl Into<String>, ty: KqlType) -> Self {
        Field {
            name: name.into(),
            ty,
        }
    }
}

pub type Schema = Arc<Vec<Field>>;

/// A bound query: the result relation and the `render` hint if any.
#[derive(Debug, Clone)]
pub struct BoundQuery {
    pub rel: Rel,
    pub render: Option<Render>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Render {
    pub visualization: String,
    pub properties: Vec<(String, Const)>,
}

/// A relational (tabular) expression.
#[derive(Debug, Clone)]
pub struct Rel {
    pub kind: RelKind,
    pub schema: Schema,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// The default for `join`: de-duplicates the left side on the join keys first.
    InnerUnique,
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
    LeftSemi,
    RightSemi,
    LeftAnti,
    RightAnti,
}

impl JoinKind {
    pub fn from_name(name: &str) -> Option<JoinKind> {
        Some(match name.to_ascii_lowercase().as_str() {
            "innerunique" => JoinKind::InnerUnique,
            "inner" => JoinKind::Inner,
            "leftouter" => JoinKind::LeftOuter,
            "rightouter" => JoinKind::RightOuter,
            "fullouter" | "outer" => JoinKind::FullOuter,
            "leftsemi" | "semi" => JoinKind::LeftSemi,
            "rightsemi" => JoinKind::RightSemi,
            "leftanti" | "anti" | "leftantisemi" => JoinKind::LeftAnti,
            "rightanti" | "rightantisemi" => JoinKind::RightAnti,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct SortKey {
    pub expr: ScalarExpr,
    pub asc: bool,
    pub nulls_first: bool,
}

#[derive(Debug, Clone)]
pub enum RelKind {
    /// A catalog table.
    Table {
        name: String,
    },
    /// Literal rows (already converted to the column types).
    Values {
        rows: Vec<Vec<ScalarExpr>>,
    },
    /// `range name from a to b step s` (inclusive).
    Range {
        from: ScalarExpr,
        to: ScalarExpr,
        step: ScalarExpr,
    },
    Filter {
        input: Box<Rel>,
        predicate: ScalarExpr,
    },
    /// The full output list, in order.
    Project {
        input: Box<Rel>,
        exprs: Vec<ScalarExpr>,
    },
    /// Output: group keys then aggregates (names from the schema).
    Aggregate {
        input: Box<Rel>,
        group: Vec<ScalarExpr>,
        aggs: Vec<AggExpr>,
    },
    Sort {
        input: Box<Rel>,
        keys: Vec<SortKey>,
    },
    Limit {
        input: Box<Rel>,
        count: u64,
    },
    Distinct {
        input: Box<Rel>,
    },
    /// Output schema: decided by the binder (left columns, then right columns renamed
    /// on collision); `right_keep` lists which right columns are kept and their output names.
    Join {
        left: Box<Rel>,
        right: Box<Rel>,
        kind: JoinKind,
        /// Pairs of (left column index, right column index).
        on: Vec<(usize, usize)>,
        /// For `lookup`: right key columns are dropped from the output.
        lookup: bool,
    },
    /// Every input already projected to `schema` (missing columns as typed nulls).
    Union {
        inputs: Vec<Rel>,
    },
    /// Expands each listed column (by index) of dynamic arrays/bags into rows.
    MvExpand {
        input: Box<Rel>,
        columns: Vec<MvExpandColumn>,
        item_index: Option<String>,
        limit: Option<u64>,
        /// `kind=array`: property bags expand to `[key, value]` arrays instead of `{key: value}`.
        bag_as_array: bool,
    },
    /// Window-style computed columns appended in row order (`serialize`, `row_number()`, `prev()`, `next()`).
    Window {
        input: Box<Rel>,
        exprs: Vec<WindowExpr>,
    },
    /// An empty relation with the given schema.
    Empty,
    /// `make-series`: output = group keys, one dynamic array per aggregate, the axis array.
    MakeSeries {
        input: Box<Rel>,
        group: Vec<ScalarExpr>,
        axis: ScalarExpr,
        aggs: Vec<AggExpr>,
        /// Per aggregate: the value for empty bins (JSON), `default=` or the type's zero/null.
        defaults: Vec<serde_json::Value>,
        from: ScalarExpr,
        to: ScalarExpr,
        step: ScalarExpr,
    },
    /// `externaldata`: rows read from files (local paths or `file://` URIs; other URIs
    /// fail when the query runs).
    ExternalData {
        uris: Vec<String>,
        format: String,
        ignore_first_record: bool,
    },
}

#[derive(Debug, Clone)]
pub struct MvExpandColumn {
    /// Index of the (dynamic) column in the input schema.
    pub index: usize,
    /// Output type (`to typeof(T)`), dynamic by default.
    pub ty: KqlType,
}

#[derive(Debug, Clone)]
pub enum WindowExpr {
    RowNumber {
        start: i64,
        /// Restart numbering per group (used for per-row subqueries of `mv-apply`).
        partition_by: Vec<ScalarExpr>,
        order_by: Vec<SortKey>,
    },
    Prev {
        expr: ScalarExpr,
        offset: i64,
        default: Option<ScalarExpr>,
    },
    Next {
        expr: ScalarExpr,
        offset: i64,
        default: Option<ScalarExpr>,
    },
    RowCumSum {
        expr: ScalarExpr,
        /// Restart the sum per group (`row_cumsum(x, restart)` numbers restart groups).
        partition_by: Vec<ScalarExpr>,
    },
}

/// An aggregate call in `summarize`.
#[derive(Debug, Clone)]
pub enum AggExpr {
    Call {
        name: String,
        args: Vec<ScalarExpr>,
        ty: KqlType,
    },
    /// `arg_max(by, col)` / `arg_min(by, col)`: the value of `value` on the row where `by` is max/min.
    ArgExtreme {
        max: bool,
        by: ScalarExpr,
        value: ScalarExpr,
        ty: KqlType,
    },
}

impl AggExpr {
    pub fn ty(&self) -> KqlType {
        match self {
            AggExpr::Call { ty, .. } | AggExpr::ArgExtreme { ty, .. } => *ty,
        }
    }
}

/// A bound scalar expression.
#[derive(Debug, Clone)]
pub struct ScalarExpr {
    pub kind: ScalarKind,
    pub ty: KqlType,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ScalarKind {
    /// A column of the input relation, by name.
    Column(String),
    Literal(Const),
    Call {
        name: String,
        args: Vec<ScalarExpr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<ScalarExpr>,
        right: Box<ScalarExpr>,
    },
    Negate(Box<ScalarExpr>),
    In {
        expr: Box<ScalarExpr>,
        list: Vec<ScalarExpr>,
        negated: bool,
        case_insensitive: bool,
    },
    /// `x in (T | project y)`.
    InRel {
        expr: Box<ScalarExpr>,
        rel: Box<Rel>,
        negated: bool,
        case_insensitive: bool,
    },
    HasAny {
        expr: Box<ScalarExpr>,
        list: Vec<ScalarExpr>,
        kind: HasAnyKind,
    },
    Between {
        expr: Box<ScalarExpr>,
        low: Box<ScalarExpr>,
        high: Box<ScalarExpr>,
        negated: bool,
    },
    Member {
        expr: Box<ScalarExpr>,
        key: String,
    },
    Index {
        expr: Box<ScalarExpr>,
        index: Box<ScalarExpr>,
    },
    Cast(Box<ScalarExpr>),
    /// An engine-internal function (not a KQL function), e.g. `parse-kv` extraction.
    EngineCall {
        name: String,
        args: Vec<ScalarExpr>,
    },
    /// `toscalar(T)`: the first column of the first row.
    ScalarSubquery(Box<Rel>),
}

impl ScalarExpr {
    pub fn new(kind: ScalarKind, ty: KqlType, span: Span) -> Self {
        ScalarExpr { kind, ty, span }
    }

    pub fn column(name: &str, ty: KqlType, span: Span) -> Self {
        ScalarExpr::new(ScalarKind::Column(name.to_string()), ty, span)
    }

    pub fn literal(c: Const, ty: KqlType, span: Span) -> Self {
        ScalarExpr::new(ScalarKind::Literal(c), ty, span)
    }

    pub fn constant(&self) -> Option<&Const> {
        match &self.kind {
            ScalarKind::Literal(c) => Some(c),
            _ => None,
        }
    }

    /// A typed KQL null.
    pub fn null(ty: KqlType, span: Span) -> Self {
        ScalarExpr::literal(Const::Null, ty, span)
    }

    /// Convert to `ty` if the type differs.
    pub fn cast_to(self, ty: KqlType) -> Self {
        if self.ty == ty {
            return self;
        }
        let span = self.span;
        if let ScalarKind::Literal(Const::Null) = self.kind {
            return ScalarExpr::null(ty, span);
        }
        // Fold numeric widening of constants so they stay constants.
        if let ScalarKind::Literal(c) = &self.kind {
            let folded = match (c, ty) {
                (Const::Int(v), KqlType::Long) => Some(Const::Long(i64::from(*v))),
                (Const::Int(v), KqlType::Real | KqlType::Decimal) => {
                    Some(Const::Real(f64::from(*v)))
                }
                (Const::Long(v), KqlType::Real | KqlType::Decimal) => Some(Const::Real(*v as f64)),
                (Const::Long(v), KqlType::Int) => i32::try_from(*v).ok().map(Const::Int),
                (Const::Real(v), KqlType::Decimal) => Some(Const::Real(*v)),
                _ => None,
            };
            if let Some(c) = folded {
                return ScalarExpr::literal(c, ty, span);
            }
        }
        ScalarExpr::new(ScalarKind::Cast(Box::new(self)), ty, span)
    }
}
