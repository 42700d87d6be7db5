-- $1 statement hash, $2 content hash, $3 OIDs of the relations it locks, $4 rule ids that make
-- it need an approval. A content exemption covers only the content's own statements; a
-- relation exemption its table (by OID: a rename does not move it); an exemption naming a
-- finding only a statement for which that rule alone needs an approval; one naming databases
-- only in those (by name or fence.database_id()).
SELECT id, scope, target, relid
FROM fence.exemptions
WHERE revoked_at IS NULL
  AND expires_at > clock_timestamp()
  AND ((scope = 'statement' AND target = $1)
    OR (scope = 'content' AND target = $2 AND $1 = ANY (statement_hashes))
    OR (scope = 'relation' AND relid = ANY ($3))
    OR (scope = 'rule' AND target = ANY ($4)))
  AND (finding IS NULL OR $4 <@ ARRAY[finding])
  AND (databases IS NULL OR pg_catalog.current_database() = ANY (databases)
       OR fence.database_id()::text = ANY (databases))
ORDER BY id
