-- Summarizes the full block ranges of a partition of fence.row_changes from a heap block on.
SELECT fence.summarize_row_ranges($1, $2)
