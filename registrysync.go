package signet

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/config"
)

// RegistrySync keeps a server's clients and API resources current: the
// configuration file's, which SIGHUP reloads (Reload), and the client
// registry's, which Run follows through the registry's change marker. A
// change made on any instance (the CLI, the admin API) is served within
// Poll plus the time of one read; a rotated-out secret stops being
// accepted when its grace period ends, as the merge is done again then.
type RegistrySync struct {
	// Registry is the store's client registry. Required.
	Registry clientreg.Store
	// Apply swaps in the merged clients and API resources (the server's
	// SetClients); nil until the server exists.
	Apply func(*config.Config) error
	// Logger receives changes and problems; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Poll is how often Run reads the change marker; zero means
	// clientreg.DefaultPollInterval.
	Poll time.Duration

	mu      sync.Mutex
	file    *config.Config // the file's configuration in use
	records StoredRecords  // the last read, kept when a read fails
	read    bool           // records holds a read
	next    time.Time      // the next secret expiry
	merged  *config.Config
	// secrets are the parsed secrets of the stored clients last applied,
	// by client id and hash: an unchanged secret keeps its object, and
	// with it the argon2id "already verified" cache, across merges.
	secrets map[string]*clientauth.Secret
}

func (s *RegistrySync) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *RegistrySync) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Reload takes file as the configuration file's content, reads the
// registry and applies both merged. When the registry cannot be read it
// uses the records of the last read (none at the first) and reports the
// error with the merged configuration, which is applied all the same. An
// error from Apply keeps the previous clients and is returned alone.
func (s *RegistrySync) Reload(ctx context.Context, file *config.Config) (*config.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.file = file
	readErr := s.readLocked(ctx)
	merged, err := s.applyLocked()
	if err != nil {
		return nil, err
	}
	return merged, readErr
}

// File returns the configuration file's content in use: the one given
// to the last Reload (nil before it).
func (s *RegistrySync) File() *config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file
}

// Merged returns the configuration last applied (nil before Reload).
func (s *RegistrySync) Merged() *config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.merged
}

// readLocked reads the registry into s.records.
func (s *RegistrySync) readLocked(ctx context.Context) error {
	r, err := ReadRegistry(ctx, s.Registry)
	if err != nil {
		return err
	}
	s.records, s.read = r, true
	return nil
}

// applyLocked merges the file and the records at now and applies them.
func (s *RegistrySync) applyLocked() (*config.Config, error) {
	now := s.now()
	merged, refused, next := s.records.Merge(s.file, now)
	secrets := s.keepSecrets(merged, now)
	for _, e := range refused {
		s.log().Error("a stored "+e.Kind+" is not served; fix it with signet clients/resources update or delete it", "id", e.ID, "error", e.Err.Error())
	}
	if s.Apply != nil {
		if err := s.Apply(merged); err != nil {
			return nil, err
		}
	}
	s.merged, s.next, s.secrets = merged, next, secrets
	return merged, nil
}

// keepSecrets puts in merged's stored clients the secret objects of the
// last merge for the hashes they still have, so that a change to one
// client does not make the next request of every argon2id client pay a
// full hash again. It returns the secrets to keep for the next merge.
func (s *RegistrySync) keepSecrets(merged *config.Config, now time.Time) map[string]*clientauth.Secret {
	hashes := make(map[string][]string, len(s.records.Clients))
	for _, x := range s.records.Clients {
		for _, sec := range x.Secrets {
			if sec.ValidAt(now) {
				hashes[x.ClientID] = append(hashes[x.ClientID], sec.Hash)
			}
		}
	}
	out := make(map[string]*clientauth.Secret, len(s.secrets))
	// The file's clients come first and keep their own objects.
	for i := len(s.file.Clients); i < len(merged.Clients); i++ {
		c := &merged.Clients[i]
		h := hashes[c.ClientID]
		if len(h) != len(c.Secrets) { // not the order Merge wrote: leave it
			continue
		}
		for j := range c.Secrets {
			key := c.ClientID + "\x00" + h[j]
			if old, ok := s.secrets[key]; ok {
				c.Secrets[j] = old
			}
			out[key] = c.Secrets[j]
		}
	}
	return out
}

// Run follows the registry until ctx is done and returns ctx's error. It
// reads the change marker every Poll and merges again when it moved or a
// stored secret expired. Errors are logged once when the registry starts
// failing and once when it answers again; the clients in use keep serving.
func (s *RegistrySync) Run(ctx context.Context) error {
	poll := s.Poll
	if poll <= 0 {
		poll = clientreg.DefaultPollInterval
	}
	var failing bool
	for {
		s.mu.Lock()
		next := s.next
		s.mu.Unlock()
		wait := poll
		if !next.IsZero() {
			wait = min(wait, next.Sub(s.now()))
		}
		timer := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		err := s.check(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil && !failing:
			failing = true
			s.log().Error("client registry failing: serving the clients already loaded, retrying", "error", err)
		case err == nil && failing:
			failing = false
			s.log().Info("client registry answers again")
		}
	}
}

// check merges again if the marker moved or a secret expired.
func (s *RegistrySync) check(ctx context.Context) error {
	mark, err := s.Registry.Mark(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return errors.New("signet: RegistrySync.Run before Reload")
	}
	expired := !s.next.IsZero() && !s.now().Before(s.next)
	if s.read && mark == s.records.Mark && !expired {
		return nil
	}
	if mark != s.records.Mark || !s.read {
		if err := s.readLocked(ctx); err != nil {
			return err
		}
	}
	merged, err := s.applyLocked()
	if err != nil {
		s.log().Error("the client registry changed but its clients could not be applied; the clients in use stay", "error", err)
		return nil
	}
	s.log().Info("clients reloaded from the client registry", "mark", s.records.Mark, "clients", len(merged.Clients), "apiResources", len(merged.APIResources),
		"stored_clients", len(s.records.Clients), "stored_apiResources", len(s.records.Resources))
	return nil
}
