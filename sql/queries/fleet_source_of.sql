-- The subscription that carries the evidence of database $1 already, if any, and the name
-- that database had when it was bound.
SELECT s.subname::text AS subscription, f.database_name
FROM fence.fleet_sources f
JOIN pg_catalog.pg_subscription s ON s.oid = f.subscription
WHERE f.database_id = $1::uuid
