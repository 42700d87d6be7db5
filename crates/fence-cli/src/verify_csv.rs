//! `fence verify-csv`: recompute an exported chain with fence-core's hashing, from the CSV
//! alone. PostgreSQL's CSV writes NULL as an empty unquoted field; fence never stores an
//! empty string in the hashed text columns, so an empty field reads as NULL.

use std::collections::HashMap;
use std::process::ExitCode;

use fence_core::chain::{Anchor, AuditEvent, Verification, Verifier};
use serde_json::Value;

/// One exported row: the event, the hashes stored with it, and every non-empty column by
/// name (the evidence fields a report shows: approver, exemption reason, repository, ...).
pub struct Row {
    pub event: AuditEvent,
    pub prev_hash: String,
    pub event_hash: String,
    pub columns: HashMap<String, String>,
}

impl Row {
    pub fn column(&self, name: &str) -> Option<&str> {
        self.columns.get(name).map(String::as_str)
    }
}

/// The columns of a CSV export, by name (PostgreSQL's COPY ... WITH (FORMAT csv, HEADER)).
pub struct Columns(HashMap<String, usize>);

impl Columns {
    pub fn of(header: &csv::StringRecord) -> Columns {
        Columns(header.iter().enumerate().map(|(i, name)| (name.to_string(), i)).collect())
    }

    /// A column's value; None when empty (how the export writes NULL).
    pub fn text<'r>(&self, record: &'r csv::StringRecord, name: &str) -> Result<Option<&'r str>, String> {
        let index =
            self.0.get(name).ok_or_else(|| format!("the CSV has no column \"{name}\" (export it with HEADER)"))?;
        Ok(record.get(*index).filter(|v| !v.is_empty()))
    }

    fn string(&self, record: &csv::StringRecord, name: &str) -> Result<Option<String>, String> {
        Ok(self.text(record, name)?.map(str::to_string))
    }

    fn number(&self, record: &csv::StringRecord, name: &str) -> Result<Option<i64>, String> {
        self.text(record, name)?
            .map(|v| v.parse().map_err(|_| format!("column {name}: \"{v}\" is not an integer")))
            .transpose()
    }
}

/// Reads the rows of an export (any column order; extra columns ignored), sorted by seq.
pub fn read(data: impl std::io::Read) -> Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(data);
    let header = reader.headers().map_err(|e| e.to_string())?.clone();
    let columns = Columns::of(&header);
    let mut rows = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("row {}: {e}", line + 1))?;
        let at = |e: String| format!("row {}: {e}", line + 1);
        let required = |name: &str| {
            columns.string(&record, name).map_err(at)?.ok_or_else(|| at(format!("column {name} is empty")))
        };
        let details = columns.text(&record, "details").map_err(at)?.unwrap_or("null");
        let event = AuditEvent {
            seq: columns.number(&record, "seq").map_err(at)?.ok_or_else(|| at("seq is empty".into()))?,
            time_us: columns.number(&record, "time_us").map_err(at)?.ok_or_else(|| at("time_us is empty".into()))?,
            kind: required("kind")?,
            session_role: required("session_role")?,
            executing_role: required("executing_role")?,
            txid: columns.number(&record, "txid").map_err(at)?,
            command_tag: columns.string(&record, "command_tag").map_err(at)?,
            relation: columns.string(&record, "relation").map_err(at)?,
            statement: columns.string(&record, "statement").map_err(at)?,
            statement_hash: columns.string(&record, "statement_hash").map_err(at)?,
            content_hash: columns.string(&record, "content_hash").map_err(at)?,
            decision: columns.string(&record, "decision").map_err(at)?,
            reason: columns.string(&record, "reason").map_err(at)?,
            risk: columns.string(&record, "risk").map_err(at)?,
            policy_version: columns.number(&record, "policy_version").map_err(at)?,
            policy_hash: columns.string(&record, "policy_hash").map_err(at)?,
            details: serde_json::from_str::<Value>(details).map_err(|e| at(format!("details is not JSON: {e}")))?,
        };
        let columns = header
            .iter()
            .zip(record.iter())
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        rows.push(Row { event, prev_hash: required("prev_hash")?, event_hash: required("event_hash")?, columns });
    }
    rows.sort_by_key(|r| r.event.seq);
    Ok(rows)
}

/// Verifies rows; also returns the missing ranges of a segmented check.
pub fn verify(rows: &[Row], anchor: Option<Anchor>, segments: bool) -> (Verification, Vec<(i64, i64)>) {
    let mut verifier = if segments { Verifier::segments(anchor) } else { Verifier::with_anchor(anchor) };
    for row in rows {
        if !verifier.check(&row.event, &row.prev_hash, &row.event_hash) {
            break;
        }
    }
    let gaps = verifier.gaps().to_vec();
    (verifier.finish(), gaps)
}

pub fn run(file: &str, anchor: Option<Anchor>, segments: bool) -> Result<ExitCode, String> {
    let data = std::fs::File::open(file).map_err(|e| format!("{file}: {e}"))?;
    let rows = read(data).map_err(|e| format!("{file}: {e}"))?;
    let (v, gaps) = verify(&rows, anchor.clone(), segments);
    let anchored = anchor.map_or(String::new(), |a| format!(", reaching anchor {a}"));
    crate::exit_on_closed_pipe(if v.ok { 0 } else { 1 });
    if v.ok {
        println!("ok: {} events verified{anchored}; head {}", v.checked, v.head_hash);
        for (from, to) in gaps {
            println!("not in this export: events {from}..{to}");
        }
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "FAILED at event {}: {} ({} events verified before it)",
            v.first_bad_seq.unwrap_or_default(),
            v.reason.unwrap_or_default(),
            v.checked
        );
        Ok(ExitCode::from(1))
    }
}
