-- Which team owns a service account. A person sets it (security, or the lead of the team that
-- owns it now); until then it is inferred: the team owning the account's group path, else the one
-- team owning every group and project it is a member of. The account's personal access tokens
-- follow it (tokens.inferred_team_id). Sync never touches account_ownership. Same schema as
-- migrations/sqlite.
CREATE TABLE account_ownership (
    account_gitlab_id  BIGINT PRIMARY KEY,
    owner_team_id      BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    updated_by         TEXT NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);

-- Kept up to date with tokens.inferred_team_id (after every sync and every change to teams).
ALTER TABLE accounts ADD COLUMN inferred_team_id BIGINT REFERENCES teams (id) ON DELETE SET NULL;
