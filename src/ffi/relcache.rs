//! Relation look-ups: search-path resolution, schema-qualified names, size estimates, and
//! whether the relation was created in the current transaction.

use std::ffi::CString;

use fence_core::model::{ObjectKind, RelationName};
use pgrx::pg_sys;

use super::compat::attribute;
use super::nodes::cstr;

/// `InvalidSubTransactionId` (not exported by pgrx).
const INVALID_SUBTRANSACTION_ID: pg_sys::SubTransactionId = 0;

pub struct RelationInfo {
    pub name: RelationName,
    pub created_in_transaction: bool,
    /// A temporary relation of this session.
    pub private: bool,
    pub rows: f64,
    pub pages: i64,
}

/// The relation's OID as the current search path resolves its name; `None` when missing.
pub(super) fn relation_oid(relation: &RelationName) -> Option<pg_sys::Oid> {
    let schema = relation.schema.as_deref().map(CString::new).transpose().ok()?;
    let name = CString::new(relation.name.as_str()).ok()?;
    // SAFETY: makeRangeVar stores the pointers; pstrdup copies them into the current memory
    // context. RangeVarGetRelidExtended with NoLock and RVR_MISSING_OK returns InvalidOid
    // rather than raising when the relation does not exist.
    let oid = unsafe {
        let schema_ptr = schema.as_ref().map_or(std::ptr::null_mut(), |s| pg_sys::pstrdup(s.as_ptr()));
        let rv = pg_sys::makeRangeVar(schema_ptr, pg_sys::pstrdup(name.as_ptr()), -1);
        pg_sys::RangeVarGetRelidExtended(
            rv,
            pg_sys::NoLock as i32,
            pg_sys::RVROption::RVR_MISSING_OK,
            None,
            std::ptr::null_mut(),
        )
    };
    (oid != pg_sys::InvalidOid).then_some(oid)
}

fn qualified_name(oid: pg_sys::Oid) -> Option<RelationName> {
    // SAFETY: syscache look-ups by OID; both return palloc'd copies or NULL.
    unsafe {
        let name = cstr(pg_sys::get_rel_name(oid))?;
        let schema = cstr(pg_sys::get_namespace_name(pg_sys::get_rel_namespace(oid)));
        Some(RelationName { schema, name })
    }
}

/// Parses a possibly qualified, possibly quoted relation name (`public."My Table"`) with
/// the server's own rules; invalid syntax raises PostgreSQL's error.
pub fn parse_name(text: &str) -> RelationName {
    let Ok(text) = CString::new(text) else {
        super::error::invalid_parameter("the relation name contains a NUL byte").raise();
    };
    // SAFETY: the parser reads the string and returns a list of String nodes.
    let names = unsafe { super::compat::qualified_name_list(text.as_ptr()) };
    super::nodes::name_list(names).unwrap_or_else(|| RelationName::new(None, ""))
}

/// The OID of a relation named as fence prints it (`schema.name`, unquoted), if it exists.
pub fn oid_of(printed: &str) -> Option<pg_sys::Oid> {
    let name = match printed.split_once('.') {
        Some((schema, name)) => RelationName::new(Some(schema), name),
        None => RelationName::new(None, printed),
    };
    relation_oid(&name)
}

/// Looks a relation up by name, with its OID.
pub fn lookup_oid(relation: &RelationName) -> Option<(RelationInfo, pg_sys::Oid)> {
    let oid = relation_oid(relation)?;
    Some((lookup(relation)?, oid))
}

/// Looks a relation up by name as the current search path resolves it.
pub fn lookup(relation: &RelationName) -> Option<RelationInfo> {
    let oid = relation_oid(relation)?;
    let name = qualified_name(oid)?;
    // SAFETY: only the creation subtransaction, temporariness and size estimates are read.
    let (info, relpages, storage, files_tell) = with_relation(oid, |rel| unsafe {
        let form = &*(*rel).rd_rel;
        let info = RelationInfo {
            name,
            created_in_transaction: (*rel).rd_createSubid != INVALID_SUBTRANSACTION_ID,
            private: (*rel).rd_islocaltemp,
            rows: f64::from(form.reltuples),
            pages: i64::from(form.relpages),
        };
        let storage = matches!(form.relkind as u8, b'r' | b'm' | b'i' | b'S' | b't');
        // Another session's temporary relation: only its statistics can be read. A table with
        // inheritance children: ALTER TABLE recurses into them, so its own files do not say
        // what the statement reads or rewrites. A relation of this session's own (created in
        // this transaction, or temporary) is never rated by its size: its files are not read.
        let other_temp = form.relpersistence as u8 == b't' && !(*rel).rd_islocaltemp;
        let own = info.created_in_transaction || info.private;
        (info, form.relpages, storage, !other_temp && !form.relhassubclass && !own)
    })?;
    let pages = if !storage {
        -1
    } else if relpages > 0 {
        // Statistics that saw blocks: not empty.
        i64::from(relpages)
    } else if !files_tell {
        -1
    } else {
        // No block in the statistics, which may be older than the rows: the files' size. An
        // ERROR (files gone with a concurrent DROP) leaves the size unknown.
        super::xact::in_subtransaction(|| {
            // SAFETY: the entry is open while the main fork's size is read from its files.
            with_relation(oid, |rel| unsafe {
                i64::from(pg_sys::RelationGetNumberOfBlocksInFork(rel, pg_sys::ForkNumber::MAIN_FORKNUM))
            })
        })
        .flatten()
        .unwrap_or(-1)
    };
    Some(RelationInfo { pages, ..info })
}

