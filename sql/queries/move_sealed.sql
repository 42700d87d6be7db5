-- The changes just sealed (every change of the transactions below the block's end: they had
-- all finished when the block was read, so this statement sees the same ones) leave the
-- inbox for fence.row_changes and its indexes, in the sealing transaction.
WITH sealed AS (DELETE FROM fence.row_inbox WHERE txid < $1 RETURNING *)
INSERT INTO fence.row_changes SELECT * FROM sealed
