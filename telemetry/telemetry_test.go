package telemetry_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/telemetry"
	"github.com/signet-id/signet/telemetry/telemetrytest"
	"github.com/signet-id/signet/throttle"
)

func lookup(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// TestEnabled: tracing is off unless OTEL_TRACES_EXPORTER=otlp or an
// OTLP endpoint is set; none and OTEL_SDK_DISABLED turn it off; other
// exporters and protocols are errors naming the variable.
func TestEnabled(t *testing.T) {
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		on      bool
		wantErr string
	}{
		{name: "nothing set", vars: nil},
		{name: "other OTEL variables only", vars: map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_TRACES_SAMPLER": "always_on"}},
		{name: "exporter otlp", vars: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, on: true},
		{name: "exporter OTLP, any case", vars: map[string]string{"OTEL_TRACES_EXPORTER": " OTLP "}, on: true},
		{name: "endpoint", vars: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, on: true},
		{name: "traces endpoint", vars: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, on: true},
		{name: "exporter none beats endpoint", vars: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}},
		{name: "sdk disabled", vars: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}},
		{name: "sdk disabled false", vars: map[string]string{"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"}, on: true},
		{name: "console exporter", vars: map[string]string{"OTEL_TRACES_EXPORTER": "console"}, wantErr: "OTEL_TRACES_EXPORTER"},
		{name: "grpc", vars: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, wantErr: "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{name: "traces protocol wins", vars: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, on: true},
		{name: "http/json", vars: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, wantErr: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		{name: "protocol ignored when off", vars: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			on, err := telemetry.Enabled(lookup(tc.vars))
			if tc.wantErr != "" {
				if !errors.Is(err, telemetry.ErrConfig) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrConfig naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || on != tc.on {
				t.Fatalf("Enabled = %v, %v; want %v", on, err, tc.on)
			}
			tr, err := telemetry.FromEnv(context.Background(), lookup(tc.vars), "v1")
			if err != nil {
				t.Fatal(err)
			}
			if (tr != nil) != tc.on {
				t.Fatalf("FromEnv returned %v, want tracing %v", tr, tc.on)
			}
			tr.Shutdown(context.Background())
		})
	}
}

// TestFromEnvExportsOTLPHTTP: with OTEL_EXPORTER_OTLP_ENDPOINT set, the
// spans reach that endpoint as OTLP/HTTP protobuf at /v1/traces, with
// service.name signet and the version, and OTEL_SERVICE_NAME overriding
// the name.
func TestFromEnvExportsOTLPHTTP(t *testing.T) {
	c := &telemetrytest.Collector{}
	ts := httptest.NewServer(c)
	defer ts.Close()
	for _, tc := range []struct{ serviceName, want string }{{"", "signet"}, {"signet-eu", "signet-eu"}} {
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ts.URL)
		t.Setenv("OTEL_SERVICE_NAME", tc.serviceName)
		if tc.serviceName == "" {
			os.Unsetenv("OTEL_SERVICE_NAME")
		}
		tr, err := telemetry.FromEnv(context.Background(), os.LookupEnv, "v1.2.3")
		if err != nil || tr == nil {
			t.Fatalf("FromEnv: %v, %v", tr, err)
		}
		_, sp := tr.Tracer.Start(context.Background(), "probe")
		sp.End()
		if err := tr.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		reqs, bad := c.Take()
		if len(reqs) == 0 || len(bad) > 0 {
			t.Fatalf("the collector received %d exports and bad requests %v", len(reqs), bad)
		}
		rs := reqs[len(reqs)-1].ResourceSpans[0]
		res := map[string]string{}
		for _, kv := range rs.Resource.Attributes {
			res[kv.Key] = kv.Value.GetStringValue()
		}
		if res["service.name"] != tc.want || res["service.version"] != "v1.2.3" {
			t.Errorf("resource %v, want service.name %s and service.version v1.2.3", res, tc.want)
		}
		if name := rs.ScopeSpans[0].Spans[0].Name; name != "probe" {
			t.Errorf("span %q", name)
		}
	}
}

