package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// The introspection flow's load generator. Go's HTTP client cost the load
// generator about 0.05 ms of CPU per introspection, near saturation of
// its CPU at these rates, and the flow's p99/p50 tracked that cost
// (docs/benchmarks.md, "The introspection tail"). The introspect flow,
// and healthz its reference, now send pre-built requests on kept-alive
// connections, one request in flight per connection, for Signet and
// oidc-provider alike, with one of two generators (--introspect-load):
// runLoad (poll, the default: the main benchmark's, whose CPU never
// sleeps) or runNetLoad (net: Go's network poller, whose CPU per
// operation is the load generator's true cost). Each client signs in once
// through the whole code flow, as before, and introspects its own access
// token; each token is checked to introspect as active before the window,
// and every answer in the window must be that same answer
// (request.wantBody), so a server that fails cannot look fast.
// introspect_http keeps the old load generator, to compare in one run.

// flowIntrospectHTTP is the introspection flow through Go's HTTP client.
const flowIntrospectHTTP = "introspect_http"

// The introspect flow's load generators (--introspect-load).
const (
	// introspectPoll is runLoad: non-blocking sockets outside Go's
	// network poller, polled by one goroutine that never sleeps, so no
	// answer waits for the load generator's CPU to wake up; that CPU is
	// busy all the window, so the load's CPU per operation says nothing.
	introspectPoll = "poll"
	// introspectNet is runNetLoad: a goroutine per connection, asleep in
	// the network poller while its request is in flight.
	introspectNet = "net"
)

// introspectTarget is where and as whom a server is introspected.
type introspectTarget struct {
	addr, path, resource, secret string
}

// rawIntrospector is a server whose introspection the raw load
// generator can drive.
type rawIntrospector interface {
	introspectTarget() introspectTarget
}

func (f *signetFlows) introspectTarget() introspectTarget {
	return introspectTarget{addr: strings.TrimPrefix(f.base, "http://"), path: "/connect/introspect", resource: statefulResource, secret: f.secret}
}

func (f *peerFlows) introspectTarget() introspectTarget {
	return introspectTarget{addr: strings.TrimPrefix(f.base, "http://"), path: "/token/introspection", resource: "api", secret: f.secret}
}

// introspectRequest is the serialized introspection of token, the
// resource authenticating with HTTP Basic, as introspectCall sends it.
func introspectRequest(t introspectTarget, token string) request {
	auth := base64.StdEncoding.EncodeToString([]byte(t.resource + ":" + t.secret))
	return newRequest("POST", t.path, []string{"Authorization: Basic " + auth, "Content-Type: application/x-www-form-urlencoded"},
		url.Values{"token": {token}}.Encode(), 200)
}

// activeAnswer checks an introspection answer: status 200 and a JSON
// object whose active member is true.
func activeAnswer(status int, body []byte) error {
	if status != 200 {
		return fmt.Errorf("introspection answered %d: %.200s", status, body)
	}
	var m struct {
		Active *bool `json:"active"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("introspection answered no JSON object (%v): %.200s", err, body)
	}
	if m.Active == nil {
		return fmt.Errorf("introspection answered without active: %.200s", body)
	}
	if !*m.Active {
		return fmt.Errorf("the token introspects as inactive: %.200s", body)
	}
	return nil
}

// checkIntrospection sends req once to addr and checks that the token
// introspects as active. It returns req with that answer as the only one
// the window accepts (wantBody).
func checkIntrospection(addr string, req request) (request, error) {
	status, _, body, err := fetch(addr, req)
	if err != nil {
		return req, fmt.Errorf("introspection: %w", err)
	}
	if err := activeAnswer(status, body); err != nil {
		return req, err
	}
	req.wantBody = body
	return req, nil
}

// measureIntrospect measures introspection (measureRaw): o.connections
// clients sign in (f.signIn), and each connection introspects its
// client's access token, one request at a time, after the token was
// checked active. row names the server and store.
func measureIntrospect(ctx context.Context, o *statefulOptions, row statefulRow, st *benchStore, f flows, pid int) statefulRow {
	ri, ok := f.(rawIntrospector)
	if !ok {
		row.Error = "introspect: this server has no introspection target"
		return row
	}
	t := ri.introspectTarget()
	reqs := make([]request, o.connections)
	for i := range reqs {
		tok, err := f.signIn(newFlowClient(), nil)
		if err != nil {
			row.Error = "setup sign-in: " + err.Error()
			return row
		}
		if reqs[i], err = checkIntrospection(t.addr, introspectRequest(t, tok.AccessToken)); err != nil {
			row.Error = "before the window: " + err.Error()
			return row
		}
	}
	return measureRaw(ctx, o, row, st, f, pid, t.addr, reqs)
}

// measureHealthz measures Signet's GET /healthz with the introspect
// flow's load generator: the reference for what the load generator and
// HTTP alone add to the latency. Every answer must be the first's body.
func measureHealthz(ctx context.Context, o *statefulOptions, row statefulRow, f flows, pid int) statefulRow {
	sf, ok := f.(*signetFlows)
	if !ok {
		row.Error = "healthz is measured for Signet only"
		return row
	}
	addr := sf.introspectTarget().addr
	req := newRequest("GET", "/healthz", nil, "", 200)
	status, _, body, err := fetch(addr, req)
	if err != nil || status != 200 {
		row.Error = fmt.Sprintf("healthz: %d %v", status, err)
		return row
	}
	req.wantBody = body
	return measureRaw(ctx, o, row, nil, f, pid, addr, []request{req})
}

// measureRaw runs o.connections connections against addr, connection i
// sending reqs[i%len(reqs)] one at a time, with the load generator of
// o.introspectLoad, and fills row with the window's figures. st is the
// store to measure (nil: none).
func measureRaw(ctx context.Context, o *statefulOptions, row statefulRow, st *benchStore, f flows, pid int, addr string, reqs []request) statefulRow {
	admin := ""
	if sf, ok := f.(*signetFlows); ok {
		admin = sf.admin
	}
	var (
		probe *windowProbe
		res   *loadResult
		err   error
	)
	begin := func() {
		probe = newWindowProbe(ctx, st, admin, pid)
		probe.begin(&row)
	}
	end := func() { probe.stop(&row) }
	if o.introspectLoad == introspectNet {
		res, err = runNetLoad(ctx, netLoadSpec{addr: addr, reqs: reqs, connections: o.connections, depth: 1,
			warmup: o.warmup, window: o.duration, onBegin: begin, onEnd: end})
	} else { // the warm-up, then the window on new connections
		spec := loadSpec{addr: addr, reqs: reqs, connections: o.connections, window: o.warmup}
		if _, err = runLoad(ctx, spec); err == nil {
			spec.window = o.duration
			begin()
			res, err = runLoad(ctx, spec)
			end()
		}
	}
	if err != nil {
		row.Error = err.Error()
		return row
	}
	if probe == nil {
		row.Error = "introspect: the window did not begin"
		return row
	}
	probe.finish(&row, res.Requests)
	probe.size(&row, res.Requests)
	row.PerSecond = res.Rate()
	row.P50Ms = float64(res.Hist.quantile(0.50).Microseconds()) / 1000
	row.P99Ms = float64(res.Hist.quantile(0.99).Microseconds()) / 1000
	row.Errors = res.Errors
	if res.Errors*100 >= res.Requests {
		row.Error = fmt.Sprintf("%d of %d answers were not the token's active introspection", res.Errors, res.Requests)
	}
	row.Load1 = loadAverage()
	return row
}
