//! `fence.exempt()` and `fence.revoke_exemption()`.

use pgrx::prelude::*;

use crate::governance::exemptions;

/// Grants a time-boxed exemption (in the databases named, or in all); returns its id.
#[pg_extern(name = "exempt")]
fn exempt_scoped(
    scope: &str,
    target: &str,
    reason: &str,
    expires_at: TimestampWithTimeZone,
    finding: default!(Option<&str>, "NULL"),
    databases: default!(Option<Vec<String>>, "NULL"),
) -> i64 {
    exemptions::exempt(scope, target, reason, expires_at, finding, databases)
}

/// `fence.exempt()` as the SQL of 0.3.0 and earlier declares it (five arguments), until
/// `ALTER EXTENSION fence UPDATE` replaces it.
#[pg_extern(sql = false)]
fn exempt(scope: &str, target: &str, reason: &str, expires_at: TimestampWithTimeZone, finding: Option<&str>) -> i64 {
    exemptions::exempt(scope, target, reason, expires_at, finding, None)
}

/// Revokes an exemption before it expires.
#[pg_extern]
fn revoke_exemption(id: i64, reason: &str) -> bool {
    exemptions::revoke(id, reason)
}
