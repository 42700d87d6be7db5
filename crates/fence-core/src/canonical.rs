//! Canonical SQL: per-statement canonical text and hashes, and the content hash of a whole
//! migration, built from the tokens of PostgreSQL's own scanner (`core_yylex`) — the
//! server's in the extension, libpg_query's copy of the same code in the CLI. fence never
//! decides for itself where a token, a comment or a string ends.
//!
//! A token is spelled by its value, as the parser receives it: comments and whitespace never
//! change a hash; any literal, identifier or keyword change does. Two spellings of the same
//! token (`E'\x41'` and `'A'`, `$$a$$` and `'a'`, `!=` and `<>`, `Users` and `users`) hash
//! alike, because the server runs them alike; a string is read with the session's
//! `standard_conforming_strings`, so the same bytes read as a different literal hash
//! differently. The spelling is injective: equal canonical text means equal token values.

use std::ops::Range;

use crate::hash::sha256_tagged;

/// A token as PostgreSQL's scanner returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanToken {
    /// Byte offset of the token's first byte in the scanned text.
    pub start: usize,
    pub value: TokenValue,
}

/// The scanner's value of a token (`core_YYSTYPE`), by token kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenValue {
    /// A keyword, as listed in PostgreSQL's keyword list (lower case): `N'x'` scans as the
    /// keyword `nchar` followed by a string.
    Keyword(String),
    /// An identifier: `quoted` when written in double quotes (its value kept as written),
    /// else folded to lower case. Truncated to 63 bytes by the scanner in both cases.
    Ident { value: String, quoted: bool },
    /// `U&"..."`: the body before Unicode escapes are resolved (the parser does that).
    UnicodeIdent(String),
    /// A string constant's value after quotes, escapes and continuations are resolved.
    String(String),
    /// `U&'...'`: the body before Unicode escapes are resolved.
    UnicodeString(String),
    /// A bit-string constant: `b` or `x` followed by its digits.
    BitString(String),
    /// An integer constant that fits in 32 bits.
    Integer(i32),
    /// Any other numeric constant, as written.
    Numeric(String),
    /// `$n`.
    Param(i32),
    /// An operator or punctuation: `;`, `(`, `::`, `<>` (also written `!=`), `->>` ...
    Symbol(String),
}

/// The scanner's token codes below the keywords: stable from PostgreSQL 15 to 18 (and in
/// libpg_query), so both front ends map them alike.
pub mod codes {
    pub const IDENT: i32 = 258;
    pub const UIDENT: i32 = 259;
    pub const FCONST: i32 = 260;
    pub const SCONST: i32 = 261;
    pub const USCONST: i32 = 262;
    pub const BCONST: i32 = 263;
    pub const XCONST: i32 = 264;
    pub const OP: i32 = 265;
    pub const ICONST: i32 = 266;
    pub const PARAM: i32 = 267;
    /// `::`, `..`, `:=`, `=>`, `<=`, `>=`, `<>` (codes 268 to 274).
    pub const FIXED: [(i32, &str); 7] =
        [(268, "::"), (269, ".."), (270, ":="), (271, "=>"), (272, "<="), (273, ">="), (274, "<>")];

    /// The spelling of a fixed-text token code (a single character below 256), if it is one.
    pub fn fixed(code: i32) -> Option<String> {
        if (1..256).contains(&code) {
            return Some(char::from(code as u8).to_string());
        }
        FIXED.iter().find(|(c, _)| *c == code).map(|(_, text)| (*text).to_string())
    }
}

fn quote(out: &mut String, prefix: &str, quote: char, body: &str) {
    out.push_str(prefix);
    out.push(quote);
    for c in body.chars() {
        out.push(c);
        if c == quote {
            out.push(c);
        }
    }
    out.push(quote);
}

