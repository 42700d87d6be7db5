//! What PostgreSQL 15 does when it runs a statement: which lock on which relation, whether
//! it rewrites the table, whether it scans it. These are facts of the server
//! (`AlterTableGetLockLevel`, `DefineIndex`, `RemoveRelations` ...), not policy.

use crate::catalog::Catalog;
use crate::lock::LockMode;
use crate::model::{
    AlterTableAction, ColumnDef, Constraint, ConstraintKind, DataAction, DataStatement, DropTarget, ObjectKind,
    OnRelation, ReindexTarget, RelationName, Statement, StatementKind, TableSubcommand,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelKind {
    /// A table, partitioned table, view or materialized view.
    Table,
    Index,
    Sequence,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub relation: RelationName,
    pub kind: RelKind,
    pub mode: LockMode,
    /// Reached through this table: an inheritance child or partition a recursing ALTER TABLE
    /// of it also alters.
    pub through: Option<RelationName>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// At most one entry per relation: the strongest mode taken on it.
    pub locks: Vec<Lock>,
    /// Relations dropped though the statement does not name them (a CASCADE's reach).
    pub dropped: Vec<RelationName>,
    /// A DROP of schemas, types, functions ... whose objects the live catalog does not find
    /// (IF EXISTS skips them): it drops nothing. (Existing objects with no dependents yet are
    /// not "nothing": dependents made while the DROP waits for its locks go with it.)
    pub drops_nothing: bool,
    /// What the statement does could not be known (the catalog could not tell).
    pub unknown: bool,
    pub rewrites: bool,
    pub scans: bool,
}

impl Effects {
    fn lock(&mut self, relation: &RelationName, kind: RelKind, mode: LockMode) {
        match self.locks.iter_mut().find(|l| &l.relation == relation) {
            Some(existing) => existing.mode = existing.mode.max(mode),
            None => self.locks.push(Lock { relation: relation.clone(), kind, mode, through: None }),
        }
    }

    /// A lock on an inheritance child or partition that `parent`'s statement reaches.
    fn lock_through(&mut self, relation: &RelationName, parent: &RelationName, mode: LockMode) {
        self.lock(relation, RelKind::Table, mode);
        if let Some(lock) = self.locks.iter_mut().find(|l| &l.relation == relation) {
            lock.through.get_or_insert_with(|| parent.clone());
        }
    }

    /// The strongest lock on a table-like relation.
    pub fn strongest_table_lock(&self) -> Option<&Lock> {
        self.locks.iter().filter(|l| l.kind == RelKind::Table).max_by_key(|l| l.mode)
    }
}

impl Effects {
    /// The indexes of dropped tables go with them, under ACCESS EXCLUSIVE.
    fn lock_indexes(&mut self, tables: &[RelationName], catalog: &dyn Catalog) {
        for table in tables {
            for index in catalog.table_indexes(table) {
                self.lock(&index, RelKind::Index, LockMode::AccessExclusive);
            }
        }
    }

    /// A table and its indexes, in one mode (a scan is planned: the planner opens every
    /// index of the table in the table's mode).
    fn lock_with_indexes(&mut self, table: &RelationName, mode: LockMode, catalog: &dyn Catalog) {
        self.lock(table, RelKind::Table, mode);
        for index in catalog.table_indexes(table) {
            self.lock(&index, RelKind::Index, mode);
        }
    }

    /// `table` is rewritten into new files: every row is read, and each of its indexes is
    /// rebuilt under ACCESS EXCLUSIVE.
    fn rewrite(&mut self, table: &RelationName, catalog: &dyn Catalog) {
        self.rewrites = true;
        self.scans = true;
        for index in catalog.table_indexes(table) {
            self.lock(&index, RelKind::Index, LockMode::AccessExclusive);
        }
    }
}

/// The effects of one statement; the catalog answers which table an index belongs to and
/// which indexes a table has (the offline catalog does not know).
pub fn effects(statement: &Statement, catalog: &dyn Catalog) -> Effects {
    let index_table = |index: &RelationName| catalog.index_table(index);
    let mut fx = Effects::default();
    match &statement.kind {
        StatementKind::AlterTable { relation, actions, only } => {
            for action in actions {
                alter_table_action(&mut fx, relation, action, catalog);
            }
            // The children and partitions a recursing subcommand reaches: the same lock, and
            // the same rewrite.
            let recursion = (!only && actions.iter().any(AlterTableAction::recurses))
                .then(|| fx.locks.iter().filter(|l| &l.relation == relation).map(|l| l.mode).max())
                .flatten();
            let children = recursion.map(|_| catalog.descendants(relation)).unwrap_or_default();
            if let Some(mode) = recursion {
                for child in &children {
                    fx.lock_through(child, relation, mode);
                }
            }
            if fx.rewrites {
                fx.rewrite(relation, catalog);
                for child in &children {
                    fx.rewrite(child, catalog);
                }
            }
            // Copied into another tablespace: new files, though no row is read.
            fx.rewrites |= actions.iter().any(AlterTableAction::moves_files);
        }
        StatementKind::AlterDomain { domain, validates: true } => {
            // PostgreSQL's validateDomainConstraint: each table under SHARE, every row read.
            for table in catalog.domain_tables(domain) {
                fx.lock(&table, RelKind::Table, LockMode::Share);
            }
            fx.scans = true;
        }
        StatementKind::Publication { tables } => {
            // PostgreSQL's OpenTableList: each named table, no row read.
            for table in tables {
                fx.lock(table, RelKind::Table, LockMode::ShareUpdateExclusive);
            }
        }
        StatementKind::AlterIndex { index, actions } => {
            for action in actions {
                alter_index_action(&mut fx, index, action);
            }
        }
        StatementKind::CreateTable { columns, constraints, partition_of, inherits, like, .. } => {
            if let Some(parent) = partition_of {
                fx.lock(parent, RelKind::Table, LockMode::AccessExclusive);
                // Rows of the default partition that belong to the new one are looked for.
                if let Some(default) = catalog.default_partition(parent) {
                    fx.lock(&default, RelKind::Table, LockMode::AccessExclusive);
                    fx.scans = true;
                }
            }
            for parent in inherits {
                fx.lock(parent, RelKind::Table, LockMode::ShareUpdateExclusive);
            }
            for source in like {
                fx.lock(source, RelKind::Table, LockMode::AccessShare);
            }
            let inline = columns.iter().flat_map(|c| c.constraints.iter());
            for constraint in inline.chain(constraints.iter()) {
                if let ConstraintKind::ForeignKey { references } = &constraint.kind {
                    fx.lock(references, RelKind::Table, LockMode::ShareRowExclusive);
                }
            }
        }
        StatementKind::CreateIndex { relation, concurrently, only_partitioned, .. } => {
            let mode = if *concurrently { LockMode::ShareUpdateExclusive } else { LockMode::Share };
            fx.lock(relation, RelKind::Table, mode);
            fx.scans = !only_partitioned;
        }
        StatementKind::Drop { kind, objects, concurrently, cascade } => {
            drop_objects(&mut fx, kind, objects, *concurrently, &index_table);
            // What CASCADE takes with the named relations (views on them, foreign keys of
            // other tables referencing them): from the catalog, when it knows.
            let relations = matches!(
                kind,
                ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView | ObjectKind::Sequence
            );
            if *cascade && relations {
                let names: Vec<String> = objects.iter().map(RelationName::quoted).collect();
                // Not "through" the named relation: an exemption of it must not cover what its
                // CASCADE takes along (a table made to inherit from a throwaway one).
                if let Some(cascade) = catalog.dropped_with(DropTarget::Relation, &names, &[]) {
                    for relation in cascade.dropped.iter().chain(&cascade.altered).filter(|r| !objects.contains(r)) {
                        fx.lock(relation, RelKind::Table, LockMode::AccessExclusive);
                    }
                    fx.dropped = cascade.dropped.into_iter().filter(|r| !objects.contains(r)).collect();
                    let dropped = fx.dropped.clone();
                    fx.lock_indexes(&dropped, catalog);
                }
            }
            if *kind == ObjectKind::Table {
                // A partitioned table's partitions go with it (an inheritance parent's children
                // only with CASCADE: without, PostgreSQL refuses).
                for table in objects {
                    for child in catalog.descendants(table) {
                        fx.lock(&child, RelKind::Table, LockMode::AccessExclusive);
                        if !fx.dropped.contains(&child) && !objects.contains(&child) {
                            fx.dropped.push(child);
                        }
                    }
                }
                for table in objects {
                    for index in catalog.table_indexes(table) {
                        fx.lock(&index, RelKind::Index, LockMode::AccessExclusive);
                    }
                    for referenced in catalog.referenced_tables(table) {
                        fx.lock(&referenced, RelKind::Table, LockMode::AccessExclusive);
                    }
                }
            }
        }
        StatementKind::Rename { kind, relation, .. } => {
            let (rel_kind, mode) = match kind {
                ObjectKind::Index => (RelKind::Index, LockMode::ShareUpdateExclusive),
                ObjectKind::Sequence => (RelKind::Sequence, LockMode::AccessExclusive),
                _ => (RelKind::Table, LockMode::AccessExclusive),
            };
            fx.lock(relation, rel_kind, mode);
        }
        StatementKind::Comment { relation: Some(relation) } => {
            fx.lock(relation, RelKind::Table, LockMode::ShareUpdateExclusive);
        }
        StatementKind::OnRelation { relation, what } => on_relation(&mut fx, relation, *what),
        StatementKind::Truncate { relations, .. } => {
            for relation in relations {
                fx.lock(relation, RelKind::Table, LockMode::AccessExclusive);
                // New, empty files; each index is rebuilt by scanning the empty heap (no rows
                // are read, but PostgreSQL counts the scan).
                for index in catalog.table_indexes(relation) {
                    fx.lock(&index, RelKind::Index, LockMode::AccessExclusive);
                    fx.scans = true;
                }
            }
            fx.rewrites = true;
        }
        StatementKind::LockTable { relations, mode } => {
            for relation in relations {
                fx.lock(relation, RelKind::Table, *mode);
            }
        }
        StatementKind::Vacuum { relations, full } => {
            let mode = if *full { LockMode::AccessExclusive } else { LockMode::ShareUpdateExclusive };
            // Without a list: every table the role may vacuum, one at a time (the catalog knows
            // which).
            let all = if relations.is_empty() { catalog.vacuumed_tables().unwrap_or_default() } else { Vec::new() };
            for relation in relations.iter().chain(&all) {
                fx.lock(relation, RelKind::Table, mode);
                if *full {
                    fx.rewrite(relation, catalog);
                }
            }
            fx.rewrites = *full;
            fx.scans = true;
        }
        StatementKind::Cluster { relation } => {
            let tables = match relation {
                Some(relation) => Some(vec![relation.clone()]),
                None => catalog.clustered_tables(),
            };
            for table in tables.iter().flatten() {
                fx.lock(table, RelKind::Table, LockMode::AccessExclusive);
                fx.rewrite(table, catalog);
            }
            fx.rewrites = true;
            fx.scans = true;
        }
        StatementKind::Reindex { target: ReindexTarget::Schema, schema, concurrently, .. } => {
            // Each table in a transaction of its own: the locks are taken one table at a time.
            for table in schema.as_deref().and_then(|s| catalog.schema_tables(s)).unwrap_or_default() {
                reindex(&mut fx, ReindexTarget::Table, Some(&table), *concurrently, catalog);
            }
            fx.scans = true;
        }
        StatementKind::Reindex { target, relation, concurrently, .. } => {
            reindex(&mut fx, *target, relation.as_ref(), *concurrently, catalog)
        }
        StatementKind::DropObjects { target, names, cascade, addresses } => {
            // Without CASCADE a schema or type with dependents is refused by PostgreSQL; an
            // extension takes its members either way, and DROP OWNED what the roles own.
            let unresolved = addresses.contains(&(0, 0));
            if (*cascade || matches!(target, DropTarget::Extension | DropTarget::Owned)) && !unresolved {
                match catalog.dropped_with(*target, names, addresses) {
                    Some(cascade) => {
                        for relation in cascade.dropped.iter().chain(&cascade.altered) {
                            fx.lock(relation, RelKind::Table, LockMode::AccessExclusive);
                        }
                        fx.lock_indexes(&cascade.dropped, catalog);
                        fx.dropped = cascade.dropped;
                        fx.drops_nothing = cascade.found == 0;
                    }
                    None => fx.unknown = true,
                }
            }
            fx.unknown |= unresolved;
        }
        StatementKind::Data(data) => data_statement(&mut fx, data, catalog),
        StatementKind::CreateFromQuery { runs, .. } => fx.scans = *runs && !statement.reads.is_empty(),
        StatementKind::ReassignOwned { roles } => match catalog.owned_relations(roles) {
            // Each table's owner changes under ACCESS EXCLUSIVE, its indexes' with it.
            Some(owned) => {
                for relation in owned {
                    fx.lock(&relation, RelKind::Table, LockMode::AccessExclusive);
                    for index in catalog.table_indexes(&relation) {
                        fx.lock(&index, RelKind::Index, LockMode::AccessExclusive);
                    }
                }
            }
            None => fx.unknown = true,
        },
        StatementKind::MoveAll { tablespace, kind, roles } => {
            let rel_kind = if *kind == ObjectKind::Index { RelKind::Index } else { RelKind::Table };
            match catalog.tablespace_relations(tablespace, kind, roles) {
                Some(relations) => {
                    for relation in relations {
                        fx.lock(&relation, rel_kind, LockMode::AccessExclusive);
                    }
                }
                None => fx.unknown = true,
            }
            // Files copied, not rows read.
            fx.rewrites = true;
        }
        StatementKind::Comment { relation: None }
        | StatementKind::AlterDomain { validates: false, .. }
        | StatementKind::Transaction(_)
        | StatementKind::Code
        | StatementKind::Setting { .. }
        | StatementKind::NoTableLock
        | StatementKind::Unclassified => {}
    }
    reads(&mut fx, statement, catalog);
    fx
}

/// The relations a statement's query reads: ACCESS SHARE on each; a query that is planned and
/// run (not a view's, which is only stored) reads the tables of the views it names too.
fn reads(fx: &mut Effects, statement: &Statement, catalog: &dyn Catalog) {
    let planned = matches!(statement.kind, StatementKind::Data(_) | StatementKind::CreateFromQuery { runs: true, .. });
    for relation in &statement.reads {
        fx.lock(relation, RelKind::Table, LockMode::AccessShare);
        if planned {
            for base in catalog.view_reads(relation) {
                fx.lock(&base, RelKind::Table, LockMode::AccessShare);
            }
        }
    }
}

/// A data statement: ROW EXCLUSIVE on the tables it writes (its own target, those its WITH
/// clauses write), ROW SHARE on the tables whose rows it locks and their indexes (the planner
/// opens them in the table's mode). It reads a table whole when the planner says so; without
/// a plan, when an UPDATE or DELETE has no WHERE.
fn data_statement(fx: &mut Effects, data: &DataStatement, catalog: &dyn Catalog) {
    for relation in &data.row_locked {
        fx.lock_with_indexes(relation, LockMode::RowShare, catalog);
    }
    let own = data.target.iter().zip(data.action);
    for (target, action) in own.chain(data.cte_writes.iter().map(|(t, a)| (t, *a))) {
        write(fx, target, action, data.deferred, catalog);
    }
    fx.scans = match data.estimate {
        _ if data.deferred => false,
        Some(estimate) => estimate.scans,
        None => !data.filtered && matches!(data.action, Some(DataAction::Update | DataAction::Delete)),
    };
}

/// A table written: an UPDATE's, DELETE's or MERGE's target is planned as a scan, which opens
/// its indexes in the statement's mode, an INSERT's or COPY's is not; its partitions and
/// inheritance children are written too (as far as pruning does not leave them out), a view's
/// tables through it. Foreign keys: a new row's key is checked in the referenced table (its
/// rows read FOR KEY SHARE); a deleted row's referencing rows are checked, or deleted or
/// updated by the key's action. (An UPDATE checks only when it changes a key, a MERGE per
/// action: not modeled.)
fn write(fx: &mut Effects, target: &RelationName, action: DataAction, deferred: bool, catalog: &dyn Catalog) {
    let mut tables = vec![target.clone()];
    tables.extend(catalog.descendants(target));
    tables.extend(catalog.view_reads(target));
    for table in &tables {
        match action {
            DataAction::Update | DataAction::Delete | DataAction::Merge => {
                fx.lock_with_indexes(table, LockMode::RowExclusive, catalog)
            }
            DataAction::Insert | DataAction::CopyFrom => fx.lock(table, RelKind::Table, LockMode::RowExclusive),
            DataAction::Read => {}
        }
    }
    if deferred {
        return;
    }
    if matches!(action, DataAction::Insert | DataAction::CopyFrom) {
        for referenced in catalog.referenced_tables(target) {
            fx.lock_with_indexes(&referenced, LockMode::RowShare, catalog);
        }
    }
    if action == DataAction::Delete {
        for (referencing, writes) in catalog.referencing_tables(target) {
            let mode = if writes { LockMode::RowExclusive } else { LockMode::RowShare };
            fx.lock_with_indexes(&referencing, mode, catalog);
        }
    }
}

/// REINDEX: SHARE on the table (writes wait, reads go on) and ACCESS EXCLUSIVE on each index
/// rebuilt; CONCURRENTLY takes SHARE UPDATE EXCLUSIVE on both instead.
fn reindex(
    fx: &mut Effects,
    target: ReindexTarget,
    relation: Option<&RelationName>,
    concurrently: bool,
    catalog: &dyn Catalog,
) {
    let (table_mode, index_mode) = if concurrently {
        (LockMode::ShareUpdateExclusive, LockMode::ShareUpdateExclusive)
    } else {
        (LockMode::Share, LockMode::AccessExclusive)
    };
    match (target, relation) {
        (ReindexTarget::Index, Some(index)) => {
            if let Some(table) = catalog.index_table(index) {
                fx.lock(&table, RelKind::Table, table_mode);
            }
            fx.lock(index, RelKind::Index, index_mode);
        }
        (ReindexTarget::Table, Some(table)) => {
            fx.lock(table, RelKind::Table, table_mode);
            for index in catalog.table_indexes(table) {
                fx.lock(&index, RelKind::Index, index_mode);
            }
        }
        _ => {}
    }
    fx.scans = true;
}

fn alter_table_action(fx: &mut Effects, relation: &RelationName, action: &AlterTableAction, catalog: &dyn Catalog) {
    let mode = match action {
        AlterTableAction::AddColumn(column) => {
            add_column(fx, column);
            LockMode::AccessExclusive
        }
        AlterTableAction::AlterColumnType { column, binary_coercible, .. } => {
            fx.rewrites |= !binary_coercible;
            // CHECK constraints using the column are validated again: a scan.
            fx.scans |= catalog.column_has_checks(relation, column);
            // The column's indexes are re-created (keeping their files when the change is
            // binary-coercible).
            for index in catalog.column_indexes(relation, column) {
                fx.lock(&index, RelKind::Index, LockMode::AccessExclusive);
            }
            LockMode::AccessExclusive
        }
        AlterTableAction::SetNotNull { proven, .. } => {
            fx.scans |= !proven;
            LockMode::AccessExclusive
        }
        AlterTableAction::AddConstraint(constraint) => add_constraint(fx, constraint),
        AlterTableAction::ValidateConstraint { .. } => {
            fx.scans = true;
            LockMode::ShareUpdateExclusive
        }
        AlterTableAction::Table(subcommand) => table_subcommand(fx, *subcommand),
        AlterTableAction::StorageParameters { names } => storage_parameters_lock(names),
        AlterTableAction::Inherit { parent, inherit } => {
            if *inherit {
                fx.lock(parent, RelKind::Table, LockMode::ShareUpdateExclusive);
            }
            LockMode::AccessExclusive
        }
        AlterTableAction::DropConstraint { references, .. } => {
            // A foreign key's triggers on the referenced table are dropped with it.
            if let Some(references) = references {
                fx.lock(references, RelKind::Table, LockMode::AccessExclusive);
            }
            LockMode::AccessExclusive
        }
        AlterTableAction::AttachPartition { partition } => {
            // The partition is scanned to check its rows fit the bound (unless a constraint
            // already proves it), and so is the default partition (for rows that belong to the
            // new one); the parent only takes SHARE UPDATE EXCLUSIVE.
            fx.lock(partition, RelKind::Table, LockMode::AccessExclusive);
            if let Some(default) = catalog.default_partition(relation) {
                fx.lock(&default, RelKind::Table, LockMode::AccessExclusive);
            }
            fx.scans = true;
            LockMode::ShareUpdateExclusive
        }
        AlterTableAction::DetachPartition { partition, concurrently } => {
            // CONCURRENTLY: SHARE UPDATE EXCLUSIVE on both in its first transaction; its
            // second, after every transaction using the parent has ended, finishes the detach
            // under ACCESS EXCLUSIVE on the partition.
            fx.lock(partition, RelKind::Table, LockMode::AccessExclusive);
            // The default partition's implicit bound changes (CONCURRENTLY is refused when
            // there is one).
            if let Some(default) = catalog.default_partition(relation) {
                fx.lock(&default, RelKind::Table, LockMode::AccessExclusive);
            }
            if *concurrently {
                LockMode::ShareUpdateExclusive
            } else {
                LockMode::AccessExclusive
            }
        }
        AlterTableAction::FinalizeDetach { partition } => {
            fx.lock(partition, RelKind::Table, LockMode::AccessExclusive);
            LockMode::ShareUpdateExclusive
        }
        AlterTableAction::ClusterOn { index } => {
            fx.lock(
                &RelationName::new(relation.schema.as_deref(), index),
                RelKind::Index,
                LockMode::ShareUpdateExclusive,
            );
            LockMode::ShareUpdateExclusive
        }
        AlterTableAction::SetTablespace { .. } => LockMode::AccessExclusive,
        AlterTableAction::SetAccessMethod { unchanged, .. } => {
            fx.rewrites |= !unchanged;
            LockMode::AccessExclusive
        }
        AlterTableAction::SetExpression { stored, .. } => {
            fx.rewrites |= stored;
            LockMode::AccessExclusive
        }
        AlterTableAction::SetEnforced { enforced, references, .. } => {
            // ENFORCED checks every row against the referenced table, which keeps taking
            // writes; NOT ENFORCED drops the constraint's triggers on it.
            fx.scans |= enforced;
            let mode = if *enforced { LockMode::ShareRowExclusive } else { LockMode::AccessExclusive };
            if let Some(references) = references {
                fx.lock(references, RelKind::Table, mode);
            }
            LockMode::AccessExclusive
        }
        AlterTableAction::DropColumn { .. }
        | AlterTableAction::DropNotNull { .. }
        | AlterTableAction::ChangeDefault { .. }
        | AlterTableAction::Other { .. }
        | AlterTableAction::Skipped { .. } => LockMode::AccessExclusive,
    };
    fx.lock(relation, RelKind::Table, mode);
}

/// PostgreSQL 15's `AlterTableGetLockLevel` for the subcommands of `ALTER INDEX`, which lock
/// the index (not its table); an ACCESS EXCLUSIVE lock on an index stops the planning of every
/// query on its table while it is held. (SET TABLESPACE copies the index's files: not a
/// rewrite of the table, which `rewrites` is about.)
fn alter_index_action(fx: &mut Effects, index: &RelationName, action: &AlterTableAction) {
    let mode = match action {
        AlterTableAction::Table(TableSubcommand::SetStatistics) => LockMode::ShareUpdateExclusive,
        AlterTableAction::StorageParameters { names } => storage_parameters_lock(names),
        AlterTableAction::AttachPartition { partition } => {
            fx.lock(partition, RelKind::Index, LockMode::AccessExclusive);
            LockMode::ShareUpdateExclusive
        }
        _ => LockMode::AccessExclusive,
    };
    fx.lock(index, RelKind::Index, mode);
}

/// Triggers, policies, statistics, view replacement, materialized-view refresh, sequences.
fn on_relation(fx: &mut Effects, relation: &RelationName, what: OnRelation) {
    let (kind, mode) = match what {
        OnRelation::CreateTrigger => (RelKind::Table, LockMode::ShareRowExclusive),
        OnRelation::Policy
        | OnRelation::ReplaceView
        | OnRelation::DropTrigger
        | OnRelation::RenameTrigger
        | OnRelation::ExtensionDependency
        | OnRelation::Rule => (RelKind::Table, LockMode::AccessExclusive),
        OnRelation::CreateStatistics
        | OnRelation::DropStatistics
        | OnRelation::ExtensionMember
        | OnRelation::SecurityLabel => (RelKind::Table, LockMode::ShareUpdateExclusive),
        OnRelation::RefreshMaterializedView { concurrently, .. } => {
            fx.scans = true;
            if concurrently {
                (RelKind::Table, LockMode::Exclusive)
            } else {
                fx.rewrites = true;
                (RelKind::Table, LockMode::AccessExclusive)
            }
        }
        OnRelation::AlterSequence => (RelKind::Sequence, LockMode::ShareRowExclusive),
        OnRelation::IndexExtensionDependency => (RelKind::Index, LockMode::AccessExclusive),
        OnRelation::TriggerExtensionDependency | OnRelation::DropMissing => (RelKind::Table, LockMode::AccessShare),
        OnRelation::SequenceAsTable => (RelKind::Sequence, LockMode::AccessExclusive),
    };
    fx.lock(relation, kind, mode);
}

/// PostgreSQL 15's `AlterTableGetRelOptionsLockLevel`: the autovacuum, fillfactor, TOAST
/// target and parallel-worker settings (and the index parameters below) take SHARE UPDATE
/// EXCLUSIVE; any other parameter in the statement makes it ACCESS EXCLUSIVE.
fn storage_parameters_lock(names: &[String]) -> LockMode {
    const LIGHT: &[&str] = &[
        "fillfactor",
        "toast_tuple_target",
        "parallel_workers",
        "vacuum_index_cleanup",
        "vacuum_truncate",
        "log_autovacuum_min_duration",
        // Index parameters (b-tree, GIN, BRIN).
        "deduplicate_items",
        "fastupdate",
        "gin_pending_list_limit",
        "autosummarize",
    ];
    let light = |name: &String| {
        let name = name.strip_prefix("toast.").unwrap_or(name);
        name.starts_with("autovacuum_") || LIGHT.contains(&name)
    };
    if names.iter().all(light) {
        LockMode::ShareUpdateExclusive
    } else {
        LockMode::AccessExclusive
    }
}

/// PostgreSQL 15's `AlterTableGetLockLevel` for the table-wide subcommands (each checked by
/// the live-truth test, pg_test/sql/truth.sql).
fn table_subcommand(fx: &mut Effects, subcommand: TableSubcommand) -> LockMode {
    match subcommand {
        TableSubcommand::SetStatistics | TableSubcommand::ColumnOptions | TableSubcommand::WithoutCluster => {
            LockMode::ShareUpdateExclusive
        }
        TableSubcommand::Trigger { .. } => LockMode::ShareRowExclusive,
        TableSubcommand::Persistence => {
            fx.rewrites = true;
            LockMode::AccessExclusive
        }
        TableSubcommand::SetStorage
        | TableSubcommand::SetCompression
        | TableSubcommand::Rule
        | TableSubcommand::ReplicaIdentity
        | TableSubcommand::RowSecurity
        | TableSubcommand::Owner
        | TableSubcommand::Identity
        | TableSubcommand::DropExpression
        | TableSubcommand::AlterConstraint
        | TableSubcommand::OfType
        | TableSubcommand::RenameConstraint
        | TableSubcommand::WithoutOids
        | TableSubcommand::ForeignOptions => LockMode::AccessExclusive,
    }
}

fn add_column(fx: &mut Effects, column: &ColumnDef) {
    if column.add_rewrites() {
        fx.rewrites = true;
    }
    if column.not_null && column.default.is_none() {
        fx.scans = true;
    }
    for constraint in &column.constraints {
        add_constraint(fx, constraint);
    }
}

/// Lock mode of `ADD CONSTRAINT` on the constrained table (PostgreSQL 15 takes SHARE ROW
/// EXCLUSIVE for foreign keys, on both tables, and ACCESS EXCLUSIVE for everything else).
fn add_constraint(fx: &mut Effects, constraint: &Constraint) -> LockMode {
    match &constraint.kind {
        ConstraintKind::ForeignKey { references } => {
            fx.lock(references, RelKind::Table, LockMode::ShareRowExclusive);
            fx.scans |= !constraint.not_valid;
            LockMode::ShareRowExclusive
        }
        ConstraintKind::Check => {
            fx.scans |= !constraint.not_valid;
            LockMode::AccessExclusive
        }
        ConstraintKind::Unique | ConstraintKind::PrimaryKey | ConstraintKind::Exclusion => {
            fx.scans |= !constraint.using_index;
            LockMode::AccessExclusive
        }
        ConstraintKind::NotNull => {
            // NOT VALID (PostgreSQL 18): the rows are checked by a later VALIDATE CONSTRAINT.
            fx.scans |= !constraint.not_valid;
            LockMode::AccessExclusive
        }
        ConstraintKind::Other => LockMode::AccessExclusive,
    }
}

fn drop_objects(
    fx: &mut Effects,
    kind: &ObjectKind,
    objects: &[RelationName],
    concurrently: bool,
    index_table: &dyn Fn(&RelationName) -> Option<RelationName>,
) {
    for object in objects {
        match kind {
            ObjectKind::Index => {
                let mode = if concurrently { LockMode::ShareUpdateExclusive } else { LockMode::AccessExclusive };
                if let Some(table) = index_table(object) {
                    fx.lock(&table, RelKind::Table, mode);
                }
                fx.lock(object, RelKind::Index, mode);
            }
            ObjectKind::Sequence => fx.lock(object, RelKind::Sequence, LockMode::AccessExclusive),
            ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView => {
                fx.lock(object, RelKind::Table, LockMode::AccessExclusive)
            }
            ObjectKind::Column | ObjectKind::Other(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::OfflineCatalog;
    use crate::model::{ColumnDef, Volatility};

    fn users() -> RelationName {
        RelationName::new(None, "users")
    }

    fn alter(actions: Vec<AlterTableAction>) -> Statement {
        Statement::new("ALTER TABLE", StatementKind::AlterTable { relation: users(), actions, only: false })
    }

    /// Every index belongs to `users`; `users` has one index, `users_pkey`.
    struct UsersCatalog;

    impl Catalog for UsersCatalog {
        fn resolve(&self, relation: &RelationName) -> crate::catalog::ResolvedRelation {
            crate::catalog::OfflineCatalog.resolve(relation)
        }
        fn index_table(&self, _: &RelationName) -> Option<RelationName> {
            Some(users())
        }
        fn table_indexes(&self, _: &RelationName) -> Vec<RelationName> {
            vec![RelationName::new(None, "users_pkey")]
        }
    }

    #[test]
    fn a_rewrite_reads_every_row_and_rebuilds_every_index() {
        let stmt = alter(vec![AlterTableAction::AlterColumnType {
            column: "c".into(),
            new_type: "bigint".into(),
            binary_coercible: false,
        }]);
        let fx = effects(&stmt, &UsersCatalog);
        assert!(fx.rewrites && fx.scans);
        assert!(fx.locks.iter().any(|l| l.kind == RelKind::Index && l.mode == LockMode::AccessExclusive));
        assert_eq!(fx.strongest_table_lock().unwrap().relation, users());
    }

    #[test]
    fn foreign_key_locks_both_tables_share_row_exclusive() {
        let fk = Constraint {
            kind: ConstraintKind::ForeignKey { references: RelationName::new(None, "orgs") },
            name: None,
            not_valid: false,
            using_index: false,
        };
        let fx = effects(&alter(vec![AlterTableAction::AddConstraint(fk)]), &OfflineCatalog);
        assert_eq!(fx.locks.len(), 2);
        assert!(fx.locks.iter().all(|l| l.mode == LockMode::ShareRowExclusive));
        assert!(fx.scans && !fx.rewrites);
    }

    #[test]
    fn a_new_expression_rewrites_a_stored_column_only() {
        let set = |stored| {
            effects(&alter(vec![AlterTableAction::SetExpression { column: "c".into(), stored }]), &UsersCatalog)
        };
        assert!(set(true).rewrites);
        let virtual_column = set(false);
        assert!(!virtual_column.rewrites && !virtual_column.scans);
        assert_eq!(virtual_column.strongest_table_lock().unwrap().mode, LockMode::AccessExclusive);
    }

    #[test]
    fn enforcing_a_foreign_key_scans_and_locks_the_referenced_table() {
        let set = |enforced| {
            let action = AlterTableAction::SetEnforced {
                name: "fk".into(),
                enforced,
                references: Some(RelationName::new(None, "orgs")),
            };
            effects(&alter(vec![action]), &OfflineCatalog)
        };
        let orgs = |fx: &Effects| fx.locks.iter().find(|l| l.relation.name == "orgs").map(|l| l.mode);
        let on = set(true);
        assert!(on.scans);
        assert_eq!(orgs(&on), Some(LockMode::ShareRowExclusive));
        let off = set(false);
        assert!(!off.scans);
        assert_eq!(orgs(&off), Some(LockMode::AccessExclusive));
    }

    #[test]
    fn a_not_valid_not_null_constraint_does_not_scan() {
        let nn = |not_valid| {
            let c = Constraint { kind: ConstraintKind::NotNull, name: None, not_valid, using_index: false };
            effects(&alter(vec![AlterTableAction::AddConstraint(c)]), &OfflineCatalog).scans
        };
        assert!(nn(false));
        assert!(!nn(true));
    }

    #[test]
    fn a_virtual_column_is_added_without_a_rewrite() {
        let mut column = ColumnDef::new("v", "bigint");
        column.generated = Some(crate::model::Generated::Virtual);
        assert!(!effects(&alter(vec![AlterTableAction::AddColumn(column.clone())]), &OfflineCatalog).rewrites);
        column.generated = Some(crate::model::Generated::Stored);
        assert!(effects(&alter(vec![AlterTableAction::AddColumn(column)]), &OfflineCatalog).rewrites);
    }

    #[test]
    fn a_cascade_locks_and_drops_what_the_catalog_says() {
        use crate::catalog::{Cascade, ResolvedRelation};
        use crate::model::DropTarget;
        struct Dependencies;
        impl Catalog for Dependencies {
            fn resolve(&self, relation: &RelationName) -> ResolvedRelation {
                OfflineCatalog.resolve(relation)
            }
            fn index_table(&self, _: &RelationName) -> Option<RelationName> {
                None
            }
            fn table_indexes(&self, _: &RelationName) -> Vec<RelationName> {
                Vec::new()
            }
            fn dropped_with(&self, _: DropTarget, _: &[String], _: &[(u32, u32)]) -> Option<Cascade> {
                Some(Cascade {
                    dropped: vec![RelationName::new(Some("s"), "a")],
                    altered: vec![RelationName::new(Some("public"), "b")],
                    found: 1,
                })
            }
        }
        let drop = |cascade| {
            Statement::new(
                "DROP SCHEMA",
                StatementKind::DropObjects {
                    target: DropTarget::Schema,
                    names: vec!["s".into()],
                    cascade,
                    addresses: Vec::new(),
                },
            )
        };
        let fx = effects(&drop(true), &Dependencies);
        assert_eq!(fx.locks.len(), 2);
        assert!(fx.locks.iter().all(|l| l.mode == LockMode::AccessExclusive));
        assert_eq!(fx.dropped, vec![RelationName::new(Some("s"), "a")]);
        assert!(!fx.drops_nothing);
        // Without CASCADE PostgreSQL refuses a schema with dependents; offline nothing is known.
        assert!(effects(&drop(false), &Dependencies).locks.is_empty());
        let offline = effects(&drop(true), &OfflineCatalog);
        assert!(offline.unknown && offline.locks.is_empty());
    }

    #[test]
    fn several_subcommands_take_the_strongest_lock() {
        let fx = effects(
            &alter(vec![
                AlterTableAction::ValidateConstraint { name: "c".into() },
                AlterTableAction::DropNotNull { column: "x".into() },
            ]),
            &OfflineCatalog,
        );
        assert_eq!(fx.locks[0].mode, LockMode::AccessExclusive);
    }

    #[test]
    fn volatile_default_rewrites_constant_does_not() {
        let mut column = ColumnDef::new("c", "int");
        column.default = Some(Volatility::Stable);
        assert!(!effects(&alter(vec![AlterTableAction::AddColumn(column.clone())]), &OfflineCatalog).rewrites);
        column.default = Some(Volatility::Volatile);
        assert!(effects(&alter(vec![AlterTableAction::AddColumn(column)]), &OfflineCatalog).rewrites);
    }

    #[test]
    fn drop_index_locks_its_table_too() {
        let drop = Statement::new(
            "DROP INDEX",
            StatementKind::Drop {
                kind: ObjectKind::Index,
                objects: vec![RelationName::new(None, "i")],
                cascade: false,
                concurrently: false,
            },
        );
        let fx = effects(&drop, &UsersCatalog);
        assert_eq!(fx.strongest_table_lock().unwrap().relation, users());
        assert_eq!(fx.locks.len(), 2);
    }

    #[test]
    fn maintenance_commands() {
        let truncate =
            Statement::new("TRUNCATE TABLE", StatementKind::Truncate { relations: vec![users()], cascade: false });
        let fx = effects(&truncate, &OfflineCatalog);
        assert_eq!(fx.locks[0].mode, LockMode::AccessExclusive);
        assert!(fx.rewrites);
        let vacuum = Statement::new("VACUUM", StatementKind::Vacuum { relations: vec![users()], full: false });
        let fx = effects(&vacuum, &OfflineCatalog);
        assert_eq!(fx.locks[0].mode, LockMode::ShareUpdateExclusive);
        assert!(!fx.rewrites);
        let reindex = Statement::new(
            "REINDEX",
            StatementKind::Reindex {
                target: ReindexTarget::Index,
                relation: Some(RelationName::new(None, "i")),
                concurrently: false,
                schema: None,
            },
        );
        let fx = effects(&reindex, &UsersCatalog);
        assert_eq!(fx.strongest_table_lock().unwrap().mode, LockMode::Share);
        assert_eq!(fx.locks.len(), 2);
    }

    #[test]
    fn create_index_concurrently_does_not_block_writes() {
        let stmt = Statement::new(
            "CREATE INDEX",
            StatementKind::CreateIndex {
                relation: users(),
                name: None,
                concurrently: true,
                unique: false,
                if_not_exists: false,
                only_partitioned: false,
            },
        );
        let fx = effects(&stmt, &OfflineCatalog);
        assert!(!fx.locks[0].mode.blocks_writes());
    }

    #[test]
    fn a_write_locks_its_table_and_indexes_row_exclusive_and_reads_views_tables() {
        use crate::model::{DataAction, DataStatement, RowEstimate};
        struct Shop;
        impl Catalog for Shop {
            fn resolve(&self, relation: &RelationName) -> crate::catalog::ResolvedRelation {
                OfflineCatalog.resolve(relation)
            }
            fn index_table(&self, _: &RelationName) -> Option<RelationName> {
                None
            }
            fn table_indexes(&self, table: &RelationName) -> Vec<RelationName> {
                vec![RelationName::new(None, &format!("{}_pkey", table.name))]
            }
            fn view_reads(&self, view: &RelationName) -> Vec<RelationName> {
                if view.name == "v" {
                    vec![RelationName::new(None, "base")]
                } else {
                    Vec::new()
                }
            }
        }
        let mode = |fx: &Effects, name: &str| fx.locks.iter().find(|l| l.relation.name == name).map(|l| l.mode);
        let data = DataStatement {
            action: Some(DataAction::Update),
            target: Some(RelationName::new(None, "orders")),
            filtered: true,
            ..DataStatement::default()
        };
        let update =
            Statement::new("UPDATE", StatementKind::Data(data.clone())).reading(vec![RelationName::new(None, "v")]);
        let fx = effects(&update, &Shop);
        assert_eq!(mode(&fx, "orders"), Some(LockMode::RowExclusive));
        assert_eq!(mode(&fx, "orders_pkey"), Some(LockMode::RowExclusive));
        assert_eq!(mode(&fx, "v"), Some(LockMode::AccessShare));
        assert_eq!(mode(&fx, "base"), Some(LockMode::AccessShare));
        assert!(!fx.scans);
        // The planner's word on scans wins over the WHERE clause.
        let planned = DataStatement { estimate: Some(RowEstimate { rows: 10, scans: true }), ..data };
        assert!(effects(&Statement::new("UPDATE", StatementKind::Data(planned)), &Shop).scans);
        // A view's own query is stored, not run: its tables are not read now.
        let view = Statement::new(
            "CREATE VIEW",
            StatementKind::CreateFromQuery { relation: RelationName::new(None, "w"), runs: false },
        )
        .reading(vec![RelationName::new(None, "v")]);
        let fx = effects(&view, &Shop);
        assert_eq!(mode(&fx, "base"), None);
        assert!(!fx.scans);
    }

    #[test]
    fn reassign_owned_is_unknown_offline() {
        let reassign = Statement::new("REASSIGN OWNED", StatementKind::ReassignOwned { roles: vec!["app".into()] });
        let fx = effects(&reassign, &OfflineCatalog);
        assert!(fx.unknown && fx.locks.is_empty());
    }
}
