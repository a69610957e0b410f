// Package dpop verifies and makes DPoP proofs (OAuth 2.0 Demonstrating
// Proof of Possession, RFC 9449): the token endpoint uses it to bind the
// tokens it issues to a client's key, and APIs use it to check that the
// caller of a DPoP-bound Signet access token holds that key. It does not
// depend on the server, so an API imports only this package and go-jose.
//
// # Verifying a proof
//
// A [Verifier] checks a proof per RFC 9449 section 4.3, cheapest rules
// first and the signature last: at most [MaxProofSize] bytes and exactly
// one DPoP header ([FromHeader]); a compact JWS whose typ is dpop+jwt;
// alg from an allowlist ([DefaultAlgorithms]: ES256, PS256, RS256, EdDSA;
// none and HS* cannot be configured); a jwk header holding a public key
// (private members are refused) of the alg's type (RSA 2048 to 8192
// bits); jti of 1 to [MaxJTILength] bytes; htm equal to the request
// method; htu equal to the request URI after [NormalizeURI] (query and
// fragment ignored, scheme and host case and default ports normalized);
// iat within ±Config.Window of the verifier's clock ([DefaultWindow], 60
// s); ath equal to [AccessTokenHash] of the access token when one is
// presented; and the nonce when the verifier has [Nonces]. The result is a
// [Proof] with the key's RFC 7638 [Thumbprint] (the jkt of cnf).
//
// Every refusal is an error of one class, matched with errors.Is:
// [ErrInvalidProof] (answer invalid_dpop_proof), [ErrUseNonce] (answer
// use_dpop_nonce with a fresh DPoP-Nonce header) or [ErrInvalidToken];
// and of the rule it broke ([ErrHTM], [ErrIssuedAt], ...). [ErrorCode]
// and [Description] give the code and a fixed text that never echoes what
// the client sent.
//
// # Replay
//
// A proof's jti is single use for as long as the proof is accepted
// ([Proof.Expires] = iat + window). Verify does not record it: a proof is
// self-signed, so anyone can make valid ones, and recording before the
// request is authenticated would let an unauthenticated flood store
// rows. Verify first, authenticate the client or the access token, then
// call [MarkUsed] with a [Replay]: [MemoryReplay] for one process, a
// shared store for a cluster.
//
// # Nonces
//
// [Nonces] issues server nonces without storing them: an HMAC of the
// current time period under a secret that every instance of a cluster
// shares, accepted for the current and previous period, so a nonce from
// one instance is accepted by every other and nonces rotate by
// themselves.
//
// # Resources
//
// An API reads the token with [AccessToken], verifies the JWT itself
// (signature against Signet's JWKS, iss, aud, exp) and takes its cnf.jkt,
// then calls [Verifier.VerifyResource] and [MarkUsed]; on a refusal
// [Verifier.WriteError] answers 401 with a `WWW-Authenticate: DPoP`
// challenge ([Challenge]). docs/dpop.md walks through it.
//
// # Clients
//
// A [Prover] makes proofs with a crypto.Signer.
package dpop
