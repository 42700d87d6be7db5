//! Snapshots for work done at pre-commit, where PostgreSQL has no active snapshot.

use pgrx::pg_sys;

use super::nodes::cstr;

struct PopSnapshot;

impl Drop for PopSnapshot {
    fn drop(&mut self) {
        // SAFETY: pops the snapshot pushed by `with_transaction_snapshot`.
        unsafe { pg_sys::PopActiveSnapshot() };
    }
}

/// Runs `f` with the transaction snapshot active.
pub fn with_transaction_snapshot<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: we are inside a transaction; the guard pops what we push.
    let _pop = unsafe {
        pg_sys::PushActiveSnapshot(pg_sys::GetTransactionSnapshot());
        PopSnapshot
    };
    f()
}

/// Runs `f` with a snapshot active: utility statements such as LOCK, SET and VACUUM run
/// without one, and fence's catalog queries need one.
pub fn with_active_snapshot<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: reads backend-local snapshot state.
    if unsafe { pg_sys::ActiveSnapshotSet() } {
        f()
    } else {
        with_transaction_snapshot(f)
    }
}

thread_local! {
    /// The head query's kept plan (prepared once per backend).
    static HEAD_PLAN: std::cell::Cell<pg_sys::SPIPlanPtr> = const { std::cell::Cell::new(std::ptr::null_mut()) };
}

/// The chain's head `(seq, event_hash)` as of now — read with the latest snapshot so that
/// REPEATABLE READ and SERIALIZABLE transactions see every committed append. The caller must
/// hold the chain's append lock.
pub fn latest_chain_head() -> Option<(i64, String)> {
    const QUERY: &std::ffi::CStr = c"SELECT c.seq, c.event_hash FROM fence.audit_chain c ORDER BY c.seq DESC LIMIT 1";
    // SAFETY: a self-contained SPI connection; the plan is kept (SPI_keepplan) for the
    // backend's life and re-planned by the plan cache when the table changes; values are
    // copied into Rust strings before SPI_finish frees the tuple table. read_only = true
    // makes SPI run the plan with our pushed (latest) snapshot.
    unsafe {
        pg_sys::SPI_connect();
        let mut plan = HEAD_PLAN.with(|p| p.get());
        if plan.is_null() {
            plan = pg_sys::SPI_prepare(QUERY.as_ptr(), 0, std::ptr::null_mut());
            if !plan.is_null() && pg_sys::SPI_keepplan(plan) == 0 {
                HEAD_PLAN.with(|p| p.set(plan));
            }
        }
        pg_sys::PushActiveSnapshot(pg_sys::GetLatestSnapshot());
        let _pop = PopSnapshot;
        if !plan.is_null() {
            pg_sys::SPI_execute_plan(plan, std::ptr::null_mut(), std::ptr::null(), true, 1);
        }
        let head = if !plan.is_null() && pg_sys::SPI_processed == 1 && !pg_sys::SPI_tuptable.is_null() {
            let table = &*pg_sys::SPI_tuptable;
            let row = *table.vals;
            let seq = cstr(pg_sys::SPI_getvalue(row, table.tupdesc, 1)).and_then(|s| s.parse().ok());
            let hash = cstr(pg_sys::SPI_getvalue(row, table.tupdesc, 2));
            seq.zip(hash)
        } else {
            None
        };
        pg_sys::SPI_finish();
        head
    }
}

/// Takes the chain's append lock (EXCLUSIVE on `fence.audit_chain`, held to commit):
/// appenders queue only for the length of a commit, readers are never blocked, and only the
/// owner can take it (LOCK TABLE needs privileges no other role has).
pub fn lock_chain(chain: pg_sys::Oid) {
    // SAFETY: a regular relation lock, released by the transaction's end.
    unsafe { pg_sys::LockRelationOid(chain, pg_sys::ExclusiveLock as i32) };
}

/// Takes the chain's append lock if no one holds it; false otherwise.
pub fn try_lock_chain(chain: pg_sys::Oid) -> bool {
    // SAFETY: as `lock_chain`, without waiting.
    unsafe { pg_sys::ConditionalLockRelationOid(chain, pg_sys::ExclusiveLock as i32) }
}

/// Whether the transaction uses one snapshot throughout (REPEATABLE READ or SERIALIZABLE).
pub fn transaction_snapshot_isolation() -> bool {
    // SAFETY: reads backend-local transaction state.
    unsafe { pg_sys::XactIsoLevel >= pg_sys::XACT_REPEATABLE_READ as i32 }
}
