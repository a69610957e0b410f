package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signet-id/signet/adminauth"
	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/registration"
	"github.com/signet-id/signet/server/internal/oauth"
	"github.com/signet-id/signet/throttle"
)

// PathRegister is the dynamic client registration endpoint (RFC 7591);
// PathRegister + "/{client_id}" is each registered client's configuration
// endpoint (RFC 7592).
const PathRegister = "/connect/register"

// Registration serves OAuth 2.0 dynamic client registration (RFC 7591)
// and client configuration (RFC 7592) at PathRegister; discovery then
// names it registration_endpoint.
type Registration struct {
	// Policy is what a registered client may have (dynamicRegistration).
	Policy registration.Policy
	// Store keeps the registered clients (the client registry, reserving
	// the file's ids). Required.
	Store clientreg.Store
	// InitialAccessTokens verifies initial access tokens: Signet's own
	// admin tokens with signet.admin.register or signet.admin.write.
	// Required when Policy.InitialAccessToken is "required"; with
	// "optional", nil refuses a request that sends one.
	InitialAccessTokens *adminauth.Verifier
	// Check applies the configuration's rules to a client before it is
	// stored (nil: the registry's rules only); its error is answered
	// invalid_client_metadata.
	Check func(context.Context, clientreg.Client) error
}

// maxRegistrationBody bounds a registration request.
const maxRegistrationBody = 64 << 10

// registerer is the server's registration endpoint.
type registerer struct {
	s *Server
	Registration
}

func (s *Server) newRegisterer(r *Registration) (*registerer, error) {
	if r == nil {
		return nil, nil
	}
	if r.Store == nil {
		return nil, errors.New("server: Registration.Store is required")
	}
	if err := r.Policy.Validate(); err != nil {
		return nil, errors.New("server: Registration: " + err.Error())
	}
	if r.Policy.InitialAccessToken == registration.InitialAccessTokenRequired && r.InitialAccessTokens == nil {
		return nil, errors.New("server: Registration: initial access tokens are required, and InitialAccessTokens is nil")
	}
	return &registerer{s: s, Registration: *r}, nil
}

func (g *registerer) routes(handle func(pattern, route string, h http.HandlerFunc)) {
	p := g.s.prefix + PathRegister
	handle("POST "+p, "register", g.serveRegister)
	handle("GET "+p+"/{id}", "register_client", g.serveRead)
	handle("PUT "+p+"/{id}", "register_client", g.serveUpdate)
	handle("DELETE "+p+"/{id}", "register_client", g.serveDelete)
}

// registerKeys are the registration budgets: the address, then every
// address together. Each attempt counts, successful or not: they bound
// the rows that open registration adds.
func (s *Server) registerKeys(addr string) []throttle.Key {
	return []throttle.Key{
		{Name: "register:" + addr, Limit: s.limits.RegistrationPerAddress},
		{Name: "register:*", Limit: s.limits.Registrations},
	}
}

func regError(w http.ResponseWriter, status int, code, desc string) {
	oauth.WriteError(w, &oauth.Error{Status: status, Code: code, Desc: desc})
}

func writeRegJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		regError(w, http.StatusInternalServerError, "server_error", "the answer could not be encoded")
		return
	}
	h := w.Header()
	h["Content-Type"] = oauth.HdrJSON
	h["Cache-Control"] = oauth.HdrNoStore
	h["Pragma"] = oauth.HdrNoCache
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func unauthorized(w http.ResponseWriter, desc string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	regError(w, http.StatusUnauthorized, registration.CodeInvalidToken, desc)
}

