//go:build openssl && cgo

package openssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// TestPoolManyCallers: more callers than threads and than a notification
// batch; every signature comes back to its own caller and verifies.
func TestPoolManyCallers(t *testing.T) {
	p := testPool(t)
	rk, ek := rsaKey(t, 2048), ecKey(t, elliptic.P521())
	rs, es := mustMode(t, mode{"pool", p.New}, rk), mustMode(t, mode{"pool", p.New}, ek)
	const callers, each = 48, 6
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			for n := range each {
				msg := fmt.Appendf(nil, "caller %d message %d", i, n)
				if i%2 == 0 {
					d := digest(crypto.SHA256, msg)
					sig, err := rs.Sign(nil, d, pssOpts(crypto.SHA256))
					if err == nil {
						err = rsa.VerifyPSS(&rk.PublicKey, crypto.SHA256, d, sig, pssOpts(crypto.SHA256))
					}
					if err != nil {
						errs <- fmt.Errorf("caller %d: %w", i, err)
						return
					}
				} else {
					d := digest(crypto.SHA512, msg)
					sig, err := es.Sign(nil, d, crypto.SHA512)
					if err == nil && !ecdsa.VerifyASN1(&ek.PublicKey, d, sig) {
						err = errors.New("ECDSA signature does not verify")
					}
					if err != nil {
						errs <- fmt.Errorf("caller %d: %w", i, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestPoolClose: Close waits for the signatures in flight (each caller
// gets a valid signature or ErrClosed, never a crash or a hang), ends the
// collecting goroutine, and is idempotent.
func TestPoolClose(t *testing.T) {
	p, err := NewPool(2)
	if err != nil {
		t.Fatal(err)
	}
	priv := rsaKey(t, 4096) // slow: Close lands while signatures run
	s, err := p.New(priv)
	if err != nil {
		t.Fatal(err)
	}
	d := digest(crypto.SHA256, []byte("m"))
	started := make(chan struct{}, 8)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for first := true; ; first = false {
				if first {
					started <- struct{}{}
				}
				sig, err := s.Sign(nil, d, crypto.SHA256)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err == nil {
					err = rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, d, sig)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range 8 {
		<-started
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	select {
	case <-p.reaped:
	default:
		t.Fatal("the collecting goroutine still runs after Close")
	}
	if _, err := s.Sign(nil, d, crypto.SHA256); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sign after Close = %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestSignErrorsCarryOpenSSLString: a signature OpenSSL refuses (PSS with
// SHA-512 needs more than a 1024-bit key holds) reports what failed and
// OpenSSL's reason, in both modes.
func TestSignErrorsCarryOpenSSLString(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range modes(t) {
		s := mustMode(t, m, priv)
		_, err := s.Sign(nil, digest(crypto.SHA512, []byte("m")), pssOpts(crypto.SHA512))
		if !errors.Is(err, ErrOpenSSL) || !strings.Contains(err.Error(), "EVP_PKEY_sign: error:") {
			t.Fatalf("%s: PSS-SHA512 with RSA-1024 = %v, want ErrOpenSSL naming EVP_PKEY_sign and OpenSSL's error", m.name, err)
		}
	}
}

func TestNewPoolDefaultsToGOMAXPROCS(t *testing.T) {
	p, err := NewPool(0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got, want := int(p.np.p.nthreads), runtime.GOMAXPROCS(0); got != want {
		t.Fatalf("%d threads, want GOMAXPROCS = %d", got, want)
	}
}
