INSERT INTO fence.tracked_tables (relid, relation, key_columns, exclude_columns, tracked_by, tracked_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id
