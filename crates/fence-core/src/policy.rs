//! Policy documents: validation with messages naming the bad key, defaults for missing keys.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Map, Value};

use crate::risk::Risk;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Risky statements without approval or exemption are refused.
    Enforce,
    /// They run, and the decision is recorded as a warning.
    Warn,
    /// Nothing is gated; decisions are still recorded.
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownHandling {
    Block,
    Warn,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub mode: Mode,
    /// Statements at or above this risk need an approval or an exemption.
    pub approval_threshold: Risk,
    /// Distinct approvers needed per risk level.
    pub approvals_required: BTreeMap<Risk, u32>,
    pub unknown: UnknownHandling,
    /// Approvers may not approve statements they execute themselves.
    pub separation_of_duties: bool,
    /// The longest exemption an admin may grant, in seconds.
    pub exemption_max_seconds: i64,
    /// Statements taking a SHARE lock or stronger on an existing table must run with
    /// `lock_timeout` set, at most this many milliseconds (None: no requirement).
    pub max_lock_timeout_ms: Option<i64>,
    /// Those statements must also run with `statement_timeout` set.
    pub statement_timeout_required: bool,
    /// Roles whose members may approve (empty: any member of `fence_approver`).
    pub approver_roles: Vec<String>,
    /// Roles whose members' risky statements are only warned, never refused (still recorded).
    pub warn_roles: Vec<String>,
    /// DDL that automation runs by design (pg_cron's maintenance jobs, pg_partman's partition
    /// creation and retention): sessions of the named roles may run statements whose every
    /// risky finding is one of the named rules, without an approval; each decision names the
    /// entry.
    pub automation: Vec<Automation>,
    /// What the gate does when, before a statement whose lock blocks reads or writes of an
    /// existing table, another session holds a conflicting lock on it in a transaction older
    /// than `lock_queue_max_age_ms`, or waits for one: the statement would queue behind it and
    /// every later query on the table behind the statement.
    pub lock_queue: LockQueue,
    pub lock_queue_max_age_ms: i64,
}

/// The policy's `lock_queue` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockQueue {
    /// Not looked at.
    Off,
    /// The sessions in the way are named in a WARNING and in the event.
    Warn,
    /// ... and the statement is refused (whatever approves it) until they are gone.
    Refuse,
}

/// One `automation` entry of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Automation {
    pub name: String,
    pub roles: Vec<String>,
    pub rules: Vec<String>,
}

impl Automation {
    /// Whether the entry covers every one of `rules` (the statement's risky findings).
    pub fn covers(&self, rules: &[String]) -> bool {
        !rules.is_empty() && rules.iter().all(|rule| self.rules.contains(rule))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub key: String,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy key \"{}\": {}", self.key, self.message)
    }
}

impl std::error::Error for PolicyError {}

fn bad(key: &str, message: impl Into<String>) -> PolicyError {
    PolicyError { key: key.to_string(), message: message.into() }
}

/// The hash of a policy document as stored and chained: SHA-256 of its canonical JSON.
pub fn document_hash(document: &Value) -> String {
    crate::hash::sha256_tagged(&[crate::chain::canonical_json(document).as_bytes()])
}

/// The document installed by `CREATE EXTENSION`.
pub fn default_document() -> Value {
    json!({
        "mode": "enforce",
        "approval_threshold": "medium",
        "approvals_required": {"medium": 1, "high": 1, "critical": 2},
        "unknown": "block",
        "separation_of_duties": true,
        "exemption_max_duration": "7 days",
        "max_lock_timeout": null,
        "statement_timeout_required": false,
        "approver_roles": [],
        "warn_roles": [],
        "automation": [],
        "lock_queue": "warn",
        "lock_queue_max_age": "5s",
    })
}

