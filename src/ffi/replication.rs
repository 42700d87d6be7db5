//! A logical replication connection to another server, for the fleet's set-up: `CREATE
//! SUBSCRIPTION` may create its slot only outside a transaction block (the slot cannot be
//! rolled back), so fence's set-up functions create the slot themselves, first, through the
//! walreceiver library the server uses for it, and ask the other end who it is.

use std::ffi::{CStr, CString};

use pgrx::pg_sys;

/// Whether this process is a logical replication worker (a subscription's apply or
/// table-synchronization worker).
pub fn in_logical_worker() -> bool {
    // SAFETY: reads this process's worker state.
    unsafe { pg_sys::IsLogicalWorker() }
}

/// An open replication connection; closed when dropped (also when an ERROR unwinds through
/// its owner: libpq's connection is not in any memory context).
pub struct Remote {
    conn: *mut pg_sys::WalReceiverConn,
    functions: &'static pg_sys::WalReceiverFunctionsType,
}

fn c_string(text: &str) -> Result<CString, String> {
    CString::new(text).map_err(|_| format!("{text:?} contains a NUL byte"))
}

/// A message the library left (palloc'd), or a default.
fn message(err: *const std::ffi::c_char, default: &str) -> String {
    if err.is_null() {
        return default.to_string();
    }
    // SAFETY: a NUL-terminated message from the library, read before anything frees it.
    unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned()
}

