-- Installs a tracked table's row and TRUNCATE triggers ($1 the table, $2 its tracking id).
SELECT fence.install_row_triggers($1, $2)
