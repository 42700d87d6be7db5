-- The tracked partitioned table $1 is a partition of (at any depth), or NULL.
SELECT (SELECT l.relation FROM fence.live_tracking($1::regclass) l WHERE l.carrier <> $1::regclass) AS relation
