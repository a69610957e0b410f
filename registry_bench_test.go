package signet

import (
	"fmt"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/clientreg"
)

// BenchmarkRegistryMerge is what every instance does after a change to
// the registry: check and compile every stored client with the file's
// (then server.SetClients). Run with -benchtime=10x for the large sizes.
func BenchmarkRegistryMerge(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			cfg := parseRegistryTestFile(&testing.T{})
			recs := StoredRecords{}
			for i := range n {
				recs.Clients = append(recs.Clients, clientreg.Client{ClientID: fmt.Sprintf("client-%05d", i), AllowedGrantTypes: []string{"client_credentials"},
					AllowedScopes: []string{"orders.read"}, AccessTokenLifetime: "15m",
					Secrets: []clientreg.Secret{{Hash: clientauth.HashSHA256(fmt.Sprint("secret-", i))}}})
			}
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				merged, refused, _ := recs.Merge(cfg, now)
				if len(refused) > 0 || len(merged.Clients) != n+1 {
					b.Fatalf("refused %v", refused)
				}
				ServerClients(merged)
			}
		})
	}
}
