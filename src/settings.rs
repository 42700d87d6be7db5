//! fence's settings: `fence.approval`, the content hash the session runs under (validated
//! when it is set), the CI context claims recorded with every event, `fence.log_level` and
//! `fence.seal_interval`. Registered once, from `_PG_init`.

use std::ffi::CString;

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting, PostgresGucEnum};

use crate::errors::{self, Error};
use crate::ffi::guc;

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
static SEAL_INTERVAL: GucSetting<i32> = GucSetting::<i32>::new(2);
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

/// Registers every setting; `check_approval` is the check hook of `fence.approval`.
pub fn init(check_approval: guc::StringCheckHook) {
    guc::define_string_with_check(
        c"fence.approval",
        c"Content hash (sha256:<64 hex>) of the approved migration this session runs.",
        c"Set by the CI session, e.g. PGOPTIONS='-c fence.approval=sha256:...'. Risky statements run only if an approval of this content covers them.",
        &APPROVAL,
        check_approval,
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

/// Whether a proposed `fence.approval` is acceptable (empty, or a tagged SHA-256).
pub fn check_approval(value: &str) -> Result<(), Error> {
    if value.is_empty() || fence_core::hash::is_tagged_sha256(value) {
        return Ok(());
    }
    Err(errors::invalid_parameter("invalid fence.approval")
        .detail("fence.approval must be sha256: followed by 64 lowercase hex digits.")
        .hint("Use the value returned by fence.approve() or printed by fence.content_hash()."))
}

/// The current `fence.log_level`.
pub fn log_level() -> LogLevel {
    LOG_LEVEL.get()
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

/// `fence.seal_interval`, in seconds.
pub fn seal_interval_s() -> u64 {
    SEAL_INTERVAL.get().max(1) as u64
}

/// The content hash named by the session, if any.
pub fn approval() -> Option<String> {
    APPROVAL.get().and_then(|v| v.into_string().ok()).filter(|v| !v.is_empty())
}
