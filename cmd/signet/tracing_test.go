package main

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/signet-id/signet/telemetry/telemetrytest"
)

// TestServeExportsTraces: with OTEL_TRACES_EXPORTER=otlp, serve traces
// the token endpoint and, when it stops, has sent the spans (the HTTP
// span and the signature) to the OTLP/HTTP endpoint of
// OTEL_EXPORTER_OTLP_ENDPOINT; without the variable it sends nothing.
func TestServeExportsTraces(t *testing.T) {
	c := &telemetrytest.Collector{}
	ts := httptest.NewServer(c)
	defer ts.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ts.URL) // read by the exporter itself
	cfg := writeFile(t, t.TempDir(), "signet.yaml", "issuer: https://signet.test\nlisten: 127.0.0.1:0\nstorage: { driver: memory }\n"+
		"keyManagement: { signingAlgorithms: [ES256] }\n"+clientsYAML("ES256"))
	for _, on := range []bool{false, true} {
		vars := map[string]string{}
		if on {
			vars["OTEL_TRACES_EXPORTER"] = "otlp"
		}
		in := startServe(t, serveOptions{configPath: cfg}, vars)
		if _, err := in.token(context.Background(), "billing", testSecret, oauth2.AuthStyleInHeader, []string{"orders.read"}, nil); err != nil {
			t.Fatal(err)
		}
		in.stop(t)
		reqs, bad := c.Take()
		if len(bad) > 0 {
			t.Fatalf("bad exports: %v", bad)
		}
		var names []string
		for _, s := range telemetrytest.Spans(reqs) {
			names = append(names, s.Name)
		}
		if logged := strings.Contains(in.logs.String(), "tracing on"); logged != on {
			t.Errorf("tracing %v: logged %q: %v", on, "tracing on", logged)
		}
		if !on {
			if len(names) > 0 {
				t.Errorf("tracing off, yet spans were exported: %v", names)
			}
			continue
		}
		if !slices.Contains(names, "POST /connect/token") || !slices.Contains(names, "signet.sign") {
			t.Errorf("exported spans %v, want POST /connect/token and signet.sign", names)
		}
	}
}
