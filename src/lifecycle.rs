//! What fence does when a transaction ends and when the server invalidates a cache: the one
//! place the transaction and invalidation callbacks (`crate::entry`) lead to.

use pgrx::pg_sys;

use crate::ffi::security;
use crate::ffi::xact::{SubXactStep, XactStep};
use crate::{chain, db, governance, rows, session};

/// A step of the current transaction: at pre-commit the row audit makes sure a sealer runs
/// and the transaction's events are appended to the chain; at its end its state goes.
pub fn transaction(step: XactStep) {
    match step {
        XactStep::PreCommit => {
            rows::trigger::before_commit();
            chain::events::flush(false)
        }
        XactStep::PrePrepare => chain::events::flush(true),
        XactStep::Ended => session::transaction_ended(false),
        XactStep::Aborted => session::transaction_ended(true),
        XactStep::Other => {}
    }
}

pub fn subtransaction(step: SubXactStep) {
    match step {
        SubXactStep::Aborted(level) => session::subtransaction_aborted(level),
        SubXactStep::Committed(level) => session::subtransaction_committed(level),
        SubXactStep::Other => {}
    }
}

/// PostgreSQL invalidated `relation` (InvalidOid: every relation): what fence cached from it
/// goes. Must never raise.
pub fn relation_changed(relation: pg_sys::Oid) {
    let owner_dropped = db::owner::forget_cached(relation);
    governance::policy::forget_cached(relation, owner_dropped);
    rows::cache::forget_cached(relation);
}

/// A role was created, altered or dropped. Must never raise.
pub fn roles_changed() {
    security::forget_role_names();
}
