//! Row-level change audit: `fence.track_table` / `fence.untrack_table`, and what the row
//! trigger records for each change of a tracked table. The writer hashes each change in its
//! own backend and inserts it into its month's partition of `fence.row_changes`; no lock is
//! shared between writers (sealing into the chain happens later, see `seal`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use fence_core::rows::{Month, RowChange};
use pgrx::datum::DatumWithOid;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgRelation;
use rustc_hash::FxHashMap;
use serde_json::json;

use crate::errors;
use crate::events;
use crate::ffi::rowstore::{StoreTable, StoredChange};
use crate::ffi::rowtrigger::{self, Firing, Image, Operation, Projection, Style};
use crate::ffi::{guc, relcache, security, worker, xact};
use crate::gate;
use crate::plans;
use crate::queries;
use crate::store::as_owner;

/// A tracked table as the trigger needs it (cached per backend until the table or its
/// tracking changes).
struct Tracked {
    table_id: i32,
    relation: String,
    key: Projection,
    row: Projection,
}

// The writer's caches are looked up at every change: hashed with FxHash, not SipHash (their
// keys are OIDs and months, not chosen by clients).
thread_local! {
    static TRACKED: RefCell<FxHashMap<pg_sys::Oid, Rc<Tracked>>> = RefCell::new(FxHashMap::default());
    /// The partition each month's changes go to (the default partition when the month has none).
    static PARTITIONS: RefCell<FxHashMap<Month, Rc<StoreTable>>> = RefCell::new(FxHashMap::default());
    /// How many relcache invalidations this backend has taken in (see `partition`).
    static INVALIDATIONS: Cell<u64> = const { Cell::new(0) };
    /// `fence.tracked_tables`' OID and whether any table is tracked now (dropped when that
    /// table is invalidated: every change of a tracking announces it).
    static ANY_TRACKED: Cell<Option<(pg_sys::Oid, bool)>> = const { Cell::new(None) };
    /// (top-level transaction, changes recorded in it so far).
    static ORDINAL: Cell<(u32, i32)> = const { Cell::new((0, 0)) };
    /// The partition this (sub)transaction holds the insert lock on (see `partition`).
    static LOCKED: Cell<Option<((u32, u32), pg_sys::Oid)>> = const { Cell::new(None) };
    /// When this backend last looked for a running sealer (and started one if none ran).
    static LAST_SEALER: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Drops what was cached about `relation` (InvalidOid: everything). Called by the relcache
/// invalidation callback; must never raise.
pub fn forget_cached(relation: pg_sys::Oid) {
    INVALIDATIONS.with(|n| n.set(n.get().wrapping_add(1)));
    ANY_TRACKED.with(|a| {
        if a.get().is_some_and(|(table, _)| relation == table || relation == pg_sys::InvalidOid) {
            a.set(None);
        }
    });
    if relation == pg_sys::InvalidOid {
        TRACKED.with(|t| t.borrow_mut().clear());
        PARTITIONS.with(|p| p.borrow_mut().clear());
        return;
    }
    TRACKED.with(|t| t.borrow_mut().remove(&relation));
    // A new partition changes the default partition's bounds: look every month up again.
    PARTITIONS.with(|p| {
        let mut partitions = p.borrow_mut();
        if partitions.values().any(|table| table.oid == relation) {
            partitions.clear();
        }
    });
}

fn not_tracked(relation: &str) -> ! {
    errors::raise(
        PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        format!("fence: {relation} has fence's row trigger but is not tracked"),
        None,
        Some(format!("SELECT fence.track_table('{relation}'); or SELECT fence.untrack_table('{relation}');")),
    )
}

/// The live tracking of `relid` (its own, or its nearest tracked ancestor's), as its fence row
/// trigger names it: the tracking id, the excluded columns, and whether the tracking records
/// another OID (the table came back from a dump: see `relink_restored`).
fn tracking(relid: pg_sys::Oid) -> Option<(i32, Vec<String>, bool)> {
    // As of now: a REPEATABLE READ transaction must not miss a tracking begun since it started.
    crate::store::owner_read(|| {
        Spi::connect(|client| {
            let rows = plans::select(client, queries::TRACKED_TABLE, &[relid.into()])?;
            match rows.into_iter().next() {
                Some(row) => Ok(Some((
                    row.get::<i32>(1)?.unwrap_or_default(),
                    row.get::<Vec<String>>(2)?.unwrap_or_default(),
                    row.get::<bool>(3)?.unwrap_or_default(),
                ))),
                None => Ok::<_, pgrx::spi::Error>(None),
            }
        })
    })
    .unwrap_or_else(|e| errors::spi(e))
}

/// Moves the trackings of tables restored from a dump (new OIDs; their triggers still name
/// their trackings) to the tables' new OIDs, each move chained. Run before a session first
/// records a change of a table whose tracking records another OID, and by track_table and
/// untrack_table.
fn relink_restored() {
    let moved = as_owner(|| {
        Spi::connect_mut(|client| {
            plans::update(client, queries::RELINK_TRACKED, &[])?
                .map(|row| {
                    Ok((
                        row.get::<i32>(1)?.unwrap_or_default(),
                        row.get::<pg_sys::Oid>(2)?.unwrap_or_default(),
                        row.get::<pg_sys::Oid>(3)?.unwrap_or_default(),
                    ))
                })
                .collect::<Result<Vec<_>, pgrx::spi::Error>>()
        })
    })
    .unwrap_or_else(|e| errors::spi(e));
    for (id, old_relid, relid) in moved {
        let relation = relcache::relation_name(relid).unwrap_or_else(|| relid.to_u32().to_string());
        events::record_under_policy(
            "row_tracking",
            Some(&relation),
            None,
            json!({
                "action": "relink", "tracking_id": id, "old_relid": old_relid.to_u32(), "relid": relid.to_u32(),
                "why": "the table's OID changed (restored from a dump); its trigger still names this tracking",
            }),
        );
    }
}

/// Whether `relid`'s changes are recorded now (tracked itself or through a partitioned table
/// it is a partition of): fence's triggers on it are then guarded.
pub fn is_tracked(relid: pg_sys::Oid) -> bool {
    tracking(relid).is_some()
}

/// How `relid` is tracked: as a table of its own or as a partition of a tracked partitioned
/// table (the nearest tracked ancestor's tracking). None for a TRUNCATE of a table no longer
/// tracked that way (a partition since detached keeps its TRUNCATE trigger); any other firing
/// on an untracked table is refused.
fn tracked(relid: pg_sys::Oid, truncate: bool) -> Option<Rc<Tracked>> {
    if let Some(tracked) = TRACKED.with(|t| t.borrow().get(&relid).cloned()) {
        return Some(tracked);
    }
    let relation = relcache::relation_name(relid).unwrap_or_else(|| relid.to_u32().to_string());
    let Some((mut table_id, mut excluded, stale)) = tracking(relid) else {
        return if truncate { None } else { not_tracked(&relation) };
    };
    if stale {
        relink_restored();
        match tracking(relid) {
            Some((id, columns, false)) => (table_id, excluded) = (id, columns),
            _ => shared_tracking(&relation, table_id),
        }
    }
    let key = rowtrigger::key_columns(relid).unwrap_or_else(|| no_key(&relation, true));
    let columns: Vec<String> = rowtrigger::column_names(relid).into_iter().filter(|c| !excluded.contains(c)).collect();
    let tracked = Rc::new(Tracked {
        table_id,
        relation,
        key: rowtrigger::projection(relid, &key, Style::JsonbText),
        row: rowtrigger::projection(relid, &columns, Style::Json),
    });
    TRACKED.with(|t| t.borrow_mut().insert(relid, tracked.clone()));
    Some(tracked)
}

fn shared_tracking(relation: &str, id: i32) -> ! {
    errors::raise(
        PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        format!("fence: the row trigger of {relation} names tracking {id}, which another table's trigger names too"),
        None,
        Some(format!("Track it again under a tracking of its own: SELECT fence.track_table('{relation}');")),
    )
}

fn no_key(relation: &str, tracked: bool) -> ! {
    let now = if tracked { "is tracked but no longer has" } else { "has" };
    errors::raise(
        PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        format!("fence: {relation} {now} no primary key or replica identity index: its rows cannot be told apart"),
        None,
        Some(format!(
            "ALTER TABLE {relation} ADD PRIMARY KEY (...); or ALTER TABLE {relation} REPLICA IDENTITY USING INDEX <a unique index>;"
        )),
    )
}

/// The position of the next change in the current top-level transaction.
fn next_ordinal() -> i32 {
    let transaction = xact::local_transaction_id();
    ORDINAL.with(|o| {
        let (current, last) = o.get();
        let next = if current == transaction { last + 1 } else { 1 };
        o.set((transaction, next));
        next
    })
}

/// The partition of `fence.row_changes` holding `month`, locked for the insert (the lock is
/// taken once per subtransaction: one that aborts releases the locks it took).
fn partition(month: Month) -> Rc<StoreTable> {
    let holder = xact::local_subtransaction_id();
    loop {
        let seen = INVALIDATIONS.with(Cell::get);
        let cached = PARTITIONS.with(|p| p.borrow().get(&month).cloned());
        let table = cached.unwrap_or_else(|| {
            let oid = relcache::fence_relation_oid(&month.partition())
                .or_else(|| relcache::fence_relation_oid("row_changes_default"))
                .unwrap_or_else(|| errors::not_installed());
            let table = Rc::new(StoreTable::load(oid));
            PARTITIONS.with(|p| p.borrow_mut().insert(month, table.clone()));
            table
        });
        if LOCKED.with(Cell::get) == Some((holder, table.oid)) {
            return table;
        }
        // Taking the lock (first time in a transaction) takes in pending invalidations: if one
        // came in since the look-up (a partition just created for this month changes the
        // default partition's bounds), the month is looked up again, so that no change lands
        // in a partition whose bounds exclude it.
        table.lock();
        if INVALIDATIONS.with(Cell::get) == seen {
            LOCKED.with(|l| l.set(Some((holder, table.oid))));
            return table;
        }
    }
}

/// Records one firing of the row trigger.
pub fn record(firing: &Firing) {
    let Some(tracked) = tracked(firing.relid, firing.operation == Operation::Truncate) else { return };
    // An UPDATE keeps the old values of the columns it changed (the others are in the new
    // row); one that changed only excluded columns (or nothing) records nothing.
    let changed = (firing.operation == Operation::Update).then(|| firing.changed(&tracked.row));
    if changed.as_ref().is_some_and(Vec::is_empty) {
        return;
    }
    let old_values = firing.row_image(Image::Old, &tracked.row, changed.as_deref());
    let new_row = firing.row_image(Image::New, &tracked.row, None);
    let (row_key, old_key) = match firing.operation {
        Operation::Insert => (firing.key_image(Image::New, &tracked.key), None),
        Operation::Delete => (firing.key_image(Image::Old, &tracked.key), None),
        Operation::Update if firing.unchanged(&tracked.key) => (firing.key_image(Image::New, &tracked.key), None),
        Operation::Update => {
            let (new, old) = (firing.key_image(Image::New, &tracked.key), firing.key_image(Image::Old, &tracked.key));
            // Byte-wise different but printed alike (e.g. a value stored compressed): same key.
            let moved = old != new;
            (new, old.filter(|_| moved))
        }
        Operation::Truncate => (None, None),
    };
    let changed_at_us = xact::now_unix_us();
    let session_role = security::session_role();
    let actor = guc::actor();
    let (application_name, client_addr) = (security::application_name(), events::client_addr());
    let (backend_pid, txid, ordinal) = (security::backend_pid(), xact::full_transaction_id(), next_ordinal());
    let operation = firing.operation.as_str();
    let change = RowChange {
        table_id: i64::from(tracked.table_id),
        relation: &tracked.relation,
        operation,
        row_key: row_key.as_deref(),
        old_key: old_key.as_deref(),
        old_values: old_values.as_deref(),
        new_row: new_row.as_deref(),
        actor: actor.as_deref().unwrap_or(&session_role),
        session_role: &session_role,
        application_name: &application_name,
        client_addr: &client_addr,
        backend_pid,
        txid,
        ordinal,
        changed_at_us,
    };
    StoredChange { change: &change, row_hash: &change.hash() }.insert(&partition(Month::of(changed_at_us)));
}

/// Pre-commit of a transaction that recorded changes: start the sealer unless one runs (checked
/// at most every `fence.seal_interval`, also when no worker slot was free: commits do not queue
/// on the postmaster's worker slots; the sealer runs on its own and never delays this commit).
pub fn before_commit() {
    let transaction = xact::local_transaction_id();
    if ORDINAL.with(|o| o.get().0 != transaction) {
        return;
    }
    let interval = Duration::from_secs(guc::seal_interval_s());
    if LAST_SEALER.with(|l| l.get().is_some_and(|at| at.elapsed() < interval)) {
        return;
    }
    LAST_SEALER.with(|l| l.set(Some(Instant::now())));
    if !worker::sealer_running() {
        worker::start_sealer();
    }
}

/// The months whose partitions `track_table` and the sealer keep ready: this one and the next two.
pub fn ensure_partitions() {
    let mut month = Month::of(xact::now_unix_us());
    for _ in 0..3 {
        let start = xact::timestamptz(month.start_us());
        gate::internal(|| Spi::get_one_with_args::<bool>("SELECT fence.create_row_partition($1)", &[start.into()]))
            .unwrap_or_else(|e| errors::spi(e));
        month = month.next();
    }
}

/// The argument's OID and name; its relcache reference is closed (ALTER TABLE refuses a
/// table this session has open). The lock stays until the transaction ends.
fn close_relation(tbl: PgRelation) -> (pg_sys::Oid, String) {
    let relid = tbl.oid();
    let relation = relcache::relation_name(relid).unwrap_or_else(|| tbl.name().to_string());
    drop(tbl);
    (relid, relation)
}

/// The end of tracking or untracking a table: its triggers installed or removed by `triggers`
/// (fence's own DDL, not gated), every session told, the act chained.
fn apply_tracking(
    relid: pg_sys::Oid,
    relation: &str,
    triggers: &str,
    args: &[DatumWithOid],
    details: serde_json::Value,
) {
    gate::internal(|| Spi::run_with_args(triggers, args)).unwrap_or_else(|e| errors::spi(e));
    announce_tracking_change(relid);
    events::record_under_policy("row_tracking", Some(relation), None, details);
}

/// Other sessions' trigger caches read the new tracking of `relid` and of its partitions (each
/// partition's row trigger is cached under the partition), and whether any table is tracked.
fn announce_tracking_change(relid: pg_sys::Oid) {
    relcache::announce_change(relid);
    announce_trackings();
    let partitions = Spi::connect(|client| {
        client
            .select(queries::PARTITIONS, None, &[relid.into()])?
            .map(|r| r.get::<pg_sys::Oid>(1))
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .unwrap_or_else(|e| errors::spi(e));
    partitions.into_iter().flatten().for_each(relcache::announce_change);
}

/// The tracked partitioned table `relid` is a partition of (at any depth), if any.
fn tracked_ancestor(relid: pg_sys::Oid) -> Option<String> {
    as_owner(|| plans::select_one::<String>(queries::TRACKED_ANCESTOR, &[relid.into()]))
        .unwrap_or_else(|e| errors::spi(e))
}

/// After a statement that created or attached a partition (ddl_command_end): a partition under
/// a tracked partitioned table gets its TRUNCATE trigger (its row trigger is cloned by
/// PostgreSQL). Nothing to do before the row audit's tables exist (releases before 0.3.0).
pub fn cover_new_partitions() {
    if relcache::fence_relation_oid("tracked_tables").is_none() {
        return;
    }
    as_owner(|| gate::internal(|| Spi::run(queries::COVER_NEW_PARTITIONS))).unwrap_or_else(|e| errors::spi(e));
}

/// A tracked table whose row audit a statement would break, and how.
pub struct Harm {
    pub relation: String,
    pub why: String,
}

fn first_harm(query: &'static str, args: &[pgrx::datum::DatumWithOid]) -> Option<Harm> {
    relcache::fence_relation_oid("tracked_tables")?;
    crate::store::owner_read(|| {
        Spi::connect(|client| {
            let rows = plans::select(client, query, args)?;
            match rows.into_iter().next() {
                Some(row) => Ok(Some(Harm {
                    relation: row.get::<String>(1)?.unwrap_or_default(),
                    why: row.get::<String>(2)?.unwrap_or_default(),
                })),
                None => Ok::<_, pgrx::spi::Error>(None),
            }
        })
    })
    .unwrap_or_else(|e| errors::spi(e))
}

/// ddl_command_start: a tracked table whose stored values an enum value's rename would change
/// unrecorded, or whose only key a dropped index is.
pub fn harmed_by(renamed_enum: Option<pg_sys::Oid>, dropped_indexes: Vec<pg_sys::Oid>) -> Option<Harm> {
    // Not from the cached flag: at ddl_command_start the statement has taken no lock yet, so
    // a tracking committed a moment ago may not have reached this backend's caches (these
    // statements are rare; the query reads as of now).
    first_harm(queries::ROW_AUDIT_DEPENDENCIES, &[renamed_enum.into(), dropped_indexes.into()])
}

/// Every session looks up again whether any table is tracked (see `any_tracked`).
fn announce_trackings() {
    if let Some(table) = relcache::fence_relation_oid("tracked_tables") {
        relcache::announce_change(table);
    }
}

/// Whether any table is tracked now (cached until a tracking changes): DDL in a database with
/// no tracked table skips the row-audit checks.
fn any_tracked() -> bool {
    relcache::accept_invalidations();
    if let Some((_, any)) = ANY_TRACKED.with(Cell::get) {
        return any;
    }
    let Some(table) = relcache::fence_relation_oid("tracked_tables") else { return false };
    // Kept only if no invalidation arrived while reading (it may concern this very flag).
    let seen = INVALIDATIONS.with(Cell::get);
    let any = crate::store::owner_read(|| plans::select_one::<bool>(queries::ANY_TRACKED, &[]))
        .unwrap_or_else(|e| errors::spi(e))
        .unwrap_or(false);
    if INVALIDATIONS.with(Cell::get) == seen {
        ANY_TRACKED.with(|a| a.set(Some((table, any))));
    }
    any
}

/// After a statement (ddl_command_end or sql_drop, `touched` naming the relations it touched):
/// a tracked table whose row audit it broke (its row trigger replaced, gone or not firing, no
/// key left, an untracked table inheriting from it).
pub fn harmed(touched: &'static str) -> Option<Harm> {
    if !any_tracked() {
        return None;
    }
    let relids: Vec<pg_sys::Oid> = as_owner(|| {
        Spi::connect(|client| {
            plans::select(client, touched, &[])?
                .filter_map(|row| row.get::<pg_sys::Oid>(1).transpose())
                .collect::<Result<Vec<_>, pgrx::spi::Error>>()
        })
    })
    .unwrap_or_else(|e| errors::spi(e));
    if relids.is_empty() {
        return None;
    }
    first_harm(queries::ROW_AUDIT_HARM, &[relids.into()])
}

/// sql_drop: the tracking of each tracked table the statement dropped ends (its history
/// stays), each end chained. Nothing to do before the row audit's tables exist (releases
/// before 0.3.0).
pub fn untrack_dropped() {
    if relcache::fence_relation_oid("tracked_tables").is_none() {
        return;
    }
    let by = security::session_role();
    let now = xact::timestamptz(xact::now_unix_us());
    let ended = as_owner(|| {
        Spi::connect_mut(|client| {
            plans::update(client, queries::UNTRACK_DROPPED, &[now.into(), (&*by).into()])?
                .map(|row| Ok((row.get::<i32>(1)?.unwrap_or_default(), row.get::<String>(2)?.unwrap_or_default())))
                .collect::<Result<Vec<_>, pgrx::spi::Error>>()
        })
    })
    .unwrap_or_else(|e| errors::spi(e));
    if !ended.is_empty() {
        announce_trackings();
    }
    for (id, relation) in ended {
        events::record_under_policy(
            "row_tracking",
            Some(&relation),
            None,
            json!({"action": "untrack", "tracking_id": id, "why": "the table was dropped"}),
        );
    }
}

/// Ends the table's current tracking period, if any; returns its id.
fn close_tracking(relid: pg_sys::Oid, now: TimestampWithTimeZone, by: &str) -> Option<i32> {
    Spi::connect_mut(|client| {
        let closed = plans::update(client, queries::UNTRACK, &[relid.into(), now.into(), by.into()])?;
        closed.into_iter().next().map(|r| r.get::<i32>(1)).transpose().map(Option::flatten)
    })
    .unwrap_or_else(|e| errors::spi(e))
}

/// Starts (or, with other excluded columns, renews) the row audit of a table; returns the
/// tracking id.
#[pg_extern]
fn track_table(tbl: PgRelation, exclude_columns: default!(Vec<String>, "'{}'")) -> i32 {
    let (relid, relation) = close_relation(tbl);
    match relcache::kind_and_persistence(relid) {
        (b'r' | b'p', b't') => {
            errors::invalid_parameter(&format!("{relation} is a temporary table: it cannot be tracked"), None)
        }
        (b'r' | b'p', _) => {}
        _ => errors::invalid_parameter(&format!("{relation} is not a table"), None),
    }
    if let Some(ancestor) = tracked_ancestor(relid) {
        errors::invalid_parameter(
            &format!("{relation} is a partition of {ancestor}, which is tracked: its changes are recorded already"),
            Some(&format!("SELECT fence.untrack_table('{ancestor}'); first, to track the partition on its own.")),
        );
    }
    if relation.starts_with("fence.") {
        errors::invalid_parameter("fence's own tables are audited by the chain, not tracked", None);
    }
    let key = rowtrigger::key_columns(relid).unwrap_or_else(|| no_key(&relation, false));
    let columns = rowtrigger::column_names(relid);
    let mut excluded: Vec<String> = Vec::new();
    for column in exclude_columns {
        if !columns.contains(&column) {
            errors::not_found(format!("column \"{column}\" of {relation} does not exist"), None);
        } else if key.contains(&column) {
            errors::invalid_parameter(
                &format!("column \"{column}\" is part of the key of {relation}: it cannot be excluded"),
                None,
            );
        } else if !excluded.contains(&column) {
            excluded.push(column);
        }
    }
    let by = security::session_role();
    let now = xact::timestamptz(xact::now_unix_us());
    as_owner(|| {
        relink_restored();
        let previous = close_tracking(relid, now, &by);
        let id = Spi::connect_mut(|client| {
            let args = [
                relid.into(),
                relation.as_str().into(),
                key.clone().into(),
                excluded.clone().into(),
                (&*by).into(),
                now.into(),
            ];
            let inserted = plans::update(client, queries::INSERT_TRACKED, &args)?;
            Ok::<_, pgrx::spi::Error>(inserted.into_iter().next().and_then(|r| r.get::<i32>(1).ok().flatten()))
        })
        .unwrap_or_else(|e| errors::spi(e))
        .unwrap_or_default();
        ensure_partitions();
        apply_tracking(
            relid,
            &relation,
            "SELECT fence.install_row_triggers($1, $2)",
            &[relid.into(), id.into()],
            json!({
                "action": "track", "tracking_id": id, "previous_tracking_id": previous, "key_columns": key,
                "exclude_columns": excluded, "lock": "ShareRowExclusiveLock",
            }),
        );
        id
    })
}

/// Ends the row audit of a table (its recorded history stays); returns the tracking id.
#[pg_extern]
fn untrack_table(tbl: PgRelation) -> i32 {
    let (relid, relation) = close_relation(tbl);
    let by = security::session_role();
    let now = xact::timestamptz(xact::now_unix_us());
    as_owner(|| {
        relink_restored();
        let id = close_tracking(relid, now, &by)
            .unwrap_or_else(|| errors::not_found(format!("{relation} is not tracked"), None));
        apply_tracking(
            relid,
            &relation,
            "SELECT fence.remove_row_triggers($1)",
            &[relid.into()],
            json!({"action": "untrack", "tracking_id": id}),
        );
        id
    })
}
