-- The subscription $1 (just made) carries the evidence of database $2, named $3, on the
-- server with system identifier $4.
INSERT INTO fence.fleet_sources (subscription, database_id, database_name, system_identifier, bound_at)
SELECT s.oid, $2::uuid, $3, $4, pg_catalog.clock_timestamp()
FROM pg_catalog.pg_subscription s
WHERE s.subname = $1
  AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
