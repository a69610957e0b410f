package privatekeyjwt

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
)

var sentinels = []error{ErrTooLarge, ErrMalformed, ErrAlgorithm, ErrIssuer, ErrSubject, ErrAudience, ErrExpired, ErrLifetime, ErrNotYetValid, ErrMissingJTI, ErrReplayed, ErrUnknownKey, ErrSignature}

// FuzzParse: a client assertion never panics the parser or the verifier,
// every refusal wraps one of the package's sentinels, and what is
// accepted names the client. The seeds below run as a regular test;
// `go test -fuzz FuzzParse` explores from them.
func FuzzParse(f *testing.F) {
	ck := newTestClientKeys(f)
	b64 := base64.RawURLEncoding.EncodeToString
	valid := sign(f, ck.signers["es"], key.ES256, "es", validClaims())
	parts := strings.Split(valid, ".")
	f.Add(valid)
	f.Add(sign(f, ck.signers["ed"], key.EdDSA, "", validClaims()))
	f.Add(sign(f, ck.signers["ps"], key.PS256, "ps", validClaims()))
	f.Add(b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".")
	f.Add(b64([]byte(`{"alg":"HS256"}`)) + "." + parts[1] + "." + parts[2])
	f.Add(b64([]byte(`{"alg":"ES256","crit":["exp"],"exp":1}`)) + "." + parts[1] + "." + parts[2])
	f.Add(parts[0] + "." + b64([]byte(`{"iss":["a"],"aud":{"x":1}}`)) + "." + parts[2])
	f.Add(parts[0] + "." + b64([]byte(`{"iss":"billing","exp":1e400}`)) + "." + parts[2])
	f.Add(`{"payload":"` + parts[1] + `","signatures":[]}`)
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, assertion string) {
		v := newTestVerifier(t, NewMemoryReplay(10, func() time.Time { return t0 }))
		a, err := v.Parse(assertion)
		if err != nil {
			if !slicesContainsErr(err) {
				t.Fatalf("Parse error wraps no sentinel: %v", err)
			}
			return
		}
		if a.ClientID() == "" || len(assertion) > DefaultMaxSize {
			t.Fatalf("accepted %d bytes naming %q", len(assertion), a.ClientID())
		}
		claims, err := v.Verify(context.Background(), a, Client{ID: testClient, Keys: ck.set})
		if err != nil {
			if !slicesContainsErr(err) {
				t.Fatalf("Verify error wraps no sentinel: %v", err)
			}
			return
		}
		if claims.ClientID != testClient || claims.JTI == "" {
			t.Fatalf("verified %+v", claims)
		}
	})
}

func slicesContainsErr(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
