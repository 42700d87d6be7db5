//! The fleet: a control database's approvals, exemptions and policy reach many target
//! databases, and each target's chain reaches one evidence database, both by PostgreSQL's
//! logical replication of the `fence.fleet_*` tables (see `sql/install/fleet.sql`). Here: the
//! set-up functions (`setup`), what a target does with a grant that arrives (`arrivals`) and
//! the central verification (`evidence`).

pub mod arrivals;
pub mod evidence;
pub mod setup;

use crate::db::owner::owner_read;
use crate::db::{self, queries};
use crate::ffi::{replication, security};

/// Whether this database has a fleet role (control, target, publisher, evidence).
pub fn has_role(role: &str) -> bool {
    db::fleet_ready()
        && owner_read(|| db::select_value::<bool>(queries::FLEET_ROLE, &[role.into()], "held")) == Some(true)
}

/// Whether a row is being written into one of fence's tables by a subscription's worker
/// directly (not by fence: a subscription refreshed against a publication that lists fence's
/// own tables).
pub fn replicated_write() -> bool {
    replication::in_logical_worker() && !security::acting_as_owner()
}
