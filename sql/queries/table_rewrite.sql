-- table_rewrite: the table PostgreSQL is about to rewrite, and why (the reason bitmask of
-- AT_REWRITE_* in PostgreSQL 15, spelled out).
SELECT pg_catalog.pg_event_trigger_table_rewrite_oid()::pg_catalog.regclass::text AS relation,
       pg_catalog.concat_ws(', ',
           CASE WHEN r & 1 <> 0 THEN 'persistence' END,
           CASE WHEN r & 2 <> 0 THEN 'default value' END,
           CASE WHEN r & 4 <> 0 THEN 'column type' END,
           CASE WHEN r & 8 <> 0 THEN 'access method' END) AS reason
FROM (SELECT pg_catalog.pg_event_trigger_table_rewrite_reason() AS r) s
