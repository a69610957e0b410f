package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/signet-id/signet/consent"
)

var (
	_ consent.Store         = (*Store)(nil)
	_ consent.ActivityStore = (*Store)(nil)
)

// consentData holds remembered consent and session activity.
type consentData struct {
	mu       sync.Mutex
	records  map[[2]string]consent.Record // by subject, client
	activity map[string]time.Time         // session id -> last used
}

// Consent returns the record of subject and clientID.
func (s *Store) Consent(ctx context.Context, subject, clientID string) (consent.Record, error) {
	if err := ctx.Err(); err != nil {
		return consent.Record{}, err
	}
	d := &s.consents
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.records[[2]string{subject, clientID}]
	if !ok {
		return consent.Record{}, fmt.Errorf("memstore: consent: %w", consent.ErrNotFound)
	}
	r.Scopes = slices.Clone(r.Scopes)
	return r, nil
}

// SaveConsent stores r, replacing the record of its subject and client.
func (s *Store) SaveConsent(ctx context.Context, r consent.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("memstore: save consent: %w", err)
	}
	r.Scopes = consent.Normalize(r.Scopes)
	r.Granted = r.Granted.UTC().Truncate(time.Microsecond)
	d := &s.consents
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.records == nil {
		d.records = make(map[[2]string]consent.Record)
	}
	d.records[[2]string{r.Subject, r.ClientID}] = r
	return nil
}

// Consents lists the records of subject ("": all).
func (s *Store) Consents(ctx context.Context, subject string) ([]consent.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := &s.consents
	d.mu.Lock()
	var out []consent.Record
	for k, r := range d.records {
		if subject == "" || k[0] == subject {
			r.Scopes = slices.Clone(r.Scopes)
			out = append(out, r)
		}
	}
	d.mu.Unlock()
	slices.SortFunc(out, func(a, b consent.Record) int {
		return cmp.Or(cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.ClientID, b.ClientID))
	})
	return out, nil
}

// RevokeConsent deletes the record of subject and clientID ("": all of
// subject's).
func (s *Store) RevokeConsent(ctx context.Context, subject, clientID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	d := &s.consents
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for k := range d.records {
		if k[0] == subject && (clientID == "" || k[1] == clientID) {
			delete(d.records, k)
			n++
		}
	}
	return n, nil
}

// TouchSession records that session id is used at now, unless it has
// been idle for longer than idle.
func (s *Store) TouchSession(ctx context.Context, id string, now time.Time, idle time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	d := &s.consents
	d.mu.Lock()
	defer d.mu.Unlock()
	if last, ok := d.activity[id]; ok && now.Sub(last) > idle {
		return false, nil
	}
	if d.activity == nil {
		d.activity = make(map[string]time.Time)
	}
	if last, ok := d.activity[id]; !ok || now.After(last) {
		d.activity[id] = now
	}
	return true, nil
}

// ForgetSessions deletes the activity records last used before before.
func (s *Store) ForgetSessions(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	d := &s.consents
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for id, last := range d.activity {
		if last.Before(before) {
			delete(d.activity, id)
			n++
		}
	}
	return n, nil
}
