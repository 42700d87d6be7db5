//! The CLI's front end: pg_query's parse tree mapped into fence-core's statement model, the
//! same model the extension builds from the server's own parse tree. Offline there is no
//! catalog: a default's volatility is judged from its shape, and a type change is never
//! known to be binary-coercible.

use fence_core::model::{
    alter_domain_validates, subcommand_words, AlterTableAction, ColumnDef, Constraint, ConstraintKind, DropTarget,
    Generated, ObjectKind, OnRelation, RelationName, Statement, StatementKind, TableSubcommand, TransactionControl,
    Volatility,
};
use pg_query::protobuf::{self, AlterTableType as At, ConstrType as Ct, ObjectType as Ob};
use pg_query::NodeEnum as N;

/// One statement of a file: its text span, its command tag and its model.
pub struct Parsed {
    pub start: usize,
    pub end: usize,
    pub statement: Statement,
    /// Syntax a PostgreSQL older than this major version refuses: (version, what).
    pub since: Option<(u32, &'static str)>,
}

/// Parses SQL into statements (a syntax error names its position).
pub fn parse(sql: &str) -> Result<Vec<Parsed>, String> {
    let result = pg_query::parse(sql, 0).map_err(|e| e.to_string())?;
    Ok(result
        .protobuf
        .stmts
        .iter()
        .filter_map(|raw| {
            let node = raw.stmt.as_ref()?.node.as_ref()?;
            let start = usize::try_from(raw.stmt_location).unwrap_or(0);
            let end = if raw.stmt_len > 0 { start + raw.stmt_len as usize } else { sql.len() };
            Some(Parsed { start, end: end.min(sql.len()), statement: statement(node), since: since(node) })
        })
        .collect())
}

pub(crate) fn range_var(rv: &Option<protobuf::RangeVar>) -> Option<RelationName> {
    rv.as_ref().map(relation)
}

/// The relation a RangeVar names.
pub(crate) fn relation(rv: &protobuf::RangeVar) -> RelationName {
    // A relation created TEMP lives in the session's temporary schema.
    let schema = if rv.relpersistence == "t" {
        Some("pg_temp")
    } else {
        (!rv.schemaname.is_empty()).then_some(rv.schemaname.as_str())
    };
    RelationName::new(schema, &rv.relname)
}

fn string(node: &protobuf::Node) -> Option<&str> {
    match node.node.as_ref()? {
        N::String(s) => Some(&s.sval),
        _ => None,
    }
}

fn name_list(node: &protobuf::Node) -> Option<RelationName> {
    let N::List(list) = node.node.as_ref()? else { return None };
    let names: Vec<&str> = list.items.iter().filter_map(string).collect();
    match names.as_slice() {
        [name] => Some(RelationName::new(None, name)),
        [schema, name] => Some(RelationName::new(Some(schema), name)),
        _ => None,
    }
}

/// The relation a name list names, without its last name when that is another object's (a
/// column's, a trigger's, a policy's, a rule's).
fn relation_of_names(node: &protobuf::Node, drop_last: bool) -> Option<RelationName> {
    let N::List(list) = node.node.as_ref()? else { return None };
    let mut names: Vec<&str> = list.items.iter().filter_map(string).collect();
    if drop_last {
        names.pop();
    }
    match names.as_slice() {
        [table] => Some(RelationName::new(None, table)),
        [.., schema, table] => Some(RelationName::new(Some(schema), table)),
        [] => None,
    }
}

fn type_name(tn: &Option<protobuf::TypeName>) -> String {
    let names: Vec<&str> = tn.iter().flat_map(|t| t.names.iter().filter_map(string)).collect();
    match names.as_slice() {
        ["pg_catalog", name] => (*name).to_string(),
        _ => names.join("."),
    }
}

const VOLATILE: &[&str] =
    &["random", "clock_timestamp", "timeofday", "gen_random_uuid", "uuid_generate_v4", "nextval", "txid_current"];

/// A default's volatility from its shape: constants are immutable, `now()` and
/// `CURRENT_TIMESTAMP` stable, known volatile functions volatile, anything else unknown.
fn volatility(node: &Option<Box<protobuf::Node>>) -> Volatility {
    match node.as_ref().and_then(|n| n.node.as_ref()) {
        Some(N::AConst(_)) => Volatility::Immutable,
        Some(N::TypeCast(cast)) if matches!(cast.arg.as_ref().and_then(|a| a.node.as_ref()), Some(N::AConst(_))) => {
            Volatility::Immutable
        }
        Some(N::SqlvalueFunction(_)) => Volatility::Stable,
        Some(N::FuncCall(call)) => {
            let name = call.funcname.last().and_then(string).unwrap_or_default();
            if VOLATILE.contains(&name) {
                Volatility::Volatile
            } else if name == "now" {
                Volatility::Stable
            } else {
                Volatility::Unknown
            }
        }
        _ => Volatility::Unknown,
    }
}

fn constraint(c: &protobuf::Constraint) -> Option<Constraint> {
    let kind = match Ct::try_from(c.contype).ok()? {
        Ct::ConstrCheck => ConstraintKind::Check,
        Ct::ConstrForeign => ConstraintKind::ForeignKey { references: range_var(&c.pktable)? },
        Ct::ConstrUnique => ConstraintKind::Unique,
        Ct::ConstrPrimary => ConstraintKind::PrimaryKey,
        Ct::ConstrExclusion => ConstraintKind::Exclusion,
        Ct::ConstrNotnull => ConstraintKind::NotNull,
        Ct::ConstrNull | Ct::ConstrDefault | Ct::ConstrIdentity | Ct::ConstrGenerated => return None,
        _ => ConstraintKind::Other,
    };
    // The parser sets `is_enforced` for CHECK and FOREIGN KEY only (PostgreSQL 18's NOT
    // ENFORCED: existing rows are not checked).
    let not_enforced = matches!(kind, ConstraintKind::Check | ConstraintKind::ForeignKey { .. }) && !c.is_enforced;
    Some(Constraint {
        kind,
        name: (!c.conname.is_empty()).then(|| c.conname.clone()),
        not_valid: c.skip_validation || not_enforced,
        using_index: !c.indexname.is_empty(),
    })
}

const SERIAL_TYPES: &[&str] = &["serial", "serial2", "serial4", "serial8", "smallserial", "bigserial"];

fn column_def(def: &protobuf::ColumnDef) -> ColumnDef {
    let mut column = ColumnDef::new(&def.colname, &type_name(&def.type_name));
    column.not_null = def.is_not_null;
    column.identity = !def.identity.is_empty() || SERIAL_TYPES.contains(&column.type_name.as_str());
    column.generated = generated(&def.generated);
    if def.raw_default.is_some() {
        column.default = Some(volatility(&def.raw_default));
    }
    for node in &def.constraints {
        let Some(N::Constraint(c)) = node.node.as_ref() else { continue };
        match Ct::try_from(c.contype) {
            Ok(Ct::ConstrNotnull) => column.not_null = true,
            Ok(Ct::ConstrDefault) => column.default = Some(volatility(&c.raw_expr)),
            Ok(Ct::ConstrIdentity) => column.identity = true,
            Ok(Ct::ConstrGenerated) => column.generated = generated(&c.generated_kind).or(Some(Generated::Stored)),
            _ => column.constraints.extend(constraint(c)),
        }
    }
    column
}

/// A generated column's kind as the parser spells it (`s`, `v`; empty: none).
fn generated(kind: &str) -> Option<Generated> {
    match kind {
        "v" => Some(Generated::Virtual),
        "s" => Some(Generated::Stored),
        _ => None,
    }
}

fn alter_table_cmd(cmd: &protobuf::AlterTableCmd) -> AlterTableAction {
    let column = || cmd.name.clone();
    let cascades = || cmd.behavior == protobuf::DropBehavior::DropCascade as i32;
    let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
    match (At::try_from(cmd.subtype), def) {
        (Ok(At::AtAddColumn), Some(N::ColumnDef(c))) => AlterTableAction::AddColumn(column_def(c)),
        (Ok(At::AtDropColumn), _) => AlterTableAction::DropColumn { column: column(), cascade: cascades() },
        (Ok(At::AtAlterColumnType), Some(N::ColumnDef(c))) => AlterTableAction::AlterColumnType {
            column: column(),
            new_type: type_name(&c.type_name),
            binary_coercible: false,
        },
        (Ok(At::AtSetNotNull), _) => AlterTableAction::SetNotNull { column: column(), proven: false },
        (Ok(At::AtDropNotNull), _) => AlterTableAction::DropNotNull { column: column() },
        (Ok(At::AtColumnDefault), _) => AlterTableAction::ChangeDefault { column: column() },
        (Ok(At::AtAddConstraint), Some(N::Constraint(c))) => match constraint(c) {
            Some(c) => AlterTableAction::AddConstraint(c),
            None => AlterTableAction::Other { name: "ADD CONSTRAINT".into() },
        },
        (Ok(At::AtValidateConstraint), _) => AlterTableAction::ValidateConstraint { name: column() },
        // Offline a foreign key's referenced table is unknown.
        (Ok(At::AtDropConstraint), _) => {
            AlterTableAction::DropConstraint { name: column(), references: None, cascade: cascades() }
        }
        (Ok(At::AtClusterOn), _) => AlterTableAction::ClusterOn { index: column() },
        (Ok(At::AtSetRelOptions | At::AtResetRelOptions), Some(N::List(list))) => {
            AlterTableAction::StorageParameters { names: list.items.iter().filter_map(parameter_name).collect() }
        }
        (Ok(At::AtAddInherit | At::AtDropInherit), Some(N::RangeVar(rv))) => match range_var(&Some(rv.clone())) {
            Some(parent) => {
                AlterTableAction::Inherit { parent, inherit: At::try_from(cmd.subtype) == Ok(At::AtAddInherit) }
            }
            None => AlterTableAction::Other { name: "INHERIT".into() },
        },
        (Ok(subtype @ (At::AtAttachPartition | At::AtDetachPartition)), Some(N::PartitionCmd(cmd))) => {
            match range_var(&cmd.name) {
                Some(partition) if subtype == At::AtAttachPartition => AlterTableAction::AttachPartition { partition },
                Some(partition) => AlterTableAction::DetachPartition { partition, concurrently: cmd.concurrent },
                None => AlterTableAction::Other { name: "PARTITION".into() },
            }
        }
        (Ok(At::AtDetachPartitionFinalize), Some(N::PartitionCmd(cmd))) => match range_var(&cmd.name) {
            Some(partition) => AlterTableAction::FinalizeDetach { partition },
            None => AlterTableAction::Other { name: "DETACH PARTITION FINALIZE".into() },
        },
        (Ok(At::AtSetAccessMethod), _) => AlterTableAction::SetAccessMethod { method: column(), unchanged: false },
        // Offline the column's kind is unknown: a stored one (rewritten) is assumed.
        (Ok(At::AtSetExpression), _) => AlterTableAction::SetExpression { column: column(), stored: true },
        (Ok(At::AtAlterConstraint), Some(N::AtalterConstraint(alter))) if alter.alter_enforceability => {
            AlterTableAction::SetEnforced { name: alter.conname.clone(), enforced: alter.is_enforced, references: None }
        }
        (Ok(At::AtSetTableSpace), _) => AlterTableAction::SetTablespace { tablespace: column(), unchanged: false },
        (Ok(subtype), _) => match table_subcommand(subtype) {
            Some(subcommand) => AlterTableAction::Table(subcommand),
            None => AlterTableAction::Other { name: subcommand_words(&format!("{subtype:?}")) },
        },
        (Err(_), _) => AlterTableAction::Other { name: format!("subcommand {}", cmd.subtype) },
    }
}

/// A storage parameter's name as PostgreSQL's lock rules know it (`toast.` before TOAST ones).
fn parameter_name(node: &protobuf::Node) -> Option<String> {
    let Some(N::DefElem(def)) = node.node.as_ref() else { return None };
    Some(match def.defnamespace.as_str() {
        "" => def.defname.clone(),
        namespace => format!("{namespace}.{}", def.defname),
    })
}

/// The ALTER TABLE subcommands about the table rather than its rows (as the extension maps
/// them, src/ffi/parsetree.rs).
fn table_subcommand(subtype: At) -> Option<TableSubcommand> {
    Some(match subtype {
        At::AtSetStatistics => TableSubcommand::SetStatistics,
        At::AtSetOptions | At::AtResetOptions => TableSubcommand::ColumnOptions,
        At::AtSetStorage => TableSubcommand::SetStorage,
        At::AtSetCompression => TableSubcommand::SetCompression,
        At::AtDropCluster => TableSubcommand::WithoutCluster,
        At::AtEnableTrig
        | At::AtEnableAlwaysTrig
        | At::AtEnableReplicaTrig
        | At::AtEnableTrigAll
        | At::AtEnableTrigUser => TableSubcommand::Trigger { disable: false },
        At::AtDisableTrig | At::AtDisableTrigAll | At::AtDisableTrigUser => TableSubcommand::Trigger { disable: true },
        At::AtEnableRule | At::AtEnableAlwaysRule | At::AtEnableReplicaRule | At::AtDisableRule => {
            TableSubcommand::Rule
        }
        At::AtReplicaIdentity => TableSubcommand::ReplicaIdentity,
        At::AtEnableRowSecurity | At::AtDisableRowSecurity | At::AtForceRowSecurity | At::AtNoForceRowSecurity => {
            TableSubcommand::RowSecurity
        }
        At::AtChangeOwner => TableSubcommand::Owner,
        At::AtSetLogged | At::AtSetUnLogged => TableSubcommand::Persistence,
        At::AtAddIdentity | At::AtSetIdentity | At::AtDropIdentity => TableSubcommand::Identity,
        At::AtDropExpression => TableSubcommand::DropExpression,
        At::AtAlterConstraint => TableSubcommand::AlterConstraint,
        At::AtAddOf | At::AtDropOf => TableSubcommand::OfType,
        At::AtGenericOptions | At::AtAlterColumnGenericOptions => TableSubcommand::ForeignOptions,
        At::AtDropOids => TableSubcommand::WithoutOids,
        _ => return None,
    })
}

fn alter_table(stmt: &protobuf::AlterTableStmt) -> StatementKind {
    let Some(relation) = range_var(&stmt.relation) else { return StatementKind::Unclassified };
    let actions = stmt
        .cmds
        .iter()
        .filter_map(|c| match c.node.as_ref() {
            Some(N::AlterTableCmd(cmd)) => Some(alter_table_cmd(cmd)),
            _ => None,
        })
        .collect();
    match Ob::try_from(stmt.objtype) {
        // Tables and the table-like relations ALTER TABLE's subcommands also apply to.
        Ok(Ob::ObjectTable | Ob::ObjectView | Ob::ObjectMatview | Ob::ObjectForeignTable) => {
            let only = stmt.relation.as_ref().is_some_and(|r| !r.inh);
            StatementKind::AlterTable { relation, actions, only }
        }
        Ok(Ob::ObjectIndex) => StatementKind::AlterIndex { index: relation, actions },
        Ok(Ob::ObjectSequence) => StatementKind::OnRelation { relation, what: OnRelation::SequenceAsTable },
        _ => StatementKind::Unclassified,
    }
}

fn object_kind(remove_type: i32) -> ObjectKind {
    match Ob::try_from(remove_type) {
        Ok(Ob::ObjectTable | Ob::ObjectForeignTable) => ObjectKind::Table,
        Ok(Ob::ObjectIndex) => ObjectKind::Index,
        Ok(Ob::ObjectView) => ObjectKind::View,
        Ok(Ob::ObjectMatview) => ObjectKind::MaterializedView,
        Ok(Ob::ObjectSequence) => ObjectKind::Sequence,
        Ok(Ob::ObjectColumn) => ObjectKind::Column,
        other => ObjectKind::Other(format!("{other:?}")),
    }
}

fn kind(node: &N) -> StatementKind {
    match node {
        N::AlterTableStmt(stmt) => alter_table(stmt),
        N::IndexStmt(stmt) => match range_var(&stmt.relation) {
            Some(relation) => StatementKind::CreateIndex {
                relation,
                name: (!stmt.idxname.is_empty()).then(|| stmt.idxname.clone()),
                concurrently: stmt.concurrent,
                unique: stmt.unique,
                if_not_exists: stmt.if_not_exists,
                // Offline the catalog is unknown: an ONLY index is taken to be built.
                only_partitioned: false,
            },
            None => StatementKind::Unclassified,
        },
        N::CreateStmt(stmt) => create_table(stmt),
        N::DropStmt(stmt) => {
            let cascade = stmt.behavior == protobuf::DropBehavior::DropCascade as i32;
            // Objects of one table, named `[schema.]table.name`: the table is locked.
            let on_table = match Ob::try_from(stmt.remove_type) {
                Ok(Ob::ObjectTrigger) => Some(OnRelation::DropTrigger),
                Ok(Ob::ObjectPolicy) => Some(OnRelation::Policy),
                Ok(Ob::ObjectRule) => Some(OnRelation::Rule),
                _ => None,
            };
            if let Some(what) = on_table {
                return match stmt.objects.first().and_then(|o| relation_of_names(o, true)) {
                    Some(relation) => StatementKind::OnRelation { relation, what },
                    None => StatementKind::Unclassified,
                };
            }
            // Schemas, types, domains and extensions: what goes with them is in the catalog
            // (offline: unknown).
            let target = match Ob::try_from(stmt.remove_type) {
                Ok(Ob::ObjectSchema) => Some(DropTarget::Schema),
                Ok(Ob::ObjectType | Ob::ObjectDomain) => Some(DropTarget::Type),
                Ok(Ob::ObjectExtension) => Some(DropTarget::Extension),
                _ => None,
            };
            if let Some(target) = target {
                let names = stmt
                    .objects
                    .iter()
                    .map(|o| match o.node.as_ref() {
                        Some(N::TypeName(t)) => t.names.iter().filter_map(string).collect::<Vec<_>>().join("."),
                        Some(N::String(s)) => s.sval.clone(),
                        _ => String::new(),
                    })
                    .collect();
                return StatementKind::DropObjects { target, names, cascade, addresses: Vec::new() };
            }
            match object_kind(stmt.remove_type) {
                // What a function, operator, collation ... takes with it is in the catalog.
                ObjectKind::Other(_) if cascade => StatementKind::DropObjects {
                    target: DropTarget::Object,
                    names: stmt.objects.iter().map(object_name).collect(),
                    cascade,
                    addresses: Vec::new(),
                },
                ObjectKind::Other(_) => StatementKind::NoTableLock,
                kind => StatementKind::Drop {
                    kind,
                    objects: stmt.objects.iter().filter_map(name_list).collect(),
                    cascade,
                    concurrently: stmt.concurrent,
                },
            }
        }
        N::RenameStmt(stmt) => rename(stmt),
        N::AlterDomainStmt(stmt) => alter_domain(stmt),
        N::CommentStmt(stmt) => comment(stmt),
        N::ViewStmt(stmt) if stmt.replace => on_relation(&stmt.view, OnRelation::ReplaceView),
        N::CreateTrigStmt(stmt) => on_relation(&stmt.relation, OnRelation::CreateTrigger),
        N::CreatePolicyStmt(stmt) => on_relation(&stmt.table, OnRelation::Policy),
        N::RuleStmt(stmt) => on_relation(&stmt.relation, OnRelation::Rule),
        // As CREATE TABLE: a partition or an inheritance child locks its parent.
        N::CreateForeignTableStmt(stmt) => match &stmt.base_stmt {
            Some(base) => create_table(base),
            None => StatementKind::Unclassified,
        },
        N::AlterPolicyStmt(stmt) => on_relation(&stmt.table, OnRelation::Policy),
        N::AlterSeqStmt(stmt) => on_relation(&stmt.sequence, OnRelation::AlterSequence),
        N::RefreshMatViewStmt(stmt) => {
            // Offline the catalog is unknown: the view is taken to be populated.
            let populated = true;
            on_relation(&stmt.relation, OnRelation::RefreshMaterializedView { concurrently: stmt.concurrent, populated })
        }
        N::CreateStatsStmt(stmt) => match stmt.relations.as_slice() {
            [only] => match only.node.as_ref() {
                Some(N::RangeVar(rv)) => on_relation(&Some(rv.clone()), OnRelation::CreateStatistics),
                _ => StatementKind::Unclassified,
            },
            _ => StatementKind::Unclassified,
        },
        N::TransactionStmt(stmt) => {
            StatementKind::Transaction(match protobuf::TransactionStmtKind::try_from(stmt.kind) {
                Ok(protobuf::TransactionStmtKind::TransStmtBegin | protobuf::TransactionStmtKind::TransStmtStart) => {
                    TransactionControl::Begin
                }
                Ok(protobuf::TransactionStmtKind::TransStmtCommit) => TransactionControl::Commit,
                Ok(protobuf::TransactionStmtKind::TransStmtRollback) => TransactionControl::Rollback,
                _ => TransactionControl::Other,
            })
        }
        // SELECT ... INTO: a new table from the query.
        N::SelectStmt(stmt) if stmt.into_clause.is_some() => created_from_query(&stmt.into_clause),
        N::SelectStmt(_)
        | N::InsertStmt(_)
        | N::UpdateStmt(_)
        | N::DeleteStmt(_)
        | N::MergeStmt(_)
        | N::CopyStmt(_)
        | N::ExplainStmt(_)
        // Cursors and prepared statements (only queries can be prepared).
        | N::DeclareCursorStmt(_)
        | N::FetchStmt(_)
        | N::ClosePortalStmt(_)
        | N::PrepareStmt(_)
        | N::ExecuteStmt(_)
        | N::DeallocateStmt(_) => StatementKind::Data(crate::query::data(node)),
        N::CreateTableAsStmt(stmt) => created_from_query(&stmt.into),
        N::ViewStmt(stmt) if !stmt.replace => match range_var(&stmt.view) {
            Some(relation) => StatementKind::CreateFromQuery { relation, runs: false },
            None => StatementKind::Unclassified,
        },
        N::DoStmt(_) | N::CallStmt(_) => StatementKind::Code,
        // `ALTER INDEX | MATERIALIZED VIEW ... DEPENDS ON EXTENSION`: ACCESS EXCLUSIVE on it; a
        // trigger's reads its table; a function's locks none.
        N::AlterObjectDependsStmt(stmt) => match Ob::try_from(stmt.object_type) {
            Ok(Ob::ObjectIndex) => on_relation(&stmt.relation, OnRelation::IndexExtensionDependency),
            Ok(Ob::ObjectMatview) => on_relation(&stmt.relation, OnRelation::ExtensionDependency),
            Ok(Ob::ObjectTrigger) => on_relation(&stmt.relation, OnRelation::TriggerExtensionDependency),
            _ => StatementKind::NoTableLock,
        },
        N::AlterTableMoveAllStmt(stmt) => StatementKind::MoveAll {
            tablespace: stmt.orig_tablespacename.clone(),
            kind: object_kind(stmt.objtype),
            roles: roles(&stmt.roles),
        },
        N::SecLabelStmt(stmt) => match object_kind(stmt.objtype) {
            ObjectKind::Other(_) | ObjectKind::Index => StatementKind::NoTableLock,
            // A column's label locks its table.
            kind => match stmt.object.as_deref().and_then(|o| relation_of_names(o, kind == ObjectKind::Column)) {
                Some(relation) => StatementKind::OnRelation { relation, what: OnRelation::SecurityLabel },
                None => StatementKind::Unclassified,
            },
        },
        N::ReassignOwnedStmt(stmt) => StatementKind::ReassignOwned { roles: roles(&stmt.roles) },
        N::DropOwnedStmt(stmt) => StatementKind::DropObjects {
            target: DropTarget::Owned,
            names: roles(&stmt.roles),
            cascade: stmt.behavior == protobuf::DropBehavior::DropCascade as i32,
            addresses: Vec::new(),
        },
        N::AlterExtensionContentsStmt(stmt) => match object_kind(stmt.objtype) {
            ObjectKind::Other(_) | ObjectKind::Column | ObjectKind::Index => StatementKind::NoTableLock,
            _ => match stmt.object.as_deref().and_then(name_list) {
                Some(relation) => StatementKind::OnRelation { relation, what: OnRelation::ExtensionMember },
                None => StatementKind::Unclassified,
            },
        },
        N::VariableSetStmt(stmt) => StatementKind::Setting {
            name: stmt.name.clone(),
            value: stmt.args.first().and_then(|a| match a.node.as_ref() {
                Some(N::AConst(c)) => match c.val.as_ref() {
                    Some(protobuf::a_const::Val::Sval(s)) => Some(s.sval.clone()),
                    Some(protobuf::a_const::Val::Ival(i)) => Some(i.ival.to_string()),
                    _ => None,
                },
                _ => None,
            }),
        },
        N::CreateSchemaStmt(_)
        | N::CreateFunctionStmt(_)
        | N::CreateSeqStmt(_)
        | N::CompositeTypeStmt(_)
        | N::CreateEnumStmt(_)
        | N::CreateRangeStmt(_)
        | N::CreateDomainStmt(_)
        | N::DefineStmt(_)
        | N::GrantStmt(_)
        | N::CreateExtensionStmt(_)
        | N::AlterExtensionStmt(_)
        // Enum values, functions, owners and default privileges of non-relations.
        | N::AlterEnumStmt(_)
        | N::AlterFunctionStmt(_)
        | N::AlterOwnerStmt(_)
        | N::AlterDefaultPrivilegesStmt(_)
        // As the extension classifies them (src/ffi/parsetree.rs): none locks an existing
        // table. Offline, DROP STATISTICS's table is unknown.
        | N::CreateOpClassStmt(_)
        | N::CreateOpFamilyStmt(_)
        | N::AlterOpFamilyStmt(_)
        | N::AlterOperatorStmt(_)
        | N::CreateConversionStmt(_)
        | N::CreateCastStmt(_)
        | N::CreateTransformStmt(_)
        | N::CreatePlangStmt(_)
        | N::CreateFdwStmt(_)
        | N::AlterFdwStmt(_)
        | N::CreateForeignServerStmt(_)
        | N::AlterForeignServerStmt(_)
        | N::CreateUserMappingStmt(_)
        | N::AlterUserMappingStmt(_)
        | N::DropUserMappingStmt(_)
        | N::AlterTsdictionaryStmt(_)
        | N::AlterTsconfigurationStmt(_)
        | N::AlterTypeStmt(_)
        | N::AlterStatsStmt(_)
        | N::CreateEventTrigStmt(_)
        | N::AlterEventTrigStmt(_)
        | N::CreateRoleStmt(_)
        | N::AlterRoleStmt(_)
        | N::AlterRoleSetStmt(_)
        | N::DropRoleStmt(_)
        | N::GrantRoleStmt(_)
        | N::CreateTableSpaceStmt(_)
        | N::AlterTableSpaceOptionsStmt(_)
        | N::DropTableSpaceStmt(_)
        | N::CreateAmStmt(_)
        | N::CreateSubscriptionStmt(_)
        | N::AlterSubscriptionStmt(_)
        | N::DropSubscriptionStmt(_)
        | N::AlterCollationStmt(_)
        | N::CreatedbStmt(_)
        | N::DropdbStmt(_)
        | N::AlterDatabaseStmt(_)
        | N::AlterDatabaseSetStmt(_)
        | N::AlterDatabaseRefreshCollStmt(_)
        | N::AlterSystemStmt(_)
        | N::ImportForeignSchemaStmt(_)
        | N::CheckPointStmt(_)
        | N::ConstraintsSetStmt(_)
        | N::VariableShowStmt(_)
        | N::NotifyStmt(_)
        | N::ListenStmt(_)
        | N::UnlistenStmt(_)
        | N::DiscardStmt(_)
        | N::LoadStmt(_) => StatementKind::NoTableLock,
        N::AlterObjectSchemaStmt(stmt) => set_schema(stmt),
        N::CreatePublicationStmt(stmt) => publication(&stmt.pubobjects),
        N::AlterPublicationStmt(stmt) => publication(&stmt.pubobjects),
        other => crate::maintenance::statement_kind(other).unwrap_or(StatementKind::Unclassified),
    }
}

fn alter_domain(stmt: &protobuf::AlterDomainStmt) -> StatementKind {
    let names: Vec<&str> = stmt.type_name.iter().filter_map(string).collect();
    let domain = match names.as_slice() {
        [.., schema, name] => RelationName::new(Some(schema), name),
        [name] => RelationName::new(None, name),
        [] => return StatementKind::Unclassified,
    };
    let not_valid = match stmt.def.as_ref().and_then(|d| d.node.as_ref()) {
        Some(N::Constraint(c)) => Some(c.skip_validation),
        _ => None,
    };
    let subtype = stmt.subtype.bytes().next().unwrap_or_default();
    StatementKind::AlterDomain { domain, validates: alter_domain_validates(subtype, not_valid) }
}

/// A statement about one relation, or unclassified when the name is missing.
fn on_relation(relation: &Option<protobuf::RangeVar>, what: OnRelation) -> StatementKind {
    match range_var(relation) {
        Some(relation) => StatementKind::OnRelation { relation, what },
        None => StatementKind::Unclassified,
    }
}

/// The tables a publication statement names (schemas it names lock no table).
fn publication(objects: &[protobuf::Node]) -> StatementKind {
    let tables = objects
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(N::PublicationObjSpec(spec)) => spec.pubtable.as_ref().and_then(|t| range_var(&t.relation)),
            _ => None,
        })
        .collect();
    StatementKind::Publication { tables }
}

