package ldap

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/signet-id/signet/connector"
	"github.com/signet-id/signet/connector/ldap/ldaptest"
	"github.com/signet-id/signet/user"
)

// with is testConfig(d) changed by mod.
func with(d ldaptest.Directory, mod func(*Config)) Config {
	cfg := testConfig(d)
	mod(&cfg)
	return cfg
}

// testConfig is a connector on the test directory, over ldaps.
func testConfig(d ldaptest.Directory) Config {
	return Config{
		ID: "corp", Name: "Test directory", URL: d.LDAPSURL, CAFile: d.CA,
		BindDN: d.BindDN, BindPassword: d.BindPassword,
		UserSearch: UserSearch{BaseDN: "ou=people," + d.BaseDN, Filter: "(objectClass=inetOrgPerson)",
			Username: "uid", IDAttr: "entryUUID", EmailAttr: "mail", NameAttr: "cn"},
		GroupSearch: GroupSearch{BaseDN: "ou=groups," + d.BaseDN, Filter: "(objectClass=groupOfNames)",
			UserMatchers: []UserMatcher{{UserAttr: "DN", GroupAttr: "member"}}, NameAttr: "cn"},
	}
}

type testConnector struct {
	*Connector
	reg   *prometheus.Registry
	mu    sync.Mutex
	binds []string // the DNs of user binds
}

func newTestConnector(t *testing.T, cfg Config) *testConnector {
	return newStoreConnector(t, cfg, nil)
}

func newStoreConnector(t *testing.T, cfg Config, store connector.Store) *testConnector {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := connector.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg, Options{Metrics: m, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	tc := &testConnector{Connector: c, reg: reg}
	c.testHookBind = func(dn string) {
		tc.mu.Lock()
		tc.binds = append(tc.binds, dn)
		tc.mu.Unlock()
	}
	return tc
}

func (tc *testConnector) takeBinds() []string {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	b := tc.binds
	tc.binds = nil
	return b
}

// errors reads signet_connector_errors_total{connector=<id>,kind} from
// the registry, as a scrape would; -1 when it is not exported.
func (tc *testConnector) errors(kind string) float64 {
	mfs, err := tc.reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "signet_connector_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["connector"] == tc.ID() && labels["kind"] == kind {
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

func TestSignInWithGroups(t *testing.T) {
	d := ldaptest.Open(t)
	ctx := context.Background()
	startTLS := testConfig(d)
	startTLS.URL = d.URL // ldap:// upgrades with StartTLS
	for name, cfg := range map[string]Config{"ldaps": testConfig(d), "starttls": startTLS} {
		t.Run(name, func(t *testing.T) {
			c := newTestConnector(t, cfg)
			sub, err := c.Authenticate(ctx, "alice", "alice-password")
			if err != nil {
				t.Fatal(err)
			}
			if want := "corp:" + d.EntryUUID(t, "alice"); sub != want {
				t.Fatalf("subject %q, want %q", sub, want)
			}
			if got := c.takeBinds(); !slices.Equal(got, []string{"uid=alice,ou=people," + d.BaseDN}) {
				t.Fatalf("user binds %q", got)
			}
			// The username matches as the directory matches it; the subject
			// is the entry's.
			if sub2, err := c.Authenticate(ctx, " ALICE ", "alice-password"); err != nil || sub2 != sub {
				t.Fatalf("ALICE: %q, %v", sub2, err)
			}
			active, err := c.Active(ctx, sub)
			if err != nil || !active {
				t.Fatalf("Active: %v, %v", active, err)
			}
			claims, err := c.Claims(ctx, user.ClaimsRequest{Subject: sub, Scopes: []string{"openid", "profile", "email"}, Caller: user.CallerUserinfo})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"preferred_username": "alice", "name": "Alice Liddell", "email": "alice@signet.test",
				"email_verified": true, "groups": []string{"admins", "developers"}}
			if !equalClaims(claims, want) {
				t.Fatalf("claims %v, want %v", claims, want)
			}
			if claims, _ := c.Claims(ctx, user.ClaimsRequest{Subject: sub, Scopes: []string{"openid", "email"}, Caller: user.CallerUserinfo}); !equalClaims(claims,
				map[string]any{"email": "alice@signet.test", "email_verified": true}) {
				t.Fatalf("email scope: %v", claims)
			}
			if claims, _ := c.Claims(ctx, user.ClaimsRequest{Subject: sub, Scopes: []string{"openid", "profile"}, Caller: user.CallerIDToken}); claims != nil {
				t.Fatalf("ID token claims %v, want none (they are at userinfo)", claims)
			}
			if claims, _ := c.Claims(ctx, user.ClaimsRequest{Subject: sub, Scopes: []string{"openid", "profile"}, Caller: user.CallerPage}); !equalClaims(claims,
				map[string]any{"preferred_username": "alice", "name": "Alice Liddell"}) {
				t.Fatalf("page claims %v", claims)
			}
			bob, err := c.Authenticate(ctx, "bob", "bob-password")
			if err != nil {
				t.Fatal(err)
			}
			// A group whose name is made of filter characters.
			if groups, err := c.Groups(ctx, bob); err != nil || !slices.Equal(groups, []string{"developers", "ops (night)*"}) {
				t.Fatalf("bob's groups %q, %v", groups, err)
			}
			if groups, err := c.Groups(ctx, "corp:"+d.EntryUUID(t, "frank")); err != nil || len(groups) != 0 {
				t.Fatalf("frank's groups %q, %v", groups, err)
			}
			if c.pool.dials.Load() != 1 {
				t.Fatalf("%d connections dialled for sequential calls, want 1 (pooled)", c.pool.dials.Load())
			}
		})
	}
}

func equalClaims(got, want map[string]any) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			return false
		}
		if ws, ok := w.([]string); ok {
			gs, ok := g.([]string)
			if !ok || !slices.Equal(gs, ws) {
				return false
			}
			continue
		}
		if g != w {
			return false
		}
	}
	return true
}

