//! Small readers for PostgreSQL node structures.

use std::ffi::{c_char, CStr};

use fence_core::model::RelationName;
use pgrx::pg_sys;

/// The node pointers of a `List` (PostgreSQL 13+ lists are arrays of cells).
///
/// # Safety
/// `list` must be null or a valid pointer `List`.
pub unsafe fn list_nodes(list: *mut pg_sys::List) -> Vec<*mut pg_sys::Node> {
    if list.is_null() {
        return Vec::new();
    }
    // SAFETY: caller guarantees a valid pointer list; `length` cells are initialized.
    unsafe {
        let list = &*list;
        (0..list.length as usize).map(|i| (*list.elements.add(i)).ptr_value as *mut pg_sys::Node).collect()
    }
}

/// The OIDs of an OID list (e.g. `RelationGetIndexList`).
/// # Safety
/// `list` must be null or a valid `T_OidList`.
pub unsafe fn list_oids(list: *mut pg_sys::List) -> Vec<pg_sys::Oid> {
    if list.is_null() {
        return Vec::new();
    }
    // SAFETY: caller guarantees an OID list; `length` cells are initialized.
    unsafe {
        let list = &*list;
        (0..list.length as usize).map(|i| (*list.elements.add(i)).oid_value).collect()
    }
}

/// # Safety
/// `ptr` must be null or a NUL-terminated string.
pub unsafe fn cstr(ptr: *const c_char) -> Option<String> {
    if ptr.is_null() {
        None
    } else {
        // SAFETY: non-null and NUL-terminated per the caller.
        Some(unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned())
    }
}

/// # Safety
/// `node` must be null or a valid node.
pub unsafe fn tag(node: *mut pg_sys::Node) -> pg_sys::NodeTag {
    if node.is_null() {
        pg_sys::NodeTag::T_Invalid
    } else {
        // SAFETY: valid node per the caller; every node starts with its tag.
        unsafe { (*node).type_ }
    }
}

/// The text of a `String` value node.
///
/// # Safety
/// `node` must be null or a valid node.
pub unsafe fn string_value(node: *mut pg_sys::Node) -> Option<String> {
    // SAFETY: the tag check guarantees the layout of `pg_sys::String`.
    unsafe {
        if tag(node) == pg_sys::NodeTag::T_String {
            cstr((*(node as *mut pg_sys::String)).sval)
        } else {
            None
        }
    }
}

/// # Safety
/// `rv` must be null or a valid `RangeVar`.
pub unsafe fn range_var(rv: *mut pg_sys::RangeVar) -> Option<RelationName> {
    if rv.is_null() {
        return None;
    }
    // SAFETY: valid RangeVar per the caller.
    unsafe {
        let rv = &*rv;
        // A relation created TEMP lives in the session's temporary schema.
        let schema = if rv.relpersistence as u8 == pg_sys::RELPERSISTENCE_TEMP {
            Some("pg_temp".to_string())
        } else {
            cstr(rv.schemaname)
        };
        Some(RelationName { schema, name: cstr(rv.relname)? })
    }
}

/// A qualified name given as a list of `String` nodes (`[schema,] name`).
///
/// # Safety
/// `list` must be null or a valid list of nodes.
pub unsafe fn name_list(list: *mut pg_sys::List) -> Option<RelationName> {
    // SAFETY: valid list per the caller.
    let parts: Vec<String> =
        unsafe { list_nodes(list) }.into_iter().filter_map(|n| unsafe { string_value(n) }).collect();
    match parts.as_slice() {
        [name] => Some(RelationName { schema: None, name: name.clone() }),
        [.., schema, name] => Some(RelationName { schema: Some(schema.clone()), name: name.clone() }),
        [] => None,
    }
}
