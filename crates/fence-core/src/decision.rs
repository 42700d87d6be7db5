//! The gate's decision for one statement, from its analysis, the policy and the evidence
//! (approvals and exemptions) the extension found.

use crate::lock::LockMode;
use crate::policy::{LockQueue, Mode, Policy, UnknownHandling};
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

/// Another session in the way of the statement's lock: it holds a conflicting lock on the
/// table in a transaction open longer than the policy allows, or waits for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub pid: i32,
    pub role: String,
    pub application: String,
    pub relation: String,
    /// Its lock (`pg_locks.mode`).
    pub mode: String,
    pub granted: bool,
    /// How long its transaction has been open, in milliseconds (-1: not shown to this role).
    pub transaction_ms: i64,
    /// `active`, `idle in transaction`, ...
    pub state: String,
}

impl Blocker {
    /// One line naming the session, as messages show it.
    pub fn describe(&self) -> String {
        let what = if self.granted { "holds" } else { "waits for" };
        if self.pid == 0 {
            return format!("a prepared transaction {what} {} on {}", self.mode, self.relation);
        }
        if self.transaction_ms < 0 {
            // Another role's session, to a role that may not see its activity.
            return format!(
                "pid {} (role {}, application \"{}\") {what} {} on {}",
                self.pid, self.role, self.application, self.mode, self.relation
            );
        }
        format!(
            "pid {} (role {}, application \"{}\", {}, transaction open {} s) {what} {} on {}",
            self.pid,
            self.role,
            self.application,
            self.state,
            self.transaction_ms / 1000,
            self.mode,
            self.relation
        )
    }
}

/// What the gate knows about the statement and the session running it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub risk: Risk,
    pub unknown: bool,
    /// The strongest lock the statement takes on a pre-existing relation.
    pub lock_mode: Option<LockMode>,
    /// The session's live `lock_timeout` and `statement_timeout` in milliseconds (0 = off).
    pub lock_timeout_ms: i64,
    pub statement_timeout_ms: i64,
    /// The session or executing role belongs to one of the policy's `warn_roles`.
    pub warn_role: bool,
    /// The policy's `automation` entry that lets the session role (the role that connected)
    /// run every risky finding of the statement, if any.
    pub automation: Option<String>,
    /// The sessions in the way of the statement's lock (see `Blocker`).
    pub blockers: Vec<Blocker>,
}

/// Timeout requirements the statement breaks, and (`lock_queue: refuse`) the sessions in
/// its lock's way: they hold whatever approves it, because an approved ACCESS EXCLUSIVE lock
/// queued behind a long query still stalls every session.
fn timeout_violations(policy: &Policy, facts: &Facts) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if facts.lock_mode.is_none_or(|m| m < LockMode::Share) {
        return out;
    }
    let lock = facts.lock_mode.map_or("", |m| m.pg_name());
    if let Some(max) = policy.max_lock_timeout_ms {
        if facts.lock_timeout_ms == 0 || facts.lock_timeout_ms > max {
            let now =
                if facts.lock_timeout_ms == 0 { "unset".to_string() } else { format!("{}ms", facts.lock_timeout_ms) };
            out.push((
                "lock_timeout_required",
                format!("policy requires lock_timeout of at most {max}ms for a {lock} (it is {now}): SET lock_timeout = '{max}ms'"),
            ));
        }
    }
    if policy.lock_queue == LockQueue::Refuse && !facts.blockers.is_empty() {
        let names: Vec<String> = facts.blockers.iter().map(Blocker::describe).collect();
        out.push((
            "lock_queue",
            format!(
                "its {lock} would queue behind another session, and every later query on the table behind it: {}",
                names.join("; ")
            ),
        ));
    }
    if policy.statement_timeout_required && facts.statement_timeout_ms == 0 {
        out.push((
            "statement_timeout_required",
            format!("policy requires statement_timeout to be set for a {lock}: SET statement_timeout = '<limit>' (or, on PostgreSQL 17 and later, transaction_timeout)"),
        ));
    }
    out
}

