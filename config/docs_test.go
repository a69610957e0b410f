package config

import (
	"crypto/rand"
	"crypto/rsa"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/signet-id/signet/clientauth"
)

// Every ```yaml block of docs/*.md must load as a configuration and keep
// the timing rules of `signet config check`. Conventions:
//
//   - a block with an issuer: line is a complete configuration;
//   - a block without one is a fragment of the top level (the phases of a
//     migration): it is loaded after "issuer: https://login.example.com";
//   - a block whose first line is "# fragment" is only checked to be YAML
//     (a piece of a list, say);
//   - a block with a "# breaks a timing rule" line must load but may break
//     a timing rule (an example of what config check reports).
//
// YAML that is not a Signet configuration (Prometheus rules) is written in
// an untagged block.
func TestDocsExamples(t *testing.T) {
	docs, err := filepath.Glob("../docs/*.md")
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs: %v", err)
	}
	dir := t.TempDir()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	writeKey(t, dir, "old.pem", rk, false)
	vars := map[string]string{
		"SIGNET_KEY_SECRET": "docs-secret-0123456789abcdef", "SIGNET_OLD_KEY_SECRET": "docs-old-secret-0123456789",
		"SIGNET_DATABASE_URL": "postgres://signet@db.example.com/signet", "SIGNET_HSM_PIN": "1234",
		"ACME_SSO_SECRET": "docs-sso-secret", "LDAP_BIND_PASSWORD": "docs-bind-password",
	}
	blockRE := regexp.MustCompile("(?s)```yaml\n(.*?)```")
	perDoc := map[string]int{}
	for _, path := range docs {
		doc, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		for i, b := range blockRE.FindAllStringSubmatch(string(doc), -1) {
			src := dedent(b[1])
			if strings.HasPrefix(src, "# fragment") {
				var v any
				if err := yaml.Unmarshal([]byte(src), &v); err != nil {
					t.Errorf("%s block %d is not YAML: %v\n%s", name, i, err, src)
				}
				continue
			}
			if !regexp.MustCompile(`(?m)^issuer:`).MatchString(src) {
				src = "issuer: https://login.example.com\n" + src
			}
			perDoc[name]++
			c, err := Parse([]byte(src), ParseOptions{Source: name, Dir: dir, LookupEnv: env(vars)})
			if err != nil {
				t.Errorf("%s block %d:\n%s\n%v", name, i, src, err)
				continue
			}
			if v := c.CheckTiming(); len(v) > 0 && !strings.Contains(src, "# breaks a timing rule") {
				t.Errorf("%s block %d breaks a timing rule: %v\n%s", name, i, v, src)
			}
			for _, cl := range c.Clients {
				if cl.ClientID == "billing" && len(cl.Secrets) == 2 &&
					!(cl.Secrets[0].Verify("billing-demo-secret-change-me") && cl.Secrets[1].Verify("correct horse battery staple")) {
					t.Errorf("%s block %d: the documented secrets do not match their hashes", name, i)
				}
			}
		}
	}
	if n := perDoc["configuration.md"]; n < 5 {
		t.Errorf("found %d configuration blocks in configuration.md; expected the examples of each section", n)
	}
	if n := perDoc["migrating-from-static-keys.md"]; n < 4 {
		t.Errorf("found %d configuration blocks in migrating-from-static-keys.md; expected one per phase", n)
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

// dedent removes the indentation common to every non-blank line (a block
// inside a list item is indented).
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if n := len(l) - len(strings.TrimLeft(l, " ")); indent < 0 || n < indent {
			indent = n
		}
	}
	for i, l := range lines {
		if len(l) >= indent && indent > 0 {
			lines[i] = l[indent:]
		}
	}
	return strings.Join(lines, "\n")
}
