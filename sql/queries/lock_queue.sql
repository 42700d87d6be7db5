-- Other sessions' locks on the tables $1 (by OID), granted or awaited, with who they are and
-- how long their transaction has been open: what a statement's own lock would queue behind.
-- A prepared transaction holds its locks until it is resolved, however young (pid 0, counted
-- as open for ever). Autovacuum gives way to a conflicting lock request by itself, unless it
-- runs to prevent wraparound. A table this transaction already holds a lock on is left out:
-- whoever waits there waits for this transaction, not the other way round.
SELECT l.relation AS relid, n.nspname::text || '.' || c.relname::text AS relation,
       coalesce(l.pid, 0) AS pid, l.mode::text AS mode, l.granted,
       coalesce(a.usename::text, CASE WHEN l.pid IS NULL THEN '(prepared transaction)' ELSE '' END) AS role,
       coalesce(a.application_name::text, '') AS application,
       coalesce(a.state::text, CASE WHEN l.pid IS NULL THEN 'prepared' ELSE '' END) AS state,
       CASE WHEN l.pid IS NULL THEN 9223372036854775807
            ELSE coalesce((pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - a.xact_start) * 1000)::bigint, 0)
       END AS transaction_ms
FROM pg_catalog.pg_locks l
JOIN pg_catalog.pg_class c ON c.oid = l.relation
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.relation = ANY ($1)
  AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
  AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()
  AND (a.backend_type IS DISTINCT FROM 'autovacuum worker' OR a.query LIKE '%(to prevent wraparound)%')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_locks own
                  WHERE own.pid = pg_catalog.pg_backend_pid() AND own.locktype = 'relation'
                    AND own.relation = l.relation AND own.granted)
ORDER BY 3, 2
