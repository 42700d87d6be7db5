//! fence's SQL functions.

use fence_core::analysis::Analyzer;
use fence_core::chain::Anchor;
use fence_core::policy::Policy;
use fence_core::risk::Risk;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Map, Value};

use crate::catalog::LiveCatalog;
use crate::errors;
use crate::events::{self, NewEvent};
use crate::ffi::event_trigger::in_extension_script;
use crate::ffi::{parser, parsetree, relcache, security, xact};
use crate::gate::{findings_json, locks_json};
use crate::plans;
use crate::queries;
use crate::sqltext;
use crate::store::{self, as_owner};

/// Runs a query as text: every returned column must be text (cast in the query).
fn run<'a, const N: usize>(query: &str, args: [DatumWithOid<'a>; N]) -> Vec<Vec<Option<String>>> {
    Spi::connect_mut(|client| {
        let table = client.update(query, None, &args)?;
        let columns = table.columns().unwrap_or(0);
        table
            .map(|row| (1..=columns).map(|i| row.get::<String>(i)).collect::<Result<Vec<_>, _>>())
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .unwrap_or_else(|e| errors::spi(e))
}

type AnalyzeRow = (i32, String, String, Option<String>, Option<String>, bool, bool, String, JsonB, JsonB, String);

fn analyze_rows(sql: &str) -> Vec<AnalyzeRow> {
    let catalog = LiveCatalog;
    let mut analyzer = Analyzer::new(&catalog).with_lock_timeout(security::timeouts_ms().0);
    parser::parse(sql)
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let slice = &sql[raw.start..raw.end];
            let first = sqltext::try_canonical(slice).and_then(|c| c.statements.into_iter().next());
            let (text, hash) = first.map_or((slice.trim().to_string(), String::new()), |s| (s.text, s.hash));
            let analysis = analyzer.analyze(&parsetree::statement(raw.node));
            (
                i as i32 + 1,
                text,
                analysis.tag.clone(),
                analysis.relation.clone(),
                analysis.lock_mode.map(|m| m.pg_name().to_string()),
                analysis.rewrites,
                analysis.scans,
                analysis.risk.to_string(),
                JsonB(locks_json(&analysis)),
                JsonB(findings_json(&analysis)),
                hash,
            )
        })
        .collect()
}

/// One row per statement: the locks it takes, whether it rewrites or scans, its risk and the
/// findings with their safe rewrites, judged against this database's catalog.
#[pg_extern]
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelled out here
fn analyze(
    sql: &str,
) -> TableIterator<
    'static,
    (
        name!(stmt_no, i32),
        name!(statement, String),
        name!(command_tag, String),
        name!(relation, Option<String>),
        name!(lock_mode, Option<String>),
        name!(rewrites, bool),
        name!(scans, bool),
        name!(risk, String),
        name!(locks, JsonB),
        name!(findings, JsonB),
        name!(statement_hash, String),
    ),
> {
    TableIterator::new(analyze_rows(sql))
}

/// The content hash (`sha256:<64 hex>`) of a migration, as the CLI prints it (read with the
/// session's `standard_conforming_strings`, hence STABLE).
#[pg_extern(stable, parallel_safe)]
fn content_hash(sql: &str) -> String {
    sqltext::canonical(sql).content_hash
}

