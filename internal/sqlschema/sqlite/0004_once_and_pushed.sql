-- Signet store schema version 4, SQLite: grants also hold used one-time
-- identifiers ('jti': client assertion, DPoP proof and request object ids,
-- kept until their token expires) and pushed authorization requests
-- ('pushed_authorization_request', RFC 9126, used once).
-- SQLite cannot alter a column's check, so the table is rebuilt as its
-- documentation describes (https://www.sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"): a new table is created,
-- every row copied, the old one removed, the new one renamed, and the
-- indexes of versions 1 and 2 created again, all in the migration's
-- transaction. No trigger, view or foreign key refers to grants.
CREATE TABLE grants_v4 (
    id          TEXT    NOT NULL PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('authorization_code', 'refresh_token', 'session', 'revocation', 'jti', 'pushed_authorization_request')),
    client_id   TEXT    NOT NULL,
    subject     TEXT    NOT NULL DEFAULT '',
    family_id   TEXT,   -- refresh-token rotation family: reuse revokes the family
    session_id  TEXT,   -- login session: ending it revokes its grants
    data        BLOB    NOT NULL,
    created_us  INTEGER NOT NULL,
    expires_us  INTEGER NOT NULL,
    consumed_us INTEGER,
    revoked_us  INTEGER
) STRICT;
INSERT INTO grants_v4 (id, kind, client_id, subject, family_id, session_id, data, created_us, expires_us, consumed_us, revoked_us)
    SELECT id, kind, client_id, subject, family_id, session_id, data, created_us, expires_us, consumed_us, revoked_us FROM grants;
DROP TABLE grants;
ALTER TABLE grants_v4 RENAME TO grants;
CREATE INDEX grants_expires ON grants (expires_us);
CREATE INDEX grants_family ON grants (family_id) WHERE family_id IS NOT NULL;
CREATE INDEX grants_session ON grants (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX grants_subject ON grants (subject, client_id);
CREATE INDEX grants_session_codes ON grants (session_id, created_us)
    WHERE kind = 'authorization_code' AND consumed_us IS NULL;
