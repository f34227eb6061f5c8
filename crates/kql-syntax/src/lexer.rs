//! The KQL lexer: text → [`Token`]s.
//!
//! Every word is an [`TokenKind::Ident`]: KQL keywords are contextual (`kind`, `type` and
//! `count` are common column names), so the parser decides what a word means. Multi-word
//! operators (`project-away`, `!has`, `in~`) are several tokens; the parser joins them when
//! they touch (see [`Token::touches`]).
//!
//! Literals are decoded here: numbers, timespans (`1.5h` → ticks), strings of every form
//! (`"..."`, `'...'`, `@"..."`, `h"..."`, ```` ```...``` ````), and the raw text of
//! `datetime(...)`, `timespan(...)`/`time(...)` and `guid(...)`, whose contents are not
//! ordinary tokens (`datetime(2020-01-01 10:00)`).
//!
//! The lexer never fails: bad input becomes a diagnostic plus a best-effort token, and the
//! token list always ends with [`TokenKind::Eof`].

use crate::diagnostic::{Diagnostic, codes};
use crate::parser::literal::{decimal_to_ticks, timespan_unit_ticks};
use crate::span::Span;

/// At most this many lexer diagnostics are reported; the rest are dropped.
const MAX_LEX_DIAGNOSTICS: usize = 50;

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl Token {
    /// True if `next` starts exactly where this token ends (no whitespace or comment between).
    pub fn touches(&self, next: &Token) -> bool {
        self.span.end == next.span.start
    }
}

/// Which typed literal a [`TokenKind::Raw`] token holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    /// `datetime(...)`
    DateTime,
    /// `timespan(...)` or `time(...)`
    TimeSpan,
    /// `guid(...)`
    Guid,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A word: identifier or keyword (`where`, `Timestamp`, `$left`, `3rdParty`).
    Ident(String),
    /// An integer literal. Decimal literals keep their magnitude (`-9223372036854775808` is
    /// `-` then `9223372036854775808`); hex literals (`0xFF`) are two's-complement bit patterns.
    Int {
        value: u64,
        hex: bool,
    },
    /// A real literal (`1.5`, `1e3`).
    Real(f64),
    /// A timespan literal (`1d`, `1.5h`, `100ms`) in 100-ns ticks.
    TimeSpan(i64),
    /// A string literal of any form, decoded.
    String(String),
    /// `datetime(...)`, `timespan(...)`, `time(...)`, `guid(...)`: the text between the
    /// parentheses, trimmed (string quotes are kept; the parser removes them).
    Raw {
        kind: RawKind,
        text: String,
    },
    Pipe,
    Semi,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Dot,
    DotDot,
    Colon,
    /// `=`
    Assign,
    /// `==`
    EqEq,
    /// `!=`
    BangEq,
    /// `<>`
    LtGt,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `=~`
    EqTilde,
    /// `!~`
    BangTilde,
    /// `=>`
    FatArrow,
    Bang,
    Tilde,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Question,
    /// A character that starts no KQL token (reported as `KQL1001`).
    Unknown(char),
    Eof,
}

impl TokenKind {
    /// A short description for diagnostics ("`|`", "identifier `x`", "end of input").
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Ident(name) => format!("`{}`", truncate(name, 40)),
            TokenKind::Int { .. } | TokenKind::Real(_) => "a number".into(),
            TokenKind::TimeSpan(_) => "a timespan literal".into(),
            TokenKind::String(_) => "a string literal".into(),
            TokenKind::Raw { kind, .. } => match kind {
                RawKind::DateTime => "a datetime literal".into(),
                RawKind::TimeSpan => "a timespan literal".into(),
                RawKind::Guid => "a guid literal".into(),
            },
            TokenKind::Unknown(c) => format!("`{c}`"),
            TokenKind::Eof => "end of input".into(),
            other => format!("`{}`", other.punct_text().unwrap_or("?")),
        }
    }

    /// The source text of a punctuation token.
    pub fn punct_text(&self) -> Option<&'static str> {
        Some(match self {
            TokenKind::Pipe => "|",
            TokenKind::Semi => ";",
            TokenKind::Comma => ",",
            TokenKind::LParen => "(",
            TokenKind::RParen => ")",
            TokenKind::LBracket => "[",
            TokenKind::RBracket => "]",
            TokenKind::LBrace => "{",
            TokenKind::RBrace => "}",
            TokenKind::Dot => ".",
            TokenKind::DotDot => "..",
            TokenKind::Colon => ":",
            TokenKind::Assign => "=",
            TokenKind::EqEq => "==",
            TokenKind::BangEq => "!=",
            TokenKind::LtGt => "<>",
            TokenKind::Lt => "<",
            TokenKind::LtEq => "<=",
            TokenKind::Gt => ">",
            TokenKind::GtEq => ">=",
            TokenKind::EqTilde => "=~",
            TokenKind::BangTilde => "!~",
            TokenKind::FatArrow => "=>",
            TokenKind::Bang => "!",
            TokenKind::Tilde => "~",
            TokenKind::Plus => "+",
            TokenKind::Minus => "-",
            TokenKind::Star => "*",
            TokenKind::Slash => "/",
            TokenKind::Percent => "%",
            TokenKind::Question => "?",
            _ => return None,
        })
    }
}

