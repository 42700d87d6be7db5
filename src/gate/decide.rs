//! Deciding: fence-core's decision ladder (`fence_core::grants::judge`) over what this server
//! knows — the session's roles, the approvals and exemptions on record, relation identities.

use fence_core::analysis::{Analysis, LockReport};
use fence_core::decision::{Blocker, Decision, Outcome};
use fence_core::grants::{self, Approval, Exemption, ExemptionRequest, Grants, Verdict};
use fence_core::lock::LockMode;
use fence_core::policy::Policy;

use pgrx::pg_sys;

use crate::db::{self, owner, queries};
use crate::ffi::{relcache, security};
use crate::governance::{approvals, exemptions};
use crate::rows::harm::Harm;

/// The server's answers to the decision ladder's questions.
struct Server;

impl Grants for Server {
    fn session_role(&self) -> String {
        security::session_role().to_string()
    }

    fn executing_role(&self) -> String {
        security::executing_role()
    }

    fn role_in_any(&self, member: &str, roles: &[String]) -> bool {
        security::role_in_any(member, roles)
    }

    fn timeouts_ms(&self) -> (i64, i64) {
        security::timeouts_ms()
    }

    fn approvals(&self, content_hash: &str, statement_hash: &str) -> Vec<Approval> {
        approvals::on_record(content_hash, statement_hash)
    }

    fn relation_id(&self, relation: &str) -> Option<u32> {
        relcache::oid_of(relation).map(|oid| oid.to_u32())
    }

    fn exemptions(&self, request: &ExemptionRequest) -> Vec<Exemption> {
        exemptions::live(request)
    }

    fn lock_queue(&self, locks: &[LockReport], max_age_ms: i64) -> Vec<Blocker> {
        // Only the relations whose lock blocks writes: a weaker one queues behind nothing an
        // application commonly holds long.
        let ours: Vec<(pg_sys::Oid, LockMode)> = locks
            .iter()
            .filter(|l| l.mode.blocks_writes())
            .filter_map(|l| Some((relcache::oid_of(&l.relation)?, l.mode)))
            .collect();
        // The lock manager first: when no other transaction holds a lock on any of them, nobody
        // can queue there either, and the catalog query is not run.
        if !ours.iter().any(|(oid, _)| relcache::locked_by_others(*oid)) {
            return Vec::new();
        }
        let oids: Vec<pg_sys::Oid> = ours.iter().map(|(oid, _)| *oid).collect();
        // As the extension owner: every session's role, application and transaction start.
        let rows = owner::owner_read(|| {
            db::select(queries::LOCK_QUEUE, &[oids.into()], |row| {
                let relid = row.get::<pg_sys::Oid>("relid");
                let blocker = Blocker {
                    pid: row.get::<i32>("pid").unwrap_or_default(),
                    role: row.text("role"),
                    application: row.text("application"),
                    relation: row.text("relation"),
                    mode: row.text("mode"),
                    granted: row.get::<bool>("granted").unwrap_or(false),
                    transaction_ms: row.get::<i64>("transaction_ms").unwrap_or_default(),
                    state: row.text("state"),
                };
                (relid, blocker)
            })
        });
        let blockers = rows
            .into_iter()
            .filter(|(relid, blocker)| {
                let theirs = LockMode::from_pg_name(&blocker.mode);
                let ours = ours.iter().find(|(oid, _)| Some(*oid) == *relid).map(|(_, mode)| *mode);
                let conflicts = matches!((ours, theirs), (Some(ours), Some(theirs)) if ours.conflicts_with(theirs));
                conflicts && (!blocker.granted || blocker.transaction_ms >= max_age_ms)
            })
            .map(|(_, blocker)| blocker)
            .collect();
        redacted(blockers)
    }
}

/// The sessions in the way as the session role may see them: another role's state and transaction
/// age only for a superuser or a member of pg_read_all_stats, as pg_stat_activity shows them.
fn redacted(mut blockers: Vec<Blocker>) -> Vec<Blocker> {
    if blockers.is_empty() {
        return blockers;
    }
    let me = security::session_role();
    if security::superuser_session() || security::role_in_any(&me, &["pg_read_all_stats".to_string()]) {
        return blockers;
    }
    for blocker in blockers.iter_mut().filter(|b| b.role != *me) {
        blocker.state = String::new();
        blocker.transaction_ms = -1;
    }
    blockers
}

/// The sessions a statement with these locks would queue behind now (the gate's look, for
/// `fence.analyze`).
pub fn lock_queue(locks: &[LockReport], max_age_ms: i64) -> Vec<Blocker> {
    Server.lock_queue(locks, max_age_ms)
}

/// Decides a statement (see `fence_core::grants::judge`).
pub fn judge(policy: &Policy, analysis: &Analysis, stmt_hash: Option<&str>, content_hash: Option<&str>) -> Verdict {
    grants::judge(policy, analysis, stmt_hash, content_hash, &Server)
}

/// Whether the session or executing role is in the policy's `warn_roles`.
pub fn in_warn_roles(policy: &Policy) -> bool {
    grants::in_warn_roles(policy, &Server)
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
        blockers: Vec::new(),
    }
}
