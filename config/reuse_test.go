package config

import (
	"strings"
	"testing"
	"time"
)

// clients[].refreshTokenReuseInterval: a default for clients that
// refresh, 0s to turn it off, bounded, and only with refresh_token.
func TestRefreshTokenReuseInterval(t *testing.T) {
	c := mustParse(t, loginDoc, nil)
	if spa, web := c.Clients[0], c.Clients[1]; spa.RefreshTokenReuseInterval != DefaultRefreshTokenReuseInterval || web.RefreshTokenReuseInterval != 0 {
		t.Errorf("defaults: spa %s (refresh_token), web %s (none)", spa.RefreshTokenReuseInterval, web.RefreshTokenReuseInterval)
	}
	refreshing := minimal + "apiResources: [ { name: orders, scopes: [orders.read] } ]\nclients:\n  - clientId: c1\n" +
		"    tokenEndpointAuthMethod: none\n    allowedGrantTypes: [authorization_code, refresh_token]\n    allowedScopes: [openid, offline_access]\n    redirectUris: [https://a/cb]\n"
	for in, want := range map[string]time.Duration{"0s": 0, "2s": 2 * time.Second, "5m": 5 * time.Minute} {
		if got := mustParse(t, refreshing+"    refreshTokenReuseInterval: "+in+"\n", nil).Clients[0].RefreshTokenReuseInterval; got != want {
			t.Errorf("%s: %s", in, got)
		}
	}
	for doc, want := range map[string]string{
		refreshing + "    refreshTokenReuseInterval: 6m\n":  "clients[0].refreshTokenReuseInterval: must be from 0s (every reuse revokes the family) to 5m0s",
		refreshing + "    refreshTokenReuseInterval: -1s\n": "durations must not be negative",
		minimal + "clients:\n  - clientId: c1\n    secrets: [plain:x]\n    allowedGrantTypes: [client_credentials]\n    refreshTokenReuseInterval: 10s\n": "clients[0].refreshTokenReuseInterval: (c1) applies to refresh tokens; add refresh_token to allowedGrantTypes or remove refreshTokenReuseInterval",
	} {
		if _, err := parse(t, doc, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error:\n  %v\nwant:\n  %s", err, want)
		}
	}
}