/// `s`, cut to `max_chars` characters (with `…`), for quoting user text in messages.
pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or(s)),
        None => s.to_string(),
    }
}

/// Splits KQL text into tokens. The last token is always [`TokenKind::Eof`].
pub fn lex(text: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let mut lexer = Lexer {
        text,
        pos: 0,
        line_start: true,
        tokens: Vec::new(),
        diagnostics: Vec::new(),
    };
    lexer.run();
    (lexer.tokens, lexer.diagnostics)
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    /// True while only blanks precede the cursor on its line.
    line_start: bool,
    tokens: Vec<Token>,
    diagnostics: Vec<Diagnostic>,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_nth(&self, n: usize) -> Option<char> {
        self.rest().chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line_start = true;
        }
        Some(c)
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or("")
    }

    fn error(&mut self, code: &'static str, message: impl Into<String>, span: Span) {
        if self.diagnostics.len() < MAX_LEX_DIAGNOSTICS {
            self.diagnostics
                .push(Diagnostic::error(code, message, span));
        }
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.line_start = false;
        self.tokens.push(Token {
            kind,
            span: Span::new(start, self.pos),
        });
    }

    fn run(&mut self) {
        loop {
            self.skip_trivia();
            let start = self.pos;
            let Some(c) = self.peek() else { break };
            if c.is_ascii_digit() {
                self.number(start);
            } else if is_ident_start(c) {
                self.word(start);
            } else if c == '"' || c == '\'' {
                self.bump();
                let value = self.quoted(start, c);
                self.push(TokenKind::String(value), start);
            } else if c == '@' && matches!(self.peek_nth(1), Some('"' | '\'')) {
                self.bump();
                let value = self.verbatim(start);
                self.push(TokenKind::String(value), start);
            } else if self.rest().starts_with("```") {
                let value = self.multiline(start);
                self.push(TokenKind::String(value), start);
            } else {
                self.punct(start, c);
            }
        }
        let end = self.text.len();
        self.tokens.push(Token {
            kind: TokenKind::Eof,
            span: Span::new(end, end),
        });
    }

    fn skip_trivia(&mut self) {
        loop {
            match self.peek() {
                // Zero-width spaces and the BOM are common in pasted queries.
                Some(c)
                    if c.is_whitespace()
                        || matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}') =>
                {
                    self.bump();
                }
                // `// comment`, and `#directive` lines (`#connect ...`), which are client-side.
                Some('/') if self.peek_nth(1) == Some('/') => self.skip_line(),
                Some('#') if self.line_start => self.skip_line(),
                _ => return,
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            self.bump();
        }
    }

    fn punct(&mut self, start: usize, c: char) {
        let next = self.peek_nth(1);
        let (kind, len) = match (c, next) {
            ('.', Some('.')) => (TokenKind::DotDot, 2),
            ('.', _) => (TokenKind::Dot, 1),
            ('=', Some('=')) => (TokenKind::EqEq, 2),
            ('=', Some('~')) => (TokenKind::EqTilde, 2),
            ('=', Some('>')) => (TokenKind::FatArrow, 2),
            ('=', _) => (TokenKind::Assign, 1),
            ('!', Some('=')) => (TokenKind::BangEq, 2),
            ('!', Some('~')) => (TokenKind::BangTilde, 2),
            ('!', _) => (TokenKind::Bang, 1),
            ('<', Some('>')) => (TokenKind::LtGt, 2),
            ('<', Some('=')) => (TokenKind::LtEq, 2),
            ('<', _) => (TokenKind::Lt, 1),
            ('>', Some('=')) => (TokenKind::GtEq, 2),
            ('>', _) => (TokenKind::Gt, 1),
            ('|', _) => (TokenKind::Pipe, 1),
            (';', _) => (TokenKind::Semi, 1),
            (',', _) => (TokenKind::Comma, 1),
            ('(', _) => (TokenKind::LParen, 1),
            (')', _) => (TokenKind::RParen, 1),
            ('[', _) => (TokenKind::LBracket, 1),
            (']', _) => (TokenKind::RBracket, 1),
            ('{', _) => (TokenKind::LBrace, 1),
            ('}', _) => (TokenKind::RBrace, 1),
            (':', _) => (TokenKind::Colon, 1),
            ('~', _) => (TokenKind::Tilde, 1),
            ('+', _) => (TokenKind::Plus, 1),
            ('-', _) => (TokenKind::Minus, 1),
            ('*', _) => (TokenKind::Star, 1),
            ('/', _) => (TokenKind::Slash, 1),
            ('%', _) => (TokenKind::Percent, 1),
            ('?', _) => (TokenKind::Question, 1),
            (other, _) => {
                self.bump();
                let span = Span::new(start, self.pos);
                let shown = if other.is_control() {
                    format!("{:?}", other)
                } else {
                    format!("`{other}`")
                };
                self.error(
                    codes::UNEXPECTED_CHAR,
                    format!("unexpected character {shown}"),
                    span,
                );
                self.push(TokenKind::Unknown(other), start);
                return;
            }
        };
        for _ in 0..len {
            self.bump();
        }
        self.push(kind, start);
    }

    /// Identifiers, `h"..."` strings and the raw literals `datetime(...)` etc.
    fn word(&mut self, start: usize) {
        self.bump();
        while self.peek().is_some_and(is_ident_continue) {
            self.bump();
        }
        let word = self.slice(start, self.pos);
        if matches!(word, "h" | "H") {
            match (self.peek(), self.peek_nth(1)) {
                (Some(q @ ('"' | '\'')), _) => {
                    self.bump();
                    let value = self.quoted(start, q);
                    self.push(TokenKind::String(value), start);
                    return;
                }
                (Some('@'), Some('"' | '\'')) => {
                    self.bump();
                    let value = self.verbatim(start);
                    self.push(TokenKind::String(value), start);
                    return;
                }
                _ => {}
            }
        }
        let raw_kind = match word {
            "datetime" => Some(RawKind::DateTime),
            "timespan" | "time" => Some(RawKind::TimeSpan),
            "guid" => Some(RawKind::Guid),
            _ => None,
        };
        if let Some(kind) = raw_kind
            && let Some((text, end)) = self.raw_parens(self.pos)
        {
            self.pos = end;
            self.push(TokenKind::Raw { kind, text }, start);
            return;
        }
        self.push(TokenKind::Ident(word.to_string()), start);
    }

    /// If the text at `from` is `(...)` on one line (after optional blanks), returns the
    /// trimmed contents and the offset just past `)`. Quoted parts may contain `)`.
    fn raw_parens(&self, from: usize) -> Option<(String, usize)> {
        let rest = self.text.get(from..)?;
        let after_blank = rest.trim_start_matches([' ', '\t']);
        let open = from + (rest.len() - after_blank.len());
        let mut chars = after_blank.char_indices();
        if chars.next()?.1 != '(' {
            return None;
        }
        let mut quote: Option<char> = None;
        for (i, c) in chars {
            match (quote, c) {
                (_, '\n' | '\r') => return None,
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, ')') => {
                    let inner = after_blank.get(1..i)?;
                    return Some((inner.trim().to_string(), open + i + 1));
                }
                (None, '(') => return None,
                (None, _) => {}
            }
        }
        None
    }

    fn number(&mut self, start: usize) {
        // Hexadecimal.
        if (self.rest().starts_with("0x") || self.rest().starts_with("0X"))
            && self.peek_nth(2).is_some_and(|c| c.is_ascii_hexdigit())
        {
            self.bump();
            self.bump();
            let digits_start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.bump();
            }
            let digits = self.slice(digits_start, self.pos);
            if self.peek().is_some_and(is_ident_continue) {
                self.bad_number_suffix(start);
                return;
            }
            match u64::from_str_radix(digits, 16) {
                Ok(value) => self.push(TokenKind::Int { value, hex: true }, start),
                Err(_) => {
                    self.error(
                        codes::BAD_NUMBER,
                        "hexadecimal literal does not fit in 64 bits",
                        Span::new(start, self.pos),
                    );
                    self.push(
                        TokenKind::Int {
                            value: 0,
                            hex: true,
                        },
                        start,
                    );
                }
            }
            return;
        }
        self.eat_digits();
        let mut is_real = false;
        if self.peek() == Some('.') {
            match self.peek_nth(1) {
                Some(c) if c.is_ascii_digit() => {
                    self.bump();
                    self.eat_digits();
                    is_real = true;
                }
                // `10.` is a real; `1..5` and `x.1.name` are not.
                Some(c) if c == '.' || is_ident_start(c) => {}
                _ => {
                    self.bump();
                    is_real = true;
                }
            }
        }
        let mut has_exponent = false;
        if matches!(self.peek(), Some('e' | 'E')) {
            let exp_digit = match self.peek_nth(1) {
                Some('+' | '-') => self.peek_nth(2),
                other => other,
            };
            if exp_digit.is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
                if matches!(self.peek(), Some('+' | '-')) {
                    self.bump();
                }
                self.eat_digits();
                is_real = true;
                has_exponent = true;
            }
        }
        let number_end = self.pos;
        let number = self.slice(start, number_end);
        if self.peek().is_some_and(is_ident_continue) {
            let suffix_start = self.pos;
            while self.peek().is_some_and(is_ident_continue) {
                self.bump();
            }
            let suffix = self.slice(suffix_start, self.pos);
            if !has_exponent && let Some(unit) = timespan_unit_ticks(suffix) {
                match decimal_to_ticks(number, unit) {
                    Some(ticks) => self.push(TokenKind::TimeSpan(ticks), start),
                    None => {
                        self.error(
                            codes::BAD_NUMBER,
                            "timespan literal is out of range",
                            Span::new(start, self.pos),
                        );
                        self.push(TokenKind::TimeSpan(0), start);
                    }
                }
            } else if !is_real {
                // KQL names may start with digits (`3rdPartyApp`, `5_Min_Count`).
                let word = self.slice(start, self.pos).to_string();
                self.push(TokenKind::Ident(word), start);
            } else {
                self.pos = suffix_start;
                self.bad_number_suffix(start);
            }
            return;
        }
        if is_real {
            match number.parse::<f64>() {
                Ok(v) if v.is_finite() => self.push(TokenKind::Real(v), start),
                _ => {
                    self.error(
                        codes::BAD_NUMBER,
                        "real literal is out of range",
                        Span::new(start, self.pos),
                    );
                    self.push(TokenKind::Real(0.0), start);
                }
            }
        } else {
            match number.parse::<u64>() {
                Ok(value) => self.push(TokenKind::Int { value, hex: false }, start),
                Err(_) => {
                    self.error(
                        codes::BAD_NUMBER,
                        "integer literal does not fit in a long (64 bits)",
                        Span::new(start, self.pos),
                    );
                    self.push(
                        TokenKind::Int {
                            value: 0,
                            hex: false,
                        },
                        start,
                    );
                }
            }
        }
    }

    fn eat_digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
    }

    /// A number glued to letters that make no timespan unit (`1.5x`, `0x1g`).
    fn bad_number_suffix(&mut self, start: usize) {
        while self.peek().is_some_and(is_ident_continue) {
            self.bump();
        }
        let span = Span::new(start, self.pos);
        let text = truncate(self.slice(start, self.pos), 40);
        self.error(codes::BAD_NUMBER, format!("invalid number `{text}`"), span);
        self.push(TokenKind::Real(0.0), start);
    }

    /// A `"..."` or `'...'` string with backslash escapes; the opening quote is consumed.
    fn quoted(&mut self, start: usize, quote: char) -> String {
        let mut value = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.unterminated(start);
                return value;
            };
            match c {
                c if c == quote => {
                    self.bump();
                    return value;
                }
                '\n' | '\r' => {
                    self.unterminated(start);
                    return value;
                }
                '\\' => {
                    let escape_start = self.pos;
                    self.bump();
                    self.escape(escape_start, &mut value);
                }
                c => {
                    self.bump();
                    value.push(c);
                }
            }
        }
    }

    /// Decodes the escape after a backslash. `\` followed by a digit is kept as written
    /// (Kusto accepts it); other unknown escapes (`\d`, `\s`: regexes belong in verbatim
    /// strings) are errors, as in Kusto.
    fn escape(&mut self, escape_start: usize, out: &mut String) {
        let Some(c) = self.peek() else { return };
        if c == '\n' || c == '\r' {
            return;
        }
        self.bump();
        let simple = match c {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            '0' => Some('\0'),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'v' => Some('\u{b}'),
            '\\' | '"' | '\'' => Some(c),
            _ => None,
        };
        if let Some(ch) = simple {
            out.push(ch);
            return;
        }
        let hex_len = match c {
            'u' => 4,
            'U' => 8,
            _ => {
                out.push('\\');
                out.push(c);
                if !c.is_ascii_digit() {
                    let span = Span::new(escape_start, self.pos);
                    if self.diagnostics.len() < MAX_LEX_DIAGNOSTICS {
                        self.diagnostics.push(
                            Diagnostic::error(
                                codes::BAD_LITERAL,
                                format!("unknown escape sequence `\\{c}` in a string literal"),
                                span,
                            )
                            .with_help("write `\\\\` for a backslash, or use a verbatim string: @\"C:\\path\""),
                        );
                    }
                }
                return;
            }
        };
        let digits: String = self.rest().chars().take(hex_len).collect();
        if digits.len() == hex_len && digits.chars().all(|d| d.is_ascii_hexdigit()) {
            for _ in 0..hex_len {
                self.bump();
            }
            let decoded = u32::from_str_radix(&digits, 16)
                .ok()
                .and_then(char::from_u32);
            match decoded {
                Some(ch) => out.push(ch),
                None => {
                    self.error(
                        codes::BAD_LITERAL,
                        format!("`\\{c}{digits}` is not a valid Unicode character"),
                        Span::new(escape_start, self.pos),
                    );
                    out.push('\u{fffd}');
                }
            }
        } else {
            self.error(
                codes::BAD_LITERAL,
                format!("`\\{c}` must be followed by {hex_len} hexadecimal digits"),
                Span::new(escape_start, self.pos),
            );
        }
    }

    /// `@"..."` / `@'...'`: no escapes, a doubled quote stands for one. `@` is consumed.
    fn verbatim(&mut self, start: usize) -> String {
        let Some(quote) = self.bump() else {
            return String::new();
        };
        let mut value = String::new();
        loop {
            match self.peek() {
                None | Some('\n' | '\r') => {
                    self.unterminated(start);
                    return value;
                }
                Some(c) if c == quote => {
                    self.bump();
                    if self.peek() == Some(quote) {
                        self.bump();
                        value.push(quote);
                    } else {
                        return value;
                    }
                }
                Some(c) => {
                    self.bump();
                    value.push(c);
                }
            }
        }
    }

    /// ```` ```...``` ````: raw text over several lines.
    fn multiline(&mut self, start: usize) -> String {
        self.pos += 3;
        let rest = self.rest();
        match rest.find("```") {
            Some(end) => {
                let value = rest.get(..end).unwrap_or("").to_string();
                self.pos += end + 3;
                value
            }
            None => {
                let value = rest.to_string();
                self.pos = self.text.len();
                self.unterminated(start);
                value
            }
        }
    }

    fn unterminated(&mut self, start: usize) {
        self.error(
            codes::UNTERMINATED_STRING,
            "unterminated string literal",
            Span::new(start, self.pos),
        );
    }
}
