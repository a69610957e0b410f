//go:build openssl && cgo

package openssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestSignRejectsOptions(t *testing.T) {
	rs := mustNew(t, rsaKey(t, 2048))
	es := mustNew(t, ecKey(t, elliptic.P256()))
	d256 := digest(crypto.SHA256, []byte("m"))
	for _, tc := range []struct {
		name   string
		s      *Signer
		digest []byte
		opts   crypto.SignerOpts
		want   string
	}{
		{"nil opts", rs, d256, nil, "no options"},
		{"no hash", rs, d256, crypto.Hash(0), "hash"},
		{"SHA-1", rs, digest(crypto.SHA1, []byte("m")), crypto.SHA1, "hash SHA-1"},
		{"SHA-224", rs, digest(crypto.SHA224, []byte("m")), crypto.SHA224, "hash SHA-224"},
		{"short digest", rs, d256[:31], crypto.SHA256, "31-byte digest"},
		{"long digest", rs, append(d256, 0), crypto.SHA256, "33-byte digest"},
		{"PSS salt auto", rs, d256, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA256}, "salt length 0"},
		{"PSS salt 20", rs, d256, &rsa.PSSOptions{SaltLength: 20, Hash: crypto.SHA256}, "salt length 20"},
		{"PSS no hash", rs, d256, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}, "hash"},
		{"PSS on ECDSA", es, d256, pssOpts(crypto.SHA256), "PSS options for an ECDSA key"},
		{"ECDSA short digest", es, d256[:20], crypto.SHA256, "20-byte digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := tc.s.Sign(rand.Reader, tc.digest, tc.opts)
			if !errors.Is(err, ErrUnsupportedOpts) {
				t.Fatalf("Sign = %x, %v; want ErrUnsupportedOpts", sig, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestNewRejectsKeys(t *testing.T) {
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, priv := range []crypto.Signer{ed, p224} {
		if s, err := New(priv); !errors.Is(err, ErrUnsupportedKey) {
			t.Errorf("New(%T) = %v, %v; want ErrUnsupportedKey", priv, s, err)
		}
	}
}

func TestPublic(t *testing.T) {
	priv := rsaKey(t, 2048)
	if !mustNew(t, priv).Public().(*rsa.PublicKey).Equal(&priv.PublicKey) {
		t.Fatal("Public differs from the key's public half")
	}
	ep := ecKey(t, elliptic.P384())
	if !mustNew(t, ep).Public().(*ecdsa.PublicKey).Equal(&ep.PublicKey) {
		t.Fatal("Public differs from the key's public half")
	}
}

// TestErrorsCarryOpenSSLString: a failure reports what failed and
// OpenSSL's error string, and leaves no stale errors on the thread's
// queue for the next call to report.
func TestErrorsCarryOpenSSLString(t *testing.T) {
	// Same thread for every call, so a stale queue would show.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	stale := pushStaleError()
	_, err := load([]byte("not a key"), keyRSA)
	if !errors.Is(err, ErrOpenSSL) {
		t.Fatalf("load(garbage) = %v, want ErrOpenSSL", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "d2i_AutoPrivateKey: error:") {
		t.Fatalf("error %q lacks the failing call and OpenSSL's error string", msg)
	}
	if strings.Contains(msg, stale) {
		t.Fatalf("error %q reports an error queued before the call", msg)
	}
	if !errorQueueEmpty() {
		t.Fatal("a failed call left errors on the thread's queue")
	}

	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey(t, elliptic.P256()))
	if err != nil {
		t.Fatal(err)
	}
	_ = pushStaleError()
	_, err = load(ecDER, keyRSA)
	if want := "openssl: libcrypto failed: unexpected key type"; err == nil || err.Error() != want {
		t.Fatalf("load(EC as RSA) = %v, want exactly %q (no stale queue entries)", err, want)
	}

	rsaDER, err := x509.MarshalPKCS8PrivateKey(rsaKey(t, 2048))
	if err != nil {
		t.Fatal(err)
	}
	_, err = load(append(rsaDER, 0), keyRSA)
	if want := "openssl: libcrypto failed: trailing data after the key"; err == nil || err.Error() != want {
		t.Fatalf("load(key + trailing byte) = %v, want %q", err, want)
	}
	_ = pushStaleError()
	k, err := load(rsaDER, keyRSA)
	if err != nil {
		t.Fatalf("load after failures: %v", err)
	}
	defer k.free()
	if !errorQueueEmpty() {
		t.Fatal("a successful load left errors on the thread's queue")
	}

	d := digest(crypto.SHA256, []byte("m"))
	_ = pushStaleError()
	if _, err := k.sign(kindPSS, hashSHA256, d); err != nil {
		t.Fatalf("sign with a stale error queued: %v", err)
	}
	if !errorQueueEmpty() {
		t.Fatal("a successful sign left errors on the thread's queue")
	}
	stale = pushStaleError()
	err = k.verify(kindPKCS1, hashSHA256, d, make([]byte, k.size))
	if strings.Contains(err.Error(), stale) {
		t.Fatalf("error %q reports an error queued before the call", err)
	}
	if !errors.Is(err, ErrOpenSSL) || !strings.Contains(err.Error(), "EVP_PKEY_verify") {
		t.Fatalf("verify(zero signature) = %v, want ErrOpenSSL naming EVP_PKEY_verify", err)
	}
	// A digest of the wrong length for the hash reaches OpenSSL only
	// through the internal API; OpenSSL refuses it with its own reason.
	_, err = k.sign(kindPKCS1, hashSHA256, d[:20])
	if !errors.Is(err, ErrOpenSSL) || !strings.Contains(err.Error(), "EVP_PKEY_sign: error:") {
		t.Fatalf("sign(20-byte digest as SHA-256) = %v, want ErrOpenSSL with OpenSSL's reason", err)
	}
	t.Logf("sample error: %v", err)
	if !errorQueueEmpty() {
		t.Fatal("a failed sign left errors on the thread's queue")
	}
}

// TestConcurrentSign: one Signer used by many goroutines at once, every
// scheme, every signature verifies. Run with -race.
func TestConcurrentSign(t *testing.T) {
	priv := rsaKey(t, 2048)
	s := mustNew(t, priv)
	ep := ecKey(t, elliptic.P256())
	es := mustNew(t, ep)
	const goroutines, each = 16, 12
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				h := hashes[(g+i)%len(hashes)]
				d := digest(h, []byte{byte(g), byte(i)})
				var err error
				switch i % 3 {
				case 0:
					var sig []byte
					if sig, err = s.Sign(nil, d, h); err == nil {
						err = rsa.VerifyPKCS1v15(&priv.PublicKey, h, d, sig)
					}
				case 1:
					var sig []byte
					if sig, err = s.Sign(nil, d, pssOpts(h)); err == nil {
						err = rsa.VerifyPSS(&priv.PublicKey, h, d, sig, pssOpts(h))
					}
				case 2:
					d = digest(crypto.SHA256, d)
					var sig []byte
					if sig, err = es.Sign(nil, d, crypto.SHA256); err == nil && !ecdsa.VerifyASN1(&ep.PublicKey, d, sig) {
						err = errors.New("ECDSA signature does not verify")
					}
				}
				if err != nil {
					errs <- err
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

// TestCleanupFreesKey: once a Signer is unreachable, its EVP_PKEY is freed,
// with no call in flight.
func TestCleanupFreesKey(t *testing.T) {
	freed := make(chan int32, 1)
	s, err := newSigner(rsaKey(t, 2048), nil, func(n int32) { freed <- n })
	if err != nil {
		t.Fatal(err)
	}
	d := digest(crypto.SHA256, []byte("m"))
	if _, err := s.Sign(nil, d, crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	s = nil
	runtime.GC()
	if n := <-freed; n != 0 {
		t.Fatalf("freed with %d calls in flight", n)
	}
}

// TestCleanupWaitsForInFlightSign: a Signer whose only reference is the
// call in progress is not freed under OpenSSL, however often the collector
// runs meanwhile (this is what runtime.KeepAlive in Sign guarantees; a
// missing KeepAlive makes this test report calls in flight).
func TestCleanupWaitsForInFlightSign(t *testing.T) {
	priv := rsaKey(t, 4096) // slow signatures: many collections per call
	stop := make(chan struct{})
	var gc sync.WaitGroup
	gc.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	})
	defer func() { close(stop); gc.Wait() }()
	d := digest(crypto.SHA256, []byte("m"))
	pool := testPool(t)
	for i := range 20 {
		p := pool // half the calls through a Pool, half on this thread
		if i%2 == 0 {
			p = nil
		}
		freed := make(chan int32, 1)
		s, err := newSigner(priv, p, func(n int32) { freed <- n })
		if err != nil {
			t.Fatal(err)
		}
		sig, err := s.Sign(nil, d, crypto.SHA256) // s is dead after this call begins
		if err != nil {
			t.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, d, sig); err != nil {
			t.Fatal(err)
		}
		if n := <-freed; n != 0 {
			t.Fatalf("the key was freed with %d calls in flight", n)
		}
	}
}

// TestSignerDropsGoKey: the Signer keeps no reference to the Go private
// key, so the only copy that lives on is OpenSSL's.
func TestSignerDropsGoKey(t *testing.T) {
	for _, gen := range []func() (crypto.Signer, error){
		func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) },
		func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P521(), rand.Reader) },
	} {
		priv, err := gen()
		if err != nil {
			t.Fatal(err)
		}
		collected := make(chan struct{})
		switch p := priv.(type) {
		case *rsa.PrivateKey:
			runtime.AddCleanup(p, func(ch chan struct{}) { close(ch) }, collected)
		case *ecdsa.PrivateKey:
			runtime.AddCleanup(p, func(ch chan struct{}) { close(ch) }, collected)
		}
		s := mustNew(t, priv)
		priv = nil
		runtime.GC()
		<-collected // hangs (and the test times out) if s keeps the key alive
		d := digest(crypto.SHA256, []byte("m"))
		if _, err := s.Sign(nil, digest(crypto.SHA512, d), crypto.SHA512); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVersion(t *testing.T) {
	if v := Version(); !strings.HasPrefix(v, "OpenSSL 3.") {
		t.Fatalf("Version() = %q, want OpenSSL 3.x", v)
	}
}
