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
use fence_core::rows::{Block, BlockBuilder, Month, RowChange};
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use serde_json::{json, Value};

use crate::errors;
use crate::events;
use crate::ffi::xact::unix_us;
use crate::ffi::{guc, relcache, snapshot, stream, worker};
use crate::gate;
use crate::queries;
use crate::rows;
use crate::store::{self, as_owner};

fn require_read_committed(what: &str) {
    if snapshot::transaction_snapshot_isolation() {
        errors::raise(
            PgSqlErrorCode::ERRCODE_ACTIVE_SQL_TRANSACTION,
            format!("fence: {what} needs READ COMMITTED: it must see the latest seal"),
            None,
            Some("Run it outside a REPEATABLE READ or SERIALIZABLE transaction.".into()),
        );
    }
}

/// The end of the last sealed block (0 before the first seal), read with a new snapshot: once
/// the chain's append lock is held, it is the end of every seal committed.
fn last_sealed_xid(client: &SpiClient<'_>) -> i64 {
    let mut until = 0;
    stream::for_each_row(client, queries::LAST_SEAL, &[], |row| {
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
        Spi::connect(|client| {
            let from = last_sealed_xid(client);
            // The value of `from` is known when the query is planned: it picks the block-range
            // index for `txid >= from`.
            stream::for_each_row(client, queries::SEAL_ROWS, &[from], |row| {
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
            })
        });
        let Some(block) = builder.map(BlockBuilder::finish).filter(|b| b.changes > 0) else {
            return Round { sealed: None, waiting };
        };
        events::record_under_policy("row_seal", None, None, json!({"block": block.to_json()}));
        Round { sealed: Some(Sealed { block, read_from }), waiting }
    })
}

/// Summarizes the full block ranges of each partition from the first heap block the seal read
/// on: the next seal and the queries then skip them unless they may match.
fn summarize(sealed: &Sealed) {
    as_owner(|| {
        for (&partition, &first_block) in &sealed.read_from {
            Spi::get_one_with_args::<i32>(
                queries::SUMMARIZE_ROW_RANGES,
                &[partition.into(), i64::from(first_block).into()],
            )
            .unwrap_or_else(|e| errors::spi(e));
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

/// Whether a change is visible beyond the last sealed block, with a snapshot newer than the
/// last round's: a transaction may have committed since.
fn changes_waiting() -> bool {
    as_owner(|| {
        Spi::connect(|client| {
            let from = last_sealed_xid(client);
            let mut waiting = false;
            stream::for_each_row(client, queries::CHANGES_WAITING, &[from], |_| {
                waiting = true;
                false
            });
            waiting
        })
    })
}

/// How long the sealer stays once it has nothing to seal: under writes that come and go (a
/// burst every few seconds), one process seals them all instead of a new one starting for
/// each burst. A start costs 40 to 70 ms of CPU (a process, cold caches, plans); an idle round
/// a few ms, growing with the month's partition (its block-range index is read whole), so the
/// stay is kept to a few rounds.
const LINGER: Duration = Duration::from_secs(20);

/// The sealer worker, one per database at a time: every `fence.seal_interval` it keeps the
/// partitions ready and seals. It leaves once it has found nothing sealed and nothing waiting
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
            let owner = store::extension_owner()?;
            crate::ffi::security::as_owner(owner, || {
                Spi::run(queries::WORKER_TIMEOUTS).unwrap_or_else(|e| errors::spi(e));
                Spi::run(queries::SEALER_MEMORY).unwrap_or_else(|e| errors::spi(e));
                rows::ensure_partitions();
            });
            Some(seal(false))
        });
        let Some(round) = round else { return };
        if let Some(sealed) = &round.sealed {
            worker::transaction(|| summarize(sealed));
        }
        let idle = round.sealed.is_none() && !round.waiting;
        idle_since = if idle { idle_since.or_else(|| Some(Instant::now())) } else { None };
        if idle_since.is_some_and(|since| since.elapsed() >= LINGER) && !worker::transaction(changes_waiting) {
            return;
        }
        if !worker::sleep(|| Duration::from_secs(guc::seal_interval_s())) {
            return;
        }
    }
}

/// Seals now every change of the finished transactions; returns how many were sealed.
#[pg_extern]
fn seal_changes() -> i64 {
    require_read_committed("fence.seal_changes()");
    seal_waiting().map_or(0, |block| block.changes)
}

