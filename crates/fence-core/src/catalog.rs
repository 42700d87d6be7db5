//! What the analysis may ask about the database. The extension answers from the live
//! catalog; offline front ends answer "unknown".

use crate::model::{DropTarget, RelationName};

/// What a DROP takes with it, from the dependency catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cascade {
    /// Tables, views, materialized views, foreign tables and sequences dropped.
    pub dropped: Vec<RelationName>,
    /// Tables that lose a column, constraint, trigger, default, index or policy (ACCESS
    /// EXCLUSIVE on each).
    pub altered: Vec<RelationName>,
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

    /// What dropping these schemas, types or extensions takes with it (with CASCADE, or an
    /// extension's members); None when unknown. Default: unknown.
    fn dropped_with(&self, _target: DropTarget, _names: &[String]) -> Option<Cascade> {
        None
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
