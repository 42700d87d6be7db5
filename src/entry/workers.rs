//! The background workers' entry points (named in `bgw_function_name`): the denial writer
//! and the sealer.

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::ffi::worker;

/// The denial writer: commits the denial its session passed in a shared segment.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn fence_denial_worker(arg: pg_sys::Datum) {
    // SAFETY: the start of the denial writer's entry point, with its argument.
    let Some(job) = (unsafe { worker::denial_job(arg) }) else { return };
    crate::chain::outside::write(&job.payload, job.owner, job.chain, || job.parked(), || job.chained());
}

/// The sealer of this database's tracked row changes.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn fence_seal_worker(arg: pg_sys::Datum) {
    // SAFETY: the start of the sealer's entry point, with its argument.
    unsafe { worker::sealer_start(arg) };
    crate::rows::seal::run_worker();
}
