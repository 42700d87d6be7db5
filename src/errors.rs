//! The kinds of error fence raises, each with its SQLSTATE; all of them are one type
//! (`Error`: message, DETAIL, HINT), raised one way (`Error::raise`).

use pgrx::prelude::*;

pub use crate::ffi::error::{internal, invalid_parameter, prerequisite, Error};

/// 42601: SQL fence was asked to read cannot be read by PostgreSQL's scanner or grammar.
pub fn syntax(error: &fence_core::canonical::SqlError) -> Error {
    Error::new(PgSqlErrorCode::ERRCODE_SYNTAX_ERROR, error.to_string())
}

/// 42501: the caller may not do this (and a statement fence refuses).
pub fn forbidden(message: impl Into<String>) -> Error {
    Error::new(PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE, message)
}

/// 42704: the named thing does not exist.
pub fn not_found(message: impl Into<String>) -> Error {
    Error::new(PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT, message)
}

/// 55000: fence's own state is not usable (extension objects missing).
pub fn not_installed() -> Error {
    prerequisite("the extension is not installed in this database").hint("CREATE EXTENSION fence;")
}

/// 25001: the function needs another transaction isolation.
pub fn active_transaction(message: impl Into<String>) -> Error {
    Error::new(PgSqlErrorCode::ERRCODE_ACTIVE_SQL_TRANSACTION, message)
}

/// 53400: a limit of the server's configuration stops fence.
pub fn configuration_limit(message: impl Into<String>) -> Error {
    Error::new(PgSqlErrorCode::ERRCODE_CONFIGURATION_LIMIT_EXCEEDED, message)
}

/// Keeps Rust backtraces out of the errors clients see. pgrx re-raises a PostgreSQL error that
/// passed through one of fence's guarded calls (a refusal raised by fence's event trigger
/// under its ProcessUtility hook, any failing DDL statement) with a Rust backtrace appended to
/// its DETAIL whenever the server's environment enables backtraces (RUST_BACKTRACE=1, common
/// in developer machines and containers): dozens of lines of build paths under every refusal.
/// Unless the operator asked for library backtraces explicitly (RUST_LIB_BACKTRACE), they are
/// off in this process (and the processes PostgreSQL starts from it).
pub fn quiet_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
}
