package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestIntrospectRequest: the serialized introspection is a request net/http
// parses as introspectCall's: POST to the path, the resource's Basic
// credentials, and the token form-encoded (a token with characters that
// must be escaped arrives intact).
func TestIntrospectRequest(t *testing.T) {
	tok := "eyJ.a+b/c=d&e%f"
	req := introspectRequest(introspectTarget{addr: "127.0.0.1:1", path: "/token/introspection", resource: "api", secret: "s3:cr/et"}, tok)
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(req.raw)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "POST" || r.URL.Path != "/token/introspection" {
		t.Errorf("%s %s", r.Method, r.URL.Path)
	}
	if u, p, ok := r.BasicAuth(); !ok || u != "api" || p != "s3:cr/et" {
		t.Errorf("Basic credentials %q %q %v", u, p, ok)
	}
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	if got := r.PostForm.Get("token"); got != tok || len(r.PostForm) != 1 {
		t.Errorf("form %v, want token %q only", r.PostForm, tok)
	}
	if req.wantStatus != 200 || req.wantBody != nil {
		t.Errorf("want status %d, body %q", req.wantStatus, req.wantBody)
	}
}

// TestActiveAnswer: only a 200 whose JSON says active: true passes.
func TestActiveAnswer(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		ok     bool
	}{
		{200, `{"active":true,"sub":"u"}`, true},
		{200, `{"active":false}`, false},
		{200, `{"sub":"u"}`, false},
		{200, `{"active":"true"}`, false},
		{200, `not json`, false},
		{401, `{"active":true}`, false},
		{503, ``, false},
	} {
		if err := activeAnswer(c.status, []byte(c.body)); (err == nil) != c.ok {
			t.Errorf("%d %s: %v, want ok %v", c.status, c.body, err, c.ok)
		}
	}
}

// TestRequestAnswers: with a wantBody, an answer counts only when its
// status and its whole body match; the headers may differ.
func TestRequestAnswers(t *testing.T) {
	resp := func(body string) []byte {
		return []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
	}
	r := request{wantStatus: 200, wantBody: []byte(`{"active":true}`)}
	for _, c := range []struct {
		status int
		resp   []byte
		ok     bool
	}{
		{200, resp(`{"active":true}`), true},
		{200, []byte("HTTP/1.1 200 OK\r\nDate: yy\r\nX: 1\r\nContent-Length: 15\r\n\r\n{\"active\":true}"), true},
		{200, resp(`{"active":fals}`), false},   // same length
		{200, resp(`x{"active":true}`), false},  // ends the same
		{500, resp(`{"active":true}`), false},   // status
		{200, resp(`{"active":true} `), false},  // longer
		{200, resp(`"active":true}`), false},    // shorter
		{200, []byte(`{"active":true}`), false}, // no header
	} {
		if got := r.answers(c.status, c.resp); got != c.ok {
			t.Errorf("%d %q: %v, want %v", c.status, c.resp, got, c.ok)
		}
	}
	if any := (request{wantStatus: 200}); !any.answers(200, resp(`{"active":false}`)) || any.answers(401, resp(``)) {
		t.Error("without wantBody, only the status counts")
	}
}

// introspectionServer answers introspections of the tokens in active
// with their answer, of others with active: false; after flip answers
// it answers every token as inactive (a server that started failing).
type introspectionServer struct {
	*httptest.Server
	answered atomic.Int64
	flip     int64 // 0: never
	mu       sync.Mutex
	seen     map[string]int
}

