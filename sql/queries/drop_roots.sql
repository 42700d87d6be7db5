-- The OIDs the types and relations $1 have, resolved as the DROP resolves them (with the
-- session's search_path; NULL when there is none): function calls and casts only, so nothing
-- of the session's schemas can stand in for the catalog's own operators.
SELECT pg_catalog.to_regtype(name)::pg_catalog.oid AS type_oid,
       pg_catalog.to_regclass(name)::pg_catalog.oid AS class_oid
FROM pg_catalog.unnest($1::pg_catalog.text[]) name
