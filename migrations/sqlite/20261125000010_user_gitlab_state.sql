-- A person's account in GitLab as last known: `active` when they sign in; for the owners of usable
-- API keys, GitLab's `state` (`blocked`, `deactivated`, `banned`, …) or `gone` (404) as each sync
-- reads it. A key works only while its owner's state is unknown or `active`. Same schema as
-- migrations/postgres.
ALTER TABLE users ADD COLUMN gitlab_state TEXT;
ALTER TABLE users ADD COLUMN gitlab_state_checked_at TEXT;