/// Reads from a relation's relcache entry, opened without a lock and closed right after
/// `read` (which gets a valid, non-NULL entry and copies out what it keeps); None when the
/// relation does not exist (any more).
pub(super) fn with_relation<T>(oid: pg_sys::Oid, read: impl FnOnce(pg_sys::Relation) -> T) -> Option<T> {
    // SAFETY: a NULL entry means the relation vanished; otherwise the entry stays valid until
    // it is closed, after `read`.
    unsafe {
        let rel = pg_sys::RelationIdGetRelation(oid);
        if rel.is_null() {
            return None;
        }
        let value = read(rel);
        pg_sys::RelationClose(rel);
        Some(value)
    }
}

/// Whether `CREATE ... IF NOT EXISTS` of `name` finds what it would create already there, so
/// PostgreSQL skips it: for a table, a relation of that name (of any kind: PostgreSQL skips
/// whatever it is, before anything waits) where it would be created — the named schema, the
/// session's temporary schema for `pg_temp`, else the creation schema of the search path;
/// for an index, an index of that name on `index_of` only (CREATE INDEX waits for its table's
/// lock before it looks, and a decoy of another kind could be renamed away meanwhile).
pub fn already_created(name: &RelationName, index_of: Option<&RelationName>) -> bool {
    let Ok(relname) = CString::new(name.name.as_str()) else { return false };
    if let Some(table) = index_of {
        let Some(table) = relation_oid(table) else { return false };
        // SAFETY: syscache look-ups by OID and name; IndexGetRelation with missing_ok returns
        // InvalidOid for a relation that is not an index.
        return unsafe {
            let index = pg_sys::get_relname_relid(relname.as_ptr(), pg_sys::get_rel_namespace(table));
            index != pg_sys::InvalidOid && pg_sys::IndexGetRelation(index, true) == table
        };
    }
    let namespace = match name.schema.as_deref() {
        Some("pg_temp") => temp_namespace(),
        Some(schema) => {
            let Ok(schema) = CString::new(schema) else { return false };
            // SAFETY: with missing_ok, an unknown schema is InvalidOid.
            unsafe { pg_sys::get_namespace_oid(schema.as_ptr(), true) }
        }
        // Where PostgreSQL creates an unqualified name: the search path's creation schema (not
        // the implicit pg_catalog); none selected is PostgreSQL's error to raise, not fence's.
        None => super::xact::rolled_back(|| {
            // SAFETY: makeRangeVar keeps the pstrdup'd name; RangeVarGetCreationNamespace reads
            // the RangeVar and the session's search path (an ERROR is caught by the
            // subtransaction).
            unsafe {
                let range = pg_sys::makeRangeVar(std::ptr::null_mut(), pg_sys::pstrdup(relname.as_ptr()), -1);
                pg_sys::RangeVarGetCreationNamespace(range)
            }
        })
        .unwrap_or(pg_sys::InvalidOid),
    };
    if namespace == pg_sys::InvalidOid {
        return false;
    }
    // SAFETY: a syscache look-up by name.
    unsafe { pg_sys::get_relname_relid(relname.as_ptr(), namespace) != pg_sys::InvalidOid }
}

/// The session's temporary schema (InvalidOid: it has made no temporary object yet).
fn temp_namespace() -> pg_sys::Oid {
    let (mut temp, mut toast) = (pg_sys::InvalidOid, pg_sys::InvalidOid);
    // SAFETY: writes the session's temporary namespaces.
    unsafe { pg_sys::GetTempNamespaceState(&mut temp, &mut toast) };
    temp
}

/// Whether the session has a temporary schema (it made a temporary object at some point).
pub fn has_temp_namespace() -> bool {
    temp_namespace() != pg_sys::InvalidOid
}

/// Whether the name resolves to a view (locking a view locks the tables it reads).
pub fn is_view(relation: &RelationName) -> bool {
    view_oid(relation).is_some()
}

