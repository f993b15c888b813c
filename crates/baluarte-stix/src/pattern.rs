//! A reader for STIX 2.1 patterning (§9), enough to tell a well-formed pattern from a broken one and to lift
//! the observables out of the common simple form `[type:prop = 'v' OR ...]`.
//!
//! The whole grammar is checked (observation and comparison operators, qualifiers, literals, object paths),
//! so a valid but complex pattern is kept rather than rejected; only simple ones yield observables.

use std::fmt;

/// Deepest nesting of parentheses/brackets accepted. The parser recurses on them, and a partner's bundle must
/// not be able to exhaust the stack.
const MAX_DEPTH: usize = 64;

/// Why a pattern does not parse; the text names the offset (in bytes) of the fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(String);

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatternError {}

fn err<T>(msg: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError(msg.into()))
}

/// `value` as a pattern string literal: quoted, with `\` and `'` escaped (the only two escapes STIX has).
pub(crate) fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The `(kind, value)` observables of a simple pattern; empty for a valid pattern of any other form.
pub fn pattern_observables(pattern: &str) -> Result<Vec<(String, String)>, PatternError> {
    let summary = parse(pattern)?;
    if !summary.simple {
        return Ok(Vec::new());
    }
    // All or nothing: a pattern that also tests something we cannot represent means more than its values.
    Ok(summary
        .comparisons
        .iter()
        .map(observable)
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default())
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LBrack,
    RBrack,
    LParen,
    RParen,
    Colon,
    Dot,
    Comma,
    Star,
    Cmp(Op),
    Ident(String),
    Str(String),
    Int(String),
    Float,
    Hex,
    Bin,
    Time,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::LBrack => f.write_str("'['"),
            Tok::RBrack => f.write_str("']'"),
            Tok::LParen => f.write_str("'('"),
            Tok::RParen => f.write_str("')'"),
            Tok::Colon => f.write_str("':'"),
            Tok::Dot => f.write_str("'.'"),
            Tok::Comma => f.write_str("','"),
            Tok::Star => f.write_str("'*'"),
            Tok::Cmp(op) => write!(f, "operator {op:?}"),
            Tok::Ident(s) => write!(f, "'{}'", s.chars().take(40).collect::<String>()),
            Tok::Str(_) => f.write_str("a string"),
            Tok::Int(_) | Tok::Float => f.write_str("a number"),
            Tok::Hex | Tok::Bin | Tok::Time => f.write_str("a literal"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Like,
    Matches,
    IsSubset,
    IsSuperset,
}

// ---------------------------------------------------------------------------------------------------------
// Lexer

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    out: Vec<(Tok, usize)>,
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, PatternError> {
    let mut lx = Lexer {
        src,
        pos: 0,
        out: Vec::new(),
    };
    while let Some(c) = lx.peek() {
        let start = lx.pos;
        let tok = match c {
            b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c => {
                lx.pos += 1;
                continue;
            }
            b'/' if lx.at("/*") || lx.at("//") => {
                lx.comment()?;
                continue;
            }
            b'[' => lx.single(Tok::LBrack),
            b']' => lx.single(Tok::RBrack),
            b'(' => lx.single(Tok::LParen),
            b')' => lx.single(Tok::RParen),
            b':' => lx.single(Tok::Colon),
            b',' => lx.single(Tok::Comma),
            b'*' => lx.single(Tok::Star),
            b'=' | b'!' | b'<' | b'>' => lx.comparison()?,
            b'\'' => Tok::Str(lx.string()?),
            b'.' if !lx.after_path_part() && lx.next_is_digit(1) => lx.number()?,
            b'.' => lx.single(Tok::Dot),
            b'+' | b'-' | b'0'..=b'9' => lx.number()?,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => lx.word()?,
            _ => {
                let ch = src[start..].chars().next().unwrap_or('?');
                return err(format!("unexpected character {ch:?} at offset {start}"));
            }
        };
        lx.out.push((tok, start));
    }
    Ok(lx.out)
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn at(&self, s: &str) -> bool {
        self.src.as_bytes()[self.pos..].starts_with(s.as_bytes())
    }

    fn next_is_digit(&self, ahead: usize) -> bool {
        self.src
            .as_bytes()
            .get(self.pos + ahead)
            .is_some_and(u8::is_ascii_digit)
    }

    /// Whether the previous token ends an object-path part, so that a `.` continues the path rather than
    /// starting a number like `.5`.
    fn after_path_part(&self) -> bool {
        matches!(self.out.last(), Some((Tok::Ident(_) | Tok::Str(_) | Tok::RBrack, _)))
    }

    fn single(&mut self, tok: Tok) -> Tok {
        self.pos += 1;
        tok
    }

    fn comment(&mut self) -> Result<(), PatternError> {
        let start = self.pos;
        let rest = &self.src[self.pos + 2..];
        if self.at("//") {
            self.pos += 2 + rest.find('\n').unwrap_or(rest.len());
            return Ok(());
        }
        match rest.find("*/") {
            Some(end) => {
                self.pos += 2 + end + 2;
                Ok(())
            }
            None => err(format!("unterminated comment starting at offset {start}")),
        }
    }

    fn comparison(&mut self) -> Result<Tok, PatternError> {
        // `==` is in the grammar as a synonym of `=`.
        let (op, len) = if self.at("==") {
            (Op::Eq, 2)
        } else if self.at("!=") {
            (Op::Ne, 2)
        } else if self.at("<=") {
            (Op::Le, 2)
        } else if self.at(">=") {
            (Op::Ge, 2)
        } else if self.at("<>") {
            return err(format!("unexpected '<>' at offset {} (STIX writes '!=')", self.pos));
        } else {
            match self.peek() {
                Some(b'=') => (Op::Eq, 1),
                Some(b'<') => (Op::Lt, 1),
                Some(b'>') => (Op::Gt, 1),
                _ => return err(format!("unexpected '!' at offset {}", self.pos)),
            }
        };
        self.pos += len;
        Ok(Tok::Cmp(op))
    }

    /// A quoted string; the lexer is at the opening quote. Returns the unescaped content.
    fn string(&mut self) -> Result<String, PatternError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = &self.src[self.pos..];
            // Quote and backslash are ASCII, so these byte positions are char boundaries.
            let Some(i) = rest.find(['\'', '\\']) else {
                return err(format!("unterminated string starting at offset {start}"));
            };
            out.push_str(&rest[..i]);
            self.pos += i;
            if self.peek() == Some(b'\'') {
                self.pos += 1;
                return Ok(out);
            }
            match self.src.as_bytes().get(self.pos + 1) {
                Some(b'\'') => out.push('\''),
                Some(b'\\') => out.push('\\'),
                Some(_) => {
                    return err(format!(
                        "invalid escape at offset {} (only \\' and \\\\ exist)",
                        self.pos
                    ))
                }
                None => return err(format!("unterminated string starting at offset {start}")),
            }
            self.pos += 2;
        }
    }

    fn number(&mut self) -> Result<Tok, PatternError> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.pos += 1;
        }
        let int_start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let int_part = &self.src[int_start..self.pos];
        if self.peek() == Some(b'.') && self.next_is_digit(1) {
            self.pos += 1;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            }
            return Ok(Tok::Float);
        }
        if int_part.is_empty() {
            return err(format!("unexpected '{}' at offset {start}", &self.src[start..self.pos]));
        }
        if int_part.len() > 1 && int_part.starts_with('0') {
            return err(format!("invalid number {int_part:?} at offset {start} (leading zero)"));
        }
        Ok(Tok::Int(self.src[start..self.pos].to_string()))
    }

    /// An identifier or keyword, or a `t'…'`, `h'…'`, `b'…'` literal.
    fn word(&mut self) -> Result<Tok, PatternError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            self.pos += 1;
        }
        let word = &self.src[start..self.pos];
        if self.peek() == Some(b'\'') && matches!(word, "t" | "h" | "b") {
            let content = self.string()?;
            return typed_literal(word, &content, start);
        }
        Ok(Tok::Ident(word.to_string()))
    }
}

