-- Signet store schema version 12, SQLite: grants_session_codes no longer
-- reads consumed_us in its predicate, as in PostgreSQL (where that made
-- every rotation's UPDATE write a new entry into each index of grants).
-- In SQLite it spares the rotation's UPDATE of a code this index's
-- maintenance. The index keeps every code of a session, used ones too,
-- until the cleaner deletes them (codes live for minutes); the statements
-- that read it still skip the used ones.
DROP INDEX grants_session_codes;
CREATE INDEX grants_session_codes ON grants (session_id, created_us)
    WHERE kind = 'authorization_code';
