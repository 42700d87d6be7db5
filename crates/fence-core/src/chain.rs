//! The audit chain: the canonical payload of an event, its hash, and verification of a
//! sequence of events. Shared by the extension (append, `verify_chain`) and the CLI
//! (`verify-csv`), so both hash exactly the same bytes.

use serde_json::{Map, Value};

use crate::hash::sha256_tagged;

/// `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event: every field that is hashed.
#[derive(Debug, Clone, Default, PartialEq)]
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

/// How a hashed field of an event is stored in the chain table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// `bigint`.
    BigInt,
    /// `integer`.
    Integer,
    /// Microseconds since the Unix epoch, stored as `timestamptz`.
    Time,
    Text,
    /// `jsonb`, passed as its text.
    Json,
}

/// The hashed fields of an event, in the chain table's column order (`time_us` is stored in
/// `recorded_at`; the table ends with `prev_hash` and `event_hash`): what the writers pass and
/// the readers read, by these names.
pub const FIELDS: [(&str, FieldType); 17] = [
    ("seq", FieldType::BigInt),
    ("time_us", FieldType::Time),
    ("kind", FieldType::Text),
    ("session_role", FieldType::Text),
    ("executing_role", FieldType::Text),
    ("txid", FieldType::BigInt),
    ("command_tag", FieldType::Text),
    ("relation", FieldType::Text),
    ("statement", FieldType::Text),
    ("statement_hash", FieldType::Text),
    ("content_hash", FieldType::Text),
    ("decision", FieldType::Text),
    ("reason", FieldType::Text),
    ("risk", FieldType::Text),
    ("policy_version", FieldType::Integer),
    ("policy_hash", FieldType::Text),
    ("details", FieldType::Json),
];

/// Where an event's fields are read from, by name.
pub trait FieldSource {
    fn text(&self, key: &str) -> Result<Option<String>, String>;
    fn number(&self, key: &str) -> Result<Option<i64>, String>;
    fn json(&self, key: &str) -> Result<Value, String>;
}

impl FieldSource for Map<String, Value> {
    fn text(&self, key: &str) -> Result<Option<String>, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("field {key} is not a string")),
        }
    }

    fn number(&self, key: &str) -> Result<Option<i64>, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| format!("field {key} is not an integer")),
        }
    }

    fn json(&self, key: &str) -> Result<Value, String> {
        Ok(self.get(key).cloned().unwrap_or(Value::Null))
    }
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
        AuditEvent::read(fields)
    }

    /// Reads an event from anything that gives its fields by name (`fields()`, a row of the
    /// chain table read with the field names of `FIELDS`).
    pub fn read(source: &impl FieldSource) -> Result<AuditEvent, String> {
        let required = |key: &str| source.text(key)?.ok_or_else(|| format!("field {key} is missing"));
        Ok(AuditEvent {
            seq: source.number("seq")?.unwrap_or_default(),
            time_us: source.number("time_us")?.ok_or("field time_us is missing")?,
            kind: required("kind")?,
            session_role: required("session_role")?,
            executing_role: required("executing_role")?,
            txid: source.number("txid")?,
            command_tag: source.text("command_tag")?,
            relation: source.text("relation")?,
            statement: source.text("statement")?,
            statement_hash: source.text("statement_hash")?,
            content_hash: source.text("content_hash")?,
            decision: source.text("decision")?,
            reason: source.text("reason")?,
            risk: source.text("risk")?,
            policy_version: source.number("policy_version")?,
            policy_hash: source.text("policy_hash")?,
            details: source.json("details")?,
        })
    }

    /// The canonical JSON payload: every field, keys sorted, no whitespace.
    pub fn payload(&self) -> String {
        canonical_json(&Value::Object(self.fields()))
    }

    /// `sha256(prev_hash || payload)`.
    pub fn hash(&self, prev_hash: &str) -> String {
        link_hash(prev_hash, &Value::Object(self.fields()))
    }
}

/// An event's hash from its fields (`AuditEvent::fields`, as a JSON object):
/// `sha256(prev_hash || canonical JSON of the fields)`. For a writer that needs the fields
/// anyway.
pub fn link_hash(prev_hash: &str, fields: &Value) -> String {
    sha256_tagged(&[prev_hash.as_bytes(), canonical_json(fields).as_bytes()])
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

/// A chain head kept outside the database (`fence.anchor()`): `seq:sha256:<64 hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

impl std::str::FromStr for Anchor {
    type Err = String;

    fn from_str(text: &str) -> Result<Anchor, String> {
        let (seq, hash) =
            text.trim().split_once(':').ok_or_else(|| format!("anchor \"{text}\" is not seq:sha256:<hash>"))?;
        let seq: i64 = seq.parse().map_err(|_| format!("anchor seq \"{seq}\" is not a number"))?;
        if seq < 1 || !crate::hash::is_tagged_sha256(hash) {
            return Err(format!("anchor \"{text}\" is not seq:sha256:<64 hex> with seq >= 1"));
        }
        Ok(Anchor { seq, hash: hash.to_string() })
    }
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// Verifies events fed in `seq` order: each event's hash, the link to its predecessor, the
/// contiguity of `seq`, and (with an anchor) that the chain still reaches the anchor with the
/// same hash — which catches a cut tail or a consistently rewritten history.
pub struct Verifier {
    expected_seq: i64,
    prev_hash: String,
    checked: i64,
    failure: Option<(i64, String)>,
    anchor: Option<Anchor>,
    /// Segments: a gap in `seq` starts a new segment trusting its stored `prev_hash`
    /// (an export filtered by time or repository); otherwise a gap is a failure.
    segments: bool,
    gaps: Vec<(i64, i64)>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            checked: 0,
            failure: None,
            anchor: None,
            segments: false,
            gaps: Vec::new(),
        }
    }
}

