//! Volatility of a column default, decided by the server's own parse analysis.

use fence_core::model::{RelationName, Volatility};
use pgrx::pg_sys;

/// Transforms the raw default expression (in a subtransaction, so an expression that cannot
/// be analyzed yet — an unknown function, say — is rolled back cleanly) and asks whether it
/// contains volatile or mutable functions. `now()` is stable; `random()`, `clock_timestamp()`
/// and `nextval()` are volatile. `raw` is a raw expression of a parse tree (see `nodes`).
pub(super) fn default_volatility(raw: *mut pg_sys::Node) -> Volatility {
    if super::nodes::tag(raw) == pg_sys::NodeTag::T_A_Const {
        return Volatility::Immutable;
    }
    super::xact::in_subtransaction(|| {
        // SAFETY: parse analysis of a copy of the raw expression; the ParseState and the result
        // live in the current memory context.
        unsafe {
            let pstate = pg_sys::make_parsestate(std::ptr::null_mut());
            let copy = pg_sys::copyObjectImpl(raw as *const std::ffi::c_void) as *mut pg_sys::Node;
            let expr = pg_sys::transformExpr(pstate, copy, pg_sys::ParseExprKind::EXPR_KIND_COLUMN_DEFAULT);
            if pg_sys::contain_volatile_functions(expr) {
                Volatility::Volatile
            } else if pg_sys::contain_mutable_functions(expr) {
                Volatility::Stable
            } else {
                Volatility::Immutable
            }
        }
    })
    .unwrap_or(Volatility::Unknown)
}

/// Whether changing `column` of `table` to `type_name` keeps every stored value as it is —
/// PostgreSQL's own test (`ATColumnChangeRequiresRewrite`): build the assignment coercion
/// from the current type, let the planner simplify it (a longer varchar's length check goes
/// away), and see whether only relabelings of the column remain. A USING expression, an
/// unknown table, column or type, or any error counts as "rewrites". `type_name` and `using`
/// are nodes of a parse tree, or NULL (see `nodes`).
pub(super) fn type_change_is_binary_coercible(
    table: &RelationName,
    column: &str,
    type_name: *mut pg_sys::TypeName,
    using: *mut pg_sys::Node,
) -> bool {
    if type_name.is_null() || !using.is_null() {
        return false;
    }
    let Ok(column) = std::ffi::CString::new(column) else { return false };
    super::xact::in_subtransaction(|| {
        let Some(relid) = super::relcache::relation_oid(table) else { return false };
        // SAFETY: catalog look-ups without locks (the statement itself locks the table right
        // after the gate).
        let attnum = unsafe { pg_sys::get_attnum(relid, column.as_ptr()) };
        if attnum <= 0 {
            return false;
        }
        let (mut old_type, mut old_typmod, mut collation) = (pg_sys::InvalidOid, -1, pg_sys::InvalidOid);
        let (mut new_type, mut new_typmod) = (pg_sys::InvalidOid, -1);
        // SAFETY: as above; the type name is the statement's (an unknown one raises, caught
        // by the subtransaction).
        unsafe {
            pg_sys::get_atttypetypmodcoll(relid, attnum, &mut old_type, &mut old_typmod, &mut collation);
            pg_sys::typenameTypeIdAndMod(std::ptr::null_mut(), type_name, &mut new_type, &mut new_typmod);
        }
        // SAFETY: the column as a Var, coerced and simplified as ALTER TABLE would; every node
        // is built in the current memory context.
        let mut expr = unsafe {
            let var = pg_sys::makeVar(1, attnum, old_type, old_typmod, collation, 0) as *mut pg_sys::Node;
            let coerced = pg_sys::coerce_to_target_type(
                std::ptr::null_mut(),
                var,
                old_type,
                new_type,
                new_typmod,
                pg_sys::CoercionContext::COERCION_ASSIGNMENT,
                pg_sys::CoercionForm::COERCE_IMPLICIT_CAST,
                -1,
            );
            if coerced.is_null() {
                return false;
            }
            pg_sys::expression_planner(coerced as *mut pg_sys::Expr) as *mut pg_sys::Node
        };
        loop {
            if let Some(relabel) = super::nodes::cast::<pg_sys::RelabelType, _>(expr) {
                expr = relabel.arg as *mut pg_sys::Node;
                continue;
            }
            return super::nodes::cast::<pg_sys::Var, _>(expr).is_some_and(|var| var.varattno == attnum);
        }
    })
    .unwrap_or(false)
}
