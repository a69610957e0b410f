package server

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/signet-id/signet/throttle"
	"github.com/signet-id/signet/user"
	"github.com/signet-id/signet/userstore"
)

// storeUsersEnv is a login environment whose users are a user.Chain of
// the built-in users (alice, bob) and store users (carol) in the same
// memory store as the grants, as signet serve sets it up; the spa client
// may ask for address, phone and groups.
func storeUsersEnv(t *testing.T) *loginEnv {
	t.Helper()
	return newLoginEnv(t, func(c *Config) {
		hashing := throttle.NewHashing(0, 0)
		users := loginUsers(t)
		users[0].Claims = map[string]any{"name": "Alice Liddell", "email": "alice@example.com", "email_verified": true,
			"address":      map[string]any{"street_address": "1 Rabbit Hole", "locality": "Oxford", "country": "UK"},
			"phone_number": "+44 1865 000000", "phone_number_verified": true,
			"groups":      []any{"staff", "wonderland"},
			"employee_id": "E-7"}
		static, err := NewStaticUsers(users, hashing)
		if err != nil {
			t.Fatal(err)
		}
		c.Users, c.Hashing = nil, hashing
		c.UserSource = user.Chain{static, &userstore.Source{Store: c.Grants.(userstore.Store), Hashing: hashing,
			Policy: &userstore.Policy{Argon2: userstore.Argon2{MemoryKiB: 8, Iterations: 1, Parallelism: 1}}}}
		for i := range c.Clients {
			if c.Clients[i].ID == "spa" {
				c.Clients[i].IdentityScopes = append(c.Clients[i].IdentityScopes, "address", "phone", "groups")
			}
		}
	})
}

// addStoreUser adds carol to the store with password pw.
func addStoreUser(t *testing.T, e *loginEnv, pw string) {
	t.Helper()
	h, err := (&userstore.Policy{Argon2: userstore.Argon2{MemoryKiB: 8, Iterations: 1, Parallelism: 1}}).Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateUser(context.Background(), userstore.Record{Subject: "user-carol", Username: "carol", PasswordHash: h,
		Claims:  map[string]any{"name": "Carol", "groups": []any{"ops"}, "phone_number": "+1 555 0100", "phone_number_verified": false},
		Created: testNow, Updated: testNow}); err != nil {
		t.Fatal(err)
	}
}

