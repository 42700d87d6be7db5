//! fence's one error type: SQLSTATE, message, DETAIL and HINT, raised as a PostgreSQL ERROR.
//! Everything fence refuses or fails with is one of these (`crate::errors` names the kinds).

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

/// An ERROR to raise; the message is prefixed with `fence: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: PgSqlErrorCode,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl Error {
    pub fn new(code: PgSqlErrorCode, message: impl Into<String>) -> Error {
        Error { code, message: message.into(), detail: None, hint: None }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Error {
        self.detail = Some(detail.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// Raises the ERROR; never returns (the transaction aborts).
    pub fn raise(self) -> ! {
        let mut report = ErrorReport::new(self.code, format!("fence: {}", self.message), "fence");
        if let Some(detail) = self.detail {
            report = report.set_detail(detail);
        }
        if let Some(hint) = self.hint {
            report = report.set_hint(hint);
        }
        report.report(PgLogLevel::ERROR);
        unreachable!("ERROR does not return")
    }
}

/// 22023: an argument is not acceptable.
pub fn invalid_parameter(message: impl Into<String>) -> Error {
    Error::new(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, message)
}

/// 55000: something fence needs is not in the state it must be in.
pub fn prerequisite(message: impl Into<String>) -> Error {
    Error::new(PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, message)
}

/// XX000: fence itself failed (a query of its own, a value of a type it did not expect).
pub fn internal(message: impl Into<String>) -> Error {
    Error::new(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, message)
}
