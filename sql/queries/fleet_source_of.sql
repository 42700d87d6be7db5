-- The subscription that carries the evidence of database $1 already, if any.
SELECT s.subname::text AS subscription
FROM fence.fleet_sources f
JOIN pg_catalog.pg_subscription s ON s.oid = f.subscription
WHERE f.database_id = $1::uuid
