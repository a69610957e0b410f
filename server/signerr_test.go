package server

import (
	"context"
	"crypto"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
	"github.com/signet-id/signet/keymanager"
)

// TestTokenKeyBackendUnavailable: when the key backend (a PKCS#11 token,
// KMS) fails or times out, the token endpoint answers 503
// temporarily_unavailable and logs the backend's reason; any other signing
// failure stays a 500 server_error.
func TestTokenKeyBackendUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sign    keybackend.SignFunc
		timeout time.Duration
		reason  string
	}{
		{"error", func(context.Context, []byte, crypto.SignerOpts) ([]byte, error) {
			return nil, errors.New("ThrottlingException: rate exceeded")
		}, time.Second, "ThrottlingException: rate exceeded"},
		{"timeout", func(ctx context.Context, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, 30 * time.Millisecond, "no signature within 30ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := newFakeKeys(t)
			pub := keys.keys[key.EdDSA].Public()
			keys.keys[key.EdDSA] = mustKey(t, "kms-1", key.EdDSA, keybackend.TimedSigner(pub, tc.timeout, "awskms key arn:test", tc.sign))
			var logs lockedBuffer
			clients, resources := testClients(t)
			s, err := New(Config{Issuer: "https://login.example.com", Keys: keys, Clients: clients, APIResources: resources,
				JWKSMaxAge: 90 * time.Second, Now: func() time.Time { return testNow }, Logger: testLogger(&logs)})
			if err != nil {
				t.Fatal(err)
			}
			w := post(s, url.Values{"grant_type": {"client_credentials"}}, [2]string{"billing", "billing-secret"})
			if w.Code != 503 || !strings.Contains(w.Body.String(), `"error":"temporarily_unavailable"`) {
				t.Fatalf("status %d, body %s; want 503 temporarily_unavailable", w.Code, w.Body)
			}
			if strings.Contains(w.Body.String(), "arn:test") {
				t.Fatalf("the response reveals backend details: %s", w.Body)
			}
			if l := logs.String(); !strings.Contains(l, "key backend is unavailable") || !strings.Contains(l, tc.reason) || !strings.Contains(l, "kid=kms-1") {
				t.Fatalf("log %q; want the kid and the backend's reason %q", l, tc.reason)
			}
		})
	}
}

// TestMetricsSigningBackendNamesKeyBackend: an algorithm whose active
// managed key is held by a key backend is labelled with it.
func TestMetricsSigningBackendNamesKeyBackend(t *testing.T) {
	keys := newFakeKeys(t)
	keys.set(func(f *fakeKeys) {
		f.infos = []keymanager.KeyInfo{
			{KID: "es-1", Algorithm: key.ES256, State: key.StateActive, Backend: key.BackendSoftware},
			{KID: "ed-1", Algorithm: key.EdDSA, State: key.StateActive, Backend: "awskms"},
		}
	})
	s := newTestServer(t, keys)
	body := get(s.AdminHandler(), "/metrics").Body.String()
	for _, want := range []string{
		`signet_signing_backend{algorithm="ES256",backend="go"} 1`,
		`signet_signing_backend{algorithm="EdDSA",backend="awskms"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
