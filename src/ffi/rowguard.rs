//! Keeps the row audit on: a statement that would drop, disable, re-enable in another mode or
//! rename fence's row trigger on a tracked table (or a partition of one) is refused whoever
//! sends it (approvals and exemptions do not apply); `fence.untrack_table` is the way to stop
//! tracking. This module finds such statements; the caller checks the table is tracked. It
//! also names what a statement changes outside the table that its row audit depends on.

use pgrx::pg_sys::{self, AlterTableType as At, NodeTag as T, ObjectType as Ob};

use fence_core::model::RelationName;

use super::nodes::{cstr, list_nodes, range_var, string_value, tag};
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
    // SAFETY: each cast follows its tag check; the name lists hold String nodes.
    unsafe {
        let (relation, trigger) = match tag(node) {
            T::T_DropStmt => {
                let stmt = &*(node as *mut pg_sys::DropStmt);
                if stmt.removeType != Ob::OBJECT_TRIGGER {
                    return None;
                }
                // Each object is [schema,] table, trigger.
                return list_nodes(stmt.objects).into_iter().find_map(|object| {
                    let mut names: Vec<String> =
                        list_nodes(object as *mut pg_sys::List).into_iter().filter_map(|n| string_value(n)).collect();
                    let trigger = names.pop()?;
                    let table = match names.as_slice() {
                        [table] => RelationName::new(None, table),
                        [.., schema, table] => RelationName::new(Some(schema.as_str()), table),
                        [] => return None,
                    };
                    let relid = relation_oid(&table)?;
                    is_fence_trigger(relid, Some(&trigger)).then(|| (relid, table.to_string()))
                });
            }
            T::T_RenameStmt => {
                let stmt = &*(node as *mut pg_sys::RenameStmt);
                if stmt.renameType != Ob::OBJECT_TRIGGER {
                    return None;
                }
                (range_var(stmt.relation)?, Some(cstr(stmt.subname)?))
            }
            // ALTER TRIGGER ... DEPENDS ON EXTENSION: dropping the extension would drop it.
            T::T_AlterObjectDependsStmt => {
                let stmt = &*(node as *mut pg_sys::AlterObjectDependsStmt);
                if stmt.objectType != Ob::OBJECT_TRIGGER {
                    return None;
                }
                let trigger =
                    list_nodes(stmt.object as *mut pg_sys::List).into_iter().filter_map(|n| string_value(n)).last()?;
                (range_var(stmt.relation)?, Some(trigger))
            }
            T::T_AlterTableStmt => {
                // Most ALTER TABLEs touch no trigger: decide that from the subcommands alone.
                let stmt = &*(node as *mut pg_sys::AlterTableStmt);
                let mut named = Vec::new();
                let mut all = false;
                for cmd in list_nodes(stmt.cmds) {
                    let cmd = &*(cmd as *mut pg_sys::AlterTableCmd);
                    match cmd.subtype {
                        At::AT_EnableTrig | At::AT_EnableAlwaysTrig | At::AT_EnableReplicaTrig | At::AT_DisableTrig => {
                            named.extend(cstr(cmd.name))
                        }
                        At::AT_EnableTrigAll
                        | At::AT_DisableTrigAll
                        | At::AT_EnableTrigUser
                        | At::AT_DisableTrigUser => all = true,
                        _ => {}
                    }
                }
                if named.is_empty() && !all {
                    return None;
                }
                let relation = range_var(stmt.relation)?;
                let relid = relation_oid(&relation)?;
                let hit = if all {
                    is_fence_trigger(relid, None)
                } else {
                    named.iter().any(|name| is_fence_trigger(relid, Some(name)))
                };
                return hit.then(|| (relid, relation.to_string()));
            }
            _ => return None,
        };
        let relid = relation_oid(&relation)?;
        is_fence_trigger(relid, trigger.as_deref()).then(|| (relid, relation.to_string()))
    }
}

/// What the statement changes that a tracked table's row audit may depend on, resolved on
/// the session's search path: the enum whose value `ALTER TYPE ... RENAME VALUE` renames, the
/// indexes `DROP INDEX` drops.
pub fn dependencies(node: *mut pg_sys::Node) -> Option<(Option<pg_sys::Oid>, Vec<pg_sys::Oid>)> {
    // SAFETY: each cast follows its tag check; the name lists hold String nodes;
    // LookupTypeNameOid with missing_ok returns InvalidOid for a missing type.
    unsafe {
        match tag(node) {
            T::T_AlterEnumStmt => {
                let stmt = &*(node as *mut pg_sys::AlterEnumStmt);
                if stmt.oldVal.is_null() {
                    return None;
                }
                let name = pg_sys::makeTypeNameFromNameList(stmt.typeName);
                let oid = pg_sys::LookupTypeNameOid(std::ptr::null_mut(), name, true);
                (oid != pg_sys::InvalidOid).then_some((Some(oid), Vec::new()))
            }
            T::T_DropStmt => {
                let stmt = &*(node as *mut pg_sys::DropStmt);
                if stmt.removeType != Ob::OBJECT_INDEX {
                    return None;
                }
                let indexes = list_nodes(stmt.objects)
                    .into_iter()
                    .filter_map(|object| {
                        let mut names: Vec<String> = list_nodes(object as *mut pg_sys::List)
                            .into_iter()
                            .filter_map(|n| string_value(n))
                            .collect();
                        let name = names.pop()?;
                        relation_oid(&RelationName::new(names.last().map(String::as_str), &name))
                    })
                    .collect();
                Some((None, indexes))
            }
            _ => None,
        }
    }
}
