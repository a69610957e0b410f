package pgstore

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signet-id/signet/grant"
)

// A claim commits with synchronous_commit off, for its own transaction
// only: the next statement on the same connection has the server's
// setting again; WithDurableReplay keeps the server's setting for claims
// too. A claim made so is refused at another instance at once.
func TestClaimCommitsWithoutFlush(t *testing.T) {
	_, dsn := newSchema(t)
	ctx := t.Context()
	oneConn := WithPoolConfig(func(c *pgxpool.Config) { c.MaxConns = 1 })
	s, other := open(t, dsn, oneConn), open(t, dsn)
	now := time.Now()
	id := grant.OnceID(grant.OnceClientAssertion, "client", "jti-1")
	if err := grant.UseOnce(ctx, s, id, now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if m := s.claims.lastCommitMode.Load(); m == nil || *m != "off" {
		t.Fatalf("the claim committed with synchronous_commit %v, want off", m)
	}
	var after string
	if err := s.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&after); err != nil || after != "on" {
		t.Fatalf("after the claim, the connection's synchronous_commit is %q (%v), want on: the setting leaked", after, err)
	}
	if err := grant.UseOnce(ctx, other, id, now, now.Add(time.Minute)); !errors.Is(err, grant.ErrReplayed) {
		t.Fatalf("replay at another instance: %v, want ErrReplayed", err)
	}

	durable := open(t, dsn, WithDurableReplay())
	if err := grant.UseOnce(ctx, durable, grant.OnceID(grant.OnceClientAssertion, "client", "jti-2"), now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if m := durable.claims.lastCommitMode.Load(); m == nil || *m != "on" {
		t.Fatalf("WithDurableReplay: the claim committed with synchronous_commit %v, want on", m)
	}
}
