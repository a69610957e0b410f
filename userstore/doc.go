// Package userstore keeps people in Signet's store (memory, SQLite,
// PostgreSQL) beside the configuration's read-only users, and serves them
// to the token server as a user.Source.
//
//   - [Store] is the capability of an opened key store that keeps users;
//     find it by type assertion on the store (keystore/memstore,
//     keystore/sqlitestore and keystore/pgstore implement it), as the
//     grant store is found.
//   - [Source] serves a Store as a user.Source and user.Directory:
//     passwords are checked under the server's hashing budget, an unknown
//     username costs what a wrong password costs, and a stored hash whose
//     algorithm (bcrypt, as imported) or argon2id parameters differ from
//     the policy's is replaced at the next successful sign-in. It caches
//     nothing: a user disabled by any instance is inactive everywhere at
//     the next request.
//   - [Policy] is the password policy (NIST SP 800-63B 5.1.1.2): a
//     minimum length, a list of breached passwords the operator supplies,
//     no composition rules, and the argon2id parameters of new hashes.
//
// Disabling or deleting a user also revokes their login sessions,
// refresh tokens and unredeemed codes in the same transaction, so
// enabling them again does not bring old sessions back.
package userstore
