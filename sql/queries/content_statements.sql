-- The statement hashes of content $1 as its newest approval (or rejection) recorded them.
SELECT statement_hashes FROM fence.approvals WHERE content_hash = $1 ORDER BY id DESC LIMIT 1
