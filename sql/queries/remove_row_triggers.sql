-- Removes an untracked table's fence triggers ($1 the table).
SELECT fence.remove_row_triggers($1)
