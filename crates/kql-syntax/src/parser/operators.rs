//! Tabular operators: everything after a `|`.

use super::{PResult, Parser};
use crate::ast::{
    ColumnPattern, Expr, ExprKind, Ident, Literal, MvExpandItem, NullsOrder, OpParam, Operator,
    OperatorKind, ParsePart, SortKey, SortOrder, TopNestedLevel,
};
use crate::diagnostic::{Diagnostic, codes};
use crate::lexer::{TokenKind, truncate};
use crate::span::Span;

/// Operators Peregrine parses into their own [`OperatorKind`].
const SUPPORTED_OPERATORS: &[&str] = &[
    "where",
    "filter",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "extend",
    "summarize",
    "sort",
    "order",
    "top",
    "take",
    "limit",
    "distinct",
    "count",
    "join",
    "lookup",
    "union",
    "mv-expand",
    "mvexpand",
    "mv-apply",
    "parse",
    "parse-where",
    "parse-kv",
    "make-series",
    "serialize",
    "as",
    "invoke",
    "evaluate",
    "top-nested",
    "sample",
    "sample-distinct",
    "getschema",
    "render",
    "search",
    "partition",
];

/// Valid KQL operators that are only recognized: their arguments are skipped and they
/// become [`OperatorKind::Unsupported`] (the binder reports them).
const UNSUPPORTED_OPERATORS: &[&str] = &[
    "facet",
    "fork",
    "scan",
    "reduce",
    "consume",
    "top-hitters",
    "find",
    "project-smart",
    "project-by-names",
    "execute-and-cache",
    "make-graph",
    "graph-match",
    "graph-to-table",
    "graph-shortest-paths",
    "graph-mark-components",
    "graph-merge",
    "assert-schema",
    "macro-expand",
];

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let delete = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let insert = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(substitute.min(delete).min(insert));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

fn suggest_operator(name: &str) -> Option<&'static str> {
    if name.len() > 40 {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    SUPPORTED_OPERATORS
        .iter()
        .chain(UNSUPPORTED_OPERATORS)
        .map(|candidate| (edit_distance(&lower, candidate), *candidate))
        .filter(|(d, candidate)| *d <= 2 && *d < candidate.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, candidate)| candidate)
}

