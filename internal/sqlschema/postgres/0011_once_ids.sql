-- Signet store schema version 11, PostgreSQL: used one-time identifiers
-- (the jti of client assertions, DPoP proofs and request objects, kept
-- until their token expires) get a table of their own: a claim writes a
-- row of three columns, its primary key entry and its expiry index entry,
-- instead of a row of eleven columns in grants and entries in its primary
-- key and its indexes. The identifiers stored in grants so far are moved
-- here, with their times, in this migration's transaction: none is lost,
-- so none can be used again before it expires. An instance of an older
-- version still running refuses the newer schema; a claim it made in
-- grants meanwhile keeps its id refused until the cleaner deletes it.
CREATE TABLE once_ids (
    id      text        NOT NULL PRIMARY KEY,
    created timestamptz NOT NULL,
    expires timestamptz NOT NULL
);
CREATE INDEX once_ids_expires ON once_ids (expires);
INSERT INTO once_ids (id, created, expires)
    SELECT id, created, expires FROM grants WHERE kind = 'jti';
DELETE FROM grants WHERE kind = 'jti';