/// The OID of the view the name resolves to (None: no view of that name).
pub fn view_oid(relation: &RelationName) -> Option<pg_sys::Oid> {
    // SAFETY: a syscache look-up by OID ('\0' for a vanished relation).
    relation_oid(relation).filter(|oid| unsafe { pg_sys::get_rel_relkind(*oid) as u8 } == pg_sys::RELKIND_VIEW)
}

/// What the name resolves to, by its `relkind` (None when it does not exist yet): `ALTER
/// INDEX`, `ALTER SEQUENCE` and `ALTER VIEW` rename and move tables too, so the statement's
/// keyword does not say what is renamed.
pub fn object_kind(relation: &RelationName) -> Option<ObjectKind> {
    let oid = relation_oid(relation)?;
    // SAFETY: a syscache look-up by OID ('\0' for a vanished relation).
    let kind = match unsafe { pg_sys::get_rel_relkind(oid) } as u8 {
        pg_sys::RELKIND_RELATION | pg_sys::RELKIND_PARTITIONED_TABLE | pg_sys::RELKIND_FOREIGN_TABLE => {
            ObjectKind::Table
        }
        pg_sys::RELKIND_INDEX | pg_sys::RELKIND_PARTITIONED_INDEX => ObjectKind::Index,
        pg_sys::RELKIND_VIEW => ObjectKind::View,
        pg_sys::RELKIND_MATVIEW => ObjectKind::MaterializedView,
        pg_sys::RELKIND_SEQUENCE => ObjectKind::Sequence,
        _ => return None,
    };
    Some(kind)
}

/// The table an index belongs to.
pub fn index_table(index: &RelationName) -> Option<RelationName> {
    let oid = relation_oid(index)?;
    // SAFETY: IndexGetRelation with missing_ok returns InvalidOid for non-indexes.
    let table = unsafe { pg_sys::IndexGetRelation(oid, true) };
    if table == pg_sys::InvalidOid {
        return None;
    }
    qualified_name(table)
}

/// The indexes of a table, schema-qualified.
pub fn table_indexes(table: &RelationName) -> Vec<RelationName> {
    let Some(oid) = relation_oid(table) else { return Vec::new() };
    index_oids(oid).into_iter().filter_map(qualified_name).collect()
}

/// The OIDs of a table's indexes (none when the table is gone).
fn index_oids(table: pg_sys::Oid) -> Vec<pg_sys::Oid> {
    // SAFETY: the index list is a palloc'd copy of OIDs.
    with_relation(table, |rel| unsafe { super::nodes::oids(pg_sys::RelationGetIndexList(rel)) }).unwrap_or_default()
}

/// A value read from a relation's `pg_class` row in its relcache entry; None when the name
/// resolves to nothing.
fn class_row<T>(relation: &RelationName, read: impl FnOnce(&pg_sys::FormData_pg_class) -> T) -> Option<T> {
    // SAFETY: rd_rel is valid while the entry is open.
    with_relation(relation_oid(relation)?, |rel| read(unsafe { &*(*rel).rd_rel }))
}

/// Whether the table already uses the table access method `method` (SET ACCESS METHOD is then
/// a no-op); false when either is unknown.
pub fn uses_access_method(table: &RelationName, method: &str) -> bool {
    let Ok(method) = CString::new(method) else { return false };
    // SAFETY: with missing_ok, an unknown method is InvalidOid.
    let am = unsafe { pg_sys::get_table_am_oid(method.as_ptr(), true) };
    am != pg_sys::InvalidOid && class_row(table, |c| c.relam) == Some(am)
}

/// Whether the relation (table or index) is already stored in tablespace `name` (SET
/// TABLESPACE is then a no-op); false when either is unknown.
pub fn in_tablespace(relation: &RelationName, name: &str) -> bool {
    let Ok(name) = CString::new(name) else { return false };
    // SAFETY: with missing_ok, an unknown tablespace is InvalidOid; MyDatabaseTableSpace is
    // set for the whole session.
    let (wanted, default) = unsafe { (pg_sys::get_tablespace_oid(name.as_ptr(), true), pg_sys::MyDatabaseTableSpace) };
    // reltablespace 0: the database's default tablespace.
    let stored = class_row(relation, |c| if c.reltablespace == pg_sys::InvalidOid { default } else { c.reltablespace });
    wanted != pg_sys::InvalidOid && stored == Some(wanted)
}

/// Whether a validated CHECK constraint of the table is `column IS NOT NULL` (alone or as
/// one operand of an AND): PostgreSQL's SET NOT NULL then skips its scan.
pub fn not_null_proven(table: &RelationName, column: &str) -> bool {
    any_check(table, column, true, is_not_null_test)
}

