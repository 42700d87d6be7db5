//! The gate: every DDL statement is analyzed from its parse tree at `ddl_command_start` (and
//! the commands event triggers never see, from the ProcessUtility hook) and allowed, warned
//! about or refused (`decide`); the decision is recorded (`crate::chain::events`), a denial
//! outside the transaction it aborts (`denials`), and explained to the client (`report`).
//! What the statement then did is recorded and checked by `after`.

pub mod after;
mod decide;
mod denials;
mod report;
pub mod text;
pub mod utility;

use fence_core::analysis::{Analysis, Analyzer};
use fence_core::chain::AuditEvent;
use fence_core::decision::{Blocker, Outcome};
use fence_core::model::{Statement, StatementKind};
use pgrx::prelude::*;
use serde_json::Map;

use crate::analysis::{findings_json, locks_json};
use crate::catalog::LiveCatalog;
use crate::chain::events;
use crate::chain::outside;
use crate::db::owner;
use crate::errors;
use crate::ffi::event_trigger::{in_extension_script, EventTriggerCall};
use crate::ffi::worker::{HoldInterrupts, Progress};
use crate::ffi::{compat, parsetree, relcache, rowguard, security, xact};
use crate::governance::policy;
use crate::rows::harm::{self, Harm};
use crate::session::EndChecks;
use crate::{session, settings, sqltext};
use text::TextSource;

pub struct GateCall {
    pub tag: String,
    pub statement: Statement,
    /// The statement's own text and where it came from (None: fence could not recover it).
    pub text: Option<(String, TextSource)>,
    pub drops_fence: bool,
    /// Whether a `ddl_command_end` will complete the event (not for commands only the
    /// ProcessUtility hook sees).
    pub awaits_end: bool,
    /// The tracked table whose row audit the statement would switch off or break (always
    /// refused).
    pub row_audit_off: Option<Harm>,
}

/// DDL fence leaves alone: an extension script's, fence's own, and pg_upgrade's restore of
/// the old cluster's schema (its chain is carried over as it was).
fn skipped() -> bool {
    in_extension_script() || session::is_internal() || xact::binary_upgrade()
}

/// `ddl_command_start`: analyze the statement from its parse tree and decide.
pub fn command_start(event: EventTriggerCall) {
    if skipped() {
        return;
    }
    let node = event.node;
    if parsetree::is_create_schema(node) {
        session::with(|t| t.creating_schema = true);
    }
    gate(GateCall {
        tag: event.tag,
        statement: parsetree::statement(node),
        text: text::statement_text(node),
        drops_fence: parsetree::drops_fence(node),
        awaits_end: true,
        row_audit_off: row_audit_harm(node),
    });
}

/// The tracked table whose row audit the statement would switch off or break, if any.
fn row_audit_harm(node: *mut pgrx::pg_sys::Node) -> Option<Harm> {
    rowguard::tampering(node)
        .filter(|(relid, _)| harm::is_tracked(*relid))
        .map(|(_, relation)| Harm { why: format!("it would switch off the row audit of {relation}"), relation })
        .or_else(|| rowguard::dependencies(node).and_then(|(renamed, dropped)| harm::harmed_by(renamed, dropped)))
}

