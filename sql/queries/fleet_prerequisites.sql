-- What a fleet set-up needs of this server: wal_level (logical, to publish), this database's
-- identity, and whether the subscription $1 exists here already.
SELECT pg_catalog.current_setting('wal_level') AS wal_level,
       fence.database_id()::text AS database_id,
       EXISTS (SELECT 1 FROM pg_catalog.pg_subscription
               WHERE subname = $1
                 AND subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()))
           AS subscription_exists
