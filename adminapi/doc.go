// Package adminapi is Signet's admin API under /admin/v1/: REST and JSON
// over the store-backed registry (package clientreg) of clients and API
// resources, a read-only view of the signing keys (what `signet keys list
// --json` shows, never key material) and the audit log.
//
// Every request is authorised by an access token Signet itself issued
// for the audience signet-admin (package adminauth): signet.admin.read
// reads, signet.admin.write changes. Every change goes through the
// registry's Store, which writes it to the audit log with the token's
// client_id as its author.
//
// Concurrency is optimistic: every record has an ETag (its revision);
// PUT and DELETE must send If-Match (428 Precondition Required without
// it) and get 412 Precondition Failed when the record changed since.
// Lists are paged by cursor: ?limit=N (default 100, at most 1000) and
// ?cursor= the "next" of the previous page, which the answer also gives
// as a Link rel="next" header; the last page has no "next".
//
// The API is described by docs/admin-api.yaml (OpenAPI 3.1), which a
// test checks against these handlers.
package adminapi
