package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	grantstore "github.com/signet-id/signet/grant"
)

// jwksCache is the parsed JWKS for one ETag of the key manager's JWKS.
type jwksCache struct {
	etag string
	keys map[string]jose.JSONWebKey // by kid
}

// maxTokenLen bounds a token presented to userinfo, introspection,
// revocation or end session.
const maxTokenLen = 16 << 10

// Errors of token verification. They never leave the server except as
// RFC error codes.
var (
	errTokenInvalid = errors.New("server: the token is not valid")
	errTokenRevoked = errors.New("server: the token was revoked")
)

// signatureAlgorithms lists what Signet signs with.
func signatureAlgorithms() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
		jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}
}

// verificationKeys returns the public keys of the key manager's current
// JWKS, parsing it again only when its ETag changed.
func (s *Server) verificationKeys() (map[string]jose.JSONWebKey, error) {
	j := s.keys.JWKS()
	if j == nil {
		return nil, errors.New("server: no JWKS yet")
	}
	if c := s.oidc.jwks.Load(); c != nil && c.etag == j.ETag {
		return c.keys, nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(j.Body, &set); err != nil {
		return nil, fmt.Errorf("server: parse the JWKS: %w", err)
	}
	keys := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		keys[k.KeyID] = k
	}
	s.oidc.jwks.Store(&jwksCache{etag: j.ETag, keys: keys})
	return keys, nil
}

// verifyJWT checks a compact JWS this server signed: one signature, the
// typ header, a kid of the current JWKS whose algorithm matches, and the
// signature. It returns the payload; claims are the caller's to check.
func (s *Server) verifyJWT(token, typ string) ([]byte, error) {
	keys, err := s.verificationKeys()
	if err != nil {
		return nil, err
	}
	payload, _, err := verifyJWTWith(keys, token, typ)
	return payload, err
}

// verifyJWTWith is verifyJWT with the keys given; it also returns the
// key that verified the token.
func verifyJWTWith(keys map[string]jose.JSONWebKey, token, typ string) ([]byte, jose.JSONWebKey, error) {
	if len(token) > maxTokenLen || strings.Count(token, ".") != 2 {
		return nil, jose.JSONWebKey{}, errTokenInvalid
	}
	sig, err := jose.ParseSignedCompact(token, signatureAlgorithms())
	if err != nil || len(sig.Signatures) != 1 {
		return nil, jose.JSONWebKey{}, errTokenInvalid
	}
	h := sig.Signatures[0].Protected
	if t, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(t, typ) {
		return nil, jose.JSONWebKey{}, errTokenInvalid
	}
	k, ok := keys[h.KeyID]
	if !ok || k.Algorithm != h.Algorithm {
		return nil, jose.JSONWebKey{}, errTokenInvalid
	}
	payload, err := sig.Verify(k)
	if err != nil {
		return nil, jose.JSONWebKey{}, errTokenInvalid
	}
	return payload, k, nil
}

// checkAccessToken verifies an access token this server issued: the
// signature against the current JWKS, the issuer, the lifetime and that
// its jti was not revoked. Errors are errTokenInvalid, errTokenRevoked or
// a store failure. The claims are shared with other requests of the same
// token (the verified token cache): read them, never change them.
func (s *Server) checkAccessToken(ctx context.Context, token string) (*userAccessClaims, error) {
	c, err := s.verifiedAccessToken(token)
	if err != nil {
		return nil, err
	}
	now := s.now().Unix()
	const skew = 60 // seconds of clock difference between instances
	if now >= c.Exp || c.Nbf > now+skew {
		return nil, errTokenInvalid
	}
	// One read of the store's grants on every call, so a revocation made
	// by any instance sharing the store holds at once.
	revoked, err := grantstore.HasRevocation(ctx, s.oidc.grants, c.revocationID)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, errTokenRevoked
	}
	return c, nil
}

