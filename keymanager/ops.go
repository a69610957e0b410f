package keymanager

import (
	"context"
	"errors"
	"fmt"

	"github.com/signet-id/signet/key"
)

// Rotate announces a new key for alg (the first configured algorithm when
// alg is empty). It signs after PropagationTime, when the current signing
// key retires early; with now it signs at once, the current key retires at
// once (clients that cache the JWKS may reject its tokens until they
// refresh) and an announced successor is withdrawn.
//
// The writes happen under the store lock, new key first: a crash between
// them leaves the old key signing and the new one waiting its turn, which
// validates everywhere. A successor that is already announced makes Rotate (without
// now) fail with ErrAlreadyAnnounced.
func (m *Manager) Rotate(ctx context.Context, alg key.Algorithm, now bool) (KeyInfo, error) {
	if alg == "" {
		if len(m.opts.SigningAlgorithms) == 0 {
			return KeyInfo{}, fmt.Errorf("%w: no managed algorithm is configured", ErrConfig)
		}
		alg = m.opts.SigningAlgorithms[0].Algorithm
	}
	if !m.opts.Enabled || !m.configured(alg) {
		return KeyInfo{}, fmt.Errorf("%w: %s is not a configured managed algorithm (configured: %v)", ErrConfig, alg, m.opts.Algorithms())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.publishLocked()
	unlock, err := m.lock(ctx)
	if err != nil {
		return KeyInfo{}, err
	}
	defer unlock()
	return m.rotateLocked(ctx, alg, now)
}

// rotateLocked is Rotate under m.mu and the store lock.
func (m *Manager) rotateLocked(ctx context.Context, alg key.Algorithm, now bool) (KeyInfo, error) {
	if err := m.loadLocked(ctx); err != nil {
		return KeyInfo{}, err
	}
	t := m.now()
	plan := key.Compute(t, m.records, m.opts)
	ser, _ := plan.SeriesFor(alg)
	nk := key.Successor(t, alg, m.opts, t)
	if now || len(ser.Published) == 0 {
		// With no published key the new one signs at once anyway (it is
		// the first of its series): say so in its schedule.
		nk = key.FirstKey(t, alg, m.opts)
	} else {
		for _, kid := range ser.Published {
			if plan.States[kid] == key.StatePending {
				r, _ := m.record(kid)
				return KeyInfo{}, fmt.Errorf("%w: key %s signs from %s; wait for it, or rotate with --now", ErrAlreadyAnnounced, kid, r.SignsFrom.Format("2006-01-02T15:04:05Z07:00"))
			}
		}
	}
	rec, err := m.newRecord(ctx, nk)
	if err != nil {
		return KeyInfo{}, err
	}
	if err := m.store.CreateKey(ctx, rec); err != nil {
		m.destroy(ctx, rec, "the store refused it")
		return KeyInfo{}, fmt.Errorf("keymanager: store rotated key: %w", err)
	}
	m.log.Info("key created by rotation", "kid", rec.KID, "alg", alg, "signs_from", rec.SignsFrom, "now", now)
	// Keys that would sign past the new key's start retire when it starts.
	// With now, an announced successor would never sign (the new key is
	// older) and would only clutter the rotation: it is withdrawn (it
	// never signed, so no token depends on it).
	for _, kid := range ser.Published {
		r, _ := m.record(kid)
		if now && r.SignsFrom.After(t) {
			r.Revoked = t
			if err := m.store.UpdateKey(ctx, r); err != nil {
				return KeyInfo{}, fmt.Errorf("keymanager: withdraw announced key %s: %w", kid, err)
			}
			m.log.Info("announced key withdrawn by rotate --now", "kid", kid, "alg", alg)
			continue
		}
		if !r.RetiresAt.After(rec.SignsFrom) || r.SignsFrom.After(rec.SignsFrom) {
			continue
		}
		if r.SignsFrom.Equal(rec.SignsFrom) {
			// It would start signing the very moment the new key does;
			// it has been published since Created, so it retires as
			// having been allowed to sign from then.
			if !r.Created.Before(r.SignsFrom) {
				continue
			}
			r.SignsFrom = r.Created
		}
		r.RetiresAt = rec.SignsFrom
		r.DeleteAfter = r.RetiresAt.Add(m.opts.RetentionDuration)
		if err := m.store.UpdateKey(ctx, r); err != nil {
			return KeyInfo{}, fmt.Errorf("keymanager: retire key %s: %w", kid, err)
		}
		m.log.Info("key retires early for a rotation", "kid", kid, "retires_at", r.RetiresAt)
	}
	if err := m.loadLocked(ctx); err != nil {
		return KeyInfo{}, err
	}
	return KeyInfo{KID: rec.KID, Algorithm: alg, State: key.StatePending, Created: rec.Created,
		SignsFrom: rec.SignsFrom, RetiresAt: rec.RetiresAt, DeleteAfter: rec.DeleteAfter, X509: rec.X509}, nil
}

func (m *Manager) configured(alg key.Algorithm) bool {
	for _, a := range m.opts.SigningAlgorithms {
		if a.Algorithm == alg {
			return true
		}
	}
	return false
}

// Revoke unpublishes a managed key at once. If it was signing, the next
// key signs, chosen so that no client fails: the most recently retired key
// while it is still published (every client has it) until the announced
// successor is due; else the announced successor; else a new key that
// signs at once. The record is kept (state revoked) until its DeleteAfter.
func (m *Manager) Revoke(ctx context.Context, kid string) error {
	if m.static != nil && m.staticPK.kid == kid {
		return fmt.Errorf("%w: %s is the signingCredential; remove it from the configuration instead", ErrStaticKey, kid)
	}
	for _, v := range m.valid {
		if v.kid == kid {
			return fmt.Errorf("%w: %s is a validation key; remove it from the configuration instead", ErrStaticKey, kid)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.publishLocked()
	unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	if err := m.loadLocked(ctx); err != nil {
		unlock()
		return err
	}
	r, ok := m.record(kid)
	if !ok {
		unlock()
		return fmt.Errorf("%w: %q (see `signet keys list`)", ErrUnknownKey, kid)
	}
	if !r.IsRevoked() {
		r.Revoked = m.now()
		if err := m.store.UpdateKey(ctx, r); err != nil {
			unlock()
			return fmt.Errorf("keymanager: revoke %s: %w", kid, err)
		}
		m.log.Info("key revoked", "kid", kid, "alg", r.Algorithm)
	}
	unlock()
	return m.reconcileLocked(ctx)
}

// ResealResult counts what Reseal did.
type ResealResult struct {
	Resealed   int // re-encrypted under the first secret
	Current    int // already sealed under the first secret
	Unreadable int // could not be opened with any configured secret
}

// Reseal re-encrypts every stored key under the first protection secret
// (and seals keys stored unprotected). Each key is rewritten on its own,
// so an interrupted reseal leaves every key readable; run it again to
// finish.
func (m *Manager) Reseal(ctx context.Context) (ResealResult, error) {
	var res ResealResult
	if m.sealer == nil {
		return res, fmt.Errorf("%w: protection is off; turn it on with a secret to reseal", ErrConfig)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.publishLocked()
	if err := m.loadLocked(ctx); err != nil {
		return res, err
	}
	var errs []error
	for _, r := range m.records {
		if r.InBackend() {
			continue // no private material here: nothing to seal
		}
		if r.Protection == key.ProtectionAESGCM && m.sealer.SealedWithFirst(r.PrivateKey) {
			res.Current++
			continue
		}
		der := r.PrivateKey
		if r.Protection == key.ProtectionAESGCM {
			pt, err := m.sealer.Open(r.KID, r.Algorithm, r.PrivateKey)
			if err != nil {
				res.Unreadable++
				errs = append(errs, err)
				continue
			}
			der = pt
		}
		sealed, err := m.sealer.Seal(r.KID, r.Algorithm, der)
		clear(der)
		if err != nil {
			return res, err
		}
		r.Protection, r.PrivateKey = key.ProtectionAESGCM, sealed
		if err := m.store.UpdateKey(ctx, r); err != nil {
			return res, fmt.Errorf("keymanager: reseal %s: %w", r.KID, err)
		}
		res.Resealed++
	}
	if err := m.loadLocked(ctx); err != nil {
		return res, err
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("%w: %d key(s) could not be opened: %w", ErrUnreadableKey, len(errs), errors.Join(errs...))
	}
	return res, nil
}
