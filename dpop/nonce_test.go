package dpop

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

var secretA = []byte(strings.Repeat("a", 32))

func TestNoncesCluster(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	// Two instances of a cluster: same secret, separate values.
	one, err := NewNonces(secretA, 5*time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	two, err := NewNonces(append([]byte(nil), secretA...), 5*time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	n := one.Current()
	if n != two.Current() {
		t.Errorf("instances issue different nonces in one period: %q %q", n, two.Current())
	}
	if err := two.Check(n); err != nil {
		t.Fatalf("nonce of one refused by two: %v", err)
	}
	// Rotated by time, still accepted in the next period.
	now = now.Add(5 * time.Minute)
	if one.Current() == n {
		t.Error("the nonce did not change with the period")
	}
	if err := two.Check(n); err != nil {
		t.Errorf("previous period's nonce refused: %v", err)
	}
	// Refused once two periods have passed.
	now = now.Add(5 * time.Minute)
	if err := two.Check(n); !errors.Is(err, ErrNonce) || !errors.Is(err, ErrUseNonce) {
		t.Errorf("expired nonce: %v", err)
	}
	// A nonce from an instance whose clock runs one period ahead.
	ahead, _ := NewNonces(secretA, 5*time.Minute, func() time.Time { return now.Add(5 * time.Minute) })
	if err := two.Check(ahead.Current()); err != nil {
		t.Errorf("next period's nonce refused: %v", err)
	}
	far, _ := NewNonces(secretA, 5*time.Minute, func() time.Time { return now.Add(10 * time.Minute) })
	if err := two.Check(far.Current()); !errors.Is(err, ErrNonce) {
		t.Errorf("nonce two periods ahead: %v", err)
	}
}

func TestNoncesRefused(t *testing.T) {
	clock := fixedClock(t0)
	n, _ := NewNonces(secretA, 0, clock)
	other, _ := NewNonces([]byte(strings.Repeat("b", 32)), 0, clock)
	good := n.Current()
	raw, err := b64.DecodeString(good)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		r := append([]byte(nil), raw...)
		r[i] ^= 1
		return b64.EncodeToString(r)
	}
	// The period changed but the MAC kept: a forged lifetime.
	moved := append([]byte(nil), raw...)
	binary.BigEndian.PutUint64(moved, binary.BigEndian.Uint64(raw)-1)
	for name, s := range map[string]string{
		"another secret":   other.Current(),
		"MAC tampered":     flip(20),
		"period tampered":  b64.EncodeToString(moved),
		"empty":            "",
		"truncated":        good[:len(good)-1],
		"extended":         good + "A",
		"not base64url":    strings.Repeat("*", len(good)),
		"padded base64url": good[:len(good)-2] + "==",
	} {
		if err := n.Check(s); !errors.Is(err, ErrNonce) {
			t.Errorf("%s: got %v, want ErrNonce", name, err)
		}
	}
	if err := n.Check(good); err != nil {
		t.Fatalf("good nonce refused: %v", err)
	}
}

func TestNewNoncesRefuses(t *testing.T) {
	if _, err := NewNonces([]byte("short"), 0, nil); err == nil {
		t.Error("short secret accepted")
	}
	if _, err := NewNonces(secretA, time.Second, nil); err == nil {
		t.Error("1s period accepted")
	}
	// The secret is copied: changing the caller's slice changes nothing.
	s := append([]byte(nil), secretA...)
	n, _ := NewNonces(s, 0, fixedClock(t0))
	before := n.Current()
	s[0] = 'z'
	if n.Current() != before {
		t.Error("the nonce follows the caller's slice")
	}
}
