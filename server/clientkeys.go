package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/signet-id/signet/clientauth/privatekeyjwt"
	grantstore "github.com/signet-id/signet/grant"
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
// otherwise; and the cache of the clients' remote JWKS.
func (s *Server) newAssertionVerifier(cfg Config) error {
	var replay privatekeyjwt.Replay = privatekeyjwt.NewMemoryReplay(maxMemoryAssertions, s.now)
	if cfg.Grants != nil {
		replay = storeReplay{grantstore.NewReplayCache(cfg.Grants, grantstore.OnceClientAssertion, s.now)}
	}
	v, err := privatekeyjwt.New(privatekeyjwt.Options{
		Issuer:    s.issuer,
		Audiences: []string{s.issuer + PathToken, s.issuer + PathRevocation},
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

// compileClientKeys gives a private_key_jwt client its key set.
func compileClientKeys(cl *client, c Client, remote *privatekeyjwt.Remote) error {
	var keys privatekeyjwt.KeySet
	switch {
	case c.JWKS != nil && c.JWKSURI != "":
		return fmt.Errorf("server: client %q: JWKS and JWKSURI are both set; give one", c.ID)
	case c.JWKS != nil:
		keys = c.JWKS
	case c.JWKSURI != "":
		ks, err := remote.KeySet(c.JWKSURI)
		if err != nil {
			return fmt.Errorf("server: client %q: %w", c.ID, err)
		}
		keys = ks
	default:
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
