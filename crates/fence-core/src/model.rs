//! fence's statement model: what a DDL statement does, independent of which parser produced
//! it (the server's own parse tree inside the extension, pg_query in the CLI).

use std::fmt;

use crate::lock::LockMode;

/// A relation name as written (schema optional) or as resolved by a catalog.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelationName {
    pub schema: Option<String>,
    pub name: String,
}

impl RelationName {
    pub fn new(schema: Option<&str>, name: &str) -> Self {
        RelationName { schema: schema.map(str::to_string), name: name.to_string() }
    }

    /// Named in the session's temporary schema (`pg_temp.x`, or created `TEMP`: the front
    /// ends write such a name with the schema `pg_temp`).
    pub fn is_temp_schema(&self) -> bool {
        self.schema.as_deref() == Some("pg_temp")
    }

    /// The name with each part double-quoted, as SQL (and `to_regclass`) reads it exactly.
    pub fn quoted(&self) -> String {
        let quote = |part: &str| format!("\"{}\"", part.replace('"', "\"\""));
        match &self.schema {
            Some(schema) => format!("{}.{}", quote(schema), quote(&self.name)),
            None => quote(&self.name),
        }
    }
}

impl fmt::Display for RelationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// An ALTER TABLE subcommand's enum name as the parsers spell it (`AT_DropOids` in the
/// server, `AtDropOids` in libpg_query) in words, as messages show it (`DROP OIDS`).
pub fn subcommand_words(name: &str) -> String {
    let bare = name.strip_prefix("AT_").or_else(|| name.strip_prefix("At")).unwrap_or(name);
    let mut words = String::new();
    for c in bare.chars() {
        if c.is_ascii_uppercase() && !words.is_empty() {
            words.push(' ');
        }
        words.push(c.to_ascii_uppercase());
    }
    words
}

/// Volatility of an expression (a column default), as the front end could determine it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Volatility {
    Immutable,
    Stable,
    Volatile,
    /// The front end could not tell (an unknown function offline): treated as volatile.
    Unknown,
}

impl Volatility {
    pub fn forces_rewrite(self) -> bool {
        matches!(self, Volatility::Volatile | Volatility::Unknown)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintKind {
    Check,
    ForeignKey { references: RelationName },
    Unique,
    PrimaryKey,
    Exclusion,
    NotNull,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub kind: ConstraintKind,
    pub name: Option<String>,
    /// `NOT VALID` (or, from PostgreSQL 18, `NOT ENFORCED`): existing rows are not checked.
    pub not_valid: bool,
    /// `... USING INDEX idx`: an existing index becomes the constraint, nothing is built.
    pub using_index: bool,
}

/// How a generated column's values exist: written into every row, or (PostgreSQL 18)
/// computed when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generated {
    Stored,
    Virtual,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: String,
    pub type_name: String,
    /// Volatility of the `DEFAULT` expression, if one is given.
    pub default: Option<Volatility>,
    pub not_null: bool,
    /// `GENERATED ALWAYS AS (...) STORED` or (PostgreSQL 18) `VIRTUAL`.
    pub generated: Option<Generated>,
    /// `GENERATED ... AS IDENTITY` or a serial type.
    pub identity: bool,
    /// Inline constraints other than NOT NULL / DEFAULT.
    pub constraints: Vec<Constraint>,
}

impl ColumnDef {
    pub fn new(name: &str, type_name: &str) -> Self {
        ColumnDef {
            name: name.to_string(),
            type_name: type_name.to_string(),
            default: None,
            not_null: false,
            generated: None,
            identity: false,
            constraints: Vec::new(),
        }
    }