/// Decides a statement, records the decision and tells the client (an ERROR for a denial).
pub fn gate(call: GateCall) {
    if call.drops_fence {
        // Only the owner can; the chain goes with the extension, so say it in the log.
        log!(
            "fence: DROP EXTENSION fence requested by {} (as {}); the audit chain is dropped with it if this commits",
            security::session_role(),
            security::executing_role()
        );
        return;
    }
    if !watching() {
        return;
    }
    if let Err(left) = outside::retry_unrecorded() {
        errors::configuration_limit(format!("{left} earlier denial(s) of this session could not be written to the audit chain yet: its DDL waits until they are"))
            .detail("No background worker slot was free for fence's denial writer (the server log has each denial).")
            .hint("Retry in a moment. Keep max_worker_processes above max_parallel_workers so that parallel queries leave slots free.")
            .raise();
    }
    let analysis = analyze_in_transaction(&call.statement);
    if xact::in_transaction_block() && analysis.findings.iter().any(|f| f.rule == "concurrently_in_transaction") {
        // PostgreSQL refuses a CONCURRENTLY command in a transaction block itself, with its
        // own error: nothing runs, there is nothing to decide.
        return;
    }
    if analysis.session_private && call.row_audit_off.is_none() && !locks_through_view(&call.statement) {
        // Only the session's own temporary objects: nobody else can see, wait for or lose them.
        events::hold_private(call.awaits_end, analysis.missing.clone());
        return;
    }
    let text = call.text.as_ref().map(|(t, _)| t.clone());
    let stmt_hash = text.as_deref().and_then(sqltext::statement_hash);
    let content_hash = settings::approval();

    let policy = policy::current();
    let verdict = match &call.row_audit_off {
        Some(harm) => decide::row_audit_protected(harm),
        None => decide::judge(&policy.policy, &analysis, stmt_hash.as_deref(), content_hash.as_deref()),
    };
    let (policy_version, policy_hash) = (policy.version, policy.hash.clone());

    let mut details = Map::new();
    details.insert("findings".into(), findings_json(&analysis));
    details.insert("locks".into(), locks_json(&analysis));
    details.insert("rewrites".into(), analysis.rewrites.into());
    details.insert("scans".into(), analysis.scans.into());
    details.insert("unknown".into(), analysis.unknown.into());
    details.insert("explanation".into(), verdict.decision.explanation.clone().into());
    details.insert("text_source".into(), call.text.as_ref().map_or("unavailable", |(_, s)| s.as_str()).into());
    if let Some(claims) = text.as_deref().and_then(sqltext::ignore_claims) {
        details.insert("ignore_claims".into(), claims);
    }
    if !verdict.approval_ids.is_empty() {
        details.insert("approval_ids".into(), verdict.approval_ids.clone().into());
    }
    if let Some(id) = verdict.exemption {
        details.insert("exemption_id".into(), id.into());
    }
    if let Some(name) = &verdict.automation {
        details.insert("automation".into(), name.clone().into());
    }
    if !verdict.blockers.is_empty() {
        details.insert("lock_queue".into(), blockers_json(&verdict.blockers));
        if verdict.decision.reason != "lock_queue" {
            let names: Vec<String> = verdict.blockers.iter().map(Blocker::describe).collect();
            warning!(
                "fence: {} would queue behind another session, and every later query on the table behind it: {}; with lock_timeout set, the wait cannot stall the table",
                call.tag,
                names.join("; ")
            );
        }
    }
    let event = AuditEvent {
        kind: "ddl".into(),
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
        details: details.into(),
        ..Default::default()
    };
    let denied = verdict.decision.outcome == Outcome::Deny;
    // A cancel or statement_timeout waits until the denial is recorded (see outside::persist).
    let _held = denied.then(HoldInterrupts::new);
    let mut event = if denied { events::denial_event(event) } else { events::complete(event) };
    if settings::log_level().logs(denied) {
        log!("{}", fence_core::report::decision_log_line(&event));
    }
    let recorded = if denied {
        // The transaction is about to abort with everything it buffered: commit the denial
        // on its own (a repeat of one this session wrote is counted instead).
        denials::persist_repeat(&mut event)
    } else {
        let checks = EndChecks {
            missing: analysis.missing.clone(),
            empty: analysis.empty.clone(),
            // An ALTER TABLE dropping with CASCADE: what goes with it is not known to the
            // decision (it is rated drop_cascade instead).
            locked: (!analysis.unknown && !call.statement.alter_actions().any(|(_, a)| a.cascades()))
                .then(|| analysis.locks.iter().map(|l| l.relation.clone()).collect()),
            noop: analysis.noop,
            builds_nothing: matches!(call.statement.kind, StatementKind::CreateIndex { only_partitioned: true, .. }),
        };
        events::buffer(event, call.awaits_end, checks);
        Progress::Chained
    };
    report::report(&call, &analysis, &verdict.decision, text.as_deref(), stmt_hash.as_deref(), recorded);
}

/// The sessions in a statement's lock queue, as the event keeps them.
/// What `fence.analyze(..., lock_queue => true)` shows of a statement: the sessions it would
/// queue behind now, as the gate looks before it decides (whatever the policy's `lock_queue`
/// setting; only for a lock that blocks writes, with the policy's `lock_queue_max_age`).
pub fn lock_queue_look(analysis: &Analysis) -> serde_json::Value {
    if !analysis.lock_mode.is_some_and(fence_core::lock::LockMode::blocks_writes) {
        return serde_json::Value::Array(Vec::new());
    }
    let max_age_ms = policy::current().policy.lock_queue_max_age_ms;
    blockers_json(&decide::lock_queue(&analysis.locks, max_age_ms))
}

fn blockers_json(blockers: &[Blocker]) -> serde_json::Value {
    blockers
        .iter()
        .map(|b| {
            serde_json::json!({
                "pid": b.pid, "role": b.role, "application": b.application, "relation": b.relation,
                "mode": b.mode, "granted": b.granted, "transaction_ms": b.transaction_ms, "state": b.state,
            })
        })
        .collect()
}

/// `LOCK TABLE` of a view locks every table the view reads, in the same mode: a temporary
/// view over a shared table is no private matter.
fn locks_through_view(statement: &Statement) -> bool {
    match &statement.kind {
        StatementKind::LockTable { relations, .. } => relations.iter().any(relcache::is_view),
        _ => false,
    }
}

/// Whether fence decides and records here: installed in this database, and not on a hot
/// standby (it replays the primary's decisions; nothing can be written there).
pub fn watching() -> bool {
    !xact::in_recovery() && owner::extension_owner().is_some()
}

/// Analyzes a statement as part of the session's current transaction: several ACCESS
/// EXCLUSIVE locks, CONCURRENTLY in a block and VALIDATE after NOT VALID are seen across
/// statements.
fn analyze_in_transaction(statement: &Statement) -> Analysis {
    let mut transaction = session::with(|t| t.analysis.clone());
    transaction.explicit = xact::in_transaction_block();
    let mut analyzer = Analyzer::in_transaction(&LiveCatalog, transaction)
        .with_lock_timeout(security::timeouts_ms().0)
        .on_pg_version(compat::MAJOR);
    let analysis = analyzer.analyze(statement);
    session::with(|t| t.analysis = analyzer.transaction().clone());
    analysis
}
