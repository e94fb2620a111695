-- SQLite gets the data version PostgreSQL has had since `search_index` (see migrations/sqlite).
-- Both get each token's owner team as a column, and the indexes of the orders people sort by.

-- Each token's owner team (the one a person set, else the inferred one) in a column of its own,
-- kept by triggers, so the team filter reads an index instead of joining every row's ownership.
ALTER TABLE tokens ADD COLUMN team_id BIGINT;
UPDATE tokens SET team_id = COALESCE((SELECT o.owner_team_id FROM ownership o WHERE o.token_id = tokens.id), inferred_team_id);

CREATE FUNCTION token_team() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.team_id := COALESCE((SELECT o.owner_team_id FROM ownership o WHERE o.token_id = NEW.id), NEW.inferred_team_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER tokens_team BEFORE INSERT OR UPDATE OF inferred_team_id ON tokens
    FOR EACH ROW EXECUTE FUNCTION token_team();

CREATE FUNCTION ownership_team() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE tokens SET team_id = inferred_team_id WHERE id = OLD.token_id;
    ELSE
        UPDATE tokens SET team_id = COALESCE(NEW.owner_team_id, inferred_team_id) WHERE id = NEW.token_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER ownership_team AFTER INSERT OR UPDATE OF owner_team_id OR DELETE ON ownership
    FOR EACH ROW EXECUTE FUNCTION ownership_team();

-- Sorts by a column that may be empty order by (empty?, value, id): these indexes hold that
-- order, so a page of a kind or a team by expiry stops after its rows instead of sorting them all.
CREATE INDEX tokens_kind_expiry_order ON tokens (kind, (expires_on IS NULL), expires_on, id);
CREATE INDEX tokens_team_expiry_order ON tokens (team_id, (expires_on IS NULL), expires_on, id);
CREATE INDEX tokens_expiry_order ON tokens ((expires_on IS NULL), expires_on, id);
CREATE INDEX tokens_team_name ON tokens (team_id, LOWER(name), id);
