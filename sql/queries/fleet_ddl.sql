-- One of the fleet's set-up statements (fence.fleet_ddl in sql/install/fleet.sql quotes the
-- names): $1 the step, $2 a name, $3 a connection string, $4 a slot name.
SELECT fence.fleet_ddl($1, $2, $3, $4)