/// Approves (or rejects) exactly this migration content; returns its content hash.
#[pg_extern]
#[allow(clippy::too_many_arguments)]
fn approve(
    sql: &str,
    note: default!(Option<&str>, "NULL"),
    source: default!(Option<&str>, "NULL"),
    repository: default!(Option<&str>, "NULL"),
    pull_request: default!(Option<&str>, "NULL"),
    commit_sha: default!(Option<&str>, "NULL"),
    external_approver: default!(Option<&str>, "NULL"),
    decision: default!(&str, "'approve'"),
) -> String {
    if decision != "approve" && decision != "reject" {
        errors::invalid_parameter(&format!("decision must be 'approve' or 'reject', not '{decision}'"), None);
    }
    let content = sqltext::canonical(sql);
    if content.statements.is_empty() {
        errors::invalid_parameter("there is nothing to approve: the SQL has no statements", None);
    }
    let analysis: Value = analyze_rows(sql)
        .into_iter()
        .map(|row| json!({"stmt_no": row.0, "command_tag": row.2, "relation": row.3, "lock_mode": row.4, "risk": row.7, "findings": (row.9).0}))
        .collect();
    let highest = analysis
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["risk"].as_str()?.parse::<Risk>().ok())
        .max()
        .unwrap_or_default();
    // The content's statements, then those its code runs: what the approver read as code.
    let hashes = sqltext::covered_hashes(&content, sql);
    let (approved_by, approved_as) = (security::session_role(), security::executing_role());
    let now = xact::now_unix_us();
    let policy = store::current_policy();
    let roles = &policy.policy.approver_roles;
    if !roles.is_empty() && !security::role_in_any(&approved_by, roles) {
        errors::forbidden(
            format!(
                "{approved_by} may not approve under policy version {}: approver_roles is {roles:?}",
                policy.version
            ),
            Some(format!(
                "Ask a member of {} to approve, or change approver_roles with fence.set_policy().",
                roles.join(", ")
            )),
        );
    }
    as_owner(|| {
        let rows = run(
            queries::INSERT_APPROVAL,
            [
                content.content_hash.as_str().into(),
                hashes.clone().into(),
                sql.into(),
                decision.into(),
                (&*approved_by).into(),
                approved_as.as_str().into(),
                note.into(),
                source.into(),
                repository.into(),
                pull_request.into(),
                commit_sha.into(),
                external_approver.into(),
                JsonB(analysis.clone()).into(),
                policy.version.into(),
                xact::timestamptz(now).into(),
            ],
        );
        let id: i64 = rows.first().and_then(|r| r[0].as_deref()?.parse().ok()).unwrap_or_default();
        let mut details = Map::new();
        details.insert("approval_id".into(), id.into());
        details.insert("statement_hashes".into(), hashes.clone().into());
        for (key, value) in [
            ("note", note),
            ("source", source),
            ("repository", repository),
            ("pull_request", pull_request),
            ("commit_sha", commit_sha),
            ("external_approver", external_approver),
        ] {
            if let Some(value) = value {
                details.insert(key.into(), value.into());
            }
        }
        events::record(
            NewEvent {
                kind: "approval",
                content_hash: Some(content.content_hash.clone()),
                decision: Some(decision.into()),
                risk: Some(highest.to_string()),
                policy_version: Some(i64::from(policy.version)),
                policy_hash: Some(policy.hash.clone()),
                details,
                ..Default::default()
            },
            false,
        );
    });
    content.content_hash
}

/// Revokes the caller's own approvals of a content hash; returns how many were revoked.
#[pg_extern]
fn revoke_approval(content_hash: &str, reason: &str) -> i64 {
    if reason.trim().is_empty() {
        errors::invalid_parameter("a reason is required to revoke an approval", None);
    }
    let by = security::session_role();
    let rows = as_owner(|| {
        run(
            queries::REVOKE_APPROVAL,
            [content_hash.into(), (&*by).into(), xact::timestamptz(xact::now_unix_us()).into(), reason.into()],
        )
    });
    if rows.is_empty() {
        errors::not_found(
            format!("{by} has no active approval of {content_hash}"),
            Some("SELECT content_hash, approved_by FROM fence.approvals WHERE revoked_at IS NULL;".into()),
        );
    }
    let ids: Vec<i64> = rows.iter().filter_map(|r| r[0].as_deref()?.parse().ok()).collect();
    events::record_under_policy(
        "approval_revoked",
        None,
        Some(content_hash),
        json!({"approval_ids": ids, "reason": reason}),
    );
    ids.len() as i64
}

/// What an exemption is bound to: its target as stored, the relation's OID (relation scope)
/// and the content's statements (content scope).
struct ExemptionTarget {
    target: String,
    relid: Option<pg_sys::Oid>,
    statement_hashes: Option<Vec<String>>,
}

/// The statements of approved content, by its hash (None: no approval of it is recorded).
fn approved_statements(content_hash: &str) -> Option<Vec<String>> {
    let hashes = plans::select_one::<Vec<String>>(queries::CONTENT_STATEMENTS, &[content_hash.into()]);
    hashes.unwrap_or_else(|e| errors::spi(e))
}

