-- Signet store schema version 10, SQLite: WebAuthn passkeys as a second
-- factor (package mfa). Public data only: the credential id and COSE
-- public key; sign_count is the last counter accepted (a lower one is
-- refused: the update is conditional on it).
CREATE TABLE mfa_passkeys (
    credential_id BLOB    NOT NULL PRIMARY KEY,
    subject       TEXT    NOT NULL,
    public_key    BLOB    NOT NULL,
    sign_count    INTEGER NOT NULL,
    attestation   TEXT    NOT NULL,
    aaguid        BLOB    NOT NULL,
    flags         INTEGER NOT NULL,
    created_us    INTEGER NOT NULL
) STRICT;
CREATE INDEX mfa_passkeys_subject ON mfa_passkeys (subject);
