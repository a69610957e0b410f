package signet

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/connector/ldap"
)

// TestConnectorsLDAP: an ldap connector of the configuration is built
// (nothing is dialled before the first sign-in), and its error counters
// are in the registry given, at 0.
func TestConnectorsLDAP(t *testing.T) {
	doc := "issuer: https://a.example\nstorage: { driver: memory }\n" +
		"keyManagement: { protection: { secrets: [ \"first-secret-abcdefgh\" ] } }\n" +
		"connectors:\n  - { id: ad, type: ldap, name: \"Acme directory\", url: \"ldaps://127.0.0.1:1\", bindDN: cn=s, bindPassword: pw, maxConnections: 2,\n" +
		"      userSearch: { baseDN: \"ou=people,dc=acme\", username: uid, idAttr: entryUUID } }\n"
	cfg, err := config.Parse([]byte(doc), config.ParseOptions{Dir: t.TempDir(), LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	set, err := ConnectorsIn(cfg, nil, nil, slog.New(slog.DiscardHandler), reg)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := set.Get("ad").(*ldap.Connector)
	if !ok || c.Name() != "Acme directory" {
		t.Fatalf("connector ad: %T %v", set.Get("ad"), set.Get("ad"))
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var series []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			series = append(series, mf.GetName()+"{"+strings.Join(labels, ",")+"}")
		}
	}
	if got := strings.Join(series, " "); !strings.Contains(got, "signet_connector_errors_total{connector=ad,kind=network}") ||
		!strings.Contains(got, "signet_connector_errors_total{connector=ad,kind=tls}") {
		t.Fatalf("series %s", got)
	}
}
