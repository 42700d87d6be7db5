//! Maps the server's parse tree of a utility statement into fence-core's statement model.
//!
//! Safe code over the tree readers of `nodes`: every node is cast after its tag is checked.

use fence_core::model::{
    alter_domain_validates, subcommand_words, AlterTableAction, ColumnDef, Constraint, ConstraintKind, DropTarget,
    Generated, ObjectKind, OnRelation, RelationName, Statement, StatementKind, TableSubcommand as Sub,
    TransactionControl,
};
use pgrx::pg_sys::{self, AlterTableType as At, ConstrType as Ct, NodeTag as T, ObjectType as Ob};

use super::compat::{self, recurse};
use super::expr::default_volatility;
use super::nodes::{cast, cstr, name_list, nodes, nodes_of, range_var, string_value, strings, tag};
use super::relcache::TableObject;

/// Maps one parse tree (as given to an event trigger or produced by `raw_parser`).
pub fn statement(node: *mut pg_sys::Node) -> Statement {
    let tag_name = super::parser::command_tag(node);
    let kind = if locks_no_table(tag(node)) {
        StatementKind::NoTableLock
    } else {
        kind(node).unwrap_or(StatementKind::Unclassified)
    };
    let (reads, cte_writes) = super::querytree::query(node);
    let mut statement = Statement::new(&tag_name, kind).reading(reads);
    if let StatementKind::Data(data) = &mut statement.kind {
        data.cte_writes = cte_writes;
    }
    statement
}

/// The statement's kind (None: a node of its tag without the parts its kind needs).
fn kind(node: *mut pg_sys::Node) -> Option<StatementKind> {
    Some(match tag(node) {
        T::T_AlterTableStmt => alter_table(cast(node)?),
        T::T_AlterDomainStmt => alter_domain(cast(node)?),
        T::T_IndexStmt => create_index(cast(node)?),
        T::T_CreateStmt => create_table(cast(node)?),
        T::T_DropStmt => drop(cast(node)?),
        T::T_RenameStmt => rename(cast(node)?),
        T::T_CommentStmt => comment(cast(node)?),
        T::T_TransactionStmt => StatementKind::Transaction(transaction(cast(node)?)),
        // SELECT ... INTO: a new table from the query.
        T::T_SelectStmt if !cast::<pg_sys::SelectStmt, _>(node)?.intoClause.is_null() => {
            created_from_query(cast::<pg_sys::SelectStmt, _>(node)?.intoClause)
        }
        T::T_SelectStmt
        | T::T_InsertStmt
        | T::T_UpdateStmt
        | T::T_DeleteStmt
        | T::T_MergeStmt
        | T::T_CopyStmt
        | T::T_ExplainStmt
        // Cursors and prepared statements (only queries can be prepared).
        | T::T_DeclareCursorStmt
        | T::T_FetchStmt
        | T::T_ClosePortalStmt
        | T::T_PrepareStmt
        | T::T_ExecuteStmt
        | T::T_DeallocateStmt => StatementKind::Data(super::querytree::data(node)),
        T::T_CreateTableAsStmt => created_from_query(cast::<pg_sys::CreateTableAsStmt, _>(node)?.into),
        T::T_DoStmt | T::T_CallStmt => StatementKind::Code,
        T::T_AlterObjectDependsStmt => depends_on_extension(cast(node)?),
        T::T_AlterTableMoveAllStmt => {
            let stmt: &pg_sys::AlterTableMoveAllStmt = cast(node)?;
            StatementKind::MoveAll {
                tablespace: cstr(stmt.orig_tablespacename).unwrap_or_default(),
                kind: object_kind(stmt.objtype),
                roles: roles(stmt.roles),
            }
        }
        T::T_SecLabelStmt => security_label(cast(node)?),
        T::T_ReassignOwnedStmt => {
            StatementKind::ReassignOwned { roles: roles(cast::<pg_sys::ReassignOwnedStmt, _>(node)?.roles) }
        }
        T::T_DropOwnedStmt => {
            let stmt: &pg_sys::DropOwnedStmt = cast(node)?;
            StatementKind::DropObjects {
                target: DropTarget::Owned,
                names: roles(stmt.roles),
                cascade: stmt.behavior == pg_sys::DropBehavior::DROP_CASCADE,
                addresses: Vec::new(),
            }
        }
        T::T_AlterExtensionContentsStmt => {
            let stmt: &pg_sys::AlterExtensionContentsStmt = cast(node)?;
            match object_kind(stmt.objtype) {
                ObjectKind::Other(_) | ObjectKind::Column | ObjectKind::Index => StatementKind::NoTableLock,
                _ => match name_list(stmt.object) {
                    Some(relation) => StatementKind::OnRelation { relation, what: OnRelation::ExtensionMember },
                    None => StatementKind::Unclassified,
                },
            }
        }
        T::T_VariableSetStmt => {
            let stmt: &pg_sys::VariableSetStmt = cast(node)?;
            let value = nodes(stmt.args).first().and_then(|arg| setting_value(*arg));
            StatementKind::Setting { name: cstr(stmt.name).unwrap_or_else(|| "ALL".into()), value }
        }
        T::T_ViewStmt => {
            let stmt: &pg_sys::ViewStmt = cast(node)?;
            if stmt.replace {
                on_relation(stmt.view, OnRelation::ReplaceView)
            } else {
                match range_var(stmt.view) {
                    Some(relation) => StatementKind::CreateFromQuery { relation, runs: false },
                    None => StatementKind::Unclassified,
                }
            }
        }
        T::T_CreateTrigStmt => {
            on_relation(cast::<pg_sys::CreateTrigStmt, _>(node)?.relation, OnRelation::CreateTrigger)
        }
        T::T_CreatePolicyStmt => on_relation(cast::<pg_sys::CreatePolicyStmt, _>(node)?.table, OnRelation::Policy),
        T::T_RuleStmt => on_relation(cast::<pg_sys::RuleStmt, _>(node)?.relation, OnRelation::Rule),
        // As CREATE TABLE: a partition or an inheritance child locks its parent.
        T::T_CreateForeignTableStmt => create_table(&cast::<pg_sys::CreateForeignTableStmt, _>(node)?.base),
        T::T_AlterPolicyStmt => on_relation(cast::<pg_sys::AlterPolicyStmt, _>(node)?.table, OnRelation::Policy),
        T::T_AlterSeqStmt => on_relation(cast::<pg_sys::AlterSeqStmt, _>(node)?.sequence, OnRelation::AlterSequence),
        T::T_RefreshMatViewStmt => {
            let stmt: &pg_sys::RefreshMatViewStmt = cast(node)?;
            let populated = range_var(stmt.relation).is_none_or(|view| super::relcache::is_populated(&view));
            on_relation(stmt.relation, OnRelation::RefreshMaterializedView { concurrently: stmt.concurrent, populated })
        }
        T::T_CreateStatsStmt => match nodes(cast::<pg_sys::CreateStatsStmt, _>(node)?.relations).as_slice() {
            [only] if tag(*only) == T::T_RangeVar => on_relation(*only, OnRelation::CreateStatistics),
            _ => StatementKind::Unclassified,
        },
        T::T_AlterObjectSchemaStmt => set_schema(cast(node)?),
        T::T_CreatePublicationStmt => publication(cast::<pg_sys::CreatePublicationStmt, _>(node)?.pubobjects),
        T::T_AlterPublicationStmt => publication(cast::<pg_sys::AlterPublicationStmt, _>(node)?.pubobjects),
        _ => super::maintenance::statement_kind(node)?,
    })
}

