package user_test

import (
	"context"
	"errors"
	"testing"

	"github.com/signet-id/signet/user"
)

// fakeSource holds users by username; with dir it is a user.Directory.
type fakeSource struct {
	name     string
	users    map[string]string // username -> password; the subject is name+"/"+username
	disabled map[string]bool
	calls    *[]string
}

func (f *fakeSource) Authenticate(_ context.Context, username, password string) (string, error) {
	*f.calls = append(*f.calls, f.name+".Authenticate("+username+")")
	pw, ok := f.users[username]
	if !ok || pw != password || f.disabled[username] {
		return "", user.ErrInvalidCredentials
	}
	return f.name + "/" + username, nil
}

func (f *fakeSource) has(subject string) (string, bool) {
	for u := range f.users {
		if f.name+"/"+u == subject {
			return u, true
		}
	}
	return "", false
}

func (f *fakeSource) Active(_ context.Context, subject string) (bool, error) {
	u, ok := f.has(subject)
	return ok && !f.disabled[u], nil
}

func (f *fakeSource) Claims(_ context.Context, req user.ClaimsRequest) (map[string]any, error) {
	if _, ok := f.has(req.Subject); !ok {
		return nil, nil
	}
	return map[string]any{"from": f.name}, nil
}

type dirSource struct{ *fakeSource }

func (d dirSource) HasUsername(_ context.Context, username string) (bool, error) {
	_, ok := d.users[username]
	return ok, nil
}

func (d dirSource) HasSubject(_ context.Context, subject string) (bool, error) {
	_, ok := d.has(subject)
	return ok, nil
}

func TestChain(t *testing.T) {
	ctx := context.Background()
	var calls []string
	yaml := dirSource{&fakeSource{name: "yaml", users: map[string]string{"alice": "a-pw", "dup": "yaml-pw"}, calls: &calls}}
	store := dirSource{&fakeSource{name: "store", users: map[string]string{"carol": "c-pw", "dup": "store-pw", "dan": "d-pw"},
		disabled: map[string]bool{"dan": true}, calls: &calls}}
	ldap := &fakeSource{name: "ldap", users: map[string]string{"erin": "e-pw"}, calls: &calls}
	c := user.Chain{yaml, store, ldap}

	for _, tc := range []struct {
		username, password, sub string
		calls                   []string
	}{
		{"alice", "a-pw", "yaml/alice", []string{"yaml.Authenticate(alice)"}},
		{"carol", "c-pw", "store/carol", []string{"store.Authenticate(carol)"}},
		{"carol", "wrong", "", []string{"store.Authenticate(carol)"}},
		// A name in two sources belongs to the first.
		{"dup", "store-pw", "", []string{"yaml.Authenticate(dup)"}},
		{"dup", "yaml-pw", "yaml/dup", []string{"yaml.Authenticate(dup)"}},
		// A source that is not a Directory is asked when no Directory holds the name.
		{"erin", "e-pw", "ldap/erin", []string{"ldap.Authenticate(erin)"}},
		{"nobody", "x", "", []string{"ldap.Authenticate(nobody)"}},
	} {
		calls = nil
		sub, err := c.Authenticate(ctx, tc.username, tc.password)
		if sub != tc.sub || (tc.sub == "" && !errors.Is(err, user.ErrInvalidCredentials)) {
			t.Errorf("%s/%s: %q %v, want %q", tc.username, tc.password, sub, err, tc.sub)
		}
		if len(calls) != len(tc.calls) || (len(calls) > 0 && calls[0] != tc.calls[0]) {
			t.Errorf("%s: calls %v, want %v", tc.username, calls, tc.calls)
		}
	}

	// Routing by the subject's owner.
	for sub, want := range map[string]bool{"yaml/alice": true, "store/carol": true, "store/dan": false, "ldap/erin": true, "yaml/nobody": false} {
		if got, err := c.Active(ctx, sub); got != want || err != nil {
			t.Errorf("Active(%s) = %v %v, want %v", sub, got, err, want)
		}
	}
	for sub, want := range map[string]any{"yaml/alice": "yaml", "store/carol": "store", "ldap/erin": "ldap"} {
		got, err := c.Claims(ctx, user.ClaimsRequest{Subject: sub})
		if err != nil || got["from"] != want {
			t.Errorf("Claims(%s) = %v %v, want from %v", sub, got, err, want)
		}
	}
	if got, _ := c.Claims(ctx, user.ClaimsRequest{Subject: "nobody"}); got != nil {
		t.Errorf("Claims of nobody = %v", got)
	}
}

