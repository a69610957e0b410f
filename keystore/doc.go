// Package keystore defines where managed keys live: the [Store] interface,
// its optional capabilities ([Locker], [Revisioner], [Watcher],
// [MetaStore]) and its sentinel errors.
//
// Backends live in sub-packages (memstore, filestore, sqlitestore,
// pgstore); package storetest is the conformance suite every backend must
// pass. The manager finds the optional capabilities by type assertion.
//
// # Contract
//
// Every Store is safe for concurrent use by many goroutines, honours ctx,
// and returns errors that wrap the sentinels below where they apply:
// [ErrNotFound] for a kid it does not hold, [ErrExists] when creating a kid
// it already holds. A Store never returns (nil, nil) for something missing.
// Records go in and come out whole: a reader never sees a half-written
// record. Times are kept to the microsecond at least; stores that persist
// return them in UTC. A Locker's ctx bounds only the wait for the lock, not
// how long it is held: the lock is held until the returned unlock is called. Stores hold records as given (sealed private keys); they never
// decrypt or generate keys.
package keystore
