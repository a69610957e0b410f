package config

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/key"
)

func env(vars map[string]string) LookupEnv {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func parse(t *testing.T, doc string, vars map[string]string) (*Config, error) {
	t.Helper()
	return Parse([]byte(doc), ParseOptions{Source: "signet.yaml", Dir: t.TempDir(), LookupEnv: env(vars)})
}

func mustParse(t *testing.T, doc string, vars map[string]string) *Config {
	t.Helper()
	c, err := parse(t, doc, vars)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// writeKey writes a PEM key to dir and returns its file name.
func writeKey(t *testing.T, dir, name string, k any, public bool) string {
	t.Helper()
	var block *pem.Block
	if public {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PUBLIC KEY", Bytes: der}
	} else {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

const minimal = `
issuer: https://login.example.com
storage: { driver: memory }
`

func TestIssueShape(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writeKey(t, dir, "old.pem", ec, false)
	writeKey(t, dir, "older.pem", &ec2.PublicKey, true)
	doc := `
issuer: http://127.0.0.1:8080
listen: 127.0.0.1:8080
storage: { driver: sqlite, dsn: ./signet-data/signet.db }   # sqlite | postgres | memory | file (keys only)
keyManagement:
  enabled: true
  rotationInterval: 90d
  propagationTime: 14d
  retentionDuration: 14d
  deleteRetiredKeys: true
  keyCacheDuration: 24h
  rsaKeySize: 2048
  signingAlgorithms: [ { name: RS256 }, { name: ES256, x509: false } ]
  keyPath: ./keys                          # when the file store holds the keys
  protection: { enabled: true, secrets: [ "${SIGNET_KEY_SECRET}" ] }
signingCredential: { file: old.pem, algorithm: ES256, kid: optional }
validationKeys: [ { file: older.pem, algorithm: ES256 } ]
apiResources:
  - { name: orders, scopes: [orders.read, orders.write], allowedAccessTokenSigningAlgorithms: [ES256] }
clients:
  - clientId: billing
    secrets: [ "` + clientauth.HashSHA256("s3cret") + `" ]
    allowedGrantTypes: [client_credentials]
    allowedScopes: [orders.read]
    accessTokenLifetime: 1h
    allowedIdentityTokenSigningAlgorithms: []
`
	c, err := Parse([]byte(doc), ParseOptions{Source: "signet.yaml", Dir: dir, LookupEnv: env(map[string]string{"SIGNET_KEY_SECRET": "0123456789abcdef0123456789abcdef"})})
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "http://127.0.0.1:8080" || c.Listen != "127.0.0.1:8080" {
		t.Errorf("issuer/listen = %q %q", c.Issuer, c.Listen)
	}
	if c.Storage.Driver != DriverSQLite || c.Storage.DSN != filepath.Join(dir, "signet-data/signet.db") {
		t.Errorf("storage = %+v", c.Storage)
	}
	o := c.KeyManagement
	if !o.Enabled || o.RotationInterval != 90*key.Day || o.PropagationTime != 14*key.Day || o.RetentionDuration != 14*key.Day ||
		!o.DeleteRetiredKeys || o.KeyCacheDuration != 24*time.Hour || o.RSAKeySize != 2048 || !o.ProtectKeys ||
		c.Storage.KeyPath != filepath.Join(dir, "keys") {
		t.Errorf("options = %+v", o)
	}
	if len(o.SigningAlgorithms) != 2 || o.SigningAlgorithms[0].Algorithm != key.RS256 || o.SigningAlgorithms[1].Algorithm != key.ES256 || o.SigningAlgorithms[1].X509 {
		t.Errorf("algorithms = %+v", o.SigningAlgorithms)
	}
	if c.JWKSMaxAge != time.Hour {
		t.Errorf("jwksMaxAge = %s, want 1h", c.JWKSMaxAge)
	}
	if len(c.Protection.Secrets) != 1 || string(c.Protection.Secrets[0]) != "0123456789abcdef0123456789abcdef" || c.Protection.SecretFile != "" {
		t.Errorf("protection = %+v", c.Protection)
	}
	if sc := c.SigningCredential; sc == nil || sc.KID != "optional" || sc.Algorithm != key.ES256 || sc.Signer == nil || !ec.PublicKey.Equal(sc.Public) {
		t.Errorf("signing credential = %+v", sc)
	}
	if len(c.ValidationKeys) != 1 || c.ValidationKeys[0].Signer != nil || !ec2.PublicKey.Equal(c.ValidationKeys[0].Public) {
		t.Errorf("validation keys = %+v", c.ValidationKeys)
	}
	if len(c.APIResources) != 1 || c.APIResources[0].Name != "orders" || len(c.APIResources[0].Scopes) != 2 ||
		len(c.APIResources[0].AllowedAccessTokenSigningAlgorithms) != 1 {
		t.Errorf("api resources = %+v", c.APIResources)
	}
	if len(c.Clients) != 1 {
		t.Fatalf("clients = %+v", c.Clients)
	}
	cl := c.Clients[0]
	if cl.ClientID != "billing" || cl.AccessTokenLifetime != time.Hour || len(cl.AllowedScopes) != 1 || !clientauth.VerifyAny(cl.Secrets, "s3cret") {
		t.Errorf("client = %+v", cl)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings = %q", c.Warnings)
	}
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, minimal, nil)
	want := key.DefaultOptions()
	o := c.KeyManagement
	if o.RotationInterval != want.RotationInterval || o.PropagationTime != want.PropagationTime || o.RetentionDuration != want.RetentionDuration ||
		len(o.SigningAlgorithms) != 1 || o.SigningAlgorithms[0].Algorithm != key.RS256 || o.RSAKeySize != 2048 || !o.ProtectKeys || !o.Enabled {
		t.Errorf("options = %+v, want the reference defaults", o)
	}
	if c.Listen != DefaultListen || c.JWKSMaxAge != time.Hour || !c.Protection.Enabled {
		t.Errorf("listen %q, jwksMaxAge %s, protection %+v", c.Listen, c.JWKSMaxAge, c.Protection)
	}
	// No storage section: sqlite beside the config.
	c = mustParse(t, "issuer: https://a.example\n", nil)
	if c.Storage.Driver != DriverSQLite || !strings.HasSuffix(c.Storage.DSN, "signet-data/signet.db") {
		t.Errorf("default storage = %+v", c.Storage)
	}
}

func TestJWKSMaxAge(t *testing.T) {
	for _, tc := range []struct {
		km      string
		want    time.Duration
		wantErr string
	}{
		{"propagationTime: 1h", 30 * time.Minute, ""},
		{"propagationTime: 3d", time.Hour, ""},
		{"{ propagationTime: 1h, jwksMaxAge: 30m }", 30 * time.Minute, ""},
		{"{ propagationTime: 1h, jwksMaxAge: 0s }", 0, ""},
		{"{ propagationTime: 1h, jwksMaxAge: 31m }", 0, "signet.yaml:6: keyManagement.jwksMaxAge: 31m0s is more than half the propagationTime (1h0m0s)"},
		{"{ jwksMaxAge: 8d }", 0, "keyManagement.jwksMaxAge: 8d is more than half the propagationTime (14d)"},
	} {
		doc := minimal + "keyManagement:\n  " + strings.Trim(tc.km, "{} ") + "\n"
		doc = strings.ReplaceAll(doc, ", ", "\n  ")
		c, err := parse(t, doc, nil)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want %q", tc.km, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.km, err)
			continue
		}
		if c.JWKSMaxAge != tc.want {
			t.Errorf("%s: jwksMaxAge = %s, want %s", tc.km, c.JWKSMaxAge, tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	writeKey(t, dir, "ec.pem", ec, false)
	writeKey(t, dir, "ecpub.pem", &ec.PublicKey, true)
	writeKey(t, dir, "ed.pem", ed, false)
	res := "\napiResources: [ { name: orders, scopes: [orders.read] } ]\n"
	cl := func(extra string) string {
		return res + "clients:\n  - clientId: c1\n    secrets: [\"sha256:" + strings.Repeat("ab", 32) + "\"]\n    allowedGrantTypes: [client_credentials]\n" + extra
	}
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"empty", "", "signet.yaml: the file is empty"},
		{"not a mapping", "- a\n- b\n", "must be a mapping"},
		{"two documents", minimal + "---\nissuer: x\n", "more than one YAML document"},
		{"syntax", "issuer: [\n", "signet.yaml:"},
		{"duplicate key", minimal + "issuer: https://b.example\n", `signet.yaml:4: issuer: mapping key "issuer" already defined at line 2`},
		{"unknown top", minimal + "clients2: []\n", `signet.yaml:4: unknown key "clients2" at the top level; did you mean "clients"?`},
		{"unknown nested", minimal + "keyManagement:\n  rotationIntervall: 3d\n", `signet.yaml:5: unknown key "rotationIntervall" in keyManagement; did you mean "rotationInterval"?`},
		{"unknown case", minimal + "keyManagement:\n  RotationInterval: 3d\n", `did you mean "rotationInterval"?`},
		{"unknown no suggestion", minimal + "keyManagement:\n  zzzzzz: 1\n", `unknown key "zzzzzz" in keyManagement; known keys: clockSkew, deleteRetiredKeys, enabled,`},
		{"unknown in list", minimal + "keyManagement:\n  signingAlgorithms: [ { name: ES256, x5c: true } ]\n", `signet.yaml:5: unknown key "x5c" in keyManagement.signingAlgorithms[0]; did you mean "x509"?`},
		{"unknown in client", cl("    scopes: [a]\n"), `signet.yaml:7: unknown key "scopes" in clients[0]`},
		{"env unset", minimal + "keyManagement:\n  protection: { secrets: [\"${NOPE}\"] }\n", "signet.yaml:5: environment variable NOPE is not set (referenced as ${NOPE})"},
		{"env bad name", "issuer: ${1X}\n", `invalid environment variable name "1X"`},
		{"env unterminated", "issuer: http://${HOST\n", "unterminated ${"},
		{"bad bool", minimal + "keyManagement:\n  enabled: maybe\n", "signet.yaml:5: keyManagement.enabled: expected true or false, got !!str `maybe`"},
		{"bad int", minimal + "keyManagement:\n  rsaKeySize: big\n", "keyManagement.rsaKeySize: expected a whole number"},
		{"bad list", res + "clients:\n  - clientId: c1\n    secrets: oops\n", "clients[0].secrets: expected a list"},
		{"bad duration", minimal + "keyManagement:\n  rotationInterval: 9x\n", `signet.yaml:5: invalid duration "9x": use Go syntax like 90m or 12h, or days like 90d or 1d12h`},
		{"negative duration", minimal + "keyManagement:\n  rotationInterval: -3d\n", "must not be negative"},
		{"zero duration", minimal + "keyManagement:\n  propagationTime: 0s\n", "signet.yaml:5: keyManagement.propagationTime: must be a positive duration"},
		{"validate rotation", minimal + "keyManagement:\n  rotationInterval: 7d\n", "keyManagement: rotationInterval (168h0m0s) must be greater than propagationTime (336h0m0s)"},
		{"validate keyCache", minimal + "keyManagement:\n  propagationTime: 1h\n  keyCacheDuration: 45m\n", "keyCacheDuration (45m0s) must be at most propagationTime/2"},
		{"validate rsa", minimal + "keyManagement:\n  rsaKeySize: 1024\n", "rsaKeySize is 1024"},
		{"unknown algorithm", minimal + "keyManagement:\n  signingAlgorithms: [ { name: HS256 } ]\n", `signet.yaml:5: keyManagement.signingAlgorithms[0]: key: unknown signing algorithm "HS256": allowed values are RS256`},
		{"duplicate algorithm", minimal + "keyManagement:\n  signingAlgorithms: [ES256, ES256]\n", "lists ES256 twice"},
		{"empty algorithms", minimal + "keyManagement:\n  signingAlgorithms: []\n", "signingAlgorithms is empty"},
		{"nothing signs", minimal + "keyManagement:\n  enabled: false\n", "keyManagement.enabled: managed keys are disabled and no signingCredential is configured"},
		{"no issuer", "listen: :8080\n", "signet.yaml: issuer is required"},
		{"relative issuer", "issuer: login.example.com\n", `signet.yaml:1: issuer: "login.example.com" is not an absolute http or https URL`},
		{"issuer slash", "issuer: https://a.example/\n", `must not end with /; write "https://a.example"`},
		{"issuer query", "issuer: https://a.example/?x=1\n", "must not have a query"},
		{"bad listen", minimal + "listen: 8080\n", `signet.yaml:4: listen: "8080" is not a host:port address`},
		{"listen port range", minimal + "listen: 127.0.0.1:80800\n", `signet.yaml:4: listen: "127.0.0.1:80800": port 80800 is out of range; a TCP port is 1 to 65535 (0 picks a free one), e.g. :8080`},
		{"listen port name", minimal + "listen: :nonsense\n", `signet.yaml:4: listen: ":nonsense": port "nonsense" is neither a number nor a known service name`},
		{"short protection secret", minimal + "keyManagement:\n  protection: { secrets: [\"${SHORT}\"] }\n", "signet.yaml:5: keyManagement.protection.secrets[0]: is 8 bytes, at least 16 are required; use 32 random bytes, e.g. from `openssl rand -base64 32 | tr '+/' '-_' | tr -d =`"},
		{"bad driver", "issuer: https://a.example\nstorage: { driver: mysql }\n", `signet.yaml:2: storage.driver: unknown driver "mysql"`},
		{"proxy not an address", "issuer: https://a.example\ntrustedProxies: [ lb.internal ]\n", `trustedProxies[0]: "lb.internal" is not an IP address or CIDR prefix, e.g. 10.0.0.0/8 or 192.0.2.10`},
		{"proxy host bits", "issuer: https://a.example\ntrustedProxies: [ 10.1.2.3/8 ]\n", `trustedProxies[0]: "10.1.2.3/8" has host bits set; write "10.0.0.0/8"`},
		{"memory dsn", "issuer: https://a.example\nstorage: { driver: memory, dsn: x }\n", "storage.dsn: is not used by the memory driver"},
		{"postgres dsn", "issuer: https://a.example\nstorage: { driver: postgres }\n", "storage.dsn: is required with the postgres driver"},
		{"postgres secret", "issuer: https://a.example\nstorage: { driver: postgres, dsn: postgres://x/y }\n", "keyManagement.protection.secrets: is required with the postgres store"},
		{"empty secret", minimal + "keyManagement:\n  protection: { secrets: [\"${EMPTY}\"] }\n", "keyManagement.protection.secrets[0]: is empty"},
		{"credential no file", minimal + "signingCredential: { algorithm: ES256 }\n", "signet.yaml:4: signingCredential: file is required"},
		{"credential no alg", minimal + "signingCredential: { file: ec.pem }\n", "signingCredential: algorithm is required"},
		{"credential missing file", minimal + "signingCredential: { file: nope.pem, algorithm: ES256 }\n", "signingCredential.file: cannot read the key"},
		{"credential mismatch", minimal + "signingCredential: { file: ec.pem, algorithm: RS256 }\n", "signingCredential.algorithm: RS256 does not fit the key in ec.pem"},
		{"credential curve", minimal + "signingCredential: { file: ec.pem, algorithm: ES384 }\n", "ES384 does not fit the key"},
		{"credential eddsa", minimal + "signingCredential: { file: ed.pem, algorithm: ES256 }\n", "ES256 does not fit the key in ed.pem"},
		{"credential public", minimal + "signingCredential: { file: ecpub.pem, algorithm: ES256 }\n", "ecpub.pem holds no private key"},
		{"validation mismatch", minimal + "validationKeys: [ { file: ecpub.pem, algorithm: EdDSA } ]\n", "validationKeys[0].algorithm: EdDSA does not fit"},
		{"same key twice", minimal + "signingCredential: { file: ec.pem, algorithm: ES256 }\nvalidationKeys: [ { file: ecpub.pem, algorithm: ES256 } ]\n", "validationKeys[0]: is the same key as signingCredential"},
		{"duplicate kid", minimal + "signingCredential: { file: ec.pem, algorithm: ES256, kid: a }\nvalidationKeys: [ { file: ed.pem, algorithm: EdDSA, kid: a } ]\n", `kid "a" is also used by signingCredential`},
		{"resource no name", minimal + "apiResources: [ { scopes: [a] } ]\n", "apiResources[0]: name is required"},
		{"resource dup", minimal + "apiResources: [ { name: a, scopes: [a] }, { name: a, scopes: [b] } ]\n", `name "a" is used twice`},
		{"resource no scopes", minimal + "apiResources: [ { name: a } ]\n", "(a) has no scopes"},
		{"resource bad scope", minimal + "apiResources: [ { name: a, scopes: [\"a b\"] } ]\n", `apiResources[0].scopes[0]: "a b" is not a valid scope`},
		{"resource alg unavailable", minimal + "apiResources: [ { name: a, scopes: [a], allowedAccessTokenSigningAlgorithms: [PS256] } ]\n", "allows PS256, but Signet signs only with RS256"},
		{"resource alg unknown", minimal + "apiResources: [ { name: a, scopes: [a], allowedAccessTokenSigningAlgorithms: [none] } ]\n", `allowedAccessTokenSigningAlgorithms[0]: key: unknown signing algorithm "none"`},
		{"client no id", minimal + res + "clients: [ { secrets: [x] } ]\n", "clients[0]: clientId is required"},
		{"client dup", minimal + cl("  - clientId: c1\n    secrets: [plain:x]\n    allowedGrantTypes: [client_credentials]\n"), `clientId "c1" is used twice`},
		{"client no secret", minimal + res + "clients: [ { clientId: c1, allowedGrantTypes: [client_credentials] } ]\n", "(c1) has no secrets"},
		{"client bad secret", minimal + res + "clients: [ { clientId: c1, secrets: [hunter2], allowedGrantTypes: [client_credentials] } ]\n", "clients[0].secrets[0]: clientauth: invalid client secret"},
		{"client no grants", minimal + res + "clients: [ { clientId: c1, secrets: [plain:x] } ]\n", "(c1) has no allowedGrantTypes"},
		{"client bad grant", minimal + cl("    allowedScopes: [orders.read]\n") + "  - clientId: c2\n    secrets: [plain:x]\n    allowedGrantTypes: [password]\n", `clients[1].allowedGrantTypes[0]: grant type "password" is not supported`},
		{"client unknown scope", minimal + cl("    allowedScopes: [orders.write]\n"), `signet.yaml:10: clients[0].allowedScopes[0]: scope "orders.write" belongs to no API resource (known scopes: orders.read)`},
		{"client lifetime", minimal + cl("    accessTokenLifetime: 0s\n"), "clients[0].accessTokenLifetime: must be a positive duration"},
		{"client id alg", minimal + cl("    allowedIdentityTokenSigningAlgorithms: [XS1]\n"), "clients[0].allowedIdentityTokenSigningAlgorithms[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), ParseOptions{Source: "signet.yaml", Dir: dir, LookupEnv: env(map[string]string{"EMPTY": "", "SHORT": "8-bytes!"})})
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n  %v\nwant it to contain:\n  %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// TestErrorsHideSecrets: a configuration error never prints a secret value.
func TestErrorsHideSecrets(t *testing.T) {
	const secret = "TopSecret-0123456789"
	for _, doc := range []string{
		minimal + "clients: [ { clientId: c, secrets: [\"plain:" + secret + "${\"], allowedGrantTypes: [client_credentials] } ]\n",
		minimal + "keyManagement:\n  protection: { secrets: [\"" + secret + "${X\"] }\n",
		minimal + "keyManagement:\n  protection: { secrets: " + secret + " }\n",
		minimal + "clients: [ { clientId: c, secrets: " + secret + ", allowedGrantTypes: [client_credentials] } ]\n",
		minimal + "keyManagement:\n  protection: { secrets: [ { a: " + secret + " } ] }\n",
	} {
		_, err := Parse([]byte(doc), ParseOptions{Source: "signet.yaml", LookupEnv: env(nil)})
		if err == nil {
			t.Fatalf("%q: no error", doc)
		}
		if strings.Contains(err.Error(), "TopSecret") {
			t.Errorf("error prints the secret: %v", err)
		}
		if !strings.Contains(err.Error(), "signet.yaml:") {
			t.Errorf("error does not say where: %v", err)
		}
	}
}

// TestSecretFileModes: a secret file others can read is refused with the
// chmod that fixes it; a short or private one is handled as before.
func TestSecretFileModes(t *testing.T) {
	dir := t.TempDir()
	c, err := Parse([]byte("issuer: https://a.example\nstorage: { driver: sqlite, dsn: s.db }\n"), ParseOptions{Dir: dir, LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckProtectionSecrets(); err != nil {
		t.Fatalf("missing file (serve creates it): %v", err)
	}
	if _, err := os.Stat(c.Protection.SecretFile); !os.IsNotExist(err) {
		t.Fatalf("CheckProtectionSecrets created the file: %v", err)
	}
	if err := os.WriteFile(c.Protection.SecretFile, []byte("0123456789abcdef0123456789abcdef\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(c.Protection.SecretFile, 0o644)
	want := fmt.Sprintf("other users can access it (mode 0644); run chmod 600 %s", c.Protection.SecretFile)
	for name, err := range map[string]error{"check": c.CheckProtectionSecrets(), "serve": func() error { _, _, err := c.ProtectionSecrets(nil); return err }()} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", name, err, want)
		}
	}
	os.Chmod(c.Protection.SecretFile, 0o600)
	if err := c.CheckProtectionSecrets(); err != nil {
		t.Errorf("0600: %v", err)
	}
	os.WriteFile(c.Protection.SecretFile, []byte("short\n"), 0o600)
	if err := c.CheckProtectionSecrets(); err == nil || !strings.Contains(err.Error(), "is 5 bytes, at least 16 are required") {
		t.Errorf("short: %v", err)
	}
}

func TestEnvExpansion(t *testing.T) {
	vars := map[string]string{"HOST": "login.example.com", "SIZE": "3072", "ON": "false", "SECRET": "0123456789abcdef-xyz"}
	c := mustParse(t, `
issuer: https://${HOST}
storage: { driver: memory }
keyManagement:
  rsaKeySize: ${SIZE}
  deleteRetiredKeys: ${ON}
  protection: { secrets: ["${SECRET}", "literally-$${SECRET}x", "$argon$v=1-not-a-hash"] }
`, vars)
	if c.Issuer != "https://login.example.com" || c.KeyManagement.RSAKeySize != 3072 || c.KeyManagement.DeleteRetiredKeys {
		t.Errorf("issuer %q size %d delete %v", c.Issuer, c.KeyManagement.RSAKeySize, c.KeyManagement.DeleteRetiredKeys)
	}
	got := []string{string(c.Protection.Secrets[0]), string(c.Protection.Secrets[1]), string(c.Protection.Secrets[2])}
	if got[0] != vars["SECRET"] || got[1] != "literally-${SECRET}x" || got[2] != "$argon$v=1-not-a-hash" {
		t.Errorf("secrets = %q", got)
	}
	// A quoted scalar stays a string: "3072" cannot be an int.
	if _, err := parse(t, minimal+"keyManagement:\n  rsaKeySize: \"${SIZE}\"\n", vars); err == nil {
		t.Error("quoted ${SIZE} decoded into an int")
	}
	// Comments and keys are not expanded.
	mustParse(t, minimal+"# uses ${UNSET_IN_COMMENT}\n", nil)
}

func TestSignalsWarnings(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writeKey(t, dir, "ec.pem", ec, false)
	os.Chmod(filepath.Join(dir, "ec.pem"), 0o644)
	ec2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writeKey(t, dir, "val.pem", ec2, false)
	doc := `
issuer: http://login.example.com
storage: { driver: memory }
signingCredential: { file: ec.pem, algorithm: ES256 }
validationKeys: [ { file: val.pem, algorithm: ES256 } ]
apiResources: [ { name: a, scopes: [a] } ]
clients: [ { clientId: dev, secrets: ["plain:devsecret"], allowedGrantTypes: [client_credentials] } ]
`
	c, err := Parse([]byte(doc), ParseOptions{Source: "s.yaml", Dir: dir, LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(c.Warnings, "\n")
	for _, want := range []string{"plain http on a non-loopback host", "readable by other users", "holds a private key; only its public half", "client dev has a plain: secret"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings %q lack %q", c.Warnings, want)
		}
	}
	if strings.Contains(all, "devsecret") {
		t.Error("a warning shows the plain secret")
	}
}

// A SQLite DSN's file is relative to the configuration's directory,
// written as a path or as a file: URI.
func TestSQLiteDSNRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	for dsn, want := range map[string]string{
		"data/s.db":      filepath.Join(dir, "data/s.db"),
		"file:data/s.db": "file:" + filepath.Join(dir, "data/s.db"),
		"file:data/s.db?_pragma=busy_timeout(5000)": "file:" + filepath.Join(dir, "data/s.db") + "?_pragma=busy_timeout(5000)",
		"file:/var/lib/signet/s.db?_pragma=x":       "file:/var/lib/signet/s.db?_pragma=x",
		"/var/lib/signet/s.db":                      "/var/lib/signet/s.db",
		"file:///var/lib/signet/s.db":               "file:///var/lib/signet/s.db",
	} {
		c, err := Parse([]byte("issuer: https://a.example\nstorage: { driver: sqlite, dsn: \""+dsn+"\" }\n"), ParseOptions{Dir: dir, LookupEnv: env(nil)})
		if err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
		if c.Storage.DSN != want {
			t.Errorf("dsn %q resolved to %q, want %q", dsn, c.Storage.DSN, want)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	c := mustParse(t, "issuer: https://a.example\ntrustedProxies: [ 10.0.0.0/8, 192.0.2.10, \"2001:db8::/32\", \"::ffff:198.51.100.1\" ]\n", nil)
	var got []string
	for _, p := range c.TrustedProxies {
		got = append(got, p.String())
	}
	if want := []string{"10.0.0.0/8", "192.0.2.10/32", "2001:db8::/32", "198.51.100.1/32"}; !slices.Equal(got, want) {
		t.Fatalf("trustedProxies %v, want %v", got, want)
	}
}

func TestProtectionSecrets(t *testing.T) {
	dir := t.TempDir()
	c, err := Parse([]byte("issuer: https://a.example\nstorage: { driver: sqlite, dsn: data/s.db }\n"), ParseOptions{Dir: dir, LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "data/s.db.secret")
	if c.Protection.SecretFile != want {
		t.Fatalf("SecretFile = %q, want %q", c.Protection.SecretFile, want)
	}
	s1, created, err := c.ProtectionSecrets(nil)
	if err != nil || !created || len(s1) != 1 || len(s1[0]) != 43 {
		t.Fatalf("first: %q %v %v", s1, created, err)
	}
	fi, err := os.Stat(want)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", fi, err)
	}
	s2, created, err := c.ProtectionSecrets(nil)
	if err != nil || created || string(s2[0]) != string(s1[0]) {
		t.Fatalf("second: %q %v %v", s2, created, err)
	}

	c, _ = Parse([]byte("issuer: https://a.example\nstorage: { driver: file }\nkeyManagement: { keyPath: k/ }\n"), ParseOptions{Dir: dir, LookupEnv: env(nil)})
	if c.Protection.SecretFile != filepath.Join(dir, "k.secret") {
		t.Errorf("file store SecretFile = %q", c.Protection.SecretFile)
	}
	c, _ = Parse([]byte("issuer: https://a.example\nstorage: { driver: memory }\n"), ParseOptions{Dir: dir, LookupEnv: env(nil)})
	if s, created, err := c.ProtectionSecrets(nil); err != nil || created || len(s) != 1 || c.Protection.SecretFile != "" {
		t.Errorf("memory: %q %v %v", s, created, err)
	}
	c, _ = Parse([]byte("issuer: https://a.example\nstorage: { driver: memory }\nkeyManagement: { protection: { enabled: false } }\n"), ParseOptions{Dir: dir, LookupEnv: env(nil)})
	if s, _, err := c.ProtectionSecrets(nil); err != nil || s != nil || c.KeyManagement.ProtectKeys {
		t.Errorf("disabled: %q %v %v", s, err, c.KeyManagement.ProtectKeys)
	}
	c, _ = Parse([]byte("issuer: https://a.example\nstorage: { driver: postgres, dsn: 'postgres://x' }\nkeyManagement: { protection: { secrets: [abcdefghijklmnopq] } }\n"), ParseOptions{Dir: dir, LookupEnv: env(nil)})
	if s, _, err := c.ProtectionSecrets(nil); err != nil || string(s[0]) != "abcdefghijklmnopq" {
		t.Errorf("configured: %q %v", s, err)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"0.5d", 12 * time.Hour, true},
		{"14d", 14 * 24 * time.Hour, true},
		{"1d1m30s", 24*time.Hour + 90*time.Second, true},
		{"36h", 36 * time.Hour, true},
		{"1500ms", 1500 * time.Millisecond, true},
		{"0", 0, true},
		{" 3s ", 3 * time.Second, true},
		{"", 0, false},
		{"d", 0, false},
		{"3", 0, false},
		{"3days", 0, false},
		{"12h1d", 0, false},
		{"-1d", 0, false},
		{"1d-1h", 0, false},
		{"+1d", 0, false},
		{"99999999999d", 0, false},
		{"NaNd", 0, false},
		{"1w", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if FormatDuration(14*24*time.Hour) != "14d" || FormatDuration(90*time.Minute) != "1h30m0s" {
		t.Error("FormatDuration")
	}
}

func TestLoadRelativePaths(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	os.Mkdir(filepath.Join(dir, "keys"), 0o700)
	writeKey(t, filepath.Join(dir, "keys"), "old.pem", ec, false)
	path := filepath.Join(dir, "signet.yaml")
	os.WriteFile(path, []byte(minimal+"signingCredential: { file: keys/old.pem, algorithm: ES256 }\n"), 0o600)
	c, err := Load(path, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.SigningCredential.File != filepath.Join(dir, "keys/old.pem") || c.Source != path {
		t.Errorf("file %q source %q", c.SigningCredential.File, c.Source)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), env(nil)); err == nil || !strings.Contains(err.Error(), "does not exist; pass --config") {
		t.Errorf("missing file: %v", err)
	}
}

func TestExampleFile(t *testing.T) {
	// The repository's example must load (with its variable set).
	c, err := Load("../signet.example.yaml", env(map[string]string{"SIGNET_KEY_SECRET": "an-example-secret-of-32-bytes!!!"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Clients) == 0 || len(c.APIResources) == 0 {
		t.Errorf("example has no clients or resources")
	}
}
