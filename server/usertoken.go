package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/signet-id/signet/clientauth"
	grantstore "github.com/signet-id/signet/grant"
)

// userTokenRequest is a parsed authorization_code or refresh_token
// request body.
type userTokenRequest struct {
	grantType    string
	clientID     string
	clientSecret string
	hasSecret    bool
	code         string
	redirectURI  string
	codeVerifier string
	refreshToken string
	scope        string
}

// parseUserTokenRequest parses the body of an authorization_code or
// refresh_token request. A parameter may not appear twice.
func parseUserTokenRequest(body string) (userTokenRequest, *oauthError) {
	p, ok := parseParams(body)
	if !ok {
		return userTokenRequest{}, invalidRequest("the body is not valid application/x-www-form-urlencoded")
	}
	if d := p.dup("grant_type", "client_id", "client_secret", "code", "redirect_uri", "code_verifier", "refresh_token", "scope"); d != "" {
		return userTokenRequest{}, invalidRequest("parameter " + d + " appears more than once")
	}
	req := userTokenRequest{
		grantType:    p.v["grant_type"],
		clientID:     p.v["client_id"],
		clientSecret: p.v["client_secret"],
		code:         p.v["code"],
		redirectURI:  p.v["redirect_uri"],
		codeVerifier: p.v["code_verifier"],
		refreshToken: p.v["refresh_token"],
		scope:        p.v["scope"],
	}
	_, req.hasSecret = p.v["client_secret"]
	return req, nil
}

// authenticateClient authenticates the client of a login-flow request:
// HTTP Basic or client_secret_post for confidential clients, client_id
// alone for public ones (an empty Basic password counts as none).
func (s *Server) authenticateClient(r *http.Request, clientID, secret string, hasSecret bool) (*client, *loginClient, *oauthError) {
	cred := clientauth.BasicCredentials{ID: clientID, Secret: secret}
	reg := s.reg.Load()
	switch authz := r.Header.Get("Authorization"); {
	case authz != "":
		if !clientauth.IsBasic(authz) {
			return nil, nil, invalidClient("unsupported Authorization scheme; use Basic (client_secret_basic), client_id and client_secret in the body, or client_id alone for a public client")
		}
		var ok bool
		if cred, ok = clientauth.ParseBasicCredentials(authz); !ok {
			return nil, nil, s.authRefused(r, "client", "", "malformed Basic credentials", invalidClient("malformed Basic credentials"))
		}
		if hasSecret {
			return nil, nil, invalidRequest("the client authenticated twice (client_secret_basic and client_secret_post); use one method")
		}
		cred.Resolve(func(id string) bool { return reg.clients[id] != nil })
		if clientID != "" && clientID != cred.ID {
			return nil, nil, invalidRequest("client_id in the body differs from the Basic credentials")
		}
		hasSecret = cred.Secret != ""
	case hasSecret && clientID == "":
		return nil, nil, invalidRequest("client_secret was sent without client_id")
	case clientID == "":
		return nil, nil, invalidClient("no client authentication; send client_id (public clients) or authenticate with a client secret")
	}
	id := cred.ID
	cl, lc := reg.clients[id], reg.login[id]
	if !hasSecret {
		switch {
		case cl == nil || lc == nil:
			return nil, nil, s.authFailed(r, "client", id, "unknown client")
		case !lc.public:
			return nil, nil, s.authFailed(r, "client", id, "no secret from a confidential client")
		}
		return cl, lc, nil
	}
	var secrets []*clientauth.Secret
	unknown := "unknown client"
	switch {
	case cl != nil && lc != nil && lc.public:
		unknown = "a secret from a public client"
	case cl != nil && lc != nil:
		secrets = cl.secrets
	}
	if e := s.checkClientSecret(r, "client", cred, secrets, reg.dummy, unknown); e != nil {
		return nil, nil, e
	}
	return cl, lc, nil
}

