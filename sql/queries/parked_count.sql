-- How many events wait in the parking table to be chained (a row holds one, or an array of a
-- transaction's events).
SELECT coalesce(sum(CASE WHEN pg_catalog.jsonb_typeof(event) = 'array'
                         THEN pg_catalog.jsonb_array_length(event) ELSE 1 END), 0)::bigint AS parked
FROM fence.pending_denials