// TestGrantStoreSpans: the traced grant store keeps SessionKindRevoker,
// names each call's span after the operation, records answers such as
// not found in error.type without an error status, and no argument.
func TestGrantStoreSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := telemetry.New(sdktrace.WithSyncer(exp))
	s := tr.GrantStore(memstore.New())
	if _, ok := s.(grant.SessionKindRevoker); !ok {
		t.Fatal("the traced store lost RevokeSessionKind")
	}
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := grant.Grant{ID: grant.HashHandle("secret-handle"), Kind: grant.KindRefreshToken, ClientID: "c", Subject: "alice",
		FamilyID: "fam-secret", Created: now, Expires: now.Add(time.Hour)}
	if err := s.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Grant(ctx, "missing-id"); !errors.Is(err, grant.ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := s.(grant.SessionKindRevoker).RevokeSessionKind(ctx, "sid", grant.KindSession, now); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	checkSpans(t, spans, []string{"grants CreateGrant", "grants Grant", "grants RevokeSessionKind"}, func(v string) bool {
		return v == g.ID || v == "missing-id" || v == "fam-secret" || v == "alice" || v == "sid"
	})
	if !hasAttr(spans[1].Attributes, "error.type", "not_found") || spans[1].Status.Code != 0 {
		t.Errorf("not found: attributes %v, status %v", spans[1].Attributes, spans[1].Status)
	}
}

// TestBudgetSpan: the hashing span lasts from Acquire to release, and a
// refusal (queue full) is a span with error.type busy.
func TestBudgetSpan(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := telemetry.New(sdktrace.WithSyncer(exp))
	h := throttle.NewHashing(1024, 0)
	b := tr.Budget(h)
	release, err := b.Acquire(context.Background(), 1024)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("the span ended before release: %d spans", n)
	}
	// The budget is taken and its queue is one: a second caller waits, a
	// third is refused.
	h1 := throttle.NewHashing(1024, 1)
	b1 := tr.Budget(h1)
	r1, _ := b1.Acquire(context.Background(), 1024)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := b1.Acquire(ctx, 1024); done <- err }()
	for h1.Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := b1.Acquire(context.Background(), 1024); !errors.Is(err, throttle.ErrBusy) {
		t.Fatalf("third caller: %v, want ErrBusy", err)
	}
	cancel()
	<-done
	r1()
	release()
	var busy, canceled, ok int
	for _, sp := range exp.GetSpans() {
		switch {
		case hasAttr(sp.Attributes, "error.type", "busy"):
			busy++
		case hasAttr(sp.Attributes, "error.type", "canceled"):
			canceled++
		case hasAttr(sp.Attributes, "signet.hash.memory_kib", "1024"):
			ok++
		}
	}
	if busy != 1 || canceled != 1 || ok != 2 {
		t.Errorf("busy %d, canceled %d, completed %d; want 1, 1, 2", busy, canceled, ok)
	}
}

// checkSpans checks that spans are named want, in order, and that none
// records an argument (a value secret reports).
func checkSpans(t *testing.T, spans tracetest.SpanStubs, want []string, secret func(string) bool) {
	t.Helper()
	if len(spans) != len(want) {
		t.Fatalf("%d spans, want %v", len(spans), want)
	}
	for i, sp := range spans {
		if sp.Name != want[i] {
			t.Errorf("span %d: %q, want %q", i, sp.Name, want[i])
		}
		for _, a := range sp.Attributes {
			if v := a.Value.Emit(); secret(v) {
				t.Errorf("span %q records argument %s=%s", sp.Name, a.Key, v)
			}
		}
	}
}

func hasAttr(attrs []attribute.KeyValue, key, value string) bool {
	for _, a := range attrs {
		if string(a.Key) == key && a.Value.Emit() == value {
			return true
		}
	}
	return false
}

