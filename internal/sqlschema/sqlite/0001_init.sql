-- Signet store schema version 1, SQLite.
-- Times are INTEGER microseconds since the Unix epoch (UTC); NULL means unset.

CREATE TABLE signing_keys (
    kid             TEXT    NOT NULL PRIMARY KEY,
    algorithm       TEXT    NOT NULL,
    created_us      INTEGER NOT NULL,
    signs_from_us   INTEGER NOT NULL,
    retires_at_us   INTEGER NOT NULL,
    delete_after_us INTEGER NOT NULL,
    revoked_us      INTEGER,
    x509            INTEGER NOT NULL CHECK (x509 IN (0, 1)),
    certificate     BLOB,
    protection      TEXT    NOT NULL,
    private_key     BLOB    NOT NULL
) STRICT;

CREATE TABLE store_meta (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- One row, bumped in the same transaction as every write to signing_keys
-- or store_meta.
CREATE TABLE store_revision (
    id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
) STRICT;
INSERT INTO store_revision (id, revision) VALUES (1, 0);

-- Grants of the login flow. id is a hash of the handle given to the client,
-- never the handle itself.
CREATE TABLE grants (
    id          TEXT    NOT NULL PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('authorization_code', 'refresh_token', 'session', 'revocation')),
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
CREATE INDEX grants_expires ON grants (expires_us);
CREATE INDEX grants_family ON grants (family_id) WHERE family_id IS NOT NULL;
CREATE INDEX grants_session ON grants (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX grants_subject ON grants (subject, client_id);
