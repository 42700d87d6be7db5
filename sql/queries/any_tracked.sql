SELECT EXISTS (SELECT 1 FROM fence.tracked_tables WHERE untracked_at IS NULL)
