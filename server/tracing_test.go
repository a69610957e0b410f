package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/telemetry"
)

// Secrets of the tracing tests: none may appear in any span.
const (
	tracedSecret = "traced-client-secret-XYZZY"
	tracedClient = "traced"
)

// newTracedEnv is a loginEnv with tracing on, its spans in exp, and a
// client whose secret is an argon2id hash (so its first authentication
// hashes).
func newTracedEnv(t *testing.T) (*loginEnv, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	tr := telemetry.New(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tr.Shutdown(t.Context()) })
	e := newLoginEnv(t, func(c *Config) {
		c.Tracing = tr
		c.Clients = append(c.Clients, Client{ID: tracedClient, Secrets: []*clientauth.Secret{cheapPassword(t, tracedSecret)},
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"reports.read"}, AccessTokenLifetime: time.Hour})
	})
	return e, exp
}

// spanTree indexes the spans of one trace.
type spanTree struct {
	spans []tracetest.SpanStub
}

// roots returns the spans without a local parent.
func (st spanTree) roots() []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range st.spans {
		if !s.Parent.IsValid() {
			out = append(out, s)
		}
	}
	return out
}

func (st spanTree) children(of tracetest.SpanStub) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range st.spans {
		if s.Parent.SpanID() == of.SpanContext.SpanID() {
			out = append(out, s)
		}
	}
	return out
}

func names(spans []tracetest.SpanStub) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

func named(spans []tracetest.SpanStub, name string) []tracetest.SpanStub {
	var found []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			found = append(found, s)
		}
	}
	return found
}

// only returns the single span named name among spans.
func only(t *testing.T, spans []tracetest.SpanStub, name string) tracetest.SpanStub {
	t.Helper()
	found := named(spans, name)
	if len(found) != 1 {
		t.Fatalf("want one %q span among %v, got %d", name, names(spans), len(found))
	}
	return found[0]
}

// request runs do and returns the one trace it made: one root, the HTTP
// server span, every other span its child.
func request(t *testing.T, exp *tracetest.InMemoryExporter, do func()) (spanTree, tracetest.SpanStub) {
	t.Helper()
	exp.Reset()
	do()
	st := spanTree{spans: exp.GetSpans()}
	roots := st.roots()
	if len(roots) != 1 {
		t.Fatalf("want one root span, got %v (all: %v)", names(roots), names(st.spans))
	}
	root := roots[0]
	if root.SpanKind != trace.SpanKindServer {
		t.Fatalf("root %q is a %v span, want server", root.Name, root.SpanKind)
	}
	for _, s := range st.spans {
		if s.SpanContext.TraceID() != root.SpanContext.TraceID() {
			t.Fatalf("span %q is in another trace", s.Name)
		}
	}
	return st, root
}

// TestTracingTokenSpanTree: a client_credentials request is one trace:
// the HTTP span, under it the attempt-store spans and the argon2id hash
// of the client's secret, then the signature after the hash; the next
// request (the secret now verified) is the HTTP span and the signature.
func TestTracingTokenSpanTree(t *testing.T) {
	e, exp := newTracedEnv(t)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"reports.read"}}
	for i, wantHash := range []bool{true, false} {
		var p page
		st, root := request(t, exp, func() { p = e.token(form, tracedClient, tracedSecret) })
		if p.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, p.StatusCode, p.body)
		}
		if root.Name != "POST /connect/token" || attr(root, "http.route") != "/connect/token" || attr(root, "http.response.status_code") != "200" {
			t.Errorf("HTTP span %q, attributes %v", root.Name, root.Attributes)
		}
		kids := st.children(root)
		if len(kids) != len(st.spans)-1 {
			t.Fatalf("request %d: spans not directly under the HTTP span: %v of %v", i, names(kids), names(st.spans))
		}
		sign := only(t, kids, telemetry.SpanSign)
		if got := attr(sign, "signet.token.typ"); got != "at+jwt" {
			t.Errorf("sign span typ %q", got)
		}
		if attr(sign, "signet.key.alg") == "" || attr(sign, "signet.key.id") == "" {
			t.Errorf("sign span attributes %v", sign.Attributes)
		}
		if !wantHash {
			if len(kids) != 1 {
				t.Errorf("request %d: want only the signature under the HTTP span, got %v", i, names(kids))
			}
			continue
		}
		hash := only(t, kids, telemetry.SpanHash)
		if hash.EndTime.After(sign.StartTime) {
			t.Errorf("the hash ends at %v, after the signature starts at %v", hash.EndTime, sign.StartTime)
		}
		if attr(hash, "signet.hash.memory_kib") != "8" {
			t.Errorf("hash span attributes %v", hash.Attributes)
		}
		takes := named(kids, "attempts TakeAttempt")
		if len(takes) == 0 {
			t.Fatalf("no attempt counted: %v", names(kids))
		}
		for _, take := range takes {
			if take.EndTime.After(hash.StartTime) {
				t.Error("an attempt was counted after hashing started")
			}
		}
	}
}