func newIntrospectionServer(t *testing.T, flip int64, active ...string) *introspectionServer {
	s := &introspectionServer{flip: flip, seen: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "api" || p != "secret" {
			w.WriteHeader(401)
			return
		}
		tok := r.PostFormValue("token")
		s.mu.Lock()
		s.seen[tok]++
		s.mu.Unlock()
		n := s.answered.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if (s.flip == 0 || n <= s.flip) && strings.Contains(strings.Join(active, " "), tok) {
			w.Write([]byte(`{"active":true,"sub":"` + tok + `","exp":1900000000}`))
			return
		}
		w.Write([]byte(`{"active":false}`))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *introspectionServer) target() introspectTarget {
	return introspectTarget{addr: strings.TrimPrefix(s.URL, "http://"), path: "/introspect", resource: "api", secret: "secret"}
}

// TestCheckIntrospection: the check before the window refuses a token that
// introspects as inactive and a refused authentication, and makes the
// active answer the only one the window accepts.
func TestCheckIntrospection(t *testing.T) {
	s := newIntrospectionServer(t, 0, "good")
	req, err := checkIntrospection(s.target().addr, introspectRequest(s.target(), "good"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"active":true,"sub":"good","exp":1900000000}`; string(req.wantBody) != want {
		t.Errorf("wantBody %q, want %q", req.wantBody, want)
	}
	if _, err := checkIntrospection(s.target().addr, introspectRequest(s.target(), "other")); err == nil || !strings.Contains(err.Error(), "inactive") {
		t.Errorf("an inactive token: %v", err)
	}
	bad := s.target()
	bad.secret = "wrong"
	if _, err := checkIntrospection(bad.addr, introspectRequest(bad, "good")); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a refused resource: %v", err)
	}
}

// TestRawIntrospectionLoad: both load generators of the introspect flow
// (runLoad, runNetLoad) send each connection its own request, and count
// as errors the answers of a server that starts answering 200 with
// active: false in the window.
func TestRawIntrospectionLoad(t *testing.T) {
	check := func(s *introspectionServer, toks ...string) []request {
		t.Helper()
		var reqs []request
		for _, tok := range toks {
			r, err := checkIntrospection(s.target().addr, introspectRequest(s.target(), tok))
			if err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, r)
		}
		return reqs
	}
	run := func(gen string, addr string, reqs []request, warmup time.Duration, onBegin, onEnd func()) *loadResult {
		t.Helper()
		var res *loadResult
		var err error
		if gen == introspectNet {
			res, err = runNetLoad(context.Background(), netLoadSpec{addr: addr, reqs: reqs, connections: 4, depth: 1,
				warmup: warmup, window: 300 * time.Millisecond, onBegin: onBegin, onEnd: onEnd})
		} else {
			res, err = runLoad(context.Background(), loadSpec{addr: addr, reqs: reqs, connections: 4, warmup: warmup, window: 300 * time.Millisecond})
		}
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, gen := range []string{introspectPoll, introspectNet} {
		t.Run(gen, func(t *testing.T) {
			good := newIntrospectionServer(t, 0, "t1", "t2")
			var began, ended atomic.Int32
			res := run(gen, good.target().addr, check(good, "t1", "t2"), 50*time.Millisecond, func() { began.Add(1) }, func() { ended.Add(1) })
			if res.Errors != 0 || res.Requests < 50 {
				t.Errorf("a server that keeps answering active: %d answers, %d errors", res.Requests, res.Errors)
			}
			if gen == introspectNet && (began.Load() != 1 || ended.Load() != 1) {
				t.Errorf("window hooks called %d and %d times, want once each", began.Load(), ended.Load())
			}
			good.mu.Lock()
			if good.seen["t1"] < 20 || good.seen["t2"] < 20 {
				t.Errorf("tokens introspected: %v, want both (connection i sends reqs[i%%2])", good.seen)
			}
			good.mu.Unlock()

			failing := newIntrospectionServer(t, 100, "t1", "t2")
			res = run(gen, failing.target().addr, check(failing, "t1", "t2"), 0, nil, nil)
			// All but the first 98 answers (2 went to the checks) are inactive.
			if want := res.Requests - 98; res.Requests < 200 || res.Errors != want {
				t.Errorf("a server answering inactive after 100: %d answers, %d errors, want %d", res.Requests, res.Errors, want)
			}
		})
	}
}

// TestIntrospectLoadFlag: --introspect-load names one of the two
// generators; anything else is refused before any work, naming both.
func TestIntrospectLoadFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := statefulMain([]string{"--introspect-load", "spin"}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), `"spin" is not poll or net`) {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
