package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/signet-id/signet/connector"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/seal"
	"github.com/signet-id/signet/user"
)

// Mapping names the upstream claims that fill a user's claims (see
// config.ClaimMapping); an empty field takes the claim of the same name
// (Subject: sub, Username: preferred_username), except Groups, which is
// not mapped when empty.
type Mapping struct {
	Subject, Username, Name, Email, EmailVerified, Groups string
}

// Config configures a Connector.
type Config struct {
	ID, Name string
	// Issuer, ClientID, ClientSecret and Scopes are Signet's
	// registration at the provider; an empty ClientSecret makes Signet a
	// public client there (PKCE only).
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	Mapping      Mapping
	// Store keeps the users' records (required).
	Store connector.Store
	// Sealer seals the upstream refresh tokens; nil: they are not kept,
	// and a refresh checks only that the record exists.
	Sealer *seal.Sealer
	// HTTPClient reaches the provider; nil: one with a 10-second timeout.
	HTTPClient *http.Client
	// Now is the clock (discovery retries); nil: time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Connector is an upstream OpenID Connect provider. It is safe for
// concurrent use.
type Connector struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger

	// refreshes shares one upstream refresh among the concurrent checks
	// of one subject (parallel refreshes of one user): the provider sees
	// its refresh token once, not a reuse it may treat as theft.
	refreshes singleflight.Group

	mu       sync.Mutex
	p        *provider
	retryAt  time.Time
	lastFail error
}

// provider is the provider's discovery, read once.
type provider struct {
	p        *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
	oauth    oauth2.Config
	// issParam: discovery's authorization_response_iss_parameter_supported.
	issParam bool
}

// discoveryRetry is how long a failed discovery is answered from memory
// before it is tried again: a provider that is down costs one request
// per interval, whatever the number of sign-ins.
const discoveryRetry = 10 * time.Second

// New returns the connector of cfg. It does not contact the provider:
// discovery is read at the first sign-in (a provider down at start-up
// does not stop Signet).
func New(cfg Config) (*Connector, error) {
	switch {
	case cfg.ID == "" || cfg.Issuer == "" || cfg.ClientID == "":
		return nil, errors.New("oidc connector: ID, Issuer and ClientID are required")
	case cfg.Store == nil:
		return nil, errors.New("oidc connector: Store is required")
	}
	m := &cfg.Mapping
	for _, f := range []struct {
		field *string
		def   string
	}{{&m.Subject, "sub"}, {&m.Username, "preferred_username"}, {&m.Name, "name"}, {&m.Email, "email"}, {&m.EmailVerified, "email_verified"}} {
		if *f.field == "" {
			*f.field = f.def
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Connector{cfg: cfg, client: cfg.HTTPClient, log: cfg.Logger}
	if c.client == nil {
		c.client = &http.Client{Timeout: 10 * time.Second}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// ID implements connector.Connector.
func (c *Connector) ID() string { return c.cfg.ID }

// Name implements connector.Connector.
func (c *Connector) Name() string { return c.cfg.Name }

// ctx carries the connector's HTTP client to go-oidc and x/oauth2.
func (c *Connector) ctx(ctx context.Context) context.Context {
	return gooidc.ClientContext(ctx, c.client)
}

// provider returns the provider's discovery, reading it the first time.
func (c *Connector) provider(ctx context.Context) (*provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.p != nil {
		return c.p, nil
	}
	if c.cfg.Now().Before(c.retryAt) {
		return nil, c.lastFail
	}
	// Not the request's context: the discovery serves every request after.
	dctx, cancel := context.WithTimeout(c.ctx(context.WithoutCancel(ctx)), 10*time.Second)
	defer cancel()
	p, err := gooidc.NewProvider(dctx, c.cfg.Issuer)
	if err != nil {
		c.retryAt = c.cfg.Now().Add(discoveryRetry)
		c.lastFail = fmt.Errorf("%w: discovery of %s: %w", connector.ErrUnreachable, c.cfg.Issuer, err)
		return nil, c.lastFail
	}
	var meta struct {
		IssParam bool `json:"authorization_response_iss_parameter_supported"`
	}
	_ = p.Claims(&meta) // the document was just decoded
	ep := p.Endpoint()
	if c.cfg.ClientSecret == "" {
		ep.AuthStyle = oauth2.AuthStyleInParams // a public client sends client_id
	}
	c.p = &provider{p: p, issParam: meta.IssParam,
		verifier: p.Verifier(&gooidc.Config{ClientID: c.cfg.ClientID, Now: c.cfg.Now}),
		oauth:    oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, Endpoint: ep, Scopes: c.cfg.Scopes}}
	return c.p, nil
}

// AuthCodeURL implements connector.Redirect.
func (c *Connector) AuthCodeURL(ctx context.Context, b connector.Begin) (string, error) {
	p, err := c.provider(ctx)
	if err != nil {
		return "", err
	}
	o := p.oauth
	o.RedirectURL = b.RedirectURI
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(b.CodeVerifier), gooidc.Nonce(b.Nonce)}
	if b.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", b.LoginHint))
	}
	if b.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", b.Prompt))
	}
	return o.AuthCodeURL(b.State, opts...), nil
}

