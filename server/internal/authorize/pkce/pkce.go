package pkce

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"

	"github.com/signet-id/signet/server/internal/authorize"
	"github.com/signet-id/signet/server/internal/oauth"
)

// challengeLen is the length of an S256 challenge: the base64url of a
// SHA-256 digest.
const challengeLen = 43

// PKCE is the RFC 7636 extension. The zero value is ready to use.
type PKCE struct{}

var _ authorize.Extension = PKCE{}

// Name returns "pkce".
func (PKCE) Name() string { return "pkce" }

// Authorize checks code_challenge and code_challenge_method: S256 only;
// required for public clients. It binds the challenge to the code.
func (PKCE) Authorize(r *authorize.Request) *authorize.Error {
	challenge, method := r.Params["code_challenge"], r.Params["code_challenge_method"]
	switch {
	case challenge == "" && method != "":
		return &authorize.Error{Code: "invalid_request", Desc: "code_challenge_method was sent without code_challenge"}
	case challenge == "" && r.Public:
		return &authorize.Error{Code: "invalid_request", Desc: "PKCE is required for public clients: send code_challenge and code_challenge_method=S256"}
	case challenge != "" && method != "S256":
		return &authorize.Error{Code: "invalid_request", Desc: "code_challenge_method must be S256 (plain is not supported)"}
	case challenge != "" && !ValidChallenge(challenge):
		return &authorize.Error{Code: "invalid_request", Desc: "code_challenge must be the 43-character base64url SHA-256 of the code verifier"}
	}
	r.Binding.Challenge = challenge
	return nil
}

// Redeem checks code_verifier: it must match the challenge; with no
// challenge, a verifier is refused (a downgrade attempt).
func (PKCE) Redeem(b *authorize.Binding, r *authorize.Redemption) *oauth.Error {
	verifier := r.Form["code_verifier"]
	if b.Challenge != "" {
		if !ValidVerifier(verifier) {
			return oauth.InvalidGrant("code_verifier is missing or malformed (43 to 128 characters of A-Z a-z 0-9 - . _ ~)")
		}
		sum := sha256.Sum256([]byte(verifier))
		if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(b.Challenge)) != 1 {
			return oauth.InvalidGrant("code_verifier does not match the code_challenge")
		}
	} else if verifier != "" {
		return oauth.InvalidGrant("code_verifier was sent, but the authorization request had no code_challenge")
	}
	return nil
}

// ValidChallenge reports whether c looks like an S256 code challenge.
func ValidChallenge(c string) bool {
	if len(c) != challengeLen {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !oauth.Base64URLChar(c[i]) {
			return false
		}
	}
	return true
}

// ValidVerifier checks RFC 7636 4.1: 43 to 128 unreserved characters.
func ValidVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !oauth.Base64URLChar(c) && c != '.' && c != '~' {
			return false
		}
	}
	return true
}
