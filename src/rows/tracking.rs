//! Tracking and untracking tables: the tracking periods in `fence.tracked_tables`, fence's
//! triggers on the table (installed and removed as fence's own DDL), the partitions changes
//! go to, and the chain events that say so.

use pgrx::pg_sys;
use pgrx::prelude::*;
use serde_json::{json, Value};

use super::cache;
use super::projection;
use crate::db::owner::{as_owner, owner_read};
use crate::db::{self, queries, Arg};
use crate::errors;
use crate::ffi::{relcache, security, xact};
use crate::governance::policy;
use crate::session;
use fence_core::rows::Month;

/// The live tracking of `relid` (its own, or its nearest tracked ancestor's), as its fence row
/// trigger names it: the tracking id, the excluded columns, and whether the tracking records
/// another OID (the table came back from a dump: see `relink_restored`).
pub fn tracking(relid: pg_sys::Oid) -> Option<(i32, Vec<String>, bool)> {
    // As of now: a REPEATABLE READ transaction must not miss a tracking begun since it started.
    owner_read(|| {
        db::select_first(queries::TRACKED_TABLE, &[relid.into()], |row| {
            (
                row.get::<i32>("id").unwrap_or_default(),
                row.get::<Vec<String>>("exclude_columns").unwrap_or_default(),
                row.get::<bool>("stale").unwrap_or_default(),
            )
        })
    })
}

