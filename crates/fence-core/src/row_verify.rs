//! Verification of the stored row changes against the blocks sealed into a verified chain:
//! every change's hash recomputed from its fields, every sealed block's month digests
//! recomputed from the changes stored in its range. The same code runs in the database
//! (`fence.verify_chain()`) and offline on exported CSV files (`fence verify-rows`).

use std::collections::BTreeSet;
use std::iter::Peekable;
use std::vec::IntoIter;

use serde_json::Value;

use crate::rows::{key_hash, Block, BlockBuilder, Month, RowChange, RowColumn, RowValue};

/// The row seals and retentions of a verified chain, in chain order.
#[derive(Default)]
pub struct ChainRowEvents {
    seals: Vec<(i64, Value)>,
    retired: BTreeSet<Month>,
}

impl ChainRowEvents {
    /// Keeps what verification of the row changes needs from one chain event.
    pub fn observe(&mut self, seq: i64, kind: &str, details: &Value) {
        match kind {
            "row_seal" => self.seals.push((seq, details.get("block").cloned().unwrap_or(Value::Null))),
            "row_retention" => self.retired.extend(
                details
                    .get("months")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.as_str()?.parse::<Month>().ok()),
            ),
            _ => {}
        }
    }
}

/// What verification found in the row changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowsVerification {
    /// Why verification failed, and the seal event whose block failed (None: a change not yet
    /// sealed was altered, or the seals themselves are broken before any block).
    pub failure: Option<(Option<i64>, String)>,
    pub checked: i64,
    pub unsealed: i64,
}

/// A sealed block being recomputed: its seal event, what was sealed, what is stored now.
struct Open {
    seq: i64,
    sealed: Block,
    stored: BlockBuilder,
}

/// One stored change as read back: its fields, and the hash and index keys stored with it.
pub struct StoredRow<'a> {
    pub change: RowChange<'a>,
    pub row_hash: Option<&'a str>,
    pub key_hash: Option<i64>,
    pub old_key_hash: Option<i64>,
}

impl<'a> StoredRow<'a> {
    /// Reads a stored change back, each column's value from `get` (NULL text reads as "").
    pub fn read(get: impl Fn(RowColumn) -> RowValue<'a>) -> StoredRow<'a> {
        let text = |column| get(column).text().unwrap_or_default();
        let number = |column| get(column).number().unwrap_or_default();
        StoredRow {
            change: RowChange {
                table_id: number(RowColumn::TableId),
                relation: text(RowColumn::Relation),
                operation: text(RowColumn::Operation),
                row_key: get(RowColumn::RowKey).text(),
                old_key: get(RowColumn::OldKey).text(),
                old_values: get(RowColumn::OldValues).text(),
                new_row: get(RowColumn::NewRow).text(),
                actor: text(RowColumn::Actor),
                session_role: text(RowColumn::SessionRole),
                application_name: text(RowColumn::ApplicationName),
                client_addr: text(RowColumn::ClientAddr),
                backend_pid: number(RowColumn::BackendPid) as i32,
                txid: number(RowColumn::Txid),
                ordinal: number(RowColumn::Ordinal) as i32,
                changed_at_us: number(RowColumn::ChangedAt),
            },
            row_hash: get(RowColumn::RowHash).text(),
            key_hash: get(RowColumn::KeyHash).number(),
            old_key_hash: get(RowColumn::OldKeyHash).number(),
        }
    }
}

/// Checks the stored changes, fed in `(txid, ordinal)` order, against the sealed blocks.
pub struct RowsVerifier {
    blocks: Peekable<IntoIter<Open>>,
    current: Option<Open>,
    retired: BTreeSet<Month>,
    result: RowsVerification,
}

impl RowsVerifier {
    /// The blocks the chain sealed, which must follow each other from transaction 0.
    pub fn new(events: ChainRowEvents) -> RowsVerifier {
        let mut result = RowsVerification { failure: None, checked: 0, unsealed: 0 };
        let mut blocks = Vec::new();
        let mut expected_from = 0;
        for (seq, value) in events.seals {
            match Block::from_json(&value) {
                Ok(block) if block.xid_from == expected_from => {
                    expected_from = block.xid_to;
                    blocks.push(Open { seq, stored: BlockBuilder::new(block.xid_from, block.xid_to), sealed: block });
                }
                Ok(block) => {
                    let reason = format!(
                        "row seal starts at transaction {} but the previous ended at {expected_from}",
                        block.xid_from
                    );
                    result.failure = Some((Some(seq), reason));
                    break;
                }
                Err(e) => {
                    result.failure = Some((Some(seq), format!("row seal is unreadable: {e}")));
                    break;
                }
            }
        }
        RowsVerifier { blocks: blocks.into_iter().peekable(), current: None, retired: events.retired, result }
    }

    fn close(&mut self, open: Open) {
        if let Err(reason) = open.stored.finish().check_against(&open.sealed, &self.retired) {
            self.result.failure = Some((Some(open.seq), reason));
        }
    }

