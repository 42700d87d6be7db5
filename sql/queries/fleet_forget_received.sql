-- A target joins (again): the grants a subscription received before are forgotten in the
-- fleet_* tables (the new subscription copies them again; what they became here stays and is
-- not recorded twice). Rows this database made as a control stay.
WITH policies AS (
    DELETE FROM fence.fleet_policies WHERE origin <> fence.database_id() RETURNING 1
), approvals AS (
    DELETE FROM fence.fleet_approvals WHERE origin <> fence.database_id() RETURNING 1
), exemptions AS (
    DELETE FROM fence.fleet_exemptions WHERE origin <> fence.database_id() RETURNING 1
)
SELECT (SELECT count(*) FROM policies) + (SELECT count(*) FROM approvals) + (SELECT count(*) FROM exemptions) AS forgotten
