package ldap

import (
	"context"
	"sync"
	"sync/atomic"

	goldap "github.com/go-ldap/ldap/v3"
)

// pool holds at most size connections bound as the service account. A
// caller takes one (waiting for a free slot within its context), uses
// it alone and gives it back: kept when it is still good, closed
// otherwise, so that a broken connection is replaced by the next dial.
type pool struct {
	dial  func(context.Context) (*goldap.Conn, error)
	slots chan struct{} // one token per connection in use or being dialled

	mu     sync.Mutex // guards idle and closed
	idle   []*goldap.Conn
	closed bool

	dials atomic.Int64 // connections dialled, for tests
}

func newPool(size int, dial func(context.Context) (*goldap.Conn, error)) *pool {
	return &pool{dial: dial, slots: make(chan struct{}, size)}
}

// errBusy is returned, wrapped, when no connection came free in time.
type errBusy struct{ cause error }

func (e errBusy) Error() string { return "no directory connection came free: " + e.cause.Error() }
func (e errBusy) Unwrap() error { return e.cause }

// get returns an idle connection (idle true), or dials one. fresh skips
// the idle ones (after a broken one was met).
func (p *pool) get(ctx context.Context, fresh bool) (conn *goldap.Conn, idle bool, err error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, false, errBusy{ctx.Err()}
	}
	if !fresh {
		for {
			p.mu.Lock()
			var c *goldap.Conn
			if n := len(p.idle); n > 0 {
				c, p.idle = p.idle[n-1], p.idle[:n-1]
			}
			p.mu.Unlock()
			if c == nil {
				break
			}
			if !c.IsClosing() {
				return c, true, nil
			}
			c.Close()
		}
	}
	p.dials.Add(1)
	c, err := p.dial(ctx)
	if err != nil {
		<-p.slots
		return nil, false, err
	}
	return c, false, nil
}

// put gives c back: kept when good, closed otherwise.
func (p *pool) put(c *goldap.Conn, good bool) {
	defer func() { <-p.slots }()
	if good && !c.IsClosing() {
		p.mu.Lock()
		if !p.closed {
			p.idle = append(p.idle, c)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
	c.Close()
}

// close closes the idle connections; those in use are closed when they
// are given back.
func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
}
