-- sql_drop: the tables that lost a trigger, column or constraint to the statement (directly
-- or by dependency: DROP TYPE ... CASCADE, DROP EXTENSION) and still exist.
SELECT DISTINCT pg_catalog.to_regclass(pg_catalog.quote_ident(d.address_names[1]) || '.'
                                       || pg_catalog.quote_ident(d.address_names[2]))::oid AS relid
FROM pg_catalog.pg_event_trigger_dropped_objects() d
WHERE d.object_type IN ('trigger', 'table column', 'table constraint')
  AND pg_catalog.cardinality(d.address_names) >= 3
