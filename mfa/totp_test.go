package mfa_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/mfa"
	"github.com/signet-id/signet/seal"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newManager(t *testing.T) (*mfa.Manager, *memstore.Store, *clock) {
	t.Helper()
	sealer, err := seal.New([][]byte{[]byte("a test protection secret of 32 b")})
	if err != nil {
		t.Fatal(err)
	}
	st := memstore.New()
	c := &clock{t: time.Date(2026, 12, 6, 10, 0, 5, 0, time.UTC)}
	m, err := mfa.New(mfa.Config{Store: st, Sealer: sealer, Issuer: "Example Co", Now: c.now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	return m, st, c
}

func code(t *testing.T, key string, at time.Time) string {
	t.Helper()
	c, err := mfa.Code(key, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEnrolAndVerify: enrolment shows a key, its otpauth URL and an
// inline SVG QR code; a wrong code does not confirm it; the right code
// confirms it and returns ten distinct recovery codes; then each code is
// accepted once, within one step of drift, and never an older one.
func TestEnrolAndVerify(t *testing.T) {
	m, st, c := newManager(t)
	ctx := t.Context()
	en, err := m.Begin(ctx, "sub-alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(en.URL)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != en.Key || u.Query().Get("issuer") != "Example Co" ||
		!strings.Contains(u.Path, "alice") {
		t.Fatalf("URL %q (key %q)", en.URL, en.Key)
	}
	if !strings.HasPrefix(en.QRCode, "<svg") || !strings.Contains(en.QRCode, "<path") || strings.Contains(en.QRCode, "style=") ||
		strings.Contains(en.QRCode, "<?xml") || !strings.Contains(en.QRCode, "<title") || strings.Contains(en.QRCode, "href") {
		t.Fatalf("QR code SVG: %.300s", en.QRCode)
	}
	// The secret is sealed at rest: the stored bytes do not hold it.
	rec, _ := st.TOTP(ctx, "sub-alice")
	raw, _ := mfaKeyBytes(en.Key)
	if bytes.Contains(rec.Secret, raw) {
		t.Fatal("the stored secret holds the key in the clear")
	}
	// A reload shows the same key.
	again, err := m.Begin(ctx, "sub-alice", "alice")
	if err != nil || again.Key != en.Key {
		t.Fatalf("a reload drew another key: %v", err)
	}
	if st, _ := m.Status(ctx, "sub-alice"); st.Enrolled {
		t.Fatal("enrolled before confirmation")
	}
	if err := m.Verify(ctx, "sub-alice", code(t, en.Key, c.t)); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("a code before confirmation: %v, want ErrNotFound", err)
	}
	wrong := code(t, en.Key, c.t.Add(-5*time.Minute))
	if _, err := m.Confirm(ctx, "sub-alice", wrong); !errors.Is(err, mfa.ErrBadCode) {
		t.Fatalf("confirm with a wrong code: %v", err)
	}
	recovery, err := m.Confirm(ctx, "sub-alice", code(t, en.Key, c.t))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recovery {
		if len(r) != 19 || seen[r] {
			t.Fatalf("recovery codes %v", recovery)
		}
		seen[r] = true
	}
	if len(recovery) != mfa.RecoveryCodes {
		t.Fatalf("%d recovery codes", len(recovery))
	}
	if _, err := m.Begin(ctx, "sub-alice", "alice"); !errors.Is(err, mfa.ErrEnrolled) {
		t.Fatalf("Begin after confirmation: %v", err)
	}
	// The confirmation's code is used up.
	if err := m.Verify(ctx, "sub-alice", code(t, en.Key, c.t)); !errors.Is(err, mfa.ErrReplayed) {
		t.Fatalf("the confirmation's code again: %v, want ErrReplayed", err)
	}
	c.t = c.t.Add(mfa.Period)
	now := code(t, en.Key, c.t)
	if err := m.Verify(ctx, "sub-alice", now); err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(ctx, "sub-alice", now); !errors.Is(err, mfa.ErrReplayed) {
		t.Fatalf("a code used twice: %v, want ErrReplayed", err)
	}
	// The next step's code (the phone's clock ahead) is accepted; then
	// the current one, older, is not.
	c.t = c.t.Add(mfa.Period)
	if err := m.Verify(ctx, "sub-alice", code(t, en.Key, c.t.Add(mfa.Period))); err != nil {
		t.Fatalf("a code one step ahead: %v", err)
	}
	if err := m.Verify(ctx, "sub-alice", code(t, en.Key, c.t)); !errors.Is(err, mfa.ErrReplayed) {
		t.Fatalf("an older code after a newer one: %v, want ErrReplayed", err)
	}
	c.t = c.t.Add(10 * mfa.Period)
	if err := m.Verify(ctx, "sub-alice", code(t, en.Key, c.t.Add(-2*mfa.Period))); !errors.Is(err, mfa.ErrBadCode) {
		t.Fatalf("a code two steps old: %v, want ErrBadCode", err)
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if err := m.Verify(ctx, "sub-alice", bad); !errors.Is(err, mfa.ErrBadCode) {
			t.Fatalf("code %q: %v", bad, err)
		}
	}

	// Recovery codes: once each, typed loosely.
	typed := strings.ToUpper(strings.ReplaceAll(recovery[3], "-", " "))
	if err := m.UseRecoveryCode(ctx, "sub-alice", typed); err != nil {
		t.Fatalf("recovery code %q: %v", typed, err)
	}
	if err := m.UseRecoveryCode(ctx, "sub-alice", recovery[3]); !errors.Is(err, mfa.ErrBadCode) {
		t.Fatalf("a recovery code twice: %v", err)
	}
	if err := m.UseRecoveryCode(ctx, "sub-bob", recovery[4]); !errors.Is(err, mfa.ErrBadCode) {
		t.Fatalf("alice's recovery code for bob: %v", err)
	}
	if s, _ := m.Status(ctx, "sub-alice"); !s.Enrolled || s.RecoveryCodesLeft != mfa.RecoveryCodes-1 {
		t.Fatalf("status %+v", s)
	}

	// A sealed secret moved to another subject does not open.
	rec, _ = st.TOTP(ctx, "sub-alice")
	if err := st.BeginTOTP(ctx, mfa.TOTP{Subject: "sub-mallory", Secret: rec.Secret, Created: c.t}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Confirm(ctx, "sub-mallory", code(t, en.Key, c.t)); err == nil || errors.Is(err, mfa.ErrBadCode) {
		t.Fatalf("a secret moved to another subject: %v, want a sealing error", err)
	}

	// Reset: the next enrolment draws a new key.
	if had, err := m.Reset(ctx, "sub-alice"); !had || err != nil {
		t.Fatalf("reset: %v %v", had, err)
	}
	en2, err := m.Begin(ctx, "sub-alice", "alice")
	if err != nil || en2.Key == en.Key {
		t.Fatalf("after reset: %v (same key: %v)", err, en2 != nil && en2.Key == en.Key)
	}
}

func mfaKeyBytes(key string) ([]byte, error) {
	return mfa.B32(key)
}

// TestReseal: after the protection secrets rotate (new first, old
// second), Reseal re-encrypts the TOTP secrets under the new one, so the
// old one can go and codes keep working; a secret sealed under no
// configured secret is counted unreadable, not lost.
func TestReseal(t *testing.T) {
	oldS, _ := seal.New([][]byte{[]byte("the old protection secret, 32 b.")})
	st := memstore.New()
	c := &clock{t: time.Date(2026, 12, 6, 10, 0, 5, 0, time.UTC)}
	m, _ := mfa.New(mfa.Config{Store: st, Sealer: oldS, Now: c.now})
	ctx := t.Context()
	en, err := m.Begin(ctx, "sub-alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Confirm(ctx, "sub-alice", code(t, en.Key, c.t)); err != nil {
		t.Fatal(err)
	}
	other, _ := seal.New([][]byte{[]byte("a secret nobody configured, 32 b")})
	stray, _ := other.Seal("mfa/totp/sub-stray", "TOTP", []byte("0123456789abcdefghij"))
	if err := st.BeginTOTP(ctx, mfa.TOTP{Subject: "sub-stray", Secret: stray, Created: c.t}); err != nil {
		t.Fatal(err)
	}

	both, _ := seal.New([][]byte{[]byte("the new protection secret, 32 b."), []byte("the old protection secret, 32 b.")})
	res, err := mfa.Reseal(ctx, st, both)
	if err != nil || res != (mfa.ResealResult{Resealed: 1, Unreadable: 1}) {
		t.Fatalf("reseal: %+v %v", res, err)
	}
	if res, _ := mfa.Reseal(ctx, st, both); res != (mfa.ResealResult{Current: 1, Unreadable: 1}) {
		t.Fatalf("second reseal: %+v", res)
	}
	newOnly, _ := seal.New([][]byte{[]byte("the new protection secret, 32 b.")})
	m2, _ := mfa.New(mfa.Config{Store: st, Sealer: newOnly, Now: c.now})
	c.t = c.t.Add(mfa.Period)
	if err := m2.Verify(ctx, "sub-alice", code(t, en.Key, c.t)); err != nil {
		t.Fatalf("a code after the reseal, with the new secret only: %v", err)
	}
}
