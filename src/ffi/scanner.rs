//! PostgreSQL's own scanner (`core_yylex`) over a text, with the session's scanner settings
//! (`standard_conforming_strings`, `backslash_quote`), exactly as `raw_parser` reads it.

use std::ffi::{c_char, CStr, CString};

use fence_core::canonical::codes;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;

/// One token: its code (gram.h), where it starts, and its value.
pub struct RawToken {
    pub code: i32,
    pub start: usize,
    /// The string value (identifiers, constants, operators) or the keyword.
    pub text: Option<String>,
    /// The integer value (`ICONST`, `PARAM`).
    pub number: i32,
}

/// Which member of `core_YYSTYPE` a token code fills.
enum Member {
    Str,
    Int,
    Keyword,
    None,
}

fn member(code: i32) -> Member {
    match code {
        codes::IDENT..=codes::OP => Member::Str,
        codes::ICONST | codes::PARAM => Member::Int,
        _ if codes::fixed(code).is_some() => Member::None,
        _ => Member::Keyword,
    }
}

/// Restores the interrupt holdoff counts an ERROR caught inside fence's reading of text
/// zeroed (errfinish does, before the catch): a caller holding interrupts keeps holding them.
pub struct Holdoffs(u32, u32);

impl Holdoffs {
    pub fn save() -> Holdoffs {
        // SAFETY: reads two backend-local counters.
        unsafe { Holdoffs(pg_sys::InterruptHoldoffCount, pg_sys::QueryCancelHoldoffCount) }
    }
}

impl Drop for Holdoffs {
    fn drop(&mut self) {
        // SAFETY: puts back the counts saved before the caught error.
        unsafe {
            pg_sys::InterruptHoldoffCount = self.0;
            pg_sys::QueryCancelHoldoffCount = self.1;
        }
    }
}

/// Restores the message levels `quiet` raised.
pub struct Levels(i32, i32);

impl Drop for Levels {
    fn drop(&mut self) {
        // SAFETY: restores the session's own values of the two settings.
        unsafe {
            pg_sys::client_min_messages = self.0;
            pg_sys::log_min_messages = self.1;
        }
    }
}

/// Keeps the scanner's notices and warnings (an identifier truncated to 63 bytes, a
/// nonstandard backslash) to itself while fence re-reads text: the server said so once
/// when it read the statement. Until the guard is dropped.
pub fn quiet() -> Levels {
    // SAFETY: backend-local settings, restored by the guard however the scan ends.
    unsafe {
        let levels = Levels(pg_sys::client_min_messages, pg_sys::log_min_messages);
        // Raised to ERROR, never lowered (a session at FATAL stays there).
        pg_sys::client_min_messages = levels.0.max(PgLogLevel::ERROR as i32);
        pg_sys::log_min_messages = levels.1.max(PgLogLevel::ERROR as i32);
        levels
    }
}

fn copied(text: *const c_char) -> Result<String, String> {
    // SAFETY: the scanner's values are NUL-terminated strings in the scan's memory context.
    let text = unsafe { CStr::from_ptr(text) };
    text.to_str().map(str::to_string).map_err(|_| "a token is not valid UTF-8".to_string())
}

fn scan_all(text: &CString) -> Result<Vec<RawToken>, String> {
    let mut tokens = Vec::new();
    // The scanner keeps a pointer to `extra` (its yyextra): it lives in this frame until
    // scanner_finish.
    let mut storage = pg_sys::core_yy_extra_type::default();
    let extra: *mut pg_sys::core_yy_extra_type = &mut storage;
    // SAFETY: scanner_init copies `text` into its own buffer, reads the keyword list and
    // token table PostgreSQL exports, and copies the session's scanner settings into
    // `extra`, which it keeps; the write goes through the same pointer the scanner reads.
    let scanner = unsafe {
        let scanner =
            pg_sys::scanner_init(text.as_ptr(), extra, &pg_sys::ScanKeywords, pg_sys::ScanKeywordTokens.as_ptr());
        // The server warned about a nonstandard backslash when it read the statement.
        (*extra).escape_string_warning = false;
        scanner
    };
    loop {
        let mut value = pg_sys::core_YYSTYPE::default();
        let mut location: i32 = 0;
        // SAFETY: `scanner` is live until scanner_finish below.
        let code = unsafe { pg_sys::core_yylex(&mut value, &mut location, scanner) };
        if code == 0 {
            break;
        }
        let start = usize::try_from(location).unwrap_or(0);
        let (text, number) = match member(code) {
            // SAFETY: for these codes the scanner set the union member read.
            Member::Str => (Some(copied(unsafe { value.str_ })?), 0),
            // SAFETY: as above.
            Member::Keyword => (Some(copied(unsafe { value.keyword })?), 0),
            // SAFETY: as above.
            Member::Int => (None, unsafe { value.ival }),
            Member::None => (None, 0),
        };
        tokens.push(RawToken { code, start, text, number });
    }
    // SAFETY: the scanner is not used after this.
    unsafe { pg_sys::scanner_finish(scanner) };
    Ok(tokens)
}

/// Every token of `sql` (comments skipped); the scanner's error message if it cannot read it.
pub fn scan(sql: &str) -> Result<Vec<RawToken>, String> {
    let text = CString::new(sql).map_err(|_| "the SQL text contains a NUL byte".to_string())?;
    let _levels = quiet();
    let _holdoffs = Holdoffs::save();
    let mut context = PgMemoryContexts::new("fence scan");
    // SAFETY: the scanner allocates only memory, in this context, freed when it is dropped;
    // a caught scanner error holds no other resource.
    unsafe {
        context.switch_to(|_| {
            PgTryBuilder::new(|| scan_all(&text))
                .catch_others(|caught| match caught {
                    pg_sys::panic::CaughtError::PostgresError(report)
                    | pg_sys::panic::CaughtError::ErrorReport(report)
                    | pg_sys::panic::CaughtError::RustPanic { ereport: report, .. } => {
                        Err(report.message().to_string())
                    }
                })
                .execute()
        })
    }
}
