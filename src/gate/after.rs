//! What a statement did, seen by the later event triggers (`ddl_command_end`, `sql_drop`,
//! `table_rewrite`): attached to its decision (or recorded as an event of its own), and
//! refused when it shows what the decision could not see — a relation that appeared after
//! it, a dependency on a temporary object, a tracked table's row audit broken. Also the
//! changes to what keeps fence on.

use fence_core::chain::AuditEvent;
use fence_core::model::RelationName;
use fence_core::policy::Mode;
use pgrx::pg_sys;
use pgrx::prelude::*;
use serde_json::{Map, Value};

use super::decide::{in_warn_roles, row_audit_explanation};
use super::denials::{refuse_after, Refusal};
use super::text::TextSource;
use super::{skipped, watching};
use crate::chain::events;
use crate::db::{self, owner, queries};
use crate::ffi::event_trigger::EventTriggerCall;
use crate::ffi::object_access::{self, Access};
use crate::ffi::{parsetree, relcache, security, srf, xact};
use crate::governance::policy;
use crate::rows::{harm, tracking};
use crate::session;

/// The event's command tag, unless fence leaves the statement alone (see `skipped`) or does
/// not watch this database.
fn watched(event: &EventTriggerCall) -> Option<&str> {
    (!skipped() && watching()).then_some(event.tag.as_str())
}

/// A change to what keeps fence on (its event triggers, `session_replication_role`): a
/// superuser may make it, but not silently.
pub fn record_guard_change(what: String, state: String, statement: Option<String>) {
    if !watching() || xact::binary_upgrade() {
        return;
    }
    let mut details = Map::new();
    details.insert("guard".into(), what.clone().into());
    details.insert("state".into(), state.clone().into());
    events::record(
        AuditEvent { kind: "guard_change".into(), statement, details: details.into(), ..Default::default() },
        false,
    );
    let silenced = match what.as_str() {
        "session_replication_role" => state != "origin",
        "event_triggers" => state == "off",
        _ => false,
    };
    if silenced {
        warning!("fence: {what} = {state} silences fence's event triggers; recorded in the audit chain");
    }
}

/// DDL about to run while `setting` silences the event triggers, however the setting was
/// made (SET, set_config, PGOPTIONS, ALTER ROLE / DATABASE / SYSTEM, a granted SET
/// privilege), naming the setting, where its value came from and the statement. A superuser's
/// goes to the server log only: the documented restore (`PGOPTIONS='-c
/// session_replication_role=replica' pg_restore`) must not chain its own DDL before the dumped
/// chain is loaded. Anyone else's (already gated by the hook) is a chain event, with a WARNING.
pub fn record_silenced(setting: &str, value: &str, tag: String, text: Option<(String, TextSource)>, superuser: bool) {
    if !watching() {
        return;
    }
    let source = owner::owner_read(|| db::select_value::<String>(queries::SETTING_SOURCE, &[setting.into()], "source"));
    let said = format!(
        "fence: {tag} runs while {setting} = {value} (set by {}) silences fence's event triggers",
        source.as_deref().unwrap_or("an unknown source")
    );
    if superuser {
        log!("{said}; run by the superuser {}", security::session_role());
        return;
    }
    let mut details = Map::new();
    details.insert("guard".into(), setting.into());
    details.insert("state".into(), value.into());
    details.insert("source".into(), source.map_or(Value::Null, Value::String));
    details.insert("unguarded".into(), tag.clone().into());
    events::record(
        AuditEvent {
            kind: "guard_change".into(),
            command_tag: Some(tag),
            statement: text.map(|(t, _)| t),
            details: details.into(),
            ..Default::default()
        },
        false,
    );
    warning!("{said}; gated by the ProcessUtility hook and recorded in the audit chain");
}

/// Rows of an event-trigger information function as JSON objects (every column as text).
fn trigger_rows(query: &'static str, columns: &[&str]) -> Vec<Value> {
    db::select(query, &[], |row| {
        let object: Map<String, Value> = columns
            .iter()
            .map(|&name| (name.to_string(), row.get::<String>(name).map_or(Value::Null, Value::String)))
            .collect();
        Value::Object(object)
    })
}

