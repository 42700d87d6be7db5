//! Row-level change audit: the hashed form of one row change, the digest of a sealed block of
//! changes, and the check of a block against its seal.
//!
//! A writer hashes each change it records (`RowChange::hash`), in its own backend and
//! without any shared lock. A sealer later folds the stored hashes of every change of a range
//! of finished transactions into a block — one digest per calendar month (UTC), so that a
//! retention can drop whole months — and appends the block to the audit chain. Verification
//! recomputes every change's hash from its stored columns and every month's digest, and
//! compares them with the chained block.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// The operation a row change records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Insert,
    Update,
    Delete,
    Truncate,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "INSERT",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Truncate => "TRUNCATE",
        }
    }
}

/// A stored column of `fence.row_changes`: the hashed fields of a change, its hashes and when
/// it happened. The writer stores each of these (and a partition with any other column is
/// refused), verification reads each of them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowColumn {
    ChangedAt,
    TableId,
    Relation,
    Operation,
    RowKey,
    KeyHash,
    OldKey,
    OldKeyHash,
    OldValues,
    NewRow,
    Actor,
    SessionRole,
    ApplicationName,
    ClientAddr,
    BackendPid,
    Txid,
    Ordinal,
    RowHash,
}

/// How a stored column's values are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowColumnType {
    Text,
    Integer,
    BigInt,
    /// `timestamptz` (exported as `bigint` microseconds since the Unix epoch).
    Time,
}

/// Every stored column, by its name in `fence.row_changes`, in the table's order.
pub const ROW_COLUMNS: [(&str, RowColumn); 18] = [
    ("changed_at", RowColumn::ChangedAt),
    ("table_id", RowColumn::TableId),
    ("relation", RowColumn::Relation),
    ("operation", RowColumn::Operation),
    ("row_key", RowColumn::RowKey),
    ("key_hash", RowColumn::KeyHash),
    ("old_key", RowColumn::OldKey),
    ("old_key_hash", RowColumn::OldKeyHash),
    ("old_values", RowColumn::OldValues),
    ("new_row", RowColumn::NewRow),
    ("actor", RowColumn::Actor),
    ("session_role", RowColumn::SessionRole),
    ("application_name", RowColumn::ApplicationName),
    ("client_addr", RowColumn::ClientAddr),
    ("backend_pid", RowColumn::BackendPid),
    ("txid", RowColumn::Txid),
    ("ordinal", RowColumn::Ordinal),
    ("row_hash", RowColumn::RowHash),
];

impl RowColumn {
    /// The column of that name in `fence.row_changes`.
    pub fn named(name: &str) -> Option<RowColumn> {
        ROW_COLUMNS.iter().find(|(n, _)| *n == name).map(|&(_, column)| column)
    }

    /// Its name in `fence.row_changes_export`, which auditors and verification read (the time
    /// as microseconds since the Unix epoch).
    pub fn exported_name(self) -> &'static str {
        match self {
            RowColumn::ChangedAt => "changed_at_us",
            column => ROW_COLUMNS.iter().find(|(_, c)| *c == column).map_or("", |(name, _)| name),
        }
    }

    pub fn column_type(self) -> RowColumnType {
        match self {
            RowColumn::ChangedAt => RowColumnType::Time,
            RowColumn::TableId | RowColumn::BackendPid | RowColumn::Ordinal => RowColumnType::Integer,
            RowColumn::Txid | RowColumn::KeyHash | RowColumn::OldKeyHash => RowColumnType::BigInt,
            _ => RowColumnType::Text,
        }
    }
}

/// A stored column's value as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowValue<'a> {
    Text(Option<&'a str>),
    /// Any integer column, and the time in microseconds since the Unix epoch.
    Number(Option<i64>),
}

impl<'a> RowValue<'a> {
    pub fn text(self) -> Option<&'a str> {
        match self {
            RowValue::Text(text) => text,
            RowValue::Number(_) => None,
        }
    }

    pub fn number(self) -> Option<i64> {
        match self {
            RowValue::Number(n) => n,
            RowValue::Text(_) => None,
        }
    }
}

