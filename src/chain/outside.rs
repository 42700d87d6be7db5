//! Events committed outside the transaction they belong to: a denial (its transaction is
//! about to abort, and its buffered events vanish with it) and the events of a READ ONLY
//! transaction (it can write nothing itself). A background worker commits each in its own
//! transaction (parked first, then chained) while the session waits. The worker needs no lock
//! this session could hold: it writes a table with no head row, appends to the chain only when
//! this session does not hold the chain, and gives up after short lock and statement timeouts,
//! leaving the denial parked for the next worker.

use std::cell::RefCell;
use std::time::Duration;

use fence_core::chain::AuditEvent;
use fence_core::report;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

use super::append;
use crate::db::{self, owner, queries};
use crate::ffi::worker::{self, Progress};
use crate::ffi::{notify, relcache, security};

/// How long a denied session waits for the worker before logging the denial instead.
const DEADLINE: Duration = Duration::from_secs(10);

/// Commits the event outside the current transaction. Returns how far it got; when the
/// worker could not commit it, the event goes to the server log (never silently lost) and is
/// retried before the session's next decision.
pub fn persist(event: &AuditEvent) -> Progress {
    // Nothing may interrupt between the decision and its durable record.
    let _held = worker::HoldInterrupts::new();
    let payload = event.payload();
    let chain = relcache::audit_chain_oid();
    let parked = relcache::pending_denials_oid();
    let progress = match (owner::extension_owner(), chain, parked) {
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

/// The worker's job: park the event (own transaction), then chain every parked one (second
/// transaction). `parked` / `chained` report each committed step to the session.
pub fn write(payload: &str, owner: pg_sys::Oid, chain: bool, parked: impl Fn(), chained: impl Fn()) {
    let Ok(fields) = serde_json::from_str::<Value>(payload) else { return };
    let notification =
        fields.as_object().and_then(|f| AuditEvent::from_fields(f).ok()).map(|e| report::notification(&e));
    worker::transaction(|| {
        security::as_owner(owner, || {
            db::execute(queries::WORKER_TIMEOUTS, &[]);
            db::execute(queries::INSERT_PENDING_DENIAL, &[JsonB(fields).into()]);
        })
    });
    parked();
    if chain {
        worker::transaction(|| {
            security::as_owner(owner, || {
                db::execute(queries::WORKER_TIMEOUTS, &[]);
                append::chain_parked();
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
