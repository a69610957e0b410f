package userstore_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/throttle"
	"github.com/signet-id/signet/user"
	"github.com/signet-id/signet/userstore"
)

var cheap = userstore.Argon2{MemoryKiB: 8, Iterations: 1, Parallelism: 1}

func TestPolicyCheck(t *testing.T) {
	sum := sha1.Sum([]byte("P@ssw0rd-2024"))
	list := "password1\r\n\n" + strings.ToUpper(hex.EncodeToString(sum[:])) + ":51234\ncorrecthorse\n"
	b, err := userstore.ReadBreached(strings.NewReader(list))
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 3 {
		t.Errorf("Len = %d, want 3", b.Len())
	}
	p := &userstore.Policy{MinLength: 10, Breached: b}
	for pw, want := range map[string]string{
		"short":                     "it has 5 characters; use at least 10",
		"ünïcödé-pw":                "", // 10 characters, more bytes
		"correcthorse":              "breached passwords",
		"P@ssw0rd-2024":             "breached passwords", // listed as SHA-1 with a count
		"password1":                 "it has 9 characters",
		"alllowercaseisfine":        "", // no composition rules
		strings.Repeat("x", 2000):   "longer than 1024 bytes",
		"CorrectHorse":              "", // the list is exact
		"password1 with more words": "",
	} {
		err := p.Check(pw)
		switch {
		case want == "" && err != nil:
			t.Errorf("%.20q: %v", pw, err)
		case want != "" && (!errors.Is(err, userstore.ErrWeakPassword) || !strings.Contains(err.Error(), want)):
			t.Errorf("%.20q: %v, want %q", pw, err, want)
		case err != nil && strings.Contains(err.Error(), pw):
			t.Errorf("the error shows the password: %v", err)
		}
	}
	if err := (*userstore.Policy)(nil).Check("1234567"); err == nil {
		t.Error("the default minimum length is 8")
	}
}

