-- Where a setting's current value came from (session, user, database, configuration file, client, ...).
SELECT source FROM pg_catalog.pg_settings WHERE name = $1
