package signet

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/throttle"
	"github.com/signet-id/signet/user"
	"github.com/signet-id/signet/userstore"
)

// With the configuration's users and the store's chained as serve chains
// them, a username neither holds costs what a wrong password of a
// configuration user costs, even when the configuration's hashes are
// costlier than the store's policy: the store checks it against the
// costlier dummy. Counted under the hashing budget, not timed.
func TestUserSourcesUnknownUserCost(t *testing.T) {
	const mem, passes = 16 << 10, 2
	salt := []byte("signet-test-salt")
	h := argon2.IDKey([]byte("right"), salt, passes, mem, 1, 32)
	sec, err := clientauth.ParseSecret(fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=1$%s$%s", mem, passes,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		Users:     []config.User{{Subject: "u-1", Username: "alice", Password: sec}},
		Passwords: config.Passwords{MinLength: 8, Argon2id: userstore.Argon2{MemoryKiB: 8, Iterations: 1, Parallelism: 1}},
	}
	hashing := throttle.NewHashing(0, 0)
	_, src, err := UserSources(cfg, memstore.New(), hashing, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if sub, err := src.Authenticate(ctx, "alice", "right"); sub != "u-1" || err != nil {
		t.Fatalf("alice: %q %v", sub, err)
	}
	cost := func(username string) (n, kib uint64) {
		n0, kib0 := hashing.Acquired()
		if _, err := src.Authenticate(ctx, username, "wrong"); !errors.Is(err, user.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		n1, kib1 := hashing.Acquired()
		return n1 - n0, kib1 - kib0
	}
	wrongN, wrongKiB := cost("alice")
	if wrongN != 1 || wrongKiB != mem {
		t.Fatalf("a wrong password: %d argon2id checks of %d KiB in all; want 1 of %d", wrongN, wrongKiB, mem)
	}
	// The configuration holds no "nobody": the store checks it against
	// its dummy, which must be the configuration's costlier hash, not
	// one with the store's cheap policy (8 KiB).
	if n, kib := cost("nobody"); n != wrongN || kib != wrongKiB {
		t.Fatalf("an unknown user: %d argon2id checks of %d KiB; a wrong password: %d of %d KiB: the difference tells which usernames exist", n, kib, wrongN, wrongKiB)
	}
}

// A store that keeps no users (the file store) leaves the configuration's
// users to server.Config.Users.
func TestUserSourcesWithoutUserStore(t *testing.T) {
	static, src, err := UserSources(&config.Config{}, nil, nil, slog.New(slog.DiscardHandler))
	if static != nil || src != nil || err != nil {
		t.Errorf("%v %v %v", static, src, err)
	}
}
