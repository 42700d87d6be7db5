//! fence: schema-change governance inside PostgreSQL.
//!
//! `ffi` is the only module with unsafe code; `gate`, `events`, `store` and `api` are safe
//! Rust on top of it and of the pure analysis in `fence-core`.

use pgrx::prelude::*;

mod api;
mod catalog;
mod denials;
mod errors;
mod events;
mod ffi;
mod gate;
mod plans;
mod queries;
mod rows;
mod seal;
mod sqltext;
mod store;

::pgrx::pg_module_magic!();

extension_sql_file!("../sql/schema.sql", name = "schema", bootstrap);
extension_sql_file!("../sql/event_triggers.sql", name = "event_triggers", requires = ["schema"]);
extension_sql_file!("../sql/views.sql", name = "views", requires = ["schema"]);
extension_sql_file!("../sql/ergonomics.sql", name = "ergonomics", requires = ["views"]);
extension_sql_file!("../sql/rows.sql", name = "rows", requires = ["schema"]);
extension_sql_file!("../sql/finalize.sql", name = "finalize", finalize);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    errors::quiet_backtraces();
    ffi::guc::init();
    ffi::hooks::install();
    ffi::xact::register();
    ffi::invalidation::register();
}
