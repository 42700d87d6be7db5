//! `fence.verify_chain()` (with and without an anchor) and `fence.anchor()`.

use fence_core::chain::Anchor;
use pgrx::prelude::*;
use serde_json::json;

use crate::chain::{append, verify};
use crate::db::owner::as_owner;
use crate::errors;
use crate::ffi::xact;
use crate::governance::policy;
use crate::rows::seal;

/// Microseconds since 1970 of a time: an event's hashed `time_us` from its `recorded_at`
/// (what the export shows, without numeric arithmetic per row).
#[pg_extern(immutable, strict, parallel_safe)]
fn time_us(time: TimestampWithTimeZone) -> i64 {
    xact::unix_us(time)
}

type VerifyRow = (bool, i64, Option<i64>, Option<String>, String, i64, i64, i64);

/// The chain, then (if it holds) every tracked row change against its sealed block.
fn verification_row(anchor: Option<Anchor>) -> VerifyRow {
    let (chain, row_events, state) = verify::chain(anchor);
    let parked = as_owner(append::parked_count);
    if !chain.ok {
        return (false, chain.checked, chain.first_bad_seq, chain.reason, chain.head_hash, 0, 0, parked);
    }
    if let Some(reason) = verify::state(&state) {
        return (false, chain.checked, None, Some(reason), chain.head_hash, 0, 0, parked);
    }
    let rows = seal::verify_changes(row_events);
    let (first_bad_seq, reason) = rows.failure.map_or((None, None), |(seq, reason)| (seq, Some(reason)));
    (reason.is_none(), chain.checked, first_bad_seq, reason, chain.head_hash, rows.checked, rows.unsealed, parked)
}

/// Recomputes every hash of the chain and of the tracked row changes: ok, how many events
/// verified, the first bad seq and why, the head hash, how many row changes verified and how
/// many of them are not sealed into the chain yet, and how many events wait parked to be
/// chained (a transaction committed while another held the chain, or a denial's writer was
/// busy: the next appender or the sealer chains them).
#[pg_extern]
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelled out here
fn verify_chain() -> TableIterator<
    'static,
    (
        name!(ok, bool),
        name!(checked, i64),
        name!(first_bad_seq, Option<i64>),
        name!(reason, Option<String>),
        name!(head_hash, String),
        name!(changes_checked, i64),
        name!(changes_unsealed, i64),
        name!(events_parked, i64),
    ),
> {
    TableIterator::once(verification_row(None))
}

/// The same, and the chain must still reach an anchor kept outside the database (from
/// `fence.anchor()`) with the same hash: catches a cut tail or a rewritten history.
#[pg_extern(name = "verify_chain")]
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelled out here
fn verify_chain_against(
    anchor_seq: i64,
    anchor_hash: &str,
) -> TableIterator<
    'static,
    (
        name!(ok, bool),
        name!(checked, i64),
        name!(first_bad_seq, Option<i64>),
        name!(reason, Option<String>),
        name!(head_hash, String),
        name!(changes_checked, i64),
        name!(changes_unsealed, i64),
        name!(events_parked, i64),
    ),
> {
    let anchor = format!("{anchor_seq}:{anchor_hash}").parse::<Anchor>().unwrap_or_else(|e| {
        errors::invalid_parameter(e).hint("Pass the seq and event_hash returned by fence.anchor().").raise()
    });
    TableIterator::once(verification_row(Some(anchor)))
}

/// The chain's head (seq and event hash) to keep outside the database; the anchoring itself
/// is recorded as an event.
#[pg_extern]
fn anchor() -> TableIterator<'static, (name!(seq, i64), name!(event_hash, String))> {
    let (seq, hash) = as_owner(append::head);
    policy::record_event("anchor", None, None, json!({"anchored_seq": seq, "anchored_hash": hash}));
    TableIterator::once((seq, hash))
}
