//! What the analysis may ask about the database. The extension answers from the live
//! catalog; offline front ends answer "unknown".

use crate::model::{DropTarget, ObjectKind, RelationName};

/// What a DROP takes with it, from the dependency catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cascade {
    /// Tables, views, materialized views, foreign tables and sequences dropped.
    pub dropped: Vec<RelationName>,
    /// Tables that lose a column, constraint, trigger, default, index or policy (ACCESS
    /// EXCLUSIVE on each).
    pub altered: Vec<RelationName>,
    /// The named objects the catalog found (what DROP OWNED takes, for it): none, and the
    /// statement drops nothing.
    pub found: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RelationState {
    /// No catalog available (offline analysis).
    Unknown,
    /// The relation does not exist (yet).
    Missing,
    /// Created earlier in the same transaction or script: locking it harms nobody.
    New,
    /// A temporary relation of this session (its own `pg_temp` schema): no other session can
    /// see it, wait for it or lose it.
    Private,
    /// A pre-existing relation: the planner's row estimate, and its size in 8 KiB blocks as
    /// its files have it now (0: empty; -1: no storage of its own, e.g. a partitioned table).
    Existing { rows: f64, pages: i64 },
}

impl RelationState {
    pub fn is_new(self) -> bool {
        self == RelationState::New
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedRelation {
    /// Schema-qualified when the catalog knows the schema, as written otherwise.
    pub name: RelationName,
    pub state: RelationState,
}

pub trait Catalog {
    /// Resolves a relation name (search path, existence, size).
    fn resolve(&self, relation: &RelationName) -> ResolvedRelation;

    /// Whether `CREATE ... IF NOT EXISTS` of `name` finds it already there (PostgreSQL then
    /// skips the statement): an index of that name on the table `index_of`, or a table of that
    /// name in the schema it would be created in. Default: unknown, false.
    fn already_created(&self, _name: &RelationName, _index_of: Option<&RelationName>) -> bool {
        false
    }

    /// The table an index belongs to, when known.
    fn index_table(&self, index: &RelationName) -> Option<RelationName>;

    /// The indexes of a table (rebuilt, under ACCESS EXCLUSIVE, when the table is
    /// rewritten); empty when unknown.
    fn table_indexes(&self, table: &RelationName) -> Vec<RelationName>;

    /// What dropping these schemas, types, extensions, relations, roles' belongings or
    /// objects (by catalog address: class OID, object OID) takes with it (with CASCADE, an
    /// extension's members, what DROP OWNED drops); None when unknown. Default: unknown.
    fn dropped_with(&self, _target: DropTarget, _names: &[String], _addresses: &[(u32, u32)]) -> Option<Cascade> {
        None
    }

    /// The tables, views, materialized views and sequences the roles own in this database
    /// (what REASSIGN OWNED gives a new owner); None when unknown. Default: unknown.
    fn owned_relations(&self, _roles: &[String]) -> Option<Vec<RelationName>> {
        None
    }

    /// The tables and views a view's query reads, at every level (a query naming the view
    /// is rewritten to read them, under ACCESS SHARE); empty for a table, or when unknown.
    /// Default: unknown.
    fn view_reads(&self, _view: &RelationName) -> Vec<RelationName> {
        Vec::new()
    }

    /// Every inheritance child and partition of a table, at every level (what a recursing
    /// ALTER TABLE reaches); empty when unknown. Default: unknown.
    fn descendants(&self, _table: &RelationName) -> Vec<RelationName> {
        Vec::new()
    }

    /// The tables a table's foreign keys reference (dropping the table drops the keys'
    /// triggers on them, under ACCESS EXCLUSIVE); empty when unknown. Default: unknown.
    fn referenced_tables(&self, _table: &RelationName) -> Vec<RelationName> {
        Vec::new()
    }

    /// The tables whose foreign keys reference a table, each with whether deleting a row of
    /// the table writes to it (ON DELETE CASCADE, SET NULL, SET DEFAULT) rather than only
    /// checking it; empty when unknown. Default: unknown.
    fn referencing_tables(&self, _table: &RelationName) -> Vec<(RelationName, bool)> {
        Vec::new()
    }

    /// The tables and materialized views of a schema (what REINDEX SCHEMA rebuilds the
    /// indexes of); None when unknown. Default: unknown.
    fn schema_tables(&self, _schema: &str) -> Option<Vec<RelationName>> {
        None
    }

    /// The tables a `CLUSTER` without a table clusters again: those clustered before (an
    /// index marked) that the role may cluster; None when unknown. Default: unknown.
    fn clustered_tables(&self) -> Option<Vec<RelationName>> {
        None
    }

    /// The tables a `VACUUM` or `ANALYZE` without a list processes: those the role may
    /// maintain (it owns them or the database, or is a superuser; from PostgreSQL 17 the
    /// MAINTAIN privilege), system catalogs included; None when unknown. Default: unknown.
    fn vacuumed_tables(&self) -> Option<Vec<RelationName>> {
        None
    }

    /// The default partition of a partitioned table, if it has one (attaching, creating or
    /// detaching another partition locks it ACCESS EXCLUSIVE; attaching or creating one scans
    /// it). Default: unknown, none.
    fn default_partition(&self, _table: &RelationName) -> Option<RelationName> {
        None
    }

    /// The relations of a kind in a tablespace (of the roles named, when any): what `ALTER
    /// ... ALL IN TABLESPACE` moves; None when unknown. Default: unknown.
    fn tablespace_relations(
        &self,
        _tablespace: &str,
        _kind: &ObjectKind,
        _roles: &[String],
    ) -> Option<Vec<RelationName>> {
        None
    }

    /// Whether a CHECK constraint of the table uses the column (a type change re-validates
    /// it: a scan even when no row is rewritten). Default: unknown, false.
    fn column_has_checks(&self, _table: &RelationName, _column: &str) -> bool {
        false
    }

    /// The tables with a column of the domain (or of a domain over it): validating one of its
    /// constraints locks each in SHARE mode and scans it. Default: unknown, none.
    fn domain_tables(&self, _domain: &RelationName) -> Vec<RelationName> {
        Vec::new()
    }

    /// The indexes that use a column (a type change re-creates them, even when it keeps
    /// their files); empty when unknown. Default: unknown.
    fn column_indexes(&self, _table: &RelationName, _column: &str) -> Vec<RelationName> {
        Vec::new()
    }
}

/// The catalog of offline analysis: knows nothing.
pub struct OfflineCatalog;

impl Catalog for OfflineCatalog {
    fn resolve(&self, relation: &RelationName) -> ResolvedRelation {
        ResolvedRelation { name: relation.clone(), state: RelationState::Unknown }
    }

    fn index_table(&self, _index: &RelationName) -> Option<RelationName> {
        None
    }

    fn table_indexes(&self, _table: &RelationName) -> Vec<RelationName> {
        Vec::new()
    }
}