/// `ALTER TABLE | VIEW | MATERIALIZED VIEW | SEQUENCE ... SET SCHEMA`: the relation's
/// qualified name changes, under ACCESS EXCLUSIVE, as for a rename; moving other objects
/// locks no table.
fn set_schema(stmt: &protobuf::AlterObjectSchemaStmt) -> StatementKind {
    let kind = object_kind(stmt.object_type);
    if let ObjectKind::Other(_) = kind {
        return StatementKind::NoTableLock;
    }
    let Some(relation) = range_var(&stmt.relation) else { return StatementKind::Unclassified };
    let new_name = format!("{}.{}", stmt.newschema, relation.name);
    StatementKind::Rename { kind, relation, column: None, new_name }
}

fn rename(stmt: &protobuf::RenameStmt) -> StatementKind {
    if stmt.relation.is_none() {
        // Schemas, functions, types, roles ...: no table is locked.
        return StatementKind::NoTableLock;
    }
    let Some(relation) = range_var(&stmt.relation) else { return StatementKind::Unclassified };
    let (kind, column) = match Ob::try_from(stmt.rename_type) {
        Ok(Ob::ObjectColumn) => (object_kind(stmt.relation_type), Some(stmt.subname.clone())),
        Ok(Ob::ObjectTabconstraint) => {
            return StatementKind::AlterTable {
                relation,
                actions: vec![AlterTableAction::Table(TableSubcommand::RenameConstraint)],
                only: stmt.relation.as_ref().is_some_and(|r| !r.inh),
            }
        }
        Ok(Ob::ObjectTrigger) => return StatementKind::OnRelation { relation, what: OnRelation::RenameTrigger },
        Ok(Ob::ObjectPolicy) => return StatementKind::OnRelation { relation, what: OnRelation::Policy },
        Ok(Ob::ObjectRule) => return StatementKind::OnRelation { relation, what: OnRelation::Rule },
        _ => (object_kind(stmt.rename_type), None),
    };
    if let ObjectKind::Other(_) = kind {
        return StatementKind::Unclassified;
    }
    StatementKind::Rename { kind, relation, column, new_name: stmt.newname.clone() }
}

/// `COMMENT ON` a table, view, materialized view or column names its relation; other objects
/// lock none.
fn comment(stmt: &protobuf::CommentStmt) -> StatementKind {
    let names: Vec<&str> = match stmt.object.as_ref().and_then(|o| o.node.as_ref()) {
        Some(N::List(list)) => list.items.iter().filter_map(string).collect(),
        _ => Vec::new(),
    };
    let relation_names = match Ob::try_from(stmt.objtype) {
        Ok(Ob::ObjectTable | Ob::ObjectView | Ob::ObjectMatview) => &names[..],
        Ok(Ob::ObjectColumn) => &names[..names.len().saturating_sub(1)],
        _ => &[][..],
    };
    let relation = match relation_names {
        [.., schema, table] => Some(RelationName::new(Some(schema), table)),
        [table] => Some(RelationName::new(None, table)),
        [] => None,
    };
    StatementKind::Comment { relation }
}

fn create_table(stmt: &protobuf::CreateStmt) -> StatementKind {
    let Some(relation) = range_var(&stmt.relation) else { return StatementKind::Unclassified };
    let (mut columns, mut constraints, mut like) = (Vec::new(), Vec::new(), Vec::new());
    for node in &stmt.table_elts {
        match node.node.as_ref() {
            Some(N::ColumnDef(c)) => columns.push(column_def(c)),
            Some(N::Constraint(c)) => constraints.extend(constraint(c)),
            Some(N::TableLikeClause(l)) => like.extend(range_var(&l.relation)),
            _ => {}
        }
    }
    let parents: Vec<RelationName> = stmt
        .inh_relations
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(N::RangeVar(rv)) => range_var(&Some(rv.clone())),
            _ => None,
        })
        .collect();
    let (partition_of, inherits) =
        if stmt.partbound.is_none() { (None, parents) } else { (parents.into_iter().next(), Vec::new()) };
    let if_not_exists = stmt.if_not_exists;
    StatementKind::CreateTable { relation, columns, constraints, partition_of, inherits, like, if_not_exists }
}

