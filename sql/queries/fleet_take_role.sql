-- This database takes the fleet role $1; returns a row when it did not have it yet.
INSERT INTO fence.fleet_roles (role, since) VALUES ($1, pg_catalog.clock_timestamp())
ON CONFLICT (role) DO NOTHING
RETURNING role
