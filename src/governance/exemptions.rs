//! Time-boxed exemptions: granted and revoked through `fence.exempt()` /
//! `fence.revoke_exemption()`, and looked up for each decision.

use fence_core::chain::AuditEvent;
use fence_core::grants::{Exemption, ExemptionRequest};
use pgrx::pg_sys;
use pgrx::prelude::*;
use serde_json::json;

use super::policy;
use crate::chain::events;
use crate::db::owner::{as_owner, owner_read};
use crate::db::{self, exemptions_bound, queries, Arg};
use crate::errors;
use crate::ffi::{relcache, security, xact};
use crate::sqltext;

/// The live exemptions that may cover the request, read as of now without leaving a lock
/// (none before `ALTER EXTENSION fence UPDATE` binds them, see `db::exemptions_bound`).
pub fn live(request: &ExemptionRequest) -> Vec<Exemption> {
    if !exemptions_bound() {
        return Vec::new();
    }
    let relations: Vec<pg_sys::Oid> = request.relation_ids.iter().map(|&id| pg_sys::Oid::from(id)).collect();
    let args: [Arg; 4] =
        [request.statement_hash.into(), request.content_hash.into(), relations.into(), request.rules.clone().into()];
    owner_read(|| {
        db::select(queries::LIVE_EXEMPTIONS, &args, |row| Exemption {
            id: row.get::<i64>("id").unwrap_or_default(),
            scope: row.text("scope"),
            target: row.text("target"),
            relation_id: row.get::<pg_sys::Oid>("relid").map(|oid| oid.to_u32()),
        })
    })
}

/// What an exemption is bound to: its target as stored, the relation's OID (relation scope)
/// and the content's statements (content scope).
struct Target {
    target: String,
    relid: Option<pg_sys::Oid>,
    statement_hashes: Option<Vec<String>>,
}

/// Normalizes and checks an exemption target for its scope.
fn target(scope: &str, target: &str) -> Target {
    let plain = |target: String| Target { target, relid: None, statement_hashes: None };
    match scope {
        "statement" if fence_core::hash::is_tagged_sha256(target) => plain(target.to_string()),
        // Content by hash: its statements as an approval recorded them.
        "content" if fence_core::hash::is_tagged_sha256(target) => {
            let hashes = as_owner(|| {
                db::select_value::<Vec<String>>(queries::CONTENT_STATEMENTS, &[target.into()], "statement_hashes")
            });
            match hashes {
                Some(hashes) => Target { target: target.to_string(), relid: None, statement_hashes: Some(hashes) },
                None => errors::invalid_parameter(format!(
                    "fence knows no statements of content {target}: no approval of it is recorded"
                ))
                .hint("Pass the migration's SQL itself as the target: SELECT fence.exempt('content', $fence$<migration SQL>$fence$, ...);")
                .raise(),
            }
        }
        // Content by its SQL: its statements and those its code runs.
        "content" => {
            let content = sqltext::canonical(target);
            if content.statements.is_empty() {
                errors::invalid_parameter("there is nothing to exempt: the SQL has no statements").raise();
            }
            let hashes = sqltext::covered_hashes(&content, target);
            Target { target: content.content_hash, relid: None, statement_hashes: Some(hashes) }
        }
        "statement" => {
            errors::invalid_parameter(format!("a statement exemption needs a sha256:<64 hex> hash, not '{target}'"))
                .hint("Use the statement hash from the refusal's DETAIL.")
                .raise()
        }
        "relation" => {
            let name = relcache::parse_name(target);
            match relcache::lookup_oid(&name) {
                Some((info, oid)) => Target { target: info.name.to_string(), relid: Some(oid), statement_hashes: None },
                // On the fleet's control database: a table of the targets, bound on each
                // target to the table its name resolves to there.
                None if name.schema.is_some() && crate::fleet::has_role("control") => plain(name.quoted()),
                None => errors::not_found(format!("relation \"{target}\" does not exist"))
                    .hint("On the fleet's control database, name a target's table with its schema (public.accounts).")
                    .raise(),
            }
        }
        "rule" if fence_core::rules::by_id(target).is_some() => plain(target.to_string()),
        "rule" => no_rule(target),
        _ => errors::invalid_parameter(format!("scope must be statement, relation, rule or content, not '{scope}'"))
            .raise(),
    }
}

