-- ddl_command_end: what the statement made of objects outside the session's temporary schema
-- (the objects themselves, and a relation's columns, defaults, constraints, triggers, policies
-- and rules) that depends on an object inside it: PostgreSQL drops such a dependent with the
-- session (or DISCARD TEMP), firing no event trigger.
SELECT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) AS dependent,
       pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) AS temporary
FROM pg_catalog.pg_event_trigger_ddl_commands() c
JOIN pg_catalog.pg_depend d
  ON d.deptype IN ('n', 'a')
 AND ((d.classid = c.classid AND d.objid = c.objid)
      OR (c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND (
             (d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
              AND d.objid IN (SELECT a.oid FROM pg_catalog.pg_attrdef a WHERE a.adrelid = c.objid))
          OR (d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
              AND d.objid IN (SELECT k.oid FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.objid))
          OR (d.classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass
              AND d.objid IN (SELECT t.oid FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.objid))
          OR (d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass
              AND d.objid IN (SELECT p.oid FROM pg_catalog.pg_policy p WHERE p.polrelid = c.objid))
          OR (d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
              AND d.objid IN (SELECT r.oid FROM pg_catalog.pg_rewrite r WHERE r.ev_class = c.objid)))))
WHERE c.schema_name IS DISTINCT FROM 'pg_temp'
  AND (pg_catalog.pg_identify_object(d.refclassid, d.refobjid, 0)).schema
      = (SELECT n.nspname::text FROM pg_catalog.pg_namespace n WHERE n.oid = pg_catalog.pg_my_temp_schema())
