//! Every function the server calls into fence — event triggers, the ProcessUtility hook, the
//! row trigger, transaction and invalidation callbacks, the settings' check hook, background
//! worker mains — and nothing else: each unwraps its raw arguments through `ffi`, calls one
//! safe function of fence, and returns. (SQL functions are `#[pg_extern]`s, whose wrappers
//! pgrx generates.)

use pgrx::prelude::*;

mod callbacks;
mod event_triggers;
mod row_trigger;
mod utility_hook;
mod workers;

::pgrx::pg_module_magic!();

/// Declares the V1 calling convention of hand-written C functions (event triggers, the row
/// trigger): one `pg_finfo_<name>` per function.
macro_rules! v1_finfo {
    ($($finfo:ident),*) => {$(
        #[unsafe(no_mangle)]
        pub extern "C" fn $finfo() -> &'static pgrx::pg_sys::Pg_finfo_record {
            static V1: pgrx::pg_sys::Pg_finfo_record = pgrx::pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }
    )*};
}
use v1_finfo;

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    crate::errors::quiet_backtraces();
    crate::settings::init(callbacks::check_approval);
    crate::ffi::utility::install(utility_hook::process_utility);
    crate::ffi::object_access::install(callbacks::object_access);
    crate::ffi::xact::register(callbacks::on_xact, callbacks::on_subxact);
    crate::ffi::invalidation::register(callbacks::relation_changed, callbacks::role_changed);
}
