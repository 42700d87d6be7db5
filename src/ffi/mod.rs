//! The only unsafe code in fence: reading PostgreSQL's parse trees, relcache and settings,
//! switching roles, and the hooks and callbacks the server calls. Every `unsafe` block says
//! why it is sound; everything outside this module is safe Rust.

/// Declares the V1 calling convention of hand-written C functions (event triggers, the row
/// trigger): one `pg_finfo_<name>` per function.
macro_rules! v1_finfo {
    ($($finfo:ident),*) => {$(
        #[unsafe(no_mangle)]
        pub extern "C" fn $finfo() -> &'static pg_sys::Pg_finfo_record {
            static V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }
    )*};
}

pub mod event_trigger;
pub mod expr;
pub mod guards;
pub mod guc;
pub mod hooks;
pub mod invalidation;
pub mod maintenance;
pub mod nodes;
pub mod notify;
pub mod parser;
pub mod parsetree;
pub mod relcache;
pub mod rowguard;
pub mod rowjson;
pub mod rowstore;
pub mod rowtrigger;
pub mod scanner;
pub mod security;
pub mod snapshot;
pub mod stream;
pub mod worker;
pub mod xact;
