//! fence's settings: `fence.approval`, the content hash the session runs under (validated
//! when it is set), and the CI context claims recorded with every event.

use std::ffi::CString;

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting, PostgresGucEnum};
use pgrx::pg_sys;
use pgrx::prelude::*;

static APPROVAL: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// `fence.log_level`: which decisions get a `FENCE:` line in the server log.
#[derive(Clone, Copy, PartialEq, Eq, PostgresGucEnum)]
pub enum LogLevel {
    Off,
    Deny,
    All,
}

impl LogLevel {
    pub fn logs(self, denied: bool) -> bool {
        self == LogLevel::All || (denied && self == LogLevel::Deny)
    }
}

static LOG_LEVEL: GucSetting<LogLevel> = GucSetting::<LogLevel>::new(LogLevel::All);

/// The current `fence.log_level`.
pub fn log_level() -> LogLevel {
    LOG_LEVEL.get()
}
static REPOSITORY: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static PULL_REQUEST: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static COMMIT_SHA: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static ACTOR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static ORGANIZATION: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static MIGRATION_FILES: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// The context settings a CI session may set: claims, recorded apart from the server's roles.
const CLAIMS: [(&str, &std::ffi::CStr, &std::ffi::CStr, &GucSetting<Option<CString>>); 6] = [
    (
        "organization",
        c"fence.organization",
        c"Organization the migration belongs to (a claim recorded with each event).",
        &ORGANIZATION,
    ),
    (
        "migration_files",
        c"fence.migration_files",
        c"The migration files being applied, e.g. 0042_plans.sql (a claim recorded with each event).",
        &MIGRATION_FILES,
    ),
    (
        "repository",
        c"fence.repository",
        c"Repository the migration comes from (a claim recorded with each event).",
        &REPOSITORY,
    ),
    (
        "pull_request",
        c"fence.pull_request",
        c"Pull request of the migration (a claim recorded with each event).",
        &PULL_REQUEST,
    ),
    ("commit_sha", c"fence.commit_sha", c"Commit of the migration (a claim recorded with each event).", &COMMIT_SHA),
    ("actor", c"fence.actor", c"Person or bot behind the session (a claim recorded with each event).", &ACTOR),
];

pub fn init() {
    // SAFETY: registering a custom variable from _PG_init with a guarded check hook.
    unsafe {
        GucRegistry::define_string_guc_with_hooks(
            c"fence.approval",
            c"Content hash (sha256:<64 hex>) of the approved migration this session runs.",
            c"Set by the CI session, e.g. PGOPTIONS='-c fence.approval=sha256:...'. Risky statements run only if an approval of this content covers them.",
            &APPROVAL,
            GucContext::Userset,
            GucFlags::default(),
            Some(check_approval),
            None,
            None,
        );
        GucRegistry::define_enum_guc(
            c"fence.log_level",
            c"Which decisions fence writes to the server log as FENCE: lines (off, deny, all).",
            c"Superuser-only, so a migration role cannot hide its denials from the log.",
            &LOG_LEVEL,
            GucContext::Suset,
            GucFlags::default(),
        );
        GucRegistry::define_int_guc(
            c"fence.seal_interval",
            c"Seconds between the sealer's rounds, which seal tracked row changes into the audit chain (a writing session checks at most this often that the sealer runs).",
            c"Superuser-only. fence.seal_changes() seals at once.",
            &SEAL_INTERVAL,
            1,
            3600,
            GucContext::Suset,
            GucFlags::UNIT_S,
        );
        for (_, name, description, setting) in CLAIMS {
            GucRegistry::define_string_guc(
                name,
                description,
                c"Set by the CI session (PGOPTIONS or SET); fence records it as a claim, never as proof of identity.",
                setting,
                GucContext::Userset,
                GucFlags::default(),
            );
        }
    }
}

/// The context claims the session has set, as (key, value) pairs.
pub fn claims() -> Vec<(&'static str, String)> {
    CLAIMS
        .iter()
        .filter_map(|(key, _, _, setting)| {
            let value = setting.get()?.into_string().ok()?;
            (!value.is_empty()).then(|| (*key, value.chars().take(1024).collect()))
        })
        .collect()
}

/// `fence.actor`, when the application set it (e.g. `SET LOCAL fence.actor` per request on a
/// pooled connection).
pub fn actor() -> Option<String> {
    ACTOR.get().and_then(|v| v.into_string().ok()).filter(|v| !v.is_empty())
}

static SEAL_INTERVAL: GucSetting<i32> = GucSetting::<i32>::new(2);

/// `fence.seal_interval`, in seconds.
pub fn seal_interval_s() -> u64 {
    SEAL_INTERVAL.get().max(1) as u64
}

/// The content hash named by the session, if any.
pub fn approval() -> Option<String> {
    APPROVAL.get().and_then(|v| v.into_string().ok()).filter(|v| !v.is_empty())
}

#[pg_guard]
unsafe extern "C-unwind" fn check_approval(
    newval: *mut *mut std::ffi::c_char,
    _extra: *mut *mut std::ffi::c_void,
    _source: pg_sys::GucSource::Type,
) -> bool {
    // SAFETY: `newval` points at the proposed value (NULL for unset); the detail and hint
    // strings are palloc'd copies the GUC machinery reports and frees.
    unsafe {
        let value = super::nodes::cstr(*newval).unwrap_or_default();
        if value.is_empty() || fence_core::hash::is_tagged_sha256(&value) {
            return true;
        }
        let detail =
            CString::new("fence.approval must be sha256: followed by 64 lowercase hex digits.").unwrap_or_default();
        let hint = CString::new("Use the value returned by fence.approve() or printed by fence.content_hash().")
            .unwrap_or_default();
        pg_sys::GUC_check_errcode(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE as i32);
        pg_sys::GUC_check_errdetail_string = pg_sys::pstrdup(detail.as_ptr());
        pg_sys::GUC_check_errhint_string = pg_sys::pstrdup(hint.as_ptr());
        false
    }
}