/// One recorded row change: every hashed field. Keys and row images are the stored `json`
/// texts (keys as the canonical text of their `jsonb` value, rows as `to_json` prints them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowChange<'a> {
    pub table_id: i64,
    pub relation: &'a str,
    pub operation: &'a str,
    /// The key the change is filed under (the new key of an UPDATE); None for TRUNCATE.
    pub row_key: Option<&'a str>,
    /// The previous key of an UPDATE that changed the key.
    pub old_key: Option<&'a str>,
    /// What the change replaced: the whole row for a DELETE, the old values of the columns
    /// it changed for an UPDATE (the rest of the old row is in `new_row`); None for INSERT
    /// and TRUNCATE.
    pub old_values: Option<&'a str>,
    /// The row after the change (INSERT, UPDATE); None for DELETE and TRUNCATE.
    pub new_row: Option<&'a str>,
    pub actor: &'a str,
    pub session_role: &'a str,
    pub application_name: &'a str,
    pub client_addr: &'a str,
    pub backend_pid: i32,
    pub txid: i64,
    pub ordinal: i32,
    /// Microseconds since the Unix epoch.
    pub changed_at_us: i64,
}

/// The decimal digits of `n`, written at the end of `buf`.
fn decimal(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut rest = n.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

/// Writes one field of the hashed form: `<length in bytes>:<text>,`, or `-,` for NULL.
fn field(out: &mut impl FnMut(&[u8]), text: Option<&[u8]>) {
    match text {
        Some(text) => {
            out(decimal(text.len() as i64, &mut [0; 20]));
            out(b":");
            out(text);
            out(b",");
        }
        None => out(b"-,"),
    }
}

fn number(out: &mut impl FnMut(&[u8]), n: i64) {
    field(out, Some(decimal(n, &mut [0; 20])));
}

impl RowChange<'_> {
    /// Writes the hashed form of the change to `out`, piece by piece: every field in the
    /// order of the struct (the order of the export view `fence.row_changes_export`), each as
    /// its text (numbers in decimal, keys and row images as stored) preceded by its length in
    /// bytes and a colon and followed by a comma; `-,` for NULL. Nothing is escaped (a length
    /// delimits each text): it costs a copy of the bytes, and anyone can rebuild it from an
    /// export in a few lines.
    fn encode(&self, out: &mut impl FnMut(&[u8])) {
        number(out, self.table_id);
        field(out, Some(self.relation.as_bytes()));
        field(out, Some(self.operation.as_bytes()));
        field(out, self.row_key.map(str::as_bytes));
        field(out, self.old_key.map(str::as_bytes));
        field(out, self.old_values.map(str::as_bytes));
        field(out, self.new_row.map(str::as_bytes));
        field(out, Some(self.actor.as_bytes()));
        field(out, Some(self.session_role.as_bytes()));
        field(out, Some(self.application_name.as_bytes()));
        field(out, Some(self.client_addr.as_bytes()));
        number(out, i64::from(self.backend_pid));
        number(out, self.txid);
        number(out, i64::from(self.ordinal));
        number(out, self.changed_at_us);
    }

    /// The hashed form of the change (see `encode`), in one allocation.
    pub fn payload(&self) -> Vec<u8> {
        let texts = [self.row_key, self.old_key, self.old_values, self.new_row].into_iter().flatten().map(str::len);
        let others =
            [self.relation, self.operation, self.actor, self.session_role, self.application_name, self.client_addr];
        // The ten texts; per field at most 20 digits of length and its colon and comma; the five
        // numbers' digits (at most 20 each): the bound never reallocates.
        let size = texts.chain(others.into_iter().map(str::len)).sum::<usize>() + 15 * 22 + 5 * 20;
        let mut payload = Vec::with_capacity(size);
        self.encode(&mut |piece: &[u8]| payload.extend_from_slice(piece));
        payload
    }

    /// `sha256` of the hashed form.
    pub fn hash(&self) -> String {
        crate::hash::tagged_hex(&Sha256::digest(self.payload()))
    }
}