/// The statements that lock no existing table.
fn locks_no_table(tag: pg_sys::NodeTag) -> bool {
    matches!(
        tag,
        T::T_CreateSchemaStmt
            | T::T_CreateFunctionStmt
            | T::T_CreateSeqStmt
            | T::T_CompositeTypeStmt
            | T::T_CreateEnumStmt
            | T::T_CreateRangeStmt
            | T::T_CreateDomainStmt
            | T::T_DefineStmt
            | T::T_GrantStmt
            | T::T_CreateExtensionStmt
            | T::T_AlterExtensionStmt
            // Enum values, functions, owners and default privileges of non-relations.
            | T::T_AlterEnumStmt
            | T::T_AlterFunctionStmt
            | T::T_AlterOwnerStmt
            | T::T_AlterDefaultPrivilegesStmt
            // Operator classes and families, conversions, casts, transforms, languages,
            // foreign-data wrappers, servers and user mappings, text search, types' options,
            // extended statistics' targets, event triggers, roles, tablespaces, access methods,
            // subscriptions, collations, databases, the server's settings, foreign tables
            // imported (new ones): none locks an existing table.
            | T::T_CreateOpClassStmt
            | T::T_CreateOpFamilyStmt
            | T::T_AlterOpFamilyStmt
            | T::T_AlterOperatorStmt
            | T::T_CreateConversionStmt
            | T::T_CreateCastStmt
            | T::T_CreateTransformStmt
            | T::T_CreatePLangStmt
            | T::T_CreateFdwStmt
            | T::T_AlterFdwStmt
            | T::T_CreateForeignServerStmt
            | T::T_AlterForeignServerStmt
            | T::T_CreateUserMappingStmt
            | T::T_AlterUserMappingStmt
            | T::T_DropUserMappingStmt
            | T::T_AlterTSDictionaryStmt
            | T::T_AlterTSConfigurationStmt
            | T::T_AlterTypeStmt
            | T::T_AlterStatsStmt
            | T::T_CreateEventTrigStmt
            | T::T_AlterEventTrigStmt
            | T::T_CreateRoleStmt
            | T::T_AlterRoleStmt
            | T::T_AlterRoleSetStmt
            | T::T_DropRoleStmt
            | T::T_GrantRoleStmt
            | T::T_CreateTableSpaceStmt
            | T::T_AlterTableSpaceOptionsStmt
            | T::T_DropTableSpaceStmt
            | T::T_CreateAmStmt
            | T::T_CreateSubscriptionStmt
            | T::T_AlterSubscriptionStmt
            | T::T_DropSubscriptionStmt
            | T::T_AlterCollationStmt
            | T::T_CreatedbStmt
            | T::T_DropdbStmt
            | T::T_AlterDatabaseStmt
            | T::T_AlterDatabaseSetStmt
            | T::T_AlterDatabaseRefreshCollStmt
            | T::T_AlterSystemStmt
            | T::T_ImportForeignSchemaStmt
            | T::T_CheckPointStmt
            // SET CONSTRAINTS and SHOW: settings of the transaction and the session.
            | T::T_ConstraintsSetStmt
            | T::T_VariableShowStmt
            | T::T_NotifyStmt
            | T::T_ListenStmt
            | T::T_UnlistenStmt
            | T::T_DiscardStmt
            | T::T_LoadStmt
    )
}

/// `ALTER INDEX | MATERIALIZED VIEW | TRIGGER ... DEPENDS ON EXTENSION`: ACCESS EXCLUSIVE on
/// an index or a materialized view; a trigger's reads its table; a function's locks none.
fn depends_on_extension(stmt: &pg_sys::AlterObjectDependsStmt) -> StatementKind {
    let what = match stmt.objectType {
        Ob::OBJECT_INDEX => OnRelation::IndexExtensionDependency,
        Ob::OBJECT_MATVIEW => OnRelation::ExtensionDependency,
        Ob::OBJECT_TRIGGER => OnRelation::TriggerExtensionDependency,
        _ => return StatementKind::NoTableLock,
    };
    on_relation(stmt.relation, what)
}

