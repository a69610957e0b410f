-- Signet store schema version 3, SQLite: counters of the abuse budgets
-- (the PostgreSQL store uses them so budgets hold across a cluster; a
-- SQLite server counts in memory and leaves this table empty). key is a
-- hash of what is counted, never the value itself.
CREATE TABLE attempts (
    key        TEXT    NOT NULL PRIMARY KEY,
    count      INTEGER NOT NULL,
    expires_us INTEGER NOT NULL
) STRICT;
CREATE INDEX attempts_expires ON attempts (expires_us);
