//! `fence`: the command line beside the extension. It shares fence-core with it, so the
//! content hashes it prints and the chain hashes it recomputes are the extension's own.
//!
//!   fence analyze FILE... [--format ...] [--max-risk L] [--pg-version N]
//!                                                       lock analysis without a database
//!   fence hash FILE...                                  content hash of migration files
//!   fence verify-csv FILE [--anchor SEQ:HASH] [--segments]
//!                                                       re-check an exported audit chain
//!   fence verify-rows CHAIN.csv CHANGES.csv [--anchor SEQ:HASH]
//!                                                       re-check exported row changes
//!   fence report FILE.csv --html OUT.html [--anchor SEQ:HASH]
//!                                                       render a verified export as HTML

use std::process::ExitCode;

use fence_cli::{analyze_files, hash_files, report, verify_csv, verify_rows};

const USAGE: &str = "usage:
  fence analyze FILE... [--format text|json|github|sarif] [--max-risk LEVEL] [--pg-version N]
      The analysis of fence.analyze() without a database (pg_query parses): per statement
      the locks, rewrite, scan, risk and findings with safe rewrites. Each file is one
      transaction. --max-risk LEVEL exits 1 when any statement is riskier (for CI).
      --pg-version N (15-18, default 15) is the server's major version: it picks the safe
      rewrites that version allows, and a statement using syntax it refuses (MERGE ...
      RETURNING needs 17, NOT NULL ... NOT VALID 18, ...) is an error (exit 1).
  fence hash FILE...
      Print the content hash of each migration file (as fence.content_hash() computes it),
      and of all files together when there are several, in the order given.
  fence verify-csv FILE [--anchor SEQ:HASH] [--segments]
      Re-check an audit chain exported with
        COPY (SELECT * FROM fence.audit_export ORDER BY seq) TO STDOUT WITH (FORMAT csv, HEADER)
      from the file alone: every event hash, every link, seq contiguity from event 1.
      --anchor SEQ:HASH  the chain must also reach this head kept outside the database
                         (from fence.anchor()) with the same hash
      --segments         the export is filtered (fence.audit_export_range): check each
                         event's hash and the links between consecutive events, and report
                         the missing ranges instead of failing on them
  fence verify-rows CHAIN.csv CHANGES.csv [--anchor SEQ:HASH]
      Re-check the tracked row changes, exported with
        COPY (SELECT * FROM fence.row_changes_export ORDER BY txid, ordinal) TO STDOUT WITH (FORMAT csv, HEADER)
      against the seals of the whole chain (CHAIN.csv, exported as for verify-csv and checked
      first): every change's hash and index keys, every sealed block's digests (months a
      chained retention dropped are skipped); changes after the last seal are counted.
  fence report FILE.csv --html OUT.html [--anchor SEQ:HASH]
      Verify the export (filtered exports as segments) and render one self-contained HTML
      page: the verification result and anchor, a timeline of decisions, the risky
      migrations with who approved or exempted them under which policy, every denial.
Exit status: 0 ok, 1 verification failed, 2 usage or input error.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("hash") if args.len() > 1 => hash_files::run(&args[1..]),
        Some("analyze") => analyze_files::run(&args[1..]),
        Some("verify-csv") => verify_csv::run(&args[1..]),
        Some("verify-rows") => verify_rows::run(&args[1..]),
        Some("report") => report::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(format!("unknown or incomplete command\n{USAGE}")),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("fence: {message}");
            ExitCode::from(2)
        }
    }
}
