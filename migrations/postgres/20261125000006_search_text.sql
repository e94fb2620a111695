-- What the inventory's search reads: name, path, account and purpose, lower-cased, in one column
-- of `tokens`, so a search scans one column of one table. The repository keeps it up to date.
-- Same schema as migrations/sqlite.
ALTER TABLE tokens ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

UPDATE tokens SET search_text = LOWER(name || ' ' || container_path || ' ' || COALESCE(account_username, '') || ' '
    || COALESCE((SELECT o.purpose FROM ownership o WHERE o.token_id = tokens.id), ''));
