-- Signet store schema version 6, SQLite: the users kept in the store
-- (signet users add/import), beside the configuration's read-only users.
-- password_hash is a PHC string: argon2id, or bcrypt as imported (upgraded
-- to argon2id at the next sign-in). claims is a JSON object.
CREATE TABLE users (
    subject       TEXT    NOT NULL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    claims        TEXT    NOT NULL,
    disabled      INTEGER NOT NULL,
    created_us    INTEGER NOT NULL,
    updated_us    INTEGER NOT NULL
) STRICT;
