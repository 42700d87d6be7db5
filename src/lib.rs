//! fence: schema-change governance inside PostgreSQL.
//!
//! Three floors, calls going down only: `entry` holds every function the server calls (event
//! triggers, hooks, callbacks, worker mains; SQL functions are in `api`) and only unwraps and
//! calls; the safe modules, one folder per feature (`gate`, `chain`, `governance`, `rows`,
//! with `db` the one query path and `session` the per-transaction state); and `ffi`, the thin
//! layer over the server, which refers to nothing above it. Unsafe code compiles only in
//! `ffi` and `entry`.
#![deny(unsafe_code)]

mod analysis;
mod api;
mod catalog;
mod chain;
mod db;
#[allow(unsafe_code)]
mod entry;
mod errors;
#[allow(unsafe_code)]
mod ffi;
mod fleet;
mod gate;
mod governance;
mod lifecycle;
mod rows;
mod session;
mod settings;
mod sqltext;

::pgrx::extension_sql_file!("../sql/install/schema.sql", name = "schema", bootstrap);
::pgrx::extension_sql_file!("../sql/install/event_triggers.sql", name = "event_triggers", requires = ["schema"]);
::pgrx::extension_sql_file!("../sql/install/views.sql", name = "views", requires = ["schema", api::chain::time_us]);
::pgrx::extension_sql_file!("../sql/install/ergonomics.sql", name = "ergonomics", requires = ["views"]);
::pgrx::extension_sql_file!("../sql/install/rows.sql", name = "rows", requires = ["schema"]);
::pgrx::extension_sql_file!("../sql/install/fleet.sql", name = "fleet", requires = ["schema", "rows"]);
::pgrx::extension_sql_file!("../sql/install/finalize.sql", name = "finalize", finalize);
