-- Service-account requests: the request as checked (JSON of domain::requests::ValidRequest), where
-- it stands, its timeline, and the in-app notices it sends. Same schema as migrations/sqlite.
CREATE TABLE service_account_requests (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state             TEXT NOT NULL,
    requester_id      BIGINT NOT NULL REFERENCES users (id),
    owner_team_id     BIGINT REFERENCES teams (id) ON DELETE SET NULL,
    account_name      TEXT NOT NULL,
    body              TEXT NOT NULL,
    -- Who endorsed it, while the endorsement stands (an amendment clears it).
    endorsed_by       BIGINT REFERENCES users (id),
    -- Security's approval or rejection, and the reason shown to the requester.
    decided_by        BIGINT REFERENCES users (id),
    decision_reason   TEXT,
    -- Recorded before the first call to GitLab, so a retried fulfilment finds its account.
    fulfilment_key    TEXT,
    account_gitlab_id BIGINT,
    -- Every step bumps it; a step names the version it was taken on, so of two people acting at
    -- once one wins and the other is told.
    version           BIGINT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);

CREATE INDEX service_account_requests_state ON service_account_requests (state, updated_at);
CREATE INDEX service_account_requests_requester ON service_account_requests (requester_id);
CREATE INDEX service_account_requests_team ON service_account_requests (owner_team_id);

CREATE TABLE request_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id  BIGINT NOT NULL REFERENCES service_account_requests (id) ON DELETE CASCADE,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    BIGINT REFERENCES users (id),
    action      TEXT NOT NULL,
    state       TEXT NOT NULL,
    note        TEXT
);

CREATE INDEX request_events_request ON request_events (request_id, id);

-- What the app tells a person (their inbox), read or not.
CREATE TABLE notifications (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    request_id  BIGINT REFERENCES service_account_requests (id) ON DELETE CASCADE,
    at          TIMESTAMPTZ NOT NULL,
    text        TEXT NOT NULL,
    read_at     TIMESTAMPTZ
);

CREATE INDEX notifications_user ON notifications (user_id, read_at, id);
