package connector

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts what connectors could not do because their upstream
// did not answer: signet_connector_errors_total{connector,kind}. One
// Metrics serves every connector of a process: make it once, in the
// registry of the server's metrics (never the global one). A nil
// *Metrics counts nothing.
type Metrics struct {
	errors *prometheus.CounterVec
}

// NewMetrics registers signet_connector_errors_total in reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{errors: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "signet_connector_errors_total",
		Help: "Sign-ins and user look-ups a connector could not complete because its upstream did not answer, by connector and kind (ldap: network, tls, service_bind, directory, busy).",
	}, []string{"connector", "kind"})}
	if err := reg.Register(m.errors); err != nil {
		return nil, err
	}
	return m, nil
}

// Start exports connector's counters of kinds at 0, so that an alert on
// their rate sees the first error.
func (m *Metrics) Start(connector string, kinds ...string) {
	if m == nil {
		return
	}
	for _, k := range kinds {
		m.errors.WithLabelValues(connector, k)
	}
}

// Count counts one error of kind for connector.
func (m *Metrics) Count(connector, kind string) {
	if m != nil {
		m.errors.WithLabelValues(connector, kind).Inc()
	}
}
