package clientauth

import (
	"context"
	"errors"
	"testing"
)

// recordingBudget counts acquisitions and can refuse them.
type recordingBudget struct {
	kib    []uint64
	refuse error
}

func (b *recordingBudget) Acquire(_ context.Context, kib uint64) (func(), error) {
	if b.refuse != nil {
		return nil, b.refuse
	}
	b.kib = append(b.kib, kib)
	return func() {}, nil
}

func TestCheckHashesUnderTheBudget(t *testing.T) {
	fast, _ := ParseSecret(HashSHA256("one"))
	slow, _ := ParseSecret(cheapArgon(t, "two"))
	secrets := []*Secret{fast, slow}
	b := &recordingBudget{}
	ctx := context.Background()
	if ok, err := Check(ctx, b, secrets, "one"); !ok || err != nil || len(b.kib) != 0 {
		t.Fatalf("fast secret: %v %v, %d hashes", ok, err, len(b.kib))
	}
	if ok, err := Check(ctx, b, secrets, "nope"); ok || err != nil || len(b.kib) != 1 || b.kib[0] != 64 {
		t.Fatalf("wrong secret: %v %v, budget %v", ok, err, b.kib)
	}
	if Quick(secrets, "two") {
		t.Fatal("Quick accepted an argon2id secret never verified")
	}
	if ok, err := Check(ctx, b, secrets, "two"); !ok || err != nil || len(b.kib) != 2 {
		t.Fatalf("argon2id secret: %v %v", ok, err)
	}
	if !Quick(secrets, "two") {
		t.Fatal("Quick does not remember an accepted argon2id secret")
	}
	busy := errors.New("busy")
	if ok, err := Check(ctx, &recordingBudget{refuse: busy}, secrets, "three"); ok || !errors.Is(err, busy) {
		t.Fatalf("refused budget: %v %v", ok, err)
	}
}

func TestDummiesCostTheCostliestSet(t *testing.T) {
	phc, _ := HashArgon2id("pw", nil)
	dear, _ := ParseSecret(phc)
	cheap, _ := ParseSecret(cheapArgon(t, "x"))
	fast, _ := ParseSecret(HashSHA256("y"))
	d, err := Dummies(nil, []*Secret{fast}, []*Secret{cheap, cheap}, []*Secret{dear, fast})
	if err != nil {
		t.Fatal(err)
	}
	if TotalCost(d) != dear.Cost() || len(d) != 2 || VerifyAny(d, "pw") {
		t.Fatalf("dummies cost %d, want %d", TotalCost(d), dear.Cost())
	}
	d, err = Dummies(nil, []*Secret{fast})
	if err != nil || len(d) != 1 || d[0].Kind() != KindSHA256 || TotalCost(d) != 0 {
		t.Fatalf("fast dummies: %v", err)
	}
	if d, _ = Dummies(nil); len(d) != 1 {
		t.Fatal("no sets: no dummy")
	}
}
