-- What sync found besides tokens, the history of each token, the audit log, sync runs and the
-- lease that keeps runs one at a time. Same schema as migrations/postgres.
CREATE TABLE gitlab_groups (
    gitlab_id         INTEGER PRIMARY KEY,
    full_path         TEXT NOT NULL,
    parent_gitlab_id  INTEGER,
    web_url           TEXT NOT NULL,
    last_seen_at      TEXT NOT NULL,
    gone_since        TEXT
);

CREATE TABLE gitlab_projects (
    gitlab_id            INTEGER PRIMARY KEY,
    path_with_namespace  TEXT NOT NULL,
    namespace_gitlab_id  INTEGER,
    web_url              TEXT NOT NULL,
    archived             BOOLEAN NOT NULL,
    last_seen_at         TEXT NOT NULL,
    gone_since           TEXT
);

-- Bot users and service accounts.
CREATE TABLE accounts (
    gitlab_id            INTEGER PRIMARY KEY,
    username             TEXT NOT NULL,
    name                 TEXT NOT NULL,
    kind                 TEXT NOT NULL CHECK (kind IN ('project_bot', 'group_bot', 'service_account')),
    container_kind       TEXT NOT NULL CHECK (container_kind IN ('project', 'group', 'instance')),
    container_gitlab_id  INTEGER,
    state                TEXT NOT NULL,
    first_seen_at        TEXT NOT NULL,
    last_seen_at         TEXT NOT NULL,
    gone_since           TEXT
);

CREATE INDEX tokens_account ON tokens (account_gitlab_id);

-- A token's history: revoked, rotated, expiry or scopes changed, moved, gone, back.
CREATE TABLE token_events (
    id           INTEGER PRIMARY KEY,
    token_id     INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    at           TEXT NOT NULL,
    event        TEXT NOT NULL,
    detail       TEXT NOT NULL,
    sync_run_id  INTEGER
);

CREATE INDEX token_events_token ON token_events (token_id, at);

-- Append-only: every change people or sync made.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    subject  TEXT NOT NULL,
    detail   TEXT NOT NULL
);

CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE sync_runs (
    id            INTEGER PRIMARY KEY,
    trigger       TEXT NOT NULL,
    strategy      TEXT,
    status        TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'abandoned')),
    started_at    TEXT NOT NULL,
    heartbeat_at  TEXT NOT NULL,
    finished_at   TEXT,
    requests      INTEGER NOT NULL DEFAULT 0,
    progress      TEXT NOT NULL DEFAULT '{}',
    errors        TEXT NOT NULL DEFAULT '[]'
);

-- One row: who may run a sync now. Taken with a conditional UPDATE, renewed while running.
CREATE TABLE sync_lease (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    holder      TEXT,
    expires_at  TEXT NOT NULL
);

INSERT INTO sync_lease (id, holder, expires_at) VALUES (1, NULL, '1970-01-01 00:00:00+00:00');
