//! Audit events of the current transaction. They are buffered in the session's transaction
//! state while the transaction runs and appended to the chain at pre-commit, in one short
//! critical section (see `append`); events of a rolled-back (sub)transaction vanish with it.

use fence_core::chain::AuditEvent;
use fence_core::model::RelationName;
use pgrx::prelude::*;
use serde_json::Value;

use super::{append, outside};
use crate::ffi::{notify, security, xact};
use crate::session::{self, EndChecks, Pending};
use crate::settings;

/// The full event: the caller's fields plus time, roles, claims and session (`seq` 0 until
/// appended; `txid` set at commit, or now for a denial).
pub fn complete(mut event: AuditEvent) -> AuditEvent {
    if !event.details.is_object() {
        event.details = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(details) = &mut event.details {
        add_claims(details);
        add_session(details);
    }
    AuditEvent {
        seq: 0,
        time_us: xact::now_unix_us(),
        session_role: security::session_role().to_string(),
        executing_role: security::executing_role(),
        txid: None,
        ..event
    }
}

/// A denial's event, complete now: its transaction is about to abort.
pub fn denial_event(event: AuditEvent) -> AuditEvent {
    AuditEvent { txid: xact::full_transaction_id_if_any(), ..complete(event) }
}

/// Buffers an event of the current (sub)transaction.
pub fn record(event: AuditEvent, awaiting_end: bool) {
    buffer(complete(event), awaiting_end, EndChecks::default());
}

/// Buffers a completed event (a DDL decision with the relations it found missing and the
/// tables it judged empty, see `Analysis::missing` and `Analysis::empty`); denials and
/// governance changes are also announced on the `fence_events` channel (delivered when the
/// transaction commits, as NOTIFY is).
pub fn buffer(event: AuditEvent, awaiting_end: bool, checks: EndChecks) {
    if fence_core::report::notifies(&event) {
        notify::send(fence_core::report::CHANNEL, &fence_core::report::notification(&event));
    }
    let pending = Pending { level: xact::nest_level(), event: Some(event), awaiting_end, checks };
    session::with(|t| t.pending.push(pending));
}

/// Stands in for the decision of a statement private to the session (its own temporary
/// objects): what the later event triggers see of it is attached here and never chained.
pub fn hold_private(awaiting_end: bool, missing: Vec<RelationName>) {
    let checks = EndChecks { missing, ..Default::default() };
    let pending = Pending { level: xact::nest_level(), event: None, awaiting_end, checks };
    session::with(|t| t.pending.push(pending));
}

/// What the decision still waiting for its statement's end assumed (see `EndChecks`).
pub fn awaiting_checks() -> EndChecks {
    session::with(|t| t.pending.iter().rev().find(|e| e.awaiting_end).map(|e| e.checks.clone()).unwrap_or_default())
}

/// What the decision still waiting for its statement's end took the statement for, when it
/// took it for a no-op or for an index that builds nothing (see `EndChecks`).
pub struct Assumption {
    pub tag: String,
    pub noop: bool,
    pub builds_nothing: bool,
}

/// The assumption of the decision waiting for its statement's end, if it made one (None also
/// while the session's state is being changed).
pub fn awaiting_assumption() -> Option<Assumption> {
    session::peek(|t| {
        let open = t.pending.iter().rev().find(|e| e.awaiting_end)?;
        (open.checks.noop || open.checks.builds_nothing).then(|| Assumption {
            tag: open.event.as_ref().and_then(|e| e.command_tag.clone()).unwrap_or_default(),
            noop: open.checks.noop,
            builds_nothing: open.checks.builds_nothing,
        })
    })
    .flatten()
}

/// The CI context the session claims (`fence.repository`, ...), kept under `claims` so it is
/// never confused with the server-verified roles.
fn add_claims(details: &mut serde_json::Map<String, Value>) {
    let claims: serde_json::Map<String, Value> =
        settings::claims().into_iter().map(|(k, v)| (k.to_string(), Value::String(v))).collect();
    if !claims.is_empty() {
        details.insert("claims".into(), Value::Object(claims));
    }
}

/// Who is connected, beside the roles: application name, client address and backend pid,
/// under `details.session` (hashed like everything else).
fn add_session(details: &mut serde_json::Map<String, Value>) {
    let client = session::client_addr();
    let mut session = serde_json::Map::new();
    session.insert("application_name".into(), security::application_name().into());
    session.insert("client_addr".into(), client.to_string().into());
    session.insert("backend_pid".into(), security::backend_pid().into());
    details.insert("session".into(), Value::Object(session));
}

/// Attaches what the later event triggers saw to the newest DDL decision still waiting for
/// its `ddl_command_end`: `dropped` (sql_drop), `actual_rewrites` (table_rewrite), and at the
/// end `objects` (ddl_command_end), with whether the predicted rewrite matched the actual
/// one. Returns false when no decision is waiting (e.g. CREATE INDEX CONCURRENTLY, whose
/// decision was chained at its first internal commit).
pub fn attach(key: &str, items: Vec<Value>, end: bool) -> bool {
    session::with(|t| {
        let Some(open) = t.pending.iter_mut().rev().find(|e| e.awaiting_end) else { return false };
        if end {
            open.awaiting_end = false;
        }
        // A private statement's placeholder takes its rewrites (of its temporary tables) and
        // what is in the temporary schema: an object of anyone else's reached by it (a
        // permanent column default using a temporary sequence, dropped by CASCADE) is
        // recorded as an event of its own.
        let Some(event) = &mut open.event else { return key == "actual_rewrites" || in_temp_schema(&items) };
        if end && private_objects(event, &items) {
            // A statement without risk whose every object is in the session's temporary
            // schema (a temporary table, view, sequence or function): not chained.
            open.event = None;
            return true;
        }
        let Value::Object(details) = &mut event.details else { return false };
        if let Value::Array(list) = details.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
            list.extend(items);
        }
        if end {
            let predicted = details.get("rewrites").and_then(Value::as_bool).unwrap_or(false);
            let actual = details.get("actual_rewrites").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
            let verdict = match (predicted, actual) {
                (false, true) => "missed",
                (true, false) => "overstated",
                _ => "matched",
            };
            details.insert("rewrite_prediction".into(), verdict.into());
        }
        true
    })
}

