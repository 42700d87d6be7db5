-- pgAudit (preloaded by the bench server) logging DDL for this database.
DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET pgaudit.log = %L', current_database(), 'ddl');
END $$;