// serveRegister is RFC 7591 section 3: a client registers itself.
func (g *registerer) serveRegister(w http.ResponseWriter, r *http.Request) {
	s := g.s
	ctx := r.Context()
	res, wait, err := s.attempts.Reserve(ctx, s.registerKeys(s.addrKey(r))...)
	if err != nil {
		s.log.Error("registration: counting the attempt failed", "error", err)
		oauth.WriteError(w, oauth.Unavailable())
		return
	}
	if res == nil {
		s.metrics.throttled("registration")
		oauth.WriteError(w, &oauth.Error{Status: http.StatusTooManyRequests, Code: "invalid_request", RetryAfter: retryAfter(wait),
			Desc: "too many client registrations; retry after " + strconv.FormatInt(retryAfter(wait), 10) + " seconds"})
		return
	}
	res.Failed() // every registration attempt spends the budget
	by, ok := g.initialToken(w, r)
	if !ok {
		return
	}
	var md registration.Metadata
	if e := readMetadata(r, &md); e != nil {
		regError(w, http.StatusBadRequest, e.Code, e.Description)
		return
	}
	c, ok := g.checkPolicy(w, md)
	if !ok {
		return
	}
	now := s.now().UTC().Truncate(time.Second)
	id, err := randomID(s)
	if err != nil {
		oauth.WriteError(w, oauth.Unavailable())
		return
	}
	rat, ratHash, err := registration.NewSecret(s.rand)
	if err != nil {
		oauth.WriteError(w, oauth.Unavailable())
		return
	}
	rec := g.record(id, c, nil)
	rec.RegistrationAccessTokenHash = ratHash
	secret, expires := "", int64(0)
	if c.NeedsSecret {
		sec, hash, err := registration.NewSecret(s.rand)
		if err != nil {
			oauth.WriteError(w, oauth.Unavailable())
			return
		}
		st := clientreg.Secret{Hash: hash, CreatedAt: now}
		if g.Policy.DefaultLifetime > 0 {
			end := now.Add(g.Policy.DefaultLifetime)
			st.ExpiresAt, expires = &end, end.Unix()
		}
		rec.Secrets, secret = []clientreg.Secret{st}, sec
	}
	if !g.checkRecord(w, r, rec) {
		return
	}
	stored, err := g.Store.CreateClient(ctx, rec, clientreg.Change{By: by, At: now})
	if err != nil {
		s.log.Error("registration: storing the client failed", "error", err)
		oauth.WriteError(w, oauth.Unavailable())
		return
	}
	s.log.Info("client registered", "client_id", id, "by", by, "address", s.logAddr(r), "grant_types", c.GrantTypes)
	out := g.response(stored)
	out["client_secret"], out["client_secret_expires_at"] = secret, expires
	if secret == "" {
		delete(out, "client_secret")
		delete(out, "client_secret_expires_at")
	}
	out["registration_access_token"] = rat
	writeRegJSON(w, http.StatusCreated, out)
}

// checkPolicy checks md against the policy; a refusal is answered 400
// with the policy's error.
func (g *registerer) checkPolicy(w http.ResponseWriter, md registration.Metadata) (*registration.Client, bool) {
	c, err := g.Policy.Check(md)
	if err != nil {
		var e *registration.Error
		errors.As(err, &e)
		regError(w, http.StatusBadRequest, e.Code, e.Description)
		return nil, false
	}
	return c, true
}

// checkRecord applies the configuration's rules (Check) to rec; a
// refusal is answered 400 invalid_client_metadata.
func (g *registerer) checkRecord(w http.ResponseWriter, r *http.Request, rec clientreg.Client) bool {
	if g.Check == nil {
		return true
	}
	if err := g.Check(r.Context(), rec); err != nil {
		regError(w, http.StatusBadRequest, registration.CodeInvalidClientMetadata, err.Error())
		return false
	}
	return true
}

// initialToken checks the initial access token and returns the author
// of the registration: clientreg.ByDynamic, with the token's client_id
// when one was sent ("dynamic:ops").
func (g *registerer) initialToken(w http.ResponseWriter, r *http.Request) (string, bool) {
	tok, ok := adminauth.BearerToken(r)
	if !ok {
		unauthorized(w, "the Authorization header must be one \"Bearer <initial access token>\"")
		return "", false
	}
	if tok == "" {
		if g.Policy.InitialAccessToken == registration.InitialAccessTokenRequired {
			w.Header().Set("WWW-Authenticate", `Bearer`)
			regError(w, http.StatusUnauthorized, registration.CodeInvalidToken,
				"registration needs an initial access token: a token from this server for "+adminauth.Audience+" with the scope "+adminauth.ScopeRegister)
			return "", false
		}
		return clientreg.ByDynamic, true
	}
	if g.InitialAccessTokens == nil {
		unauthorized(w, "this server issues no initial access tokens; register without Authorization")
		return "", false
	}
	c, err := g.InitialAccessTokens.Verify(tok)
	if err != nil {
		unauthorized(w, strings.TrimPrefix(err.Error(), "adminauth: "))
		return "", false
	}
	if !c.Has(adminauth.ScopeRegister) && !c.Has(adminauth.ScopeWrite) {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+adminauth.ScopeRegister+`"`)
		regError(w, http.StatusForbidden, "insufficient_scope", "the initial access token lacks the scope "+adminauth.ScopeRegister)
		return "", false
	}
	return clientreg.ByDynamic + ":" + c.ClientID, true
}

