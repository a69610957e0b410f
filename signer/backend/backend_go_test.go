//go:build !(openssl && cgo)

package backend_test

import (
	"testing"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/signer/backend"
)

func TestPureGo(t *testing.T) {
	if open(t).Factory() != nil {
		t.Error("Factory() != nil in the pure-Go build")
	}
	for _, alg := range key.Algorithms() {
		if got := backend.Name(alg); got != backend.Go {
			t.Errorf("Name(%s) = %q, want go", alg, got)
		}
	}
	if got, want := backend.Description(), "signing backend: go"; got != want {
		t.Errorf("Description() = %q, want %q", got, want)
	}
}
