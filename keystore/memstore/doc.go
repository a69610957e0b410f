// Package memstore is an in-memory [keystore.Store] for tests and
// throw-away servers. Keys vanish with the process.
//
// A Store implements every optional capability: Locker (a mutex shared by
// every user of the same Store value, so in-process "instances" sharing
// one Store behave like a cluster), Revisioner, Watcher and MetaStore.
package memstore
