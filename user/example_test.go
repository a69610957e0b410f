package user_test

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/signet-id/signet/server"
	"github.com/signet-id/signet/user"
)

// directory is an application's user store. A real one keeps password
// hashes and verifies them under the hashing budget it shares with the
// server (server.Config.Hashing), against a dummy hash for unknown names
// (see the package documentation and examples/custom-users).
type directory struct {
	mu       sync.RWMutex // guards people
	people   map[string]person
	bySubKey map[string]string // subject -> username
}

type person struct {
	subject, password string
	claims            map[string]any
	disabled          bool
}

func (d *directory) Authenticate(ctx context.Context, username, password string) (string, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	p, ok := d.people[username]
	if !ok || p.disabled || subtle.ConstantTimeCompare([]byte(p.password), []byte(password)) != 1 {
		return "", user.ErrInvalidCredentials
	}
	return p.subject, nil
}

func (d *directory) Active(ctx context.Context, subject string) (bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	p, ok := d.people[d.bySubKey[subject]]
	return ok && !p.disabled, nil
}

func (d *directory) Claims(ctx context.Context, req user.ClaimsRequest) (map[string]any, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	p, ok := d.people[d.bySubKey[req.Subject]]
	if !ok || req.Caller != user.CallerUserinfo {
		return nil, nil // nothing in ID tokens: the scope claims are at userinfo
	}
	return user.Release(p.claims, req.Scopes), nil
}

// A user source of the application's own: the server asks it to check
// passwords (inside its login budgets), whether a user is still active
// and which claims a scope releases.
func Example() {
	var src user.Source = &directory{
		people: map[string]person{"alice": {subject: "u-1", password: "s3cret",
			claims: map[string]any{"name": "Alice", "email": "alice@example.com"}}},
		bySubKey: map[string]string{"u-1": "alice"},
	}
	cfg := server.Config{UserSource: src} // with Issuer, Keys, Clients and Grants
	_ = cfg

	ctx := context.Background()
	sub, err := src.Authenticate(ctx, "alice", "s3cret")
	fmt.Println(sub, err)
	_, err = src.Authenticate(ctx, "alice", "wrong")
	fmt.Println(errors.Is(err, user.ErrInvalidCredentials))
	active, _ := src.Active(ctx, "u-1")
	fmt.Println(active)
	c, _ := src.Claims(ctx, user.ClaimsRequest{Subject: "u-1", Scopes: []string{"openid", "email"}, Caller: user.CallerUserinfo})
	fmt.Println(c)
	// Output:
	// u-1 <nil>
	// true
	// true
	// map[email:alice@example.com]
}

// The claims a scope releases, for a source that keeps a user's claims in
// one map.
func ExampleRelease() {
	all := map[string]any{"name": "Alice", "email": "alice@example.com", "email_verified": true, "employee_id": 7}
	fmt.Println(user.Release(all, []string{"openid", "profile"}))
	fmt.Println(user.Release(all, []string{"openid", "email"}))
	fmt.Println(user.Release(all, []string{"openid"}) == nil)
	// Output:
	// map[name:Alice]
	// map[email:alice@example.com email_verified:true]
	// true
}

func ExampleScopeClaims() {
	fmt.Println(user.ScopeClaims("email"))
	fmt.Println(slices.Contains(user.ScopeClaims("profile"), "preferred_username"))
	// Output:
	// [email email_verified]
	// true
}
