package fapi2

import (
	"slices"
	"testing"

	"github.com/signet-id/signet/key"
)

func TestRestrict(t *testing.T) {
	for _, tc := range []struct {
		in, want []key.Algorithm
	}{
		{nil, []key.Algorithm{key.PS256, key.ES256, key.EdDSA}},
		{[]key.Algorithm{key.RS256}, []key.Algorithm{}},
		{[]key.Algorithm{key.RS256, key.ES256}, []key.Algorithm{key.ES256}},
		{[]key.Algorithm{key.EdDSA, key.PS256}, []key.Algorithm{key.EdDSA, key.PS256}},
	} {
		if got := Restrict(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Restrict(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestAuthMethodAllowed(t *testing.T) {
	for m, want := range map[string]bool{"private_key_jwt": true, "client_secret_basic": false, "client_secret_post": false, "none": false, "": false} {
		if got := AuthMethodAllowed(m); got != want {
			t.Errorf("AuthMethodAllowed(%q) = %v, want %v", m, got, want)
		}
	}
}
