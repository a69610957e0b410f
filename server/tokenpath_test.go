package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/key"
)

// TestGrantCacheSameAnswers sends each request several times, interleaved
// with the others, and checks that the remembered grants give the same
// audience, scope and algorithm as the first answer.
func TestGrantCacheSameAnswers(t *testing.T) {
	keys := newFakeKeys(t)
	s := newTestServer(t, keys)
	pubs := map[string]any{"es-1": keys.keys[key.ES256].Public(), "ed-1": keys.keys[key.EdDSA].Public()}
	forms := []url.Values{
		{"grant_type": {"client_credentials"}, "scope": {"reports.read"}},
		{"grant_type": {"client_credentials"}, "scope": {"orders.read"}},
		{"grant_type": {"client_credentials"}, "scope": {"orders.read reports.read"}},
		{"grant_type": {"client_credentials"}, "resource": {"orders"}},
		{"grant_type": {"client_credentials"}, "resource": {"ledger"}},
		{"grant_type": {"client_credentials"}, "resource": {"orders"}, "scope": {"orders.write"}},
		{"grant_type": {"client_credentials"}, "resource": {"ledger", "orders"}}, // two resources: never cached
	}
	type answer struct{ kid, aud, scope string }
	first := map[int]answer{}
	for round := range 3 {
		for i, form := range forms {
			w := post(s, form, [2]string{"billing", "billing-secret"})
			if w.Code != http.StatusOK {
				t.Fatalf("round %d, %v: status %d: %s", round, form, w.Code, w.Body)
			}
			resp := decode[tokenResponse](t, w.Body.Bytes())
			kid := kidOf(t, resp.AccessToken)
			hdr, c := verify(t, resp.AccessToken, pubs[kid])
			got := answer{hdr.KeyID, string(c.Aud), c.Scope}
			if resp.Scope != c.Scope {
				t.Errorf("%v: response scope %q, token scope %q", form, resp.Scope, c.Scope)
			}
			if round == 0 {
				first[i] = got
			} else if got != first[i] {
				t.Errorf("round %d, %v: %+v; first answer %+v", round, form, got, first[i])
			}
		}
	}
	cl := s.reg.Load().clients["billing"]
	if n := cachedGrants(cl); n != len(forms)-1 {
		t.Errorf("%d grants remembered; want %d (all but the two-resource request)", n, len(forms)-1)
	}
}

// TestGrantCacheBounded checks that a client varying its requests fills at
// most maxCachedGrants entries and still gets right answers beyond.
func TestGrantCacheBounded(t *testing.T) {
	keys := newFakeKeys(t)
	s := newTestServer(t, keys)
	for i := range 2 * maxCachedGrants {
		scope := strings.Repeat(" ", i) + "reports.read" // same grant, another spelling
		w := post(s, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, [2]string{"billing", "billing-secret"})
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		_, c := verify(t, decode[tokenResponse](t, w.Body.Bytes()).AccessToken, keys.keys[key.ES256].Public())
		if c.Scope != "reports.read" || string(c.Aud) != `"reports"` {
			t.Fatalf("request %d: claims %+v", i, c)
		}
	}
	if n := cachedGrants(s.reg.Load().clients["billing"]); n != maxCachedGrants {
		t.Errorf("%d grants remembered; want the bound %d", n, maxCachedGrants)
	}
}

