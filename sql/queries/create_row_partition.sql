-- Creates the partition of fence.row_changes for the month starting at $1, unless it exists.
SELECT fence.create_row_partition($1)
