-- sql_drop: the tables that lost a trigger, column or constraint to the statement (directly
-- or by dependency: DROP TYPE ... CASCADE, DROP EXTENSION) and still exist, found by name in
-- the catalog (no privilege on their schema needed); when an index went, every tracked table
-- (the index's table is gone from the catalog's view: its key is checked).
SELECT DISTINCT k.oid AS relid
FROM pg_catalog.pg_event_trigger_dropped_objects() d
JOIN pg_catalog.pg_namespace n ON n.nspname = d.address_names[1]
JOIN pg_catalog.pg_class k ON k.relnamespace = n.oid AND k.relname = d.address_names[2]
WHERE d.object_type IN ('trigger', 'table column', 'table constraint')
  AND pg_catalog.cardinality(d.address_names) >= 3
UNION
SELECT t.relid
FROM fence.tracked_relations() t
WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger_dropped_objects() d WHERE d.object_type = 'index')
