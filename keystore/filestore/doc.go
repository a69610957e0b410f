// Package filestore is a [keystore.Store] that keeps each key in a JSON
// file under a directory (the keyPath option), for a single server or
// several processes on one host.
//
// # Layout
//
//	<dir>/              created 0700
//	    <kid>.json      one record per key, 0600
//	    meta.json       keystore.MetaStore values, 0600
//	    revision        a random token replaced after every write, 0600
//	    .lock           flock(2) held by keystore.Locker
//	    .write.lock     flock(2) held for the length of each write
//	    .tmp-*          files being written; removed at Open if stale
//
// Every file is written to a temporary file in the directory, synced,
// renamed over its name, and the directory synced: a reader sees the old
// file or the new one, never a part. Writes from every handle and every
// process are serialized by .write.lock, so "create only if absent" and
// "update only if present" hold across processes.
//
// A kid must be a safe file name: letters, digits, '-', '_' and '.', not
// starting with '.', at most 200 bytes, and not "meta" (in any case, for
// case-insensitive file systems). Others are refused with an error
// wrapping key.ErrInvalidRecord.
//
// A record file that cannot be read back makes Keys fail with an error
// wrapping keystore.ErrCorrupt that names the file; nothing is deleted.
// Times are stored in UTC with microsecond precision (RFC 3339).
//
// A Store implements keystore.Locker (an exclusive flock on .lock, which
// serializes every handle and process on the host), keystore.Revisioner
// (the revision token and the directory's modification time, so a file
// added or removed by hand is noticed too) and keystore.MetaStore. It does
// not implement keystore.Watcher: instances poll Revision.
//
// The directory must be on a local file system: flock(2) is not reliable
// across hosts on every network file system. Several hosts need the SQL
// stores.
package filestore
