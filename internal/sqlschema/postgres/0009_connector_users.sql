-- Signet store schema version 9, PostgreSQL: the users who signed in
-- through a connector (issue 18): their claims as mapped from the
-- upstream provider (JSON) and the upstream refresh token sealed with the
-- protection secret (package seal; NULL when none was granted), per
-- namespaced subject ("<connector>:<upstream id>").
CREATE TABLE connector_users (
    subject       TEXT        NOT NULL PRIMARY KEY,
    connector     TEXT        NOT NULL,
    claims        JSONB       NOT NULL,
    refresh_token BYTEA,
    updated       TIMESTAMPTZ NOT NULL
);
