package server

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/keystore/memstore"
)

// peakRSS reads the process's peak resident set size (VmHWM) in bytes.
func peakRSS(tb testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc/self/status: peak RSS is measured on Linux only")
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// resetPeakRSS makes VmHWM start again from the current RSS.
func resetPeakRSS(tb testing.TB) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Skipf("cannot reset the peak RSS: %v", err)
	}
}

// BenchmarkHashingBurstRSS: bursts of 200 concurrent wrong secrets or
// passwords at the default hashing budget, from 200 addresses (so the
// failed-attempt budgets let every one of them reach the hashing budget):
//
//   - token: against 3 clients whose secrets use argon2id's default
//     parameters (64 MiB each) and an unknown id;
//   - login: against 3 users with such passwords and an unknown username.
//
// Reports the process's peak RSS during a burst (peak-RSS-MB; the target
// is < 300 MB whatever GOMAXPROCS). Set GOMAXPROCS in the environment
// (-cpu does not reach sub-benchmarks run with b.Loop; the GOMAXPROCS
// metric says what ran):
//
//	GOMAXPROCS=2 go test ./server -run XXX -bench HashingBurstRSS -benchtime 1x
//	GOMAXPROCS=8 go test ./server -run XXX -bench HashingBurstRSS -benchtime 1x
func BenchmarkHashingBurstRSS(b *testing.B) {
	clients, resources := loginClients(b)
	var users []User
	for i := range 3 {
		phc, err := clientauth.HashArgon2id("right secret "+strconv.Itoa(i), nil)
		if err != nil {
			b.Fatal(err)
		}
		clients = append(clients, Client{ID: "human" + strconv.Itoa(i), Secrets: []*clientauth.Secret{secret(b, phc)},
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"reports.read"}, AccessTokenLifetime: time.Hour})
		users = append(users, User{Subject: "sub" + strconv.Itoa(i), Username: "user" + strconv.Itoa(i), Password: secret(b, phc)})
	}
	s, err := New(Config{Issuer: "https://login.example.com", Keys: newFakeKeys(b), Clients: clients, APIResources: resources,
		Grants: memstore.New(), Users: users})
	if err != nil {
		b.Fatal(err)
	}
	tokenForm := url.Values{"grant_type": {"client_credentials"}}.Encode()
	a, _ := parseAuthorizeRequest(spaRequest().Encode())
	req, ae := s.checkAuthorize(s.reg.Load(), a)
	if ae != nil {
		b.Fatal(ae)
	}
	const csrfKey = "0123456789012345678901234567890123456789abc"
	loginForm := func(i int) string {
		return url.Values{"request": {req.encode()}, "csrf": {csrfToken(csrfKey, "login", req.encode())},
			"username": {"user" + strconv.Itoa(i%4)}, "password": {"wrong " + strconv.Itoa(i)}}.Encode() // user3 is unknown
	}
	for _, tc := range []struct {
		name    string
		request func(i int) *http.Request
		hashed  int // the status of a verified attempt
	}{
		{"token", func(i int) *http.Request {
			r := httptest.NewRequest(http.MethodPost, PathToken, strings.NewReader(tokenForm))
			r.SetBasicAuth("human"+strconv.Itoa(i%4), "wrong "+strconv.Itoa(i)) // human3 is unknown
			return r
		}, http.StatusUnauthorized},
		{"login", func(i int) *http.Request {
			r := httptest.NewRequest(http.MethodPost, PathLogin, strings.NewReader(loginForm(i)))
			r.AddCookie(&http.Cookie{Name: csrfCookie, Value: csrfKey})
			return r
		}, http.StatusOK},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var peak int64
			var mu sync.Mutex
			codes := map[int]int{}
			for b.Loop() {
				resetPeakRSS(b)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range 200 {
					r := tc.request(i)
					r.Header.Set("Content-Type", formContentType)
					r.RemoteAddr = "10.1." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250+1) + ":4000"
					wg.Go(func() {
						w := httptest.NewRecorder()
						<-start
						s.ServeHTTP(w, r)
						mu.Lock()
						codes[w.Code]++
						mu.Unlock()
					})
				}
				close(start)
				wg.Wait()
				peak = max(peak, peakRSS(b))
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
			b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "GOMAXPROCS")
			b.Logf("GOMAXPROCS=%d: peak RSS %d MB; answers %v", runtime.GOMAXPROCS(0), peak>>20, codes)
			if codes[tc.hashed] == 0 || codes[http.StatusServiceUnavailable] == 0 {
				b.Fatalf("the burst was not hashed and queued as expected: %v", codes)
			}
		})
	}
}
