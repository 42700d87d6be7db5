//! The gate (`ddl_command_start`) and the recorder (`ddl_command_end`).

use fence_core::analysis::{Analysis, Analyzer};
use fence_core::canonical::{canonicalize, statement_hash};
use fence_core::decision::{decide, ApprovalEvidence, Decision, Outcome};
use fence_core::model::Statement;
use fence_core::risk::Risk;
use pgrx::prelude::*;
use serde_json::{json, Map, Value};

use crate::catalog::LiveCatalog;
use crate::errors;
use crate::events::{self, NewEvent};
use crate::ffi::hooks::TextSource;
use crate::ffi::{guc, security};
use crate::store::{self, ExemptionQuery};

pub struct GateCall {
    pub tag: String,
    pub statement: Statement,
    /// The statement's own text and where it came from (None: fence could not recover it).
    pub text: Option<(String, TextSource)>,
    pub drops_fence: bool,
}

/// JSON of an analysis, shared by the audit details and `fence.analyze`.
pub fn locks_json(analysis: &Analysis) -> Value {
    analysis.locks.iter().map(|l| json!({"relation": l.relation, "mode": l.mode.pg_name()})).collect()
}

pub fn findings_json(analysis: &Analysis) -> Value {
    analysis
        .findings
        .iter()
        .map(|f| json!({"rule": f.rule, "risk": f.risk.as_str(), "message": f.message, "safe_rewrite": f.safe_rewrite}))
        .collect()
}

struct Verdict {
    decision: Decision,
    approval_ids: Vec<i64>,
    exemption: Option<i64>,
}

pub fn gate(call: GateCall) {
    if call.drops_fence {
        events::discard_transaction();
        return;
    }
    if store::extension_owner().is_none() {
        return;
    }
    let analysis = Analyzer::new(&LiveCatalog).analyze(&call.statement);
    let text = call.text.as_ref().map(|(t, _)| t.clone());
    let stmt_hash = text.as_deref().and_then(|t| statement_hash(t).ok());
    let content_hash = guc::approval();

    let policy = store::current_policy();
    let verdict = judge(&policy.policy, &analysis, stmt_hash.as_deref(), content_hash.as_deref());
    let (policy_version, policy_hash) = (policy.version, policy.hash.clone());

    let mut details = Map::new();
    details.insert("findings".into(), findings_json(&analysis));
    details.insert("locks".into(), locks_json(&analysis));
    details.insert("rewrites".into(), analysis.rewrites.into());
    details.insert("scans".into(), analysis.scans.into());
    details.insert("unknown".into(), analysis.unknown.into());
    details.insert("explanation".into(), verdict.decision.explanation.clone().into());
    details.insert("text_source".into(), call.text.as_ref().map_or("unavailable", |(_, s)| s.as_str()).into());
    if !verdict.approval_ids.is_empty() {
        details.insert("approval_ids".into(), verdict.approval_ids.clone().into());
    }
    if let Some(id) = verdict.exemption {
        details.insert("exemption_id".into(), id.into());
    }
    events::record(
        NewEvent {
            kind: "ddl",
            command_tag: Some(call.tag.clone()),
            relation: analysis.relation.clone(),
            statement: text.clone(),
            statement_hash: stmt_hash.clone(),
            content_hash: content_hash.clone(),
            decision: Some(verdict.decision.outcome.as_str().into()),
            reason: Some(verdict.decision.reason.into()),
            risk: Some(analysis.risk.as_str().into()),
            policy_version: Some(i64::from(policy_version)),
            policy_hash: Some(policy_hash),
            details,
        },
        true,
    );
    report(&call, &analysis, &verdict.decision, text.as_deref(), stmt_hash.as_deref());
}

