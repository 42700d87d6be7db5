//! The CLI agrees with the extension: the shared content-hash vectors, and chains exported
//! as CSV verify (and fail when tampered with) with the same hashing code.

use fence_cli::{hash_files, verify_csv};
use fence_core::chain::{Anchor, AuditEvent, GENESIS_HASH};
use serde_json::json;

#[test]
fn content_hash_vectors() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../fence-core/tests/vectors.json")).unwrap();
    let vectors: serde_json::Value = serde_json::from_str(&text).unwrap();
    for vector in vectors.as_array().unwrap() {
        let sql = vector["sql"].as_str().unwrap();
        assert_eq!(
            hash_files::content_hash(sql).unwrap(),
            vector["content_hash"].as_str().unwrap(),
            "{}",
            vector["name"]
        );
    }
    assert!(hash_files::content_hash("SELECT 'unterminated").unwrap_err().contains("unterminated"));
}

fn event(seq: i64) -> AuditEvent {
    AuditEvent {
        seq,
        time_us: 1_790_000_000_000_000 + seq,
        kind: "ddl".into(),
        session_role: "ci".into(),
        executing_role: "ci".into(),
        txid: Some(900 + seq),
        command_tag: Some("ALTER TABLE".into()),
        relation: (seq % 2 == 0).then(|| "public.users".to_string()),
        statement: Some(format!("ALTER TABLE users ADD COLUMN c{seq} text DEFAULT 'a,\"b\"'\n")),
        statement_hash: None,
        content_hash: None,
        decision: Some("allow".into()),
        reason: Some("below_threshold".into()),
        risk: Some("low".into()),
        policy_version: Some(1),
        policy_hash: None,
        details: json!({"claims": {"actor": "octocat"}, "locks": [{"mode": "AccessExclusiveLock"}]}),
    }
}

/// Writes events the way `COPY ... (FORMAT csv, HEADER)` does: NULL as an empty field.
fn export(n: i64) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "seq",
        "time_us",
        "kind",
        "session_role",
        "executing_role",
        "txid",
        "command_tag",
        "relation",
        "statement",
        "statement_hash",
        "content_hash",
        "decision",
        "reason",
        "risk",
        "policy_version",
        "policy_hash",
        "details",
        "prev_hash",
        "event_hash",
        "approver",
    ])
    .unwrap();
    let mut prev = GENESIS_HASH.to_string();
    for seq in 1..=n {
        let e = event(seq);
        let hash = e.hash(&prev);
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        out.write_record([
            e.seq.to_string(),
            e.time_us.to_string(),
            e.kind.clone(),
            e.session_role.clone(),
            e.executing_role.clone(),
            e.txid.map(|t| t.to_string()).unwrap_or_default(),
            opt(&e.command_tag),
            opt(&e.relation),
            opt(&e.statement),
            opt(&e.statement_hash),
            opt(&e.content_hash),
            opt(&e.decision),
            opt(&e.reason),
            opt(&e.risk),
            e.policy_version.map(|v| v.to_string()).unwrap_or_default(),
            opt(&e.policy_hash),
            e.details.to_string(),
            prev.clone(),
            hash.clone(),
            String::new(),
        ])
        .unwrap();
        prev = hash;
    }
    String::from_utf8(out.into_inner().unwrap()).unwrap()
}

#[test]
fn an_export_verifies_and_tampering_fails() {
    let csv_text = export(6);
    let rows = verify_csv::read(csv_text.as_bytes()).unwrap();
    let (v, _) = verify_csv::verify(&rows, None, false);
    assert!(v.ok, "{v:?}");
    assert_eq!(v.checked, 6);

    let tampered = csv_text.replace("c3 text", "c3 bigint");
    let (v, _) = verify_csv::verify(&verify_csv::read(tampered.as_bytes()).unwrap(), None, false);
    assert_eq!((v.ok, v.first_bad_seq), (false, Some(3)));

    let anchor: Anchor = format!("6:{}", rows[5].event_hash).parse().unwrap();
    let (v, _) = verify_csv::verify(&rows[..4], Some(anchor), false);
    assert!(v.reason.unwrap().contains("tail cut"));
}

