package connect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-id/signet/config"
)

// TestGuideBlocks loads the YAML block of every guide in docs/connect as
// Signet's configuration the way config's TestDocsExamples loads a block
// without an issuer (after "issuer: https://login.example.com") and checks
// the timing rules. That test reads docs/*.md only, not this directory.
// The blocks of the guides that run are also what their tests start
// Signet with; this test covers the one that does not (aspnet.md) and
// runs without any binary.
func TestGuideBlocks(t *testing.T) {
	guides, err := filepath.Glob(filepath.Join(repoRoot, "docs/connect/*.md"))
	if err != nil || len(guides) < 6 {
		t.Fatalf("guides: %v %v", guides, err)
	}
	for _, path := range guides {
		name := strings.TrimSuffix(filepath.Base(path), ".md")
		if name == "README" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			src := guideBlock(t, name)
			cfg := "issuer: " + guideIssuer + "\n" + src
			c, err := config.Parse([]byte(cfg), config.ParseOptions{Source: "docs/connect/" + name + ".md", Dir: t.TempDir(), LookupEnv: func(string) (string, bool) { return "", false }})
			if err != nil {
				t.Fatalf("%v\n%s", err, cfg)
			}
			if v := c.CheckTiming(); len(v) > 0 {
				t.Errorf("breaks a timing rule: %v", v)
			}
			if len(c.Clients) != 1 {
				t.Errorf("%d clients, want the guide's one", len(c.Clients))
			}
		})
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "docs/connect/README.md")); err != nil {
		t.Error("docs/connect/README.md, the index of the guides, is missing")
	}
}