/// Whether SET NOT NULL of the column finds it NOT NULL already and scans nothing: the column
/// is NOT NULL, the table has no inheritance children or partitions (SET NOT NULL recurses
/// into them, and a child may allow NULLs), and before PostgreSQL 18 (where NOT NULL may
/// stand for a NOT VALID constraint that SET NOT NULL validates with a scan).
pub fn already_not_null(table: &RelationName, column: &str) -> bool {
    super::compat::MAJOR < 18
        && column_not_null(table, column)
        && relation_oid(table).is_some_and(|oid| {
            // SAFETY: the entry's pg_class row is read while it is open.
            with_relation(oid, |rel| unsafe { !(*(*rel).rd_rel).relhassubclass }).unwrap_or(false)
        })
}

/// Whether any CHECK constraint of the table uses `column`.
pub fn column_has_checks(table: &RelationName, column: &str) -> bool {
    any_check(table, column, false, |expr, attnum| {
        let mut columns: *mut pg_sys::Bitmapset = std::ptr::null_mut();
        // SAFETY: `expr` is a node tree rebuilt by stringToNode; the bitmap is palloc'd.
        unsafe {
            pg_sys::pull_varattnos(expr, 1, &mut columns);
            pg_sys::bms_is_member(i32::from(attnum) - pg_sys::FirstLowInvalidHeapAttributeNumber, columns)
        }
    })
}

/// Whether `test` holds for any CHECK constraint of the table (validated ones only when
/// `valid_only`), given the constraint's expression and `column`'s attribute number.
fn any_check(
    table: &RelationName,
    column: &str,
    valid_only: bool,
    test: impl Fn(*mut pg_sys::Node, i16) -> bool,
) -> bool {
    let Some((oid, attnum)) = column_number(table, column) else { return false };
    // SAFETY: the check constraints are relcache-owned strings, the array only read when
    // non-NULL; each constraint's tree is rebuilt in the current memory context.
    with_relation(oid, |rel| unsafe {
        let constr = (*(*rel).rd_att).constr;
        if constr.is_null() || (*constr).check.is_null() || (*constr).num_check == 0 {
            return false;
        }
        let checks = std::slice::from_raw_parts((*constr).check, usize::from((*constr).num_check));
        // A proof (valid_only) must hold for the children too: a NO INHERIT check does not.
        let proves = |c: &pg_sys::ConstrCheck| c.ccvalid && !(c.ccnoinherit && (*(*rel).rd_rel).relhassubclass);
        checks
            .iter()
            .filter(|c| !c.ccbin.is_null() && (!valid_only || proves(c)))
            .any(|c| test(pg_sys::stringToNode(c.ccbin) as *mut pg_sys::Node, attnum))
    })
    .unwrap_or(false)
}

/// `expr` is `column IS NOT NULL`, or an AND with it among its operands (a node tree from
/// `stringToNode`).
fn is_not_null_test(expr: *mut pg_sys::Node, attnum: i16) -> bool {
    use super::nodes::cast;
    if let Some(test) = cast::<pg_sys::NullTest, _>(expr) {
        // Not a row's IS NOT NULL (every field non-null): PostgreSQL's proof does not use it.
        return test.nulltesttype == pg_sys::NullTestType::IS_NOT_NULL
            && !test.argisrow
            && cast::<pg_sys::Var, _>(test.arg).is_some_and(|var| var.varattno == attnum);
    }
    cast::<pg_sys::BoolExpr, _>(expr).is_some_and(|bool_expr| {
        bool_expr.boolop == pg_sys::BoolExprType::AND_EXPR
            && super::nodes::nodes(bool_expr.args).into_iter().any(|arg| is_not_null_test(arg, attnum))
    })
}

/// The indexes of a table whose keys include `column` (expression indexes included, as they
/// may use it), schema-qualified.
pub fn column_indexes(table: &RelationName, column: &str) -> Vec<RelationName> {
    let Some(oid) = relation_oid(table) else { return Vec::new() };
    let Ok(column) = CString::new(column) else { return Vec::new() };
    // SAFETY: get_attnum returns InvalidAttrNumber for a missing column.
    let attnum = unsafe { pg_sys::get_attnum(oid, column.as_ptr()) };
    if attnum <= 0 {
        return Vec::new();
    }
    index_oids(oid)
        .into_iter()
        .filter(|&index| {
            // SAFETY: an index's entry has its pg_index row; only its fixed part is read.
            with_relation(index, |rel| unsafe {
                let form = &*(*rel).rd_index;
                form.indkey.values.as_slice(form.indnatts as usize).iter().any(|k| *k == attnum || *k == 0)
            })
            .unwrap_or(false)
        })
        .filter_map(qualified_name)
        .collect()
}

