package signet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/signer/backend"
)

// Keys is a started key manager with what it was built from; Close
// releases them (call it after the manager's last signature, once Run has
// returned).
type Keys struct {
	Manager *keymanager.Manager
	Store   keystore.Store

	closers []func() error
}

// Close closes the key backends, the signing backend and the store.
func (k *Keys) Close() error {
	var errs []error
	for i := len(k.closers) - 1; i >= 0; i-- {
		errs = append(errs, k.closers[i]())
	}
	k.closers = nil
	return errors.Join(errs...)
}

// OpenManager opens the configured key store, sealer, signing backend and
// key backends, builds the key manager as `signet serve` does and starts
// it (loads the keys, creates the missing ones). The caller runs
// Manager.Run in a goroutine it owns and calls Close when done. A nil log
// discards the manager's logs.
func OpenManager(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Keys, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k := &Keys{}
	fail := func(err error) (*Keys, error) {
		k.Close()
		return nil, err
	}
	store, closeStore, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	k.Store = store
	k.closers = append(k.closers, closeStore)
	sealer, err := NewSealer(cfg, log, nil)
	if err != nil {
		return fail(err)
	}
	signers, err := backend.Open()
	if err != nil {
		return fail(err)
	}
	k.closers = append(k.closers, signers.Close)
	kb, err := OpenKeyBackends(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	k.closers = append(k.closers, kb.Close)
	kc := ManagerConfig(cfg, store, sealer, signers.Factory(), log)
	kb.Apply(&kc)
	if k.Manager, err = keymanager.New(kc); err != nil {
		return fail(err)
	}
	if err := k.Manager.Start(ctx); err != nil {
		return fail(fmt.Errorf("load the signing keys: %w", err))
	}
	return k, nil
}
