//! The audit chain: the canonical payload of an event, its hash, and verification of a
//! sequence of events. Shared by the extension (append, `verify_chain`) and the CLI
//! (`verify-csv`), so both hash exactly the same bytes.

use serde_json::{Map, Value};

use crate::hash::sha256_tagged;

/// `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event: every field that is hashed.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub seq: i64,
    /// Microseconds since the Unix epoch.
    pub time_us: i64,
    pub kind: String,
    pub session_role: String,
    pub executing_role: String,
    pub txid: Option<i64>,
    pub command_tag: Option<String>,
    pub relation: Option<String>,
    pub statement: Option<String>,
    pub statement_hash: Option<String>,
    pub content_hash: Option<String>,
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub risk: Option<String>,
    pub policy_version: Option<i64>,
    pub policy_hash: Option<String>,
    pub details: Value,
}

fn opt_str(value: &Option<String>) -> Value {
    value.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

impl AuditEvent {
    /// Every hashed field as a JSON object (the payload before canonical encoding).
    pub fn fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("seq".into(), self.seq.into());
        fields.insert("time_us".into(), self.time_us.into());
        fields.insert("kind".into(), self.kind.clone().into());
        fields.insert("session_role".into(), self.session_role.clone().into());
        fields.insert("executing_role".into(), self.executing_role.clone().into());
        fields.insert("txid".into(), self.txid.map_or(Value::Null, Value::from));
        fields.insert("command_tag".into(), opt_str(&self.command_tag));
        fields.insert("relation".into(), opt_str(&self.relation));
        fields.insert("statement".into(), opt_str(&self.statement));
        fields.insert("statement_hash".into(), opt_str(&self.statement_hash));
        fields.insert("content_hash".into(), opt_str(&self.content_hash));
        fields.insert("decision".into(), opt_str(&self.decision));
        fields.insert("reason".into(), opt_str(&self.reason));
        fields.insert("risk".into(), opt_str(&self.risk));
        fields.insert("policy_version".into(), self.policy_version.map_or(Value::Null, Value::from));
        fields.insert("policy_hash".into(), opt_str(&self.policy_hash));
        fields.insert("details".into(), self.details.clone());
        fields
    }

    /// Reads an event back from `fields()` (e.g. a denial parked outside the chain).
    pub fn from_fields(fields: &Map<String, Value>) -> Result<AuditEvent, String> {
        let text = |key: &str| -> Result<Option<String>, String> {
            match fields.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("field {key} is not a string")),
            }
        };
        let number = |key: &str| -> Result<Option<i64>, String> {
            match fields.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_i64().map(Some).ok_or_else(|| format!("field {key} is not an integer")),
            }
        };
        let required = |key: &str| text(key)?.ok_or_else(|| format!("field {key} is missing"));
        Ok(AuditEvent {
            seq: number("seq")?.unwrap_or_default(),
            time_us: number("time_us")?.ok_or("field time_us is missing")?,
            kind: required("kind")?,
            session_role: required("session_role")?,
            executing_role: required("executing_role")?,
            txid: number("txid")?,
            command_tag: text("command_tag")?,
            relation: text("relation")?,
            statement: text("statement")?,
            statement_hash: text("statement_hash")?,
            content_hash: text("content_hash")?,
            decision: text("decision")?,
            reason: text("reason")?,
            risk: text("risk")?,
            policy_version: number("policy_version")?,
            policy_hash: text("policy_hash")?,
            details: fields.get("details").cloned().unwrap_or(Value::Null),
        })
    }

    /// The canonical JSON payload: every field, keys sorted, no whitespace.
    pub fn payload(&self) -> String {
        canonical_json(&Value::Object(self.fields()))
    }

    /// `sha256(prev_hash || payload)`.
    pub fn hash(&self, prev_hash: &str) -> String {
        sha256_tagged(&[prev_hash.as_bytes(), self.payload().as_bytes()])
    }
}

/// JSON with object keys sorted by bytes and no insignificant whitespace, independent of
/// serde_json's map ordering features.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The result of verifying a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub ok: bool,
    pub checked: i64,
    pub first_bad_seq: Option<i64>,
    pub reason: Option<String>,
    /// Hash of the last event that verified (the genesis hash for an empty chain).
    pub head_hash: String,
}

/// Verifies events fed in `seq` order.
pub struct Verifier {
    expected_seq: i64,
    prev_hash: String,
    checked: i64,
    failure: Option<(i64, String)>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier { expected_seq: 1, prev_hash: GENESIS_HASH.to_string(), checked: 0, failure: None }
    }
}

