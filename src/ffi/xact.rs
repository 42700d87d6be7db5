//! Transaction and subtransaction callbacks: pending audit events are appended to the chain
//! at pre-commit, dropped with an aborted (sub)transaction, handed to the parent on
//! subtransaction commit.

use pgrx::pg_sys::{self, SubXactEvent, XactEvent};
use pgrx::prelude::*;

/// The transaction callback's signature.
pub type XactCallback = unsafe extern "C-unwind" fn(XactEvent::Type, *mut std::ffi::c_void);
/// The subtransaction callback's signature.
pub type SubXactCallback = unsafe extern "C-unwind" fn(
    SubXactEvent::Type,
    pg_sys::SubTransactionId,
    pg_sys::SubTransactionId,
    *mut std::ffi::c_void,
);

/// Registers the (sub)transaction callbacks (called once, from _PG_init).
pub fn register(on_xact: XactCallback, on_subxact: SubXactCallback) {
    // SAFETY: called once from _PG_init; the callbacks are guarded entry points with no state.
    unsafe {
        pg_sys::RegisterXactCallback(Some(on_xact), std::ptr::null_mut());
        pg_sys::RegisterSubXactCallback(Some(on_subxact), std::ptr::null_mut());
    }
}

/// Where a transaction is, as fence's per-transaction state cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XactStep {
    /// About to commit (its last chance to write).
    PreCommit,
    /// About to be prepared (PREPARE TRANSACTION).
    PrePrepare,
    /// Committed or prepared.
    Ended,
    /// Aborted.
    Aborted,
    Other,
}

pub fn xact_step(event: XactEvent::Type) -> XactStep {
    match event {
        XactEvent::XACT_EVENT_PRE_COMMIT | XactEvent::XACT_EVENT_PARALLEL_PRE_COMMIT => XactStep::PreCommit,
        XactEvent::XACT_EVENT_PRE_PREPARE => XactStep::PrePrepare,
        XactEvent::XACT_EVENT_COMMIT | XactEvent::XACT_EVENT_PARALLEL_COMMIT | XactEvent::XACT_EVENT_PREPARE => {
            XactStep::Ended
        }
        XactEvent::XACT_EVENT_ABORT | XactEvent::XACT_EVENT_PARALLEL_ABORT => XactStep::Aborted,
        _ => XactStep::Other,
    }
}

/// A subtransaction's end, with the nesting level it ended at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubXactStep {
    Aborted(i32),
    Committed(i32),
    Other,
}

pub fn subxact_step(event: SubXactEvent::Type) -> SubXactStep {
    match event {
        SubXactEvent::SUBXACT_EVENT_ABORT_SUB => SubXactStep::Aborted(nest_level()),
        SubXactEvent::SUBXACT_EVENT_COMMIT_SUB => SubXactStep::Committed(nest_level()),
        _ => SubXactStep::Other,
    }
}

struct RollBack {
    context: pg_sys::MemoryContext,
    owner: pg_sys::ResourceOwner,
}

impl Drop for RollBack {
    fn drop(&mut self) {
        // SAFETY: ends the subtransaction `without_trace` began (also when its reads raised:
        // pgrx turned the error into this unwinding, the subtransaction is still open), then
        // restores the caller's memory context and resource owner, as PL/pgSQL does.
        unsafe {
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
            pg_sys::CurrentMemoryContext = self.context;
            pg_sys::CurrentResourceOwner = self.owner;
        }
    }
}

/// Runs fence's own reads (policy, approvals, exemptions) in a subtransaction rolled back
/// right after: the locks they take on fence's tables and indexes are released at once, so
/// the user's transaction holds nothing of fence's. The reads see the database as of now,
/// not as of a REPEATABLE READ transaction's snapshot: a revocation, exemption or policy
/// committed since the transaction began counts. `read` must only read and return owned
/// values (what it allocated in PostgreSQL's memory is freed).
pub fn without_trace<R>(read: impl FnOnce() -> R) -> R {
    // SAFETY: a subtransaction in the current transaction (DDL never runs in parallel mode);
    // the guard rolls it back however `read` ends, which also pops the snapshot pushed in it.
    let _rollback = unsafe {
        let rollback = RollBack { context: pg_sys::CurrentMemoryContext, owner: pg_sys::CurrentResourceOwner };
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::PushActiveSnapshot(pg_sys::GetLatestSnapshot());
        rollback
    };
    read()
}

/// Identifies the current top-level transaction within this backend.
pub fn local_transaction_id() -> u32 {
    super::compat::local_transaction_id()
}

/// Identifies the current subtransaction within this backend: (top-level transaction, its
/// subtransaction counter). A lock taken under this identity is held until it changes.
pub fn local_subtransaction_id() -> (u32, u32) {
    // SAFETY: reads backend-local transaction state.
    (local_transaction_id(), unsafe { pg_sys::GetCurrentSubTransactionId() })
}

/// Whether the current transaction is READ ONLY (it may write nothing, fence included).
pub fn read_only() -> bool {
    // SAFETY: reads a backend-local flag.
    unsafe { pg_sys::XactReadOnly }
}

struct RestoreReadOnly;

impl Drop for RestoreReadOnly {
    fn drop(&mut self) {
        // SAFETY: restores the flag `writing_despite_read_only` cleared.
        unsafe { pg_sys::XactReadOnly = true };
    }
}

