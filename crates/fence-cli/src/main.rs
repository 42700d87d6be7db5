//! `fence`: the command line beside the extension. It shares fence-core with it, so the
//! content hashes it prints and the chain hashes it recomputes are the extension's own.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use fence_cli::{analyze_files, hash_files, inputs, report, verify_csv, verify_rows};
use fence_core::chain::Anchor;
use fence_core::risk::Risk;

const EXIT_CODES: &str = "Exit status: 0 ok; 1 a finding above --max-risk, syntax the assumed PostgreSQL \
version refuses, or a verification that failed; 2 a usage or input error. A closed output \
pipe (fence ... | head) ends fence quietly.";

/// fence's command line: the extension's lock analysis without a database, content hashes of
/// migrations, and offline verification of exported audit chains.
#[derive(Parser)]
#[command(name = "fence", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The analysis of fence.analyze() without a database (pg_query parses): per statement the
    /// locks, rewrite, scan, risk and findings with safe rewrites. Each file is one transaction.
    Analyze {
        /// Migration files; `-` reads standard input; a directory its *.sql files in migration
        /// order (V2__ before V10__).
        #[arg(required = true, value_name = "FILE|DIR|-")]
        inputs: Vec<String>,
        /// Output format [fence.toml: format; default: text].
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Exit 1 when any statement is riskier (none, low, medium, high, critical): for CI
        /// [fence.toml: max_risk].
        #[arg(long, value_name = "LEVEL")]
        max_risk: Option<Risk>,
        /// The server's PostgreSQL major version (15-18): it picks the safe rewrites that
        /// version allows; syntax it refuses is an error (exit 1) [fence.toml: pg_version;
        /// default: 15].
        #[arg(long, value_name = "N")]
        pg_version: Option<u32>,
        /// Each file runs inside one transaction block (as `psql -1`, Flyway and Rails run
        /// migrations): CONCURRENTLY in it is an error [fence.toml: assume_in_transaction].
        #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
        assume_in_transaction: Option<bool>,
        /// Settings file (default: the nearest fence.toml from the working directory up).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Analyze on this server with its fence.analyze() (read-only: nothing runs): real
        /// table sizes, indexes and types. A libpq connection string or URI; without fence
        /// there, the offline analysis.
        #[arg(long, value_name = "CONNINFO")]
        db: Option<String>,
        /// Colour in the text format: auto (a terminal, unless NO_COLOR is set), always, never.
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Print the content hash of each migration (as fence.content_hash() computes it), and of
    /// all of them together when there are several, in the order given.
    Hash {
        #[arg(required = true, value_name = "FILE|DIR|-")]
        inputs: Vec<String>,
    },
    /// Re-check an audit chain exported with COPY (SELECT * FROM fence.audit_export ORDER BY
    /// seq) TO STDOUT WITH (FORMAT csv, HEADER), from the file alone.
    VerifyCsv {
        file: String,
        /// The chain must also reach this head, kept outside the database (fence.anchor()).
        #[arg(long, value_name = "SEQ:HASH")]
        anchor: Option<Anchor>,
        /// The export is filtered (fence.audit_export_range): check each event and the links
        /// between consecutive ones, and report the missing ranges.
        #[arg(long)]
        segments: bool,
    },
    /// Re-check tracked row changes (fence.row_changes_export as CSV) against the seals of the
    /// whole chain (CHAIN.csv, checked first).
    VerifyRows {
        chain: String,
        changes: String,
        #[arg(long, value_name = "SEQ:HASH")]
        anchor: Option<Anchor>,
    },
    /// Verify an export and render one self-contained HTML page: verification, timeline, risky
    /// migrations with who approved them, denials.
    Report {
        file: String,
        #[arg(long, value_name = "OUT.html")]
        html: String,
        #[arg(long, value_name = "SEQ:HASH")]
        anchor: Option<Anchor>,
    },
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Github,
    Sarif,
    Gitlab,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze { inputs, format, max_risk, pg_version, assume_in_transaction, config, db, color } => {
            let flags = analyze_files::Flags {
                format: format.and_then(|f| f.to_possible_value()).map(|v| v.get_name().to_string()),
                max_risk,
                pg_version,
                assume_in_transaction,
                config,
                db,
                color: match color {
                    Color::Always => true,
                    Color::Never => false,
                    Color::Auto => {
                        std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    }
                },
            };
            analyze_files::Settings::resolve(flags)
                .and_then(|settings| inputs::read(&inputs).and_then(|inputs| analyze_files::run(&inputs, &settings)))
        }
        Command::Hash { inputs } => inputs::read(&inputs).and_then(|inputs| hash_files::run(&inputs)),
        Command::VerifyCsv { file, anchor, segments } => verify_csv::run(&file, anchor, segments),
        Command::VerifyRows { chain, changes, anchor } => verify_rows::run(&chain, &changes, anchor),
        Command::Report { file, html, anchor } => report::run(&file, &html, anchor),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "fence", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("fence: {message}");
            ExitCode::from(2)
        }
    }
}

/// Output into a pipe its reader closed (`fence analyze ... | head`) ends the program quietly,
/// as the shell's own tools do, instead of with a panic's message — with the command's verdict
/// as its status (set before it prints): `print!` panics on a write error, and this hook
/// recognizes that one.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(i32::from(fence_cli::closed_pipe_exit()));
        }
        default(info);
    }));
}
