-- Signet store schema version 10, PostgreSQL: WebAuthn passkeys as a
-- second factor (package mfa). Public data only: the credential id and
-- COSE public key; sign_count is the last counter accepted (a lower one
-- is refused, across every instance: the update is conditional on it).
CREATE TABLE mfa_passkeys (
    credential_id bytea       NOT NULL PRIMARY KEY,
    subject       text        NOT NULL,
    public_key    bytea       NOT NULL,
    sign_count    bigint      NOT NULL,
    attestation   text        NOT NULL,
    aaguid        bytea       NOT NULL,
    flags         integer     NOT NULL,
    created       timestamptz NOT NULL
);
CREATE INDEX mfa_passkeys_subject ON mfa_passkeys (subject);