// TestGrantCacheErrorsNotKept checks that a refused request is refused
// again and not remembered, and that a reload starts afresh.
func TestGrantCacheErrorsNotKept(t *testing.T) {
	keys := newFakeKeys(t)
	s := newTestServer(t, keys)
	for range 2 {
		w := post(s, url.Values{"grant_type": {"client_credentials"}, "scope": {"inventory.read"}}, [2]string{"billing", "billing-secret"})
		if w.Code != http.StatusBadRequest || decode[errorResponse](t, w.Body.Bytes()).Error != "invalid_scope" {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	if n := cachedGrants(s.reg.Load().clients["billing"]); n != 0 {
		t.Fatalf("%d grants remembered after refusals", n)
	}

	// Remember a grant, then change what the scope means.
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"x.read"}}
	cc := []string{"client_credentials"}
	set := func(algs []key.Algorithm) {
		t.Helper()
		err := s.SetClients([]Client{{ID: "c", Secrets: []*clientauth.Secret{secret(t, "plain:c-secret")}, GrantTypes: cc, Scopes: []string{"x.read"}, AccessTokenLifetime: time.Minute}},
			[]APIResource{{Name: "x", Scopes: []string{"x.read"}, AllowedSigningAlgorithms: algs}})
		if err != nil {
			t.Fatal(err)
		}
	}
	set([]key.Algorithm{key.ES256})
	for range 2 {
		if kid := kidOf(t, decode[tokenResponse](t, post(s, form, [2]string{"c", "c-secret"}).Body.Bytes()).AccessToken); kid != "es-1" {
			t.Fatalf("signed by %s; want es-1", kid)
		}
	}
	set([]key.Algorithm{key.EdDSA})
	if kid := kidOf(t, decode[tokenResponse](t, post(s, form, [2]string{"c", "c-secret"}).Body.Bytes()).AccessToken); kid != "ed-1" {
		t.Fatalf("after the reload signed by %s; want ed-1", kid)
	}
}

// TestTokenScratchReuse alternates long and short answers from many
// goroutines, so pooled buffers are reused with other sizes and
// algorithms, and checks every token (run it with -race).
func TestTokenScratchReuse(t *testing.T) {
	keys := newFakeKeys(t)
	s := newTestServer(t, keys)
	pubs := map[string]any{"es-1": keys.keys[key.ES256].Public(), "ed-1": keys.keys[key.EdDSA].Public()}
	cases := []struct {
		form          url.Values
		basic         [2]string
		scope, client string
	}{
		{url.Values{"grant_type": {"client_credentials"}}, [2]string{"billing", "billing-secret"}, "orders.read orders.write reports.read ledger.read", "billing"},
		{url.Values{"grant_type": {"client_credentials"}, "scope": {"reports.read"}}, [2]string{"billing", "billing-secret"}, "reports.read", "billing"},
		{url.Values{"grant_type": {"client_credentials"}, "client_id": {"poster"}, "client_secret": {"poster-secret"}}, [2]string{}, "reports.read", "poster"},
		{url.Values{"grant_type": {"client_credentials"}, "resource": {"ledger"}, "padding": {strings.Repeat("p", 3000)}}, [2]string{"billing", "billing-secret"}, "ledger.read", "billing"},
	}
	type result struct {
		tc   int
		code int
		body []byte
	}
	results := make([][]result, 4)
	var wg sync.WaitGroup
	for g := range results {
		wg.Go(func() { // records only: checks run on the test goroutine
			for i := range 50 {
				tc := (g + i) % len(cases)
				w := post(s, cases[tc].form, cases[tc].basic)
				results[g] = append(results[g], result{tc, w.Code, w.Body.Bytes()})
			}
		})
	}
	wg.Wait()
	for _, rs := range results {
		for _, r := range rs {
			tc := cases[r.tc]
			if r.code != http.StatusOK {
				t.Fatalf("case %d: status %d: %s", r.tc, r.code, r.body)
			}
			resp := decode[tokenResponse](t, r.body)
			_, c := verify(t, resp.AccessToken, pubs[kidOf(t, resp.AccessToken)])
			if c.Scope != tc.scope || resp.Scope != tc.scope || c.Sub != tc.client {
				t.Fatalf("case %d: scope %q/%q sub %q", r.tc, c.Scope, resp.Scope, c.Sub)
			}
		}
	}
}

func cachedGrants(cl *client) int { return cl.grants.len() }

// kidOf returns the kid of a token's header, unverified.
func kidOf(t testing.TB, token string) string {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	var hdr struct {
		Kid string `json:"kid"`
	}
	if err != nil || json.Unmarshal(b, &hdr) != nil || hdr.Kid == "" {
		t.Fatalf("no kid in the header %q", b)
	}
	return hdr.Kid
}
