//! Deciding: the policy, the statement's findings and the session's roles, then approvals of
//! the named content and exemptions, as fence-core's decision ladder weighs them.

use fence_core::analysis::Analysis;
use fence_core::decision::{decide, ApprovalEvidence, Decision, Facts, Outcome};
use fence_core::policy::Policy;

use crate::ffi::{relcache, security};
use crate::governance::approvals::{self, ApprovalQuery};
use crate::governance::exemptions::{self, ExemptionQuery};
use crate::rows::harm::Harm;

pub struct Verdict {
    pub decision: Decision,
    pub approval_ids: Vec<i64>,
    pub exemption: Option<i64>,
    /// The policy's automation entry that allowed it.
    pub automation: Option<String>,
}

fn session_and_executing_roles() -> [std::rc::Rc<str>; 2] {
    [security::session_role(), security::executing_role().into()]
}

/// Whether the session or executing role is in the policy's `warn_roles` (roles looked up
/// only when the policy names some).
pub fn in_warn_roles(policy: &Policy) -> bool {
    !policy.warn_roles.is_empty()
        && session_and_executing_roles().iter().any(|role| security::role_in_any(role, &policy.warn_roles))
}

pub fn judge(policy: &Policy, analysis: &Analysis, stmt_hash: Option<&str>, content_hash: Option<&str>) -> Verdict {
    let (lock_timeout_ms, statement_timeout_ms) = security::timeouts_ms();
    // Role names are looked up only when the policy or an approval needs them.
    let roles = session_and_executing_roles;
    // The rules that make the statement need an approval (an automation entry or a rule
    // exemption must cover all of them).
    let rules: Vec<String> = analysis
        .findings
        .iter()
        .filter(|f| f.risk >= policy.approval_threshold || f.rule == "unclassified")
        .map(|f| f.rule.to_string())
        .collect();
    let facts = Facts {
        risk: analysis.risk,
        unknown: analysis.unknown,
        lock_mode: analysis.lock_mode,
        lock_timeout_ms,
        statement_timeout_ms,
        warn_role: in_warn_roles(policy),
        // The role that connected (pg_cron's job user), never the executing role: a SECURITY
        // DEFINER function owned by a maintenance role must not lend its entry to any caller.
        automation: policy
            .automation
            .iter()
            .find(|entry| entry.covers(&rules) && security::role_in_any(&security::session_role(), &entry.roles))
            .map(|entry| entry.name.clone()),
    };
    let nothing = ApprovalEvidence { content_named: content_hash.is_some(), ..Default::default() };
    let first = decide(policy, &facts, &nothing, None);
    if first.outcome == Outcome::Allow {
        let automation = facts.automation.filter(|_| first.reason == "automation");
        return Verdict { decision: first, approval_ids: Vec::new(), exemption: None, automation };
    }
    let [session, executing] = roles();
    // Only an approval of this very statement counts: DDL that a function, trigger or rule
    // runs inside an approved statement is covered only when the approved text contains it.
    let (evidence, approval_ids) = match (content_hash, stmt_hash) {
        (Some(content), Some(statement)) => approvals::evidence(
            &ApprovalQuery { content_hash: content, statement_hash: statement, executing: [&session, &executing] },
            policy,
        ),
        _ => (nothing, Vec::new()),
    };
    let approved = decide(policy, &facts, &evidence, None);
    let (decision, exemption) = if approved.reason == "approved" {
        (approved, None)
    } else {
        let exemption = exemptions::find(&ExemptionQuery {
            statement_hash: stmt_hash,
            content_hash,
            relations: analysis.locks.iter().filter_map(|l| relcache::oid_of(&l.relation)).collect(),
            rules,
        });
        (decide(policy, &facts, &evidence, exemption), exemption)
    };
    let approval_ids = if decision.reason == "approved" { approval_ids } else { Vec::new() };
    let exemption = if decision.reason == "exempted" { exemption } else { None };
    Verdict { decision, approval_ids, exemption, automation: None }
}

/// Why a statement that breaks a tracked table's row audit is refused, and the way out.
pub fn row_audit_explanation(harm: &Harm) -> String {
    format!(
        "{}; stop tracking {} first with SELECT fence.untrack_table('{}'); (fence_admin), which is recorded",
        harm.why, harm.relation, harm.relation
    )
}

/// Dropping, disabling or renaming fence's row trigger, or changing what the row audit of a
/// tracked table depends on: no approval or exemption covers it.
pub fn row_audit_protected(harm: &Harm) -> Verdict {
    let explanation = row_audit_explanation(harm);
    Verdict {
        decision: Decision { outcome: Outcome::Deny, reason: "row_audit_protected", explanation },
        approval_ids: Vec::new(),
        exemption: None,
        automation: None,
    }
}
