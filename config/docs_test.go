package config

import (
	"crypto/rand"
	"crypto/rsa"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/signet-id/signet/clientauth"
)

// Every complete configuration in docs/configuration.md must load.
func TestDocsExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	writeKey(t, dir, "old.pem", rk, false)
	vars := map[string]string{"SIGNET_KEY_SECRET": "docs-secret-0123456789abcdef", "SIGNET_OLD_KEY_SECRET": "docs-old-secret-0123456789"}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	n := 0
	for i, b := range blocks {
		if !strings.Contains(b[1], "issuer:") {
			continue
		}
		n++
		c, err := Parse([]byte(b[1]), ParseOptions{Source: "docs block", Dir: dir, LookupEnv: env(vars)})
		if err != nil {
			t.Errorf("block %d:\n%s\n%v", i, b[1], err)
			continue
		}
		for _, cl := range c.Clients {
			if cl.ClientID == "billing" && len(cl.Secrets) == 2 &&
				!(cl.Secrets[0].Verify("billing-demo-secret-change-me") && cl.Secrets[1].Verify("correct horse battery staple")) {
				t.Errorf("block %d: the documented secrets do not match their hashes", i)
			}
		}
	}
	if n < 5 {
		t.Errorf("found %d configuration blocks; expected the examples of each section", n)
	}
	// The example file's demo secret is the one its comment names.
	c, err := Load("../signet.example.yaml", env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if !clientauth.VerifyAny(c.Clients[0].Secrets, "billing-demo-secret-change-me") {
		t.Error("signet.example.yaml: the secret in the comment does not match the hash")
	}
}
