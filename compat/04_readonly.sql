-- nothing risky: also run under the enforce policy, where nothing may be refused.
-- READ ONLY transactions: fence writes nothing in them, and assigns no transaction id.
BEGIN;
CREATE TABLE ro (a int);
CREATE INDEX ro_a ON ro (a);
COMMIT;
BEGIN READ ONLY;
LOCK TABLE ro IN ACCESS SHARE MODE;
SELECT txid_current_if_assigned() IS NULL AS no_txid;
SELECT count(*) FROM ro;
COMMIT;
BEGIN READ ONLY;
LOCK TABLE ro IN ROW EXCLUSIVE MODE;
COMMIT;
BEGIN READ ONLY;
CREATE TABLE ro2 (a int);
ROLLBACK;
BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE;
SELECT count(*) FROM ro;
COMMIT;
SET default_transaction_read_only = on;
VACUUM ro;
ANALYZE ro;
BEGIN; LOCK TABLE ro IN ROW EXCLUSIVE MODE; SELECT txid_current_if_assigned() IS NULL AS no_txid; COMMIT;
RESET default_transaction_read_only;
-- A transaction made READ ONLY after its DDL: its events go with its own commit.
BEGIN;
CREATE TABLE ro_late (a int);
SET TRANSACTION READ ONLY;
SELECT count(*) FROM ro_late;
COMMIT;
-- No transaction id before the statement needs one.
BEGIN;
LOCK TABLE ro IN ACCESS SHARE MODE;
SELECT txid_current_if_assigned() IS NULL AS no_txid;
SELECT relation::regclass::text AS locked, mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND relation <> 'pg_locks'::regclass ORDER BY 1, 2;
COMMIT;
-- CREATE / DROP INDEX CONCURRENTLY as a session's first statement.
\c
DROP INDEX CONCURRENTLY ro_a;
\c
CREATE INDEX CONCURRENTLY ro_a ON ro (a);
\c
DROP INDEX CONCURRENTLY IF EXISTS ro_missing;
\c
REINDEX INDEX CONCURRENTLY ro_a;
\c
BEGIN;
DROP INDEX CONCURRENTLY ro_a;
ROLLBACK;
