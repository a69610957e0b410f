package signet

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

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
// costlier dummy.
func TestUserSourcesUnknownUserTiming(t *testing.T) {
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
	_, src, err := UserSources(cfg, memstore.New(), throttle.NewHashing(0, 0), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if sub, err := src.Authenticate(ctx, "alice", "right"); sub != "u-1" || err != nil {
		t.Fatalf("alice: %q %v", sub, err)
	}
	fastest := func(username string) time.Duration {
		best := time.Hour
		for range 2 {
			start := time.Now()
			if _, err := src.Authenticate(ctx, username, "wrong"); !errors.Is(err, user.ErrInvalidCredentials) {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	wrong, unknown := fastest("alice"), fastest("nobody")
	if unknown < wrong/3 {
		t.Fatalf("an unknown user takes %s, a wrong password %s: the difference tells which usernames exist", unknown, wrong)
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
