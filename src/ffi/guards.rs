//! Changes to what keeps fence on: its event triggers (ALTER / DROP / RENAME / OWNER TO of
//! fence_gate, fence_dropped, fence_rewrite or fence_record, which event triggers never see),
//! `session_replication_role` (anything but `origin` silences every event trigger) and, from
//! PostgreSQL 17 on, `event_triggers` (`off` silences them too).

use pgrx::pg_sys::{self, NodeTag as T, ObjectType as Ob};

use super::nodes::{cstr, list_nodes, string_value, tag};

const FENCE_TRIGGERS: [&str; 4] = ["fence_gate", "fence_dropped", "fence_rewrite", "fence_record"];

/// The settings that silence event triggers: `session_replication_role` (anything but
/// `origin`) and, from PostgreSQL 17 on, `event_triggers` (`off`).
const GUARD_SETTINGS: [&str; 2] = ["session_replication_role", "event_triggers"];

/// What a just-executed utility statement changed among fence's guards: (what, new state).
pub fn changed_guard(node: *mut pg_sys::Node) -> Option<(String, String)> {
    let ours = |name: Option<String>| name.filter(|n| FENCE_TRIGGERS.contains(&n.as_str()));
    // SAFETY: each arm casts only after checking the node tag; names are copied out.
    unsafe {
        match tag(node) {
            T::T_AlterEventTrigStmt => {
                let stmt = &*(node as *mut pg_sys::AlterEventTrigStmt);
                let state = match stmt.tgenabled as u8 {
                    b'D' => "disabled",
                    b'R' => "enabled on replica only",
                    b'A' => "enabled always",
                    _ => "enabled",
                };
                ours(cstr(stmt.trigname)).map(|n| (format!("event trigger {n}"), state.to_string()))
            }
            T::T_DropStmt if (*(node as *mut pg_sys::DropStmt)).removeType == Ob::OBJECT_EVENT_TRIGGER => {
                let stmt = &*(node as *mut pg_sys::DropStmt);
                let dropped: Vec<String> =
                    list_nodes(stmt.objects).into_iter().filter_map(|n| ours(string_value(n))).collect();
                (!dropped.is_empty()).then(|| (format!("event trigger {}", dropped.join(", ")), "dropped".to_string()))
            }
            T::T_RenameStmt if (*(node as *mut pg_sys::RenameStmt)).renameType == Ob::OBJECT_EVENT_TRIGGER => {
                let stmt = &*(node as *mut pg_sys::RenameStmt);
                let old = if stmt.object.is_null() { None } else { ours(string_value(stmt.object)) };
                old.map(|n| {
                    (format!("event trigger {n}"), format!("renamed to {}", cstr(stmt.newname).unwrap_or_default()))
                })
            }
            T::T_AlterOwnerStmt if (*(node as *mut pg_sys::AlterOwnerStmt)).objectType == Ob::OBJECT_EVENT_TRIGGER => {
                let stmt = &*(node as *mut pg_sys::AlterOwnerStmt);
                let name = if stmt.object.is_null() { None } else { ours(string_value(stmt.object)) };
                let owner = if stmt.newowner.is_null() { None } else { cstr((*stmt.newowner).rolename) };
                name.map(|n| {
                    (
                        format!("event trigger {n}"),
                        format!("owner changed to {}", owner.unwrap_or_else(|| "a special role".into())),
                    )
                })
            }
            T::T_VariableSetStmt => {
                let stmt = &*(node as *mut pg_sys::VariableSetStmt);
                // Setting names are matched as the server looks them up: without regard to case
                // (a quoted "Event_Triggers" is the same setting).
                let name = cstr(stmt.name)?;
                let setting = GUARD_SETTINGS.into_iter().find(|s| s.eq_ignore_ascii_case(&name))?;
                let c_setting = std::ffi::CString::new(setting).ok()?;
                let value = cstr(pg_sys::GetConfigOption(c_setting.as_ptr(), true, false))?;
                Some((setting.to_string(), value))
            }
            _ => None,
        }
    }
}
