-- Migration 0042: plans for every user, and emails become mandatory.
ALTER TABLE users ADD COLUMN plan text DEFAULT 'free';
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
