package server

import (
	"cmp"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/signer/backend"
)

// metrics are the server's Prometheus metrics, in a registry it was given
// (never the global default one).
type metrics struct {
	tokens   *prometheus.CounterVec
	errors   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	requests *prometheus.CounterVec
	// refused counts attempts a budget refused (throttle.go).
	refused *prometheus.CounterVec
	// The children of the vectors above by label values (see child).
	issuedBy   cowMap[[2]string, prometheus.Counter]
	latencyBy  cowMap[string, prometheus.Observer]
	requestsBy cowMap[routeCode, prometheus.Counter]
}

type routeCode struct {
	route string
	code  int
}

// BuildInfo labels the signet_build_info metric.
type BuildInfo struct {
	Version  string // "(devel)" when empty
	Revision string // the VCS revision, "" when unknown
	Backend  string // the signing backend: go, openssl, ...; "go" when empty
}

func newMetrics(reg *prometheus.Registry, keys Keys, now func() time.Time, build BuildInfo) (*metrics, error) {
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "signet_build_info",
		Help: "1, labelled with the version, the VCS revision and the signing backend of this build.",
	}, []string{"version", "revision", "backend"})
	buildInfo.WithLabelValues(cmp.Or(build.Version, "(devel)"), build.Revision, cmp.Or(build.Backend, backend.Go)).Set(1)
	m := &metrics{
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_tokens_issued_total",
			Help: "Tokens issued, by grant type and signing algorithm.",
		}, []string{"grant_type", "algorithm"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_token_errors_total",
			Help: "Token requests refused, by OAuth error code.",
		}, []string{"error"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "signet_http_request_duration_seconds",
			Help:    "HTTP request latency, by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_http_requests_total",
			Help: "HTTP requests, by route and status code.",
		}, []string{"route", "code"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_throttled_total",
			Help: "Attempts refused by an abuse budget: login and client (failed-attempt limits), hashing (password hashing at capacity), registration (dynamic client registrations).",
		}, []string{"budget"}),
	}
	for _, c := range []prometheus.Collector{
		m.tokens, m.errors, m.latency, m.requests, m.refused, buildInfo,
		&keyCollector{keys: keys, now: now},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Every budget is exported from the start, at 0, so that alerts on
	// its rate see the first refusal.
	for _, b := range []string{"login", "client", "hashing", "registration"} {
		m.refused.WithLabelValues(b)
	}
	return m, nil
}

func (m *metrics) handler(reg *prometheus.Registry) http.HandlerFunc {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return h.ServeHTTP
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	child(&m.latencyBy, route, func() prometheus.Observer { return m.latency.WithLabelValues(route) }).Observe(d.Seconds())
	child(&m.requestsBy, routeCode{route, code}, func() prometheus.Counter {
		return m.requests.WithLabelValues(route, strconv.Itoa(code))
	}).Inc()
}

func (m *metrics) tokenIssued(grant, alg string) {
	child(&m.issuedBy, [2]string{grant, alg}, func() prometheus.Counter { return m.tokens.WithLabelValues(grant, alg) }).Inc()
}

// child returns the child of a metric vector for label values k, made by
// create the first time: WithLabelValues hashes and validates the values
// on every call, which every request would pay. The values are the
// server's own (routes, status codes, grant types, algorithms), so the
// maps stay small.
func child[K comparable, V any](c *cowMap[K, V], k K, create func() V) V {
	if v, ok := c.load(k); ok {
		return v
	}
	v := create() // the same child for the same values, if two race here
	c.store(k, v, 0)
	return v
}

func (m *metrics) tokenError(code string) { m.errors.WithLabelValues(code).Inc() }

// keyCollector reads the key manager at scrape time.
type keyCollector struct {
	keys Keys
	now  func() time.Time
}

var (
	descKeys = prometheus.NewDesc("signet_keys",
		"Keys known to the key manager, by state (pending, active, ready, retired, expired, revoked, static-signing, validation) and algorithm.",
		[]string{"state", "algorithm"}, nil)
	descUnreadable = prometheus.NewDesc("signet_keys_unreadable",
		"Stored keys that cannot be decrypted or parsed (alert on > 0).", nil, nil)
	descBackend = prometheus.NewDesc("signet_signing_backend",
		"1 for each algorithm of a current signing credential, labelled with the backend that signs it (go, or openssl in a build with -tags openssl; pkcs11 or awskms when its managed key is held by that key backend).",
		[]string{"algorithm", "backend"}, nil)
	descStoreUp = prometheus.NewDesc("signet_key_store_up",
		"1 when the key store answered at the last access, 0 while it is unreachable (the instance keeps signing with the keys it holds).", nil, nil)
	descNext = prometheus.NewDesc("signet_key_next_change_seconds",
		"Seconds until the next scheduled key change (a key activates, retires, expires or a successor is created); absent when nothing is scheduled.", nil, nil)
)

func (c *keyCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descKeys
	ch <- descUnreadable
	ch <- descNext
	ch <- descStoreUp
	ch <- descBackend
}

func (c *keyCollector) Collect(ch chan<- prometheus.Metric) {
	type label struct {
		state key.State
		alg   key.Algorithm
	}
	counts := make(map[label]int)
	var order []label
	unreadable := 0
	held := make(map[key.Algorithm]string) // the active key's key backend, pkcs11 or awskms
	for _, k := range c.keys.Keys() {
		if k.State == key.StateActive && k.Backend != "" && k.Backend != key.BackendSoftware {
			held[k.Algorithm] = k.Backend
		}
		l := label{k.State, k.Algorithm}
		if _, ok := counts[l]; !ok {
			order = append(order, l)
		}
		counts[l]++
		if k.Unreadable != nil {
			unreadable++
		}
	}
	for _, l := range order {
		ch <- prometheus.MustNewConstMetric(descKeys, prometheus.GaugeValue, float64(counts[l]), string(l.state), string(l.alg))
	}
	ch <- prometheus.MustNewConstMetric(descUnreadable, prometheus.GaugeValue, float64(unreadable))
	for _, alg := range c.keys.SigningAlgorithms() {
		name := backend.Name(alg)
		if b := held[alg]; b != "" {
			name = b
		}
		ch <- prometheus.MustNewConstMetric(descBackend, prometheus.GaugeValue, 1, string(alg), name)
	}
	if sh, ok := c.keys.(storeHealth); ok {
		up := 1.0
		if sh.StoreError() != nil {
			up = 0
		}
		ch <- prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, up)
	}
	if next := c.keys.Next(); !next.IsZero() {
		ch <- prometheus.MustNewConstMetric(descNext, prometheus.GaugeValue, max(0, next.Sub(c.now()).Seconds()))
	}
}

// throttled counts an attempt refused by budget (login, client, hashing).
func (m *metrics) throttled(budget string) { m.refused.WithLabelValues(budget).Inc() }
