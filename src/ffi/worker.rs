//! The denial writer: a dynamic background worker that records a denial in its own
//! transaction while the denied session waits, so the denial outlives the abort. The payload
//! travels in a DSM segment; the worker connects to the same database as the extension owner.
//! No preloading is needed: the worker loads the library itself.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use pgrx::bgworkers::{BackgroundWorkerBuilder, BackgroundWorkerStatus, DynamicBackgroundWorker};
use pgrx::pg_sys;

/// How far the worker got, as it reports in the shared segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing committed (no worker slot, the worker failed, or it ran out of time).
    Lost,
    /// Committed to `fence.pending_denials`; the chain was busy.
    Parked,
    /// Committed and appended to the chain.
    Chained,
    /// Not written: the session's repeat of a denial it recorded, counted (the gate writes the
    /// 1st, 2nd, 4th ... repeat) — the chain has the count as of the last written repeat.
    Counted(u64),
}

/// The start of the shared segment; the payload (UTF-8 JSON) follows it.
#[repr(C)]
struct Header {
    progress: AtomicU32,
    chain: u32,
    database: u32,
    owner: u32,
    len: u64,
}

const PARKED: u32 = 1;
const CHAINED: u32 = 2;

/// Holds off cancels and terminations (`HOLD_INTERRUPTS`) until dropped.
pub struct HoldInterrupts;

impl HoldInterrupts {
    pub fn new() -> HoldInterrupts {
        // SAFETY: a backend-local counter that ProcessInterrupts reads; the guard decrements it
        // however the wait ends.
        unsafe { pg_sys::InterruptHoldoffCount += 1 };
        HoldInterrupts
    }
}

impl Drop for HoldInterrupts {
    fn drop(&mut self) {
        // SAFETY: undoes `new` — unless an ERROR raised meanwhile already reset the count to
        // zero (errfinish does, before pgrx turns the ERROR into an unwinding panic).
        unsafe { pg_sys::InterruptHoldoffCount = pg_sys::InterruptHoldoffCount.saturating_sub(1) };
    }
}

/// Registers a worker for `payload`, waits (at most `deadline`) for it to exit and returns
/// what it committed. `chain` = false when this session holds a lock the chain append needs.
/// A cancel, `statement_timeout` or termination arriving meanwhile waits until the worker is
/// done (at most `deadline`): the denial is durable before the refusal can be interrupted.
pub fn run(payload: &str, owner: pg_sys::Oid, chain: bool, deadline: Duration) -> Progress {
    let start = Instant::now();
    let _held = HoldInterrupts::new();
    let size = std::mem::size_of::<Header>() + payload.len();
    // SAFETY: the segment is created in this transaction (its resource owner detaches it if
    // we error out); we write the header and payload before any worker can see the handle.
    let (segment, base) = unsafe {
        let segment = pg_sys::dsm_create(size, 0);
        let base = pg_sys::dsm_segment_address(segment) as *mut u8;
        base.cast::<Header>().write(Header {
            progress: AtomicU32::new(0),
            chain: u32::from(chain),
            database: pg_sys::MyDatabaseId.to_u32(),
            owner: owner.to_u32(),
            len: payload.len() as u64,
        });
        std::ptr::copy_nonoverlapping(payload.as_ptr(), base.add(std::mem::size_of::<Header>()), payload.len());
        (segment, base)
    };
    // SAFETY: a segment handle of this backend's.
    let handle = unsafe { pg_sys::dsm_segment_handle(segment) };
    if let Some(worker) = register(handle, start, deadline) {
        wait_for_exit(worker, start, deadline);
    }
    // SAFETY: the segment is still attached; the progress word is read atomically, then the
    // segment is detached once.
    let progress = unsafe {
        let progress = (*base.cast::<Header>()).progress.load(Ordering::Acquire);
        pg_sys::dsm_detach(segment);
        progress
    };
    match progress {
        CHAINED => Progress::Chained,
        PARKED => Progress::Parked,
        _ => Progress::Lost,
    }
}

