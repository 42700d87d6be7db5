//! What differs between the PostgreSQL versions fence builds for (Cargo features `pg15` …
//! `pg18`), kept here, next to the server: the rest of `ffi` names these instead of the
//! version's own spelling.

use pgrx::pg_sys::{self, AlterTableType as At};

/// ALTER TABLE's recursing subcommands, which PostgreSQL 16 folded into the plain ones (the
/// recursion became `AlterTableCmd.recurse`). From 16 on they are values no subcommand has.
#[cfg(feature = "pg15")]
pub mod recurse {
    use super::At;
    pub const ADD_COLUMN: At::Type = At::AT_AddColumnRecurse;
    pub const DROP_COLUMN: At::Type = At::AT_DropColumnRecurse;
    pub const ADD_CONSTRAINT: At::Type = At::AT_AddConstraintRecurse;
    pub const VALIDATE_CONSTRAINT: At::Type = At::AT_ValidateConstraintRecurse;
    pub const DROP_CONSTRAINT: At::Type = At::AT_DropConstraintRecurse;
}

/// ALTER TABLE's recursing subcommands: PostgreSQL 16 and later have none.
#[cfg(not(feature = "pg15"))]
pub mod recurse {
    use super::At;
    pub const ADD_COLUMN: At::Type = At::Type::MAX;
    pub const DROP_COLUMN: At::Type = At::Type::MAX - 1;
    pub const ADD_CONSTRAINT: At::Type = At::Type::MAX - 2;
    pub const VALIDATE_CONSTRAINT: At::Type = At::Type::MAX - 3;
    pub const DROP_CONSTRAINT: At::Type = At::Type::MAX - 4;
}

/// Parses a possibly qualified, possibly quoted name into a list of String nodes (an invalid
/// one raises PostgreSQL's error; PostgreSQL 16 added a soft-error context, left NULL).
///
/// # Safety
/// `text` must be a NUL-terminated string.
pub unsafe fn qualified_name_list(text: *const std::ffi::c_char) -> *mut pg_sys::List {
    #[cfg(feature = "pg15")]
    // SAFETY: per the caller.
    let list = unsafe { pg_sys::stringToQualifiedNameList(text) };
    #[cfg(not(feature = "pg15"))]
    // SAFETY: per the caller; no soft-error context: errors are raised.
    let list = unsafe { pg_sys::stringToQualifiedNameList(text, std::ptr::null_mut()) };
    list
}

/// This backend's local transaction id (PostgreSQL 17 moved it into `PGPROC.vxid`).
pub fn local_transaction_id() -> u32 {
    #[cfg(any(feature = "pg15", feature = "pg16"))]
    // SAFETY: MyProc is set for every regular backend.
    let lxid = unsafe { (*pg_sys::MyProc).lxid };
    #[cfg(not(any(feature = "pg15", feature = "pg16")))]
    // SAFETY: MyProc is set for every regular backend.
    let lxid = unsafe { (*pg_sys::MyProc).vxid.lxid };
    lxid
}

/// The attribute at 0-based `index` of a tuple descriptor (PostgreSQL 18 put compact
/// attributes before them, reached through `TupleDescAttr`).
///
/// # Safety
/// `desc` must be valid and `index < natts`.
pub unsafe fn attribute<'a>(desc: pg_sys::TupleDesc, index: usize) -> &'a pg_sys::FormData_pg_attribute {
    #[cfg(not(feature = "pg18"))]
    // SAFETY: per the caller; the attributes follow the descriptor's header.
    let attr = unsafe { &*(*desc).attrs.as_ptr().add(index) };
    #[cfg(feature = "pg18")]
    // SAFETY: per the caller.
    let attr = unsafe { &*pg_sys::TupleDescAttr(desc, index as i32) };
    attr
}

/// The 1-based number of the live attribute named `name` (of type `type_oid`, when given), if
/// the descriptor has one; names are compared in place.
///
/// # Safety
/// `desc` must be valid.
pub unsafe fn attribute_number(desc: pg_sys::TupleDesc, name: &str, type_oid: Option<pg_sys::Oid>) -> Option<i32> {
    // SAFETY: per the caller; every index is below the attribute count.
    let natts = unsafe { (*desc).natts } as usize;
    (0..natts)
        .find(|&i| {
            // SAFETY: as above.
            let attr = unsafe { attribute(desc, i) };
            // SAFETY: a NameData is NUL-terminated.
            let attname = unsafe { std::ffi::CStr::from_ptr(attr.attname.data.as_ptr()) };
            !attr.attisdropped && type_oid.is_none_or(|t| attr.atttypid == t) && attname.to_bytes() == name.as_bytes()
        })
        .map(|i| i as i32 + 1)
}