    /// Adding this column to an existing table rewrites it.
    pub fn add_rewrites(&self) -> bool {
        self.generated == Some(Generated::Stored)
            || self.identity
            || self.default.is_some_and(Volatility::forces_rewrite)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterTableAction {
    AddColumn(ColumnDef),
    DropColumn {
        column: String,
        /// `CASCADE`: what depends on the column (views, constraints) goes with it.
        cascade: bool,
    },
    AlterColumnType {
        column: String,
        new_type: String,
        /// Every stored value stays valid as it is (varchar(10) -> varchar(20), varchar ->
        /// text): no rewrite. Only the live catalog can tell; offline it is false.
        binary_coercible: bool,
    },
    SetNotNull {
        column: String,
        /// A validated `CHECK (column IS NOT NULL)` already proves it: PostgreSQL skips the
        /// scan. Only the live catalog can tell; offline it is false.
        proven: bool,
    },
    DropNotNull {
        column: String,
    },
    /// `SET DEFAULT` / `DROP DEFAULT`.
    ChangeDefault {
        column: String,
    },
    AddConstraint(Constraint),
    ValidateConstraint {
        name: String,
    },
    /// `DROP CONSTRAINT`: a foreign key's referenced table is locked too (ACCESS EXCLUSIVE:
    /// its triggers go); known from the live catalog only.
    DropConstraint {
        name: String,
        references: Option<RelationName>,
        /// `CASCADE`: what depends on the constraint (foreign keys, views) goes with it.
        cascade: bool,
    },
    /// `CLUSTER ON index`: marks the index (SHARE UPDATE EXCLUSIVE on both).
    ClusterOn {
        index: String,
    },
    /// A subcommand that changes the table's settings, storage or ownership as a whole.
    Table(TableSubcommand),
    /// `SET (...)` / `RESET (...)` of storage parameters (`fillfactor`, `autovacuum_*`, ...),
    /// with `toast.` before TOAST parameters.
    StorageParameters {
        names: Vec<String>,
    },
    /// `INHERIT parent` (SHARE UPDATE EXCLUSIVE on the parent) / `NO INHERIT parent` (the
    /// parent is only read).
    Inherit {
        parent: RelationName,
        inherit: bool,
    },
    /// `ATTACH PARTITION partition FOR VALUES ...`
    AttachPartition {
        partition: RelationName,
    },
    /// `DETACH PARTITION partition [CONCURRENTLY]`
    DetachPartition {
        partition: RelationName,
        concurrently: bool,
    },
    /// `SET TABLESPACE name`: the relation's files are copied into the tablespace (new files;
    /// no row is read one by one, and a table's indexes stay where they are), unless it is
    /// already there (`unchanged`, known from the catalog; offline: false).
    SetTablespace {
        tablespace: String,
        unchanged: bool,
    },
    /// `SET ACCESS METHOD method`: the table is rewritten, unless it already uses that method
    /// (`unchanged`, known from the catalog; offline: false).
    SetAccessMethod {
        method: String,
        unchanged: bool,
    },
    /// `ALTER COLUMN ... SET EXPRESSION AS (...)` (PostgreSQL 17): a stored column's table is
    /// rewritten; a virtual column's (18) only its definition changes. Only the live catalog
    /// can tell which; offline a stored column is assumed.
    SetExpression {
        column: String,
        stored: bool,
    },
    /// `ALTER CONSTRAINT name [NOT] ENFORCED` of a foreign key (PostgreSQL 18): ENFORCED checks
    /// every row (SHARE ROW EXCLUSIVE on the referenced table), NOT ENFORCED drops the
    /// constraint's triggers (ACCESS EXCLUSIVE on it). The referenced table is known from the
    /// live catalog only.
    SetEnforced {
        name: String,
        enforced: bool,
        references: Option<RelationName>,
    },
    /// `DETACH PARTITION ... FINALIZE`: completes a concurrent detach that was interrupted
    /// (SHARE UPDATE EXCLUSIVE on the parent, ACCESS EXCLUSIVE on the partition).
    FinalizeDetach {
        partition: RelationName,
    },
    /// A subcommand fence does not model yet; ACCESS EXCLUSIVE is assumed.
    Other {
        name: String,
    },
    /// A subcommand PostgreSQL skips with a NOTICE, as the live catalog shows (`DROP COLUMN IF
    /// EXISTS` of a missing column, `ADD COLUMN IF NOT EXISTS` of an existing one, `SET
    /// LOGGED` of a logged table, ...): only the table's lock is taken.
    Skipped {
        what: String,
    },
}

/// ALTER TABLE subcommands about the table (or a column's settings) rather than its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableSubcommand {
    /// `ALTER COLUMN ... SET STATISTICS`
    SetStatistics,
    /// `ALTER COLUMN ... SET / RESET (attribute_option ...)`
    ColumnOptions,
    /// `ALTER COLUMN ... SET STORAGE`
    SetStorage,
    /// `ALTER COLUMN ... SET COMPRESSION`
    SetCompression,
    /// `SET WITHOUT CLUSTER`
    WithoutCluster,
    /// `ENABLE / DISABLE TRIGGER`
    Trigger { disable: bool },
    /// `ENABLE / DISABLE RULE`
    Rule,
    /// `REPLICA IDENTITY`
    ReplicaIdentity,
    /// `ENABLE / DISABLE / [NO] FORCE ROW LEVEL SECURITY`
    RowSecurity,
    /// `OWNER TO`
    Owner,
    /// `SET LOGGED` / `SET UNLOGGED`: the table is rewritten.
    Persistence,
    /// `ALTER COLUMN ... ADD / SET / DROP IDENTITY`
    Identity,
    /// `ALTER COLUMN ... DROP EXPRESSION`
    DropExpression,
    /// `ALTER CONSTRAINT ... [NOT] DEFERRABLE`
    AlterConstraint,
    /// `OF type` / `NOT OF`
    OfType,
    /// `RENAME CONSTRAINT`
    RenameConstraint,
    /// `SET WITHOUT OIDS` (nothing to do since PostgreSQL 12, but the lock is taken)
    WithoutOids,
    /// `ALTER FOREIGN TABLE ... [ALTER COLUMN ...] OPTIONS (...)`
    ForeignOptions,
}

impl AlterTableAction {
    /// Whether PostgreSQL applies the subcommand to the table's inheritance children and
    /// partitions too (unless ONLY), under the same lock: columns, their types, defaults,
    /// NOT NULL, statistics targets, storage and compression, CHECK and NOT NULL constraints
    /// and their validation, dropped constraints, dropped expressions.
    /// `DROP COLUMN | CONSTRAINT ... CASCADE`: what depends on it goes too, and the analysis
    /// does not walk it.
    pub fn cascades(&self) -> bool {
        matches!(
            self,
            AlterTableAction::DropColumn { cascade: true, .. } | AlterTableAction::DropConstraint { cascade: true, .. }
        )
    }

