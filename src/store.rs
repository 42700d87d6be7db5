//! Reads of fence's own tables. Each query runs as the extension owner (`as_owner`), the
//! gate's in a subtransaction rolled back at once (`owner_read`: the user's transaction keeps
//! no lock of fence's), and only when it has to: the owner and the policy are cached until
//! PostgreSQL invalidates the relation they come from.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use fence_core::chain::{canonical_json, Anchor, AuditEvent, Verification, Verifier};
use fence_core::decision::ApprovalEvidence;
use fence_core::hash::sha256_tagged;
use fence_core::policy::Policy;
use pgrx::datum::DatumWithOid;
use pgrx::pg_sys;
use pgrx::prelude::*;
use serde_json::Value;

use crate::errors;
use crate::ffi::{relcache, security, snapshot, xact};
use crate::plans;
use crate::queries;
use fence_core::row_verify::ChainRowEvents;
use fence_core::state_verify::{ApprovalRow, ChainState, ExemptionRow, PolicyRow};

/// The policy version in force.
pub struct PolicyRecord {
    pub version: i32,
    pub hash: String,
    pub policy: Policy,
    /// `fence.policy_versions`, whose invalidation drops this cache.
    table: Option<pg_sys::Oid>,
}

/// fence's chain table and its owner.
#[derive(Clone, Copy)]
struct Owner {
    chain: pg_sys::Oid,
    role: pg_sys::Oid,
}

thread_local! {
    // Valid across transactions until `forget_cached` (relcache invalidation) drops them.
    static OWNER: Cell<Option<Owner>> = const { Cell::new(None) };
    static POLICY: RefCell<Option<Rc<PolicyRecord>>> = const { RefCell::new(None) };
}

/// Drops what was cached from `relation` (InvalidOid: everything). Called by the relcache
/// invalidation callback; must never raise.
pub fn forget_cached(relation: pg_sys::Oid) {
    let all = relation == pg_sys::InvalidOid;
    if all || OWNER.with(|o| o.get().is_some_and(|o| o.chain == relation)) {
        OWNER.with(|o| o.set(None));
        POLICY.with(|p| *p.borrow_mut() = None);
    }
    if all || POLICY.with(|p| p.borrow().as_ref().is_some_and(|p| p.table == Some(relation))) {
        POLICY.with(|p| *p.borrow_mut() = None);
    }
}

/// The role that owns fence's tables (fence's writes run as it), or None if fence is not
/// installed in this database.
pub fn extension_owner() -> Option<pg_sys::Oid> {
    if let Some(owner) = OWNER.with(Cell::get) {
        return Some(owner.role);
    }
    let (chain, role) = relcache::fence_tables_owner()?;
    OWNER.with(|o| o.set(Some(Owner { chain, role })));
    Some(role)
}

/// Runs `f` as the extension owner; fence's tables are closed to every other role.
pub fn as_owner<R>(f: impl FnOnce() -> R) -> R {
    let owner = extension_owner().unwrap_or_else(|| errors::not_installed());
    security::as_owner(owner, f)
}

/// Reads fence's tables as the extension owner, leaving no lock in the caller's transaction
/// (see `xact::without_trace`).
pub fn owner_read<R>(read: impl FnOnce() -> R) -> R {
    xact::without_trace(|| as_owner(read))
}

/// The policy in force (cached until `fence.policy_versions` is invalidated).
pub fn current_policy() -> Rc<PolicyRecord> {
    if let Some(policy) = POLICY.with(|p| p.borrow().clone()) {
        return policy;
    }
    let policy = {
        let row = owner_read(|| {
            Spi::connect(|client| {
                let table = plans::select(client, queries::CURRENT_POLICY, &[])?;
                if table.is_empty() {
                    return Ok((None, None, None));
                }
                let table = table.first();
                Ok::<_, pgrx::spi::Error>((table.get::<i32>(1)?, table.get::<String>(2)?, table.get::<String>(3)?))
            })
        })
        .unwrap_or_else(|e| errors::spi(e));
        let (version, document) = match row {
            (Some(version), Some(document), Some(_)) => {
                (version, serde_json::from_str(&document).unwrap_or(Value::Null))
            }
            // No policy stored (removed by hand): fail closed with the built-in defaults.
            _ => (0, fence_core::policy::default_document()),
        };
        let hash = policy_hash(&document);
        let policy = Policy::parse(&document).map(|(p, _)| p).unwrap_or_else(|e| {
            errors::invalid_parameter(&format!("stored policy version {version} is invalid: {e}"), None)
        });
        Rc::new(PolicyRecord { version, hash, policy, table: relcache::policy_versions_oid() })
    };
    POLICY.with(|p| *p.borrow_mut() = Some(policy.clone()));
    policy
}

/// After a policy change in this transaction: drop this backend's copy now, and every other
/// backend's when the change commits.
pub fn forget_policy() {
    POLICY.with(|c| *c.borrow_mut() = None);
    if let Some(table) = relcache::policy_versions_oid() {
        relcache::announce_change(table);
    }
}

