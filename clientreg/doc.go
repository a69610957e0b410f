// Package clientreg is the store-backed registry of clients and API
// resources: the records Signet keeps beside its keys (SQLite,
// PostgreSQL, memory) for clients and APIs added at run time, next to the
// read-only ones of the YAML file.
//
// # Records
//
// A [Client] or [Resource] carries the fields of a clients[] or
// apiResources[] entry of the configuration file, with the same names in
// JSON (clientId, allowedGrantTypes, jwksUri, ...), so that the same rules
// check both (the root package compiles them with the configuration).
// Secrets are kept only as hashes, in the format `signet hash-secret`
// prints (sha256:<hex> or an argon2id PHC string), each with an optional
// expiry: after a rotation the old secret stays valid until its grace
// period ends, the new one from the start.
//
// Every record has [Meta]: a Revision that changes with every write (an
// ETag for optimistic concurrency: Update and Delete with a revision that
// is no longer current fail with [ErrConflict]), when and by whom it was
// created and last changed, and, for clients registered dynamically
// (RFC 7592), the hash of their registration access token.
//
// # Store
//
// [Store] is the capability a key store offers when it can keep the
// registry; the opened key store provides it through [Provider], found by
// type assertion as grant.Store is. Every write goes with an [AuditEntry]
// in the same transaction: who, what, when, and the record before and after
// without any secret or hash ([Redact]). Lists and the audit log are read
// by pages ([Page]).
//
// The change signal is the store's [Store.Mark]: a counter that grows
// with every write by any process. A server polls it (every
// [DefaultPollInterval]) and recompiles its clients when it moves, as the
// key manager polls keystore.Revisioner, so that a change made on one
// instance, by the CLI or the admin API, reaches every instance within a
// second.
//
// [Reserve] wraps a Store so that ids defined in the YAML file are refused
// with [ErrReserved], whose message names the file.
//
// [NewMemory] is the in-memory Store (memstore and tests); regtest is the
// conformance suite every implementation passes.
package clientreg
