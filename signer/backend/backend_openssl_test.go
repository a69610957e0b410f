//go:build openssl && cgo

package backend_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/signer/backend"
	"github.com/signet-id/signet/signer/openssl"
)

func TestOpenSSLBuild(t *testing.T) {
	want := map[key.Algorithm]string{
		key.RS256: "openssl", key.RS384: "openssl", key.RS512: "openssl",
		key.PS256: "openssl", key.PS384: "openssl", key.PS512: "openssl",
		key.ES256: "go", key.ES384: "go", key.ES512: "openssl", key.EdDSA: "go",
	}
	for alg, w := range want {
		if got := backend.Name(alg); got != w {
			t.Errorf("Name(%s) = %q, want %q", alg, got, w)
		}
	}
	wantDesc := "signing backend: openssl (" + openssl.Version() + ") for RS256, RS384, RS512, PS256, PS384, PS512, ES512; go for ES256, ES384, EdDSA"
	if got := backend.Description(); got != wantDesc {
		t.Errorf("Description() =\n%q, want\n%q", got, wantDesc)
	}
	if open(t).Factory() == nil {
		t.Error("Factory() = nil in the openssl build")
	}
}

// TestKeyManagerSignsThroughOpenSSL: the key manager, given Factory, signs
// each algorithm with the backend Name reports, and the tokens verify
// against its JWKS.
func TestKeyManagerSignsThroughOpenSSL(t *testing.T) {
	opts := key.DefaultOptions()
	opts.ProtectKeys = false
	opts.SigningAlgorithms = nil
	for _, alg := range []key.Algorithm{key.RS256, key.PS256, key.ES256, key.ES512, key.EdDSA} {
		opts.SigningAlgorithms = append(opts.SigningAlgorithms, key.AlgorithmOptions{Algorithm: alg})
	}
	m, err := keymanager.New(keymanager.Config{Options: opts, Store: memstore.New(), SignerFactory: open(t).Factory()})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(m.JWKS().Body, &set); err != nil {
		t.Fatal(err)
	}
	for _, o := range opts.SigningAlgorithms {
		alg := o.Algorithm
		k, err := m.SigningKey([]key.Algorithm{alg})
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		_, viaOpenSSL := k.Signer().(*openssl.Signer)
		if want := backend.Name(alg) == backend.OpenSSL; viaOpenSSL != want {
			t.Errorf("%s signs with %T; Name says %s", alg, k.Signer(), backend.Name(alg))
		}
		token, err := k.Sign(jws.TypeAccessToken, []byte(`{"sub":"alice"}`))
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		obj, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		keys := set.Key(k.KID())
		if len(keys) != 1 {
			t.Fatalf("%s: kid %s not in the JWKS", alg, k.KID())
		}
		if _, err := obj.Verify(keys[0].Key); err != nil {
			t.Errorf("%s: token does not verify against the JWKS: %v", alg, err)
		}
	}
	if !strings.Contains(backend.Description(), openssl.Version()) {
		t.Error("Description lacks the OpenSSL version")
	}
}
