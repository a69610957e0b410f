package signet

import (
	"context"
	"fmt"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/pgstore"
)

// openPostgres opens the PostgreSQL key store.
func openPostgres(ctx context.Context, cfg *config.Config) (keystore.Store, func() error, error) {
	var opts []pgstore.Option
	if cfg.Storage.DurableReplayRecords {
		opts = append(opts, pgstore.WithDurableReplay())
	}
	s, err := pgstore.Open(ctx, cfg.Storage.DSN, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("open the PostgreSQL key store: %w", err)
	}
	return s, s.Close, nil
}
