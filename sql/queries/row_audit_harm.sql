-- After a statement ($1: the relations it touched, see touched_by_commands.sql and
-- touched_by_drops.sql): the tracked tables (live trackings) among them, their inheritance
-- parents and partition ancestors, whose row audit it broke, and how: fence's row trigger
-- replaced, gone or not firing; no key left to tell rows apart (every later write would
-- fail); an untracked table inheriting from it, whose rows are read and written through the
-- tracked table unrecorded.
WITH live AS (
    -- A tracking's table: the relation whose fence trigger names it; else (restored from a
    -- dump and not relinked yet, or its trigger replaced by this very statement) the table
    -- of its recorded name — never an unrelated table that took over its old OID.
    SELECT tt.id, tt.relation,
           CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                             WHERE g.tgrelid = tt.relid AND g.tgname = 'fence_row_changes'
                               AND fence.trigger_tracking(g.tgargs) = tt.id)
                THEN tt.relid ELSE pg_catalog.to_regclass(tt.relation)::oid END AS relid
    FROM fence.tracked_tables tt
    WHERE tt.untracked_at IS NULL
), touched AS (
    SELECT pg_catalog.unnest($1::oid[]) AS relid
), candidates AS (
    SELECT t.relid FROM touched t WHERE t.relid IS NOT NULL
    UNION
    SELECT i.inhparent FROM touched t JOIN pg_catalog.pg_inherits i ON i.inhrelid = t.relid
)
SELECT l.relation, w.why
FROM live l
JOIN candidates c ON c.relid = l.relid
CROSS JOIN LATERAL (
    -- fence's two triggers as track_table made them: AFTER INSERT OR UPDATE OR DELETE FOR EACH
    -- ROW (type 29) and AFTER TRUNCATE (32), ALWAYS enabled, no WHEN, no column list, naming
    -- this tracking.
    SELECT pg_catalog.format('its trigger %s would no longer run fence.record_row_change() on every change', n.name) AS why
    FROM (VALUES ('fence_row_changes', 29), ('fence_row_truncate', 32)) n(name, type)
    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                      WHERE g.tgrelid = l.relid AND g.tgname = n.name AND g.tgenabled = 'A' AND g.tgtype = n.type
                        AND g.tgqual IS NULL AND pg_catalog.cardinality(g.tgattr::pg_catalog.int2[]) = 0
                        AND g.tgfoid = 'fence.record_row_change()'::pg_catalog.regprocedure
                        AND fence.trigger_tracking(g.tgargs) = l.id)
    UNION ALL
    SELECT 'it would have no primary key or replica identity index left to tell its rows apart: every later write to it would fail'
    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index x
                      WHERE x.indrelid = l.relid AND (x.indisprimary OR x.indisreplident))
    UNION ALL
    SELECT pg_catalog.format('%s would inherit from it untracked: its rows are read and written through %s without being recorded',
                             i.inhrelid::pg_catalog.regclass, l.relation)
    FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class k ON k.oid = i.inhrelid
    WHERE i.inhparent = l.relid AND NOT k.relispartition
      AND NOT EXISTS (SELECT 1 FROM live o WHERE o.relid = i.inhrelid)
) w
UNION ALL
-- A partition of a tracked partitioned table: fence's (cloned) row trigger and its own
-- TRUNCATE trigger must stay as track_table made them.
SELECT anc.relation, pg_catalog.format('the trigger %s of its partition %s would no longer run fence.record_row_change() on every change',
                                       n.name, c.relid::pg_catalog.regclass)
FROM candidates c
JOIN pg_catalog.pg_class k ON k.oid = c.relid AND k.relispartition
CROSS JOIN LATERAL (SELECT o.id, o.relation
                    FROM pg_catalog.pg_partition_ancestors(c.relid) a
                    JOIN live o ON o.relid = a.relid
                    WHERE a.relid <> c.relid LIMIT 1) anc
CROSS JOIN (VALUES ('fence_row_changes', 29), ('fence_row_truncate', 32)) n(name, type)
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                  WHERE g.tgrelid = c.relid AND g.tgname = n.name AND g.tgenabled = 'A' AND g.tgtype = n.type
                    AND g.tgqual IS NULL AND pg_catalog.cardinality(g.tgattr::pg_catalog.int2[]) = 0
                    AND g.tgfoid = 'fence.record_row_change()'::pg_catalog.regprocedure
                    AND fence.trigger_tracking(g.tgargs) = anc.id)
ORDER BY 1
LIMIT 1
