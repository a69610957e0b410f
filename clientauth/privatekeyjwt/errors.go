package privatekeyjwt

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error of [Verifier.Parse] and [Verifier.Verify]
// wraps exactly one of them (with %w) and says in its text which rule the
// assertion broke; a server answers all of them with invalid_client and
// logs the text. Errors never contain the assertion or key material.
var (
	// ErrTooLarge: the assertion is longer than Options.MaxSize.
	ErrTooLarge = errors.New("privatekeyjwt: assertion too large")
	// ErrMalformed: not a JWS compact serialization with a JSON claims set.
	ErrMalformed = errors.New("privatekeyjwt: malformed assertion")
	// ErrAlgorithm: the JWS alg is not allowed (never none or HS*).
	ErrAlgorithm = errors.New("privatekeyjwt: algorithm not allowed")
	// ErrIssuer: iss is missing or is not the client_id.
	ErrIssuer = errors.New("privatekeyjwt: iss is not the client_id")
	// ErrSubject: sub is not the client_id (it must equal iss).
	ErrSubject = errors.New("privatekeyjwt: sub is not the client_id")
	// ErrAudience: aud names neither the issuer nor an accepted endpoint.
	ErrAudience = errors.New("privatekeyjwt: aud not accepted")
	// ErrExpired: exp is missing or in the past.
	ErrExpired = errors.New("privatekeyjwt: assertion expired")
	// ErrLifetime: exp is further in the future than Options.MaxLifetime.
	ErrLifetime = errors.New("privatekeyjwt: assertion lifetime too long")
	// ErrNotYetValid: nbf or iat is in the future.
	ErrNotYetValid = errors.New("privatekeyjwt: assertion not yet valid")
	// ErrMissingJTI: jti is missing.
	ErrMissingJTI = errors.New("privatekeyjwt: jti missing")
	// ErrReplayed: the jti was used before, until its exp. A [Replay]
	// reports a replay with it.
	ErrReplayed = errors.New("privatekeyjwt: jti already used")
	// ErrReplayFull: the in-memory replay cache is full of live entries;
	// the assertion is refused rather than remembered nowhere.
	ErrReplayFull = errors.New("privatekeyjwt: replay cache full")
	// ErrUnknownKey: no key of the client matches the kid (after a
	// re-fetch for a remote set) or, without a kid, the algorithm.
	ErrUnknownKey = errors.New("privatekeyjwt: no matching client key")
	// ErrSignature: the signature does not verify with the client's keys.
	ErrSignature = errors.New("privatekeyjwt: signature invalid")
	// ErrKeySetUnavailable: a remote JWKS could not be fetched and no
	// usable cached copy exists.
	ErrKeySetUnavailable = errors.New("privatekeyjwt: client JWKS unavailable")

	// ErrInvalidKeySet: a JWK Set is malformed or breaks a rule of
	// [ParseKeySet] (private material, duplicate kid, algorithm, size).
	ErrInvalidKeySet = errors.New("privatekeyjwt: invalid JWK Set")
	// ErrPrivateKey: a JWK holds private key material. It wraps
	// ErrInvalidKeySet (and reads the same).
	ErrPrivateKey = fmt.Errorf("%w", ErrInvalidKeySet)
	// ErrInsecureURI: a jwksUri is not https (nor http on loopback).
	ErrInsecureURI = errors.New("privatekeyjwt: jwksUri must be https")
)
