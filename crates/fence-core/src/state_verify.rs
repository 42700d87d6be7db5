//! The state fence decides on — policy versions, approvals and their revocations,
//! exemptions and theirs — proven from the chain: every row must say what its chained event
//! said, every chained grant must still have its row, and a revocation holds exactly when one
//! is chained. A superuser who edits those tables (re-enables a revoked approval, writes a
//! policy with mode off, stretches an exemption) leaves the chain and the tables disagreeing,
//! and verification names the row.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::chain::AuditEvent;

/// An approval row as stored (`fence.approvals`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRow {
    pub id: i64,
    pub content_hash: String,
    pub statement_hashes: Vec<String>,
    pub decision: String,
    pub approved_by: String,
    pub revoked: bool,
}

/// An exemption row as stored (`fence.exemptions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExemptionRow {
    pub id: i64,
    pub scope: String,
    pub target: String,
    pub reason: String,
    pub finding: Option<String>,
    pub expires_us: i64,
    pub relid: Option<u32>,
    pub statement_hashes: Option<Vec<String>>,
    /// The databases it applies in (NULL: all).
    pub databases: Option<Vec<String>>,
    pub revoked: bool,
}

/// A policy version as stored, with the hash of its document recomputed, and the hash of
/// the policy it amounts to (the document with every key the release fills in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRow {
    pub version: i64,
    pub document_hash: String,
    pub recomputed_hash: String,
    pub effective_hash: String,
}

/// An approval event's facts: seq, statement hashes, approver, content hash, decision.
type ApprovalFacts = (i64, Value, String, Option<String>, Option<String>);

/// What the chain says of the governance state.
#[derive(Debug, Default)]
pub struct ChainState {
    approvals: BTreeMap<i64, ApprovalFacts>,
    approvals_revoked: BTreeSet<i64>,
    exemptions: BTreeMap<i64, (i64, Value)>,
    exemptions_revoked: BTreeSet<i64>,
    policies: BTreeMap<i64, (i64, String)>,
}

fn id_of(details: &Value, key: &str) -> Option<i64> {
    details.get(key).and_then(Value::as_i64)
}

impl ChainState {
    /// Keeps what state verification needs from one (verified) chain event.
    pub fn observe(&mut self, event: &AuditEvent) {
        let details = &event.details;
        match event.kind.as_str() {
            "approval" => {
                if let Some(id) = id_of(details, "approval_id") {
                    let facts = (
                        event.seq,
                        details.get("statement_hashes").cloned().unwrap_or(Value::Null),
                        // Received from the fleet's control database: the approver there.
                        details
                            .get("fleet")
                            .and(details.get("approved_by"))
                            .and_then(Value::as_str)
                            .map_or_else(|| event.session_role.clone(), str::to_string),
                        event.content_hash.clone(),
                        event.decision.clone(),
                    );
                    self.approvals.insert(id, facts);
                }
            }
            "approval_revoked" => {
                let ids = details.get("approval_ids").and_then(Value::as_array);
                self.approvals_revoked.extend(ids.into_iter().flatten().filter_map(Value::as_i64));
            }
            "exemption" => {
                if let Some(id) = id_of(details, "exemption_id") {
                    self.exemptions.insert(id, (event.seq, details.clone()));
                }
            }
            "exemption_revoked" => self.exemptions_revoked.extend(id_of(details, "exemption_id")),
            "policy" => {
                if let (Some(version), Some(hash)) = (event.policy_version, &event.policy_hash) {
                    self.policies.insert(version, (event.seq, hash.clone()));
                }
            }
            _ => {}
        }
    }

    /// The first disagreement between the chain and an approval row, if any.
    fn approval(&self, row: &ApprovalRow) -> Option<String> {
        let what = format!("approval {} ({})", row.id, row.content_hash);
        let Some((seq, hashes, by, content, decision)) = self.approvals.get(&row.id) else {
            return Some(format!("{what} has no approval event in the chain (written outside fence)"));
        };
        let chained_hashes: Vec<String> =
            hashes.as_array().into_iter().flatten().filter_map(|h| h.as_str().map(str::to_string)).collect();
        if content.as_deref() != Some(row.content_hash.as_str())
            || decision.as_deref() != Some(row.decision.as_str())
            || by != &row.approved_by
            || chained_hashes != row.statement_hashes
        {
            return Some(format!("{what} differs from its approval event (seq {seq}): altered after it was recorded"));
        }
        match (row.revoked, self.approvals_revoked.contains(&row.id)) {
            (false, true) => Some(format!("{what} was revoked in the chain but is live in fence.approvals")),
            (true, false) => Some(format!("{what} is revoked in fence.approvals but no revocation is chained")),
            _ => None,
        }
    }

