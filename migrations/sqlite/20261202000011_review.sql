-- The security review: what the policy finds wrong with each live token and service account
-- (worked out again after every sync), and what people decided about it. Same schema as
-- migrations/postgres.
CREATE TABLE findings (
    id              INTEGER PRIMARY KEY,
    rule            TEXT NOT NULL,
    -- `token:<id>` or `account:<gitlab id>`: one finding per rule and subject.
    subject_key     TEXT NOT NULL,
    token_id        INTEGER REFERENCES tokens (id) ON DELETE CASCADE,
    account_gitlab_id INTEGER,
    -- The token's kind, or `service_account` for an account's finding.
    kind            TEXT NOT NULL,
    subject_name    TEXT NOT NULL,
    subject_path    TEXT NOT NULL,
    team_id         INTEGER REFERENCES teams (id) ON DELETE SET NULL,
    severity        TEXT NOT NULL,
    -- 0 critical … 3 low: the queue's order.
    severity_rank   INTEGER NOT NULL,
    due_on          TEXT NOT NULL,
    detail          TEXT NOT NULL,
    fix             TEXT NOT NULL,
    first_found_at  TEXT NOT NULL,
    last_found_at   TEXT NOT NULL,
    -- When a refresh no longer found it; NULL while it stands.
    resolved_at     TEXT,
    UNIQUE (rule, subject_key)
);

CREATE INDEX findings_queue ON findings (severity_rank, due_on, id) WHERE resolved_at IS NULL;
CREATE INDEX findings_token ON findings (token_id);
CREATE INDEX findings_team ON findings (team_id);

-- Every decision, kept: the latest one is the finding's. `token_scopes`/`token_expires_on` are
-- the token as it was decided on (a change reopens the finding).
CREATE TABLE finding_decisions (
    id              INTEGER PRIMARY KEY,
    finding_id      INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    decision        TEXT NOT NULL,
    reason          TEXT,
    until_on        TEXT,
    decided_by      TEXT NOT NULL,
    decided_at      TEXT NOT NULL,
    token_scopes    TEXT,
    token_expires_on TEXT
);

CREATE INDEX finding_decisions_finding ON finding_decisions (finding_id, id);