/// The index key of a row key: the first 8 bytes of `sha256` of its `jsonb` text, read as a
/// big-endian signed integer. Lookups by key compare these integers instead of `jsonb`
/// values; auditors get the same number in SQL with `fence.key_hash(row_key)`.
pub fn key_hash(key_text: &str) -> i64 {
    let digest = Sha256::digest(key_text.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// A calendar month (UTC), the unit of partitioning, sealing digests and retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

const US_PER_DAY: i64 = 86_400_000_000;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Month {
    /// The month containing a time (microseconds since the Unix epoch).
    pub fn of(unix_us: i64) -> Month {
        let days = unix_us.div_euclid(US_PER_DAY);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Month { year, month }
    }

    /// Its first microsecond (since the Unix epoch).
    pub fn start_us(self) -> i64 {
        days_from_civil(self.year, self.month, 1) * US_PER_DAY
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month { year: self.year + 1, month: 1 }
        } else {
            Month { year: self.year, month: self.month + 1 }
        }
    }

    /// The name of its partition of `fence.row_changes`.
    pub fn partition(self) -> String {
        format!("row_changes_{:04}_{:02}", self.year, self.month)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = String;

    fn from_str(text: &str) -> Result<Month, String> {
        let bad = || format!("\"{text}\" is not a month (YYYY-MM)");
        let (year, month) = text.split_once('-').ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u32 = month.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || year.to_string().len() != 4 {
            return Err(bad());
        }
        Ok(Month { year, month })
    }
}

/// A block's digest of one month: how many changes, and `sha256` of their hashes
/// concatenated in `(txid, ordinal)` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthDigest {
    pub changes: i64,
    pub digest: String,
}

/// A sealed block: the changes of every transaction with `xid_from <= txid < xid_to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub xid_from: i64,
    pub xid_to: i64,
    pub changes: i64,
    pub transactions: i64,
    pub months: BTreeMap<Month, MonthDigest>,
}

/// Folds change hashes, fed in `(txid, ordinal)` order, into a block.
pub struct BlockBuilder {
    xid_from: i64,
    xid_to: i64,
    last_txid: Option<i64>,
    transactions: i64,
    months: BTreeMap<Month, (i64, Sha256)>,
}

impl BlockBuilder {
    pub fn new(xid_from: i64, xid_to: i64) -> BlockBuilder {
        BlockBuilder { xid_from, xid_to, last_txid: None, transactions: 0, months: BTreeMap::new() }
    }

    pub fn add(&mut self, txid: i64, changed_at_us: i64, change_hash: &str) {
        if self.last_txid != Some(txid) {
            self.transactions += 1;
            self.last_txid = Some(txid);
        }
        let (count, hasher) = self.months.entry(Month::of(changed_at_us)).or_insert_with(|| (0, Sha256::new()));
        *count += 1;
        hasher.update(change_hash.as_bytes());
    }

    pub fn finish(self) -> Block {
        let months: BTreeMap<Month, MonthDigest> = self
            .months
            .into_iter()
            .map(|(month, (changes, hasher))| {
                let digest = crate::hash::tagged_hex(&hasher.finalize());
                (month, MonthDigest { changes, digest })
            })
            .collect();
        let changes = months.values().map(|m| m.changes).sum();
        Block { xid_from: self.xid_from, xid_to: self.xid_to, changes, transactions: self.transactions, months }
    }
}

impl Block {
    /// The block as chained in a `row_seal` event's details.
    pub fn to_json(&self) -> Value {
        let months: Map<String, Value> = self
            .months
            .iter()
            .map(|(m, d)| (m.to_string(), json!({"changes": d.changes, "digest": d.digest})))
            .collect();
        json!({
            "xid_from": self.xid_from, "xid_to": self.xid_to, "changes": self.changes,
            "transactions": self.transactions, "months": months,
        })
    }

    pub fn from_json(value: &Value) -> Result<Block, String> {
        let number = |key: &str| value.get(key).and_then(Value::as_i64).ok_or_else(|| format!("block has no {key}"));
        let mut months = BTreeMap::new();
        for (month, digest) in value.get("months").and_then(Value::as_object).ok_or("block has no months")? {
            let changes = digest.get("changes").and_then(Value::as_i64).ok_or("month has no changes")?;
            let digest = digest.get("digest").and_then(Value::as_str).ok_or("month has no digest")?;
            months.insert(month.parse()?, MonthDigest { changes, digest: digest.to_string() });
        }
        Ok(Block {
            xid_from: number("xid_from")?,
            xid_to: number("xid_to")?,
            changes: number("changes")?,
            transactions: number("transactions")?,
            months,
        })
    }

