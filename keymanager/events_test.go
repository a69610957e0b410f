package keymanager

import (
	"context"
	"strings"
	"testing"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore/memstore"
)

// hasLine reports whether a line starts with prefix and holds every
// fragment.
func hasLine(lines []string, prefix string, fragments ...string) bool {
	for _, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		ok := true
		for _, f := range fragments {
			ok = ok && strings.Contains(l, f)
		}
		if ok {
			return true
		}
	}
	return false
}

// TestKeyEventsLogged: a running instance logs every key event it sees in
// the store, with kid, algorithm, state and times, also the ones another
// process made (signet keys rotate and revoke from the CLI).
func TestKeyEventsLogged(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := memstore.New()
	o := opts(key.ES256)
	cli := newManager(t, Config{Options: o, Store: store, Now: clk.Now})
	logs := &logLines{}
	srv := newManager(t, Config{Options: o, Store: store, Now: clk.Now, Logger: logs.logger()})
	start(t, srv)
	first := srv.Plan().Series[0].Signing
	got := logs.take()
	if !hasLine(got, "INFO key created ", "kid="+first, "alg=ES256", "created=2026-01-01 00:00:00 +0000 UTC", "signs_from=", "retires_at=", "delete_after=") ||
		!hasLine(got, "INFO key activated ", "kid="+first, "alg=ES256", "state=active", "created=2026-01-01 00:00:00 +0000 UTC", "signs_from=", "retires_at=", "delete_after=") {
		t.Errorf("start: %q", got)
	}

	// Another process rotates; the server sees it on reload.
	start(t, cli)
	ki, err := cli.Rotate(ctx, key.ES256, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	got = logs.take()
	if !hasLine(got, "INFO key created by another process, announced", "kid="+ki.KID, "alg=ES256", "state=pending", "signs_from="+ki.SignsFrom.UTC().String()) {
		t.Errorf("rotation by another process: %q", got)
	}

	// The successor activates, the old key retires.
	clk.Set(ki.SignsFrom)
	if err := srv.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	got = logs.take()
	if !hasLine(got, "INFO key activated", "kid="+ki.KID, "alg=ES256", "was=pending") || !hasLine(got, "INFO key retired", "kid="+first, "alg=ES256", "retires_at=") {
		t.Errorf("handover: %q", got)
	}

	// Another process revokes the retired key.
	if err := cli.Revoke(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := srv.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	got = logs.take()
	if !hasLine(got, "INFO key revoked", "kid="+first, "alg=ES256", "revoked=") {
		t.Errorf("revocation by another process: %q", got)
	}

	// Past its DeleteAfter the record is deleted.
	r, _ := srv.record(first)
	clk.Set(r.DeleteAfter.Add(key.Day))
	if err := srv.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	got = logs.take()
	if !hasLine(got, "INFO key deleted", "kid="+first, "alg=ES256", "delete_after=") {
		t.Errorf("deletion: %q", got)
	}
}

// TestStandbyWhileStaticSigns: in phase 1 the managed key of the static
// credential's algorithm is on standby, in Keys and in the logs, never
// active or signing; a managed key of another algorithm is active.
func TestStandbyWhileStaticSigns(t *testing.T) {
	logs := &logLines{}
	m := newManager(t, Config{Options: opts(key.ES256, key.EdDSA), Store: memstore.New(), Static: staticKey(t, key.ES256, "old"), Logger: logs.logger()})
	start(t, m)
	standby := 0
	for _, k := range m.Keys() {
		switch {
		case k.Created.IsZero():
		case k.Algorithm == key.ES256:
			if !k.Standby {
				t.Errorf("ES256 key %s (%s) is not on standby while the static ES256 credential signs", k.KID, k.State)
			}
			standby++
		case k.Standby:
			t.Errorf("EdDSA key %s on standby; no static EdDSA credential stands in for it", k.KID)
		}
	}
	if standby != 1 {
		t.Errorf("%d ES256 keys on standby, want 1", standby)
	}
	if k, err := m.SigningKey(nil); err != nil || k.KID() != "old" {
		t.Fatalf("signing with %v %v, want the static credential", k, err)
	}
	got := logs.take()
	if !hasLine(got, "INFO signing key: the static signing credential", "kid=old", "alg=ES256") {
		t.Errorf("no line for the static credential: %q", got)
	}
	if !hasLine(got, "INFO key activated, on standby: announced; the static credential signs", "alg=ES256", "state=standby") {
		t.Errorf("no standby line: %q", got)
	}
	for _, l := range got {
		if strings.Contains(l, "alg=ES256") && strings.Contains(l, "state=active") {
			t.Errorf("a managed ES256 key is logged as active in phase 1: %q", l)
		}
	}
	if !hasLine(got, "INFO key activated ", "alg=EdDSA", "state=active") {
		t.Errorf("EdDSA key not logged as active: %q", got)
	}
}
