//! The object access hook's plumbing: installing it, calling the hook installed before, and
//! telling apart the two accesses fence looks at — an object created, an object about to be
//! dropped — from every other (namespace searches, function executions, alterations), which
//! it passes by at once.

use pgrx::pg_sys;

/// The object access hook's signature.
pub type ObjectAccessFn = unsafe extern "C-unwind" fn(
    pg_sys::ObjectAccessType::Type,
    pg_sys::Oid,
    pg_sys::Oid,
    std::ffi::c_int,
    *mut std::ffi::c_void,
);

static mut NEXT: pg_sys::object_access_hook_type = None;

/// Installs `hook` in front of the current object access hook (called once, from _PG_init).
pub fn install(hook: ObjectAccessFn) {
    // SAFETY: called once from _PG_init in the single backend thread; the previous hook is
    // saved and `call_next` always calls it.
    unsafe {
        NEXT = pg_sys::object_access_hook;
        pg_sys::object_access_hook = Some(hook);
    }
}

/// Calls the hook installed before fence's, if any, with exactly what fence's received.
///
/// # Safety
/// The arguments must be what the object access hook received.
pub unsafe fn call_next(
    access: pg_sys::ObjectAccessType::Type,
    class: pg_sys::Oid,
    object: pg_sys::Oid,
    sub: std::ffi::c_int,
    arg: *mut std::ffi::c_void,
) {
    // SAFETY: NEXT is set by `install` before the hook is, and never changes after; per the
    // caller for the arguments.
    if let Some(next) = unsafe { NEXT } {
        // SAFETY: the previous hook, called as the server calls hooks (per the caller).
        unsafe { next(access, class, object, sub, arg) };
    }
}

/// What an object access is, for fence.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub enum Access {
    /// An object was just created (its catalog rows are not visible yet).
    Created,
    /// An object is about to be dropped (nothing of it is locked or removed yet).
    Dropping,
}

/// The access fence looks at, if it is one.
pub fn access(access: pg_sys::ObjectAccessType::Type) -> Option<Access> {
    match access {
        pg_sys::ObjectAccessType::OAT_POST_CREATE => Some(Access::Created),
        pg_sys::ObjectAccessType::OAT_DROP => Some(Access::Dropping),
        _ => None,
    }
}

/// The catalogs of a table's parts besides its relations and columns — pg_constraint,
/// pg_trigger, pg_policy, pg_rewrite (fixed catalog OIDs; pgrx does not bind them all).
const TABLE_PART_CLASSES: [u32; 4] = [2606, 2620, 3256, 2618];

/// Whether an access is to a relation, one of its columns, or a constraint, trigger, policy
/// or rule of a table: what a DDL statement on a table creates or drops. Roles, large
/// objects, types and the like are not.
pub fn is_table_part(class: pg_sys::Oid) -> bool {
    class == pg_sys::RelationRelationId || TABLE_PART_CLASSES.contains(&class.to_u32())
}