/// The OID of a table that has inheritance children or partitions (`relhassubclass`); None
/// for any other (or a missing) relation.
pub fn with_children(table: &RelationName) -> Option<pg_sys::Oid> {
    let oid = relation_oid(table)?;
    // SAFETY: rd_rel is valid while the entry is open.
    (with_relation(oid, |rel| unsafe { (*(*rel).rd_rel).relhassubclass }) == Some(true)).then_some(oid)
}

/// The tables a table's foreign keys reference, schema-qualified.
pub fn referenced_tables(table: &RelationName) -> Vec<RelationName> {
    let Some(oid) = relation_oid(table) else { return Vec::new() };
    // SAFETY: the foreign-key list holds relcache-owned ForeignKeyCacheInfo nodes, read while
    // the entry is open.
    let oids = with_relation(oid, |rel| unsafe {
        super::nodes::nodes(pg_sys::RelationGetFKeyList(rel))
            .into_iter()
            .map(|node| (*(node as *mut pg_sys::ForeignKeyCacheInfo)).confrelid)
            .filter(|referenced| *referenced != oid)
            .collect::<Vec<_>>()
    });
    oids.unwrap_or_default().into_iter().filter_map(qualified_name).collect()
}

/// The table a foreign key of `table` named `constraint` references; None when there is no
/// such foreign key.
pub fn constraint_referenced_table(table: &RelationName, constraint: &str) -> Option<RelationName> {
    let oid = relation_oid(table)?;
    // SAFETY: as in `referenced_tables`; get_constraint_name returns a palloc'd copy or NULL.
    let referenced = with_relation(oid, |rel| unsafe {
        super::nodes::nodes(pg_sys::RelationGetFKeyList(rel))
            .into_iter()
            .map(|node| &*(node as *mut pg_sys::ForeignKeyCacheInfo))
            .find(|fk| cstr(pg_sys::get_constraint_name(fk.conoid)).as_deref() == Some(constraint))
            .map(|fk| fk.confrelid)
    })??;
    qualified_name(referenced)
}

/// The table an extended-statistics object (named by a list of String nodes) is on; None when
/// there is no such object.
pub fn statistics_table(names: *mut pg_sys::List) -> Option<RelationName> {
    // SAFETY: with missing_ok, an unknown object is InvalidOid; the syscache tuple is read and
    // released here.
    let table = unsafe {
        let oid = pg_sys::get_statistics_object_oid(names, true);
        if oid == pg_sys::InvalidOid {
            return None;
        }
        let tuple = pg_sys::SearchSysCache1(pg_sys::SysCacheIdentifier::STATEXTOID as i32, pg_sys::Datum::from(oid));
        if tuple.is_null() {
            return None;
        }
        // pg_statistic_ext's second column, `stxrelid` (the same from PostgreSQL 12 on; pgrx
        // does not bind its row struct for every version).
        const STXRELID: pg_sys::AttrNumber = 2;
        let mut null = false;
        let datum = pg_sys::SysCacheGetAttr(pg_sys::SysCacheIdentifier::STATEXTOID as i32, tuple, STXRELID, &mut null);
        let table = if null { pg_sys::InvalidOid } else { pg_sys::Oid::from(datum.value() as u32) };
        pg_sys::ReleaseSysCache(tuple);
        table
    };
    qualified_name(table)
}

/// Whether `column` of `table` is a virtual generated column (PostgreSQL 18): it has no stored
/// values to rewrite. False when either is unknown.
pub fn is_virtual_column(table: &RelationName, column: &str) -> bool {
    // SAFETY: get_attgenerated reads an existing attribute's row.
    column_number(table, column)
        .is_some_and(|(oid, attnum)| unsafe { pg_sys::get_attgenerated(oid, attnum) } as u8 == b'v')
}

/// An object of a table, looked up by name by what drops it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TableObject {
    Trigger,
    Rule,
    Policy,
    Constraint,
}

// Look-ups of a table's objects by name that pgrx does not bind (the same signature on
// PostgreSQL 15 to 18); with missing_ok they return InvalidOid for a missing object.
unsafe extern "C-unwind" {
    fn get_rewrite_oid(relid: pg_sys::Oid, rulename: *const std::ffi::c_char, missing_ok: bool) -> pg_sys::Oid;
    fn get_relation_policy_oid(relid: pg_sys::Oid, name: *const std::ffi::c_char, missing_ok: bool) -> pg_sys::Oid;
    fn get_relation_constraint_oid(relid: pg_sys::Oid, name: *const std::ffi::c_char, missing_ok: bool) -> pg_sys::Oid;
}

