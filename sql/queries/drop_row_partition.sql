-- Drops a month's partition of fence.row_changes ($1, its name).
SELECT fence.drop_row_partition($1)
