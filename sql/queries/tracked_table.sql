SELECT t.id, t.exclude_columns FROM fence.tracked_tables t WHERE t.relid = $1 AND t.untracked_at IS NULL
