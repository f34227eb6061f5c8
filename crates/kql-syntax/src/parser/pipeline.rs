//! Tabular expressions: sources (`datatable`, `print`, `range`, `union`, `externaldata`,
//! names, calls, sub-queries) and `|` chains of operators.

use super::height::{expr_height, operator_height};
use super::{Failed, PResult, Parser};
use crate::ast::{Expr, ExprKind, OpParam, Operator, UnionOp};
use crate::lexer::TokenKind;
use crate::span::Span;

impl Parser<'_> {
    /// `source | op | op ...`. `top` is true for statement-level pipelines, whose
    /// recovery may skip stray closing brackets.
    pub(crate) fn parse_pipeline(&mut self, top: bool) -> PResult<Expr> {
        self.nested(|p| p.parse_pipeline_inner(top))
    }

    fn parse_pipeline_inner(&mut self, top: bool) -> PResult<Expr> {
        let start = self.start();
        let mut expr = self.parse_source()?;
        let mut height = expr_height(&expr);
        while self.at(&TokenKind::Pipe) {
            self.bump();
            match self.parse_operator() {
                Ok(op) => {
                    let follow_up = self.pending_operator.take();
                    for op in std::iter::once(op).chain(follow_up) {
                        height = height.max(operator_height(&op)) + 1;
                        self.check_height(height)?;
                        let span = Span::new(start, op.span.end);
                        expr = Expr::new(
                            ExprKind::Pipe {
                                input: Box::new(expr),
                                op: Box::new(op),
                            },
                            span,
                        );
                    }
                }
                Err(Failed) => {
                    if self.aborted {
                        return Err(Failed);
                    }
                    self.skip_to_sync(!top);
                }
            }
        }
        Ok(expr)
    }

    /// Operators without a source, as in `mv-apply ... on (summarize ... | where ...)`: the
    /// current token is `(`, which is consumed with its `)`. A leading `|` is accepted.
    pub(crate) fn parse_operator_chain(&mut self) -> PResult<Vec<Operator>> {
        self.nested(Self::parse_operator_chain_inner)
    }

    fn parse_operator_chain_inner(&mut self) -> PResult<Vec<Operator>> {
        self.expect(&TokenKind::LParen)?;
        self.eat(&TokenKind::Pipe);
        let mut ops = Vec::new();
        loop {
            match self.parse_operator() {
                Ok(op) => {
                    ops.push(op);
                    ops.extend(self.pending_operator.take());
                }
                Err(Failed) => {
                    if self.aborted {
                        return Err(Failed);
                    }
                    self.skip_to_sync(true);
                }
            }
            if !self.eat(&TokenKind::Pipe) {
                break;
            }
        }
        self.expect(&TokenKind::RParen)?;
        Ok(ops)
    }

    /// The start of a pipeline.
    fn parse_source(&mut self) -> PResult<Expr> {
        let start = self.start();
        match self.word() {
            Some("datatable") if matches!(self.nth_kind(1), TokenKind::LParen) => {
                self.parse_datatable()
            }
            Some("print") => self.parse_print(),
            Some("range")
                if self
                    .name_len_at(1)
                    .is_some_and(|n| self.nth_word(1 + n) == Some("from")) =>
            {
                self.parse_range()
            }
            Some("union") => {
                self.bump();
                let union = self.parse_union_body()?;
                Ok(Expr::new(ExprKind::Union(union), self.span_from(start)))
            }
            Some("externaldata" | "external_data")
                if matches!(self.nth_kind(1), TokenKind::LParen) =>
            {
                self.parse_externaldata()
            }
            Some("find" | "search") => Ok(self.parse_unsupported_source()),
            // Source plugins: `evaluate sql_request(...)`.
            Some("evaluate") if matches!(self.nth_kind(1), TokenKind::Ident(_)) => {
                Ok(self.parse_unsupported_source())
            }
            _ => self.parse_expr_bp(0),
        }
    }

    /// `find ...`, `search ...`, `evaluate plugin(...)` as a source: only the keyword is kept;
    /// the rest is skipped up to the next `|` (the binder reports it as not supported).
    fn parse_unsupported_source(&mut self) -> Expr {
        let start = self.start();
        let name = self.word().unwrap_or_default().to_string();
        self.bump();
        self.skip_to_sync(true);
        Expr::new(ExprKind::UnsupportedSource { name }, self.span_from(start))
    }

    /// `datatable(a:long, b:string) [1, "x", ...]`
    fn parse_datatable(&mut self) -> PResult<Expr> {
        let start = self.start();
        self.expect_word("datatable")?;
        self.expect(&TokenKind::LParen)?;
        let mut columns = Vec::new();
        loop {
            columns.push(self.parse_column_decl()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect(&TokenKind::RParen)?;
        self.expect(&TokenKind::LBracket)?;
        let mut values = Vec::new();
        while !self.at(&TokenKind::RBracket) {
            // A datatable value may be the smallest long (`-9223372036854775808`), which in
            // an expression would negate an out-of-range literal.
            if matches!(self.kind(), TokenKind::Minus)
                && matches!(self.nth_kind(1), TokenKind::Int { value, hex: false } if *value == 1u64 << 63)
            {
                let start = self.start();
                if let Some(literal) = self.signed_number_at()? {
                    values.push(Expr::new(ExprKind::Literal(literal), self.span_from(start)));
                    if !self.eat(&TokenKind::Comma) {
                        break;
                    }
                    continue;
                }
            }
            values.push(self.parse_expr()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect(&TokenKind::RBracket)?;
        Ok(Expr::new(
            ExprKind::Datatable { columns, values },
            self.span_from(start),
        ))
    }

    /// `print [name =] expr, ...`
    fn parse_print(&mut self) -> PResult<Expr> {
        let start = self.start();
        self.expect_word("print")?;
        let items = if self.at_op_end() {
            Vec::new()
        } else {
            self.parse_named_list()?
        };
        Ok(Expr::new(ExprKind::Print(items), self.span_from(start)))
    }

    /// `range x from a to b step c`
    fn parse_range(&mut self) -> PResult<Expr> {
        let start = self.start();
        self.expect_word("range")?;
        let name = self.parse_name()?;
        self.expect_word("from")?;
        let from = self.parse_expr()?;
        self.expect_word("to")?;
        let to = self.parse_expr()?;
        self.expect_word("step")?;
        let step = self.parse_expr()?;
        Ok(Expr::new(
            ExprKind::Range {
                name,
                from: Box::new(from),
                to: Box::new(to),
                step: Box::new(step),
            },
            self.span_from(start),
        ))
    }

    /// After `union`: `[params] T1, T2*, (subquery), f(x)`.
    pub(crate) fn parse_union_body(&mut self) -> PResult<UnionOp> {
        let params = self.parse_op_params(&["kind", "withsource", "isfuzzy", "hint.*"])?;
        let mut tables = Vec::new();
        loop {
            tables.push(self.parse_union_table()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(UnionOp { params, tables })
    }

    fn parse_union_table(&mut self) -> PResult<Expr> {
        if let Some((pattern, span, len)) = self.wildcard_pattern_at()
            && pattern.contains('*')
        {
            for _ in 0..len {
                self.bump();
            }
            return Ok(Expr::new(
                ExprKind::Name(crate::ast::Ident {
                    name: pattern,
                    span,
                }),
                span,
            ));
        }
        self.parse_postfix()
    }

    /// `externaldata (c:t, ...) [ "url", ... ] [with (format="csv", ...)]`
    fn parse_externaldata(&mut self) -> PResult<Expr> {
        let start = self.start();
        self.bump();
        self.expect(&TokenKind::LParen)?;
        let mut columns = Vec::new();
        loop {
            columns.push(self.parse_column_decl()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect(&TokenKind::RParen)?;
        self.expect(&TokenKind::LBracket)?;
        let mut uris = Vec::new();
        while !self.at(&TokenKind::RBracket) {
            uris.push(self.parse_expr()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect(&TokenKind::RBracket)?;
        let props = if self.at_word("with") {
            self.parse_with_props()?
                .into_iter()
                .map(|p: OpParam| (p.name, p.value))
                .collect()
        } else {
            Vec::new()
        };
        Ok(Expr::new(
            ExprKind::ExternalData {
                columns,
                uris,
                props,
            },
            self.span_from(start),
        ))
    }

    /// A run of touching words and `*` at the cursor (`Device*`, `*Id`, `a*b`), as
    /// (text, span, token count). Bracketed names (`['a*']`) count as one piece.
    pub(crate) fn wildcard_pattern_at(&self) -> Option<(String, Span, usize)> {
        let mut text = String::new();
        let mut n = 0;
        loop {
            if n > 0 && !self.touches(n - 1) {
                break;
            }
            match self.nth_kind(n) {
                TokenKind::Ident(w) => text.push_str(w),
                TokenKind::Star => text.push('*'),
                TokenKind::Int { .. } if n > 0 => text.push_str(self.source(self.nth(n).span)),
                _ => break,
            }
            n += 1;
        }
        if n == 0 {
            return None;
        }
        let span = Span::new(self.nth(0).span.start, self.nth(n - 1).span.end);
        Some((text, span, n))
    }
}
