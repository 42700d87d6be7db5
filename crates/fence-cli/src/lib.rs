//! The `fence` command line's pieces, public for its tests.

pub mod analyze_files;
pub mod hash_files;
pub mod inputs;
pub mod maintenance;
pub mod parse;
pub mod query;
pub mod report;
pub mod scan;
pub mod verify_csv;
pub mod verify_rows;
