package server

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/server/internal/fapi2"
	"github.com/signet-id/signet/server/internal/granttype"
	"github.com/signet-id/signet/server/internal/oauth"
	"github.com/signet-id/signet/user"
)

// userAccessClaims are the claims of an access token issued to a user
// (RFC 9068, with the login session's auth_time and sid).
type userAccessClaims struct {
	Iss      string          `json:"iss"`
	Exp      int64           `json:"exp"`
	Aud      json.RawMessage `json:"aud"`
	Sub      string          `json:"sub"`
	ClientID string          `json:"client_id"`
	Iat      int64           `json:"iat"`
	Nbf      int64           `json:"nbf"`
	Jti      string          `json:"jti"`
	Scope    string          `json:"scope"`
	AuthTime int64           `json:"auth_time,omitempty"`
	Sid      string          `json:"sid,omitempty"`
	// Cnf binds a DPoP-bound token to its key (RFC 9449 section 6).
	Cnf *confirmation `json:"cnf,omitempty"`
	// UserinfoClaims are the claims the authorization request asked for
	// at userinfo with the claims parameter (claimsparam.go).
	UserinfoClaims []string `json:"userinfo_claims,omitempty"`
	// revocationID is revocationID(Jti), worked out once when the token
	// is verified and kept with it in the verified token cache, not
	// hashed again at every introspection and userinfo call.
	revocationID string
}

// confirmation is the cnf claim of a DPoP-bound token.
type confirmation struct {
	JKT string `json:"jkt"`
}

// idTokenClaims are the claims of an ID token (OpenID Connect Core 2).
type idTokenClaims struct {
	Iss      string   `json:"iss"`
	Sub      string   `json:"sub"`
	Aud      string   `json:"aud"`
	Exp      int64    `json:"exp"`
	Iat      int64    `json:"iat"`
	AuthTime int64    `json:"auth_time"`
	ACR      string   `json:"acr,omitempty"`
	AMR      []string `json:"amr,omitempty"`
	Nonce    string   `json:"nonce,omitempty"`
	AtHash   string   `json:"at_hash,omitempty"`
	Sid      string   `json:"sid,omitempty"`
}

// userTokenResponse is the token endpoint's answer in the login flows.
type userTokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// issueInput is what a user's tokens are made of: the client as it
// authenticated and what the grant asks for (the user: Issue.Subject).
type issueInput struct {
	cl *client
	lc *loginClient
	// jkt is the thumbprint of the request's DPoP key, "" without DPoP:
	// the access token is bound to it, and a public client's refresh
	// token too (RFC 9449 section 5).
	jkt string
	granttype.Issue
}

// checkScopes checks, before a code or refresh token is used up, that
// the client still has every scope the tokens would carry: identity
// scopes against its identity scopes, API scopes as issueUserTokens does.
// The client's configuration may have been reloaded since they were
// granted.
func checkScopes(reg *registry, cl *client, lc *loginClient, scopes []string) *oauth.Error {
	var api []string
	for _, sc := range scopes {
		switch {
		case !isIdentityScope(sc):
			api = append(api, sc)
		case !slices.Contains(lc.identityScopes, sc):
			return oauth.InvalidScope("scope '" + sc + "' is no longer allowed for this client; request only the scopes it still has, or sign in again")
		}
	}
	if len(api) > 0 {
		if _, e := reg.grant(cl, api, nil); e != nil {
			return e
		}
	}
	return nil
}