    pub fn recurses(&self) -> bool {
        match self {
            AlterTableAction::AddColumn(_)
            | AlterTableAction::DropColumn { .. }
            | AlterTableAction::AlterColumnType { .. }
            | AlterTableAction::SetNotNull { .. }
            | AlterTableAction::DropNotNull { .. }
            | AlterTableAction::ChangeDefault { .. }
            | AlterTableAction::ValidateConstraint { .. }
            | AlterTableAction::DropConstraint { .. }
            | AlterTableAction::SetExpression { .. } => true,
            AlterTableAction::AddConstraint(c) => matches!(c.kind, ConstraintKind::Check | ConstraintKind::NotNull),
            AlterTableAction::Table(sub) => matches!(
                sub,
                TableSubcommand::SetStatistics
                    | TableSubcommand::SetStorage
                    | TableSubcommand::SetCompression
                    | TableSubcommand::DropExpression
            ),
            _ => false,
        }
    }

    /// A `SET TABLESPACE` that moves the relation's files.
    pub fn moves_files(&self) -> bool {
        matches!(self, AlterTableAction::SetTablespace { unchanged: false, .. })
    }
}

impl TableSubcommand {
    pub fn sql(self) -> &'static str {
        match self {
            TableSubcommand::SetStatistics => "SET STATISTICS",
            TableSubcommand::ColumnOptions => "SET (attribute options)",
            TableSubcommand::SetStorage => "SET STORAGE",
            TableSubcommand::SetCompression => "SET COMPRESSION",
            TableSubcommand::WithoutCluster => "SET WITHOUT CLUSTER",
            TableSubcommand::Trigger { disable: true } => "DISABLE TRIGGER",
            TableSubcommand::Trigger { disable: false } => "ENABLE TRIGGER",
            TableSubcommand::Rule => "ENABLE/DISABLE RULE",
            TableSubcommand::ReplicaIdentity => "REPLICA IDENTITY",
            TableSubcommand::RowSecurity => "ROW LEVEL SECURITY",
            TableSubcommand::Owner => "OWNER TO",
            TableSubcommand::Persistence => "SET LOGGED/UNLOGGED",
            TableSubcommand::Identity => "IDENTITY",
            TableSubcommand::DropExpression => "DROP EXPRESSION",
            TableSubcommand::AlterConstraint => "ALTER CONSTRAINT",
            TableSubcommand::RenameConstraint => "RENAME CONSTRAINT",
            TableSubcommand::WithoutOids => "SET WITHOUT OIDS",
            TableSubcommand::ForeignOptions => "OPTIONS",
            TableSubcommand::OfType => "OF / NOT OF",
        }
    }
}

/// Whether an `ALTER DOMAIN` subcommand (the parse tree's one-letter `subtype`) checks the
/// domain's existing values: ADD CONSTRAINT (`C`) unless NOT VALID (`not_valid`: the added
/// constraint's flag, None when there is none), SET NOT NULL (`O`), VALIDATE CONSTRAINT (`V`).
pub fn alter_domain_validates(subtype: u8, not_valid: Option<bool>) -> bool {
    match subtype {
        b'C' => not_valid == Some(false),
        b'O' | b'V' => true,
        _ => false,
    }
}

/// Kinds of objects a DROP / RENAME / COMMENT targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectKind {
    Table,
    Index,
    View,
    MaterializedView,
    Sequence,
    Column,
    Other(String),
}

