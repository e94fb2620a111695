-- Service-account requests: the request as checked (JSON of domain::requests::ValidRequest), where
-- it stands, its timeline, and the in-app notices it sends. Same schema as migrations/postgres.
CREATE TABLE service_account_requests (
    id                INTEGER PRIMARY KEY,
    state             TEXT NOT NULL,
    requester_id      INTEGER NOT NULL REFERENCES users (id),
    owner_team_id     INTEGER REFERENCES teams (id) ON DELETE SET NULL,
    account_name      TEXT NOT NULL,
    body              TEXT NOT NULL,
    -- Who endorsed it, while the endorsement stands (an amendment clears it).
    endorsed_by       INTEGER REFERENCES users (id),
    -- Security's approval or rejection, and the reason shown to the requester.
    decided_by        INTEGER REFERENCES users (id),
    decision_reason   TEXT,
    -- Recorded before the first call to GitLab, so a retried fulfilment finds its account.
    fulfilment_key    TEXT,
    account_gitlab_id INTEGER,
    -- Every step bumps it; a step names the version it was taken on, so of two people acting at
    -- once one wins and the other is told.
    version           INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE INDEX service_account_requests_state ON service_account_requests (state, updated_at);
CREATE INDEX service_account_requests_requester ON service_account_requests (requester_id);
CREATE INDEX service_account_requests_team ON service_account_requests (owner_team_id);

CREATE TABLE request_events (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL REFERENCES service_account_requests (id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    actor_id    INTEGER REFERENCES users (id),
    action      TEXT NOT NULL,
    state       TEXT NOT NULL,
    note        TEXT
);

CREATE INDEX request_events_request ON request_events (request_id, id);

-- What the app tells a person (their inbox), read or not.
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    request_id  INTEGER REFERENCES service_account_requests (id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    text        TEXT NOT NULL,
    read_at     TEXT
);

CREATE INDEX notifications_user ON notifications (user_id, read_at, id);
