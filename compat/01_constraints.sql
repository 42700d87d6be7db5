-- What applications read from errors: SQLSTATE, constraint / table / column names, DETAIL.
CREATE TABLE accounts (id int PRIMARY KEY, email text UNIQUE NOT NULL, balance numeric CHECK (balance >= 0));
CREATE TABLE orders (id int PRIMARY KEY, account_id int REFERENCES accounts (id), qty int CONSTRAINT qty_positive CHECK (qty > 0));
CREATE DOMAIN positive_int AS int CHECK (VALUE > 0);
CREATE TABLE items (id int PRIMARY KEY, n positive_int, during tstzrange, EXCLUDE USING gist (id WITH =, during WITH &&));
INSERT INTO accounts VALUES (1, 'a@example.com', 10);
INSERT INTO accounts VALUES (1, 'b@example.com', 10);
INSERT INTO accounts VALUES (2, 'a@example.com', 10);
INSERT INTO accounts VALUES (3, NULL, 10);
INSERT INTO accounts VALUES (4, 'd@example.com', -1);
INSERT INTO orders VALUES (1, 99, 1);
INSERT INTO orders VALUES (2, 1, 0);
INSERT INTO orders VALUES (3, 1, 5);
DELETE FROM accounts WHERE id = 1;
UPDATE accounts SET id = 5 WHERE id = 1;
INSERT INTO items VALUES (1, 0, NULL);
INSERT INTO items VALUES (1, 1, '[2026-01-01,2026-02-01)');
INSERT INTO items VALUES (1, 2, '[2026-01-15,2026-03-01)');
INSERT INTO accounts VALUES (1, 'x@example.com', 1) ON CONFLICT (email) DO NOTHING;
INSERT INTO accounts VALUES (1, 'a@example.com', 1) ON CONFLICT ON CONSTRAINT accounts_pkey DO UPDATE SET balance = excluded.balance RETURNING id, balance;
INSERT INTO accounts VALUES (6, 'f@example.com', 'lots');
SELECT 1 / 0;
SELECT no_such_column FROM accounts;
-- COPY: errors carry the line, the constraint and the table.
COPY accounts FROM stdin;
7	g@example.com	1
1	dup@example.com	1
\.
COPY accounts FROM stdin;
8	h@example.com	not-a-number
\.
COPY accounts (id, email, nope) FROM stdin;
\.
COPY accounts FROM stdin (FORMAT csv);
9,i@example.com,1,extra
\.
COPY accounts TO stdout;
-- Errors of utility statements: positions, names.
CREATE TABLE bad1 (a int GENERATED ALWAYS AS (b * 2) STORED);
CREATE TABLE bad2 (a no_such_type);
ALTER TABLE accounts ADD CONSTRAINT balance_small CHECK (balance < 5);
ALTER TABLE accounts ALTER COLUMN email TYPE int USING email::int;
CREATE UNIQUE INDEX accounts_balance ON accounts (balance);
INSERT INTO accounts VALUES (10, 'j@example.com', 1);
CREATE UNIQUE INDEX accounts_balance ON accounts (balance);
ALTER TABLE orders ADD CONSTRAINT orders_qty_big CHECK (qty > 100);
ALTER TABLE orders ADD FOREIGN KEY (qty) REFERENCES accounts (id);
ALTER TABLE accounts DROP COLUMN nope;
ALTER TABLE nope ADD COLUMN x int;
DROP TABLE accounts;
CREATE TABLE accounts (id int);
CREATE INDEX ON accounts (nope);
CREATE VIEW v_bad AS SELECT nope FROM accounts;
COMMENT ON COLUMN accounts.nope IS 'x';
SELECT * FROM accounts ORDER BY id;