/// `SECURITY LABEL`: a relation's (or a column's) label locks it.
fn security_label(stmt: &pg_sys::SecLabelStmt) -> StatementKind {
    match object_kind(stmt.objtype) {
        ObjectKind::Other(_) | ObjectKind::Index => StatementKind::NoTableLock,
        // A relation's (or column's) name is a list of String nodes (a large object's is an
        // Integer: checked by tag).
        _ if tag(stmt.object) != T::T_List => StatementKind::Unclassified,
        kind => match relation_of_names(strings(stmt.object), kind == ObjectKind::Column) {
            Some(relation) => StatementKind::OnRelation { relation, what: OnRelation::SecurityLabel },
            None => StatementKind::Unclassified,
        },
    }
}

/// `CREATE TABLE | MATERIALIZED VIEW ... AS` and `SELECT ... INTO`: the new relation, and
/// whether its query runs now (not `WITH NO DATA`).
fn created_from_query(into: *mut pg_sys::IntoClause) -> StatementKind {
    let Some(into) = cast::<pg_sys::IntoClause, _>(into) else { return StatementKind::Unclassified };
    match range_var(into.rel) {
        Some(relation) => StatementKind::CreateFromQuery { relation, runs: !into.skipData },
        None => StatementKind::Unclassified,
    }
}

/// The names of a list of RoleSpec nodes (`CURRENT_USER` and the like as the role they are
/// now; a role that does not exist as written).
fn roles(list: *mut pg_sys::List) -> Vec<String> {
    nodes_of::<pg_sys::RoleSpec, _>(list).into_iter().filter_map(super::security::role_spec_name).collect()
}

fn transaction(stmt: &pg_sys::TransactionStmt) -> TransactionControl {
    use pg_sys::TransactionStmtKind as K;
    match stmt.kind {
        K::TRANS_STMT_BEGIN | K::TRANS_STMT_START => TransactionControl::Begin,
        K::TRANS_STMT_COMMIT => TransactionControl::Commit,
        K::TRANS_STMT_ROLLBACK => TransactionControl::Rollback,
        _ => TransactionControl::Other,
    }
}

/// The text of a SET argument (`'2s'`, `2000`, `on`), as written (SET arguments are A_Const
/// nodes; others are skipped).
fn setting_value(arg: *mut pg_sys::Node) -> Option<String> {
    let value = &cast::<pg_sys::A_Const, _>(arg)?.val;
    // SAFETY: every member of an A_Const's value union is a node: read as one, by its tag.
    let node = unsafe { std::ptr::from_ref(&value.node).cast_mut() };
    match cast::<pg_sys::Integer, _>(node) {
        Some(integer) => Some(integer.ival.to_string()),
        None => string_value(node),
    }
}

/// A statement about one relation, or unclassified when the name is missing.
fn on_relation<P>(relation: *mut P, what: OnRelation) -> StatementKind {
    match range_var(relation) {
        Some(relation) => StatementKind::OnRelation { relation, what },
        None => StatementKind::Unclassified,
    }
}

/// Whether the parse tree creates a partition (`CREATE TABLE ... PARTITION OF`) or attaches one
/// (`ALTER TABLE ... ATTACH PARTITION`): the statements after which a tracked partitioned
/// table may have a partition without fence's TRUNCATE trigger.
pub fn adds_partition(node: *mut pg_sys::Node) -> bool {
    match tag(node) {
        T::T_CreateStmt => cast::<pg_sys::CreateStmt, _>(node).is_some_and(|s| !s.partbound.is_null()),
        T::T_CreateForeignTableStmt => {
            cast::<pg_sys::CreateForeignTableStmt, _>(node).is_some_and(|s| !s.base.partbound.is_null())
        }
        // A CREATE SCHEMA's elements are parse trees of their own.
        T::T_CreateSchemaStmt => cast::<pg_sys::CreateSchemaStmt, _>(node)
            .is_some_and(|s| nodes(s.schemaElts).into_iter().any(adds_partition)),
        T::T_AlterTableStmt => cast::<pg_sys::AlterTableStmt, _>(node).is_some_and(|s| {
            nodes_of::<pg_sys::AlterTableCmd, _>(s.cmds).iter().any(|cmd| cmd.subtype == At::AT_AttachPartition)
        }),
        _ => false,
    }
}

/// Whether the parse tree is a `CREATE SCHEMA` (whose elements run as its subcommands).
pub fn is_create_schema(node: *mut pg_sys::Node) -> bool {
    tag(node) == T::T_CreateSchemaStmt
}

/// Whether the parse tree is `DROP EXTENSION fence`.
pub fn drops_fence(node: *mut pg_sys::Node) -> bool {
    cast::<pg_sys::DropStmt, _>(node).is_some_and(|stmt| {
        stmt.removeType == Ob::OBJECT_EXTENSION && strings(stmt.objects).iter().any(|name| name == "fence")
    })
}

