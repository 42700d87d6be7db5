-- fence 0.3.0 -> 0.4.0: exemptions bound to what they name (a relation exemption to the
-- table's OID, a content exemption to the content's statements, a finding honoured), and
-- content hashes read with the session's scanner settings (fence.content_hash is STABLE).
\echo Use "ALTER EXTENSION fence UPDATE TO '0.4.0'" to load this file. \quit

ALTER TABLE fence.exemptions ADD COLUMN relid oid, ADD COLUMN statement_hashes text[];
-- A relation exemption granted under 0.3.0 is bound to the table its name resolves to now.
UPDATE fence.exemptions SET relid = pg_catalog.to_regclass(target)
WHERE scope = 'relation' AND revoked_at IS NULL;
-- A content exemption covers the statements an approval of that content recorded (none
-- recorded: it covers nothing, and says so at the next decision).
UPDATE fence.exemptions e
SET statement_hashes = (SELECT a.statement_hashes FROM fence.approvals a
                        WHERE a.content_hash = e.target ORDER BY a.id DESC LIMIT 1)
WHERE e.scope = 'content' AND e.revoked_at IS NULL;

ALTER FUNCTION fence.content_hash(text) STABLE;
