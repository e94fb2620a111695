-- What people say about a token: its owner team, purpose, the automation it serves, where its
-- secret is kept, notes. Written by people only; sync never touches it. Same schema as
-- migrations/sqlite.
CREATE TABLE ownership (
    token_id         BIGINT PRIMARY KEY REFERENCES tokens (id) ON DELETE CASCADE,
    owner_team_id    BIGINT REFERENCES teams (id) ON DELETE SET NULL,
    purpose          TEXT,
    automation       TEXT,
    secret_location  TEXT,
    notes            TEXT,
    updated_by       TEXT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE INDEX ownership_owner_team ON ownership (owner_team_id);

-- The team owning the token's group path (the longest matching path), kept up to date after every
-- sync and every change to teams, so filtering by team is an index look-up.
ALTER TABLE tokens ADD COLUMN inferred_team_id BIGINT REFERENCES teams (id) ON DELETE SET NULL;

CREATE INDEX tokens_inferred_team ON tokens (inferred_team_id);
CREATE INDEX tokens_kind ON tokens (kind);
CREATE INDEX tokens_name ON tokens (name);
CREATE INDEX tokens_last_used_at ON tokens (last_used_at);