    /// Compares the block recomputed from the stored changes with the sealed one. Months a
    /// chained retention dropped are not compared (their changes are gone by design); every
    /// other difference is tampering: a change altered, removed or added.
    pub fn check_against(&self, sealed: &Block, retired: &BTreeSet<Month>) -> Result<(), String> {
        let months: BTreeSet<&Month> = self.months.keys().chain(sealed.months.keys()).collect();
        for month in months.into_iter().filter(|m| !retired.contains(m)) {
            match (self.months.get(month), sealed.months.get(month)) {
                (Some(now), Some(then)) if now == then => {}
                (Some(now), Some(then)) if now.changes != then.changes => {
                    return Err(format!(
                        "{} of {month}: {} changes stored, {} sealed (changes removed or added)",
                        self.range(),
                        now.changes,
                        then.changes
                    ))
                }
                (Some(_), Some(_)) => {
                    return Err(format!("{} of {month}: the changes differ from what was sealed", self.range()))
                }
                (None, Some(then)) => {
                    return Err(format!("{} of {month}: all {} sealed changes are missing", self.range(), then.changes))
                }
                (Some(now), None) => {
                    return Err(format!(
                        "{} of {month}: {} changes were added after sealing",
                        self.range(),
                        now.changes
                    ))
                }
                (None, None) => {}
            }
        }
        Ok(())
    }

