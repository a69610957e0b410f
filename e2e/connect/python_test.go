package connect

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestPython runs examples/connect/python (docs/connect/python.md) with
// Debian's authlib.
func TestPython(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	python := os.Getenv("SIGNET_CONNECT_PYTHON")
	if python == "" {
		python = "/usr/bin/python3"
	}
	if out, err := exec.Command(python, "-c", "import authlib, requests").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import authlib and requests: the Python example is skipped (apt-get install python3-authlib python3-requests, or set SIGNET_CONNECT_PYTHON; .ci/connect.sh does): %v %s", python, err, out)
	}
	appURL := "http://" + freeAddr(t)
	s := startSignet(t, guideBlock(t, "python"), appURL)
	p := start(t, "python app", filepath.Join(repoRoot, "examples/connect/python"),
		appEnv(s, "python-app", "python-demo-secret-change-me", appURL), python, "app.py")
	waitHTTP(t, p, appURL+"/")
	checkWebApp(t, s, appURL)
}