/// Transaction control in a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionControl {
    Begin,
    Commit,
    Rollback,
    /// `SAVEPOINT`, `RELEASE`, `ROLLBACK TO`, `PREPARE TRANSACTION` ...
    Other,
}

/// What an `OnRelation` statement does to its relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRelation {
    /// `CREATE [CONSTRAINT] TRIGGER ... ON table`
    CreateTrigger,
    /// `CREATE / ALTER / DROP POLICY ... ON table`
    Policy,
    /// `DROP TRIGGER name ON table`
    DropTrigger,
    /// `DROP TRIGGER | POLICY | RULE IF EXISTS` of one the table does not have, as the live
    /// catalog shows: PostgreSQL reads the table (ACCESS SHARE) and skips it with a NOTICE.
    DropMissing,
    /// `ALTER TRIGGER ... ON table RENAME`
    RenameTrigger,
    /// `CREATE / DROP RULE ... ON table`, `ALTER RULE ... RENAME`
    Rule,
    /// `DROP STATISTICS` of statistics on the table (the live catalog knows which table)
    DropStatistics,
    /// `CREATE STATISTICS ... FROM table`
    CreateStatistics,
    /// `CREATE OR REPLACE VIEW` of an existing view
    ReplaceView,
    /// `REFRESH MATERIALIZED VIEW [CONCURRENTLY]`
    /// `populated`: the view has been populated (as the live catalog shows; offline always).
    RefreshMaterializedView { concurrently: bool, populated: bool },
    /// `ALTER SEQUENCE`
    AlterSequence,
    /// `ALTER SEQUENCE ... SET LOGGED / UNLOGGED` (and ALTER TABLE's other forms on a
    /// sequence): ACCESS EXCLUSIVE on the sequence.
    SequenceAsTable,
    /// `ALTER EXTENSION ... ADD | DROP` of a table, view or sequence: SHARE UPDATE EXCLUSIVE
    /// on it.
    ExtensionMember,
    /// `SECURITY LABEL ON TABLE | VIEW | ...`: SHARE UPDATE EXCLUSIVE on it.
    SecurityLabel,
    /// `ALTER MATERIALIZED VIEW ... [NO] DEPENDS ON EXTENSION`: ACCESS EXCLUSIVE on it.
    ExtensionDependency,
    /// `ALTER TRIGGER ... ON table [NO] DEPENDS ON EXTENSION`: the table is only read (ACCESS
    /// SHARE); the trigger itself is locked as an object.
    TriggerExtensionDependency,
    /// `ALTER INDEX ... [NO] DEPENDS ON EXTENSION`: ACCESS EXCLUSIVE on the index.
    IndexExtensionDependency,
}