/// Whether the table has the object `name` of that kind (None: the table itself is not there
/// or the name is not a valid string), as DROP ... IF EXISTS looks it up.
pub fn table_object_exists(table: &RelationName, object: TableObject, name: &str) -> Option<bool> {
    let relid = relation_oid(table)?;
    let name = CString::new(name).ok()?;
    let name = name.as_ptr();
    // SAFETY: catalog look-ups by the table's OID and a NUL-terminated name, with missing_ok
    // (InvalidOid for a missing object); an ERROR they raise crosses back through pgrx's guard.
    let oid = unsafe {
        pg_sys::ffi::pg_guard_ffi_boundary(|| match object {
            TableObject::Trigger => pg_sys::get_trigger_oid(relid, name, true),
            TableObject::Rule => get_rewrite_oid(relid, name, true),
            TableObject::Policy => get_relation_policy_oid(relid, name, true),
            TableObject::Constraint => get_relation_constraint_oid(relid, name, true),
        })
    };
    Some(oid != pg_sys::InvalidOid)
}

/// Whether the table has a column of that name (not a dropped one).
pub fn column_exists(table: &RelationName, column: &str) -> bool {
    column_number(table, column).is_some()
}

/// The table's OID and the column's attribute number, if both exist.
fn column_number(table: &RelationName, column: &str) -> Option<(pg_sys::Oid, i16)> {
    let oid = relation_oid(table)?;
    let column = CString::new(column).ok()?;
    // SAFETY: get_attnum returns InvalidAttrNumber for a missing or dropped column.
    let attnum = unsafe { pg_sys::get_attnum(oid, column.as_ptr()) };
    (attnum > 0).then_some((oid, attnum))
}

/// Whether the column is marked NOT NULL.
fn column_not_null(table: &RelationName, column: &str) -> bool {
    let Some((oid, attnum)) = column_number(table, column) else { return false };
    // SAFETY: the attribute exists (its number came from the catalog); the descriptor is read
    // while the entry is open.
    with_relation(oid, |rel| unsafe { attribute((*rel).rd_att, attnum as usize - 1).attnotnull }).unwrap_or(false)
}

/// The kind (`relkind`) and qualified name of a relation, from its relcache entry: also for
/// one the running command has just created (its catalog row is not visible yet).
pub fn open_relation(oid: pg_sys::Oid) -> Option<(u8, String)> {
    // SAFETY: the entry's kind, name and namespace are read while it is open; the namespace's
    // name is a syscache look-up (a palloc'd copy, or NULL).
    let (kind, name, namespace) = with_relation(oid, |rel| unsafe {
        let form = &*(*rel).rd_rel;
        (form.relkind as u8, cstr(form.relname.data.as_ptr()).unwrap_or_default(), form.relnamespace)
    })?;
    // SAFETY: as above.
    let schema = unsafe { cstr(pg_sys::get_namespace_name(namespace)) }.unwrap_or_default();
    Some((kind, format!("{schema}.{name}")))
}

/// What an object access names, for a message: a relation (or a column of one: `sub`) by
/// name, anything else by the server's description when its row is visible, else by catalog.
pub fn object_description(class: pg_sys::Oid, object: pg_sys::Oid, sub: i32) -> String {
    if class == pg_sys::RelationRelationId {
        if let Some((_, name)) = open_relation(object) {
            return if sub > 0 { format!("column {sub} of {name}") } else { name };
        }
    }
    let address = pg_sys::ObjectAddress { classId: class, objectId: object, objectSubId: sub };
    // SAFETY: with missing_ok, an object whose rows are not visible yet gives NULL.
    unsafe { cstr(pg_sys::getObjectDescription(&address, true)) }
        .unwrap_or_else(|| format!("an object of catalog {}", class.to_u32()))
}

/// Whether the materialized view has been populated (`relispopulated`); true for a missing
/// relation or any other kind.
pub fn is_populated(view: &RelationName) -> bool {
    // SAFETY: only the flag is read from the entry.
    relation_oid(view)
        .and_then(|oid| with_relation(oid, |rel| unsafe { (*(*rel).rd_rel).relispopulated }))
        .unwrap_or(true)
}

/// Whether the table is partitioned (`relkind` 'p'); false for a missing one.
pub fn is_partitioned(table: &RelationName) -> bool {
    // SAFETY: a syscache look-up by OID.
    relation_oid(table)
        .is_some_and(|oid| unsafe { pg_sys::get_rel_relkind(oid) } as u8 == pg_sys::RELKIND_PARTITIONED_TABLE)
}

/// Whether the table is unlogged (`relpersistence` 'u'); false for a missing one.
pub fn is_unlogged(table: &RelationName) -> bool {
    // SAFETY: a syscache look-up by OID.
    relation_oid(table)
        .is_some_and(|oid| unsafe { pg_sys::get_rel_persistence(oid) } as u8 == pg_sys::RELPERSISTENCE_UNLOGGED)
}