impl TokenValue {
    /// The token's canonical spelling (appended to `out`).
    pub fn spell(&self, out: &mut String) {
        match self {
            TokenValue::Keyword(word) => out.push_str(word),
            TokenValue::Ident { value, quoted: false } => out.push_str(value),
            TokenValue::Ident { value, quoted: true } => quote(out, "", '"', value),
            TokenValue::UnicodeIdent(body) => quote(out, "u&", '"', body),
            TokenValue::String(value) => quote(out, "", '\'', value),
            TokenValue::UnicodeString(body) => quote(out, "u&", '\'', body),
            TokenValue::BitString(bits) => {
                let (kind, digits) = bits.split_at(bits.len().min(1));
                quote(out, kind, '\'', digits)
            }
            TokenValue::Integer(n) | TokenValue::Param(n) => {
                if matches!(self, TokenValue::Param(_)) {
                    out.push('$');
                }
                out.push_str(&n.to_string())
            }
            TokenValue::Numeric(text) | TokenValue::Symbol(text) => out.push_str(text),
        }
    }

    pub fn is_symbol(&self, symbol: &str) -> bool {
        matches!(self, TokenValue::Symbol(s) if s == symbol)
    }
}

/// Why SQL could not be read (the scanner's or the grammar's message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub message: String,
}

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// PostgreSQL's scanner and grammar, as a front end has them.
pub trait SqlReader {
    /// Every token of `text` (comments skipped), with the session's scanner settings.
    fn scan(&self, text: &str) -> Result<Vec<ScanToken>, SqlError>;
    /// The byte ranges of `text`'s statements, as the grammar splits them (a range ends
    /// before its statement's `;`).
    fn statements(&self, text: &str) -> Result<Vec<Range<usize>>, SqlError>;
}

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalStatement {
    /// The statement as written (without its `;`, surrounding whitespace trimmed).
    pub text: String,
    /// Byte offset of the statement in the script.
    pub offset: usize,
    /// Token values in canonical spelling joined by single spaces.
    pub canonical: String,
    /// `sha256:` of `canonical`.
    pub hash: String,
}

/// A whole script: its statements and its content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalContent {
    pub statements: Vec<CanonicalStatement>,
    pub content_hash: String,
}

/// Canonical text of tokens; a trailing `;` is not part of a statement.
fn canonical_text<'a>(tokens: impl Iterator<Item = &'a ScanToken>) -> String {
    let values: Vec<&TokenValue> = tokens.map(|t| &t.value).collect();
    let end = values.iter().rposition(|v| !v.is_symbol(";")).map_or(0, |i| i + 1);
    let mut out = String::new();
    for value in &values[..end] {
        if !out.is_empty() {
            out.push(' ');
        }
        value.spell(&mut out);
    }
    out
}

/// Splits a script into statements (by the grammar) and hashes them.
pub fn canonicalize(reader: &impl SqlReader, script: &str) -> Result<CanonicalContent, SqlError> {
    let tokens = reader.scan(script)?;
    let mut statements = Vec::new();
    for range in reader.statements(script)? {
        let inside = tokens.iter().filter(|t| range.contains(&t.start));
        let canonical = canonical_text(inside);
        if canonical.is_empty() {
            continue;
        }
        let written = &script[range.clone()];
        statements.push(CanonicalStatement {
            text: written.trim().to_string(),
            offset: range.start + (written.len() - written.trim_start().len()),
            hash: sha256_tagged(&[canonical.as_bytes()]),
            canonical,
        });
    }
    let mut content = String::new();
    for statement in &statements {
        content.push_str(&statement.canonical);
        content.push_str(";\n");
    }
    Ok(CanonicalContent { content_hash: sha256_tagged(&[content.as_bytes()]), statements })
}

/// The canonical hash of one statement's text (as executed by the server).
pub fn statement_hash(reader: &impl SqlReader, text: &str) -> Result<String, SqlError> {
    Ok(sha256_tagged(&[canonical_text(reader.scan(text)?.iter()).as_bytes()]))
}

/// How deep [`embedded_hashes`] looks into bodies within bodies.
const EMBEDDED_DEPTH: usize = 3;
/// Bodies longer than this are not searched for statements (their statements need an
/// approval of their own).
const EMBEDDED_MAX_BODY: usize = 1 << 20;
/// How many grammar calls one search may make at most (a body of many long runs).
const EMBEDDED_BUDGET: usize = 20_000;

fn is_keyword(token: &ScanToken, word: &str) -> bool {
    matches!(&token.value, TokenValue::Keyword(k) if k == word)
}