fn alter_table(stmt: &pg_sys::AlterTableStmt) -> StatementKind {
    let Some(relation) = range_var(stmt.relation) else { return StatementKind::Unclassified };
    let cmds = nodes_of::<pg_sys::AlterTableCmd, _>(stmt.cmds);
    let siblings =
        Siblings { alone: cmds.len() == 1, only_set_not_null: cmds.iter().all(|cmd| cmd.subtype == At::AT_SetNotNull) };
    let actions = cmds.into_iter().map(|cmd| alter_table_cmd(&relation, cmd, siblings)).collect();
    // ONLY: the subcommands that recurse into children and partitions do not.
    let only = cast::<pg_sys::RangeVar, _>(stmt.relation).is_some_and(|rv| !rv.inh);
    // By what the relation is: ALTER INDEX also alters a table, and ALTER TABLE an index.
    match super::relcache::object_kind(&relation) {
        Some(ObjectKind::Index) => return StatementKind::AlterIndex { index: relation, actions },
        Some(ObjectKind::Sequence) => return StatementKind::OnRelation { relation, what: OnRelation::SequenceAsTable },
        Some(_) => return StatementKind::AlterTable { relation, actions, only },
        None => {}
    }
    match stmt.objtype {
        // Tables and the table-like relations ALTER TABLE's subcommands also apply to.
        Ob::OBJECT_TABLE | Ob::OBJECT_VIEW | Ob::OBJECT_MATVIEW | Ob::OBJECT_FOREIGN_TABLE => {
            StatementKind::AlterTable { relation, actions, only }
        }
        Ob::OBJECT_INDEX => StatementKind::AlterIndex { index: relation, actions },
        Ob::OBJECT_SEQUENCE => StatementKind::OnRelation { relation, what: OnRelation::SequenceAsTable },
        _ => StatementKind::Unclassified,
    }
}

fn alter_domain(stmt: &pg_sys::AlterDomainStmt) -> StatementKind {
    let Some(domain) = name_list(stmt.typeName) else { return StatementKind::Unclassified };
    let not_valid = cast::<pg_sys::Constraint, _>(stmt.def).map(|c| c.skip_validation);
    StatementKind::AlterDomain { domain, validates: alter_domain_validates(stmt.subtype as u8, not_valid) }
}

fn skipped(what: &str) -> AlterTableAction {
    AlterTableAction::Skipped { what: what.into() }
}

/// What the other subcommands of an ALTER TABLE may change before a subcommand runs
/// (PostgreSQL runs them by pass: drops first, then types, then NOT NULL, then additions), so
/// what the catalog shows now holds for it only without them.
#[derive(Clone, Copy)]
struct Siblings {
    /// The subcommand is the statement's only one.
    alone: bool,
    /// Every subcommand is a SET NOT NULL: none drops or rebuilds (DROP COLUMN, DROP
    /// CONSTRAINT, ALTER COLUMN TYPE, ...) the CHECK that proves a column NOT NULL first.
    only_set_not_null: bool,
}