// verifiedAccessToken returns the claims of an access token this server
// signed with a key of the current JWKS, whose issuer is this server's
// and which has a jti and a sub: from the verified token cache
// (tokencache.go) when it verified before, else verified and remembered.
// The lifetime and revocation are the caller's to check.
func (s *Server) verifiedAccessToken(token string) (*userAccessClaims, error) {
	if len(token) > maxTokenLen {
		return nil, errTokenInvalid
	}
	keys, err := s.verificationKeys()
	if err != nil {
		return nil, err
	}
	sum := tokenSum(token)
	if c, ok := s.oidc.verified.get(sum, keys); ok {
		return c, nil
	}
	payload, k, err := verifyJWTWith(keys, token, "at+jwt")
	if err != nil {
		return nil, err
	}
	var c userAccessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errTokenInvalid
	}
	if c.Iss != s.issuer || c.Jti == "" || c.Sub == "" {
		return nil, errTokenInvalid
	}
	c.revocationID = revocationID(c.Jti)
	s.oidc.verified.put(sum, verifiedToken{kid: k.KeyID, alg: k.Algorithm, claims: &c})
	return &c, nil
}

// tokenSum is the SHA-256 of token, the verified token cache's key. A
// token of up to tokenSumStack bytes (every access token Signet issues)
// is hashed from a copy on the stack: sha256.Sum256([]byte(token))
// allocates a copy of any token longer than 32 bytes on the heap, one
// per introspection and userinfo call.
func tokenSum(token string) [sha256.Size]byte {
	if len(token) > tokenSumStack {
		return sha256.Sum256([]byte(token))
	}
	var buf [tokenSumStack]byte
	return sha256.Sum256(buf[:copy(buf[:], token)])
}

// tokenSumStack is the longest token tokenSum copies on the stack.
const tokenSumStack = 2048

// audience returns the aud claim as a list (it is a string or an array).
func audience(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}

func hasAudience(raw json.RawMessage, name string) bool {
	if in, ok := plainAudience(raw, name); ok {
		return in
	}
	return slices.Contains(audience(raw), name)
}

// plainAudience is hasAudience without decoding, for an aud (a string or
// an array of strings, as Signet writes it) of printable ASCII without
// escapes or white space; ok is false for any other value, which
// audience decodes.
func plainAudience(raw json.RawMessage, name string) (in, ok bool) {
	for _, c := range raw {
		if c <= 0x20 || c > 0x7e || c == '\\' {
			return false, false
		}
	}
	s := raw
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return string(s[1:len(s)-1]) == name, bytes.IndexByte(s[1:len(s)-1], '"') < 0
	}
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return false, false
	}
	s = s[1 : len(s)-1]
	for len(s) > 0 {
		if s[0] != '"' {
			return false, false
		}
		end := bytes.IndexByte(s[1:], '"')
		if end < 0 {
			return false, false
		}
		in = in || string(s[1:1+end]) == name
		if s = s[end+2:]; len(s) > 0 {
			if s[0] != ',' || len(s) == 1 {
				return false, false
			}
			s = s[1:]
		}
	}
	return in, true
}

// revocationID is the grant id that marks an access token revoked.
func revocationID(jti string) string { return grantstore.HashHandle("jti:" + jti) }

// revokeJTI marks the access token jti revoked until exp (after which it
// is invalid anyway).
func (s *Server) revokeJTI(ctx context.Context, jti string, exp time.Time) error {
	now := s.now()
	if jti == "" || !exp.After(now) {
		return nil
	}
	err := s.oidc.grants.CreateGrant(ctx, grantstore.Grant{ID: revocationID(jti), Kind: grantstore.KindRevocation,
		Created: now, Expires: exp, Revoked: now})
	if errors.Is(err, grantstore.ErrExists) {
		return nil
	}
	return err
}

// revokeFamily revokes a refresh-token family (and the code that started
// it) and the access tokens jtis, which live at most lifetime from now.
func (s *Server) revokeFamily(ctx context.Context, family string, lifetime time.Duration, jtis ...string) error {
	var errs []error
	if family != "" {
		if _, err := s.oidc.grants.RevokeFamily(ctx, family, s.now()); err != nil {
			errs = append(errs, err)
		}
	}
	exp := s.now().Add(lifetime)
	for _, j := range jtis {
		if err := s.revokeJTI(ctx, j, exp); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
