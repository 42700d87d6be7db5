//! `fence.approve()`, `fence.revoke_approval()` and `fence.set_policy()`.

use pgrx::prelude::*;
use pgrx::JsonB;

use crate::governance::approvals::{self, Grant};
use crate::governance::policy;

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
    approvals::approve(sql, &Grant { note, source, repository, pull_request, commit_sha, external_approver, decision })
}

/// Revokes the caller's own approvals of a content hash; returns how many were revoked.
#[pg_extern]
fn revoke_approval(content_hash: &str, reason: &str) -> i64 {
    approvals::revoke(content_hash, reason)
}

/// Validates and installs a new policy version; returns the version number.
#[pg_extern]
fn set_policy(document: JsonB, note: default!(Option<&str>, "NULL")) -> i32 {
    policy::set(&document.0, note)
}
