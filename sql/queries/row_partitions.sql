SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'fence.row_changes'::regclass AND c.relname ~ '^row_changes_[0-9]{4}_[0-9]{2}$'
ORDER BY 1
