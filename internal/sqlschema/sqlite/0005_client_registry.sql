-- Signet store schema version 5, SQLite: the client registry (package
-- clientreg). Clients and API resources added at run time (the CLI, the
-- admin API, dynamic registration) are kept as JSON records (secrets only
-- as hashes) keyed by kind and id; every change is written to the audit
-- log in the same transaction, numbered by the change marker, which grows
-- with every write and tells every instance to recompile its clients.
CREATE TABLE registry_records (
    kind   TEXT NOT NULL CHECK (kind = 'client' OR kind = 'resource'),
    id     TEXT NOT NULL,
    record TEXT NOT NULL, -- JSON: clientreg.Client or clientreg.Resource
    PRIMARY KEY (kind, id)
) STRICT;
CREATE TABLE registry_audit (
    seq    INTEGER NOT NULL PRIMARY KEY, -- the change marker of the write
    at_us  INTEGER NOT NULL,
    actor  TEXT    NOT NULL, -- a client_id, 'cli' or 'dynamic'
    action TEXT    NOT NULL,
    kind   TEXT    NOT NULL,
    id     TEXT    NOT NULL,
    before TEXT    NOT NULL, -- JSON without secrets or hashes; 'null' for a create
    after  TEXT    NOT NULL  -- 'null' for a delete
) STRICT;
CREATE INDEX registry_audit_record ON registry_audit (kind, id, seq);
CREATE TABLE registry_mark (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    mark INTEGER NOT NULL
) STRICT;
INSERT INTO registry_mark (id, mark) VALUES (1, 0);
