// Package privatekeyjwt authenticates OAuth 2.0 clients by a JWT they sign
// with their own private key: the private_key_jwt method of OpenID Connect
// Core section 9, profiled by RFC 7523 section 3. The client sends
//
//	client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
//	client_assertion=<JWS>
//
// and the server checks it with a [Verifier]:
//
//	a, err := v.Parse(form.Get("client_assertion")) // bounded, no key needed
//	c := lookUp(a.ClientID())                        // the server's clients
//	claims, err := v.Verify(ctx, a, privatekeyjwt.Client{ID: c.ID, Keys: c.Keys})
//
// # Rules
//
// An assertion is accepted only when all of these hold; each refusal wraps
// the sentinel error named:
//
//   - it is at most Options.MaxSize bytes (8 KiB) before any parsing ([ErrTooLarge]);
//   - its alg is in the allowlist: RS256, PS256, ES256 and EdDSA by default,
//     narrowed per client by Client.Algorithms; none and HS* can never be
//     allowed, since [key.Algorithm] cannot name them ([ErrAlgorithm]);
//   - iss and sub both equal the client_id ([ErrIssuer], [ErrSubject]);
//   - aud (a string, or an array containing one of them) is the issuer
//     identifier or one of Options.Audiences, such as the token endpoint URL
//     RFC 7523 allows; with Client.IssuerAudienceOnly (the FAPI 2.0 Security
//     Profile) only the issuer ([ErrAudience]);
//   - exp is present, not past, and at most Options.MaxLifetime (5 minutes)
//     ahead; nbf and iat, when present, are not in the future; all with
//     Options.Leeway (30 s) for clock skew ([ErrExpired], [ErrLifetime],
//     [ErrNotYetValid]);
//   - jti is present ([ErrMissingJTI]);
//   - the signature verifies with one of the client's keys: the key with
//     the header's kid, or without a kid the client's keys that fit the
//     algorithm, at most four tried ([ErrUnknownKey], [ErrSignature]);
//   - the jti was not used before: [Replay.UseOnce] remembers it until exp
//     ([ErrReplayed]). Only an assertion whose signature verified reaches
//     the Replay, so unauthenticated requests store nothing.
//
// # Client keys
//
// A client's public keys are a [KeySet]: inline in the configuration
// ([ParseKeySet], [StaticKeySet]) or published at a jwks_uri ([Remote]).
// [ParseKeySet] is also what `signet config check` runs: public keys only
// (a JWK with private parts is refused, naming its kid), kids unique, at
// most 32 keys, every signing key's alg in the allowlist and its key type
// fitting that alg (RSA of at least 2048 bits, P-256 for ES256, Ed25519 for
// EdDSA). Keys with "use": "enc" are skipped: they never verify assertions.
//
// A [Remote] caches each jwks_uri by its HTTP cache headers (Cache-Control
// max-age, else Expires; clamped between RemoteOptions.MinCache and
// MaxCache), fetches at most once per RemoteOptions.RefetchInterval per URI
// (an unknown kid triggers a re-fetch only then), shares one fetch among
// concurrent callers, bounds the response (64 KiB) and its time (5 s), and
// keeps serving the last good set for RemoteOptions.MaxStale when a refresh
// fails. These are the rules Signet asks relying parties to follow for its
// own JWKS. Only https URIs are fetched, or http to a loopback host
// (localhost, 127.0.0.0/8, ::1) for development and tests ([CheckURI]).
//
// # Replay
//
// [Replay] is one method, so a server can remember jtis in a store shared
// by every instance (a jti used at one instance is then refused at all).
// [MemoryReplay] is a bounded in-process implementation for tests, single
// instances and library users.
package privatekeyjwt
