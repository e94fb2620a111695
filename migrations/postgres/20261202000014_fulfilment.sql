-- Fulfilment through GitLab's API (a write credential configured): while one fulfilment talks to
-- GitLab it holds the request until `fulfilment_busy_until` (a second click is told, not run);
-- what failed last is kept for the page. The first token is made by its requester, who alone sees
-- its secret, once: only its GitLab id and when it was made are stored, never the secret. Same
-- schema as migrations/sqlite.
ALTER TABLE service_account_requests ADD COLUMN fulfilment_busy_until TIMESTAMPTZ;
ALTER TABLE service_account_requests ADD COLUMN fulfilment_error TEXT;
ALTER TABLE service_account_requests ADD COLUMN token_gitlab_id BIGINT;
ALTER TABLE service_account_requests ADD COLUMN token_created_at TIMESTAMPTZ;
ALTER TABLE service_account_requests ADD COLUMN token_busy_until TIMESTAMPTZ;
