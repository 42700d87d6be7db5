//! The evidence database's check of every chain that reached it: each one recomputed from
//! its first event on, and the row changes copied with it against its seals, as
//! `verify_chain()` does on the database it came from.

use fence_core::row_verify::ChainRowEvents;

use crate::chain::verify;
use crate::db::owner::as_owner;
use crate::db::{self, queries};
use crate::rows::seal;

/// One database's chain as the evidence database holds it.
pub struct Verified {
    pub database_id: String,
    pub database_name: String,
    pub ok: bool,
    pub checked: i64,
    pub first_bad_seq: Option<i64>,
    pub reason: Option<String>,
    pub head_hash: String,
    /// Row changes copied from it, verified against its seals.
    pub changes_checked: i64,
    /// When its newest event here was recorded (microseconds since 1970): a database that stops
    /// publishing shows as silence.
    pub last_event_us: Option<i64>,
}

/// Every collected chain, verified.
pub fn verify_all() -> Vec<Verified> {
    as_owner(|| {
        let databases =
            db::select(queries::FLEET_DATABASES, &[], |row| (row.text("database_id"), row.text("database_name")));
        databases
            .into_iter()
            .map(|(database_id, database_name)| {
                let args = [database_id.as_str().into()];
                let mut row_events = ChainRowEvents::default();
                let mut last_event_us = None;
                let mut result = verify::events(queries::FLEET_CHAIN_ROWS, &args, None, |event| {
                    last_event_us = Some(event.time_us);
                    row_events.observe(event.seq, &event.kind, &event.details)
                });
                let mut changes_checked = 0;
                if result.ok {
                    let rows = seal::verify_copied(row_events, queries::FLEET_ROW_CHANGES, &args);
                    changes_checked = rows.checked;
                    if let Some((seq, reason)) = rows.failure {
                        result.ok = false;
                        result.first_bad_seq = seq;
                        result.reason = Some(reason);
                    }
                }
                let conflicts = db::select_first(queries::FLEET_CONFLICTS_FIRST, &args, |row| {
                    (row.get::<i64>("seq"), row.get::<i64>("events").unwrap_or_default())
                });
                if let (true, Some((Some(seq), events))) = (result.ok, conflicts) {
                    result.ok = false;
                    result.first_bad_seq = Some(seq);
                    result.reason = Some(format!(
                        "event {seq} arrived again with another hash ({events} such event(s) in fence.fleet_conflicts): the database cut or rewrote its chain from there"
                    ));
                }
                Verified {
                    database_id,
                    database_name,
                    ok: result.ok,
                    checked: result.checked,
                    first_bad_seq: result.first_bad_seq,
                    reason: result.reason,
                    head_hash: result.head_hash,
                    changes_checked,
                    last_event_us,
                }
            })
            .collect()
    })
}