func TestPolicyHash(t *testing.T) {
	p := &userstore.Policy{Argon2: userstore.Argon2{MemoryKiB: 16, Iterations: 2, Parallelism: 1}}
	h, err := p.Hash("a password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=16,t=2,p=1$") || !p.Current(h) {
		t.Errorf("hash %s", h)
	}
	if (&userstore.Policy{Argon2: cheap}).Current(h) {
		t.Error("a hash with other parameters is current")
	}
	if err := userstore.ValidateHash(h); err != nil {
		t.Error(err)
	}
	bc, _ := bcrypt.GenerateFromPassword([]byte("x"), 4)
	for _, ok := range []string{string(bc), strings.Replace(string(bc), "$2a$", "$2y$", 1)} {
		if err := userstore.ValidateHash(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"plain:x", "$2a$04$short", "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", "sha256:00"} {
		if err := userstore.ValidateHash(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if err := (userstore.Argon2{MemoryKiB: 1, Iterations: 1, Parallelism: 1}).Validate(); err == nil {
		t.Error("1 KiB accepted")
	}
}

func newSource(t *testing.T, p *userstore.Policy) (*userstore.Source, *memstore.Store) {
	st := memstore.New()
	return &userstore.Source{Store: st, Policy: p, Hashing: throttle.NewHashing(0, 0)}, st
}

func add(t *testing.T, st *memstore.Store, username, hash string) {
	t.Helper()
	now := time.Now()
	if err := st.CreateUser(context.Background(), userstore.Record{Subject: "sub-" + username, Username: username, PasswordHash: hash, Created: now, Updated: now}); err != nil {
		t.Fatal(err)
	}
}

// A store user's bcrypt hash, or argon2id hash with other parameters, is
// replaced by one with the policy's at the next successful sign-in, and
// only then.
func TestSourceUpgradesHashes(t *testing.T) {
	ctx := context.Background()
	p := &userstore.Policy{Argon2: cheap}
	src, st := newSource(t, p)
	bc, _ := bcrypt.GenerateFromPassword([]byte("bcrypt password"), 4)
	add(t, st, "imported", string(bc))
	old, _ := (&userstore.Policy{Argon2: userstore.Argon2{MemoryKiB: 16, Iterations: 1, Parallelism: 1}}).Hash("argon password")
	add(t, st, "older", old)
	cur, _ := p.Hash("current password")
	add(t, st, "current", cur)

	if _, err := src.Authenticate(ctx, "imported", "wrong"); !errors.Is(err, user.ErrInvalidCredentials) {
		t.Fatalf("wrong bcrypt password: %v", err)
	}
	if r, _ := st.UserByName(ctx, "imported"); r.PasswordHash != string(bc) {
		t.Error("a failed sign-in changed the hash")
	}
	for name, pw := range map[string]string{"imported": "bcrypt password", "older": "argon password", "current": "current password"} {
		sub, err := src.Authenticate(ctx, name, pw)
		if err != nil || sub != "sub-"+name {
			t.Fatalf("%s: %q %v", name, sub, err)
		}
		r, _ := st.UserByName(ctx, name)
		if !p.Current(r.PasswordHash) {
			t.Errorf("%s: hash %s not upgraded", name, r.PasswordHash)
		}
		if name == "current" && r.PasswordHash != cur {
			t.Error("a current hash was replaced")
		}
		// The new hash verifies.
		if sub, err := src.Authenticate(ctx, name, pw); err != nil || sub != "sub-"+name {
			t.Errorf("%s after upgrade: %q %v", name, sub, err)
		}
	}
}

func TestSourceActiveClaimsDisabled(t *testing.T) {
	ctx := context.Background()
	src, st := newSource(t, &userstore.Policy{Argon2: cheap})
	h, _ := (&userstore.Policy{Argon2: cheap}).Hash("pw-12345678")
	now := time.Now()
	if err := st.CreateUser(ctx, userstore.Record{Subject: "s1", Username: "alice", PasswordHash: h,
		Claims: map[string]any{"name": "Alice", "groups": []any{"g"}}, Created: now, Updated: now}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := src.Active(ctx, "s1"); !ok {
		t.Error("not active")
	}
	c, _ := src.Claims(ctx, user.ClaimsRequest{Subject: "s1", Scopes: []string{"openid", "groups"}, Caller: user.CallerUserinfo})
	if fmt.Sprint(c) != "map[groups:[g]]" {
		t.Errorf("claims %v", c)
	}
	if c, _ := src.Claims(ctx, user.ClaimsRequest{Subject: "s1", Scopes: []string{"openid", "groups"}, Caller: user.CallerIDToken}); c != nil {
		t.Errorf("ID token claims %v, want none (they are at userinfo)", c)
	}
	if c, _ := src.Claims(ctx, user.ClaimsRequest{Subject: "s1", Caller: user.CallerPage}); c["preferred_username"] != "alice" {
		t.Errorf("page claims %v", c)
	}
	if _, err := st.DisableUser(ctx, "s1", now); err != nil {
		t.Fatal(err)
	}
	if ok, _ := src.Active(ctx, "s1"); ok {
		t.Error("a disabled user is active")
	}
	if _, err := src.Authenticate(ctx, "alice", "pw-12345678"); !errors.Is(err, user.ErrInvalidCredentials) {
		t.Errorf("a disabled user signed in: %v", err)
	}
	if ok, _ := src.Active(ctx, "nobody"); ok {
		t.Error("an unknown subject is active")
	}
}

// A store that fails makes the source unavailable (503), not a failed
// guess.
func TestSourceStoreDown(t *testing.T) {
	src := &userstore.Source{Store: downStore{}, Policy: &userstore.Policy{Argon2: cheap}}
	ctx := context.Background()
	if _, err := src.Authenticate(ctx, "a", "b"); !errors.Is(err, user.ErrUnavailable) {
		t.Errorf("Authenticate: %v", err)
	}
	if _, err := src.Active(ctx, "a"); !errors.Is(err, user.ErrUnavailable) {
		t.Errorf("Active: %v", err)
	}
}

type downStore struct{ userstore.Store }

func (downStore) UserByName(context.Context, string) (userstore.Record, error) {
	return userstore.Record{}, errors.New("database down")
}

func (downStore) UserBySubject(context.Context, string) (userstore.Record, error) {
	return userstore.Record{}, errors.New("database down")
}

// An unknown username costs what a wrong password costs: it is checked
// against a dummy hash with the policy's parameters. The cost is counted
// (the argon2id checks run under the hashing budget and the memory each
// asks for), not timed, so the machine's load cannot change the answer.
func TestSourceUnknownUserCost(t *testing.T) {
	ctx := context.Background()
	p := &userstore.Policy{Argon2: userstore.Argon2{MemoryKiB: 16 << 10, Iterations: 2, Parallelism: 1}}
	src, st := newSource(t, p)
	h, _ := p.Hash("the right password")
	add(t, st, "alice", h)
	hashing := src.Hashing.(*throttle.Hashing)
	cost := func(username string) (n, kib uint64) {
		n0, kib0 := hashing.Acquired()
		if _, err := src.Authenticate(ctx, username, "wrong"); !errors.Is(err, user.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		n1, kib1 := hashing.Acquired()
		return n1 - n0, kib1 - kib0
	}
	wrongN, wrongKiB := cost("alice")
	if wrongN != 1 || wrongKiB != 16<<10 {
		t.Fatalf("a wrong password: %d argon2id checks of %d KiB in all; want 1 of %d", wrongN, wrongKiB, 16<<10)
	}
	for range 2 { // the dummy is made once: the first and a later unknown user
		if n, kib := cost("nobody"); n != wrongN || kib != wrongKiB {
			t.Fatalf("an unknown user: %d argon2id checks of %d KiB; a wrong password: %d of %d", n, kib, wrongN, wrongKiB)
		}
	}
}
