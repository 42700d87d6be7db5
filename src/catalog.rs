//! fence-core's `Catalog`, answered from the live catalog.

use fence_core::catalog::{Cascade, Catalog, RelationState, ResolvedRelation};
use fence_core::model::{DropTarget, ObjectKind, RelationName};

use pgrx::pg_sys;

use crate::db::{self, owner, queries};
use crate::ffi::{relcache, security};

pub struct LiveCatalog;

impl Catalog for LiveCatalog {
    fn resolve(&self, relation: &RelationName) -> ResolvedRelation {
        match relcache::lookup(relation) {
            Some(info) => ResolvedRelation {
                name: info.name,
                state: if info.private {
                    RelationState::Private
                } else if info.created_in_transaction {
                    RelationState::New
                } else {
                    RelationState::Existing { rows: info.rows, pages: info.pages }
                },
            },
            None => ResolvedRelation { name: relation.clone(), state: RelationState::Missing },
        }
    }

    fn already_created(&self, name: &RelationName, index_of: Option<&RelationName>) -> bool {
        relcache::already_created(name, index_of)
    }

    fn index_table(&self, index: &RelationName) -> Option<RelationName> {
        relcache::index_table(index)
    }

    fn table_indexes(&self, table: &RelationName) -> Vec<RelationName> {
        relcache::table_indexes(table)
    }

    fn dropped_with(&self, target: DropTarget, names: &[String], addresses: &[(u32, u32)]) -> Option<Cascade> {
        // Types and relations are resolved as the caller (the session's search path, as the
        // DROP resolves them); the walk runs as the extension owner, with its search path.
        let (classes, oids): (Vec<pg_sys::Oid>, Vec<pg_sys::Oid>) = match target {
            DropTarget::Type | DropTarget::Relation => {
                let column = if target == DropTarget::Type { "type_oid" } else { "class_oid" };
                let oids =
                    db::select(queries::DROP_ROOTS, &[names.to_vec().into()], |row| row.get::<pg_sys::Oid>(column));
                (Vec::new(), oids.into_iter().flatten().collect())
            }
            DropTarget::Object => addresses.iter().map(|(c, o)| (pg_sys::Oid::from(*c), pg_sys::Oid::from(*o))).unzip(),
            DropTarget::Schema | DropTarget::Extension | DropTarget::Owned => (Vec::new(), Vec::new()),
        };
        let args = [target.sql().into(), names.to_vec().into(), oids.into(), classes.into()];
        let rows = owner::owner_read(|| {
            db::select(queries::DROPPED_WITH, &args, |row| {
                let relation = row
                    .get::<String>("relname")
                    .map(|name| RelationName::new(row.get::<String>("nspname").as_deref(), &name));
                let found = row.get::<i64>("found").unwrap_or_default().max(0) as usize;
                (relation, row.get::<bool>("dropped").unwrap_or(false), found)
            })
        });
        let mut cascade = Cascade::default();
        for (relation, dropped, found) in rows {
            match relation {
                Some(relation) if dropped => cascade.dropped.push(relation),
                Some(relation) => cascade.altered.push(relation),
                None => cascade.found = found,
            }
        }
        Some(cascade)
    }

    fn owned_relations(&self, roles: &[String]) -> Option<Vec<RelationName>> {
        Some(owner::owner_read(|| db::select(queries::OWNED_RELATIONS, &[roles.to_vec().into()], relation_row)))
    }

    fn view_reads(&self, view: &RelationName) -> Vec<RelationName> {
        // Most relations a query reads are tables: the catalog is queried only for views.
        let Some(oid) = relcache::view_oid(view) else { return Vec::new() };
        owner::owner_read(|| db::select(queries::VIEW_READS, &[oid.into()], relation_row))
    }

    fn descendants(&self, table: &RelationName) -> Vec<RelationName> {
        // Most tables have none: the catalog is queried only for those that do.
        let Some(oid) = relcache::with_children(table) else { return Vec::new() };
        owner::owner_read(|| {
            db::select(queries::DESCENDANTS, &[oid.into()], |row| {
                RelationName::new(row.get::<String>("nspname").as_deref(), &row.text("relname"))
            })
        })
    }

    fn referenced_tables(&self, table: &RelationName) -> Vec<RelationName> {
        relcache::referenced_tables(table)
    }

    fn referencing_tables(&self, table: &RelationName) -> Vec<(RelationName, bool)> {
        let Some((_, oid)) = relcache::lookup_oid(table) else { return Vec::new() };
        owner::owner_read(|| {
            db::select(queries::REFERENCING_TABLES, &[oid.into()], |row| {
                (relation_row(row), row.get::<bool>("writes").unwrap_or(false))
            })
        })
    }

    fn schema_tables(&self, schema: &str) -> Option<Vec<RelationName>> {
        Some(owner::owner_read(|| db::select(queries::SCHEMA_TABLES, &[schema.into()], relation_row)))
    }

    fn clustered_tables(&self) -> Option<Vec<RelationName>> {
        // Which tables the role may cluster is asked about the role, by the extension owner.
        let role = security::executing_role();
        Some(owner::owner_read(|| db::select(queries::CLUSTERED_TABLES, &[role.as_str().into()], relation_row)))
    }

    fn vacuumed_tables(&self) -> Option<Vec<RelationName>> {
        // Which tables the role may maintain is asked about the role, by the extension owner.
        let role = security::executing_role();
        Some(owner::owner_read(|| db::select(queries::VACUUMED_TABLES, &[role.as_str().into()], relation_row)))
    }

    fn default_partition(&self, table: &RelationName) -> Option<RelationName> {
        relcache::default_partition(table)
    }

    fn tablespace_relations(&self, tablespace: &str, kind: &ObjectKind, roles: &[String]) -> Option<Vec<RelationName>> {
        let relkinds: Vec<String> = match kind {
            ObjectKind::Table => vec!["r".into(), "p".into()],
            ObjectKind::Index => vec!["i".into(), "I".into()],
            ObjectKind::MaterializedView => vec!["m".into()],
            _ => return Some(Vec::new()),
        };
        let args = [tablespace.into(), relkinds.into(), roles.to_vec().into()];
        Some(owner::owner_read(|| db::select(queries::TABLESPACE_RELATIONS, &args, relation_row)))
    }

    fn column_has_checks(&self, table: &RelationName, column: &str) -> bool {
        relcache::column_has_checks(table, column)
    }

    fn column_indexes(&self, table: &RelationName, column: &str) -> Vec<RelationName> {
        relcache::column_indexes(table, column)
    }

    fn domain_tables(&self, domain: &RelationName) -> Vec<RelationName> {
        // The domain is resolved as the caller (as ALTER DOMAIN resolves it, function calls
        // only); the tables are found by the extension owner, with its search path.
        let names = vec![domain.quoted()];
        let roots = db::select(queries::DROP_ROOTS, &[names.into()], |row| row.get::<pg_sys::Oid>("type_oid"));
        let Some(oid) = roots.into_iter().flatten().next() else { return Vec::new() };
        owner::owner_read(|| db::select(queries::DOMAIN_TABLES, &[oid.into()], relation_row))
    }
}

/// A row of `nspname`, `relname`.
fn relation_row(row: &db::Row) -> RelationName {
    RelationName::new(row.get::<String>("nspname").as_deref(), &row.text("relname"))
}
