-- The inventory's search (`search_text LIKE '%words%'`) reads a trigram index instead of every
-- row: pg_trgm is a trusted extension (PostgreSQL 13+), which the database's owner may create.
-- SQLite keeps an FTS5 trigram table instead (migrations/sqlite).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX tokens_search_trgm ON tokens USING gin (search_text gin_trgm_ops);

-- Deep pages walk the name order from the index alone (an index-only scan needs the column the
-- expression reads, hence INCLUDE).
DROP INDEX tokens_name_lower;
CREATE INDEX tokens_name_lower ON tokens (LOWER(name), id) INCLUDE (name);

-- What the inventory counts changes only in transactions that leave a row here (a statement
-- trigger on the tables it counts). The data's version is `pruned + COUNT(*)`: two snapshots with
-- the same version saw the same committed changes, so a count taken at one version holds for it
-- (the repository keeps counts per filter and version). Inserting rows, never updating one,
-- means writers never wait for each other here. `pruned` absorbs old rows after each sync.
CREATE TABLE data_changes (
    xid BIGINT PRIMARY KEY
);
CREATE TABLE data_changes_pruned (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pruned BIGINT NOT NULL
);
INSERT INTO data_changes_pruned (id, pruned) VALUES (1, 0);

CREATE FUNCTION note_data_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_changes (xid) VALUES (txid_current()) ON CONFLICT (xid) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER tokens_data_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION note_data_change();
CREATE TRIGGER ownership_data_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ownership
    FOR EACH STATEMENT EXECUTE FUNCTION note_data_change();
CREATE TRIGGER teams_data_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION note_data_change();
CREATE TRIGGER team_group_paths_data_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON team_group_paths
    FOR EACH STATEMENT EXECUTE FUNCTION note_data_change();

-- A kind and an expiry window (the filters team leads use most) count from one index range.
CREATE INDEX tokens_kind_expires ON tokens (kind, expires_on);
