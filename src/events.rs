//! Audit events of the current transaction. They are buffered in backend memory while the
//! transaction runs and appended to the chain at pre-commit, in one short critical section:
//! take the chain's append lock, read the head, insert. So concurrent migrations never wait
//! for each other's whole transaction, only for each other's commit; events of a rolled-back
//! (sub)transaction vanish with it.

use std::cell::RefCell;
use std::rc::Rc;

use fence_core::chain::{AuditEvent, GENESIS_HASH};
use fence_core::model::RelationName;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use serde_json::Value;

use crate::ffi::{guc, notify, relcache, security, snapshot, xact};
use crate::plans;
use crate::queries;
use crate::store;

/// What the caller knows about an event; the rest is filled in here.
#[derive(Default)]
pub struct NewEvent {
    pub kind: &'static str,
    pub command_tag: Option<String>,
    pub relation: Option<String>,
    pub statement: Option<String>,
    pub statement_hash: Option<String>,
    pub content_hash: Option<String>,
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub risk: Option<String>,
    pub policy_version: Option<i64>,
    pub policy_hash: Option<String>,
    pub details: serde_json::Map<String, Value>,
}

struct Pending {
    level: i32,
    /// Complete but for `seq` (assigned when appended) and `txid` (known at commit); None
    /// for a statement private to the session (see `hold_private`), never chained.
    event: Option<AuditEvent>,
    /// A DDL decision waiting for its ddl_command_end.
    awaiting_end: bool,
    /// Relations the decision found missing (see `Analysis::missing`).
    missing: Vec<RelationName>,
}

thread_local! {
    static PENDING: RefCell<Vec<Pending>> = const { RefCell::new(Vec::new()) };
}

/// The full event: the caller's fields plus time, roles, claims and session (`seq` 0 until
/// appended; `txid` set at commit, or now for a denial).
pub fn complete(mut event: NewEvent) -> AuditEvent {
    add_claims(&mut event);
    add_session(&mut event);
    AuditEvent {
        seq: 0,
        time_us: xact::now_unix_us(),
        kind: event.kind.to_string(),
        session_role: security::session_role().to_string(),
        executing_role: security::executing_role(),
        txid: None,
        command_tag: event.command_tag,
        relation: event.relation,
        statement: event.statement,
        statement_hash: event.statement_hash,
        content_hash: event.content_hash,
        decision: event.decision,
        reason: event.reason,
        risk: event.risk,
        policy_version: event.policy_version,
        policy_hash: event.policy_hash,
        details: Value::Object(event.details),
    }
}

/// Buffers an event of the current (sub)transaction.
pub fn record(event: NewEvent, awaiting_end: bool) {
    buffer(complete(event), awaiting_end);
}

/// Buffers a governance event (approval revoked, anchor, row tracking, seal, retention)
/// stamped with the policy version in force.
pub fn record_under_policy(kind: &'static str, relation: Option<&str>, content_hash: Option<&str>, details: Value) {
    crate::store::as_owner(|| {
        let policy = crate::store::current_policy();
        record(
            NewEvent {
                kind,
                relation: relation.map(str::to_string),
                content_hash: content_hash.map(str::to_string),
                policy_version: Some(i64::from(policy.version)),
                policy_hash: Some(policy.hash.clone()),
                details: details.as_object().cloned().unwrap_or_default(),
                ..Default::default()
            },
            false,
        )
    });
}

/// Buffers a completed event; denials and governance changes are also announced on the
/// `fence_events` channel (delivered when the transaction commits, as NOTIFY is).
pub fn buffer(event: AuditEvent, awaiting_end: bool) {
    buffer_decision(event, awaiting_end, Vec::new());
}

/// Buffers a DDL decision with the relations it found missing (see `Analysis::missing`).
pub fn buffer_decision(event: AuditEvent, awaiting_end: bool, missing: Vec<RelationName>) {
    if fence_core::report::notifies(&event) {
        notify::send(fence_core::report::CHANNEL, &fence_core::report::notification(&event));
    }
    let pending = Pending { level: xact::nest_level(), event: Some(event), awaiting_end, missing };
    PENDING.with(|p| p.borrow_mut().push(pending));
}

/// Stands in for the decision of a statement private to the session (its own temporary
/// objects): what the later event triggers see of it is attached here and never chained.
pub fn hold_private(awaiting_end: bool, missing: Vec<RelationName>) {
    let pending = Pending { level: xact::nest_level(), event: None, awaiting_end, missing };
    PENDING.with(|p| p.borrow_mut().push(pending));
}

/// The relations the decision still waiting for its statement's end found missing.
pub fn awaiting_missing() -> Vec<RelationName> {
    PENDING.with(|p| p.borrow().iter().rev().find(|e| e.awaiting_end).map(|e| e.missing.clone()).unwrap_or_default())
}

