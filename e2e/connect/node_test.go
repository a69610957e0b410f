package connect

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestNode runs examples/connect/node (docs/connect/node.md) with
// openid-client from its node_modules.
func TestNode(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the Node example is skipped (apt-get install nodejs npm; .ci/connect.sh)")
	}
	dir := filepath.Join(repoRoot, "examples/connect/node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules/openid-client/package.json")); err != nil {
		t.Skip("openid-client is not installed: the Node example is skipped (run npm ci in examples/connect/node; .ci/connect.sh does)")
	}
	appURL := "http://" + freeAddr(t)
	s := startSignet(t, guideBlock(t, "node"), appURL)
	p := start(t, "node app", dir, appEnv(s, "node-app", "node-demo-secret-change-me", appURL), node, "app.js")
	waitHTTP(t, p, appURL+"/")
	checkWebApp(t, s, appURL)
}
