package keymanager

import (
	"context"
	"encoding/base64"
	"strings"

	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/seal"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// clock is a fake clock safe for concurrent reads.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

func testSealer(t testing.TB, secrets ...string) *seal.Sealer {
	t.Helper()
	if len(secrets) == 0 {
		secrets = []string{"test secret one, long enough"}
	}
	var bs [][]byte
	for _, s := range secrets {
		bs = append(bs, []byte(s))
	}
	s, err := seal.New(bs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func opts(algs ...key.Algorithm) key.Options {
	o := key.DefaultOptions()
	o.SigningAlgorithms = nil
	for _, a := range algs {
		o.SigningAlgorithms = append(o.SigningAlgorithms, key.AlgorithmOptions{Algorithm: a})
	}
	return o
}

func newManager(t testing.TB, cfg Config) *Manager {
	t.Helper()
	if cfg.Sealer == nil && cfg.Options.ProtectKeys {
		cfg.Sealer = testSealer(t)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func start(t testing.TB, m *Manager) {
	t.Helper()
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func staticKey(t testing.TB, alg key.Algorithm, kid string) *StaticKey {
	t.Helper()
	s, err := jwk.Generate(alg, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &StaticKey{KID: kid, Algorithm: alg, Signer: s}
}

// relyingParty validates tokens against a cached copy of the JWKS.
type relyingParty struct {
	name        string
	refresh     time.Duration // periodic refresh; 0 = only on unknown kid
	fetch       func() []byte
	cache       jose.JSONWebKeySet
	lastRefresh time.Time
	refetches   int
	// verified remembers, per kid, the key (as JSON) that already verified
	// a signature: a later token under the same kid and the same cached
	// key is checked by lookup only. What the simulations test is whether
	// the right key is in the relying party's cache; signature
	// correctness is the jws package's tests.
	verified map[string]string
	// ids maps each cached kid to its key's JSON, computed at load.
	ids map[string]string
}

func (rp *relyingParty) load(now time.Time) error {
	rp.lastRefresh = now
	rp.cache = jose.JSONWebKeySet{}
	if err := json.Unmarshal(rp.fetch(), &rp.cache); err != nil {
		return err
	}
	rp.ids = map[string]string{}
	for _, k := range rp.cache.Keys {
		kj, err := k.MarshalJSON()
		if err != nil {
			return err
		}
		rp.ids[k.KeyID] = string(kj)
	}
	return nil
}

// tokenKID reads the kid from a compact JWS header.
func tokenKID(token string) (string, error) {
	h, _, ok := strings.Cut(token, ".")
	if !ok {
		return "", fmt.Errorf("not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", err
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil {
		return "", err
	}
	return hdr.Kid, nil
}

var allAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

// validate verifies token at now.
func (rp *relyingParty) validate(now time.Time, token string) error {
	if rp.lastRefresh.IsZero() || (rp.refresh > 0 && now.Sub(rp.lastRefresh) >= rp.refresh) {
		if err := rp.load(now); err != nil {
			return err
		}
	}
	kid, err := tokenKID(token)
	if err != nil {
		return err
	}
	if _, ok := rp.ids[kid]; !ok && rp.refresh == 0 {
		rp.refetches++
		if err := rp.load(now); err != nil {
			return err
		}
	}
	id, ok := rp.ids[kid]
	if !ok {
		return fmt.Errorf("%s: kid %s not in its cached JWKS (refreshed %s)", rp.name, kid, rp.lastRefresh)
	}
	if rp.verified[kid] == id {
		return nil
	}
	sig, err := jose.ParseSigned(token, allAlgs)
	if err != nil {
		return err
	}
	keys := rp.cache.Key(kid)
	if _, err := sig.Verify(keys[0].Key); err != nil {
		return fmt.Errorf("%s: kid %s: %w", rp.name, kid, err)
	}
	if rp.verified == nil {
		rp.verified = map[string]string{}
	}
	rp.verified[kid] = id
	return nil
}

func sign(t testing.TB, k *jws.Key, payload string) string {
	t.Helper()
	tok, err := k.Sign(jws.TypeAccessToken, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func publishedKIDs(t testing.TB, m *Manager) []string {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(m.JWKS().Body, &set); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func countKeys(t testing.TB, s keystore.Store) map[key.Algorithm]int {
	t.Helper()
	recs, err := s.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[key.Algorithm]int{}
	for _, r := range recs {
		out[r.Algorithm]++
	}
	return out
}

// logLines records log records (level, message and attributes as text)
// for tests of what the manager logs.
type logLines struct {
	mu    sync.Mutex
	lines []string
	level slog.Level
}

// logger returns a logger writing to l at Info and above (Debug with
// debug).
func (l *logLines) logger() *slog.Logger { return slog.New(l) }

func (l *logLines) Enabled(_ context.Context, lv slog.Level) bool { return lv >= l.level }
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler            { return l }
func (l *logLines) WithGroup(string) slog.Handler                 { return l }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, b.String())
	l.mu.Unlock()
	return nil
}

// take returns the lines recorded since the last take.
func (l *logLines) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}
