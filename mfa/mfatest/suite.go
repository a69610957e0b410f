package mfatest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/mfa"
)

var t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// Run checks a store; handles are views of one store (one process each,
// for the SQL stores: the conditional writes must hold across them).
func Run(t *testing.T, handles ...mfa.Store) {
	t.Helper()
	s := handles[0]
	other := handles[len(handles)-1]
	ctx := t.Context()
	var pks []mfa.PasskeyStore
	for _, h := range handles {
		if ps, ok := h.(mfa.PasskeyStore); ok {
			pks = append(pks, ps)
		}
	}
	if len(pks) == len(handles) {
		runPasskeys(t, pks)
	}

	t.Run("enrol, confirm, use", func(t *testing.T) {
		if _, err := s.TOTP(ctx, "alice"); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("TOTP of nobody: %v, want ErrNotFound", err)
		}
		if err := s.BeginTOTP(ctx, mfa.TOTP{Subject: "alice", Secret: []byte("sealed-1"), Created: t0}); err != nil {
			t.Fatal(err)
		}
		// A pending enrolment is replaced by a new one.
		if err := s.BeginTOTP(ctx, mfa.TOTP{Subject: "alice", Secret: []byte("sealed-2"), Created: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		got, err := other.TOTP(ctx, "alice")
		if err != nil || !bytes.Equal(got.Secret, []byte("sealed-2")) || !got.Confirmed.IsZero() || !got.Created.Equal(t0.Add(time.Minute)) {
			t.Fatalf("TOTP = %+v, %v", got, err)
		}
		// Confirming the secret that was replaced fails.
		if err := s.ConfirmTOTP(ctx, "alice", []byte("sealed-1"), 100, nil, t0); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("confirm a replaced secret: %v, want ErrNotFound", err)
		}
		// A code is refused before confirmation.
		if err := s.UseTOTPStep(ctx, "alice", 101); err == nil {
			t.Fatal("a step was used before the confirmation")
		}
		codes := [][]byte{[]byte("h1"), []byte("h2"), []byte("h3")}
		if err := s.ConfirmTOTP(ctx, "alice", []byte("sealed-2"), 100, codes, t0.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := other.ConfirmTOTP(ctx, "alice", []byte("sealed-2"), 100, codes, t0); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("second confirmation: %v, want ErrNotFound", err)
		}
		if err := other.BeginTOTP(ctx, mfa.TOTP{Subject: "alice", Secret: []byte("sealed-3"), Created: t0}); !errors.Is(err, mfa.ErrEnrolled) {
			t.Fatalf("enrol over a confirmed secret: %v, want ErrEnrolled", err)
		}
		got, err = s.TOTP(ctx, "alice")
		if err != nil || !bytes.Equal(got.Secret, []byte("sealed-2")) || !got.Confirmed.Equal(t0.Add(2*time.Minute)) || got.LastStep != 100 {
			t.Fatalf("after confirmation: %+v, %v", got, err)
		}
		// Steps: the confirmation's is used; later ones once each.
		if err := s.UseTOTPStep(ctx, "alice", 100); !errors.Is(err, mfa.ErrReplayed) {
			t.Fatalf("the confirmation's step again: %v, want ErrReplayed", err)
		}
		if err := s.UseTOTPStep(ctx, "alice", 102); err != nil {
			t.Fatal(err)
		}
		for _, step := range []int64{102, 101} {
			if err := other.UseTOTPStep(ctx, "alice", step); !errors.Is(err, mfa.ErrReplayed) {
				t.Fatalf("step %d after 102: %v, want ErrReplayed", step, err)
			}
		}
		// Recovery codes: each once.
		if n, err := s.RecoveryCodesLeft(ctx, "alice"); err != nil || n != 3 {
			t.Fatalf("recovery codes left = %d, %v", n, err)
		}
		if err := s.UseRecoveryCode(ctx, "alice", []byte("h2")); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"h2", "nope"} {
			if err := other.UseRecoveryCode(ctx, "alice", []byte(h)); !errors.Is(err, mfa.ErrNotFound) {
				t.Fatalf("recovery code %s: %v, want ErrNotFound", h, err)
			}
		}
		if err := other.UseRecoveryCode(ctx, "bob", []byte("h1")); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("alice's recovery code for bob: %v, want ErrNotFound", err)
		}
		if n, _ := s.RecoveryCodesLeft(ctx, "alice"); n != 2 {
			t.Fatalf("recovery codes left = %d, want 2", n)
		}
		// Reset.
		if had, err := other.DeleteMFA(ctx, "alice"); err != nil || !had {
			t.Fatalf("delete: %v %v", had, err)
		}
		if had, err := s.DeleteMFA(ctx, "alice"); err != nil || had {
			t.Fatalf("delete again: %v %v", had, err)
		}
		if _, err := s.TOTP(ctx, "alice"); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("after reset: %v", err)
		}
		if n, _ := s.RecoveryCodesLeft(ctx, "alice"); n != 0 {
			t.Fatalf("recovery codes after reset: %d", n)
		}
		if err := s.BeginTOTP(ctx, mfa.TOTP{Subject: "alice", Secret: []byte("sealed-4"), Created: t0}); err != nil {
			t.Fatalf("enrol after reset: %v", err)
		}
	})

	t.Run("list and reseal", func(t *testing.T) {
		if err := s.BeginTOTP(ctx, mfa.TOTP{Subject: "dave", Secret: []byte("s1"), Created: t0}); err != nil {
			t.Fatal(err)
		}
		all, err := other.ListTOTP(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range all {
			found = found || (r.Subject == "dave" && bytes.Equal(r.Secret, []byte("s1")) && r.Created.Equal(t0))
		}
		if !found {
			t.Fatalf("ListTOTP lacks dave: %+v", all)
		}
		if err := s.ResealTOTP(ctx, "dave", []byte("changed"), []byte("s2")); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("reseal of a secret that changed: %v, want ErrNotFound", err)
		}
		if err := other.ResealTOTP(ctx, "dave", []byte("s1"), []byte("s2")); err != nil {
			t.Fatal(err)
		}
		if got, err := s.TOTP(ctx, "dave"); err != nil || !bytes.Equal(got.Secret, []byte("s2")) {
			t.Fatalf("after reseal: %+v %v", got, err)
		}
	})

	t.Run("concurrent uses of one step and one recovery code", func(t *testing.T) {
		if err := s.BeginTOTP(ctx, mfa.TOTP{Subject: "carol", Secret: []byte("c"), Created: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.ConfirmTOTP(ctx, "carol", []byte("c"), 1, [][]byte{[]byte("r")}, t0); err != nil {
			t.Fatal(err)
		}
		const n = 24
		var wg sync.WaitGroup
		var mu sync.Mutex
		steps, codes := 0, 0
		for i := range n {
			h := handles[i%len(handles)]
			wg.Go(func() {
				errStep := h.UseTOTPStep(ctx, "carol", 5)
				errCode := h.UseRecoveryCode(ctx, "carol", []byte("r"))
				mu.Lock()
				defer mu.Unlock()
				if errStep == nil {
					steps++
				} else if !errors.Is(errStep, mfa.ErrReplayed) {
					t.Errorf("use step: %v", errStep)
				}
				if errCode == nil {
					codes++
				} else if !errors.Is(errCode, mfa.ErrNotFound) {
					t.Errorf("use recovery code: %v", errCode)
				}
			})
		}
		wg.Wait()
		if steps != 1 || codes != 1 {
			t.Fatalf("%d concurrent uses: the step accepted %d times, the recovery code %d times; want 1 and 1", n, steps, codes)
		}
	})
}
