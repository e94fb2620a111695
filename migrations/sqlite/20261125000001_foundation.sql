-- Teams own GitLab group paths; tokens are what sync found. Same schema as migrations/postgres.
CREATE TABLE teams (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE team_group_paths (
    team_id     INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    group_path  TEXT NOT NULL,
    PRIMARY KEY (team_id, group_path)
);

-- One row per GitLab token, keyed by (kind, gitlab_id). Never the secret.
CREATE TABLE tokens (
    id                   INTEGER PRIMARY KEY,
    kind                 TEXT NOT NULL CHECK (kind IN ('project_access', 'group_access', 'deploy', 'personal')),
    gitlab_id            INTEGER NOT NULL,
    name                 TEXT NOT NULL,
    description          TEXT,
    container_kind       TEXT NOT NULL CHECK (container_kind IN ('project', 'group', 'instance')),
    container_gitlab_id  INTEGER,
    container_path       TEXT NOT NULL,
    account_gitlab_id    INTEGER,
    account_username     TEXT,
    scopes               TEXT NOT NULL,
    access_level         INTEGER,
    created_at           TEXT,
    expires_on           TEXT,
    last_used_at         TEXT,
    revoked              BOOLEAN NOT NULL,
    active               BOOLEAN NOT NULL,
    first_seen_at        TEXT NOT NULL,
    last_seen_at         TEXT NOT NULL,
    gone_since           TEXT,
    UNIQUE (kind, gitlab_id)
);

CREATE INDEX tokens_expires_on ON tokens (expires_on);
CREATE INDEX tokens_container_path ON tokens (container_path);
