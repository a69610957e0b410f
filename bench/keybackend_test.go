package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/signet-id/signet/key"
)

func TestKeyBackendOptions(t *testing.T) {
	t.Setenv("SIGNET_TEST_PKCS11_MODULE", "")
	var stderr strings.Builder
	if _, err := parseOptions([]string{"--key-backend", "pkcs11"}, &stderr); err == nil || !strings.Contains(stderr.String(), "SIGNET_TEST_PKCS11_MODULE") {
		t.Fatalf("without the token's settings: %v, %q; want a usage error naming the variables", err, stderr.String())
	}
	t.Setenv("SIGNET_TEST_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
	t.Setenv("SIGNET_TEST_PKCS11_TOKEN_LABEL", "signet")
	t.Setenv("SIGNET_TEST_PKCS11_PIN", "1234")
	o, err := parseOptions([]string{"--key-backend", "pkcs11"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if want := []key.Algorithm{key.RS256, key.PS256, key.ES256}; !slices.Equal(o.algs, want) || o.longAlg != key.ES256 {
		t.Fatalf("algs %v, long %s; want %v and ES256 (the backend cannot make EdDSA)", o.algs, o.longAlg, want)
	}
	stderr.Reset()
	if _, err := parseOptions([]string{"--key-backend", "pkcs11", "--algs", "ES256,EdDSA"}, &stderr); err == nil || !strings.Contains(stderr.String(), "pkcs11 backend cannot make EdDSA") {
		t.Fatalf("EdDSA on pkcs11: %v, %q; want a usage error naming the backend", err, stderr.String())
	}
	cfg := keyBackendYAML(o.keyBackendConfig)
	for _, want := range []string{"  keyBackend:\n    type: pkcs11\n", `    module: "/usr/lib/softhsm/libsofthsm2.so"`, `    tokenLabel: "signet"`, `    pin: "1234"`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("keyBackend YAML %q lacks %q", cfg, want)
		}
	}
}
