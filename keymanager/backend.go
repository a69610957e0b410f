package keymanager

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
)

// errBackendNotConfigured: a record refers to a backend this manager was
// not given (keyBackend changed and the old settings were dropped).
var errBackendNotConfigured = errors.New("the key's backend is not configured")

// backendType is the type of backend new keys are made in.
func (m *Manager) backendType() string {
	if m.backend == nil {
		return key.BackendSoftware
	}
	return m.backend.Type()
}

// backendFor returns the configured backend of type typ, or nil.
func (m *Manager) backendFor(typ string) keybackend.Backend {
	for _, b := range m.backends {
		if b.Type() == typ {
			return b
		}
	}
	return nil
}

// checkBackend checks that the backend new keys are made in can do every
// configured algorithm; the error names the backend.
func checkBackend(b keybackend.Backend, opts key.Options) error {
	if b == nil || !opts.Enabled {
		return nil
	}
	for _, a := range opts.SigningAlgorithms {
		if err := b.Check(a.Algorithm, opts.RSAKeySize); err != nil {
			return fmt.Errorf("%w: keyManagement.signingAlgorithms %s with keyBackend.type %s: %w", ErrConfig, a.Algorithm, b.Type(), err)
		}
	}
	return nil
}

// newBackendRecord generates a key in the configured backend: the record
// holds the reference and the public key, no private material.
func (m *Manager) newBackendRecord(ctx context.Context, kid string, nk key.NewKey) (key.Record, error) {
	ref, err := m.backend.Generate(ctx, kid, nk.Algorithm, m.opts.RSAKeySize)
	if err != nil {
		return key.Record{}, fmt.Errorf("keymanager: generate %s key in %s: %w", nk.Algorithm, m.backend.Type(), err)
	}
	enc, err := keybackend.EncodeRef(ref)
	if err != nil {
		return key.Record{}, err
	}
	r := key.Record{
		KID: kid, Algorithm: nk.Algorithm,
		Created: nk.Created, SignsFrom: nk.SignsFrom, RetiresAt: nk.RetiresAt, DeleteAfter: nk.DeleteAfter,
		X509: nk.X509, Protection: m.backend.Type(), PrivateKey: enc,
	}
	if nk.X509 {
		s, err := m.backend.Signer(ctx, ref, nk.Algorithm)
		if err == nil {
			r.Certificate, err = jwk.SelfSigned(s, kid, nk.Created, nk.DeleteAfter)
		}
		if err != nil {
			m.destroy(ctx, r, "its certificate could not be made")
			return key.Record{}, fmt.Errorf("keymanager: certificate for %s key %s: %w", nk.Algorithm, kid, err)
		}
	}
	return r, nil
}

// openBackend returns the signing key of a backend record.
func (m *Manager) openBackend(ctx context.Context, r *key.Record) (*loaded, error) {
	ref, err := keybackend.DecodeRef(r.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("%w: kid %s: %w", ErrUnreadableKey, r.KID, err)
	}
	b := m.backendFor(ref.Backend)
	if b == nil {
		return nil, fmt.Errorf("%w: kid %s was made by the %s backend: %w", ErrUnreadableKey, r.KID, ref.Backend, errBackendNotConfigured)
	}
	pub, err := ref.PublicKey()
	if err == nil {
		err = jwk.CheckAlgorithm(r.Algorithm, pub)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: kid %s: %w", ErrUnreadableKey, r.KID, err)
	}
	s, err := b.Signer(ctx, ref, r.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("%w: kid %s: %w", ErrUnreadableKey, r.KID, err)
	}
	k, err := jws.NewKey(r.KID, r.Algorithm, s)
	if err != nil {
		return nil, fmt.Errorf("%w: kid %s: %w", ErrUnreadableKey, r.KID, err)
	}
	l := &loaded{sealed: append([]byte(nil), r.PrivateKey...), key: k}
	if r.X509 {
		c, err := x509.ParseCertificate(r.Certificate)
		if err != nil {
			return nil, fmt.Errorf("%w: kid %s: certificate: %w", ErrUnreadableKey, r.KID, err)
		}
		l.certs = []*x509.Certificate{c}
	}
	return l, nil
}

