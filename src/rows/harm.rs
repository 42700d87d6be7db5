//! Statements that would break a tracked table's row audit: they are refused whoever sends
//! them (approvals and exemptions do not apply); `fence.untrack_table` is the way to stop
//! tracking.

use pgrx::pg_sys;

use super::tracking;
use crate::db::owner::{as_owner, owner_read};
use crate::db::{self, queries, Arg};
use crate::ffi::relcache;

/// A tracked table whose row audit a statement would break, and how.
pub struct Harm {
    pub relation: String,
    pub why: String,
}

/// Whether `relid`'s changes are recorded now (tracked itself or through a partitioned table
/// it is a partition of): fence's triggers on it are then guarded.
pub fn is_tracked(relid: pg_sys::Oid) -> bool {
    tracking::tracking(relid).is_some()
}

fn first_harm(query: &'static str, args: &[Arg]) -> Option<Harm> {
    relcache::fence_relation_oid("tracked_tables")?;
    owner_read(|| db::select_first(query, args, |row| Harm { relation: row.text("relation"), why: row.text("why") }))
}

/// ddl_command_start: a tracked table whose stored values an enum value's rename would change
/// unrecorded, or whose only key a dropped index is.
pub fn harmed_by(renamed_enum: Option<pg_sys::Oid>, dropped_indexes: Vec<pg_sys::Oid>) -> Option<Harm> {
    // Not from the cached flag: at ddl_command_start the statement has taken no lock yet, so
    // a tracking committed a moment ago may not have reached this backend's caches (these
    // statements are rare; the query reads as of now).
    first_harm(queries::ROW_AUDIT_DEPENDENCIES, &[renamed_enum.into(), dropped_indexes.into()])
}

/// After a statement (ddl_command_end or sql_drop, `touched` naming the relations it touched):
/// a tracked table whose row audit it broke (its row trigger replaced, gone or not firing, no
/// key left, an untracked table inheriting from it).
pub fn harmed(touched: &'static str) -> Option<Harm> {
    if !tracking::any_tracked() {
        return None;
    }
    let relids: Vec<pg_sys::Oid> =
        as_owner(|| db::select(touched, &[], |row| row.get::<pg_sys::Oid>("relid"))).into_iter().flatten().collect();
    if relids.is_empty() {
        return None;
    }
    first_harm(queries::ROW_AUDIT_HARM, &[relids.into()])
}
