-- Signet store schema version 8, SQLite: remembered consent (a user let a
-- client have these scopes; asked again for any other scope; revocable)
-- and the last activity of login sessions (session.idleTimeout).
CREATE TABLE consents (
    subject    TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    scopes     TEXT    NOT NULL, -- space-separated, sorted
    granted_us INTEGER NOT NULL,
    PRIMARY KEY (subject, client_id)
) STRICT;
CREATE TABLE session_activity (
    session_id TEXT    NOT NULL PRIMARY KEY, -- the session grant's id
    seen_us    INTEGER NOT NULL
) STRICT;
CREATE INDEX session_activity_seen ON session_activity (seen_us);
