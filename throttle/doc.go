// Package throttle holds Signet's abuse budgets: how many password
// hashes run at once (Hashing) and how many failed attempts a key (a
// username, a client id, an address, or a pair of them) may make in a
// window (Limiter over a Store).
//
// # Hashing
//
// Every argon2id verification takes its memory from one process-wide
// [Hashing] budget before it runs, so the memory that password hashing can
// use is bounded whatever the number of clients, users and cores. A caller
// whose context ended gives up its place; when too many wait, Acquire
// fails at once with [ErrBusy] and the caller answers "try again shortly".
//
// # Attempts
//
// A [Limiter] reserves an attempt on each of its keys before the expensive
// check runs, so attempts in flight count: N concurrent guesses against a
// budget of 5 get 5 verified and N-5 refused. A success gives the attempt
// back (and may reset a key); a failure keeps it until the window ends.
// The counts live in a [Store]: [Memory] in one process, or a table shared
// by every instance of a cluster (keystore/pgstore). Memory is bounded:
// when its table is full of live entries, a new key is refused rather than
// a live one forgotten, so no lockout is ever released early.
package throttle