fn alter_table_cmd(table: &RelationName, cmd: &pg_sys::AlterTableCmd, siblings: Siblings) -> AlterTableAction {
    let alone = siblings.alone;
    let name = cstr(cmd.name);
    let def = tag(cmd.def);
    let column = || name.clone().unwrap_or_default();
    let cascade = cmd.behavior == pg_sys::DropBehavior::DROP_CASCADE;
    match cmd.subtype {
        At::AT_AddColumn | recurse::ADD_COLUMN if def == T::T_ColumnDef => match cast(cmd.def).map(column_def) {
            // IF NOT EXISTS of a column the table has: PostgreSQL skips it.
            Some(def) if alone && cmd.missing_ok && super::relcache::column_exists(table, &def.name) => {
                skipped("ADD COLUMN IF NOT EXISTS")
            }
            Some(def) => AlterTableAction::AddColumn(def),
            None => AlterTableAction::Other { name: "ADD COLUMN".into() },
        },
        At::AT_DropColumn | recurse::DROP_COLUMN
            if alone && cmd.missing_ok && !super::relcache::column_exists(table, &column()) =>
        {
            skipped("DROP COLUMN IF EXISTS")
        }
        At::AT_DropColumn | recurse::DROP_COLUMN => AlterTableAction::DropColumn { column: column(), cascade },
        At::AT_AlterColumnType if def == T::T_ColumnDef => {
            let Some(def) = cast::<pg_sys::ColumnDef, _>(cmd.def) else {
                return AlterTableAction::Other { name: "ALTER COLUMN TYPE".into() };
            };
            let binary_coercible = super::expr::type_change_is_binary_coercible(table, &column(), def.typeName, def.raw_default)
                // A virtual column (PostgreSQL 18) has no stored values to convert.
                || super::relcache::is_virtual_column(table, &column());
            AlterTableAction::AlterColumnType { column: column(), new_type: type_name(def.typeName), binary_coercible }
        }
        At::AT_SetNotNull => AlterTableAction::SetNotNull {
            column: column(),
            proven: (siblings.only_set_not_null && super::relcache::not_null_proven(table, &column()))
                || (alone && super::relcache::already_not_null(table, &column())),
        },
        At::AT_DropNotNull => AlterTableAction::DropNotNull { column: column() },
        At::AT_ColumnDefault => AlterTableAction::ChangeDefault { column: column() },
        At::AT_AddConstraint | recurse::ADD_CONSTRAINT if def == T::T_Constraint => {
            match cast(cmd.def).and_then(constraint) {
                Some(c) => AlterTableAction::AddConstraint(c),
                None => AlterTableAction::Other { name: "ADD CONSTRAINT".into() },
            }
        }
        At::AT_ValidateConstraint | recurse::VALIDATE_CONSTRAINT => {
            AlterTableAction::ValidateConstraint { name: column() }
        }
        At::AT_DropConstraint | recurse::DROP_CONSTRAINT
            if alone
                && cmd.missing_ok
                && super::relcache::table_object_exists(table, TableObject::Constraint, &column()) == Some(false) =>
        {
            skipped("DROP CONSTRAINT IF EXISTS")
        }
        At::AT_DropConstraint | recurse::DROP_CONSTRAINT => AlterTableAction::DropConstraint {
            references: super::relcache::constraint_referenced_table(table, &column()),
            name: column(),
            cascade,
        },
        At::AT_DropOids => AlterTableAction::Table(Sub::WithoutOids),
        At::AT_SetStatistics => AlterTableAction::Table(Sub::SetStatistics),
        At::AT_SetOptions | At::AT_ResetOptions => AlterTableAction::Table(Sub::ColumnOptions),
        At::AT_SetStorage => AlterTableAction::Table(Sub::SetStorage),
        At::AT_SetCompression => AlterTableAction::Table(Sub::SetCompression),
        At::AT_ClusterOn => AlterTableAction::ClusterOn { index: column() },
        At::AT_DropCluster => AlterTableAction::Table(Sub::WithoutCluster),
        At::AT_EnableTrig
        | At::AT_EnableAlwaysTrig
        | At::AT_EnableReplicaTrig
        | At::AT_EnableTrigAll
        | At::AT_EnableTrigUser => AlterTableAction::Table(Sub::Trigger { disable: false }),
        At::AT_DisableTrig | At::AT_DisableTrigAll | At::AT_DisableTrigUser => {
            AlterTableAction::Table(Sub::Trigger { disable: true })
        }
        At::AT_EnableRule | At::AT_EnableAlwaysRule | At::AT_EnableReplicaRule | At::AT_DisableRule => {
            AlterTableAction::Table(Sub::Rule)
        }
        At::AT_ReplicaIdentity => AlterTableAction::Table(Sub::ReplicaIdentity),
        At::AT_EnableRowSecurity | At::AT_DisableRowSecurity | At::AT_ForceRowSecurity | At::AT_NoForceRowSecurity => {
            AlterTableAction::Table(Sub::RowSecurity)
        }
        At::AT_ChangeOwner => AlterTableAction::Table(Sub::Owner),
        // A table that already is what it is set to is not rewritten.
        At::AT_SetLogged if alone && !super::relcache::is_unlogged(table) => skipped("SET LOGGED"),
        At::AT_SetUnLogged if alone && super::relcache::is_unlogged(table) => skipped("SET UNLOGGED"),
        At::AT_SetLogged | At::AT_SetUnLogged => AlterTableAction::Table(Sub::Persistence),
        At::AT_AddIdentity | At::AT_SetIdentity | At::AT_DropIdentity => AlterTableAction::Table(Sub::Identity),
        At::AT_DropExpression => AlterTableAction::Table(Sub::DropExpression),
        At::AT_SetRelOptions | At::AT_ResetRelOptions => {
            AlterTableAction::StorageParameters { names: option_names(cmd.def.cast()) }
        }
        At::AT_AddInherit | At::AT_DropInherit if def == T::T_RangeVar => match range_var(cmd.def) {
            Some(parent) => AlterTableAction::Inherit { parent, inherit: cmd.subtype == At::AT_AddInherit },
            None => AlterTableAction::Other { name: "INHERIT".into() },
        },
        At::AT_AlterConstraint => match compat::alter_constraint_enforced(cmd) {
            Some((name, enforced)) => AlterTableAction::SetEnforced {
                references: super::relcache::constraint_referenced_table(table, &name),
                name,
                enforced,
            },
            None => AlterTableAction::Table(Sub::AlterConstraint),
        },
        compat::SET_EXPRESSION => AlterTableAction::SetExpression {
            column: column(),
            stored: !super::relcache::is_virtual_column(table, &column()),
        },
        At::AT_SetTableSpace => {
            let tablespace = column();
            let unchanged = super::relcache::in_tablespace(table, &tablespace);
            AlterTableAction::SetTablespace { tablespace, unchanged }
        }
        At::AT_AddOf | At::AT_DropOf => AlterTableAction::Table(Sub::OfType),
        At::AT_GenericOptions | At::AT_AlterColumnGenericOptions => AlterTableAction::Table(Sub::ForeignOptions),
        At::AT_DetachPartitionFinalize if def == T::T_PartitionCmd => {
            // Its name is the partition's RangeVar.
            match cast::<pg_sys::PartitionCmd, _>(cmd.def).and_then(|p| range_var(p.name)) {
                Some(partition) => AlterTableAction::FinalizeDetach { partition },
                None => AlterTableAction::Other { name: "DETACH PARTITION FINALIZE".into() },
            }
        }
        At::AT_SetAccessMethod => {
            // No name: `SET ACCESS METHOD DEFAULT` (PostgreSQL 17).
            let method = name.clone().unwrap_or_else(super::relcache::default_table_access_method);
            let unchanged = super::relcache::uses_access_method(table, &method);
            AlterTableAction::SetAccessMethod { method, unchanged }
        }
        At::AT_AttachPartition | At::AT_DetachPartition if def == T::T_PartitionCmd => {
            let partition_cmd = cast::<pg_sys::PartitionCmd, _>(cmd.def);
            let concurrently = partition_cmd.is_some_and(|p| p.concurrent);
            match partition_cmd.and_then(|p| range_var(p.name)) {
                Some(partition) if cmd.subtype == At::AT_AttachPartition => {
                    AlterTableAction::AttachPartition { partition }
                }
                Some(partition) => AlterTableAction::DetachPartition { partition, concurrently },
                None => AlterTableAction::Other { name: "PARTITION".into() },
            }
        }
        other => AlterTableAction::Other { name: subcommand_words(subcommand_name(other)) },
    }
}