#[test]
fn a_filtered_export_verifies_as_segments() {
    let rows = verify_csv::read(export(8).as_bytes()).unwrap();
    let filtered: Vec<_> = rows.into_iter().filter(|r| r.event.seq % 3 != 0).collect();
    assert!(!verify_csv::verify(&filtered, None, false).0.ok);
    let (v, gaps) = verify_csv::verify(&filtered, None, true);
    assert!(v.ok);
    assert_eq!(gaps, vec![(3, 3), (6, 6)]);
}

#[test]
fn the_report_shows_verification_and_counts() {
    use fence_cli::report::Report;
    let rows = verify_csv::read(export(5).as_bytes()).unwrap();
    let (verification, gaps) = verify_csv::verify(&rows, None, true);
    let report = Report { source: "evidence.csv".into(), rows: &rows, verification, gaps, anchor: None };
    let html = report.html();
    assert!(html.contains(r#"data-verified="true" data-events="5" data-decisions="5" data-denials="0" data-risky="0""#));
    assert!(html.contains("Chain verified: 5 events"));
    assert!(!html.contains("<script"), "the page is static");

    let tampered = export(5).replace("c2 text", "c2 <b>bold</b>");
    let rows = verify_csv::read(tampered.as_bytes()).unwrap();
    let (verification, gaps) = verify_csv::verify(&rows, None, true);
    let html = Report { source: "x.csv".into(), rows: &rows, verification, gaps, anchor: None }.html();
    assert!(html.contains("verification FAILED at event 2"));
    assert!(!html.contains("<b>bold</b>"), "cells are escaped");
}

/// The analysis vectors shared with the extension's regress suite (pg_test/sql/analyze.sql):
/// the CLI's offline analysis and fence.analyze() agree on lock, risk and rules.
#[test]
fn analysis_vectors() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../fence-core/tests/analysis_vectors.json"))
            .unwrap();
    let vectors: serde_json::Value = serde_json::from_str(&text).unwrap();
    for vector in vectors.as_array().unwrap() {
        let rows = fence_cli::analyze_files::analyze_sql("vector.sql", vector["sql"].as_str().unwrap()).unwrap();
        let expected = vector["statements"].as_array().unwrap();
        assert_eq!(rows.len(), expected.len(), "{}", vector["name"]);
        for (row, want) in rows.iter().zip(expected) {
            let rules: Vec<&str> = row
                .analysis
                .findings
                .iter()
                .filter(|f| f.risk > fence_core::risk::Risk::None)
                .map(|f| f.rule)
                .collect();
            assert_eq!(
                row.analysis.lock_mode.map(|m| m.pg_name()),
                want["lock_mode"].as_str(),
                "{}: {}",
                vector["name"],
                row.text
            );
            assert_eq!(row.analysis.risk.as_str(), want["risk"].as_str().unwrap(), "{}: {}", vector["name"], row.text);
            assert_eq!(rules.join(","), want["rules"].as_str().unwrap(), "{}: {}", vector["name"], row.text);
        }
    }
}

#[test]
fn analyze_reports_syntax_errors_with_their_position() {
    let error = fence_cli::analyze_files::analyze_sql("bad.sql", "ALTER TABLE users ALTER COLUMN;").err().unwrap();
    assert!(error.contains("bad.sql") && error.contains("syntax error"), "{error}");
}

/// `--pg-version`: syntax the assumed version refuses is named with the version it needs;
/// the safe rewrites follow the version; a virtual column and NOT ENFORCED check nothing.
#[test]
fn the_assumed_postgresql_version_decides_syntax_and_recipes() {
    use fence_cli::analyze_files::analyze_sql_for;
    let sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;
               ALTER TABLE users ADD CONSTRAINT users_email_nn NOT NULL email NOT VALID;
               ALTER TABLE orders ADD COLUMN t2 numeric GENERATED ALWAYS AS (price * 3);
               MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v RETURNING t.*;
               ALTER TABLE orders ADD CONSTRAINT orders_fk FOREIGN KEY (c) REFERENCES customers (id) NOT ENFORCED;";
    let needs = |version| -> Vec<Option<u32>> {
        analyze_sql_for("m.sql", sql, version).unwrap().iter().map(|r| r.needs.map(|(v, _)| v)).collect()
    };
    assert_eq!(needs(15), [None, Some(18), Some(18), Some(17), Some(18)]);
    assert_eq!(needs(17), [None, Some(18), Some(18), None, Some(18)]);
    assert_eq!(needs(18), [None, None, None, None, None]);
    let rows = analyze_sql_for("m.sql", sql, 18).unwrap();
    let recipe = |rows: &[fence_cli::analyze_files::Row]| rows[0].analysis.findings[0].safe_rewrite;
    assert!(recipe(&rows).contains("NOT NULL col NOT VALID"), "{}", recipe(&rows));
    assert!(recipe(&analyze_sql_for("m.sql", sql, 17).unwrap()).contains("CHECK (col IS NOT NULL) NOT VALID"));
    for row in &rows[1..] {
        assert!(!row.analysis.rewrites && !row.analysis.scans, "{}", row.text);
    }
}

/// The command line's conventions: `--version`, generated help, completions, `-` for standard
/// input, a directory's files in migration order, a closed output pipe ending it quietly, and
/// the documented exit codes.
#[test]
fn command_line_conventions() {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let fence = env!("CARGO_BIN_EXE_fence");
    let run = |args: &[&str]| Command::new(fence).args(args).output().unwrap();
    let version = run(&["--version"]);
    assert!(version.status.success());
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("fence {}", env!("CARGO_PKG_VERSION")));
    assert!(String::from_utf8_lossy(&run(&["analyze", "--help"]).stdout).contains("--max-risk"));
    assert!(String::from_utf8_lossy(&run(&["completions", "bash"]).stdout).contains("_fence"));
    assert_eq!(run(&["analyze", "--format", "xml", "x.sql"]).status.code(), Some(2));
    assert_eq!(run(&["analyze"]).status.code(), Some(2));

    let dir = std::env::temp_dir().join(format!("fence-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("V10__second.sql"), "ALTER TABLE a ADD COLUMN b int;\n").unwrap();
    std::fs::write(dir.join("V2__first.sql"), "CREATE INDEX a_c ON a (c);\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "not SQL").unwrap();
    std::fs::write(dir.join("R__views.sql"), "CREATE OR REPLACE VIEW v AS SELECT 1;\n").unwrap();
    std::fs::write(dir.join("V3__third.down.sql"), "DROP TABLE a;\n").unwrap();
    let listed = String::from_utf8_lossy(&run(&["hash", dir.to_str().unwrap()]).stdout).into_owned();
    let first = listed.find("V2__first.sql").unwrap();
    let second = listed.find("V10__second.sql").unwrap();
    let repeatable = listed.find("R__views.sql").unwrap();
    assert!(first < second && second < repeatable, "{listed}");
    assert!(!listed.contains("notes.txt") && !listed.contains(".down.sql"), "{listed}");
    assert_eq!(run(&["analyze", dir.to_str().unwrap(), "--max-risk", "low"]).status.code(), Some(1));

    let mut child =
        Command::new(fence).args(["hash", "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"CREATE INDEX a_c ON a (c);").unwrap();
    let stdin_hash = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    let file_hash = String::from_utf8(run(&["hash", dir.join("V2__first.sql").to_str().unwrap()]).stdout).unwrap();
    assert_eq!(stdin_hash.split_whitespace().next(), file_hash.split_whitespace().next());

    // A reader that stops after one line: fence ends quietly, with status 0.
    let big = dir.join("big.sql");
    std::fs::write(&big, "ALTER TABLE a ADD COLUMN b int;\n".repeat(5000)).unwrap();
    let mut child = Command::new(fence)
        .args(["analyze", big.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_bytes = [0u8; 16];
    child.stdout.as_mut().unwrap().read_exact(&mut first_bytes).unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success() && stderr.is_empty(), "{status:?} {stderr}");
    // ... with the verdict as its status when the report is cut short.
    let mut child = Command::new(fence)
        .args(["analyze", big.to_str().unwrap(), "--max-risk", "none"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdout.as_mut().unwrap().read_exact(&mut first_bytes).unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// fence.toml (found upward, or --config), flags over it, inline ignores with their reasons,
/// --assume-in-transaction, GitLab output and colour only when asked.
#[test]
fn configuration_ignores_and_formats() {
    use std::process::Command;
    let fence = env!("CARGO_BIN_EXE_fence");
    let dir = std::env::temp_dir().join(format!("fence-cli-config-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("db/migrations")).unwrap();
    let file = dir.join("db/migrations/V1__m.sql");
    std::fs::write(
        &file,
        "-- fence:ignore create_index built while the table is empty\nCREATE INDEX a_b ON a (b);\n\
         ALTER TABLE a ADD COLUMN c int; -- fence:ignore access_exclusive_lock lock_timeout is set\n\
         SELECT '-- fence:ignore create_index not a comment';\nCREATE INDEX CONCURRENTLY a_c ON a (c);\n",
    )
    .unwrap();
    let run = |args: &[&str], cwd: &std::path::Path| {
        let out = Command::new(fence).args(args).current_dir(cwd).env_remove("NO_COLOR").output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let json = |args: &[&str], cwd: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&run(args, cwd).1).unwrap()
    };
    let path = file.to_str().unwrap();

    // Inline ignores: the findings leave the risk, kept with their reasons.
    let rows = json(&["analyze", "--format", "json", path], &dir);
    assert_eq!(rows[0]["risk"], "none");
    assert_eq!(rows[0]["ignored"][0]["rule"], "create_index");
    assert_eq!(rows[0]["ignored"][0]["reason"], "built while the table is empty");
    assert_eq!(rows[1]["ignored"][0]["reason"], "lock_timeout is set");
    assert_eq!(rows[2]["ignored"].as_array().unwrap().len(), 0, "a string is no comment");
    assert_eq!(rows[3]["risk"], "none", "CONCURRENTLY outside a transaction block");
    // In a transaction block (as psql -1, Flyway, Rails run a migration), CONCURRENTLY fails.
    let rows = json(&["analyze", "--format", "json", "--assume-in-transaction", path], &dir);
    assert_eq!(rows[3]["findings"][0]["rule"], "concurrently_in_transaction");

    // fence.toml, found from a directory below it; flags win over it.
    std::fs::write(
        dir.join("fence.toml"),
        "max_risk = \"low\"\nformat = \"gitlab\"\nassume_in_transaction = true\npg_version = 16\n",
    )
    .unwrap();
    let (code, out, _) = run(&["analyze", path], &dir.join("db/migrations"));
    assert_eq!(code, Some(1), "max_risk from fence.toml");
    let issues: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(issues[0]["check_name"], "concurrently_in_transaction");
    assert_eq!(issues[0]["severity"], "major");
    assert_eq!(issues[0]["location"]["lines"]["begin"], 5);
    assert_eq!(issues[0]["fingerprint"].as_str().unwrap().len(), 64);
    let (code, out, _) = run(&["analyze", "--format", "text", "--max-risk", "high", path], &dir.join("db"));
    assert_eq!(code, Some(0), "the flag wins over fence.toml");
    assert!(out.contains("PostgreSQL 16") && out.contains("fence.toml"), "{out}");
    // A mistake in it is an error (exit 2) naming the file; --config names another.
    std::fs::write(dir.join("other.toml"), "exclude_rules = [\"create_idx\"]\n").unwrap();
    let (code, _, err) = run(&["analyze", "--config", "other.toml", path], &dir);
    assert_eq!(code, Some(2));
    assert!(err.contains("other.toml") && err.contains("unknown rule \"create_idx\""), "{err}");
    std::fs::remove_file(dir.join("fence.toml")).unwrap();

    // An ignore without a reason, or of an unknown rule, is an error with its line.
    std::fs::write(dir.join("bad.sql"), "SELECT 1;\n-- fence:ignore create_index\nCREATE INDEX x ON a (b);\n").unwrap();
    let (code, _, err) = run(&["analyze", "bad.sql"], &dir);
    assert_eq!(code, Some(2));
    assert!(err.contains("bad.sql:2") && err.contains("give the reason"), "{err}");

    // Colour: never into a pipe unless asked, and NO_COLOR is honoured.
    let (_, plain, _) = run(&["analyze", path], &dir);
    assert!(!plain.contains('\x1b'));
    let (_, coloured, _) = run(&["analyze", "--color", "always", "--assume-in-transaction", path], &dir);
    assert!(coloured.contains("\x1b[33mmedium"), "{coloured}");
    let out = Command::new(fence).args(["analyze", "--color", "auto", path]).env("NO_COLOR", "1").output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
    std::fs::remove_dir_all(&dir).unwrap();
}
