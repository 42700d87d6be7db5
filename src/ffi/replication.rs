//! Logical replication slots on another server, for the fleet's subscriptions: `CREATE
//! SUBSCRIPTION` may create its slot only outside a transaction block (the slot cannot be
//! rolled back), so fence's set-up functions subscribe with `create_slot = false` and create
//! the slot themselves, last, through the walreceiver library the server uses for it.

use std::ffi::{CStr, CString};

use pgrx::pg_sys;

/// Connects to `conninfo` as a logical replication client.
fn connect(
    conninfo: &CStr,
    functions: &pg_sys::WalReceiverFunctionsType,
) -> Result<*mut pg_sys::WalReceiverConn, String> {
    let connect = functions.walrcv_connect.ok_or("the walreceiver library has no connect function")?;
    let appname = c"fence";
    let mut err: *mut std::ffi::c_char = std::ptr::null_mut();
    // SAFETY: both strings outlive the call; the library returns a palloc'd connection or NULL
    // with `err` set; an ERROR it raises crosses into Rust through pgrx's FFI guard.
    let conn = unsafe {
        pg_sys::ffi::pg_guard_ffi_boundary(|| {
            #[cfg(feature = "pg15")]
            return connect(conninfo.as_ptr(), true, appname.as_ptr(), &mut err);
            #[cfg(feature = "pg16")]
            return connect(conninfo.as_ptr(), true, false, appname.as_ptr(), &mut err);
            #[cfg(any(feature = "pg17", feature = "pg18"))]
            return connect(conninfo.as_ptr(), true, true, false, appname.as_ptr(), &mut err);
        })
    };
    if conn.is_null() {
        // SAFETY: on failure the library sets `err` to a palloc'd message (or leaves it NULL).
        let message = unsafe { (!err.is_null()).then(|| CStr::from_ptr(err).to_string_lossy().into_owned()) };
        return Err(message.unwrap_or_else(|| "could not connect".into()));
    }
    Ok(conn)
}

/// Creates the logical replication slot `slot` (pgoutput) on the server `conninfo` names.
pub fn create_slot(conninfo: &str, slot: &str) -> Result<(), String> {
    let (conninfo, slot) = match (CString::new(conninfo), CString::new(slot)) {
        (Ok(conninfo), Ok(slot)) => (conninfo, slot),
        _ => return Err("a connection string or slot name with a NUL byte".into()),
    };
    // SAFETY: loads the server's own walreceiver library (as CREATE SUBSCRIPTION does); its
    // _PG_init fills the function table WalReceiverFunctions points to.
    let functions = unsafe {
        pg_sys::load_file(c"libpqwalreceiver".as_ptr(), false);
        pg_sys::WalReceiverFunctions.as_ref()
    };
    let functions = functions.ok_or("the server's walreceiver library did not load")?;
    let conn = connect(&conninfo, functions)?;
    let create = functions.walrcv_create_slot.ok_or("the walreceiver library cannot create slots")?;
    let disconnect = functions.walrcv_disconnect;
    let mut lsn: pg_sys::XLogRecPtr = 0;
    // SAFETY: `conn` is the live connection made above; the slot name outlives the call; an
    // ERROR (the slot exists, no permission) crosses into Rust through pgrx's FFI guard, and the
    // connection is then closed when the transaction's memory goes (libpq's socket with it).
    unsafe {
        pg_sys::ffi::pg_guard_ffi_boundary(|| {
            #[cfg(any(feature = "pg15", feature = "pg16"))]
            create(conn, slot.as_ptr(), false, false, pg_sys::CRSSnapshotAction::CRS_NOEXPORT_SNAPSHOT, &mut lsn);
            #[cfg(any(feature = "pg17", feature = "pg18"))]
            create(
                conn,
                slot.as_ptr(),
                false,
                false,
                false,
                pg_sys::CRSSnapshotAction::CRS_NOEXPORT_SNAPSHOT,
                &mut lsn,
            );
        })
    };
    if let Some(disconnect) = disconnect {
        // SAFETY: closes the connection made above, once.
        unsafe { pg_sys::ffi::pg_guard_ffi_boundary(|| disconnect(conn)) };
    }
    Ok(())
}
