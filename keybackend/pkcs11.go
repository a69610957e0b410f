//go:build cgo

package keybackend

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"

	"github.com/signet-id/signet/key"
)

// p11 is the PKCS#11 backend: one crypto11 context (a session pool,
// logged in) on the configured token.
type p11 struct {
	ctx     *crypto11.Context
	timeout time.Duration
}

func openPKCS11(c Config) (Backend, error) {
	ctx, err := configureToken(crypto11.Configure, &crypto11.Config{
		Path:            c.Module,
		TokenLabel:      c.TokenLabel,
		Pin:             c.Pin,
		PoolWaitTimeout: c.SignTimeout,
	}, time.Sleep)
	if err != nil {
		return nil, fmt.Errorf("keybackend: pkcs11: open token %q with module %s: %w (check keyBackend.module, tokenLabel and pin)", c.TokenLabel, c.Module, err)
	}
	return &p11{ctx: ctx, timeout: c.SignTimeout}, nil
}

// tokenLookups is how often configureToken looks for a token that is not
// listed, tokenLookupPause the pause between lookups.
const (
	tokenLookups     = 5
	tokenLookupPause = 200 * time.Millisecond
)

// configureToken opens the token with configure, looking again (a few
// times, briefly) when the module does not list it, or its login fails
// with CKR_GENERAL_ERROR: a file-backed token (SoftHSM) is skipped by a
// module initialised while another process rewrites its files, or fails
// the login then, and a second look finds it. Any other error (a wrong
// PIN among them: retrying it could lock a real token) is returned at
// once. crypto11 does not export its errors, hence the text.
func configureToken(configure func(*crypto11.Config) (*crypto11.Context, error), cfg *crypto11.Config, sleep func(time.Duration)) (*crypto11.Context, error) {
	for i := 1; ; i++ {
		ctx, err := configure(cfg)
		if err == nil || i == tokenLookups || !transientTokenError(err) {
			return ctx, err
		}
		sleep(tokenLookupPause)
	}
}

// transientTokenError reports whether opening the token may succeed when
// tried again: the token not listed, or a general error of the module.
func transientTokenError(err error) bool {
	m := err.Error()
	return strings.Contains(m, "could not find PKCS#11 token") || strings.Contains(m, "CKR_GENERAL_ERROR")
}

func (b *p11) Type() string { return PKCS11 }

func (b *p11) Check(alg key.Algorithm, rsaBits int) error { return Supports(PKCS11, alg, rsaBits) }

// Generate makes a key pair on the token: the private half is a token
// object, sensitive, not extractable, sign-only; both halves carry
// CKA_ID and CKA_LABEL = kid.
func (b *p11) Generate(_ context.Context, kid string, alg key.Algorithm, rsaBits int) (Ref, error) {
	if err := b.Check(alg, rsaBits); err != nil {
		return Ref{}, err
	}
	pub, err := crypto11.NewAttributeSetWithIDAndLabel([]byte(kid), []byte(kid))
	if err != nil {
		return Ref{}, fmt.Errorf("keybackend: pkcs11: %w", err)
	}
	priv := pub.Copy()
	priv.AddIfNotPresent([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
	})
	var s crypto11.Signer
	if alg.IsRSA() {
		pub.AddIfNotPresent([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false)})
		s, err = b.ctx.GenerateRSAKeyPairWithAttributes(pub, priv, rsaBits)
	} else {
		s, err = b.ctx.GenerateECDSAKeyPairWithAttributes(pub, priv, alg.Curve())
	}
	if err != nil {
		return Ref{}, fmt.Errorf("%w: pkcs11: generate %s key %s: %w", ErrUnavailable, alg, kid, err)
	}
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		return Ref{}, fmt.Errorf("keybackend: pkcs11: public key of %s: %w", kid, err)
	}
	return Ref{Backend: PKCS11, ID: kid, Label: kid, Public: der}, nil
}

func (b *p11) find(ref Ref) (crypto11.Signer, error) {
	ss, err := b.ctx.FindKeyPairs([]byte(ref.ID), []byte(ref.Label))
	if err != nil {
		return nil, fmt.Errorf("%w: pkcs11: find key %s: %w", ErrUnavailable, ref.Label, err)
	}
	if len(ss) != 1 {
		if len(ss) > 1 {
			return nil, fmt.Errorf("%w: pkcs11: %d key pairs with id and label %q on the token; remove the copies", ErrObjectMissing, len(ss), ref.Label)
		}
		return nil, fmt.Errorf("%w: pkcs11: no key pair with id and label %q on the token", ErrObjectMissing, ref.Label)
	}
	return ss[0], nil
}

func (b *p11) Signer(_ context.Context, ref Ref, alg key.Algorithm) (crypto.Signer, error) {
	s, err := b.find(ref)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil || !bytes.Equal(der, ref.Public) {
		return nil, fmt.Errorf("%w: pkcs11 key %s", ErrPublicMismatch, ref.Label)
	}
	return &timedSigner{
		pub: s.Public(), timeout: b.timeout, what: "pkcs11 key " + ref.Label,
		sign: func(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
			return blocking(ctx, func() ([]byte, error) { return s.Sign(rand.Reader, digest, opts) })
		},
	}, nil
}

func (b *p11) Destroy(_ context.Context, ref Ref) error {
	s, err := b.find(ref)
	if errors.Is(err, ErrObjectMissing) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.Delete(); err != nil {
		return fmt.Errorf("%w: pkcs11: destroy key %s: %w", ErrUnavailable, ref.Label, err)
	}
	return nil
}

func (b *p11) Close() error { return b.ctx.Close() }
