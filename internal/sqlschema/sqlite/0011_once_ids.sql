-- Signet store schema version 11, SQLite: used one-time identifiers (the
-- jti of client assertions, DPoP proofs and request objects, kept until
-- their token expires) get a table of their own. In grants, each claim
-- wrote a row of eleven columns and entries in four b-trees (the table,
-- its primary key, grants_expires and grants_subject); here it writes a
-- row of three columns, its primary key entry and its expiry index entry.
-- A rowid table rather than WITHOUT ROWID: the expiry index then holds
-- (expires_us, rowid), appended in time order, not the 64-character key,
-- which wrote 1.7 times as many WAL pages per claim when measured.
-- The identifiers stored in grants so far are moved here, with their
-- times, in this migration's transaction: none is lost, so none can be
-- used again before it expires.
CREATE TABLE once_ids (
    id         TEXT    NOT NULL PRIMARY KEY,
    created_us INTEGER NOT NULL,
    expires_us INTEGER NOT NULL
) STRICT;
CREATE INDEX once_ids_expires ON once_ids (expires_us);
INSERT INTO once_ids (id, created_us, expires_us)
    SELECT id, created_us, expires_us FROM grants WHERE kind = 'jti';
DELETE FROM grants WHERE kind = 'jti';