pub fn decide(policy: &Policy, facts: &Facts, approvals: &ApprovalEvidence, exemption: Option<i64>) -> Decision {
    if policy.mode == Mode::Off {
        return decision(Outcome::Allow, "mode_off", "policy mode is off".into());
    }
    let mut problems = timeout_violations(policy, facts);
    let unknown_blocks = facts.unknown && policy.unknown == UnknownHandling::Block;
    let needs_approval = facts.risk >= policy.approval_threshold && facts.risk > Risk::None || unknown_blocks;
    let needed = policy.approvals_needed(facts.risk) as usize;
    let approved = approvals.rejected_by.is_empty() && approvals.approvers.len() >= needed;
    let covered = if !needs_approval {
        None
    } else if approved {
        Some(decision(Outcome::Allow, "approved", format!("approved by {}", approvals.approvers.join(", "))))
    } else if let Some(name) = &facts.automation {
        Some(decision(
            Outcome::Allow,
            "automation",
            format!("the policy's automation entry \"{name}\" lets this role run it"),
        ))
    } else if let Some(id) = exemption {
        Some(decision(Outcome::Allow, "exempted", format!("exemption {id} covers it")))
    } else {
        problems.push(missing_approval(approvals, needed));
        None
    };
    if problems.is_empty() {
        return covered.unwrap_or_else(|| unneeded(policy, facts));
    }
    let reason = problems[0].0;
    let explanation = problems.into_iter().map(|(_, e)| e).collect::<Vec<_>>().join("; ");
    if facts.warn_role {
        return decision(
            Outcome::Warn,
            reason,
            format!("{explanation} (only warned: the role is in the policy's warn_roles)"),
        );
    }
    match policy.mode {
        Mode::Warn => decision(Outcome::Warn, reason, explanation),
        _ => decision(Outcome::Deny, reason, explanation),
    }
}

