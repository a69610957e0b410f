package server

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/clientauth/privatekeyjwt"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/server/internal/clientauthn"
	"github.com/signet-id/signet/server/internal/fapi2"
	"github.com/signet-id/signet/server/internal/granttype/clientcredentials"
	"github.com/signet-id/signet/server/internal/oauth"
)

// grantClientCredentials is the grant type of the machine clients.
const grantClientCredentials = clientcredentials.GrantType

// registry is the compiled, immutable set of clients and resources.
type registry struct {
	clients   map[string]*client
	resources map[string]*resource
	ordered   []*resource // configuration order
	scopes    []string    // every scope, configuration order (discovery)
	// dummy is verified against when the client id is unknown: dummies
	// of the costliest client's secrets, so an unknown id costs what a
	// wrong secret of any client costs at most (introspectDummy: of the
	// costliest API resource's secrets).
	dummy           []*clientauth.Secret
	introspectDummy []*clientauth.Secret
	// login is the login-flow view of each client; introspect holds the
	// secrets of the resources that may introspect (oidc.go).
	login      map[string]*loginClient
	introspect map[string][]*clientauth.Secret
	// corsOrigins holds every client's AllowedCORSOrigins (cors.go).
	corsOrigins map[string]bool
}

type resource struct {
	name   string
	scopes []string
	algs   []key.Algorithm // empty: no restriction
	// authn is how the resource authenticates at the introspection
	// endpoint: Assertions set when it uses private_key_jwt.
	authn clientauthn.Client
}

type client struct {
	// authn is what client authentication needs (server/internal/clientauthn).
	authn             clientauthn.Client
	id                string
	fapi2             bool // FAPI 2.0 (server/internal/fapi2): PS256/ES256/EdDSA tokens, no secret
	secrets           []*clientauth.Secret
	clientCredentials bool
	scopes            []string
	lifetime          int64    // seconds
	requireDPoP       bool     // refuse token requests without a DPoP proof
	dpopAlgs          []string // its DPoP proofs' algorithms; nil: the server's
	subJSON           []byte   // ,"sub":"id","client_id":"id"
	// def is the grant for a request with no scope and no resource, or
	// defErr the error such a request gets.
	def    *grant
	defErr *oauth.Error
	// grants remembers the grants of its client_credentials requests
	// (token.go).
	grants cowMap[grantKey, *grant]
}

// grant is what a token carries: scopes, audience and the algorithms
// allowed to sign it, with the JSON fragments ready to append.
type grant struct {
	scope     string          // space-separated, for the response
	scopeJSON []byte          // "a b" as a JSON string
	audJSON   []byte          // "x" or ["x","y"]
	algs      []key.Algorithm // nil: no restriction
}

// AuthnClient returns what client authentication needs to know about the
// client with id, nil when there is none (clientauthn.Clients).
func (reg *registry) AuthnClient(id string) *clientauthn.Client {
	if cl := reg.clients[id]; cl != nil {
		return &cl.authn
	}
	return nil
}

// SetClients replaces the clients and API resources. Requests in flight
// finish with the previous set.
func (s *Server) SetClients(clients []Client, resources []APIResource) error {
	if err := s.checkMFAClients(clients); err != nil {
		return err
	}
	reg, err := compile(clients, resources, s.clientKeySets)
	if err != nil {
		return err
	}
	for _, c := range reg.clients {
		if c.defErr != nil && c.clientCredentials {
			s.log.Warn("a token request without scope or resource will fail for this client", "client_id", c.id, "error", c.defErr.Code, "reason", c.defErr.Desc)
		}
	}
	s.reg.Store(reg)
	return nil
}

