package signet

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/config"
)

const registryTestFile = `issuer: https://login.example.com
storage: { driver: memory }
keyManagement: { signingAlgorithms: [ES256] }
apiResources: [ { name: orders, scopes: [orders.read] } ]
clients:
  - clientId: yaml-client
    secrets: ["sha256:` + "0000000000000000000000000000000000000000000000000000000000000000" + `"]
    allowedGrantTypes: [client_credentials]
`

func parseRegistryTestFile(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(registryTestFile), config.ParseOptions{Source: "signet.yaml", LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// fakeClock is an injected clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// applied records what RegistrySync applies.
type applied struct {
	mu   sync.Mutex
	last *config.Config
	n    atomic.Int32
}

func (a *applied) apply(c *config.Config) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.last = c
	a.n.Add(1)
	return nil
}

func (a *applied) client(id string) *config.Client {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last == nil {
		return nil
	}
	for i := range a.last.Clients {
		if a.last.Clients[i].ClientID == id {
			return &a.last.Clients[i]
		}
	}
	return nil
}

// waitFor polls cond for up to a second: the registry's promise.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within a second: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRegistrySync: stored clients are served beside the file's, a
// change to the registry is applied within a second, a stored client with
// a file's id is refused, and a rotated-out secret stops verifying when
// its grace period ends by the injected clock, with no write and no
// reload.
func TestRegistrySync(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	reg := clientreg.NewMemory(clock.Now)
	ctx := t.Context()
	graceEnd := t0.Add(24 * time.Hour)
	_, err := reg.CreateClient(ctx, clientreg.Client{
		ClientID: "stored",
		Secrets: []clientreg.Secret{
			{Hash: clientauth.HashSHA256("new-secret"), CreatedAt: t0},
			{Hash: clientauth.HashSHA256("old-secret"), CreatedAt: t0.Add(-time.Hour), ExpiresAt: &graceEnd},
		},
		AllowedGrantTypes: []string{"client_credentials"},
		AllowedScopes:     []string{"orders.read"},
	}, clientreg.Change{By: clientreg.ByCLI})
	if err != nil {
		t.Fatal(err)
	}
	// Written behind Reserve's back (as another instance with an older
	// file might): the file's entry must win.
	if _, err := reg.CreateClient(ctx, clientreg.Client{ClientID: "yaml-client", AllowedGrantTypes: []string{"client_credentials"},
		Secrets: []clientreg.Secret{{Hash: clientauth.HashSHA256("impostor"), CreatedAt: t0}}}, clientreg.Change{By: clientreg.ByCLI}); err != nil {
		t.Fatal(err)
	}

	a := &applied{}
	s := &RegistrySync{Registry: reg, Apply: a.apply, Now: clock.Now, Poll: 5 * time.Millisecond}
	merged, err := s.Reload(ctx, parseRegistryTestFile(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Clients) != 2 {
		t.Fatalf("merged clients: %d, want the file's and the stored one", len(merged.Clients))
	}
	yc := a.client("yaml-client")
	if yc == nil || clientauth.VerifyAny(yc.Secrets, "impostor") {
		t.Fatal("a stored client replaced the file's of the same id")
	}
	st := a.client("stored")
	if st == nil || !clientauth.VerifyAny(st.Secrets, "new-secret") || !clientauth.VerifyAny(st.Secrets, "old-secret") {
		t.Fatal("during the grace period both secrets must verify")
	}

	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(rctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	}()

	// Another instance adds a client: served within a second.
	if _, err := reg.CreateClient(ctx, clientreg.Client{ClientID: "late", AllowedGrantTypes: []string{"client_credentials"},
		Secrets: []clientreg.Secret{{Hash: clientauth.HashSHA256("late-secret"), CreatedAt: t0}}}, clientreg.Change{By: "admin"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the added client is served", func() bool { return a.client("late") != nil })

	// Just before the end of the grace period the old secret still works.
	clock.Set(graceEnd.Add(-time.Second))
	n := a.n.Load()
	time.Sleep(50 * time.Millisecond)
	if a.n.Load() != n {
		t.Errorf("merged again %d times with nothing changed", a.n.Load()-n)
	}
	if st := a.client("stored"); !clientauth.VerifyAny(st.Secrets, "old-secret") {
		t.Fatal("the old secret stopped before its grace period ended")
	}
	clock.Set(graceEnd)
	waitFor(t, "the old secret stops at the end of its grace period", func() bool {
		st := a.client("stored")
		return st != nil && !clientauth.VerifyAny(st.Secrets, "old-secret") && clientauth.VerifyAny(st.Secrets, "new-secret")
	})

	// A delete reaches the server too.
	if err := reg.DeleteClient(ctx, "late", 0, clientreg.Change{By: "admin"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted client is gone", func() bool { return a.client("late") == nil })
}

// TestRegistryMergeRefusesBadRecords: a stored record that breaks a rule
// of the file is left out with an error naming the field; the others are
// served.
func TestRegistryMergeRefusesBadRecords(t *testing.T) {
	recs := StoredRecords{
		Clients: []clientreg.Client{
			{ClientID: "ok", AllowedGrantTypes: []string{"client_credentials"}, AllowedScopes: []string{"orders.read", "stock.read"},
				Secrets: []clientreg.Secret{{Hash: clientauth.HashSHA256("s")}}},
			{ClientID: "bad-scope", AllowedGrantTypes: []string{"client_credentials"}, AllowedScopes: []string{"payroll.read"},
				Secrets: []clientreg.Secret{{Hash: clientauth.HashSHA256("s")}}},
			{ClientID: "no-secret", AllowedGrantTypes: []string{"client_credentials"}},
		},
		Resources: []clientreg.Resource{{Name: "stock", Scopes: []string{"stock.read"}}, {Name: "orders", Scopes: []string{"x"}}},
	}
	merged, refused, _ := recs.Merge(parseRegistryTestFile(t), time.Now())
	var ids []string
	for _, c := range merged.Clients {
		ids = append(ids, c.ClientID)
	}
	if strings.Join(ids, ",") != "yaml-client,ok" {
		t.Errorf("served clients %v, want yaml-client and ok (which uses the stored resource's scope)", ids)
	}
	var msgs []string
	for _, e := range refused {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		`API resource "orders": client registry: apiResources[orders]: is defined in signet.yaml`,
		`client "bad-scope": client registry: clients[bad-scope].allowedScopes[0]: scope "payroll.read" belongs to no API resource`,
		`client "no-secret": client registry: clients[no-secret]: (no-secret) has no secrets`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("refusals lack %q:\n%s", want, all)
		}
	}
}

// TestRegistryLoginFields: a stored client's consent, second-factor,
// branding and connector keys reach the compiled client as a YAML
// client's do, are checked by the same rules (an unknown connector, a
// second factor the server cannot give, an http logo are refused naming
// the field), and a record written before these fields loads unchanged.
func TestRegistryLoginFields(t *testing.T) {
	doc := `issuer: https://login.example.com
storage: { driver: memory }
keyManagement: { signingAlgorithms: [ES256], protection: { enabled: false } }
connectors:
  - { id: corp, type: oidc, name: "Acme SSO", issuer: "https://sso.example", clientId: s }
`
	cfg, err := config.Parse([]byte(doc), config.ParseOptions{Source: "signet.yaml", LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	web := func(id string) clientreg.Client {
		return clientreg.Client{ClientID: id, TokenEndpointAuthMethod: "none", AllowedGrantTypes: []string{"authorization_code"},
			AllowedScopes: []string{"openid"}, RedirectURIs: []string{"https://app.example/cb"}}
	}
	full := web("full")
	full.RequireConsent, full.AllowRememberConsent, full.RequireMFA = true, true, true
	full.DisplayName, full.LogoURI, full.ClientURI = "Example Portal", "https://app.example/logo.png", "https://app.example"
	full.AllowedConnectors = []string{"corp", "local"}
	unknown := web("unknown")
	unknown.AllowedConnectors = []string{"corp", "ldap"}
	httpLogo := web("http-logo")
	httpLogo.LogoURI = "http://app.example/logo.png"
	remember := web("remember")
	remember.AllowRememberConsent = true
	// A record as the code before these fields wrote it.
	var old clientreg.Client
	if err := json.Unmarshal([]byte(`{"clientId":"old","secrets":[{"hash":"`+clientauth.HashSHA256("s")+`","createdAt":"2026-01-01T00:00:00Z"}],`+
		`"allowedGrantTypes":["authorization_code"],"allowedScopes":["openid"],"redirectUris":["https://old.example/cb"],"clientName":"Old",`+
		`"extra":{"logo_uri":"https://old.example/l.png"},"meta":{"revision":3,"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z","createdBy":"cli","updatedBy":"cli"}}`), &old); err != nil {
		t.Fatal(err)
	}
	recs := StoredRecords{Clients: []clientreg.Client{full, unknown, httpLogo, remember, old}}
	merged, refused, _ := recs.Merge(cfg, time.Now())
	var msgs []string
	for _, e := range refused {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		`client "unknown": client registry: clients[unknown].allowedConnectors[1]: (unknown) "ldap" is not a connector id (known: corp; "local" names Signet's own users)`,
		`client "http-logo": client registry: clients[http-logo].logoUri: (http-logo) must be an https URL`,
		`client "remember": client registry: clients[remember].allowRememberConsent:`,
		// protection is off: no second factor here.
		`client "full": client registry: clients[full].requireMfa: needs keyManagement.protection`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("refusals lack %q:\n%s", want, all)
		}
	}
	if len(refused) != 4 {
		t.Errorf("%d refused, want 4:\n%s", len(refused), all)
	}
	full.RequireMFA = false
	recs.Clients[0] = full
	merged, _, _ = recs.Merge(cfg, time.Now())
	clients, _ := ServerClients(merged)
	byID := map[string]int{}
	for i, c := range clients {
		byID[c.ID] = i
	}
	i, ok := byID["full"]
	if !ok {
		t.Fatalf("full not served: %v", byID)
	}
	c := clients[i]
	if !c.RequireConsent || !c.AllowRememberConsent || c.DisplayName != "Example Portal" || c.LogoURI != "https://app.example/logo.png" ||
		c.ClientURI != "https://app.example" || strings.Join(c.AllowedConnectors, ",") != "corp,local" {
		t.Errorf("compiled: %+v", c)
	}
	j, ok := byID["old"]
	if !ok {
		t.Fatalf("the old record is not served: %v", byID)
	}
	if o := clients[j]; o.RequireConsent || o.RequireMFA || o.DisplayName != "" || o.LogoURI != "" || o.AllowedConnectors != nil || len(o.Secrets) != 1 {
		t.Errorf("the old record changed meaning: %+v", o)
	}

	// CheckChange refuses the unknown connector before it is stored.
	reg := clientreg.NewMemory(nil)
	err = CheckChange(t.Context(), cfg, reg, time.Now(), config.EntryClient, "unknown", PutClient(unknown))
	var entry *config.EntryError
	if !errors.As(err, &entry) || !strings.Contains(err.Error(), `clients[unknown].allowedConnectors[1]: (unknown) "ldap" is not a connector id`) {
		t.Errorf("CheckChange: %v", err)
	}
}

// countingBudget counts the argon2id hashes clientauth.Check runs.
type countingBudget struct{ n atomic.Int32 }

func (b *countingBudget) Acquire(context.Context, uint64) (func(), error) {
	b.n.Add(1)
	return func() {}, nil
}

// TestRegistrySyncKeepsVerifiedSecrets: a change to one stored client
// does not drop the argon2id "already verified" cache of another: its
// next request with the secret it used before runs no hash.
func TestRegistrySyncKeepsVerifiedSecrets(t *testing.T) {
	ctx := t.Context()
	reg := clientreg.NewMemory(nil)
	hash, err := clientauth.HashArgon2id("secret-of-a", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := clientreg.Client{ClientID: "a", AllowedGrantTypes: []string{"client_credentials"}, Secrets: []clientreg.Secret{{Hash: hash}}}
	b := clientreg.Client{ClientID: "b", AllowedGrantTypes: []string{"client_credentials"}, Secrets: []clientreg.Secret{{Hash: clientauth.HashSHA256("secret-of-b")}}}
	for _, c := range []clientreg.Client{a, b} {
		if _, err := reg.CreateClient(ctx, c, clientreg.Change{By: clientreg.ByCLI}); err != nil {
			t.Fatal(err)
		}
	}
	var got applied
	s := &RegistrySync{Registry: reg, Apply: got.apply}
	if _, err := s.Reload(ctx, parseRegistryTestFile(t)); err != nil {
		t.Fatal(err)
	}
	var budget countingBudget
	verify := func(what string) int32 {
		t.Helper()
		before := budget.n.Load()
		ok, err := clientauth.Check(ctx, &budget, got.client("a").Secrets, "secret-of-a")
		if !ok || err != nil {
			t.Fatalf("%s: a's secret refused: %v", what, err)
		}
		return budget.n.Load() - before
	}
	if n := verify("first request"); n != 1 {
		t.Fatalf("first request: %d hashes, want 1", n)
	}
	if n := verify("second request"); n != 0 {
		t.Fatalf("second request: %d hashes, want 0 (the verified cache)", n)
	}
	stored, _ := reg.Client(ctx, "b")
	stored.AllowedScopes = []string{"orders.read"}
	if _, err := reg.UpdateClient(ctx, stored, stored.Meta.Revision, clientreg.Change{By: clientreg.ByCLI}); err != nil {
		t.Fatal(err)
	}
	applies := got.n.Load()
	if err := s.check(ctx); err != nil {
		t.Fatal(err)
	}
	if got.n.Load() == applies || len(got.client("b").AllowedScopes) != 1 {
		t.Fatal("b's change was not applied")
	}
	if n := verify("after b changed"); n != 0 {
		t.Errorf("after another client changed, a's request ran %d argon2id hashes, want 0", n)
	}
	// A's own new secret is a new object: it is hashed once.
	fresh, err := clientauth.HashArgon2id("secret-of-a", nil)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ = reg.Client(ctx, "a")
	stored.Secrets = []clientreg.Secret{{Hash: fresh}}
	if _, err := reg.UpdateClient(ctx, stored, stored.Meta.Revision, clientreg.Change{By: clientreg.ByCLI}); err != nil {
		t.Fatal(err)
	}
	if err := s.check(ctx); err != nil {
		t.Fatal(err)
	}
	if n := verify("after a's secret changed"); n != 1 {
		t.Errorf("a's new secret: %d hashes, want 1", n)
	}
}