fn typed_literal(prefix: &str, content: &str, at: usize) -> Result<Tok, PatternError> {
    match prefix {
        "t" if valid_timestamp(content) => Ok(Tok::Time),
        "t" => err(format!("invalid timestamp literal at offset {at}")),
        "h" if content.len() % 2 == 0 && content.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(Tok::Hex),
        "h" => err(format!("invalid hex literal at offset {at}")),
        _ if valid_base64(content) => Ok(Tok::Bin),
        _ => err(format!("invalid binary (base64) literal at offset {at}")),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.s+]Z` with each field in range. Like the reference validator (stix2-patterns) this
/// does not check month lengths, so a pattern other tools accept is not dropped here over February 30.
fn valid_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let field = |r: std::ops::Range<usize>, max: u32| -> Option<u32> {
        let d = b.get(r)?;
        let n = d
            .iter()
            .try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))?;
        (n <= max).then_some(n)
    };
    let fraction_ok =
        b.len() == 20 || (b.len() > 21 && b[19] == b'.' && b[20..b.len() - 1].iter().all(u8::is_ascii_digit));
    b.len() >= 20
        && field(0..4, 9999).is_some()
        && b[4] == b'-'
        && field(5..7, 12).is_some_and(|m| m >= 1)
        && b[7] == b'-'
        && field(8..10, 31).is_some_and(|d| d >= 1)
        && b[10] == b'T'
        && field(11..13, 23).is_some()
        && b[13] == b':'
        && field(14..16, 59).is_some()
        && b[16] == b':'
        && field(17..19, 60).is_some()
        && b[b.len() - 1] == b'Z'
        && fraction_ok
}

fn valid_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    s.len() % 4 == 0
        && s.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

// ---------------------------------------------------------------------------------------------------------
// Parser

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Int(String),
    Other,
}

#[derive(Debug, Clone, PartialEq)]
struct Comparison {
    object_type: String,
    /// Property names along the path; `None` if the path has a list index.
    path: Option<Vec<String>>,
    op: Op,
    negated: bool,
    value: Literal,
}

#[derive(Debug, Default)]
struct Summary {
    /// No `NOT`, `EXISTS`, `FOLLOWEDBY` or qualifiers: just comparisons joined by `AND`/`OR`.
    simple: bool,
    comparisons: Vec<Comparison>,
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
    depth: usize,
    summary: Summary,
}

fn parse(src: &str) -> Result<Summary, PatternError> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return err("empty pattern");
    }
    let mut p = Parser {
        toks,
        pos: 0,
        end: src.len(),
        depth: 0,
        summary: Summary {
            simple: true,
            ..Summary::default()
        },
    };
    p.observation_expressions()?;
    if let Some((tok, at)) = p.toks.get(p.pos) {
        return match tok {
            Tok::RBrack | Tok::RParen => err(format!("unbalanced brackets: unexpected {tok} at offset {at}")),
            _ => err(format!("unexpected {tok} at offset {at}")),
        };
    }
    Ok(p.summary)
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(_, at)| *at)
    }

    /// Consumes the next token if `f` accepts it; otherwise leaves it for the error message.
    fn take<T>(&mut self, f: impl FnOnce(&Tok) -> Option<T>) -> Option<T> {
        let out = self.peek().and_then(f);
        self.pos += usize::from(out.is_some());
        out
    }

    fn keyword(&self, words: &[&str]) -> Option<String> {
        match self.peek() {
            Some(Tok::Ident(w)) if words.contains(&w.as_str()) => Some(w.clone()),
            _ => None,
        }
    }

    fn expect_keyword(&mut self, word: &str) -> Result<(), PatternError> {
        if self.keyword(&[word]).is_some() {
            self.pos += 1;
            return Ok(());
        }
        err(format!(
            "expected {word} at offset {}, found {}",
            self.offset(),
            self.describe_next()
        ))
    }

    fn describe_next(&self) -> String {
        self.peek()
            .map_or_else(|| "the end of the pattern".to_string(), ToString::to_string)
    }

    fn unexpected<T>(&self, wanted: &str) -> Result<T, PatternError> {
        err(format!(
            "expected {wanted} at offset {}, found {}",
            self.offset(),
            self.describe_next()
        ))
    }

    /// Consumes the closing bracket matching the one opened at `open_at`.
    fn close(&mut self, closing: Tok, open_at: usize) -> Result<(), PatternError> {
        match self.peek() {
            Some(t) if *t == closing => {
                self.pos += 1;
                Ok(())
            }
            None => err(format!(
                "unbalanced brackets: the bracket at offset {open_at} is never closed"
            )),
            Some(_) => self.unexpected(&closing.to_string()),
        }
    }

    fn enter(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(format!(
                "nested deeper than {MAX_DEPTH} levels at offset {}",
                self.offset()
            ));
        }
        Ok(())
    }

    fn observation_expressions(&mut self) -> Result<(), PatternError> {
        self.observation_expression()?;
        while let Some(word) = self.keyword(&["AND", "OR", "FOLLOWEDBY"]) {
            self.summary.simple &= word != "FOLLOWEDBY";
            self.pos += 1;
            self.observation_expression()?;
        }
        Ok(())
    }

    fn observation_expression(&mut self) -> Result<(), PatternError> {
        let open_at = self.offset();
        match self.take(|t| matches!(t, Tok::LBrack | Tok::LParen).then(|| t.clone())) {
            Some(Tok::LBrack) => {
                self.enter()?;
                self.comparison_expression()?;
                self.close(Tok::RBrack, open_at)?;
            }
            Some(_) => {
                self.enter()?;
                self.observation_expressions()?;
                self.close(Tok::RParen, open_at)?;
            }
            None => return self.unexpected("'[' or '('"),
        }
        self.depth -= 1;
        self.qualifiers()
    }

    fn qualifiers(&mut self) -> Result<(), PatternError> {
        while let Some(word) = self.keyword(&["START", "WITHIN", "REPEATS"]) {
            self.summary.simple = false;
            self.pos += 1;
            match word.as_str() {
                "START" => {
                    self.timestamp()?;
                    self.expect_keyword("STOP")?;
                    self.timestamp()?;
                }
                "WITHIN" => {
                    let seconds = |t: &Tok| match t {
                        Tok::Float => Some(()),
                        Tok::Int(n) => positive(n).then_some(()),
                        _ => None,
                    };
                    if self.take(seconds).is_none() {
                        return self.unexpected("a positive number of seconds");
                    }
                    self.expect_keyword("SECONDS")?;
                }
                _ => {
                    if self
                        .take(|t| matches!(t, Tok::Int(n) if positive(n)).then_some(()))
                        .is_none()
                    {
                        return self.unexpected("a positive integer");
                    }
                    self.expect_keyword("TIMES")?;
                }
            }
        }
        Ok(())
    }

    fn timestamp(&mut self) -> Result<(), PatternError> {
        match self.peek() {
            Some(Tok::Time) => {
                self.pos += 1;
                Ok(())
            }
            _ => self.unexpected("a timestamp literal t'…'"),
        }
    }

    fn comparison_expression(&mut self) -> Result<(), PatternError> {
        self.prop_test()?;
        while self.keyword(&["AND", "OR"]).is_some() {
            self.pos += 1;
            self.prop_test()?;
        }
        Ok(())
    }

    fn prop_test(&mut self) -> Result<(), PatternError> {
        if self.peek() == Some(&Tok::LParen) {
            let open_at = self.offset();
            self.pos += 1;
            self.enter()?;
            self.comparison_expression()?;
            self.close(Tok::RParen, open_at)?;
            self.depth -= 1;
            return Ok(());
        }
        if self.keyword(&["EXISTS"]).is_some() {
            self.pos += 1;
            self.summary.simple = false;
            self.object_path()?;
            return Ok(());
        }
        let (object_type, path) = self.object_path()?;
        let negated = self.keyword(&["NOT"]).is_some();
        self.pos += usize::from(negated);
        self.summary.simple &= !negated;
        let op = self.operator()?;
        let value = self.operand(op)?;
        self.summary.comparisons.push(Comparison {
            object_type,
            path,
            op,
            negated,
            value,
        });
        Ok(())
    }

    fn object_path(&mut self) -> Result<(String, Option<Vec<String>>), PatternError> {
        let type_name = |t: &Tok| match t {
            Tok::Ident(name) if !is_keyword(name) => Some(name.clone()),
            _ => None,
        };
        let Some(object_type) = self.take(type_name) else {
            return self.unexpected("an object path such as ipv4-addr:value");
        };
        if self.take(|t| (*t == Tok::Colon).then_some(())).is_none() {
            return self.unexpected("':' after the object type");
        }
        let mut names = vec![self.path_name()?];
        let mut indexed = false;
        loop {
            match self.peek() {
                Some(Tok::Dot) => {
                    self.pos += 1;
                    names.push(self.path_name()?);
                }
                Some(Tok::LBrack) => {
                    self.pos += 1;
                    let index = |t: &Tok| matches!(t, Tok::Star | Tok::Int(_)).then_some(());
                    if self.take(index).is_none() {
                        return self.unexpected("a list index or '*'");
                    }
                    if self.take(|t| (*t == Tok::RBrack).then_some(())).is_none() {
                        return self.unexpected("']' after the list index");
                    }
                    indexed = true;
                }
                _ => break,
            }
        }
        Ok((object_type, (!indexed).then_some(names)))
    }

    /// A property name in a path: an identifier or a quoted string (for names like `'SHA-256'`).
    /// Unquoted hyphenated names (`hashes.SHA-256`) are outside the grammar but unambiguous, and common in
    /// the wild, so they are read too.
    fn path_name(&mut self) -> Result<String, PatternError> {
        let name = |t: &Tok| match t {
            Tok::Ident(name) | Tok::Str(name) => Some(name.clone()),
            _ => None,
        };
        match self.take(name) {
            Some(name) => Ok(name),
            None => self.unexpected("a property name"),
        }
    }

    fn operator(&mut self) -> Result<Op, PatternError> {
        let op = match self.peek() {
            Some(Tok::Cmp(op)) => *op,
            Some(Tok::Ident(w)) => match w.as_str() {
                "IN" => Op::In,
                "LIKE" => Op::Like,
                "MATCHES" => Op::Matches,
                "ISSUBSET" => Op::IsSubset,
                "ISSUPERSET" => Op::IsSuperset,
                _ => return self.unexpected("a comparison operator"),
            },
            _ => return self.unexpected("a comparison operator"),
        };
        self.pos += 1;
        Ok(op)
    }

    fn operand(&mut self, op: Op) -> Result<Literal, PatternError> {
        match op {
            Op::Eq | Op::Ne => self.primitive(true),
            Op::Lt | Op::Le | Op::Gt | Op::Ge => self.primitive(false),
            Op::In => self.set(),
            Op::Like | Op::Matches | Op::IsSubset | Op::IsSuperset => {
                let string = |t: &Tok| match t {
                    Tok::Str(s) => Some(Literal::Str(s.clone())),
                    _ => None,
                };
                match self.take(string) {
                    Some(lit) => Ok(lit),
                    None => self.unexpected("a string"),
                }
            }
        }
    }

    fn primitive(&mut self, allow_bool: bool) -> Result<Literal, PatternError> {
        let literal = |t: &Tok| match t {
            Tok::Str(s) => Some(Literal::Str(s.clone())),
            Tok::Int(n) => Some(Literal::Int(n.clone())),
            Tok::Float | Tok::Hex | Tok::Bin | Tok::Time => Some(Literal::Other),
            Tok::Ident(w) if allow_bool && (w == "true" || w == "false") => Some(Literal::Other),
            _ => None,
        };
        match self.take(literal) {
            Some(lit) => Ok(lit),
            None => self.unexpected("a value"),
        }
    }

    fn set(&mut self) -> Result<Literal, PatternError> {
        let open_at = self.offset();
        if self.take(|t| (*t == Tok::LParen).then_some(())).is_none() {
            return self.unexpected("'(' starting a set");
        }
        if self.peek() != Some(&Tok::RParen) {
            self.primitive(true)?;
            while self.peek() == Some(&Tok::Comma) {
                self.pos += 1;
                self.primitive(true)?;
            }
        }
        self.close(Tok::RParen, open_at)?;
        Ok(Literal::Other)
    }
}

fn positive(int: &str) -> bool {
    !int.starts_with('-') && int.trim_start_matches('+') != "0"
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "AND"
            | "OR"
            | "NOT"
            | "FOLLOWEDBY"
            | "LIKE"
            | "MATCHES"
            | "ISSUPERSET"
            | "ISSUBSET"
            | "EXISTS"
            | "LAST"
            | "IN"
            | "START"
            | "STOP"
            | "SECONDS"
            | "true"
            | "false"
            | "WITHIN"
            | "REPEATS"
            | "TIMES"
    )
}

// ---------------------------------------------------------------------------------------------------------
// Observables

/// The `(kind, value)` one comparison states, if it is one we know.
fn observable(c: &Comparison) -> Option<(String, String)> {
    let path: Vec<&str> = c.path.as_ref()?.iter().map(String::as_str).collect();
    let kind = match (c.object_type.as_str(), path.as_slice(), c.op, &c.value) {
        ("ipv4-addr", ["value"], Op::Eq, Literal::Str(v)) => ip_kind(v, "ipv4"),
        ("ipv6-addr", ["value"], Op::Eq, Literal::Str(v)) => ip_kind(v, "ipv6"),
        ("ipv4-addr" | "ipv6-addr", ["value"], Op::IsSubset, Literal::Str(v)) if v.contains('/') => "cidr",
        ("domain-name", ["value"], Op::Eq, Literal::Str(_)) => "domain",
        ("url", ["value"], Op::Eq, Literal::Str(_)) => "url",
        ("email-addr", ["value"], Op::Eq, Literal::Str(_)) => "email",
        ("file", ["hashes", algo], Op::Eq, Literal::Str(_)) => hash_kind(algo)?,
        ("autonomous-system", ["number"], Op::Eq, Literal::Int(n)) => {
            return n
                .trim_start_matches('+')
                .parse::<u32>()
                .ok()
                .map(|n| ("asn".to_string(), format!("AS{n}")));
        }
        _ => return None,
    };
    match &c.value {
        Literal::Str(v) if !c.negated => Some((kind.to_string(), v.clone())),
        _ => None,
    }
}

fn ip_kind(value: &str, plain: &'static str) -> &'static str {
    if value.contains('/') {
        "cidr"
    } else {
        plain
    }
}

/// Our kind for a STIX hash algorithm name (hash-algorithm-ov), accepting the common unhyphenated spellings.
pub(crate) fn hash_kind(algo: &str) -> Option<&'static str> {
    match algo.to_ascii_uppercase().replace('-', "").as_str() {
        "MD5" => Some("md5"),
        "SHA1" => Some("sha1"),
        "SHA256" => Some("sha256"),
        "SHA512" => Some("sha512"),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn obs(p: &str) -> Vec<(String, String)> {
        pattern_observables(p).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn simple_patterns_yield_their_observables() {
        assert_eq!(
            obs("[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'x.example']"),
            vec![pair("ipv4", "1.2.3.4"), pair("domain", "x.example")]
        );
        assert_eq!(obs("[file:hashes.'SHA-256' = 'ab']"), vec![pair("sha256", "ab")]);
        assert_eq!(
            obs("[file:hashes.MD5 = 'cd'] AND [url:value = 'http://a/']"),
            vec![pair("md5", "cd"), pair("url", "http://a/")]
        );
        assert_eq!(
            obs("[email-addr:value = 'a@b.example']"),
            vec![pair("email", "a@b.example")]
        );
        assert_eq!(
            obs("[ipv4-addr:value ISSUBSET '10.0.0.0/8']"),
            vec![pair("cidr", "10.0.0.0/8")]
        );
        assert_eq!(obs("[autonomous-system:number = 64496]"), vec![pair("asn", "AS64496")]);
        assert_eq!(
            obs("([ipv6-addr:value = '2001:db8::/32'])"),
            vec![pair("cidr", "2001:db8::/32")]
        );
    }

    #[test]
    fn escapes_round_trip() {
        let v = r"C:\temp\it's";
        let p = format!("[url:value = {}]", quote(v));
        assert_eq!(obs(&p), vec![pair("url", v)]);
    }

    #[test]
    fn complex_valid_patterns_yield_nothing() {
        for p in [
            "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'x']",
            "[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS",
            "[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES",
            "[file:name = 'a'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00.5Z'",
            "[ipv4-addr:value NOT = '1.2.3.4']",
            "[network-traffic:dst_port = 443 AND ipv4-addr:value = '1.2.3.4']",
            "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
            "[network-traffic:dst_port IN (80, 443, 8080)]",
            "[user-account:is_service_account = true]",
            "[file:content_ref.payload_bin MATCHES '^MZ' AND file:size >= -1]",
            "[x509-certificate:serial_number = h'0a1b'] OR [artifact:payload_bin = b'aGVsbG8=']",
            "[EXISTS windows-registry-key:values]",
            "/* comment */ [domain-name:value LIKE '%.example'] // tail",
        ] {
            assert_eq!(obs(p), vec![], "{p}");
        }
    }

    #[test]
    fn broken_patterns_are_errors() {
        for (p, needle) in [
            ("[ipv4-addr:value = '1.2.3.4'", "unbalanced brackets"),
            ("[ipv4-addr:value = '1.2.3.4']]", "unbalanced brackets"),
            ("(([ipv4-addr:value = '1.2.3.4'])", "unbalanced brackets"),
            ("[ipv4-addr:value = '1.2.3.4]", "unterminated string"),
            ("[ipv4-addr:value = '\\n']", "invalid escape"),
            ("[ipv4-addr value = '1']", "expected ':'"),
            ("[ipv4-addr:value = = '1']", "expected a value"),
            ("[ipv4-addr:value = '1' AND]", "object path"),
            ("ipv4-addr:value = '1'", "expected '[' or '('"),
            ("", "empty"),
            ("[a:b = t'2016-01-01 00:00:00Z']", "timestamp"),
            ("[a:b = t'2016-13-01T00:00:00Z']", "timestamp"),
            ("[a:b = h'abc']", "hex"),
            ("[a:b = 007]", "leading zero"),
            ("[a:b = 1] WITHIN 0 SECONDS", "positive"),
            ("[a:b = 1] §", "unexpected character"),
            ("[a:b LIKE 5]", "expected a string"),
        ] {
            let e = pattern_observables(p).expect_err(p).to_string();
            assert!(e.contains(needle), "{p}: {e}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let p = format!("{}[a:b = 1]{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(pattern_observables(&p)
            .unwrap_err()
            .to_string()
            .contains("nested deeper"));
    }
}