// userToken serves the authorization_code and refresh_token grants.
func (s *Server) userToken(w http.ResponseWriter, r *http.Request, body string) *oauthError {
	req, e := parseUserTokenRequest(body)
	if e != nil {
		return e
	}
	cl, lc, e := s.authenticateClient(r, req.clientID, req.clientSecret, req.hasSecret)
	if e != nil {
		return e
	}
	var resp *userTokenResponse
	var alg string
	switch req.grantType {
	case grantAuthorizationCode:
		resp, alg, e = s.exchangeCode(r, cl, lc, &req)
	case grantRefreshToken:
		resp, alg, e = s.refresh(r, cl, lc, &req)
	default:
		return s.unsupportedGrant(req.grantType)
	}
	if e != nil {
		return e
	}
	b, _ := json.Marshal(resp) // cannot fail: strings and a number
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	h["Pragma"] = hdrNoCache
	w.Write(b)
	s.metrics.tokenIssued(req.grantType, alg)
	return nil
}

// msgBadCode is the one answer for a code that is unknown, expired, used,
// or bound to something else: the client learns nothing more.
const msgBadCode = "the authorization code is invalid, expired, already used, or was issued to another client or redirect URI"

// exchangeCode redeems an authorization code (RFC 6749 4.1.3, RFC 7636).
func (s *Server) exchangeCode(r *http.Request, cl *client, lc *loginClient, req *userTokenRequest) (*userTokenResponse, string, *oauthError) {
	ctx := r.Context()
	switch {
	case !lc.code:
		return nil, "", &oauthError{status: http.StatusBadRequest, code: "unauthorized_client", desc: "the client may not use the authorization_code grant"}
	case req.code == "":
		return nil, "", invalidRequest("code is missing")
	case req.redirectURI == "":
		return nil, "", invalidRequest("redirect_uri is missing")
	}
	var d codeData
	g, e := s.readGrant(ctx, req.code, grantstore.KindAuthorizationCode, &d, msgBadCode, "code exchange: reading the code failed")
	if e != nil {
		return nil, "", e
	}
	// The client and the redirect URI are checked first: only the client
	// the code was issued to, with its binding, can trigger a replay's
	// revocation.
	switch {
	case g.ClientID != cl.id:
		return nil, "", s.grantRefused(r, g, "authorization code", "issued to another client")
	case d.RedirectURI != req.redirectURI:
		return nil, "", s.grantRefused(r, g, "authorization code", "another redirect_uri")
	}
	// PKCE: the verifier must match the challenge; with no challenge, a
	// verifier is refused (a downgrade attempt).
	if d.Challenge != "" {
		if !validVerifier(req.codeVerifier) {
			return nil, "", invalidGrant("code_verifier is missing or malformed (43 to 128 characters of A-Z a-z 0-9 - . _ ~)")
		}
		sum := sha256.Sum256([]byte(req.codeVerifier))
		if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(d.Challenge)) != 1 {
			return nil, "", invalidGrant("code_verifier does not match the code_challenge")
		}
	} else if req.codeVerifier != "" {
		return nil, "", invalidGrant("code_verifier was sent, but the authorization request had no code_challenge")
	}
	if !g.Consumed.IsZero() {
		s.codeReplayed(r, g, d, lc)
		return nil, "", invalidGrant(msgBadCode)
	}
	now := s.now()
	switch {
	case !g.Revoked.IsZero():
		return nil, "", s.grantRefused(r, g, "authorization code", "revoked")
	case !now.Before(g.Expires):
		return nil, "", s.grantRefused(r, g, "authorization code", "expired "+now.Sub(g.Expires).Round(time.Second).String()+" ago")
	}
	u := s.oidc.users.Load().bySubject[g.Subject]
	if u == nil {
		return nil, "", invalidGrant("the user no longer exists")
	}
	scopes, _ := parseScope(d.Scope) // stored by issueCode: valid
	if e := checkScopes(s.reg.Load(), cl, lc, scopes); e != nil {
		return nil, "", e
	}

	in := issueInput{cl: cl, lc: lc, u: u, scopes: scopes, authTime: d.AuthTime, sid: g.SessionID, nonce: d.Nonce, jti: d.JTI}
	if lc.refresh && slices.Contains(scopes, scopeOfflineAccess) {
		in.family, in.familyExpires, in.familyScope = g.FamilyID, now.Add(lc.refreshLifetime), d.Scope
	}
	resp, alg, rt, e := s.issueUserTokens(s.reg.Load(), in)
	if e != nil {
		return nil, "", e
	}
	// The code is used up and the refresh token stored in one
	// transaction: a replay either loses the race here or comes after
	// the refresh token exists, and its revocation covers it. A replay
	// here lost a race with another redemption.
	if _, e = s.consumeGrant(ctx, g.ID, now, rt, msgBadCode, "code exchange: consuming the code failed",
		func(g grantstore.Grant) { s.codeReplayed(r, g, d, lc) }); e != nil {
		return nil, "", e
	}
	return resp, string(alg), nil
}