/// The command tag PostgreSQL would report, from the node type.
fn tag(node: &N, kind: &StatementKind) -> String {
    let tag = match (node, kind) {
        (N::AlterTableStmt(_), StatementKind::AlterIndex { .. }) => "ALTER INDEX",
        (N::AlterTableStmt(_), StatementKind::OnRelation { .. }) => "ALTER SEQUENCE",
        (N::AlterTableStmt(_), _) => "ALTER TABLE",
        (N::RenameStmt(_), StatementKind::Rename { kind: ObjectKind::Index, .. }) => "ALTER INDEX",
        (N::RenameStmt(_), StatementKind::Rename { kind: ObjectKind::Sequence, .. }) => "ALTER SEQUENCE",
        (N::RenameStmt(_), StatementKind::Rename { kind: ObjectKind::View, .. }) => "ALTER VIEW",
        (N::RenameStmt(_), StatementKind::Rename { kind: ObjectKind::MaterializedView, .. }) => {
            "ALTER MATERIALIZED VIEW"
        }
        (N::RenameStmt(_), StatementKind::OnRelation { what: OnRelation::RenameTrigger, .. }) => "ALTER TRIGGER",
        (N::RenameStmt(_), StatementKind::OnRelation { what: OnRelation::Policy, .. }) => "ALTER POLICY",
        (N::RenameStmt(_), StatementKind::OnRelation { what: OnRelation::Rule, .. }) => "ALTER RULE",
        (N::RenameStmt(_), _) => "ALTER TABLE",
        (N::CommentStmt(_), _) => "COMMENT",
        (N::AlterDomainStmt(_), _) => "ALTER DOMAIN",
        (N::AlterObjectSchemaStmt(_), StatementKind::Rename { kind: ObjectKind::Sequence, .. }) => "ALTER SEQUENCE",
        (N::AlterObjectSchemaStmt(_), StatementKind::Rename { .. }) => "ALTER TABLE",
        (N::AlterEnumStmt(_), _) => "ALTER TYPE",
        (N::CreatePublicationStmt(_), _) => "CREATE PUBLICATION",
        (N::AlterPublicationStmt(_), _) => "ALTER PUBLICATION",
        (N::CreateTrigStmt(_), _) => "CREATE TRIGGER",
        (N::CreatePolicyStmt(_), _) => "CREATE POLICY",
        (N::AlterPolicyStmt(_), _) => "ALTER POLICY",
        (N::AlterSeqStmt(_), _) => "ALTER SEQUENCE",
        (N::RefreshMatViewStmt(_), _) => "REFRESH MATERIALIZED VIEW",
        (N::CreateStatsStmt(_), _) => "CREATE STATISTICS",
        (N::LockStmt(_), _) => "LOCK TABLE",
        (N::VacuumStmt(stmt), _) if !stmt.is_vacuumcmd => "ANALYZE",
        (N::VacuumStmt(_), _) => "VACUUM",
        (N::ClusterStmt(_), _) => "CLUSTER",
        (N::ReindexStmt(_), _) => "REINDEX",
        (N::IndexStmt(_), _) => "CREATE INDEX",
        (N::CreateStmt(_), _) => "CREATE TABLE",
        (N::DropStmt(_), StatementKind::Drop { kind: ObjectKind::Index, .. }) => "DROP INDEX",
        (N::DropStmt(_), StatementKind::Drop { kind: ObjectKind::Table, .. }) => "DROP TABLE",
        (N::DropStmt(_), StatementKind::OnRelation { what: OnRelation::DropTrigger, .. }) => "DROP TRIGGER",
        (N::DropStmt(_), StatementKind::OnRelation { what: OnRelation::Policy, .. }) => "DROP POLICY",
        (N::DropStmt(_), StatementKind::OnRelation { what: OnRelation::Rule, .. }) => "DROP RULE",
        (N::DropStmt(_), _) => "DROP",
        (N::RuleStmt(_), _) => "CREATE RULE",
        (N::DoStmt(_), _) => "DO",
        (N::CallStmt(_), _) => "CALL",
        (N::TruncateStmt(_), _) => "TRUNCATE TABLE",
        (N::TransactionStmt(_), _) => "TRANSACTION",
        (N::SelectStmt(_), _) => "SELECT",
        (N::InsertStmt(_), _) => "INSERT",
        (N::UpdateStmt(_), _) => "UPDATE",
        (N::DeleteStmt(_), _) => "DELETE",
        (N::MergeStmt(_), _) => "MERGE",
        (N::VariableSetStmt(_), _) => "SET",
        (N::CreateSchemaStmt(_), _) => "CREATE SCHEMA",
        (N::CreateFunctionStmt(_), _) => "CREATE FUNCTION",
        (N::ViewStmt(_), _) => "CREATE VIEW",
        (N::CreateTableAsStmt(stmt), _) if stmt.objtype == Ob::ObjectMatview as i32 => "CREATE MATERIALIZED VIEW",
        (N::CreateTableAsStmt(_), _) => "CREATE TABLE AS",
        (N::ReassignOwnedStmt(_), _) => "REASSIGN OWNED",
        (N::DropOwnedStmt(_), _) => "DROP OWNED",
        (N::AlterExtensionContentsStmt(_), _) => "ALTER EXTENSION",
        (N::CopyStmt(_), _) => "COPY",
        (N::AlterTableMoveAllStmt(_), _) => "ALTER TABLE",
        (N::SecLabelStmt(_), _) => "SECURITY LABEL",
        (N::AlterObjectDependsStmt(stmt), _) => match Ob::try_from(stmt.object_type) {
            Ok(Ob::ObjectIndex) => "ALTER INDEX",
            Ok(Ob::ObjectMatview) => "ALTER MATERIALIZED VIEW",
            Ok(Ob::ObjectTrigger) => "ALTER TRIGGER",
            Ok(Ob::ObjectFunction) => "ALTER FUNCTION",
            Ok(Ob::ObjectProcedure) => "ALTER PROCEDURE",
            _ => "ALTER ROUTINE",
        },
        (N::ConstraintsSetStmt(_), _) => "SET CONSTRAINTS",
        (N::VariableShowStmt(_), _) => "SHOW",
        (N::ExplainStmt(_), _) => "EXPLAIN",
        _ => "OTHER",
    };
    tag.to_string()
}

