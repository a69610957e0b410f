// Package userstoretest is the conformance suite of userstore.Store: the
// memory, SQLite and PostgreSQL stores run it in their tests.
package userstoretest
