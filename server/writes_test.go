package server

import (
	"context"
	"testing"
	"time"

	grantstore "github.com/signet-id/signet/grant"
)

// The writes of writeCounter (codes_test.go) that make a flow's single
// transaction.

func (c *writeCounter) Rotate(ctx context.Context, id string, now time.Time, next grantstore.Grant) (grantstore.Grant, error) {
	c.writes.Add(1)
	return c.Store.Rotate(ctx, id, now, next)
}

func (c *writeCounter) StartSession(ctx context.Context, end string, sess, code grantstore.Grant) error {
	c.writes.Add(1)
	return c.Store.StartSession(ctx, end, sess, code)
}

// A sign-in (the whole code flow) is at most two write transactions, one
// per request that changes state (the login and the code exchange), also
// when the browser had a session before; a refresh is one. Every write
// call of a grant store is one transaction in each backend.
func TestWriteTransactionsPerFlow(t *testing.T) {
	var wc *writeCounter
	e := newLoginEnv(t, func(c *Config) { wc = &writeCounter{Store: c.Grants}; c.Grants = wc })
	b := e.browser()
	for i := range 2 { // the second sign-in ends the browser's first session
		e.clock.Add(time.Second)
		before := wc.writes.Load()
		code := e.code(b, spaRequest("prompt", "login"))
		if n := wc.writes.Load() - before; n != 1 {
			t.Fatalf("sign-in %d: the login made %d write transactions, want 1", i, n)
		}
		before = wc.writes.Load()
		tr := e.tokens(e.exchange(code, verifierForSPA))
		if n := wc.writes.Load() - before; n != 1 || tr.RefreshToken == "" {
			t.Fatalf("sign-in %d: the code exchange made %d write transactions, want 1", i, n)
		}
		for j := range 3 {
			before = wc.writes.Load()
			tr = e.tokens(e.refresh(tr.RefreshToken))
			if n := wc.writes.Load() - before; n != 1 {
				t.Fatalf("refresh %d: %d write transactions, want 1", j, n)
			}
		}
	}
}
