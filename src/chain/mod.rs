//! The audit chain: the events of the current transaction (`events`), their append at commit
//! (`append`), events committed outside the transaction they stop — denials, a READ ONLY
//! transaction's events (`outside`) — and the verification of the chain and of the governance
//! tables it vouches for (`verify`).

pub mod append;
pub mod events;
pub mod outside;
pub mod verify;
