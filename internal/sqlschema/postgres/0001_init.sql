-- Signet store schema version 1, PostgreSQL.
-- Times are timestamptz (microsecond precision); NULL means unset.

CREATE TABLE signing_keys (
    kid          text        NOT NULL PRIMARY KEY,
    algorithm    text        NOT NULL,
    created      timestamptz NOT NULL,
    signs_from   timestamptz NOT NULL,
    retires_at   timestamptz NOT NULL,
    delete_after timestamptz NOT NULL,
    revoked      timestamptz,
    x509         boolean     NOT NULL,
    certificate  bytea,
    protection   text        NOT NULL,
    private_key  bytea       NOT NULL
);

CREATE TABLE store_meta (
    name  text NOT NULL PRIMARY KEY,
    value text NOT NULL
);

-- One row, bumped in the same transaction as every write to signing_keys
-- or store_meta.
CREATE TABLE store_revision (
    id       integer NOT NULL PRIMARY KEY CHECK (id = 1),
    revision bigint  NOT NULL
);
INSERT INTO store_revision (id, revision) VALUES (1, 0);

-- Grants of the login flow. id is a hash of the handle given to the client,
-- never the handle itself.
CREATE TABLE grants (
    id         text        NOT NULL PRIMARY KEY,
    kind       text        NOT NULL CHECK (kind IN ('authorization_code', 'refresh_token', 'session', 'revocation')),
    client_id  text        NOT NULL,
    subject    text        NOT NULL DEFAULT '',
    family_id  text,       -- refresh-token rotation family: reuse revokes the family
    session_id text,       -- login session: ending it revokes its grants
    data       bytea       NOT NULL,
    created    timestamptz NOT NULL,
    expires    timestamptz NOT NULL,
    consumed   timestamptz,
    revoked    timestamptz
);
CREATE INDEX grants_expires ON grants (expires);
CREATE INDEX grants_family ON grants (family_id) WHERE family_id IS NOT NULL;
CREATE INDEX grants_session ON grants (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX grants_subject ON grants (subject, client_id);