// TestGrantStoreClaimsOnce: the traced store is a grant.OnceClaimer, so
// grant.UseOnce through it replaces an expired identifier as the store
// does, in a span "grants ClaimOnce".
func TestGrantStoreClaimsOnce(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	s := telemetry.New(sdktrace.WithSyncer(exp)).GrantStore(memstore.New())
	if _, ok := s.(grant.OnceClaimer); !ok {
		t.Fatal("the traced store is no grant.OnceClaimer")
	}
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	id := grant.OnceID(grant.OnceDPoPProof, "jkt", "j")
	if err := grant.UseOnce(ctx, s, id, now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := grant.UseOnce(ctx, s, id, now.Add(time.Minute), now.Add(2*time.Minute)); err != nil {
		t.Fatalf("an expired identifier through the traced store: %v", err)
	}
	spans := exp.GetSpans()
	if len(spans) != 2 || spans[0].Name != "grants ClaimOnce" || spans[1].Name != "grants ClaimOnce" {
		t.Fatalf("spans %v, want two grants ClaimOnce", spans)
	}
}

// TestGrantStoreHasRevocation: the traced store is a
// grant.RevocationReader whatever it wraps, answers as the store does
// (through the store's own HasRevocation, or through Grant for a store
// without one), in a span "grants HasRevocation".
func TestGrantStoreHasRevocation(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := grant.Grant{ID: grant.HashHandle("jti:j"), Kind: grant.KindRevocation, Created: now, Expires: now.Add(time.Minute), Revoked: now}
	for _, inner := range []grant.Store{memstore.New(), struct{ grant.Store }{memstore.New()}} {
		if err := inner.CreateGrant(ctx, rec); err != nil {
			t.Fatal(err)
		}
		exp := tracetest.NewInMemoryExporter()
		s := telemetry.New(sdktrace.WithSyncer(exp)).GrantStore(inner)
		r, ok := s.(grant.RevocationReader)
		if !ok {
			t.Fatalf("the traced store over %T is no grant.RevocationReader", inner)
		}
		if yes, err := r.HasRevocation(ctx, rec.ID); err != nil || !yes {
			t.Errorf("%T: a revocation record: %v, %v", inner, yes, err)
		}
		if yes, err := r.HasRevocation(ctx, grant.HashHandle("jti:other")); err != nil || yes {
			t.Errorf("%T: an absent id: %v, %v", inner, yes, err)
		}
		if spans := exp.GetSpans(); len(spans) != 2 || spans[0].Name != "grants HasRevocation" {
			t.Errorf("%T: spans %v, want two grants HasRevocation", inner, spans)
		}
	}
}

// batchStore is a throttle.BatchStore over a Memory, for the spans.
type batchStore struct{ *throttle.Memory }

func (b batchStore) TakeAttempts(ctx context.Context, takes []throttle.Take, now time.Time) (int, time.Duration, error) {
	for i, t := range takes {
		if wait, err := b.TakeAttempt(ctx, t.Key, t.Max, t.Window, now); wait > 0 || err != nil {
			return i, wait, err
		}
	}
	return len(takes), 0, nil
}

func (b batchStore) SettleAttempts(ctx context.Context, settles []throttle.Settle, now time.Time) error {
	for _, s := range settles {
		b.ReturnAttempt(ctx, s.Key, now)
	}
	return nil
}

// TestAttemptStoreBatches: the traced store of a BatchStore is one, so the
// limiter still takes an attempt's keys in one call; each call is a span,
// marked when a budget was spent, never naming a key.
func TestAttemptStoreBatches(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := telemetry.New(sdktrace.WithSyncer(exp))
	s, ok := tr.AttemptStore(batchStore{throttle.NewMemory(0)}).(throttle.BatchStore)
	if !ok {
		t.Fatal("the traced store lost TakeAttempts and SettleAttempts")
	}
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	takes := []throttle.Take{{Key: "login:addr", Max: 5, Window: time.Minute}, {Key: "login:alice", Max: 1, Window: time.Minute}}
	s.TakeAttempts(ctx, takes, now)
	s.SettleAttempts(ctx, []throttle.Settle{{Key: "login:addr"}}, now)
	if n, _, _ := s.TakeAttempts(ctx, takes, now); n != 1 {
		t.Fatalf("took %d, want alice's budget spent", n)
	}
	spans := exp.GetSpans()
	checkSpans(t, spans, []string{"attempts TakeAttempts", "attempts SettleAttempts", "attempts TakeAttempts"},
		func(v string) bool { return strings.Contains(v, "login:") })
	if hasAttr(spans[0].Attributes, "signet.attempts.spent", "true") || !hasAttr(spans[2].Attributes, "signet.attempts.spent", "true") {
		t.Errorf("spent marks: %v / %v", spans[0].Attributes, spans[2].Attributes)
	}
}