/// What a `DROP` whose reach only the catalog knows drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropTarget {
    Schema,
    /// A type or a domain.
    Type,
    Extension,
    /// Tables, views, materialized views, sequences dropped with CASCADE.
    Relation,
    /// `DROP OWNED BY role`: everything the roles own in the database (with or without
    /// CASCADE), named by the roles.
    Owned,
    /// Any other object dropped with CASCADE (functions, operators, collations, languages
    /// ...): found by the front end that can resolve it (the server), by catalog address.
    Object,
}

impl DropTarget {
    pub fn sql(self) -> &'static str {
        match self {
            DropTarget::Schema => "schema",
            DropTarget::Type => "type",
            DropTarget::Extension => "extension",
            DropTarget::Relation => "relation",
            DropTarget::Owned => "owned",
            DropTarget::Object => "object",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReindexTarget {
    Index,
    Table,
    /// A schema's tables (each in a transaction of its own).
    Schema,
    /// The database or the system catalogs: many tables at once.
    Many,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    AlterTable {
        relation: RelationName,
        actions: Vec<AlterTableAction>,
        /// `ALTER TABLE ONLY`: the subcommands that recurse into inheritance children and
        /// partitions do not.
        only: bool,
    },
    CreateTable {
        relation: RelationName,
        columns: Vec<ColumnDef>,
        constraints: Vec<Constraint>,
        partition_of: Option<RelationName>,
        inherits: Vec<RelationName>,
        like: Vec<RelationName>,
        /// `IF NOT EXISTS`: a no-op when the table exists.
        if_not_exists: bool,
    },
    /// `ALTER DOMAIN`: adding a constraint (unless NOT VALID), SET NOT NULL and VALIDATE
    /// CONSTRAINT check every column of the domain (or of a domain over it) in every table.
    AlterDomain {
        domain: RelationName,
        validates: bool,
    },
    /// `CREATE PUBLICATION` / `ALTER PUBLICATION ... ADD | SET | DROP` naming tables.
    Publication {
        tables: Vec<RelationName>,
    },
    /// `ALTER INDEX`: its subcommands (SET TABLESPACE, SET / RESET storage parameters,
    /// ALTER COLUMN ... SET STATISTICS, ATTACH PARTITION) act on the index.
    AlterIndex {
        index: RelationName,
        actions: Vec<AlterTableAction>,
    },
    CreateIndex {
        relation: RelationName,
        name: Option<String>,
        concurrently: bool,
        unique: bool,
        /// `IF NOT EXISTS`: a no-op when an index of that name exists.
        if_not_exists: bool,
        /// `ON ONLY` a partitioned table (as the live catalog shows; offline never): the
        /// parent's index alone, invalid until its partitions' indexes are attached — nothing
        /// is built, the parent is locked for a moment.
        only_partitioned: bool,
    },
    Drop {
        kind: ObjectKind,
        objects: Vec<RelationName>,
        cascade: bool,
        concurrently: bool,
    },
    Rename {
        kind: ObjectKind,
        relation: RelationName,
        column: Option<String>,
        new_name: String,
    },
    /// `COMMENT ON` a relation or one of its columns.
    Comment {
        relation: Option<RelationName>,
    },
    /// DDL that attaches something to one existing relation or refreshes it.
    OnRelation {
        relation: RelationName,
        what: OnRelation,
    },
    /// `TRUNCATE`: empties the tables (new files, the old data is gone).
    Truncate {
        relations: Vec<RelationName>,
        cascade: bool,
    },
    /// `LOCK TABLE ... IN <mode> MODE`.
    LockTable {
        relations: Vec<RelationName>,
        mode: LockMode,
    },
    /// `VACUUM [FULL]` (no relations: the whole database).
    Vacuum {
        relations: Vec<RelationName>,
        full: bool,
    },
    /// `CLUSTER [table]` (no table: every table clustered before that the role owns, each in
    /// a transaction of its own; the live catalog knows which).
    Cluster {
        relation: Option<RelationName>,
    },
    /// `REINDEX INDEX|TABLE|SCHEMA|DATABASE|SYSTEM [CONCURRENTLY]`.
    Reindex {
        target: ReindexTarget,
        /// The index or table (None for schema, database, system).
        relation: Option<RelationName>,
        concurrently: bool,
        /// The schema of `REINDEX SCHEMA`.
        schema: Option<String>,
    },
    /// `BEGIN`, `COMMIT`, `ROLLBACK`, savepoints: the structure of a script.
    Transaction(TransactionControl),
    /// `SELECT`, `INSERT`, `UPDATE`, `DELETE`, `MERGE`, `COPY`, `EXPLAIN`, cursors and
    /// prepared statements: data, not schema (fence gates DDL only; a migration's backfills
    /// are analyzed as such). The relations it reads are the statement's `reads`.
    Data(DataStatement),
    /// `CREATE VIEW`, `CREATE TABLE ... AS`, `SELECT ... INTO`, `CREATE MATERIALIZED VIEW`:
    /// a new relation from a query (the query's relations are the statement's `reads`).
    CreateFromQuery {
        relation: RelationName,
        /// The query runs now (a table or a materialized view WITH DATA), not only stored.
        runs: bool,
    },
    /// `REASSIGN OWNED BY role TO role`: a new owner for everything the roles own, each table
    /// under ACCESS EXCLUSIVE (the live catalog knows which).
    ReassignOwned {
        roles: Vec<String>,
    },
    /// `DO` and `CALL`: code whose statements fence analyzes and gates one by one as they run.
    Code,
    /// `ALTER TABLE | INDEX | MATERIALIZED VIEW ALL IN TABLESPACE ... SET TABLESPACE`: every
    /// such relation there (of the roles named, if any) is moved, each under ACCESS EXCLUSIVE
    /// (the live catalog knows which).
    MoveAll {
        tablespace: String,
        kind: ObjectKind,
        roles: Vec<String>,
    },
    /// `SET` / `RESET` of a session setting.
    Setting {
        name: String,
        value: Option<String>,
    },
    /// `DROP SCHEMA | TYPE | DOMAIN | FUNCTION | ... CASCADE`, `DROP EXTENSION` and `DROP
    /// OWNED`: what goes with them (tables, views, columns, constraints, triggers) is looked up
    /// in the live catalog's dependencies (offline: unknown).
    DropObjects {
        target: DropTarget,
        /// The objects' names as written (`s.name`, `f(integer)`, a role's name).
        names: Vec<String>,
        cascade: bool,
        /// The objects' catalog addresses (class OID, object OID), for `DropTarget::Object`
        /// when the front end could resolve them (the server; offline: none); (0, 0) for an
        /// object the server could not resolve (what it takes with it is unknown).
        addresses: Vec<(u32, u32)>,
    },
    /// DDL that takes no lock on an existing table, view or index (schemas, functions,
    /// types, sequences, grants, extensions ...).
    NoTableLock,
    /// DDL fence does not classify; handled by the policy's `unknown` setting.
    Unclassified,
}

/// What a data statement does with rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataAction {
    /// `SELECT` (and `COPY ... TO`, `EXPLAIN` without ANALYZE, cursors, prepared statements).
    Read,
    Insert,
    Update,
    Delete,
    Merge,
    /// `COPY table FROM`
    CopyFrom,
}

impl DataAction {
    pub fn sql(self) -> &'static str {
        match self {
            DataAction::Read => "SELECT",
            DataAction::Insert => "INSERT",
            DataAction::Update => "UPDATE",
            DataAction::Delete => "DELETE",
            DataAction::Merge => "MERGE",
            DataAction::CopyFrom => "COPY FROM",
        }
    }
}

