-- ddl_command_end: the relations the statement created or altered — a table, the table of an
-- index, trigger or constraint it made or changed.
SELECT DISTINCT CASE c.classid
           WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN
               coalesce((SELECT x.indrelid FROM pg_catalog.pg_index x WHERE x.indexrelid = c.objid), c.objid)
           WHEN 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN
               (SELECT g.tgrelid FROM pg_catalog.pg_trigger g WHERE g.oid = c.objid)
           WHEN 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN
               (SELECT k.conrelid FROM pg_catalog.pg_constraint k WHERE k.oid = c.objid)
       END AS relid
FROM pg_catalog.pg_event_trigger_ddl_commands() c
