//! Cache invalidation callbacks: cross-transaction caches (fence's owner, the policy in force,
//! tracked tables) are dropped when PostgreSQL invalidates the relation they were read from
//! (`fence.set_policy()` announces each change; DROP EXTENSION, ownership changes and cache
//! resets do so by themselves); the session role's name when any role changes.

use pgrx::pg_sys;

/// A relcache invalidation callback's signature.
pub type RelationCallback = unsafe extern "C-unwind" fn(pg_sys::Datum, pg_sys::Oid);
/// A syscache invalidation callback's signature.
pub type SyscacheCallback = unsafe extern "C-unwind" fn(pg_sys::Datum, i32, u32);

/// Registers `relation_changed` for every relcache invalidation and `role_changed` for the
/// role catalog's (called once, from _PG_init).
pub fn register(relation_changed: RelationCallback, role_changed: SyscacheCallback) {
    // SAFETY: called once from _PG_init; the callbacks only clear backend-local caches.
    unsafe {
        pg_sys::CacheRegisterRelcacheCallback(Some(relation_changed), pg_sys::Datum::from(0));
        pg_sys::CacheRegisterSyscacheCallback(
            pg_sys::SysCacheIdentifier::AUTHOID as i32,
            Some(role_changed),
            pg_sys::Datum::from(0),
        );
    }
}
