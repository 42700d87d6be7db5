//! How fence reports a decision outside the chain: the server-log line (`FENCE:` prefix,
//! `key=value` pairs, stable order, parseable like pgAudit's `AUDIT:` lines) and the small
//! JSON payload of a `NOTIFY fence_events`.

use serde_json::json;

use crate::chain::AuditEvent;

/// The fixed prefix of fence's log lines.
pub const LOG_PREFIX: &str = "FENCE:";

/// The NOTIFY channel.
pub const CHANNEL: &str = "fence_events";

/// A value as it appears in a log line: bare when it is a simple token, otherwise quoted with
/// `"` and `\` escaped; `-` when absent.
fn push_log_value(out: &mut String, value: Option<&str>) {
    match value {
        None => out.push('-'),
        Some(v) if !v.is_empty() && v.bytes().all(|c| c.is_ascii_alphanumeric() || b"._:,-/@".contains(&c)) => {
            out.push_str(v)
        }
        Some(v) => {
            out.push('"');
            for c in v.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
    }
}

/// The rule ids of a decision's findings, comma-separated.
fn rule_ids(event: &AuditEvent) -> Option<String> {
    let ids: Vec<&str> =
        event.details["findings"].as_array().into_iter().flatten().filter_map(|f| f["rule"].as_str()).collect();
    (!ids.is_empty()).then(|| ids.join(","))
}

/// One log line for a decision, always the same keys in the same order.
pub fn decision_log_line(event: &AuditEvent) -> String {
    let policy_version = event.policy_version.map(|v| v.to_string());
    let rules = rule_ids(event);
    let pairs: [(&str, Option<&str>); 12] = [
        ("decision", event.decision.as_deref()),
        ("reason", event.reason.as_deref()),
        ("risk", event.risk.as_deref()),
        ("rules", rules.as_deref()),
        ("command", event.command_tag.as_deref()),
        ("relation", event.relation.as_deref()),
        ("role", Some(event.session_role.as_str())),
        ("executing_role", Some(event.executing_role.as_str())),
        ("statement_hash", event.statement_hash.as_deref()),
        ("content_hash", event.content_hash.as_deref()),
        ("policy_version", policy_version.as_deref()),
        ("actor", event.details["claims"]["actor"].as_str()),
    ];
    let mut line = String::with_capacity(320);
    line.push_str(LOG_PREFIX);
    for (key, value) in pairs {
        line.push(' ');
        line.push_str(key);
        line.push('=');
        push_log_value(&mut line, value);
    }
    line
}

/// Whether an event is announced on the channel: denials and every governance change.
pub fn notifies(event: &AuditEvent) -> bool {
    event.decision.as_deref() == Some("deny")
        || matches!(event.kind.as_str(), "approval" | "approval_revoked" | "exemption" | "exemption_revoked" | "policy")
}

/// The NOTIFY payload: what happened and when, nothing more. PostgreSQL has no privileges on
/// channels (any role may LISTEN), so the payload carries nothing a role outside
/// `fence_auditor` may not read — no statement, relation, target, reason or hash; listeners
/// with that role read the rest from `fence.audit_chain`.
pub fn notification(event: &AuditEvent) -> String {
    let what = if event.decision.as_deref() == Some("deny") { "deny" } else { event.kind.as_str() };
    json!({"event": what, "time_us": event.time_us}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn denial() -> AuditEvent {
        AuditEvent {
            seq: 0,
            time_us: 1,
            kind: "ddl".into(),
            session_role: "ci".into(),
            executing_role: "ci".into(),
            txid: None,
            command_tag: Some("ALTER TABLE".into()),
            relation: Some("public.users".into()),
            statement: Some("ALTER TABLE users ALTER COLUMN email SET NOT NULL".into()),
            statement_hash: Some("sha256:ab".into()),
            content_hash: None,
            decision: Some("deny".into()),
            reason: Some("not_approved".into()),
            risk: Some("high".into()),
            policy_version: Some(3),
            policy_hash: None,
            details: json!({"findings": [{"rule": "set_not_null"}, {"rule": "access_exclusive_lock"}], "claims": {"actor": "octo cat"}}),
        }
    }

    #[test]
    fn log_line_is_stable_and_parseable() {
        assert_eq!(
            decision_log_line(&denial()),
            "FENCE: decision=deny reason=not_approved risk=high rules=set_not_null,access_exclusive_lock \
             command=\"ALTER TABLE\" relation=public.users role=ci executing_role=ci statement_hash=sha256:ab \
             content_hash=- policy_version=3 actor=\"octo cat\""
        );
        let log_value = |value| {
            let mut out = String::new();
            push_log_value(&mut out, value);
            out
        };
        assert_eq!(log_value(Some("a \"b\"\n")), "\"a \\\"b\\\"\\n\"");
        assert_eq!(log_value(Some("")), "\"\"");
        assert_eq!(log_value(None), "-");
    }

    #[test]
    fn notifications_for_denials_and_governance_only() {
        let d = denial();
        assert!(notifies(&d));
        let payload: Value = serde_json::from_str(&notification(&d)).unwrap();
        assert_eq!(payload["event"], "deny");
        // Nothing a role without fence_auditor may not read: only what happened and when.
        assert_eq!(payload.as_object().unwrap().keys().collect::<Vec<_>>(), ["event", "time_us"]);
        let mut allowed = denial();
        allowed.decision = Some("allow".into());
        assert!(!notifies(&allowed));
        allowed.kind = "policy".into();
        allowed.decision = None;
        assert!(notifies(&allowed));
    }
}
