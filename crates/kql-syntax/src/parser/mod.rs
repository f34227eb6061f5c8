//! The KQL parser: tokens → [`ast::Script`], recovering from errors.
//!
//! A hand-written recursive-descent parser with precedence climbing for expressions:
//!
//! - [`mod@self`]: the token cursor, error recovery, depth limits and statements
//!   (`let`, `set`, `declare query_parameters`, queries);
//! - `pipeline`: tabular sources (`datatable`, `print`, `range`, `union`, ...) and `|` chains;
//! - `expr`: scalar expressions, names and calls;
//! - `operators`: one function per tabular operator;
//! - [`literal`]: literal values (timespans, guids, `dynamic(...)`, `int(5)`, ...);
//! - `height`: AST height, to keep every tree shallow enough to drop, walk and print
//!   recursively.
//!
//! Recovery: an error inside an operator skips to the next `|` (or `;`, or the bracket that
//! closes the enclosing group) and parsing goes on; an error elsewhere in a statement skips
//! to the next `;`. Every error is reported once, as a [`Diagnostic`] with a `KQL1xxx` code.

mod expr;
mod height;
pub mod literal;
mod operators;
mod pipeline;

use crate::ast::{self, Ident, Lambda, LetValue, Param, ParamType, Script, Statement};
use crate::diagnostic::{Diagnostic, codes};
use crate::lexer::{Token, TokenKind, lex};
use crate::span::Span;

pub use height::{expr_height, operator_height};

/// Maximum nesting of brackets, unary operators, sub-queries and function bodies.
pub const MAX_NESTING: usize = 256;

/// Maximum height of any expression tree the parser builds (long `a or b or ...` chains and
/// pipelines grow trees without nesting). Trees at most this high can be walked recursively.
pub const MAX_HEIGHT: usize = 1000;

/// Stack that must be left before going one nesting level deeper (a level takes ~20 KiB in
/// unoptimized builds; dropping a tree of height [`MAX_HEIGHT`] takes a few hundred KiB).
const STACK_RED_ZONE: usize = 1024 * 1024;

/// Size of each extra stack segment allocated for deep nesting.
const STACK_SEGMENT: usize = 8 * 1024 * 1024;

/// After this many diagnostics the parser stops.
const MAX_DIAGNOSTICS: usize = 100;

/// The result of [`parse`]: the (possibly partial) script and every diagnostic found.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub script: Script,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// True if any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == crate::diagnostic::Severity::Error)
    }
}

/// Parses a KQL query text. Never panics; syntax errors are returned as diagnostics next to
/// the statements that could be parsed.
pub fn parse(text: &str) -> Parsed {
    let (tokens, mut diagnostics) = lex(text);
    let mut parser = Parser::new(text, tokens);
    let script = parser.parse_script(text.len());
    diagnostics.append(&mut parser.diagnostics);
    diagnostics.sort_by_key(|d| d.span.start);
    if script.statements.is_empty() && diagnostics.is_empty() {
        diagnostics.push(Diagnostic::error(
            codes::EMPTY_QUERY,
            "the query is empty",
            Span::new(0, text.len()),
        ));
    }
    Parsed {
        script,
        diagnostics,
    }
}

/// Marks a failed parse; the diagnostic has already been recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failed;

pub(crate) type PResult<T> = Result<T, Failed>;

pub(crate) struct Parser<'t> {
    /// The query text (for literals kept as written, such as `decimal(...)`).
    text: &'t str,
    tokens: Vec<Token>,
    pos: usize,
    pub(crate) diagnostics: Vec<Diagnostic>,
    depth: usize,
    /// Set once parsing must stop (too deep, too many errors): every function then fails fast.
    aborted: bool,
    /// A second operator produced by the last `parse_operator` call, for syntax that is
    /// shorthand for two operators (`count as Name`, `distinct name = expr`).
    pending_operator: Option<ast::Operator>,
    eof: Token,
}

impl<'t> Parser<'t> {
    pub(crate) fn new(text: &'t str, tokens: Vec<Token>) -> Self {
        // The lexer already reported unknown characters; parsing as if they were absent avoids
        // a second diagnostic for the same character.
        let tokens: Vec<Token> = tokens
            .into_iter()
            .filter(|t| !matches!(t.kind, TokenKind::Unknown(_)))
            .collect();
        let end = tokens.last().map_or(0, |t| t.span.end);
        Parser {
            text,
            tokens,
            pos: 0,
            diagnostics: Vec::new(),
            depth: 0,
            aborted: false,
            pending_operator: None,
            eof: Token {
                kind: TokenKind::Eof,
                span: Span::new(end, end),
            },
        }
    }

