//! The `fence` command line's pieces, public for its tests.

pub mod hash_files;
pub mod verify_csv;
