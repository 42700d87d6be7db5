//! Keeps the row audit on: a statement that would drop, disable, re-enable in another mode or
//! rename fence's row trigger on a tracked table (or a partition of one) is refused whoever
//! sends it (approvals and exemptions do not apply); `fence.untrack_table` is the way to stop
//! tracking. This module finds such statements; the caller checks the table is tracked. It
//! also names what a statement changes outside the table that its row audit depends on.

use pgrx::pg_sys::{self, AlterTableType as At, NodeTag as T, ObjectType as Ob};

use fence_core::model::RelationName;

use super::nodes::{cast, cstr, nodes, nodes_of, range_var, strings, tag};
use super::relcache::{relation_oid, with_relation};

/// Whether `trigger` on `relid` is fence's row trigger; with `None`, whether any trigger of
/// `relid` is.
fn is_fence_trigger(relid: pg_sys::Oid, trigger: Option<&str>) -> bool {
    // SAFETY: the trigger descriptor (NULL when the table has no trigger) is read while the
    // entry is open; the function's name and schema come from the syscache.
    with_relation(relid, |rel| unsafe {
        let desc = (*rel).trigdesc;
        let triggers: &[pg_sys::Trigger] = if desc.is_null() {
            &[]
        } else {
            std::slice::from_raw_parts((*desc).triggers, (*desc).numtriggers as usize)
        };
        triggers.iter().any(|t| {
            let ours = cstr(pg_sys::get_func_name(t.tgfoid)).as_deref() == Some("record_row_change")
                && cstr(pg_sys::get_namespace_name(pg_sys::get_func_namespace(t.tgfoid))).as_deref() == Some("fence");
            ours && trigger.is_none_or(|name| cstr(t.tgname).as_deref() == Some(name))
        })
    })
    .unwrap_or(false)
}

/// The table (OID and name) whose fence trigger the statement would drop, disable or rename,
/// if any.
pub fn tampering(node: *mut pg_sys::Node) -> Option<(pg_sys::Oid, String)> {
    trigger_targets(node).into_iter().find_map(|(table, trigger)| {
        let relid = relation_oid(&table)?;
        is_fence_trigger(relid, trigger.as_deref()).then(|| (relid, table.to_string()))
    })
}

/// The triggers a statement drops, renames, makes depend on an extension, enables or
/// disables: (table, trigger), or (table, None) for all of a table's triggers.
fn trigger_targets(node: *mut pg_sys::Node) -> Vec<(RelationName, Option<String>)> {
    let named = |table: Option<RelationName>, trigger: Option<String>| {
        table.zip(trigger).map(|(table, name)| (table, Some(name))).into_iter().collect()
    };
    match tag(node) {
        T::T_DropStmt => cast(node).map(dropped_triggers).unwrap_or_default(),
        T::T_RenameStmt => match cast::<pg_sys::RenameStmt, _>(node) {
            Some(stmt) if stmt.renameType == Ob::OBJECT_TRIGGER => named(range_var(stmt.relation), cstr(stmt.subname)),
            _ => Vec::new(),
        },
        // ALTER TRIGGER ... DEPENDS ON EXTENSION: dropping the extension would drop it.
        T::T_AlterObjectDependsStmt => match cast::<pg_sys::AlterObjectDependsStmt, _>(node) {
            Some(stmt) if stmt.objectType == Ob::OBJECT_TRIGGER => {
                named(range_var(stmt.relation), strings(stmt.object).pop())
            }
            _ => Vec::new(),
        },
        T::T_AlterTableStmt => cast(node).map(switched_triggers).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// DROP TRIGGER: each object is [schema,] table, trigger.
fn dropped_triggers(stmt: &pg_sys::DropStmt) -> Vec<(RelationName, Option<String>)> {
    if stmt.removeType != Ob::OBJECT_TRIGGER {
        return Vec::new();
    }
    nodes(stmt.objects)
        .into_iter()
        .filter_map(|object| {
            let mut names = strings(object);
            let trigger = names.pop()?;
            let table = match names.as_slice() {
                [table] => RelationName::new(None, table),
                [.., schema, table] => RelationName::new(Some(schema.as_str()), table),
                [] => return None,
            };
            Some((table, Some(trigger)))
        })
        .collect()
}

/// ALTER TABLE ... ENABLE / DISABLE TRIGGER: the triggers named, or all of them (most ALTER
/// TABLEs touch no trigger: that is decided from the subcommands alone).
fn switched_triggers(stmt: &pg_sys::AlterTableStmt) -> Vec<(RelationName, Option<String>)> {
    let mut named = Vec::new();
    let mut all = false;
    for cmd in nodes_of::<pg_sys::AlterTableCmd, _>(stmt.cmds) {
        match cmd.subtype {
            At::AT_EnableTrig | At::AT_EnableAlwaysTrig | At::AT_EnableReplicaTrig | At::AT_DisableTrig => {
                named.extend(cstr(cmd.name))
            }
            At::AT_EnableTrigAll | At::AT_DisableTrigAll | At::AT_EnableTrigUser | At::AT_DisableTrigUser => all = true,
            _ => {}
        }
    }
    if named.is_empty() && !all {
        return Vec::new();
    }
    let Some(table) = range_var(stmt.relation) else { return Vec::new() };
    if all {
        vec![(table, None)]
    } else {
        named.into_iter().map(|name| (table.clone(), Some(name))).collect()
    }
}

/// What the statement changes that a tracked table's row audit may depend on, resolved on
/// the session's search path: the enum whose value `ALTER TYPE ... RENAME VALUE` renames, the
/// indexes `DROP INDEX` drops.
pub fn dependencies(node: *mut pg_sys::Node) -> Option<(Option<pg_sys::Oid>, Vec<pg_sys::Oid>)> {
    match tag(node) {
        T::T_AlterEnumStmt => {
            let stmt: &pg_sys::AlterEnumStmt = cast(node)?;
            if stmt.oldVal.is_null() {
                return None;
            }
            // SAFETY: the statement's type name (a list of String nodes); with missing_ok,
            // LookupTypeNameOid returns InvalidOid for a missing type.
            let oid = unsafe {
                let name = pg_sys::makeTypeNameFromNameList(stmt.typeName);
                pg_sys::LookupTypeNameOid(std::ptr::null_mut(), name, true)
            };
            (oid != pg_sys::InvalidOid).then_some((Some(oid), Vec::new()))
        }
        T::T_DropStmt => {
            let stmt = cast::<pg_sys::DropStmt, _>(node).filter(|s| s.removeType == Ob::OBJECT_INDEX)?;
            let indexes = nodes(stmt.objects)
                .into_iter()
                .filter_map(|object| {
                    let mut names = strings(object);
                    let name = names.pop()?;
                    relation_oid(&RelationName::new(names.last().map(String::as_str), &name))
                })
                .collect();
            Some((None, indexes))
        }
        _ => None,
    }
}