impl Policy {
    /// Validates a document, filling missing keys from the defaults. Returns the policy and
    /// the complete normalized document to store.
    pub fn parse(document: &Value) -> Result<(Policy, Value), PolicyError> {
        let given = document.as_object().ok_or_else(|| bad("(document)", "must be a JSON object"))?;
        let mut full: Map<String, Value> = default_document().as_object().cloned().unwrap_or_default();
        for (key, value) in given {
            if !full.contains_key(key) {
                let known: Vec<&String> = full.keys().collect();
                return Err(bad(key, format!("unknown key (known keys: {known:?})")));
            }
            full.insert(key.clone(), value.clone());
        }
        let policy = Policy {
            mode: match str_key(&full, "mode")? {
                "enforce" => Mode::Enforce,
                "warn" => Mode::Warn,
                "off" => Mode::Off,
                other => return Err(bad("mode", format!("\"{other}\" is not one of enforce, warn, off"))),
            },
            approval_threshold: str_key(&full, "approval_threshold")?
                .parse()
                .map_err(|e| bad("approval_threshold", e))?,
            approvals_required: approvals_required(&full["approvals_required"])?,
            unknown: match str_key(&full, "unknown")? {
                "block" => UnknownHandling::Block,
                "warn" => UnknownHandling::Warn,
                other => return Err(bad("unknown", format!("\"{other}\" is not one of block, warn"))),
            },
            separation_of_duties: full["separation_of_duties"]
                .as_bool()
                .ok_or_else(|| bad("separation_of_duties", "must be true or false"))?,
            exemption_max_seconds: parse_duration(str_key(&full, "exemption_max_duration")?)
                .map_err(|e| bad("exemption_max_duration", e))?,
            max_lock_timeout_ms: match &full["max_lock_timeout"] {
                Value::Null => None,
                Value::String(text) => Some(parse_duration_ms(text).map_err(|e| bad("max_lock_timeout", e))?),
                _ => return Err(bad("max_lock_timeout", "must be null or a duration such as \"5s\" or \"500ms\"")),
            },
            statement_timeout_required: full["statement_timeout_required"]
                .as_bool()
                .ok_or_else(|| bad("statement_timeout_required", "must be true or false"))?,
            approver_roles: role_list(&full, "approver_roles")?,
            warn_roles: role_list(&full, "warn_roles")?,
            automation: automation(&full["automation"])?,
            lock_queue: match str_key(&full, "lock_queue")? {
                "off" => LockQueue::Off,
                "warn" => LockQueue::Warn,
                "refuse" => LockQueue::Refuse,
                other => return Err(bad("lock_queue", format!("\"{other}\" is not one of off, warn, refuse"))),
            },
            lock_queue_max_age_ms: parse_duration_ms(str_key(&full, "lock_queue_max_age")?)
                .map_err(|e| bad("lock_queue_max_age", e))?,
        };
        Ok((policy, Value::Object(full)))
    }

    /// Distinct approvers needed for a statement of this risk (at least one).
    pub fn approvals_needed(&self, risk: Risk) -> u32 {
        self.approvals_required.range(..=risk).next_back().map_or(1, |(_, n)| *n).max(1)
    }
}

fn str_key<'a>(doc: &'a Map<String, Value>, key: &str) -> Result<&'a str, PolicyError> {
    doc[key].as_str().ok_or_else(|| bad(key, "must be a string"))
}

fn role_list(doc: &Map<String, Value>, key: &str) -> Result<Vec<String>, PolicyError> {
    let shape = || bad(key, "must be an array of role names, e.g. [\"dba_team\"]");
    let items = doc[key].as_array().ok_or_else(shape)?;
    items
        .iter()
        .map(|item| match item.as_str() {
            Some(name) if !name.is_empty() && name.len() < 64 => Ok(name.to_string()),
            _ => Err(shape()),
        })
        .collect()
}

fn automation(value: &Value) -> Result<Vec<Automation>, PolicyError> {
    let key = "automation";
    let shape =
        || bad(key, "must be an array of {\"name\": \"...\", \"roles\": [\"...\"], \"rules\": [\"...\"]} objects");
    let mut out: Vec<Automation> = Vec::new();
    for entry in value.as_array().ok_or_else(shape)? {
        let object = entry.as_object().ok_or_else(shape)?;
        if let Some(unknown) = object.keys().find(|k| !["name", "roles", "rules"].contains(&k.as_str())) {
            return Err(bad(key, format!("unknown entry key \"{unknown}\" (known: name, roles, rules)")));
        }
        let name = match object.get("name").and_then(Value::as_str) {
            Some(name) if !name.is_empty() && out.iter().all(|a| a.name != name) => name.to_string(),
            _ => return Err(bad(key, "each entry needs a \"name\", unique among the entries")),
        };
        let roles = role_list(object, "roles")
            .map_err(|_| bad(key, format!("{name}: \"roles\" must be a non-empty array of role names")))?;
        let rules: Vec<String> = match object.get("rules").and_then(Value::as_array) {
            Some(rules) if !rules.is_empty() => {
                rules.iter().map(|r| r.as_str().map(str::to_string).ok_or_else(shape)).collect::<Result<_, _>>()?
            }
            _ => return Err(bad(key, format!("{name}: \"rules\" must be a non-empty array of rule ids"))),
        };
        if let Some(unknown) = rules.iter().find(|r| crate::rules::by_id(r).is_none() && *r != "unclassified") {
            return Err(bad(key, format!("{name}: unknown rule \"{unknown}\"")));
        }
        if roles.is_empty() {
            return Err(bad(key, format!("{name}: \"roles\" must be a non-empty array of role names")));
        }
        out.push(Automation { name, roles, rules });
    }
    Ok(out)
}

