//! Cases for the differential scanner test (scripts/scanfuzz.sh): SQL built from the parts
//! where scanners disagree — comments ended by `\r`, nested comments, quotes, escapes,
//! continuations, dollar quotes, Unicode, long identifiers — plus random mutations of them,
//! each with the CLI's content hash under `standard_conforming_strings` on and off. The
//! script asks the server for the same hashes and compares.
//!
//! The CLI reads as PostgreSQL 18 (libpg_query's version); a PostgreSQL 15 server refuses
//! some of its newer forms (`0x1F`, `1_000`) and reads `E'\v'` as `v`: the parts avoid
//! `\v`, and the script counts texts only the server refuses apart.
//!
//! Usage: scanfuzz SEED COUNT > cases.csv (columns: id, standard_conforming_strings, sql,
//! the CLI's content hash or `error`).

use fence_cli::scan::LibPgQuery;
use fence_core::canonical::canonicalize;

/// xorshift64*: a fixed seed gives the same cases on every machine.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const GAPS: &[&str] = &[
    " ",
    "  ",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "\x0c",
    " -- line comment\n",
    " --\r",
    " -- it's\r\n",
    " /* c */ ",
    " /* /* nested */ still */ ",
    " /* ' \" $$ */ ",
    "/**/",
    " -- ; DROP TABLE x\n",
    "\u{a0}",
];

const STRINGS: &[&str] = &[
    "'plain'",
    "'it''s'",
    "''",
    "E'esc\\n\\t\\x41\\101\\u00e9\\\\\\''",
    "e'\\'quoted\\''",
    "$$dollar 'x' \\ $$",
    "$tag$ $$ inner $$ $tag$",
    "'a'\n'b'",
    "'a' -- gap\n'b'",
    "'a'\r\n  'b'",
    "'a' 'b'",
    "'back\\slash'",
    "'a\\' /* ', 1 -- */",
    "U&'d\\0061t\\+000061'",
    "U&'!0061' UESCAPE '!'",
    "B'0101'",
    "X'1F'",
    "N'nat'",
    "'ünïcödé ✓'",
    "E'\\xC3\\xA9'",
    "E'\\U0001F600'",
    "E'\\uD83D\\uDE00'",
    "E'\\b\\f'",
    "$a$x$a$",
    "E'a\\\nb'",
    "'--not a comment'",
    "'/* nor this */'",
];

const IDENTS: &[&str] = &[
    "users",
    "Users",
    "\"Users\"",
    "\"we\"\"ird\"",
    "\"select\"",
    "ñame",
    "U&\"d\\0061t\"",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "\"ééééééééééééééééééééééééééééééééééééééééé\"",
    "t$1",
    "_x9",
];

const VALUES: &[&str] =
    &["1", "010", "2147483648", "1.5e3", ".5", "1e-2", "$1", "true", "NULL", "current_user", "-1", "0x1F", "1_000"];

const OPERATORS: &[&str] =
    &["+", "-", "||", "!=", "<>", "<=", ">=", "::text ||", "@>", "*/", "+-", "-+", "~~", "#-", "->>"];

/// Characters a mutation inserts: each changes where some scanner thinks a token ends.
const SPECIALS: &[&str] = &["'", "\"", "\\", "$", "-", "/", "*", "\r", "\n", ";", "E", "U&", "$$", "--", "/*", "*/"];

fn item(r: &mut Random) -> String {
    match r.below(4) {
        0 => r.pick(STRINGS).to_string(),
        1 => r.pick(IDENTS).to_string(),
        2 => r.pick(VALUES).to_string(),
        _ => format!("{}{}{}{}{}", r.pick(STRINGS), r.pick(GAPS), r.pick(OPERATORS), r.pick(GAPS), r.pick(VALUES)),
    }
}

fn statement(r: &mut Random) -> String {
    let gap = |r: &mut Random| r.pick(GAPS).to_string();
    match r.below(4) {
        0 => {
            let items: Vec<String> = (0..1 + r.below(4)).map(|_| item(r)).collect();
            format!("SELECT{}{}", gap(r), items.join(&format!("{},{}", gap(r), gap(r))))
        }
        1 => format!("COMMENT ON TABLE{}{}{}IS{}{}", gap(r), r.pick(IDENTS), gap(r), gap(r), r.pick(STRINGS)),
        2 => format!(
            "ALTER TABLE {}{}ADD COLUMN {} text DEFAULT{}{}",
            r.pick(IDENTS),
            gap(r),
            r.pick(IDENTS),
            gap(r),
            r.pick(STRINGS)
        ),
        _ => format!("ALTER TABLE c1 ALTER COLUMN email SET NOT NULL{}, DROP COLUMN note", r.pick(GAPS)),
    }
}

fn script(r: &mut Random) -> String {
    let mut sql: String = (0..1 + r.below(3)).map(|_| statement(r) + ";" + r.pick(GAPS)).collect();
    // Half the cases are mutated at random character boundaries.
    if r.below(2) == 0 {
        for _ in 0..1 + r.below(3) {
            let boundaries: Vec<usize> = sql.char_indices().map(|(i, _)| i).chain([sql.len()]).collect();
            let at = boundaries[r.below(boundaries.len())];
            sql.insert_str(at, r.pick(SPECIALS));
        }
    }
    sql
}

fn csv_field(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let count: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let mut r = Random(seed.max(1));
    for id in 1..=count {
        let sql = script(&mut r);
        for standard in [true, false] {
            let reader = LibPgQuery { standard_conforming_strings: standard };
            let hash = canonicalize(&reader, &sql).map_or_else(|_| "error".to_string(), |c| c.content_hash);
            println!("{id},{},{},{hash}", if standard { "on" } else { "off" }, csv_field(&sql));
        }
    }
}