func userinfoClaims(t *testing.T, e *loginEnv, at string) map[string]any {
	t.Helper()
	p := e.userinfo(at)
	if p.StatusCode != 200 {
		t.Fatalf("userinfo %d: %s", p.StatusCode, p.body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(p.body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The address, phone and groups scopes release their claims (OpenID
// Connect Core 5.4; address structured, 5.1.1) for a configuration user
// and a store user; custom claims come with profile; a scope not asked
// for releases nothing.
func TestScopeClaimsAddressPhoneGroups(t *testing.T) {
	e := storeUsersEnv(t)
	addStoreUser(t, e, "carol's long password")
	b := e.browser()
	code := e.code(b, spaRequest("scope", "openid profile address phone groups"))
	tr := e.tokens(e.exchange(code, verifierForSPA))
	got := userinfoClaims(t, e, tr.AccessToken)
	want := map[string]any{"sub": aliceSub, "name": "Alice Liddell", "employee_id": "E-7",
		"address":      map[string]any{"street_address": "1 Rabbit Hole", "locality": "Oxford", "country": "UK"},
		"phone_number": "+44 1865 000000", "phone_number_verified": true, "groups": []any{"staff", "wonderland"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alice's userinfo:\n got %v\nwant %v", got, want)
	}

	// Without profile and address: no custom claim, no address.
	b = e.browser()
	code = e.code(b, spaRequest("scope", "openid groups"))
	got = userinfoClaims(t, e, e.tokens(e.exchange(code, verifierForSPA)).AccessToken)
	if want := map[string]any{"sub": aliceSub, "groups": []any{"staff", "wonderland"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("groups only:\n got %v\nwant %v", got, want)
	}

	// A store user signs in and gets their own claims.
	b = e.browser()
	cb := e.callback(b.signIn(spaRequest("scope", "openid phone groups"), "carol", "carol's long password"), spaRedirect)
	got = userinfoClaims(t, e, e.tokens(e.exchange(cb.Get("code"), verifierForSPA)).AccessToken)
	if want := map[string]any{"sub": "user-carol", "groups": []any{"ops"}, "phone_number": "+1 555 0100", "phone_number_verified": false}; !reflect.DeepEqual(got, want) {
		t.Errorf("carol:\n got %v\nwant %v", got, want)
	}
}

// Discovery lists the scopes and claims that are released.
func TestDiscoveryListsClaimScopes(t *testing.T) {
	e := newLoginEnv(t)
	p := e.browser().get(e.issuer + "/.well-known/openid-configuration")
	var d struct {
		Scopes []string `json:"scopes_supported"`
		Claims []string `json:"claims_supported"`
	}
	if err := json.Unmarshal([]byte(p.body), &d); err != nil {
		t.Fatal(err)
	}
	for _, sc := range []string{"address", "phone", "groups"} {
		if !slices.Contains(d.Scopes, sc) {
			t.Errorf("scopes_supported %v lacks %s", d.Scopes, sc)
		}
	}
	for _, c := range []string{"address", "phone_number", "phone_number_verified", "groups", "email_verified"} {
		if !slices.Contains(d.Claims, c) {
			t.Errorf("claims_supported %v lacks %s", d.Claims, c)
		}
	}
}

// Disabling a store user ends their login session and refresh tokens at
// once: the next authorize asks them to sign in again, the refresh token
// is refused, userinfo answers 401; they cannot sign in.
func TestDisabledStoreUserLosesSessionAndRefresh(t *testing.T) {
	e := storeUsersEnv(t)
	addStoreUser(t, e, "carol's long password")
	b := e.browser()
	q := spaRequest()
	cb := e.callback(b.signIn(q, "carol", "carol's long password"), spaRedirect)
	tr := e.tokens(e.exchange(cb.Get("code"), verifierForSPA))
	if tr.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	// The session is live: authorize answers with a code at once.
	if p := b.authorize(q); p.StatusCode != http.StatusFound || e.callback(p, spaRedirect).Get("code") == "" {
		t.Fatalf("before disable, authorize: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	if _, err := e.store.DisableUser(context.Background(), "user-carol", testNow); err != nil {
		t.Fatal(err)
	}
	e.oauthErr(e.refresh(tr.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if p := e.userinfo(tr.AccessToken); p.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo after disable: %d %s", p.StatusCode, p.body)
	}
	p := b.authorize(q)
	if p.StatusCode != http.StatusFound || e.callback2login(p) == false {
		t.Errorf("authorize after disable: %d %s, want the login page", p.StatusCode, p.Header.Get("Location"))
	}
	// And enabling again does not bring the session or refresh back.
	if err := e.store.EnableUser(context.Background(), "user-carol", testNow); err != nil {
		t.Fatal(err)
	}
	e.oauthErr(e.refresh(tr.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if p := b.authorize(q); !e.callback2login(p) {
		t.Errorf("authorize after enable: %d %s, want the login page", p.StatusCode, p.Header.Get("Location"))
	}
	// Disabled: cannot sign in (the same answer as a wrong password).
	if _, err := e.store.DisableUser(context.Background(), "user-carol", testNow); err != nil {
		t.Fatal(err)
	}
	lp := b.get(b.authorize(q).Header.Get("Location"))
	if p := b.submitLogin(lp.body, "carol", "carol's long password"); p.StatusCode != 200 {
		t.Errorf("a disabled user signing in: %d", p.StatusCode)
	}
}

// callback2login reports whether p redirects to the login page.
func (e *loginEnv) callback2login(p page) bool {
	loc := p.Header.Get("Location")
	return p.StatusCode == http.StatusFound && len(loc) > len(e.issuer+PathLogin) && loc[:len(e.issuer+PathLogin)] == e.issuer+PathLogin
}
