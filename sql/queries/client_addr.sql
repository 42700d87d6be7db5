-- The client's address (NULL over a Unix socket); asked once per session.
SELECT pg_catalog.host(pg_catalog.inet_client_addr())