impl Verifier {
    /// Checks the next stored event. Returns false once the chain is broken (further rows
    /// are ignored: the first bad seq is what matters).
    pub fn check(&mut self, event: &AuditEvent, stored_prev_hash: &str, stored_event_hash: &str) -> bool {
        if self.failure.is_some() {
            return false;
        }
        let problem = if event.seq > self.expected_seq {
            Some(format!("event {} is missing (next stored event is {})", self.expected_seq, event.seq))
        } else if event.seq < self.expected_seq {
            Some(format!("event {} appears out of order or twice", event.seq))
        } else if stored_prev_hash != self.prev_hash {
            Some(format!("prev_hash does not link to event {}", self.expected_seq - 1))
        } else if event.hash(stored_prev_hash) != stored_event_hash {
            Some("event_hash does not match the event's content (altered or forged)".to_string())
        } else {
            None
        };
        if let Some(reason) = problem {
            self.failure = Some((self.expected_seq, reason));
            return false;
        }
        self.checked += 1;
        self.expected_seq += 1;
        self.prev_hash = stored_event_hash.to_string();
        true
    }

    pub fn finish(self) -> Verification {
        match self.failure {
            None => Verification {
                ok: true,
                checked: self.checked,
                first_bad_seq: None,
                reason: None,
                head_hash: self.prev_hash,
            },
            Some((seq, reason)) => Verification {
                ok: false,
                checked: self.checked,
                first_bad_seq: Some(seq),
                reason: Some(reason),
                head_hash: self.prev_hash,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(seq: i64) -> AuditEvent {
        AuditEvent {
            seq,
            time_us: 1_700_000_000_000_000 + seq,
            kind: "ddl".into(),
            session_role: "ci".into(),
            executing_role: "ci".into(),
            txid: Some(700 + seq),
            command_tag: Some("ALTER TABLE".into()),
            relation: Some("public.users".into()),
            statement: Some("ALTER TABLE users ADD x int".into()),
            statement_hash: None,
            content_hash: None,
            decision: Some("allow".into()),
            reason: Some("below_threshold".into()),
            risk: Some("low".into()),
            policy_version: Some(1),
            policy_hash: None,
            details: json!({"z": 1, "a": [true, null, "é"]}),
        }
    }

    fn chain(n: i64) -> Vec<(AuditEvent, String, String)> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let e = event(seq);
                let hash = e.hash(&prev);
                let row = (e, prev.clone(), hash.clone());
                prev = hash;
                row
            })
            .collect()
    }

    fn verify(rows: &[(AuditEvent, String, String)]) -> Verification {
        let mut v = Verifier::default();
        for (e, prev, hash) in rows {
            v.check(e, prev, hash);
        }
        v.finish()
    }

    #[test]
    fn canonical_json_sorts_keys() {
        assert_eq!(
            canonical_json(&json!({"b": 1, "a": {"d": [1, "x"], "c": null}})),
            r#"{"a":{"c":null,"d":[1,"x"]},"b":1}"#
        );
    }

    #[test]
    fn fields_round_trip() {
        let e = event(3);
        assert_eq!(AuditEvent::from_fields(&e.fields()), Ok(e));
        let mut broken = event(1).fields();
        broken.remove("kind");
        assert!(AuditEvent::from_fields(&broken).unwrap_err().contains("kind"));
    }

    #[test]
    fn intact_chain_verifies() {
        let rows = chain(5);
        let v = verify(&rows);
        assert!(v.ok);
        assert_eq!(v.checked, 5);
        assert_eq!(v.head_hash, rows[4].2);
    }

    #[test]
    fn detects_update_delete_insert_and_reorder() {
        let mut updated = chain(5);
        updated[2].0.statement = Some("DROP TABLE users".into());
        assert_eq!(verify(&updated).first_bad_seq, Some(3));

        let mut deleted = chain(5);
        deleted.remove(1);
        assert_eq!(verify(&deleted).first_bad_seq, Some(2));

        let mut inserted = chain(5);
        let mut forged = event(6);
        forged.kind = "forged".into();
        let prev = inserted[4].2.clone();
        inserted.push((forged, prev, "sha256:feed".into()));
        assert_eq!(verify(&inserted).first_bad_seq, Some(6));

        let mut reordered = chain(5);
        reordered.swap(1, 2);
        assert_eq!(verify(&reordered).first_bad_seq, Some(2));
    }
}