fn no_rule(rule: &str) -> ! {
    errors::not_found(format!("there is no rule \"{rule}\"")).hint("See docs/rules/ for the rule ids.").raise()
}

/// Grants a time-boxed exemption; returns its id.
pub fn exempt(
    scope: &str,
    target_text: &str,
    reason: &str,
    expires_at: TimestampWithTimeZone,
    finding: Option<&str>,
    databases: Option<Vec<String>>,
) -> i64 {
    if databases.as_ref().is_some_and(|names| names.is_empty() || names.iter().any(|n| n.trim().is_empty())) {
        errors::invalid_parameter("databases must name at least one database, and no empty name")
            .hint("Leave databases out (NULL) for an exemption that applies in every database of the fleet.")
            .raise();
    }
    if reason.trim().is_empty() {
        errors::invalid_parameter("an exemption needs a written reason").raise();
    }
    if let Some(rule) = finding.filter(|rule| fence_core::rules::by_id(rule).is_none()) {
        no_rule(rule);
    }
    let Target { target, relid, statement_hashes } = target(scope, target_text);
    let now = xact::now_unix_us();
    let expires_us = xact::unix_us(expires_at);
    let by = security::session_role();
    as_owner(|| {
        let policy = policy::current();
        if expires_us <= now {
            errors::invalid_parameter("expires_at must be in the future").raise();
        }
        if expires_us - now > policy.policy.exemption_max_seconds * 1_000_000 {
            errors::invalid_parameter(format!(
                "expires_at is beyond the policy's maximum exemption duration ({} seconds)",
                policy.policy.exemption_max_seconds
            ))
            .hint("Choose an earlier expiry, or change exemption_max_duration with fence.set_policy().")
            .raise();
        }
        let mut args: Vec<Arg> = vec![
            scope.into(),
            target.as_str().into(),
            reason.into(),
            finding.into(),
            (&*by).into(),
            xact::timestamptz(now).into(),
            expires_at.into(),
            policy.version.into(),
        ];
        let mut details = json!({"exemption_id": 0, "scope": scope, "target": target, "reason": reason, "finding": finding, "expires_us": expires_us});
        let query = if exemptions_bound() {
            details["relid"] = json!(relid.map(|oid| oid.to_u32()));
            details["statement_hashes"] = json!(statement_hashes);
            if databases.is_some() {
                details["databases"] = json!(databases);
            }
            args.extend([relid.into(), statement_hashes.into(), databases.into()]);
            queries::INSERT_EXEMPTION
        } else {
            queries::INSERT_EXEMPTION_UNBOUND
        };
        let id = db::write(query, &args, |row| row.get::<i64>("id")).into_iter().next().flatten().unwrap_or_default();
        details["exemption_id"] = json!(id);
        record(scope, &target, &policy, details);
        id
    })
}

/// Buffers an exemption's chain event (granted here, or received from the fleet's control
/// database), under the policy version in force here.
pub fn record(scope: &str, target: &str, policy: &policy::PolicyRecord, details: serde_json::Value) {
    events::record(
        AuditEvent {
            kind: "exemption".into(),
            relation: (scope == "relation").then(|| target.to_string()),
            statement_hash: (scope == "statement").then(|| target.to_string()),
            content_hash: (scope == "content").then(|| target.to_string()),
            policy_version: Some(i64::from(policy.version)),
            policy_hash: Some(policy.hash.clone()),
            details,
            ..Default::default()
        },
        false,
    );
}

/// Revokes an exemption before it expires.
pub fn revoke(id: i64, reason: &str) -> bool {
    if reason.trim().is_empty() {
        errors::invalid_parameter("a reason is required to revoke an exemption").raise();
    }
    let by = security::session_role();
    let args = [id.into(), (&*by).into(), xact::timestamptz(xact::now_unix_us()).into(), reason.into()];
    let query = if db::fleet_ready() { queries::REVOKE_EXEMPTION } else { queries::REVOKE_EXEMPTION_UNBOUND };
    let revoked = as_owner(|| db::write(query, &args, |_| ()));
    if revoked.is_empty() {
        errors::not_found(format!("there is no active exemption {id}"))
            .hint("SELECT id, scope, target, origin FROM fence.exemptions WHERE revoked_at IS NULL; an exemption with an origin came from the fleet's control database and is revoked there.")
            .raise();
    }
    policy::record_event("exemption_revoked", None, None, json!({"exemption_id": id, "reason": reason}));
    true
}
