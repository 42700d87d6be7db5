//! Sealing tracked row changes into the audit chain, retention, and their verification.
//!
//! A block holds every change of the transactions with `xid_from <= txid < xid_to`, where
//! `xid_to` is the xmin of the sealer's snapshot: every transaction below it has finished, so
//! no change can later appear inside a sealed range. Blocks are contiguous (each starts where
//! the previous ended) and each is one `row_seal` event in the chain. Writers never wait for
//! the sealer; the sealer holds the chain's append lock while it reads and appends (to the end
//! of its transaction), then summarizes the block ranges it read (the worker in a transaction
//! of its own, after the lock is released).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use fence_core::row_verify::{ChainRowEvents, RowsVerification, RowsVerifier, StoredRow};
use fence_core::rows::{Block, BlockBuilder, Month, RowColumn, RowColumnType, RowValue, ROW_COLUMNS};
use pgrx::pg_sys;
use pgrx::prelude::*;
use serde_json::{json, Value};

use super::tracking;
use crate::chain::append;
use crate::db::owner::{self, as_owner};
use crate::db::{self, queries};
use crate::errors;
use crate::ffi::xact::{now_unix_us, unix_us};
use crate::ffi::{relcache, security, snapshot, worker};
use crate::governance::policy;
use crate::{session, settings};

fn require_read_committed(what: &str) {
    if snapshot::transaction_snapshot_isolation() {
        errors::active_transaction(format!("{what} needs READ COMMITTED: it must see the latest seal"))
            .hint("Run it outside a REPEATABLE READ or SERIALIZABLE transaction.")
            .raise();
    }
}

/// The end of the last sealed block (0 before the first seal), read with a new snapshot: once
/// the chain's append lock is held, it is the end of every seal committed.
fn last_sealed_xid() -> i64 {
    let mut until = 0;
    db::stream(queries::LAST_SEAL, &[], ["sealed_until"], |row| {
        until = row.int8(0).unwrap_or(0);
        false
    });
    until
}

/// A block just sealed, and the first heap block its changes were read from in each partition.
struct Sealed {
    block: Block,
    read_from: HashMap<pg_sys::Oid, u32>,
}

/// What a seal found: the block it sealed (None: nothing to seal), and whether changes wait
/// beyond it (their transactions had not all finished when it looked, or another session held
/// the chain).
struct Round {
    sealed: Option<Sealed>,
    waiting: bool,
}

/// Seals every change of the transactions finished since the last block.
fn seal(wait: bool) -> Round {
    let Some(chain) = relcache::audit_chain_oid() else {
        return Round { sealed: None, waiting: false };
    };
    as_owner(|| {
        if wait {
            snapshot::lock_chain(chain);
        } else if !snapshot::try_lock_chain(chain) {
            return Round { sealed: None, waiting: true };
        }
        let mut builder: Option<BlockBuilder> = None;
        let mut waiting = false;
        let mut read_from: HashMap<pg_sys::Oid, u32> = HashMap::new();
        let from = last_sealed_xid();
        // The value of `from` is known when the query is planned: it picks the block-range
        // index for `txid >= from`.
        let columns = ["horizon", "txid", "changed_at", "row_hash", "tableoid", "ctid"];
        db::stream(queries::SEAL_ROWS, &[from.into()], columns, |row| {
            let horizon = row.int8(0).unwrap_or(from);
            let block = builder.get_or_insert_with(|| BlockBuilder::new(from, horizon));
            match (row.int8(1), row.timestamptz_unix_us(2), row.text(3)) {
                (Some(txid), _, _) if txid >= horizon => waiting = true,
                (Some(txid), Some(at), Some(hash)) => block.add(txid, at, hash),
                _ => {}
            }
            if let (Some(partition), Some(heap_block)) = (row.oid(4), row.tid_block(5)) {
                let first = read_from.entry(partition).or_insert(heap_block);
                *first = (*first).min(heap_block);
            }
            true
        });
        let Some(block) = builder.map(BlockBuilder::finish).filter(|b| b.changes > 0) else {
            return Round { sealed: None, waiting };
        };
        policy::record_event("row_seal", None, None, json!({"block": block.to_json()}));
        Round { sealed: Some(Sealed { block, read_from }), waiting }
    })
}

