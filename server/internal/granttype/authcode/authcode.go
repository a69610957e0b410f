package authcode

import (
	"net/http"
	"slices"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/authorize"
	"github.com/signet-id/signet/server/internal/granttype"
	"github.com/signet-id/signet/server/internal/oauth"
)

// GrantType is authorization_code.
const GrantType = "authorization_code"

// Handler is the authorization_code grant.
type Handler struct {
	Env granttype.Env
	// Extensions are the authorization-request extensions whose binding
	// of the code a redemption must match (PKCE), in order.
	Extensions []authorize.Extension
}

var _ granttype.Handler = Handler{}

// GrantType returns authorization_code.
func (Handler) GrantType() string { return GrantType }

// Public returns true: public clients redeem codes (with PKCE).
func (Handler) Public() bool { return true }

// Handle redeems an authorization code (RFC 6749 4.1.3, RFC 7636).
func (h Handler) Handle(req *granttype.Request) (*granttype.Response, *oauth.Error) {
	r, c := req.HTTP, req.Client
	code, redirectURI := req.Form["code"], req.Form["redirect_uri"]
	ctx := r.Context()
	switch {
	case !c.Code:
		return nil, granttype.UnauthorizedClient(GrantType)
	case code == "":
		return nil, oauth.InvalidRequest("code is missing")
	case redirectURI == "":
		return nil, oauth.InvalidRequest("redirect_uri is missing")
	}
	var d granttype.CodeData
	g, e := h.Env.ReadGrant(ctx, code, grant.KindAuthorizationCode, &d, granttype.MsgBadCode, "code exchange: reading the code failed")
	if e != nil {
		return nil, e
	}
	// The client and the redirect URI are checked first: only the client
	// the code was issued to, with its binding, can trigger a replay's
	// revocation.
	switch {
	case g.ClientID != c.ID:
		return nil, h.Env.GrantRefused(r, g, "authorization code", "issued to another client")
	case d.RedirectURI != redirectURI:
		return nil, h.Env.GrantRefused(r, g, "authorization code", "another redirect_uri")
	}
	// The extensions (PKCE): the request must match what they bound
	// the code to.
	red := &authorize.Redemption{Form: req.Form, DPoPJKT: req.DPoPJKT}
	for _, x := range h.Extensions {
		if e := x.Redeem(&d.Binding, red); e != nil {
			return nil, e
		}
	}
	if !g.Consumed.IsZero() {
		h.codeReplayed(r, g, d, c)
		return nil, oauth.InvalidGrant(granttype.MsgBadCode)
	}
	now := h.Env.Now()
	switch {
	case !g.Revoked.IsZero():
		return nil, h.Env.GrantRefused(r, g, "authorization code", "revoked")
	case !now.Before(g.Expires):
		return nil, h.Env.GrantRefused(r, g, "authorization code", "expired "+now.Sub(g.Expires).Round(time.Second).String()+" ago")
	}
	if e := h.Env.UserActive(ctx, g.Subject); e != nil {
		return nil, e
	}
	scopes, _ := oauth.ParseScope(d.Scope) // stored by the authorization endpoint: valid
	if e := h.Env.CheckScopes(req, scopes); e != nil {
		return nil, e
	}

	in := granttype.Issue{Subject: g.Subject, Scopes: scopes, AuthTime: d.AuthTime, AMR: d.AMR, ACR: d.ACR, SID: g.SessionID, Nonce: d.Nonce, JTI: d.JTI,
		IDTokenClaims: d.IDTokenClaims, UserinfoClaims: d.UserinfoClaims}
	if c.Refresh && slices.Contains(scopes, "offline_access") {
		in.Family, in.FamilyExpires, in.FamilyScope = g.FamilyID, now.Add(c.RefreshLifetime), d.Scope
	}
	body, alg, rt, e := h.Env.IssueUserTokens(req, in)
	if e != nil {
		return nil, e
	}
	// The code is used up and the refresh token stored in one
	// transaction: a replay either loses the race here or comes after
	// the refresh token exists, and its revocation covers it. A replay
	// here lost a race with another redemption.
	if _, e = h.Env.ConsumeGrant(ctx, g.ID, now, rt, granttype.MsgBadCode, "code exchange: consuming the code failed",
		func(g grant.Grant) { h.codeReplayed(r, g, d, c) }); e != nil {
		return nil, e
	}
	return &granttype.Response{Body: body, Alg: alg}, nil
}

// codeReplayed handles a second use of a code: RFC 6749 10.5, revoke what
// the first use issued (the refresh family, the access token by jti).
func (h Handler) codeReplayed(r *http.Request, g grant.Grant, d granttype.CodeData, c *granttype.Client) {
	h.Env.Log().Warn("authorization code used twice; revoking the tokens it issued", "client_id", g.ClientID, "sub", g.Subject)
	if err := h.Env.RevokeFamily(r.Context(), g.FamilyID, c.AccessLifetime, d.JTI); err != nil {
		h.Env.Log().Error("revoking the tokens of a replayed code failed", "client_id", g.ClientID, "error", err)
	}
}
