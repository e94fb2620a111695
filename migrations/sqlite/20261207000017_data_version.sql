-- The version of what the inventory counts, as PostgreSQL has it (migration `search_index`), so
-- both backends keep counts per filter and version instead of counting every matching row again.
-- SQLite serialises its writers, so one counter row is enough: every row a change touches in the
-- tables the inventory counts adds one to `pruned`. `data_changes` stays empty here; it exists so
-- that the version is the same query on both backends (`pruned + COUNT(*) FROM data_changes`).
CREATE TABLE data_changes (
    xid INTEGER PRIMARY KEY
);
CREATE TABLE data_changes_pruned (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pruned INTEGER NOT NULL
);
INSERT INTO data_changes_pruned (id, pruned) VALUES (1, 0);

CREATE TRIGGER tokens_change_insert AFTER INSERT ON tokens BEGIN
    UPDATE data_changes_pruned SET pruned = pruned + 1 WHERE id = 1;
END;
CREATE TRIGGER tokens_change_update AFTER UPDATE ON tokens BEGIN
    UPDATE data_changes_pruned SET pruned = pruned + 1 WHERE id = 1;
END;
CREATE TRIGGER tokens_change_delete AFTER DELETE ON tokens BEGIN
    UPDATE data_changes_pruned SET pruned = pruned + 1 WHERE id = 1;
END;
CREATE TRIGGER ownership_change_insert AFTER INSERT ON ownership BEGIN
    UPDATE data_changes_pruned SET pruned = pruned + 1 WHERE id = 1;
END;
CREATE TRIGGER ownership_change_update AFTER UPDATE ON ownership BEGIN
    UPDATE data_changes_pruned SET pruned = pruned + 1 WHERE id = 1;
END;
CREATE TRIGGER ownership_change_delete AFTER DELETE ON ownership BEGIN
    UPDATE data_changes_pruned SET pruned = pruned + 1 WHERE id = 1;
END;
CREATE TRIGGER teams_change_insert AFTER INSERT ON teams BEGIN
    UPDATE data_changes_pruned SET pruned = pruned + 1 WHERE id = 1;
END;
CREATE TRIGGER teams_change_update AFTER UPDATE ON teams BEGIN
    UPDATE data_changes_pruned SET pruned = pruned + 1 WHERE id = 1;
END;
CREATE TRIGGER teams_change_delete AFTER DELETE ON teams BEGIN
    UPDATE data_changes_pruned SET pruned = pruned + 1 WHERE id = 1;
END;
CREATE TRIGGER team_group_paths_change_insert AFTER INSERT ON team_group_paths BEGIN
    UPDATE data_changes_pruned SET pruned = pruned + 1 WHERE id = 1;
END;
CREATE TRIGGER team_group_paths_change_update AFTER UPDATE ON team_group_paths BEGIN
    UPDATE data_changes_pruned SET pruned = pruned + 1 WHERE id = 1;
END;
CREATE TRIGGER team_group_paths_change_delete AFTER DELETE ON team_group_paths BEGIN
    UPDATE data_changes_pruned SET pruned = pruned + 1 WHERE id = 1;
END;

-- Each token's owner team (the one a person set, else the inferred one) in a column of its own,
-- kept by triggers, so the team filter reads an index instead of joining every row's ownership.
ALTER TABLE tokens ADD COLUMN team_id INTEGER;
UPDATE tokens SET team_id = COALESCE((SELECT o.owner_team_id FROM ownership o WHERE o.token_id = tokens.id), inferred_team_id);

CREATE TRIGGER tokens_team_insert AFTER INSERT ON tokens BEGIN
    UPDATE tokens SET team_id = COALESCE((SELECT o.owner_team_id FROM ownership o WHERE o.token_id = new.id), new.inferred_team_id)
    WHERE id = new.id;
END;
CREATE TRIGGER tokens_team_update AFTER UPDATE OF inferred_team_id ON tokens BEGIN
    UPDATE tokens SET team_id = COALESCE((SELECT o.owner_team_id FROM ownership o WHERE o.token_id = new.id), new.inferred_team_id)
    WHERE id = new.id;
END;
CREATE TRIGGER ownership_team_insert AFTER INSERT ON ownership BEGIN
    UPDATE tokens SET team_id = COALESCE(new.owner_team_id, inferred_team_id) WHERE id = new.token_id;
END;
CREATE TRIGGER ownership_team_update AFTER UPDATE OF owner_team_id ON ownership BEGIN
    UPDATE tokens SET team_id = COALESCE(new.owner_team_id, inferred_team_id) WHERE id = new.token_id;
END;
CREATE TRIGGER ownership_team_delete AFTER DELETE ON ownership BEGIN
    UPDATE tokens SET team_id = inferred_team_id WHERE id = old.token_id;
END;

-- Sorts by a column that may be empty order by (empty?, value, id): these indexes hold that
-- order, so a page of a kind or a team by expiry stops after its rows instead of sorting them all.
CREATE INDEX tokens_kind_expiry_order ON tokens (kind, (expires_on IS NULL), expires_on, id);
CREATE INDEX tokens_team_expiry_order ON tokens (team_id, (expires_on IS NULL), expires_on, id);
CREATE INDEX tokens_expiry_order ON tokens ((expires_on IS NULL), expires_on, id);
CREATE INDEX tokens_team_name ON tokens (team_id, LOWER(name), id);
