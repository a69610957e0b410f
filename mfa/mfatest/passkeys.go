package mfatest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/signet-id/signet/mfa"
)

// runPasskeys checks a store's passkeys (mfa.PasskeyStore); handles are
// views of one store.
func runPasskeys(t *testing.T, handles []mfa.PasskeyStore) {
	s, other := handles[0], handles[len(handles)-1]
	ctx := t.Context()
	pk := mfa.Passkey{Subject: "pk-alice", ID: []byte("cred-1"), PublicKey: []byte("cose"), SignCount: 5, Attestation: "none", AAGUID: []byte("0123456789abcdef"), Flags: 0x45, Created: t0}

	t.Run("passkeys add, list, unique id", func(t *testing.T) {
		if got, err := s.Passkeys(ctx, "pk-alice"); err != nil || len(got) != 0 {
			t.Fatalf("passkeys of nobody = %v, %v", got, err)
		}
		if err := s.AddPasskey(ctx, pk); err != nil {
			t.Fatal(err)
		}
		dup := pk
		dup.Subject = "pk-bob"
		if err := other.AddPasskey(ctx, dup); !errors.Is(err, mfa.ErrEnrolled) {
			t.Fatalf("same credential id for another user: %v, want ErrEnrolled", err)
		}
		got, err := other.Passkeys(ctx, "pk-alice")
		if err != nil || len(got) != 1 || !bytes.Equal(got[0].ID, pk.ID) || !bytes.Equal(got[0].PublicKey, pk.PublicKey) ||
			got[0].SignCount != 5 || got[0].Attestation != "none" || !bytes.Equal(got[0].AAGUID, pk.AAGUID) || got[0].Flags != 0x45 || !got[0].Created.Equal(t0) {
			t.Fatalf("passkeys = %+v, %v", got, err)
		}
		if got, _ := other.Passkeys(ctx, "pk-bob"); len(got) != 0 {
			t.Fatalf("bob has %v", got)
		}
	})

	t.Run("passkeys counter monotonic across handles", func(t *testing.T) {
		if err := s.UsePasskey(ctx, "pk-alice", pk.ID, 5); !errors.Is(err, mfa.ErrReplayed) {
			t.Fatalf("same counter: %v, want ErrReplayed", err)
		}
		if err := s.UsePasskey(ctx, "pk-bob", pk.ID, 9); !errors.Is(err, mfa.ErrReplayed) {
			t.Fatalf("another user's credential: %v, want ErrReplayed", err)
		}
		var ok atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if handles[i%len(handles)].UsePasskey(ctx, "pk-alice", pk.ID, 6) == nil {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("counter 6 accepted %d times, want once", ok.Load())
		}
		if err := other.UsePasskey(ctx, "pk-alice", pk.ID, 4); !errors.Is(err, mfa.ErrReplayed) {
			t.Fatalf("counter going back: %v, want ErrReplayed", err)
		}
		got, _ := s.Passkeys(ctx, "pk-alice")
		if len(got) != 1 || got[0].SignCount != 6 {
			t.Fatalf("after uses: %+v", got)
		}
		// Authenticators that always send 0.
		zero := mfa.Passkey{Subject: "pk-zero", ID: []byte("cred-zero"), PublicKey: []byte("k"), Attestation: "none", Created: t0}
		if err := s.AddPasskey(ctx, zero); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := other.UsePasskey(ctx, "pk-zero", zero.ID, 0); err != nil {
				t.Fatalf("counter 0 on a 0 authenticator: %v", err)
			}
		}
	})

	t.Run("passkeys bounded per subject, deleted", func(t *testing.T) {
		var wg sync.WaitGroup
		var added atomic.Int32
		for i := range mfa.MaxPasskeys + 4 {
			wg.Go(func() {
				p := mfa.Passkey{Subject: "pk-carol", ID: fmt.Appendf(nil, "carol-%d", i), PublicKey: []byte("k"), Attestation: "none", Created: t0}
				err := handles[i%len(handles)].AddPasskey(ctx, p)
				switch {
				case err == nil:
					added.Add(1)
				case !errors.Is(err, mfa.ErrTooManyPasskeys):
					t.Errorf("add: %v", err)
				}
			})
		}
		wg.Wait()
		if added.Load() != mfa.MaxPasskeys {
			t.Fatalf("added %d passkeys, want %d", added.Load(), mfa.MaxPasskeys)
		}
		if ok, err := other.DeletePasskeys(ctx, "pk-carol"); !ok || err != nil {
			t.Fatalf("delete = %v, %v", ok, err)
		}
		if got, _ := s.Passkeys(ctx, "pk-carol"); len(got) != 0 {
			t.Fatalf("after delete: %v", got)
		}
		if ok, err := s.DeletePasskeys(ctx, "pk-carol"); ok || err != nil {
			t.Fatalf("delete again = %v, %v", ok, err)
		}
	})
}
