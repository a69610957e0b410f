-- Signet store schema version 8, PostgreSQL: remembered consent (a user
-- let a client have these scopes; asked again for any other scope;
-- revocable) and the last activity of login sessions
-- (session.idleTimeout).
CREATE TABLE consents (
    subject   text        NOT NULL,
    client_id text        NOT NULL,
    scopes    text        NOT NULL, -- space-separated, sorted
    granted   timestamptz NOT NULL,
    PRIMARY KEY (subject, client_id)
);
CREATE TABLE session_activity (
    session_id text        NOT NULL PRIMARY KEY, -- the session grant's id
    seen       timestamptz NOT NULL
);
CREATE INDEX session_activity_seen ON session_activity (seen);
