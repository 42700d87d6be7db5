-- Tables back from a dump under new OIDs. A restore gives every table a new OID, but each
-- trigger keeps its argument, the tracking it names: a live tracking named by exactly one
-- table's own fence row trigger, and recording another OID than that table's, moves to that
-- table's OID with its earlier periods (those recorded under the same OID up to it; later ones
-- belong to tables tracked since). One statement: the one-live-tracking-per-table constraint
-- is checked at its end, so that OIDs may swap. A row per tracking moved.
WITH carriers AS (
    SELECT fence.trigger_tracking(g.tgargs) AS id, min(g.tgrelid) AS relid, count(*) AS tables
    FROM pg_catalog.pg_trigger g
    WHERE g.tgname = 'fence_row_changes' AND g.tgparentid = 0 AND g.tgfoid = 'fence.record_row_change()'::regprocedure
    GROUP BY 1
), moved AS (
    SELECT t.id, t.relid AS old_relid, c.relid AS new_relid
    FROM fence.tracked_tables t
    JOIN carriers c ON c.id = t.id
    WHERE t.untracked_at IS NULL AND c.tables = 1 AND t.relid <> c.relid
), relinked AS (
    UPDATE fence.tracked_tables p SET relid = m.new_relid
    FROM moved m
    WHERE p.relid = m.old_relid AND p.id <= m.id
    RETURNING p.id
)
SELECT m.id, m.old_relid, m.new_relid FROM moved m WHERE m.id IN (SELECT r.id FROM relinked r)
