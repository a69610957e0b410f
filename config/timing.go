package config

import (
	"fmt"
	"slices"
	"time"

	"github.com/signet-id/signet/advisor"
	"github.com/signet-id/signet/key"
)

// Defaults of what the server cannot know about its relying parties
// (keyManagement.relyingPartyCache and keyManagement.clockSkew).
const (
	DefaultRelyingPartyCache = advisor.DefaultRelyingPartyCache
	DefaultClockSkew         = advisor.DefaultClockSkew
)

// LongestTokenLifetime returns the longest lifetime of any token a
// signing key signs under this configuration, and the option it comes
// from ("clients[billing].accessTokenLifetime"); zero and "no clients"
// when no client is configured. The first client wins a tie.
//
// Every kind of signed token must be counted here: a retired key stays
// published for retentionDuration, which must outlast every token it
// signed: access tokens and ID tokens.
func (c *Config) LongestTokenLifetime() (time.Duration, string) {
	var (
		longest time.Duration
		source  = "no clients"
	)
	for _, cl := range c.Clients {
		if cl.AccessTokenLifetime > longest {
			longest = cl.AccessTokenLifetime
			source = fmt.Sprintf("clients[%s].accessTokenLifetime", cl.ClientID)
		}
		if slices.Contains(cl.AllowedGrantTypes, "authorization_code") && cl.IdentityTokenLifetime > longest {
			longest = cl.IdentityTokenLifetime
			source = fmt.Sprintf("clients[%s].identityTokenLifetime", cl.ClientID)
		}
	}
	return longest, source
}

// TimingOptions returns the key options with the JWKS max-age, the
// relying parties' cache and clock skew, and the longest token lifetime:
// what [key.TimingOptions.Validate] checks, for the CLI and the server
// alike.
func (c *Config) TimingOptions() key.TimingOptions {
	longest, source := c.LongestTokenLifetime()
	return key.TimingOptions{
		Options:              c.KeyManagement,
		JWKSMaxAge:           c.JWKSMaxAge,
		RelyingPartyCache:    c.RelyingPartyCache,
		ClockSkew:            c.ClockSkew,
		LongestTokenLifetime: longest,
		LongestTokenSource:   source,
	}
}

// Timing returns the numbers the key lifecycle's timing rules are
// checked with (see [key.CheckTiming]).
func (c *Config) Timing() advisor.Timing {
	t := c.TimingOptions().Timing()
	// An explicit jwksMaxAge is not told apart from the default here:
	// counting the default's cap only makes a suggestion larger.
	t.JWKSMaxAgeCap = DefaultJWKSMaxAge
	return t
}

// TimingChecks evaluates the timing rules of managed keys; nil when key
// management is disabled (a static key has no schedule to check).
func (c *Config) TimingChecks() []advisor.Check {
	if !c.KeyManagement.Enabled {
		return nil
	}
	return advisor.Checks(c.Timing())
}

// CheckTiming returns the broken timing rules (see [Config.TimingChecks]).
func (c *Config) CheckTiming() []advisor.Violation {
	var out []advisor.Violation
	for _, ch := range c.TimingChecks() {
		if !ch.Holds {
			out = append(out, ch.Violation)
		}
	}
	return out
}
