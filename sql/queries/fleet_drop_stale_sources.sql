-- The bindings of subscriptions that no longer exist (dropped, or a restore's).
DELETE FROM fence.fleet_sources
WHERE subscription NOT IN (SELECT oid FROM pg_catalog.pg_subscription)