/// The CI context the session claims (`fence.repository`, ...), kept under `claims` so it is
/// never confused with the server-verified roles.
fn add_claims(event: &mut NewEvent) {
    let claims: serde_json::Map<String, Value> =
        guc::claims().into_iter().map(|(k, v)| (k.to_string(), Value::String(v))).collect();
    if !claims.is_empty() {
        event.details.insert("claims".into(), Value::Object(claims));
    }
}

thread_local! {
    static CLIENT_ADDR: RefCell<Option<Rc<str>>> = const { RefCell::new(None) };
}

/// The client's address ("local" for a Unix socket), read once per backend.
pub fn client_addr() -> Rc<str> {
    CLIENT_ADDR.with(|c| {
        c.borrow_mut()
            .get_or_insert_with(|| {
                plans::select_one::<String>(queries::CLIENT_ADDR, &[])
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| "local".to_string())
                    .into()
            })
            .clone()
    })
}

/// Who is connected, beside the roles: application name, client address and backend pid,
/// under `details.session` (hashed like everything else).
fn add_session(event: &mut NewEvent) {
    let client = client_addr();
    let mut session = serde_json::Map::new();
    session.insert("application_name".into(), security::application_name().into());
    session.insert("client_addr".into(), client.to_string().into());
    session.insert("backend_pid".into(), security::backend_pid().into());
    event.details.insert("session".into(), Value::Object(session));
}