// readGrant loads the grant behind handle and decodes its data into v. A
// missing grant, one of another kind or with undecodable data is
// invalid_grant with the single message bad (the client learns nothing
// more); a store failure is logged as failed and is
// temporarily_unavailable.
func (s *Server) readGrant(ctx context.Context, handle string, kind grantstore.Kind, v any, bad, failed string) (grantstore.Grant, *oauthError) {
	g, err := s.oidc.grants.Grant(ctx, grantstore.HashHandle(handle))
	if errors.Is(err, grantstore.ErrNotFound) {
		return g, invalidGrant(bad)
	}
	if err != nil {
		s.log.Error(failed, "error", err)
		return g, unavailable()
	}
	if g.Kind != kind || json.Unmarshal(g.Data, v) != nil {
		return g, invalidGrant(bad)
	}
	return g, nil
}

// consumeGrant uses the grant id once, atomically in the store, and
// stores next (a refresh token; nil: none) in the same transaction. A
// second use (a replay that won or lost a race) calls replayed with the
// grant and is invalid_grant, as are a grant gone, expired or revoked
// since it was read; a store failure is logged as failed.
func (s *Server) consumeGrant(ctx context.Context, id string, now time.Time, next *grantstore.Grant, bad, failed string, replayed func(grantstore.Grant)) (grantstore.Grant, *oauthError) {
	var (
		g   grantstore.Grant
		err error
	)
	if next != nil {
		g, err = s.oidc.grants.Rotate(ctx, id, now, *next)
	} else {
		g, err = s.oidc.grants.ConsumeGrant(ctx, id, now)
	}
	switch {
	case errors.Is(err, grantstore.ErrConsumed):
		replayed(g)
		return g, invalidGrant(bad)
	case errors.Is(err, grantstore.ErrNotFound), errors.Is(err, grantstore.ErrExpired), errors.Is(err, grantstore.ErrRevoked):
		return g, invalidGrant(bad)
	case err != nil:
		s.log.Error(failed, "error", err)
		return g, unavailable()
	}
	return g, nil
}

// codeReplayed handles a second use of a code: RFC 6749 10.5, revoke what
// the first use issued (the refresh family, the access token by jti).
func (s *Server) codeReplayed(r *http.Request, g grantstore.Grant, d codeData, lc *loginClient) {
	s.log.Warn("authorization code used twice; revoking the tokens it issued", "client_id", g.ClientID, "sub", g.Subject)
	if err := s.revokeFamily(r.Context(), g.FamilyID, lc.accessLifetime, d.JTI); err != nil {
		s.log.Error("revoking the tokens of a replayed code failed", "client_id", g.ClientID, "error", err)
	}
}

// validVerifier checks RFC 7636 4.1: 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !base64URLChar(c) && c != '.' && c != '~' {
			return false
		}
	}
	return true
}

// msgBadRefresh is the one answer for an unusable refresh token.
const msgBadRefresh = "the refresh token is invalid, expired, revoked or was issued to another client"