/// A keyword of PL/pgSQL that SQL's scanner reads as a keyword or a bare identifier (LOOP).
fn is_word(token: &ScanToken, word: &str) -> bool {
    is_keyword(token, word) || matches!(&token.value, TokenValue::Ident { value, quoted: false } if value == word)
}

/// The hashes of the statements an approved script runs from its bodies: a `DO` block's and
/// a `CREATE FUNCTION` / `CREATE PROCEDURE` body's statements, and the string constants their
/// `EXECUTE`s run — SQL the approver read as code, and nothing else. A string that is data (a
/// comment, a default, a row) never approves anything; DDL that a function, trigger or rule
/// runs without being written in the approved text needs an approval of its own.
pub fn embedded_hashes(reader: &impl SqlReader, script: &str) -> Vec<String> {
    let mut search = Search { out: Vec::new(), budget: EMBEDDED_BUDGET };
    search.script(reader, script, EMBEDDED_DEPTH);
    search.out.sort();
    search.out.dedup();
    search.out
}

struct Search {
    out: Vec<String>,
    /// Grammar calls left.
    budget: usize,
}

impl Search {
    fn statements(&mut self, reader: &impl SqlReader, text: &str) -> Option<Vec<Range<usize>>> {
        if self.budget == 0 || text.len() > EMBEDDED_MAX_BODY {
            return None;
        }
        self.budget -= 1;
        reader.statements(text).ok()
    }

    /// SQL text: each statement's hash, then the bodies of its DO blocks and routines; false
    /// when the text is not SQL.
    fn script(&mut self, reader: &impl SqlReader, text: &str, depth: usize) -> bool {
        let Some(ranges) = self.statements(reader, text) else { return false };
        self.parsed(reader, text, ranges, depth);
        true
    }

    /// `script` for text already split into statements (`ranges`).
    fn parsed(&mut self, reader: &impl SqlReader, text: &str, ranges: Vec<Range<usize>>, depth: usize) {
        let Ok(tokens) = reader.scan(text) else { return };
        for range in ranges {
            let statement: Vec<&ScanToken> = tokens.iter().filter(|t| range.contains(&t.start)).collect();
            let canonical = canonical_text(statement.iter().copied());
            if canonical.is_empty() {
                continue;
            }
            self.out.push(sha256_tagged(&[canonical.as_bytes()]));
            if depth > 0 {
                for body in bodies(&statement) {
                    self.body(reader, body, depth - 1);
                }
            }
        }
    }

    /// A routine's body: SQL as a whole (LANGUAGE sql), else PL/pgSQL — each `;`-ended run's
    /// statement (from BEGIN, THEN, a label ...) and the constant strings it `EXECUTE`s.
    fn body(&mut self, reader: &impl SqlReader, body: &str, depth: usize) {
        if body.len() > EMBEDDED_MAX_BODY || self.script(reader, body, depth) {
            return;
        }
        let Ok(tokens) = reader.scan(body) else { return };
        for (i, token) in tokens.iter().enumerate() {
            if is_keyword(token, "execute") {
                if let Some(ScanToken { value: TokenValue::String(sql), .. }) = tokens.get(i + 1) {
                    self.script(reader, sql, depth);
                }
            }
        }
        let mut start = 0;
        for (i, token) in tokens.iter().enumerate() {
            if !token.value.is_symbol(";") {
                continue;
            }
            let run = &tokens[start..i];
            start = i + 1;
            // The statement starts the run, or follows one of PL/pgSQL's block words (BEGIN,
            // THEN, ELSE, LOOP, a label's `>>`), however long the condition before it.
            let starts = (0..run.len()).filter(|&k| {
                k == 0
                    || ["begin", "then", "else", "loop"].iter().any(|w| is_word(&run[k - 1], w))
                    || run[k - 1].value.is_symbol(">>")
            });
            for k in starts {
                let text = &body[run[k].start..token.start];
                if let Some(ranges) = self.statements(reader, text).filter(|r| r.len() == 1) {
                    self.parsed(reader, text, ranges, depth);
                    break;
                }
            }
        }
    }
}

