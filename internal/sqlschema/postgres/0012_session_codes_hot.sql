-- Signet store schema version 12, PostgreSQL: grants_session_codes no
-- longer reads consumed in its predicate. PostgreSQL updates a row in
-- place on its page (a heap-only tuple: no new entry in any index) only
-- when no indexed column changes, and a column an index's predicate reads
-- counts as indexed; so every rotation's UPDATE of consumed (each refresh,
-- each code exchange) wrote a new entry into each of the table's indexes.
-- Now no index reads consumed or revoked. The index keeps every code of a
-- session, used ones too, until the cleaner deletes them (codes live for
-- minutes); the statements that read it still skip the used ones.
DROP INDEX grants_session_codes;
CREATE INDEX grants_session_codes ON grants (session_id, created)
    WHERE kind = 'authorization_code';