/// Normalizes and checks an exemption target for its scope.
fn exemption_target(scope: &str, target: &str) -> ExemptionTarget {
    let plain = |target: String| ExemptionTarget { target, relid: None, statement_hashes: None };
    match scope {
        "statement" if fence_core::hash::is_tagged_sha256(target) => plain(target.to_string()),
        // Content by hash: its statements as an approval recorded them.
        "content" if fence_core::hash::is_tagged_sha256(target) => match as_owner(|| approved_statements(target)) {
            Some(hashes) => ExemptionTarget { target: target.to_string(), relid: None, statement_hashes: Some(hashes) },
            None => errors::invalid_parameter(
                &format!("fence knows no statements of content {target}: no approval of it is recorded"),
                Some("Pass the migration's SQL itself as the target: SELECT fence.exempt('content', $fence$<migration SQL>$fence$, ...);"),
            ),
        },
        // Content by its SQL: its statements and those its code runs.
        "content" => {
            let content = sqltext::canonical(target);
            if content.statements.is_empty() {
                errors::invalid_parameter("there is nothing to exempt: the SQL has no statements", None);
            }
            let hashes = sqltext::covered_hashes(&content, target);
            ExemptionTarget { target: content.content_hash, relid: None, statement_hashes: Some(hashes) }
        }
        "statement" => errors::invalid_parameter(
            &format!("a statement exemption needs a sha256:<64 hex> hash, not '{target}'"),
            Some("Use the statement hash from the refusal's DETAIL."),
        ),
        "relation" => match relcache::lookup_oid(&relcache::parse_name(target)) {
            Some((info, oid)) => ExemptionTarget { target: info.name.to_string(), relid: Some(oid), statement_hashes: None },
            None => errors::not_found(format!("relation \"{target}\" does not exist"), None),
        },
        "rule" if fence_core::rules::by_id(target).is_some() => plain(target.to_string()),
        "rule" => errors::not_found(
            format!("there is no rule \"{target}\""),
            Some("See docs/rules/ for the rule ids.".into()),
        ),
        _ => errors::invalid_parameter(
            &format!("scope must be statement, relation, rule or content, not '{scope}'"),
            None,
        ),
    }
}