/// Runs fence's own write in a transaction that wrote already (it has a transaction id) and
/// was switched to READ ONLY afterwards (`SET TRANSACTION READ ONLY` after DDL): its events
/// are appended as in any other transaction, not handed to a worker that may find no slot.
pub fn writing_despite_read_only<R>(write: impl FnOnce() -> R) -> R {
    // SAFETY: the flag is restored however `write` ends; the transaction's own writes are done.
    let _restore = unsafe {
        pg_sys::XactReadOnly = false;
        RestoreReadOnly
    };
    write()
}

/// Whether the server runs pg_upgrade's restore of the old cluster's schema (binary upgrade
/// mode): the old cluster's chain and tables are carried over as they were.
pub fn binary_upgrade() -> bool {
    // SAFETY: reads a flag set at server start.
    unsafe { pg_sys::IsBinaryUpgrade }
}

/// Whether the server is a standby replaying WAL (nothing can be written).
pub fn in_recovery() -> bool {
    // SAFETY: reads shared recovery state.
    unsafe { pg_sys::RecoveryInProgress() }
}

/// Whether the session is inside an explicit transaction block (BEGIN ... COMMIT).
pub fn in_transaction_block() -> bool {
    // SAFETY: reads backend-local transaction state.
    unsafe { pg_sys::IsTransactionBlock() }
}

/// The current (sub)transaction nesting level (1 = top level).
pub fn nest_level() -> i32 {
    // SAFETY: reads backend-local transaction state.
    unsafe { pg_sys::GetCurrentTransactionNestLevel() }
}

/// The top-level transaction id (assigned if needed: fence only asks when it writes).
pub fn full_transaction_id() -> i64 {
    // SAFETY: valid inside a transaction that may write.
    unsafe { pg_sys::GetTopFullTransactionId().value as i64 }
}

/// The top-level transaction id if one was assigned (a denied statement does not force one).
pub fn full_transaction_id_if_any() -> Option<i64> {
    // SAFETY: reads backend-local transaction state.
    let id = unsafe { pg_sys::GetTopFullTransactionIdIfAny().value };
    (id != 0).then_some(id as i64)
}

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const UNIX_TO_POSTGRES_EPOCH_US: i64 = 946_684_800_000_000;

/// Now, in microseconds since the Unix epoch.
pub fn now_unix_us() -> i64 {
    // SAFETY: reads the clock.
    unix_us_of(unsafe { pg_sys::GetCurrentTimestamp() })
}

/// Converts PostgreSQL's `TimestampTz` (microseconds since 2000) to Unix microseconds.
pub fn unix_us_of(ts: pg_sys::TimestampTz) -> i64 {
    ts + UNIX_TO_POSTGRES_EPOCH_US
}

/// Converts Unix microseconds to PostgreSQL's `TimestampTz` (microseconds since 2000).
pub fn postgres_timestamp(unix_us: i64) -> pg_sys::TimestampTz {
    unix_us - UNIX_TO_POSTGRES_EPOCH_US
}

/// Converts Unix microseconds to a `timestamptz`.
pub fn timestamptz(unix_us: i64) -> TimestampWithTimeZone {
    TimestampWithTimeZone::try_from(postgres_timestamp(unix_us))
        .unwrap_or_else(|_| TimestampWithTimeZone::positive_infinity())
}

/// Converts a `timestamptz` to Unix microseconds.
pub fn unix_us(ts: TimestampWithTimeZone) -> i64 {
    unix_us_of(pg_sys::TimestampTz::from(ts))
}

/// Runs `f` in an internal subtransaction that is rolled back either way (what it locked is
/// released, what it wrote undone); an ERROR inside yields `None`.
pub(super) fn rolled_back<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe) -> Option<R> {
    subtransaction(f, false)
}

/// Runs `f` in an internal subtransaction, kept when `f` returns; an ERROR inside rolls it
/// back and yields `None`.
pub(super) fn in_subtransaction<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe) -> Option<R> {
    subtransaction(f, true)
}

/// The protocol PL/pgSQL uses for EXCEPTION blocks: an internal subtransaction, released
/// (`keep`) or rolled back when `f` returns, rolled back when it raises. A cancel is raised
/// again once the subtransaction is gone; the caller's interrupt holdoffs survive a caught
/// error (PostgreSQL resets them when it raises one).
fn subtransaction<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe, keep: bool) -> Option<R> {
    use pgrx::pg_sys::panic::CaughtError;
    let _holdoffs = super::scanner::Holdoffs::save();
    // SAFETY: remember the memory context and resource owner, start the subtransaction, end
    // it on either path and restore both.
    let result = unsafe {
        let old_context = pg_sys::CurrentMemoryContext;
        let old_owner = pg_sys::CurrentResourceOwner;
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::MemoryContextSwitchTo(old_context);
        let result = PgTryBuilder::new(move || Ok(f())).catch_others(|e| Err(Box::new(e))).execute();
        pg_sys::MemoryContextSwitchTo(old_context);
        if keep && result.is_ok() {
            pg_sys::ReleaseCurrentSubTransaction();
        } else {
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
        }
        pg_sys::MemoryContextSwitchTo(old_context);
        pg_sys::CurrentResourceOwner = old_owner;
        result
    };
    match result {
        Ok(value) => Some(value),
        Err(error) => match *error {
            CaughtError::PostgresError(report)
                if report.sql_error_code() == pgrx::PgSqlErrorCode::ERRCODE_QUERY_CANCELED =>
            {
                CaughtError::PostgresError(report).rethrow()
            }
            _ => None,
        },
    }
}
