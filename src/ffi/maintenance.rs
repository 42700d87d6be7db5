//! Parse-tree mapping of the commands event triggers never see — TRUNCATE, LOCK TABLE,
//! VACUUM / ANALYZE, CLUSTER, REINDEX — analyzed by `fence.analyze` and, when fence is
//! preloaded, gated by the ProcessUtility hook.

use fence_core::lock::LockMode;
use fence_core::model::{ReindexTarget, RelationName, StatementKind};
use pgrx::pg_sys::{self, NodeTag as T};

use super::nodes::{cast, cstr, nodes, nodes_of, range_var, string_value, tag};

/// Whether the node is one of these commands.
pub fn is_maintenance(node: *mut pg_sys::Node) -> bool {
    match tag(node) {
        T::T_TruncateStmt | T::T_LockStmt | T::T_VacuumStmt | T::T_ClusterStmt => true,
        T::T_ReindexStmt => !super::compat::EVENT_TRIGGERS_SEE_REINDEX,
        _ => false,
    }
}

/// The statement model of one of these commands (None for any other node).
pub fn statement_kind(node: *mut pg_sys::Node) -> Option<StatementKind> {
    Some(match tag(node) {
        T::T_TruncateStmt => {
            let stmt: &pg_sys::TruncateStmt = cast(node)?;
            StatementKind::Truncate {
                relations: range_vars(stmt.relations),
                cascade: stmt.behavior == pg_sys::DropBehavior::DROP_CASCADE,
            }
        }
        T::T_LockStmt => {
            let stmt: &pg_sys::LockStmt = cast(node)?;
            StatementKind::LockTable { relations: range_vars(stmt.relations), mode: lock_mode(stmt.mode) }
        }
        T::T_VacuumStmt => {
            let stmt: &pg_sys::VacuumStmt = cast(node)?;
            let relations = nodes_of::<pg_sys::VacuumRelation, _>(stmt.rels)
                .into_iter()
                .filter_map(|rel| range_var(rel.relation))
                .collect();
            StatementKind::Vacuum { relations, full: stmt.is_vacuumcmd && option(stmt.options, "full") }
        }
        T::T_ClusterStmt => {
            StatementKind::Cluster { relation: range_var(cast::<pg_sys::ClusterStmt, _>(node)?.relation) }
        }
        T::T_ReindexStmt => {
            let stmt: &pg_sys::ReindexStmt = cast(node)?;
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

fn range_vars(list: *mut pg_sys::List) -> Vec<RelationName> {
    nodes(list).into_iter().filter_map(range_var).collect()
}

/// A boolean option of a DefElem list (`FULL`, `(FULL false)`, `CONCURRENTLY`), read the
/// way `defGetBoolean` does: no argument means true.
fn option(list: *mut pg_sys::List, name: &str) -> bool {
    nodes_of::<pg_sys::DefElem, _>(list).into_iter().any(|def| {
        if cstr(def.defname).as_deref() != Some(name) {
            return false;
        }
        if def.arg.is_null() {
            return true;
        }
        if let Some(integer) = cast::<pg_sys::Integer, _>(def.arg) {
            return integer.ival != 0;
        }
        if let Some(boolean) = cast::<pg_sys::Boolean, _>(def.arg) {
            return boolean.boolval;
        }
        string_value(def.arg).is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "on" | "1"))
    })
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