/// What the statement created or altered (`pg_event_trigger_ddl_commands()`, called directly:
/// no query is planned for it), as JSON objects.
fn ddl_objects() -> Vec<Value> {
    const KEYS: [&str; 4] = ["object_type", "schema", "identity", "command_tag"];
    srf::ddl_commands(&["object_type", "schema_name", "object_identity", "command_tag"])
        .into_iter()
        .map(|row| {
            let object = KEYS.iter().zip(row).map(|(key, v)| (key.to_string(), v.map_or(Value::Null, Value::String)));
            Value::Object(object.collect())
        })
        .collect()
}

/// What a later event trigger saw, attached to its statement's decision (or, when that was
/// already chained, recorded as an event of its own); returns those rows.
fn attach_or_record(kind: &'static str, tag: &str, key: &str, rows: Vec<Value>, end: bool) -> Vec<Value> {
    if !events::attach(key, rows.clone(), end) {
        let mut details = Map::new();
        details.insert(key.into(), Value::Array(rows.clone()));
        events::record(
            AuditEvent {
                kind: kind.into(),
                command_tag: Some(tag.to_string()),
                details: details.into(),
                ..Default::default()
            },
            false,
        );
    }
    rows
}

/// A relation a `sql_drop` dropped (names unquoted).
struct DroppedRelation {
    schema: String,
    name: String,
    object_type: String,
    /// Named by the statement (not reached through CASCADE).
    original: bool,
}

/// A statement whose later event triggers show what its decision could not see is refused,
/// and can simply be run again to be decided on what is there now.
fn refuse_changed(tag: &str, relation: &str, reason: &'static str, explanation: String, what: &'static str) {
    refuse_after(Refusal {
        tag,
        relation,
        reason,
        explanation: format!("{explanation}: run it again to have it decided"),
        what,
        hint: "Run the statement again: fence decides on what is there now.".into(),
    });
}

/// A relation the decision found missing that exists after all (created or renamed into
/// place by another session between the decision and the statement's lock): dropped by the
/// statement (`dropped`, at `sql_drop`), or there when it ends (at `ddl_command_end`) and
/// not made by this transaction (CREATE OR REPLACE VIEW creates the view it found missing).
/// The decision did not cover it, so the statement is refused (and the refusal kept).
fn refuse_if_appeared(tag: &str, missing: &[RelationName], dropped: Option<&[DroppedRelation]>) {
    let appeared = missing.iter().find(|m| match dropped {
        // Only what the statement named (not what its CASCADE reached), where the name could
        // have been found: its schema, or for an unqualified name one of the search path.
        Some(dropped) => dropped.iter().any(|d| {
            d.original
                && d.name == m.name
                && m.schema.as_ref().map_or_else(|| relcache::in_search_path(&d.schema), |s| *s == d.schema)
        }),
        None => relcache::lookup(m).is_some_and(|found| !found.created_in_transaction),
    });
    if let Some(appeared) = appeared {
        let explanation = format!("{appeared} did not exist when fence decided, and the statement found it");
        refuse_changed(
            tag,
            &appeared.to_string(),
            "appeared_after_decision",
            explanation,
            "it appeared after the decision",
        );
    }
}

/// A statement the decision took for a no-op (see `Analysis::noop`) that `does` something to
/// `object` after all (when Some): what made it skip was renamed away, or what it drops made,
/// while it waited for its lock. The decision did not cover that, so the statement is refused.
fn refuse_if_not_noop(tag: &str, does: &str, object: Option<&str>) {
    if let Some(object) = object {
        let explanation = format!("fence decided this {tag} would do nothing, and it {does} {object}");
        refuse_changed(tag, object, "not_a_noop", explanation, "it did what its decision took for a no-op");
    }
}

/// The object access hook: an object just created, or about to be dropped. A statement the
/// decision took for a no-op creates and drops nothing, and an index ON ONLY a partitioned
/// table builds no index of a table (the table renamed into place while it waited): refused
/// here, before the work — the build, the scan, the lock a drop takes — is done.
pub fn object_access(access: Access, class: pg_sys::Oid, object: pg_sys::Oid, sub: i32) {
    if !object_access::is_table_part(class) {
        return;
    }
    let Some(assumed) = events::awaiting_assumption() else { return };
    if skipped() || !watching() {
        return;
    }
    let tag = assumed.tag.as_str();
    if assumed.noop {
        let does = if access == Access::Created { "creates" } else { "drops" };
        refuse_if_not_noop(tag, does, Some(&relcache::object_description(class, object, sub)));
    } else if assumed.builds_nothing && access == Access::Created && class == pg_sys::RelationRelationId && sub == 0 {
        if let Some((pg_sys::RELKIND_INDEX, index)) = relcache::open_relation(object) {
            let explanation = format!(
                "fence decided this {tag} would build nothing (ON ONLY a partitioned table), and it builds {index} on a table that is not partitioned"
            );
            refuse_changed(tag, &index, "not_a_noop", explanation, "it builds what its decision took for nothing");
        }
    }
}

