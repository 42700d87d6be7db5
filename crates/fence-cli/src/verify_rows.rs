//! `fence verify-rows`: the tracked row changes of an export checked offline against the
//! seals of an exported chain, with fence-core's own verification (the one
//! `fence.verify_chain()` runs): the chain first, then every change's hash, its index keys and
//! every sealed block's digests.

use std::process::ExitCode;

use fence_core::chain::Anchor;
use fence_core::row_verify::{ChainRowEvents, RowsVerification, RowsVerifier, StoredRow};
use fence_core::rows::RowChange;

use crate::verify_csv::{self, Columns};

/// One exported change (`fence.row_changes_export`), its fields as read.
struct Exported {
    record: csv::StringRecord,
    txid: i64,
    ordinal: i32,
}

fn number<T: std::str::FromStr>(
    columns: &Columns,
    record: &csv::StringRecord,
    name: &str,
) -> Result<Option<T>, String> {
    columns
        .text(record, name)?
        .map(|v| v.parse().map_err(|_| format!("column {name}: \"{v}\" is not an integer")))
        .transpose()
}

/// Checks the changes of `data` (any order: they are sorted by transaction and ordinal).
pub fn verify(events: ChainRowEvents, data: impl std::io::Read) -> Result<RowsVerification, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(data);
    let columns = Columns::of(reader.headers().map_err(|e| e.to_string())?);
    let mut changes = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let at = |e: String| format!("row {}: {e}", line + 1);
        let record = record.map_err(|e| at(e.to_string()))?;
        let txid = number(&columns, &record, "txid").map_err(at)?.ok_or_else(|| at("txid is empty".into()))?;
        let ordinal = number(&columns, &record, "ordinal").map_err(at)?.ok_or_else(|| at("ordinal is empty".into()))?;
        changes.push(Exported { record, txid, ordinal });
    }
    changes.sort_by_key(|c| (c.txid, c.ordinal));
    let mut verifier = RowsVerifier::new(events);
    for (index, exported) in changes.iter().enumerate() {
        let at = |e: String| format!("change {} #{} (sorted row {}): {e}", exported.txid, exported.ordinal, index + 1);
        let record = &exported.record;
        // PostgreSQL's CSV writes NULL as an empty field; keys and images are never empty
        // JSON, and an empty text (an unset application_name) is hashed as the empty string.
        let text = |name: &str| columns.text(record, name).map(Option::unwrap_or_default).map_err(at);
        let optional = |name: &str| columns.text(record, name).map_err(at);
        let int = |name: &str| number::<i64>(&columns, record, name).map_err(at);
        let row = StoredRow {
            change: RowChange {
                table_id: int("table_id")?.unwrap_or_default(),
                relation: text("relation")?,
                operation: text("operation")?,
                row_key: optional("row_key")?,
                old_key: optional("old_key")?,
                old_values: optional("old_values")?,
                new_row: optional("new_row")?,
                actor: text("actor")?,
                session_role: text("session_role")?,
                application_name: text("application_name")?,
                client_addr: text("client_addr")?,
                backend_pid: number(&columns, record, "backend_pid").map_err(at)?.unwrap_or_default(),
                txid: exported.txid,
                ordinal: exported.ordinal,
                changed_at_us: int("changed_at_us")?.unwrap_or_default(),
            },
            row_hash: optional("row_hash")?,
            key_hash: int("key_hash")?,
            old_key_hash: int("old_key_hash")?,
        };
        if !verifier.check(&row) {
            break;
        }
    }
    Ok(verifier.finish())
}

pub fn run(chain_file: &str, changes_file: &str, anchor: Option<Anchor>) -> Result<ExitCode, String> {
    let open = |file: &str| std::fs::File::open(file).map_err(|e| format!("{file}: {e}"));
    let rows = verify_csv::read(open(chain_file)?).map_err(|e| format!("{chain_file}: {e}"))?;
    let (chain, _) = verify_csv::verify(&rows, anchor, false);
    if !chain.ok {
        crate::exit_on_closed_pipe(1);
        println!(
            "FAILED at event {} of the chain: {} ({} events verified before it)",
            chain.first_bad_seq.unwrap_or_default(),
            chain.reason.unwrap_or_default(),
            chain.checked
        );
        return Ok(ExitCode::from(1));
    }
    let mut events = ChainRowEvents::default();
    for row in &rows {
        events.observe(row.event.seq, &row.event.kind, &row.event.details);
    }
    let result = verify(events, open(changes_file)?).map_err(|e| format!("{changes_file}: {e}"))?;
    match result.failure {
        None => {
            println!(
                "ok: {} events and {} row changes verified ({} not sealed yet); head {}",
                chain.checked, result.checked, result.unsealed, chain.head_hash
            );
            Ok(ExitCode::SUCCESS)
        }
        Some((seal, reason)) => {
            let seal = seal.map_or(String::new(), |seq| format!(" (sealed by event {seq})"));
            crate::exit_on_closed_pipe(1);
            println!("FAILED: {reason}{seal} ({} row changes verified before it)", result.checked);
            Ok(ExitCode::from(1))
        }
    }
}
