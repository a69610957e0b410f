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

// BenchmarkHashingBurstRSS: 200 concurrent token requests with wrong
// secrets, from 200 addresses, against 3 clients whose secrets use
// argon2id's default parameters (64 MiB each) and against unknown ids,
// at the default hashing budget. Reports the process's peak RSS during
// the burst (peak-RSS-MB; the target is < 300 MB whatever GOMAXPROCS:
// run with -cpu 2,8), and how the requests were answered.
//
//	go test ./server -run XXX -bench HashingBurstRSS -benchtime 1x -cpu 2,8
func BenchmarkHashingBurstRSS(b *testing.B) {
	clients, resources := testClients(b)
	for i := range 3 {
		phc, err := clientauth.HashArgon2id("right secret "+strconv.Itoa(i), nil)
		if err != nil {
			b.Fatal(err)
		}
		clients = append(clients, Client{ID: "human" + strconv.Itoa(i), Secrets: []*clientauth.Secret{secret(b, phc)},
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"reports.read"}, AccessTokenLifetime: time.Hour})
	}
	s, err := New(Config{Issuer: "https://login.example.com", Keys: newFakeKeys(b), Clients: clients, APIResources: resources})
	if err != nil {
		b.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	var peak int64
	var mu sync.Mutex
	codes := map[int]int{}
	for b.Loop() {
		resetPeakRSS(b)
		base := peakRSS(b)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 200 {
			wg.Go(func() {
				id := "human" + strconv.Itoa(i%4) // human3 is unknown
				r := httptest.NewRequest(http.MethodPost, PathToken, strings.NewReader(form))
				r.Header.Set("Content-Type", formContentType)
				r.SetBasicAuth(id, "wrong "+strconv.Itoa(i))
				r.RemoteAddr = "10.1." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250+1) + ":4000"
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
		b.Logf("GOMAXPROCS=%d: baseline RSS %d MB, peak %d MB; answers %v", runtime.GOMAXPROCS(0), base>>20, peak>>20, codes)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "GOMAXPROCS")
	if codes[http.StatusUnauthorized] == 0 || codes[http.StatusServiceUnavailable] == 0 {
		b.Fatalf("the burst was not hashed and queued as expected: %v", codes)
	}
}
