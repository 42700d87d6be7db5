//! Errors and messages at the SQL boundary, each with an explicit SQLSTATE.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

/// Raises an ERROR; never returns.
pub fn raise(code: PgSqlErrorCode, message: String, detail: Option<String>, hint: Option<String>) -> ! {
    let mut report = ErrorReport::new(code, message, "fence");
    if let Some(detail) = detail {
        report = report.set_detail(detail);
    }
    if let Some(hint) = hint {
        report = report.set_hint(hint);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

/// 22023: a function argument is not acceptable.
pub fn invalid_parameter(message: &str, hint: Option<&str>) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, format!("fence: {message}"), None, hint.map(str::to_string))
}

/// 42601: SQL fence was asked to read cannot be read by PostgreSQL's scanner or grammar.
pub fn syntax(error: &fence_core::canonical::SqlError) -> ! {
    raise(PgSqlErrorCode::ERRCODE_SYNTAX_ERROR, format!("fence: {error}"), None, None)
}

/// 42501: the caller may not do this.
pub fn forbidden(message: String, hint: Option<String>) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE, format!("fence: {message}"), None, hint)
}

/// 42704: the named thing does not exist.
pub fn not_found(message: String, hint: Option<String>) -> ! {
    raise(PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT, format!("fence: {message}"), None, hint)
}

/// 55000: fence's own state is not usable (extension objects missing).
pub fn not_installed() -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        "fence: the extension is not installed in this database".into(),
        None,
        Some("CREATE EXTENSION fence;".into()),
    )
}

/// Reports an SPI failure inside fence as an internal error.
pub fn spi(error: pgrx::spi::Error) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("fence: internal query failed: {error}"), None, None)
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