// readMetadata decodes a registration body: a JSON object, members
// Signet does not know ignored (RFC 7591 section 2).
func readMetadata(r *http.Request, md any) *registration.Error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return &registration.Error{Code: registration.CodeInvalidClientMetadata, Description: "send the metadata as a JSON object with Content-Type: application/json"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRegistrationBody+1))
	if err != nil || len(body) > maxRegistrationBody {
		return &registration.Error{Code: registration.CodeInvalidClientMetadata, Description: "the body is unreadable or over 64 KiB"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(md); err != nil || dec.More() {
		msg := "the body must be one JSON object of client metadata"
		if err != nil {
			msg += ": " + strings.TrimPrefix(err.Error(), "json: ")
		}
		return &registration.Error{Code: registration.CodeInvalidClientMetadata, Description: msg}
	}
	return nil
}

func randomID(s *Server) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// extra is the registration metadata Signet keeps without interpreting.
// client_name, client_uri and logo_uri are the client's displayName,
// clientUri and logoUri (records written before those fields existed
// keep them in clientName and extra, which response still reads).
type extra struct {
	Contacts        []string `json:"contacts,omitempty"`
	TOSURI          string   `json:"tos_uri,omitempty"`
	PolicyURI       string   `json:"policy_uri,omitempty"`
	SoftwareID      string   `json:"software_id,omitempty"`
	SoftwareVersion string   `json:"software_version,omitempty"`
}

// record is the registry record of a checked registration; old (an
// update) gives the secrets and the registration token hash to keep.
func (g *registerer) record(id string, c *registration.Client, old *clientreg.Client) clientreg.Client {
	rec := clientreg.Client{
		ClientID:                id,
		AllowedGrantTypes:       c.GrantTypes,
		AllowedScopes:           c.Scopes,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		JWKSURI:                 c.JWKSURI,
		RedirectURIs:            c.RedirectURIs,
		PostLogoutRedirectURIs:  c.PostLogoutRedirectURIs,
		DisplayName:             c.ClientName,
		LogoURI:                 c.LogoURI,
		ClientURI:               c.ClientURI,
	}
	if c.KeySet != nil {
		rec.JWKS = c.JWKS
	}
	if x, _ := json.Marshal(extra{c.Contacts, c.TOSURI, c.PolicyURI, c.SoftwareID, c.SoftwareVersion}); string(x) != "{}" {
		rec.Extra = x
	}
	// What only an administrator sets (RFC 7591 has no member for it)
	// survives the client's own update (RFC 7592), and the policy's
	// consent page cannot be turned off; all of it applies to sign-ins
	// only (the file's rules refuse it without authorization_code).
	signsIn := slices.Contains(rec.AllowedGrantTypes, registration.GrantAuthorizationCode)
	rec.RequireConsent = signsIn && g.Policy.RequireConsent
	if old != nil {
		rec.Secrets, rec.RegistrationAccessTokenHash = old.Secrets, old.RegistrationAccessTokenHash
		if signsIn {
			rec.RequireConsent = rec.RequireConsent || old.RequireConsent
			rec.AllowRememberConsent = rec.RequireConsent && old.AllowRememberConsent
			rec.RequireMFA, rec.AllowedConnectors = old.RequireMFA, old.AllowedConnectors
		}
	}
	return rec
}

// response is the client information response (RFC 7591 section 3.2.1,
// RFC 7592 section 3): the metadata as registered, without secrets.
func (g *registerer) response(c clientreg.Client) map[string]any {
	out := map[string]any{
		"client_id":                  c.ClientID,
		"client_id_issued_at":        c.Meta.CreatedAt.Unix(),
		"registration_client_uri":    g.s.issuer + PathRegister + "/" + url.PathEscape(c.ClientID),
		"redirect_uris":              c.RedirectURIs,
		"grant_types":                c.AllowedGrantTypes,
		"token_endpoint_auth_method": c.TokenEndpointAuthMethod,
		"scope":                      strings.Join(c.AllowedScopes, " "),
	}
	if len(c.PostLogoutRedirectURIs) > 0 {
		out["post_logout_redirect_uris"] = c.PostLogoutRedirectURIs
	}
	for _, g := range c.AllowedGrantTypes {
		if g == registration.GrantAuthorizationCode {
			out["response_types"] = []string{"code"}
		}
	}
	if c.JWKSURI != "" {
		out["jwks_uri"] = c.JWKSURI
	}
	if len(c.JWKS) > 0 {
		out["jwks"] = c.JWKS
	}
	var x map[string]any
	if len(c.Extra) > 0 && json.Unmarshal(c.Extra, &x) == nil {
		for k, v := range x {
			out[k] = v
		}
	}
	// Older records keep client_name in clientName and the URIs in extra.
	for k, v := range map[string]string{"client_name": cmp.Or(c.DisplayName, c.ClientName), "logo_uri": c.LogoURI, "client_uri": c.ClientURI} {
		if v != "" {
			out[k] = v
		}
	}
	for _, s := range c.Secrets {
		if s.ExpiresAt == nil {
			out["client_secret_expires_at"] = 0
		} else {
			out["client_secret_expires_at"] = s.ExpiresAt.Unix()
		}
	}
	return out
}

// configured authenticates an RFC 7592 request: the registration access
// token of the client in the path, compared in constant time. Any failure
// (an unknown client included) is 401 invalid_token, so the endpoint does
// not tell which ids exist.
func (g *registerer) configured(w http.ResponseWriter, r *http.Request) (clientreg.Client, bool) {
	tok, ok := adminauth.BearerToken(r)
	if !ok || tok == "" {
		unauthorized(w, "send the registration access token: Authorization: Bearer <registration_access_token>")
		return clientreg.Client{}, false
	}
	c, err := g.Store.Client(r.Context(), r.PathValue("id"))
	if err != nil && !errors.Is(err, clientreg.ErrNotFound) && !errors.Is(err, clientreg.ErrReserved) {
		g.s.log.Error("registration: reading the client failed", "error", err)
		oauth.WriteError(w, oauth.Unavailable())
		return clientreg.Client{}, false
	}
	if err != nil || !registration.CheckSecret(c.RegistrationAccessTokenHash, tok) {
		g.s.log.Info("client configuration: refused registration access token", "client_id", oauth.Clip(r.PathValue("id")), "address", g.s.logAddr(r))
		unauthorized(w, "the registration access token is not valid for this client")
		return clientreg.Client{}, false
	}
	return c, true
}

// serveRead is RFC 7592 section 2.1.
func (g *registerer) serveRead(w http.ResponseWriter, r *http.Request) {
	c, ok := g.configured(w, r)
	if !ok {
		return
	}
	writeRegJSON(w, http.StatusOK, g.response(c))
}

// serveUpdate is RFC 7592 section 2.2: the metadata is replaced and
// checked again by the policy; the secret and the registration access
// token stay.
func (g *registerer) serveUpdate(w http.ResponseWriter, r *http.Request) {
	old, ok := g.configured(w, r)
	if !ok {
		return
	}
	var md struct {
		registration.Metadata
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if e := readMetadata(r, &md); e != nil {
		regError(w, http.StatusBadRequest, e.Code, e.Description)
		return
	}
	if md.ClientID != old.ClientID {
		regError(w, http.StatusBadRequest, "invalid_request", "client_id in the body must be the client's own (RFC 7592 section 2.2)")
		return
	}
	c, ok := g.checkPolicy(w, md.Metadata)
	if !ok {
		return
	}
	if (c.NeedsSecret) != (len(old.Secrets) > 0) {
		regError(w, http.StatusBadRequest, registration.CodeInvalidClientMetadata, "token_endpoint_auth_method cannot change between a secret and no secret; register a new client")
		return
	}
	rec := g.record(old.ClientID, c, &old)
	if !g.checkRecord(w, r, rec) {
		return
	}
	stored, err := g.Store.UpdateClient(r.Context(), rec, old.Meta.Revision, clientreg.Change{By: clientreg.ByDynamic + ":" + old.ClientID})
	if err != nil {
		g.storeFailed(w, err)
		return
	}
	writeRegJSON(w, http.StatusOK, g.response(stored))
}

// serveDelete is RFC 7592 section 2.3.
func (g *registerer) serveDelete(w http.ResponseWriter, r *http.Request) {
	old, ok := g.configured(w, r)
	if !ok {
		return
	}
	if err := g.Store.DeleteClient(r.Context(), old.ClientID, old.Meta.Revision, clientreg.Change{By: clientreg.ByDynamic + ":" + old.ClientID}); err != nil {
		g.storeFailed(w, err)
		return
	}
	g.s.log.Info("registered client deleted by itself", "client_id", old.ClientID)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (g *registerer) storeFailed(w http.ResponseWriter, err error) {
	if errors.Is(err, clientreg.ErrConflict) || errors.Is(err, clientreg.ErrNotFound) {
		regError(w, http.StatusConflict, "invalid_request", "the client changed meanwhile; read it again and retry")
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	g.s.log.Error("registration: the store failed", "error", err)
	oauth.WriteError(w, oauth.Unavailable())
}
