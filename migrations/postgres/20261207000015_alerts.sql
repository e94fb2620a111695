-- Team alerts (issue 18). `teams.alert_channel`: whether the teams file gives the team a channel
-- (a webhook or addresses); NULL while alerts are not configured at all. The channels themselves
-- (webhook URLs are secrets) live in the server's configuration only, never here.
-- `alert_runs`: each digest run; a scheduled one holds its day in `scheduled_day` (unique), so one
-- replica alone makes a day's digests. `alert_notices`: the ledger, one row per notice ever given
-- (a token entering a window, a token expired, a decision that stopped holding), unique by
-- `notice_key`, claimed with a conditional insert so a notice is given once across restarts and
-- replicas. `alert_digests`: what a run said to one audience (a team, or the organisation);
-- `alert_deliveries`: one row per digest and channel, retried with backoff until sent or out of
-- attempts, its last error kept (never a URL or a password). Same schema as migrations/sqlite.
ALTER TABLE teams ADD COLUMN alert_channel BOOLEAN;

CREATE TABLE alert_runs (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trigger        TEXT NOT NULL,
    scheduled_day  DATE UNIQUE,
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ
);

CREATE TABLE alert_digests (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      BIGINT NOT NULL REFERENCES alert_runs (id) ON DELETE CASCADE,
    audience    TEXT NOT NULL,
    team_id     BIGINT REFERENCES teams (id) ON DELETE SET NULL,
    day         DATE NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX alert_digests_audience ON alert_digests (audience, id);

CREATE TABLE alert_notices (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notice_key   TEXT NOT NULL UNIQUE,
    token_id     BIGINT REFERENCES tokens (id) ON DELETE CASCADE,
    window_days  INTEGER,
    digest_id    BIGINT REFERENCES alert_digests (id) ON DELETE SET NULL,
    state        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    sent_at      TIMESTAMPTZ
);

CREATE INDEX alert_notices_digest ON alert_notices (digest_id);

CREATE TABLE alert_deliveries (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    digest_id        BIGINT NOT NULL REFERENCES alert_digests (id) ON DELETE CASCADE,
    channel          TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TIMESTAMPTZ,
    last_error       TEXT,
    sent_at          TIMESTAMPTZ,
    UNIQUE (digest_id, channel)
);

CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_attempt_at);
