//go:build cgo

package keybackend_test

import (
	"context"
	"errors"
	"testing"

	"github.com/miekg/pkcs11"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
	"github.com/signet-id/signet/keybackend/backendtest"
)

// TestPKCS11KeysNotExtractable generates keys on the token and then, as
// an attacker with the PIN would, asks the token for the private values:
// the token refuses (CKR_ATTRIBUTE_SENSITIVE), and the object says
// CKA_SENSITIVE true, CKA_EXTRACTABLE false.
func TestPKCS11KeysNotExtractable(t *testing.T) {
	c := backendtest.Config(t, keybackend.PKCS11)
	b := backendtest.Open(t, keybackend.PKCS11)
	ctx := context.Background()
	refs := map[key.Algorithm]keybackend.Ref{}
	for _, alg := range []key.Algorithm{key.ES256, key.RS256} {
		ref, err := b.Generate(ctx, newKID(t), alg, 2048)
		if err != nil {
			t.Fatal(err)
		}
		refs[alg] = ref
		t.Cleanup(func() { b.Destroy(ctx, ref) })
	}

	// The module is already initialised by the backend in this process;
	// a second handle shares it (never Finalize it here).
	p := pkcs11.New(c.Module)
	if p == nil {
		t.Fatalf("cannot load %s", c.Module)
	}
	if err := p.Initialize(); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		t.Fatal(err)
	}
	slots, err := p.GetSlotList(true)
	if err != nil {
		t.Fatal(err)
	}
	var sh pkcs11.SessionHandle
	found := false
	for _, s := range slots {
		ti, err := p.GetTokenInfo(s)
		if err == nil && ti.Label == c.TokenLabel {
			sh, err = p.OpenSession(s, pkcs11.CKF_SERIAL_SESSION)
			if err != nil {
				t.Fatal(err)
			}
			found = true
			break
		}
	}
	if !found {
		t.Fatalf("token %q not found", c.TokenLabel)
	}
	defer p.CloseSession(sh)
	if err := p.Login(sh, pkcs11.CKU_USER, c.Pin); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)) {
		t.Fatal(err)
	}
	for alg, ref := range refs {
		if err := p.FindObjectsInit(sh, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, ref.Label),
		}); err != nil {
			t.Fatal(err)
		}
		objs, _, err := p.FindObjects(sh, 2)
		p.FindObjectsFinal(sh)
		if err != nil || len(objs) != 1 {
			t.Fatalf("%s: private key objects labelled %s: %d, %v; want 1", alg, ref.Label, len(objs), err)
		}
		secret := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)}
		if alg.IsRSA() {
			secret = []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_PRIVATE_EXPONENT, nil)}
		}
		if got, err := p.GetAttributeValue(sh, objs[0], secret); !errors.Is(err, pkcs11.Error(pkcs11.CKR_ATTRIBUTE_SENSITIVE)) {
			t.Fatalf("%s: reading the private value: %v, %d bytes; want CKR_ATTRIBUTE_SENSITIVE", alg, err, len(got))
		}
		attrs, err := p.GetAttributeValue(sh, objs[0], []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, nil),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, nil),
			pkcs11.NewAttribute(pkcs11.CKA_ID, nil),
		})
		if err != nil {
			t.Fatal(err)
		}
		if v := attrs[0].Value; len(v) != 1 || v[0] != 1 {
			t.Errorf("%s: CKA_SENSITIVE = %v; want true", alg, v)
		}
		if v := attrs[1].Value; len(v) != 1 || v[0] != 0 {
			t.Errorf("%s: CKA_EXTRACTABLE = %v; want false", alg, v)
		}
		if string(attrs[2].Value) != ref.Label {
			t.Errorf("%s: CKA_ID = %q; want the kid %q", alg, attrs[2].Value, ref.Label)
		}
	}
}
