package backendtest_test

import (
	"context"
	"testing"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend/backendtest"
)

// A test of code that keeps keys in a backend runs against every backend
// the environment provides (.ci/backends.sh starts SoftHSM and a
// KMS-compatible server), and skips, naming the variables, where one is
// missing. This is the body of such a test.
func Example() {
	testEveryBackend := func(t *testing.T) {
		for _, typ := range backendtest.Types {
			t.Run(typ, func(t *testing.T) {
				b := backendtest.Open(t, typ) // skips without the backend; closed at cleanup
				ref, err := b.Generate(context.Background(), "kid-1", key.ES256, 0)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { b.Destroy(context.Background(), ref) })
				signer, err := b.Signer(context.Background(), ref, key.ES256)
				if err != nil {
					t.Fatal(err)
				}
				_ = signer.Public() // verify signatures with it; the private half never leaves b
			})
		}
	}
	_ = testEveryBackend // in a _test.go file: func TestKeys(t *testing.T) { ... }
}
