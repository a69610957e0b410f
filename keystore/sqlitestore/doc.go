// Package sqlitestore is a [keystore.Store] in a SQLite database file
// (modernc.org/sqlite: pure Go, no cgo), for one server or several
// processes on one host.
//
// [Open] creates the database file (0600, its directory 0700) if needed,
// puts it in WAL mode (kept in the file), sets a busy timeout and foreign
// keys on every connection, and
// applies the embedded migrations of package sqlschema in one transaction,
// recording them in the schema_version table. A database migrated by a
// newer Signet is refused with a [sqlschema.TooNewError]. The schema also
// holds the grants tables of the login flow.
//
// # Capabilities
//
// A Store implements keystore.Locker, keystore.Revisioner and
// keystore.MetaStore; not keystore.Watcher (instances poll Revision).
//
// Locker is an exclusive flock(2) on "<database>.lock" beside the database
// file. It is not a held SQLite write transaction: the lock holder writes
// the key it creates through the store's other connections, and a write
// transaction held by the lock would block exactly those writes. SQLite
// databases are shared only between processes on one host, where flock
// serializes every process and every handle.
//
// Revisioner reads a counter that every write bumps in its own
// transaction (PRAGMA data_version would count only other connections'
// writes).
//
// # Storage
//
// Times are INTEGER microseconds since the Unix epoch, UTC. Writes run in
// BEGIN IMMEDIATE transactions, so concurrent writers queue on the busy
// timeout instead of failing to upgrade a read lock. A database that stays
// locked past the busy timeout, or cannot be opened, gives errors wrapping
// keystore.ErrUnavailable. A row that does not make a valid key.Record
// makes Keys fail with an error wrapping keystore.ErrCorrupt that names
// the kid.
//
// The store also implements grant.Store (authorization codes, refresh
// tokens, sessions, revocations) in the same database. Grant writes do not
// change the key revision and send no key change notification: that signal
// is for keys only.
package sqlitestore