func compile(clients []Client, resources []APIResource, remote *privatekeyjwt.Remote) (*registry, error) {
	reg := &registry{clients: make(map[string]*client, len(clients)), resources: make(map[string]*resource, len(resources)),
		corsOrigins: make(map[string]bool)}
	known := make(map[string]bool)
	for _, r := range resources {
		if r.Name == "" {
			return nil, errors.New("server: an API resource has no name")
		}
		if reg.resources[r.Name] != nil {
			return nil, fmt.Errorf("server: API resource %q is defined twice", r.Name)
		}
		res := &resource{name: r.Name, scopes: slices.Clone(r.Scopes), algs: slices.Clone(r.AllowedSigningAlgorithms),
			authn: clientauthn.Client{ID: r.Name, Secrets: r.Secrets}}
		if err := compileResourceKeys(res, r, remote); err != nil {
			return nil, err
		}
		reg.resources[r.Name] = res
		reg.ordered = append(reg.ordered, res)
		for _, sc := range r.Scopes {
			if !known[sc] {
				known[sc] = true
				reg.scopes = append(reg.scopes, sc)
			}
		}
	}
	for _, c := range clients {
		if c.ID == "" {
			return nil, errors.New("server: a client has no id")
		}
		if reg.clients[c.ID] != nil {
			return nil, fmt.Errorf("server: client %q is defined twice", c.ID)
		}
		if c.AccessTokenLifetime < time.Second {
			return nil, fmt.Errorf("server: client %q: access token lifetime %s is shorter than a second", c.ID, c.AccessTokenLifetime)
		}
		for _, sc := range c.Scopes {
			if !known[sc] {
				return nil, fmt.Errorf("server: client %q: scope %q belongs to no API resource", c.ID, sc)
			}
		}
		cl := &client{
			authn:             clientauthn.Client{ID: c.ID, Secrets: c.Secrets, Public: c.Public},
			id:                c.ID,
			fapi2:             c.FAPI2,
			secrets:           c.Secrets,
			clientCredentials: slices.Contains(c.GrantTypes, grantClientCredentials),
			scopes:            slices.Clone(c.Scopes),
			lifetime:          int64(c.AccessTokenLifetime / time.Second),
			requireDPoP:       c.RequireDPoP || c.FAPI2, // FAPI 2.0: DPoP-bound tokens only
			dpopAlgs:          dpopAlgorithms(c),
		}
		if err := compileClientKeys(cl, c, remote); err != nil {
			return nil, err
		}
		cl.subJSON = append(cl.subJSON, `,"sub":`...)
		cl.subJSON = oauth.AppendJSONString(cl.subJSON, c.ID)
		cl.subJSON = append(cl.subJSON, `,"client_id":`...)
		cl.subJSON = oauth.AppendJSONString(cl.subJSON, c.ID)
		reg.clients[c.ID] = cl
		cl.def, cl.defErr = reg.grant(cl, nil, nil)
		for _, o := range c.AllowedCORSOrigins {
			if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
				u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") {
				return nil, fmt.Errorf("server: client %q: CORS origin %q is not an origin: scheme://host[:port], without a path", c.ID, o)
			}
			reg.corsOrigins[o] = true
		}
	}
	if err := compileDummies(reg, clients, resources); err != nil {
		return nil, err
	}
	if err := compileLogin(reg, clients, resources); err != nil {
		return nil, err
	}
	return reg, nil
}