    /// Checks the next stored change; false once verification has failed (feed no more).
    pub fn check(&mut self, row: &StoredRow<'_>) -> bool {
        if self.result.failure.is_some() {
            return false;
        }
        let change = &row.change;
        while self.current.as_ref().is_none_or(|b| change.txid >= b.sealed.xid_to) {
            if let Some(done) = self.current.take() {
                self.close(done);
                if self.result.failure.is_some() {
                    return false;
                }
            }
            match self.blocks.next_if(|b| change.txid >= b.sealed.xid_from) {
                Some(next) => self.current = Some(next),
                None => break,
            }
        }
        let hash = change.hash();
        let keys_indexed =
            row.key_hash == change.row_key.map(key_hash) && row.old_key_hash == change.old_key.map(key_hash);
        let wrong = if row.row_hash != Some(hash.as_str()) {
            Some("does not match its hash (altered after it was written)")
        } else if !keys_indexed {
            Some("is indexed under another key (key_hash altered: row_history would miss it)")
        } else {
            None
        };
        let block = self.current.as_mut().filter(|b| change.txid < b.sealed.xid_to);
        if let Some(wrong) = wrong {
            let reason = format!(
                "row change {} #{} of {} ({}) {wrong}",
                change.txid, change.ordinal, change.relation, change.operation
            );
            self.result.failure = Some((block.map(|b| b.seq), reason));
            return false;
        }
        self.result.checked += 1;
        match block {
            Some(block) => block.stored.add(change.txid, change.changed_at_us, &hash),
            None => self.result.unsealed += 1,
        }
        true
    }

    /// Closes the blocks still open (a sealed block with no change stored fails here).
    pub fn finish(mut self) -> RowsVerification {
        let rest: Vec<Open> = self.current.take().into_iter().chain(self.blocks.by_ref()).collect();
        for open in rest {
            if self.result.failure.is_some() {
                break;
            }
            self.close(open);
        }
        self.result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(txid: i64, ordinal: i32) -> RowChange<'static> {
        RowChange {
            table_id: 1,
            relation: "public.accounts",
            operation: "UPDATE",
            row_key: Some(r#"{"id": 1}"#),
            old_key: None,
            old_values: Some(r#"{"n":1}"#),
            new_row: Some(r#"{"id":1,"n":2}"#),
            actor: "app",
            session_role: "app",
            application_name: "",
            client_addr: "",
            backend_pid: 7,
            txid,
            ordinal,
            changed_at_us: 1_794_000_000_000_000,
        }
    }

    fn seal(changes: &[RowChange<'_>], xid_from: i64, xid_to: i64) -> Value {
        let mut builder = BlockBuilder::new(xid_from, xid_to);
        for c in changes {
            builder.add(c.txid, c.changed_at_us, &c.hash());
        }
        json!({"block": builder.finish().to_json()})
    }

    fn verify(
        events: ChainRowEvents,
        changes: &[RowChange<'_>],
        tamper: impl Fn(&mut StoredRow<'_>),
    ) -> RowsVerification {
        let mut verifier = RowsVerifier::new(events);
        for c in changes {
            let hash = c.hash();
            let mut row = StoredRow {
                change: c.clone(),
                row_hash: Some(&hash),
                key_hash: c.row_key.map(key_hash),
                old_key_hash: c.old_key.map(key_hash),
            };
            tamper(&mut row);
            if !verifier.check(&row) {
                break;
            }
        }
        verifier.finish()
    }

    fn sealed_pair() -> (ChainRowEvents, Vec<RowChange<'static>>) {
        let changes = vec![change(10, 1), change(10, 2), change(12, 1), change(20, 1)];
        let mut events = ChainRowEvents::default();
        events.observe(5, "row_seal", &seal(&changes[..3], 0, 15));
        (events, changes)
    }

    #[test]
    fn stored_changes_match_their_seal_and_later_ones_are_unsealed() {
        let (events, changes) = sealed_pair();
        assert_eq!(verify(events, &changes, |_| {}), RowsVerification { failure: None, checked: 4, unsealed: 1 });
    }

    #[test]
    fn an_altered_change_is_named_with_its_seal() {
        let (events, changes) = sealed_pair();
        let result = verify(events, &changes, |row| {
            if row.change.txid == 12 {
                row.change.new_row = Some(r#"{"id":1,"n":3}"#);
            }
        });
        let (seq, reason) = result.failure.unwrap();
        assert_eq!(seq, Some(5));
        assert!(reason.contains("row change 12 #1 of public.accounts (UPDATE) does not match its hash"), "{reason}");
    }

    #[test]
    fn a_removed_change_fails_its_block_and_a_rekeyed_one_is_caught() {
        let (events, changes) = sealed_pair();
        let without_one: Vec<_> = changes.iter().filter(|c| c.txid != 10 || c.ordinal != 2).cloned().collect();
        let (seq, reason) = verify(events, &without_one, |_| {}).failure.unwrap();
        assert_eq!(seq, Some(5));
        assert!(reason.contains("2 changes stored, 3 sealed"), "{reason}");
        let (events, changes) = sealed_pair();
        let rekeyed = verify(events, &changes, |row| row.key_hash = Some(1));
        assert!(rekeyed.failure.unwrap().1.contains("indexed under another key"));
    }

    #[test]
    fn seals_must_follow_each_other_and_retired_months_are_skipped() {
        let (mut events, changes) = sealed_pair();
        events.observe(6, "row_seal", &seal(&[], 16, 30));
        let (seq, reason) = verify(events, &changes, |_| {}).failure.unwrap();
        assert_eq!((seq, reason.as_str()), (Some(6), "row seal starts at transaction 16 but the previous ended at 15"));
        let (mut events, _) = sealed_pair();
        events.observe(7, "row_retention", &json!({"months": ["2026-11"]}));
        assert_eq!(verify(events, &[], |_| {}), RowsVerification { failure: None, checked: 0, unsealed: 0 });
    }
}