/// The names of the storage parameters a SET / RESET (...) list of DefElem nodes names
/// (`toast.` prefixed where given).
fn option_names(list: *mut pg_sys::List) -> Vec<String> {
    nodes_of::<pg_sys::DefElem, _>(list)
        .into_iter()
        .map(|def| {
            let name = cstr(def.defname).unwrap_or_default();
            match cstr(def.defnamespace) {
                Some(namespace) => format!("{namespace}.{name}"),
                None => name,
            }
        })
        .collect()
}
/// The name of an ALTER TABLE subcommand as PostgreSQL's `AlterTableType` spells it.
macro_rules! subcommand_names {
    ($($(#[$only:meta])? $name:ident),* $(,)?) => {
        fn subcommand_name(subtype: pg_sys::AlterTableType::Type) -> &'static str {
            match subtype {
                $($(#[$only])? At::$name => stringify!($name),)*
                _ => "AT_Unknown",
            }
        }
    };
}

subcommand_names!(
    AT_AddColumn,
    #[cfg(feature = "pg15")]
    AT_AddColumnRecurse,
    AT_AddColumnToView,
    AT_ColumnDefault,
    AT_CookedColumnDefault,
    AT_DropNotNull,
    AT_SetNotNull,
    AT_DropExpression,
    #[cfg(not(any(feature = "pg15", feature = "pg16")))]
    AT_SetExpression,
    #[cfg(any(feature = "pg15", feature = "pg16", feature = "pg17"))]
    AT_CheckNotNull,
    AT_SetStatistics,
    AT_SetOptions,
    AT_ResetOptions,
    AT_SetStorage,
    AT_SetCompression,
    AT_DropColumn,
    #[cfg(feature = "pg15")]
    AT_DropColumnRecurse,
    AT_AddIndex,
    AT_ReAddIndex,
    AT_AddConstraint,
    #[cfg(feature = "pg15")]
    AT_AddConstraintRecurse,
    AT_ReAddConstraint,
    AT_ReAddDomainConstraint,
    AT_AlterConstraint,
    AT_ValidateConstraint,
    #[cfg(feature = "pg15")]
    AT_ValidateConstraintRecurse,
    AT_AddIndexConstraint,
    AT_DropConstraint,
    #[cfg(feature = "pg15")]
    AT_DropConstraintRecurse,
    AT_ReAddComment,
    AT_AlterColumnType,
    AT_AlterColumnGenericOptions,
    AT_ChangeOwner,
    AT_ClusterOn,
    AT_DropCluster,
    AT_SetLogged,
    AT_SetUnLogged,
    AT_DropOids,
    AT_SetAccessMethod,
    AT_SetTableSpace,
    AT_SetRelOptions,
    AT_ResetRelOptions,
    AT_ReplaceRelOptions,
    AT_EnableTrig,
    AT_EnableAlwaysTrig,
    AT_EnableReplicaTrig,
    AT_DisableTrig,
    AT_EnableTrigAll,
    AT_DisableTrigAll,
    AT_EnableTrigUser,
    AT_DisableTrigUser,
    AT_EnableRule,
    AT_EnableAlwaysRule,
    AT_EnableReplicaRule,
    AT_DisableRule,
    AT_AddInherit,
    AT_DropInherit,
    AT_AddOf,
    AT_DropOf,
    AT_ReplicaIdentity,
    AT_EnableRowSecurity,
    AT_DisableRowSecurity,
    AT_ForceRowSecurity,
    AT_NoForceRowSecurity,
    AT_GenericOptions,
    AT_AttachPartition,
    AT_DetachPartition,
    AT_DetachPartitionFinalize,
    AT_AddIdentity,
    AT_SetIdentity,
    AT_DropIdentity,
    AT_ReAddStatistics,
);

const SERIAL_TYPES: &[&str] = &["serial", "serial2", "serial4", "serial8", "smallserial", "bigserial"];

fn column_def(def: &pg_sys::ColumnDef) -> ColumnDef {
    let mut column = ColumnDef::new(&cstr(def.colname).unwrap_or_default(), &type_name(def.typeName));
    column.not_null = def.is_not_null;
    column.identity = def.identity != 0 || SERIAL_TYPES.contains(&column.type_name.as_str());
    column.generated = match def.generated as u8 {
        0 => None,
        b'v' => Some(Generated::Virtual),
        _ => Some(Generated::Stored),
    };
    if !def.raw_default.is_null() {
        column.default = Some(default_volatility(def.raw_default));
    }
    for c in nodes_of::<pg_sys::Constraint, _>(def.constraints) {
        match c.contype {
            Ct::CONSTR_NOTNULL => column.not_null = true,
            Ct::CONSTR_DEFAULT => column.default = Some(default_volatility(c.raw_expr)),
            Ct::CONSTR_IDENTITY => column.identity = true,
            Ct::CONSTR_GENERATED => {
                column.generated =
                    Some(if compat::generated_virtual(c) { Generated::Virtual } else { Generated::Stored })
            }
            _ => column.constraints.extend(constraint(c)),
        }
    }
    column
}

fn constraint(c: &pg_sys::Constraint) -> Option<Constraint> {
    let kind = match c.contype {
        Ct::CONSTR_CHECK => ConstraintKind::Check,
        Ct::CONSTR_FOREIGN => ConstraintKind::ForeignKey { references: range_var(c.pktable)? },
        Ct::CONSTR_UNIQUE => ConstraintKind::Unique,
        Ct::CONSTR_PRIMARY => ConstraintKind::PrimaryKey,
        Ct::CONSTR_EXCLUSION => ConstraintKind::Exclusion,
        Ct::CONSTR_NOTNULL => ConstraintKind::NotNull,
        Ct::CONSTR_NULL | Ct::CONSTR_DEFAULT | Ct::CONSTR_IDENTITY | Ct::CONSTR_GENERATED => return None,
        _ => ConstraintKind::Other,
    };
    Some(Constraint {
        kind,
        name: cstr(c.conname),
        not_valid: c.skip_validation || compat::not_enforced(c),
        using_index: !c.indexname.is_null(),
    })
}

/// The type as written (`int4`, `varchar`, `public.mytype`), without modifiers.
fn type_name(tn: *mut pg_sys::TypeName) -> String {
    let names = cast::<pg_sys::TypeName, _>(tn).map(|tn| strings(tn.names)).unwrap_or_default();
    match names.as_slice() {
        [catalog, name] if catalog == "pg_catalog" => name.clone(),
        _ => names.join("."),
    }
}

fn create_index(stmt: &pg_sys::IndexStmt) -> StatementKind {
    // SAFETY: the statement's RangeVar, when it has one.
    let only = !stmt.relation.is_null() && !unsafe { (*stmt.relation).inh };
    match range_var(stmt.relation) {
        Some(relation) => StatementKind::CreateIndex {
            only_partitioned: only && super::relcache::is_partitioned(&relation),
            relation,
            name: cstr(stmt.idxname),
            concurrently: stmt.concurrent,
            unique: stmt.unique,
            if_not_exists: stmt.if_not_exists,
        },
        None => StatementKind::Unclassified,
    }
}

fn create_table(stmt: &pg_sys::CreateStmt) -> StatementKind {
    let Some(relation) = range_var(stmt.relation) else { return StatementKind::Unclassified };
    let (mut columns, mut constraints, mut like) = (Vec::new(), Vec::new(), Vec::new());
    for node in nodes(stmt.tableElts) {
        if let Some(def) = cast(node) {
            columns.push(column_def(def));
        } else if let Some(c) = cast(node) {
            constraints.extend(constraint(c));
        } else if let Some(clause) = cast::<pg_sys::TableLikeClause, _>(node) {
            like.extend(range_var(clause.relation));
        }
    }
    let parents: Vec<RelationName> = nodes(stmt.inhRelations).into_iter().filter_map(range_var).collect();
    let (partition_of, inherits) =
        if stmt.partbound.is_null() { (None, parents) } else { (parents.into_iter().next(), Vec::new()) };
    let if_not_exists = stmt.if_not_exists;
    StatementKind::CreateTable { relation, columns, constraints, partition_of, inherits, like, if_not_exists }
}

fn object_kind(object_type: Ob::Type) -> ObjectKind {
    match object_type {
        Ob::OBJECT_TABLE | Ob::OBJECT_FOREIGN_TABLE => ObjectKind::Table,
        Ob::OBJECT_INDEX => ObjectKind::Index,
        Ob::OBJECT_VIEW => ObjectKind::View,
        Ob::OBJECT_MATVIEW => ObjectKind::MaterializedView,
        Ob::OBJECT_SEQUENCE => ObjectKind::Sequence,
        Ob::OBJECT_COLUMN => ObjectKind::Column,
        other => ObjectKind::Other(format!("object type {other}")),
    }
}

fn drop(stmt: &pg_sys::DropStmt) -> StatementKind {
    let cascade = stmt.behavior == pg_sys::DropBehavior::DROP_CASCADE;
    // Objects of one table, named `[schema.]table.name`: the table is locked.
    let on_table = match stmt.removeType {
        Ob::OBJECT_TRIGGER => Some(OnRelation::DropTrigger),
        Ob::OBJECT_POLICY => Some(OnRelation::Policy),
        Ob::OBJECT_RULE => Some(OnRelation::Rule),
        _ => None,
    };
    if let Some(what) = on_table {
        let first = nodes(stmt.objects).first().copied().unwrap_or(std::ptr::null_mut());
        let names = strings(first);
        let object = names.last().cloned().unwrap_or_default();
        let kind = match stmt.removeType {
            Ob::OBJECT_TRIGGER => TableObject::Trigger,
            Ob::OBJECT_POLICY => TableObject::Policy,
            _ => TableObject::Rule,
        };
        return match relation_of_names(names, true) {
            // IF EXISTS of an object the table does not have: PostgreSQL skips it.
            Some(relation)
                if stmt.missing_ok && super::relcache::table_object_exists(&relation, kind, &object) == Some(false) =>
            {
                StatementKind::OnRelation { relation, what: OnRelation::DropMissing }
            }
            Some(relation) => StatementKind::OnRelation { relation, what },
            None => StatementKind::Unclassified,
        };
    }
    if stmt.removeType == Ob::OBJECT_STATISTIC_EXT {
        // The statistics' table, from the catalog (SHARE UPDATE EXCLUSIVE on it).
        let tables: Vec<RelationName> =
            nodes(stmt.objects).into_iter().filter_map(|n| super::relcache::statistics_table(n.cast())).collect();
        return match tables.as_slice() {
            [] => StatementKind::NoTableLock,
            [table] => StatementKind::OnRelation { relation: table.clone(), what: OnRelation::DropStatistics },
            _ => StatementKind::Unclassified,
        };
    }
    // Schemas, types, domains and extensions: what goes with them is in the catalog.
    let target = match stmt.removeType {
        Ob::OBJECT_SCHEMA => Some(DropTarget::Schema),
        Ob::OBJECT_TYPE | Ob::OBJECT_DOMAIN => Some(DropTarget::Type),
        Ob::OBJECT_EXTENSION => Some(DropTarget::Extension),
        _ => None,
    };
    if let Some(target) = target {
        let names = nodes(stmt.objects)
            .into_iter()
            .map(|n| match cast::<pg_sys::TypeName, _>(n) {
                // A type's name is a TypeName, quoted to be resolved as SQL (`to_regtype`); a
                // schema's or an extension's a String, matched by the name itself.
                Some(tn) => strings(tn.names).iter().map(|p| quote_identifier(p)).collect::<Vec<_>>().join("."),
                None => string_value(n).unwrap_or_default(),
            })
            .collect();
        return StatementKind::DropObjects { target, names, cascade, addresses: Vec::new() };
    }
    let kind = object_kind(stmt.removeType);
    if let ObjectKind::Other(_) = kind {
        // Dropping a function, operator, collation, language ... with CASCADE can take
        // columns, indexes, triggers and tables with it: found from its catalog address.
        return if cascade { drop_cascade(stmt) } else { StatementKind::NoTableLock };
    }
    let objects = nodes(stmt.objects).into_iter().filter_map(name_list).collect();
    StatementKind::Drop { kind, objects, cascade, concurrently: stmt.concurrent }
}

/// `DROP FUNCTION | OPERATOR | COLLATION | LANGUAGE ... CASCADE`: each object by its catalog
/// address, resolved as the DROP resolves it.
fn drop_cascade(stmt: &pg_sys::DropStmt) -> StatementKind {
    let mut names = Vec::new();
    let mut addresses = Vec::new();
    for object in nodes(stmt.objects) {
        match super::relcache::object_address(stmt.removeType, object) {
            Some(Some((class, id, description))) => {
                names.push(description);
                addresses.push((class.to_u32(), id.to_u32()));
            }
            // No such object: PostgreSQL refuses the DROP (or IF EXISTS skips it).
            Some(None) => names.push(object_name(object)),
            // Not resolved: what it takes with it is unknown.
            None => {
                names.push(object_name(object));
                addresses.push(UNRESOLVED);
            }
        }
    }
    StatementKind::DropObjects { target: DropTarget::Object, names, cascade: true, addresses }
}

/// The relation a name list names, without its last name when that is another object's (a
/// column's, a trigger's, a policy's, a rule's).
fn relation_of_names(mut parts: Vec<String>, drop_last: bool) -> Option<RelationName> {
    if drop_last {
        parts.pop();
    }
    match parts.as_slice() {
        [table] => Some(RelationName::new(None, table)),
        [.., schema, table] => Some(RelationName::new(Some(schema), table)),
        [] => None,
    }
}

/// The address of an object a DROP names that could not be resolved.
const UNRESOLVED: (u32, u32) = (0, 0);

/// A dropped object's name as written (`s.name`, `s.f`: a function's arguments left out).
/// DROP's objects are name lists, String nodes, TypeNames or ObjectWithArgs.
fn object_name(object: *mut pg_sys::Node) -> String {
    let names = if let Some(with_args) = cast::<pg_sys::ObjectWithArgs, _>(object) {
        strings(with_args.objname)
    } else if let Some(tn) = cast::<pg_sys::TypeName, _>(object) {
        strings(tn.names)
    } else if tag(object) == T::T_List {
        strings(object)
    } else {
        return string_value(object).unwrap_or_default();
    };
    names.join(".")
}

/// The tables a publication statement names (schemas it names lock no table).
fn publication(objects: *mut pg_sys::List) -> StatementKind {
    let tables = nodes_of::<pg_sys::PublicationObjSpec, _>(objects)
        .into_iter()
        .filter_map(|spec| range_var(cast::<pg_sys::PublicationTable, _>(spec.pubtable)?.relation))
        .collect();
    StatementKind::Publication { tables }
}

/// `ALTER TABLE | VIEW | MATERIALIZED VIEW | SEQUENCE ... SET SCHEMA`: the relation's
/// qualified name changes, under ACCESS EXCLUSIVE, as for a rename; moving other objects
/// locks no table.
fn set_schema(stmt: &pg_sys::AlterObjectSchemaStmt) -> StatementKind {
    let kind = object_kind(stmt.objectType);
    if let ObjectKind::Other(_) = kind {
        return StatementKind::NoTableLock;
    }
    let Some(relation) = range_var(stmt.relation) else { return StatementKind::Unclassified };
    let new_name = format!("{}.{}", cstr(stmt.newschema).unwrap_or_default(), relation.name);
    let kind = super::relcache::object_kind(&relation).unwrap_or(kind);
    StatementKind::Rename { kind, relation, column: None, new_name }
}

fn rename(stmt: &pg_sys::RenameStmt) -> StatementKind {
    let Some(rv) = cast::<pg_sys::RangeVar, _>(stmt.relation) else {
        // Schemas, functions, types, roles ...: no table is locked.
        return StatementKind::NoTableLock;
    };
    let Some(relation) = range_var(stmt.relation) else { return StatementKind::Unclassified };
    let new_name = cstr(stmt.newname).unwrap_or_default();
    let (kind, column) = match stmt.renameType {
        Ob::OBJECT_COLUMN => (object_kind(stmt.relationType), cstr(stmt.subname)),
        Ob::OBJECT_TABCONSTRAINT => {
            return StatementKind::AlterTable {
                relation,
                actions: vec![AlterTableAction::Table(Sub::RenameConstraint)],
                only: !rv.inh,
            }
        }
        Ob::OBJECT_TRIGGER => return StatementKind::OnRelation { relation, what: OnRelation::RenameTrigger },
        Ob::OBJECT_POLICY => return StatementKind::OnRelation { relation, what: OnRelation::Policy },
        Ob::OBJECT_RULE => return StatementKind::OnRelation { relation, what: OnRelation::Rule },
        other => (object_kind(other), None),
    };
    if let ObjectKind::Other(_) = kind {
        return StatementKind::Unclassified;
    }
    // `ALTER INDEX t RENAME` renames the table t: classify what is renamed, not the keyword.
    let kind = if column.is_none() { super::relcache::object_kind(&relation).unwrap_or(kind) } else { kind };
    StatementKind::Rename { kind, relation, column, new_name }
}

/// COMMENT ON: table and column comments name their object by a list.
fn comment(stmt: &pg_sys::CommentStmt) -> StatementKind {
    let relation = match stmt.objtype {
        Ob::OBJECT_TABLE | Ob::OBJECT_VIEW | Ob::OBJECT_MATVIEW => name_list(stmt.object),
        Ob::OBJECT_COLUMN => relation_of_names(strings(stmt.object), true),
        _ => None,
    };
    StatementKind::Comment { relation }
}

/// An identifier quoted as PostgreSQL quotes it (only when it must be).
fn quote_identifier(name: &str) -> String {
    let Ok(c_name) = std::ffi::CString::new(name) else { return name.to_string() };
    // SAFETY: quote_identifier returns its argument or a palloc'd quoted copy.
    cstr(unsafe { pg_sys::quote_identifier(c_name.as_ptr()) }).unwrap_or_else(|| name.to_string())
}
