package server

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/throttle"
)

// argonSecret hashes pw with the given argon2id memory (KiB) and passes.
func argonSecret(t testing.TB, pw string, m, passes uint32) *clientauth.Secret {
	t.Helper()
	salt := []byte("signet-time-salt")
	h := argon2.IDKey([]byte(pw), salt, passes, m, 1, 32)
	return secret(t, fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=1$%s$%s", m, passes,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h)))
}

// timingServer has a cheap and a dear argon2id client beside the fast
// ones, and budgets too large to refuse anything.
func timingServer(t testing.TB) *Server {
	clients, resources := testClients(t)
	cc := []string{"client_credentials"}
	clients = append(clients,
		Client{ID: "cheap", Secrets: []*clientauth.Secret{argonSecret(t, "cheap-secret", 64, 1)}, GrantTypes: cc, Scopes: []string{"reports.read"}, AccessTokenLifetime: time.Hour},
		Client{ID: "dear", Secrets: []*clientauth.Secret{argonSecret(t, "dear-secret", 16384, 2)}, GrantTypes: cc, Scopes: []string{"reports.read"}, AccessTokenLifetime: time.Hour})
	lots := throttle.Limit{Max: 1 << 30, Window: time.Minute}
	s, err := New(Config{Issuer: "https://login.example.com", Keys: newFakeKeys(t), Clients: clients, APIResources: resources,
		Limits: Limits{ClientPerClientAndAddress: lots, ClientPerAddress: lots, ClientPerClient: lots}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// timeAuth returns how long one failed client authentication as id takes.
func timeAuth(tb testing.TB, s *Server, id string) time.Duration {
	form := url.Values{"grant_type": {"client_credentials"}}
	start := time.Now()
	w := post(s, form, [2]string{id, "a wrong secret"})
	d := time.Since(start)
	if w.Code != http.StatusUnauthorized {
		tb.Fatalf("%s: %d %s", id, w.Code, w.Body)
	}
	return d
}

func median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// TestUnknownClientCostsTheDearestSecret: timing does not tell a known
// client id from an unknown one: a failed authentication of an unknown id
// costs, within 20% of the median, what one of the client with the most
// expensive secret costs. (Interleaved samples, medians: robust to a busy
// machine.)
func TestUnknownClientCostsTheDearestSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("timing comparison")
	}
	s := timingServer(t)
	var known, unknown []time.Duration
	timeAuth(t, s, "dear") // warm up
	for i := range 31 {
		// Alternate which goes first, and start each from a collected
		// heap, so the collector's work lands on neither side.
		runtime.GC()
		if i%2 == 0 {
			known = append(known, timeAuth(t, s, "dear"))
			runtime.GC()
			unknown = append(unknown, timeAuth(t, s, "nobody-"+strconv.Itoa(i)))
		} else {
			unknown = append(unknown, timeAuth(t, s, "nobody-"+strconv.Itoa(i)))
			runtime.GC()
			known = append(known, timeAuth(t, s, "dear"))
		}
	}
	// Paired differences cancel the machine's drifts in load.
	diffs := make([]time.Duration, len(known))
	for i := range known {
		diffs[i] = known[i] - unknown[i]
	}
	k, u, d := median(known), median(unknown), median(diffs)
	if max(d, -d) > k/5 {
		t.Fatalf("failed authentication: known client %v, unknown client %v (medians), median difference %v: more than 20%% of the median", k, u, d)
	}
	t.Logf("failed authentication: known %v, unknown %v (medians), median difference %v", k, u, d)
}

// BenchmarkClientAuthFailure: one failed client authentication of the
// client with the dearest secret, and of unknown ids; the two must cost
// the same.
func BenchmarkClientAuthFailure(b *testing.B) {
	s := timingServer(b)
	b.Run("known", func(b *testing.B) {
		for b.Loop() {
			timeAuth(b, s, "dear")
		}
	})
	b.Run("unknown", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			timeAuth(b, s, "nobody-"+strconv.Itoa(i))
		}
	})
}
