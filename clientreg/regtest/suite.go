// Package regtest is the conformance suite every [clientreg.Store]
// implementation passes (memory, SQLite, PostgreSQL).
//
// A test calls [Run] with a function that prepares fresh, empty storage
// and returns a function opening handles on it; each handle stands for one
// Signet instance, so the suite can check that instances see each other's
// writes and that the change marker moves for all of them.
//
// # What the suite requires
//
//   - Records round-trip whole; Meta is filled in by the store (revision,
//     times to the microsecond, authors).
//   - ErrExists for a taken id, ErrNotFound for a missing one, ErrConflict
//     for an update or delete with a stale revision, ErrInvalid for a plain
//     or malformed secret or no author; a refused write changes nothing
//     (not the record, the audit log or the marker).
//   - Revisions never repeat, not even after a delete and a new create.
//   - Lists page by id with a cursor; the audit log pages newest first and
//     filters by kind and id; its entries hold no secret hash.
//   - Of concurrent updates from one revision exactly one wins.
//   - A done ctx fails every method with ctx's error.
package regtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/clientreg"
)

// NewStorage prepares fresh storage for one test and returns a function
// that opens a new handle on it (a memory store may return the same one).
type NewStorage func(t *testing.T) (open func() clientreg.Store)

// Run runs the suite as subtests of t.
func Run(t *testing.T, newStorage NewStorage) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, func() clientreg.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Resources", testResources},
		{"Refused", testRefused},
		{"Conflict", testConflict},
		{"RevisionsNeverRepeat", testRevisionsNeverRepeat},
		{"Pages", testPages},
		{"Audit", testAudit},
		{"SecondHandle", testSecondHandle},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ContextDone", testContextDone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStorage(t))
		})
	}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)

func cli(at time.Time) clientreg.Change { return clientreg.Change{By: clientreg.ByCLI, At: at} }

// Client returns a valid client record with a secret hash, for tests.
func Client(id string) clientreg.Client {
	exp := t0.Add(24 * time.Hour)
	yes := true
	return clientreg.Client{
		ClientID: id,
		Secrets: []clientreg.Secret{
			{Hash: clientauth.HashSHA256("new-secret-of-" + id), CreatedAt: t0},
			{Hash: clientauth.HashSHA256("old-secret-of-" + id), CreatedAt: t0.Add(-time.Hour), ExpiresAt: &exp},
		},
		AllowedGrantTypes:   []string{"client_credentials"},
		AllowedScopes:       []string{"orders.read"},
		AccessTokenLifetime: "15m",
		RequireDPoP:         &yes,
		JWKS:                json.RawMessage(`{"keys":[{"kty":"EC","kid":"k1","crv":"P-256","x":"ITnF08N57TtYc6wn-_6bME8Ri0OdfTuhxOFN3mIBmvA","y":"JuLlhsUwC8pNMemuAO644QwgQAquC7Jnj0nbKCuQrog"}]}`),
		JWKSURI:             "https://client.example.com/jwks",
		Extra:               json.RawMessage(`{"contacts":["ops@example.com"]}`),
	}
}

func mustCreate(t *testing.T, s clientreg.Store, c clientreg.Client) clientreg.Client {
	t.Helper()
	got, err := s.CreateClient(t.Context(), c, cli(t0))
	if err != nil {
		t.Fatalf("CreateClient(%s): %v", c.ClientID, err)
	}
	return got
}

func equalJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func testRoundTrip(t *testing.T, open func() clientreg.Store) {
	s := open()
	ctx := t.Context()
	in := Client("billing")
	created := mustCreate(t, s, in)
	m := created.Meta
	if m.Revision <= 0 || !m.CreatedAt.Equal(t0.Truncate(time.Microsecond)) || !m.UpdatedAt.Equal(m.CreatedAt) || m.CreatedBy != "cli" || m.UpdatedBy != "cli" {
		t.Fatalf("meta after create = %+v", m)
	}
	got, err := s.Client(ctx, "billing")
	if err != nil {
		t.Fatal(err)
	}
	in.Meta = created.Meta
	equalJSON(t, "stored client", got, in)

	// The consent, second-factor, branding and connector keys.
	portal := clientreg.Client{ClientID: "portal", TokenEndpointAuthMethod: "none", AllowedGrantTypes: []string{"authorization_code"},
		RedirectURIs: []string{"https://portal.example.com/cb"}, RequireConsent: true, AllowRememberConsent: true, RequireMFA: true,
		DisplayName: "Example Portal", LogoURI: "https://portal.example.com/logo.png", ClientURI: "https://portal.example.com",
		AllowedConnectors: []string{"corp", "local"}}
	portal.Meta = mustCreate(t, s, portal).Meta
	if gotPortal, err := s.Client(ctx, "portal"); err != nil {
		t.Fatal(err)
	} else {
		equalJSON(t, "stored client with login keys", gotPortal, portal)
	}
	if !got.Meta.CreatedAt.Equal(in.Meta.CreatedAt) {
		t.Errorf("createdAt %v, want %v", got.Meta.CreatedAt, in.Meta.CreatedAt)
	}

	got.AllowedScopes = append(got.AllowedScopes, "orders.write")
	later := t0.Add(time.Minute)
	upd, err := s.UpdateClient(ctx, got, got.Meta.Revision, clientreg.Change{By: "admin-tool", At: later})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Meta.Revision <= created.Meta.Revision || !upd.Meta.UpdatedAt.Equal(later) || upd.Meta.UpdatedBy != "admin-tool" ||
		upd.Meta.CreatedBy != "cli" || !upd.Meta.CreatedAt.Equal(created.Meta.CreatedAt) {
		t.Errorf("meta after update = %+v (created %+v)", upd.Meta, created.Meta)
	}
	again, err := s.Client(ctx, "billing")
	if err != nil {
		t.Fatal(err)
	}
	equalJSON(t, "updated client", again, upd)

	if err := s.DeleteClient(ctx, "billing", upd.Meta.Revision, cli(later)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client(ctx, "billing"); !errors.Is(err, clientreg.ErrNotFound) {
		t.Errorf("Client after delete: %v, want ErrNotFound", err)
	}
}

func testResources(t *testing.T, open func() clientreg.Store) {
	s := open()
	ctx := t.Context()
	r := clientreg.Resource{Name: "orders", Scopes: []string{"orders.read", "orders.write"},
		Secrets: []clientreg.Secret{{Hash: clientauth.HashSHA256("introspect"), CreatedAt: t0}},
		JWKSURI: "https://orders.example.com/jwks", AllowedAccessTokenSigningAlgorithms: []string{"ES256"}}
	created, err := s.CreateResource(ctx, r, cli(t0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateResource(ctx, r, cli(t0)); !errors.Is(err, clientreg.ErrExists) {
		t.Errorf("second CreateResource: %v, want ErrExists", err)
	}
	got, err := s.Resource(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	r.Meta = created.Meta
	equalJSON(t, "stored resource", got, r)
	// A client and a resource may share an id: they are different kinds.
	mustCreate(t, s, Client("orders"))
	got.Scopes = []string{"orders.read"}
	if _, err := s.UpdateResource(ctx, got, created.Meta.Revision, cli(t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteResource(ctx, "orders", created.Meta.Revision, cli(t0)); !errors.Is(err, clientreg.ErrConflict) {
		t.Errorf("DeleteResource with the old revision: %v, want ErrConflict", err)
	}
	if err := s.DeleteResource(ctx, "orders", 0, cli(t0)); err != nil {
		t.Fatal(err)
	}
	list, _, err := s.Resources(ctx, clientreg.Page{})
	if err != nil || len(list) != 0 {
		t.Errorf("Resources after delete = %v, %v", list, err)
	}
	if _, err := s.Client(ctx, "orders"); err != nil {
		t.Errorf("the client of the same id went with the resource: %v", err)
	}
}

// state is what a refused write must leave alone.
func state(t *testing.T, s clientreg.Store) string {
	t.Helper()
	ctx := t.Context()
	mark, err := s.Mark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cs, _, err := s.Clients(ctx, clientreg.Page{})
	if err != nil {
		t.Fatal(err)
	}
	rs, _, err := s.Resources(ctx, clientreg.Page{})
	if err != nil {
		t.Fatal(err)
	}
	audit, _, err := s.Audit(ctx, clientreg.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal([]any{mark, cs, rs, audit})
	return string(b)
}

func testRefused(t *testing.T, open func() clientreg.Store) {
	s := open()
	ctx := t.Context()
	c := mustCreate(t, s, Client("a"))
	before := state(t, s)

	plain := Client("b")
	plain.Secrets = []clientreg.Secret{{Hash: "plain:hunter2", CreatedAt: t0}}
	bad := Client("c")
	bad.Secrets = []clientreg.Secret{{Hash: "sha256:abc", CreatedAt: t0}}
	noID := Client("")
	badJWKS := Client("d")
	badJWKS.JWKS = json.RawMessage(`{"keys": [`)
	for name, fn := range map[string]func() error{
		"create existing": func() error { _, err := s.CreateClient(ctx, Client("a"), cli(t0)); return err },
		"plain secret":    func() error { _, err := s.CreateClient(ctx, plain, cli(t0)); return err },
		"bad hash":        func() error { _, err := s.CreateClient(ctx, bad, cli(t0)); return err },
		"no id":           func() error { _, err := s.CreateClient(ctx, noID, cli(t0)); return err },
		"bad jwks":        func() error { _, err := s.CreateClient(ctx, badJWKS, cli(t0)); return err },
		"no author":       func() error { _, err := s.CreateClient(ctx, Client("e"), clientreg.Change{}); return err },
		"update missing":  func() error { _, err := s.UpdateClient(ctx, Client("zz"), 0, cli(t0)); return err },
		"delete missing":  func() error { return s.DeleteClient(ctx, "zz", 0, cli(t0)) },
		"stale update":    func() error { _, err := s.UpdateClient(ctx, c, c.Meta.Revision+100, cli(t0)); return err },
		"stale delete":    func() error { return s.DeleteClient(ctx, "a", c.Meta.Revision+100, cli(t0)) },
	} {
		err := fn()
		var want error
		switch name {
		case "create existing":
			want = clientreg.ErrExists
		case "update missing", "delete missing":
			want = clientreg.ErrNotFound
		case "stale update", "stale delete":
			want = clientreg.ErrConflict
		default:
			want = clientreg.ErrInvalid
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the secret: %v", name, err)
		}
	}
	if after := state(t, s); after != before {
		t.Errorf("refused writes changed the store:\nbefore %s\nafter  %s", before, after)
	}
}

func testConflict(t *testing.T, open func() clientreg.Store) {
	s := open()
	ctx := t.Context()
	c := mustCreate(t, s, Client("a"))
	first := c
	first.AllowedScopes = []string{"one"}
	if _, err := s.UpdateClient(ctx, first, c.Meta.Revision, cli(t0)); err != nil {
		t.Fatal(err)
	}
	second := c
	second.AllowedScopes = []string{"two"}
	_, err := s.UpdateClient(ctx, second, c.Meta.Revision, cli(t0))
	if !errors.Is(err, clientreg.ErrConflict) {
		t.Fatalf("update from a read revision: %v, want ErrConflict", err)
	}
	got, err := s.Client(ctx, "a")
	if err != nil || got.AllowedScopes[0] != "one" {
		t.Errorf("after the conflict the client is %v, %v; want the first update kept", got.AllowedScopes, err)
	}
}

func testRevisionsNeverRepeat(t *testing.T, open func() clientreg.Store) {
	s := open()
	ctx := t.Context()
	a := mustCreate(t, s, Client("a"))
	if err := s.DeleteClient(ctx, "a", a.Meta.Revision, cli(t0)); err != nil {
		t.Fatal(err)
	}
	b := mustCreate(t, s, Client("a"))
	if b.Meta.Revision == a.Meta.Revision {
		t.Fatalf("a re-created client has its predecessor's revision %d: an old ETag would match it", a.Meta.Revision)
	}
	if err := s.DeleteClient(ctx, "a", a.Meta.Revision, cli(t0)); !errors.Is(err, clientreg.ErrConflict) {
		t.Errorf("delete with the predecessor's revision: %v, want ErrConflict", err)
	}
	r, err := clientreg.ParseETag(b.Meta.ETag())
	if err != nil || r != b.Meta.Revision {
		t.Errorf("ParseETag(%s) = %d, %v", b.Meta.ETag(), r, err)
	}
}

func testPages(t *testing.T, open func() clientreg.Store) {
	s := open()
	ctx := t.Context()
	// Byte order: upper case before lower case, "a-b" before "a_b".
	ids := []string{"b", "a_b", "A", "a-b", "c", "aa", "Z"}
	for _, id := range ids {
		mustCreate(t, s, Client(id))
	}
	want := "A Z a-b a_b aa b c"
	var got []string
	cursor := ""
	pages := 0
	for {
		list, next, err := s.Clients(ctx, clientreg.Page{Cursor: cursor, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(list) > 3 {
			t.Fatalf("a page of limit 3 has %d clients", len(list))
		}
		for _, c := range list {
			got = append(got, c.ClientID)
		}
		if next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("the pages do not end")
		}
		cursor = next
	}
	if strings.Join(got, " ") != want || pages != 3 {
		t.Errorf("pages gave %q in %d pages, want %q in 3", strings.Join(got, " "), pages, want)
	}
	list, next, err := s.Clients(ctx, clientreg.Page{Limit: 7})
	if err != nil || len(list) != 7 || next != "" {
		t.Errorf("a page holding everything: %d clients, next %q, %v; want 7 and no next", len(list), next, err)
	}
}

func testAudit(t *testing.T, open func() clientreg.Store) {
	s := open()
	ctx := t.Context()
	c := mustCreate(t, s, Client("a"))
	rotated := c
	rotated.Secrets = append([]clientreg.Secret{{Hash: clientauth.HashSHA256("newest"), CreatedAt: t0}}, c.Secrets...)
	u, err := s.UpdateClient(ctx, rotated, c.Meta.Revision, clientreg.Change{By: "ops-bot", Action: clientreg.ActionRotateSecret, At: t0.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateResource(ctx, clientreg.Resource{Name: "orders", Scopes: []string{"orders.read"}}, cli(t0)); err != nil {
		t.Fatal(err)
	}
	b := Client("b")
	b.RegistrationAccessTokenHash = clientauth.HashSHA256("registration-token")
	mustCreate(t, s, b)
	if err := s.DeleteClient(ctx, "a", u.Meta.Revision, cli(t0.Add(2*time.Second))); err != nil {
		t.Fatal(err)
	}

	all, next, err := s.Audit(ctx, clientreg.AuditQuery{})
	if err != nil || next != "" {
		t.Fatalf("Audit: %v (next %q)", err, next)
	}
	var got []string
	for _, e := range all {
		got = append(got, e.Action+" "+e.Kind+" "+e.ID+" by "+e.By)
		for _, raw := range []json.RawMessage{e.Before, e.After} {
			text := string(raw)
			if strings.Contains(text, "sha256:") || strings.Contains(text, "hash") || strings.Contains(text, "registrationAccessToken") {
				t.Errorf("audit entry %d shows a hash: %s", e.Seq, text)
			}
		}
	}
	want := "delete client a by cli|create client b by cli|create resource orders by cli|rotate-secret client a by ops-bot|create client a by cli"
	if strings.Join(got, "|") != want {
		t.Fatalf("audit log:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq >= all[i-1].Seq {
			t.Errorf("audit not newest first: %d after %d", all[i].Seq, all[i-1].Seq)
		}
	}
	rot := all[3]
	if rot.Seq != u.Meta.Revision || !rot.At.Equal(t0.Add(time.Second)) {
		t.Errorf("rotation entry seq %d at %v, want %d at %v", rot.Seq, rot.At, u.Meta.Revision, t0.Add(time.Second))
	}
	var before, after struct {
		Secrets []map[string]any `json:"secrets"`
	}
	if err := json.Unmarshal(rot.Before, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rot.After, &after); err != nil {
		t.Fatal(err)
	}
	if len(before.Secrets) != 2 || len(after.Secrets) != 3 {
		t.Errorf("rotation before/after show %d and %d secrets, want 2 and 3 (times only)", len(before.Secrets), len(after.Secrets))
	}
	if string(all[0].After) != "null" || string(all[4].Before) != "null" {
		t.Errorf("a delete's after is %s, a create's before %s; want null", all[0].After, all[4].Before)
	}

	// Pages of two, then a filter.
	var seqs []int64
	cursor := ""
	for range 10 {
		page, next, err := s.Audit(ctx, clientreg.AuditQuery{Page: clientreg.Page{Cursor: cursor, Limit: 2}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			seqs = append(seqs, e.Seq)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seqs) != 5 || seqs[0] != all[0].Seq || seqs[4] != all[4].Seq {
		t.Errorf("audit pages gave %v, want the 5 entries", seqs)
	}
	onlyA, _, err := s.Audit(ctx, clientreg.AuditQuery{Kind: clientreg.KindClient, ID: "a"})
	if err != nil || len(onlyA) != 3 {
		t.Errorf("audit of client a: %d entries, %v; want 3", len(onlyA), err)
	}
	res, _, err := s.Audit(ctx, clientreg.AuditQuery{Kind: clientreg.KindResource})
	if err != nil || len(res) != 1 || res[0].ID != "orders" {
		t.Errorf("audit of resources: %+v, %v", res, err)
	}
	if _, _, err := s.Audit(ctx, clientreg.AuditQuery{Page: clientreg.Page{Cursor: "x"}}); !errors.Is(err, clientreg.ErrInvalid) {
		t.Errorf("a bad cursor: %v, want ErrInvalid", err)
	}
}

func testSecondHandle(t *testing.T, open func() clientreg.Store) {
	a, b := open(), open()
	ctx := t.Context()
	m0, err := b.Mark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, a, Client("x"))
	m1, err := b.Mark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m1 <= m0 {
		t.Fatalf("the mark seen by another handle did not move after a write: %d then %d", m0, m1)
	}
	if _, err := b.Client(ctx, "x"); err != nil {
		t.Fatalf("another handle does not see the client: %v", err)
	}
	if m2, _ := b.Mark(ctx); m2 != m1 {
		t.Errorf("the mark moved without a write: %d then %d", m1, m2)
	}
}

func testConcurrentUpdates(t *testing.T, open func() clientreg.Store) {
	s := open()
	c := mustCreate(t, s, Client("hot"))
	const n = 16
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	handles := make([]clientreg.Store, n)
	for i := range handles {
		handles[i] = open()
	}
	for i := range n {
		wg.Go(func() {
			u := c
			u.AllowedScopes = []string{fmt.Sprint("s", i)}
			_, err := handles[i].UpdateClient(context.Background(), u, c.Meta.Revision, cli(t0))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, clientreg.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("update %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != n-1 {
		t.Errorf("%d concurrent updates from one revision: %d won, %d conflicted; want 1 and %d", n, wins.Load(), conflicts.Load(), n-1)
	}
	audit, _, err := s.Audit(t.Context(), clientreg.AuditQuery{ID: "hot"})
	if err != nil || len(audit) != 2 {
		t.Errorf("audit of the hot client: %d entries, %v; want 2 (create, one update)", len(audit), err)
	}
}

func testContextDone(t *testing.T, open func() clientreg.Store) {
	s := open()
	mustCreate(t, s, Client("a"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := state(t, s)
	errs := map[string]error{}
	_, errs["Client"] = s.Client(ctx, "a")
	_, _, errs["Clients"] = s.Clients(ctx, clientreg.Page{})
	_, errs["CreateClient"] = s.CreateClient(ctx, Client("b"), cli(t0))
	_, errs["UpdateClient"] = s.UpdateClient(ctx, Client("a"), 0, cli(t0))
	errs["DeleteClient"] = s.DeleteClient(ctx, "a", 0, cli(t0))
	_, _, errs["Audit"] = s.Audit(ctx, clientreg.AuditQuery{})
	_, errs["Mark"] = s.Mark(ctx)
	for name, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a done ctx: %v, want context.Canceled", name, err)
		}
	}
	if after := state(t, s); after != before {
		t.Errorf("writes with a done ctx changed the store")
	}
}
