//! Verifying the chain: every event's hash and link (against an anchor kept outside the
//! database, if given), and the governance tables (approvals, exemptions, policy versions)
//! against what the chain says of them.

use fence_core::chain::{Anchor, AuditEvent, FieldSource, FieldType, Verification, Verifier, FIELDS};
use fence_core::policy::{document_hash, Policy};
use fence_core::row_verify::ChainRowEvents;
use fence_core::state_verify::{ApprovalRow, ChainState, ExemptionRow, PolicyRow};
use serde_json::Value;

use crate::db::{self, exemptions_bound, owner::as_owner, queries, Arg, StreamRow};

/// The columns of chain_rows.sql: the hashed fields, by their names, then the links.
fn columns() -> [&'static str; FIELDS.len() + 2] {
    std::array::from_fn(|i| FIELDS.get(i).map_or(if i == FIELDS.len() { "prev_hash" } else { "event_hash" }, |f| f.0))
}

/// A row of the chain as the query streams it, read by the event's field names.
struct ChainRow<'a, 'r>(&'a StreamRow<'r, { FIELDS.len() + 2 }>);

impl ChainRow<'_, '_> {
    fn at(key: &str) -> Result<(usize, FieldType), String> {
        FIELDS.iter().position(|f| f.0 == key).map(|i| (i, FIELDS[i].1)).ok_or_else(|| format!("no field {key}"))
    }
}

impl FieldSource for ChainRow<'_, '_> {
    fn text(&self, key: &str) -> Result<Option<String>, String> {
        Ok(self.0.text(Self::at(key)?.0).map(str::to_string))
    }

    fn number(&self, key: &str) -> Result<Option<i64>, String> {
        let (at, kind) = Self::at(key)?;
        Ok(match kind {
            FieldType::Integer => self.0.int4(at).map(i64::from),
            FieldType::Time => self.0.timestamptz_unix_us(at),
            _ => self.0.int8(at),
        })
    }

    fn json(&self, key: &str) -> Result<Value, String> {
        Ok(self.0.text(Self::at(key)?.0).and_then(|d| serde_json::from_str(d).ok()).unwrap_or(Value::Null))
    }
}

/// Verifies the whole chain, reading it in batches; with an anchor, also that the chain
/// still reaches it unchanged. Also returns the row seals and retentions it holds, and what
/// it says of the governance state.
pub fn chain(anchor: Option<Anchor>) -> (Verification, ChainRowEvents, ChainState) {
    let mut row_events = ChainRowEvents::default();
    let mut state = ChainState::default();
    let verification = as_owner(|| {
        events(queries::CHAIN_ROWS, &[], anchor, |event| {
            row_events.observe(event.seq, &event.kind, &event.details);
            state.observe(event);
        })
    });
    (verification, row_events, state)
}

/// Verifies the chain of events a query returns (in the columns of chain_rows.sql, in seq
/// order), reading it in batches; `observe` sees each event that verified.
pub fn events(
    query: &'static str,
    args: &[Arg<'_>],
    anchor: Option<Anchor>,
    mut observe: impl FnMut(&AuditEvent),
) -> Verification {
    let mut verifier = Verifier::with_anchor(anchor);
    let links = FIELDS.len();
    db::stream(query, args, columns(), |row| {
        let event = match AuditEvent::read(&ChainRow(row)) {
            Ok(event) => event,
            Err(reason) => {
                verifier.unreadable(reason);
                return false;
            }
        };
        if !verifier.check(&event, row.text(links).unwrap_or_default(), row.text(links + 1).unwrap_or_default()) {
            return false;
        }
        observe(&event);
        true
    });
    verifier.finish()
}

/// The first disagreement between the governance tables (approvals, exemptions, policy
/// versions) and what the chain says of them.
pub fn state(state: &ChainState) -> Option<String> {
    if !exemptions_bound() {
        // Before ALTER EXTENSION fence UPDATE the state is proven from 0.4.0's tables on; an
        // installed 0.4.0 without them was altered.
        let installed = db::select_value::<String>(queries::EXTENSION_VERSION, &[], "extversion");
        return (installed.as_deref() == Some(env!("CARGO_PKG_VERSION")))
            .then(|| "fence.exemptions lacks the columns this version binds exemptions with (altered)".to_string());
    }
    let (mut approvals, mut exemptions, mut policies) = (Vec::new(), Vec::new(), Vec::new());
    let list = |text: Option<String>| -> Option<Vec<String>> { text.and_then(|t| serde_json::from_str(&t).ok()) };
    as_owner(|| {
        db::select(queries::STATE_ROWS, &[], |row| {
            let text = |column: &str| row.get::<String>(column);
            let id: i64 = text("id").and_then(|t| t.parse().ok()).unwrap_or_default();
            match text("kind").as_deref() {
                Some("approval") => approvals.push(ApprovalRow {
                    id,
                    content_hash: row.text("a"),
                    statement_hashes: list(text("b")).unwrap_or_default(),
                    decision: row.text("c"),
                    approved_by: row.text("d"),
                    revoked: text("revoked").as_deref() == Some("true"),
                }),
                Some("exemption") => exemptions.push(ExemptionRow {
                    id,
                    scope: row.text("a"),
                    target: row.text("b"),
                    reason: row.text("c"),
                    finding: text("d"),
                    revoked: text("revoked").as_deref() == Some("true"),
                    expires_us: text("expires_us").and_then(|t| t.parse().ok()).unwrap_or_default(),
                    relid: text("relid").and_then(|t| t.parse().ok()),
                    statement_hashes: list(text("statement_hashes")),
                    databases: list(text("databases")),
                }),
                _ => {
                    let document: Value = text("b").and_then(|d| serde_json::from_str(&d).ok()).unwrap_or(Value::Null);
                    let effective = Policy::parse(&document).map(|(_, full)| document_hash(&full)).unwrap_or_default();
                    policies.push(PolicyRow {
                        version: id,
                        document_hash: row.text("a"),
                        recomputed_hash: document_hash(&document),
                        effective_hash: effective,
                    });
                }
            }
        })
    });
    let defaults = Policy::parse(&serde_json::json!({})).map(|(_, full)| document_hash(&full)).unwrap_or_default();
    state.verify(&approvals, &exemptions, &policies, &defaults)
}
