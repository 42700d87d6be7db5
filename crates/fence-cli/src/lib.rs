//! The `fence` command line's pieces, public for its tests.

pub mod analyze_files;
pub mod config;
pub mod hash_files;
pub mod inputs;
pub mod live;
pub mod maintenance;
pub mod parse;
pub mod query;
pub mod report;
pub mod scan;
pub mod verify_csv;
pub mod verify_rows;

use std::sync::atomic::{AtomicU8, Ordering};

/// The exit status when the output pipe is closed before everything is printed (`fence ... |
/// head`): the verdict, set by a command before it prints its report.
static CLOSED_PIPE_EXIT: AtomicU8 = AtomicU8::new(0);

/// Sets the exit status a closed output pipe ends the program with.
pub fn exit_on_closed_pipe(code: u8) {
    CLOSED_PIPE_EXIT.store(code, Ordering::Relaxed);
}

/// The exit status a closed output pipe ends the program with.
pub fn closed_pipe_exit() -> u8 {
    CLOSED_PIPE_EXIT.load(Ordering::Relaxed)
}
