//! Scalar expressions, by precedence climbing.
//!
//! Binding powers, loosest first: `or` (1) < `and` (2) < comparisons, string operators,
//! `in`, `has_any`, `between` (3) < `+ -` (4) < `* / %` (5) < unary `- +` < postfix
//! (`.name`, `[index]`). All binary operators are left-associative.

use super::height::expr_height;
use super::{PResult, Parser};
use crate::ast::{
    BinaryOp, Expr, ExprKind, HasAnyKind, Ident, Literal, NamedExpr, StringOp, StringOpKind,
    UnaryOp,
};
use crate::diagnostic::{Diagnostic, codes};
use crate::lexer::TokenKind;
use crate::span::Span;

/// An infix operator found at the cursor.
#[derive(Debug, Clone, Copy)]
enum Infix {
    Binary(BinaryOp),
    In {
        negated: bool,
        case_insensitive: bool,
    },
    HasAny(HasAnyKind),
    Between {
        negated: bool,
    },
}

const BP_OR: u8 = 1;
const BP_AND: u8 = 2;
const BP_COMPARE: u8 = 3;
const BP_ADD: u8 = 4;
const BP_MUL: u8 = 5;

/// A word naming a string operator (`has`, `contains_cs`, `notcontains`, ...), without `!`.
fn string_op(word: &str) -> Option<StringOp> {
    use StringOpKind::*;
    let (kind, negated, case_sensitive) = match word {
        "has" => (Has, false, false),
        "has_cs" => (Has, false, true),
        "hasprefix" => (HasPrefix, false, false),
        "hasprefix_cs" => (HasPrefix, false, true),
        "hassuffix" => (HasSuffix, false, false),
        "hassuffix_cs" => (HasSuffix, false, true),
        "contains" => (Contains, false, false),
        "contains_cs" | "containscs" => (Contains, false, true),
        "notcontains" => (Contains, true, false),
        "notcontainscs" => (Contains, true, true),
        "startswith" => (StartsWith, false, false),
        "startswith_cs" => (StartsWith, false, true),
        "endswith" => (EndsWith, false, false),
        "endswith_cs" => (EndsWith, false, true),
        "like" => (Like, false, false),
        "like_cs" => (Like, false, true),
        "notlike" => (Like, true, false),
        "notlike_cs" => (Like, true, true),
        _ => return None,
    };
    Some(StringOp {
        kind,
        negated,
        case_sensitive,
    })
}

impl Infix {
    fn binding_power(self) -> u8 {
        match self {
            Infix::Binary(BinaryOp::Or) => BP_OR,
            Infix::Binary(BinaryOp::And) => BP_AND,
            Infix::Binary(BinaryOp::Add | BinaryOp::Sub) => BP_ADD,
            Infix::Binary(BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod) => BP_MUL,
            _ => BP_COMPARE,
        }
    }
}

