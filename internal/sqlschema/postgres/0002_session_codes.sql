-- Signet store schema version 2, PostgreSQL.
-- A login session's unredeemed authorization codes, newest first: issuing
-- a code keeps at most a bounded number of them per session, and ending
-- the session deletes them.
CREATE INDEX grants_session_codes ON grants (session_id, created)
    WHERE kind = 'authorization_code' AND consumed IS NULL;
