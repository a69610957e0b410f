package dpop

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// AccessToken returns the access token of r's `Authorization: DPoP
// <token>` header (the scheme is case-insensitive). Without an
// Authorization header, or with another scheme, it is ErrNoToken (answer
// with a challenge and no error code); a Bearer token is ErrScheme
// (invalid_token), which is the answer an API that only takes DPoP-bound
// tokens gives. An API that also takes Bearer tokens reads those itself
// and must refuse a DPoP-bound one (one with cnf.jkt) sent as Bearer.
func AccessToken(r *http.Request) (string, error) {
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		return "", ErrNoToken
	case 1:
	default:
		return "", fmt.Errorf("%w: more than one Authorization header", ErrNoToken)
	}
	scheme, token, ok := strings.Cut(vals[0], " ")
	token = strings.TrimLeft(token, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return "", ErrScheme
	case !strings.EqualFold(scheme, "DPoP"):
		return "", ErrNoToken
	case !ok || !isToken68(token):
		return "", fmt.Errorf("%w: the DPoP credentials are not a token68", ErrNoToken)
	}
	return token, nil
}

// isToken68 reports whether s is an RFC 9110 token68.
func isToken68(s string) bool {
	s = strings.TrimRight(s, "=")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// VerifyResource checks a request to a resource that carries a
// DPoP-bound access token: token is the access token (from
// [AccessToken]) whose signature, issuer, audience and expiry the caller
// has verified, and jkt its cnf.jkt. It verifies the request's single
// DPoP proof against r's method, uri (the absolute URI the client
// addressed, see [Request.URI]) and the token's hash (ath), then that the
// proof's key is the one the token is bound to: ErrTokenBinding when it is
// not, or when jkt is "" (the token is not DPoP-bound). Record the proof
// afterwards with [MarkUsed].
func (v *Verifier) VerifyResource(r *http.Request, uri, token, jkt string) (*Proof, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	p, err := v.VerifyRequest(r, uri, token)
	if err != nil {
		return nil, err
	}
	if jkt == "" {
		return nil, fmt.Errorf("%w: the access token has no cnf.jkt", ErrTokenBinding)
	}
	if subtle.ConstantTimeCompare([]byte(p.Thumbprint), []byte(jkt)) != 1 {
		return nil, ErrTokenBinding
	}
	return p, nil
}

// Challenge renders a WWW-Authenticate value for err at a resource (RFC
// 9449 section 7.1): `DPoP error="…", error_description="…",
// algs="ES256 …"`, with no error when err has no code (a request without
// credentials). The description is the rule's fixed text, never what the
// client sent.
func Challenge(err error, algs []string) string {
	var b strings.Builder
	b.WriteString("DPoP")
	sep := " "
	if code := ErrorCode(err); code != "" {
		fmt.Fprintf(&b, "%serror=%q", sep, code)
		sep = ", "
		if d := Description(err); d != "" {
			fmt.Fprintf(&b, "%serror_description=%q", sep, d)
		}
	}
	if len(algs) > 0 {
		fmt.Fprintf(&b, "%salgs=%q", sep, strings.Join(algs, " "))
	}
	return b.String()
}

// WriteError answers a resource request refused with err: 401 with a
// WWW-Authenticate challenge naming the verifier's algorithms, and a fresh
// DPoP-Nonce when the verifier requires nonces. A server-side error (one
// with no code of this package, such as a store failure from [MarkUsed])
// is a 500 without challenge; the caller logs err.
func (v *Verifier) WriteError(w http.ResponseWriter, err error) {
	code := ErrorCode(err)
	if code == "" && !errors.Is(err, ErrNoToken) {
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("WWW-Authenticate", Challenge(err, v.algs))
	if n := v.Nonce(); n != "" {
		w.Header().Set("DPoP-Nonce", n)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
}
