-- Signet store schema version 5, PostgreSQL: the client registry (package
-- clientreg). Clients and API resources added at run time (the CLI, the
-- admin API, dynamic registration) are kept as JSON records (secrets only
-- as hashes) keyed by kind and id; every change is written to the audit
-- log in the same transaction, numbered by the change marker. Every write
-- first increments registry_mark, whose row lock serializes the writes of
-- all instances, so the marker and the audit numbers follow commit order.
CREATE TABLE registry_records (
    kind   TEXT NOT NULL CHECK (kind = 'client' OR kind = 'resource'),
    id     TEXT COLLATE "C" NOT NULL, -- listed in byte order, as SQLite and memory do
    record TEXT NOT NULL, -- JSON: clientreg.Client or clientreg.Resource
    PRIMARY KEY (kind, id)
);
CREATE TABLE registry_audit (
    seq    BIGINT      NOT NULL PRIMARY KEY, -- the change marker of the write
    at     TIMESTAMPTZ NOT NULL,
    actor  TEXT        NOT NULL, -- a client_id, 'cli' or 'dynamic'
    action TEXT        NOT NULL,
    kind   TEXT        NOT NULL,
    id     TEXT        NOT NULL,
    before TEXT        NOT NULL, -- JSON without secrets or hashes; 'null' for a create
    after  TEXT        NOT NULL  -- 'null' for a delete
);
CREATE INDEX registry_audit_record ON registry_audit (kind, id, seq);
CREATE TABLE registry_mark (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    mark BIGINT  NOT NULL
);
INSERT INTO registry_mark (id, mark) VALUES (1, 0);
