//! Text → parse trees with the server's own parser (`raw_parser`).

use std::ffi::{c_void, CString};

use pgrx::pg_sys;
use pgrx::prelude::*;

use super::error::{invalid_parameter, Error};

/// One statement of a parsed script.
pub struct RawStatement {
    pub node: *mut pg_sys::Node,
    /// Byte range of the statement in the script.
    pub start: usize,
    pub end: usize,
}

thread_local! {
    static SYNTAX_ERROR_POSITION: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

/// During `raw_parser`, a syntax error's cursor position refers to the analyzed text, not to
/// the calling query: remember it (pgrx re-raises errors without their position) and clear
/// it so the client does not point into its own query.
#[pg_guard]
unsafe extern "C-unwind" fn capture_error_position(_arg: *mut c_void) {
    // SAFETY: called by errfinish while an error is being built.
    unsafe {
        SYNTAX_ERROR_POSITION.with(|p| p.set(pg_sys::geterrposition()));
        pg_sys::errposition(0);
    }
}

/// Re-raises a syntax error of the analyzed text with its position (character, line).
fn syntax_error(sql: &str, message: &str) -> ! {
    let position = SYNTAX_ERROR_POSITION.with(|p| p.replace(0)).max(1) as usize;
    let before: String = sql.chars().take(position - 1).collect();
    let line = before.matches('\n').count() + 1;
    let text_line = sql.lines().nth(line - 1).unwrap_or_default();
    Error::new(
        PgSqlErrorCode::ERRCODE_SYNTAX_ERROR,
        format!("{message} at position {position} (line {line}) of the analyzed SQL"),
    )
    .detail(format!("Line {line}: {text_line}"))
    .raise()
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
    try_parse(sql).unwrap_or_else(|message| syntax_error(sql, &message))
}

/// Parses `sql` into raw statements, or says why the grammar refuses it.
pub fn try_parse(sql: &str) -> Result<Vec<RawStatement>, String> {
    let Ok(text) = CString::new(sql) else {
        invalid_parameter("the SQL text contains a NUL byte").raise();
    };
    let _levels = super::scanner::quiet();
    let _holdoffs = super::scanner::Holdoffs::save();
    // SAFETY: the callback struct lives on this stack frame until the guard pops it;
    // raw_parser reads `text`, which outlives the call, and allocates its result in
    // CurrentMemoryContext. A caught parser error holds no resources.
    let parsed = PgTryBuilder::new(|| unsafe {
        let mut callback = pg_sys::ErrorContextCallback {
            previous: pg_sys::error_context_stack,
            callback: Some(capture_error_position),
            arg: std::ptr::null_mut(),
        };
        let _guard = ContextGuard(callback.previous);
        pg_sys::error_context_stack = &mut callback;
        Ok(pg_sys::raw_parser(text.as_ptr(), pg_sys::RawParseMode::RAW_PARSE_DEFAULT))
    })
    .catch_others(|caught| match caught {
        pg_sys::panic::CaughtError::PostgresError(report)
        | pg_sys::panic::CaughtError::ErrorReport(report)
        | pg_sys::panic::CaughtError::RustPanic { ereport: report, .. } => Err(report.message().to_string()),
    })
    .execute()?;
    // raw_parser returns a list of RawStmt nodes.
    Ok(super::nodes::nodes_of::<pg_sys::RawStmt, _>(parsed)
        .into_iter()
        .map(|raw| {
            let start = raw.stmt_location.max(0) as usize;
            let end = if raw.stmt_len > 0 { start + raw.stmt_len as usize } else { sql.len() };
            RawStatement { node: raw.stmt, start, end: end.min(sql.len()) }
        })
        .collect())
}

/// The byte ranges of `sql`'s statements, parsed in a memory context of their own (freed at
/// once: fence reads many texts this way, e.g. every statement written in an approved body).
pub fn statement_ranges(sql: &str) -> Result<Vec<(usize, usize)>, String> {
    let mut context = pgrx::PgMemoryContexts::new("fence parse");
    // SAFETY: the parse trees are allocated in `context` and not used after it is dropped:
    // only their byte ranges are copied out.
    unsafe { context.switch_to(|_| try_parse(sql).map(|raw| raw.into_iter().map(|r| (r.start, r.end)).collect())) }
}

/// Whether `sql`, read now (with the session's scanner settings as they are now), is the one
/// statement `node` — PostgreSQL may have parsed it under other settings (a multi-statement
/// string that changes `standard_conforming_strings` half way): then its text is not what
/// runs, and fence must not hash it.
pub fn parses_to(sql: &str, node: *mut pg_sys::Node) -> bool {
    let mut context = pgrx::PgMemoryContexts::new("fence parse");
    // SAFETY: the fresh trees live in `context` until it is dropped; equal() only reads both
    // trees (locations are ignored).
    unsafe {
        context.switch_to(|_| match try_parse(sql).as_deref() {
            Ok([only]) => same_tree(only.node, node),
            _ => false,
        })
    }
}

/// Whether two parse trees are the same statement (locations ignored).
pub fn same_tree(a: *mut pg_sys::Node, b: *mut pg_sys::Node) -> bool {
    // SAFETY: both are valid parse trees; equal() only reads them.
    a == b || unsafe { pg_sys::equal(a as *const c_void, b as *const c_void) }
}

/// The client's query string now running (`debug_query_string`), if any.
pub fn client_query() -> Option<String> {
    // SAFETY: debug_query_string is the client's query string (or NULL).
    unsafe { super::nodes::cstr(pg_sys::debug_query_string) }
}

/// Whether event triggers fire for this parse tree's command (when they are not silenced).
pub fn event_triggers_see(node: *mut pg_sys::Node) -> bool {
    // SAFETY: `node` is a parse tree node; both functions only read it or the tag table.
    unsafe { pg_sys::command_tag_event_trigger_ok(pg_sys::CreateCommandTag(node)) }
}

/// PostgreSQL's command tag for a parse tree (`ALTER TABLE`, `CREATE INDEX` ...).
pub fn command_tag(node: *mut pg_sys::Node) -> String {
    // SAFETY: `node` is a parse tree node from raw_parser or an event trigger;
    // CreateCommandTag only reads it and GetCommandTagName returns a static string.
    unsafe { super::nodes::cstr(pg_sys::GetCommandTagName(pg_sys::CreateCommandTag(node))) }.unwrap_or_default()
}
