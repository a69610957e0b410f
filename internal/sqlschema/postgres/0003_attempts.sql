-- Signet store schema version 3, PostgreSQL: counters of the abuse budgets
-- (failed sign-ins and client authentications), shared by every instance
-- so the budgets hold across a cluster. key is a hash of what is counted
-- (a username, client id or address), never the value itself. A row whose
-- window has ended (expires <= now) counts nothing and is deleted.
CREATE TABLE attempts (
    key     text        NOT NULL PRIMARY KEY,
    count   integer     NOT NULL,
    expires timestamptz NOT NULL
);
CREATE INDEX attempts_expires ON attempts (expires);
