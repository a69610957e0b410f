package pgstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
)

// BenchmarkRevocationReadFlow is the revocation check of introspections
// and userinfo calls as the server makes them with 16 clients at once,
// each for a token of its own that was not revoked (nearly all): the
// statements sent and the CPU time of the backends per read.
func BenchmarkRevocationReadFlow(b *testing.B) {
	b.ReportAllocs()
	s, app, qc := openFlowStore(b)
	ctx := b.Context()
	ids := make([]string, flowClients)
	for c := range ids {
		ids[c] = grant.HashHandle(fmt.Sprint("jti:client-", c))
	}
	revoked := grant.Grant{ID: grant.HashHandle("jti:revoked"), Kind: grant.KindRevocation, Created: time.Now(), Expires: time.Now().Add(time.Hour)}
	if err := s.CreateGrant(ctx, revoked); err != nil {
		b.Fatal(err)
	}
	m := startFlowMeter(b, app, qc)
	b.ResetTimer()
	runClients(b, func(c, _ int) error {
		yes, err := s.HasRevocation(ctx, ids[c])
		if err == nil && yes {
			err = fmt.Errorf("client %d's token reads as revoked", c)
		}
		return err
	})
	m.stop()
}