// TestTracingSignInSpanTree: the POST of the login form is one trace:
// the HTTP span, under it the attempts, the password hash, then the
// grant store keeping the session and its code (StartSession).
func TestTracingSignInSpanTree(t *testing.T) {
	e, exp := newTracedEnv(t)
	b := e.browser()
	p := b.authorize(spaRequest())
	lp := b.get(p.Header.Get("Location"))
	var res page
	st, root := request(t, exp, func() { res = b.submitLogin(lp.body, "alice", alicePassword) })
	code := e.callback(res, spaRedirect).Get("code")
	if root.Name != "POST /connect/login" && !strings.HasSuffix(root.Name, PathLogin) {
		t.Errorf("HTTP span %q, want the login route", root.Name)
	}
	kids := st.children(root)
	if len(kids) != len(st.spans)-1 {
		t.Fatalf("spans not directly under the HTTP span: %v of %v", names(kids), names(st.spans))
	}
	hash := only(t, kids, telemetry.SpanHash)
	session := only(t, kids, "grants StartSession") // the session and its code, one transaction
	if hash.EndTime.After(session.StartTime) {
		t.Errorf("want the hash, then the session; got %v..%v, %v..%v", hash.StartTime, hash.EndTime, session.StartTime, session.EndTime)
	}
	if attr(session, "db.operation.name") != "StartSession" || attr(session, "signet.store") != "grants" {
		t.Errorf("store span attributes %v", session.Attributes)
	}
	if len(named(kids, "attempts TakeAttempt")) == 0 {
		t.Errorf("no attempt counted: %v", names(kids))
	}

	// The code's redemption: store spans and both signatures under it.
	st, root = request(t, exp, func() {
		if p := e.exchange(code, verifierForSPA); p.StatusCode != 200 {
			t.Fatalf("exchange: %d %s", p.StatusCode, p.body)
		}
	})
	kids = st.children(root)
	if g := named(kids, "grants Grant"); len(g) != 0 { // the instance stored the code: not read back (unusedgrants.go)
		t.Errorf("the exchange read the code back from the store: %v", names(kids))
	}
	only(t, kids, "grants Rotate") // the code used up and the refresh token stored, one transaction
	var typs []string
	for _, s := range kids {
		if s.Name == telemetry.SpanSign {
			typs = append(typs, attr(s, "signet.token.typ"))
		}
	}
	if fmt.Sprint(typs) != "[at+jwt JWT]" {
		t.Errorf("signatures %v, want the access token then the ID token", typs)
	}
}

// TestTracingKeepsSecretsOut: requests carrying secrets (a Basic
// header, form secrets, a password, a code and a token in the query, a
// token in an unmatched path) leave none of them in any span's name,
// attributes, events or status.
func TestTracingKeepsSecretsOut(t *testing.T) {
	e, exp := newTracedEnv(t)
	secrets := []string{tracedSecret, alicePassword, webSecret, "CODE-SECRET-1", "TOKEN-SECRET-2", "PATH-SECRET-3", "HEADER-SECRET-4"}
	exp.Reset()

	e.token(url.Values{"grant_type": {"client_credentials"}}, tracedClient, tracedSecret)
	e.token(url.Values{"grant_type": {"client_credentials"}, "client_id": {tracedClient}, "client_secret": {tracedSecret}})
	e.token(url.Values{"grant_type": {"client_credentials"}, "client_id": {"web"}, "client_secret": {webSecret}})
	b := e.browser()
	e.callback(b.signIn(spaRequest(), "alice", alicePassword), spaRedirect)
	e.browser().signIn(spaRequest(), "alice", alicePassword+"-wrong")
	b.get(e.issuer + PathToken + "?code=CODE-SECRET-1&access_token=TOKEN-SECRET-2")
	b.get(e.issuer + PathAuthorize + "?code=CODE-SECRET-1&id_token_hint=TOKEN-SECRET-2")
	b.get(e.issuer + "/connect/token/PATH-SECRET-3")
	req, _ := http.NewRequest("GET", e.issuer+PathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer HEADER-SECRET-4")
	req.Header.Set("Cookie", "session=HEADER-SECRET-4")
	e.do(nil, req)

	spans := exp.GetSpans()
	if len(spans) < 10 {
		t.Fatalf("only %d spans", len(spans))
	}
	unmatched := false
	for _, s := range spans {
		text := s.Name + " " + s.Status.Description
		for _, a := range s.Attributes {
			text += " " + string(a.Key) + "=" + a.Value.Emit()
			if a.Key == "url.path" && a.Value.AsString() == "(unmatched)" {
				unmatched = true
			}
		}
		for _, ev := range s.Events {
			text += " " + ev.Name
			for _, a := range ev.Attributes {
				text += " " + a.Value.Emit()
			}
		}
		for _, sec := range secrets {
			if strings.Contains(text, sec) {
				t.Errorf("span %q carries secret %q: %s", s.Name, sec, text)
			}
		}
		if strings.Contains(strings.ToLower(text), "authorization") {
			t.Errorf("span %q records an Authorization header: %s", s.Name, text)
		}
	}
	if !unmatched {
		t.Error("no span replaced the path of the unmatched request")
	}
}

func attr(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

// TestTracingConcurrentTokens: concurrent token requests with tracing on
// (hashing budget, attempts and signing wrapped) all succeed, each in a
// trace of its own with exactly one signature under its HTTP span.
func TestTracingConcurrentTokens(t *testing.T) {
	e, exp := newTracedEnv(t)
	const n = 16
	errs := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", e.issuer+PathToken, strings.NewReader("grant_type=client_credentials&scope=reports.read"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(tracedClient, tracedSecret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- resp.Status
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := spanTree{spans: exp.GetSpans()}
	roots := st.roots()
	if len(roots) != n {
		t.Fatalf("%d traces, want %d", len(roots), n)
	}
	for _, r := range roots {
		if got := len(named(st.children(r), telemetry.SpanSign)); got != 1 {
			t.Errorf("trace %v: %d signatures", r.SpanContext.TraceID(), got)
		}
	}
}
