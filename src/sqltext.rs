//! The server's reading of SQL text for hashing: PostgreSQL's own scanner and grammar, with
//! the session's scanner settings (see `fence_core::canonical`).

use std::ops::Range;

use fence_core::canonical::{self, codes, CanonicalContent, ScanToken, SqlError, SqlReader, TokenValue};

use crate::errors;
use crate::ffi::{parser, scanner};

/// The server's scanner and grammar.
pub struct Server;

fn value(sql: &str, token: scanner::RawToken) -> TokenValue {
    let text = token.text.unwrap_or_default();
    match token.code {
        codes::IDENT => TokenValue::Ident { quoted: sql.as_bytes().get(token.start) == Some(&b'"'), value: text },
        codes::UIDENT => TokenValue::UnicodeIdent(text),
        codes::FCONST => TokenValue::Numeric(text),
        codes::SCONST => TokenValue::String(text),
        codes::USCONST => TokenValue::UnicodeString(text),
        codes::BCONST | codes::XCONST => TokenValue::BitString(text),
        codes::OP => TokenValue::Symbol(text),
        codes::ICONST => TokenValue::Integer(token.number),
        codes::PARAM => TokenValue::Param(token.number),
        code => match codes::fixed(code) {
            Some(symbol) => TokenValue::Symbol(symbol),
            None => TokenValue::Keyword(text),
        },
    }
}

impl SqlReader for Server {
    fn scan(&self, text: &str) -> Result<Vec<ScanToken>, SqlError> {
        let tokens = scanner::scan(text).map_err(|message| SqlError { message })?;
        Ok(tokens.into_iter().map(|t| ScanToken { start: t.start, value: value(text, t) }).collect())
    }

    fn statements(&self, text: &str) -> Result<Vec<Range<usize>>, SqlError> {
        let ranges = parser::statement_ranges(text).map_err(|message| SqlError { message })?;
        Ok(ranges.into_iter().map(|(start, end)| start..end).collect())
    }
}

/// A script's statements and content hash; a script the server cannot read is a syntax error.
pub fn canonical(sql: &str) -> CanonicalContent {
    canonical::canonicalize(&Server, sql).unwrap_or_else(|e| errors::syntax(&e).raise())
}

/// A script's statements and content hash, if the server can read it.
pub fn try_canonical(sql: &str) -> Option<CanonicalContent> {
    canonical::canonicalize(&Server, sql).ok()
}

/// The hash of one executed statement's text.
pub fn statement_hash(text: &str) -> Option<String> {
    canonical::statement_hash(&Server, text).ok()
}

/// The `-- fence:ignore` claims in a statement's text, as JSON for the decision's details
/// (a malformed one with its error): an ignore is a claim, never an exemption.
pub fn ignore_claims(text: &str) -> Option<serde_json::Value> {
    if !text.contains("fence:ignore") {
        return None;
    }
    Some(match fence_core::ignore::ignores(&Server, text) {
        Ok(ignores) => ignores.iter().map(|i| serde_json::json!({"rules": i.rules, "reason": i.reason})).collect(),
        Err(error) => serde_json::json!([{ "error": error }]),
    })
}

/// What an approval or content exemption of a script covers: the script's statements in
/// order, then those its code runs (see `canonical::embedded_hashes`).
pub fn covered_hashes(content: &CanonicalContent, sql: &str) -> Vec<String> {
    let mut hashes: Vec<String> = content.statements.iter().map(|s| s.hash.clone()).collect();
    for hash in canonical::embedded_hashes(&Server, sql) {
        if !hashes.contains(&hash) {
            hashes.push(hash);
        }
    }
    hashes
}
