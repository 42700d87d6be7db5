//! Denials that outlive the transaction they stop. The denied statement's transaction
//! aborts, so its buffered events vanish; the denial is instead handed to a background
//! worker that commits it in its own transaction (parked first, then chained) while the
//! session waits. The worker needs no lock this session could hold: it writes a table with
//! no head row, appends to the chain only when this session does not hold the chain, and
//! gives up after short lock and statement timeouts, leaving the denial parked for the next
//! worker. A READ ONLY transaction's events take the same way (it can write nothing itself).

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use fence_core::chain::{canonical_json, AuditEvent};
use fence_core::report;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

use crate::events;
use crate::ffi::worker::{self, Progress};
use crate::ffi::{notify, relcache, security};
use crate::queries;
use crate::store;

/// How long a denied session waits for the worker before logging the denial instead.
const DEADLINE: Duration = Duration::from_secs(10);

/// How long a session's repeats of one denial are counted together.
const REPEAT_WINDOW_US: i64 = 10 * 60 * 1_000_000;

thread_local! {
    /// The session's recorded denials (by statement, relation and reason): how often each was
    /// refused since it was first written, and when that was.
    static REPEATS: RefCell<HashMap<String, (u64, i64)>> = RefCell::new(HashMap::new());
}

/// Writes a denial, unless it repeats one this session wrote within the window (the same
/// statement on the same relation, refused for the same reason under the same named
/// approval): of the same refusal the 1st, 2nd, 4th, 8th ... are written, each with `details.repeat` = the count
/// so far and when the first was; the others are counted (and logged) only. A session looping
/// on one refused statement costs log2(n) writers, not n, and the chain says how often it
/// tried. Any other denial is written at once.
pub fn persist_repeat(event: &mut AuditEvent) -> Progress {
    let what = event.statement_hash.clone().or_else(|| event.statement.clone()).unwrap_or_default();
    let key = format!(
        "{}|{}|{}|{}",
        event.session_role,
        what,
        event.relation.as_deref().unwrap_or(""),
        event.reason.as_deref().unwrap_or("")
    );
    let now = event.time_us;
    let (count, first) = REPEATS.with(|r| {
        let mut repeats = r.borrow_mut();
        let entry = repeats.entry(key).or_insert((0, now));
        if now - entry.1 > REPEAT_WINDOW_US {
            *entry = (0, now);
        }
        entry.0 += 1;
        *entry
    });
    if !count.is_power_of_two() {
        return Progress::Counted(count);
    }
    if let (true, Value::Object(details)) = (count > 1, &mut event.details) {
        details.insert("repeat".into(), serde_json::json!({"count": count, "first_us": first}));
    }
    persist(event)
}

/// Commits the denial outside the current transaction. Returns how far it got; when the
/// worker could not commit it, the denial goes to the server log (never silently lost).
pub fn persist(event: &AuditEvent) -> Progress {
    // Nothing may interrupt between the decision and its durable record.
    let _held = worker::HoldInterrupts::new();
    let payload = canonical_json(&Value::Object(event.fields()));
    let chain = relcache::audit_chain_oid();
    let parked = relcache::pending_denials_oid();
    let progress = match (store::extension_owner(), chain, parked) {
        // A lock of ours the worker would wait for: it cannot run, log instead.
        (Some(_), _, Some(p)) if worker::locked_by_me(p, pg_sys::ShareLock) => Progress::Lost,
        (Some(owner), Some(chain), Some(_)) => {
            let chain_free = !worker::locked_by_me(chain, pg_sys::RowShareLock);
            worker::run(&payload, owner, chain_free, DEADLINE)
        }
        _ => Progress::Lost,
    };
    if progress == Progress::Lost {
        let what = if event.decision.as_deref() == Some("deny") { "denial" } else { "event" };
        log!("fence: {what} could not be written to the audit chain; recorded here instead: {payload}");
        UNRECORDED.with(|u| u.borrow_mut().push(event.clone()));
    }
    progress
}

thread_local! {
    /// Events no writer could take (every background worker slot busy, the writer out of
    /// time): written before the session's next decision.
    static UNRECORDED: RefCell<Vec<AuditEvent>> = const { RefCell::new(Vec::new()) };
}

/// Before the session's next decision: writes the events no writer could take earlier. The
/// number still unwritten, if any — the session's DDL then waits for them (the caller
/// refuses it): busy worker slots (a query with many parallel workers, say) delay a denial's
/// record, they cannot keep it out.
pub fn retry_unrecorded() -> Result<(), usize> {
    let waiting = UNRECORDED.with(|u| std::mem::take(&mut *u.borrow_mut()));
    for event in waiting {
        // A write that fails again puts the event back (see persist).
        persist(&event);
    }
    match UNRECORDED.with(|u| u.borrow().len()) {
        0 => Ok(()),
        left => Err(left),
    }
}

/// The worker's job: park the denial (own transaction), then chain every parked denial
/// (second transaction). `parked` / `chained` report each committed step to the session.
pub fn write(payload: &str, owner: pg_sys::Oid, chain: bool, parked: impl Fn(), chained: impl Fn()) {
    let Ok(fields) = serde_json::from_str::<Value>(payload) else { return };
    let notification =
        fields.as_object().and_then(|f| AuditEvent::from_fields(f).ok()).map(|e| report::notification(&e));
    worker::transaction(|| {
        security::as_owner(owner, || {
            Spi::run(queries::WORKER_TIMEOUTS).unwrap_or_else(|e| crate::errors::spi(e));
            Spi::run_with_args(queries::INSERT_PENDING_DENIAL, &[JsonB(fields).into()])
                .unwrap_or_else(|e| crate::errors::spi(e));
        })
    });
    parked();
    if chain {
        worker::transaction(|| {
            security::as_owner(owner, || {
                Spi::run(queries::WORKER_TIMEOUTS).unwrap_or_else(|e| crate::errors::spi(e));
                events::chain_parked_denials();
            })
        });
        chained();
    }
    // Announced in a transaction of its own, last: a full notification queue (any
    // role can fill it) fails this one, never the parking or the chaining.
    if let Some(notification) = &notification {
        worker::transaction(|| notify::send(report::CHANNEL, notification));
    }
}
