package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth/privatekeyjwt"
	"github.com/signet-id/signet/key"
)

// TestWalkthrough runs the steps of docs/client-authentication.md: make a
// key (with openssl when installed), print its JWK, build an assertion;
// Signet's verifier accepts the assertion with that JWK Set, once.
func TestWalkthrough(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "billing.key")
	if openssl, err := exec.LookPath("openssl"); err == nil {
		if out, err := exec.Command(openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyFile).CombinedOutput(); err != nil {
			t.Fatalf("openssl: %v\n%s", err, out)
		}
	} else {
		t.Log("openssl not installed; the key is made in Go in the same format")
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	jwk := capture(t, "jwk", keyFile)
	if strings.Contains(jwk, `"d"`) {
		t.Fatalf("the printed JWK holds the private key: %s", jwk)
	}
	assertion := capture(t, "assertion", "-key", keyFile, "-client", "billing", "-aud", "https://login.example.com")

	keys, err := privatekeyjwt.ParseKeySet([]byte(`{"keys":[`+jwk+`]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := privatekeyjwt.New(privatekeyjwt.Options{Issuer: "https://login.example.com", Replay: privatekeyjwt.NewMemoryReplay(10, nil)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := v.Parse(assertion)
	if err != nil {
		t.Fatal(err)
	}
	c := privatekeyjwt.Client{ID: a.ClientID(), Keys: keys, Algorithms: []key.Algorithm{key.PS256, key.ES256, key.EdDSA}, IssuerAudienceOnly: true} // FAPI 2.0 narrowing
	claims, err := v.Verify(context.Background(), a, c)
	if err != nil {
		t.Fatal(err)
	}
	if claims.ClientID != "billing" || claims.Expiry.Sub(time.Now()) > time.Minute {
		t.Fatalf("claims %+v", claims)
	}
}

func capture(t *testing.T, args ...string) string {
	t.Helper()
	r, w, _ := os.Pipe()
	stdout := os.Stdout
	os.Stdout = w
	err := run(args)
	os.Stdout = stdout
	w.Close()
	var b bytes.Buffer
	io.Copy(&b, r)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return strings.TrimSpace(b.String())
}
