//! fence-core: the pure part of fence. No PostgreSQL, no pgrx: the statement model, the
//! lock/rewrite/scan facts of PostgreSQL 15, the rules, canonical SQL and content hashes,
//! policy validation and decisions, and the audit chain's hashing.

pub mod analysis;
pub mod canonical;
pub mod catalog;
pub mod chain;
pub mod decision;
pub mod effects;
pub mod grants;
pub mod hash;
pub mod ignore;
pub mod json;
pub mod lock;
pub mod model;
pub mod policy;
pub mod report;
pub mod risk;
pub mod row_verify;
pub mod rows;
pub mod rules;
pub mod state_verify;
