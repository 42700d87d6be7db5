//! Row-level change audit of tracked tables: `fence.track_table` / `fence.untrack_table`
//! (`tracking`), what the row trigger records for each change (`trigger`), the statements
//! that would break a tracked table's audit (`harm`), and sealing the changes into the chain
//! and verifying them (`seal`). The writer hashes each change in its own backend and inserts
//! it into its month's partition of `fence.row_changes`; no lock is shared between writers.

pub mod cache;
pub mod harm;
mod printer;
mod projection;
pub mod seal;
mod store;
pub mod tracking;
pub mod trigger;
