-- $1 statement hash, $2 content hash, $3 relations, $4 rule ids
SELECT id, scope, target
FROM fence.exemptions
WHERE revoked_at IS NULL
  AND expires_at > clock_timestamp()
  AND ((scope = 'statement' AND target = $1)
    OR (scope = 'content' AND target = $2)
    OR (scope = 'relation' AND target = ANY ($3))
    OR (scope = 'rule' AND target = ANY ($4)))
ORDER BY id