/// The session's `default_table_access_method` (what `SET ACCESS METHOD DEFAULT` means).
pub fn default_table_access_method() -> String {
    // SAFETY: the GUC's current value, a NUL-terminated string.
    unsafe { cstr(pg_sys::default_table_access_method) }.unwrap_or_default()
}

/// The OID of `fence.audit_chain`, if the extension's tables exist.
pub fn audit_chain_oid() -> Option<pg_sys::Oid> {
    fence_relation_oid("audit_chain")
}

/// Whether `schema` is in the session's search path as name look-ups use it (pg_catalog
/// included; not the session's temporary schema, whose relations no other session makes):
/// where an unqualified name could have been found.
pub fn in_search_path(schema: &str) -> bool {
    let Ok(name) = CString::new(schema) else { return false };
    // SAFETY: a syscache look-up by name (InvalidOid when missing); the search path's OIDs are
    // copied into a Rust buffer of the size it reports (it may have grown meanwhile: asked again).
    unsafe {
        let namespace = pg_sys::get_namespace_oid(name.as_ptr(), true);
        if namespace == pg_sys::InvalidOid {
            return false;
        }
        let mut path = vec![pg_sys::InvalidOid; 16];
        loop {
            let count = pg_sys::fetch_search_path_array(path.as_mut_ptr(), path.len() as i32) as usize;
            if count <= path.len() {
                return path[..count].contains(&namespace);
            }
            path.resize(count, pg_sys::InvalidOid);
        }
    }
}

/// The OID of `fence.audit_chain`'s primary key index (on `seq`), if the extension's tables exist.
pub fn audit_chain_index_oid() -> Option<pg_sys::Oid> {
    fence_relation_oid("audit_chain_pkey")
}

/// The OID of `fence.policy_versions`, if the extension's tables exist.
pub fn policy_versions_oid() -> Option<pg_sys::Oid> {
    fence_relation_oid("policy_versions")
}

/// fence's chain table and the role owning it (the extension's tables are created by, and
/// owned by, the role that ran CREATE EXTENSION) — if the extension is installed here.
pub fn fence_tables_owner() -> Option<(pg_sys::Oid, pg_sys::Oid)> {
    // SAFETY: get_extension_oid with missing_ok scans pg_extension by name and returns
    // InvalidOid when absent.
    if unsafe { pg_sys::get_extension_oid(c"fence".as_ptr(), true) } == pg_sys::InvalidOid {
        return None;
    }
    let chain = audit_chain_oid()?;
    // SAFETY: rd_rel is valid while the entry is open.
    let owner = with_relation(chain, |rel| unsafe { (*(*rel).rd_rel).relowner })?;
    Some((chain, owner))
}

/// Tells every backend (at this transaction's commit) that `relation` changed, so their
/// cached copies of what it holds are dropped (see `invalidation::register`).
pub fn announce_change(relation: pg_sys::Oid) {
    // SAFETY: queues a relcache invalidation message in the current transaction.
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(relation) }
}

/// The OID of `fence.pending_denials`, if the extension's tables exist.
pub fn pending_denials_oid() -> Option<pg_sys::Oid> {
    fence_relation_oid("pending_denials")
}

/// Whether the relation's main fork has any block (a table never written to, or truncated by
/// vacuum, has none): read from its files, without a lock.
pub fn has_blocks(oid: pg_sys::Oid) -> bool {
    // SAFETY: the entry is open while the main fork's size is read.
    with_relation(oid, |rel| unsafe {
        pg_sys::RelationGetNumberOfBlocksInFork(rel, pg_sys::ForkNumber::MAIN_FORKNUM) > 0
    })
    .unwrap_or(false)
}

/// A relation's schema-qualified name (quoted where needed), as fence prints it.
pub fn relation_name(oid: pg_sys::Oid) -> Option<String> {
    qualified_name(oid).map(|name| name.to_string())
}

/// A relation's `relkind` and `relpersistence` (0 when it does not exist).
pub fn kind_and_persistence(oid: pg_sys::Oid) -> (u8, u8) {
    // SAFETY: syscache look-ups by OID; both return '\0' for a missing relation.
    unsafe { (pg_sys::get_rel_relkind(oid) as u8, pg_sys::get_rel_persistence(oid) as u8) }
}

/// Takes in the invalidations other sessions' commits sent (as every lock acquisition does),
/// so caches read next are current.
pub fn accept_invalidations() {
    // SAFETY: processes the shared invalidation queue, as PostgreSQL does at lock acquisition.
    unsafe { pg_sys::AcceptInvalidationMessages() };
}

