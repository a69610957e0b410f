package backend_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/signer/backend"
)

// open opens the backend, closed when the test ends.
func open(t *testing.T) *backend.Backend {
	t.Helper()
	b, err := backend.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

func TestNameAndDescriptionAgree(t *testing.T) {
	d := backend.Description()
	if !strings.HasPrefix(d, "signing backend: ") {
		t.Fatalf("Description() = %q", d)
	}
	for _, alg := range key.Algorithms() {
		name := backend.Name(alg)
		switch name {
		case backend.Go:
			if strings.Contains(d, "openssl") && !strings.Contains(d[strings.Index(d, "; go for "):], alg.String()) {
				t.Errorf("Name(%s) = go but Description() = %q", alg, d)
			}
		case backend.OpenSSL:
			if !strings.Contains(d[:strings.Index(d, "; go for ")], alg.String()) {
				t.Errorf("Name(%s) = openssl but Description() = %q", alg, d)
			}
		default:
			t.Errorf("Name(%s) = %q", alg, name)
		}
	}
	if got := backend.Name("HS256"); got != backend.Go {
		t.Errorf("Name(HS256) = %q, want go", got)
	}
}

// TestFactorySigns: whatever the build, a key through the factory signs
// RS256 verifiably.
func TestFactorySigns(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var s crypto.Signer = priv
	// The factory is assignable to the key manager's field as is.
	var f keymanager.SignerFactory = open(t).Factory()
	if f != nil {
		if s, err = f(key.RS256, priv); err != nil {
			t.Fatal(err)
		}
	}
	d := make([]byte, 32)
	sig, err := s.Sign(rand.Reader, d, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, d, sig); err != nil {
		t.Fatal(err)
	}
}