/// The table's primary key index (InvalidOid: none), a deferrable one not counted (as before
/// PostgreSQL 18, which made that a choice).
///
/// # Safety
/// `rel` must be an open relation.
pub unsafe fn primary_key_index(rel: pg_sys::Relation) -> pg_sys::Oid {
    #[cfg(not(feature = "pg18"))]
    // SAFETY: per the caller.
    let index = unsafe { pg_sys::RelationGetPrimaryKeyIndex(rel) };
    #[cfg(feature = "pg18")]
    // SAFETY: per the caller.
    let index = unsafe { pg_sys::RelationGetPrimaryKeyIndex(rel, false) };
    index
}

/// Installs a signal handler in this process (a background worker's first steps).
///
/// # Safety
/// Only in a background worker's start-up, before signals are unblocked.
pub unsafe fn set_signal_handler(signal: i32, handler: unsafe extern "C-unwind" fn(std::ffi::c_int)) {
    #[cfg(not(feature = "pg18"))]
    // SAFETY: per the caller.
    unsafe {
        pg_sys::pqsignal(signal, Some(handler))
    };
    #[cfg(feature = "pg18")]
    // SAFETY: per the caller (PostgreSQL 18's pqsignal is a macro for this).
    unsafe {
        pg_sys::pqsignal_be(signal, Some(handler))
    };
}

/// After a direct `index_insert`: PostgreSQL 17 lets an access method keep state between
/// inserts of one statement (a block-range index keeps its revmap pinned) and release it in
/// `index_insert_cleanup`, which the executor calls when it closes its indexes; a direct
/// insert must call it itself. Before 17 there is nothing to release.
///
/// # Safety
/// `index` must be the open index `info` was built for, right after an insert into it.
pub unsafe fn index_insert_done(index: pg_sys::Relation, info: *mut pg_sys::IndexInfo) {
    #[cfg(not(any(feature = "pg15", feature = "pg16")))]
    // SAFETY: per the caller.
    unsafe {
        pg_sys::index_insert_cleanup(index, info)
    };
    #[cfg(any(feature = "pg15", feature = "pg16"))]
    let _ = (index, info);
}

/// The index entries of the row in `slot`, just inserted into the result relation's table
/// (not an update, no speculative insertion, every index).
///
/// # Safety
/// `info` must have its indexes open (`ExecOpenIndices`), `slot` hold the inserted row and
/// `estate` be the executor state the caller made for the insert.
pub unsafe fn insert_index_tuples(
    info: *mut pg_sys::ResultRelInfo,
    slot: *mut pg_sys::TupleTableSlot,
    estate: *mut pg_sys::EState,
) {
    let (conflict, arbiters) = (std::ptr::null_mut(), std::ptr::null_mut());
    #[cfg(feature = "pg15")]
    // SAFETY: per the caller.
    let conflicts = unsafe { pg_sys::ExecInsertIndexTuples(info, slot, estate, false, false, conflict, arbiters) };
    #[cfg(not(feature = "pg15"))]
    // SAFETY: per the caller; every index, not only summarizing ones.
    let conflicts =
        unsafe { pg_sys::ExecInsertIndexTuples(info, slot, estate, false, false, conflict, arbiters, false) };
    // Only the checks a deferrable unique index defers are listed: such an index comes with
    // an INSERT trigger, and the caller's table has none.
    if !conflicts.is_null() {
        super::error::Error::new(
            pgrx::PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            "fence: an index deferred a uniqueness check that a direct insert cannot make",
        )
        .raise();
    }
}

/// Whether event triggers fire for REINDEX (from PostgreSQL 17 on): then the ProcessUtility
/// hook leaves it to them, as it does every other command they see.
pub const EVENT_TRIGGERS_SEE_REINDEX: bool = cfg!(not(any(feature = "pg15", feature = "pg16")));

/// Whether the `event_triggers` setting (PostgreSQL 17 on; superuser-only) lets event
/// triggers fire in this session. Before 17 there is no such setting.
pub fn event_triggers_enabled() -> bool {
    #[cfg(not(any(feature = "pg15", feature = "pg16")))]
    // SAFETY: reads the backend's current setting.
    let enabled = unsafe { pg_sys::event_triggers };
    #[cfg(any(feature = "pg15", feature = "pg16"))]
    let enabled = true;
    enabled
}

/// Whether a `GENERATED ALWAYS AS (...)` constraint makes a virtual column (PostgreSQL 18,
/// its default kind): computed when read, nothing stored. Before 18 every one is stored.
pub fn generated_virtual(constraint: &pg_sys::Constraint) -> bool {
    #[cfg(feature = "pg18")]
    let virtual_column = constraint.generated_kind as u8 == b'v';
    #[cfg(not(feature = "pg18"))]
    let virtual_column = {
        let _ = constraint;
        false
    };
    virtual_column
}