// With only Directory sources, a username nobody holds is checked by the
// last one (its dummy hash): it costs what a wrong password costs.
func TestChainUnknownCostsAWrongPassword(t *testing.T) {
	var calls []string
	yaml := dirSource{&fakeSource{name: "yaml", users: map[string]string{"alice": "a"}, calls: &calls}}
	store := dirSource{&fakeSource{name: "store", users: map[string]string{}, calls: &calls}}
	_, err := user.Chain{yaml, store}.Authenticate(context.Background(), "nobody", "x")
	if !errors.Is(err, user.ErrInvalidCredentials) || len(calls) != 1 || calls[0] != "store.Authenticate(nobody)" {
		t.Errorf("err %v, calls %v; want one check by the last source", err, calls)
	}
}

// A failing Directory makes the chain unavailable, not a failed guess.
func TestChainUnavailable(t *testing.T) {
	_, err := user.Chain{brokenDir{}}.Authenticate(context.Background(), "a", "b")
	if !errors.Is(err, user.ErrUnavailable) {
		t.Errorf("err %v, want ErrUnavailable", err)
	}
}

type brokenDir struct{ user.Source }

func (brokenDir) HasUsername(context.Context, string) (bool, error) {
	return false, errors.New("db down")
}
func (brokenDir) HasSubject(context.Context, string) (bool, error) {
	return false, errors.New("db down")
}

func TestCheckClaimAndReleaseAll(t *testing.T) {
	for name, v := range map[string]any{
		"address": map[string]any{"formatted": "1 Main St\nSpringfield"}, "phone_number_verified": true,
		"groups": []any{"a"}, "updated_at": float64(1700000000), "https://example.com/roles": []any{"x", 1},
	} {
		if err := user.CheckClaim(name, v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, v := range map[string]any{
		"address": map[string]any{"zip": "1"}, "groups": "a", "updated_at": 1.5, "nonce": "x", "bad name": 1, "email": "",
	} {
		if err := user.CheckClaim(name, v); !errors.Is(err, user.ErrInvalidClaim) {
			t.Errorf("%s=%v: %v, want ErrInvalidClaim", name, v, err)
		}
	}
	all := map[string]any{"name": "A", "employee_id": 7, "phone_number": "+1", "address": map[string]any{"country": "US"}}
	got := user.ReleaseAll(all, []string{"openid", "phone"})
	if len(got) != 1 || got["phone_number"] != "+1" {
		t.Errorf("phone: %v", got)
	}
	got = user.ReleaseAll(all, []string{"openid", "profile"})
	if len(got) != 2 || got["employee_id"] != 7 || got["name"] != "A" {
		t.Errorf("profile: %v", got)
	}
}

// hasUsersSource is a source that says whether it has users.
type hasUsersSource struct {
	*fakeSource
	has bool
}

func (h hasUsersSource) HasUsers(context.Context) (bool, error) { return h.has, nil }

func TestChainHasUsers(t *testing.T) {
	ctx := t.Context()
	empty := hasUsersSource{fakeSource: &fakeSource{}, has: false}
	full := hasUsersSource{fakeSource: &fakeSource{}, has: true}
	for _, tc := range []struct {
		name  string
		chain user.Chain
		want  bool
	}{
		{"no sources", user.Chain{}, false},
		{"all empty", user.Chain{empty, empty}, false},
		{"one with users", user.Chain{empty, full}, true},
		{"a source that does not say", user.Chain{empty, &fakeSource{}}, true},
	} {
		got, err := tc.chain.HasUsers(ctx)
		if err != nil || got != tc.want {
			t.Errorf("%s: HasUsers = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}