/// Grants a time-boxed exemption; returns its id.
#[pg_extern]
fn exempt(
    scope: &str,
    target: &str,
    reason: &str,
    expires_at: TimestampWithTimeZone,
    finding: default!(Option<&str>, "NULL"),
) -> i64 {
    if reason.trim().is_empty() {
        errors::invalid_parameter("an exemption needs a written reason", None);
    }
    if let Some(rule) = finding.filter(|rule| fence_core::rules::by_id(rule).is_none()) {
        errors::not_found(format!("there is no rule \"{rule}\""), Some("See docs/rules/ for the rule ids.".into()));
    }
    let ExemptionTarget { target, relid, statement_hashes } = exemption_target(scope, target);
    let now = xact::now_unix_us();
    let expires_us = xact::unix_us(expires_at);
    let by = security::session_role();
    as_owner(|| {
        let policy = store::current_policy();
        if expires_us <= now {
            errors::invalid_parameter("expires_at must be in the future", None);
        }
        if expires_us - now > policy.policy.exemption_max_seconds * 1_000_000 {
            errors::invalid_parameter(
                &format!(
                    "expires_at is beyond the policy's maximum exemption duration ({} seconds)",
                    policy.policy.exemption_max_seconds
                ),
                Some("Choose an earlier expiry, or change exemption_max_duration with fence.set_policy()."),
            );
        }
        let common: [DatumWithOid; 8] = [
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
        let rows = if store::exemptions_bound() {
            details["relid"] = json!(relid.map(|oid| oid.to_u32()));
            details["statement_hashes"] = json!(statement_hashes);
            let [a, b, c, d, e, f, g, h] = common;
            run(queries::INSERT_EXEMPTION, [a, b, c, d, e, f, g, h, relid.into(), statement_hashes.into()])
        } else {
            run(queries::INSERT_EXEMPTION_UNBOUND, common)
        };
        let id: i64 = rows.first().and_then(|r| r[0].as_deref()?.parse().ok()).unwrap_or_default();
        details["exemption_id"] = json!(id);
        events::record(
            NewEvent {
                kind: "exemption",
                relation: (scope == "relation").then(|| target.clone()),
                statement_hash: (scope == "statement").then(|| target.clone()),
                content_hash: (scope == "content").then(|| target.clone()),
                policy_version: Some(i64::from(policy.version)),
                policy_hash: Some(policy.hash.clone()),
                details: details.as_object().cloned().unwrap_or_default(),
                ..Default::default()
            },
            false,
        );
        id
    })
}

/// Revokes an exemption before it expires.
#[pg_extern]
fn revoke_exemption(id: i64, reason: &str) -> bool {
    if reason.trim().is_empty() {
        errors::invalid_parameter("a reason is required to revoke an exemption", None);
    }
    let by = security::session_role();
    let rows = as_owner(|| {
        run(
            queries::REVOKE_EXEMPTION,
            [id.into(), (&*by).into(), xact::timestamptz(xact::now_unix_us()).into(), reason.into()],
        )
    });
    if rows.is_empty() {
        errors::not_found(format!("there is no active exemption {id}"), None);
    }
    events::record_under_policy("exemption_revoked", None, None, json!({"exemption_id": id, "reason": reason}));
    true
}

/// Validates and installs a new policy version; returns the version number.
#[pg_extern]
fn set_policy(document: JsonB, note: default!(Option<&str>, "NULL")) -> i32 {
    let full = match Policy::parse(&document.0) {
        Ok((_, full)) => full,
        Err(e) => errors::invalid_parameter(&format!("invalid policy: {e}"), Some("Keys: mode, approval_threshold, approvals_required, unknown, separation_of_duties, exemption_max_duration, max_lock_timeout, statement_timeout_required, approver_roles, warn_roles, automation.")),
    };
    let hash = store::policy_hash(&full);
    let by = security::session_role();
    as_owner(|| {
        // fence's own lock (serializing policy versions): neither gated nor recorded as DDL.
        crate::gate::internal(|| run(queries::LOCK_POLICY, []));
        let rows = run(
            queries::INSERT_POLICY,
            [
                xact::timestamptz(xact::now_unix_us()).into(),
                (&*by).into(),
                note.into(),
                JsonB(full.clone()).into(),
                hash.as_str().into(),
            ],
        );
        let version: i32 = rows.first().and_then(|r| r[0].as_deref()?.parse().ok()).unwrap_or_default();
        store::forget_policy();
        // Version 1 comes with CREATE EXTENSION (the defaults) and is not a chain event: a
        // restore creates it again, then loads the dumped chain (see finalize.sql).
        if in_extension_script() {
            return version;
        }
        events::record(
            NewEvent {
                kind: "policy",
                policy_version: Some(i64::from(version)),
                policy_hash: Some(hash.clone()),
                details: json!({"document": full, "note": note}).as_object().cloned().unwrap_or_default(),
                ..Default::default()
            },
            false,
        );
        version
    })
}

type VerifyRow = (bool, i64, Option<i64>, Option<String>, String, i64, i64);

/// The chain, then (if it holds) every tracked row change against its sealed block.
fn verification_row(anchor: Option<Anchor>) -> VerifyRow {
    let (chain, row_events, state) = store::verify_chain(anchor);
    if !chain.ok {
        return (false, chain.checked, chain.first_bad_seq, chain.reason, chain.head_hash, 0, 0);
    }
    if let Some(reason) = store::verify_state(&state) {
        return (false, chain.checked, None, Some(reason), chain.head_hash, 0, 0);
    }
    let rows = crate::seal::verify_changes(row_events);
    let (first_bad_seq, reason) = rows.failure.map_or((None, None), |(seq, reason)| (seq, Some(reason)));
    (reason.is_none(), chain.checked, first_bad_seq, reason, chain.head_hash, rows.checked, rows.unsealed)
}

/// Recomputes every hash of the chain and of the tracked row changes: ok, how many events
/// verified, the first bad seq and why, the head hash, how many row changes verified and how
/// many of them are not sealed into the chain yet.
#[pg_extern]
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelled out here
fn verify_chain() -> TableIterator<
    'static,
    (
        name!(ok, bool),
        name!(checked, i64),
        name!(first_bad_seq, Option<i64>),
        name!(reason, Option<String>),
        name!(head_hash, String),
        name!(changes_checked, i64),
        name!(changes_unsealed, i64),
    ),
> {
    TableIterator::once(verification_row(None))
}

/// The same, and the chain must still reach an anchor kept outside the database (from
/// `fence.anchor()`) with the same hash: catches a cut tail or a rewritten history.
#[pg_extern(name = "verify_chain")]
#[allow(clippy::type_complexity)] // pgrx needs the named columns spelled out here
fn verify_chain_against(
    anchor_seq: i64,
    anchor_hash: &str,
) -> TableIterator<
    'static,
    (
        name!(ok, bool),
        name!(checked, i64),
        name!(first_bad_seq, Option<i64>),
        name!(reason, Option<String>),
        name!(head_hash, String),
        name!(changes_checked, i64),
        name!(changes_unsealed, i64),
    ),
> {
    let anchor = format!("{anchor_seq}:{anchor_hash}").parse::<Anchor>().unwrap_or_else(|e| {
        errors::invalid_parameter(&e, Some("Pass the seq and event_hash returned by fence.anchor()."))
    });
    TableIterator::once(verification_row(Some(anchor)))
}

/// The chain's head (seq and event hash) to keep outside the database; the anchoring itself
/// is recorded as an event.
#[pg_extern]
fn anchor() -> TableIterator<'static, (name!(seq, i64), name!(event_hash, String))> {
    let (seq, hash) = store::chain_head();
    events::record_under_policy("anchor", None, None, json!({"anchored_seq": seq, "anchored_hash": hash}));
    TableIterator::once((seq, hash))
}