/// The decision for a statement that needs no approval.
fn unneeded(policy: &Policy, facts: &Facts) -> Decision {
    if facts.unknown {
        return decision(
            Outcome::Warn,
            "unknown_warned",
            "fence cannot classify this statement; policy says warn".into(),
        );
    }
    decision(
        Outcome::Allow,
        "below_threshold",
        format!("risk {} is below the approval threshold {}", facts.risk, policy.approval_threshold),
    )
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

    fn risk(risk: Risk) -> Facts {
        Facts { risk, ..Default::default() }
    }

    fn approved_by(names: &[&str]) -> ApprovalEvidence {
        ApprovalEvidence {
            content_named: true,
            approvers: names.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn automation_entries_allow_their_rules_for_their_roles() {
        let p =
            policy(json!({"automation": [{"name": "cron", "roles": ["maint"], "rules": ["vacuum_full", "reindex"]}]}));
        let entry = &p.automation[0];
        assert!(entry.covers(&["vacuum_full".into()]));
        assert!(!entry.covers(&["vacuum_full".into(), "drop_table".into()]));
        assert!(!entry.covers(&[]));
        let facts = Facts { risk: Risk::High, automation: Some("cron".into()), ..Default::default() };
        let d = decide(&p, &facts, &ApprovalEvidence::default(), None);
        assert_eq!((d.outcome, d.reason), (Outcome::Allow, "automation"));
        assert!(d.explanation.contains("\"cron\""));
        // Timeout requirements hold for automation too.
        let strict = policy(json!({"max_lock_timeout": "2s"}));
        let locked = Facts { lock_mode: Some(LockMode::AccessExclusive), ..facts };
        assert_eq!(decide(&strict, &locked, &ApprovalEvidence::default(), None).outcome, Outcome::Deny);
        for bad in [
            json!({"automation": [{"name": "x", "roles": ["r"], "rules": ["no_such_rule"]}]}),
            json!({"automation": [{"name": "x", "roles": [], "rules": ["reindex"]}]}),
            json!({"automation": [{"roles": ["r"], "rules": ["reindex"]}]}),
            json!({"automation": [{"name": "x", "roles": ["r"], "rules": ["reindex"], "when": "night"}]}),
            json!({"automation": {"name": "x"}}),
        ] {
            assert_eq!(Policy::parse(&bad).unwrap_err().key, "automation", "{bad}");
        }
    }

    #[test]
    fn below_threshold_passes() {
        let d = decide(&policy(json!({})), &risk(Risk::Low), &ApprovalEvidence::default(), None);
        assert_eq!((d.outcome, d.reason), (Outcome::Allow, "below_threshold"));
    }

    #[test]
    fn risky_needs_approval_or_exemption() {
        let p = policy(json!({}));
        assert_eq!(decide(&p, &risk(Risk::High), &ApprovalEvidence::default(), None).outcome, Outcome::Deny);
        assert_eq!(decide(&p, &risk(Risk::High), &approved_by(&["alice"]), None).reason, "approved");
        assert_eq!(decide(&p, &risk(Risk::High), &ApprovalEvidence::default(), Some(4)).reason, "exempted");
    }

    #[test]
    fn critical_needs_two_and_reject_wins() {
        let p = policy(json!({}));
        assert_eq!(decide(&p, &risk(Risk::Critical), &approved_by(&["alice"]), None).reason, "insufficient_approvals");
        assert_eq!(decide(&p, &risk(Risk::Critical), &approved_by(&["alice", "bob"]), None).outcome, Outcome::Allow);
        let mut rejected = approved_by(&["alice", "bob"]);
        rejected.rejected_by.push("carol".into());
        assert_eq!(decide(&p, &risk(Risk::Critical), &rejected, None).reason, "rejected");
    }

    #[test]
    fn warn_mode_and_unknown_handling() {
        assert_eq!(
            decide(&policy(json!({"mode": "warn"})), &risk(Risk::High), &ApprovalEvidence::default(), None).outcome,
            Outcome::Warn
        );
        assert_eq!(
            decide(
                &policy(json!({})),
                &Facts { unknown: true, ..Default::default() },
                &ApprovalEvidence::default(),
                None
            )
            .outcome,
            Outcome::Deny
        );
        assert_eq!(
            decide(
                &policy(json!({"unknown": "warn"})),
                &Facts { unknown: true, ..Default::default() },
                &ApprovalEvidence::default(),
                None
            )
            .outcome,
            Outcome::Warn
        );
        assert_eq!(
            decide(&policy(json!({"mode": "off"})), &risk(Risk::High), &ApprovalEvidence::default(), None).reason,
            "mode_off"
        );
    }

    #[test]
    fn a_session_in_the_lock_queue_refuses_even_an_approved_statement_when_the_policy_says() {
        let blocker = Blocker {
            pid: 42,
            role: "app".into(),
            application: "psql".into(),
            relation: "public.t".into(),
            mode: "AccessShareLock".into(),
            granted: true,
            transaction_ms: 61_000,
            state: "idle in transaction".into(),
        };
        let facts = Facts {
            risk: Risk::Low,
            lock_mode: Some(LockMode::AccessExclusive),
            blockers: vec![blocker],
            ..Default::default()
        };
        let refuse = policy(json!({"lock_queue": "refuse", "lock_queue_max_age": "1s"}));
        let d = decide(&refuse, &facts, &approved_by(&["alice"]), None);
        assert_eq!((d.outcome, d.reason), (Outcome::Deny, "lock_queue"));
        assert!(d.explanation.contains("pid 42 (role app, application \"psql\", idle in transaction, transaction open 61 s) holds AccessShareLock on public.t"), "{}", d.explanation);
        // Warned (by the server) only, by default.
        assert_eq!(decide(&policy(json!({})), &facts, &ApprovalEvidence::default(), None).outcome, Outcome::Allow);
        assert_eq!(Policy::parse(&json!({"lock_queue": "sometimes"})).unwrap_err().key, "lock_queue");
    }

    #[test]
    fn timeouts_hold_even_when_approved() {
        let p = policy(json!({"max_lock_timeout": "2s", "statement_timeout_required": true}));
        let facts = Facts { risk: Risk::High, lock_mode: Some(LockMode::AccessExclusive), ..Default::default() };
        let d = decide(&p, &facts, &approved_by(&["alice"]), None);
        assert_eq!((d.outcome, d.reason), (Outcome::Deny, "lock_timeout_required"));
        assert!(d.explanation.contains("statement_timeout"));
        let timed = Facts { lock_timeout_ms: 2000, statement_timeout_ms: 60_000, ..facts.clone() };
        assert_eq!(decide(&p, &timed, &approved_by(&["alice"]), None).reason, "approved");
        let too_long = Facts { lock_timeout_ms: 10_000, ..timed.clone() };
        assert_eq!(decide(&p, &too_long, &approved_by(&["alice"]), None).reason, "lock_timeout_required");
        let weak = Facts { lock_mode: Some(LockMode::ShareUpdateExclusive), risk: Risk::Low, ..Default::default() };
        assert_eq!(decide(&p, &weak, &ApprovalEvidence::default(), None).outcome, Outcome::Allow);
    }

    #[test]
    fn warn_roles_are_warned_not_refused() {
        let facts = Facts { risk: Risk::High, warn_role: true, ..Default::default() };
        let d = decide(&policy(json!({})), &facts, &ApprovalEvidence::default(), None);
        assert_eq!((d.outcome, d.reason), (Outcome::Warn, "not_approved"));
        assert!(d.explanation.contains("warn_roles"));
    }

    #[test]
    fn self_approval_is_explained() {
        let evidence = ApprovalEvidence { content_named: true, self_approved: true, ..Default::default() };
        let d = decide(&policy(json!({})), &risk(Risk::High), &evidence, None);
        assert!(d.explanation.contains("separation of duties"));
    }
}
