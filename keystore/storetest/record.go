package storetest

import (
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
	"time"

	"github.com/signet-id/signet/key"
)

// The schedule NewRecord gives a key, relative to its creation: Signet's
// default propagation time, rotation interval and retention.
const (
	propagation = 14 * 24 * time.Hour
	rotation    = 90 * 24 * time.Hour
	retention   = 14 * 24 * time.Hour
)

// NewRecord returns a valid ES256 record created now: see [NewRecordAt].
func NewRecord() key.Record {
	return NewRecordAt(key.ES256, time.Now())
}

// NewRecordAt returns a valid record of algorithm alg created at created:
// a random kid ("test-" and 24 hex digits, a safe file name), a schedule of
// Signet's defaults (signs from created+14d, retires at created+90d, leaves
// the JWKS at created+104d), Protection key.ProtectionAESGCM, X509 set, and
// random bytes standing for the sealed private key and the certificate.
// The bytes are not real keys: stores never parse them.
//
// created is moved to UTC, truncated to the microsecond (the precision
// every store keeps) and given a non-zero sub-millisecond part if it has
// none, so a store that keeps only milliseconds fails round-trip tests.
// Callers change fields freely; the record stays valid as long as
// Validate passes.
func NewRecordAt(alg key.Algorithm, created time.Time) key.Record {
	created = created.UTC().Truncate(time.Microsecond)
	if created.Nanosecond()%int(time.Millisecond) == 0 {
		created = created.Add(time.Duration(1+mrand.IntN(999)) * time.Microsecond)
	}
	return key.Record{
		KID:         "test-" + randomHex(12),
		Algorithm:   alg,
		Created:     created,
		SignsFrom:   created.Add(propagation),
		RetiresAt:   created.Add(rotation),
		DeleteAfter: created.Add(rotation + retention),
		X509:        true,
		Certificate: randomBytes(96),
		Protection:  key.ProtectionAESGCM,
		PrivateKey:  randomBytes(160),
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }
