//! The `fence` command line's pieces, public for its tests.

pub mod hash_files;
pub mod report;
pub mod verify_csv;
