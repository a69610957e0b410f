package clientauth

import "testing"

func TestDummy(t *testing.T) {
	phc, err := HashArgon2id("pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := ParseSecret(phc)
	if err != nil {
		t.Fatal(err)
	}
	d, err := orig.Dummy(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind() != KindArgon2id || d.Cost() != orig.Cost() || d.Cost() != DefaultArgonMemory*DefaultArgonTime ||
		len(d.salt) != len(orig.salt) || len(d.hash) != len(orig.hash) || d.Verify("pw") || d.Verify("") {
		t.Fatalf("dummy of %s: kind %s cost %d", phc, d.Kind(), d.Cost())
	}
	fast, _ := ParseSecret(HashSHA256("pw"))
	if fast.Cost() != 0 {
		t.Fatal("a sha256 secret has a cost")
	}
	d, err = fast.Dummy(nil)
	if err != nil || d.Kind() != KindSHA256 || d.Verify("pw") {
		t.Fatalf("dummy of sha256: %v %v", d.Kind(), err)
	}
}