/// A dynamic worker running `function` of this library with `arg`, connected to a database;
/// `notify` = whether the postmaster tells this backend when it starts and stops. (pgrx's
/// builder fills the server's structure as each PostgreSQL version lays it out.)
fn worker(name: &str, function: &str, arg: pg_sys::Datum, notify: bool) -> BackgroundWorkerBuilder {
    let worker = BackgroundWorkerBuilder::new(name)
        .set_library("fence")
        .set_function(function)
        .set_argument(Some(arg))
        .enable_spi_access()
        .set_restart_time(None);
    if !notify {
        return worker;
    }
    // SAFETY: MyProcPid is this backend's pid.
    let pid = unsafe { pg_sys::MyProcPid };
    worker.set_notify_pid(pid)
}

thread_local! {
    /// When this backend last looked for a running sealer (and started one if none ran).
    static LAST_SEALER: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// Starts the sealer unless one runs, looking at most once per `interval` (also when no worker
/// slot was free: commits do not queue on the postmaster's worker slots; the sealer runs on
/// its own and never delays the caller).
pub fn ensure_sealer(interval: Duration) {
    if LAST_SEALER.with(|l| l.get().is_some_and(|at| at.elapsed() < interval)) {
        return;
    }
    LAST_SEALER.with(|l| l.set(Some(Instant::now())));
    if !sealer_running() {
        start_sealer();
    }
}

/// Starts the sealer for this database (`fence_seal_worker`) and returns at once. When no
/// worker slot is free nothing starts: a writing session tries again an interval later.
fn start_sealer() {
    // SAFETY: MyDatabaseId is this backend's database.
    let database = pg_sys::Datum::from(unsafe { pg_sys::MyDatabaseId }.to_u32());
    // No worker slot free: nothing starts, a writing session tries again an interval later.
    let _ = worker("fence sealer", "fence_seal_worker", database, false).load_dynamic();
}

/// The lock a running sealer holds for its whole life, one per database: an advisory lock
/// whose last tag field is 3, which no SQL function takes (`pg_advisory_lock` uses 1 and 2), so
/// no session can pretend to be the sealer. It shows in `pg_locks` (advisory, objsubid 3).
fn sealer_tag() -> pg_sys::LOCKTAG {
    pg_sys::LOCKTAG {
        // SAFETY: MyDatabaseId is this backend's database.
        locktag_field1: unsafe { pg_sys::MyDatabaseId }.to_u32(),
        locktag_field2: u32::from_be_bytes(*b"fenc"),
        locktag_field3: u32::from_be_bytes(*b"seal"),
        locktag_field4: 3,
        locktag_type: pg_sys::LockTagType::LOCKTAG_ADVISORY as u8,
        locktag_lockmethodid: pg_sys::USER_LOCKMETHOD as u8,
    }
}

/// Whether `mode` on `tag` is free now: a try-lock, released at once when it was taken. A
/// session-level one needs no transaction.
fn lock_free(tag: &pg_sys::LOCKTAG, mode: u32, session: bool) -> bool {
    // SAFETY: a conditional acquire never waits; a lock taken here is released before
    // returning, at the level it was taken.
    unsafe {
        if pg_sys::LockAcquire(tag, mode as i32, session, true) == pg_sys::LockAcquireResult::LOCKACQUIRE_NOT_AVAIL {
            return false;
        }
        pg_sys::LockRelease(tag, mode as i32, session);
        true
    }
}

/// Whether a sealer is running for this database (holds its lock).
fn sealer_running() -> bool {
    !lock_free(&sealer_tag(), pg_sys::ExclusiveLock, false)
}

/// Makes this worker the database's sealer (its lock, held until the process exits); false
/// when another sealer runs.
pub fn claim_sealer() -> bool {
    let tag = sealer_tag();
    // SAFETY: a session-level try-lock; user locks are released when the process exits.
    unsafe {
        pg_sys::LockAcquire(&tag, pg_sys::ExclusiveLock as i32, true, true)
            != pg_sys::LockAcquireResult::LOCKACQUIRE_NOT_AVAIL
    }
}

/// Whether a session waits to have this database to itself: DROP DATABASE, CREATE DATABASE
/// with it as template, ALTER DATABASE RENAME or SET TABLESPACE. Each holds a lock on the
/// database that conflicts with the one every connection takes as it starts, and then waits a
/// few seconds for the other connections to end.
fn database_wanted() -> bool {
    let tag = pg_sys::LOCKTAG {
        // A shared object (pg_database): no database in the tag, as LockSharedObject builds it.
        locktag_field1: pg_sys::InvalidOid.to_u32(),
        locktag_field2: pg_sys::DatabaseRelationId.to_u32(),
        // SAFETY: MyDatabaseId is this backend's database.
        locktag_field3: unsafe { pg_sys::MyDatabaseId }.to_u32(),
        locktag_field4: 0,
        locktag_type: pg_sys::LockTagType::LOCKTAG_OBJECT as u8,
        locktag_lockmethodid: pg_sys::DEFAULT_LOCKMETHOD as u8,
    };
    // Outside a transaction (the worker sleeps between them): a session-level try-lock.
    !lock_free(&tag, pg_sys::RowExclusiveLock, true)
}

/// Sleeps on the latch until `interval()` has passed, honouring interrupts (SIGTERM ends the
/// worker); false, at once, when a session wants the database to itself (see
/// `database_wanted`): the worker then leaves. It wakes at least every second, to see that and
/// to take in a reloaded configuration (SIGHUP) and the interval as it is then: a shorter
/// `fence.seal_interval` in postgresql.conf reaches a sleeping sealer within a second of the
/// reload.
pub fn sleep(interval: impl Fn() -> Duration) -> bool {
    let start = Instant::now();
    loop {
        if database_wanted() {
            return false;
        }
        // SAFETY: ConfigReloadPending is set by this process's SIGHUP handler; re-reading the
        // configuration files between transactions is what every auxiliary process does.
        unsafe {
            if pg_sys::ConfigReloadPending != 0 {
                pg_sys::ConfigReloadPending = 0;
                pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP);
            }
        }
        let left = interval().saturating_sub(start.elapsed());
        if left.is_zero() {
            return true;
        }
        nap(left.min(Duration::from_secs(1)).as_millis() as i64)
    }
}

