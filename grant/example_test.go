package grant_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keystore/memstore"
)

// Grants are stored under the hash of the handle a client holds, never the
// handle itself.
func ExampleHashHandle() {
	fmt.Println(len(grant.HashHandle("a random refresh token handle")))
	// Output: 64
}

// A verifier of DPoP proofs (or client assertions) remembers each proof's
// jti in the grant store until the proof expires: a replay, at this
// instance or another sharing the store, is refused.
func ExampleReplayCache() {
	store := memstore.New() // sqlitestore or pgstore in a server
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	proofs := grant.NewReplayCache(store, grant.OnceDPoPProof, func() time.Time { return now })

	id := "thumbprint-of-the-proof-key\x00jti-of-the-proof"
	fmt.Println(proofs.UseOnce(context.Background(), id, now.Add(time.Minute)))
	err := proofs.UseOnce(context.Background(), id, now.Add(time.Minute))
	fmt.Println(errors.Is(err, grant.ErrReplayed))
	// Output:
	// <nil>
	// true
}
