//! The only unsafe code of fence besides the entry points (`crate::entry`): reading
//! PostgreSQL's parse trees, relcache, tuples and settings, switching roles, running queries
//! and workers. Each function gives the rest of fence a safe interface to one thing only the
//! server can do; every `unsafe` block says why it is sound. Nothing here refers to the rest
//! of the crate: fence's logic calls down into `ffi`, never the other way.

pub mod compat;
pub mod error;
pub mod event_trigger;
pub mod expr;
pub mod fmgr;
pub mod guards;
pub mod guc;
pub mod heap;
pub mod invalidation;
pub mod jsonb;
pub mod maintenance;
mod nodes;
pub mod notify;
pub mod object_access;
pub mod parser;
pub mod parsetree;
pub mod querytree;
pub mod relcache;
pub mod replication;
pub mod rowguard;
pub mod scanner;
pub mod security;
pub mod snapshot;
pub mod srf;
pub mod stream;
pub mod tuple;
pub mod utility;
pub mod worker;
pub mod xact;
