-- The inventory's default order (by name, case-insensitive, then id) and the path order read
-- straight from an index, so the first page and deep pages do not sort every token. Same schema
-- as migrations/sqlite.
CREATE INDEX tokens_name_lower ON tokens (LOWER(name), id);
CREATE INDEX tokens_path_id ON tokens (container_path, id);
CREATE INDEX tokens_kind_id ON tokens (kind, id);
