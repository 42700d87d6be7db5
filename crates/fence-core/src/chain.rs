//! The audit chain: the canonical payload of an event, its hash, and verification of a
//! sequence of events. Shared by the extension (append, `verify_chain`) and the CLI
//! (`verify-csv`), so both hash exactly the same bytes.

use std::fmt::Write;

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

/// One hashed field of an event, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// `seq`, `time_us`, `txid`, `policy_version`.
    Number(Option<i64>),
    Text(Option<&'a str>),
    /// `details`.
    Json(&'a Value),
}

impl FieldValue<'_> {
    pub fn to_value(self) -> Value {
        match self {
            FieldValue::Number(n) => n.map_or(Value::Null, Value::from),
            FieldValue::Text(t) => t.map_or(Value::Null, |t| Value::String(t.to_string())),
            FieldValue::Json(v) => v.clone(),
        }
    }
}

impl AuditEvent {
    /// The field named `name` (one of `FIELDS`); None for another name.
    pub fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "seq" => FieldValue::Number(Some(self.seq)),
            "time_us" => FieldValue::Number(Some(self.time_us)),
            "kind" => FieldValue::Text(Some(&self.kind)),
            "session_role" => FieldValue::Text(Some(&self.session_role)),
            "executing_role" => FieldValue::Text(Some(&self.executing_role)),
            "txid" => FieldValue::Number(self.txid),
            "command_tag" => FieldValue::Text(self.command_tag.as_deref()),
            "relation" => FieldValue::Text(self.relation.as_deref()),
            "statement" => FieldValue::Text(self.statement.as_deref()),
            "statement_hash" => FieldValue::Text(self.statement_hash.as_deref()),
            "content_hash" => FieldValue::Text(self.content_hash.as_deref()),
            "decision" => FieldValue::Text(self.decision.as_deref()),
            "reason" => FieldValue::Text(self.reason.as_deref()),
            "risk" => FieldValue::Text(self.risk.as_deref()),
            "policy_version" => FieldValue::Number(self.policy_version),
            "policy_hash" => FieldValue::Text(self.policy_hash.as_deref()),
            "details" => FieldValue::Json(&self.details),
            _ => return None,
        })
    }

    /// Every hashed field as a JSON object (the payload before canonical encoding).
    pub fn fields(&self) -> Map<String, Value> {
        FIELDS.iter().filter_map(|&(name, _)| Some((name.to_string(), self.field(name)?.to_value()))).collect()
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

    /// The canonical JSON payload: every field, keys sorted, no whitespace (the canonical JSON
    /// of `fields()`, written straight from the event).
    pub fn payload(&self) -> String {
        let mut out = String::with_capacity(512);
        self.write_payload(&mut out);
        out
    }

    /// `sha256(prev_hash || payload)`.
    pub fn hash(&self, prev_hash: &str) -> String {
        sha256_tagged(&[prev_hash.as_bytes(), self.payload().as_bytes()])
    }

    /// The payload without building `fields()`: each field in the byte order of the names.
    fn write_payload(&self, out: &mut String) {
        out.push('{');
        for (i, name) in PAYLOAD_ORDER.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_json_string(name, out);
            out.push(':');
            match self.field(name) {
                Some(FieldValue::Number(Some(n))) => {
                    let _ = write!(out, "{n}");
                }
                Some(FieldValue::Text(Some(text))) => write_json_string(text, out),
                Some(FieldValue::Json(value)) => write_canonical(value, out),
                _ => out.push_str("null"),
            }
        }
        out.push('}');
    }
}

/// The names of `FIELDS` sorted by their bytes: the order of the canonical payload.
const PAYLOAD_ORDER: [&str; 17] = [
    "command_tag",
    "content_hash",
    "decision",
    "details",
    "executing_role",
    "kind",
    "policy_hash",
    "policy_version",
    "reason",
    "relation",
    "risk",
    "seq",
    "session_role",
    "statement",
    "statement_hash",
    "time_us",
    "txid",
];

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
            out.push('{');
            // serde_json's map iterates in key order unless another crate of the build turns
            // its preserve_order feature on: then the keys are sorted here.
            if map.keys().is_sorted() {
                write_members(map.iter(), out);
            } else {
                let mut members: Vec<(&String, &Value)> = map.iter().collect();
                members.sort_by(|a, b| a.0.cmp(b.0));
                write_members(members.into_iter(), out);
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
        Value::String(s) => write_json_string(s, out),
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
    }
}

fn write_members<'v>(members: impl Iterator<Item = (&'v String, &'v Value)>, out: &mut String) {
    for (i, (key, value)) in members.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(key, out);
        out.push(':');
        write_canonical(value, out);
    }
}

/// A JSON string as serde_json writes it: `"` and `\\` escaped, control characters as `\b`,
/// `\t`, `\n`, `\f`, `\r` or `\u00xx`, everything else (non-ASCII included) as it is.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut plain = 0;
    while let Some(offset) = bytes[plain..].iter().position(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        let at = plain + offset;
        out.push_str(&s[plain..at]);
        match bytes[at] {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            control => {
                let _ = write!(out, "\\u{control:04x}");
            }
        }
        plain = at + 1;
    }
    out.push_str(&s[plain..]);
    out.push('"');
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

    /// Canonical JSON as serde_json's own serializer writes each key and scalar.
    fn serde_canonical(value: &Value) -> String {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let members: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{}:{}", Value::String((*k).clone()), serde_canonical(&map[*k])))
                    .collect();
                format!("{{{}}}", members.join(","))
            }
            Value::Array(items) => format!("[{}]", items.iter().map(serde_canonical).collect::<Vec<_>>().join(",")),
            scalar => scalar.to_string(),
        }
    }

    #[test]
    fn payload_order_is_the_fields_sorted() {
        let mut names: Vec<&str> = FIELDS.iter().map(|f| f.0).collect();
        names.sort();
        assert_eq!(names, PAYLOAD_ORDER);
    }

    #[test]
    fn payload_is_serde_jsons_canonical_encoding_of_the_fields() {
        let controls: String = (0u8..0x20).map(char::from).collect();
        let odd = format!("{controls}\"\\/é€𝄞\u{7f}\u{2028}");
        let mut e = event(7);
        e.statement = Some(odd.clone());
        e.command_tag = None;
        e.txid = None;
        e.details = json!({
            odd.clone(): [odd, 1.5, -0.0, 1e300, 12345678901234_i64, u64::MAX, -3, true, false, null],
            "b": {"z": {}, "a": []}, "a": "", "ä": 1, "B": 2
        });
        for event in [e, event(1), AuditEvent::default()] {
            let reference = serde_canonical(&Value::Object(event.fields()));
            assert_eq!(event.payload(), reference);
            assert_eq!(canonical_json(&Value::Object(event.fields())), reference);
            assert_eq!(event.hash(GENESIS_HASH), sha256_tagged(&[GENESIS_HASH.as_bytes(), reference.as_bytes()]));
        }
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
