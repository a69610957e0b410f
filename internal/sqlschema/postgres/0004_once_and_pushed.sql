-- Signet store schema version 4, PostgreSQL: grants also hold used
-- one-time identifiers ('jti': client assertion, DPoP proof and request
-- object ids, kept until their token expires) and pushed authorization
-- requests ('pushed_authorization_request', RFC 9126, used once).
-- PostgreSQL named the column's check grants_kind_check in version 1; it
-- is replaced in this migration's transaction. The new check allows more
-- than the old one, which every existing row passed, so it is added NOT
-- VALID: new rows are checked, and the table is not scanned while the
-- migration holds its lock.
ALTER TABLE grants DROP CONSTRAINT grants_kind_check;
ALTER TABLE grants ADD CONSTRAINT grants_kind_check
    CHECK (kind IN ('authorization_code', 'refresh_token', 'session', 'revocation', 'jti', 'pushed_authorization_request')) NOT VALID;
