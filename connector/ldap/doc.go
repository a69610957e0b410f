// Package ldap signs people in against an LDAP directory or Active
// Directory: a connector that implements package user's interfaces
// (user.Source), so that the token server does not know where a user
// came from (docs/connectors.md).
//
// # Sign-in
//
// [Connector.Authenticate] takes a connection of a small pool, bound as
// the service account (Config.BindDN), and searches
// Config.UserSearch.BaseDN (subtree) with
//
//	(&<userSearch.filter>(<userSearch.username>=<the username, escaped>)[(!<userSearch.disabledFilter>)])
//
// The username is escaped with ldap.EscapeFilter, so that "*", ")(uid=*"
// or a NUL byte are matched as the characters they are; a username with
// control characters, invalid UTF-8 or more than 256 bytes is refused
// before any search. When the search finds no entry or more than one
// (an ambiguous username is never resolved), the connector binds once
// with a DN that does not exist and refuses, so that an unknown username
// costs the round trips of a wrong password. Otherwise it binds as the
// entry's DN with the password (an empty password is refused first: to
// LDAP it would be an unauthenticated bind, which succeeds), binds the
// connection back as the service account and returns the subject.
//
// # Subjects
//
// A subject is "<connector id>:<id>", where id is the value of
// Config.UserSearch.IDAttr (entryUUID by default; objectGUID on Active
// Directory, written as its GUID string). It does not change when a user
// is renamed or moved, and the same person through two connectors is two
// subjects.
//
// # Disabled users
//
// An entry is disabled, and so neither signs in nor is [Connector.Active]
// (a refresh stops at the next refresh), when
//   - it has pwdAccountLockedTime 000001010000Z (OpenLDAP's ppolicy:
//     locked by an administrator; a temporary lockout after failed
//     binds is left to the directory's bind, so that guessing a user's
//     password cannot end their sessions);
//   - nsAccountLock is TRUE (389 Directory Server, FreeIPA);
//   - userAccountControl has the ACCOUNTDISABLE bit 0x2 (Active
//     Directory);
//   - or it matches Config.UserSearch.DisabledFilter (an operator's own
//     rule, e.g. "(employeeType=disabled)"; the search excludes it).
//
// # Records
//
// With Options.Store (connector.Store, the records every connector
// keeps in Signet's database), a sign-in records the user's claims and
// groups; Active answers from the record, and asks the directory only
// at a refresh (user.IsRefresh), which updates the record or, for a
// user gone or disabled, deletes it: a disabled account stops
// refreshing within one refresh, while sessions and userinfo do not
// depend on the directory. Without a Store every Active and Claims
// searches the directory.
//
// # Budgets
//
// [Connector.CanonicalUsername] is the username as the directory
// matches it (case and surrounding spaces ignored): the server counts a
// username's login attempts under it, so that "ALICE" and "alice" share
// one budget.
//
// # Outages
//
// Every connection is dialled with Config.DialTimeout and every call
// (Authenticate, Active, Claims) is bounded by Config.Timeout, also while
// it waits for a pooled connection. A connection that failed is closed
// and replaced, and an operation that met a broken idle connection (a
// directory restarted since) is tried once more on a new one. When the
// directory cannot answer, the connector returns user.ErrUnavailable
// (the login page says to try again, a refresh answers 503) and counts
// signet_connector_errors_total{connector,kind} (the Kind constants)
// when given a connector.Metrics.
//
// # TLS
//
// ldaps:// connects with TLS; ldap:// upgrades with StartTLS before
// anything is sent. Certificates are verified against the system roots or
// Config.CAFile. Plain LDAP needs Config.InsecureNoTLS: passwords then
// cross the network in clear.
package ldap
