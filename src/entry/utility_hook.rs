//! The ProcessUtility hook: fence sees every utility statement before and after it runs.

use pgrx::pg_sys::{self, ProcessUtilityContext};
use pgrx::prelude::*;

use crate::ffi::utility;
use crate::gate;

/// The hook. It holds nothing that needs dropping while the statement runs, and calls the
/// next hook without a guard: an ERROR raised by the statement unwinds straight through to
/// PostgreSQL's handler untouched (its frame pops with the (sub)transaction). fence's own
/// work before and after runs in guarded functions of its own.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C-unwind" fn process_utility(
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const std::ffi::c_char,
    read_only_tree: bool,
    context: ProcessUtilityContext::Type,
    params: pg_sys::ParamListInfo,
    query_env: *mut pg_sys::QueryEnvironment,
    dest: *mut pg_sys::DestReceiver,
    qc: *mut pg_sys::QueryCompletion,
) {
    // SAFETY: the arguments are what ProcessUtility received.
    unsafe {
        let depth = before(pstmt, query_string, context);
        utility::next()(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
        after(pstmt, depth);
    }
}

/// Before the statement; returns how many statements were open before this one.
#[pg_guard]
unsafe extern "C-unwind" fn before(
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const std::ffi::c_char,
    context: ProcessUtilityContext::Type,
) -> usize {
    // SAFETY: the arguments are what ProcessUtility received.
    gate::utility::before(unsafe { utility::statement(pstmt, query_string, context) })
}

/// After the statement.
#[pg_guard]
unsafe extern "C-unwind" fn after(pstmt: *mut pg_sys::PlannedStmt, depth: usize) {
    // SAFETY: `pstmt` is the statement ProcessUtility received.
    gate::utility::after(unsafe { utility::node(pstmt) }, depth);
}