/// Attaches what the later event triggers saw to the newest DDL decision still waiting for
/// its `ddl_command_end`: `dropped` (sql_drop), `actual_rewrites` (table_rewrite), and at the
/// end `objects` (ddl_command_end), with whether the predicted rewrite matched the actual
/// one. Returns false when no decision is waiting (e.g. CREATE INDEX CONCURRENTLY, whose
/// decision was chained at its first internal commit).
pub fn attach(key: &str, items: Vec<Value>, end: bool) -> bool {
    PENDING.with(|p| {
        let mut pending = p.borrow_mut();
        let Some(open) = pending.iter_mut().rev().find(|e| e.awaiting_end) else { return false };
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

/// Transaction end (commit or abort): forget everything. Must never raise.
pub fn reset() {
    PENDING.with(|p| p.borrow_mut().clear());
}

pub fn abort_subtransaction(level: i32) {
    PENDING.with(|p| p.borrow_mut().retain(|e| e.level < level));
}

pub fn commit_subtransaction(level: i32) {
    PENDING.with(|p| {
        for event in p.borrow_mut().iter_mut().filter(|e| e.level >= level) {
            event.level = level - 1;
        }
    });
}

/// Pre-commit: append the transaction's events to the chain.
/// After a successful `DROP EXTENSION fence` the chain is gone and nothing is appended.
pub fn flush() {
    let events: Vec<AuditEvent> =
        PENDING.with(|p| std::mem::take(&mut *p.borrow_mut())).into_iter().filter_map(|p| p.event).collect();
    if events.is_empty() {
        return;
    }
    if xact::in_recovery() {
        // A hot standby can write nothing (an auditor's fence.anchor() there): say it.
        for event in &events {
            let payload = fence_core::chain::canonical_json(&Value::Object(event.fields()));
            log!("fence: a hot standby cannot record events; recorded here instead: {payload}");
        }
        return;
    }
    if xact::read_only() {
        if xact::full_transaction_id_if_any().is_none() {
            // A READ ONLY transaction writes nothing, fence's events included: each is
            // committed outside it, as a denial is.
            for event in &events {
                crate::denials::persist(event);
            }
        } else {
            // It wrote before it was made READ ONLY: its events go with its own commit.
            xact::writing_despite_read_only(|| chain_events(events));
        }
        return;
    }
    chain_events(events);
}

/// Appends a committing transaction's events to the chain, as the extension owner.
fn chain_events(events: Vec<AuditEvent>) {
    let Some(chain) = relcache::audit_chain_oid() else { return };
    let Some(owner) = store::extension_owner() else { return };
    let txid = xact::full_transaction_id();
    let events = events.into_iter().map(|e| AuditEvent { txid: Some(txid), ..e }).collect();
    security::as_owner(owner, || {
        snapshot::with_transaction_snapshot(|| {
            snapshot::lock_chain(chain);
            append(events);
        })
    });
}

/// Moves parked denials into the chain (run by the denial worker, as the extension owner).
pub fn chain_parked_denials() {
    let Some(chain) = relcache::audit_chain_oid() else { return };
    snapshot::lock_chain(chain);
    let mut parked: Vec<(i64, AuditEvent)> = Spi::connect_mut(|client| {
        client
            .update(queries::TAKE_PENDING_DENIALS, None, &[])?
            .map(|row| {
                let id = row.get::<i64>(1)?.unwrap_or_default();
                let event = row.get::<String>(2)?.unwrap_or_default();
                Ok((id, event))
            })
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .unwrap_or_else(|e| crate::errors::spi(e))
    .into_iter()
    .filter_map(|(id, text)| {
        let fields = serde_json::from_str::<serde_json::Map<String, Value>>(&text).map_err(|e| e.to_string());
        match fields.and_then(|f| AuditEvent::from_fields(&f)) {
            Ok(event) => Some((id, event)),
            Err(error) => {
                warning!("fence: parked denial {id} is unreadable ({error}); it was removed: {text}");
                None
            }
        }
    })
    .collect();
    parked.sort_by_key(|(id, _)| *id);
    append(parked.into_iter().map(|(_, e)| e).collect());
}

/// Appends events after the chain's head, assigning `seq`; the caller holds the append lock.
fn append(mut events: Vec<AuditEvent>) {
    if events.is_empty() {
        return;
    }
    let (mut seq, mut prev_hash) = snapshot::latest_chain_head().unwrap_or((0, GENESIS_HASH.to_string()));
    let mut links = Vec::with_capacity(events.len());
    for event in &mut events {
        seq += 1;
        event.seq = seq;
        let hash = event.hash(&prev_hash);
        links.push((std::mem::replace(&mut prev_hash, hash.clone()), hash));
    }
    insert(&events, links);
}

/// A denial's event, complete now: its transaction is about to abort.
pub fn denial_event(event: NewEvent) -> AuditEvent {
    AuditEvent { txid: xact::full_transaction_id_if_any(), ..complete(event) }
}

/// Up to this many events are inserted row by row (a VALUES plan is cheapest); larger
/// commits (a whole migration in one transaction) go in one INSERT of arrays.
const ROW_BY_ROW: usize = 4;

fn insert(events: &[AuditEvent], links: Vec<(String, String)>) {
    Spi::connect_mut(|client| {
        if events.len() <= ROW_BY_ROW {
            for (event, (prev_hash, hash)) in events.iter().zip(links) {
                plans::update(client, queries::INSERT_EVENT, &row_args(event, prev_hash, hash))?;
            }
        } else {
            plans::update(client, queries::INSERT_EVENTS, &batch_args(events, links))?;
        }
        Ok::<_, pgrx::spi::Error>(())
    })
    .unwrap_or_else(|e| crate::errors::spi(e));
}

fn row_args(e: &AuditEvent, prev_hash: String, hash: String) -> [DatumWithOid<'static>; 19] {
    [
        e.seq.into(),
        xact::timestamptz(e.time_us).into(),
        e.kind.clone().into(),
        e.session_role.clone().into(),
        e.executing_role.clone().into(),
        e.txid.into(),
        e.command_tag.clone().into(),
        e.relation.clone().into(),
        e.statement.clone().into(),
        e.statement_hash.clone().into(),
        e.content_hash.clone().into(),
        e.decision.clone().into(),
        e.reason.clone().into(),
        e.risk.clone().into(),
        e.policy_version.map(|v| v as i32).into(),
        e.policy_hash.clone().into(),
        e.details.to_string().into(),
        prev_hash.into(),
        hash.into(),
    ]
}

/// One array per column (see insert_events.sql).
fn batch_args(events: &[AuditEvent], links: Vec<(String, String)>) -> [DatumWithOid<'static>; 19] {
    let column = |f: fn(&AuditEvent) -> Option<String>| events.iter().map(f).collect::<Vec<Option<String>>>();
    let (prev_hashes, hashes): (Vec<String>, Vec<String>) = links.into_iter().unzip();
    [
        events.iter().map(|e| e.seq).collect::<Vec<i64>>().into(),
        events.iter().map(|e| xact::timestamptz(e.time_us)).collect::<Vec<_>>().into(),
        column(|e| Some(e.kind.clone())).into(),
        column(|e| Some(e.session_role.clone())).into(),
        column(|e| Some(e.executing_role.clone())).into(),
        events.iter().map(|e| e.txid).collect::<Vec<Option<i64>>>().into(),
        column(|e| e.command_tag.clone()).into(),
        column(|e| e.relation.clone()).into(),
        column(|e| e.statement.clone()).into(),
        column(|e| e.statement_hash.clone()).into(),
        column(|e| e.content_hash.clone()).into(),
        column(|e| e.decision.clone()).into(),
        column(|e| e.reason.clone()).into(),
        column(|e| e.risk.clone()).into(),
        events.iter().map(|e| e.policy_version.map(|v| v as i32)).collect::<Vec<Option<i32>>>().into(),
        column(|e| e.policy_hash.clone()).into(),
        column(|e| Some(e.details.to_string())).into(),
        prev_hashes.into(),
        hashes.into(),
    ]
}
