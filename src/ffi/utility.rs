//! The ProcessUtility hook's plumbing: installing it, unwrapping what it receives, and calling
//! the next hook (or the server's own function) exactly as received.

use std::sync::atomic::{AtomicBool, Ordering};

use pgrx::pg_sys::{self, ProcessUtilityContext};

/// ProcessUtility's signature.
pub type ProcessUtilityFn = unsafe extern "C-unwind" fn(
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

/// Installs `hook` in front of the current ProcessUtility hook (called once, from _PG_init).
pub fn install(hook: ProcessUtilityFn) {
    // SAFETY: called once from _PG_init in the single backend thread; we save the previous
    // hook and `call_next` always calls it (or the standard implementation). No query is
    // running while shared_preload_libraries or session_preload_libraries load us: that is
    // "preloaded".
    unsafe {
        NEXT = Some(pg_sys::ProcessUtility_hook.unwrap_or(standard_process_utility));
        pg_sys::ProcessUtility_hook = Some(hook);
        PRELOADED.store(pg_sys::debug_query_string.is_null(), Ordering::Relaxed);
    }
}

/// The hook that was installed before ours (or the server's own function): ours calls it
/// with exactly what it received, and without a guard, so that an ERROR raised by the
/// statement unwinds straight through to PostgreSQL's handler.
pub fn next() -> ProcessUtilityFn {
    // SAFETY: NEXT is set by `install` before the hook is, and never changes after.
    unsafe { NEXT }.unwrap_or(standard_process_utility)
}

/// Whether fence was loaded before this session's first query, so the hook sees every
/// statement: only then does it gate the commands event triggers never see (gating them
/// from the middle of a session on would make the same TRUNCATE pass or fail by accident).
pub fn preloaded() -> bool {
    PRELOADED.load(Ordering::Relaxed)
}

/// The setting that silences the session's event triggers, with its value, if one does:
/// `session_replication_role = replica` (a superuser's choice, e.g. for pg_restore) or, from
/// PostgreSQL 17 on, `event_triggers = off` — however it was set (SET, set_config, PGOPTIONS,
/// ALTER ROLE / DATABASE / SYSTEM).
pub fn silencing_setting() -> Option<(&'static str, &'static str)> {
    // SAFETY: reads the backend's current setting.
    let replica = unsafe { pg_sys::SessionReplicationRole == pg_sys::SESSION_REPLICATION_ROLE_REPLICA as i32 };
    if replica {
        Some(("session_replication_role", "replica"))
    } else if !super::compat::event_triggers_enabled() {
        Some(("event_triggers", "off"))
    } else {
        None
    }
}

/// A utility statement about to run, as the hook received it.
pub struct UtilityStatement {
    pub node: *mut pg_sys::Node,
    /// Its own slice of the query string.
    pub text: String,
    /// Sent by the client (not run by a function, DO block or EXECUTE).
    pub top_level: bool,
    /// Run by another utility statement as a part of it (CREATE SCHEMA's elements, what CREATE
    /// TABLE's transformation adds): no event trigger fires for it.
    pub subcommand: bool,
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

/// What ProcessUtility received, unwrapped.
///
/// # Safety
/// The arguments must be those ProcessUtility received.
pub unsafe fn statement(
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const std::ffi::c_char,
    context: ProcessUtilityContext::Type,
) -> UtilityStatement {
    // SAFETY: per the caller, `pstmt` is the statement about to be executed.
    let stmt = unsafe { &*pstmt };
    UtilityStatement {
        node: stmt.utilityStmt,
        text: slice(query_string, stmt.stmt_location, stmt.stmt_len),
        top_level: context == ProcessUtilityContext::PROCESS_UTILITY_TOPLEVEL,
        subcommand: context == ProcessUtilityContext::PROCESS_UTILITY_SUBCOMMAND,
    }
}

/// The parse tree of the statement just executed.
///
/// # Safety
/// `pstmt` must be the statement ProcessUtility received.
pub unsafe fn node(pstmt: *mut pg_sys::PlannedStmt) -> *mut pg_sys::Node {
    // SAFETY: per the caller.
    unsafe { (*pstmt).utilityStmt }
}
