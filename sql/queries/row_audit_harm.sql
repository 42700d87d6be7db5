-- After a statement ($1: the relations it touched, see touched_by_commands.sql and
-- touched_by_drops.sql): the tracked tables among them and their inheritance parents, and
-- the partitions among them of a tracked table, whose row audit it broke, and how: fence's
-- triggers replaced, gone or not firing; no key left to tell rows apart (every later write
-- would fail); an untracked table inheriting from it, whose rows are read and written
-- through the tracked table unrecorded.
WITH touched AS (
    SELECT pg_catalog.unnest($1::oid[]) AS relid
), candidates AS (
    SELECT t.relid FROM touched t WHERE t.relid IS NOT NULL
    UNION
    SELECT i.inhparent FROM touched t JOIN pg_catalog.pg_inherits i ON i.inhrelid = t.relid
), covered AS (
    -- Each candidate under a live tracking: the tracked table itself, or a partition of one
    -- (its nearest tracked ancestor's tracking).
    SELECT c.relid, l.id, l.relation, c.relid = l.relid AS own, k.relkind
    FROM candidates c
    JOIN pg_catalog.pg_class k ON k.oid = c.relid
    CROSS JOIN LATERAL (SELECT r.id, r.relation, r.relid
                        -- pg_partition_ancestors has no row for a table outside a partition tree.
                        FROM (SELECT c.relid, 0::bigint AS depth
                              UNION ALL
                              SELECT p.relid, p.depth
                              FROM pg_catalog.pg_partition_ancestors(c.relid) WITH ORDINALITY p(relid, depth)) a
                        JOIN fence.tracked_relations() r ON r.relid = a.relid
                        ORDER BY a.depth LIMIT 1) l
)
SELECT v.relation, w.why
FROM covered v
CROSS JOIN LATERAL (
    -- fence's triggers as track_table made them: AFTER INSERT OR UPDATE OR DELETE FOR EACH
    -- ROW (type 29; cloned onto partitions) and AFTER TRUNCATE (32; a foreign partition can
    -- have none), ALWAYS enabled, no WHEN, no column list, naming this tracking.
    SELECT pg_catalog.format('the trigger %s of %s would no longer run fence.record_row_change() on every change',
                             n.name, v.relid::pg_catalog.regclass) AS why
    FROM (VALUES ('fence_row_changes', 29), ('fence_row_truncate', 32)) n(name, type)
    WHERE (n.type = 29 OR v.relkind <> 'f')
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                      WHERE g.tgrelid = v.relid AND g.tgname = n.name AND g.tgenabled = 'A' AND g.tgtype = n.type
                        AND g.tgqual IS NULL AND pg_catalog.cardinality(g.tgattr::pg_catalog.int2[]) = 0
                        AND g.tgfoid = 'fence.record_row_change()'::pg_catalog.regprocedure
                        AND fence.trigger_tracking(g.tgargs) = v.id)
    UNION ALL
    SELECT 'it would have no primary key or replica identity index left to tell its rows apart: every later write to it would fail'
    WHERE v.own AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index x
                                WHERE x.indrelid = v.relid AND (x.indisprimary OR x.indisreplident))
    UNION ALL
    SELECT pg_catalog.format('%s would inherit from it untracked: its rows are read and written through %s without being recorded',
                             i.inhrelid::pg_catalog.regclass, v.relation)
    FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class k ON k.oid = i.inhrelid
    WHERE v.own AND i.inhparent = v.relid AND NOT k.relispartition
      AND NOT EXISTS (SELECT 1 FROM fence.tracked_relations() o WHERE o.relid = i.inhrelid)
) w
ORDER BY 1
LIMIT 1