/// Drops the partitions of every month that ended before `older_than` — only once all their
/// changes are sealed — and chains the retention, so that verification knows those months
/// are gone by design. Returns the months dropped and how many changes each held.
#[pg_extern]
fn drop_row_changes(
    older_than: TimestampWithTimeZone,
) -> TableIterator<'static, (name!(month, String), name!(changes, i64))> {
    require_read_committed("fence.drop_row_changes()");
    let cutoff = unix_us(older_than);
    if cutoff > crate::ffi::xact::now_unix_us() {
        errors::invalid_parameter("older_than is in the future: only past months can be dropped", None);
    }
    seal_waiting();
    let dropped = as_owner(|| {
        let watermark = Spi::connect(last_sealed_xid);
        let partitions: Vec<String> = Spi::connect(|client| {
            client
                .select(queries::ROW_PARTITIONS, None, &[])?
                .map(|r| r.get::<String>(1))
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap_or_else(|e| errors::spi(e))
        .into_iter()
        .flatten()
        .collect();
        let mut dropped = Vec::new();
        for name in partitions {
            let Some(month) = month_of_partition(&name) else { continue };
            if month.next().start_us() > cutoff {
                continue;
            }
            let counts = Spi::get_two_with_args::<i64, i64>(
                "SELECT changes, unsealed FROM fence.row_partition_counts($1, $2)",
                &[name.as_str().into(), watermark.into()],
            )
            .unwrap_or_else(|e| errors::spi(e));
            let (changes, unsealed) = (counts.0.unwrap_or(0), counts.1.unwrap_or(0));
            if unsealed > 0 {
                errors::raise(
                    PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    format!("fence: {unsealed} changes of {month} are not sealed yet; nothing was dropped"),
                    None,
                    Some("Their transactions are still open: retry when they have finished.".into()),
                );
            }
            dropped.push((month, name, changes));
        }
        for (_, name, _) in &dropped {
            gate::internal(|| Spi::run_with_args("SELECT fence.drop_row_partition($1)", &[name.as_str().into()]))
                .unwrap_or_else(|e| errors::spi(e));
        }
        dropped
    });
    if !dropped.is_empty() {
        let months: Vec<String> = dropped.iter().map(|(m, _, _)| m.to_string()).collect();
        let changes: serde_json::Map<String, Value> =
            dropped.iter().map(|(m, _, n)| (m.to_string(), Value::from(*n))).collect();
        events::record_under_policy(
            "row_retention",
            None,
            None,
            json!({"months": months, "changes": changes, "older_than_us": cutoff}),
        );
    }
    TableIterator::new(dropped.into_iter().map(|(m, _, n)| (m.to_string(), n)).collect::<Vec<_>>())
}

fn month_of_partition(name: &str) -> Option<Month> {
    let rest = name.strip_prefix("row_changes_")?;
    rest.replacen('_', "-", 1).parse().ok()
}

/// Recomputes every stored change's hash and every sealed block, and counts the changes not
/// sealed yet.
pub fn verify_changes(events: ChainRowEvents) -> RowsVerification {
    let mut verifier = RowsVerifier::new(events);
    as_owner(|| {
        Spi::connect(|client| {
            stream::for_each_row(client, queries::VERIFY_CHANGES, &[], |row| {
                let text = |i: usize| row.text(i).unwrap_or_default();
                verifier.check(&StoredRow {
                    change: RowChange {
                        table_id: i64::from(row.int4(0).unwrap_or_default()),
                        relation: text(1),
                        operation: text(2),
                        row_key: row.text(3),
                        old_key: row.text(4),
                        old_values: row.text(5),
                        new_row: row.text(6),
                        actor: text(7),
                        session_role: text(8),
                        application_name: text(9),
                        client_addr: text(10),
                        backend_pid: row.int4(11).unwrap_or_default(),
                        txid: row.int8(12).unwrap_or_default(),
                        ordinal: row.int4(13).unwrap_or_default(),
                        changed_at_us: row.int8(14).unwrap_or_default(),
                    },
                    row_hash: row.text(15),
                    key_hash: row.int8(16),
                    old_key_hash: row.int8(17),
                })
            })
        })
    });
    verifier.finish()
}
