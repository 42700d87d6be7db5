//! The gate's decision for one statement, from its analysis, the policy and the evidence
//! (approvals and exemptions) the extension found.

use crate::policy::{Mode, Policy, UnknownHandling};
use crate::risk::Risk;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Warn,
    Deny,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Warn => "warn",
            Outcome::Deny => "deny",
        }
    }
}

/// Approvals of the content named by `fence.approval` that cover the statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalEvidence {
    /// Whether `fence.approval` was set at all.
    pub content_named: bool,
    /// Distinct roles that approved (excluding the executing role under separation of duties).
    pub approvers: Vec<String>,
    /// Roles that rejected the content.
    pub rejected_by: Vec<String>,
    /// Approvals not counted because the approver is the executing role.
    pub self_approved: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// Machine-readable reason (`below_threshold`, `approved`, `exempted`, ...).
    pub reason: &'static str,
    /// Human explanation.
    pub explanation: String,
}

fn decision(outcome: Outcome, reason: &'static str, explanation: String) -> Decision {
    Decision { outcome, reason, explanation }
}

pub fn decide(
    policy: &Policy,
    risk: Risk,
    unknown: bool,
    approvals: &ApprovalEvidence,
    exemption: Option<i64>,
) -> Decision {
    let unknown_blocks = unknown && policy.unknown == UnknownHandling::Block;
    let needs_approval = risk >= policy.approval_threshold && risk > Risk::None || unknown_blocks;
    if !needs_approval {
        if unknown {
            return decision(
                Outcome::Warn,
                "unknown_warned",
                "fence cannot classify this statement; policy says warn".into(),
            );
        }
        return decision(
            Outcome::Allow,
            "below_threshold",
            format!("risk {risk} is below the approval threshold {}", policy.approval_threshold),
        );
    }
    if policy.mode == Mode::Off {
        return decision(Outcome::Allow, "mode_off", "policy mode is off".into());
    }
    let needed = policy.approvals_needed(risk) as usize;
    let approved = approvals.rejected_by.is_empty() && approvals.approvers.len() >= needed;
    if approved {
        return decision(Outcome::Allow, "approved", format!("approved by {}", approvals.approvers.join(", ")));
    }
    if let Some(id) = exemption {
        return decision(Outcome::Allow, "exempted", format!("exemption {id} covers it"));
    }
    let (reason, explanation) = missing_approval(approvals, needed);
    match policy.mode {
        Mode::Warn => decision(Outcome::Warn, reason, explanation),
        _ => decision(Outcome::Deny, reason, explanation),
    }
}

fn missing_approval(approvals: &ApprovalEvidence, needed: usize) -> (&'static str, String) {
    if !approvals.rejected_by.is_empty() {
        return ("rejected", format!("the named content was rejected by {}", approvals.rejected_by.join(", ")));
    }
    if !approvals.content_named {
        return ("not_approved", "fence.approval is not set and no exemption covers it".into());
    }
    if approvals.approvers.is_empty() && !approvals.self_approved {
        return (
            "not_approved",
            "the content named by fence.approval is not approved or does not contain this exact statement".into(),
        );
    }
    let own = if approvals.self_approved { " (your own approval does not count: separation of duties)" } else { "" };
    ("insufficient_approvals", format!("{} of {needed} required approvals{own}", approvals.approvers.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(doc: serde_json::Value) -> Policy {
        Policy::parse(&doc).unwrap().0
    }

    fn approved_by(names: &[&str]) -> ApprovalEvidence {
        ApprovalEvidence {
            content_named: true,
            approvers: names.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn below_threshold_passes() {
        let d = decide(&policy(json!({})), Risk::Low, false, &ApprovalEvidence::default(), None);
        assert_eq!((d.outcome, d.reason), (Outcome::Allow, "below_threshold"));
    }

    #[test]
    fn risky_needs_approval_or_exemption() {
        let p = policy(json!({}));
        assert_eq!(decide(&p, Risk::High, false, &ApprovalEvidence::default(), None).outcome, Outcome::Deny);
        assert_eq!(decide(&p, Risk::High, false, &approved_by(&["alice"]), None).reason, "approved");
        assert_eq!(decide(&p, Risk::High, false, &ApprovalEvidence::default(), Some(4)).reason, "exempted");
    }

    #[test]
    fn critical_needs_two_and_reject_wins() {
        let p = policy(json!({}));
        assert_eq!(decide(&p, Risk::Critical, false, &approved_by(&["alice"]), None).reason, "insufficient_approvals");
        assert_eq!(decide(&p, Risk::Critical, false, &approved_by(&["alice", "bob"]), None).outcome, Outcome::Allow);
        let mut rejected = approved_by(&["alice", "bob"]);
        rejected.rejected_by.push("carol".into());
        assert_eq!(decide(&p, Risk::Critical, false, &rejected, None).reason, "rejected");
    }

    #[test]
    fn warn_mode_and_unknown_handling() {
        assert_eq!(
            decide(&policy(json!({"mode": "warn"})), Risk::High, false, &ApprovalEvidence::default(), None).outcome,
            Outcome::Warn
        );
        assert_eq!(
            decide(&policy(json!({})), Risk::None, true, &ApprovalEvidence::default(), None).outcome,
            Outcome::Deny
        );
        assert_eq!(
            decide(&policy(json!({"unknown": "warn"})), Risk::None, true, &ApprovalEvidence::default(), None).outcome,
            Outcome::Warn
        );
        assert_eq!(
            decide(&policy(json!({"mode": "off"})), Risk::High, false, &ApprovalEvidence::default(), None).reason,
            "mode_off"
        );
    }

    #[test]
    fn self_approval_is_explained() {
        let evidence = ApprovalEvidence { content_named: true, self_approved: true, ..Default::default() };
        let d = decide(&policy(json!({})), Risk::High, false, &evidence, None);
        assert!(d.explanation.contains("separation of duties"));
    }
}