// destroyBackendKey destroys (or schedules the deletion of) the backend
// object of a record being deleted. A software key has nothing to
// destroy. It returns an error only when the backend failed; a backend
// that is no longer configured is logged and the record is deleted anyway
// (the object then needs removing by hand).
func (m *Manager) destroyBackendKey(ctx context.Context, r key.Record) error {
	if !r.InBackend() {
		return nil
	}
	ref, err := keybackend.DecodeRef(r.PrivateKey)
	if err != nil {
		m.log.Error("deleted key's backend reference is unreadable; remove its backend object by hand", "kid", r.KID, "err", err)
		return nil
	}
	b := m.backendFor(ref.Backend)
	if b == nil {
		m.log.Error("deleted key's backend is not configured; remove its backend object by hand",
			"kid", r.KID, "backend", ref.Backend, "object", ref.ID)
		return nil
	}
	if err := b.Destroy(ctx, ref); err != nil {
		return fmt.Errorf("keymanager: destroy %s object of key %s: %w", ref.Backend, r.KID, err)
	}
	m.log.Info("backend key object destroyed", "kid", r.KID, "backend", ref.Backend, "object", ref.ID)
	return nil
}

// destroy removes the backend object of a record that was generated but
// never stored (another instance stored its key first, or the store
// refused it). Failures are logged: nothing refers to the object.
func (m *Manager) destroy(ctx context.Context, r key.Record, why string) {
	if !r.InBackend() {
		return
	}
	ref, err := keybackend.DecodeRef(r.PrivateKey)
	if err == nil {
		err = m.backend.Destroy(ctx, ref)
	}
	if err != nil {
		m.log.Warn("an unused backend key could not be destroyed; remove it by hand", "kid", r.KID, "why", why, "err", err)
	}
}

// switchBackendLocked starts the move to a changed keyBackend: for every
// configured algorithm whose published keys are all in other backends and
// that has no announced successor, it rotates (as `signet keys rotate`
// does): a key of the configured backend is announced now, signs after
// the propagation time, and the old backend's key retires then. The old
// keys are retained and deleted on their schedule. m.mu is held.
func (m *Manager) switchBackendLocked(ctx context.Context) error {
	if !m.opts.Enabled || !m.needsSwitch(key.Compute(m.now(), m.records, m.opts)) {
		return nil
	}
	unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := m.loadLocked(ctx); err != nil {
		return err
	}
	plan := key.Compute(m.now(), m.records, m.opts)
	for _, alg := range m.switchAlgorithms(plan) {
		ki, err := m.rotateLocked(ctx, alg, false)
		if err != nil {
			return fmt.Errorf("keymanager: move %s to the %s backend: %w", alg, m.backendType(), err)
		}
		m.log.Info("key backend changed: new key announced in the new backend; the old backend's key signs until it takes over",
			"alg", alg, "kid", ki.KID, "backend", m.backendType(), "signs_from", ki.SignsFrom)
	}
	return nil
}

func (m *Manager) needsSwitch(plan key.Plan) bool { return len(m.switchAlgorithms(plan)) > 0 }

// switchAlgorithms lists the configured algorithms whose signing key is in
// another backend than the configured one and that have no announced
// successor (an announced one takes over first; the key after it is made
// in the configured backend).
func (m *Manager) switchAlgorithms(plan key.Plan) []key.Algorithm {
	var out []key.Algorithm
	want := m.backendType()
	for _, ser := range plan.Series {
		if !ser.Configured || ser.Signing == "" {
			continue
		}
		if r, _ := m.record(ser.Signing); r.Backend() == want {
			continue
		}
		move := true
		for _, kid := range ser.Published {
			if st := plan.States[kid]; st == key.StatePending || st == key.StateReady {
				move = false // a successor is on its way; the key after it is made in the new backend
				break
			}
		}
		if move {
			out = append(out, ser.Algorithm)
		}
	}
	return out
}

// backendRetryLocked returns an error when a key could not be opened
// because its backend did not answer, so that Run retries with backoff
// instead of waiting for the next scheduled reload.
func (m *Manager) backendRetryLocked() error {
	for _, kid := range sortedKeys(m.unreadable) {
		if err := m.unreadable[kid]; errors.Is(err, keybackend.ErrUnavailable) {
			return fmt.Errorf("keymanager: key %s: %w", kid, err)
		}
	}
	return nil
}
