//! Changes to what keeps fence on: its event triggers (ALTER / DROP / RENAME / OWNER TO of
//! fence_gate, fence_dropped, fence_rewrite or fence_record, which event triggers never see),
//! `session_replication_role` (anything but `origin` silences every event trigger) and, from
//! PostgreSQL 17 on, `event_triggers` (`off` silences them too).

use pgrx::pg_sys::{self, NodeTag as T, ObjectType as Ob};

use super::nodes::{cast, cstr, string_value, strings, tag};

const FENCE_TRIGGERS: [&str; 4] = ["fence_gate", "fence_dropped", "fence_rewrite", "fence_record"];

/// The settings that silence event triggers: `session_replication_role` (anything but
/// `origin`) and, from PostgreSQL 17 on, `event_triggers` (`off`).
const GUARD_SETTINGS: [&str; 2] = ["session_replication_role", "event_triggers"];

/// What a just-executed utility statement changed among fence's guards: (what, new state).
pub fn changed_guard(node: *mut pg_sys::Node) -> Option<(String, String)> {
    let ours = |name: Option<String>| name.filter(|n| FENCE_TRIGGERS.contains(&n.as_str()));
    match tag(node) {
        T::T_AlterEventTrigStmt => {
            let stmt: &pg_sys::AlterEventTrigStmt = cast(node)?;
            let state = match stmt.tgenabled as u8 {
                b'D' => "disabled",
                b'R' => "enabled on replica only",
                b'A' => "enabled always",
                _ => "enabled",
            };
            ours(cstr(stmt.trigname)).map(|n| (format!("event trigger {n}"), state.to_string()))
        }
        T::T_DropStmt => {
            let stmt = cast::<pg_sys::DropStmt, _>(node).filter(|s| s.removeType == Ob::OBJECT_EVENT_TRIGGER)?;
            let dropped: Vec<String> = strings(stmt.objects).into_iter().filter_map(|n| ours(Some(n))).collect();
            (!dropped.is_empty()).then(|| (format!("event trigger {}", dropped.join(", ")), "dropped".to_string()))
        }
        T::T_RenameStmt => {
            let stmt = cast::<pg_sys::RenameStmt, _>(node).filter(|s| s.renameType == Ob::OBJECT_EVENT_TRIGGER)?;
            let old = ours(string_value(stmt.object))?;
            Some((format!("event trigger {old}"), format!("renamed to {}", cstr(stmt.newname).unwrap_or_default())))
        }
        T::T_AlterOwnerStmt => {
            let stmt = cast::<pg_sys::AlterOwnerStmt, _>(node).filter(|s| s.objectType == Ob::OBJECT_EVENT_TRIGGER)?;
            let name = ours(string_value(stmt.object))?;
            let owner = cast::<pg_sys::RoleSpec, _>(stmt.newowner).and_then(|spec| cstr(spec.rolename));
            Some((
                format!("event trigger {name}"),
                format!("owner changed to {}", owner.unwrap_or_else(|| "a special role".into())),
            ))
        }
        T::T_VariableSetStmt => {
            let stmt: &pg_sys::VariableSetStmt = cast(node)?;
            // Setting names are matched as the server looks them up: without regard to case
            // (a quoted "Event_Triggers" is the same setting).
            let name = cstr(stmt.name)?;
            let setting = GUARD_SETTINGS.into_iter().find(|s| s.eq_ignore_ascii_case(&name))?;
            let c_setting = std::ffi::CString::new(setting).ok()?;
            // SAFETY: GetConfigOption returns the setting's current value (or NULL), copied out.
            let value = cstr(unsafe { pg_sys::GetConfigOption(c_setting.as_ptr(), true, false) })?;
            Some((setting.to_string(), value))
        }
        _ => None,
    }
}
