//! The gate (`ddl_command_start`) and the recorder (`ddl_command_end`).

use fence_core::analysis::{Analysis, Analyzer};
use fence_core::decision::{decide, ApprovalEvidence, Decision, Facts, Outcome};
use fence_core::model::{Statement, StatementKind};
use fence_core::policy::{Mode, Policy};
use fence_core::risk::Risk;
use fence_core::rules::Transaction;
use pgrx::prelude::*;
use serde_json::{json, Map, Value};

use crate::catalog::LiveCatalog;
use crate::denials;
use crate::errors;
use crate::events::{self, NewEvent};
use crate::ffi::hooks::{self, TextSource};
use crate::ffi::worker::Progress;
use crate::ffi::{guc, security, xact};
use crate::plans;
use crate::sqltext;
use crate::store::{self, ApprovalQuery, ExemptionQuery};

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
    pub row_audit_off: Option<crate::rows::Harm>,
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
    /// The policy's automation entry that allowed it.
    automation: Option<String>,
}

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
    if let Err(left) = denials::retry_unrecorded() {
        errors::raise(
            PgSqlErrorCode::ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
            format!("fence: {left} earlier denial(s) of this session could not be written to the audit chain yet: its DDL waits until they are"),
            Some("No background worker slot was free for fence's denial writer (the server log has each denial).".into()),
            Some("Retry in a moment. Keep max_worker_processes above max_parallel_workers so that parallel queries leave slots free.".into()),
        );
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
    let content_hash = guc::approval();

    let policy = store::current_policy();
    let verdict = match &call.row_audit_off {
        Some(harm) => row_audit_protected(harm),
        None => judge(&policy.policy, &analysis, stmt_hash.as_deref(), content_hash.as_deref()),
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
    if !verdict.approval_ids.is_empty() {
        details.insert("approval_ids".into(), verdict.approval_ids.clone().into());
    }
    if let Some(id) = verdict.exemption {
        details.insert("exemption_id".into(), id.into());
    }
    if let Some(name) = &verdict.automation {
        details.insert("automation".into(), name.clone().into());
    }
    let event = NewEvent {
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
    };
    let denied = verdict.decision.outcome == Outcome::Deny;
    // A cancel or statement_timeout waits until the denial is recorded (see denials::persist).
    let _held = denied.then(crate::ffi::worker::HoldInterrupts::new);
    let mut event = if denied { events::denial_event(event) } else { events::complete(event) };
    if guc::log_level().logs(denied) {
        log!("{}", fence_core::report::decision_log_line(&event));
    }
    let recorded = if denied {
        // The transaction is about to abort with everything it buffered: commit the denial
        // on its own (a repeat of one this session wrote is counted instead).
        denials::persist_repeat(&mut event)
    } else {
        events::buffer_decision(event, call.awaits_end, analysis.missing.clone());
        Progress::Chained
    };
    report(&call, &analysis, &verdict.decision, text.as_deref(), stmt_hash.as_deref(), recorded);
}

/// `LOCK TABLE` of a view locks every table the view reads, in the same mode: a temporary
/// view over a shared table is no private matter.
fn locks_through_view(statement: &Statement) -> bool {
    match &statement.kind {
        StatementKind::LockTable { relations, .. } => relations.iter().any(crate::ffi::relcache::is_view),
        _ => false,
    }
}

/// Whether fence decides and records here: installed in this database, and not on a hot
/// standby (it replays the primary's decisions; nothing can be written there).
fn watching() -> bool {
    !xact::in_recovery() && store::extension_owner().is_some()
}

thread_local! {
    /// Set while fence runs its own DDL (row triggers, partitions): not gated, not recorded
    /// as DDL — the tracking, sealing and retention events say what happened.
    static INTERNAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

struct EndInternal(bool);

impl Drop for EndInternal {
    fn drop(&mut self) {
        INTERNAL.with(|i| i.set(self.0));
    }
}

/// Runs fence's own DDL (see INTERNAL); only fence's Rust code can set this.
pub fn internal<R>(f: impl FnOnce() -> R) -> R {
    let _end = EndInternal(INTERNAL.with(|i| i.replace(true)));
    f()
}

/// Whether the DDL now running is fence's own.
pub fn is_internal() -> bool {
    INTERNAL.with(std::cell::Cell::get)
}

thread_local! {
    /// What this session's current transaction has done (for transaction-level rules).
    static TRANSACTION: std::cell::RefCell<(u32, Transaction)> = std::cell::RefCell::new((0, Transaction::default()));
}

/// Analyzes a statement as part of the session's current transaction: several ACCESS
/// EXCLUSIVE locks, CONCURRENTLY in a block and VALIDATE after NOT VALID are seen across
/// statements.
fn analyze_in_transaction(statement: &Statement) -> Analysis {
    let key = xact::local_transaction_id();
    let mut transaction = TRANSACTION.with(|t| {
        let t = t.borrow();
        if t.0 == key {
            t.1.clone()
        } else {
            Transaction::default()
        }
    });
    transaction.explicit = xact::in_transaction_block();
    let mut analyzer = Analyzer::in_transaction(&LiveCatalog, transaction).with_lock_timeout(security::timeouts_ms().0);
    let analysis = analyzer.analyze(statement);
    TRANSACTION.with(|t| *t.borrow_mut() = (key, analyzer.transaction().clone()));
    analysis
}

fn session_and_executing_roles() -> [std::rc::Rc<str>; 2] {
    [security::session_role(), security::executing_role().into()]
}

/// Whether the session or executing role is in the policy's `warn_roles` (roles looked up
/// only when the policy names some).
fn in_warn_roles(policy: &Policy) -> bool {
    !policy.warn_roles.is_empty()
        && session_and_executing_roles().iter().any(|role| security::role_in_any(role, &policy.warn_roles))
}

fn judge(policy: &Policy, analysis: &Analysis, stmt_hash: Option<&str>, content_hash: Option<&str>) -> Verdict {
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
        (Some(content), Some(statement)) => store::approval_evidence(
            &ApprovalQuery { content_hash: content, statement_hash: statement, executing: [&session, &executing] },
            policy,
        ),
        _ => (nothing, Vec::new()),
    };
    let approved = decide(policy, &facts, &evidence, None);
    let (decision, exemption) = if approved.reason == "approved" {
        (approved, None)
    } else {
        let exemption = store::find_exemption(&ExemptionQuery {
            statement_hash: stmt_hash,
            content_hash,
            relations: analysis.locks.iter().filter_map(|l| crate::ffi::relcache::oid_of(&l.relation)).collect(),
            rules,
        });
        (decide(policy, &facts, &evidence, exemption), exemption)
    };
    let approval_ids = if decision.reason == "approved" { approval_ids } else { Vec::new() };
    let exemption = if decision.reason == "exempted" { exemption } else { None };
    Verdict { decision, approval_ids, exemption, automation: None }
}

/// Why a statement that breaks a tracked table's row audit is refused, and the way out.
fn row_audit_explanation(harm: &crate::rows::Harm) -> String {
    format!(
        "{}; stop tracking {} first with SELECT fence.untrack_table('{}'); (fence_admin), which is recorded",
        harm.why, harm.relation, harm.relation
    )
}

/// Dropping, disabling or renaming fence's row trigger, or changing what the row audit of a
/// tracked table depends on: no approval or exemption covers it.
fn row_audit_protected(harm: &crate::rows::Harm) -> Verdict {
    let explanation = row_audit_explanation(harm);
    Verdict {
        decision: Decision { outcome: Outcome::Deny, reason: "row_audit_protected", explanation },
        approval_ids: Vec::new(),
        exemption: None,
        automation: None,
    }
}

fn headline(call: &GateCall, analysis: &Analysis) -> String {
    let target = analysis.relation.as_ref().map_or(String::new(), |r| format!(" on {r}"));
    let lock = analysis.lock_mode.map_or("no table lock".to_string(), |m| m.pg_name().to_string());
    let unknown = if analysis.unknown { ", unclassified" } else { "" };
    format!("{}{target} ({lock}, risk {}{unknown})", call.tag, analysis.risk)
}

fn report(
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
        Outcome::Deny => errors::raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("fence: blocked {}: {}", headline(call, analysis), decision.reason.replace('_', " ")),
            Some(denial_detail(analysis, decision, text, stmt_hash, recorded)),
            Some(denial_hint(call, text, stmt_hash)),
        ),
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
    lines.push(recorded_line(recorded).to_string());
    lines.join("\n")
}