impl Parser<'_> {
    /// A full scalar expression (one nesting level).
    pub(crate) fn parse_expr(&mut self) -> PResult<Expr> {
        self.nested(|p| p.parse_expr_bp(0))
    }

    /// The infix operator at the cursor and how many tokens it takes.
    fn peek_infix(&self) -> Option<(Infix, usize)> {
        let simple = |op| Some((Infix::Binary(op), 1));
        match self.kind() {
            TokenKind::EqEq => simple(BinaryOp::Eq),
            TokenKind::BangEq | TokenKind::LtGt => simple(BinaryOp::NotEq),
            TokenKind::Lt => simple(BinaryOp::Lt),
            TokenKind::LtEq => simple(BinaryOp::LtEq),
            TokenKind::Gt => simple(BinaryOp::Gt),
            TokenKind::GtEq => simple(BinaryOp::GtEq),
            TokenKind::EqTilde => simple(BinaryOp::EqTilde),
            TokenKind::BangTilde => simple(BinaryOp::NotEqTilde),
            // `Column:"value"` (search syntax) is `Column has "value"`.
            TokenKind::Colon => simple(BinaryOp::Str(StringOp {
                kind: StringOpKind::Has,
                negated: false,
                case_sensitive: false,
            })),
            TokenKind::Plus => simple(BinaryOp::Add),
            TokenKind::Minus => simple(BinaryOp::Sub),
            TokenKind::Star => simple(BinaryOp::Mul),
            TokenKind::Slash => simple(BinaryOp::Div),
            TokenKind::Percent => simple(BinaryOp::Mod),
            TokenKind::Bang if self.touches(0) => {
                let word = self.nth_word(1)?;
                match word {
                    "in" if matches!(self.nth_kind(2), TokenKind::Tilde) && self.touches(1) => {
                        Some((
                            Infix::In {
                                negated: true,
                                case_insensitive: true,
                            },
                            3,
                        ))
                    }
                    "in" => Some((
                        Infix::In {
                            negated: true,
                            case_insensitive: false,
                        },
                        2,
                    )),
                    "between" => Some((Infix::Between { negated: true }, 2)),
                    _ => {
                        let op = string_op(word)?;
                        if op.negated {
                            return None;
                        }
                        Some((
                            Infix::Binary(BinaryOp::Str(StringOp {
                                negated: true,
                                ..op
                            })),
                            2,
                        ))
                    }
                }
            }
            TokenKind::Ident(word) => match word.as_str() {
                "and" => simple(BinaryOp::And),
                "or" => simple(BinaryOp::Or),
                "in" if matches!(self.nth_kind(1), TokenKind::Tilde) && self.touches(0) => Some((
                    Infix::In {
                        negated: false,
                        case_insensitive: true,
                    },
                    2,
                )),
                "in" => Some((
                    Infix::In {
                        negated: false,
                        case_insensitive: false,
                    },
                    1,
                )),
                "has_any" => Some((Infix::HasAny(HasAnyKind::HasAny), 1)),
                "has_all" => Some((Infix::HasAny(HasAnyKind::HasAll), 1)),
                "between" => Some((Infix::Between { negated: false }, 1)),
                "notbetween" => Some((Infix::Between { negated: true }, 1)),
                "matches" if self.nth_word(1) == Some("regex") => Some((
                    Infix::Binary(BinaryOp::Str(StringOp {
                        kind: StringOpKind::MatchesRegex,
                        negated: false,
                        case_sensitive: true,
                    })),
                    2,
                )),
                other => string_op(other).map(|op| (Infix::Binary(BinaryOp::Str(op)), 1)),
            },
            _ => None,
        }
    }

    /// Precedence climbing: operators binding at least as tightly as `min_bp`.
    pub(crate) fn parse_expr_bp(&mut self, min_bp: u8) -> PResult<Expr> {
        let mut lhs = self.parse_unary()?;
        let mut lhs_height: Option<usize> = None;
        while let Some((infix, len)) = self.peek_infix() {
            let bp = infix.binding_power();
            if bp < min_bp {
                break;
            }
            let op_span = Span::new(self.start(), self.nth(len.saturating_sub(1)).span.end);
            for _ in 0..len {
                self.bump();
            }
            let start = lhs.span.start;
            let left_height = match lhs_height {
                Some(h) => h,
                None => expr_height(&lhs),
            };
            let (kind, right_height) = match infix {
                Infix::Binary(op) => {
                    let rhs = self.parse_expr_bp(bp + 1)?;
                    let h = expr_height(&rhs);
                    (
                        ExprKind::Binary {
                            op,
                            left: Box::new(lhs),
                            right: Box::new(rhs),
                        },
                        h,
                    )
                }
                Infix::In {
                    negated,
                    case_insensitive,
                } => {
                    let list = self.parse_paren_list(op_span)?;
                    let h = list.iter().map(expr_height).max().unwrap_or(0);
                    (
                        ExprKind::In {
                            expr: Box::new(lhs),
                            list,
                            negated,
                            case_insensitive,
                        },
                        h,
                    )
                }
                Infix::HasAny(kind) => {
                    let list = self.parse_paren_list(op_span)?;
                    let h = list.iter().map(expr_height).max().unwrap_or(0);
                    (
                        ExprKind::HasAny {
                            expr: Box::new(lhs),
                            list,
                            kind,
                        },
                        h,
                    )
                }
                Infix::Between { negated } => {
                    self.expect(&TokenKind::LParen)?;
                    let low = self.parse_expr()?;
                    self.expect(&TokenKind::DotDot)?;
                    let high = self.parse_expr()?;
                    self.expect(&TokenKind::RParen)?;
                    let h = expr_height(&low).max(expr_height(&high));
                    (
                        ExprKind::Between {
                            expr: Box::new(lhs),
                            low: Box::new(low),
                            high: Box::new(high),
                            negated,
                        },
                        h,
                    )
                }
            };
            let height = left_height.max(right_height) + 1;
            self.check_height(height)?;
            lhs_height = Some(height);
            lhs = Expr::new(kind, self.span_from(start));
        }
        Ok(lhs)
    }

    /// `(a, b, (T | project c), ...)` after `in` / `has_any`.
    fn parse_paren_list(&mut self, op_span: Span) -> PResult<Vec<Expr>> {
        if !self.at(&TokenKind::LParen) {
            let found = self.kind().describe();
            let span = self.tok().span;
            return Err(self.report(
                Diagnostic::error(
                    codes::EXPECTED,
                    format!("expected `(`, found {found}"),
                    span,
                )
                .with_label(op_span, "this operator takes a parenthesized list"),
            ));
        }
        self.bump();
        let mut list = Vec::new();
        while !self.at(&TokenKind::RParen) {
            list.push(self.parse_pipeline(false)?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect(&TokenKind::RParen)?;
        Ok(list)
    }

    /// Unary `-` / `+`; a sign directly before a number folds into the literal.
    fn parse_unary(&mut self) -> PResult<Expr> {
        let op = match self.kind() {
            TokenKind::Minus => UnaryOp::Neg,
            TokenKind::Plus => UnaryOp::Plus,
            _ => return self.parse_postfix(),
        };
        let start = self.start();
        if let Some(literal) = self.signed_number_at()? {
            return Ok(Expr::new(ExprKind::Literal(literal), self.span_from(start)));
        }
        let operand = self.nested(|p| {
            p.bump();
            p.parse_unary()
        })?;
        self.check_height(expr_height(&operand) + 1)?;
        Ok(Expr::new(
            ExprKind::Unary {
                op,
                expr: Box::new(operand),
            },
            self.span_from(start),
        ))
    }

    /// At `-`/`+` followed by a number: consumes both and returns the signed literal.
    pub(crate) fn signed_number_at(&mut self) -> PResult<Option<Literal>> {
        let negative = match self.kind() {
            TokenKind::Minus => true,
            TokenKind::Plus => false,
            _ => return Ok(None),
        };
        let literal = match self.nth_kind(1).clone() {
            TokenKind::Int { value, hex } => {
                let span = Span::new(self.start(), self.nth(1).span.end);
                let Some(v) = int_value(value, hex, negative) else {
                    self.bump();
                    self.bump();
                    return Err(self.error(
                        codes::BAD_NUMBER,
                        "integer literal does not fit in a long (64 bits)",
                        span,
                    ));
                };
                Literal::Long(Some(v))
            }
            TokenKind::Real(v) => Literal::Real(Some(if negative { -v } else { v })),
            TokenKind::TimeSpan(t) => {
                Literal::TimeSpan(Some(if negative { t.saturating_neg() } else { t }))
            }
            _ => return Ok(None),
        };
        self.bump();
        self.bump();
        Ok(Some(literal))
    }

    /// Primary expression followed by `.name` and `[index]` suffixes.
    pub(crate) fn parse_postfix(&mut self) -> PResult<Expr> {
        let mut expr = self.parse_primary()?;
        let mut height: Option<usize> = None;
        loop {
            let is_postfix = match self.kind() {
                TokenKind::Dot => {
                    matches!(self.nth_kind(1), TokenKind::Ident(_) | TokenKind::LBracket)
                }
                TokenKind::LBracket => true,
                _ => false,
            };
            if !is_postfix {
                break;
            }
            let start = expr.span.start;
            let current = match height {
                Some(h) => h,
                None => expr_height(&expr),
            };
            let (kind, child_height) = match self.kind() {
                // `x.[expr]` is `x[expr]`.
                TokenKind::Dot
                    if matches!(self.nth_kind(1), TokenKind::LBracket)
                        && self.name_len_at(1).is_none() =>
                {
                    self.bump();
                    self.bump();
                    let index = self.parse_expr()?;
                    self.expect(&TokenKind::RBracket)?;
                    let h = expr_height(&index);
                    (
                        ExprKind::Index {
                            expr: Box::new(expr),
                            index: Box::new(index),
                        },
                        h,
                    )
                }
                TokenKind::Dot => {
                    self.bump();
                    let name = self.parse_name()?;
                    (
                        ExprKind::Member {
                            expr: Box::new(expr),
                            name,
                        },
                        0,
                    )
                }
                TokenKind::LBracket => {
                    self.bump();
                    let index = self.parse_expr()?;
                    self.expect(&TokenKind::RBracket)?;
                    let h = expr_height(&index);
                    (
                        ExprKind::Index {
                            expr: Box::new(expr),
                            index: Box::new(index),
                        },
                        h,
                    )
                }
                _ => break,
            };
            let new_height = current.max(child_height) + 1;
            self.check_height(new_height)?;
            height = Some(new_height);
            expr = Expr::new(kind, self.span_from(start));
        }
        Ok(expr)
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let start = self.start();
        let literal = match self.kind().clone() {
            TokenKind::Int { value, hex } => {
                let span = self.bump();
                match int_value(value, hex, false) {
                    Some(v) => Literal::Long(Some(v)),
                    None => {
                        return Err(self.error(
                            codes::BAD_NUMBER,
                            "integer literal does not fit in a long (64 bits)",
                            span,
                        ));
                    }
                }
            }
            TokenKind::Real(v) => {
                self.bump();
                Literal::Real(Some(v))
            }
            TokenKind::TimeSpan(t) => {
                self.bump();
                Literal::TimeSpan(Some(t))
            }
            TokenKind::String(_) => Literal::String(self.parse_string_concat()),
            TokenKind::Raw { kind, text } => {
                let span = self.bump();
                self.raw_literal(kind, &text, span)?
            }
            TokenKind::LParen => return self.parse_paren(),
            TokenKind::LBracket => {
                let name = self.parse_name()?;
                let span = name.span;
                return Ok(Expr::new(ExprKind::Name(name), span));
            }
            TokenKind::Star => {
                let span = self.bump();
                return Ok(Expr::new(ExprKind::Star, span));
            }
            TokenKind::Ident(word) => return self.parse_word(word),
            _ => return Err(self.expected("an expression")),
        };
        Ok(Expr::new(ExprKind::Literal(literal), self.span_from(start)))
    }

    /// One or more adjacent string literals, concatenated (`"a" 'b'` is `"ab"`).
    pub(crate) fn parse_string_concat(&mut self) -> String {
        let mut value = String::new();
        while let TokenKind::String(s) = self.kind() {
            value.push_str(s);
            self.bump();
        }
        value
    }

    /// `(expr)`, `(T | ...)` or an inline function literal `(a:long) { ... }`.
    fn parse_paren(&mut self) -> PResult<Expr> {
        let start = self.start();
        if self.looks_like_lambda() {
            let lambda = self.parse_lambda(false)?;
            return Ok(Expr::new(
                ExprKind::Lambda(Box::new(lambda)),
                self.span_from(start),
            ));
        }
        self.expect(&TokenKind::LParen)?;
        let inner = self.parse_pipeline(false)?;
        self.expect(&TokenKind::RParen)?;
        self.check_height(expr_height(&inner) + 1)?;
        Ok(Expr::new(
            ExprKind::Paren(Box::new(inner)),
            self.span_from(start),
        ))
    }

    /// A word in expression position: literal keyword, typed literal, call or name.
    fn parse_word(&mut self, word: String) -> PResult<Expr> {
        let start = self.start();
        let call = matches!(self.nth_kind(1), TokenKind::LParen);
        let literal = match word.as_str() {
            "true" | "True" | "TRUE" => Some(Literal::Bool(Some(true))),
            "false" | "False" | "FALSE" => Some(Literal::Bool(Some(false))),
            "null" if !call => Some(Literal::Null),
            _ => None,
        };
        if let Some(literal) = literal {
            let span = self.bump();
            return Ok(Expr::new(ExprKind::Literal(literal), span));
        }
        if call {
            match word.as_str() {
                "typeof" => return self.parse_typeof(),
                "dynamic" => {
                    let value = self.parse_dynamic_literal()?;
                    return Ok(Expr::new(
                        ExprKind::Literal(Literal::Dynamic(value)),
                        self.span_from(start),
                    ));
                }
                "datetime" | "timespan" | "time" | "guid" => {
                    let span = Span::new(start, self.nth(1).span.end);
                    return Err(self.error(
                        codes::BAD_LITERAL,
                        format!("malformed {word} literal: expected `{word}(...)` on one line"),
                        span,
                    ));
                }
                _ => {}
            }
            if let Some(literal) = self.typed_literal_at(&word)? {
                return Ok(Expr::new(ExprKind::Literal(literal), self.span_from(start)));
            }
            return self.parse_call();
        }
        let span = self.bump();
        Ok(Expr::new(ExprKind::Name(Ident { name: word, span }), span))
    }

    /// `typeof(long)`
    fn parse_typeof(&mut self) -> PResult<Expr> {
        let start = self.start();
        self.bump();
        self.expect(&TokenKind::LParen)?;
        let ty = self.parse_type_name()?;
        self.expect(&TokenKind::RParen)?;
        Ok(Expr::new(ExprKind::TypeOf(ty), self.span_from(start)))
    }

    /// `name(args)`; an argument may be `*`.
    fn parse_call(&mut self) -> PResult<Expr> {
        let start = self.start();
        let name = self.parse_name()?;
        self.expect(&TokenKind::LParen)?;
        let mut args = Vec::new();
        while !self.at(&TokenKind::RParen) {
            let arg = if self.at(&TokenKind::Star)
                && matches!(self.nth_kind(1), TokenKind::Comma | TokenKind::RParen)
            {
                Expr::new(ExprKind::Star, self.bump())
            } else if self
                .name_len_at(0)
                .is_some_and(|n| matches!(self.nth_kind(n), TokenKind::Assign))
            {
                self.parse_named_argument()?
            } else {
                self.parse_pipeline(false)?
            };
            args.push(arg);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect(&TokenKind::RParen)?;
        let height = args.iter().map(expr_height).max().unwrap_or(0) + 1;
        self.check_height(height)?;
        Ok(Expr::new(
            ExprKind::Call { name, args },
            self.span_from(start),
        ))
    }

    /// `name = value` inside a call: valid KQL (`bag_unpack(x, columnsConflict='keep_source')`)
    /// that the AST cannot represent yet. Reported as not supported; the value is kept.
    fn parse_named_argument(&mut self) -> PResult<Expr> {
        let name = self.parse_name()?;
        self.expect(&TokenKind::Assign)?;
        let value = self.parse_pipeline(false)?;
        let span = name.span.to(value.span);
        Ok(Expr::new(
            ExprKind::NamedArg {
                name,
                value: Box::new(value),
            },
            span,
        ))
    }

    // ----- named expressions ----------------------------------------------------------------

    /// `name = expr`, `(a, b) = expr` or `expr`.
    pub(crate) fn parse_named_expr(&mut self) -> PResult<NamedExpr> {
        let start = self.start();
        let mut names = Vec::new();
        if let Some(len) = self.name_len_at(0)
            && matches!(self.nth_kind(len), TokenKind::Assign)
        {
            names.push(self.parse_name()?);
            self.bump();
        } else if let Some(count) = self.name_tuple_at() {
            self.bump();
            for i in 0..count {
                if i > 0 {
                    self.expect(&TokenKind::Comma)?;
                }
                names.push(self.parse_name()?);
            }
            self.expect(&TokenKind::RParen)?;
            self.expect(&TokenKind::Assign)?;
        }
        let expr = self.parse_expr()?;
        Ok(NamedExpr {
            names,
            expr,
            span: self.span_from(start),
        })
    }

    /// At `(a, b, ...) =`: the number of names.
    fn name_tuple_at(&self) -> Option<usize> {
        if !matches!(self.kind(), TokenKind::LParen) {
            return None;
        }
        let mut n = 1;
        let mut count = 0;
        loop {
            let len = self.name_len_at(n)?;
            n += len;
            count += 1;
            match self.nth_kind(n) {
                TokenKind::Comma => n += 1,
                TokenKind::RParen => {
                    return matches!(self.nth_kind(n + 1), TokenKind::Assign).then_some(count);
                }
                _ => return None,
            }
        }
    }

    /// `item, item, ...` of [`Parser::parse_named_expr`].
    pub(crate) fn parse_named_list(&mut self) -> PResult<Vec<NamedExpr>> {
        let mut items = Vec::new();
        loop {
            items.push(self.parse_named_expr()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(items)
    }

    /// `expr, expr, ...`
    pub(crate) fn parse_expr_list(&mut self) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        loop {
            items.push(self.parse_expr()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(items)
    }
}

/// The value of an integer literal token, negated if `negative`; `None` if out of range.
/// Hex literals are bit patterns (`0xFFFFFFFFFFFFFFFF` is -1).
pub(crate) fn int_value(value: u64, hex: bool, negative: bool) -> Option<i64> {
    let v: i64 = if hex {
        value as i64
    } else if negative && value == 1u64 << 63 {
        return Some(i64::MIN);
    } else {
        i64::try_from(value).ok()?
    };
    Some(if negative { v.wrapping_neg() } else { v })
}
