package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// Limit is a budget: at most Max attempts per Window.
type Limit struct {
	Max    int
	Window time.Duration
}

// Validate checks l; name is used in the error.
func (l Limit) Validate(name string) error {
	if l.Max < 1 || l.Window < time.Second {
		return fmt.Errorf("throttle: %s: a limit needs at least 1 attempt per window of at least 1s (got %d per %s)", name, l.Max, l.Window)
	}
	return nil
}

// Key is one budget an attempt draws on.
type Key struct {
	// Name identifies the key; it is hashed before it reaches the store,
	// so usernames and addresses are not stored and keys have one size.
	Name  string
	Limit Limit
	// ResetOnSuccess forgets the key's failures when the attempt succeeds
	// (a person's typos from one address); other keys only get the
	// attempt back.
	ResetOnSuccess bool
}

// Limiter reserves attempts on keys of a Store. It is safe for concurrent
// use.
type Limiter struct {
	store Store
	now   func() time.Time
}

// NewLimiter returns a limiter over store with clock now (nil: time.Now).
func NewLimiter(store Store, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{store: store, now: now}
}

// Reservation is an attempt counted against its keys. Exactly one of
// Succeeded, Failed or Cancel ends it.
type Reservation struct {
	l    *Limiter
	keys []Key
	ids  []string
}

// storeKey is the stored form of a key name.
func storeKey(name string) string {
	d := sha256.Sum256([]byte(name))
	return base64.RawURLEncoding.EncodeToString(d[:18])
}

// Reserve counts one attempt on each key, in order. When a key's budget is
// spent it gives back what it took and returns wait > 0 (how long until
// that key allows an attempt) and a nil reservation. A store failure is
// returned as an error, with what was taken given back. With a
// BatchStore, the keys are taken in one call and settled in one.
func (l *Limiter) Reserve(ctx context.Context, keys ...Key) (*Reservation, time.Duration, error) {
	now := l.now()
	r := &Reservation{l: l, keys: keys, ids: make([]string, 0, len(keys))}
	if b, ok := l.store.(BatchStore); ok && len(keys) > 1 {
		if takes, ok := batchTakes(keys); ok {
			return r.reserveBatch(ctx, b, takes, now)
		}
	}
	for _, k := range keys {
		id := storeKey(k.Name)
		wait, err := l.store.TakeAttempt(ctx, id, k.Limit.Max, k.Limit.Window, now)
		if wait > 0 || err != nil {
			return r.refused(ctx, wait, err)
		}
		r.ids = append(r.ids, id)
	}
	return r, 0, nil
}

// batchTakes returns keys as the takes of one batch, and false when two
// keys are stored alike (a batch needs distinct keys; such an attempt is
// taken key by key, counting the key twice as it always did).
func batchTakes(keys []Key) ([]Take, bool) {
	takes := make([]Take, len(keys))
	for i, k := range keys {
		takes[i] = Take{Key: storeKey(k.Name), Max: k.Limit.Max, Window: k.Limit.Window}
		for _, t := range takes[:i] {
			if t.Key == takes[i].Key {
				return nil, false
			}
		}
	}
	return takes, true
}

// reserveBatch is Reserve with one TakeAttempts call.
func (r *Reservation) reserveBatch(ctx context.Context, b BatchStore, takes []Take, now time.Time) (*Reservation, time.Duration, error) {
	n, wait, err := b.TakeAttempts(ctx, takes, now)
	for _, t := range takes[:n] {
		r.ids = append(r.ids, t.Key)
	}
	if n < len(takes) || err != nil {
		return r.refused(ctx, wait, err)
	}
	return r, 0, nil
}

// refused ends a reservation a key's budget or the store refused: what
// was taken is given back, a full table is a refusal like any other.
func (r *Reservation) refused(ctx context.Context, wait time.Duration, err error) (*Reservation, time.Duration, error) {
	r.giveBack(ctx)
	if errors.Is(err, ErrTableFull) {
		err = nil // a refusal like any other
	}
	if err != nil {
		return nil, 0, fmt.Errorf("throttle: reserve: %w", err)
	}
	return nil, wait, nil
}

// giveBack returns the attempts taken so far.
func (r *Reservation) giveBack(ctx context.Context) error {
	return r.settle(ctx, false)
}

// Succeeded ends a successful attempt: keys marked ResetOnSuccess are
// reset, the others get the attempt back.
func (r *Reservation) Succeeded(ctx context.Context) error {
	return r.settle(ctx, true)
}

// settle gives every key taken its attempt back, except that on success
// the keys marked ResetOnSuccess are reset. It goes on when the caller
// has gone.
func (r *Reservation) settle(ctx context.Context, success bool) error {
	if len(r.ids) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	now := r.l.now()
	settles := make([]Settle, len(r.ids))
	for i, id := range r.ids {
		settles[i] = Settle{Key: id, Reset: success && r.keys[i].ResetOnSuccess}
	}
	if b, ok := r.l.store.(BatchStore); ok && len(settles) > 1 && distinctSettles(settles) {
		return b.SettleAttempts(ctx, settles, now)
	}
	var errs []error
	for _, s := range settles {
		if s.Reset {
			errs = append(errs, r.l.store.ResetAttempts(ctx, s.Key))
		} else {
			errs = append(errs, r.l.store.ReturnAttempt(ctx, s.Key, now))
		}
	}
	return errors.Join(errs...)
}

