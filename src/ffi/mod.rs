//! The only unsafe code in fence: reading PostgreSQL's parse trees, relcache and settings,
//! switching roles, and the hooks and callbacks the server calls. Every `unsafe` block says
//! why it is sound; everything outside this module is safe Rust.

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
pub mod security;
pub mod snapshot;
pub mod worker;
pub mod xact;
