//! The SQL fence runs through SPI, kept in `sql/queries/`. Every query runs as the extension
//! owner with `search_path = pg_catalog, pg_temp` (see `ffi::security::as_owner`).

pub const CURRENT_POLICY: &str = include_str!("../sql/queries/current_policy.sql");
pub const APPROVALS_FOR_CONTENT: &str = include_str!("../sql/queries/approvals_for_content.sql");
pub const LIVE_EXEMPTIONS: &str = include_str!("../sql/queries/live_exemptions.sql");
pub const INSERT_EVENT: &str = include_str!("../sql/queries/insert_event.sql");
pub const INSERT_EVENTS: &str = include_str!("../sql/queries/insert_events.sql");
pub const CHAIN_ROWS: &str = include_str!("../sql/queries/chain_rows.sql");
pub const LOCK_POLICY: &str = include_str!("../sql/queries/lock_policy.sql");
pub const INSERT_POLICY: &str = include_str!("../sql/queries/insert_policy.sql");
pub const INSERT_APPROVAL: &str = include_str!("../sql/queries/insert_approval.sql");
pub const REVOKE_APPROVAL: &str = include_str!("../sql/queries/revoke_approval.sql");
pub const INSERT_EXEMPTION: &str = include_str!("../sql/queries/insert_exemption.sql");
pub const REVOKE_EXEMPTION: &str = include_str!("../sql/queries/revoke_exemption.sql");
pub const DDL_COMMANDS: &str = include_str!("../sql/queries/ddl_commands.sql");
pub const INSERT_PENDING_DENIAL: &str = include_str!("../sql/queries/insert_pending_denial.sql");
pub const TAKE_PENDING_DENIALS: &str = include_str!("../sql/queries/take_pending_denials.sql");
pub const WORKER_TIMEOUTS: &str = include_str!("../sql/queries/worker_timeouts.sql");
pub const CLIENT_ADDR: &str = include_str!("../sql/queries/client_addr.sql");
pub const DROPPED_OBJECTS: &str = include_str!("../sql/queries/dropped_objects.sql");
pub const TABLE_REWRITE: &str = include_str!("../sql/queries/table_rewrite.sql");