// grant works out what a token for cl carries, given the requested scopes
// and resources (nil: none requested).
//
// Without resources, the token gets the requested scopes (all the
// client's scopes when none are requested) and its audience is every API
// resource that owns one of them. With resources, the audience is exactly
// those resources, each of which must own a granted scope, and the scopes
// are limited to theirs. The signing algorithms are the intersection of
// the audience's restrictions.
func (reg *registry) grant(cl *client, scopes, resources []string) (*grant, *oauth.Error) {
	for _, sc := range scopes {
		if !slices.Contains(cl.scopes, sc) {
			return nil, oauth.InvalidScope("scope '" + sc + "' is not allowed for this client")
		}
	}
	var aud []*resource
	var granted []string
	if len(resources) == 0 {
		granted = scopes
		if granted == nil {
			granted = cl.scopes
		}
		for _, r := range reg.ordered {
			if slices.ContainsFunc(r.scopes, func(sc string) bool { return slices.Contains(granted, sc) }) {
				aud = append(aud, r)
			}
		}
	} else {
		for _, name := range resources {
			r := reg.resources[name]
			if r == nil {
				return nil, oauth.InvalidTarget("resource '" + oauth.Clip(name) + "' is unknown")
			}
			if !slices.Contains(aud, r) {
				aud = append(aud, r)
			}
		}
		owned := func(sc string) bool {
			return slices.ContainsFunc(aud, func(r *resource) bool { return slices.Contains(r.scopes, sc) })
		}
		if scopes != nil {
			for _, sc := range scopes {
				if !owned(sc) {
					return nil, oauth.InvalidScope("scope '" + sc + "' does not belong to the requested resources")
				}
			}
			granted = scopes
		} else {
			for _, sc := range cl.scopes {
				if owned(sc) {
					granted = append(granted, sc)
				}
			}
		}
		for _, r := range aud {
			if !slices.ContainsFunc(r.scopes, func(sc string) bool { return slices.Contains(granted, sc) }) {
				return nil, oauth.InvalidTarget("the client may not request resource '" + r.name + "' with these scopes")
			}
		}
	}
	if len(granted) == 0 {
		return nil, oauth.InvalidScope("no scope to grant: the client has no allowed scopes")
	}

	g := &grant{scope: strings.Join(granted, " ")}
	g.scopeJSON = oauth.AppendJSONString(nil, g.scope)
	if len(aud) == 1 {
		g.audJSON = oauth.AppendJSONString(nil, aud[0].name)
	} else {
		names := make([]string, len(aud))
		for i, r := range aud {
			names[i] = r.name
		}
		g.audJSON = oauth.AppendJSONStrings(nil, names)
	}
	restricted := false
	for _, r := range aud {
		if len(r.algs) == 0 {
			continue
		}
		if !restricted {
			restricted = true
			g.algs = slices.Clone(r.algs)
			continue
		}
		g.algs = slices.DeleteFunc(g.algs, func(a key.Algorithm) bool { return !slices.Contains(r.algs, a) })
	}
	if restricted && len(g.algs) == 0 {
		names := make([]string, len(aud))
		for i, r := range aud {
			names[i] = r.name
		}
		return nil, oauth.InvalidTarget("the resources " + strings.Join(names, ", ") + " allow no common signing algorithm; request them in separate tokens")
	}
	if cl.fapi2 {
		if g.algs = fapi2.Restrict(g.algs); len(g.algs) == 0 {
			return nil, oauth.InvalidTarget("the requested resources allow no algorithm the FAPI 2.0 Security Profile accepts (PS256, ES256, EdDSA)")
		}
	}
	return g, nil
}

// compileDummies sets reg's dummy secrets (see registry.dummy).
func compileDummies(reg *registry, clients []Client, resources []APIResource) error {
	sets := make([][]*clientauth.Secret, 0, max(len(clients), len(resources)))
	for _, c := range clients {
		sets = append(sets, c.Secrets)
	}
	var err error
	if reg.dummy, err = clientauth.Dummies(nil, sets...); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	sets = sets[:0]
	for _, r := range resources {
		sets = append(sets, r.Secrets)
	}
	if reg.introspectDummy, err = clientauth.Dummies(nil, sets...); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// dpopAlgorithms are the algorithms of c's DPoP proofs: its own
// restriction, narrowed for a FAPI 2.0 client to PS256, ES256 and EdDSA;
// nil: the server's.
func dpopAlgorithms(c Client) []string {
	if !c.FAPI2 {
		return slices.Clone(c.DPoPAlgorithms)
	}
	var out []string
	for _, a := range fapi2.Algorithms() {
		if c.DPoPAlgorithms == nil || slices.Contains(c.DPoPAlgorithms, string(a)) {
			out = append(out, string(a))
		}
	}
	return out
}
