//! Parse-tree mapping of the commands event triggers never see — TRUNCATE, LOCK TABLE,
//! VACUUM / ANALYZE, CLUSTER, REINDEX — analyzed by `fence.analyze` and, when fence is
//! preloaded, gated by the ProcessUtility hook.

use fence_core::lock::LockMode;
use fence_core::model::{ReindexTarget, RelationName, StatementKind};
use pgrx::pg_sys::{self, NodeTag as T};

use super::nodes::{cstr, list_nodes, range_var, string_value, tag};

/// Whether the node is one of these commands.
pub fn is_maintenance(node: *mut pg_sys::Node) -> bool {
    // SAFETY: reads the node tag of a valid parse tree.
    let tag = unsafe { tag(node) };
    match tag {
        T::T_TruncateStmt | T::T_LockStmt | T::T_VacuumStmt | T::T_ClusterStmt => true,
        T::T_ReindexStmt => !super::compat::EVENT_TRIGGERS_SEE_REINDEX,
        _ => false,
    }
}

/// The statement model of one of these commands (None for any other node).
pub fn statement_kind(node: *mut pg_sys::Node) -> Option<StatementKind> {
    // SAFETY: each arm casts only after checking the node tag; the lists hold the node types
    // the grammar produces for them (RangeVar, VacuumRelation, DefElem).
    unsafe {
        Some(match tag(node) {
            T::T_TruncateStmt => {
                let stmt = &*(node as *mut pg_sys::TruncateStmt);
                StatementKind::Truncate {
                    relations: range_vars(stmt.relations),
                    cascade: stmt.behavior == pg_sys::DropBehavior::DROP_CASCADE,
                }
            }
            T::T_LockStmt => {
                let stmt = &*(node as *mut pg_sys::LockStmt);
                StatementKind::LockTable { relations: range_vars(stmt.relations), mode: lock_mode(stmt.mode) }
            }
            T::T_VacuumStmt => {
                let stmt = &*(node as *mut pg_sys::VacuumStmt);
                let relations = list_nodes(stmt.rels)
                    .into_iter()
                    .filter(|n| tag(*n) == T::T_VacuumRelation)
                    .filter_map(|n| range_var((*(n as *mut pg_sys::VacuumRelation)).relation))
                    .collect();
                StatementKind::Vacuum { relations, full: stmt.is_vacuumcmd && option(stmt.options, "full") }
            }
            T::T_ClusterStmt => {
                let stmt = &*(node as *mut pg_sys::ClusterStmt);
                StatementKind::Cluster { relation: range_var(stmt.relation) }
            }
            T::T_ReindexStmt => {
                let stmt = &*(node as *mut pg_sys::ReindexStmt);
                let target = match stmt.kind {
                    pg_sys::ReindexObjectType::REINDEX_OBJECT_INDEX => ReindexTarget::Index,
                    pg_sys::ReindexObjectType::REINDEX_OBJECT_TABLE => ReindexTarget::Table,
                    pg_sys::ReindexObjectType::REINDEX_OBJECT_SCHEMA => ReindexTarget::Schema,
                    _ => ReindexTarget::Many,
                };
                StatementKind::Reindex {
                    target,
                    relation: range_var(stmt.relation),
                    concurrently: option(stmt.params, "concurrently"),
                    schema: if target == ReindexTarget::Schema { cstr(stmt.name) } else { None },
                }
            }
            _ => return None,
        })
    }
}

unsafe fn range_vars(list: *mut pg_sys::List) -> Vec<RelationName> {
    // SAFETY: the caller passes a list of RangeVar nodes.
    unsafe { list_nodes(list).into_iter().filter_map(|n| range_var(n as *mut pg_sys::RangeVar)).collect() }
}

/// A boolean option of a DefElem list (`FULL`, `(FULL false)`, `CONCURRENTLY`), read the
/// way `defGetBoolean` does: no argument means true.
unsafe fn option(list: *mut pg_sys::List, name: &str) -> bool {
    // SAFETY: the caller passes a list of DefElem nodes.
    unsafe {
        list_nodes(list).into_iter().filter(|n| tag(*n) == T::T_DefElem).any(|n| {
            let def = &*(n as *mut pg_sys::DefElem);
            if cstr(def.defname).as_deref() != Some(name) {
                return false;
            }
            if def.arg.is_null() {
                return true;
            }
            match tag(def.arg) {
                T::T_Integer => (*(def.arg as *mut pg_sys::Integer)).ival != 0,
                T::T_Boolean => (*(def.arg as *mut pg_sys::Boolean)).boolval,
                _ => string_value(def.arg)
                    .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "on" | "1")),
            }
        })
    }
}

fn lock_mode(mode: i32) -> LockMode {
    match mode as u32 {
        pg_sys::AccessShareLock => LockMode::AccessShare,
        pg_sys::RowShareLock => LockMode::RowShare,
        pg_sys::RowExclusiveLock => LockMode::RowExclusive,
        pg_sys::ShareUpdateExclusiveLock => LockMode::ShareUpdateExclusive,
        pg_sys::ShareLock => LockMode::Share,
        pg_sys::ShareRowExclusiveLock => LockMode::ShareRowExclusive,
        pg_sys::ExclusiveLock => LockMode::Exclusive,
        _ => LockMode::AccessExclusive,
    }
}