// issueUserTokens signs the access token and, when openid was granted,
// the ID token, and makes a refresh token when asked. It returns the
// response, the access token's algorithm and the refresh token's grant,
// which the caller stores in the same transaction as it uses up the code
// or refresh token presented (nil when none was asked).
func (s *Server) issueUserTokens(ctx context.Context, reg *registry, in issueInput) (*userTokenResponse, key.Algorithm, *grantstore.Grant, *oauth.Error) {
	var api []string
	openid := false
	if e := checkScopes(reg, in.cl, in.lc, in.Scopes); e != nil {
		return nil, "", nil, e // the configuration was reloaded since the caller checked
	}
	for _, sc := range in.Scopes {
		switch {
		case sc == scopeOpenID:
			openid = true
		case !isIdentityScope(sc):
			api = append(api, sc)
		}
	}
	// The audience is the API resources of the API scopes (with their
	// algorithm restrictions), or the issuer itself (userinfo) when only
	// identity scopes were granted.
	aud := oauth.AppendJSONString(nil, s.issuer)
	var algs []key.Algorithm
	if in.cl.fapi2 { // reg.grant narrows the resources' restriction too
		algs = fapi2.Restrict(nil)
	}
	if len(api) > 0 {
		g, e := reg.grant(in.cl, api, nil)
		if e != nil {
			return nil, "", nil, e
		}
		aud, algs = g.audJSON, g.algs
	}
	k, e := s.userSigningKey(algs, "the requested resources allow")
	if e != nil {
		return nil, "", nil, e
	}
	now := s.now().Unix()
	lifetime := int64(in.lc.AccessLifetime / time.Second)
	scope := strings.Join(in.Scopes, " ")
	sp := s.startSign(ctx, k, jws.TypeAccessToken)
	claims := userAccessClaims{Iss: s.issuer, Exp: now + lifetime, Aud: aud, Sub: in.Subject,
		ClientID: in.cl.id, Iat: now, Nbf: now, Jti: in.JTI, Scope: scope, AuthTime: in.AuthTime, Sid: in.SID,
		UserinfoClaims: in.UserinfoClaims}
	tokenType := "Bearer"
	if in.jkt != "" {
		claims.Cnf, tokenType = &confirmation{JKT: in.jkt}, "DPoP"
	}
	at, err := signJSON(k, jws.TypeAccessToken, claims)
	endSign(sp, err != nil)
	if err != nil {
		return nil, "", nil, s.signFailed("an access token", k, err)
	}
	resp := &userTokenResponse{AccessToken: at, TokenType: tokenType, ExpiresIn: lifetime, Scope: scope}

	if openid {
		// The reference's rule: a client that restricts ID token
		// algorithms gets the first credential whose algorithm is
		// allowed; otherwise the default credential signs.
		ik, e := s.userSigningKey(in.lc.idAlgs, "the client's allowedIdentityTokenSigningAlgorithms allow")
		if e != nil {
			return nil, "", nil, e
		}
		// The user source's claims for the ID token (none from the
		// built-in users: theirs are at userinfo).
		extra, e := s.sourceClaims(ctx, user.ClaimsRequest{Subject: in.Subject, ClientID: in.cl.id,
			Scopes: slices.DeleteFunc(slices.Clone(in.Scopes), func(sc string) bool { return !isIdentityScope(sc) }), Caller: user.CallerIDToken})
		if e != nil {
			return nil, "", nil, e
		}
		if len(in.IDTokenClaims) > 0 { // the claims parameter's (claimsparam.go)
			asked, e := s.requestedClaims(ctx, in.Subject, in.cl.id, in.IDTokenClaims, in.lc.identityScopes)
			if e != nil {
				return nil, "", nil, e
			}
			extra = mergeClaims(extra, asked)
		}
		claims, err := withClaims(idTokenClaims{Iss: s.issuer, Sub: in.Subject, Aud: in.cl.id,
			Exp: now + int64(in.lc.idLifetime/time.Second), Iat: now, AuthTime: in.AuthTime, ACR: in.ACR, AMR: in.AMR, Nonce: in.Nonce,
			AtHash: leftHalfHash(ik.Algorithm(), at), Sid: in.SID}, extra)
		if err != nil {
			s.log.Error("the user source's claims do not encode as JSON", "sub", in.Subject, "error", err)
			return nil, "", nil, oauth.ServerError()
		}
		sp := s.startSign(ctx, ik, jws.TypeJWT)
		resp.IDToken, err = signJSON(ik, jws.TypeJWT, claims)
		endSign(sp, err != nil)
		if err != nil {
			return nil, "", nil, s.signFailed("an ID token", ik, err)
		}
	}

	var rt *grantstore.Grant
	if in.Family != "" {
		handle, err := s.randomHandle(32)
		if in.Handle != "" {
			handle = in.Handle
		}
		next, err2 := s.randomHandle(16)
		seed, err3 := s.randomHandle(32)
		if err = errors.Join(err, err2, err3); err != nil {
			s.log.Error("refresh token: randomness failed", "error", err)
			return nil, "", nil, oauth.ServerError()
		}
		handle = familyHandle(in.Family, handle)
		rd := refreshData{Scope: in.FamilyScope, AuthTime: in.AuthTime, JTI: in.JTI, NextJTI: next, Seed: seed, AMR: in.AMR, ACR: in.ACR,
			IDTokenClaims: in.IDTokenClaims, UserinfoClaims: in.UserinfoClaims}
		if in.lc.Public {
			rd.JKT = in.jkt // a public client's refresh token is bound to its DPoP key
		}
		data, _ := json.Marshal(rd) // cannot fail
		t := s.now()
		rt = &grantstore.Grant{ID: grantstore.HashHandle(handle), Kind: grantstore.KindRefreshToken, ClientID: in.cl.id, Subject: in.Subject,
			FamilyID: in.Family, SessionID: in.SID, Data: data, Created: t, Expires: in.FamilyExpires}
		resp.RefreshToken = handle
	}
	return resp, k.Algorithm(), rt, nil
}

// userSigningKey returns the key for a token whose algorithms are
// restricted to algs (nil: none).
func (s *Server) userSigningKey(algs []key.Algorithm, what string) (*jws.Key, *oauth.Error) {
	k, err := s.keys.SigningKey(algs)
	if err == nil {
		return k, nil
	}
	if errors.Is(err, keymanager.ErrNoAllowedAlgorithm) {
		s.log.Error("no signing key for the allowed algorithms", "allowed", algs, "error", err)
		return nil, &oauth.Error{Status: http.StatusInternalServerError, Code: "server_error", Desc: "no signing key for the algorithms " + what}
	}
	s.log.Warn("no key can sign", "error", err)
	return nil, &oauth.Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Desc: "no signing key is ready; retry shortly"}
}

// signJSON signs the JSON encoding of claims.
func signJSON(k *jws.Key, typ string, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return k.Sign(typ, payload)
}

// leftHalfHash is the at_hash of a token signed with alg (OpenID Connect
// Core 3.1.3.6): the left half of its hash with the algorithm's hash
// function, base64url. EdDSA (Ed25519) uses SHA-512.
func leftHalfHash(alg key.Algorithm, token string) string {
	var sum []byte
	switch alg {
	case key.RS256, key.PS256, key.ES256:
		h := sha256.Sum256([]byte(token))
		sum = h[:]
	case key.RS384, key.PS384, key.ES384:
		h := sha512.Sum384([]byte(token))
		sum = h[:]
	default: // RS512, PS512, ES512, EdDSA
		h := sha512.Sum512([]byte(token))
		sum = h[:]
	}
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