/// Summarizes the full block ranges of each partition from the first heap block the seal read
/// on: the next seal and the queries then skip them unless they may match.
fn summarize(sealed: &Sealed) {
    as_owner(|| {
        for (&partition, &first_block) in &sealed.read_from {
            db::execute(queries::SUMMARIZE_ROW_RANGES, &[partition.into(), i64::from(first_block).into()]);
        }
    })
}

/// Seals at once, waiting for the chain if another session holds it, and summarizes the block
/// ranges the seal read, all in the caller's transaction.
fn seal_waiting() -> Option<Block> {
    let sealed = seal(true).sealed?;
    summarize(&sealed);
    Some(sealed.block)
}

/// Whether a change is visible beyond the last sealed block, or an event is parked, with a
/// snapshot newer than the last round's: a transaction may have committed since.
fn anything_waiting() -> bool {
    as_owner(|| {
        if append::parked_count() > 0 || append::parking_under_way() {
            return true;
        }
        let from = last_sealed_xid();
        let mut waiting = false;
        db::stream(queries::CHANGES_WAITING, &[from.into()], [], |_| {
            waiting = true;
            false
        });
        waiting
    })
}

/// How long the sealer stays once it has nothing to seal: under writes that come and go (a
/// burst every few seconds), one process seals them all instead of a new one starting for
/// each burst. A start costs 40 to 70 ms of CPU (a process, cold caches, plans); an idle round
/// a few ms, growing with the month's partition (its block-range index is read whole), so the
/// stay is kept to a few rounds.
const LINGER: Duration = Duration::from_secs(20);

/// The sealer worker, one per database at a time: every `fence.seal_interval` it keeps the
/// partitions ready, chains the DDL events parked while another transaction held the chain,
/// and seals. It leaves once it has found nothing sealed and nothing waiting
/// for `LINGER` (a database with no writes keeps no worker), or at once when a session wants
/// the database to itself (DROP DATABASE needs no FORCE). A change of a transaction that had
/// not finished when a round looked (the session that started the sealer may still be
/// committing, a long transaction holds the horizon back) is waiting: the sealer goes on
/// until it is sealed, and before leaving it looks once more with a new snapshot. It takes in
/// a reloaded postgresql.conf while it sleeps; a new database or role setting reaches the next
/// sealer. Writing sessions start one when none runs (each checks at most every interval), so
/// under a steady load one process seals throughout. Changes committed after it leaves wait
/// for the next one, or for `fence.seal_changes()`; `verify_chain` counts them as unsealed.
pub fn run_worker() {
    if !worker::transaction(worker::claim_sealer) {
        return; // another sealer runs
    }
    let mut idle_since: Option<Instant> = None;
    loop {
        // None: fence is gone from this database.
        let round = worker::transaction(|| {
            let owner = owner::extension_owner()?;
            let parked = security::as_owner(owner, || {
                db::execute(queries::WORKER_TIMEOUTS, &[]);
                db::execute(queries::SEALER_MEMORY, &[]);
                tracking::ensure_partitions();
                // DDL events parked while another transaction held the chain, first.
                append::try_chain_parked()
            });
            Some((seal(false), parked))
        });
        let Some((round, parked)) = round else { return };
        if let Some(sealed) = &round.sealed {
            worker::transaction(|| summarize(sealed));
        }
        let idle = round.sealed.is_none() && !round.waiting && parked == Some(0);
        idle_since = if idle { idle_since.or_else(|| Some(Instant::now())) } else { None };
        if idle_since.is_some_and(|since| since.elapsed() >= LINGER) && !worker::transaction(anything_waiting) {
            return;
        }
        if !worker::sleep(|| Duration::from_secs(settings::seal_interval_s())) {
            return;
        }
    }
}

