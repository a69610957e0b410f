// Package grant defines what the login flows persist: authorization codes,
// refresh tokens, login sessions, revoked access tokens, used one-time
// identifiers ([UseOnce], [ReplayCache]) and pushed authorization requests,
// and the [Store] that keeps them. Backends (memstore, sqlitestore, pgstore)
// implement it beside keystore.Store, so grants live in the same store as
// the keys; package granttest is the conformance suite.
//
// A grant is stored under the hash of the handle given to the client
// ([HashHandle]), never the handle itself, so a read of the database does
// not yield usable codes or refresh tokens.
package grant