/// Registration fails while every worker slot is taken: retry until the deadline.
fn register(segment: pg_sys::dsm_handle, start: Instant, deadline: Duration) -> Option<DynamicBackgroundWorker> {
    loop {
        let worker = worker("fence denial writer", "fence_denial_worker", pg_sys::Datum::from(segment), true);
        if let Ok(worker) = worker.load_dynamic() {
            return Some(worker);
        }
        if start.elapsed() >= deadline {
            return None;
        }
        nap(20);
    }
}

/// Sleeps on our latch (woken early by the postmaster's notifications), honouring interrupts
/// unless they are held (the denied session's wait in `run`: a cancel only wakes it).
fn nap(ms: i64) {
    // SAFETY: MyLatch is this backend's latch; the wait ends on timeout, latch or postmaster
    // death; a pending cancel (when not held) raises an ordinary ERROR.
    unsafe {
        pg_sys::WaitLatch(
            pg_sys::MyLatch,
            (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
            ms as std::ffi::c_long,
            pg_sys::PG_WAIT_EXTENSION,
        );
        pg_sys::ResetLatch(pg_sys::MyLatch);
        pg_sys::check_for_interrupts!();
    }
}

/// Waits (at most until the deadline, then ends it) for the worker to exit.
fn wait_for_exit(worker: DynamicBackgroundWorker, start: Instant, deadline: Duration) {
    loop {
        if let Err(BackgroundWorkerStatus::Stopped | BackgroundWorkerStatus::PostmasterDied) = worker.pid() {
            return;
        }
        if start.elapsed() >= deadline {
            // The worker dies at its next interrupt check (it uses die()).
            worker.terminate();
            return;
        }
        nap(5);
    }
}

/// Whether this session holds a lock on `relation` at least as strong as `mode`.
pub fn locked_by_me(relation: pg_sys::Oid, mode: u32) -> bool {
    // SAFETY: reads this backend's local lock table.
    unsafe { pg_sys::CheckRelationOidLockedByMe(relation, mode as i32, true) }
}

unsafe extern "C-unwind" {
    /// PostgreSQL's SIGTERM handler for backends: the next interrupt check ends the process
    /// (pgrx's handler only sets a flag, and a terminated worker would still commit).
    fn die(signal: std::ffi::c_int);
    /// PostgreSQL's SIGHUP handler: sets `ConfigReloadPending` and the process's latch.
    #[link_name = "SignalHandlerForConfigReload"]
    fn reload_on_sighup(signal: std::ffi::c_int);
}

/// A worker's first step: SIGTERM ends it at the next interrupt check, then signals flow.
///
/// # Safety
/// Only at the start of a background worker's entry point.
unsafe fn catch_sigterm() {
    // SAFETY: per the caller.
    unsafe {
        super::compat::set_signal_handler(pg_sys::SIGTERM as i32, die);
        pg_sys::BackgroundWorkerUnblockSignals();
    }
}

/// A denial writer's job, as the denied session wrote it into the shared segment (detached
/// when the job is dropped).
pub struct DenialJob {
    segment: *mut pg_sys::dsm_segment,
    header: *const Header,
    pub payload: String,
    /// The extension owner, whose role the writes take.
    pub owner: pg_sys::Oid,
    /// Whether the session holds no lock the chain append needs.
    pub chain: bool,
}

impl DenialJob {
    /// Tells the session the denial is committed to `fence.pending_denials`.
    pub fn parked(&self) {
        // SAFETY: the header stays mapped until the job is dropped.
        unsafe { (*self.header).progress.store(PARKED, Ordering::Release) }
    }

    /// Tells the session the denial is in the chain.
    pub fn chained(&self) {
        // SAFETY: as `parked`.
        unsafe { (*self.header).progress.store(CHAINED, Ordering::Release) }
    }
}

impl Drop for DenialJob {
    fn drop(&mut self) {
        // SAFETY: the segment was attached by `denial_job` and is detached once.
        unsafe { pg_sys::dsm_detach(self.segment) }
    }
}

/// Starts a denial writer: SIGTERM ends it, its job is read from the session's segment, and
/// it connects to the session's database. None when the session gave up waiting (the segment
/// is gone).
///
/// # Safety
/// Only at the start of the denial writer's entry point, with its argument.
pub unsafe fn denial_job(arg: pg_sys::Datum) -> Option<DenialJob> {
    // SAFETY: standard background worker start-up: die() makes SIGTERM interrupt SPI; the
    // segment stays mapped until the job detaches it; the header was written before
    // registration.
    unsafe {
        catch_sigterm();
        let segment = pg_sys::dsm_attach(arg.value() as pg_sys::dsm_handle);
        if segment.is_null() {
            return None;
        }
        let base = pg_sys::dsm_segment_address(segment) as *const u8;
        let header = base.cast::<Header>();
        let bytes = std::slice::from_raw_parts(base.add(std::mem::size_of::<Header>()), (*header).len as usize);
        let payload = String::from_utf8_lossy(bytes).into_owned();
        // As the bootstrap superuser (no login check: the extension owner may be NOLOGIN);
        // the writes themselves run as the owner.
        pg_sys::BackgroundWorkerInitializeConnectionByOid(pg_sys::Oid::from((*header).database), pg_sys::InvalidOid, 0);
        Some(DenialJob {
            segment,
            header,
            payload,
            owner: pg_sys::Oid::from((*header).owner),
            chain: (*header).chain != 0,
        })
    }
}

/// Starts the sealer: SIGHUP only sets a flag it reads between rounds, SIGTERM ends it, and it
/// connects to the database it was started for.
///
/// # Safety
/// Only at the start of the sealer's entry point, with its argument.
pub unsafe fn sealer_start(arg: pg_sys::Datum) {
    // SAFETY: standard background worker start-up, as for the denial writer.
    unsafe {
        super::compat::set_signal_handler(pg_sys::SIGHUP as i32, reload_on_sighup);
        catch_sigterm();
        pg_sys::BackgroundWorkerInitializeConnectionByOid(pg_sys::Oid::from(arg.value() as u32), pg_sys::InvalidOid, 0);
    }
}

/// Runs `f` in its own READ COMMITTED transaction of this background worker, whatever
/// `default_transaction_isolation` says: each query sees what committed before it (the sealer
/// must see the last seal once it holds the chain's lock).
pub fn transaction<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: only called from the worker, outside any transaction. The isolation level is
    // set before the transaction's first snapshot, as SET TRANSACTION ISOLATION LEVEL does.
    unsafe {
        pg_sys::SetCurrentStatementStartTimestamp();
        pg_sys::StartTransactionCommand();
        pg_sys::XactIsoLevel = pg_sys::XACT_READ_COMMITTED as i32;
        pg_sys::PushActiveSnapshot(pg_sys::GetTransactionSnapshot());
    }
    // An ERROR in `f` ends the worker process, whose exit aborts the transaction.
    let result = f();
    // SAFETY: pops the snapshot pushed above and commits the transaction started above.
    unsafe {
        pg_sys::PopActiveSnapshot();
        pg_sys::CommitTransactionCommand();
    }
    result
}
