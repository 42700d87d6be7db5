-- The changes just sealed (every change of the transactions in the block: they had all
-- finished when the block was read, so this statement sees the same ones) leave the inbox
-- for fence.row_changes and its indexes, in the sealing transaction. $1, $2: the block's
-- start and end.
WITH sealed AS (DELETE FROM fence.row_inbox WHERE txid >= $1 AND txid < $2 RETURNING *)
INSERT INTO fence.row_changes SELECT * FROM sealed
