//! The decision ladder of one statement: the policy and the statement's facts first; then
//! the approvals of the content the session names (`fence.approval`); then exemptions. The
//! server answers what only it knows — roles, approvals and exemptions on record, relation
//! identities — through `Grants`, asked only when a rung below did not allow.

use crate::analysis::{Analysis, LockReport};
use crate::decision::{decide, ApprovalEvidence, Blocker, Decision, Facts, Outcome};
use crate::lock::LockMode;
use crate::policy::{LockQueue, Policy};

/// An approval (or rejection) of the named content on record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub id: i64,
    /// `approve` or `reject`.
    pub decision: String,
    pub approver: String,
    /// Whether the approved content contains the statement (its statement hash).
    pub covers: bool,
}

/// A live exemption that may cover the statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exemption {
    pub id: i64,
    /// `statement`, `content`, `relation` or `rule`.
    pub scope: String,
    pub target: String,
    /// The relation's identity (relation scope).
    pub relation_id: Option<u32>,
}

/// What an exemption is looked up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExemptionRequest<'a> {
    pub statement_hash: Option<&'a str>,
    pub content_hash: Option<&'a str>,
    /// The identities of the relations the statement locks (those that exist).
    pub relation_ids: Vec<u32>,
    /// Rules whose findings need approval: a rule exemption must cover all of them.
    pub rules: Vec<String>,
}

/// What the server knows that a decision needs.
pub trait Grants {
    /// The role that connected.
    fn session_role(&self) -> String;
    /// The role whose privileges are in effect.
    fn executing_role(&self) -> String;
    /// Whether role `member` belongs (directly or through other roles) to one of `roles`;
    /// superuser status does not count.
    fn role_in_any(&self, member: &str, roles: &[String]) -> bool;
    /// The session's live `lock_timeout` and `statement_timeout`, in milliseconds (0: off).
    fn timeouts_ms(&self) -> (i64, i64);
    /// The approvals on record of `content_hash`, in the order they were made.
    fn approvals(&self, content_hash: &str, statement_hash: &str) -> Vec<Approval>;
    /// The identity of a relation as fence prints it (`schema.name`), if it exists.
    fn relation_id(&self, relation: &str) -> Option<u32>;
    /// The live exemptions that may cover the request, in the order they were made.
    fn exemptions(&self, request: &ExemptionRequest) -> Vec<Exemption>;
    /// The other sessions in the way of these locks: holding a conflicting lock in a
    /// transaction open at least `max_age_ms`, or waiting for one. Default: none known.
    fn lock_queue(&self, _locks: &[LockReport], _max_age_ms: i64) -> Vec<Blocker> {
        Vec::new()
    }
}

/// A decision and what it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    pub approval_ids: Vec<i64>,
    pub exemption: Option<i64>,
    /// The policy's automation entry that allowed it.
    pub automation: Option<String>,
    /// The sessions in the way of the statement's lock, if the policy looks.
    pub blockers: Vec<Blocker>,
}

/// Whether the session or executing role is in the policy's `warn_roles` (roles looked up
/// only when the policy names some).
pub fn in_warn_roles(policy: &Policy, grants: &impl Grants) -> bool {
    !policy.warn_roles.is_empty()
        && [grants.session_role(), grants.executing_role()]
            .iter()
            .any(|role| grants.role_in_any(role, &policy.warn_roles))
}

/// The approvals that count for a statement under `policy`: approvers outside the policy's
/// `approver_roles` are ignored, a rejection counts against, an approval of content that does
/// not contain the statement does not count, nor (under separation of duties) one by the
/// session or executing role; each approver counts once.
pub fn approval_evidence(
    approvals: Vec<Approval>,
    policy: &Policy,
    executing: [&str; 2],
    grants: &impl Grants,
) -> (ApprovalEvidence, Vec<i64>) {
    let mut evidence = ApprovalEvidence { content_named: true, ..Default::default() };
    let mut ids = Vec::new();
    let allowed =
        |approver: &str| policy.approver_roles.is_empty() || grants.role_in_any(approver, &policy.approver_roles);
    for Approval { id, decision, approver, covers } in approvals {
        if !allowed(&approver) {
            continue;
        } else if decision == "reject" {
            evidence.rejected_by.push(approver);
        } else if !covers {
            continue;
        } else if policy.separation_of_duties && executing.contains(&approver.as_str()) {
            evidence.self_approved = true;
        } else if !evidence.approvers.contains(&approver) {
            evidence.approvers.push(approver);
            ids.push(id);
        }
    }
    (evidence, ids)
}

