package key

import (
	"crypto"
	"crypto/elliptic"
	"fmt"
	"strings"
)

// Algorithm is a JWS signing algorithm name (RFC 7518, RFC 8037).
type Algorithm string

// The signing algorithms Signet manages.
const (
	RS256 Algorithm = "RS256"
	RS384 Algorithm = "RS384"
	RS512 Algorithm = "RS512"
	PS256 Algorithm = "PS256"
	PS384 Algorithm = "PS384"
	PS512 Algorithm = "PS512"
	ES256 Algorithm = "ES256"
	ES384 Algorithm = "ES384"
	ES512 Algorithm = "ES512"
	EdDSA Algorithm = "EdDSA"
)

// Family groups algorithms by the kind of key they use.
type Family int

// Key families.
const (
	FamilyUnknown Family = iota
	FamilyRSA            // RS*: RSASSA-PKCS1-v1_5
	FamilyRSAPSS         // PS*: RSASSA-PSS, salt length = hash length
	FamilyEC             // ES*: ECDSA
	FamilyEdDSA          // EdDSA: Ed25519
)

var allAlgorithms = []Algorithm{RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA}

// Algorithms returns every supported algorithm, in a stable order.
func Algorithms() []Algorithm {
	return append([]Algorithm(nil), allAlgorithms...)
}

// ParseAlgorithm returns the algorithm named s (exact JWS spelling).
// The error names the allowed values.
func ParseAlgorithm(s string) (Algorithm, error) {
	a := Algorithm(s)
	if a.Valid() {
		return a, nil
	}
	return "", fmt.Errorf("%w %q: allowed values are %s", ErrUnknownAlgorithm, s, algorithmList())
}

func algorithmList() string {
	names := make([]string, len(allAlgorithms))
	for i, a := range allAlgorithms {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

// Valid reports whether a is a supported algorithm.
func (a Algorithm) Valid() bool { return a.Family() != FamilyUnknown }

// Family returns the key family of a.
func (a Algorithm) Family() Family {
	switch a {
	case RS256, RS384, RS512:
		return FamilyRSA
	case PS256, PS384, PS512:
		return FamilyRSAPSS
	case ES256, ES384, ES512:
		return FamilyEC
	case EdDSA:
		return FamilyEdDSA
	}
	return FamilyUnknown
}

// Hash returns the digest the algorithm signs, or 0 for EdDSA (which signs
// the message itself).
func (a Algorithm) Hash() crypto.Hash {
	switch a {
	case RS256, PS256, ES256:
		return crypto.SHA256
	case RS384, PS384, ES384:
		return crypto.SHA384
	case RS512, PS512, ES512:
		return crypto.SHA512
	}
	return 0
}

// Curve returns the elliptic curve of an ES* algorithm, or nil.
func (a Algorithm) Curve() elliptic.Curve {
	switch a {
	case ES256:
		return elliptic.P256()
	case ES384:
		return elliptic.P384()
	case ES512:
		return elliptic.P521()
	}
	return nil
}

// IsRSA reports whether a uses an RSA key (RS* or PS*).
func (a Algorithm) IsRSA() bool {
	f := a.Family()
	return f == FamilyRSA || f == FamilyRSAPSS
}

func (a Algorithm) String() string { return string(a) }
