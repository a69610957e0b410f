package fapi2

import (
	"slices"
	"time"

	"github.com/signet-id/signet/key"
)

// Algorithms are the signature algorithms the profile allows (FAPI 2.0
// Security Profile 5.4.1): PS256, ES256 and EdDSA (Ed25519).
func Algorithms() []key.Algorithm { return []key.Algorithm{key.PS256, key.ES256, key.EdDSA} }

// Restrict narrows allowed, a token's algorithm restriction (nil: none),
// to the profile's algorithms: Algorithms when allowed is nil, else the
// algorithms of allowed the profile accepts, in allowed's order. An empty
// result means no algorithm fits both.
func Restrict(allowed []key.Algorithm) []key.Algorithm {
	if allowed == nil {
		return Algorithms()
	}
	return slices.DeleteFunc(slices.Clone(allowed), func(a key.Algorithm) bool { return !slices.Contains(Algorithms(), a) })
}

// AuthMethods are the client authentication methods the profile allows
// (FAPI 2.0 Security Profile 5.3.2.1): private_key_jwt and mutual TLS.
// Signet offers private_key_jwt.
func AuthMethods() []string {
	return []string{"private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"}
}

// AuthMethodAllowed reports whether a client following the profile may
// authenticate with method (a token_endpoint_auth_method name).
func AuthMethodAllowed(method string) bool { return slices.Contains(AuthMethods(), method) }

// MinReuseInterval is the shortest reuse interval a FAPI 2.0 client's
// refresh tokens may have: Signet rotates refresh tokens for every
// client, and the profile's clients (and the certification suite) expect
// a refresh whose response was lost to be retried with the same token, so
// a rotated token must keep working for a while. See docs/client-authentication.md.
const MinReuseInterval = time.Second