/// Moves the trackings of tables restored from a dump (new OIDs; their triggers still name
/// their trackings) to the tables' new OIDs, each move chained. Run before a session first
/// records a change of a table whose tracking records another OID, and by track_table and
/// untrack_table.
pub fn relink_restored() {
    let moved = as_owner(|| {
        db::write(queries::RELINK_TRACKED, &[], |row| {
            (
                row.get::<i32>("id").unwrap_or_default(),
                row.get::<pg_sys::Oid>("old_relid").unwrap_or_default(),
                row.get::<pg_sys::Oid>("new_relid").unwrap_or_default(),
            )
        })
    });
    for (id, old_relid, relid) in moved {
        let relation = relcache::relation_name(relid).unwrap_or_else(|| relid.to_u32().to_string());
        policy::record_event(
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

pub fn no_key(relation: &str, tracked: bool) -> ! {
    let now = if tracked { "is tracked but no longer has" } else { "has" };
    errors::prerequisite(format!(
        "{relation} {now} no primary key or replica identity index: its rows cannot be told apart"
    ))
    .hint(format!(
        "ALTER TABLE {relation} ADD PRIMARY KEY (...); or ALTER TABLE {relation} REPLICA IDENTITY USING INDEX <a unique index>;"
    ))
    .raise()
}

/// The months whose partitions `track_table` and the sealer keep ready: this one and the next two.
pub fn ensure_partitions() {
    let mut month = Month::of(xact::now_unix_us());
    for _ in 0..3 {
        let start = xact::timestamptz(month.start_us());
        session::internal(|| db::execute(queries::CREATE_ROW_PARTITION, &[start.into()]));
        month = month.next();
    }
}

/// The end of tracking or untracking a table: its triggers installed or removed by `triggers`
/// (fence's own DDL, not gated), every session told, the act chained.
fn apply_tracking(relid: pg_sys::Oid, relation: &str, triggers: &'static str, args: &[Arg], details: Value) {
    session::internal(|| db::execute(triggers, args));
    announce_tracking_change(relid);
    policy::record_event("row_tracking", Some(relation), None, details);
}

/// Other sessions' trigger caches read the new tracking of `relid` and of its partitions (each
/// partition's row trigger is cached under the partition), and whether any table is tracked.
fn announce_tracking_change(relid: pg_sys::Oid) {
    relcache::announce_change(relid);
    announce_trackings();
    let partitions = db::select(queries::PARTITIONS, &[relid.into()], |row| row.get::<pg_sys::Oid>("relid"));
    partitions.into_iter().flatten().for_each(relcache::announce_change);
}

/// Every session looks up again whether any table is tracked (see `any_tracked`).
fn announce_trackings() {
    if let Some(table) = relcache::fence_relation_oid("tracked_tables") {
        relcache::announce_change(table);
    }
}

/// The tracked partitioned table `relid` is a partition of (at any depth), if any.
fn tracked_ancestor(relid: pg_sys::Oid) -> Option<String> {
    as_owner(|| db::select_value::<String>(queries::TRACKED_ANCESTOR, &[relid.into()], "relation"))
}

/// After a statement that created or attached a partition (ddl_command_end): a partition under
/// a tracked partitioned table gets its TRUNCATE trigger (its row trigger is cloned by
/// PostgreSQL). Nothing to do before the row audit's tables exist (releases before 0.3.0).
pub fn cover_new_partitions() {
    if relcache::fence_relation_oid("tracked_tables").is_none() {
        return;
    }
    as_owner(|| session::internal(|| db::execute(queries::COVER_NEW_PARTITIONS, &[])));
}

/// Whether any table is tracked now (cached until a tracking changes): DDL in a database with
/// no tracked table skips the row-audit checks.
pub fn any_tracked() -> bool {
    relcache::accept_invalidations();
    if let Some(any) = cache::any_tracked() {
        return any;
    }
    let Some(table) = relcache::fence_relation_oid("tracked_tables") else { return false };
    // Kept only if no invalidation arrived while reading (it may concern this very flag).
    let seen = cache::invalidations();
    let any = owner_read(|| db::select_value::<bool>(queries::ANY_TRACKED, &[], "exists")).unwrap_or(false);
    if cache::invalidations() == seen {
        cache::keep_any_tracked(table, any);
    }
    any
}

/// sql_drop: the tracking of each tracked table the statement dropped ends (its history
/// stays), each end chained. Nothing to do when no table is tracked (nor before the row
/// audit's tables exist: releases before 0.3.0).
pub fn untrack_dropped() {
    if !any_tracked() {
        return;
    }
    let by = security::session_role();
    let now = xact::timestamptz(xact::now_unix_us());
    let ended = as_owner(|| {
        db::write(queries::UNTRACK_DROPPED, &[now.into(), (&*by).into()], |row| {
            (row.get::<i32>("id").unwrap_or_default(), row.text("relation"))
        })
    });
    if !ended.is_empty() {
        announce_trackings();
    }
    for (id, relation) in ended {
        policy::record_event(
            "row_tracking",
            Some(&relation),
            None,
            json!({"action": "untrack", "tracking_id": id, "why": "the table was dropped"}),
        );
    }
}

/// Ends the table's current tracking period, if any; returns its id.
fn close_tracking(relid: pg_sys::Oid, now: TimestampWithTimeZone, by: &str) -> Option<i32> {
    db::write(queries::UNTRACK, &[relid.into(), now.into(), by.into()], |row| row.get::<i32>("id"))
        .into_iter()
        .next()
        .flatten()
}

/// Starts (or, with other excluded columns, renews) the row audit of a table; returns the
/// tracking id.
pub fn track(relid: pg_sys::Oid, relation: String, exclude_columns: Vec<String>) -> i32 {
    match relcache::kind_and_persistence(relid) {
        (b'r' | b'p', b't') => {
            errors::invalid_parameter(format!("{relation} is a temporary table: it cannot be tracked")).raise()
        }
        (b'r' | b'p', _) => {}
        _ => errors::invalid_parameter(format!("{relation} is not a table")).raise(),
    }
    if let Some(ancestor) = tracked_ancestor(relid) {
        errors::invalid_parameter(format!(
            "{relation} is a partition of {ancestor}, which is tracked: its changes are recorded already"
        ))
        .hint(format!("SELECT fence.untrack_table('{ancestor}'); first, to track the partition on its own."))
        .raise();
    }
    if relation.starts_with("fence.") {
        errors::invalid_parameter("fence's own tables are audited by the chain, not tracked").raise();
    }
    let key = projection::key_columns(relid).unwrap_or_else(|| no_key(&relation, false));
    let columns = projection::column_names(relid);
    let mut excluded: Vec<String> = Vec::new();
    for column in exclude_columns {
        if !columns.contains(&column) {
            errors::not_found(format!("column \"{column}\" of {relation} does not exist")).raise();
        } else if key.contains(&column) {
            errors::invalid_parameter(format!(
                "column \"{column}\" is part of the key of {relation}: it cannot be excluded"
            ))
            .raise();
        } else if !excluded.contains(&column) {
            excluded.push(column);
        }
    }
    let by = security::session_role();
    let now = xact::timestamptz(xact::now_unix_us());
    as_owner(|| {
        relink_restored();
        let previous = close_tracking(relid, now, &by);
        let args = [
            relid.into(),
            relation.as_str().into(),
            key.clone().into(),
            excluded.clone().into(),
            (&*by).into(),
            now.into(),
        ];
        let id = db::write(queries::INSERT_TRACKED, &args, |row| row.get::<i32>("id"))
            .into_iter()
            .next()
            .flatten()
            .unwrap_or_default();
        ensure_partitions();
        apply_tracking(
            relid,
            &relation,
            queries::INSTALL_ROW_TRIGGERS,
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
pub fn untrack(relid: pg_sys::Oid, relation: String) -> i32 {
    let by = security::session_role();
    let now = xact::timestamptz(xact::now_unix_us());
    as_owner(|| {
        relink_restored();
        let id = close_tracking(relid, now, &by)
            .unwrap_or_else(|| errors::not_found(format!("{relation} is not tracked")).raise());
        apply_tracking(
            relid,
            &relation,
            queries::REMOVE_ROW_TRIGGERS,
            &[relid.into()],
            json!({"action": "untrack", "tracking_id": id}),
        );
        id
    })
}
