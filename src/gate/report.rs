//! What the client is told of a decision: a NOTICE for a risky statement allowed, a WARNING,
//! or the refusal's ERROR naming the statement, the lock, why, where the denial was recorded
//! and the exact next step.

use fence_core::analysis::Analysis;
use fence_core::decision::{Decision, Outcome};
use fence_core::risk::Risk;
use pgrx::prelude::*;

use super::GateCall;
use crate::errors;
use crate::ffi::worker::Progress;
use crate::sqltext;

fn headline(call: &GateCall, analysis: &Analysis) -> String {
    let target = analysis.relation.as_ref().map_or(String::new(), |r| format!(" on {r}"));
    let lock = analysis.lock_mode.map_or("no table lock".to_string(), |m| m.pg_name().to_string());
    let unknown = if analysis.unknown { ", unclassified" } else { "" };
    format!("{}{target} ({lock}, risk {}{unknown})", call.tag, analysis.risk)
}

pub fn report(
    call: &GateCall,
    analysis: &Analysis,
    decision: &Decision,
    text: Option<&str>,
    stmt_hash: Option<&str>,
    recorded: Progress,
) {
    match decision.outcome {
        Outcome::Allow if analysis.risk > Risk::None || analysis.unknown => {
            notice!("fence: allowed {}: {}", headline(call, analysis), decision.explanation)
        }
        Outcome::Allow => {}
        Outcome::Warn => warning!("fence: warning for {}: {}", headline(call, analysis), decision.explanation),
        Outcome::Deny => {
            errors::forbidden(format!("blocked {}: {}", headline(call, analysis), decision.reason.replace('_', " ")))
                .detail(denial_detail(analysis, decision, text, stmt_hash, recorded))
                .hint(denial_hint(call, decision, text, stmt_hash))
                .raise()
        }
    }
}

fn denial_detail(
    analysis: &Analysis,
    decision: &Decision,
    text: Option<&str>,
    stmt_hash: Option<&str>,
    recorded: Progress,
) -> String {
    let mut lines = vec![
        format!(
            "Statement: {}",
            text.unwrap_or("(text unavailable: DDL run indirectly before fence was loaded in this session)")
        ),
        format!("Statement hash: {}", stmt_hash.unwrap_or("(none)")),
        format!("Why: {}", decision.explanation),
    ];
    for f in analysis.findings.iter().filter(|f| f.risk > Risk::None || f.rule == "unclassified") {
        lines.push(format!("Finding {} ({}): {}. Safe rewrite: {}", f.rule, f.risk, f.message, f.safe_rewrite));
    }
    if text.is_some_and(|t| t.contains("fence:ignore")) {
        lines.push("Claimed: the statement's -- fence:ignore comment is kept in the decision; an ignore is not an exemption, and fence decides as without it.".into());
    }
    lines.push(recorded_line(recorded).to_string());
    lines.join("\n")
}

/// Where a denial was kept, as its DETAIL says.
pub fn recorded_line(recorded: Progress) -> String {
    match recorded {
        Progress::Chained => "Recorded: this denial is in fence.audit_chain and stays there after the rollback.".into(),
        Progress::Parked => {
            "Recorded: this denial is parked in fence.pending_denials and joins the chain with the next denial.".into()
        }
        Progress::Lost => "Recorded: in the server log only (fence's denial writer was unavailable).".into(),
        Progress::Counted(count) => format!(
            "Recorded: refusal {count} of this statement in this session (the server log has each); fence.audit_chain has the first and every power of two, with the count."
        ),
    }
}

fn denial_hint(call: &GateCall, decision: &Decision, text: Option<&str>, stmt_hash: Option<&str>) -> String {
    if decision.reason == "lock_queue" {
        return "Run it again once those sessions are done (their owner may end one: SELECT pg_terminate_backend(<pid>)), with SET lock_timeout = '2s' so a wait cannot stall the table; the policy's lock_queue and lock_queue_max_age say when fence refuses.".into();
    }
    if let Some(harm) = &call.row_audit_off {
        let relation = &harm.relation;
        return format!("To stop tracking {relation}, a fence_admin runs SELECT fence.untrack_table('{relation}');");
    }
    let (Some(text), Some(stmt_hash)) = (text, stmt_hash) else {
        return "Preload fence (shared_preload_libraries or session_preload_libraries = 'fence') so it sees the exact statement text, or ask a fence_admin for an exemption by relation or rule.".into();
    };
    let alone = sqltext::try_canonical(text).map(|c| c.content_hash).unwrap_or_default();
    format!(
        "Approve the migration containing it (as a member of fence_approver): SELECT fence.approve($fence$<migration SQL>$fence$); \
         then run it with SET fence.approval = '<returned content hash>' (this statement alone is content {alone}). \
         Or exempt it until a deadline (as fence_admin): SELECT fence.exempt('statement', '{stmt_hash}', '<reason>', now() + interval '1 hour');"
    )
}