/// The hash of a policy document as stored and chained.
pub fn policy_hash(document: &Value) -> String {
    sha256_tagged(&[canonical_json(document).as_bytes()])
}

/// What an approval must cover: the executed statement's own hash (a statement run by a
/// DO block, function, trigger or rule included).
pub struct ApprovalQuery<'a> {
    pub content_hash: &'a str,
    pub statement_hash: &'a str,
    /// Session and executing role: under separation of duties their approvals do not count.
    pub executing: [&'a str; 2],
}

/// Approvals of the named content that matter for the statement, under `policy`.
pub fn approval_evidence(query: &ApprovalQuery, policy: &Policy) -> (ApprovalEvidence, Vec<i64>) {
    let mut evidence = ApprovalEvidence { content_named: true, ..Default::default() };
    let mut ids = Vec::new();
    let args: [DatumWithOid; 2] = [query.content_hash.into(), query.statement_hash.into()];
    let allowed =
        |approver: &str| policy.approver_roles.is_empty() || security::role_in_any(approver, &policy.approver_roles);
    owner_read(|| {
        Spi::connect(|client| {
            for row in plans::select(client, queries::APPROVALS_FOR_CONTENT, &args)? {
                let id = row.get::<i64>(1)?.unwrap_or_default();
                let decision = row.get::<String>(2)?.unwrap_or_default();
                let approver = row.get::<String>(3)?.unwrap_or_default();
                let covers = row.get::<bool>(4)?.unwrap_or(false);
                if !allowed(&approver) {
                    continue;
                } else if decision == "reject" {
                    evidence.rejected_by.push(approver);
                } else if !covers {
                    continue;
                } else if policy.separation_of_duties && query.executing.contains(&approver.as_str()) {
                    evidence.self_approved = true;
                } else if !evidence.approvers.contains(&approver) {
                    evidence.approvers.push(approver);
                    ids.push(id);
                }
            }
            Ok::<_, pgrx::spi::Error>(())
        })
    })
    .unwrap_or_else(|e| errors::spi(e));
    (evidence, ids)
}

/// What a statement can be exempted by.
pub struct ExemptionQuery<'a> {
    pub statement_hash: Option<&'a str>,
    pub content_hash: Option<&'a str>,
    /// The OIDs of the relations it locks (those that exist).
    pub relations: Vec<pg_sys::Oid>,
    /// Rules whose findings need approval: a rule exemption must cover all of them.
    pub rules: Vec<String>,
}

/// Whether `fence.exemptions` binds exemptions to what they name (0.4.0): until `ALTER
/// EXTENSION fence UPDATE` has run, a newer library leaves the old table alone — it grants
/// exemptions the old way and lets none of them cover a statement (fail closed).
pub fn exemptions_bound() -> bool {
    relcache::fence_column_exists("exemptions", "statement_hashes")
}

/// The id of a live exemption covering the statement: by statement or content hash, by
/// every relation it locks, or by every rule that made it risky.
pub fn find_exemption(query: &ExemptionQuery) -> Option<i64> {
    if !exemptions_bound() {
        return None;
    }
    let args: [DatumWithOid; 4] = [
        query.statement_hash.into(),
        query.content_hash.into(),
        query.relations.clone().into(),
        query.rules.clone().into(),
    ];
    let rows: Vec<(i64, String, String, Option<pg_sys::Oid>)> = owner_read(|| {
        Spi::connect(|client| {
            plans::select(client, queries::LIVE_EXEMPTIONS, &args)?
                .map(|row| {
                    Ok((
                        row.get::<i64>(1)?.unwrap_or_default(),
                        row.get::<String>(2)?.unwrap_or_default(),
                        row.get::<String>(3)?.unwrap_or_default(),
                        row.get::<pg_sys::Oid>(4)?,
                    ))
                })
                .collect::<Result<Vec<_>, pgrx::spi::Error>>()
        })
    })
    .unwrap_or_else(|e| errors::spi(e));
    let direct = rows.iter().find(|(_, scope, _, _)| scope == "statement" || scope == "content");
    let all_relations = !query.relations.is_empty()
        && query.relations.iter().all(|oid| rows.iter().any(|(_, s, _, r)| s == "relation" && *r == Some(*oid)));
    let all_rules = !query.rules.is_empty()
        && query.rules.iter().all(|rule| rows.iter().any(|(_, s, t, _)| s == "rule" && t == rule));
    let first_of = |scope: &str| rows.iter().find(|(_, s, _, _)| s == scope);
    direct
        .or_else(|| if all_relations { first_of("relation") } else { None })
        .or_else(|| if all_rules { first_of("rule") } else { None })
        .map(|(id, _, _, _)| *id)
}

/// The chain's newest event `(seq, event_hash)` (0 and the genesis hash when empty).
pub fn chain_head() -> (i64, String) {
    as_owner(snapshot::latest_chain_head).unwrap_or_else(|| (0, fence_core::chain::GENESIS_HASH.to_string()))
}

