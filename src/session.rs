//! What a session keeps for its current transaction, in one place, cleared in one place
//! (`lifecycle`, from the transaction callbacks): the audit events not yet chained, the
//! statements being executed with their text, what the transaction's statements did so far
//! (for the rules that look across statements), and how many row changes it recorded. Also
//! the flag that marks fence's own DDL, and the client's address.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use fence_core::chain::AuditEvent;
use fence_core::model::RelationName;
use pgrx::pg_sys;

use crate::db::{self, queries};

/// An event of the current transaction, not chained yet.
pub struct Pending {
    /// The (sub)transaction nesting level it belongs to.
    pub level: i32,
    /// Complete but for `seq` (assigned when appended) and `txid` (known at commit); None
    /// for a statement private to the session, never chained.
    pub event: Option<AuditEvent>,
    /// A DDL decision waiting for its ddl_command_end.
    pub awaiting_end: bool,
    /// What the statement is checked against when it ends.
    pub checks: EndChecks,
}

/// What a decision assumed that the statement's later event triggers check.
#[derive(Debug, Clone, Default)]
pub struct EndChecks {
    /// Relations the decision found missing (see `Analysis::missing`).
    pub missing: Vec<RelationName>,
    /// Tables the decision judged empty (see `Analysis::empty`).
    pub empty: Vec<RelationName>,
    /// The relations the decision knew the statement locks (`schema.name`), when it
    /// classified the statement: a table or view dropped beyond them was not decided.
    pub locked: Option<Vec<String>>,
    /// The decision took the statement for a no-op (see `Analysis::noop`): it must create,
    /// drop and rewrite nothing.
    pub noop: bool,
    /// An index ON ONLY a partitioned table: it must build no index of a table.
    pub builds_nothing: bool,
}

/// A utility statement being executed.
pub struct Frame {
    pub node: *mut pg_sys::Node,
    pub text: String,
    pub top_level: bool,
    /// The (sub)transaction nesting level the statement started in: an error that skips
    /// the statement's end drops its frame with the (sub)transaction it aborts.
    pub level: i32,
}

/// The session's state for its current transaction.
#[derive(Default)]
pub struct Transaction {
    pub pending: Vec<Pending>,
    pub frames: Vec<Frame>,
    /// What the transaction's statements did, for transaction-level rules.
    pub analysis: fence_core::rules::Transaction,
    /// Row changes recorded in the transaction so far (the last one's ordinal).
    pub row_changes: i32,
    /// A CREATE SCHEMA is running its elements (set at its ddl_command_start, cleared at its
    /// ddl_command_end): the hook gates them, as no event trigger sees them.
    pub creating_schema: bool,
}

thread_local! {
    static TRANSACTION: RefCell<Transaction> = RefCell::new(Transaction::default());
}

/// Runs `f` on the current transaction's state (`f` must not call back into `with`).
pub fn with<R>(f: impl FnOnce(&mut Transaction) -> R) -> R {
    TRANSACTION.with(|t| f(&mut t.borrow_mut()))
}

/// Reads the current transaction's state, unless it is being changed (a hook of the server
/// called while `with` runs): then None.
pub fn peek<R>(f: impl FnOnce(&Transaction) -> R) -> Option<R> {
    TRANSACTION.with(|t| t.try_borrow().ok().map(|t| f(&t)))
}

/// The transaction committed, was prepared or aborted: its state goes. A statement's frame
/// stays at commit (a procedure's COMMIT runs inside its CALL). Must never raise.
pub fn transaction_ended(aborted: bool) {
    with(|t| {
        t.pending.clear();
        t.analysis = Default::default();
        t.row_changes = 0;
        if aborted {
            t.frames.clear();
        }
    });
}

/// A subtransaction at `level` aborted: its events and the frames of the statements it
/// interrupted go with it. Must never raise.
pub fn subtransaction_aborted(level: i32) {
    with(|t| {
        t.pending.retain(|e| e.level < level);
        t.frames.retain(|f| f.level < level);
    });
}

/// A subtransaction at `level` committed: its events belong to its parent.
pub fn subtransaction_committed(level: i32) {
    with(|t| {
        for event in t.pending.iter_mut().filter(|e| e.level >= level) {
            event.level = level - 1;
        }
    });
}

thread_local! {
    /// Set while fence runs its own DDL (row triggers, partitions): not gated, not recorded
    /// as DDL — the tracking, sealing and retention events say what happened.
    static INTERNAL: Cell<bool> = const { Cell::new(false) };
}

struct EndInternal(bool);

impl Drop for EndInternal {
    fn drop(&mut self) {
        INTERNAL.with(|i| i.set(self.0));
    }
}

/// Runs fence's own DDL (see INTERNAL); only fence's Rust code can set this.
pub fn internal<R>(f: impl FnOnce() -> R) -> R {
    let _end = EndInternal(INTERNAL.with(|i| i.replace(true)));
    f()
}

/// Whether the DDL now running is fence's own.
pub fn is_internal() -> bool {
    INTERNAL.with(Cell::get)
}

thread_local! {
    static CLIENT_ADDR: RefCell<Option<Rc<str>>> = const { RefCell::new(None) };
}

/// The client's address ("local" for a Unix socket), read once per backend.
pub fn client_addr() -> Rc<str> {
    if let Some(addr) = CLIENT_ADDR.with(|c| c.borrow().clone()) {
        return addr;
    }
    let addr: Rc<str> =
        db::select_value::<String>(queries::CLIENT_ADDR, &[], "host").unwrap_or_else(|| "local".to_string()).into();
    CLIENT_ADDR.with(|c| *c.borrow_mut() = Some(addr.clone()));
    addr
}
