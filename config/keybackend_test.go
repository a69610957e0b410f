package config

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/keybackend"
)

func TestKeyBackend(t *testing.T) {
	c := mustParse(t, minimal, nil)
	if c.KeyBackend.Type != keybackend.Software || c.PreviousKeyBackend != nil {
		t.Fatalf("default keyBackend = %+v, previous %v; want software, none", c.KeyBackend, c.PreviousKeyBackend)
	}
	c = mustParse(t, minimal+`keyManagement:
  keyBackend:
    type: pkcs11
    module: /usr/lib/softhsm/libsofthsm2.so
    tokenLabel: signet
    pin: ${SIGNET_HSM_PIN}
    signTimeout: 3s
`, map[string]string{"SIGNET_HSM_PIN": "1234"})
	want := keybackend.Config{Type: "pkcs11", Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "signet", Pin: "1234",
		Issuer: "https://login.example.com", SignTimeout: 3 * time.Second}
	if c.KeyBackend != want {
		t.Fatalf("keyBackend = %+v; want %+v", c.KeyBackend, want)
	}
	c = mustParse(t, minimal+`keyManagement:
  keyBackend:
    type: awskms
    region: eu-west-1
    endpoint: http://127.0.0.1:4599
    previous:
      type: pkcs11
      module: /usr/lib/softhsm/libsofthsm2.so
      tokenLabel: signet
      pin: "1234"
`, nil)
	if c.KeyBackend.Type != "awskms" || c.KeyBackend.Region != "eu-west-1" || c.KeyBackend.Endpoint != "http://127.0.0.1:4599" {
		t.Fatalf("keyBackend = %+v", c.KeyBackend)
	}
	if p := c.PreviousKeyBackend; p == nil || p.Type != "pkcs11" || p.TokenLabel != "signet" {
		t.Fatalf("previous = %+v; want the pkcs11 settings", p)
	}
	// PostgreSQL with a key backend needs no protection secret: the
	// backend holds the private keys.
	c = mustParse(t, `
issuer: https://login.example.com
storage: { driver: postgres, dsn: "postgres://db/signet" }
keyManagement:
  keyBackend: { type: awskms, region: eu-west-1 }
`, nil)
	if secrets, _, err := c.ProtectionSecrets(nil); err != nil || secrets != nil {
		t.Fatalf("ProtectionSecrets = %v, %v; want none needed", secrets, err)
	}
}

func TestKeyBackendErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown type", "  keyBackend: { type: vault }\n", `signet.yaml:5: keyManagement.keyBackend.type: "vault" is unknown; allowed values are software, pkcs11, awskms`},
		{"pkcs11 module", "  keyBackend: { type: pkcs11, tokenLabel: s, pin: p }\n", "keyManagement.keyBackend.module: is required with type pkcs11 (the PKCS#11 library"},
		{"pkcs11 token", "  keyBackend: { type: pkcs11, module: /m.so, pin: p }\n", "keyManagement.keyBackend.tokenLabel: is required with type pkcs11"},
		{"pkcs11 pin", "  keyBackend: { type: pkcs11, module: /m.so, tokenLabel: s }\n", "keyManagement.keyBackend.pin: is required with type pkcs11"},
		{"kms region", "  keyBackend: { type: awskms }\n", "keyManagement.keyBackend.region: is required with type awskms"},
		{"kms endpoint", "  keyBackend: { type: awskms, region: eu-west-1, endpoint: \"127.0.0.1:4599\" }\n", "keyManagement.keyBackend.endpoint: \"127.0.0.1:4599\" is not an http(s) URL"},
		{"software with module", "  keyBackend: { type: software, module: /m.so }\n", "keyManagement.keyBackend.type: is software, which uses none of module"},
		{"unknown key", "  keyBackend: { type: pkcs11, tokenlabel: s }\n", `did you mean "tokenLabel"?`},
		{"eddsa on pkcs11", "  signingAlgorithms: [ EdDSA ]\n  keyBackend: { type: pkcs11, module: /m.so, tokenLabel: s, pin: p }\n", "keyManagement.signingAlgorithms[0]: the pkcs11 backend cannot make EdDSA keys"},
		{"rsa size on kms", "  rsaKeySize: 8192\n  signingAlgorithms: [ RS256 ]\n  keyBackend: { type: awskms, region: eu-west-1 }\n", "awskms makes RSA keys of 2048, 3072 or 4096 bits"},
		{"previous same", "  keyBackend:\n    type: awskms\n    region: eu-west-1\n    previous: { type: awskms, region: eu-west-1 }\n", "keyManagement.keyBackend.previous.type: is awskms, as keyBackend.type is"},
		{"previous incomplete", "  keyBackend:\n    type: awskms\n    region: eu-west-1\n    previous: { type: pkcs11 }\n", "keyManagement.keyBackend.previous.module: is required"},
		{"timeout", "  keyBackend: { type: awskms, region: eu-west-1, signTimeout: 0s }\n", "keyManagement.keyBackend.signTimeout: must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, minimal+"keyManagement:\n"+tc.doc, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

// With a key backend and SQLite, no secret file is generated (new keys are
// not sealed); an existing one (software keys from before) is used.
func TestKeyBackendSecretFile(t *testing.T) {
	dir := t.TempDir()
	c, err := Parse([]byte(`
issuer: https://login.example.com
storage: { driver: sqlite, dsn: signet.db }
keyManagement:
  keyBackend: { type: awskms, region: eu-west-1 }
`), ParseOptions{Source: "signet.yaml", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	secrets, created, err := c.ProtectionSecrets(nil)
	if err != nil || secrets != nil || created {
		t.Fatalf("ProtectionSecrets = %v, %v, %v; want none, nothing created", secrets, created, err)
	}
	if _, err := os.Stat(c.Protection.SecretFile); !os.IsNotExist(err) {
		t.Fatalf("secret file %s: %v; want it not created", c.Protection.SecretFile, err)
	}
	if err := os.WriteFile(c.Protection.SecretFile, []byte("an-older-generated-secret-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets, _, err = c.ProtectionSecrets(nil)
	if err != nil || len(secrets) != 1 || string(secrets[0]) != "an-older-generated-secret-0123456789" {
		t.Fatalf("ProtectionSecrets with an existing file = %q, %v; want its secret", secrets, err)
	}
}