// refresh redeems a refresh token with rotation (RFC 6749 6, RFC 9700
// 4.14.2): every use returns a new refresh token, and a second use of one
// revokes its whole family.
func (s *Server) refresh(r *http.Request, cl *client, lc *loginClient, req *userTokenRequest) (*userTokenResponse, string, *oauthError) {
	ctx := r.Context()
	switch {
	case !lc.refresh:
		return nil, "", &oauthError{status: http.StatusBadRequest, code: "unauthorized_client", desc: "the client may not use the refresh_token grant"}
	case req.refreshToken == "":
		return nil, "", invalidRequest("refresh_token is missing")
	}
	var d refreshData
	g, e := s.readGrant(ctx, req.refreshToken, grantstore.KindRefreshToken, &d, msgBadRefresh, "refresh: reading the refresh token failed")
	if e != nil {
		if g.ID == "" && e.code == "invalid_grant" { // not in the store
			s.supersededUsed(r, req.refreshToken, lc, cl.id)
		}
		return nil, "", e
	}
	if g.ClientID != cl.id {
		return nil, "", invalidGrant(msgBadRefresh)
	}
	now := s.now()
	reused := !g.Consumed.IsZero() && g.Revoked.IsZero()
	if reused && !reuseAllowed(lc, g, d, now) {
		s.refreshReused(r, g, d, lc)
		return nil, "", invalidGrant(msgBadRefresh)
	}
	if !g.Revoked.IsZero() {
		return nil, "", s.grantRefused(r, g, "refresh token", "revoked")
	}
	if !now.Before(g.Expires) {
		return nil, "", s.grantRefused(r, g, "refresh token", "expired")
	}
	granted, _ := parseScope(d.Scope)
	scopes := granted
	if req.scope != "" {
		asked, e := parseScope(req.scope)
		if e != nil {
			return nil, "", e
		}
		for _, sc := range asked {
			if !slices.Contains(granted, sc) {
				return nil, "", invalidScope("scope '" + clip(sc) + "' was not granted to this refresh token")
			}
		}
		scopes = asked
	}
	u := s.oidc.users.Load().bySubject[g.Subject]
	if u == nil {
		return nil, "", invalidGrant("the user no longer exists")
	}
	if e := checkScopes(s.reg.Load(), cl, lc, scopes); e != nil {
		return nil, "", e
	}

	in := issueInput{cl: cl, lc: lc, u: u, scopes: scopes, authTime: d.AuthTime, sid: g.SessionID, jti: d.NextJTI,
		family: g.FamilyID, familyExpires: g.Expires, familyScope: d.Scope, handle: successorHandle(d.Seed, req.refreshToken)}
	successor := familyHandle(g.FamilyID, in.handle)
	stored := false
	if reused {
		if stored, e = s.successorUnused(r, g, d, lc, successor); e != nil {
			return nil, "", e
		}
	}
	resp, alg, rt, e := s.issueUserTokens(s.reg.Load(), in)
	if e != nil {
		return nil, "", e
	}
	if !reused {
		// One transaction: this token used up, its successor stored,
		// the family's older tokens deleted.
		g, e = s.consumeGrant(ctx, g.ID, now, rt, msgBadRefresh, "refresh: consuming the refresh token failed",
			func(g grantstore.Grant) {
				if reused = reuseAllowed(lc, g, d, now); !reused { // lost a race within the interval: answer as its winner
					s.refreshReused(r, g, d, lc)
				}
			})
		if e != nil && !reused {
			return nil, "", e
		}
		if reused {
			if stored, e = s.successorUnused(r, g, d, lc, successor); e != nil {
				return nil, "", e
			}
		}
	}
	if reused && !stored {
		// The rotation was made by an earlier version, which stored the
		// successor on its own: store it (the same token, one row).
		if err := s.oidc.grants.CreateGrant(ctx, *rt); err != nil && !errors.Is(err, grantstore.ErrExists) {
			s.log.Error("storing a refresh token failed", "client_id", cl.id, "error", err)
			return nil, "", unavailable()
		}
		// A reuse that raced revoked the family, this token included,
		// possibly before its successor was stored: check.
		if after, err := s.oidc.grants.Grant(ctx, g.ID); err != nil || !after.Revoked.IsZero() {
			s.refreshReused(r, g, d, lc)
			return nil, "", invalidGrant(msgBadRefresh)
		}
	}
	return resp, string(alg), nil
}

// refreshReused handles a second use of a refresh token: the token may be
// stolen, so its whole family is revoked with the access tokens known to
// it (the one issued with it and the one its first use issued).
func (s *Server) refreshReused(r *http.Request, g grantstore.Grant, d refreshData, lc *loginClient) {
	s.log.Warn("refresh token used twice; revoking its family", "client_id", g.ClientID, "sub", g.Subject)
	if err := s.revokeFamily(r.Context(), g.FamilyID, lc.accessLifetime, d.JTI, d.NextJTI); err != nil {
		s.log.Error("revoking a reused refresh token's family failed", "client_id", g.ClientID, "error", err)
	}
}