/// Whether a CHECK or FOREIGN KEY constraint is declared `NOT ENFORCED` (PostgreSQL 18):
/// existing rows are not checked. The parser sets `is_enforced` for those two kinds only (a
/// NOT NULL or UNIQUE constraint leaves it false). Before 18 every constraint is enforced.
pub fn not_enforced(constraint: &pg_sys::Constraint) -> bool {
    #[cfg(feature = "pg18")]
    let not_enforced =
        matches!(constraint.contype, pg_sys::ConstrType::CONSTR_CHECK | pg_sys::ConstrType::CONSTR_FOREIGN)
            && !constraint.is_enforced;
    #[cfg(not(feature = "pg18"))]
    let not_enforced = {
        let _ = constraint;
        false
    };
    not_enforced
}

/// The constraint an `ALTER CONSTRAINT` subcommand names and the `[NOT] ENFORCED` it sets
/// (PostgreSQL 18, where the name is in the subcommand's definition): Some((name, enforced))
/// when it changes enforceability, None otherwise (and always before 18).
pub(super) fn alter_constraint_enforced(cmd: &pg_sys::AlterTableCmd) -> Option<(String, bool)> {
    #[cfg(feature = "pg18")]
    let enforced = super::nodes::cast::<pg_sys::ATAlterConstraint, _>(cmd.def)
        .filter(|alter| alter.alterEnforceability)
        .map(|alter| (super::nodes::cstr(alter.conname).unwrap_or_default(), alter.is_enforced));
    #[cfg(not(feature = "pg18"))]
    let enforced = {
        let _ = cmd;
        None
    };
    enforced
}

/// `ALTER COLUMN ... SET EXPRESSION AS (...)` (PostgreSQL 17 on); before 17 a value no
/// subcommand has.
#[cfg(not(any(feature = "pg15", feature = "pg16")))]
pub const SET_EXPRESSION: At::Type = At::AT_SetExpression;
#[cfg(any(feature = "pg15", feature = "pg16"))]
pub const SET_EXPRESSION: At::Type = At::Type::MAX - 5;

/// The session's `transaction_timeout` in milliseconds (PostgreSQL 17 on; 0 = off, and always
/// 0 before 17).
pub fn transaction_timeout_ms() -> i64 {
    #[cfg(not(any(feature = "pg15", feature = "pg16")))]
    // SAFETY: reads the backend's current setting.
    let timeout = i64::from(unsafe { pg_sys::TransactionTimeout });
    #[cfg(any(feature = "pg15", feature = "pg16"))]
    let timeout = 0;
    timeout
}

/// `index_beginscan` without scan keys or ordering operators (PostgreSQL 18 added an
/// instrumentation argument).
///
/// # Safety
/// As `index_beginscan`: open relations, a registered snapshot.
pub unsafe fn index_beginscan(
    table: pg_sys::Relation,
    index: pg_sys::Relation,
    snapshot: pg_sys::Snapshot,
) -> pg_sys::IndexScanDesc {
    #[cfg(feature = "pg18")]
    // SAFETY: per the caller; no instrumentation.
    let scan = unsafe { pg_sys::index_beginscan(table, index, snapshot, std::ptr::null_mut(), 0, 0) };
    #[cfg(not(feature = "pg18"))]
    // SAFETY: per the caller.
    let scan = unsafe { pg_sys::index_beginscan(table, index, snapshot, 0, 0) };
    scan
}

/// The PostgreSQL major version fence was built for (and runs on).
pub const MAJOR: u32 = pg_sys::PG_MAJORVERSION_NUM;

#[cfg(feature = "pg15")]
unsafe extern "C-unwind" {
    /// nodes/nodeFuncs.c of PostgreSQL 15 (its old-style walker pointer keeps it out of
    /// pgrx's bindings); 16 renamed it `raw_expression_tree_walker_impl`.
    #[link_name = "raw_expression_tree_walker"]
    fn raw_expression_tree_walker_impl(
        node: *mut pg_sys::Node,
        walker: Option<unsafe extern "C-unwind" fn(*mut pg_sys::Node, *mut std::ffi::c_void) -> bool>,
        context: *mut std::ffi::c_void,
    ) -> bool;
}
#[cfg(not(feature = "pg15"))]
use pg_sys::raw_expression_tree_walker_impl;

/// Calls `walker` on each child of a raw parse tree node (PostgreSQL's
/// `raw_expression_tree_walker`); true when the walker stopped the walk.
///
/// # Safety
/// `node` must be a raw parse tree node the walker knows (queries and their expressions) and
/// `context` what `walker` expects.
pub unsafe fn raw_expression_tree_walker(
    node: *mut pg_sys::Node,
    walker: Option<unsafe extern "C-unwind" fn(*mut pg_sys::Node, *mut std::ffi::c_void) -> bool>,
    context: *mut std::ffi::c_void,
) -> bool {
    // SAFETY: per the caller; an ERROR raised inside crosses back through pgrx's FFI guard.
    unsafe { pg_sys::ffi::pg_guard_ffi_boundary(|| raw_expression_tree_walker_impl(node, walker, context)) }
}
