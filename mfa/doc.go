// Package mfa is the second factor of a sign-in: TOTP (RFC 6238) one-time
// codes from an authenticator app, and recovery codes.
//
// A [Store] keeps, per subject (whatever user source the subject comes
// from: YAML users, store users, an upstream provider), one TOTP secret,
// sealed at rest with the key-protection sealer (package seal, as the
// private keys are, bound to the subject), the last time step a code was
// accepted for (a code is never accepted twice, nor an older one), and
// the hashes (SHA-256) of the unused recovery codes. The memory, SQLite
// and PostgreSQL key stores implement it (found by type assertion on the
// opened store).
//
// A [Manager] enrols (a new secret, its otpauth:// URL and QR code as an
// inline SVG, confirmed by a first code, which also makes the recovery
// codes, shown once), verifies codes and recovery codes, and resets a
// subject. Time and randomness are injected.
//
// The codes are the authenticator apps' defaults: SHA-1, 6 digits, a
// 30-second step; a code of the previous or next step is accepted (clock
// drift).
//
// A [PasskeyStore] (found by type assertion on the Store, as the Store on
// the opened key store) keeps WebAuthn passkeys: public keys only, their
// signature counters (conditional updates: a counter never goes back),
// at most [MaxPasskeys] per subject. The WebAuthn ceremonies themselves
// are the server's (go-webauthn).
package mfa