/// A table, view or materialized view the statement dropped that its decision did not know
/// it locks (`locked`): something made it depend on what the statement drops between the
/// decision and the lock (INHERIT, a view, a move into the dropped schema), or the dependency
/// walk missed it. Not for statements fence could not classify (`locked` None: their decision
/// knew nothing of what they drop) nor temporary tables.
fn refuse_if_dropped_beyond(tag: &str, locked: Option<&[String]>, dropped: &[DroppedRelation]) {
    let Some(locked) = locked else { return };
    let beyond = dropped
        .iter()
        .filter(|d| {
            ["table", "view", "materialized view", "foreign table"].contains(&d.object_type.as_str())
                && !d.schema.starts_with("pg_temp")
        })
        .map(|d| format!("{}.{}", d.schema, d.name))
        .find(|relation| !locked.contains(relation));
    if let Some(relation) = beyond {
        let explanation =
            format!("{relation} was dropped with the statement, and the decision did not know it would be");
        refuse_changed(
            tag,
            &relation,
            "dropped_beyond_decision",
            explanation,
            "it dropped what its decision did not cover",
        );
    }
}

/// A table the decision judged empty (and so rated low what costs time per row) that holds
/// rows by the statement's end: another session filled it while the statement waited for its
/// lock. The decision did not cover the work done, so the statement is refused.
fn refuse_if_filled(tag: &str, empty: &[RelationName]) {
    if let Some(filled) = empty.iter().find(|t| relcache::lookup(t).is_some_and(|info| info.pages != 0)) {
        let explanation = format!(
            "{filled} was empty when fence decided (what costs time per row was rated low), and it held rows when the statement ran"
        );
        refuse_changed(
            tag,
            &filled.to_string(),
            "filled_after_decision",
            explanation,
            "its table was filled after the decision",
        );
    }
}

/// Objects the statement left outside the session's temporary schema that depend on one
/// inside it (`ALTER TABLE t OF pg_temp.some_type`, a default using a temporary sequence):
/// PostgreSQL drops them with the session or at DISCARD TEMP, firing no event trigger, so they
/// would go undecided. Refused under enforce, warned under warn (and for warn_roles).
fn refuse_temporary_dependencies(tag: &str) {
    let rows = trigger_rows(queries::TEMPORARY_DEPENDENCIES, &["dependent", "temporary"]);
    let Some(first) = rows.first() else { return };
    let policy = policy::current();
    let (dependent, temporary) = (first["dependent"].as_str().unwrap_or(""), first["temporary"].as_str().unwrap_or(""));
    let explanation = format!(
        "{dependent} would depend on {temporary} of this session's temporary schema: PostgreSQL drops it with the session or at DISCARD TEMP, and no event trigger sees that"
    );
    match policy.policy.mode {
        Mode::Off => {}
        Mode::Warn => warning!("fence: warning for {tag}: {explanation}"),
        Mode::Enforce if in_warn_roles(&policy.policy) => {
            warning!("fence: warning for {tag}: {explanation} (only warned: the role is in the policy's warn_roles)")
        }
        Mode::Enforce => refuse_after(Refusal {
            tag,
            relation: dependent,
            reason: "depends_on_temporary",
            explanation,
            what: "it would depend on a temporary object",
            hint: "Make the object depend on permanent objects only (a permanent sequence, type or function).".into(),
        }),
    }
    events::attach("temporary_dependencies", rows, false);
}