func TestWrongEmptyPasswordAndUnknownUser(t *testing.T) {
	d := ldaptest.Open(t)
	ctx := context.Background()
	c := newTestConnector(t, testConfig(d))

	_, err := c.Authenticate(ctx, "alice", "wrong")
	if !errors.Is(err, user.ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if got := c.takeBinds(); !slices.Equal(got, []string{"uid=alice,ou=people," + d.BaseDN}) {
		t.Fatalf("wrong password: user binds %q", got)
	}
	// An unknown user costs the same round trips: one bind, of a DN that
	// does not exist.
	_, err = c.Authenticate(ctx, "nobody", "wrong")
	if !errors.Is(err, user.ErrInvalidCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	if got := c.takeBinds(); !slices.Equal(got, []string{c.dummyDN}) {
		t.Fatalf("unknown user: user binds %q, want one of %s", got, c.dummyDN)
	}
	// An empty password would be an unauthenticated bind, which LDAP
	// answers with success: refused before anything is sent.
	dials := c.pool.dials.Load()
	for _, name := range []string{"alice", "nobody"} {
		if _, err := c.Authenticate(ctx, name, ""); !errors.Is(err, user.ErrInvalidCredentials) {
			t.Fatalf("empty password: %v", err)
		}
	}
	if got := c.takeBinds(); len(got) != 0 || c.pool.dials.Load() != dials {
		t.Fatalf("empty password reached the directory: binds %q", got)
	}
	for _, k := range []string{KindNetwork, KindTLS, KindServiceBind, KindDirectory, KindBusy} {
		if n := c.errors(k); n != 0 {
			t.Fatalf("signet_connector_errors_total{kind=%q} = %v after refusals, want 0", k, n)
		}
	}
}

// Usernames made of filter syntax never sign in, and never bind as an
// entry other than the one they name.
func TestInjection(t *testing.T) {
	d := ldaptest.Open(t)
	ctx := context.Background()
	c := newTestConnector(t, testConfig(d))
	for _, name := range []string{
		"*", "a*", "al*", "*lice", "alice*", "*)(uid=*", ")(uid=*", "alice)(|(uid=*", "alice)(uid=*)",
		"*)(objectClass=*", "(uid=alice)", "alice\x00", "\x00", "\x00alice", "alice\\", "al\\2a", "al\\2A",
		"st*", "st*r(x)*", "st\\2ar(x)\\5c", "alice)(&", "bob)(|(uid=alice", "*))(|(uid=*",
		"alice\r\n", "alice\t", "\talice", strings.Repeat("a", MaxUsernameBytes+1), "\xff\xfe",
	} {
		for _, pw := range []string{"alice-password", "bob-password", "star-password"} {
			sub, err := c.Authenticate(ctx, name, pw)
			if !errors.Is(err, user.ErrInvalidCredentials) {
				t.Errorf("username %q: %q, %v; want ErrInvalidCredentials", name, sub, err)
			}
		}
		for _, dn := range c.takeBinds() {
			if dn != c.dummyDN {
				t.Errorf("username %q bound as %s", name, dn)
			}
		}
	}
	// The username that is made of metacharacters signs in as itself.
	sub, err := c.Authenticate(ctx, `st*r(x)\`, "star-password")
	if err != nil || sub != "corp:"+d.EntryUUID(t, `st*r(x)\`) {
		t.Fatalf("st*r(x)\\: %q, %v", sub, err)
	}
	c.takeBinds()
	// Two entries with one username: refused, bound as neither.
	if _, err := c.Authenticate(ctx, "carol", "carol-password"); !errors.Is(err, user.ErrInvalidCredentials) {
		t.Fatalf("ambiguous username: %v", err)
	}
	if got := c.takeBinds(); !slices.Equal(got, []string{c.dummyDN}) {
		t.Fatalf("ambiguous username: user binds %q", got)
	}
}

// untrustedCA writes a CA certificate that signed nothing the test
// directory has.
func untrustedCA(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Untrusted CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "untrusted.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTLSVerification(t *testing.T) {
	d := ldaptest.Open(t)
	ctx := context.Background()
	ca := untrustedCA(t)
	for name, mod := range map[string]func(*Config){
		"ldaps untrusted CA":     func(c *Config) { c.CAFile = ca },
		"starttls untrusted CA":  func(c *Config) { c.URL, c.CAFile = d.URL, ca },
		"ldaps system roots":     func(c *Config) { c.CAFile = "" },
		"ldaps wrong name":       func(c *Config) { c.ServerName = "ldap.example.org" },
		"starttls wrong name":    func(c *Config) { c.URL, c.ServerName = d.URL, "ldap.example.org" },
		"starttls system roots":  func(c *Config) { c.URL, c.CAFile = d.URL, "" },
		"ldaps trusted (check)":  nil,
		"starttls trusted (chk)": func(c *Config) { c.URL = d.URL },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(d)
			if mod != nil {
				mod(&cfg)
			}
			c := newTestConnector(t, cfg)
			sub, err := c.Authenticate(ctx, "alice", "alice-password")
			if strings.Contains(name, "trusted (") {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, user.ErrUnavailable) || sub != "" {
				t.Fatalf("%q, %v; want ErrUnavailable", sub, err)
			}
			if !strings.Contains(err.Error(), "x509") && !strings.Contains(err.Error(), "certificate") {
				t.Errorf("error %q does not say what is wrong with the certificate", err)
			}
			if n := c.errors(KindTLS); n != 1 {
				t.Fatalf("signet_connector_errors_total{kind=tls} = %v, want 1", n)
			}
			if active, err := c.Active(ctx, "corp:"+d.EntryUUID(t, "alice")); active || !errors.Is(err, user.ErrUnavailable) {
				t.Fatalf("Active: %v, %v", active, err)
			}
		})
	}
	// Plain LDAP only when asked for.
	cfg := testConfig(d)
	cfg.URL, cfg.CAFile, cfg.InsecureNoTLS = d.URL, "", true
	c := newTestConnector(t, cfg)
	if _, err := c.Authenticate(ctx, "alice", "alice-password"); err != nil {
		t.Fatalf("insecureNoTLS: %v", err)
	}
	conn, _, err := c.pool.get(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, isTLS := conn.TLSConnectionState(); isTLS {
		t.Fatal("insecureNoTLS connection uses TLS")
	}
	c.pool.put(conn, true)
	cfg = testConfig(d)
	cfg.URL = d.URL
	c = newTestConnector(t, cfg)
	conn, _, err = c.pool.get(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, isTLS := conn.TLSConnectionState(); !isTLS {
		t.Fatal("ldap:// without insecureNoTLS did not StartTLS")
	}
	c.pool.put(conn, true)
}

func TestDisabledUsers(t *testing.T) {
	d := ldaptest.Open(t)
	ctx := context.Background()
	cfg := testConfig(d)
	c := newTestConnector(t, cfg)

	// Locked by an administrator (ppolicy): neither signs in nor is active.
	if _, err := c.Authenticate(ctx, "dora", "dora-password"); !errors.Is(err, user.ErrInvalidCredentials) {
		t.Fatalf("dora: %v", err)
	}
	if got := c.takeBinds(); !slices.Equal(got, []string{c.dummyDN}) {
		t.Fatalf("dora: user binds %q", got)
	}
	if active, err := c.Active(ctx, "corp:"+d.EntryUUID(t, "dora")); active || err != nil {
		t.Fatalf("dora Active: %v, %v", active, err)
	}
	// An operator's rule: erin is disabled only with it.
	if _, err := c.Authenticate(ctx, "erin", "erin-password"); err != nil {
		t.Fatalf("erin without disabledFilter: %v", err)
	}
	cfg.UserSearch.DisabledFilter = "(employeeType=disabled)"
	c = newTestConnector(t, cfg)
	if _, err := c.Authenticate(ctx, "erin", "erin-password"); !errors.Is(err, user.ErrInvalidCredentials) {
		t.Fatalf("erin with disabledFilter: %v", err)
	}
	if active, err := c.Active(ctx, "corp:"+d.EntryUUID(t, "erin")); active || err != nil {
		t.Fatalf("erin Active: %v, %v", active, err)
	}

	// frank signs in; an administrator locks him: the next Active (the
	// next refresh) says no, and so does a sign-in.
	sub, err := c.Authenticate(ctx, "frank", "frank-password")
	if err != nil {
		t.Fatal(err)
	}
	if active, err := c.Active(ctx, sub); !active || err != nil {
		t.Fatalf("frank Active: %v, %v", active, err)
	}
	d.Lock(t, "frank")
	if active, err := c.Active(ctx, sub); active || err != nil {
		t.Fatalf("frank Active after the lock: %v, %v", active, err)
	}
	if _, err := c.Authenticate(ctx, "frank", "frank-password"); !errors.Is(err, user.ErrInvalidCredentials) {
		t.Fatalf("frank after the lock: %v", err)
	}
	if claims, err := c.Claims(ctx, user.ClaimsRequest{Subject: sub, Scopes: []string{"openid", "profile"}, Caller: user.CallerUserinfo}); claims != nil || err != nil {
		t.Fatalf("frank's claims after the lock: %v, %v", claims, err)
	}
	// Subjects that are not this connector's, or name no entry.
	for _, s := range []string{"alice", "other:" + d.EntryUUID(t, "alice"), "corp:00000000-0000-0000-0000-000000000000", "corp:*", "corp:", "corp:b64:!!"} {
		if active, err := c.Active(ctx, s); active || err != nil {
			t.Fatalf("Active(%q): %v, %v", s, active, err)
		}
	}
}

// The directory goes away while signed-in users refresh and others sign
// in: ErrUnavailable and the metric meanwhile, and the pool's broken
// connections are replaced once it is back.
func TestDirectoryRestart(t *testing.T) {
	d := ldaptest.Open(t)
	ctx := context.Background()
	c := newTestConnector(t, with(d, func(c *Config) { c.URL, c.MaxConnections = d.RestartURL, 2 }))
	sub, err := c.Authenticate(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	ctl := func(verb string) { d.Restart(t, verb) }
	ctl("stop")
	t.Cleanup(func() { exec.Command(d.Ctl, "start").Run() })

	if _, err := c.Authenticate(ctx, "alice", "alice-password"); !errors.Is(err, user.ErrUnavailable) {
		t.Fatalf("sign-in while the directory is down: %v", err)
	}
	if active, err := c.Active(ctx, sub); active || !errors.Is(err, user.ErrUnavailable) {
		t.Fatalf("Active while the directory is down: %v, %v", active, err)
	}
	if n := c.errors(KindNetwork); n != 2 {
		t.Fatalf("signet_connector_errors_total{kind=network} = %v, want 2", n)
	}

	ctl("start")
	dials := c.pool.dials.Load()
	for i := range 3 {
		if _, err := c.Authenticate(ctx, "alice", "alice-password"); err != nil {
			t.Fatalf("sign-in %d after the restart: %v", i, err)
		}
	}
	if active, err := c.Active(ctx, sub); !active || err != nil {
		t.Fatalf("Active after the restart: %v, %v", active, err)
	}
	if n := c.pool.dials.Load() - dials; n != 1 {
		t.Fatalf("%d connections dialled after the restart, want 1 (then pooled)", n)
	}

	// A restart between two calls: the idle pooled connection is broken;
	// the next call replaces it without an error.
	ctl("stop")
	ctl("start")
	if _, err := c.Authenticate(ctx, "bob", "bob-password"); err != nil {
		t.Fatalf("sign-in after a restart between calls: %v", err)
	}
	if n := c.errors(KindNetwork); n != 2 {
		t.Fatalf("signet_connector_errors_total{kind=network} = %v after the recovery, want still 2", n)
	}
}

// Many sign-ins at once share a bounded pool.
func TestConcurrentSignIns(t *testing.T) {
	d := ldaptest.Open(t)
	ctx := context.Background()
	c := newTestConnector(t, with(d, func(c *Config) { c.MaxConnections = 3 }))
	alice := "corp:" + d.EntryUUID(t, "alice")
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := range 60 {
		wg.Go(func() {
			switch i % 3 {
			case 0:
				if sub, err := c.Authenticate(ctx, "alice", "alice-password"); err != nil || sub != alice {
					errs <- errors.Join(errors.New("alice"), err)
				}
			case 1:
				if _, err := c.Authenticate(ctx, "bob", "wrong"); !errors.Is(err, user.ErrInvalidCredentials) {
					errs <- errors.Join(errors.New("bob with a wrong password"), err)
				}
			default:
				if active, err := c.Active(ctx, alice); !active || err != nil {
					errs <- errors.Join(errors.New("Active"), err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := c.pool.dials.Load(); n > 3 || n < 1 {
		t.Fatalf("%d connections dialled, want 1 to 3 (maxConnections)", n)
	}
}

// A call that finds every pooled connection busy waits within its
// timeout, then answers ErrUnavailable.
func TestPoolBusy(t *testing.T) {
	d := ldaptest.Open(t)
	c := newTestConnector(t, with(d, func(c *Config) { c.MaxConnections, c.Timeout = 1, 300*time.Millisecond }))
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- c.withConn(context.Background(), func(*goldap.Conn) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	_, err := c.Authenticate(context.Background(), "alice", "alice-password")
	close(release)
	if herr := <-done; herr != nil {
		t.Fatal(herr)
	}
	if !errors.Is(err, user.ErrUnavailable) {
		t.Fatalf("sign-in with the pool busy: %v", err)
	}
	if n := c.errors(KindBusy); n != 1 {
		t.Fatalf("signet_connector_errors_total{kind=busy} = %v, want 1", n)
	}
	if _, err := c.Authenticate(context.Background(), "alice", "alice-password"); err != nil {
		t.Fatalf("sign-in once the pool is free: %v", err)
	}
}

func TestServiceAccountRefused(t *testing.T) {
	d := ldaptest.Open(t)
	c := newTestConnector(t, with(d, func(c *Config) { c.BindPassword = "not-the-password" }))
	_, err := c.Authenticate(context.Background(), "alice", "alice-password")
	if !errors.Is(err, user.ErrUnavailable) || !strings.Contains(err.Error(), "bindDN") {
		t.Fatalf("%v; want ErrUnavailable naming the bindDN", err)
	}
	if n := c.errors(KindServiceBind); n != 1 {
		t.Fatalf("signet_connector_errors_total{kind=service_bind} = %v, want 1", n)
	}
}

// With a record store: the sign-in keeps the claims and groups, Active
// answers from the record outside a refresh, and a refresh asks the
// directory: a user locked meanwhile stops at that refresh.
func TestStoreRecords(t *testing.T) {
	d := ldaptest.Open(t)
	ctx := context.Background()
	store := connector.NewMemoryStore()
	c := newStoreConnector(t, testConfig(d), store)
	alice, err := c.Authenticate(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := store.ConnectorUser(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"preferred_username": "alice", "name": "Alice Liddell", "email": "alice@signet.test",
		"email_verified": true, "groups": []string{"admins", "developers"}}
	if rec.Connector != "corp" || !equalClaims(rec.Claims, want) {
		t.Fatalf("record %+v", rec)
	}
	claims, err := c.Claims(ctx, user.ClaimsRequest{Subject: alice, Scopes: []string{"openid", "profile"}, Caller: user.CallerUserinfo})
	if err != nil || !equalClaims(claims, map[string]any{"preferred_username": "alice", "name": "Alice Liddell", "groups": []string{"admins", "developers"}}) {
		t.Fatalf("claims %v, %v", claims, err)
	}

	frank, err := c.Authenticate(ctx, "frank", "frank-password")
	if err != nil {
		t.Fatal(err)
	}
	d.Lock(t, "frank")
	if active, err := c.Active(ctx, frank); !active || err != nil {
		t.Fatalf("Active outside a refresh (from the record): %v, %v", active, err)
	}
	if active, err := c.Active(user.ForRefresh(ctx), frank); active || err != nil {
		t.Fatalf("Active at a refresh after the lock: %v, %v", active, err)
	}
	if _, err := store.ConnectorUser(ctx, frank); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("frank's record after the refresh: %v; want it deleted", err)
	}
	if active, err := c.Active(ctx, frank); active || err != nil {
		t.Fatalf("Active after the refresh said no: %v, %v", active, err)
	}
	// A refresh of an enabled user keeps (and updates) the record.
	if active, err := c.Active(user.ForRefresh(ctx), alice); !active || err != nil {
		t.Fatalf("alice at a refresh: %v, %v", active, err)
	}
	if rec2, err := store.ConnectorUser(ctx, alice); err != nil || !equalClaims(rec2.Claims, want) {
		t.Fatalf("alice's record after the refresh: %+v, %v", rec2, err)
	}
	// No record, no user (another connector's subject included).
	if active, err := c.Active(ctx, "corp:"+d.EntryUUID(t, "bob")); active || err != nil {
		t.Fatalf("bob without a record: %v, %v", active, err)
	}
}

// A sign-in whose request ended (the browser went away) answers
// ErrUnavailable without counting a directory error.
func TestCancelledNotCounted(t *testing.T) {
	d := ldaptest.Open(t)
	c := newTestConnector(t, testConfig(d))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Authenticate(ctx, "alice", "alice-password"); !errors.Is(err, user.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("%v; want ErrUnavailable and context.Canceled", err)
	}
	for _, k := range []string{KindNetwork, KindTLS, KindServiceBind, KindDirectory, KindBusy} {
		if n := c.errors(k); n != 0 {
			t.Fatalf("signet_connector_errors_total{kind=%q} = %v after a cancelled request, want 0", k, n)
		}
	}
}

// BenchmarkAuthenticate: sign-ins against the test directory through the
// pool (service search, user bind, rebind; no record store), in
// parallel.
func BenchmarkAuthenticate(b *testing.B) {
	d := ldaptest.Open(b)
	c, err := New(testConfig(d), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Authenticate(ctx, "alice", "alice-password"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(c.pool.dials.Load()), "dials")
}
