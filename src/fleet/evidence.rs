//! The evidence database's check of every chain that reached it: each one recomputed from
//! its first event on, as `verify_chain()` does on the database it came from.

use crate::chain::verify;
use crate::db::owner::as_owner;
use crate::db::{self, queries};

/// One database's chain as the evidence database holds it.
pub struct Verified {
    pub database_id: String,
    pub database_name: String,
    pub ok: bool,
    pub checked: i64,
    pub first_bad_seq: Option<i64>,
    pub reason: Option<String>,
    pub head_hash: String,
}

/// Every collected chain, verified.
pub fn verify_all() -> Vec<Verified> {
    as_owner(|| {
        let databases =
            db::select(queries::FLEET_DATABASES, &[], |row| (row.text("database_id"), row.text("database_name")));
        databases
            .into_iter()
            .map(|(database_id, database_name)| {
                let args = [database_id.as_str().into()];
                let mut result = verify::events(queries::FLEET_CHAIN_ROWS, &args, None, |_| ());
                let conflicts = db::select_first(queries::FLEET_CONFLICTS_FIRST, &args, |row| {
                    (row.get::<i64>("seq"), row.get::<i64>("events").unwrap_or_default())
                });
                if let (true, Some((Some(seq), events))) = (result.ok, conflicts) {
                    result.ok = false;
                    result.first_bad_seq = Some(seq);
                    result.reason = Some(format!(
                        "event {seq} arrived again with another hash ({events} such event(s) in fence.fleet_conflicts): the database cut or rewrote its chain from there"
                    ));
                }
                Verified {
                    database_id,
                    database_name,
                    ok: result.ok,
                    checked: result.checked,
                    first_bad_seq: result.first_bad_seq,
                    reason: result.reason,
                    head_hash: result.head_hash,
                }
            })
            .collect()
    })
}