    /// The first disagreement between the chain and an exemption row, if any.
    fn exemption(&self, row: &ExemptionRow) -> Option<String> {
        let what = format!("exemption {} ({} {})", row.id, row.scope, row.target);
        let Some((seq, details)) = self.exemptions.get(&row.id) else {
            return Some(format!("{what} has no exemption event in the chain (written outside fence)"));
        };
        let text = |key: &str| details.get(key).and_then(Value::as_str).map(str::to_string);
        let mut same = text("scope").as_deref() == Some(row.scope.as_str())
            && text("target").as_deref() == Some(row.target.as_str())
            && text("reason").as_deref() == Some(row.reason.as_str())
            && text("finding") == row.finding
            && id_of(details, "expires_us") == Some(row.expires_us);
        // Bound since 0.4.0: exemptions granted before carry no OID or statements in the chain.
        if details.get("relid").is_some() {
            same &= details.get("relid").and_then(Value::as_u64) == row.relid.map(u64::from);
        }
        if details.get("statement_hashes").is_some() {
            let chained: Option<Vec<String>> = details
                .get("statement_hashes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|h| h.as_str().map(str::to_string)).collect());
            same &= chained == row.statement_hashes;
        }
        // Scoped to databases since 0.4.0: the chain carries the list when there is one.
        let chained_databases: Option<Vec<String>> = details
            .get("databases")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|d| d.as_str().map(str::to_string)).collect());
        same &= chained_databases == row.databases;
        if !same {
            return Some(format!("{what} differs from its exemption event (seq {seq}): altered after it was recorded"));
        }
        match (row.revoked, self.exemptions_revoked.contains(&row.id)) {
            (false, true) => Some(format!("{what} was revoked in the chain but is live in fence.exemptions")),
            (true, false) => Some(format!("{what} is revoked in fence.exemptions but no revocation is chained")),
            _ => None,
        }
    }

    /// The first disagreement between the chain and a policy version, if any. Version 1 comes
    /// with CREATE EXTENSION (not chained): it must amount to the built-in defaults (an
    /// earlier release's defaults lack later keys, filled in alike).
    fn policy(&self, row: &PolicyRow, defaults_hash: &str) -> Option<String> {
        let what = format!("policy version {}", row.version);
        if row.recomputed_hash != row.document_hash {
            return Some(format!("{what}: its document does not match its document_hash (edited in place)"));
        }
        if row.version == 1 {
            return (row.effective_hash != defaults_hash)
                .then(|| format!("{what} is not the built-in defaults it was created as (edited in place)"));
        }
        match self.policies.get(&row.version) {
            None => Some(format!("{what} has no policy event in the chain (written outside fence)")),
            Some((seq, hash)) if hash != &row.document_hash => {
                Some(format!("{what} differs from its policy event (seq {seq}): altered after it was recorded"))
            }
            Some(_) => None,
        }
    }

    /// The first disagreement between the chain and the state tables: a row the chain does not
    /// prove, or a chained grant whose row is gone.
    pub fn verify(
        &self,
        approvals: &[ApprovalRow],
        exemptions: &[ExemptionRow],
        policies: &[PolicyRow],
        defaults_hash: &str,
    ) -> Option<String> {
        let rows = approvals.iter().filter_map(|r| self.approval(r));
        let rows = rows.chain(exemptions.iter().filter_map(|r| self.exemption(r)));
        let rows = rows.chain(policies.iter().filter_map(|r| self.policy(r, defaults_hash)));
        let missing = |kind: &str, chained: Vec<(i64, i64)>, present: BTreeSet<i64>| {
            chained
                .into_iter()
                .find(|(id, _)| !present.contains(id))
                .map(|(id, seq)| format!("{kind} {id} (chained at seq {seq}) is missing from its table (deleted)"))
        };
        let gone = missing(
            "approval",
            self.approvals.iter().map(|(id, f)| (*id, f.0)).collect(),
            approvals.iter().map(|r| r.id).collect(),
        )
        .or_else(|| {
            missing(
                "exemption",
                self.exemptions.iter().map(|(id, f)| (*id, f.0)).collect(),
                exemptions.iter().map(|r| r.id).collect(),
            )
        })
        .or_else(|| {
            missing(
                "policy version",
                self.policies.iter().map(|(v, f)| (*v, f.0)).collect(),
                policies.iter().map(|r| r.version).collect(),
            )
        });
        rows.into_iter().next().or(gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(seq: i64, kind: &str, details: Value) -> AuditEvent {
        AuditEvent {
            seq,
            kind: kind.into(),
            session_role: "lead".into(),
            content_hash: Some("sha256:c".into()),
            decision: Some("approve".into()),
            details,
            ..Default::default()
        }
    }

    fn approval(revoked: bool) -> ApprovalRow {
        ApprovalRow {
            id: 1,
            content_hash: "sha256:c".into(),
            statement_hashes: vec!["sha256:s".into()],
            decision: "approve".into(),
            approved_by: "lead".into(),
            revoked,
        }
    }

    fn state() -> ChainState {
        let mut state = ChainState::default();
        state.observe(&event(1, "approval", json!({"approval_id": 1, "statement_hashes": ["sha256:s"]})));
        state.observe(&event(2, "approval_revoked", json!({"approval_ids": [1]})));
        state
    }

    #[test]
    fn a_revocation_undone_in_the_table_is_found() {
        let state = state();
        assert_eq!(state.verify(&[approval(true)], &[], &[], "d"), None);
        let problem = state.verify(&[approval(false)], &[], &[], "d").unwrap();
        assert!(problem.contains("revoked in the chain but is live"), "{problem}");
    }

    #[test]
    fn edited_and_deleted_rows_are_found() {
        let state = state();
        let mut stretched = approval(true);
        stretched.statement_hashes.push("sha256:other".into());
        assert!(state.verify(&[stretched], &[], &[], "d").unwrap().contains("altered"));
        assert!(state.verify(&[], &[], &[], "d").unwrap().contains("missing"));
        let mut forged = approval(false);
        forged.id = 2;
        assert!(state.verify(&[approval(true), forged], &[], &[], "d").unwrap().contains("no approval event"));
    }

    #[test]
    fn policy_versions_must_match_their_events() {
        let mut state = ChainState::default();
        let mut policy = event(3, "policy", json!({}));
        policy.policy_version = Some(2);
        policy.policy_hash = Some("sha256:p2".into());
        state.observe(&policy);
        let row = |version, hash: &str, recomputed: &str| PolicyRow {
            version,
            document_hash: hash.into(),
            recomputed_hash: recomputed.into(),
            effective_hash: recomputed.into(),
        };
        let defaults = row(1, "sha256:d", "sha256:d");
        assert_eq!(state.verify(&[], &[], &[defaults.clone(), row(2, "sha256:p2", "sha256:p2")], "sha256:d"), None);
        // The document edited in place (mode off), its hash left alone.
        let edited = row(2, "sha256:p2", "sha256:off");
        assert!(state.verify(&[], &[], &[defaults.clone(), edited], "sha256:d").unwrap().contains("edited in place"));
        // Edited with a matching hash: the chain disagrees.
        let rehashed = row(2, "sha256:off", "sha256:off");
        assert!(state.verify(&[], &[], &[defaults.clone(), rehashed], "sha256:d").unwrap().contains("altered"));
        // The defaults edited.
        assert!(state.verify(&[], &[], &[row(1, "sha256:x", "sha256:x")], "sha256:d").unwrap().contains("defaults"));
    }

    #[test]
    fn a_fleet_approval_names_the_control_databases_approver() {
        // Written by the apply worker (session role "replicator"), approved by "lead" there.
        let mut state = ChainState::default();
        let details = json!({"approval_id": 1, "statement_hashes": ["sha256:s"], "approved_by": "lead", "fleet": {"origin": "c"}});
        let mut arrival = event(4, "approval", details);
        arrival.session_role = "replicator".into();
        state.observe(&arrival);
        assert_eq!(state.verify(&[approval(false)], &[], &[], "d"), None);
        let mut renamed = approval(false);
        renamed.approved_by = "mallory".into();
        assert!(state.verify(&[renamed], &[], &[], "d").unwrap().contains("altered"));
        // A local approval's event names its approver by the session role only.
        let mut local = ChainState::default();
        let mut claimed =
            event(5, "approval", json!({"approval_id": 1, "statement_hashes": ["sha256:s"], "approved_by": "lead"}));
        claimed.session_role = "mallory".into();
        local.observe(&claimed);
        assert!(local.verify(&[approval(false)], &[], &[], "d").unwrap().contains("altered"));
    }

    #[test]
    fn an_exemptions_databases_must_match_its_event() {
        let mut state = ChainState::default();
        let details = json!({"exemption_id": 5, "scope": "rule", "target": "r", "reason": "why", "finding": null,
                             "expires_us": 10, "databases": ["tenant_b"]});
        state.observe(&event(6, "exemption", details));
        let row = |databases: Option<Vec<String>>| ExemptionRow {
            id: 5,
            scope: "rule".into(),
            target: "r".into(),
            reason: "why".into(),
            finding: None,
            expires_us: 10,
            relid: None,
            statement_hashes: None,
            databases,
            revoked: false,
        };
        assert_eq!(state.verify(&[], &[row(Some(vec!["tenant_b".into()]))], &[], "d"), None);
        // Widened to every database after it was granted.
        assert!(state.verify(&[], &[row(None)], &[], "d").unwrap().contains("altered"));
        assert!(state.verify(&[], &[row(Some(vec!["tenant_c".into()]))], &[], "d").unwrap().contains("altered"));
    }
}