/// A data statement in a migration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataStatement {
    pub action: Option<DataAction>,
    /// The table written.
    pub target: Option<RelationName>,
    /// Tables whose rows `FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE` locks (ROW SHARE on
    /// each and its indexes).
    pub row_locked: Vec<RelationName>,
    /// Tables the statement's WITH clauses write (`WITH d AS (DELETE FROM t RETURNING *)`).
    pub cte_writes: Vec<(RelationName, DataAction)>,
    /// A WHERE clause (or a join) limits the rows written; without one every row is.
    pub filtered: bool,
    /// The planner's estimate, when a server planned the statement (`fence.analyze`).
    pub estimate: Option<RowEstimate>,
    /// Planned now, run later or never (`EXPLAIN` without ANALYZE, `PREPARE`, `DECLARE
    /// CURSOR`): its locks are taken, no row is read or written yet.
    pub deferred: bool,
}

/// What the planner expects a data statement to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowEstimate {
    /// Rows written (or locked, or read for a SELECT).
    pub rows: u64,
    /// The plan reads a table whole (a sequential scan).
    pub scans: bool,
}

/// The tables whose rows a locking clause (`FOR UPDATE [OF name, ...]`) locks, of the FROM
/// clause's tables with their aliases: those the OF list names (by alias, or by name when
/// there is no alias), or all of them.
pub fn locked_by(from: &[(RelationName, Option<String>)], named: &[String]) -> Vec<RelationName> {
    from.iter()
        .filter(|(relation, alias)| named.is_empty() || named.contains(alias.as_ref().unwrap_or(&relation.name)))
        .map(|(relation, _)| relation.clone())
        .collect()
}