/// Where a denial was kept, as its DETAIL says.
fn recorded_line(recorded: Progress) -> String {
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

fn denial_hint(call: &GateCall, text: Option<&str>, stmt_hash: Option<&str>) -> String {
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

/// A change to what keeps fence on (its event triggers, `session_replication_role`): a
/// superuser may make it, but not silently.
pub fn record_guard_change(what: String, state: String, statement: Option<String>) {
    if !watching() {
        return;
    }
    let mut details = Map::new();
    details.insert("guard".into(), what.clone().into());
    details.insert("state".into(), state.clone().into());
    events::record(NewEvent { kind: "guard_change", statement, details, ..Default::default() }, false);
    if what == "session_replication_role" && state != "origin" {
        warning!(
            "fence: session_replication_role = {state} silences fence's event triggers; recorded in the audit chain"
        );
    }
}

/// Rows of an event-trigger information function as JSON objects (every column as text).
fn trigger_rows(query: &'static str) -> Vec<Value> {
    Spi::connect(|client| {
        let rows = plans::select(client, query, &[])?;
        let names: Vec<String> =
            (1..=rows.columns()?).map(|i| rows.column_name(i)).collect::<Result<_, pgrx::spi::Error>>()?;
        rows.map(|row| {
            let mut object = Map::new();
            for (i, name) in names.iter().enumerate() {
                object.insert(name.clone(), row.get::<String>(i + 1)?.map_or(Value::Null, Value::String));
            }
            Ok(Value::Object(object))
        })
        .collect::<Result<Vec<Value>, pgrx::spi::Error>>()
    })
    .unwrap_or_else(|e| errors::spi(e))
}

/// What a later event trigger saw, attached to its statement's decision (or, when that was
/// already chained, recorded as an event of its own); returns those rows. The callers check
/// `watching()` once per event.
fn attach_or_record(kind: &'static str, tag: &str, key: &str, query: &'static str, end: bool) -> Vec<Value> {
    let rows = trigger_rows(query);
    if !events::attach(key, rows.clone(), end) {
        let mut details = Map::new();
        details.insert(key.into(), Value::Array(rows.clone()));
        events::record(NewEvent { kind, command_tag: Some(tag.to_string()), details, ..Default::default() }, false);
    }
    rows
}

/// A relation the decision found missing that exists after all (created or renamed into
/// place by another session between the decision and the statement's lock): dropped by the
/// statement (`sql_drop`), or there when it ends (`ddl_command_end`). The decision did not
/// cover it, so the statement is refused (and the refusal kept).
fn refuse_if_appeared(tag: &str, at_drop: bool) {
    let missing = events::awaiting_missing();
    if missing.is_empty() {
        return;
    }
    let appeared = if at_drop {
        let dropped: Vec<(String, String)> = Spi::connect(|client| {
            plans::select(client, crate::queries::DROPPED_RELATIONS, &[])?
                .map(|row| Ok((row.get::<String>(1)?.unwrap_or_default(), row.get::<String>(2)?.unwrap_or_default())))
                .collect::<Result<Vec<_>, pgrx::spi::Error>>()
        })
        .unwrap_or_else(|e| errors::spi(e));
        missing.into_iter().find(|m| {
            dropped.iter().any(|(schema, name)| *name == m.name && m.schema.as_ref().is_none_or(|s| s == schema))
        })
    } else {
        missing.into_iter().find(|m| crate::ffi::relcache::lookup(m).is_some())
    };
    let Some(appeared) = appeared else { return };
    refuse_after(
        tag,
        &appeared.to_string(),
        "appeared_after_decision",
        format!(
            "{appeared} did not exist when fence decided, and the statement found it: run it again to have it decided"
        ),
        "it appeared after the decision",
        "Run the statement again: fence decides on the relation as it is now.",
    );
}

/// Refuses a statement from a later event trigger (what it did showed what the decision at
/// its start could not see); the refusal is kept as a denial is.
fn refuse_after(tag: &str, relation: &str, reason: &'static str, explanation: String, what: &str, hint: &str) -> ! {
    let mut details = Map::new();
    details.insert("explanation".into(), explanation.clone().into());
    let event = events::denial_event(NewEvent {
        kind: "ddl",
        command_tag: Some(tag.to_string()),
        relation: Some(relation.to_string()),
        statement: hooks::client_text(),
        decision: Some(Outcome::Deny.as_str().into()),
        reason: Some(reason.into()),
        details,
        ..Default::default()
    });
    let recorded = denials::persist(&event);
    errors::raise(
        PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
        format!("fence: blocked {tag} on {relation}: {what}"),
        Some(format!("Why: {explanation}\n{}", recorded_line(recorded))),
        Some(hint.to_string()),
    );
}

/// Objects the statement left outside the session's temporary schema that depend on one
/// inside it (`ALTER TABLE t OF pg_temp.some_type`, a default using a temporary sequence):
/// PostgreSQL drops them with the session or at DISCARD TEMP, firing no event trigger, so they
/// would go undecided. Refused under enforce, warned under warn (and for warn_roles).
fn refuse_temporary_dependencies(tag: &str) {
    let rows = trigger_rows(crate::queries::TEMPORARY_DEPENDENCIES);
    let Some(first) = rows.first() else { return };
    let policy = store::current_policy();
    let (dependent, temporary) = (first["dependent"].as_str().unwrap_or(""), first["temporary"].as_str().unwrap_or(""));
    let explanation = format!(
        "{dependent} would depend on {temporary} of this session's temporary schema: PostgreSQL drops it with the session or at DISCARD TEMP, and no event trigger sees that"
    );
    match policy.policy.mode {
        Mode::Off => {}
        Mode::Warn => warning!("fence: warning for {tag}: {explanation}"),
        Mode::Enforce if in_warn_roles(&policy.policy) => {
            warning!("fence: warning for {tag}: {explanation} (only warned: the role is in the policy's warn_roles)")
        }
        Mode::Enforce => refuse_after(
            tag,
            dependent,
            "depends_on_temporary",
            explanation,
            "it would depend on a temporary object",
            "Make the object depend on permanent objects only (a permanent sequence, type or function).",
        ),
    }
    events::attach("temporary_dependencies", rows, false);
}

/// `ddl_command_end`: the objects the command created or altered.
/// `adds_partition`: the statement created or attached a partition (its TRUNCATE trigger may
/// be due; every other statement skips that look-up).
pub fn record(tag: &str, adds_partition: bool) {
    if !watching() {
        return;
    }
    refuse_if_appeared(tag, false);
    if crate::ffi::relcache::has_temp_namespace() {
        refuse_temporary_dependencies(tag);
    }
    attach_or_record("ddl_end", tag, "objects", crate::queries::DDL_COMMANDS, true);
    // A new partition of a tracked table gets its TRUNCATE trigger (CREATE [FOREIGN] TABLE
    // ... PARTITION OF, ATTACH PARTITION, such a CREATE SCHEMA element).
    if adds_partition {
        crate::rows::cover_new_partitions();
    }
    // After fence's own work on the statement (a new partition's TRUNCATE trigger).
    refuse_row_audit_harm(tag, crate::queries::TOUCHED_BY_COMMANDS);
}

/// Refuses a statement that broke a tracked table's row audit (see `rows::harmed`), whoever
/// sent it: approvals and exemptions do not cover it.
fn refuse_row_audit_harm(tag: &str, touched: &'static str) {
    if let Some(harm) = crate::rows::harmed(touched) {
        refuse_after(
            tag,
            &harm.relation,
            "row_audit_protected",
            row_audit_explanation(&harm),
            "it would break the row audit of a tracked table",
            &format!(
                "To change {} so, a fence_admin stops tracking it first: SELECT fence.untrack_table('{}');",
                harm.relation, harm.relation
            ),
        );
    }
}

/// `sql_drop`: every object the command dropped; a dropped table's row tracking ends (looked
/// up only when a table was dropped).
pub fn dropped(tag: &str) {
    if !watching() {
        return;
    }
    refuse_if_appeared(tag, true);
    // What a DROP takes away by dependency (DROP TYPE ... CASCADE, DROP EXTENSION): a tracked
    // table's trigger, key column or constraint.
    refuse_row_audit_harm(tag, crate::queries::TOUCHED_BY_DROPS);
    let rows = attach_or_record("dropped", tag, "dropped", crate::queries::DROPPED_OBJECTS, false);
    if rows.iter().any(|row| row["object_type"] == "table" && row["schema"] != "pg_temp") {
        crate::rows::untrack_dropped();
    }
}

/// `table_rewrite`: a table PostgreSQL is about to rewrite.
pub fn rewrite(tag: &str) {
    if watching() {
        attach_or_record("rewrite", tag, "actual_rewrites", crate::queries::TABLE_REWRITE, false);
    }
}