/// `ddl_command_end`: the objects the command created or altered.
pub fn command_end(event: EventTriggerCall) {
    if parsetree::is_create_schema(event.node) {
        session::with(|t| t.creating_schema = false);
    }
    let Some(tag) = watched(&event) else { return };
    let checks = events::awaiting_checks();
    refuse_if_appeared(tag, &checks.missing, None);
    refuse_if_filled(tag, &checks.empty);
    if relcache::has_temp_namespace() {
        refuse_temporary_dependencies(tag);
    }
    attach_or_record("ddl_end", tag, "objects", ddl_objects(), true);
    // A new partition of a tracked table gets its TRUNCATE trigger (CREATE [FOREIGN] TABLE
    // ... PARTITION OF, ATTACH PARTITION, such a CREATE SCHEMA element); every other
    // statement skips that look-up.
    if parsetree::adds_partition(event.node) {
        tracking::cover_new_partitions();
    }
    // After fence's own work on the statement (a new partition's TRUNCATE trigger).
    refuse_row_audit_harm(tag, queries::TOUCHED_BY_COMMANDS);
}

/// Refuses a statement that broke a tracked table's row audit (see `harm::harmed`), whoever
/// sent it: approvals and exemptions do not cover it.
fn refuse_row_audit_harm(tag: &str, touched: &'static str) {
    if let Some(harm) = harm::harmed(touched) {
        refuse_after(Refusal {
            tag,
            relation: &harm.relation,
            reason: "row_audit_protected",
            explanation: row_audit_explanation(&harm),
            what: "it would break the row audit of a tracked table",
            hint: format!(
                "To change {} so, a fence_admin stops tracking it first: SELECT fence.untrack_table('{}');",
                harm.relation, harm.relation
            ),
        });
    }
}

/// `sql_drop`: every object the command dropped (read once, without a query); a dropped
/// table's row tracking ends (looked up only when a table was dropped and any is tracked).
pub fn dropped(event: EventTriggerCall) {
    let Some(tag) = watched(&event) else { return };
    // Each object as [type, schema, name, identity, original].
    let objects: Vec<[Option<String>; 5]> =
        srf::dropped_objects(&["object_type", "schema_name", "object_name", "object_identity", "original"])
            .into_iter()
            .map(|row| row.try_into().unwrap_or_default())
            .collect();
    let checks = events::awaiting_checks();
    if !checks.missing.is_empty() || checks.locked.is_some() {
        let dropped: Vec<DroppedRelation> = objects
            .iter()
            .filter_map(|[object_type, schema, name, _, original]| {
                let object_type = object_type.as_deref().filter(|t| RELATION_TYPES.contains(t))?;
                Some(DroppedRelation {
                    schema: schema.clone().unwrap_or_default(),
                    name: name.clone().unwrap_or_default(),
                    object_type: object_type.to_string(),
                    original: original.as_deref() != Some("f"),
                })
            })
            .collect();
        refuse_if_appeared(tag, &checks.missing, Some(&dropped));
        refuse_if_dropped_beyond(tag, checks.locked.as_deref(), &dropped);
    }
    // What a DROP takes away by dependency (DROP TYPE ... CASCADE, DROP EXTENSION): a tracked
    // table's trigger, key column or constraint.
    refuse_row_audit_harm(tag, queries::TOUCHED_BY_DROPS);
    let table_dropped = objects.iter().any(|[object_type, schema, ..]| {
        object_type.as_deref() == Some("table") && schema.as_deref() != Some("pg_temp")
    });
    let text = |value: Option<String>| value.map_or(Value::Null, Value::String);
    let rows = objects
        .into_iter()
        .map(|[object_type, schema, _, identity, _]| {
            Value::Object(Map::from_iter([
                ("object_type".to_string(), text(object_type)),
                ("schema".to_string(), text(schema)),
                ("identity".to_string(), text(identity)),
            ]))
        })
        .collect();
    attach_or_record("dropped", tag, "dropped", rows, false);
    if table_dropped {
        tracking::untrack_dropped();
    }
}

/// The object types of `pg_event_trigger_dropped_objects()` that are relations.
const RELATION_TYPES: [&str; 6] = ["table", "index", "view", "materialized view", "sequence", "foreign table"];

/// `table_rewrite`: a table PostgreSQL is about to rewrite.
pub fn rewrite(event: EventTriggerCall) {
    let Some(tag) = watched(&event) else { return };
    let rows = trigger_rows(queries::TABLE_REWRITE, &["relation", "reason"]);
    if events::awaiting_assumption().is_some_and(|assumed| assumed.noop) {
        refuse_if_not_noop(tag, "rewrites", rows.first().and_then(|r| r["relation"].as_str()));
    }
    attach_or_record("rewrite", tag, "actual_rewrites", rows, false);
}
