// Package requestobject verifies request objects (JWT-Secured
// Authorization Requests, RFC 9101): an authorization request's parameters
// as the claims of a JWT the client signs with its own key, sent as the
// request parameter to the authorization endpoint or the pushed
// authorization request endpoint. The server then uses only the object's
// parameters (RFC 9101 section 5).
//
// An object is accepted only when all of these hold; each refusal wraps
// [ErrInvalid]:
//
//   - it is at most MaxSize bytes (16 KiB) before any parsing;
//   - its alg is in the allowlist (PS256, ES256, EdDSA, RS256 by default,
//     narrowed per client): never none or HS*;
//   - typ, when present, is oauth-authz-req+jwt or JWT;
//   - it verifies with one of the client's public keys (its
//     private_key_jwt keys: clientauth/privatekeyjwt.KeySet);
//   - iss is the client_id, aud the issuer identifier (a string, or an
//     array containing it), client_id (when present) the client_id;
//   - exp is present, not past and at most MaxLifetime (59.5 minutes: with
//     the leeway, the hour a grant store remembers a jti) ahead; nbf, when present,
//     not in the future; with Leeway (30 s) for clock skew;
//   - jti is present and was not used before by that client: a Replay
//     remembers it until exp (in the grant store, so across a cluster);
//   - it carries neither request nor request_uri.
//
// Its parameters are its claims other than iss, aud, exp, nbf, iat and
// jti, as strings (a number, such as max_age, in decimal).
package requestobject
