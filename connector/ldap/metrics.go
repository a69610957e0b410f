package ldap

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts what the connectors could not do. One Metrics serves
// every connector of a process: make it once, with the registry the
// server's metrics are in.
type Metrics struct {
	errors *prometheus.CounterVec
}

// Kinds of connector error (the kind label).
const (
	KindNetwork     = "network"      // dial, connection lost, timeout
	KindTLS         = "tls"          // certificate verification, handshake
	KindServiceBind = "service_bind" // the service account's bind was refused
	KindDirectory   = "directory"    // the directory refused an operation (busy, unavailable, no such base DN, ...)
	KindBusy        = "busy"         // no pooled connection came free in time
)

// NewMetrics registers signet_connector_errors_total{connector,kind} in
// reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{errors: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "signet_connector_errors_total",
		Help: "Sign-ins and user look-ups a connector could not complete because its upstream did not answer, by connector and kind (network, tls, service_bind, directory, busy).",
	}, []string{"connector", "kind"})}
	if err := reg.Register(m.errors); err != nil {
		return nil, err
	}
	return m, nil
}

// start exports a connector's counters at 0, so that an alert on their
// rate sees the first error.
func (m *Metrics) start(connector string) {
	if m == nil {
		return
	}
	for _, k := range []string{KindNetwork, KindTLS, KindServiceBind, KindDirectory, KindBusy} {
		m.errors.WithLabelValues(connector, k)
	}
}

func (m *Metrics) count(connector, kind string) {
	if m != nil {
		m.errors.WithLabelValues(connector, kind).Inc()
	}
}
