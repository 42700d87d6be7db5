//! The ProcessUtility hook: remembers the exact text of every utility statement being
//! executed (its slice of the client's query string, or the SQL a function ran), so the
//! gate hashes what was actually sent. Installed when the library loads; with preloading it
//! sees every statement, otherwise from the first fence call of the session on.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};

use pgrx::pg_sys::{self, ProcessUtilityContext};
use pgrx::prelude::*;

struct Frame {
    node: *mut pg_sys::Node,
    text: String,
    top_level: bool,
    /// The (sub)transaction nesting level the statement started in: an error that skips
    /// the statement's end drops its frame with the (sub)transaction it aborts.
    level: i32,
}

thread_local! {
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

type ProcessUtilityFn = unsafe extern "C-unwind" fn(
    *mut pg_sys::PlannedStmt,
    *const std::ffi::c_char,
    bool,
    ProcessUtilityContext::Type,
    pg_sys::ParamListInfo,
    *mut pg_sys::QueryEnvironment,
    *mut pg_sys::DestReceiver,
    *mut pg_sys::QueryCompletion,
);

unsafe extern "C-unwind" {
    /// The server's own function, declared here without pgrx's FFI guard: an error it raises
    /// must reach PostgreSQL's handler as raised (every field: position, context, schema /
    /// table / column / constraint names), not be rebuilt from the few fields pgrx keeps.
    #[link_name = "standard_ProcessUtility"]
    fn standard_process_utility(
        pstmt: *mut pg_sys::PlannedStmt,
        query_string: *const std::ffi::c_char,
        read_only_tree: bool,
        context: ProcessUtilityContext::Type,
        params: pg_sys::ParamListInfo,
        query_env: *mut pg_sys::QueryEnvironment,
        dest: *mut pg_sys::DestReceiver,
        qc: *mut pg_sys::QueryCompletion,
    );
}

static mut NEXT: Option<ProcessUtilityFn> = None;
static PRELOADED: AtomicBool = AtomicBool::new(false);

pub fn install() {
    // SAFETY: called once from _PG_init in the single backend thread; we save the previous
    // hook and always call it (or the standard implementation). No query is running while
    // shared_preload_libraries or session_preload_libraries load us: that is "preloaded".
    unsafe {
        NEXT = Some(pg_sys::ProcessUtility_hook.unwrap_or(standard_process_utility));
        pg_sys::ProcessUtility_hook = Some(process_utility);
        PRELOADED.store(pg_sys::debug_query_string.is_null(), Ordering::Relaxed);
    }
}

/// `session_replication_role = replica` silences event triggers (a superuser's choice, e.g.
/// for pg_restore, and recorded when set by a statement); the hook follows them.
fn replication_role_replica() -> bool {
    // SAFETY: reads the backend's current setting.
    unsafe { pg_sys::SessionReplicationRole == pg_sys::SESSION_REPLICATION_ROLE_REPLICA as i32 }
}

/// Whether fence was loaded before this session's first query, so the hook sees every
/// statement: only then does it gate the commands event triggers never see (gating them
/// from the middle of a session on would make the same TRUNCATE pass or fail by accident).
pub fn preloaded() -> bool {
    PRELOADED.load(Ordering::Relaxed)
}

/// A (sub)transaction at `level` aborted (0: the whole transaction): the frames of the
/// statements it interrupted go with it. Must never raise.
pub fn abort_frames(level: i32) {
    FRAMES.with(|frames| frames.borrow_mut().retain(|f| level > 0 && f.level < level));
}

/// The statement's own slice of the query string (copying only that slice: a long
/// multi-statement string is not copied once per statement).
fn slice(query: *const std::ffi::c_char, location: i32, len: i32) -> String {
    if query.is_null() {
        return String::new();
    }
    // SAFETY: `query` is the NUL-terminated query string ProcessUtility received.
    let bytes = unsafe { std::ffi::CStr::from_ptr(query) }.to_bytes();
    let start = usize::try_from(location).unwrap_or(0).min(bytes.len());
    let end = if len > 0 { (start + len as usize).min(bytes.len()) } else { bytes.len() };
    String::from_utf8_lossy(&bytes[start..end]).into_owned()
}

/// The hook. It holds nothing that needs dropping while the statement runs, and calls the
/// next hook without a guard: an ERROR raised by the statement unwinds straight through to
/// PostgreSQL's handler untouched (its frame pops with the (sub)transaction, `abort_frames`).
/// fence's own work before and after runs in guarded functions of its own.
#[allow(clippy::too_many_arguments)]
unsafe extern "C-unwind" fn process_utility(
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const std::ffi::c_char,
    read_only_tree: bool,
    context: ProcessUtilityContext::Type,
    params: pg_sys::ParamListInfo,
    query_env: *mut pg_sys::QueryEnvironment,
    dest: *mut pg_sys::DestReceiver,
    qc: *mut pg_sys::QueryCompletion,
) {
    // SAFETY: the arguments are what ProcessUtility received; NEXT is set by `install`
    // before this hook is, and never changes after.
    unsafe {
        let depth = before(pstmt, query_string, context);
        if let Some(next) = NEXT {
            next(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
        }
        after(pstmt, depth);
    }
}

/// Before the statement: remember its text, and gate the commands event triggers never see.
/// Returns how many frames were open before this statement's.
#[pg_guard]
unsafe extern "C-unwind" fn before(
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const std::ffi::c_char,
    context: ProcessUtilityContext::Type,
) -> usize {
    // SAFETY: `pstmt` is the statement about to be executed.
    let stmt = unsafe { &*pstmt };
    let node = stmt.utilityStmt;
    let frame = Frame {
        node,
        text: slice(query_string, stmt.stmt_location, stmt.stmt_len),
        top_level: context == ProcessUtilityContext::PROCESS_UTILITY_TOPLEVEL,
        level: super::xact::nest_level(),
    };
    let depth = FRAMES.with(|frames| {
        let mut frames = frames.borrow_mut();
        frames.push(frame);
        frames.len() - 1
    });
    if preloaded()
        && super::maintenance::is_maintenance(node)
        && !super::event_trigger::in_extension_script()
        && !crate::gate::is_internal()
        && !replication_role_replica()
    {
        super::snapshot::with_active_snapshot(|| {
            crate::gate::gate(crate::gate::GateCall {
                tag: super::parser::command_tag(node),
                statement: super::parsetree::statement(node),
                text: statement_text(node),
                drops_fence: false,
                awaits_end: false,
                row_audit_off: None,
            })
        });
    }
    depth
}

/// After the statement: record a change to fence's guards, and close the statement's frame.
#[pg_guard]
unsafe extern "C-unwind" fn after(pstmt: *mut pg_sys::PlannedStmt, depth: usize) {
    // SAFETY: `pstmt` is the statement just executed.
    let node = unsafe { (*pstmt).utilityStmt };
    let text = FRAMES.with(|frames| {
        let mut frames = frames.borrow_mut();
        let text = frames.get(depth).map(|f| f.text.clone());
        frames.truncate(depth);
        text
    });
    if let Some((what, state)) = super::guards::changed_guard(node) {
        super::snapshot::with_active_snapshot(|| crate::gate::record_guard_change(what, state, text));
    }
}

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

fn same_tree(a: *mut pg_sys::Node, b: *mut pg_sys::Node) -> bool {
    // SAFETY: both are valid parse trees; equal() only reads them (locations are ignored).
    a == b || unsafe { pg_sys::equal(a as *const std::ffi::c_void, b as *const std::ffi::c_void) }
}

/// The text of the statement whose parse tree is `node`, if reading it now gives that tree
/// (else fence could hash text that reads otherwise than what runs: no text, no approval).
pub fn statement_text(node: *mut pg_sys::Node) -> Option<(String, TextSource)> {
    let from_hook = FRAMES.with(|frames| {
        frames
            .borrow()
            .iter()
            .rev()
            .find(|f| same_tree(f.node, node))
            .map(|f| (f.text.clone(), if f.top_level { TextSource::Client } else { TextSource::Nested }))
    });
    match from_hook {
        // Only a backslash reads otherwise under other scanner settings
        // (standard_conforming_strings, backslash_quote): other text reads as it was parsed.
        // A text with one must re-read now as the tree that runs (CREATE TABLE AS, whose tree
        // parse analysis rewrote, then has no text fence hashes).
        Some((text, source)) if !text.contains('\\') || super::parser::parses_to(&text, node) => Some((text, source)),
        Some(_) => None,
        None => reparse_client_query(node),
    }
}

/// What the client sent for the statement now running: the top-level utility statement
/// being executed (e.g. the DO block), else the whole client query string (e.g. the
/// `SELECT f()` or prepared statement whose function runs DDL).
pub fn client_text() -> Option<String> {
    let top = FRAMES.with(|frames| frames.borrow().first().filter(|f| f.top_level).map(|f| f.text.clone()));
    // SAFETY: debug_query_string is the client's query string (or NULL).
    top.or_else(|| unsafe { super::nodes::cstr(pg_sys::debug_query_string) })
}

fn reparse_client_query(node: *mut pg_sys::Node) -> Option<(String, TextSource)> {
    // SAFETY: debug_query_string is the client's query string (or NULL).
    let query = unsafe { super::nodes::cstr(pg_sys::debug_query_string) }?;
    super::parser::try_parse(&query)
        .ok()?
        .into_iter()
        .find(|raw| same_tree(raw.node, node))
        .map(|raw| (query[raw.start..raw.end].to_string(), TextSource::Reparsed))
}
