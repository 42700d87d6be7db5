//! Denials that outlive the transaction they stop: committed outside it
//! (`crate::chain::outside`), a session's repeats of one denial counted rather than each
//! written, and the refusals a later event trigger makes of what a statement did.

use std::cell::RefCell;
use std::collections::HashMap;

use fence_core::chain::AuditEvent;
use fence_core::decision::Outcome;
use serde_json::{Map, Value};

use super::report::recorded_line;
use super::text;
use crate::chain::events;
use crate::chain::outside;
use crate::errors;
use crate::ffi::worker::Progress;

/// How long a session's repeats of one denial are counted together.
const REPEAT_WINDOW_US: i64 = 10 * 60 * 1_000_000;

thread_local! {
    /// The session's recorded denials (by statement, relation and reason): how often each was
    /// refused since it was first written, and when that was.
    static REPEATS: RefCell<HashMap<String, (u64, i64)>> = RefCell::new(HashMap::new());
}

/// Writes a denial, unless it repeats one this session wrote within the window (the same
/// statement on the same relation, refused for the same reason under the same named
/// approval): of the same refusal the 1st, 2nd, 4th, 8th ... are written, each with `details.repeat` = the count
/// so far and when the first was; the others are counted (and logged) only. A session looping
/// on one refused statement costs log2(n) writers, not n, and the chain says how often it
/// tried. Any other denial is written at once.
pub fn persist_repeat(event: &mut AuditEvent) -> Progress {
    let what = event.statement_hash.clone().or_else(|| event.statement.clone()).unwrap_or_default();
    let key = format!(
        "{}|{}|{}|{}",
        event.session_role,
        what,
        event.relation.as_deref().unwrap_or(""),
        event.reason.as_deref().unwrap_or("")
    );
    let now = event.time_us;
    let (count, first) = REPEATS.with(|r| {
        let mut repeats = r.borrow_mut();
        let entry = repeats.entry(key).or_insert((0, now));
        if now - entry.1 > REPEAT_WINDOW_US {
            *entry = (0, now);
        }
        entry.0 += 1;
        *entry
    });
    if !count.is_power_of_two() {
        return Progress::Counted(count);
    }
    if let (true, Value::Object(details)) = (count > 1, &mut event.details) {
        details.insert("repeat".into(), serde_json::json!({"count": count, "first_us": first}));
    }
    outside::persist(event)
}

/// What a later event trigger refuses, and how it says so.
pub struct Refusal<'a> {
    pub tag: &'a str,
    pub relation: &'a str,
    pub reason: &'static str,
    pub explanation: String,
    /// The end of the message: "blocked TAG on RELATION: {what}".
    pub what: &'a str,
    pub hint: String,
}

/// Refuses a statement from a later event trigger (what it did showed what the decision at
/// its start could not see); the refusal is kept as a denial is.
pub fn refuse_after(refusal: Refusal) -> ! {
    let mut details = Map::new();
    details.insert("explanation".into(), refusal.explanation.clone().into());
    let event = events::denial_event(AuditEvent {
        kind: "ddl".into(),
        command_tag: Some(refusal.tag.to_string()),
        relation: Some(refusal.relation.to_string()),
        statement: text::client_text(),
        decision: Some(Outcome::Deny.as_str().into()),
        reason: Some(refusal.reason.into()),
        details: details.into(),
        ..Default::default()
    });
    let recorded = outside::persist(&event);
    errors::forbidden(format!("blocked {} on {}: {}", refusal.tag, refusal.relation, refusal.what))
        .detail(format!("Why: {}\n{}", refusal.explanation, recorded_line(recorded)))
        .hint(refusal.hint)
        .raise()
}
