//! A grant arriving from the fleet's control database (`fence.fleet_arrived`, called by the
//! `fleet_receive` trigger in the subscription's apply worker) becomes this database's own: an
//! approval counts exactly like a local one, an exemption applies if it names this database,
//! a policy version is the policy in force; each arrival (and each revocation) is an event of
//! this database's chain, carrying who granted it on the control database.

use serde_json::{json, Value};

use crate::db::owner::as_owner;
use crate::db::{self, queries};
use crate::errors;
use crate::governance::{approvals, exemptions, policy};

/// A row of `fence.fleet_<table>` as the apply worker wrote it (jsonb).
pub fn arrived(table: &str, row: &Value) {
    let text = |key: &str| row.get(key).and_then(Value::as_str);
    let origin = text("origin").unwrap_or_default();
    match table {
        "fleet_policies" => {
            let version =
                row.get("version").and_then(Value::as_i64).and_then(|v| i32::try_from(v).ok()).unwrap_or_default();
            let document = row.get("document").cloned().unwrap_or(Value::Null);
            let args = [origin.into(), version.into()];
            if as_owner(|| db::select_value::<bool>(queries::FLEET_POLICY_RECEIVED, &args, "received")) == Some(true) {
                return; // copied again (the target joined again): in force here already
            }
            let origin = policy::Origin { database_id: origin, version };
            policy::receive(&document, text("created_by").unwrap_or_default(), text("note"), &origin);
        }
        "fleet_approvals" => approval(row, origin),
        "fleet_exemptions" => exemption(row, origin),
        _ => errors::invalid_parameter(format!("fence.fleet_arrived: no fleet table {table}")).raise(),
    }
}

/// What every arrival's event says of where it came from.
fn fleet_details(row: &Value, origin: &str) -> Value {
    json!({"origin": origin, "id": row.get("id"), "created_at": row.get("created_at"), "policy_version": row.get("policy_version")})
}

fn approval(row: &Value, origin: &str) {
    let policy = policy::current();
    let args = [pgrx::JsonB(row.clone()).into(), policy.version.into()];
    let changed = as_owner(|| {
        db::write(queries::FLEET_RECEIVE_APPROVAL, &args, |r| {
            (
                r.get::<i64>("id").unwrap_or_default(),
                r.get::<bool>("inserted") == Some(true),
                r.get::<bool>("revoked") == Some(true),
            )
        })
    });
    let Some(&(id, inserted, revoked)) = changed.first() else { return };
    let text = |key: &str| row.get(key).and_then(Value::as_str).map(str::to_string);
    if inserted {
        let mut details = json!({
            "approval_id": id,
            "statement_hashes": row.get("statement_hashes"),
            "approved_by": text("approved_by"),
            "fleet": fleet_details(row, origin),
        });
        for key in ["note", "source", "repository", "pull_request", "commit_sha", "external_approver"] {
            if let Some(value) = text(key) {
                details[key] = value.into();
            }
        }
        let highest = approvals::highest_risk(row.get("analysis").unwrap_or(&Value::Null));
        let (content_hash, decision) = (text("content_hash").unwrap_or_default(), text("decision").unwrap_or_default());
        as_owner(|| approvals::record(&content_hash, &decision, highest, &policy, details));
    }
    if revoked {
        let details = json!({"approval_ids": [id], "reason": text("revoke_reason"), "revoked_by": text("revoked_by"), "fleet": fleet_details(row, origin)});
        policy::record_event("approval_revoked", None, text("content_hash").as_deref(), details);
    }
}

fn exemption(row: &Value, origin: &str) {
    let policy = policy::current();
    let args = [pgrx::JsonB(row.clone()).into(), policy.version.into()];
    let changed = as_owner(|| {
        db::write(queries::FLEET_RECEIVE_EXEMPTION, &args, |r| {
            (
                r.get::<i64>("id").unwrap_or_default(),
                r.get::<pgrx::pg_sys::Oid>("relid").map(|oid| oid.to_u32()),
                r.get::<i64>("expires_us").unwrap_or_default(),
                r.get::<bool>("inserted") == Some(true),
                r.get::<bool>("revoked") == Some(true),
            )
        })
    });
    let Some(&(id, relid, expires_us, inserted, revoked)) = changed.first() else { return };
    let text = |key: &str| row.get(key).and_then(Value::as_str).map(str::to_string);
    let (scope, target) = (text("scope").unwrap_or_default(), text("target").unwrap_or_default());
    if inserted {
        let details = json!({
            "exemption_id": id, "scope": scope, "target": target, "reason": text("reason"), "finding": text("finding"),
            "expires_us": expires_us, "relid": relid, "statement_hashes": row.get("statement_hashes"),
            "databases": row.get("databases"), "created_by": text("created_by"), "fleet": fleet_details(row, origin),
        });
        as_owner(|| exemptions::record(&scope, &target, &policy, details));
    }
    if revoked {
        let details = json!({"exemption_id": id, "reason": text("revoke_reason"), "revoked_by": text("revoked_by"), "fleet": fleet_details(row, origin)});
        policy::record_event("exemption_revoked", None, None, details);
    }
}
