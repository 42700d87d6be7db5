-- The sealer's round sorts the changes it seals (about 180 bytes each in memory): room for a
-- few hundred thousand of them before the sort spills to disk (a steady load of thousands of
-- changes per second fills a round of a few seconds with tens of thousands).
SELECT pg_catalog.set_config('work_mem', '64MB', true)