/// Whether one of fence's tables has a column (added by a later release's update script).
pub fn fence_column_exists(table: &str, column: &str) -> bool {
    let Ok(column) = CString::new(column) else { return false };
    // SAFETY: a syscache look-up; InvalidAttrNumber (0) for a missing column.
    fence_relation_oid(table).is_some_and(|oid| unsafe { pg_sys::get_attnum(oid, column.as_ptr()) } != 0)
}

/// The OID of one of fence's relations (schema `fence`), if it exists.
pub fn fence_relation_oid(name: &str) -> Option<pg_sys::Oid> {
    relation_oid(&RelationName::new(Some("fence"), name))
}

/// Whether the relation may have a lock queue in front of this transaction: another
/// transaction holds a lock on it (`GetLockConflicts` against ACCESS EXCLUSIVE, which every
/// mode conflicts with; fast-path locks included), and this transaction holds none (whoever
/// waits on a relation it already locks waits for it, not the other way round).
pub fn locked_by_others(relid: pg_sys::Oid) -> bool {
    let access_exclusive = pg_sys::AccessExclusiveLock as pg_sys::LOCKMODE;
    // SAFETY: reads this backend's local lock table.
    if unsafe { pg_sys::CheckRelationOidLockedByMe(relid, pg_sys::AccessShareLock as pg_sys::LOCKMODE, true) } {
        return false;
    }
    let tag = pg_sys::LOCKTAG {
        locktag_field1: database_id().to_u32(),
        locktag_field2: relid.to_u32(),
        locktag_field3: 0,
        locktag_field4: 0,
        locktag_type: pg_sys::LockTagType::LOCKTAG_RELATION as u8,
        locktag_lockmethodid: pg_sys::DEFAULT_LOCKMETHOD as u8,
    };
    let mut count: std::ffi::c_int = 0;
    // SAFETY: a relation lock tag as SET_LOCKTAG_RELATION builds it; GetLockConflicts takes
    // the lock manager's partition locks itself and returns a palloc'd array (or, in hot
    // standby, a static one), of which only the count is read.
    unsafe { pg_sys::GetLockConflicts(&tag, access_exclusive, &mut count) };
    count > 0
}

/// This backend's database.
fn database_id() -> pg_sys::Oid {
    // SAFETY: set once at backend start.
    unsafe { pg_sys::MyDatabaseId }
}

/// The catalog address (class, object) and description of an object a DROP names (its parse
/// tree node, of `object_type`), resolved as the DROP resolves it: `Some(None)` when there is
/// no such object (the DROP is refused, or skipped with IF EXISTS), `None` when the name could
/// not be resolved (an ambiguous one: PostgreSQL's own error then comes from the DROP).
#[allow(clippy::type_complexity)]
pub fn object_address(
    object_type: pg_sys::ObjectType::Type,
    object: *mut pg_sys::Node,
) -> Option<Option<(pg_sys::Oid, pg_sys::Oid, String)>> {
    super::xact::rolled_back(|| {
        // SAFETY: with missing_ok, get_object_address looks the name up (an ambiguous one
        // raises, caught by the subtransaction) and locks the object in ACCESS SHARE mode
        // (NoLock is refused for objects other than relations), released when the
        // subtransaction rolls back; a relation it opens for an object of a table is closed
        // here; the description is copied out as a String.
        unsafe {
            let mut relation: pg_sys::Relation = std::ptr::null_mut();
            let lock = pg_sys::AccessShareLock as i32;
            let address = pg_sys::get_object_address(object_type, object, &mut relation, lock, true);
            if !relation.is_null() {
                pg_sys::relation_close(relation, pg_sys::NoLock as i32);
            }
            if address.objectId == pg_sys::InvalidOid {
                return None;
            }
            let description = super::nodes::cstr(pg_sys::getObjectDescription(&address, true))
                .unwrap_or_else(|| format!("object {}", address.objectId.to_u32()));
            Some((address.classId, address.objectId, description))
        }
    })
}

unsafe extern "C-unwind" {
    /// catalog/partition.c (not in pgrx's bindings): pg_partitioned_table.partdefid.
    fn get_default_partition_oid(parent: pg_sys::Oid) -> pg_sys::Oid;
}

/// The default partition of a partitioned table (None: it has none, or is no partitioned
/// table).
pub fn default_partition(table: &RelationName) -> Option<RelationName> {
    let oid = relation_oid(table)?;
    // SAFETY: a syscache look-up of pg_partitioned_table by OID (InvalidOid when the table is
    // not partitioned or has no default partition); an ERROR crosses back through pgrx's guard.
    let default = unsafe { pg_sys::ffi::pg_guard_ffi_boundary(|| get_default_partition_oid(oid)) };
    if default == pg_sys::InvalidOid {
        return None;
    }
    qualified_name(default)
}
