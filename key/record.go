package key

import (
	"fmt"
	"time"
)

// Protection names how Record.PrivateKey is stored.
const (
	// ProtectionNone: PrivateKey is a plain PKCS#8 DER private key.
	ProtectionNone = "none"
	// ProtectionAESGCM: PrivateKey is a PKCS#8 DER private key sealed by
	// package seal (AES-256-GCM, kid and algorithm bound as additional data).
	ProtectionAESGCM = "aes-256-gcm/v1"
	// ProtectionPKCS11 and ProtectionAWSKMS: the private key was generated
	// inside that backend (a PKCS#11 token, AWS KMS) and never left it.
	// PrivateKey then holds no private material but the backend reference
	// (package keybackend's JSON: backend, object id, public key).
	ProtectionPKCS11 = "pkcs11"
	ProtectionAWSKMS = "awskms"
)

// BackendSoftware is what [Record.Backend] returns for keys generated and
// held by Signet itself (ProtectionNone, ProtectionAESGCM).
const BackendSoftware = "software"

// Backend returns the key backend that made the key and holds its private
// half: BackendSoftware, ProtectionPKCS11 or ProtectionAWSKMS.
func (r *Record) Backend() string {
	if r.InBackend() {
		return r.Protection
	}
	return BackendSoftware
}

// InBackend reports whether the private key lives in an external backend
// (PrivateKey is a reference).
func (r *Record) InBackend() bool {
	return r.Protection == ProtectionPKCS11 || r.Protection == ProtectionAWSKMS
}

// Record is a managed key as it is stored. Its schedule is fixed when the
// key is created; only explicit operations (revoke, rotate --now, an
// overdue successor) change it.
type Record struct {
	KID       string
	Algorithm Algorithm

	Created     time.Time // announced in the JWKS from here
	SignsFrom   time.Time // may sign from here
	RetiresAt   time.Time // stops signing here
	DeleteAfter time.Time // leaves the JWKS here
	Revoked     time.Time // zero unless revoked: unpublished from here

	// X509 is true when Certificate holds a self-signed DER certificate
	// for the key, published as x5c.
	X509        bool
	Certificate []byte

	// Protection is ProtectionNone, ProtectionAESGCM, ProtectionPKCS11 or
	// ProtectionAWSKMS.
	Protection string
	// PrivateKey is the PKCS#8 DER private key, sealed unless Protection
	// is ProtectionNone; for a backend key (InBackend), the backend
	// reference instead. It never leaves the manager and the stores.
	PrivateKey []byte
}

// IsRevoked reports whether the key was revoked.
func (r *Record) IsRevoked() bool { return !r.Revoked.IsZero() }

// Validate checks the record's shape: the fields a store must refuse to
// hold if they are missing or contradictory. The error wraps
// [ErrInvalidRecord] and names the field.
func (r *Record) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: "+format, append([]any{ErrInvalidRecord, r.KID}, args...)...)
	}
	switch {
	case r.KID == "":
		return bad("kid is empty")
	case !r.Algorithm.Valid():
		return bad("algorithm %q is not supported", r.Algorithm)
	case r.Created.IsZero() || r.SignsFrom.IsZero() || r.RetiresAt.IsZero() || r.DeleteAfter.IsZero():
		return bad("schedule is incomplete (created, signsFrom, retiresAt and deleteAfter are required)")
	case r.SignsFrom.Before(r.Created):
		return bad("signsFrom %s is before created %s", r.SignsFrom.Format(time.RFC3339), r.Created.Format(time.RFC3339))
	case !r.RetiresAt.After(r.SignsFrom):
		return bad("retiresAt %s is not after signsFrom %s", r.RetiresAt.Format(time.RFC3339), r.SignsFrom.Format(time.RFC3339))
	case r.DeleteAfter.Before(r.RetiresAt):
		return bad("deleteAfter %s is before retiresAt %s", r.DeleteAfter.Format(time.RFC3339), r.RetiresAt.Format(time.RFC3339))
	case r.Protection != ProtectionNone && r.Protection != ProtectionAESGCM && !r.InBackend():
		return bad("protection %q is unknown (want %q, %q, %q or %q)", r.Protection, ProtectionNone, ProtectionAESGCM, ProtectionPKCS11, ProtectionAWSKMS)
	case len(r.PrivateKey) == 0:
		return bad("private key is empty")
	case r.X509 && len(r.Certificate) == 0:
		return bad("x509 is set but the certificate is empty")
	}
	return nil
}

// State is where a managed key stands at a moment.
type State string

// Key states.
const (
	StatePending State = "pending" // announced, not yet signing
	StateActive  State = "active"  // the key that signs for its algorithm
	StateReady   State = "ready"   // inside its signing window, but an older key signs
	StateRetired State = "retired" // no longer signs, still published
	StateExpired State = "expired" // past retention: unpublished (kept only when deleteRetiredKeys is false)
	StateRevoked State = "revoked" // revoked: unpublished
)