fn approvals_required(value: &Value) -> Result<BTreeMap<Risk, u32>, PolicyError> {
    let key = "approvals_required";
    let object = value.as_object().ok_or_else(|| bad(key, "must be an object like {\"high\": 1, \"critical\": 2}"))?;
    let mut out = BTreeMap::new();
    for (risk, count) in object {
        let risk: Risk = risk.parse().map_err(|e| bad(key, e))?;
        let count = count
            .as_u64()
            .filter(|n| (1..=10).contains(n))
            .ok_or_else(|| bad(key, format!("{risk}: must be an integer from 1 to 10")))?;
        out.insert(risk, count as u32);
    }
    Ok(out)
}

/// Parses durations such as `90s`, `15 minutes`, `12h`, `7 days` into seconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let ms = parse_duration_ms(text)?;
    if ms % 1000 != 0 {
        return Err(format!("\"{}\" is not a whole number of seconds", text.trim()));
    }
    Ok(ms / 1000)
}

/// Parses durations such as `500ms`, `5s`, `2 minutes` into milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| format!("\"{text}\" does not start with a whole number"))?;
    let ms = match unit.trim() {
        "ms" | "msec" | "millisecond" | "milliseconds" => 1,
        "s" | "sec" | "secs" | "second" | "seconds" => 1000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        other => return Err(format!("unknown unit \"{other}\" (use ms, seconds, minutes, hours or days)")),
    };
    number.checked_mul(ms).filter(|s| *s > 0).ok_or_else(|| format!("\"{text}\" is not a positive duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_missing_keys() {
        let (policy, full) = Policy::parse(&json!({"mode": "warn"})).unwrap();
        assert_eq!(policy.mode, Mode::Warn);
        assert_eq!(policy.approval_threshold, Risk::Medium);
        assert_eq!(full["unknown"], "block");
        assert_eq!(policy.exemption_max_seconds, 7 * 86_400);
    }

    #[test]
    fn errors_name_the_bad_key() {
        assert_eq!(Policy::parse(&json!({"mdoe": "warn"})).unwrap_err().key, "mdoe");
        assert_eq!(Policy::parse(&json!({"mode": "strict"})).unwrap_err().key, "mode");
        assert_eq!(Policy::parse(&json!({"approvals_required": {"high": 0}})).unwrap_err().key, "approvals_required");
        assert_eq!(
            Policy::parse(&json!({"exemption_max_duration": "7 weeks"})).unwrap_err().key,
            "exemption_max_duration"
        );
        assert_eq!(Policy::parse(&json!([1])).unwrap_err().key, "(document)");
    }

    #[test]
    fn approvals_needed_uses_the_nearest_lower_level() {
        let (policy, _) = Policy::parse(&json!({"approvals_required": {"high": 1, "critical": 3}})).unwrap();
        assert_eq!(policy.approvals_needed(Risk::Medium), 1);
        assert_eq!(policy.approvals_needed(Risk::High), 1);
        assert_eq!(policy.approvals_needed(Risk::Critical), 3);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("15 minutes"), Ok(900));
        assert!(parse_duration("0 days").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("1500ms").is_err());
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("5s"), Ok(5000));
    }

    #[test]
    fn timeouts_and_roles() {
        let (policy, _) = Policy::parse(&json!({"max_lock_timeout": "2s", "statement_timeout_required": true, "approver_roles": ["dba"], "warn_roles": ["oncall"]})).unwrap();
        assert_eq!(policy.max_lock_timeout_ms, Some(2000));
        assert!(policy.statement_timeout_required);
        assert_eq!(policy.approver_roles, vec!["dba".to_string()]);
        assert_eq!(Policy::parse(&json!({"max_lock_timeout": 5})).unwrap_err().key, "max_lock_timeout");
        assert_eq!(Policy::parse(&json!({"approver_roles": "dba"})).unwrap_err().key, "approver_roles");
        assert_eq!(Policy::parse(&json!({"warn_roles": [""]})).unwrap_err().key, "warn_roles");
    }
}
