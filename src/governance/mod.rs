//! What decides: the policy in force, approvals of migration content and exemptions — read
//! for each decision, granted and revoked through fence's SQL functions, each change chained.

pub mod approvals;
pub mod exemptions;
pub mod policy;
