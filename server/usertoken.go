package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/clientauthn"
	"github.com/signet-id/signet/server/internal/oauth"
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
	form         map[string]string // every parameter
}

// parseUserTokenRequest parses the body of an authorization_code or
// refresh_token request. A parameter may not appear twice.
func parseUserTokenRequest(body string) (userTokenRequest, *oauth.Error) {
	p, ok := parseParams(body)
	if !ok {
		return userTokenRequest{}, oauth.InvalidRequest("the body is not valid application/x-www-form-urlencoded")
	}
	if d := p.dup("grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope"); d != "" {
		return userTokenRequest{}, oauth.InvalidRequest("parameter " + d + " appears more than once")
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
		form:         p.v,
	}
	_, req.hasSecret = p.v["client_secret"]
	return req, nil
}

// authenticateClient authenticates the client of a request to the
// revocation endpoint as the token endpoint does for the login flows:
// HTTP Basic or client_secret_post for confidential clients, client_id
// alone for public ones (an empty Basic password counts as none).
func (s *Server) authenticateClient(r *http.Request, form map[string]string) (*client, *loginClient, *oauth.Error) {
	reg := s.reg.Load()
	_, hasSecret := form["client_secret"]
	ac, e := clientauthn.Authenticate(&clientauthn.Request{HTTP: r, ClientID: form["client_id"], Secret: form["client_secret"], HasSecret: hasSecret,
		Assertion: form["client_assertion"], AssertionType: form["client_assertion_type"], Public: true,
		Clients: reg, Dummies: reg.dummy}, s.clientMethods, noClientAuth)
	if e != nil {
		return nil, nil, e
	}
	return reg.clients[ac.ID], reg.login[ac.ID], nil
}

// readGrant loads the grant behind handle and decodes its data into v. A
// missing grant, one of another kind or with undecodable data is
// invalid_grant with the single message bad (the client learns nothing
// more); a store failure is logged as failed and is
// temporarily_unavailable.
func (s *Server) readGrant(ctx context.Context, handle string, kind grantstore.Kind, v any, bad, failed string) (grantstore.Grant, *oauth.Error) {
	id := grantstore.HashHandle(handle)
	// A grant this instance stored and nobody used yet: what it holds is
	// as stored, and its use checks the rest (unusedgrants.go). One past
	// its expiry is read from the store, whose answer names it.
	if g, ok := s.oidc.unused.take(id); ok && g.Kind == kind && s.now().Before(g.Expires) && json.Unmarshal(g.Data, v) == nil {
		return g, nil
	}
	g, err := s.oidc.grants.Grant(ctx, id)
	if errors.Is(err, grantstore.ErrNotFound) {
		return g, oauth.InvalidGrant(bad)
	}
	if err != nil {
		s.log.Error(failed, "error", err)
		return g, oauth.Unavailable()
	}
	if g.Kind != kind || json.Unmarshal(g.Data, v) != nil {
		return g, oauth.InvalidGrant(bad)
	}
	return g, nil
}

// consumeGrant uses the grant id once, atomically in the store, and
// stores next (a refresh token; nil: none) in the same transaction. A
// second use (a replay that won or lost a race) calls replayed with the
// grant and is invalid_grant, as are a grant gone, expired or revoked
// since it was read; a store failure is logged as failed.
func (s *Server) consumeGrant(ctx context.Context, id string, now time.Time, next *grantstore.Grant, bad, failed string, replayed func(grantstore.Grant)) (grantstore.Grant, *oauth.Error) {
	var (
		g   grantstore.Grant
		err error
	)
	if next != nil {
		g, err = s.oidc.grants.Rotate(ctx, id, now, *next)
	} else {
		g, err = s.oidc.grants.ConsumeGrant(ctx, id, now)
	}
	refused := errors.Is(err, grantstore.ErrConsumed) || errors.Is(err, grantstore.ErrNotFound) ||
		errors.Is(err, grantstore.ErrExpired) || errors.Is(err, grantstore.ErrRevoked)
	if s.oidc.unused.settle(id) && refused {
		// Taken from unusedGrants, but used, revoked or gone meanwhile:
		// handled again with the grant as stored.
		return g, errRetryFromStore
	}
	if err == nil && next != nil {
		s.oidc.unused.put(*next)
	}
	switch {
	case errors.Is(err, grantstore.ErrConsumed):
		replayed(g)
		return g, oauth.InvalidGrant(bad)
	case errors.Is(err, grantstore.ErrNotFound), errors.Is(err, grantstore.ErrExpired), errors.Is(err, grantstore.ErrRevoked):
		return g, oauth.InvalidGrant(bad)
	case err != nil:
		s.log.Error(failed, "error", err)
		return g, oauth.Unavailable()
	}
	return g, nil
}
