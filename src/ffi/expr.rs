//! Volatility of a column default, decided by the server's own parse analysis.

use fence_core::model::Volatility;
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Transforms the raw default expression (in a subtransaction, so an expression that cannot
/// be analyzed yet — an unknown function, say — is rolled back cleanly) and asks whether it
/// contains volatile or mutable functions. `now()` is stable; `random()`, `clock_timestamp()`
/// and `nextval()` are volatile.
///
/// # Safety
/// `raw` must be a valid raw expression node.
pub unsafe fn default_volatility(raw: *mut pg_sys::Node) -> Volatility {
    // SAFETY: plain reads of the node tag.
    if unsafe { super::nodes::tag(raw) } == pg_sys::NodeTag::T_A_Const {
        return Volatility::Immutable;
    }
    in_subtransaction(|| {
        // SAFETY: parse analysis of a copy of the raw expression; the ParseState and the result
        // live in the current memory context.
        unsafe {
            let pstate = pg_sys::make_parsestate(std::ptr::null_mut());
            let copy = pg_sys::copyObjectImpl(raw as *const std::ffi::c_void) as *mut pg_sys::Node;
            let expr = pg_sys::transformExpr(pstate, copy, pg_sys::ParseExprKind::EXPR_KIND_COLUMN_DEFAULT);
            if pg_sys::contain_volatile_functions(expr) {
                Volatility::Volatile
            } else if pg_sys::contain_mutable_functions(expr) {
                Volatility::Stable
            } else {
                Volatility::Immutable
            }
        }
    })
    .unwrap_or(Volatility::Unknown)
}

/// Runs `f` in an internal subtransaction; an ERROR inside rolls it back and yields `None`.
fn in_subtransaction<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe) -> Option<R> {
    // SAFETY: the same protocol PL/pgSQL uses for EXCEPTION blocks: remember the memory
    // context and resource owner, start the subtransaction, and restore both on either path.
    unsafe {
        let old_context = pg_sys::CurrentMemoryContext;
        let old_owner = pg_sys::CurrentResourceOwner;
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::MemoryContextSwitchTo(old_context);
        PgTryBuilder::new(move || {
            let result = f();
            pg_sys::ReleaseCurrentSubTransaction();
            pg_sys::MemoryContextSwitchTo(old_context);
            pg_sys::CurrentResourceOwner = old_owner;
            Some(result)
        })
        .catch_others(move |_| {
            pg_sys::MemoryContextSwitchTo(old_context);
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
            pg_sys::MemoryContextSwitchTo(old_context);
            pg_sys::CurrentResourceOwner = old_owner;
            None
        })
        .execute()
    }
}
