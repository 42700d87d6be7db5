UPDATE fence.tracked_tables t SET untracked_at = $2, untracked_by = $3
WHERE t.relid = $1 AND t.untracked_at IS NULL
RETURNING t.id