/// Chains the parked events, then seals every change of the finished transactions; returns
/// how many changes were sealed.
pub fn seal_now() -> i64 {
    require_read_committed("fence.seal_changes()");
    as_owner(append::chain_parked);
    seal_waiting().map_or(0, |block| block.changes)
}

/// Drops the partitions of every month that ended before `older_than` — only once all their
/// changes are sealed — and chains the retention, so that verification knows those months
/// are gone by design. Returns the months dropped and how many changes each held.
pub fn drop_months(older_than: TimestampWithTimeZone) -> Vec<(String, i64)> {
    require_read_committed("fence.drop_row_changes()");
    let cutoff = unix_us(older_than);
    if cutoff > now_unix_us() {
        errors::invalid_parameter("older_than is in the future: only past months can be dropped").raise();
    }
    seal_waiting();
    let dropped = as_owner(|| {
        let watermark = last_sealed_xid();
        let partitions: Vec<String> = db::select(queries::ROW_PARTITIONS, &[], |row| row.get::<String>("relname"))
            .into_iter()
            .flatten()
            .collect();
        let mut dropped = Vec::new();
        for name in partitions {
            let Some(month) = month_of_partition(&name) else { continue };
            if month.next().start_us() > cutoff {
                continue;
            }
            let counts =
                db::select_first(queries::ROW_PARTITION_COUNTS, &[name.as_str().into(), watermark.into()], |row| {
                    (row.get::<i64>("changes").unwrap_or(0), row.get::<i64>("unsealed").unwrap_or(0))
                });
            let (changes, unsealed) = counts.unwrap_or((0, 0));
            if unsealed > 0 {
                errors::prerequisite(format!("{unsealed} changes of {month} are not sealed yet; nothing was dropped"))
                    .hint("Their transactions are still open: retry when they have finished.")
                    .raise();
            }
            dropped.push((month, name, changes));
        }
        for (_, name, _) in &dropped {
            session::internal(|| db::execute(queries::DROP_ROW_PARTITION, &[name.as_str().into()]));
        }
        dropped
    });
    if !dropped.is_empty() {
        let months: Vec<String> = dropped.iter().map(|(m, _, _)| m.to_string()).collect();
        let changes: serde_json::Map<String, Value> =
            dropped.iter().map(|(m, _, n)| (m.to_string(), Value::from(*n))).collect();
        policy::record_event(
            "row_retention",
            None,
            None,
            json!({"months": months, "changes": changes, "older_than_us": cutoff}),
        );
    }
    dropped.into_iter().map(|(m, _, n)| (m.to_string(), n)).collect()
}

fn month_of_partition(name: &str) -> Option<Month> {
    let rest = name.strip_prefix("row_changes_")?;
    rest.replacen('_', "-", 1).parse().ok()
}

/// Recomputes every stored change's hash and every sealed block, and counts the changes not
/// sealed yet.
pub fn verify_changes(events: ChainRowEvents) -> RowsVerification {
    as_owner(|| verify_copied(events, queries::VERIFY_CHANGES, &[]))
}

/// Verifies the row changes `query` returns with `args` (the columns of
/// `fence.row_changes_export`, in sealing order: this database's, or the copies of another's
/// on the fleet's evidence database) against the seals of the chain they belong to.
pub fn verify_copied(events: ChainRowEvents, query: &'static str, args: &[db::Arg<'_>]) -> RowsVerification {
    let mut verifier = RowsVerifier::new(events);
    let columns = ROW_COLUMNS.map(|(_, column)| column.exported_name());
    let position = |wanted: RowColumn| ROW_COLUMNS.iter().position(|&(_, column)| column == wanted).unwrap_or(0);
    db::stream(query, args, columns, |row| {
        verifier.check(&StoredRow::read(|column| {
            let at = position(column);
            match column.column_type() {
                RowColumnType::Text => RowValue::Text(row.text(at)),
                RowColumnType::Integer => RowValue::Number(row.int4(at).map(i64::from)),
                RowColumnType::BigInt | RowColumnType::Time => RowValue::Number(row.int8(at)),
            }
        }))
    });
    verifier.finish()
}
