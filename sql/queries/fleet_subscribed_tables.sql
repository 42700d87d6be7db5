-- The tables the subscription $1 of this database replicates into (as the publisher's
-- publication listed them when the subscription was made), by name, in order.
SELECT pg_catalog.string_agg(r.srrelid::pg_catalog.regclass::text, ',' ORDER BY r.srrelid::pg_catalog.regclass::text) AS tables
FROM pg_catalog.pg_subscription_rel r
JOIN pg_catalog.pg_subscription s ON s.oid = r.srsubid
WHERE s.subname = $1
  AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
