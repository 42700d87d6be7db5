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

/// Whether this database has a fleet role (control, target, publisher, evidence).
pub fn has_role(role: &str) -> bool {
    db::fleet_ready()
        && owner_read(|| db::select_value::<bool>(queries::FLEET_ROLE, &[role.into()], "held")) == Some(true)
}
