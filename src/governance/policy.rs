//! The policy in force (cached per backend until `fence.policy_versions` changes), new
//! policy versions, and governance events stamped with the version in force.

use std::cell::RefCell;
use std::rc::Rc;

use fence_core::chain::AuditEvent;
use fence_core::policy::{document_hash, Policy};
use pgrx::pg_sys;
use pgrx::JsonB;
use serde_json::{json, Value};

use crate::chain::events;
use crate::db::owner::{as_owner, owner_read};
use crate::db::{self, queries};
use crate::errors;
use crate::ffi::event_trigger::in_extension_script;
use crate::ffi::{relcache, security, xact};
use crate::session;

/// The policy version in force.
pub struct PolicyRecord {
    pub version: i32,
    pub hash: String,
    pub policy: Policy,
    /// `fence.policy_versions`, whose invalidation drops this cache.
    table: Option<pg_sys::Oid>,
}

thread_local! {
    // Valid across transactions until `forget_cached` (relcache invalidation) drops it.
    static POLICY: RefCell<Option<Rc<PolicyRecord>>> = const { RefCell::new(None) };
}

/// Drops the cached policy when `relation` is its table (InvalidOid: always), or when the
/// extension owner was dropped from the cache. Must never raise.
pub fn forget_cached(relation: pg_sys::Oid, owner_dropped: bool) {
    let all = owner_dropped || relation == pg_sys::InvalidOid;
    if all || POLICY.with(|p| p.borrow().as_ref().is_some_and(|p| p.table == Some(relation))) {
        POLICY.with(|p| *p.borrow_mut() = None);
    }
}

/// The policy in force (cached until `fence.policy_versions` is invalidated).
pub fn current() -> Rc<PolicyRecord> {
    if let Some(policy) = POLICY.with(|p| p.borrow().clone()) {
        return policy;
    }
    let row = owner_read(|| {
        db::select_first(queries::CURRENT_POLICY, &[], |row| {
            (row.get::<i32>("version"), row.get::<String>("document"), row.get::<String>("document_hash"))
        })
    });
    let (version, document) = match row {
        Some((Some(version), Some(document), Some(_))) => {
            (version, serde_json::from_str(&document).unwrap_or(Value::Null))
        }
        // No policy stored (removed by hand): fail closed with the built-in defaults.
        _ => (0, fence_core::policy::default_document()),
    };
    let hash = document_hash(&document);
    let policy = Policy::parse(&document).map(|(p, _)| p).unwrap_or_else(|e| {
        errors::invalid_parameter(format!("stored policy version {version} is invalid: {e}")).raise()
    });
    let policy = Rc::new(PolicyRecord { version, hash, policy, table: relcache::policy_versions_oid() });
    POLICY.with(|p| *p.borrow_mut() = Some(policy.clone()));
    policy
}

/// After a policy change in this transaction: drop this backend's copy now, and every other
/// backend's when the change commits.
fn forget_policy() {
    POLICY.with(|c| *c.borrow_mut() = None);
    if let Some(table) = relcache::policy_versions_oid() {
        relcache::announce_change(table);
    }
}

/// Buffers a governance event (approval revoked, anchor, row tracking, seal, retention)
/// stamped with the policy version in force.
pub fn record_event(kind: &'static str, relation: Option<&str>, content_hash: Option<&str>, details: Value) {
    as_owner(|| {
        let policy = current();
        events::record(
            AuditEvent {
                kind: kind.into(),
                relation: relation.map(str::to_string),
                content_hash: content_hash.map(str::to_string),
                policy_version: Some(i64::from(policy.version)),
                policy_hash: Some(policy.hash.clone()),
                details,
                ..Default::default()
            },
            false,
        )
    });
}

/// Where a policy version came from when it was received from the fleet's control database.
pub struct Origin<'a> {
    /// The control database's `fence.database_id()`.
    pub database_id: &'a str,
    /// Its version number there.
    pub version: i32,
}

/// Validates a policy document and fills in its defaults.
fn validated(document: &Value) -> Value {
    match Policy::parse(document) {
        Ok((_, full)) => full,
        Err(e) => errors::invalid_parameter(format!("invalid policy: {e}"))
            .hint("Keys: mode, approval_threshold, approvals_required, unknown, separation_of_duties, exemption_max_duration, max_lock_timeout, statement_timeout_required, approver_roles, warn_roles, automation, lock_queue, lock_queue_max_age.")
            .raise(),
    }
}

/// Validates and installs a new policy version; returns the version number. A database that
/// follows the fleet's policy takes it from its control database only.
pub fn set(document: &Value, note: Option<&str>) -> i32 {
    let full = validated(document);
    if !in_extension_script() && crate::fleet::has_role("target") {
        errors::forbidden("this database follows the fleet's policy: it is set on the control database")
            .detail("fence.join_fleet() subscribed this database to a control database; each policy version set there becomes this database's policy")
            .hint("Run fence.set_policy() on the control database (SELECT * FROM fence.fleet_status() shows the subscription).")
            .raise();
    }
    store(&full, &security::session_role(), note, None)
}

/// A policy version received from the fleet's control database becomes the policy in force;
/// returns the version number here.
pub fn receive(document: &Value, created_by: &str, note: Option<&str>, origin: &Origin) -> i32 {
    store(&validated(document), created_by, note, Some(origin))
}

fn store(full: &Value, by: &str, note: Option<&str>, origin: Option<&Origin>) -> i32 {
    let hash = document_hash(full);
    as_owner(|| {
        // fence's own lock (serializing policy versions): neither gated nor recorded as DDL.
        session::internal(|| db::execute(queries::LOCK_POLICY, &[]));
        let mut args = vec![
            xact::timestamptz(xact::now_unix_us()).into(),
            by.into(),
            note.into(),
            JsonB(full.clone()).into(),
            hash.as_str().into(),
        ];
        let query = if db::fleet_ready() {
            args.extend([origin.map(|o| o.database_id).into(), origin.map(|o| o.version).into()]);
            queries::INSERT_POLICY
        } else {
            queries::INSERT_POLICY_UNBOUND
        };
        let version =
            db::write(query, &args, |row| row.get::<i32>("version")).into_iter().next().flatten().unwrap_or_default();
        forget_policy();
        // Version 1 comes with CREATE EXTENSION (the defaults) and is not a chain event: a
        // restore creates it again, then loads the dumped chain (see finalize.sql).
        if in_extension_script() {
            return version;
        }
        let mut details = json!({"document": full, "note": note});
        if let Some(origin) = origin {
            details["fleet"] = json!({"origin": origin.database_id, "version": origin.version, "created_by": by});
        }
        events::record(
            AuditEvent {
                kind: "policy".into(),
                policy_version: Some(i64::from(version)),
                policy_hash: Some(hash.clone()),
                details,
                ..Default::default()
            },
            false,
        );
        version
    })
}