// Exchange implements connector.Redirect.
func (c *Connector) Exchange(ctx context.Context, q url.Values, b connector.Begin) (string, error) {
	p, err := c.provider(ctx)
	if err != nil {
		return "", err
	}
	// RFC 9207: the iss of the answer, when sent (or announced), is the
	// provider's: an answer from another provider (mix-up) is refused.
	if iss, sent := q["iss"]; sent {
		if len(iss) != 1 || iss[0] != c.cfg.Issuer {
			return "", fmt.Errorf("%w: the answer's iss %q is not the issuer %s (RFC 9207)", connector.ErrUpstream, q.Get("iss"), c.cfg.Issuer)
		}
	} else if p.issParam {
		return "", fmt.Errorf("%w: the answer has no iss parameter, which %s announces (RFC 9207)", connector.ErrUpstream, c.cfg.Issuer)
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(b.State)) != 1 || b.State == "" {
		return "", fmt.Errorf("%w: the state does not match this browser's sign-in", connector.ErrUpstream)
	}
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("%w: %s: %s", connector.ErrUpstream, clip(e), clip(q.Get("error_description")))
	}
	code := q.Get("code")
	if code == "" {
		return "", fmt.Errorf("%w: the answer has neither code nor error", connector.ErrUpstream)
	}
	o := p.oauth
	o.RedirectURL = b.RedirectURI
	tok, err := o.Exchange(c.ctx(ctx), code, oauth2.VerifierOption(b.CodeVerifier))
	if err != nil {
		return "", tokenError("code exchange", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", fmt.Errorf("%w: the token response has no id_token (is openid among the scopes?)", connector.ErrUpstream)
	}
	idt, err := p.verifier.Verify(c.ctx(ctx), raw)
	if err != nil {
		return "", fmt.Errorf("%w: the ID token: %w", connector.ErrUpstream, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(b.Nonce)) != 1 || b.Nonce == "" {
		return "", fmt.Errorf("%w: the ID token's nonce is not this sign-in's", connector.ErrUpstream)
	}
	claims, err := c.claims(ctx, p, idt, tok)
	if err != nil {
		return "", err
	}
	upstream, err := c.upstreamID(claims)
	if err != nil {
		return "", err
	}
	subject := connector.Subject(c.cfg.ID, upstream)
	rec := connector.Record{Subject: subject, Connector: c.cfg.ID, Claims: c.mapClaims(claims), Updated: c.cfg.Now()}
	if err := c.sealRefresh(&rec, tok.RefreshToken); err != nil {
		return "", err
	}
	if err := c.cfg.Store.PutConnectorUser(ctx, rec); err != nil {
		return "", fmt.Errorf("%w: storing the user: %w", user.ErrUnavailable, err)
	}
	return subject, nil
}

// claims returns the ID token's claims, completed by userinfo when the
// provider has one (OpenID Connect Core 5.4 puts the scope claims there
// when an access token is issued). The userinfo sub must be the ID
// token's (5.3.2).
func (c *Connector) claims(ctx context.Context, p *provider, idt *gooidc.IDToken, tok *oauth2.Token) (map[string]any, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: the ID token's claims: %w", connector.ErrUpstream, err)
	}
	if p.p.UserInfoEndpoint() == "" || tok.AccessToken == "" {
		return claims, nil
	}
	ui, err := p.p.UserInfo(c.ctx(ctx), oauth2.StaticTokenSource(tok))
	if err != nil {
		// Userinfo only completes the claims: sign in with the ID token's.
		c.log.Warn("upstream userinfo failed; using the ID token's claims", "connector", c.cfg.ID, "error", err)
		return claims, nil
	}
	if ui.Subject != idt.Subject {
		return nil, fmt.Errorf("%w: userinfo answered for another sub", connector.ErrUpstream)
	}
	var more map[string]any
	if err := ui.Claims(&more); err == nil {
		for k, v := range more {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	return claims, nil
}

// upstreamID is the mapped subject claim: a non-empty string of printable
// ASCII (an Entra oid, a sub), at most 200 bytes.
func (c *Connector) upstreamID(claims map[string]any) (string, error) {
	v, _ := claims[c.cfg.Mapping.Subject].(string)
	if v == "" || len(v) > 200 {
		return "", fmt.Errorf("%w: the claim %q (claimMapping.subject) is missing, not a string or longer than 200 bytes", connector.ErrUpstream, c.cfg.Mapping.Subject)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return "", fmt.Errorf("%w: the claim %q (claimMapping.subject) is not printable ASCII", connector.ErrUpstream, c.cfg.Mapping.Subject)
		}
	}
	return v, nil
}

// mapClaims maps the upstream claims into the user's.
func (c *Connector) mapClaims(in map[string]any) map[string]any {
	out := make(map[string]any)
	m := c.cfg.Mapping
	for _, f := range []struct{ from, to string }{{m.Username, "preferred_username"}, {m.Name, "name"}, {m.Email, "email"}} {
		if s, ok := in[f.from].(string); ok && s != "" && f.from != "" {
			out[f.to] = s
		}
	}
	if m.EmailVerified != "" {
		switch v := in[m.EmailVerified].(type) {
		case bool:
			out["email_verified"] = v
		case string: // some providers send "true"
			if v == "true" || v == "false" {
				out["email_verified"] = v == "true"
			}
		}
	}
	if m.Groups != "" {
		var groups []string
		switch v := in[m.Groups].(type) {
		case []any:
			for _, g := range v {
				if s, ok := g.(string); ok {
					groups = append(groups, s)
				}
			}
		case string:
			groups = []string{v}
		}
		if groups != nil {
			out["groups"] = groups
		}
	}
	return out
}

// sealAD is the record name the sealed refresh tokens are bound to.
const sealAD key.Algorithm = "connector-refresh-token"

func (c *Connector) sealRefresh(rec *connector.Record, rt string) error {
	if rt == "" || c.cfg.Sealer == nil {
		return nil
	}
	sealed, err := c.cfg.Sealer.Seal(rec.Subject, sealAD, []byte(rt))
	if err != nil {
		return fmt.Errorf("%w: sealing the upstream refresh token: %w", user.ErrUnavailable, err)
	}
	rec.RefreshToken = sealed
	return nil
}

// Active implements user.Profiles: the user has a record; at a refresh
// (user.IsRefresh), with an upstream refresh token, the provider must
// also accept it. A refusal deletes the record: the user signs in again.
func (c *Connector) Active(ctx context.Context, subject string) (bool, error) {
	rec, found, err := connector.UserRecord(ctx, c.cfg.Store, subject)
	if !found {
		return false, err
	}
	if !user.IsRefresh(ctx) || rec.RefreshToken == nil || c.cfg.Sealer == nil {
		return true, nil
	}
	v, err, _ := c.refreshes.Do(subject, func() (any, error) {
		// The first caller's context may end before the others': the
		// shared refresh runs to its own end (the client's timeout). The
		// record is read again: a refresh that just ended rotated it.
		sctx := context.WithoutCancel(ctx)
		rec, found, err := connector.UserRecord(sctx, c.cfg.Store, subject)
		if !found {
			return false, err
		}
		return c.refresh(sctx, rec)
	})
	if err != nil {
		return false, err
	}
	return v.(bool), nil
}

// refresh checks the upstream user with its refresh token and keeps what
// the provider answers: the new refresh token, the claims.
func (c *Connector) refresh(ctx context.Context, rec connector.Record) (bool, error) {
	rt, err := c.cfg.Sealer.Open(rec.Subject, sealAD, rec.RefreshToken)
	if err != nil {
		return false, fmt.Errorf("opening the upstream refresh token of %s: %w", rec.Subject, err)
	}
	p, err := c.provider(ctx)
	if err != nil {
		return false, err
	}
	tok, err := p.oauth.TokenSource(c.ctx(ctx), &oauth2.Token{RefreshToken: string(rt)}).Token()
	if err != nil {
		err = tokenError("refresh", err)
		if errors.Is(err, connector.ErrUpstream) {
			c.log.Info("the upstream provider refused the user's refresh token: the user is no longer active", "connector", c.cfg.ID, "sub", rec.Subject, "error", err)
			if err := c.cfg.Store.DeleteConnectorUser(ctx, rec.Subject); err != nil {
				return false, err
			}
			return false, nil
		}
		return false, err
	}
	next := rec
	next.Claims = maps.Clone(rec.Claims)
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		idt, err := p.verifier.Verify(c.ctx(ctx), raw)
		if err != nil {
			c.log.Warn("the upstream ID token of a refresh does not verify: the user is not active", "connector", c.cfg.ID, "sub", rec.Subject, "error", err)
			return false, nil
		}
		claims, err := c.claims(ctx, p, idt, tok)
		if err != nil {
			return false, nil
		}
		if up, err := c.upstreamID(claims); err != nil || connector.Subject(c.cfg.ID, up) != rec.Subject {
			c.log.Warn("the upstream ID token of a refresh names another user: not active", "connector", c.cfg.ID, "sub", rec.Subject)
			return false, nil
		}
		next.Claims = c.mapClaims(claims)
	}
	if tok.RefreshToken != "" && tok.RefreshToken != string(rt) {
		if err := c.sealRefresh(&next, tok.RefreshToken); err != nil {
			return false, err
		}
	}
	next.Updated = c.cfg.Now()
	if err := c.cfg.Store.PutConnectorUser(ctx, next); err != nil {
		return false, err
	}
	return true, nil
}

// Claims implements user.Profiles: the mapped claims by scope at
// userinfo (groups with profile), none in ID tokens, the username on
// Signet's pages.
func (c *Connector) Claims(ctx context.Context, req user.ClaimsRequest) (map[string]any, error) {
	if req.Caller != user.CallerUserinfo && req.Caller != user.CallerPage {
		return nil, nil
	}
	rec, found, err := connector.UserRecord(ctx, c.cfg.Store, req.Subject)
	if !found {
		return nil, err
	}
	return connector.ReleaseTo(rec.Claims, req), nil
}

// tokenError classifies an error of the token endpoint: an OAuth error
// answer (invalid_grant and the like) is ErrUpstream, anything else
// (network, 5xx) ErrUnreachable.
func tokenError(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
		return fmt.Errorf("%w: %s: %s %s", connector.ErrUpstream, what, clip(re.ErrorCode), clip(re.ErrorDescription))
	}
	return fmt.Errorf("%w: %s: %w", connector.ErrUnreachable, what, err)
}

// clip shortens a provider's text for a log line.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