impl Verifier {
    pub fn with_anchor(anchor: Option<Anchor>) -> Self {
        Verifier { anchor, ..Verifier::default() }
    }

    /// Verifies a partial export: each event's own hash always, links where `seq` is
    /// contiguous; gaps (and a first event other than 1) are reported by `gaps()`.
    pub fn segments(anchor: Option<Anchor>) -> Self {
        Verifier { anchor, segments: true, ..Verifier::default() }
    }

    /// The `(from, to)` seq ranges missing from a segmented verification.
    pub fn gaps(&self) -> &[(i64, i64)] {
        &self.gaps
    }

    /// A stored event that cannot be read as an event at all: the chain fails there.
    pub fn unreadable(&mut self, reason: String) {
        if self.failure.is_none() {
            self.failure = Some((self.expected_seq, format!("event {} is unreadable: {reason}", self.expected_seq)));
        }
    }

    /// Checks the next stored event. Returns false once the chain is broken (further rows
    /// are ignored: the first bad seq is what matters).
    pub fn check(&mut self, event: &AuditEvent, stored_prev_hash: &str, stored_event_hash: &str) -> bool {
        if self.failure.is_some() {
            return false;
        }
        if self.segments && event.seq > self.expected_seq {
            self.gaps.push((self.expected_seq, event.seq - 1));
            self.expected_seq = event.seq;
            self.prev_hash = stored_prev_hash.to_string();
        }
        let problem = if event.seq > self.expected_seq {
            Some(format!("event {} is missing (next stored event is {})", self.expected_seq, event.seq))
        } else if event.seq < self.expected_seq {
            Some(format!("event {} appears out of order or twice", event.seq))
        } else if stored_prev_hash != self.prev_hash {
            Some(format!("prev_hash does not link to event {}", self.expected_seq - 1))
        } else if event.hash(stored_prev_hash) != stored_event_hash {
            Some("event_hash does not match the event's content (altered or forged)".to_string())
        } else if self.anchor.as_ref().is_some_and(|a| a.seq == event.seq && a.hash != stored_event_hash) {
            Some("event_hash differs from the anchor kept outside the database (history rewritten)".to_string())
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

    pub fn finish(mut self) -> Verification {
        let last = self.expected_seq - 1;
        if let Some(anchor) = self.anchor.as_ref().filter(|a| self.failure.is_none() && a.seq > last) {
            let reason = format!("the chain ends at event {last} but the anchor is event {} (tail cut)", anchor.seq);
            self.failure = Some((last + 1, reason));
        }
        let (ok, first_bad_seq, reason) = match self.failure {
            None => (true, None, None),
            Some((seq, reason)) => (false, Some(seq), Some(reason)),
        };
        Verification { ok, checked: self.checked, first_bad_seq, reason, head_hash: self.prev_hash }
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

    fn verify_with(mut v: Verifier, rows: &[(AuditEvent, String, String)]) -> Verification {
        for (e, prev, hash) in rows {
            v.check(e, prev, hash);
        }
        v.finish()
    }

    #[test]
    fn anchors_catch_a_cut_tail_and_a_rewritten_history() {
        let rows = chain(5);
        let anchor: Anchor = format!("4:{}", rows[3].2).parse().unwrap();
        assert!(verify_with(Verifier::with_anchor(Some(anchor.clone())), &rows).ok);
        let cut = verify_with(Verifier::with_anchor(Some(anchor.clone())), &rows[..3]);
        assert_eq!((cut.ok, cut.first_bad_seq), (false, Some(4)));
        assert!(cut.reason.unwrap().contains("tail cut"));
        // Rewritten from event 2 on, every hash recomputed: only the anchor can tell.
        let mut rewritten = rows.clone();
        rewritten[1].0.statement = Some("DROP TABLE users".into());
        let mut prev = rewritten[0].2.clone();
        for row in rewritten.iter_mut().skip(1) {
            row.1 = prev.clone();
            row.2 = row.0.hash(&prev);
            prev = row.2.clone();
        }
        assert!(verify(&rewritten).ok);
        let caught = verify_with(Verifier::with_anchor(Some(anchor)), &rewritten);
        assert_eq!(caught.first_bad_seq, Some(4));
        assert!("4:sha256:xyz".parse::<Anchor>().is_err());
    }

    #[test]
    fn segments_verify_each_run_and_report_gaps() {
        let rows = chain(6);
        let partial: Vec<_> = rows.iter().filter(|r| r.0.seq != 3 && r.0.seq != 1).cloned().collect();
        let mut v = Verifier::segments(None);
        for (e, prev, hash) in &partial {
            assert!(v.check(e, prev, hash));
        }
        assert_eq!(v.gaps(), &[(1, 1), (3, 3)]);
        assert!(v.finish().ok);
        let mut tampered = partial.clone();
        tampered[2].0.kind = "forged".into();
        assert!(!verify_with(Verifier::segments(None), &tampered).ok);
    }
}
