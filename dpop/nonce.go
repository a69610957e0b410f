package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
)

// Nonce defaults and limits.
const (
	// DefaultNoncePeriod is how often the current nonce changes unless
	// NewNonces is told otherwise. A nonce is accepted for at least one
	// period and at most two.
	DefaultNoncePeriod = 5 * time.Minute
	// MinNonceSecret is the shortest secret NewNonces accepts, in bytes.
	MinNonceSecret = 32

	nonceLabel = "signet dpop nonce v1\x00"
	nonceBytes = 8 + sha256.Size
)

var nonceLen = base64.RawURLEncoding.EncodedLen(nonceBytes)

// Nonces issues and checks server nonces (RFC 9449 section 8) without
// storing them: a nonce is base64url(period || HMAC-SHA256(secret, label
// || period)), where period is the index of the current time window.
// Every instance given the same secret issues the same nonce in the same
// period and accepts the others', so a nonce from one server of a
// cluster is accepted by every other. The nonce of the current period
// and of the one before are accepted (and the one after, which only an
// instance whose clock runs ahead can have issued). Nonces rotate with
// the clock; changing the secret invalidates every nonce at once, which
// costs clients one retry each.
//
// Nonces is safe for concurrent use.
type Nonces struct {
	secret []byte
	period time.Duration
	now    func() time.Time
}

// NewNonces returns nonces keyed by secret (at least MinNonceSecret bytes
// of high-entropy material, shared by every instance of a cluster),
// changing every period (0: DefaultNoncePeriod; at least a minute),
// on the clock now (nil: time.Now).
func NewNonces(secret []byte, period time.Duration, now func() time.Time) (*Nonces, error) {
	if len(secret) < MinNonceSecret {
		return nil, fmt.Errorf("dpop: the nonce secret must have at least %d bytes (got %d)", MinNonceSecret, len(secret))
	}
	if period == 0 {
		period = DefaultNoncePeriod
	}
	if period < time.Minute {
		return nil, fmt.Errorf("dpop: the nonce period must be at least 1m (got %s)", period)
	}
	if now == nil {
		now = time.Now
	}
	return &Nonces{secret: append([]byte(nil), secret...), period: period, now: now}, nil
}

// Current returns the nonce of the current period, for a DPoP-Nonce
// header.
func (n *Nonces) Current() string {
	return base64.RawURLEncoding.EncodeToString(n.make(n.index()))
}

// Check reports whether nonce was issued by an instance with the same
// secret in the current period, the one before or the one after. Every
// refusal wraps ErrNonce (class ErrUseNonce: answer use_dpop_nonce with
// a fresh nonce).
func (n *Nonces) Check(nonce string) error {
	if len(nonce) != nonceLen {
		return fmt.Errorf("%w: not a nonce of this server", ErrNonce)
	}
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) != nonceBytes {
		return fmt.Errorf("%w: not a nonce of this server", ErrNonce)
	}
	idx := binary.BigEndian.Uint64(raw[:8])
	cur := n.index()
	if idx+1 < cur || idx > cur+1 {
		return fmt.Errorf("%w: the nonce expired", ErrNonce)
	}
	if !hmac.Equal(raw, n.make(idx)) {
		return fmt.Errorf("%w: not a nonce of this server", ErrNonce)
	}
	return nil
}

// index is the current period's index.
func (n *Nonces) index() uint64 {
	t := n.now().UnixNano()
	if t < 0 {
		return 0
	}
	return uint64(t / int64(n.period))
}

// make returns the raw nonce of period idx.
func (n *Nonces) make(idx uint64) []byte {
	out := make([]byte, 8, nonceBytes)
	binary.BigEndian.PutUint64(out, idx)
	m := hmac.New(sha256.New, n.secret)
	m.Write([]byte(nonceLabel))
	m.Write(out)
	return m.Sum(out)
}
