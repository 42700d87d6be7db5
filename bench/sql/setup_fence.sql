-- fence in enforce mode (the defaults); the migration is approved before it runs.
CREATE EXTENSION fence;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_approver') THEN
        CREATE ROLE bench_approver LOGIN IN ROLE fence_approver;
    END IF;
END $$;
