//! Who is running, and running fence's own writes as the extension owner.

use std::cell::RefCell;
use std::ffi::CString;
use std::rc::Rc;

use pgrx::pg_sys;

use super::nodes::cstr;

fn role_name(oid: pg_sys::Oid) -> String {
    // SAFETY: GetUserNameFromId with noerr=true returns NULL for a dropped role.
    unsafe { cstr(pg_sys::GetUserNameFromId(oid, true)) }.unwrap_or_else(|| format!("role {}", oid.to_u32()))
}

thread_local! {
    /// The session role's OID and name (the row trigger records it with every change), until
    /// a role is created, altered or dropped (`forget_role_names`).
    static SESSION_ROLE: RefCell<Option<(pg_sys::Oid, Rc<str>)>> = const { RefCell::new(None) };
}

/// The authenticated role (`session_user`).
pub fn session_role() -> Rc<str> {
    // SAFETY: reads backend-local state.
    let oid = unsafe { pg_sys::GetSessionUserId() };
    if let Some(name) = SESSION_ROLE.with(|r| r.borrow().as_ref().filter(|(o, _)| *o == oid).map(|(_, n)| n.clone())) {
        return name;
    }
    let name: Rc<str> = role_name(oid).into();
    SESSION_ROLE.with(|r| *r.borrow_mut() = Some((oid, name.clone())));
    name
}

/// Drops the cached role name. Called by the role catalog's invalidation callback; must never
/// raise.
pub fn forget_role_names() {
    SESSION_ROLE.with(|r| r.borrow_mut().take());
}

/// The role whose privileges are in effect (`current_user`).
pub fn executing_role() -> String {
    // SAFETY: reads backend-local state.
    role_name(unsafe { pg_sys::GetUserId() })
}

fn role_oid(name: &str) -> Option<pg_sys::Oid> {
    let name = CString::new(name).ok()?;
    // SAFETY: missing_ok = true: returns InvalidOid instead of raising.
    let oid = unsafe { pg_sys::get_role_oid(name.as_ptr(), true) };
    (oid != pg_sys::InvalidOid).then_some(oid)
}

/// Whether the role named `member` belongs (directly or through other roles) to one of
/// `roles`. Superuser status does not count: membership must be granted.
pub fn role_in_any(member: &str, roles: &[String]) -> bool {
    let Some(member) = role_oid(member) else { return false };
    roles.iter().filter_map(|r| role_oid(r)).any(|role| {
        // SAFETY: both are existing role OIDs; the call reads the catalog cache.
        unsafe { pg_sys::is_member_of_role_nosuper(member, role) }
    })
}

/// Whether the role that logged in is a superuser (a restore that switches to the objects'
/// owners with SET SESSION AUTHORIZATION or SET ROLE is still a superuser's; a function
/// owned by a superuser does not make its caller one).
pub fn superuser_session() -> bool {
    // SAFETY: reads the authenticated user of this session and the role cache.
    unsafe { pg_sys::superuser_arg(pg_sys::GetAuthenticatedUserId()) }
}

/// The session's live `lock_timeout`, and what bounds a statement's run: the shorter of
/// `statement_timeout` and (PostgreSQL 17 on) `transaction_timeout` that is set — in
/// milliseconds, 0 = off.
pub fn timeouts_ms() -> (i64, i64) {
    // SAFETY: reads the backend's current GUC values.
    let (lock, statement) = unsafe { (i64::from(pg_sys::LockTimeout), i64::from(pg_sys::StatementTimeout)) };
    let bounds = [statement, super::compat::transaction_timeout_ms()];
    (lock, bounds.into_iter().filter(|ms| *ms > 0).min().unwrap_or(0))
}

/// This backend's process id.
pub fn backend_pid() -> i32 {
    // SAFETY: set once at backend start.
    unsafe { pg_sys::MyProcPid }
}

/// The session's `application_name` (as it is now: clients may change it).
pub fn application_name() -> String {
    // SAFETY: the GUC's current value, a NUL-terminated string or NULL.
    unsafe { cstr(pg_sys::application_name) }.unwrap_or_default()
}

/// Restores the caller's role, security context and settings when dropped (also on error
/// unwinding; an aborting transaction restores them too).
struct Restore {
    user: pg_sys::Oid,
    context: i32,
    guc_level: i32,
}

thread_local! {
    /// How many `as_owner` scopes are open: fence itself is writing (see `acting_as_owner`).
    static OWNER_SCOPES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Whether fence's own code is running now (inside `as_owner`): what it writes into its
/// tables is fence's, whatever process it runs in.
pub fn acting_as_owner() -> bool {
    OWNER_SCOPES.with(|scopes| scopes.get() > 0)
}

impl Drop for Restore {
    fn drop(&mut self) {
        OWNER_SCOPES.with(|scopes| scopes.set(scopes.get().saturating_sub(1)));
        // SAFETY: undoes exactly what `as_owner` did, in reverse order.
        unsafe {
            pg_sys::AtEOXact_GUC(true, self.guc_level);
            pg_sys::SetUserIdAndSecContext(self.user, self.context);
        }
    }
}

/// Runs `f` as `owner` with `search_path = pg_catalog, pg_temp`, like a SECURITY DEFINER
/// function with a pinned search path: the caller's role and settings cannot influence
/// fence's own queries, and nothing the caller owns can run with the owner's rights
/// (SECURITY_RESTRICTED_OPERATION).
pub fn as_owner<R>(owner: pg_sys::Oid, f: impl FnOnce() -> R) -> R {
    let search_path = CString::new("pg_catalog, pg_temp").unwrap_or_default();
    // SAFETY: the same sequence fmgr_security_definer uses; `Restore` undoes it.
    let _restore = unsafe {
        let (mut user, mut context) = (pg_sys::InvalidOid, 0);
        pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
        pg_sys::SetUserIdAndSecContext(
            owner,
            context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32 | pg_sys::SECURITY_RESTRICTED_OPERATION as i32,
        );
        let guc_level = pg_sys::NewGUCNestLevel();
        pg_sys::set_config_option(
            c"search_path".as_ptr(),
            search_path.as_ptr(),
            pg_sys::GucContext::PGC_SUSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_SAVE,
            true,
            0,
            false,
        );
        Restore { user, context, guc_level }
    };
    OWNER_SCOPES.with(|scopes| scopes.set(scopes.get() + 1));
    f()
}

/// The role a RoleSpec names (`CURRENT_USER`, `SESSION_USER`, `CURRENT_ROLE` as the role they
/// are now; a role that does not exist as written; `PUBLIC` as `public`).
pub(super) fn role_spec_name(spec: &pg_sys::RoleSpec) -> Option<String> {
    if spec.roletype == pg_sys::RoleSpecType::ROLESPEC_PUBLIC {
        return Some("public".into());
    }
    // SAFETY: a RoleSpec of a parse tree; with missing_ok, get_rolespec_oid returns InvalidOid
    // for a role that does not exist.
    let oid = unsafe { pg_sys::get_rolespec_oid(spec, true) };
    if oid == pg_sys::InvalidOid {
        cstr(spec.rolename)
    } else {
        Some(role_name(oid))
    }
}
