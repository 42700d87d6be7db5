//! Before and after every utility statement (the ProcessUtility hook): the statement's text
//! is kept for the gate, the commands event triggers never see are gated, DDL run while a
//! setting silences the event triggers is recorded (and gated unless a superuser runs it),
//! and a change to fence's guards is recorded.

use pgrx::pg_sys;

use super::{after, gate, skipped, GateCall};
use crate::ffi::utility::{self, UtilityStatement};
use crate::ffi::{guards, maintenance, parser, parsetree, security, snapshot, xact};
use crate::session::{self, Frame};

/// Before the statement: remember its text, and gate the commands event triggers never see.
/// Returns how many statements were open before this one.
pub fn before(statement: UtilityStatement) -> usize {
    let node = statement.node;
    // CREATE SCHEMA runs its elements (CREATE TABLE ... PARTITION OF, CREATE INDEX, ...) as
    // subcommands, which no event trigger sees: each is gated here as a statement of its own.
    // (Its frame is missing when fence was loaded by the CREATE SCHEMA's own event trigger.)
    let schema_element = statement.subcommand
        && session::with(|t| match t.frames.last() {
            Some(parent) => parsetree::is_create_schema(parent.node),
            None => t.creating_schema,
        });
    let frame = Frame { node, text: statement.text, top_level: statement.top_level, level: xact::nest_level() };
    let depth = session::with(|t| {
        t.frames.push(frame);
        t.frames.len() - 1
    });
    // A schema element is gated whether or not fence was preloaded: its CREATE SCHEMA's event
    // trigger loaded fence before any element runs.
    if !(utility::preloaded() || schema_element) || skipped() {
        return depth;
    }
    let unseen = maintenance::is_maintenance(node) || schema_element;
    match utility::silencing_setting() {
        None if unseen => snapshot::with_active_snapshot(|| gate_here(node)),
        // The event triggers will not fire: the statement is gated here unless a superuser
        // (who may switch fence off, but not silently) runs it, and recorded.
        Some((setting, value)) if unseen || parser::event_triggers_see(node) => snapshot::with_active_snapshot(|| {
            let superuser = security::superuser_session();
            if !superuser {
                gate_here(node);
            }
            let text = super::text::statement_text(node);
            after::record_silenced(setting, value, parser::command_tag(node), text, superuser);
        }),
        _ => {}
    }
    depth
}

/// Gates a statement from the hook: no event trigger will see it (with silenced event
/// triggers, neither will the checks after it, so what it would do to a tracked table's row
/// audit is judged here).
fn gate_here(node: *mut pg_sys::Node) {
    gate(GateCall {
        tag: parser::command_tag(node),
        statement: parsetree::statement(node),
        text: super::text::statement_text(node),
        drops_fence: false,
        awaits_end: false,
        row_audit_off: super::row_audit_harm(node),
    })
}

/// After the statement: record a change to fence's guards, and close the statement's frame.
pub fn after(node: *mut pg_sys::Node, depth: usize) {
    let text = session::with(|t| {
        let text = t.frames.get(depth).map(|f| f.text.clone());
        t.frames.truncate(depth);
        text
    });
    if let Some((what, state)) = guards::changed_guard(node) {
        snapshot::with_active_snapshot(|| after::record_guard_change(what, state, text));
    }
}
