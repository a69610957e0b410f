// Package user holds the interfaces through which Signet's token server
// (package server) finds the people who sign in: what Duende
// IdentityServer calls the user store and the profile service.
//
//   - An [Authenticator] checks a username and a password and names the
//     subject. The server calls it from its login page (or from a custom
//     login page, through server.LoginRequest.CheckPassword), always
//     inside its login attempt budgets: the attempts of an address and of
//     a username are counted whatever the source.
//   - [Profiles] answers for a subject: is the user still [Profiles.Active]
//     (checked when a login session is read, at code exchange, at every
//     refresh and at userinfo), and which [Profiles.Claims] a scope
//     releases (userinfo, and the ID token).
//   - A [Source] is both. server.Config.UserSource takes one; without it
//     the server's users are the static list server.Config.Users (the
//     YAML users), which implements the same interfaces.
//
// A source that signs people in some other way than by password (a
// federated login, a passkey, a second factor) does it on a login page
// of its own (server.Config.Login) and hands the server the subject;
// its Authenticate returns [ErrInvalidCredentials].
//
// # Errors
//
// Authenticate returns [ErrInvalidCredentials] (wrapped or not) for an
// unknown user, a wrong password or a user who may not sign in, and the
// server counts it as a failed attempt; [ErrUnavailable] when the source
// could not answer (a directory or a database down, a hashing budget
// full), and the server gives the attempt back and answers 503. Any other
// error is counted as a failure and answered 503.
//
// # Timing
//
// An unknown username must cost what a wrong password costs, or the time
// of an answer tells which usernames exist: verify the password against
// a dummy hash of the same cost (clientauth.Secret.Dummy). Verify under
// the process's hashing budget (throttle.Hashing, shared with the server
// through server.Config.Hashing) so that password hashing stays bounded
// in memory.
//
// Implementations must be safe for concurrent use.
package user
