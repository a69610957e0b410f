package signet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keystore"
)

// ClientRegistry returns the client registry kept in the opened key store
// (memory, SQLite, PostgreSQL), or nil for a store that keeps none (the
// file store): clients and API resources then come from the file only.
func ClientRegistry(store keystore.Store) clientreg.Store {
	if p, ok := store.(clientreg.Provider); ok {
		return p.ClientRegistry()
	}
	return nil
}

// ReserveFileIDs returns reg refusing, with clientreg.ErrReserved, the
// ids of the clients and API resources cfg's file defines.
func ReserveFileIDs(reg clientreg.Store, cfg *config.Config) clientreg.Store {
	return clientreg.Reserve(reg, FileIDs(cfg))
}

// FileIDs returns the ids of the clients and API resources cfg's file
// defines, for clientreg.Reserve and clientreg.ReserveFunc.
func FileIDs(cfg *config.Config) clientreg.Reserved {
	r := clientreg.Reserved{File: cfg.Source}
	for _, c := range cfg.Clients {
		r.Clients = append(r.Clients, c.ClientID)
	}
	for _, a := range cfg.APIResources {
		r.Resources = append(r.Resources, a.Name)
	}
	return r
}

// StoredRecords are every client and API resource of the registry, read
// at one change marker.
type StoredRecords struct {
	Mark      int64
	Clients   []clientreg.Client
	Resources []clientreg.Resource
}

// ReadRegistry reads every record of reg, page by page.
func ReadRegistry(ctx context.Context, reg clientreg.Store) (StoredRecords, error) {
	var out StoredRecords
	var err error
	// The marker first: a change while the pages are read moves it past
	// this value, and the caller reads again.
	if out.Mark, err = reg.Mark(ctx); err != nil {
		return out, err
	}
	if out.Clients, err = readAll(ctx, reg.Clients); err != nil {
		return out, err
	}
	if out.Resources, err = readAll(ctx, reg.Resources); err != nil {
		return out, err
	}
	return out, nil
}

// readAll reads every page of a registry listing.
func readAll[T any](ctx context.Context, list func(context.Context, clientreg.Page) ([]T, string, error)) ([]T, error) {
	var out []T
	for cursor := ""; ; {
		page, next, err := list(ctx, clientreg.Page{Cursor: cursor, Limit: clientreg.MaxLimit})
		if err != nil {
			return out, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// Merge adds the stored records to cfg (the file's configuration) as
// they are at now: secrets whose grace period has ended are left out. It
// returns the merged configuration, the records refused (config.WithEntries:
// an id the file defines, a rule broken), and the next time a stored
// secret expires (zero if none), when the merge must be done again.
func (r StoredRecords) Merge(cfg *config.Config, now time.Time) (*config.Config, []*config.EntryError, time.Time) {
	var next time.Time
	secrets := func(list []clientreg.Secret) []string {
		var out []string
		for _, s := range list {
			if !s.ValidAt(now) {
				continue
			}
			out = append(out, s.Hash)
			if s.ExpiresAt != nil && (next.IsZero() || s.ExpiresAt.Before(next)) {
				next = *s.ExpiresAt
			}
		}
		return out
	}
	var bad []*config.EntryError
	resources := make([]config.Entry, 0, len(r.Resources))
	for _, x := range r.Resources {
		doc, err := entryDoc(x, secrets(x.Secrets))
		if err != nil {
			bad = append(bad, &config.EntryError{Kind: config.EntryAPIResource, ID: x.Name, Err: err})
			continue
		}
		resources = append(resources, config.Entry{ID: x.Name, Doc: doc})
	}
	clients := make([]config.Entry, 0, len(r.Clients))
	for _, x := range r.Clients {
		doc, err := entryDoc(x, secrets(x.Secrets))
		if err != nil {
			bad = append(bad, &config.EntryError{Kind: config.EntryClient, ID: x.ClientID, Err: err})
			continue
		}
		clients = append(clients, config.Entry{ID: x.ClientID, Doc: doc})
	}
	merged, refused := cfg.WithEntries(resources, clients)
	return merged, append(bad, refused...), next
}

// entryDoc returns a stored record as a configuration entry: the file's
// keys only, with the hashes of the secrets still valid.
func entryDoc(v any, secrets []string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	// The keys that are not the file's; secrets come back as hashes.
	for _, k := range []string{"meta", "clientName", "extra", "registrationAccessTokenHash", "secrets"} {
		delete(m, k)
	}
	if len(secrets) > 0 {
		s, err := json.Marshal(secrets)
		if err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
		m["secrets"] = s
	}
	return json.Marshal(m)
}

// ErrBreaksOthers: a change to the registry would make the servers refuse
// other stored entries (a resource losing a scope a client uses, ...).
var ErrBreaksOthers = errors.New("this change would stop serving what depends on it; change or delete that first")

// CheckChange tells whether the servers would serve the registry after a
// change: edit applies the change to the records of reg; then the merge
// with cfg (the file) must accept the changed entry (kind
// config.EntryClient or config.EntryAPIResource, and id; for a delete,
// nothing to accept) and must not start refusing any other entry. It
// returns the changed entry's *config.EntryError, whose message names the
// field and the fix, or an error wrapping ErrBreaksOthers that names what
// would break. The CLI and the admin API call it before a write; the
// servers check again when they load the registry.
func CheckChange(ctx context.Context, cfg *config.Config, reg clientreg.Store, now time.Time, kind, id string, edit func(*StoredRecords)) error {
	recs, err := ReadRegistry(ctx, reg)
	if err != nil {
		return fmt.Errorf("read the client registry: %w", err)
	}
	_, before, _ := recs.Merge(cfg, now)
	refused := make(map[string]bool, len(before))
	for _, e := range before {
		refused[e.Kind+"\x00"+e.ID] = true
	}
	edit(&recs)
	_, after, _ := recs.Merge(cfg, now)
	var others []string
	for _, e := range after {
		if e.Kind == kind && e.ID == id {
			return e
		}
		if !refused[e.Kind+"\x00"+e.ID] {
			others = append(others, e.Error())
		}
	}
	if len(others) > 0 {
		return fmt.Errorf("%w: %s", ErrBreaksOthers, strings.Join(others, "; "))
	}
	return nil
}

// PutClient returns an edit for CheckChange that puts c in place of the
// stored client of its id, or adds it.
func PutClient(c clientreg.Client) func(*StoredRecords) {
	return func(r *StoredRecords) {
		RemoveClient(c.ClientID)(r)
		r.Clients = append(r.Clients, c)
	}
}

// RemoveClient returns an edit for CheckChange that deletes client id.
func RemoveClient(id string) func(*StoredRecords) {
	return func(r *StoredRecords) {
		r.Clients = slices.DeleteFunc(r.Clients, func(x clientreg.Client) bool { return x.ClientID == id })
	}
}

// PutResource returns an edit for CheckChange that puts res in place of
// the stored API resource of its name, or adds it.
func PutResource(res clientreg.Resource) func(*StoredRecords) {
	return func(r *StoredRecords) {
		RemoveResource(res.Name)(r)
		r.Resources = append(r.Resources, res)
	}
}

// RemoveResource returns an edit for CheckChange that deletes API
// resource name.
func RemoveResource(name string) func(*StoredRecords) {
	return func(r *StoredRecords) {
		r.Resources = slices.DeleteFunc(r.Resources, func(x clientreg.Resource) bool { return x.Name == name })
	}
}
