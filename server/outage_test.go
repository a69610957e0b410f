package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	grantstore "github.com/signet-id/signet/grant"
)

// downStore is a grant store that fails every call while down is set,
// as a database does during an outage.
type downStore struct {
	grantstore.Store
	down atomic.Bool
}

var errDown = errors.New("pgstore: connect: connection refused")

func (d *downStore) err() error {
	if d.down.Load() {
		return errDown
	}
	return nil
}

func (d *downStore) CreateGrant(ctx context.Context, g grantstore.Grant) error {
	if err := d.err(); err != nil {
		return err
	}
	return d.Store.CreateGrant(ctx, g)
}

func (d *downStore) Grant(ctx context.Context, id string) (grantstore.Grant, error) {
	if err := d.err(); err != nil {
		return grantstore.Grant{}, err
	}
	return d.Store.Grant(ctx, id)
}

func (d *downStore) ConsumeGrant(ctx context.Context, id string, now time.Time) (grantstore.Grant, error) {
	if err := d.err(); err != nil {
		return grantstore.Grant{}, err
	}
	return d.Store.ConsumeGrant(ctx, id, now)
}

func (d *downStore) Rotate(ctx context.Context, id string, now time.Time, next grantstore.Grant) (grantstore.Grant, error) {
	if err := d.err(); err != nil {
		return grantstore.Grant{}, err
	}
	return d.Store.Rotate(ctx, id, now, next)
}

func (d *downStore) StartSession(ctx context.Context, end, sess, code grantstore.Grant) error {
	if err := d.err(); err != nil {
		return err
	}
	return d.Store.StartSession(ctx, end, sess, code)
}

// During a store outage the instance still signs tokens (client
// credentials), but sign-in, refresh and userinfo fail, and /readyz says
// so: degraded in public, sign-in unavailable on the admin listener.
func TestStoreOutageSemantics(t *testing.T) {
	var ds *downStore
	e := newLoginEnv(t, func(c *Config) { ds = &downStore{Store: c.Grants}; c.Grants = ds })
	tr := e.tokens(e.exchange(e.code(e.browser(), spaRequest()), verifierForSPA))

	ds.down.Store(true)
	e.keys.set(func(f *fakeKeys) { f.storeErr = errDown })
	e.tokens(e.token(map[string][]string{"grant_type": {"client_credentials"}}, "billing", "billing-secret"))
	e.oauthErr(e.refresh(tr.RefreshToken), http.StatusServiceUnavailable, "temporarily_unavailable")
	if p := e.userinfo(tr.AccessToken); p.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("userinfo during the outage: %d %s", p.StatusCode, p.body)
	}
	b := e.browser()
	p := b.authorize(spaRequest())
	lp := b.get(p.Header.Get("Location"))
	if p := b.submitLogin(lp.body, "alice", alicePassword); p.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("sign-in during the outage: %d %s", p.StatusCode, p.body)
	}
	if p := e.browser().get(e.issuer + "/readyz"); p.StatusCode != 200 || p.body != `{"status":"degraded"}` {
		t.Errorf("public readyz: %d %s", p.StatusCode, p.body)
	}
	if w := get(e.s.AdminHandler(), "/readyz"); !strings.Contains(w.Body.String(), `"tokens":"ready","signIn":"unavailable: `) {
		t.Errorf("admin readyz: %s", w.Body)
	}

	ds.down.Store(false)
	e.keys.set(func(f *fakeKeys) { f.storeErr = nil })
	e.tokens(e.refresh(tr.RefreshToken))
	if w := get(e.s.AdminHandler(), "/readyz"); !strings.Contains(w.Body.String(), `"signIn":"ready"`) {
		t.Errorf("admin readyz after the outage: %s", w.Body)
	}
}
