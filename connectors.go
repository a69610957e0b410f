package signet

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/connector"
	"github.com/signet-id/signet/connector/ldap"
	"github.com/signet-id/signet/connector/oidc"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/seal"
)

// Connectors builds the configured connectors (connectors) for the
// server (server.Config.Connectors); nil when there are none. Their
// users' records are kept in the opened key store when it can
// (connector.Store: SQLite, PostgreSQL), else in memory (the memory
// driver). Upstream refresh tokens are sealed with sealer; without one
// (protection off) they are not kept, and a refresh re-checks only that
// the user signed in once (logged).
func Connectors(cfg *config.Config, store keystore.Store, sealer *seal.Sealer, log *slog.Logger) (*connector.Set, error) {
	return ConnectorsIn(cfg, store, sealer, log, nil)
}

// ConnectorsIn is Connectors with the connectors' metrics
// (signet_connector_errors_total) registered in reg, the registry of the
// server's metrics (server.Config.Registry); nil: not counted.
func ConnectorsIn(cfg *config.Config, store keystore.Store, sealer *seal.Sealer, log *slog.Logger, reg prometheus.Registerer) (*connector.Set, error) {
	if len(cfg.Connectors) == 0 {
		return nil, nil
	}
	var metrics *connector.Metrics
	if reg != nil {
		var err error
		if metrics, err = connector.NewMetrics(reg); err != nil {
			return nil, err
		}
	}
	records, ok := store.(connector.Store)
	if !ok {
		if cfg.Storage.Driver != config.DriverMemory {
			return nil, fmt.Errorf("storage.driver %s cannot keep the users of connectors; use sqlite, postgres or memory", cfg.Storage.Driver)
		}
		records = connector.NewMemoryStore()
	}
	var cs []connector.Connector
	for i, c := range cfg.Connectors {
		switch c.Type {
		case config.ConnectorOIDC:
			if sealer == nil {
				log.Warn("keyManagement.protection is off, so the upstream refresh tokens of this connector are not kept: a refresh checks only that the user signed in, and a user disabled upstream is noticed at the next sign-in", "connector", c.ID)
			}
			o := c.OIDC
			m := o.ClaimMapping
			conn, err := oidc.New(oidc.Config{ID: c.ID, Name: c.Name, Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
				Scopes: o.Scopes, Store: records, Sealer: sealer, Logger: log,
				Mapping: oidc.Mapping{Subject: m.Subject, Username: m.Username, Name: m.Name, Email: m.Email, EmailVerified: m.EmailVerified, Groups: m.Groups}})
			if err != nil {
				return nil, fmt.Errorf("connectors[%d] (%s): %w", i, c.ID, err)
			}
			cs = append(cs, conn)
		case config.ConnectorLDAP:
			conn, err := ldap.New(ldap.FromConfig(c), ldap.Options{Metrics: metrics, Logger: log, Store: records})
			if err != nil {
				return nil, fmt.Errorf("connectors[%d] (%s): %w", i, c.ID, err)
			}
			cs = append(cs, conn)
		default:
			return nil, fmt.Errorf("connectors[%d] (%s): type %s is not available in this build", i, c.ID, c.Type)
		}
	}
	return connector.NewSet(cs...)
}