    // ----- token cursor -------------------------------------------------------------------

    /// The source text of a span.
    pub(crate) fn source(&self, span: Span) -> &'t str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    pub(crate) fn nth(&self, n: usize) -> &Token {
        self.tokens.get(self.pos + n).unwrap_or(&self.eof)
    }

    pub(crate) fn tok(&self) -> &Token {
        self.nth(0)
    }

    pub(crate) fn kind(&self) -> &TokenKind {
        &self.tok().kind
    }

    pub(crate) fn nth_kind(&self, n: usize) -> &TokenKind {
        &self.nth(n).kind
    }

    pub(crate) fn at(&self, kind: &TokenKind) -> bool {
        self.kind() == kind
    }

    pub(crate) fn at_eof(&self) -> bool {
        self.at(&TokenKind::Eof)
    }

    /// The word at lookahead `n`, if that token is an identifier.
    pub(crate) fn nth_word(&self, n: usize) -> Option<&str> {
        match self.nth_kind(n) {
            TokenKind::Ident(w) => Some(w.as_str()),
            _ => None,
        }
    }

    pub(crate) fn word(&self) -> Option<&str> {
        self.nth_word(0)
    }

    pub(crate) fn at_word(&self, word: &str) -> bool {
        self.word() == Some(word)
    }

    /// True if lookahead tokens `n` and `n + 1` touch (no blank between them).
    pub(crate) fn touches(&self, n: usize) -> bool {
        self.nth(n).touches(self.nth(n + 1))
    }

    /// Consumes the current token (never the final `Eof`) and returns its span.
    pub(crate) fn bump(&mut self) -> Span {
        let token = self.tok();
        let span = token.span;
        if self.pos < self.tokens.len() && !matches!(token.kind, TokenKind::Eof) {
            self.pos += 1;
        }
        span
    }

    pub(crate) fn eat(&mut self, kind: &TokenKind) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    pub(crate) fn eat_word(&mut self, word: &str) -> bool {
        if self.at_word(word) {
            self.bump();
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, kind: &TokenKind) -> PResult<Span> {
        if self.at(kind) {
            Ok(self.bump())
        } else {
            Err(self.expected(&kind.describe()))
        }
    }

    pub(crate) fn expect_word(&mut self, word: &str) -> PResult<Span> {
        if self.at_word(word) {
            Ok(self.bump())
        } else {
            Err(self.expected(&format!("`{word}`")))
        }
    }

    /// The start of the current token.
    pub(crate) fn start(&self) -> usize {
        self.tok().span.start
    }

    /// The end of the last consumed token.
    pub(crate) fn prev_end(&self) -> usize {
        match self.pos.checked_sub(1).and_then(|i| self.tokens.get(i)) {
            Some(t) => t.span.end,
            None => 0,
        }
    }

    /// The span from `start` to the end of the last consumed token.
    pub(crate) fn span_from(&self, start: usize) -> Span {
        Span::new(start, self.prev_end().max(start))
    }

    /// True at a token that ends an operator: `|`, `;`, a closing bracket or the end.
    pub(crate) fn at_op_end(&self) -> bool {
        self.nth_is_op_end(0)
    }

    /// True if lookahead token `n` ends an operator (see [`Parser::at_op_end`]).
    pub(crate) fn nth_is_op_end(&self, n: usize) -> bool {
        matches!(
            self.nth_kind(n),
            TokenKind::Pipe
                | TokenKind::Semi
                | TokenKind::RParen
                | TokenKind::RBracket
                | TokenKind::RBrace
                | TokenKind::Eof
        )
    }

    // ----- diagnostics ----------------------------------------------------------------------

    pub(crate) fn report(&mut self, diagnostic: Diagnostic) -> Failed {
        if self.diagnostics.len() < MAX_DIAGNOSTICS {
            self.diagnostics.push(diagnostic);
        } else {
            self.aborted = true;
        }
        Failed
    }

    pub(crate) fn error(
        &mut self,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
    ) -> Failed {
        self.report(Diagnostic::error(code, message, span))
    }

    /// "expected X, found Y" at the current token.
    pub(crate) fn expected(&mut self, what: &str) -> Failed {
        let found = self.kind().describe();
        let span = self.tok().span;
        self.error(
            codes::EXPECTED,
            format!("expected {what}, found {found}"),
            span,
        )
    }

    // ----- nesting --------------------------------------------------------------------------

    /// Runs `f` one nesting level deeper. Fails (and stops the parse) beyond
    /// [`MAX_NESTING`]; switches to a fresh stack segment when little stack is left, so that
    /// even unoptimized builds on small thread stacks reach the limit safely.
    pub(crate) fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.aborted {
            return Err(Failed);
        }
        if self.depth >= MAX_NESTING {
            return Err(self.too_deep());
        }
        self.depth += 1;
        let result = stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || f(self));
        self.depth -= 1;
        result
    }

    /// Reports that the query is nested too deeply and stops the parse.
    pub(crate) fn too_deep(&mut self) -> Failed {
        let span = self.tok().span;
        let failed = self.error(
            codes::TOO_DEEP,
            format!(
                "the query is nested too deeply (the limit is {MAX_NESTING} levels and an expression height of {MAX_HEIGHT})"
            ),
            span,
        );
        self.aborted = true;
        failed
    }

    /// Fails if a tree of height `height` would be too high.
    pub(crate) fn check_height(&mut self, height: usize) -> PResult<()> {
        if height > MAX_HEIGHT {
            Err(self.too_deep())
        } else {
            Ok(())
        }
    }

    // ----- recovery -------------------------------------------------------------------------

    /// Skips tokens up to the next `|` or `;` outside brackets, or the end. A closing bracket
    /// that closes no bracket opened here stops the skip when `stop_at_closer` (the caller
    /// is inside that bracket) and is skipped otherwise.
    pub(crate) fn skip_to_sync(&mut self, stop_at_closer: bool) {
        let mut depth = 0usize;
        loop {
            match self.kind() {
                TokenKind::Eof => return,
                TokenKind::Pipe | TokenKind::Semi if depth == 0 => return,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    if depth == 0 {
                        if stop_at_closer {
                            return;
                        }
                    } else {
                        depth -= 1;
                    }
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// Skips to the next `;` outside brackets (statement-level recovery).
    fn skip_statement(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.kind() {
                TokenKind::Eof => return,
                TokenKind::Semi if depth == 0 => return,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
            self.bump();
        }
    }

    // ----- statements -----------------------------------------------------------------------

    fn parse_script(&mut self, text_len: usize) -> Script {
        let mut statements = Vec::new();
        loop {
            while self.eat(&TokenKind::Semi) {}
            if self.at_eof() || self.aborted {
                break;
            }
            match self.parse_statement(true) {
                Ok(Some(statement)) => statements.push(statement),
                Ok(None) => {}
                Err(Failed) => {
                    if self.aborted {
                        break;
                    }
                    self.skip_statement();
                }
            }
            if !self.at(&TokenKind::Semi) && !self.at_eof() {
                let _ = self.expected("`;` or `|`");
                self.skip_statement();
            }
        }
        Script {
            statements,
            span: Span::new(0, text_len),
        }
    }

    /// One statement. `Ok(None)` for a valid statement Peregrine skips (already reported).
    fn parse_statement(&mut self, top: bool) -> PResult<Option<Statement>> {
        let is_statement_word = |p: &Self, w: &str| {
            p.at_word(w) && matches!(p.nth_kind(1), TokenKind::Ident(_) | TokenKind::LBracket)
        };
        if is_statement_word(self, "let") {
            return self.parse_let(top).map(Some);
        }
        if is_statement_word(self, "set") {
            return self.parse_set().map(Some);
        }
        if self.at_word("declare") && self.nth_word(1) == Some("query_parameters") {
            return self.parse_declare().map(Some);
        }
        if matches!(self.kind(), TokenKind::Dot) && self.touches(0) && self.nth_word(1).is_some() {
            let start = self.start();
            self.skip_statement();
            let span = self.span_from(start);
            self.report(Diagnostic::unsupported(
                "a control command (`.command`)",
                span,
            ));
            return Ok(None);
        }
        if self.at_word("declare") && self.nth_word(1) == Some("pattern") {
            let start = self.start();
            self.skip_statement();
            let span = self.span_from(start);
            self.report(Diagnostic::unsupported("`declare pattern`", span));
            return Ok(None);
        }
        let query = self.parse_pipeline(top)?;
        Ok(Some(Statement::Query(query)))
    }

    /// `let name = expr`, `let f = (params) { body }`, `let v = view (params) { body }`.
    fn parse_let(&mut self, top: bool) -> PResult<Statement> {
        let start = self.start();
        self.expect_word("let")?;
        let name = self.parse_name()?;
        self.expect(&TokenKind::Assign)?;
        let value = if self.at_word("view") && matches!(self.nth_kind(1), TokenKind::LParen) {
            self.bump();
            LetValue::Function(self.parse_lambda(true)?)
        } else if self.looks_like_lambda() {
            LetValue::Function(self.parse_lambda(false)?)
        } else {
            LetValue::Expr(self.parse_pipeline(top)?)
        };
        Ok(Statement::Let {
            name,
            value,
            span: self.span_from(start),
        })
    }

    /// `set name [= value]`
    fn parse_set(&mut self) -> PResult<Statement> {
        let start = self.start();
        self.expect_word("set")?;
        let name = self.parse_dotted_name()?;
        let value = if self.eat(&TokenKind::Assign) {
            Some(self.parse_expr()?)
        } else {
            None
        };
        Ok(Statement::Set {
            name,
            value,
            span: self.span_from(start),
        })
    }

    /// `declare query_parameters(name:type [= default], ...)`
    fn parse_declare(&mut self) -> PResult<Statement> {
        let start = self.start();
        self.expect_word("declare")?;
        self.expect_word("query_parameters")?;
        self.expect(&TokenKind::LParen)?;
        let params = self.parse_params_list()?;
        self.expect(&TokenKind::RParen)?;
        Ok(Statement::DeclareQueryParameters {
            params,
            span: self.span_from(start),
        })
    }

    /// At `(`: is this the parameter list of a function literal (`() {`, `(a:long ...`)?
    pub(crate) fn looks_like_lambda(&self) -> bool {
        if !matches!(self.kind(), TokenKind::LParen) {
            return false;
        }
        if matches!(self.nth_kind(1), TokenKind::RParen) {
            return matches!(self.nth_kind(2), TokenKind::LBrace);
        }
        match self.name_len_at(1) {
            Some(len) => {
                matches!(self.nth_kind(1 + len), TokenKind::Colon)
                    && matches!(
                        self.nth_kind(2 + len),
                        TokenKind::Ident(_) | TokenKind::LParen
                    )
            }
            None => false,
        }
    }

    /// `(params) { [let ...;]* expr [;] }`, the `(` is current.
    pub(crate) fn parse_lambda(&mut self, view: bool) -> PResult<Lambda> {
        self.nested(|p| p.parse_lambda_inner(view))
    }

    fn parse_lambda_inner(&mut self, view: bool) -> PResult<Lambda> {
        let start = self.start();
        self.expect(&TokenKind::LParen)?;
        let params = self.parse_params_list()?;
        self.expect(&TokenKind::RParen)?;
        let body_start = self.start();
        self.expect(&TokenKind::LBrace)?;
        let mut lets = Vec::new();
        let mut result = None;
        loop {
            while self.eat(&TokenKind::Semi) {}
            if self.at(&TokenKind::RBrace) || self.at_eof() {
                break;
            }
            if self.at_word("let")
                && matches!(self.nth_kind(1), TokenKind::Ident(_) | TokenKind::LBracket)
            {
                lets.push(self.parse_let(false)?);
            } else if result.is_some() {
                let span = self.tok().span;
                return Err(self.error(
                    codes::UNEXPECTED_TOKEN,
                    "a function body has a single result expression, after its `let` statements",
                    span,
                ));
            } else {
                result = Some(self.parse_pipeline(false)?);
            }
            if !self.at(&TokenKind::Semi) && !self.at(&TokenKind::RBrace) {
                return Err(self.expected("`;` or `}`"));
            }
        }
        let close = self.expect(&TokenKind::RBrace)?;
        let Some(result) = result else {
            return Err(self.error(
                codes::EXPECTED,
                "a function body must end with an expression",
                Span::new(body_start, close.end),
            ));
        };
        Ok(Lambda {
            params,
            body: ast::FunctionBody {
                lets,
                result: Box::new(result),
                span: self.span_from(body_start),
            },
            view,
            span: self.span_from(start),
        })
    }

    /// `name:type [= default], ...` up to (not including) `)`.
    fn parse_params_list(&mut self) -> PResult<Vec<Param>> {
        let mut params = Vec::new();
        if self.at(&TokenKind::RParen) {
            return Ok(params);
        }
        loop {
            params.push(self.parse_param()?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(params)
    }

    fn parse_param(&mut self) -> PResult<Param> {
        let start = self.start();
        let name = self.parse_name()?;
        self.expect(&TokenKind::Colon)?;
        let ty = if self.at(&TokenKind::LParen) {
            self.parse_tabular_param_type()?
        } else {
            ParamType::Scalar(self.parse_type_name()?)
        };
        let default = if self.eat(&TokenKind::Assign) {
            Some(self.parse_expr()?)
        } else {
            None
        };
        Ok(Param {
            name,
            ty,
            default,
            span: self.span_from(start),
        })
    }

    /// `(*)`, `(a:long, b:string)` or `(a:long, *)`.
    fn parse_tabular_param_type(&mut self) -> PResult<ParamType> {
        self.expect(&TokenKind::LParen)?;
        let mut columns = Vec::new();
        let mut wildcard = false;
        if !self.at(&TokenKind::RParen) {
            loop {
                if self.eat(&TokenKind::Star) {
                    wildcard = true;
                } else {
                    columns.push(self.parse_column_decl()?);
                }
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RParen)?;
        Ok(ParamType::Tabular {
            columns: if columns.is_empty() {
                None
            } else {
                Some(columns)
            },
            wildcard,
        })
    }

    // ----- names ----------------------------------------------------------------------------

    /// How many tokens the name at lookahead `n` takes: 1 for a word, 3 for `['name']`.
    pub(crate) fn name_len_at(&self, n: usize) -> Option<usize> {
        match self.nth_kind(n) {
            TokenKind::Ident(_) => Some(1),
            TokenKind::LBracket
                if matches!(self.nth_kind(n + 1), TokenKind::String(_))
                    && matches!(self.nth_kind(n + 2), TokenKind::RBracket) =>
            {
                Some(3)
            }
            _ => None,
        }
    }

    /// A name: a word (keywords included) or a bracketed `['name']` / `["name"]`.
    pub(crate) fn parse_name(&mut self) -> PResult<Ident> {
        match self.kind().clone() {
            TokenKind::Ident(name) => {
                let span = self.bump();
                Ok(Ident { name, span })
            }
            TokenKind::LBracket => {
                if let TokenKind::String(name) = self.nth_kind(1).clone()
                    && matches!(self.nth_kind(2), TokenKind::RBracket)
                {
                    let start = self.start();
                    self.bump();
                    self.bump();
                    self.bump();
                    return Ok(Ident {
                        name,
                        span: self.span_from(start),
                    });
                }
                Err(self.expected("a name"))
            }
            _ => Err(self.expected("a name")),
        }
    }

    /// `a.b.c` joined into one name (`set` options, `hint.strategy`).
    pub(crate) fn parse_dotted_name(&mut self) -> PResult<Ident> {
        let first = self.parse_name()?;
        let mut name = first.name;
        let start = first.span.start;
        while matches!(self.kind(), TokenKind::Dot)
            && self.touches(0)
            && matches!(self.nth_kind(1), TokenKind::Ident(_))
        {
            if let Some(part) = self.nth_word(1) {
                name.push('.');
                name.push_str(part);
            }
            self.bump();
            self.bump();
        }
        Ok(Ident {
            name,
            span: self.span_from(start),
        })
    }

    /// A type name (`long`, `string`, ...); unknown names are kept with `ty: None`.
    pub(crate) fn parse_type_name(&mut self) -> PResult<ast::TypeName> {
        match self.kind().clone() {
            TokenKind::Ident(name) => {
                let span = self.bump();
                Ok(ast::TypeName {
                    ty: crate::types::KqlType::from_name(&name),
                    name,
                    span,
                })
            }
            _ => Err(self.expected("a type name")),
        }
    }

    /// `name:type`
    pub(crate) fn parse_column_decl(&mut self) -> PResult<ast::ColumnDecl> {
        let start = self.start();
        let name = self.parse_name()?;
        self.expect(&TokenKind::Colon)?;
        let ty = self.parse_type_name()?;
        Ok(ast::ColumnDecl {
            name,
            ty,
            span: self.span_from(start),
        })
    }
}
