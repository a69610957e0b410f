//go:build openssl && cgo

package openssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"runtime"
)

// Sentinel errors.
var (
	// ErrOpenSSL: libcrypto reported a failure; the message carries what
	// failed and OpenSSL's error queue.
	ErrOpenSSL = errors.New("openssl: libcrypto failed")
	// ErrUnsupportedKey: the key is not one this package signs with.
	ErrUnsupportedKey = errors.New("openssl: unsupported key")
	// ErrUnsupportedOpts: the signer options ask for something JWS does
	// not use (another hash, PSS with another salt length, a digest of the
	// wrong length).
	ErrUnsupportedOpts = errors.New("openssl: unsupported signer options")
	// ErrSelfTest: a test signature made by OpenSSL at import did not
	// verify with Go's public key.
	ErrSelfTest = errors.New("openssl: imported key failed its self-test")
)

// Signer is a [crypto.Signer] whose private key lives in OpenSSL memory.
// It is immutable and safe for concurrent use.
//
// There is no Close: the native key is freed by a cleanup once the Signer
// is unreachable (see the package documentation for why). Use it through
// the pointer New returns; a copy of the struct does not keep the key
// alive.
type Signer struct {
	pub  crypto.PublicKey
	ec   bool
	k    *pkey // freed by the cleanup attached to the Signer
	pool *Pool // nil: sign on the calling goroutine's thread
}

// New imports priv, an *rsa.PrivateKey or an *ecdsa.PrivateKey on P-256,
// P-384 or P-521, into OpenSSL once (as PKCS#8 DER, which it then clears)
// and returns a Signer for it. Before returning, it signs a test digest with
// OpenSSL and verifies it with Go, so a key that does not work in OpenSSL
// fails here rather than on the token path. The Signer does not keep priv.
//
// The Signer signs on the calling goroutine's thread, inside a cgo call;
// a server that signs many tokens should use [Pool.New] instead.
func New(priv crypto.Signer) (*Signer, error) { return newSigner(priv, nil, nil) }

// newSigner is New for pool (nil: none), with a hook told when the native
// key is freed (tests).
func newSigner(priv crypto.Signer, pool *Pool, onFree func(inflight int32)) (*Signer, error) {
	t := keyRSA
	switch p := priv.(type) {
	case *rsa.PrivateKey:
	case *ecdsa.PrivateKey:
		if curveHash(p.Curve) == 0 {
			return nil, fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedKey, p.Curve.Params().Name)
		}
		t = keyEC
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, priv)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
	}
	// A copy: priv.Public() points into priv, and would keep the Go
	// private key alive as long as the Signer.
	pub, err := publicCopy(priv.Public())
	if err != nil {
		return nil, err
	}
	k, err := load(der, t)
	clear(der)
	if err != nil {
		return nil, err
	}
	k.onFree = onFree
	s := &Signer{pub: pub, ec: t == keyEC, k: k, pool: pool}
	runtime.AddCleanup(s, (*pkey).free, k)
	if err := s.selfTest(); err != nil {
		return nil, err
	}
	return s, nil
}

// selfTest signs a fixed digest with OpenSSL and verifies it with Go.
func (s *Signer) selfTest() error {
	h := crypto.SHA256
	if s.ec {
		h = curveHash(s.pub.(*ecdsa.PublicKey).Curve)
	}
	d := h.New()
	d.Write([]byte("signet openssl self-test"))
	digest := d.Sum(nil)
	sig, err := s.Sign(nil, digest, h)
	if err != nil {
		return err
	}
	switch pub := s.pub.(type) {
	case *rsa.PublicKey:
		err = rsa.VerifyPKCS1v15(pub, h, digest, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest, sig) {
			err = errors.New("ECDSA signature does not verify")
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSelfTest, err)
	}
	return nil
}

// Public returns the public key (*rsa.PublicKey or *ecdsa.PublicKey).
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// Sign signs digest, which must be the output of opts.HashFunc() (SHA-256,
// SHA-384 or SHA-512). For RSA keys opts is a [crypto.Hash] (PKCS#1 v1.5)
// or an *[rsa.PSSOptions] whose SaltLength is
// [rsa.PSSSaltLengthEqualsHash] or the hash's size (PSS as JWS requires,
// MGF1 with the same hash); other options fail with [ErrUnsupportedOpts].
// ECDSA signatures are ASN.1 DER, as crypto/ecdsa returns them.
//
// rand is ignored: OpenSSL draws PSS salts, ECDSA nonces and RSA blinding
// values from its own DRBG.
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	kd, h, err := s.scheme(digest, opts)
	if err != nil {
		return nil, err
	}
	var sig []byte
	if s.pool != nil {
		sig, err = s.pool.sign(s.k, kd, h, digest)
	} else {
		sig, err = s.k.sign(kd, h, digest)
	}
	// The cleanup frees s.k once s is unreachable; keep s alive until
	// OpenSSL is done with the key.
	runtime.KeepAlive(s)
	return sig, err
}

// scheme checks opts and digest against the key and names the C scheme.
func (s *Signer) scheme(digest []byte, opts crypto.SignerOpts) (kind, hashID, error) {
	if opts == nil {
		return 0, 0, fmt.Errorf("%w: no options", ErrUnsupportedOpts)
	}
	kd := kindPKCS1
	if s.ec {
		kd = kindECDSA
	}
	hash := opts.HashFunc()
	if pss, ok := opts.(*rsa.PSSOptions); ok {
		if s.ec {
			return 0, 0, fmt.Errorf("%w: PSS options for an ECDSA key", ErrUnsupportedOpts)
		}
		if pss.SaltLength != rsa.PSSSaltLengthEqualsHash && pss.SaltLength != hash.Size() {
			return 0, 0, fmt.Errorf("%w: PSS salt length %d; JWS needs the hash length (rsa.PSSSaltLengthEqualsHash)", ErrUnsupportedOpts, pss.SaltLength)
		}
		kd = kindPSS
	}
	var h hashID
	switch hash {
	case crypto.SHA256:
		h = hashSHA256
	case crypto.SHA384:
		h = hashSHA384
	case crypto.SHA512:
		h = hashSHA512
	default:
		return 0, 0, fmt.Errorf("%w: hash %v; SHA-256, SHA-384 or SHA-512 are supported", ErrUnsupportedOpts, hash)
	}
	if len(digest) != hash.Size() {
		return 0, 0, fmt.Errorf("%w: %d-byte digest for %v", ErrUnsupportedOpts, len(digest), hash)
	}
	return kd, h, nil
}

// verify checks sig with OpenSSL; the tests use it for the direction Go
// signs, OpenSSL verifies.
func (s *Signer) verify(digest, sig []byte, opts crypto.SignerOpts) error {
	kd, h, err := s.scheme(digest, opts)
	if err != nil {
		return err
	}
	err = s.k.verify(kd, h, digest, sig)
	runtime.KeepAlive(s)
	return err
}

// publicCopy returns a public key that shares no memory with pub.
func publicCopy(pub crypto.PublicKey) (crypto.PublicKey, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
	}
	cp, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
	}
	return cp, nil
}

// curveHash returns the JWS hash of a supported curve, or 0.
func curveHash(c elliptic.Curve) crypto.Hash {
	switch c {
	case elliptic.P256():
		return crypto.SHA256
	case elliptic.P384():
		return crypto.SHA384
	case elliptic.P521():
		return crypto.SHA512
	}
	return 0
}

// Version returns the version of the libcrypto linked at run time, e.g.
// "OpenSSL 3.0.19 27 Jan 2026".
func Version() string { return version() }
