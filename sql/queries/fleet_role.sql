-- Whether this database has the fleet role $1 (control, target, publisher, evidence).
SELECT EXISTS (SELECT 1 FROM fence.fleet_roles WHERE role = $1) AS held