/// Whether every object is in the session's temporary schema (as the event triggers name it:
/// `pg_temp`), or belongs to such an object (a rule, trigger, constraint or default has no
/// schema of its own; its identity ends `on pg_temp.<table>` or reads `for pg_temp.<column>`).
fn in_temp_schema(items: &[Value]) -> bool {
    items.iter().all(|o| match (o["schema"].as_str(), o["identity"].as_str()) {
        (Some(schema), _) => schema == "pg_temp",
        (None, Some(identity)) => {
            let owner = identity.rsplit(" on ").next().unwrap_or(identity);
            owner.strip_prefix("for ").unwrap_or(owner).starts_with("pg_temp.")
        }
        (None, None) => false,
    })
}

/// Whether an allowed decision without risk concerns only objects of the session's
/// temporary schema (`pg_temp`, as the event triggers name it), including what it dropped.
fn private_objects(event: &AuditEvent, created: &[Value]) -> bool {
    let dropped = event.details.get("dropped").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    event.decision.as_deref() == Some("allow")
        && event.risk.as_deref() == Some("none")
        && !(created.is_empty() && dropped.is_empty())
        && in_temp_schema(created)
        && in_temp_schema(dropped)
}

/// Pre-commit (or pre-prepare: `preparing`): append the transaction's events to the chain.
/// After a successful `DROP EXTENSION fence` the chain is gone and nothing is appended.
pub fn flush(preparing: bool) {
    let events: Vec<AuditEvent> =
        session::with(|t| std::mem::take(&mut t.pending)).into_iter().filter_map(|p| p.event).collect();
    if events.is_empty() {
        return;
    }
    if xact::in_recovery() {
        // A hot standby can write nothing (an auditor's fence.anchor() there): say it.
        for event in &events {
            log!("fence: a hot standby cannot record events; recorded here instead: {}", event.payload());
        }
        return;
    }
    if xact::read_only() {
        if xact::full_transaction_id_if_any().is_none() {
            // A READ ONLY transaction writes nothing, fence's events included: each is
            // committed outside it, as a denial is.
            for event in &events {
                outside::persist(event);
            }
        } else {
            // It wrote before it was made READ ONLY: its events go with its own commit.
            xact::writing_despite_read_only(|| append::commit(events, preparing));
        }
        return;
    }
    append::commit(events, preparing);
}
