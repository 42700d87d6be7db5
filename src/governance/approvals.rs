//! Approvals of migration content: granted (or rejected) and revoked through
//! `fence.approve()` / `fence.revoke_approval()`, and read for each decision.

use fence_core::chain::AuditEvent;
use fence_core::grants::Approval;
use fence_core::risk::Risk;
use pgrx::JsonB;
use serde_json::{json, Map, Value};

use super::policy;
use crate::analysis;
use crate::chain::events;
use crate::db::owner::{as_owner, owner_read};
use crate::db::{self, queries, Arg};
use crate::errors;
use crate::ffi::{security, xact};
use crate::sqltext;

/// The approvals on record of `content_hash` (whether each covers the statement with
/// `statement_hash`), read as of now without leaving a lock.
pub fn on_record(content_hash: &str, statement_hash: &str) -> Vec<Approval> {
    let args: [Arg; 2] = [content_hash.into(), statement_hash.into()];
    owner_read(|| {
        db::select(queries::APPROVALS_FOR_CONTENT, &args, |row| Approval {
            id: row.get::<i64>("id").unwrap_or_default(),
            decision: row.text("decision"),
            approver: row.text("approved_by"),
            covers: row.get::<bool>("covers").unwrap_or(false),
        })
    })
}

/// What an approval says besides its content.
pub struct Grant<'a> {
    pub note: Option<&'a str>,
    pub source: Option<&'a str>,
    pub repository: Option<&'a str>,
    pub pull_request: Option<&'a str>,
    pub commit_sha: Option<&'a str>,
    pub external_approver: Option<&'a str>,
    pub decision: &'a str,
}

/// Approves (or rejects) exactly this migration content; returns its content hash.
pub fn approve(sql: &str, approval: &Grant) -> String {
    let decision = approval.decision;
    if decision != "approve" && decision != "reject" {
        errors::invalid_parameter(format!("decision must be 'approve' or 'reject', not '{decision}'")).raise();
    }
    let content = sqltext::canonical(sql);
    if content.statements.is_empty() {
        errors::invalid_parameter("there is nothing to approve: the SQL has no statements").raise();
    }
    let analysis: Value = analysis::analyze_text(sql, analysis::Looks { estimate: false, extra: &|_| None })
        .into_iter()
        .map(|row| json!({"stmt_no": row.0, "command_tag": row.2, "relation": row.3, "lock_mode": row.4, "risk": row.7, "findings": (row.9).0}))
        .collect();
    let highest = highest_risk(&analysis);
    // The content's statements, then those its code runs: what the approver read as code.
    let hashes = sqltext::covered_hashes(&content, sql);
    let (approved_by, approved_as) = (security::session_role(), security::executing_role());
    let now = xact::now_unix_us();
    let policy = policy::current();
    let roles = &policy.policy.approver_roles;
    if !roles.is_empty() && !security::role_in_any(&approved_by, roles) {
        errors::forbidden(format!(
            "{approved_by} may not approve under policy version {}: approver_roles is {roles:?}",
            policy.version
        ))
        .hint(format!(
            "Ask a member of {} to approve, or change approver_roles with fence.set_policy().",
            roles.join(", ")
        ))
        .raise();
    }
    let claims = [
        ("note", approval.note),
        ("source", approval.source),
        ("repository", approval.repository),
        ("pull_request", approval.pull_request),
        ("commit_sha", approval.commit_sha),
        ("external_approver", approval.external_approver),
    ];
    as_owner(|| {
        let mut args: Vec<Arg> = vec![
            content.content_hash.as_str().into(),
            hashes.clone().into(),
            sql.into(),
            decision.into(),
            (&*approved_by).into(),
            approved_as.as_str().into(),
        ];
        args.extend(claims.iter().map(|&(_, value)| Arg::from(value)));
        args.extend([JsonB(analysis.clone()).into(), policy.version.into(), xact::timestamptz(now).into()]);
        let id = db::write(queries::INSERT_APPROVAL, &args, |row| row.get::<i64>("id")).into_iter().next().flatten();
        let mut details = Map::new();
        details.insert("approval_id".into(), id.unwrap_or_default().into());
        details.insert("statement_hashes".into(), hashes.clone().into());
        for (key, value) in claims {
            if let Some(value) = value {
                details.insert(key.into(), value.into());
            }
        }
        record(&content.content_hash, decision, highest, &policy, details.into());
    });
    content.content_hash
}

/// Buffers an approval's chain event (made here, or received from the fleet's control
/// database), under the policy version in force here.
pub fn record(content_hash: &str, decision: &str, highest: Risk, policy: &policy::PolicyRecord, details: Value) {
    events::record(
        AuditEvent {
            kind: "approval".into(),
            content_hash: Some(content_hash.to_string()),
            decision: Some(decision.into()),
            risk: Some(highest.to_string()),
            policy_version: Some(i64::from(policy.version)),
            policy_hash: Some(policy.hash.clone()),
            details,
            ..Default::default()
        },
        false,
    );
}

/// The highest risk of an approval's recorded analysis.
pub fn highest_risk(analysis: &Value) -> Risk {
    analysis
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["risk"].as_str()?.parse::<Risk>().ok())
        .max()
        .unwrap_or_default()
}

/// Revokes the caller's own approvals of a content hash; returns how many were revoked.
pub fn revoke(content_hash: &str, reason: &str) -> i64 {
    if reason.trim().is_empty() {
        errors::invalid_parameter("a reason is required to revoke an approval").raise();
    }
    let by = security::session_role();
    let args = [content_hash.into(), (&*by).into(), xact::timestamptz(xact::now_unix_us()).into(), reason.into()];
    let query = if db::fleet_ready() { queries::REVOKE_APPROVAL } else { queries::REVOKE_APPROVAL_UNBOUND };
    let ids = as_owner(|| db::write(query, &args, |row| row.get::<i64>("id").unwrap_or_default()));
    if ids.is_empty() {
        errors::not_found(format!("{by} has no active approval of {content_hash}"))
            .hint("SELECT content_hash, approved_by, origin FROM fence.approvals WHERE revoked_at IS NULL; an approval with an origin came from the fleet's control database and is revoked there.")
            .raise();
    }
    policy::record_event("approval_revoked", None, Some(content_hash), json!({"approval_ids": ids, "reason": reason}));
    ids.len() as i64
}