/// One statement: its command tag as PostgreSQL reports it and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub tag: String,
    pub kind: StatementKind,
    /// The tables and views its query reads (ACCESS SHARE): a view's, a `CREATE TABLE AS`'s,
    /// a data statement's.
    pub reads: Vec<RelationName>,
}

impl Statement {
    pub fn new(tag: &str, kind: StatementKind) -> Self {
        Statement { tag: tag.to_string(), kind, reads: Vec::new() }
    }

    /// The statement, reading `reads` (duplicates left out).
    pub fn reading(mut self, reads: Vec<RelationName>) -> Self {
        for read in reads {
            if !self.reads.contains(&read) {
                self.reads.push(read);
            }
        }
        self
    }

    /// Every relation name in the statement, for resolution against a catalog.
    pub fn relations_mut(&mut self) -> Vec<&mut RelationName> {
        let mut out = kind_relations_mut(&mut self.kind);
        out.extend(self.reads.iter_mut());
        out
    }

    /// The `ALTER TABLE` subcommands, with their table, if this is an `ALTER TABLE`.
    pub fn alter_actions(&self) -> impl Iterator<Item = (&RelationName, &AlterTableAction)> {
        let (relation, actions) = match &self.kind {
            StatementKind::AlterTable { relation, actions, .. } => (Some(relation), actions.as_slice()),
            _ => (None, [].as_slice()),
        };
        actions.iter().filter_map(move |action| relation.map(|r| (r, action)))
    }
}

