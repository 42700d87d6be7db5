//! The exact text of the statement being decided: its slice of the client's query string,
//! or the SQL a function ran, as the ProcessUtility hook saw it (see `utility`).

use pgrx::pg_sys;

use crate::ffi::parser;
use crate::session;

/// Where the gate found the statement's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextSource {
    /// A top-level statement of the client's query string.
    Client,
    /// SQL run by a function, DO block or EXECUTE.
    Nested,
    /// Recovered by re-parsing the client's query string (hook not yet installed).
    Reparsed,
}

impl TextSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TextSource::Client => "client",
            TextSource::Nested => "nested",
            TextSource::Reparsed => "reparsed",
        }
    }
}

/// The text of the statement whose parse tree is `node`, if reading it now gives that tree
/// (else fence could hash text that reads otherwise than what runs: no text, no approval).
pub fn statement_text(node: *mut pg_sys::Node) -> Option<(String, TextSource)> {
    let from_hook = session::with(|t| {
        t.frames
            .iter()
            .rev()
            .find(|f| parser::same_tree(f.node, node))
            .map(|f| (f.text.clone(), if f.top_level { TextSource::Client } else { TextSource::Nested }))
    });
    match from_hook {
        // Only a backslash reads otherwise under other scanner settings
        // (standard_conforming_strings, backslash_quote): other text reads as it was parsed.
        // A text with one must re-read now as the tree that runs (CREATE TABLE AS, whose tree
        // parse analysis rewrote, then has no text fence hashes).
        Some((text, source)) if !text.contains('\\') || parser::parses_to(&text, node) => Some((text, source)),
        Some(_) => None,
        None => reparse_client_query(node),
    }
}

/// What the client sent for the statement now running: the top-level utility statement
/// being executed (e.g. the DO block), else the whole client query string (e.g. the
/// `SELECT f()` or prepared statement whose function runs DDL).
pub fn client_text() -> Option<String> {
    let top = session::with(|t| t.frames.first().filter(|f| f.top_level).map(|f| f.text.clone()));
    top.or_else(parser::client_query)
}

fn reparse_client_query(node: *mut pg_sys::Node) -> Option<(String, TextSource)> {
    let query = parser::client_query()?;
    parser::try_parse(&query)
        .ok()?
        .into_iter()
        .find(|raw| parser::same_tree(raw.node, node))
        .map(|raw| (query[raw.start..raw.end].to_string(), TextSource::Reparsed))
}