impl Parser<'_> {
    /// The operator name at the cursor, hyphenated parts joined (`project-away`), and its
    /// token count.
    fn operator_name_at(&self) -> Option<(String, usize)> {
        let mut name = self.word()?.to_string();
        let mut n = 1;
        while matches!(self.nth_kind(n), TokenKind::Minus) && self.touches(n - 1) && self.touches(n)
        {
            let Some(part) = self.nth_word(n + 1) else {
                break;
            };
            name.push('-');
            name.push_str(part);
            n += 2;
        }
        Some((name, n))
    }

    /// One operator after `|`.
    pub(crate) fn parse_operator(&mut self) -> PResult<Operator> {
        let start = self.start();
        let Some((name, len)) = self.operator_name_at() else {
            return Err(self.expected("an operator name"));
        };
        let name_span = Span::new(start, self.nth(len - 1).span.end);
        for _ in 0..len {
            self.bump();
        }
        let kind = match name.as_str() {
            // Kusto accepts (and ignores) a name: `where x = pred` filters on `pred`.
            "where" | "filter" => OperatorKind::Where(self.parse_named_expr()?.expr),
            "project" => OperatorKind::Project(self.parse_named_list()?),
            "project-away" => {
                OperatorKind::ProjectAway(self.parse_comma_list(Self::parse_column_pattern)?)
            }
            "project-keep" => {
                OperatorKind::ProjectKeep(self.parse_comma_list(Self::parse_column_pattern)?)
            }
            "project-rename" => {
                OperatorKind::ProjectRename(self.parse_comma_list(Self::parse_rename)?)
            }
            "project-reorder" => {
                OperatorKind::ProjectReorder(self.parse_comma_list(Self::parse_reorder_item)?)
            }
            "extend" => OperatorKind::Extend(self.parse_named_list()?),
            "summarize" => self.parse_summarize()?,
            "sort" | "order" => self.parse_sort()?,
            "top" => self.parse_top()?,
            "take" | "limit" => OperatorKind::Take(self.parse_expr()?),
            "distinct" => self.parse_distinct()?,
            "count" => {
                // `count as Name` is `count | project-rename Name = Count`.
                if self.at_word("as") && self.name_len_at(1).is_some() {
                    let as_start = self.start();
                    self.bump();
                    let new_name = self.parse_name()?;
                    let old_name = Ident {
                        name: "Count".into(),
                        span: new_name.span,
                    };
                    self.pending_operator = Some(Operator {
                        kind: OperatorKind::ProjectRename(vec![(new_name, old_name)]),
                        span: self.span_from(as_start),
                    });
                }
                OperatorKind::Count
            }
            "join" => self.parse_join()?,
            "lookup" => self.parse_lookup()?,
            "union" => OperatorKind::Union(self.parse_union_body()?),
            "mv-expand" | "mvexpand" => self.parse_mv_expand()?,
            "mv-apply" => self.parse_mv_apply()?,
            "parse" => self.parse_parse(false)?,
            "parse-where" => self.parse_parse(true)?,
            "parse-kv" => self.parse_parse_kv()?,
            "make-series" => self.parse_make_series()?,
            "serialize" => OperatorKind::Serialize(if self.at_op_end() {
                Vec::new()
            } else {
                self.parse_named_list()?
            }),
            "as" => {
                let params = self.parse_op_params(&["hint.*"])?;
                let name = self.parse_name()?;
                OperatorKind::As { params, name }
            }
            "invoke" => OperatorKind::Invoke(self.parse_postfix()?),
            "evaluate" => self.parse_evaluate()?,
            "top-nested" => OperatorKind::TopNested(self.parse_top_nested()?),
            "sample" => OperatorKind::Sample(self.parse_expr()?),
            "sample-distinct" => {
                let count = self.parse_expr()?;
                self.expect_word("of")?;
                let expr = self.parse_expr()?;
                OperatorKind::SampleDistinct { count, expr }
            }
            "getschema" => OperatorKind::GetSchema,
            "render" => self.parse_render()?,
            "search" => {
                let params = self.parse_op_params(&["kind"])?;
                let pred = self.parse_expr()?;
                OperatorKind::Search { params, pred }
            }
            "partition" => self.parse_partition()?,
            other if UNSUPPORTED_OPERATORS.contains(&other) => {
                self.skip_to_sync(true);
                OperatorKind::Unsupported { name }
            }
            other => {
                let mut diagnostic = Diagnostic::error(
                    codes::UNKNOWN_OPERATOR,
                    format!("unknown operator `{}`", truncate(other, 40)),
                    name_span,
                );
                if let Some(suggestion) = suggest_operator(other) {
                    diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
                }
                return Err(self.report(diagnostic));
            }
        };
        Ok(Operator {
            kind,
            span: self.span_from(start),
        })
    }

    /// `item, item, ...`
    fn parse_comma_list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        let mut items = Vec::new();
        loop {
            items.push(item(self)?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(items)
    }

    // ----- parameters -----------------------------------------------------------------------

    /// A parameter name at the cursor (`kind`, `hint.strategy`) and its token count.
    fn param_name_at(&self) -> Option<(String, usize)> {
        let mut name = self.word()?.to_string();
        let mut n = 1;
        while matches!(self.nth_kind(n), TokenKind::Dot) && self.touches(n - 1) && self.touches(n) {
            let Some(part) = self.nth_word(n + 1) else {
                break;
            };
            name.push('.');
            name.push_str(part);
            n += 2;
        }
        Some((name, n))
    }

    /// `name=value` parameters before an operator's arguments. `allowed` lists the names
    /// the operator takes; `"hint.*"` allows every `hint.` name.
    pub(crate) fn parse_op_params(&mut self, allowed: &[&str]) -> PResult<Vec<OpParam>> {
        let mut params = Vec::new();
        while let Some((name, len)) = self.param_name_at() {
            let is_allowed = allowed.contains(&name.as_str())
                || (name.starts_with("hint.") && allowed.contains(&"hint.*"));
            if !is_allowed || !matches!(self.nth_kind(len), TokenKind::Assign) {
                break;
            }
            let start = self.start();
            for _ in 0..len {
                self.bump();
            }
            let name = Ident {
                name,
                span: self.span_from(start),
            };
            self.bump();
            let value = self.parse_param_value()?;
            params.push(OpParam {
                name,
                value,
                span: self.span_from(start),
            });
        }
        Ok(params)
    }

    /// A parameter value: a word, a literal or a signed number.
    fn parse_param_value(&mut self) -> PResult<Expr> {
        let start = self.start();
        let literal = match self.kind().clone() {
            TokenKind::Ident(word) => {
                let span = self.bump();
                let kind = match word.as_str() {
                    "true" | "True" | "TRUE" => ExprKind::Literal(Literal::Bool(Some(true))),
                    "false" | "False" | "FALSE" => ExprKind::Literal(Literal::Bool(Some(false))),
                    _ => ExprKind::Name(Ident { name: word, span }),
                };
                return Ok(Expr::new(kind, span));
            }
            TokenKind::String(_) => Literal::String(self.parse_string_concat()),
            TokenKind::Int { .. } | TokenKind::Real(_) | TokenKind::TimeSpan(_) => {
                return self.parse_postfix();
            }
            TokenKind::Minus | TokenKind::Plus => match self.signed_number_at()? {
                Some(literal) => literal,
                None => return Err(self.expected("a parameter value")),
            },
            _ => return Err(self.expected("a parameter value")),
        };
        Ok(Expr::new(ExprKind::Literal(literal), self.span_from(start)))
    }

    /// `with (name = value, ...)`
    pub(crate) fn parse_with_props(&mut self) -> PResult<Vec<OpParam>> {
        self.expect_word("with")?;
        self.expect(&TokenKind::LParen)?;
        let mut props = Vec::new();
        while !self.at(&TokenKind::RParen) {
            let start = self.start();
            let name = self.parse_dotted_name()?;
            self.expect(&TokenKind::Assign)?;
            let value = self.parse_expr()?;
            props.push(OpParam {
                name,
                value,
                span: self.span_from(start),
            });
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect(&TokenKind::RParen)?;
        Ok(props)
    }

    // ----- columns and sorting ---------------------------------------------------------------

    /// A column name or wildcard pattern: `Name`, `Foo*`, `*Id`, `['a b']`.
    fn parse_column_pattern(&mut self) -> PResult<ColumnPattern> {
        if self.at(&TokenKind::LBracket) {
            let name = self.parse_name()?;
            return Ok(ColumnPattern {
                pattern: name.name,
                span: name.span,
            });
        }
        let Some((pattern, span, len)) = self.wildcard_pattern_at() else {
            return Err(self.expected("a column name or pattern"));
        };
        for _ in 0..len {
            self.bump();
        }
        Ok(ColumnPattern { pattern, span })
    }

    /// `new = old`
    fn parse_rename(&mut self) -> PResult<(Ident, Ident)> {
        let new = self.parse_name()?;
        self.expect(&TokenKind::Assign)?;
        let old = self.parse_name()?;
        Ok((new, old))
    }

    /// `pattern [asc|desc|granny-asc|granny-desc]`
    fn parse_reorder_item(&mut self) -> PResult<(ColumnPattern, Option<SortOrder>)> {
        let pattern = self.parse_column_pattern()?;
        let order = if self.at_word("granny") && matches!(self.nth_kind(1), TokenKind::Minus) {
            let order = match self.nth_word(2) {
                Some("asc") => Some(SortOrder::Asc),
                Some("desc") => Some(SortOrder::Desc),
                _ => None,
            };
            if order.is_some() {
                self.bump();
                self.bump();
                self.bump();
            }
            order
        } else {
            self.parse_sort_order()
        };
        Ok((pattern, order))
    }

    fn parse_sort_order(&mut self) -> Option<SortOrder> {
        if self.eat_word("asc") {
            Some(SortOrder::Asc)
        } else if self.eat_word("desc") {
            Some(SortOrder::Desc)
        } else {
            None
        }
    }

    /// `expr [asc|desc] [nulls first|last]`
    fn parse_sort_key(&mut self) -> PResult<SortKey> {
        let start = self.start();
        let expr = self.parse_expr()?;
        let order = self.parse_sort_order();
        let nulls = if self.eat_word("nulls") {
            if self.eat_word("first") {
                Some(NullsOrder::First)
            } else if self.eat_word("last") {
                Some(NullsOrder::Last)
            } else {
                return Err(self.expected("`first` or `last`"));
            }
        } else {
            None
        };
        Ok(SortKey {
            expr,
            order,
            nulls,
            span: self.span_from(start),
        })
    }

    // ----- operators --------------------------------------------------------------------------

    /// `summarize [hints] [aggregates] [by keys]`
    fn parse_summarize(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_op_params(&["hint.*"])?;
        let aggregates = if self.at_word("by") || self.at_op_end() {
            Vec::new()
        } else {
            self.parse_named_list()?
        };
        let by = if self.eat_word("by") {
            self.parse_named_list()?
        } else {
            Vec::new()
        };
        Ok(OperatorKind::Summarize {
            params,
            aggregates,
            by,
        })
    }

    /// `sort by key, ...` (after `sort`/`order`)
    fn parse_sort(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_op_params(&["hint.*"])?;
        self.expect_word("by")?;
        let keys = self.parse_comma_list(Self::parse_sort_key)?;
        Ok(OperatorKind::Sort { params, keys })
    }

    /// `top N by key`
    fn parse_top(&mut self) -> PResult<OperatorKind> {
        let count = self.parse_expr()?;
        self.expect_word("by")?;
        let key = self.parse_sort_key()?;
        Ok(OperatorKind::Top { count, key })
    }

    /// `distinct *` or `distinct a, b`
    fn parse_distinct(&mut self) -> PResult<OperatorKind> {
        // Hints only tune execution; they are accepted and dropped.
        self.parse_op_params(&["hint.*"])?;
        if self.at(&TokenKind::Star) && self.nth_is_op_end(1) {
            let span = self.bump();
            return Ok(OperatorKind::Distinct(vec![Expr::new(
                ExprKind::Star,
                span,
            )]));
        }
        let start = self.start();
        let items = self.parse_named_list()?;
        if items.iter().all(|item| item.names.is_empty()) {
            return Ok(OperatorKind::Distinct(
                items.into_iter().map(|item| item.expr).collect(),
            ));
        }
        // `distinct a = f(x), b` is `project a = f(x), b | distinct *`.
        let span = self.span_from(start);
        self.pending_operator = Some(Operator {
            kind: OperatorKind::Distinct(vec![Expr::new(ExprKind::Star, span)]),
            span,
        });
        Ok(OperatorKind::Project(items))
    }

    /// The right side of `join`/`lookup`: `(subquery)`, a table name or a call.
    fn parse_join_right(&mut self) -> PResult<Expr> {
        self.parse_postfix()
    }

    /// `join [kind=.. hint.*=..] right on cond, ...`
    fn parse_join(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_op_params(&["kind", "hint.*", "withsource"])?;
        let right = self.parse_join_right()?;
        let on_start = self.start();
        self.expect_word("on")?;
        let on = self.parse_expr_list()?;
        Ok(OperatorKind::Join {
            params,
            right,
            on,
            span_on: self.span_from(on_start),
        })
    }

    /// `lookup [kind=..] right on cond, ...`
    fn parse_lookup(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_op_params(&["kind", "hint.*"])?;
        let right = self.parse_join_right()?;
        self.expect_word("on")?;
        let on = self.parse_expr_list()?;
        Ok(OperatorKind::Lookup { params, right, on })
    }

    /// `[name =] expr [to typeof(T)]`
    fn parse_mv_item(&mut self) -> PResult<MvExpandItem> {
        let start = self.start();
        let name = match self.name_len_at(0) {
            Some(len) if matches!(self.nth_kind(len), TokenKind::Assign) => {
                let name = self.parse_name()?;
                self.bump();
                Some(name)
            }
            _ => None,
        };
        let expr = self.parse_expr()?;
        let to_type = if self.at_word("to") && self.nth_word(1) == Some("typeof") {
            self.bump();
            self.bump();
            self.expect(&TokenKind::LParen)?;
            let ty = self.parse_type_name()?;
            self.expect(&TokenKind::RParen)?;
            Some(ty)
        } else {
            None
        };
        Ok(MvExpandItem {
            name,
            expr,
            to_type,
            span: self.span_from(start),
        })
    }

    fn parse_mv_items(&mut self) -> PResult<(Vec<MvExpandItem>, Option<Expr>)> {
        let items = self.parse_comma_list(Self::parse_mv_item)?;
        let limit = if self.eat_word("limit") {
            Some(self.parse_expr()?)
        } else {
            None
        };
        Ok((items, limit))
    }

    /// `mv-expand [params] items [limit N]`
    fn parse_mv_expand(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_op_params(&["bagexpansion", "with_itemindex", "kind"])?;
        let (items, limit) = self.parse_mv_items()?;
        Ok(OperatorKind::MvExpand {
            params,
            items,
            limit,
        })
    }

    /// `mv-apply [params] items [limit N] on (operators)`
    fn parse_mv_apply(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_op_params(&["with_itemindex", "kind", "bagexpansion"])?;
        let (items, limit) = self.parse_mv_items()?;
        self.expect_word("on")?;
        let on = self.parse_operator_chain()?;
        Ok(OperatorKind::MvApply {
            params,
            items,
            limit,
            on,
        })
    }

    /// `parse [kind=.. flags=..] expr with * "lit" col:type ...` (and `parse-where`)
    fn parse_parse(&mut self, where_: bool) -> PResult<OperatorKind> {
        let params = self.parse_op_params(&["kind", "flags"])?;
        let expr = self.parse_expr()?;
        self.expect_word("with")?;
        let mut parts = Vec::new();
        while !self.at_op_end() {
            let part = match self.kind() {
                TokenKind::String(_) => ParsePart::Literal(self.parse_string_concat()),
                TokenKind::Star => {
                    self.bump();
                    ParsePart::Wildcard
                }
                TokenKind::Ident(_) | TokenKind::LBracket => {
                    let name = self.parse_name()?;
                    let ty = if self.eat(&TokenKind::Colon) {
                        Some(self.parse_type_name()?)
                    } else {
                        None
                    };
                    ParsePart::Column { name, ty }
                }
                _ => return Err(self.expected("a string, `*` or a column name")),
            };
            parts.push(part);
        }
        if parts.is_empty() {
            return Err(self.expected("a parse pattern"));
        }
        Ok(OperatorKind::Parse {
            where_,
            params,
            expr,
            parts,
        })
    }

    /// `parse-kv expr as (c:t, ...) [with (param = value, ...)]`
    fn parse_parse_kv(&mut self) -> PResult<OperatorKind> {
        let expr = self.parse_expr()?;
        self.expect_word("as")?;
        self.expect(&TokenKind::LParen)?;
        let columns = self.parse_comma_list(Self::parse_column_decl)?;
        self.expect(&TokenKind::RParen)?;
        let params = if self.at_word("with") {
            self.parse_with_props()?
        } else {
            Vec::new()
        };
        Ok(OperatorKind::ParseKv {
            expr,
            columns,
            params,
        })
    }

    /// `make-series [params] [name =] agg [default = v], ... on axis
    ///  (from a to b step s | in range(a, b, s)) [by keys]`
    fn parse_make_series(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_op_params(&["kind", "hint.*"])?;
        let mut aggregates = Vec::new();
        loop {
            let aggregate = self.parse_named_expr()?;
            let default =
                if self.at_word("default") && matches!(self.nth_kind(1), TokenKind::Assign) {
                    self.bump();
                    self.bump();
                    Some(self.parse_expr()?)
                } else {
                    None
                };
            aggregates.push((aggregate, default));
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect_word("on")?;
        // The axis stops before `in range(...)`: parse above comparison precedence.
        let on = self.nested(|p| p.parse_expr_bp(4))?;
        let (from, to, step) = if self.at_word("in") && self.nth_word(1) == Some("range") {
            self.bump();
            self.bump();
            self.expect(&TokenKind::LParen)?;
            let from = self.parse_expr()?;
            self.expect(&TokenKind::Comma)?;
            let to = self.parse_expr()?;
            self.expect(&TokenKind::Comma)?;
            let step = self.parse_expr()?;
            self.expect(&TokenKind::RParen)?;
            (Some(from), Some(to), Some(step))
        } else {
            let from = if self.eat_word("from") {
                Some(self.parse_expr()?)
            } else {
                None
            };
            let to = if self.eat_word("to") {
                Some(self.parse_expr()?)
            } else {
                None
            };
            self.expect_word("step")?;
            let step = self.parse_expr()?;
            (from, to, Some(step))
        };
        let by = if self.eat_word("by") {
            self.parse_named_list()?
        } else {
            Vec::new()
        };
        Ok(OperatorKind::MakeSeries {
            params,
            aggregates,
            on,
            from,
            to,
            step,
            by,
        })
    }

    /// `evaluate [hints] plugin(args) [: (output schema)]`
    fn parse_evaluate(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_op_params(&["hint.*"])?;
        let plugin = self.parse_postfix()?;
        let schema = if self.at(&TokenKind::Colon) && matches!(self.nth_kind(1), TokenKind::LParen)
        {
            self.bump();
            self.bump();
            let columns = self.parse_comma_list(Self::parse_column_decl)?;
            self.expect(&TokenKind::RParen)?;
            Some(columns)
        } else {
            None
        };
        Ok(OperatorKind::Evaluate {
            params,
            plugin,
            schema,
        })
    }

    /// The levels of `top-nested` (the first `top-nested` is already consumed).
    fn parse_top_nested(&mut self) -> PResult<Vec<TopNestedLevel>> {
        let mut levels = Vec::new();
        let mut start = self.start();
        loop {
            let count = if self.at_word("of") {
                None
            } else {
                Some(self.parse_expr()?)
            };
            self.expect_word("of")?;
            let of = self.parse_named_expr()?;
            let with_others = if self.at_word("with") && self.nth_word(1) == Some("others") {
                self.bump();
                self.bump();
                self.expect(&TokenKind::Assign)?;
                Some(self.parse_expr()?)
            } else {
                None
            };
            self.expect_word("by")?;
            let by = self.parse_named_expr()?;
            let order = self.parse_sort_order();
            levels.push(TopNestedLevel {
                count,
                of,
                with_others,
                by,
                order,
                span: self.span_from(start),
            });
            let next_level = matches!(self.kind(), TokenKind::Comma)
                && self.nth_word(1) == Some("top")
                && matches!(self.nth_kind(2), TokenKind::Minus)
                && self.nth_word(3) == Some("nested");
            if !next_level {
                break;
            }
            self.bump();
            start = self.start();
            for _ in 0..3 {
                self.bump();
            }
        }
        Ok(levels)
    }

    /// `render chart [with (prop = value, ...)]`; a list value (`ycolumns = a, b`) becomes
    /// one property per element, all with the same name.
    fn parse_render(&mut self) -> PResult<OperatorKind> {
        let chart = self.parse_name()?;
        let mut props = Vec::new();
        if self.at_word("with") && matches!(self.nth_kind(1), TokenKind::LParen) {
            self.bump();
            self.bump();
            let mut current: Option<Ident> = None;
            while !self.at(&TokenKind::RParen) {
                let start = self.start();
                let name = match self.name_len_at(0) {
                    Some(len) if matches!(self.nth_kind(len), TokenKind::Assign) => {
                        let name = self.parse_name()?;
                        self.bump();
                        name
                    }
                    _ => match &current {
                        Some(name) => name.clone(),
                        None => return Err(self.expected("a property name")),
                    },
                };
                let value = self.parse_expr()?;
                current = Some(name.clone());
                props.push(OpParam {
                    name,
                    value,
                    span: self.span_from(start),
                });
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
            self.expect(&TokenKind::RParen)?;
        } else {
            while let Some(len) = self.name_len_at(0) {
                if !matches!(self.nth_kind(len), TokenKind::Assign) {
                    break;
                }
                let start = self.start();
                let name = self.parse_name()?;
                self.bump();
                let value = self.parse_param_value()?;
                props.push(OpParam {
                    name,
                    value,
                    span: self.span_from(start),
                });
            }
        }
        Ok(OperatorKind::Render { chart, props })
    }

    /// `partition [hints] by col (operators)`; the `{ subquery }` form is only recognized.
    fn parse_partition(&mut self) -> PResult<OperatorKind> {
        let params = self.parse_op_params(&["hint.*"])?;
        self.expect_word("by")?;
        let by = self.parse_name()?;
        if self.at(&TokenKind::LBrace) {
            self.skip_to_sync(true);
            return Ok(OperatorKind::Unsupported {
                name: "partition".into(),
            });
        }
        let sub = self.parse_operator_chain()?;
        Ok(OperatorKind::Partition { params, by, sub })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("wher", "where"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(suggest_operator("wher"), Some("where"));
        assert_eq!(suggest_operator("summarise"), Some("summarize"));
        assert_eq!(suggest_operator("xyzzy"), None);
    }
}
