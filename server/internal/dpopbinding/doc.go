// Package dpopbinding is where the server checks DPoP (RFC 9449): the
// proof of a token request, which binds the tokens issued to the proof's
// key (cnf.jkt, token_type DPoP), and the proof that accompanies a
// DPoP-bound access token at userinfo. It turns package dpop's verdicts
// into the endpoints' answers: invalid_dpop_proof, use_dpop_nonce with a
// DPoP-Nonce header, and WWW-Authenticate: DPoP challenges.
//
// A proof's jti is recorded only after the rest of the request is
// authenticated (the client at the token endpoint, the access token at
// userinfo), in the grant store (grant.UseOnce), so a replay at another
// instance of a cluster is refused and unauthenticated requests store
// nothing.
package dpopbinding
