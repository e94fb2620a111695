-- The inventory's search reads a trigram index (FTS5, external content: the text stays in
-- `tokens.search_text`) instead of every row; triggers keep it in step with `tokens`.
-- PostgreSQL uses a pg_trgm index instead (migrations/postgres).
CREATE VIRTUAL TABLE tokens_search USING fts5(search_text, content = 'tokens', content_rowid = 'id', tokenize = 'trigram');
INSERT INTO tokens_search (tokens_search) VALUES ('rebuild');

CREATE TRIGGER tokens_search_insert AFTER INSERT ON tokens BEGIN
    INSERT INTO tokens_search (rowid, search_text) VALUES (new.id, new.search_text);
END;

CREATE TRIGGER tokens_search_delete AFTER DELETE ON tokens BEGIN
    INSERT INTO tokens_search (tokens_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;

CREATE TRIGGER tokens_search_update AFTER UPDATE OF search_text ON tokens
WHEN old.search_text IS NOT new.search_text BEGIN
    INSERT INTO tokens_search (tokens_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO tokens_search (rowid, search_text) VALUES (new.id, new.search_text);
END;

-- A kind and an expiry window (the filters team leads use most) count from one index range.
CREATE INDEX tokens_kind_expires ON tokens (kind, expires_on);
