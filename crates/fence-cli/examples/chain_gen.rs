//! A long audit chain for the benchmarks without running a million DDL statements: writes N
//! chained events (hashed by fence-core, as the extension hashes them) as CSV for
//! `COPY ... FROM STDIN (FORMAT csv)`, in the columns of `fence.audit_chain` with the time as
//! microseconds (`bench/chain_scale.sh` loads them). Each event is shaped like a DDL decision
//! of the benchmarks: findings, locks, the session, the objects the statement touched.
//!
//! Usage: cargo run --release -p fence-cli --example chain_gen -- N [AFTER_SEQ AFTER_HASH] > chain.csv
//! (AFTER_*: the head of the chain the events continue; by default a new chain).

use std::io::Write;

use fence_core::chain::{AuditEvent, GENESIS_HASH};
use serde_json::json;

fn event(seq: i64) -> AuditEvent {
    let table = format!("public.orders_{}", seq % 997);
    let risky = seq % 10 == 0;
    let findings = if risky {
        json!([{"rule": "create_index", "risk": "high", "message": format!("building an index on {table} blocks writes until it finishes"),
                "safe_rewrite": "CREATE INDEX CONCURRENTLY (outside a transaction block); if it fails, DROP INDEX CONCURRENTLY the invalid index and retry"}])
    } else {
        json!([])
    };
    AuditEvent {
        seq,
        time_us: 1_790_000_000_000_000 + seq * 1_000,
        kind: "ddl".into(),
        session_role: "ci_deployer".into(),
        executing_role: "ci_deployer".into(),
        txid: Some(100_000 + seq),
        command_tag: Some(if risky { "CREATE INDEX" } else { "CREATE TABLE" }.into()),
        relation: Some(table.clone()),
        statement: Some(if risky {
            format!("CREATE INDEX orders_{seq}_idx ON {table} (customer_id)")
        } else {
            format!("CREATE TABLE {table}_{seq} (id bigint PRIMARY KEY, customer_id bigint, note text)")
        }),
        statement_hash: Some(format!("sha256:{:064x}", seq)),
        content_hash: risky.then(|| format!("sha256:{:064x}", seq / 10)),
        decision: Some("allow".into()),
        reason: Some(if risky { "approved" } else { "below_threshold" }.into()),
        risk: Some(if risky { "high" } else { "none" }.into()),
        policy_version: Some(1),
        policy_hash: Some(format!("sha256:{:064x}", 1)),
        details: json!({
            "findings": findings,
            "locks": [{"relation": table, "mode": if risky { "ShareLock" } else { "AccessExclusiveLock" }}],
            "rewrites": false,
            "scans": risky,
            "unknown": false,
            "explanation": if risky { "approval 12 covers it" } else { "risk none is below the approval threshold (high)" },
            "text_source": "client",
            "claims": {"repository": "acme/shop", "pull_request": "4711"},
            "session": {"application_name": "migrate", "client_addr": "10.0.0.7", "backend_pid": 4242},
            "objects": [{"command_tag": "CREATE TABLE", "object_type": "table", "schema": "public", "identity": format!("{table}_{seq}")}],
            "rewrite_prediction": "matched",
        }),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: i64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let after: i64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0);
    let stdout = std::io::stdout();
    let mut out = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, stdout.lock()));
    let mut prev = args.get(3).cloned().unwrap_or_else(|| GENESIS_HASH.to_string());
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    for seq in after + 1..=after + n {
        let e = event(seq);
        let hash = e.hash(&prev);
        out.write_record([
            e.seq.to_string(),
            e.time_us.to_string(),
            e.kind.clone(),
            e.session_role.clone(),
            e.executing_role.clone(),
            e.txid.map(|t| t.to_string()).unwrap_or_default(),
            text(&e.command_tag),
            text(&e.relation),
            text(&e.statement),
            text(&e.statement_hash),
            text(&e.content_hash),
            text(&e.decision),
            text(&e.reason),
            text(&e.risk),
            e.policy_version.map(|v| v.to_string()).unwrap_or_default(),
            text(&e.policy_hash),
            e.details.to_string(),
            prev.clone(),
            hash.clone(),
        ])
        .expect("write");
        prev = hash;
    }
    out.flush().expect("flush");
    let _ = std::io::stderr().write_all(format!("{n} events, head {prev}\n").as_bytes());
}
