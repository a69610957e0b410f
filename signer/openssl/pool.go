//go:build openssl && cgo

package openssl

import (
	"crypto"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/cgo"
	"sync"

	"github.com/signet-id/signet/key"
)

// ErrClosed: the Pool was closed; its Signers no longer sign.
var ErrClosed = errors.New("openssl: signing pool closed")

// Pool signs on native threads of its own, so that a signature does not
// hold a Go thread in a cgo call. See the package documentation (Threads)
// for why and what it measured. Create one per process with [NewPool],
// import keys with [Pool.New] or [Pool.Factory], and [Pool.Close] it after
// the last signature. It is safe for concurrent use.
type Pool struct {
	// mu is held for reading by every signature from submission until
	// its result is back, and for writing by Close: Close waits for the
	// signatures in flight, and none starts after it.
	mu     sync.RWMutex
	closed bool
	np     *nativePool
	events *os.File      // the pool's eventfd: signed jobs are waiting
	reaped chan struct{} // closed when the collecting goroutine returns
}

// NewPool starts threads native signing threads (runtime.GOMAXPROCS(0) when
// threads <= 0) and the goroutine that hands their results back.
func NewPool(threads int) (*Pool, error) {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	np, events, err := newNativePool(threads)
	if err != nil {
		return nil, err
	}
	p := &Pool{np: np, events: events, reaped: make(chan struct{})}
	go p.collect()
	return p, nil
}

// collect waits on the eventfd (in Go's network poller: no thread is held)
// and hands each signed job to the call waiting for it. It returns when
// Close has stopped the workers and closes the eventfd.
func (p *Pool) collect() {
	defer close(p.reaped)
	var buf [8]byte
	for {
		_, err := p.events.Read(buf[:])
		for j := p.np.take(); j.ok(); {
			next := j.next()
			j.handle().Value().(chan job) <- j
			j = next
		}
		if err != nil {
			return // Close closed the eventfd after the last take
		}
	}
}

// Close waits for the signatures in flight, stops the threads and releases
// the pool. Signers of the pool fail with [ErrClosed] afterwards. Closing
// twice is a no-op.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	p.np.stop()
	// The workers are gone and no call waits: the eventfd can go, which
	// ends collect after its last take.
	err := p.events.Close()
	<-p.reaped
	p.np.free()
	if err != nil {
		return fmt.Errorf("openssl: close the signing pool: %w", err)
	}
	return nil
}

// New is [New] for a Signer that signs on the pool's threads.
func (p *Pool) New(priv crypto.Signer) (*Signer, error) { return newSigner(priv, p, nil) }

// Factory matches keymanager.SignerFactory. For an algorithm [Wraps]
// reports and a key of its kind (*rsa.PrivateKey, or *ecdsa.PrivateKey on
// the algorithm's curve) it returns a [Signer] of the pool (see [New]); for
// every other algorithm or key (an HSM's signer, say) it returns priv
// unchanged. The key manager calls it once per key, when it loads the key
// into its snapshot.
func (p *Pool) Factory(alg key.Algorithm, priv crypto.Signer) (crypto.Signer, error) {
	if !Wraps(alg) || !fits(alg, priv) {
		return priv, nil
	}
	s, err := p.New(priv)
	if err != nil {
		return nil, fmt.Errorf("openssl: import %s key: %w", alg, err)
	}
	return s, nil
}

// sign has a worker sign digest with k and waits for the result. The
// caller keeps k's owner reachable until sign returns.
func (p *Pool) sign(k *pkey, kd kind, h hashID, digest []byte) ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return nil, ErrClosed
	}
	done := make(chan job, 1)
	handle := cgo.NewHandle(done)
	defer handle.Delete()
	k.inflight.Add(1)
	defer k.inflight.Add(-1)
	if _, err := p.np.submit(k, kd, h, digest, handle); err != nil {
		return nil, err
	}
	return (<-done).finish()
}
