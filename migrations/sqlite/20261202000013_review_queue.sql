-- The review's queue at scale: a rule's and a team's standing findings in queue order (the
-- queue filtered to one walks its own index), and the review's version, bumped by every refresh
-- and decision, by which the repository keeps the queue's counts (counting 400,000 findings with
-- their decisions on each view took a second). Same schema on both backends.
CREATE INDEX findings_rule_queue ON findings (rule, severity_rank, due_on, id) WHERE resolved_at IS NULL;
CREATE INDEX findings_team_queue ON findings (team_id, severity_rank, due_on, id) WHERE resolved_at IS NULL;
DROP INDEX findings_team;

CREATE TABLE review_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO review_version (id, version) VALUES (1, 0);
