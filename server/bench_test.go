package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signet-id/signet/key"
)

// BenchmarkToken measures the whole token path in-process (no network),
// to compare with BenchmarkSignOnly: the difference is the server's own cost.
func BenchmarkToken(b *testing.B) {
	for _, alg := range []key.Algorithm{key.ES256, key.EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			keys := newFakeKeys(b)
			keys.order = []key.Algorithm{alg}
			s := newTestServer(b, keys)
			const body = "grant_type=client_credentials"
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest(http.MethodPost, "/connect/token", strings.NewReader(body))
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					r.Header.Set("Authorization", "Basic cG9zdGVyOnBvc3Rlci1zZWNyZXQ=") // poster:poster-secret
					w := httptest.NewRecorder()
					s.ServeHTTP(w, r)
					if w.Code != 200 {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}

// BenchmarkSignOnly is the raw signature cost of the same payload size.
func BenchmarkSignOnly(b *testing.B) {
	for _, alg := range []key.Algorithm{key.ES256, key.EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			k := newFakeKeys(b).keys[alg]
			payload := []byte(`{"iss":"https://login.example.com","exp":1700003600,"aud":"reports","sub":"poster","client_id":"poster","iat":1700000000,"nbf":1700000000,"jti":"AAAAAAAAAAAAAAAAAAAAAA","scope":"reports.read"}`)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := k.Sign("at+jwt", payload); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
