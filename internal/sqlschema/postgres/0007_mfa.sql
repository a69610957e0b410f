-- Signet store schema version 7, PostgreSQL: second factors (package
-- mfa), per subject whatever user source it comes from.
-- mfa_totp: one TOTP secret per subject, sealed with the key-protection
-- secrets; confirmed NULL while the enrolment is pending; last_step is
-- the time step of the last code accepted (no code is accepted twice,
-- across every instance: the update is conditional on it).
CREATE TABLE mfa_totp (
    subject   text        NOT NULL PRIMARY KEY,
    secret    bytea       NOT NULL,
    created   timestamptz NOT NULL,
    confirmed timestamptz,
    last_step bigint      NOT NULL DEFAULT 0
);
-- mfa_recovery_codes: the SHA-256 hashes of the unused recovery codes;
-- a code is deleted when used.
CREATE TABLE mfa_recovery_codes (
    subject   text  NOT NULL,
    code_hash bytea NOT NULL,
    PRIMARY KEY (subject, code_hash)
);