    fn range(&self) -> String {
        format!("block of transactions {}..{}", self.xid_from, self.xid_to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(ordinal: i32) -> RowChange<'static> {
        RowChange {
            table_id: 3,
            relation: "public.customers",
            operation: "UPDATE",
            row_key: Some(r#"{"id": 7}"#),
            old_key: None,
            old_values: Some(r#"{"email": "a@example.com"}"#),
            new_row: Some(r#"{"id": 7, "email": "b\"é@example.com"}"#),
            actor: "alice",
            session_role: "app",
            application_name: "api",
            client_addr: "10.0.0.5",
            backend_pid: 4242,
            txid: 900,
            ordinal,
            changed_at_us: 1_794_000_000_000_000,
        }
    }

    #[test]
    fn the_hashed_form_is_every_field_with_its_length() {
        let delete = RowChange { new_row: None, operation: "DELETE", old_values: Some(r#"{"id":7}"#), ..change(1) };
        let expected = concat!(
            "1:3,16:public.customers,6:DELETE,9:{\"id\": 7},-,8:{\"id\":7},-,5:alice,3:app,3:api,8:10.0.0.5,",
            "4:4242,3:900,1:1,16:1794000000000000,"
        );
        assert_eq!(String::from_utf8(delete.payload()).unwrap(), expected);
        assert_eq!(delete.payload().iter().filter(|&&b| b == b',').count(), 15, "one comma per field");
        // Lengths count bytes, and nothing is escaped.
        let odd = RowChange { actor: "é,\"", ..delete.clone() };
        assert!(String::from_utf8(odd.payload()).unwrap().contains(",4:é,\",3:app,"));
        assert_eq!(decimal(i64::MIN, &mut [0; 20]), b"-9223372036854775808");
        assert_eq!(decimal(0, &mut [0; 20]), b"0");
    }

    #[test]
    fn texts_cannot_run_into_each_other() {
        let base = RowChange { application_name: "a,3:b", client_addr: "c", ..change(1) };
        let shifted = RowChange { application_name: "a", client_addr: "b,1:c", ..change(1) };
        assert_ne!(base.payload(), shifted.payload());
        let empty = RowChange { old_key: Some(""), ..change(1) };
        assert_ne!(empty.hash(), change(1).hash(), "an empty text is not NULL");
    }

    #[test]
    fn key_hashes_are_the_sql_ones() {
        // SELECT fence.key_hash('{"id": 7}') -- ('x' || left(encode(sha256(...), 'hex'), 16))::bit(64)::bigint
        assert_eq!(key_hash(r#"{"id": 7}"#), KEY_HASH_ID_7);
        assert_ne!(key_hash(r#"{"id": 8}"#), key_hash(r#"{"id": 7}"#));
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = change(1);
        let variants = [
            RowChange { ordinal: 2, ..base.clone() },
            RowChange { actor: "mallory", ..base.clone() },
            RowChange { new_row: Some(r#"{"id": 7, "email": "c@example.com"}"#), ..base.clone() },
            RowChange { row_key: Some(r#"{"id": 8}"#), ..base.clone() },
            RowChange { old_key: Some(r#"{"id": 6}"#), ..base.clone() },
            RowChange { old_values: Some(r#"{"email": "z@example.com"}"#), ..base.clone() },
            RowChange { client_addr: "10.0.0.6", ..base.clone() },
            RowChange { changed_at_us: base.changed_at_us + 1, ..base.clone() },
        ];
        for variant in variants {
            assert_ne!(variant.hash(), base.hash());
        }
    }

    #[test]
    fn months_round_trip() {
        for (us, label, start) in [
            (0, "1970-01", 0),
            (1_794_000_000_000_000, "2026-11", 1_793_491_200_000_000),
            (951_782_400_000_000, "2000-02", 949_363_200_000_000), // 2000-02-29
            (-1, "1969-12", -2_678_400_000_000),
        ] {
            let month = Month::of(us);
            assert_eq!(month.to_string(), label);
            assert_eq!(month.start_us(), start);
            assert_eq!(label.parse::<Month>(), Ok(month));
        }
        assert_eq!(Month { year: 2026, month: 12 }.next(), Month { year: 2027, month: 1 });
        assert_eq!(Month { year: 2026, month: 11 }.partition(), "row_changes_2026_11");
        assert!("2026-13".parse::<Month>().is_err());
        assert!("26-01".parse::<Month>().is_err());
    }

    fn block(changes: &[(i64, i64, &str)]) -> Block {
        let mut builder = BlockBuilder::new(100, 200);
        for (txid, at, hash) in changes {
            builder.add(*txid, *at, hash);
        }
        builder.finish()
    }

    const KEY_HASH_ID_7: i64 = -5_956_679_774_198_763_917;

    const OCT: i64 = 1_791_000_000_000_000;
    const NOV: i64 = 1_794_000_000_000_000;

    #[test]
    fn blocks_detect_altered_removed_and_added_changes() {
        let sealed = block(&[(101, OCT, "h1"), (101, OCT, "h2"), (150, NOV, "h3")]);
        assert_eq!((sealed.changes, sealed.transactions, sealed.months.len()), (3, 2, 2));
        assert_eq!(Block::from_json(&sealed.to_json()), Ok(sealed.clone()));
        let none = BTreeSet::new();
        assert!(sealed.check_against(&sealed, &none).is_ok());
        let altered = block(&[(101, OCT, "h1"), (101, OCT, "hX"), (150, NOV, "h3")]);
        assert!(altered.check_against(&sealed, &none).unwrap_err().contains("differ"));
        let removed = block(&[(101, OCT, "h1"), (150, NOV, "h3")]);
        assert!(removed.check_against(&sealed, &none).unwrap_err().contains("1 changes stored, 2 sealed"));
        let reordered = block(&[(101, OCT, "h2"), (101, OCT, "h1"), (150, NOV, "h3")]);
        assert!(reordered.check_against(&sealed, &none).is_err());
        let gone = block(&[(101, OCT, "h1"), (101, OCT, "h2")]);
        assert!(gone.check_against(&sealed, &none).unwrap_err().contains("missing"));
        let added = block(&[(101, OCT, "h1"), (101, OCT, "h2"), (150, NOV, "h3"), (160, NOV + 1, "h4")]);
        assert!(added.check_against(&sealed, &none).is_err());
    }

    #[test]
    fn retired_months_are_not_compared() {
        let sealed = block(&[(101, OCT, "h1"), (150, NOV, "h3")]);
        let after_retention = block(&[(150, NOV, "h3")]);
        let october: BTreeSet<Month> = [Month::of(OCT)].into();
        assert!(after_retention.check_against(&sealed, &october).is_ok());
        assert!(after_retention.check_against(&sealed, &BTreeSet::new()).is_err());
    }
}
