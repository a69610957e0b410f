-- Signet store schema version 7, SQLite: second factors (package mfa),
-- per subject whatever user source it comes from.
-- mfa_totp: one TOTP secret per subject, sealed with the key-protection
-- secrets; confirmed_us NULL while the enrolment is pending; last_step is
-- the time step of the last code accepted (no code is accepted twice).
CREATE TABLE mfa_totp (
    subject      TEXT    NOT NULL PRIMARY KEY,
    secret       BLOB    NOT NULL,
    created_us   INTEGER NOT NULL,
    confirmed_us INTEGER,
    last_step    INTEGER NOT NULL DEFAULT 0
) STRICT;
-- mfa_recovery_codes: the SHA-256 hashes of the unused recovery codes;
-- a code is deleted when used.
CREATE TABLE mfa_recovery_codes (
    subject   TEXT NOT NULL,
    code_hash BLOB NOT NULL,
    PRIMARY KEY (subject, code_hash)
) STRICT;
