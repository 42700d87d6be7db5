//! Reading a query's rows as the executor produces them: a `DestReceiver` hands each row to a
//! Rust closure — no copy into an SPI tuple table, no conversion of values into owned Rust
//! types. The sealer reads every new change at each seal and verification every stored
//! change, so what a row costs on its way to Rust counts.

use std::ffi::CString;

use pgrx::datum::DatumWithOid;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;

use super::compat::attribute;
use super::xact::unix_us_of;

/// One row of the query; its values live until the closure returns.
pub struct Row {
    slot: *mut pg_sys::TupleTableSlot,
    /// Where detoasted values go (reset before each row).
    scratch: pg_sys::MemoryContext,
}

fn internal(message: String) -> ! {
    super::error::internal(message).raise()
}

impl Row {
    /// The value of a column (0-based), checked to be of type `expected`; None = NULL.
    fn datum(&self, column: usize, expected: pg_sys::Oid) -> Option<pg_sys::Datum> {
        // SAFETY: the slot is the executor's current one, all its attributes deformed by
        // `receive`; the column is checked against the slot's descriptor before it is read.
        unsafe {
            let slot = &*self.slot;
            if column >= slot.tts_nvalid as usize {
                internal(format!("query row has no column {}", column + 1));
            }
            let actual = attribute(slot.tts_tupleDescriptor, column).atttypid;
            if actual != expected {
                internal(format!(
                    "query column {} is of type {}, not {}",
                    column + 1,
                    actual.to_u32(),
                    expected.to_u32()
                ));
            }
            (!*slot.tts_isnull.add(column)).then(|| *slot.tts_values.add(column))
        }
    }

    /// The position of the column named `name`, if the query returns one.
    pub fn position(&self, name: &str) -> Option<usize> {
        // SAFETY: the slot's descriptor is valid while the row is.
        unsafe { super::compat::attribute_number((*self.slot).tts_tupleDescriptor, name, None) }
            .map(|number| number as usize - 1)
    }

    pub fn int8(&self, column: usize) -> Option<i64> {
        self.datum(column, pg_sys::INT8OID).map(|d| d.value() as i64)
    }

    pub fn int4(&self, column: usize) -> Option<i32> {
        self.datum(column, pg_sys::INT4OID).map(|d| d.value() as i32)
    }

    pub fn oid(&self, column: usize) -> Option<pg_sys::Oid> {
        self.datum(column, pg_sys::OIDOID).map(|d| pg_sys::Oid::from(d.value() as u32))
    }

    /// A `timestamptz`, in microseconds since the Unix epoch.
    pub fn timestamptz_unix_us(&self, column: usize) -> Option<i64> {
        self.datum(column, pg_sys::TIMESTAMPTZOID).map(|d| unix_us_of(d.value() as i64))
    }

    /// The heap block of a `tid`.
    pub fn tid_block(&self, column: usize) -> Option<u32> {
        self.datum(column, pg_sys::TIDOID).map(|d| {
            // SAFETY: a tid datum points to an ItemPointerData in the slot's memory.
            let tid = unsafe { *d.cast_mut_ptr::<pg_sys::ItemPointerData>() };
            pgrx::itemptr::item_pointer_get_both(tid).0
        })
    }

    /// A `text` value, borrowed from the row (detoasted into the row's scratch memory when it
    /// is compressed or stored out of line).
    pub fn text(&self, column: usize) -> Option<&str> {
        let datum = self.datum(column, pg_sys::TEXTOID)?;
        // SAFETY: a text datum is a varlena; a compressed or external one is detoasted into the
        // scratch context, which lives until the next row (as long as the borrow).
        let bytes = unsafe {
            let mut value = datum.cast_mut_ptr::<pg_sys::varlena>();
            if pgrx::varlena::varatt_is_1b_e(value) || pgrx::varlena::varatt_is_4b_c(value) {
                let previous = pg_sys::MemoryContextSwitchTo(self.scratch);
                value = pg_sys::pg_detoast_datum_packed(value);
                pg_sys::MemoryContextSwitchTo(previous);
            }
            pgrx::varlena::varlena_to_byte_slice(value)
        };
        Some(
            std::str::from_utf8(bytes)
                .unwrap_or_else(|_| internal(format!("query column {} is not UTF-8", column + 1))),
        )
    }
}

/// The receiver the executor sends rows to: PostgreSQL's `DestReceiver` first, then ours.
#[repr(C)]
struct Receiver<'a> {
    base: pg_sys::DestReceiver,
    each: &'a mut dyn FnMut(&Row) -> bool,
    scratch: pg_sys::MemoryContext,
}

#[pg_guard]
unsafe extern "C-unwind" fn receive(slot: *mut pg_sys::TupleTableSlot, this: *mut pg_sys::DestReceiver) -> bool {
    // SAFETY: `this` is the `base` of the Receiver `for_each_row` gave the executor (repr(C),
    // first field), alive for the whole execution; the slot is the executor's current row.
    let receiver = unsafe {
        let receiver = &mut *this.cast::<Receiver>();
        pg_sys::MemoryContextReset(receiver.scratch);
        pg_sys::slot_getallattrs(slot);
        receiver
    };
    (receiver.each)(&Row { slot, scratch: receiver.scratch })
}

