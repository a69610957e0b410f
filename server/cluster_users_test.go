package server

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/signet-id/signet/user"
	"github.com/signet-id/signet/userstore"
)

// Disabling a store user on one instance (as signet users disable does,
// through the store) ends their session and refresh tokens on every
// instance at once: nothing is cached, so the other instance refuses the
// refresh token, the session and the access token at userinfo at its
// very next request, well within a second.
func TestDisableUserAcrossInstances(t *testing.T) {
	var target atomic.Int64
	var admin userstore.Store // instance 0's store handle: the CLI's path
	e := newClusterEnv(t, 2, func(*http.Request) int { return int(target.Load()) }, func(c *Config) {
		us := c.Grants.(userstore.Store)
		if admin == nil {
			admin = us
		}
		c.UserSource = user.Chain{&userstore.Source{Store: us,
			Policy: &userstore.Policy{Argon2: userstore.Argon2{MemoryKiB: 8, Iterations: 1, Parallelism: 1}}}}
	})
	ctx := context.Background()
	h, err := (&userstore.Policy{Argon2: userstore.Argon2{MemoryKiB: 8, Iterations: 1, Parallelism: 1}}).Hash("carol's long password")
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.CreateUser(ctx, userstore.Record{Subject: "user-carol", Username: "carol", PasswordHash: h, Created: testNow, Updated: testNow}); err != nil {
		t.Fatal(err)
	}

	// Signed in and tokens issued on instance 0.
	target.Store(0)
	b := e.browser()
	q := spaRequest()
	cb := e.callback(b.signIn(q, "carol", "carol's long password"), spaRedirect)
	tr := e.tokens(e.exchange(cb.Get("code"), verifierForSPA))
	// Instance 1 honours the session and the refresh token.
	target.Store(1)
	if p := b.authorize(q); p.StatusCode != http.StatusFound || e.callback(p, spaRedirect).Get("code") == "" {
		t.Fatalf("instance 1 before disable: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	tr = e.tokens(e.refresh(tr.RefreshToken))

	// Disabled through instance 0's store; instance 1 refuses at its next
	// request, with no wait in between (no cache to expire).
	target.Store(1)
	if _, err := admin.DisableUser(ctx, "user-carol", testNow); err != nil {
		t.Fatal(err)
	}
	e.oauthErr(e.refresh(tr.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if p := b.authorize(q); !e.callback2login(p) {
		t.Errorf("instance 1 after disable: authorize %d %s, want the login page", p.StatusCode, p.Header.Get("Location"))
	}
	if p := e.userinfo(tr.AccessToken); p.StatusCode != http.StatusUnauthorized {
		t.Errorf("instance 1 after disable: userinfo %d %s", p.StatusCode, p.body)
	}
	// And on instance 0 too.
	target.Store(0)
	if p := b.authorize(q); !e.callback2login(p) {
		t.Errorf("instance 0 after disable: authorize %d", p.StatusCode)
	}
}