/// The exemption that covers the statement, of those found: one of the statement or its
/// content, else a relation exemption for every relation it locks, else a rule exemption for
/// every rule that made it risky.
pub fn covering_exemption(found: &[Exemption], relation_ids: &[u32], rules: &[String]) -> Option<i64> {
    let direct = found.iter().find(|e| e.scope == "statement" || e.scope == "content");
    let all_relations = !relation_ids.is_empty()
        && relation_ids.iter().all(|id| found.iter().any(|e| e.scope == "relation" && e.relation_id == Some(*id)));
    let all_rules =
        !rules.is_empty() && rules.iter().all(|rule| found.iter().any(|e| e.scope == "rule" && &e.target == rule));
    let first_of = |scope: &str| found.iter().find(|e| e.scope == scope);
    direct
        .or_else(|| if all_relations { first_of("relation") } else { None })
        .or_else(|| if all_rules { first_of("rule") } else { None })
        .map(|e| e.id)
}

/// Decides a statement: allowed by the policy and its facts alone, else approved by the named
/// content (only an approval of this very statement counts: DDL that a function, trigger or
/// rule runs inside an approved statement is covered only when the approved text contains
/// it), else exempted, else as the policy says.
pub fn judge(
    policy: &Policy,
    analysis: &Analysis,
    statement_hash: Option<&str>,
    content_hash: Option<&str>,
    grants: &impl Grants,
) -> Verdict {
    let (lock_timeout_ms, statement_timeout_ms) = grants.timeouts_ms();
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
        warn_role: in_warn_roles(policy, grants),
        // The role that connected (pg_cron's job user), never the executing role: a SECURITY
        // DEFINER function owned by a maintenance role must not lend its entry to any caller.
        automation: policy
            .automation
            .iter()
            .find(|entry| entry.covers(&rules) && grants.role_in_any(&grants.session_role(), &entry.roles))
            .map(|entry| entry.name.clone()),
        // Only for a lock that blocks writes (or reads) of an existing table.
        blockers: if policy.lock_queue != LockQueue::Off && analysis.lock_mode.is_some_and(LockMode::blocks_writes) {
            grants.lock_queue(&analysis.locks, policy.lock_queue_max_age_ms)
        } else {
            Vec::new()
        },
    };
    let nothing = ApprovalEvidence { content_named: content_hash.is_some(), ..Default::default() };
    let first = decide(policy, &facts, &nothing, None);
    if first.outcome == Outcome::Allow {
        let automation = facts.automation.filter(|_| first.reason == "automation");
        return Verdict {
            decision: first,
            approval_ids: Vec::new(),
            exemption: None,
            automation,
            blockers: facts.blockers,
        };
    }
    let (session, executing) = (grants.session_role(), grants.executing_role());
    let (evidence, approval_ids) = match (content_hash, statement_hash) {
        (Some(content), Some(statement)) => {
            approval_evidence(grants.approvals(content, statement), policy, [&session, &executing], grants)
        }
        _ => (nothing, Vec::new()),
    };
    let approved = decide(policy, &facts, &evidence, None);
    let (decision, exemption) = if approved.reason == "approved" {
        (approved, None)
    } else {
        // A child or partition the statement reaches through its table is covered with it.
        let relation_ids: Vec<u32> = analysis
            .locks
            .iter()
            .filter(|l| l.through.is_none())
            .filter_map(|l| grants.relation_id(&l.relation))
            .collect();
        let request = ExemptionRequest { statement_hash, content_hash, relation_ids, rules };
        let exemption = covering_exemption(&grants.exemptions(&request), &request.relation_ids, &request.rules);
        (decide(policy, &facts, &evidence, exemption), exemption)
    };
    let approval_ids = if decision.reason == "approved" { approval_ids } else { Vec::new() };
    let exemption = if decision.reason == "exempted" { exemption } else { None };
    Verdict { decision, approval_ids, exemption, automation: None, blockers: facts.blockers }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Default)]
    struct Server {
        approvals: Vec<Approval>,
        exemptions: Vec<Exemption>,
        /// (member, role) pairs.
        memberships: Vec<(&'static str, &'static str)>,
    }

    impl Grants for Server {
        fn session_role(&self) -> String {
            "ci".into()
        }
        fn executing_role(&self) -> String {
            "ci".into()
        }
        fn role_in_any(&self, member: &str, roles: &[String]) -> bool {
            self.memberships.iter().any(|(m, r)| *m == member && roles.iter().any(|role| role == r))
        }
        fn timeouts_ms(&self) -> (i64, i64) {
            (0, 0)
        }
        fn approvals(&self, _content: &str, _statement: &str) -> Vec<Approval> {
            self.approvals.clone()
        }
        fn relation_id(&self, relation: &str) -> Option<u32> {
            match relation {
                "public.a" => Some(1),
                "public.b" => Some(2),
                _ => None,
            }
        }
        fn exemptions(&self, _request: &ExemptionRequest) -> Vec<Exemption> {
            self.exemptions.clone()
        }
    }

    fn approval(id: i64, decision: &str, approver: &str, covers: bool) -> Approval {
        Approval { id, decision: decision.into(), approver: approver.into(), covers }
    }

    fn exemption(id: i64, scope: &str, target: &str, relation_id: Option<u32>) -> Exemption {
        Exemption { id, scope: scope.into(), target: target.into(), relation_id }
    }

    fn policy(doc: serde_json::Value) -> Policy {
        Policy::parse(&doc).unwrap().0
    }

    #[test]
    fn approvals_count_once_per_approver_and_only_when_they_cover_the_statement() {
        let found = vec![
            approval(1, "approve", "alice", true),
            approval(2, "approve", "alice", true),
            approval(3, "approve", "bob", false),
            approval(4, "reject", "carol", false),
        ];
        let (evidence, ids) = approval_evidence(found, &policy(json!({})), ["ci", "ci"], &Server::default());
        assert_eq!(evidence.approvers, ["alice"]);
        assert_eq!(evidence.rejected_by, ["carol"]);
        assert_eq!(ids, [1]);
    }

    #[test]
    fn separation_of_duties_and_approver_roles_discount_approvals() {
        let found = vec![approval(1, "approve", "ci", true), approval(2, "approve", "dave", true)];
        let strict = policy(json!({"separation_of_duties": true, "approver_roles": ["leads"]}));
        let server = Server { memberships: vec![("ci", "leads")], ..Default::default() };
        let (evidence, ids) = approval_evidence(found, &strict, ["ci", "ci"], &server);
        assert!(evidence.self_approved);
        assert!(evidence.approvers.is_empty(), "dave is not in approver_roles");
        assert!(ids.is_empty());
    }

    #[test]
    fn an_exemption_covers_by_statement_or_by_every_relation_or_every_rule() {
        let rules = vec!["drop_table".to_string(), "rewrite".to_string()];
        let one_relation = [exemption(7, "relation", "public.a", Some(1))];
        assert_eq!(covering_exemption(&one_relation, &[1, 2], &rules), None);
        let both = [exemption(7, "relation", "public.a", Some(1)), exemption(8, "relation", "public.b", Some(2))];
        assert_eq!(covering_exemption(&both, &[1, 2], &rules), Some(7));
        let one_rule = [exemption(9, "rule", "drop_table", None)];
        assert_eq!(covering_exemption(&one_rule, &[], &rules), None);
        let direct = [exemption(9, "rule", "drop_table", None), exemption(10, "statement", "sha256:x", None)];
        assert_eq!(covering_exemption(&direct, &[], &rules), Some(10));
        assert_eq!(covering_exemption(&[], &[], &[]), None);
    }
}
