//! The commands event triggers never see — TRUNCATE, LOCK TABLE, VACUUM / ANALYZE, CLUSTER,
//! REINDEX — mapped from pg_query's parse tree as the extension maps the server's
//! (src/ffi/maintenance.rs).

use fence_core::lock::LockMode;
use fence_core::model::{ReindexTarget, RelationName, StatementKind};
use pg_query::protobuf::{self, ReindexObjectType as Ro};
use pg_query::NodeEnum as N;

use crate::parse::range_var;

/// The statement model of one of these commands (None for any other node).
pub fn statement_kind(node: &N) -> Option<StatementKind> {
    Some(match node {
        N::TruncateStmt(stmt) => StatementKind::Truncate {
            relations: range_vars(&stmt.relations),
            cascade: stmt.behavior == protobuf::DropBehavior::DropCascade as i32,
        },
        N::LockStmt(stmt) => {
            StatementKind::LockTable { relations: range_vars(&stmt.relations), mode: lock_mode(stmt.mode) }
        }
        N::VacuumStmt(stmt) => StatementKind::Vacuum {
            relations: stmt
                .rels
                .iter()
                .filter_map(|n| match n.node.as_ref() {
                    Some(N::VacuumRelation(v)) => range_var(&v.relation),
                    _ => None,
                })
                .collect(),
            full: stmt.is_vacuumcmd && option(&stmt.options, "full"),
        },
        N::ClusterStmt(stmt) => StatementKind::Cluster { relation: range_var(&stmt.relation) },
        N::ReindexStmt(stmt) => StatementKind::Reindex {
            target: match Ro::try_from(stmt.kind) {
                Ok(Ro::ReindexObjectIndex) => ReindexTarget::Index,
                Ok(Ro::ReindexObjectTable) => ReindexTarget::Table,
                Ok(Ro::ReindexObjectSchema) => ReindexTarget::Schema,
                _ => ReindexTarget::Many,
            },
            relation: range_var(&stmt.relation),
            concurrently: option(&stmt.params, "concurrently"),
            schema: (stmt.kind == Ro::ReindexObjectSchema as i32).then(|| stmt.name.clone()),
        },
        _ => return None,
    })
}

fn range_vars(nodes: &[protobuf::Node]) -> Vec<RelationName> {
    nodes
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(N::RangeVar(rv)) => range_var(&Some(rv.clone())),
            _ => None,
        })
        .collect()
}

/// A boolean option (`FULL`, `(FULL false)`, `CONCURRENTLY`), read the way PostgreSQL's
/// `defGetBoolean` does: no argument means true.
fn option(options: &[protobuf::Node], name: &str) -> bool {
    options.iter().any(|n| {
        let Some(N::DefElem(def)) = n.node.as_ref() else { return false };
        if def.defname != name {
            return false;
        }
        match def.arg.as_ref().and_then(|a| a.node.as_ref()) {
            None => true,
            Some(N::Integer(i)) => i.ival != 0,
            Some(N::Boolean(b)) => b.boolval,
            Some(N::String(s)) => matches!(s.sval.to_ascii_lowercase().as_str(), "true" | "on" | "1"),
            Some(_) => false,
        }
    })
}

/// LOCK TABLE's mode number (lockdefs.h: 1 = ACCESS SHARE ... 8 = ACCESS EXCLUSIVE).
fn lock_mode(mode: i32) -> LockMode {
    match mode {
        1 => LockMode::AccessShare,
        2 => LockMode::RowShare,
        3 => LockMode::RowExclusive,
        4 => LockMode::ShareUpdateExclusive,
        5 => LockMode::Share,
        6 => LockMode::ShareRowExclusive,
        7 => LockMode::Exclusive,
        _ => LockMode::AccessExclusive,
    }
}
