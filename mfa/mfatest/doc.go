// Package mfatest is the conformance suite of mfa.Store implementations:
// the memory, SQLite and PostgreSQL stores run it.
package mfatest
