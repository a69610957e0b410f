package signet

import (
	"context"
	"errors"
	"fmt"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keybackend"
	"github.com/signet-id/signet/keymanager"
)

// KeyBackends are the open key backends of a configuration: the one new
// keys are made in (nil for software) and the previous one, kept while
// keys it made remain.
type KeyBackends struct {
	current  keybackend.Backend
	previous keybackend.Backend
}

// Current returns the backend new keys are made in: nil for software
// keys.
func (kb *KeyBackends) Current() keybackend.Backend { return kb.current }

// OpenKeyBackends opens keyManagement.keyBackend and its previous.
func OpenKeyBackends(ctx context.Context, cfg *config.Config) (*KeyBackends, error) {
	kb := &KeyBackends{}
	var err error
	if kb.current, err = keybackend.Open(ctx, cfg.KeyBackend); err != nil {
		return nil, fmt.Errorf("keyManagement.keyBackend: %w", err)
	}
	if p := cfg.PreviousKeyBackend; p != nil {
		if kb.previous, err = keybackend.Open(ctx, *p); err != nil {
			kb.Close()
			return nil, fmt.Errorf("keyManagement.keyBackend.previous: %w", err)
		}
	}
	return kb, nil
}

// Apply gives the backends to the key manager's configuration.
func (kb *KeyBackends) Apply(kc *keymanager.Config) {
	kc.KeyBackend = kb.current
	if kb.previous != nil {
		kc.PreviousBackends = []keybackend.Backend{kb.previous}
	}
}

// Close closes both backends; call it after the key manager's last
// signature.
func (kb *KeyBackends) Close() error {
	var errs []error
	for _, b := range []keybackend.Backend{kb.current, kb.previous} {
		if b != nil {
			errs = append(errs, b.Close())
		}
	}
	return errors.Join(errs...)
}
