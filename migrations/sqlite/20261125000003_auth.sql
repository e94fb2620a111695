-- People who signed in, their teams, their sessions and API keys. Same schema as migrations/postgres.
-- Never a secret: sessions and API keys are stored as SHA-256 hashes of their secret parts.
CREATE TABLE users (
    id                 INTEGER PRIMARY KEY,
    gitlab_id          INTEGER NOT NULL UNIQUE,
    username           TEXT NOT NULL,
    name               TEXT NOT NULL,
    email              TEXT,
    roles              TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    last_signed_in_at  TEXT NOT NULL
);

-- Leads named in the teams configuration (GitLab usernames).
CREATE TABLE team_leads (
    team_id   INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    username  TEXT NOT NULL,
    PRIMARY KEY (team_id, username)
);

-- The teams a person belongs to, worked out at sign-in.
CREATE TABLE user_teams (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    team_id  INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    is_lead  BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, team_id)
);

CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL UNIQUE,
    secret_hash   TEXT NOT NULL,
    scope         TEXT NOT NULL CHECK (scope IN ('read', 'read_write')),
    created_at    TEXT NOT NULL,
    expires_on    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);

CREATE INDEX api_keys_user ON api_keys (user_id);