fn judge(
    policy: &fence_core::policy::Policy,
    analysis: &Analysis,
    stmt_hash: Option<&str>,
    content_hash: Option<&str>,
) -> Verdict {
    let nothing = ApprovalEvidence { content_named: content_hash.is_some(), ..Default::default() };
    let first = decide(policy, analysis.risk, analysis.unknown, &nothing, None);
    if first.outcome == Outcome::Allow {
        return Verdict { decision: first, approval_ids: Vec::new(), exemption: None };
    }
    let (evidence, approval_ids) = match (content_hash, stmt_hash) {
        (Some(content), Some(stmt)) => {
            let (session, executing) = (security::session_role(), security::executing_role());
            store::approval_evidence(content, stmt, &[&session, &executing], policy.separation_of_duties)
        }
        _ => (nothing, Vec::new()),
    };
    let rules = analysis
        .findings
        .iter()
        .filter(|f| f.risk >= policy.approval_threshold || f.rule == "unclassified")
        .map(|f| f.rule.to_string())
        .collect();
    let exemption = store::find_exemption(&ExemptionQuery {
        statement_hash: stmt_hash,
        content_hash,
        relations: analysis.locks.iter().map(|l| l.relation.clone()).collect(),
        rules,
    });
    let decision = decide(policy, analysis.risk, analysis.unknown, &evidence, exemption);
    let approval_ids = if decision.reason == "approved" { approval_ids } else { Vec::new() };
    let exemption = if decision.reason == "exempted" { exemption } else { None };
    Verdict { decision, approval_ids, exemption }
}

fn headline(call: &GateCall, analysis: &Analysis) -> String {
    let target = analysis.relation.as_ref().map_or(String::new(), |r| format!(" on {r}"));
    let lock = analysis.lock_mode.map_or("no table lock".to_string(), |m| m.pg_name().to_string());
    let unknown = if analysis.unknown { ", unclassified" } else { "" };
    format!("{}{target} ({lock}, risk {}{unknown})", call.tag, analysis.risk)
}

fn report(call: &GateCall, analysis: &Analysis, decision: &Decision, text: Option<&str>, stmt_hash: Option<&str>) {
    match decision.outcome {
        Outcome::Allow if analysis.risk > Risk::None || analysis.unknown => {
            notice!("fence: allowed {}: {}", headline(call, analysis), decision.explanation)
        }
        Outcome::Allow => {}
        Outcome::Warn => warning!("fence: warning for {}: {}", headline(call, analysis), decision.explanation),
        Outcome::Deny => errors::raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("fence: blocked {}: {}", headline(call, analysis), decision.reason.replace('_', " ")),
            Some(denial_detail(analysis, decision, text, stmt_hash)),
            Some(denial_hint(text, stmt_hash)),
        ),
    }
}

fn denial_detail(analysis: &Analysis, decision: &Decision, text: Option<&str>, stmt_hash: Option<&str>) -> String {
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
    lines.join("\n")
}

fn denial_hint(text: Option<&str>, stmt_hash: Option<&str>) -> String {
    let (Some(text), Some(stmt_hash)) = (text, stmt_hash) else {
        return "Preload fence (shared_preload_libraries or session_preload_libraries = 'fence') so it sees the exact statement text, or ask a fence_admin for an exemption by relation or rule.".into();
    };
    let alone = canonicalize(text).map(|c| c.content_hash).unwrap_or_default();
    format!(
        "Approve the migration containing it (as a member of fence_approver): SELECT fence.approve($fence$<migration SQL>$fence$); \
         then run it with SET fence.approval = '<returned content hash>' (this statement alone is content {alone}). \
         Or exempt it until a deadline (as fence_admin): SELECT fence.exempt('statement', '{stmt_hash}', '<reason>', now() + interval '1 hour');"
    )
}

/// `ddl_command_end`: attach the objects the command touched to its decision.
pub fn record(tag: &str) {
    if store::extension_owner().is_none() {
        return;
    }
    let objects: Value = Spi::connect(|client| {
        let rows = client.select(crate::queries::DDL_COMMANDS, None, &[])?;
        rows.map(|row| {
            Ok(json!({
                "object_type": row.get::<String>(1)?,
                "schema": row.get::<String>(2)?,
                "identity": row.get::<String>(3)?,
                "command_tag": row.get::<String>(4)?,
            }))
        })
        .collect::<Result<Vec<Value>, pgrx::spi::Error>>()
        .map(Value::Array)
    })
    .unwrap_or_else(|e| errors::spi(e));
    if !events::complete_ddl(objects.clone()) {
        let mut details = Map::new();
        details.insert("objects".into(), objects);
        events::record(
            NewEvent { kind: "ddl_end", command_tag: Some(tag.to_string()), details, ..Default::default() },
            false,
        );
    }
}