/// Verifies the whole chain, streaming it in batches; with an anchor, also that the chain
/// still reaches it unchanged. Also returns the row seals and retentions it holds, and what
/// it says of the governance state.
pub fn verify_chain(anchor: Option<Anchor>) -> (Verification, ChainRowEvents, ChainState) {
    let mut verifier = Verifier::with_anchor(anchor);
    let mut row_events = ChainRowEvents::default();
    let mut state = ChainState::default();
    as_owner(|| {
        Spi::connect(|client| {
            let mut cursor = client.open_cursor(queries::CHAIN_ROWS, &[]);
            loop {
                let batch = cursor.fetch(1000)?;
                if batch.is_empty() {
                    break;
                }
                for row in batch {
                    let text = |i: usize| row.get::<String>(i);
                    let event = AuditEvent {
                        seq: row.get::<i64>(1)?.unwrap_or_default(),
                        time_us: row.get::<i64>(2)?.unwrap_or_default(),
                        kind: text(3)?.unwrap_or_default(),
                        session_role: text(4)?.unwrap_or_default(),
                        executing_role: text(5)?.unwrap_or_default(),
                        txid: row.get::<i64>(6)?,
                        command_tag: text(7)?,
                        relation: text(8)?,
                        statement: text(9)?,
                        statement_hash: text(10)?,
                        content_hash: text(11)?,
                        decision: text(12)?,
                        reason: text(13)?,
                        risk: text(14)?,
                        policy_version: row.get::<i64>(15)?,
                        policy_hash: text(16)?,
                        details: text(17)?.and_then(|d| serde_json::from_str(&d).ok()).unwrap_or(Value::Null),
                    };
                    let (prev, hash) = (text(18)?.unwrap_or_default(), text(19)?.unwrap_or_default());
                    if !verifier.check(&event, &prev, &hash) {
                        return Ok(());
                    }
                    row_events.observe(event.seq, &event.kind, &event.details);
                    state.observe(&event);
                }
            }
            Ok::<_, pgrx::spi::Error>(())
        })
    })
    .unwrap_or_else(|e| errors::spi(e));
    (verifier.finish(), row_events, state)
}

/// The first disagreement between the governance tables (approvals, exemptions, policy
/// versions) and what the chain says of them.
pub fn verify_state(state: &ChainState) -> Option<String> {
    if !exemptions_bound() {
        // Before ALTER EXTENSION fence UPDATE the state is proven from 0.4.0's tables on; an
        // installed 0.4.0 without them was altered.
        let installed = plans::select_one::<String>(queries::EXTENSION_VERSION, &[]).unwrap_or_else(|e| errors::spi(e));
        return (installed.as_deref() == Some(env!("CARGO_PKG_VERSION")))
            .then(|| "fence.exemptions lacks the columns this version binds exemptions with (altered)".to_string());
    }
    let (mut approvals, mut exemptions, mut policies) = (Vec::new(), Vec::new(), Vec::new());
    let list = |text: Option<String>| -> Option<Vec<String>> { text.and_then(|t| serde_json::from_str(&t).ok()) };
    as_owner(|| {
        Spi::connect(|client| {
            for row in plans::select(client, queries::STATE_ROWS, &[])? {
                let text = |i: usize| row.get::<String>(i);
                let id: i64 = text(2)?.and_then(|t| t.parse().ok()).unwrap_or_default();
                match text(1)?.as_deref() {
                    Some("approval") => approvals.push(ApprovalRow {
                        id,
                        content_hash: text(3)?.unwrap_or_default(),
                        statement_hashes: list(text(4)?).unwrap_or_default(),
                        decision: text(5)?.unwrap_or_default(),
                        approved_by: text(6)?.unwrap_or_default(),
                        revoked: text(7)?.as_deref() == Some("true"),
                    }),
                    Some("exemption") => exemptions.push(ExemptionRow {
                        id,
                        scope: text(3)?.unwrap_or_default(),
                        target: text(4)?.unwrap_or_default(),
                        reason: text(5)?.unwrap_or_default(),
                        finding: text(6)?,
                        revoked: text(7)?.as_deref() == Some("true"),
                        expires_us: text(8)?.and_then(|t| t.parse().ok()).unwrap_or_default(),
                        relid: text(9)?.and_then(|t| t.parse().ok()),
                        statement_hashes: list(text(10)?),
                    }),
                    _ => {
                        let document: Value =
                            text(4)?.and_then(|d| serde_json::from_str(&d).ok()).unwrap_or(Value::Null);
                        let effective =
                            Policy::parse(&document).map(|(_, full)| policy_hash(&full)).unwrap_or_default();
                        policies.push(PolicyRow {
                            version: id,
                            document_hash: text(3)?.unwrap_or_default(),
                            recomputed_hash: policy_hash(&document),
                            effective_hash: effective,
                        });
                    }
                }
            }
            Ok::<_, pgrx::spi::Error>(())
        })
    })
    .unwrap_or_else(|e| errors::spi(e));
    let defaults = Policy::parse(&serde_json::json!({})).map(|(_, full)| policy_hash(&full)).unwrap_or_default();
    state.verify(&approvals, &exemptions, &policies, &defaults)
}
