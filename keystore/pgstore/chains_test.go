package pgstore

import (
	"testing"

	"github.com/signet-id/signet/throttle"
)

// TestAttemptChainsBuiltOnce: the statements that take and settle
// attempts are built once per shape and then cost a sign-in no
// allocation; each is the text takeChain or settleChain builds, and
// settles that reset different keys get different statements.
func TestAttemptChainsBuiltOnce(t *testing.T) {
	var c chainCache
	signIn := []throttle.Settle{{Key: "a"}, {Key: "b", Reset: true}, {Key: "c"}}
	failed := []throttle.Settle{{Key: "a"}, {Key: "b"}, {Key: "c"}}
	for _, n := range []int{1, 2, 3} {
		if got, want := c.take(n), takeChain(n); got != want {
			t.Fatalf("take(%d) = %q, want %q", n, got, want)
		}
	}
	if got, want := c.settle(signIn), settleChain([]bool{false, true, false}); got != want {
		t.Fatalf("settle of a sign-in = %q, want %q", got, want)
	}
	if got, want := c.settle(failed), settleChain([]bool{false, false, false}); got != want {
		t.Fatalf("settle of a give-back = %q, want %q", got, want)
	}
	if c.settle(signIn) == c.settle(failed) {
		t.Fatal("a reset and a give-back share a statement")
	}
	if n := testing.AllocsPerRun(100, func() {
		_ = c.take(3)
		_ = c.settle(signIn)
	}); n != 0 {
		t.Fatalf("a take and a settle allocated %v times building their statements, want 0", n)
	}
	long := make([]throttle.Settle, 70) // past the cache's 64 keys: built each time, still right
	long[66].Reset = true
	resets := make([]bool, 70)
	resets[66] = true
	if got, want := c.settle(long), settleChain(resets); got != want {
		t.Fatal("a settle of 70 keys is not settleChain's")
	}
}
