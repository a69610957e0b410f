package clientreg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Backend is what a storage engine implements to keep the registry; New
// builds the Store on it, so that the rules (revisions, conflicts, audit,
// redaction) are written once. Records are opaque JSON documents to the
// backend, keyed by kind (KindClient, KindResource) and id. Errors wrap
// ErrNotFound where they apply and ctx's error when ctx is done.
type Backend interface {
	// Write runs fn in one transaction, committed when fn returns nil and
	// rolled back otherwise; writes of other processes wait for it (the
	// first Tx.Bump takes the registry's write lock, if not earlier).
	Write(ctx context.Context, fn func(Tx) error) error
	// Read returns the record of kind and id; ErrNotFound if none.
	Read(ctx context.Context, kind, id string) ([]byte, error)
	// List returns up to limit records of kind whose id sorts after
	// after (bytewise), ordered by id.
	List(ctx context.Context, kind, after string, limit int) ([][]byte, error)
	// AuditLog returns up to limit entries with Seq below before (all
	// when before is 0), newest first, of kind and id when not empty.
	AuditLog(ctx context.Context, kind, id string, before int64, limit int) ([]AuditEntry, error)
	// Mark returns the change marker (0 before the first write).
	Mark(ctx context.Context) (int64, error)
}

// Tx is one write transaction of a Backend.
type Tx interface {
	// Bump increments the change marker and returns its new value. New
	// calls it first in every write, so it serializes the writes.
	Bump(ctx context.Context) (int64, error)
	// Get returns the record of kind and id as of this transaction;
	// ErrNotFound if none.
	Get(ctx context.Context, kind, id string) ([]byte, error)
	// Put inserts or replaces the record of kind and id.
	Put(ctx context.Context, kind, id string, record []byte) error
	// Remove deletes the record of kind and id.
	Remove(ctx context.Context, kind, id string) error
	// Append adds an entry to the audit log.
	Append(ctx context.Context, e AuditEntry) error
}

// New returns the Store kept in b. now is the clock of changes whose
// Change.At is zero (nil: time.Now).
func New(b Backend, now func() time.Time) Store {
	if now == nil {
		now = time.Now
	}
	return &store{b: b, now: now}
}

type store struct {
	b   Backend
	now func() time.Time
}

// record is what the generic code needs of a Client or Resource.
type record interface {
	Client | Resource
}

func idOf[T record](v *T) string {
	switch x := any(v).(type) {
	case *Client:
		return x.ClientID
	case *Resource:
		return x.Name
	}
	return ""
}

func metaOf[T record](v *T) *Meta {
	switch x := any(v).(type) {
	case *Client:
		return &x.Meta
	case *Resource:
		return &x.Meta
	}
	return nil
}

func validate[T record](v *T) error {
	switch x := any(v).(type) {
	case *Client:
		return x.Validate()
	case *Resource:
		return x.Validate()
	}
	return nil
}

func kindOf[T record]() string {
	var v T
	if _, ok := any(v).(Client); ok {
		return KindClient
	}
	return KindResource
}

func decode[T record](kind, id string, b []byte) (T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("clientreg: stored %s %q cannot be read (%v); it is kept as it is: fix or delete the row", kind, id, err)
	}
	return v, nil
}

func (s *store) get(ctx context.Context, kind, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("clientreg: read %s %q: %w", kind, id, err)
	}
	return s.b.Read(ctx, kind, id)
}

func getT[T record](ctx context.Context, s *store, id string) (T, error) {
	kind := kindOf[T]()
	b, err := s.get(ctx, kind, id)
	if err != nil {
		var zero T
		return zero, err
	}
	return decode[T](kind, id, b)
}