impl Remote {
    /// Connects to `conninfo` as a logical replication client (a database connection that also
    /// runs plain queries).
    pub fn connect(conninfo: &str) -> Result<Remote, String> {
        let conninfo = c_string(conninfo)?;
        // SAFETY: loads the server's own walreceiver library (as CREATE SUBSCRIPTION does); its
        // _PG_init fills the function table WalReceiverFunctions points to, which lives as long
        // as the process.
        let functions = unsafe {
            pg_sys::ffi::pg_guard_ffi_boundary(|| pg_sys::load_file(c"libpqwalreceiver".as_ptr(), false));
            pg_sys::WalReceiverFunctions.as_ref()
        };
        let functions = functions.ok_or("the server's walreceiver library did not load")?;
        let connect = functions.walrcv_connect.ok_or("the walreceiver library has no connect function")?;
        let appname = c"fence";
        let mut err: *mut std::ffi::c_char = std::ptr::null_mut();
        // SAFETY: both strings outlive the call; the library returns a connection or NULL with
        // `err` set; an ERROR it raises crosses into Rust through pgrx's FFI guard.
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
            return Err(message(err, "could not connect"));
        }
        Ok(Remote { conn, functions })
    }

    /// The other server's system identifier (IDENTIFY_SYSTEM).
    pub fn system_identifier(&self) -> Result<String, String> {
        let identify = self.functions.walrcv_identify_system.ok_or("the walreceiver library cannot identify")?;
        let mut timeline: pg_sys::TimeLineID = 0;
        // SAFETY: `conn` is live; the result is a palloc'd string (or an ERROR, guarded).
        let id = unsafe { pg_sys::ffi::pg_guard_ffi_boundary(|| identify(self.conn, &mut timeline)) };
        Ok(message(id, ""))
    }

    /// The first row of a query on the other database, each column as text (None: NULL).
    pub fn query_row(&self, sql: &str, columns: usize) -> Result<Vec<Option<String>>, String> {
        let exec = self.functions.walrcv_exec.ok_or("the walreceiver library cannot run queries")?;
        let sql = c_string(sql)?;
        let types = vec![pg_sys::TEXTOID; columns];
        // SAFETY: `conn` is live; the types array has `columns` entries and outlives the call.
        let result = unsafe {
            pg_sys::ffi::pg_guard_ffi_boundary(|| exec(self.conn, sql.as_ptr(), columns as i32, types.as_ptr()))
        };
        // SAFETY: the library returns a palloc'd result.
        let Some(result) = (unsafe { result.as_mut() }) else { return Err("no result".into()) };
        let row = if result.status == pg_sys::WalRcvExecStatus::WALRCV_OK_TUPLES {
            Ok(first_row(result, columns))
        } else {
            Err(message(result.err, "the query failed"))
        };
        // SAFETY: frees the result made above, once.
        unsafe { pg_sys::ffi::pg_guard_ffi_boundary(|| pg_sys::walrcv_clear_result(result)) };
        row
    }

    /// Creates the logical replication slot `slot` (pgoutput). It waits for the transactions
    /// running on that server: call it before this transaction writes anything.
    pub fn create_slot(&self, slot: &str) -> Result<(), String> {
        let create = self.functions.walrcv_create_slot.ok_or("the walreceiver library cannot create slots")?;
        let slot = c_string(slot)?;
        let mut lsn: pg_sys::XLogRecPtr = 0;
        let noexport = pg_sys::CRSSnapshotAction::CRS_NOEXPORT_SNAPSHOT;
        // SAFETY: `conn` is live and the slot name outlives the call; an ERROR (the slot exists,
        // no permission) crosses into Rust through pgrx's FFI guard, and dropping self closes
        // the connection.
        unsafe {
            pg_sys::ffi::pg_guard_ffi_boundary(|| {
                #[cfg(any(feature = "pg15", feature = "pg16"))]
                create(self.conn, slot.as_ptr(), false, false, noexport, &mut lsn);
                #[cfg(any(feature = "pg17", feature = "pg18"))]
                create(self.conn, slot.as_ptr(), false, false, false, noexport, &mut lsn);
            })
        };
        Ok(())
    }

    /// Drops the replication slot `slot` (after a set-up failed behind it).
    pub fn drop_slot(&self, slot: &str) -> Result<(), String> {
        let quoted = slot.replace('"', "\"\"");
        let exec = self.functions.walrcv_exec.ok_or("the walreceiver library cannot run commands")?;
        let command = c_string(&format!("DROP_REPLICATION_SLOT \"{quoted}\" WAIT"))?;
        // SAFETY: `conn` is live; a command returns no tuples.
        let result =
            unsafe { pg_sys::ffi::pg_guard_ffi_boundary(|| exec(self.conn, command.as_ptr(), 0, std::ptr::null())) };
        // SAFETY: the library returns a palloc'd result (or NULL).
        let Some(result) = (unsafe { result.as_mut() }) else { return Err("no result".into()) };
        let outcome = if result.status == pg_sys::WalRcvExecStatus::WALRCV_ERROR {
            Err(message(result.err, "could not drop the slot"))
        } else {
            Ok(())
        };
        // SAFETY: frees the result made above, once.
        unsafe { pg_sys::ffi::pg_guard_ffi_boundary(|| pg_sys::walrcv_clear_result(result)) };
        outcome
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        if let Some(disconnect) = self.functions.walrcv_disconnect {
            // SAFETY: closes the connection made in `connect`, once (drop runs once).
            unsafe { pg_sys::ffi::pg_guard_ffi_boundary(|| disconnect(self.conn)) };
        }
    }
}

/// The first row of a tuple result, as text.
fn first_row(result: &mut pg_sys::WalRcvExecResult, columns: usize) -> Vec<Option<String>> {
    // SAFETY: the result's tuplestore and descriptor are the library's, alive until the result
    // is cleared; the slot is made for that descriptor and dropped here; text columns (asked
    // for as TEXTOID) are read as text.
    unsafe {
        pg_sys::ffi::pg_guard_ffi_boundary(|| {
            let slot = pg_sys::MakeSingleTupleTableSlot(result.tupledesc, &pg_sys::TTSOpsMinimalTuple);
            let mut row = Vec::with_capacity(columns);
            if pg_sys::tuplestore_gettupleslot(result.tuplestore, true, false, slot) {
                for column in 1..=columns as i32 {
                    let mut null = false;
                    let value = pg_sys::slot_getattr(slot, column, &mut null);
                    row.push((!null).then(|| {
                        let text = pg_sys::text_to_cstring(value.cast_mut_ptr());
                        CStr::from_ptr(text).to_string_lossy().into_owned()
                    }));
                }
            }
            pg_sys::ExecDropSingleTupleTableSlot(slot);
            row
        })
    }
}