/// The newest syntax a statement uses that older PostgreSQL versions refuse, as far as
/// fence knows the differences between 15 and 18: (major version, what).
fn since(node: &N) -> Option<(u32, &'static str)> {
    let column = |def: &protobuf::ColumnDef| {
        let virtual_column = def.constraints.iter().any(|n| {
            matches!(n.node.as_ref(), Some(N::Constraint(c)) if c.contype == Ct::ConstrGenerated as i32 && c.generated_kind == "v")
        });
        virtual_column.then_some((18, "a virtual generated column"))
    };
    let constraint = |c: &protobuf::Constraint| match Ct::try_from(c.contype) {
        Ok(Ct::ConstrCheck | Ct::ConstrForeign) if !c.is_enforced => Some((18, "NOT ENFORCED")),
        _ => None,
    };
    let element = |n: &protobuf::Node| match n.node.as_ref() {
        Some(N::ColumnDef(def)) => column(def),
        Some(N::Constraint(c)) => constraint(c),
        _ => None,
    };
    let command = |cmd: &protobuf::AlterTableCmd| {
        let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
        match (At::try_from(cmd.subtype), def) {
            (Ok(At::AtSetExpression), _) => Some((17, "ALTER COLUMN ... SET EXPRESSION")),
            (Ok(At::AtSetAccessMethod), _) if cmd.name.is_empty() => Some((17, "SET ACCESS METHOD DEFAULT")),
            (Ok(At::AtSetStatistics), None) => Some((17, "SET STATISTICS DEFAULT")),
            (Ok(At::AtAddConstraint), Some(N::Constraint(c))) if c.contype == Ct::ConstrNotnull as i32 => {
                Some((18, "ADD CONSTRAINT ... NOT NULL"))
            }
            (Ok(At::AtAlterConstraint), Some(N::AtalterConstraint(a))) if a.alter_enforceability => {
                Some((18, "ALTER CONSTRAINT ... [NOT] ENFORCED"))
            }
            (Ok(At::AtAlterConstraint), Some(N::AtalterConstraint(a))) if a.alter_inheritability => {
                Some((18, "ALTER CONSTRAINT ... [NO] INHERIT"))
            }
            (_, Some(n @ (N::ColumnDef(_) | N::Constraint(_)))) => element(&protobuf::Node { node: Some(n.clone()) }),
            _ => None,
        }
    };
    let newest = |found: Vec<Option<(u32, &'static str)>>| found.into_iter().flatten().max_by_key(|(v, _)| *v);
    match node {
        N::AlterTableStmt(stmt) => newest(
            stmt.cmds
                .iter()
                .map(|n| match n.node.as_ref() {
                    Some(N::AlterTableCmd(cmd)) => command(cmd),
                    _ => None,
                })
                .collect(),
        ),
        N::CreateStmt(stmt) => newest(stmt.table_elts.iter().map(element).collect()),
        N::MergeStmt(stmt) if stmt.returning_clause.as_ref().is_some_and(|r| !r.exprs.is_empty()) => {
            Some((17, "MERGE ... RETURNING"))
        }
        _ => None,
    }
}

fn statement(node: &N) -> Statement {
    let kind = kind(node);
    let (reads, cte_writes) = crate::query::query(node);
    let mut statement = Statement::new(&tag(node, &kind), kind).reading(reads);
    if let StatementKind::Data(data) = &mut statement.kind {
        data.cte_writes = cte_writes;
    }
    statement
}

/// `CREATE TABLE | MATERIALIZED VIEW ... AS` and `SELECT ... INTO`: the new relation, and
/// whether its query runs now (not `WITH NO DATA`).
fn created_from_query(into: &Option<Box<protobuf::IntoClause>>) -> StatementKind {
    match into.as_ref().and_then(|into| Some((range_var(&into.rel)?, into.skip_data))) {
        Some((relation, skip_data)) => StatementKind::CreateFromQuery { relation, runs: !skip_data },
        None => StatementKind::Unclassified,
    }
}

/// The roles of REASSIGN / DROP OWNED as written (`CURRENT_USER` and the like by that name:
/// offline, nobody is logged in).
fn roles(list: &[protobuf::Node]) -> Vec<String> {
    list.iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(N::RoleSpec(spec)) if !spec.rolename.is_empty() => Some(spec.rolename.clone()),
            Some(N::RoleSpec(spec)) => match protobuf::RoleSpecType::try_from(spec.roletype) {
                Ok(protobuf::RoleSpecType::RolespecCurrentUser) => Some("current_user".into()),
                Ok(protobuf::RoleSpecType::RolespecCurrentRole) => Some("current_role".into()),
                Ok(protobuf::RoleSpecType::RolespecSessionUser) => Some("session_user".into()),
                _ => Some("public".into()),
            },
            _ => None,
        })
        .collect()
}

/// A dropped object's name as written: `s.name`, `f(integer, text)`.
fn object_name(node: &protobuf::Node) -> String {
    let join = |names: &[protobuf::Node]| names.iter().filter_map(string).collect::<Vec<_>>().join(".");
    match node.node.as_ref() {
        Some(N::ObjectWithArgs(object)) => {
            let args: Vec<String> = object
                .objargs
                .iter()
                .map(|a| match a.node.as_ref() {
                    Some(N::TypeName(t)) => join(&t.names),
                    _ => String::new(),
                })
                .collect();
            format!("{}({})", join(&object.objname), args.join(", "))
        }
        Some(N::List(list)) => join(&list.items),
        Some(N::String(s)) => s.sval.clone(),
        Some(N::TypeName(t)) => join(&t.names),
        _ => String::new(),
    }
}
