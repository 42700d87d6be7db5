//! Canonical SQL: statement splitting, per-statement canonical text and hashes, and the
//! content hash of a whole migration. Comments and whitespace never change a hash; any
//! literal, identifier or keyword change does (unquoted words are case-folded, exactly as
//! PostgreSQL folds them).

use crate::hash::sha256_tagged;
use crate::lexer::{tokenize, LexError, Token};

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalStatement {
    /// The statement as written (from its first to its last token, no trailing `;`).
    pub text: String,
    /// Byte offset of the statement's first token in the script.
    pub offset: usize,
    /// Tokens in canonical spelling joined by single spaces.
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

/// Splits a script into statements and hashes them.
pub fn canonicalize(script: &str) -> Result<CanonicalContent, LexError> {
    let tokens = tokenize(script)?;
    let statements: Vec<CanonicalStatement> =
        split(script, &tokens).into_iter().map(|range| statement(script, range)).collect();
    let mut content = String::new();
    for statement in &statements {
        content.push_str(&statement.canonical);
        content.push_str(";\n");
    }
    Ok(CanonicalContent { content_hash: sha256_tagged(&[content.as_bytes()]), statements })
}

/// The canonical hash of a single statement's text (as executed by the server).
pub fn statement_hash(text: &str) -> Result<String, LexError> {
    let tokens = tokenize(text)?;
    let body: Vec<&Token> = tokens.iter().filter(|t| !t.is_symbol(text, ";")).collect();
    Ok(sha256_tagged(&[join_canonical(text, body.into_iter()).as_bytes()]))
}

fn statement(script: &str, tokens: &[Token]) -> CanonicalStatement {
    let canonical = join_canonical(script, tokens.iter());
    let (start, end) = (tokens[0].start, tokens[tokens.len() - 1].end);
    CanonicalStatement {
        text: script[start..end].to_string(),
        offset: start,
        hash: sha256_tagged(&[canonical.as_bytes()]),
        canonical,
    }
}

fn join_canonical<'a>(input: &str, tokens: impl Iterator<Item = &'a Token>) -> String {
    let mut out = String::new();
    for token in tokens {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&token.canonical(input));
    }
    out
}

/// `BEGIN ATOMIC` opens a SQL-standard function body; inside one, `CASE` opens a block that
/// `END` closes as well.
fn opens_block(input: &str, tokens: &[Token], i: usize, inside_atomic: bool) -> bool {
    let token = &tokens[i];
    (token.is_word(input, "atomic") && i > 0 && tokens[i - 1].is_word(input, "begin"))
        || (inside_atomic && token.is_word(input, "case"))
}

/// Statement boundaries: `;` at parenthesis depth 0, outside `BEGIN ATOMIC ... END` bodies.
fn split<'t>(input: &str, tokens: &'t [Token]) -> Vec<&'t [Token]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut parens = 0i32;
    let mut atomic_depth = 0i32;
    for (i, token) in tokens.iter().enumerate() {
        if token.is_symbol(input, "(") {
            parens += 1;
        } else if token.is_symbol(input, ")") {
            parens -= 1;
        } else if opens_block(input, tokens, i, atomic_depth > 0) {
            atomic_depth += 1;
        } else if atomic_depth > 0 && token.is_word(input, "end") {
            atomic_depth -= 1;
        } else if token.is_symbol(input, ";") && parens <= 0 && atomic_depth == 0 {
            if i > start {
                out.push(&tokens[start..i]);
            }
            start = i + 1;
        }
    }
    if start < tokens.len() {
        out.push(&tokens[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_ignores_comments_and_whitespace() {
        let a = canonicalize("ALTER TABLE users ADD COLUMN x int;\n-- note\nCREATE INDEX i ON users (x);").unwrap();
        let b = canonicalize("alter table users   add column x int ; create index i on users(x)").unwrap();
        assert_eq!(a.statements.len(), 2);
        assert_eq!(a.content_hash, b.content_hash);
        assert_eq!(a.statements[1].text, "CREATE INDEX i ON users (x)");
        assert_eq!(a.statements[0].hash, statement_hash("ALTER TABLE users ADD COLUMN x int;").unwrap());
    }

    #[test]
    fn literal_or_identifier_changes_change_the_hash() {
        let base = canonicalize("ALTER TABLE users ADD COLUMN x int DEFAULT 1").unwrap();
        for edited in [
            "ALTER TABLE users ADD COLUMN x int DEFAULT 2",
            "ALTER TABLE users ADD COLUMN y int DEFAULT 1",
            "ALTER TABLE \"Users\" ADD COLUMN x int DEFAULT 1",
            "ALTER TABLE users ADD COLUMN x bigint DEFAULT 1",
        ] {
            assert_ne!(canonicalize(edited).unwrap().content_hash, base.content_hash, "{edited}");
        }
    }

    #[test]
    fn begin_atomic_bodies_stay_whole() {
        let script = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END; SELECT 3";
        let content = canonicalize(script).unwrap();
        assert_eq!(content.statements.len(), 2);
        assert_eq!(content.statements[1].canonical, "select 3");
    }

    #[test]
    fn empty_statements_are_dropped() {
        assert_eq!(canonicalize(";; -- only comments\n;").unwrap().statements.len(), 0);
    }
}
