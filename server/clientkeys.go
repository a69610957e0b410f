package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/signet-id/signet/clientauth/privatekeyjwt"
	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/clientauthn"
	"github.com/signet-id/signet/server/internal/fapi2"
)

// maxMemoryAssertions bounds the jtis remembered in memory when there is
// no grant store: at most this many live assertions (each lives at most
// privatekeyjwt.DefaultMaxLifetime plus the leeway).
const maxMemoryAssertions = 100_000

// newAssertionVerifier sets up private_key_jwt: the verifier of client
// assertions, accepting as aud the issuer and the URLs of the endpoints
// clients authenticate at, remembering jtis in the grant store when there
// is one (so a replay at another instance is refused too), in memory
// otherwise; and the cache of the clients' (and API resources') remote
// JWKS.
func (s *Server) newAssertionVerifier(cfg Config) error {
	var replay privatekeyjwt.Replay = privatekeyjwt.NewMemoryReplay(maxMemoryAssertions, s.now)
	if cfg.Grants != nil {
		replay = storeReplay{grantstore.NewReplayCache(cfg.Grants, grantstore.OnceClientAssertion, s.now)}
	}
	v, err := privatekeyjwt.New(privatekeyjwt.Options{
		Issuer:    s.issuer,
		Audiences: []string{s.issuer + PathToken, s.issuer + PathRevocation, s.issuer + PathIntrospect},
		Replay:    replay,
		Now:       s.now,
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.assertions = v
	s.clientKeySets = cfg.ClientKeySets
	if s.clientKeySets == nil {
		s.clientKeySets = privatekeyjwt.NewRemote(privatekeyjwt.RemoteOptions{Now: s.now})
	}
	return nil
}

// assertionAlgorithms lists the algorithms of client assertions, for
// discovery.
func (s *Server) assertionAlgorithms() []string {
	algs := s.assertions.Algorithms()
	out := make([]string, len(algs))
	for i, a := range algs {
		out[i] = string(a)
	}
	return out
}

// keySetOf is the key set of a private_key_jwt client or API resource
// (what names which, for errors): jwks inline or fetched from jwksURI;
// nil when it has neither.
func keySetOf(what, name string, jwks *privatekeyjwt.StaticKeySet, jwksURI string, remote *privatekeyjwt.Remote) (privatekeyjwt.KeySet, error) {
	switch {
	case jwks != nil && jwksURI != "":
		return nil, fmt.Errorf("server: %s %q: JWKS and JWKSURI are both set; give one", what, name)
	case jwks != nil:
		return jwks, nil
	case jwksURI != "":
		ks, err := remote.KeySet(jwksURI)
		if err != nil {
			return nil, fmt.Errorf("server: %s %q: %w", what, name, err)
		}
		return ks, nil
	}
	return nil, nil
}

// compileClientKeys gives a private_key_jwt client its key set.
func compileClientKeys(cl *client, c Client, remote *privatekeyjwt.Remote) error {
	keys, err := keySetOf("client", c.ID, c.JWKS, c.JWKSURI, remote)
	if err != nil {
		return err
	}
	if keys == nil {
		if len(c.AssertionAlgorithms) > 0 || c.AssertionIssuerAudience {
			return fmt.Errorf("server: client %q: AssertionAlgorithms and AssertionIssuerAudience need JWKS or JWKSURI", c.ID)
		}
		return nil
	}
	cl.authn.Assertions = &privatekeyjwt.Client{ID: c.ID, Keys: keys, Algorithms: slices.Clone(c.AssertionAlgorithms),
		IssuerAudienceOnly: c.AssertionIssuerAudience}
	if c.FAPI2 { // FAPI 2.0: assertions signed with PS256, ES256 or EdDSA, for the issuer only
		if cl.authn.Assertions.Algorithms = fapi2.Restrict(cl.authn.Assertions.Algorithms); len(cl.authn.Assertions.Algorithms) == 0 {
			return fmt.Errorf("server: client %q follows the FAPI 2.0 Security Profile, but its AssertionAlgorithms list none of PS256, ES256, EdDSA", c.ID)
		}
		cl.authn.Assertions.IssuerAudienceOnly = true
	}
	if len(c.Secrets) > 0 || c.Public {
		return fmt.Errorf("server: client %q: a private_key_jwt client (JWKS or JWKSURI) cannot have secrets or be public", c.ID)
	}
	return nil
}

// compileResourceKeys gives an API resource that authenticates with
// private_key_jwt at the introspection endpoint its key set.
func compileResourceKeys(res *resource, r APIResource, remote *privatekeyjwt.Remote) error {
	keys, err := keySetOf("API resource", r.Name, r.JWKS, r.JWKSURI, remote)
	if err != nil || keys == nil {
		return err
	}
	if len(r.Secrets) > 0 {
		return fmt.Errorf("server: API resource %q: a private_key_jwt resource (JWKS or JWKSURI) cannot have secrets", r.Name)
	}
	res.authn.Assertions = &privatekeyjwt.Client{ID: r.Name, Keys: keys}
	return nil
}

// resourceAuthn looks up the API resources at the introspection endpoint
// (clientauthn.Clients): a client's assertion names no resource there.
type resourceAuthn struct{ reg *registry }

func (a resourceAuthn) AuthnClient(name string) *clientauthn.Client {
	if res := a.reg.resources[name]; res != nil {
		return &res.authn
	}
	return nil
}

// storeReplay remembers the ids of client assertions in the grant store,
// which every instance shares (grant.ReplayCache, namespace
// grant.OnceClientAssertion), so an assertion used at one instance is
// refused at every other.
type storeReplay struct{ cache *grantstore.ReplayCache }

func (r storeReplay) UseOnce(ctx context.Context, id string, exp time.Time) error {
	err := r.cache.UseOnce(ctx, id, exp)
	if errors.Is(err, grantstore.ErrReplayed) {
		return fmt.Errorf("%w (%w)", privatekeyjwt.ErrReplayed, err)
	}
	return err
}
