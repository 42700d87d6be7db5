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

/// How deep [`embedded_hashes`] looks into strings within strings.
const EMBEDDED_DEPTH: usize = 3;

/// The hashes of the statements written inside the script's string constants: the SQL an
/// approved `DO` block `EXECUTE`s, the statements of a PL/pgSQL body, the body of a
/// function the migration creates and calls. An approval covers these as well as the
/// script's own statements — they are in the text the approver read — and nothing else:
/// DDL that a function, trigger or rule runs without being written in the approved text
/// needs an approval of its own.
pub fn embedded_hashes(reader: &impl SqlReader, script: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(tokens) = reader.scan(script) {
        collect_embedded(reader, &tokens, EMBEDDED_DEPTH, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

fn collect_embedded(reader: &impl SqlReader, tokens: &[ScanToken], depth: usize, out: &mut Vec<String>) {
    if depth == 0 {
        return;
    }
    for token in tokens {
        let TokenValue::String(body) = &token.value else { continue };
        let Ok(inner) = reader.scan(body) else { continue };
        if let Ok(content) = canonicalize(reader, body) {
            // SQL as a whole (an EXECUTE'd string, a LANGUAGE sql body).
            out.extend(content.statements.into_iter().map(|s| s.hash));
        } else {
            // A procedural body: each `;`-ended run of tokens, from the first token where
            // it reads as one statement (after BEGIN, THEN, LOOP, a label ...).
            for run in inner.split(|t| t.value.is_symbol(";")).filter(|run| !run.is_empty()) {
                let end = inner.iter().find(|t| t.start > run[run.len() - 1].start && t.value.is_symbol(";"));
                let end = end.map_or(body.len(), |t| t.start);
                for (k, first) in run.iter().enumerate() {
                    let text = &body[first.start..end];
                    if matches!(reader.statements(text).as_deref(), Ok([_])) {
                        out.push(sha256_tagged(&[canonical_text(run[k..].iter()).as_bytes()]));
                        break;
                    }
                }
            }
        }
        collect_embedded(reader, &inner, depth - 1, out);
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
