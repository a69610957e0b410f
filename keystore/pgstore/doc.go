// Package pgstore is a [keystore.Store] in PostgreSQL (pgx v5, pgxpool),
// for a cluster of Signet instances on several hosts.
//
// [Open] connects and applies the embedded PostgreSQL migrations of package
// sqlschema in one transaction, recorded in the schema_version table,
// under a session advisory lock so instances starting together migrate
// once. A database migrated by a newer Signet is refused with a
// [sqlschema.TooNewError]. The schema also holds the grants tables of the
// login flow.
//
// Tables live in the connection's current schema (the first existing
// schema of search_path), so one database can hold several independent
// stores: put search_path=name in the DSN. Lock keys and change
// notifications are scoped to that schema.
//
// # Capabilities
//
// A Store implements every optional capability:
//
//   - keystore.Locker: pg_advisory_lock on a connection taken from the pool
//     and kept for as long as the lock is held, then returned. The lock
//     ends with the unlock function, or with the session if the connection
//     breaks.
//   - keystore.Revisioner: a counter row bumped in the same transaction as
//     every write.
//   - keystore.Watcher: LISTEN signet_keys on a dedicated connection (not
//     from the pool); every write sends NOTIFY signet_keys, with the schema
//     as payload, in its transaction.
//   - keystore.MetaStore.
//
// Errors from an unreachable server, a broken connection or a server
// shutting down wrap keystore.ErrUnavailable; authentication and SQL
// errors do not. A row that does not make a valid key.Record makes Keys
// fail with an error wrapping keystore.ErrCorrupt that names the kid.
// Times are timestamptz (microsecond precision) and come back in UTC.
//
// # Tests
//
// The database tests run only when SIGNET_TEST_POSTGRES_DSN points at a
// server; each creates its own schema and drops it afterwards. .ci/run
// starts a local PostgreSQL and sets the variable.
//
// The store also implements grant.Store (authorization codes, refresh
// tokens, sessions, revocations) in the same database. Grant writes do not
// change the key revision and send no key change notification: that signal
// is for keys only.
package pgstore
