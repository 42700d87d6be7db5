-- The databases whose chains reached this evidence database: those that published their
-- identity, and any whose events arrived without it.
SELECT d.database_id::text AS database_id, coalesce(n.database_name, '(unknown)') AS database_name
FROM (SELECT database_id FROM fence.fleet_databases
      UNION
      SELECT DISTINCT database_id FROM fence.fleet_chain) d
LEFT JOIN fence.fleet_databases n USING (database_id)
ORDER BY 2, 1
