//! Maps the server's parse tree of a utility statement into fence-core's statement model.

use fence_core::model::{
    alter_domain_validates, subcommand_words, AlterTableAction, ColumnDef, Constraint, ConstraintKind, DropTarget,
    Generated, ObjectKind, OnRelation, RelationName, Statement, StatementKind, TableSubcommand as Sub,
    TransactionControl,
};
use pgrx::pg_sys::{self, AlterTableType as At, ConstrType as Ct, NodeTag as T, ObjectType as Ob};

use super::compat::{self, recurse};
use super::expr::default_volatility;
use super::nodes::{cstr, list_nodes, name_list, range_var, string_value, tag};

/// Maps one parse tree (as given to an event trigger or produced by `raw_parser`).
pub fn statement(node: *mut pg_sys::Node) -> Statement {
    let tag_name = super::parser::command_tag(node);
    // SAFETY: `node` is a valid parse tree; each arm casts only after checking the node tag.
    let kind = unsafe {
        match tag(node) {
            T::T_AlterTableStmt => alter_table(node as *mut pg_sys::AlterTableStmt),
            T::T_AlterDomainStmt => alter_domain(node as *mut pg_sys::AlterDomainStmt),
            T::T_IndexStmt => create_index(node as *mut pg_sys::IndexStmt),
            T::T_CreateStmt => create_table(node as *mut pg_sys::CreateStmt),
            T::T_DropStmt => drop(node as *mut pg_sys::DropStmt),
            T::T_RenameStmt => rename(node as *mut pg_sys::RenameStmt),
            T::T_CommentStmt => comment(node as *mut pg_sys::CommentStmt),
            T::T_TransactionStmt => StatementKind::Transaction(transaction(node as *mut pg_sys::TransactionStmt)),
            // SELECT ... INTO: a new table from the query.
            T::T_SelectStmt if !(*(node as *mut pg_sys::SelectStmt)).intoClause.is_null() => {
                created_from_query((*(node as *mut pg_sys::SelectStmt)).intoClause)
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
            T::T_CreateTableAsStmt => {
                let stmt = &*(node as *mut pg_sys::CreateTableAsStmt);
                created_from_query(stmt.into)
            }
            T::T_DoStmt | T::T_CallStmt => StatementKind::Code,
            // `ALTER INDEX | MATERIALIZED VIEW ... DEPENDS ON EXTENSION`: ACCESS EXCLUSIVE on
            // it; a trigger's reads its table; a function's locks none.
            T::T_AlterObjectDependsStmt => {
                let stmt = &*(node as *mut pg_sys::AlterObjectDependsStmt);
                match stmt.objectType {
                    Ob::OBJECT_INDEX => match range_var(stmt.relation) {
                        Some(relation) => {
                            StatementKind::OnRelation { relation, what: OnRelation::IndexExtensionDependency }
                        }
                        None => StatementKind::Unclassified,
                    },
                    Ob::OBJECT_MATVIEW | Ob::OBJECT_TRIGGER => match range_var(stmt.relation) {
                        Some(relation) => StatementKind::OnRelation {
                            relation,
                            what: if stmt.objectType == Ob::OBJECT_TRIGGER {
                                OnRelation::TriggerExtensionDependency
                            } else {
                                OnRelation::ExtensionDependency
                            },
                        },
                        None => StatementKind::Unclassified,
                    },
                    _ => StatementKind::NoTableLock,
                }
            }
            T::T_AlterTableMoveAllStmt => {
                let stmt = &*(node as *mut pg_sys::AlterTableMoveAllStmt);
                StatementKind::MoveAll {
                    tablespace: cstr(stmt.orig_tablespacename).unwrap_or_default(),
                    kind: object_kind(stmt.objtype),
                    roles: roles(stmt.roles),
                }
            }
            T::T_SecLabelStmt => {
                let stmt = &*(node as *mut pg_sys::SecLabelStmt);
                match object_kind(stmt.objtype) {
                    ObjectKind::Other(_) | ObjectKind::Index => StatementKind::NoTableLock,
                    // A relation's (or column's) name is a list of String nodes (a large
                    // object's is an Integer: checked by tag); a column's label locks its table.
                    _ if tag(stmt.object) != T::T_List => StatementKind::Unclassified,
                    kind => match relation_of_names(&list_nodes(stmt.object as *mut pg_sys::List), kind == ObjectKind::Column) {
                        Some(relation) => StatementKind::OnRelation { relation, what: OnRelation::SecurityLabel },
                        None => StatementKind::Unclassified,
                    },
                }
            }
            T::T_ReassignOwnedStmt => {
                StatementKind::ReassignOwned { roles: roles((*(node as *mut pg_sys::ReassignOwnedStmt)).roles) }
            }
            T::T_DropOwnedStmt => {
                let stmt = &*(node as *mut pg_sys::DropOwnedStmt);
                StatementKind::DropObjects {
                    target: DropTarget::Owned,
                    names: roles(stmt.roles),
                    cascade: stmt.behavior == pg_sys::DropBehavior::DROP_CASCADE,
                    addresses: Vec::new(),
                }
            }
            T::T_AlterExtensionContentsStmt => {
                let stmt = &*(node as *mut pg_sys::AlterExtensionContentsStmt);
                match object_kind(stmt.objtype) {
                    ObjectKind::Other(_) | ObjectKind::Column | ObjectKind::Index => StatementKind::NoTableLock,
                    _ => match name_list(stmt.object as *mut pg_sys::List) {
                        Some(relation) => StatementKind::OnRelation { relation, what: OnRelation::ExtensionMember },
                        None => StatementKind::Unclassified,
                    },
                }
            }
            T::T_VariableSetStmt => {
                let stmt = &*(node as *mut pg_sys::VariableSetStmt);
                let value = list_nodes(stmt.args).first().and_then(|arg| setting_value(*arg));
                StatementKind::Setting { name: cstr(stmt.name).unwrap_or_else(|| "ALL".into()), value }
            }
            T::T_ViewStmt if !(*(node as *mut pg_sys::ViewStmt)).replace => {
                match range_var((*(node as *mut pg_sys::ViewStmt)).view) {
                    Some(relation) => StatementKind::CreateFromQuery { relation, runs: false },
                    None => StatementKind::Unclassified,
                }
            }
            T::T_ViewStmt => on_relation((*(node as *mut pg_sys::ViewStmt)).view, OnRelation::ReplaceView),
            T::T_CreateTrigStmt => {
                on_relation((*(node as *mut pg_sys::CreateTrigStmt)).relation, OnRelation::CreateTrigger)
            }
            T::T_CreatePolicyStmt => on_relation((*(node as *mut pg_sys::CreatePolicyStmt)).table, OnRelation::Policy),
            T::T_RuleStmt => on_relation((*(node as *mut pg_sys::RuleStmt)).relation, OnRelation::Rule),
            // As CREATE TABLE: a partition or an inheritance child locks its parent.
            T::T_CreateForeignTableStmt => create_table(&mut (*(node as *mut pg_sys::CreateForeignTableStmt)).base),
            T::T_AlterPolicyStmt => on_relation((*(node as *mut pg_sys::AlterPolicyStmt)).table, OnRelation::Policy),
            T::T_AlterSeqStmt => {
                on_relation((*(node as *mut pg_sys::AlterSeqStmt)).sequence, OnRelation::AlterSequence)
            }
            T::T_RefreshMatViewStmt => {
                let stmt = &*(node as *mut pg_sys::RefreshMatViewStmt);
                on_relation(stmt.relation, OnRelation::RefreshMaterializedView { concurrently: stmt.concurrent })
            }
            T::T_CreateStatsStmt => {
                let relations = (*(node as *mut pg_sys::CreateStatsStmt)).relations;
                match list_nodes(relations).as_slice() {
                    [only] if tag(*only) == T::T_RangeVar => {
                        on_relation(*only as *mut pg_sys::RangeVar, OnRelation::CreateStatistics)
                    }
                    _ => StatementKind::Unclassified,
                }
            }
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
            // imported (new ones), extension membership: none locks an existing table.
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
            | T::T_LoadStmt => StatementKind::NoTableLock,
            T::T_AlterObjectSchemaStmt => set_schema(node as *mut pg_sys::AlterObjectSchemaStmt),
            T::T_CreatePublicationStmt => publication((*(node as *mut pg_sys::CreatePublicationStmt)).pubobjects),
            T::T_AlterPublicationStmt => publication((*(node as *mut pg_sys::AlterPublicationStmt)).pubobjects),
            _ => super::maintenance::statement_kind(node).unwrap_or(StatementKind::Unclassified),
        }
    };
    let (reads, cte_writes) = super::querytree::query(node);
    let mut statement = Statement::new(&tag_name, kind).reading(reads);
    if let StatementKind::Data(data) = &mut statement.kind {
        data.cte_writes = cte_writes;
    }
    statement
}

/// `CREATE TABLE | MATERIALIZED VIEW ... AS` and `SELECT ... INTO`: the new relation, and
/// whether its query runs now (not `WITH NO DATA`).
unsafe fn created_from_query(into: *mut pg_sys::IntoClause) -> StatementKind {
    if into.is_null() {
        return StatementKind::Unclassified;
    }
    // SAFETY: the statement's IntoClause (checked non-null) and its RangeVar.
    unsafe {
        match range_var((*into).rel) {
            Some(relation) => StatementKind::CreateFromQuery { relation, runs: !(*into).skipData },
            None => StatementKind::Unclassified,
        }
    }
}

/// The names of a list of RoleSpec nodes (`CURRENT_USER` and the like as the role they are
/// now; a role that does not exist as written).
unsafe fn roles(list: *mut pg_sys::List) -> Vec<String> {
    // SAFETY: REASSIGN / DROP OWNED's roles are RoleSpec nodes (checked by tag).
    unsafe {
        list_nodes(list)
            .into_iter()
            .filter(|n| tag(*n) == T::T_RoleSpec)
            .filter_map(|n| super::security::role_spec_name(n as *mut pg_sys::RoleSpec))
            .collect()
    }
}

unsafe fn transaction(stmt: *mut pg_sys::TransactionStmt) -> TransactionControl {
    use pg_sys::TransactionStmtKind as K;
    // SAFETY: the caller checked the tag.
    match unsafe { (*stmt).kind } {
        K::TRANS_STMT_BEGIN | K::TRANS_STMT_START => TransactionControl::Begin,
        K::TRANS_STMT_COMMIT => TransactionControl::Commit,
        K::TRANS_STMT_ROLLBACK => TransactionControl::Rollback,
        _ => TransactionControl::Other,
    }
}

/// The text of a SET argument (`'2s'`, `2000`, `on`), as written.
unsafe fn setting_value(arg: *mut pg_sys::Node) -> Option<String> {
    // SAFETY: SET arguments are A_Const nodes (or TypeCast of one); others are skipped.
    unsafe {
        if tag(arg) != T::T_A_Const {
            return None;
        }
        let value = &(*(arg as *mut pg_sys::A_Const)).val;
        match value.node.type_ {
            T::T_Integer => Some(value.ival.ival.to_string()),
            _ => string_value(&value.node as *const pg_sys::Node as *mut pg_sys::Node),
        }
    }
}

/// A statement about one relation, or unclassified when the name is missing.
unsafe fn on_relation(relation: *mut pg_sys::RangeVar, what: OnRelation) -> StatementKind {
    // SAFETY: the caller passes the statement's RangeVar (or NULL).
    match unsafe { range_var(relation) } {
        Some(relation) => StatementKind::OnRelation { relation, what },
        None => StatementKind::Unclassified,
    }
}

/// Whether the parse tree creates a partition (`CREATE TABLE ... PARTITION OF`) or attaches one
/// (`ALTER TABLE ... ATTACH PARTITION`): the statements after which a tracked partitioned
/// table may have a partition without fence's TRUNCATE trigger.
pub fn adds_partition(node: *mut pg_sys::Node) -> bool {
    // SAFETY: casts after the tag checks; ALTER TABLE's commands are AlterTableCmd nodes, a
    // CREATE SCHEMA's elements parse trees of their own, a foreign table's base a CreateStmt.
    unsafe {
        match tag(node) {
            T::T_CreateStmt => !(*(node as *mut pg_sys::CreateStmt)).partbound.is_null(),
            T::T_CreateForeignTableStmt => !(*(node as *mut pg_sys::CreateForeignTableStmt)).base.partbound.is_null(),
            T::T_CreateSchemaStmt => {
                list_nodes((*(node as *mut pg_sys::CreateSchemaStmt)).schemaElts).into_iter().any(adds_partition)
            }
            T::T_AlterTableStmt => list_nodes((*(node as *mut pg_sys::AlterTableStmt)).cmds)
                .into_iter()
                .any(|cmd| (*(cmd as *mut pg_sys::AlterTableCmd)).subtype == At::AT_AttachPartition),
            _ => false,
        }
    }
}

/// Whether the parse tree is `DROP EXTENSION fence`.
pub fn drops_fence(node: *mut pg_sys::Node) -> bool {
    // SAFETY: cast after the tag check; the objects of DROP EXTENSION are String nodes.
    unsafe {
        if tag(node) != T::T_DropStmt {
            return false;
        }
        let stmt = &*(node as *mut pg_sys::DropStmt);
        stmt.removeType == Ob::OBJECT_EXTENSION
            && list_nodes(stmt.objects).into_iter().any(|n| string_value(n).as_deref() == Some("fence"))
    }
}

unsafe fn alter_table(stmt: *mut pg_sys::AlterTableStmt) -> StatementKind {
    // SAFETY: caller checked the tag.
    unsafe {
        let stmt = &*stmt;
        let Some(relation) = range_var(stmt.relation) else { return StatementKind::Unclassified };
        let actions = list_nodes(stmt.cmds)
            .into_iter()
            .map(|cmd| alter_table_cmd(&relation, &*(cmd as *mut pg_sys::AlterTableCmd)))
            .collect();
        // ONLY: the subcommands that recurse into children and partitions do not.
        let only = !stmt.relation.is_null() && !(*stmt.relation).inh;
        // By what the relation is: ALTER INDEX also alters a table, and ALTER TABLE an index.
        match super::relcache::object_kind(&relation) {
            Some(ObjectKind::Index) => return StatementKind::AlterIndex { index: relation, actions },
            Some(ObjectKind::Sequence) => {
                return StatementKind::OnRelation { relation, what: OnRelation::SequenceAsTable }
            }
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
}

unsafe fn alter_domain(stmt: *mut pg_sys::AlterDomainStmt) -> StatementKind {
    // SAFETY: caller checked the tag; `def` is checked by tag before the cast.
    unsafe {
        let stmt = &*stmt;
        let Some(domain) = name_list(stmt.typeName) else { return StatementKind::Unclassified };
        let not_valid =
            (tag(stmt.def) == T::T_Constraint).then(|| (*(stmt.def as *mut pg_sys::Constraint)).skip_validation);
        StatementKind::AlterDomain { domain, validates: alter_domain_validates(stmt.subtype as u8, not_valid) }
    }
}

/// # Safety
/// `cmd` must be a subcommand of a valid ALTER TABLE parse tree.
unsafe fn alter_table_cmd(table: &RelationName, cmd: &pg_sys::AlterTableCmd) -> AlterTableAction {
    // SAFETY: per the caller, `name` is NULL or a string and `def` NULL or a node.
    let (name, def) = unsafe { (cstr(cmd.name), tag(cmd.def)) };
    let column = || name.clone().unwrap_or_default();
    match cmd.subtype {
        At::AT_AddColumn | recurse::ADD_COLUMN if def == T::T_ColumnDef => {
            // SAFETY: the tag was checked.
            AlterTableAction::AddColumn(unsafe { column_def(&*(cmd.def as *mut pg_sys::ColumnDef)) })
        }
        At::AT_DropColumn | recurse::DROP_COLUMN => AlterTableAction::DropColumn { column: column() },
        At::AT_AlterColumnType if def == T::T_ColumnDef => {
            // SAFETY: the tag was checked; the type name and default are the definition's nodes.
            let (new_type, binary_coercible) = unsafe {
                let def = &*(cmd.def as *mut pg_sys::ColumnDef);
                let new_type = type_name(def.typeName);
                (
                    new_type,
                    super::expr::type_change_is_binary_coercible(table, &column(), def.typeName, def.raw_default),
                )
            };
            // A virtual column (PostgreSQL 18) has no stored values to convert.
            let binary_coercible = binary_coercible || super::relcache::is_virtual_column(table, &column());
            AlterTableAction::AlterColumnType { column: column(), new_type, binary_coercible }
        }
        At::AT_SetNotNull => AlterTableAction::SetNotNull {
            column: column(),
            proven: super::relcache::not_null_proven(table, &column()),
        },
        At::AT_DropNotNull => AlterTableAction::DropNotNull { column: column() },
        At::AT_ColumnDefault => AlterTableAction::ChangeDefault { column: column() },
        At::AT_AddConstraint | recurse::ADD_CONSTRAINT if def == T::T_Constraint => {
            // SAFETY: the tag was checked.
            match unsafe { constraint(&*(cmd.def as *mut pg_sys::Constraint)) } {
                Some(c) => AlterTableAction::AddConstraint(c),
                None => AlterTableAction::Other { name: "ADD CONSTRAINT".into() },
            }
        }
        At::AT_ValidateConstraint | recurse::VALIDATE_CONSTRAINT => {
            AlterTableAction::ValidateConstraint { name: column() }
        }
        At::AT_DropConstraint | recurse::DROP_CONSTRAINT => AlterTableAction::DropConstraint {
            references: super::relcache::constraint_referenced_table(table, &column()),
            name: column(),
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
        At::AT_SetLogged | At::AT_SetUnLogged => AlterTableAction::Table(Sub::Persistence),
        At::AT_AddIdentity | At::AT_SetIdentity | At::AT_DropIdentity => AlterTableAction::Table(Sub::Identity),
        At::AT_DropExpression => AlterTableAction::Table(Sub::DropExpression),
        At::AT_SetRelOptions | At::AT_ResetRelOptions => {
            // SAFETY: the definition is a list of DefElem nodes; each is checked by tag.
            let names = unsafe { option_names(cmd.def as *mut pg_sys::List) };
            AlterTableAction::StorageParameters { names }
        }
        At::AT_AddInherit | At::AT_DropInherit if def == T::T_RangeVar => {
            // SAFETY: the tag was checked.
            match unsafe { range_var(cmd.def as *mut pg_sys::RangeVar) } {
                Some(parent) => AlterTableAction::Inherit { parent, inherit: cmd.subtype == At::AT_AddInherit },
                None => AlterTableAction::Other { name: "INHERIT".into() },
            }
        }
        At::AT_AlterConstraint => {
            // SAFETY: per the caller, an AT_AlterConstraint subcommand.
            match unsafe { compat::alter_constraint_enforced(cmd) } {
                Some((name, enforced)) => AlterTableAction::SetEnforced {
                    references: super::relcache::constraint_referenced_table(table, &name),
                    name,
                    enforced,
                },
                None => AlterTableAction::Table(Sub::AlterConstraint),
            }
        }
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
            // SAFETY: the tag was checked; its name is the partition's RangeVar.
            match unsafe { range_var((*(cmd.def as *mut pg_sys::PartitionCmd)).name) } {
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
            // SAFETY: the tag was checked; its name is the partition's RangeVar.
            let (partition, concurrently) = unsafe {
                let partition_cmd = &*(cmd.def as *mut pg_sys::PartitionCmd);
                (range_var(partition_cmd.name), partition_cmd.concurrent)
            };
            match partition {
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

/// The names of the storage parameters a SET / RESET (...) list names (`toast.` prefixed
/// where given).
///
/// # Safety
/// `list` must be NULL or a list of nodes.
unsafe fn option_names(list: *mut pg_sys::List) -> Vec<String> {
    // SAFETY: per the caller; each element is cast only after its tag is checked.
    unsafe {
        list_nodes(list)
            .into_iter()
            .filter(|n| tag(*n) == T::T_DefElem)
            .map(|n| {
                let def = &*(n as *mut pg_sys::DefElem);
                let name = cstr(def.defname).unwrap_or_default();
                match cstr(def.defnamespace) {
                    Some(namespace) => format!("{namespace}.{name}"),
                    None => name,
                }
            })
            .collect()
    }
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

unsafe fn column_def(def: &pg_sys::ColumnDef) -> ColumnDef {
    // SAFETY: a ColumnDef from the parser; its constraints list holds Constraint nodes.
    unsafe {
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
        for node in list_nodes(def.constraints) {
            if tag(node) != T::T_Constraint {
                continue;
            }
            let c = &*(node as *mut pg_sys::Constraint);
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
}

unsafe fn constraint(c: &pg_sys::Constraint) -> Option<Constraint> {
    // SAFETY: fields of a parser-built Constraint.
    unsafe {
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
}

/// The type as written (`int4`, `varchar`, `public.mytype`), without modifiers.
unsafe fn type_name(tn: *mut pg_sys::TypeName) -> String {
    if tn.is_null() {
        return String::new();
    }
    // SAFETY: a parser-built TypeName; `names` is a list of String nodes.
    unsafe {
        let names: Vec<String> = list_nodes((*tn).names).into_iter().filter_map(|n| string_value(n)).collect();
        match names.as_slice() {
            [catalog, name] if catalog == "pg_catalog" => name.clone(),
            _ => names.join("."),
        }
    }
}

unsafe fn create_index(stmt: *mut pg_sys::IndexStmt) -> StatementKind {
    // SAFETY: caller checked the tag.
    unsafe {
        let stmt = &*stmt;
        match range_var(stmt.relation) {
            Some(relation) => StatementKind::CreateIndex {
                relation,
                name: cstr(stmt.idxname),
                concurrently: stmt.concurrent,
                unique: stmt.unique,
                if_not_exists: stmt.if_not_exists,
            },
            None => StatementKind::Unclassified,
        }
    }
}

unsafe fn create_table(stmt: *mut pg_sys::CreateStmt) -> StatementKind {
    // SAFETY: caller checked the tag; list elements are checked by tag before casts.
    unsafe {
        let stmt = &*stmt;
        let Some(relation) = range_var(stmt.relation) else { return StatementKind::Unclassified };
        let (mut columns, mut constraints, mut like) = (Vec::new(), Vec::new(), Vec::new());
        for node in list_nodes(stmt.tableElts) {
            match tag(node) {
                T::T_ColumnDef => columns.push(column_def(&*(node as *mut pg_sys::ColumnDef))),
                T::T_Constraint => constraints.extend(constraint(&*(node as *mut pg_sys::Constraint))),
                T::T_TableLikeClause => like.extend(range_var((*(node as *mut pg_sys::TableLikeClause)).relation)),
                _ => {}
            }
        }
        let parents: Vec<RelationName> =
            list_nodes(stmt.inhRelations).into_iter().filter_map(|n| range_var(n as *mut pg_sys::RangeVar)).collect();
        let (partition_of, inherits) =
            if stmt.partbound.is_null() { (None, parents) } else { (parents.into_iter().next(), Vec::new()) };
        let if_not_exists = stmt.if_not_exists;
        StatementKind::CreateTable { relation, columns, constraints, partition_of, inherits, like, if_not_exists }
    }
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

unsafe fn drop(stmt: *mut pg_sys::DropStmt) -> StatementKind {
    // SAFETY: caller checked the tag; relation drops carry name lists.
    unsafe {
        let stmt = &*stmt;
        let cascade = stmt.behavior == pg_sys::DropBehavior::DROP_CASCADE;
        // Objects of one table, named `[schema.]table.name`: the table is locked.
        let on_table = match stmt.removeType {
            Ob::OBJECT_TRIGGER => Some(OnRelation::DropTrigger),
            Ob::OBJECT_POLICY => Some(OnRelation::Policy),
            Ob::OBJECT_RULE => Some(OnRelation::Rule),
            _ => None,
        };
        if let Some(what) = on_table {
            let first = list_nodes(stmt.objects).first().copied().unwrap_or(std::ptr::null_mut());
            return match relation_of_names(&list_nodes(first as *mut pg_sys::List), true) {
                Some(relation) => StatementKind::OnRelation { relation, what },
                None => StatementKind::Unclassified,
            };
        }
        if stmt.removeType == Ob::OBJECT_STATISTIC_EXT {
            // The statistics' table, from the catalog (SHARE UPDATE EXCLUSIVE on it).
            let tables: Vec<RelationName> = list_nodes(stmt.objects)
                .into_iter()
                .filter_map(|n| super::relcache::statistics_table(n as *mut pg_sys::List))
                .collect();
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
            let names = list_nodes(stmt.objects)
                .into_iter()
                .map(|n| {
                    // A type's name is a TypeName, quoted to be resolved as SQL (`to_regtype`);
                    // a schema's or an extension's a String, matched by the name itself.
                    if tag(n) == T::T_TypeName {
                        let parts: Vec<String> = list_nodes((*(n as *mut pg_sys::TypeName)).names)
                            .into_iter()
                            .filter_map(|p| string_value(p))
                            .collect();
                        parts.iter().map(|p| quote_identifier(p)).collect::<Vec<_>>().join(".")
                    } else {
                        string_value(n).unwrap_or_default()
                    }
                })
                .collect();
            return StatementKind::DropObjects { target, names, cascade, addresses: Vec::new() };
        }
        let kind = object_kind(stmt.removeType);
        if let ObjectKind::Other(_) = kind {
            // Dropping a function, operator, collation, language ... with CASCADE can take
            // columns, indexes, triggers and tables with it: found from its catalog address.
            if !cascade {
                return StatementKind::NoTableLock;
            }
            let mut names = Vec::new();
            let mut addresses = Vec::new();
            for object in list_nodes(stmt.objects) {
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
            return StatementKind::DropObjects { target: DropTarget::Object, names, cascade, addresses };
        }
        let objects = list_nodes(stmt.objects).into_iter().filter_map(|n| name_list(n as *mut pg_sys::List)).collect();
        StatementKind::Drop { kind, objects, cascade, concurrently: stmt.concurrent }
    }
}

/// The relation a name list (String nodes) names, without its last name when that is another
/// object's (a column's, a trigger's, a policy's, a rule's).
unsafe fn relation_of_names(names: &[*mut pg_sys::Node], drop_last: bool) -> Option<RelationName> {
    // SAFETY: String nodes (others give None).
    let mut parts: Vec<String> = names.iter().filter_map(|n| unsafe { string_value(*n) }).collect();
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
unsafe fn object_name(object: *mut pg_sys::Node) -> String {
    // SAFETY: DROP's objects are name lists, String nodes, TypeNames or ObjectWithArgs
    // (checked by tag).
    unsafe {
        let names = match tag(object) {
            T::T_ObjectWithArgs => (*(object as *mut pg_sys::ObjectWithArgs)).objname,
            T::T_TypeName => (*(object as *mut pg_sys::TypeName)).names,
            T::T_List => object as *mut pg_sys::List,
            _ => return string_value(object).unwrap_or_default(),
        };
        list_nodes(names).into_iter().filter_map(|n| string_value(n)).collect::<Vec<_>>().join(".")
    }
}

/// The tables a publication statement names (schemas it names lock no table).
unsafe fn publication(objects: *mut pg_sys::List) -> StatementKind {
    // SAFETY: a list of PublicationObjSpec nodes (checked by tag); `pubtable` is set for tables.
    unsafe {
        let tables = list_nodes(objects)
            .into_iter()
            .filter(|n| tag(*n) == T::T_PublicationObjSpec)
            .filter_map(|n| {
                let spec = &*(n as *mut pg_sys::PublicationObjSpec);
                if spec.pubtable.is_null() {
                    return None;
                }
                range_var((*spec.pubtable).relation)
            })
            .collect();
        StatementKind::Publication { tables }
    }
}

/// `ALTER TABLE | VIEW | MATERIALIZED VIEW | SEQUENCE ... SET SCHEMA`: the relation's
/// qualified name changes, under ACCESS EXCLUSIVE, as for a rename; moving other objects
/// locks no table.
unsafe fn set_schema(stmt: *mut pg_sys::AlterObjectSchemaStmt) -> StatementKind {
    // SAFETY: caller checked the tag.
    unsafe {
        let stmt = &*stmt;
        let kind = object_kind(stmt.objectType);
        if let ObjectKind::Other(_) = kind {
            return StatementKind::NoTableLock;
        }
        let Some(relation) = range_var(stmt.relation) else { return StatementKind::Unclassified };
        let new_name = format!("{}.{}", cstr(stmt.newschema).unwrap_or_default(), relation.name);
        let kind = super::relcache::object_kind(&relation).unwrap_or(kind);
        StatementKind::Rename { kind, relation, column: None, new_name }
    }
}

unsafe fn rename(stmt: *mut pg_sys::RenameStmt) -> StatementKind {
    // SAFETY: caller checked the tag.
    unsafe {
        let stmt = &*stmt;
        if stmt.relation.is_null() {
            // Schemas, functions, types, roles ...: no table is locked.
            return StatementKind::NoTableLock;
        }
        let Some(relation) = range_var(stmt.relation) else { return StatementKind::Unclassified };
        let new_name = cstr(stmt.newname).unwrap_or_default();
        let (kind, column) = match stmt.renameType {
            Ob::OBJECT_COLUMN => (object_kind(stmt.relationType), cstr(stmt.subname)),
            Ob::OBJECT_TABCONSTRAINT => {
                return StatementKind::AlterTable {
                    relation,
                    actions: vec![AlterTableAction::Table(Sub::RenameConstraint)],
                    only: !(*stmt.relation).inh,
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
}

unsafe fn comment(stmt: *mut pg_sys::CommentStmt) -> StatementKind {
    // SAFETY: caller checked the tag; table and column comments name their object by a list.
    unsafe {
        let stmt = &*stmt;
        let names = stmt.object as *mut pg_sys::List;
        let relation = match stmt.objtype {
            Ob::OBJECT_TABLE | Ob::OBJECT_VIEW | Ob::OBJECT_MATVIEW => name_list(names),
            Ob::OBJECT_COLUMN => {
                let mut parts: Vec<String> = list_nodes(names).into_iter().filter_map(|n| string_value(n)).collect();
                parts.pop();
                match parts.as_slice() {
                    [.., schema, table] => Some(RelationName::new(Some(schema), table)),
                    [table] => Some(RelationName::new(None, table)),
                    [] => None,
                }
            }
            _ => None,
        };
        StatementKind::Comment { relation }
    }
}

/// An identifier quoted as PostgreSQL quotes it (only when it must be).
fn quote_identifier(name: &str) -> String {
    let Ok(c_name) = std::ffi::CString::new(name) else { return name.to_string() };
    // SAFETY: quote_identifier returns its argument or a palloc'd quoted copy.
    unsafe { cstr(pg_sys::quote_identifier(c_name.as_ptr())) }.unwrap_or_else(|| name.to_string())
}
