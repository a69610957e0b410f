// Package consent keeps remembered consent: a user let a client have
// some scopes, so the consent page is not shown again for them (a new
// scope asks again), until the user or an operator revokes it. It also
// defines the store of login-session activity behind session.idleTimeout.
//
// The stores of package keystore (memstore, sqlitestore, pgstore)
// implement [Store] and [ActivityStore]; the server finds them by type
// assertion on the opened store, as it finds grant.Store.
package consent
