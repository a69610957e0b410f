package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/oauth"
)

// serveRevocation is the revocation endpoint (RFC 7009). The client
// authenticates as at the token endpoint. A refresh token revokes its
// whole family and the access tokens known to it; an access token is
// revoked by its jti until it expires. Unknown tokens, and tokens of
// another client, are answered 200 and left alone, so the endpoint tells
// nothing about them.
func (s *Server) serveRevocation(w http.ResponseWriter, r *http.Request) {
	p, e := s.readOAuthForm(r)
	if e == nil {
		if d := p.dup("token", "token_type_hint", "client_id", "client_secret", "client_assertion", "client_assertion_type"); d != "" {
			e = oauth.InvalidRequest("parameter " + d + " appears more than once")
		}
	}
	var cl *client
	var lc *loginClient
	if e == nil {
		cl, lc, e = s.authenticateClient(r, p.v)
	}
	if e == nil && p.v["token"] == "" {
		e = oauth.InvalidRequest("token is missing")
	}
	if e != nil {
		oauth.WriteError(w, e)
		return
	}
	token := p.v["token"]
	ctx := r.Context()
	var done bool
	var err error
	if p.v["token_type_hint"] == "access_token" {
		if done, err = s.revokeAccessToken(ctx, cl, token); err == nil && !done {
			_, err = s.revokeRefreshToken(ctx, cl, lc, token)
		}
	} else {
		if done, err = s.revokeRefreshToken(ctx, cl, lc, token); err == nil && !done {
			_, err = s.revokeAccessToken(ctx, cl, token)
		}
	}
	if err != nil {
		s.log.Error("revocation failed", "client_id", cl.id, "error", err)
		oauth.WriteError(w, oauth.Unavailable())
		return
	}
	h := w.Header()
	h["Cache-Control"] = oauth.HdrNoStore
	h["Pragma"] = oauth.HdrNoCache
	w.WriteHeader(http.StatusOK)
}

// revokeRefreshToken revokes token's family if it is a refresh token of
// cl. done reports whether token is a refresh token at all.
func (s *Server) revokeRefreshToken(ctx context.Context, cl *client, lc *loginClient, token string) (done bool, err error) {
	if !validRefreshHandle(token) {
		return false, nil
	}
	g, err := s.oidc.grants.Grant(ctx, grantstore.HashHandle(token))
	if errors.Is(err, grantstore.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if g.Kind != grantstore.KindRefreshToken {
		return false, nil
	}
	var d refreshData
	if g.ClientID != cl.id || json.Unmarshal(g.Data, &d) != nil {
		return true, nil
	}
	s.log.Info("refresh token revoked", "client_id", cl.id, "sub", g.Subject)
	return true, s.revokeFamily(ctx, g.FamilyID, lc.AccessLifetime, d.JTI, d.NextJTI)
}

// revokeAccessToken revokes token if it is a valid access token of cl.
// done reports whether it is an access token this server signed.
func (s *Server) revokeAccessToken(ctx context.Context, cl *client, token string) (done bool, err error) {
	payload, err := s.verifyJWT(token, "at+jwt")
	if err != nil {
		if errors.Is(err, errTokenInvalid) {
			return false, nil
		}
		return false, err
	}
	var c userAccessClaims
	if json.Unmarshal(payload, &c) != nil || c.Iss != s.issuer {
		return false, nil
	}
	if c.ClientID != cl.id {
		return true, nil
	}
	s.log.Info("access token revoked", "client_id", cl.id, "sub", c.Sub)
	return true, s.revokeJTI(ctx, c.Jti, time.Unix(c.Exp, 0))
}
