// Package sqlschema is the SQL schema Signet's database stores share: the
// numbered migrations for SQLite (package sqlitestore) and PostgreSQL
// (package pgstore), embedded in the binary.
//
// Both dialects hold the same logical schema:
//
//	signing_keys    one row per managed key (key.Record)
//	store_meta      small named values beside the keys (keystore.MetaStore)
//	store_revision  one counter row bumped in the same transaction as every
//	                write (keystore.Revisioner)
//	grants          authorization codes, refresh tokens, sessions and
//	                revocations of the login flow, keyed by a hash of their
//	                handle (the store never holds the handle itself)
//
// The table schema_version (one row per applied migration) is created by
// the stores themselves before they read the version, so it is not part of
// any migration.
//
// # Migrations
//
// A migration is a file named NNNN_description.sql under the dialect's
// directory; NNNN is its version, counted from 1 without gaps. Stores apply
// every migration newer than the database's version in one transaction when
// they open it, and refuse a database whose version is newer than the
// binary's ([TooNewError]). A released migration is never edited: a change
// is a new file, in both dialects.
package sqlschema
