package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthcheckServe(t *testing.T) {
	t.Chdir(t.TempDir()) // --dev keeps its data in ./signet-data
	in := startServe(t, serveOptions{dev: true, listen: "127.0.0.1:0"}, nil)
	code, out, errs := runCLI(t, "", nil, "healthcheck", "--url", in.base+"/healthz")
	if code != 0 || out != "healthy: "+in.base+"/healthz answered 200 OK\n" || errs != "" {
		t.Errorf("healthcheck of a running server: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestHealthcheckFailures(t *testing.T) {
	unhealthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"status":"down"}`, http.StatusServiceUnavailable)
	}))
	defer unhealthy.Close()
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer hanging.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/healthz"
	ln.Close()

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"503", []string{"--url", unhealthy.URL + "/healthz"}, 1, "signet: unhealthy: " + unhealthy.URL + `/healthz answered 503 Service Unavailable: {"status":"down"}`},
		{"refused", []string{"--url", refused}, 1, "signet: unhealthy: nothing listens at " + refused + " (connection refused); is signet serve running there?"},
		{"timeout", []string{"--url", hanging.URL, "--timeout", "200ms"}, 1, "signet: unhealthy: " + hanging.URL + " did not answer in time; raise --timeout"},
		{"bad url", []string{"--url", "127.0.0.1:8080"}, 2, `signet: --url "127.0.0.1:8080": use an http(s) URL such as http://127.0.0.1:8080/healthz`},
		{"bad timeout", []string{"--timeout", "0s"}, 2, "signet: --timeout 0s: use a positive duration"},
	} {
		code, out, errs := runCLI(t, "", nil, append([]string{"healthcheck"}, tc.args...)...)
		if code != tc.code || out != "" || !strings.HasPrefix(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: exit %d (want %d), stdout %q, stderr %q (want prefix %q)", tc.name, code, tc.code, out, errs, tc.want)
		}
	}
}
