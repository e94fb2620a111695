-- What each service account can reach: its direct memberships of groups and projects, with the
-- role, as GitLab's `/users/:id/memberships` lists them (an administrator's credential only).
-- Sync replaces one account's rows at a time, and only after its whole listing was read. Same
-- schema as migrations/sqlite.
CREATE TABLE account_memberships (
    account_gitlab_id  BIGINT NOT NULL,
    source_kind        TEXT NOT NULL CHECK (source_kind IN ('group', 'project')),
    source_gitlab_id   BIGINT NOT NULL,
    source_path        TEXT NOT NULL,
    access_level       INTEGER NOT NULL,
    last_seen_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_gitlab_id, source_kind, source_gitlab_id)
);
