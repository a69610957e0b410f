package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/signet-id/signet/clientauth"
	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/authorize"
	"github.com/signet-id/signet/server/internal/authorize/dpopjkt"
	pkceext "github.com/signet-id/signet/server/internal/authorize/pkce"
	"github.com/signet-id/signet/server/internal/clientauthn"
	noneauthn "github.com/signet-id/signet/server/internal/clientauthn/none"
	pkjauthn "github.com/signet-id/signet/server/internal/clientauthn/privatekeyjwt"
	secretauthn "github.com/signet-id/signet/server/internal/clientauthn/secret"
	"github.com/signet-id/signet/server/internal/granttype"
	"github.com/signet-id/signet/server/internal/granttype/authcode"
	"github.com/signet-id/signet/server/internal/granttype/clientcredentials"
	"github.com/signet-id/signet/server/internal/granttype/refresh"
	"github.com/signet-id/signet/server/internal/oauth"
)

// authnEnv gives the client authentication methods what they need from
// the server: the secret check under the abuse budgets (throttle.go) and
// the security log (seclog.go).
type authnEnv struct {
	s *Server
	// what authenticates: "client", or "API resource" at introspection.
	what string
}

func (a authnEnv) CheckSecret(r *http.Request, cred clientauth.BasicCredentials, secrets, dummies []*clientauth.Secret, unknown string) *oauth.Error {
	return a.s.checkClientSecret(r, a.what, cred, secrets, dummies, unknown)
}

func (a authnEnv) Refused(r *http.Request, id, reason string, e *oauth.Error) *oauth.Error {
	if e == nil {
		return a.s.authFailed(r, a.what, id, reason)
	}
	return a.s.authRefused(r, a.what, id, reason, e)
}

// assemblePipeline sets the client authentication methods (secretMethods
// for the grants of confidential clients, clientMethods with none for
// the grants public clients use too, and at revocation) and the grant
// types: client_credentials always, authorization_code and refresh_token
// with the login flows (hasLogin: Config.Grants is set).
func (s *Server) assemblePipeline(hasLogin bool) {
	env := authnEnv{s, "client"}
	// private_key_jwt first: it refuses a request that also sends a secret.
	keyed := pkjauthn.Method{Env: env, Verifier: s.assertions}
	s.introspectMethods = []clientauthn.Method{pkjauthn.Method{Env: authnEnv{s, "API resource"}, Verifier: s.assertions}}
	s.secretMethods = []clientauthn.Method{keyed, secretauthn.Basic{Env: env}, secretauthn.Post{Env: env}}
	s.clientMethods = []clientauthn.Method{keyed, secretauthn.Basic{Env: env}, secretauthn.Post{Env: env}, noneauthn.None{Env: env}}
	s.authzExtensions = []authorize.Extension{pkceext.PKCE{}, dpopjkt.DPoPJKT{}}
	handlers := []granttype.Handler{clientcredentials.Handler{Env: ccEnv{s}}}
	if hasLogin {
		handlers = append(handlers, authcode.Handler{Env: userEnv{s}, Extensions: s.authzExtensions}, refresh.Handler{Env: userEnv{s}})
	}
	s.grantTypes = make(map[string]granttype.Handler, len(handlers))
	for _, h := range handlers {
		s.grantTypes[h.GrantType()] = h
	}
}

// ccEnv gives the client_credentials grant the server's token issuing
// (token.go).
type ccEnv struct{ s *Server }

// userEnv gives the authorization_code and refresh_token grants what they
// need from the server: the grant store, the users, the token issuing
// (idtoken.go), the clock and the log.
type userEnv struct{ s *Server }

func (e userEnv) Now() time.Time           { return e.s.now() }
func (e userEnv) Log() *slog.Logger        { return e.s.log }
func (e userEnv) Grants() grantstore.Store { return e.s.oidc.grants }

func (e userEnv) ReadGrant(ctx context.Context, handle string, kind grantstore.Kind, v any, bad, failed string) (grantstore.Grant, *oauth.Error) {
	return e.s.readGrant(ctx, handle, kind, v, bad, failed)
}

func (e userEnv) ConsumeGrant(ctx context.Context, id string, now time.Time, next *grantstore.Grant, bad, failed string, replayed func(grantstore.Grant)) (grantstore.Grant, *oauth.Error) {
	return e.s.consumeGrant(ctx, id, now, next, bad, failed, replayed)
}

func (e userEnv) GrantRefused(r *http.Request, g grantstore.Grant, what, reason string) *oauth.Error {
	return e.s.grantRefused(r, g, what, reason)
}

func (e userEnv) RevokeFamily(ctx context.Context, family string, lifetime time.Duration, jtis ...string) error {
	return e.s.revokeFamily(ctx, family, lifetime, jtis...)
}

func (e userEnv) UserActive(ctx context.Context, subject string) *oauth.Error {
	return e.s.userActive(ctx, subject)
}

// CheckScopes checks scopes for the client as it authenticated, against
// the current API resources (checkScopes).
func (e userEnv) CheckScopes(r *granttype.Request, scopes []string) *oauth.Error {
	cl, lc := requestClient(r)
	return checkScopes(e.s.reg.Load(), cl, lc, scopes)
}

// IssueUserTokens issues the tokens of in (issueUserTokens) and encodes
// the response.
func (e userEnv) IssueUserTokens(r *granttype.Request, in granttype.Issue) ([]byte, string, *grantstore.Grant, *oauth.Error) {
	s := e.s
	cl, lc := requestClient(r)
	resp, alg, rt, oe := s.issueUserTokens(r.HTTP.Context(), s.reg.Load(), issueInput{cl: cl, lc: lc, jkt: r.DPoPJKT, Issue: in})
	if oe != nil {
		return nil, "", nil, oe
	}
	b, _ := json.Marshal(resp) // cannot fail: strings and a number
	return b, string(alg), rt, nil
}

// requestClient returns the client of r as it authenticated: from the
// registry the token endpoint authenticated it with.
func requestClient(r *granttype.Request) (*client, *loginClient) {
	reg := r.State.(*tokenScratch).reg
	return reg.clients[r.Client.ID], reg.login[r.Client.ID]
}

// The stored payloads of codes and refresh tokens, and the grants' single
// answers, live with the grant types (server/internal/granttype).
type (
	codeData    = granttype.CodeData
	refreshData = granttype.RefreshData
)

const (
	msgBadCode    = granttype.MsgBadCode
	msgBadRefresh = granttype.MsgBadRefresh
)

// familyHandle, handleFamily and validRefreshHandle are the refresh
// token handles' shapes (granttype/refresh).
func familyHandle(family, secret string) string { return refresh.FamilyHandle(family, secret) }
func handleFamily(handle string) string         { return refresh.HandleFamily(handle) }
func validRefreshHandle(v string) bool          { return refresh.ValidRefreshHandle(v) }
