package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// serve --dev starts the admin listener on a free loopback port and says
// where the metrics are; the public listener has none.
func TestServeDevPrintsMetrics(t *testing.T) {
	t.Chdir(t.TempDir())
	in := startServe(t, serveOptions{dev: true, listen: "127.0.0.1:0"}, nil)
	m := regexp.MustCompile(`Metrics:\s+(http://127\.0\.0\.1:\d+/metrics)`).FindStringSubmatch(in.stdout.String())
	if m == nil || m[1] != "http://"+in.adminAddr+"/metrics" {
		t.Fatalf("the banner does not name the metrics (admin listener %s):\n%s", in.adminAddr, in.stdout)
	}
	for url, want := range map[string]string{m[1]: "signet_build_info{", "http://" + in.adminAddr + "/readyz": `"signIn":"ready"`} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, want %s in:\n%.400s", url, resp.StatusCode, want, body)
		}
	}
	if resp, err := http.Get(in.base + "/metrics"); err != nil || resp.StatusCode != 404 {
		t.Errorf("public /metrics: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if !strings.Contains(in.logs.String(), "admin listener started") {
		t.Errorf("logs:\n%s", in.logs)
	}
}
