-- The databases whose chains reached this evidence database, named as fence.collect_evidence()
-- found them (else as they published themselves), and any whose events arrived without either.
SELECT d.database_id::text AS database_id,
       coalesce(b.database_name, n.database_name, '(unknown)') AS database_name
FROM (SELECT database_id FROM fence.fleet_sources
      UNION
      SELECT database_id FROM fence.fleet_databases
      UNION
      SELECT DISTINCT database_id FROM fence.fleet_chain) d
LEFT JOIN fence.fleet_sources b USING (database_id)
LEFT JOIN fence.fleet_databases n USING (database_id)
ORDER BY 2, 1
