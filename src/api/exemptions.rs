//! `fence.exempt()` and `fence.revoke_exemption()`.

use pgrx::prelude::*;

use crate::governance::exemptions;

/// Grants a time-boxed exemption; returns its id.
#[pg_extern]
fn exempt(
    scope: &str,
    target: &str,
    reason: &str,
    expires_at: TimestampWithTimeZone,
    finding: default!(Option<&str>, "NULL"),
    databases: default!(Option<Vec<String>>, "NULL"),
) -> i64 {
    exemptions::exempt(scope, target, reason, expires_at, finding, databases)
}

/// Revokes an exemption before it expires.
#[pg_extern]
fn revoke_exemption(id: i64, reason: &str) -> bool {
    exemptions::revoke(id, reason)
}
