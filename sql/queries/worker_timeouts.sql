-- The denial worker never waits long for a lock: it gives up and leaves the denial parked.
SELECT pg_catalog.set_config('lock_timeout', '2s', true),
       pg_catalog.set_config('statement_timeout', '5s', true)
