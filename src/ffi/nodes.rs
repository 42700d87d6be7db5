//! Safe readers for the trees the server builds: parse trees, query trees, plans, and the
//! expression trees of the catalog.
//!
//! A tree's fields are raw pointers. The readers below take them as they are and check what
//! they point at before reading it (a node is cast only after its tag says what it is). Their
//! one promise — a pointer given to them is NULL or points at what its field's type says, alive
//! while fence reads it — is the server's for the trees it hands to an entry point and builds
//! in fence's own calls (its parser, rewriter, planner and `stringToNode` build them so, and
//! nothing frees them while the statement runs). That is why they are safe functions, and why
//! they are visible inside `ffi` only (this module is private to it): the code here passes
//! them the pointers of those trees and nothing else; the safe modules above hold a tree's
//! root only to hand it back down.

use std::ffi::{c_char, CStr};

use fence_core::model::RelationName;
use pgrx::pg_sys::{self, NodeTag};

/// A node struct and the tag that marks it.
pub(super) trait Tagged {
    const TAG: NodeTag;
}

macro_rules! tagged {
    ($($node:ident = $tag:ident),* $(,)?) => {
        $(impl Tagged for pg_sys::$node {
            const TAG: NodeTag = NodeTag::$tag;
        })*
    };
}

tagged!(
    A_Const = T_A_Const,
    Alias = T_Alias,
    AlterDomainStmt = T_AlterDomainStmt,
    AlterEnumStmt = T_AlterEnumStmt,
    AlterEventTrigStmt = T_AlterEventTrigStmt,
    AlterExtensionContentsStmt = T_AlterExtensionContentsStmt,
    AlterObjectDependsStmt = T_AlterObjectDependsStmt,
    AlterObjectSchemaStmt = T_AlterObjectSchemaStmt,
    AlterOwnerStmt = T_AlterOwnerStmt,
    AlterPolicyStmt = T_AlterPolicyStmt,
    AlterPublicationStmt = T_AlterPublicationStmt,
    AlterSeqStmt = T_AlterSeqStmt,
    AlterTableCmd = T_AlterTableCmd,
    AlterTableMoveAllStmt = T_AlterTableMoveAllStmt,
    AlterTableStmt = T_AlterTableStmt,
    Append = T_Append,
    Boolean = T_Boolean,
    BoolExpr = T_BoolExpr,
    ClusterStmt = T_ClusterStmt,
    ColumnDef = T_ColumnDef,
    CommentStmt = T_CommentStmt,
    Constraint = T_Constraint,
    CopyStmt = T_CopyStmt,
    CreateForeignTableStmt = T_CreateForeignTableStmt,
    CreatePolicyStmt = T_CreatePolicyStmt,
    CreatePublicationStmt = T_CreatePublicationStmt,
    CreateSchemaStmt = T_CreateSchemaStmt,
    CreateStatsStmt = T_CreateStatsStmt,
    CreateStmt = T_CreateStmt,
    CreateTableAsStmt = T_CreateTableAsStmt,
    CreateTrigStmt = T_CreateTrigStmt,
    DeclareCursorStmt = T_DeclareCursorStmt,
    DefElem = T_DefElem,
    DeleteStmt = T_DeleteStmt,
    DropOwnedStmt = T_DropOwnedStmt,
    DropStmt = T_DropStmt,
    ExplainStmt = T_ExplainStmt,
    IndexStmt = T_IndexStmt,
    InsertStmt = T_InsertStmt,
    Integer = T_Integer,
    IntoClause = T_IntoClause,
    JoinExpr = T_JoinExpr,
    LockingClause = T_LockingClause,
    LockStmt = T_LockStmt,
    MergeAppend = T_MergeAppend,
    MergeStmt = T_MergeStmt,
    NullTest = T_NullTest,
    ObjectWithArgs = T_ObjectWithArgs,
    PartitionCmd = T_PartitionCmd,
    PlannedStmt = T_PlannedStmt,
    PrepareStmt = T_PrepareStmt,
    PublicationObjSpec = T_PublicationObjSpec,
    PublicationTable = T_PublicationTable,
    Query = T_Query,
    RangeVar = T_RangeVar,
    RawStmt = T_RawStmt,
    ReassignOwnedStmt = T_ReassignOwnedStmt,
    RefreshMatViewStmt = T_RefreshMatViewStmt,
    ReindexStmt = T_ReindexStmt,
    RelabelType = T_RelabelType,
    RenameStmt = T_RenameStmt,
    RoleSpec = T_RoleSpec,
    RuleStmt = T_RuleStmt,
    SecLabelStmt = T_SecLabelStmt,
    SelectStmt = T_SelectStmt,
    String = T_String,
    SubqueryScan = T_SubqueryScan,
    TableLikeClause = T_TableLikeClause,
    TransactionStmt = T_TransactionStmt,
    TriggerData = T_TriggerData,
    TruncateStmt = T_TruncateStmt,
    TypeName = T_TypeName,
    UpdateStmt = T_UpdateStmt,
    VacuumRelation = T_VacuumRelation,
    VacuumStmt = T_VacuumStmt,
    Var = T_Var,
    VariableSetStmt = T_VariableSetStmt,
    ViewStmt = T_ViewStmt,
);
#[cfg(feature = "pg18")]
tagged!(ATAlterConstraint = T_ATAlterConstraint);

