//! Appending events to the chain: take the chain's append lock, read the head, insert. A
//! committing transaction does it at pre-commit when the lock is free, chaining first the
//! events parked by others. When another transaction holds the lock (it is committing), the
//! events are parked in `fence.pending_denials` instead and the transaction commits without
//! waiting: the next appender, or the sealer worker within `fence.seal_interval`, chains them
//! in the order they were parked. Concurrent migrations never wait for each other.

use fence_core::chain::{AuditEvent, FieldType, FieldValue, FIELDS, GENESIS_HASH};
use pgrx::prelude::*;
use serde_json::Value;

use std::time::Duration;

use crate::db::{self, owner, queries, Arg};
use crate::ffi::{heap, jsonb, relcache, security, snapshot, worker, xact};
use crate::settings;

/// The kinds of event a commit may park: the DDL path's. The others (approvals, exemptions,
/// policies, anchors, trackings, seals) wait for the chain as before: `verify_chain` compares
/// fence's own tables with their events, and the sealer holds the chain while it seals.
const PARKABLE: [&str; 5] = ["ddl", "ddl_end", "dropped", "rewrite", "guard_change"];

/// Appends a committing (or preparing) transaction's events to the chain, as the extension
/// owner, after the events parked before it; parks them when another transaction holds the
/// chain, when it prepares (a prepared transaction would hold the chain until COMMIT
/// PREPARED), or when it reads one snapshot throughout and events wait parked (it cannot take
/// them, and appending ahead of them would reorder the chain).
pub fn commit(events: Vec<AuditEvent>, preparing: bool) {
    let Some(chain) = relcache::audit_chain_oid() else { return };
    let Some(owner) = owner::extension_owner() else { return };
    let txid = xact::full_transaction_id();
    let events: Vec<AuditEvent> = events.into_iter().map(|e| AuditEvent { txid: Some(txid), ..e }).collect();
    let parkable = events.iter().all(|e| PARKABLE.contains(&e.kind.as_str()));
    let parked = security::as_owner(owner, || {
        snapshot::with_transaction_snapshot(|| {
            // A parking table without a block holds nothing (no query to know it).
            let waiting = relcache::pending_denials_oid().is_some_and(relcache::has_blocks);
            let one_snapshot = snapshot::transaction_snapshot_isolation();
            if parkable {
                if preparing || (one_snapshot && waiting) || !snapshot::try_lock_chain(chain) {
                    park(&events);
                    return true;
                }
            } else {
                snapshot::lock_chain(chain);
            }
            if waiting && !one_snapshot {
                chain_all_parked();
            }
            append(events);
            false
        })
    });
    if parked {
        // Chained by the next appender, or by the sealer within an interval.
        worker::ensure_sealer(Duration::from_secs(settings::seal_interval_s()));
    }
}

/// Parks a transaction's events for the next appender, in one row (no lock but the row's):
/// they stay together, in their order.
fn park(events: &[AuditEvent]) {
    let events: Vec<Value> = events.iter().map(|e| Value::Object(e.fields())).collect();
    db::execute(queries::INSERT_PENDING_DENIAL, &[jsonb::jsonb(&Value::Array(events)).into()]);
}

/// A batch of parked events, oldest first, removed in this transaction (the caller holds the
/// chain's append lock, so no other appender takes them; a transaction that rolls back puts
/// them back). Empty when none is parked.
fn take_parked() -> Vec<AuditEvent> {
    let parked = db::write(queries::TAKE_PENDING_DENIALS, &[], |row| {
        (row.get::<i64>("id").unwrap_or_default(), row.text("event"))
    });
    let mut parked: Vec<(i64, Vec<AuditEvent>)> = parked
        .into_iter()
        .filter_map(|(id, text)| match parked_events(&text) {
            Ok(events) => Some((id, events)),
            Err(error) => {
                warning!("fence: parked event {id} is unreadable ({error}); it was removed: {text}");
                None
            }
        })
        .collect();
    parked.sort_by_key(|(id, _)| *id);
    parked.into_iter().flat_map(|(_, events)| events).collect()
}

/// The events of a parked row: one event's fields, or an array of a transaction's.
fn parked_events(text: &str) -> Result<Vec<AuditEvent>, String> {
    let event = |value: Value| match value {
        Value::Object(fields) => AuditEvent::from_fields(&fields),
        _ => Err("not an event".to_string()),
    };
    match serde_json::from_str::<Value>(text).map_err(|e| e.to_string())? {
        Value::Array(events) => events.into_iter().map(event).collect(),
        one => Ok(vec![event(one)?]),
    }
}

/// Chains every parked event, batch by batch; the caller holds the chain's append lock.
/// Returns how many were chained.
fn chain_all_parked() -> usize {
    let mut count = 0;
    loop {
        let batch = take_parked();
        if batch.is_empty() {
            return count;
        }
        count += batch.len();
        append(batch);
    }
}

/// Chains the parked events (the denial writer's job, and `fence.seal_changes()`'s), waiting
/// for the chain.
pub fn chain_parked() {
    let Some(chain) = relcache::audit_chain_oid() else { return };
    snapshot::lock_chain(chain);
    chain_all_parked();
}

/// Chains the parked events if the chain is free (the sealer's round): None when another
/// transaction holds it, else how many were chained.
pub fn try_chain_parked() -> Option<usize> {
    let chain = relcache::audit_chain_oid()?;
    snapshot::try_lock_chain(chain).then(chain_all_parked)
}

/// Whether a transaction still writing parked events may be running (it holds the parking
/// table in ROW EXCLUSIVE mode until it ends): the sealer stays for it.
pub fn parking_under_way() -> bool {
    relcache::pending_denials_oid().is_some_and(|table| !snapshot::try_lock_share(table))
}

