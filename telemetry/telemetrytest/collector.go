// Package telemetrytest is an OTLP/HTTP trace collector for tests.
package telemetrytest

import (
	"io"
	"net/http"
	"sync"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Collector is an http.Handler that accepts OTLP/HTTP protobuf exports
// at /v1/traces and keeps them; anything else is answered 400 and kept
// as a bad request.
type Collector struct {
	mu   sync.Mutex
	reqs []*coltrace.ExportTraceServiceRequest
	bad  []string
}

func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	m := &coltrace.ExportTraceServiceRequest{}
	err := proto.Unmarshal(b, m)
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || err != nil {
		c.bad = append(c.bad, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
		http.Error(w, "not an OTLP/HTTP protobuf trace export", http.StatusBadRequest)
		return
	}
	c.reqs = append(c.reqs, m)
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// Take returns the exports received so far and the bad requests, and
// forgets them.
func (c *Collector) Take() ([]*coltrace.ExportTraceServiceRequest, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, b := c.reqs, c.bad
	c.reqs, c.bad = nil, nil
	return r, b
}

// Spans flattens exports into their spans.
func Spans(reqs []*coltrace.ExportTraceServiceRequest) []*tracepb.Span {
	var out []*tracepb.Span
	for _, r := range reqs {
		for _, rs := range r.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				out = append(out, ss.Spans...)
			}
		}
	}
	return out
}