/// Every relation a statement's kind names.
fn kind_relations_mut(kind: &mut StatementKind) -> Vec<&mut RelationName> {
    fn constraint(c: &mut Constraint) -> Option<&mut RelationName> {
        match &mut c.kind {
            ConstraintKind::ForeignKey { references } => Some(references),
            _ => None,
        }
    }
    fn column(c: &mut ColumnDef) -> impl Iterator<Item = &mut RelationName> {
        c.constraints.iter_mut().filter_map(constraint)
    }
    match kind {
        StatementKind::AlterTable { relation, actions, .. } => {
            let mut out = vec![relation];
            for action in actions {
                match action {
                    AlterTableAction::AddColumn(c) => out.extend(column(c)),
                    AlterTableAction::AddConstraint(c) => out.extend(constraint(c)),
                    AlterTableAction::AttachPartition { partition }
                    | AlterTableAction::DetachPartition { partition, .. }
                    | AlterTableAction::FinalizeDetach { partition } => out.push(partition),
                    AlterTableAction::Inherit { parent, .. } => out.push(parent),
                    AlterTableAction::DropConstraint { references: Some(references), .. } => out.push(references),
                    AlterTableAction::SetEnforced { references: Some(references), .. } => out.push(references),
                    _ => {}
                }
            }
            out
        }
        StatementKind::CreateTable { columns, constraints, partition_of, inherits, like, .. } => {
            let mut out: Vec<&mut RelationName> = columns.iter_mut().flat_map(column).collect();
            out.extend(constraints.iter_mut().filter_map(constraint));
            out.extend(partition_of.iter_mut());
            out.extend(inherits.iter_mut());
            out.extend(like.iter_mut());
            out
        }
        StatementKind::AlterIndex { index, actions } => {
            let mut out = vec![index];
            for action in actions {
                if let AlterTableAction::AttachPartition { partition } = action {
                    out.push(partition);
                }
            }
            out
        }
        StatementKind::CreateIndex { relation, .. }
        | StatementKind::Rename { relation, .. }
        | StatementKind::OnRelation { relation, .. }
        | StatementKind::CreateFromQuery { relation, .. } => vec![relation],
        StatementKind::Data(data) => data
            .target
            .iter_mut()
            .chain(data.row_locked.iter_mut())
            .chain(data.cte_writes.iter_mut().map(|(relation, _)| relation))
            .collect(),
        StatementKind::Drop { objects, .. } => objects.iter_mut().collect(),
        StatementKind::Comment { relation }
        | StatementKind::Cluster { relation }
        | StatementKind::Reindex { relation, .. } => relation.iter_mut().collect(),
        StatementKind::Publication { tables } => tables.iter_mut().collect(),
        StatementKind::Truncate { relations, .. }
        | StatementKind::LockTable { relations, .. }
        | StatementKind::Vacuum { relations, .. } => relations.iter_mut().collect(),
        StatementKind::AlterDomain { .. }
        | StatementKind::DropObjects { .. }
        | StatementKind::Transaction(_)
        | StatementKind::ReassignOwned { .. }
        | StatementKind::MoveAll { .. }
        | StatementKind::Code
        | StatementKind::Setting { .. }
        | StatementKind::NoTableLock
        | StatementKind::Unclassified => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::subcommand_words;

    #[test]
    fn subcommand_names_read_as_words_from_both_parsers() {
        assert_eq!(subcommand_words("AT_DropOids"), "DROP OIDS");
        assert_eq!(subcommand_words("AtDropOids"), "DROP OIDS");
        assert_eq!(subcommand_words("AT_EnableAlwaysTrig"), "ENABLE ALWAYS TRIG");
    }
}
