-- Signet store schema version 6, PostgreSQL: the users kept in the store
-- (signet users add/import), beside the configuration's read-only users.
-- password_hash is a PHC string: argon2id, or bcrypt as imported (upgraded
-- to argon2id at the next sign-in). claims is a JSON object.
CREATE TABLE users (
    subject       text        NOT NULL PRIMARY KEY,
    username      text        NOT NULL UNIQUE,
    password_hash text        NOT NULL,
    claims        text        NOT NULL,
    disabled      boolean     NOT NULL,
    created       timestamptz NOT NULL,
    updated       timestamptz NOT NULL
);
