-- Recertification campaigns: security opens one over a scope (all, a team, a kind) with a due
-- date; it holds each live token and service account in scope, as it was at opening (name, kind,
-- path, owner team, purpose), so the evidence stays true after the token changes; each team's
-- lead answers its items (the latest answer here, every answer in audit_log). Same schema as
-- migrations/postgres.
CREATE TABLE recert_campaigns (
    id              INTEGER PRIMARY KEY,
    -- `all`, `team` (with scope_team_id) or `kind` (with scope_kind).
    scope           TEXT NOT NULL,
    scope_team_id   INTEGER REFERENCES teams (id) ON DELETE SET NULL,
    scope_kind      TEXT,
    due_on          TEXT NOT NULL,
    opened_by       TEXT NOT NULL,
    opened_at       TEXT NOT NULL,
    closed_by       TEXT,
    closed_at       TEXT
);

CREATE TABLE recert_items (
    id                INTEGER PRIMARY KEY,
    campaign_id       INTEGER NOT NULL REFERENCES recert_campaigns (id) ON DELETE CASCADE,
    -- The subject: a token (by the inventory's id) or a service account (by its GitLab id).
    token_id          INTEGER REFERENCES tokens (id) ON DELETE SET NULL,
    account_gitlab_id INTEGER,
    -- As it was at opening: a token kind or `service_account`, its name, where it lives, its
    -- owner team and purpose.
    kind              TEXT NOT NULL,
    name              TEXT NOT NULL,
    path              TEXT NOT NULL,
    team_id           INTEGER NOT NULL,
    team_name         TEXT NOT NULL,
    purpose           TEXT,
    -- The latest answer: `confirmed` or `flagged` (with its reason), by whom (username), when.
    answer            TEXT,
    reason            TEXT,
    answered_by       TEXT,
    answered_at       TEXT
);

CREATE INDEX recert_items_campaign ON recert_items (campaign_id, team_id, id);
CREATE INDEX recert_items_token ON recert_items (token_id, answered_at);
CREATE INDEX recert_items_account ON recert_items (account_gitlab_id, answered_at);