/// The tag of a node (`T_Invalid` for NULL). Any pointer field that holds a node will do.
pub(super) fn tag<P>(node: *const P) -> NodeTag {
    let node = node as *const pg_sys::Node;
    if node.is_null() {
        return NodeTag::T_Invalid;
    }
    // SAFETY: a node of a tree (see the module note); every node starts with its tag.
    unsafe { (*node).type_ }
}

/// The node as the struct its tag says it is (None for NULL or another node).
pub(super) fn cast<'a, T: Tagged, P>(node: *mut P) -> Option<&'a T> {
    // SAFETY: a node of a tree whose tag marks it a `T`: it has `T`'s layout.
    (tag(node) == T::TAG).then(|| unsafe { &*(node as *const T) })
}

/// The nodes of a `List` (NULL, or a node that is no list, is the empty list). PostgreSQL 13+ lists are arrays of cells.
pub(super) fn nodes<P>(list: *mut P) -> Vec<*mut pg_sys::Node> {
    if tag(list) != NodeTag::T_List {
        return Vec::new();
    }
    let list = list as *const pg_sys::List;
    // SAFETY: a list of a tree (see the module note): its first `length` cells are set.
    let cells = unsafe { std::slice::from_raw_parts((*list).elements, (*list).length as usize) };
    // SAFETY: the cells of a node list hold pointers.
    cells.iter().map(|cell| unsafe { cell.ptr_value } as *mut pg_sys::Node).collect()
}

/// The nodes of a list that are `T`s (the others left out).
pub(super) fn nodes_of<'a, T: Tagged, P>(list: *mut P) -> Vec<&'a T> {
    nodes(list).into_iter().filter_map(cast).collect()
}

/// The OIDs of an OID list (e.g. `RelationGetIndexList`'s, a relcache list).
pub(super) fn oids<P>(list: *mut P) -> Vec<pg_sys::Oid> {
    if tag(list) != NodeTag::T_OidList {
        return Vec::new();
    }
    let list = list as *const pg_sys::List;
    // SAFETY: an OID list of the server's: its first `length` cells are set.
    let cells = unsafe { std::slice::from_raw_parts((*list).elements, (*list).length as usize) };
    // SAFETY: the cells of an OID list hold OIDs.
    cells.iter().map(|cell| unsafe { cell.oid_value }).collect()
}

/// A string field of a tree (NULL is None).
pub(super) fn cstr(ptr: *const c_char) -> Option<String> {
    // SAFETY: a NUL-terminated string of a tree, or one the server returned.
    (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned())
}

/// The text of a `String` value node.
pub(super) fn string_value<P>(node: *mut P) -> Option<String> {
    cstr(cast::<pg_sys::String, P>(node)?.sval)
}

/// The texts of a list's `String` nodes (others left out).
pub(super) fn strings<P>(list: *mut P) -> Vec<String> {
    nodes(list).into_iter().filter_map(string_value).collect()
}

/// The relation a `RangeVar` names.
pub(super) fn range_var<P>(rv: *mut P) -> Option<RelationName> {
    let rv = cast::<pg_sys::RangeVar, P>(rv)?;
    // A relation created TEMP lives in the session's temporary schema.
    let schema = if rv.relpersistence as u8 == pg_sys::RELPERSISTENCE_TEMP {
        Some("pg_temp".to_string())
    } else {
        cstr(rv.schemaname)
    };
    Some(RelationName { schema, name: cstr(rv.relname)? })
}

/// A qualified name given as a list of `String` nodes (`[schema,] name`).
pub(super) fn name_list<P>(list: *mut P) -> Option<RelationName> {
    let parts = strings(list);
    match parts.as_slice() {
        [name] => Some(RelationName { schema: None, name: name.clone() }),
        [.., schema, name] => Some(RelationName { schema: Some(schema.clone()), name: name.clone() }),
        [] => None,
    }
}
