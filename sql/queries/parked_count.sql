-- How many events wait in the parking table to be chained.
SELECT count(*) AS parked FROM fence.pending_denials