// distinctSettles reports whether no key is settled twice.
func distinctSettles(settles []Settle) bool {
	for i, s := range settles {
		for _, p := range settles[:i] {
			if p.Key == s.Key {
				return false
			}
		}
	}
	return true
}

// Cancel ends an attempt that was not evaluated (the hashing budget was
// busy, the caller went away): every key gets it back.
func (r *Reservation) Cancel(ctx context.Context) error { return r.giveBack(ctx) }

// Failed ends a failed attempt: it stays counted until its windows end.
func (r *Reservation) Failed() {}

// Budgets are Signet's abuse budgets (the limits: section of the
// configuration; docs/security.md). A zero field means its default.
type Budgets struct {
	// Sign-in failures on the login page: per username and address, per
	// address, and per username from every address together.
	LoginPerUserAndAddress Limit
	LoginPerAddress        Limit
	LoginPerUser           Limit
	// Failed client authentications (token, introspection, revocation):
	// per client id and address, per address, per client id.
	ClientPerClientAndAddress Limit
	ClientPerAddress          Limit
	ClientPerClient           Limit
	// Dynamic client registrations (RFC 7591, every attempt counts, not
	// only failures): per address, and from every address together (the
	// stored rows open registration can add).
	RegistrationPerAddress Limit
	Registrations          Limit
	// PasswordHashingMemoryKiB bounds the memory of the argon2id
	// verifications in flight (Hashing); PasswordHashingQueue how many
	// may wait.
	PasswordHashingMemoryKiB int64
	PasswordHashingQueue     int
	// TrackedKeys bounds an in-memory attempt table (Memory).
	TrackedKeys int
}

// DefaultWindow is the window of every default failed-attempt budget.
const DefaultWindow = 15 * time.Minute

// DefaultBudgets returns the defaults: 5 failed sign-ins per username
// and address, 30 per address, 100 per username; 10 failed client
// authentications per client and address, 30 per address, 100 per
// client; all per 15 minutes; 128 MiB of hashing memory with 32 waiting;
// 100,000 tracked keys; 20 dynamic client registrations per address and
// 500 in all per hour.
func DefaultBudgets() Budgets {
	l := func(n int) Limit { return Limit{Max: n, Window: DefaultWindow} }
	return Budgets{
		LoginPerUserAndAddress:    l(5),
		LoginPerAddress:           l(30),
		LoginPerUser:              l(100),
		ClientPerClientAndAddress: l(10),
		ClientPerAddress:          l(30),
		ClientPerClient:           l(100),
		RegistrationPerAddress:    Limit{Max: 20, Window: time.Hour},
		Registrations:             Limit{Max: 500, Window: time.Hour},
		PasswordHashingMemoryKiB:  DefaultHashingMemoryKiB,
		PasswordHashingQueue:      DefaultHashingQueue,
		TrackedKeys:               DefaultTrackedKeys,
	}
}

// BudgetLimit names one failed-attempt budget of Budgets.
type BudgetLimit struct {
	Name  string // the field's name
	Limit *Limit
}

// Limits lists b's failed-attempt budgets, to fill or check them in one
// loop.
func (b *Budgets) Limits() []BudgetLimit {
	return []BudgetLimit{
		{"LoginPerUserAndAddress", &b.LoginPerUserAndAddress},
		{"LoginPerAddress", &b.LoginPerAddress},
		{"LoginPerUser", &b.LoginPerUser},
		{"ClientPerClientAndAddress", &b.ClientPerClientAndAddress},
		{"ClientPerAddress", &b.ClientPerAddress},
		{"ClientPerClient", &b.ClientPerClient},
		{"RegistrationPerAddress", &b.RegistrationPerAddress},
		{"Registrations", &b.Registrations},
	}
}

// WithDefaults returns b with its zero fields set to the defaults, or an
// error naming a field that is invalid.
func (b Budgets) WithDefaults() (Budgets, error) {
	d := DefaultBudgets()
	def := d.Limits()
	for i, f := range b.Limits() {
		if *f.Limit == (Limit{}) {
			*f.Limit = *def[i].Limit
		}
		if err := f.Limit.Validate(f.Name); err != nil {
			return b, err
		}
	}
	if b.PasswordHashingMemoryKiB < 0 || b.PasswordHashingQueue < 0 || b.TrackedKeys < 0 {
		return b, errors.New("throttle: PasswordHashingMemoryKiB, PasswordHashingQueue and TrackedKeys must not be negative")
	}
	if b.PasswordHashingMemoryKiB == 0 {
		b.PasswordHashingMemoryKiB = d.PasswordHashingMemoryKiB
	}
	if b.PasswordHashingQueue == 0 {
		b.PasswordHashingQueue = d.PasswordHashingQueue
	}
	if b.TrackedKeys == 0 {
		b.TrackedKeys = d.TrackedKeys
	}
	return b, nil
}
