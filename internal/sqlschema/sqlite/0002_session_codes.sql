-- Signet store schema version 2, SQLite.
-- A login session's unredeemed authorization codes, newest first: issuing
-- a code keeps at most a bounded number of them per session, and ending
-- the session deletes them.
CREATE INDEX grants_session_codes ON grants (session_id, created_us)
    WHERE kind = 'authorization_code' AND consumed_us IS NULL;
