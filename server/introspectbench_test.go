package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keystore/pgstore"
	"github.com/signet-id/signet/keystore/sqlitestore"
)

// BenchmarkIntrospect is one introspection of an active access token
// through the whole handler, with the revocation read in a SQLite grant
// store and in a PostgreSQL one (the load benchmark's introspect flow;
// postgres needs SIGNET_TEST_POSTGRES_DSN): run with -benchmem for the
// bytes and allocations per introspection that the server's GC must
// collect.
func BenchmarkIntrospect(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		st, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "signet.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		benchIntrospect(b, st)
	})
	b.Run("postgres", func(b *testing.B) {
		st, err := pgstore.Open(b.Context(), postgresSchema(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		benchIntrospect(b, st)
	})
}

func benchIntrospect(b *testing.B, st grantstore.Store) {
	clients, resources := testClients(b)
	for i := range resources {
		if resources[i].Name == "reports" {
			resources[i].Secrets = []*clientauth.Secret{secret(b, "plain:"+reportsSecret)}
		}
	}
	s, err := New(Config{Issuer: "https://login.example.com", Keys: newFakeKeys(b), Clients: clients, APIResources: resources,
		Grants: st, Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, PathToken, strings.NewReader("grant_type=client_credentials&scope=reports.read"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("billing", "billing-secret")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &tr) != nil {
		b.Fatalf("token: %d %s", w.Code, w.Body)
	}
	body := "token=" + tr.AccessToken
	authz := rawBasic("reports", reportsSecret)
	introspect := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, PathIntrospect, strings.NewReader(body))
		r.Header["Content-Type"] = []string{"application/x-www-form-urlencoded"}
		r.Header["Authorization"] = []string{authz}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	if w := introspect(); w.Code != 200 || !strings.Contains(w.Body.String(), `"active":true`) {
		b.Fatalf("introspect: %d %s", w.Code, w.Body)
	}
	// The loop reuses one request and one response writer (net/http
	// allocates those per request, outside Signet), so B/op and
	// allocs/op are the handler's own.
	rd := strings.NewReader(body)
	req := httptest.NewRequest(http.MethodPost, PathIntrospect, rd)
	req.Header["Content-Type"] = []string{"application/x-www-form-urlencoded"}
	req.Header["Authorization"] = []string{authz}
	req.Body = io.NopCloser(rd)
	rw := &reusedWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rd.Reset(body)
		clear(rw.h)
		rw.code, rw.n = 0, 0
		s.ServeHTTP(rw, req)
		if rw.code != 200 || rw.n == 0 {
			b.Fatalf("introspect: %d, %d bytes", rw.code, rw.n)
		}
	}
}

// reusedWriter is a ResponseWriter that keeps only the status and the
// body's length.
type reusedWriter struct {
	h       http.Header
	code, n int
}

func (w *reusedWriter) Header() http.Header { return w.h }

func (w *reusedWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *reusedWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	w.n += len(b)
	return len(b), nil
}
