//! Text → parse trees with the server's own parser (`raw_parser`).

use std::ffi::{c_void, CString};

use pgrx::pg_sys;
use pgrx::prelude::*;

/// One statement of a parsed script.
pub struct RawStatement {
    pub node: *mut pg_sys::Node,
    /// Byte range of the statement in the script.
    pub start: usize,
    pub end: usize,
}

/// During `raw_parser`, a syntax error's cursor position refers to the analyzed text, not to
/// the calling query: move it to the "internal query" so psql shows the right line and caret
/// (as PL/pgSQL does for function bodies).
#[pg_guard]
unsafe extern "C-unwind" fn transpose_error_position(arg: *mut c_void) {
    // SAFETY: called by errfinish while an error is being built; `arg` is the NUL-terminated
    // text passed to raw_parser, alive for the whole parse.
    unsafe {
        let position = pg_sys::geterrposition();
        if position > 0 {
            pg_sys::errposition(0);
            pg_sys::internalerrposition(position);
            pg_sys::internalerrquery(arg as *const std::ffi::c_char);
        }
    }
}

/// Restores `error_context_stack` however the parse ends.
struct ContextGuard(*mut pg_sys::ErrorContextCallback);

impl Drop for ContextGuard {
    fn drop(&mut self) {
        // SAFETY: restores the pointer saved before our callback was pushed.
        unsafe { pg_sys::error_context_stack = self.0 };
    }
}

/// Parses `sql` into raw statements; a syntax error is raised with its position in `sql`.
pub fn parse(sql: &str) -> Vec<RawStatement> {
    let Ok(text) = CString::new(sql) else {
        crate::errors::invalid_parameter("the SQL text contains a NUL byte", None);
    };
    // SAFETY: the callback struct lives on this stack frame until the guard pops it;
    // raw_parser reads `text`, which outlives the call, and allocates its result in
    // CurrentMemoryContext.
    let parsed = unsafe {
        let mut callback = pg_sys::ErrorContextCallback {
            previous: pg_sys::error_context_stack,
            callback: Some(transpose_error_position),
            arg: text.as_ptr() as *mut c_void,
        };
        let _guard = ContextGuard(callback.previous);
        pg_sys::error_context_stack = &mut callback;
        pg_sys::raw_parser(text.as_ptr(), pg_sys::RawParseMode::RAW_PARSE_DEFAULT)
    };
    // SAFETY: raw_parser returns a list of RawStmt nodes.
    let statements = unsafe { super::nodes::list_nodes(parsed) };
    statements
        .into_iter()
        .map(|node| {
            // SAFETY: every element of raw_parser's list is a RawStmt.
            let raw = unsafe { &*(node as *mut pg_sys::RawStmt) };
            let start = raw.stmt_location.max(0) as usize;
            let end = if raw.stmt_len > 0 { start + raw.stmt_len as usize } else { sql.len() };
            RawStatement { node: raw.stmt, start, end: end.min(sql.len()) }
        })
        .collect()
}

/// PostgreSQL's command tag for a parse tree (`ALTER TABLE`, `CREATE INDEX` ...).
pub fn command_tag(node: *mut pg_sys::Node) -> String {
    // SAFETY: `node` is a parse tree node from raw_parser or an event trigger;
    // CreateCommandTag only reads it and GetCommandTagName returns a static string.
    unsafe { super::nodes::cstr(pg_sys::GetCommandTagName(pg_sys::CreateCommandTag(node))) }.unwrap_or_default()
}