/// How many events wait in the parking table to be chained.
pub fn parked_count() -> i64 {
    db::select_first(queries::PARKED_COUNT, &[], |row| row.get::<i64>("parked").unwrap_or(0)).unwrap_or(0)
}

/// The chain's newest event `(seq, event_hash)` as of now (0 and the genesis hash when empty),
/// read from the primary key's end with the latest snapshot, without a query: a REPEATABLE
/// READ or SERIALIZABLE transaction sees every committed append.
pub fn head() -> (i64, String) {
    relcache::audit_chain_oid()
        .zip(relcache::audit_chain_index_oid())
        .and_then(|(chain, index)| heap::newest_row(chain, index, "seq", "event_hash"))
        .unwrap_or_else(|| (0, GENESIS_HASH.to_string()))
}

/// An event ready to be inserted: its fields (hashed and stored), the hash it links to and
/// its own.
struct Link {
    event: AuditEvent,
    prev_hash: String,
    hash: String,
}

/// Appends events after the chain's head, assigning `seq`; the caller holds the append lock.
fn append(events: Vec<AuditEvent>) {
    if events.is_empty() {
        return;
    }
    let (mut seq, mut prev_hash) = head();
    let links: Vec<Link> = events
        .into_iter()
        .map(|mut event| {
            seq += 1;
            event.seq = seq;
            let hash = event.hash(&prev_hash);
            Link { event, prev_hash: std::mem::replace(&mut prev_hash, hash.clone()), hash }
        })
        .collect();
    insert(links);
}

/// When the executor inserts (see `insert`): up to this many events row by row (a VALUES plan
/// is cheapest); larger commits (a whole migration in one transaction) in one INSERT of arrays.
const ROW_BY_ROW: usize = 4;

/// The chain's column of an event's field (`FIELDS`): its own name but for the time.
fn column(field: &'static str) -> &'static str {
    if field == "time_us" {
        "recorded_at"
    } else {
        field
    }
}

fn insert(links: Vec<Link>) {
    let rows: Vec<Vec<Arg>> = links.iter().map(row).collect();
    let columns: Vec<&str> = FIELDS.iter().map(|&(name, _)| column(name)).chain(["prev_hash", "event_hash"]).collect();
    // Straight into the table and its indexes, unless it needs the executor (the fleet's
    // evidence trigger is on, say).
    if relcache::audit_chain_oid().is_some_and(|chain| heap::insert_rows(chain, &columns, &rows)) {
        return;
    }
    if links.len() <= ROW_BY_ROW {
        for args in &rows {
            db::execute(queries::INSERT_EVENT, args);
        }
    } else {
        // One array per column (see insert_events.sql).
        let mut args: Vec<Arg> =
            FIELDS.iter().map(|&(name, kind)| column_arg(links.iter().map(|l| field(&l.event, name)), kind)).collect();
        let (prev_hashes, hashes): (Vec<String>, Vec<String>) =
            links.into_iter().map(|l| (l.prev_hash, l.hash)).unzip();
        args.extend([prev_hashes.into(), hashes.into()]);
        db::execute(queries::INSERT_EVENTS, &args);
    }
}

/// An event's row: its fields, then the hash it links to and its own.
fn row(link: &Link) -> Vec<Arg<'static>> {
    let mut args: Vec<Arg> = FIELDS.iter().map(|&(name, kind)| field_arg(field(&link.event, name), kind)).collect();
    args.extend([link.prev_hash.clone().into(), link.hash.clone().into()]);
    args
}

/// The field of `event` named `name` (one of `FIELDS`).
fn field<'e>(event: &'e AuditEvent, name: &str) -> FieldValue<'e> {
    event.field(name).unwrap_or(FieldValue::Number(None))
}

fn number(value: FieldValue) -> Option<i64> {
    match value {
        FieldValue::Number(n) => n,
        _ => None,
    }
}

fn text(value: FieldValue) -> Option<String> {
    match value {
        FieldValue::Text(t) => t.map(str::to_string),
        _ => None,
    }
}

/// The details, as `jsonb` built directly.
fn details(value: FieldValue) -> jsonb::Jsonb {
    match value {
        FieldValue::Json(v) => jsonb::jsonb(v),
        _ => jsonb::jsonb(&Value::Null),
    }
}

/// One field of an event as its column's argument.
fn field_arg(value: FieldValue, kind: FieldType) -> Arg<'static> {
    match kind {
        FieldType::BigInt => number(value).into(),
        FieldType::Integer => number(value).map(|v| v as i32).into(),
        FieldType::Time => xact::timestamptz(number(value).unwrap_or_default()).into(),
        FieldType::Text => text(value).into(),
        FieldType::Json => details(value).into(),
    }
}

/// One field of every event as an array argument.
fn column_arg<'v>(values: impl Iterator<Item = FieldValue<'v>>, kind: FieldType) -> Arg<'static> {
    match kind {
        FieldType::BigInt => values.map(number).collect::<Vec<Option<i64>>>().into(),
        FieldType::Integer => values.map(|v| number(v).map(|v| v as i32)).collect::<Vec<Option<i32>>>().into(),
        FieldType::Time => values.map(|v| xact::timestamptz(number(v).unwrap_or_default())).collect::<Vec<_>>().into(),
        FieldType::Text => values.map(text).collect::<Vec<Option<String>>>().into(),
        FieldType::Json => values.map(|v| Some(details(v))).collect::<Vec<Option<jsonb::Jsonb>>>().into(),
    }
}
