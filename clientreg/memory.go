package clientreg

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// NewMemory returns a Store kept in memory (memstore and tests); now is
// the clock of changes without Change.At (nil: time.Now).
func NewMemory(now func() time.Time) Store {
	return New(&memory{records: map[string]map[string][]byte{KindClient: {}, KindResource: {}}}, now)
}

// memory is the in-memory Backend: one lock around everything, writes
// applied when the transaction's function succeeds.
type memory struct {
	mu      sync.Mutex
	mark    int64
	records map[string]map[string][]byte // kind -> id -> record
	audit   []AuditEntry                 // oldest first
}

func (m *memory) Write(ctx context.Context, fn func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memTx{m: m, puts: map[[2]string][]byte{}}
	if err := fn(tx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("clientreg: write: %w", err)
	}
	m.mark = tx.mark
	for k, b := range tx.puts {
		if b == nil {
			delete(m.records[k[0]], k[1])
		} else {
			m.records[k[0]][k[1]] = b
		}
	}
	m.audit = append(m.audit, tx.audit...)
	return nil
}

func (m *memory) Read(_ context.Context, kind, id string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.records[kind][id]
	if !ok {
		return nil, fmt.Errorf("%w: %s %q is not in the store", ErrNotFound, kind, id)
	}
	return slices.Clone(b), nil
}

func (m *memory) List(_ context.Context, kind, after string, limit int) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.records[kind]))
	for id := range m.records[kind] {
		if id > after {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = slices.Clone(m.records[kind][id])
	}
	return out, nil
}

func (m *memory) AuditLog(_ context.Context, kind, id string, before int64, limit int) ([]AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []AuditEntry
	for i := len(m.audit) - 1; i >= 0 && len(out) < limit; i-- {
		e := m.audit[i]
		if (before > 0 && e.Seq >= before) || (kind != "" && e.Kind != kind) || (id != "" && e.ID != id) {
			continue
		}
		e.Before, e.After = slices.Clone(e.Before), slices.Clone(e.After)
		out = append(out, e)
	}
	return out, nil
}

func (m *memory) Mark(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mark, nil
}

type memTx struct {
	m     *memory
	mark  int64
	puts  map[[2]string][]byte // nil value: removed
	audit []AuditEntry
}

func (t *memTx) Bump(context.Context) (int64, error) {
	if t.mark == 0 {
		t.mark = t.m.mark
	}
	t.mark++
	return t.mark, nil
}

func (t *memTx) Get(_ context.Context, kind, id string) ([]byte, error) {
	if b, ok := t.puts[[2]string{kind, id}]; ok && b != nil {
		return slices.Clone(b), nil
	} else if ok {
		return nil, fmt.Errorf("%w: %s %q is not in the store", ErrNotFound, kind, id)
	}
	b, ok := t.m.records[kind][id]
	if !ok {
		return nil, fmt.Errorf("%w: %s %q is not in the store", ErrNotFound, kind, id)
	}
	return slices.Clone(b), nil
}

func (t *memTx) Put(_ context.Context, kind, id string, record []byte) error {
	t.puts[[2]string{kind, id}] = slices.Clone(record)
	return nil
}

func (t *memTx) Remove(_ context.Context, kind, id string) error {
	t.puts[[2]string{kind, id}] = nil
	return nil
}

func (t *memTx) Append(_ context.Context, e AuditEntry) error {
	t.audit = append(t.audit, e)
	return nil
}
