-- sql_drop: the live trackings of the tables the statement dropped end (their history stays).
UPDATE fence.tracked_tables t SET untracked_at = $1, untracked_by = $2
FROM pg_catalog.pg_event_trigger_dropped_objects() d
WHERE d.object_type = 'table' AND d.objid = t.relid AND t.untracked_at IS NULL
RETURNING t.id, t.relation