/// The language a routine or DO block names (`LANGUAGE x` or `LANGUAGE 'x'`), lower case.
fn language(statement: &[&ScanToken]) -> Option<String> {
    let at = statement.iter().position(|t| is_keyword(t, "language"))?;
    match &statement.get(at + 1)?.value {
        TokenValue::Ident { value, .. } | TokenValue::String(value) => Some(value.to_ascii_lowercase()),
        TokenValue::Keyword(word) => Some(word.clone()),
        _ => None,
    }
}

/// The body a statement runs, when it is SQL or PL/pgSQL: a `DO` block's (the string that is
/// not its language), a `CREATE [OR REPLACE] FUNCTION | PROCEDURE`'s (the string right after
/// `AS`). Other languages' bodies are opaque: what they run needs its own approval.
fn bodies<'a>(statement: &[&'a ScanToken]) -> Vec<&'a str> {
    let code =
        |language: Option<String>, default: &str| matches!(language.as_deref().unwrap_or(default), "sql" | "plpgsql");
    let string = |token: Option<&&'a ScanToken>| match token.map(|t| &t.value) {
        Some(TokenValue::String(body)) => Some(body.as_str()),
        _ => None,
    };
    match statement {
        [first, ..] if is_keyword(first, "do") => {
            if !code(language(statement), "plpgsql") {
                return Vec::new();
            }
            (1..statement.len())
                .filter(|&i| !is_keyword(statement[i - 1], "language"))
                .filter_map(|i| string(statement.get(i)))
                .collect()
        }
        [create, rest @ ..] if is_keyword(create, "create") => {
            let rest = match rest {
                [or, replace, rest @ ..] if is_keyword(or, "or") && is_keyword(replace, "replace") => rest,
                rest => rest,
            };
            let routine = matches!(rest, [kind, ..] if is_keyword(kind, "function") || is_keyword(kind, "procedure"));
            if !routine || !code(language(statement), "sql") {
                return Vec::new();
            }
            // The first `AS` after the signature and RETURNS (a `CAST(x AS t)` in a default
            // comes before RETURNS ... LANGUAGE; the body's AS is followed by a string).
            rest.iter()
                .enumerate()
                .filter(|(_, t)| is_keyword(t, "as"))
                .find_map(|(at, _)| string(rest.get(at + 1)))
                .into_iter()
                .collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(start: usize, value: TokenValue) -> ScanToken {
        ScanToken { start, value }
    }

    fn spelled(values: Vec<TokenValue>) -> String {
        canonical_text(values.into_iter().enumerate().map(|(i, v)| token(i, v)).collect::<Vec<_>>().iter())
    }

    #[test]
    fn spells_values_not_text() {
        let sym = |s: &str| TokenValue::Symbol(s.into());
        let text = spelled(vec![
            TokenValue::Keyword("alter".into()),
            TokenValue::Ident { value: "Users".into(), quoted: true },
            TokenValue::Ident { value: "note".into(), quoted: false },
            TokenValue::String("it's".into()),
            TokenValue::BitString("x1F".into()),
            TokenValue::Integer(7),
            TokenValue::Param(2),
            TokenValue::UnicodeString("d\\0061".into()),
            sym("<>"),
            sym(";"),
        ]);
        assert_eq!(text, r#"alter "Users" note 'it''s' x'1F' 7 $2 u&'d\0061' <>"#);
    }

    #[test]
    fn quoting_keeps_values_apart() {
        // A quoted identifier never reads as a keyword or a bare word, a string never as
        // two tokens.
        let a = spelled(vec![TokenValue::Ident { value: "select".into(), quoted: true }]);
        let b = spelled(vec![TokenValue::Keyword("select".into())]);
        assert_ne!(a, b);
        let one = spelled(vec![TokenValue::String("a' , 'b".into())]);
        let three = spelled(vec![
            TokenValue::String("a".into()),
            TokenValue::Symbol(",".into()),
            TokenValue::String("b".into()),
        ]);
        assert_ne!(one, three);
    }

    #[test]
    fn fixed_codes() {
        assert_eq!(codes::fixed(59).as_deref(), Some(";"));
        assert_eq!(codes::fixed(274).as_deref(), Some("<>"));
        assert_eq!(codes::fixed(codes::IDENT), None);
    }
}
