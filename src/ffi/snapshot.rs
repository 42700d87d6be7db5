//! Snapshots for work done at pre-commit, where PostgreSQL has no active snapshot.

use pgrx::pg_sys;

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

/// Takes SHARE on a relation if no one writes it (a writer holds ROW EXCLUSIVE until its
/// transaction ends); false otherwise. Held to the end of the transaction.
pub fn try_lock_share(relation: pg_sys::Oid) -> bool {
    // SAFETY: a regular relation lock, without waiting, released by the transaction's end.
    unsafe { pg_sys::ConditionalLockRelationOid(relation, pg_sys::ShareLock as i32) }
}

/// Whether the transaction uses one snapshot throughout (REPEATABLE READ or SERIALIZABLE).
pub fn transaction_snapshot_isolation() -> bool {
    // SAFETY: reads backend-local transaction state.
    unsafe { pg_sys::XactIsoLevel >= pg_sys::XACT_REPEATABLE_READ as i32 }
}
