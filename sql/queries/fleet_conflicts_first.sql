-- The events of database $1 that arrived again with another hash: the first seq, how many.
SELECT min(seq) AS seq, count(*) AS events FROM fence.fleet_conflicts WHERE database_id = $1::uuid