func listT[T record](ctx context.Context, s *store, p Page) ([]T, string, error) {
	kind := kindOf[T]()
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("clientreg: list %ss: %w", kind, err)
	}
	limit := p.EffectiveLimit()
	rows, err := s.b.List(ctx, kind, p.Cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	out := make([]T, 0, len(rows))
	for _, b := range rows {
		v, err := decode[T](kind, "", b)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	next := ""
	if more && len(out) > 0 {
		next = idOf(&out[len(out)-1])
	}
	return out, next, nil
}

// write is every change: a create (create), an update or a delete (del)
// of v (for a delete only its id is set).
func writeT[T record](ctx context.Context, s *store, v T, ifRevision int64, ch Change, action string) (T, error) {
	var zero T
	kind := kindOf[T]()
	id := idOf(&v)
	if err := ctx.Err(); err != nil {
		return zero, fmt.Errorf("clientreg: %s %s %q: %w", action, kind, id, err)
	}
	if ch.By == "" {
		return zero, fmt.Errorf("%w: the change names no author (Change.By)", ErrInvalid)
	}
	if action != ActionDelete {
		if err := validate(&v); err != nil {
			return zero, err
		}
	}
	if ifRevision < 0 {
		return zero, fmt.Errorf("%w: revision %d", ErrInvalid, ifRevision)
	}
	at := ch.At
	if at.IsZero() {
		at = s.now()
	}
	at = at.UTC().Truncate(time.Microsecond)
	recorded := action
	if ch.Action != "" && action == ActionUpdate {
		recorded = ch.Action
	}
	var out T
	err := s.b.Write(ctx, func(tx Tx) error {
		seq, err := tx.Bump(ctx)
		if err != nil {
			return err
		}
		old, err := tx.Get(ctx, kind, id)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		var before json.RawMessage = json.RawMessage("null")
		var prev T
		if exists {
			if prev, err = decode[T](kind, id, old); err != nil {
				return err
			}
			before = Redact(prev)
		}
		switch {
		case action == ActionCreate && exists:
			return fmt.Errorf("%w: %s %q is already stored; update it, or pick another id", ErrExists, kind, id)
		case action != ActionCreate && !exists:
			return fmt.Errorf("%w: %s %q is not in the store", ErrNotFound, kind, id)
		case action != ActionCreate && ifRevision != 0 && metaOf(&prev).Revision != ifRevision:
			return fmt.Errorf("%w: %s %q is at revision %d, not %d: someone changed it meanwhile; read it again and reapply your change", ErrConflict, kind, id, metaOf(&prev).Revision, ifRevision)
		}
		after := json.RawMessage("null")
		if action == ActionDelete {
			if err := tx.Remove(ctx, kind, id); err != nil {
				return err
			}
		} else {
			m := metaOf(&v)
			if exists {
				pm := metaOf(&prev)
				m.CreatedAt, m.CreatedBy = pm.CreatedAt, pm.CreatedBy
			} else {
				m.CreatedAt, m.CreatedBy = at, ch.By
			}
			m.Revision, m.UpdatedAt, m.UpdatedBy = seq, at, ch.By
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("clientreg: encode %s %q: %w", kind, id, err)
			}
			if err := tx.Put(ctx, kind, id, b); err != nil {
				return err
			}
			after = Redact(v)
			out = v
		}
		return tx.Append(ctx, AuditEntry{Seq: seq, At: at, By: ch.By, Action: recorded, Kind: kind, ID: id, Before: before, After: after})
	})
	if err != nil {
		return zero, err
	}
	return out, nil
}

func (s *store) Client(ctx context.Context, id string) (Client, error) {
	return getT[Client](ctx, s, id)
}

func (s *store) Clients(ctx context.Context, p Page) ([]Client, string, error) {
	return listT[Client](ctx, s, p)
}

func (s *store) CreateClient(ctx context.Context, c Client, ch Change) (Client, error) {
	return writeT(ctx, s, c, 0, ch, ActionCreate)
}

func (s *store) UpdateClient(ctx context.Context, c Client, ifRevision int64, ch Change) (Client, error) {
	return writeT(ctx, s, c, ifRevision, ch, ActionUpdate)
}

func (s *store) DeleteClient(ctx context.Context, id string, ifRevision int64, ch Change) error {
	_, err := writeT(ctx, s, Client{ClientID: id}, ifRevision, ch, ActionDelete)
	return err
}

func (s *store) Resource(ctx context.Context, name string) (Resource, error) {
	return getT[Resource](ctx, s, name)
}

func (s *store) Resources(ctx context.Context, p Page) ([]Resource, string, error) {
	return listT[Resource](ctx, s, p)
}

func (s *store) CreateResource(ctx context.Context, r Resource, ch Change) (Resource, error) {
	return writeT(ctx, s, r, 0, ch, ActionCreate)
}

func (s *store) UpdateResource(ctx context.Context, r Resource, ifRevision int64, ch Change) (Resource, error) {
	return writeT(ctx, s, r, ifRevision, ch, ActionUpdate)
}

func (s *store) DeleteResource(ctx context.Context, name string, ifRevision int64, ch Change) error {
	_, err := writeT(ctx, s, Resource{Name: name}, ifRevision, ch, ActionDelete)
	return err
}

func (s *store) Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("clientreg: audit: %w", err)
	}
	var before int64
	if q.Cursor != "" {
		n, err := strconv.ParseInt(q.Cursor, 10, 64)
		if err != nil || n <= 0 {
			return nil, "", fmt.Errorf("%w: audit cursor %q is not one this server returned; start again without a cursor", ErrInvalid, q.Cursor)
		}
		before = n
	}
	limit := q.EffectiveLimit()
	list, err := s.b.AuditLog(ctx, q.Kind, q.ID, before, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = strconv.FormatInt(list[len(list)-1].Seq, 10)
	}
	return list, next, nil
}

func (s *store) Mark(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("clientreg: mark: %w", err)
	}
	return s.b.Mark(ctx)
}