#[pg_guard]
unsafe extern "C-unwind" fn nothing_to_start(
    _this: *mut pg_sys::DestReceiver,
    _operation: i32,
    _desc: pg_sys::TupleDesc,
) {
}

#[pg_guard]
unsafe extern "C-unwind" fn nothing_to_end(_this: *mut pg_sys::DestReceiver) {}

/// How a streamed query runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// With the active snapshot (the caller's), not a new one, and writing nothing.
    pub read_only: bool,
    /// Through a plan kept for the backend's life (a query run at every commit), not one
    /// planned for these parameter values (a query whose best plan depends on them).
    pub keep_plan: bool,
}

thread_local! {
    /// Kept plans, by the query text's address (queries are `&'static str`).
    static KEPT: std::cell::RefCell<std::collections::HashMap<usize, pg_sys::SPIPlanPtr>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Runs `query` (inside the caller's SPI connection, with `params` as `$1`, `$2`, ...)
/// and calls `each` with every row it returns, in order, until `each` returns false. Unless
/// `read_only`, the query runs with a new snapshot (READ COMMITTED: it sees every transaction
/// committed before it starts).
pub fn for_each_row(
    _connected: &SpiClient<'_>,
    query: &'static str,
    params: &[DatumWithOid<'_>],
    options: Options,
    mut each: impl FnMut(&Row) -> bool,
) {
    let plan = plan_of(query, params, options.keep_plan);
    let params = param_list(params);
    // SAFETY: a child of the current memory context, deleted below (or with its parent on
    // error).
    let scratch = unsafe {
        pg_sys::AllocSetContextCreateExtended(
            pg_sys::CurrentMemoryContext,
            c"fence row stream".as_ptr(),
            pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
            pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
            pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
        )
    };
    let mut receiver = Receiver {
        base: pg_sys::DestReceiver {
            receiveSlot: Some(receive),
            rStartup: Some(nothing_to_start),
            rShutdown: Some(nothing_to_end),
            rDestroy: Some(nothing_to_end),
            mydest: pg_sys::CommandDest::DestNone,
        },
        each: &mut each,
        scratch,
    };
    let options = pg_sys::SPIExecuteOptions {
        params,
        read_only: options.read_only,
        allow_nonatomic: false,
        must_return_tuples: false,
        tcount: 0,
        dest: std::ptr::addr_of_mut!(receiver.base),
        owner: std::ptr::null_mut(),
    };
    // SAFETY: SPI is connected (the caller holds its client); the plan and the parameters are
    // SPI's (see `plan_of`); the receiver lives on this stack for the whole execution.
    let status = unsafe { pg_sys::SPI_execute_plan_extended(plan, &options) };
    // SAFETY: the context made above, no longer used.
    unsafe { pg_sys::MemoryContextDelete(scratch) };
    if status < 0 {
        internal(format!("query failed (SPI code {status})"));
    }
}

/// The plan of `query` for parameters of these types: kept ones for the backend's life (the
/// plan cache re-plans them when the tables they name change), others in SPI's memory until
/// SPI_finish.
fn plan_of(query: &'static str, params: &[DatumWithOid<'_>], keep: bool) -> pg_sys::SPIPlanPtr {
    let key = query.as_ptr() as usize;
    if let Some(plan) = KEPT.with(|k| k.borrow().get(&key).copied()).filter(|_| keep) {
        return plan;
    }
    let text = CString::new(query).unwrap_or_else(|_| internal("query text holds a NUL byte".into()));
    let mut types: Vec<pg_sys::Oid> = params.iter().map(DatumWithOid::oid).collect();
    // SAFETY: SPI is connected (the callers hold its client); the text and types are read.
    let plan = unsafe { pg_sys::SPI_prepare(text.as_ptr(), types.len() as i32, types.as_mut_ptr()) };
    if plan.is_null() {
        // SAFETY: SPI's result code of the failed call.
        let code = unsafe { pg_sys::SPI_result };
        internal(format!("query could not be prepared (SPI code {code})"));
    }
    // SAFETY: a plan SPI_prepare just made.
    if keep && unsafe { pg_sys::SPI_keepplan(plan) } == 0 {
        KEPT.with(|k| k.borrow_mut().insert(key, plan));
    }
    plan
}

/// A parameter list of the values, in the current memory context.
fn param_list(values: &[DatumWithOid<'_>]) -> pg_sys::ParamListInfo {
    let count = values.len();
    // SAFETY: makeParamList allocates `count` parameter slots, each set here.
    unsafe {
        let params = pg_sys::makeParamList(count as i32);
        for (slot, value) in (*params).params.as_mut_slice(count).iter_mut().zip(values) {
            let datum = value.datum();
            *slot = pg_sys::ParamExternData {
                isnull: datum.is_none(),
                value: datum.map_or(pg_sys::Datum::from(0), |d| d.sans_lifetime()),
                pflags: pg_sys::PARAM_FLAG_CONST as u16,
                ptype: value.oid(),
            };
        }
        params
    }
}
