package mfa

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	goqr "github.com/piglig/go-qr"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/seal"
)

// Parameters of the codes: the authenticator apps' defaults.
const (
	// Period is the TOTP time step.
	Period = 30 * time.Second
	// Digits is the length of a code.
	Digits = 6
	// Skew is how many steps before or after the current one a code may
	// be from (clock drift between the phone and the server).
	Skew = 1
	// RecoveryCodes is how many recovery codes a confirmation makes.
	RecoveryCodes = 10
	// PendingLifetime is how long an unconfirmed enrolment's secret is
	// shown again (a reload of the page) before a new one is drawn.
	PendingLifetime = 15 * time.Minute
	// secretSize is the size of a TOTP secret, in bytes (RFC 4226's
	// recommendation: 160 bits).
	secretSize = 20
)

// Config configures a Manager.
type Config struct {
	Store Store
	// Sealer seals the TOTP secrets at rest (required).
	Sealer *seal.Sealer
	// Issuer names the service in the authenticator app ("Signet" when
	// empty).
	Issuer string
	// Now and Rand are the clock and the randomness (time.Now and
	// crypto/rand when nil).
	Now  func() time.Time
	Rand io.Reader
}

// Manager enrols and checks second factors.
type Manager struct {
	store  Store
	sealer *seal.Sealer
	issuer string
	now    func() time.Time
	rand   io.Reader
}

// New returns a Manager.
func New(cfg Config) (*Manager, error) {
	if cfg.Store == nil {
		return nil, errors.New("mfa: no store")
	}
	if cfg.Sealer == nil {
		return nil, errors.New("mfa: no sealer: TOTP secrets are sealed at rest with the key-protection secrets; enable keyManagement.protection")
	}
	m := &Manager{store: cfg.Store, sealer: cfg.Sealer, issuer: cfg.Issuer, now: cfg.Now, rand: cfg.Rand}
	if m.issuer == "" {
		m.issuer = "Signet"
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.rand == nil {
		m.rand = rand.Reader
	}
	return m, nil
}

// Status is whether a subject has a second factor.
type Status struct {
	// Enrolled: a confirmed TOTP secret; every sign-in asks for a code.
	Enrolled bool
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int
}

// Status returns the subject's status.
func (m *Manager) Status(ctx context.Context, subject string) (Status, error) {
	t, err := m.store.TOTP(ctx, subject)
	if errors.Is(err, ErrNotFound) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, err
	}
	if t.Confirmed.IsZero() {
		return Status{}, nil
	}
	n, err := m.store.RecoveryCodesLeft(ctx, subject)
	if err != nil {
		return Status{}, err
	}
	return Status{Enrolled: true, RecoveryCodesLeft: n}, nil
}

// Enrolled reports whether the subject has a confirmed second factor
// (one read of the store).
func (m *Manager) Enrolled(ctx context.Context, subject string) (bool, error) {
	t, err := m.store.TOTP(ctx, subject)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !t.Confirmed.IsZero(), nil
}

// Enrollment is a pending enrolment, to show the user.
type Enrollment struct {
	// Key is the secret in base32, to type into an app by hand.
	Key string
	// URL is the otpauth:// URL the QR code holds.
	URL string
	// QRCode is the QR code of URL, an SVG element (no external asset,
	// no style attribute) to put inline in a page.
	QRCode string
}

// Begin starts (or shows again) the enrolment of subject, whom the
// authenticator app shows as account: a new secret, sealed and stored
// unconfirmed, unless a pending one younger than PendingLifetime exists.
// ErrEnrolled when the subject already has a confirmed one.
func (m *Manager) Begin(ctx context.Context, subject, account string) (*Enrollment, error) {
	now := m.now()
	var raw []byte
	t, err := m.store.TOTP(ctx, subject)
	switch {
	case err == nil && !t.Confirmed.IsZero():
		return nil, ErrEnrolled
	case err == nil && now.Sub(t.Created) < PendingLifetime:
		if raw, err = m.open(t); err != nil {
			return nil, err
		}
	case err != nil && !errors.Is(err, ErrNotFound):
		return nil, err
	}
	if raw == nil {
		raw = make([]byte, secretSize)
		if _, err := io.ReadFull(m.rand, raw); err != nil {
			return nil, fmt.Errorf("mfa: randomness: %w", err)
		}
		sealed, err := m.sealer.Seal(sealID(subject), sealAlg, raw)
		if err != nil {
			return nil, err
		}
		if err := m.store.BeginTOTP(ctx, TOTP{Subject: subject, Secret: sealed, Created: now}); err != nil {
			return nil, err
		}
	}
	if account == "" {
		account = subject
	}
	k, err := totp.Generate(totp.GenerateOpts{Issuer: m.issuer, AccountName: account, Secret: raw,
		Period: uint(Period / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("mfa: %w", err)
	}
	svg, err := QRCodeSVG(k.URL())
	if err != nil {
		return nil, err
	}
	return &Enrollment{Key: k.Secret(), URL: k.URL(), QRCode: svg}, nil
}

// QRCodeSVG renders text as a QR code, an <svg> element with a title for
// screen readers, no XML prolog and no style attribute.
func QRCodeSVG(text string) (string, error) {
	q, err := goqr.EncodeText(text, goqr.Medium)
	if err != nil {
		return "", fmt.Errorf("mfa: QR code: %w", err)
	}
	b, err := q.ToSVGBytes(goqr.NewQrCodeImgConfig(4, 4, goqr.WithOptimalSVG()))
	if err != nil {
		return "", fmt.Errorf("mfa: QR code: %w", err)
	}
	s := string(b)
	i := strings.Index(s, "<svg")
	if i < 0 {
		return "", errors.New("mfa: QR code: the renderer made no <svg> element")
	}
	s = s[i:]
	j := strings.IndexByte(s, '>')
	return s[:j] + ` width="192" height="192" role="img" aria-labelledby="qr-title"><title id="qr-title">QR code of the key for your authenticator app</title>` + s[j+1:], nil
}

// Confirm confirms the subject's pending enrolment with a code from the
// app: it returns the recovery codes (RecoveryCodes of them, to show
// once; only their hashes are stored). ErrBadCode for a wrong code,
// ErrNotFound without a pending enrolment, ErrEnrolled when already
// confirmed.
func (m *Manager) Confirm(ctx context.Context, subject, code string) ([]string, error) {
	t, err := m.store.TOTP(ctx, subject)
	if err != nil {
		return nil, err
	}
	if !t.Confirmed.IsZero() {
		return nil, ErrEnrolled
	}
	raw, err := m.open(t)
	if err != nil {
		return nil, err
	}
	step, ok := matchStep(raw, code, m.now())
	if !ok {
		return nil, ErrBadCode
	}
	codes := make([]string, RecoveryCodes)
	hashes := make([][]byte, RecoveryCodes)
	for i := range codes {
		if codes[i], err = m.recoveryCode(); err != nil {
			return nil, err
		}
		hashes[i] = hashRecoveryCode(subject, codes[i])
	}
	if err := m.store.ConfirmTOTP(ctx, subject, t.Secret, step, hashes, m.now()); err != nil {
		return nil, err
	}
	return codes, nil
}

// Verify checks a code of the subject's confirmed secret and uses it up:
// nil, ErrBadCode, ErrReplayed (a code of a step already used; say
// "wrong code" to the user), or ErrNotFound (no confirmed secret).
func (m *Manager) Verify(ctx context.Context, subject, code string) error {
	t, err := m.store.TOTP(ctx, subject)
	if err != nil {
		return err
	}
	if t.Confirmed.IsZero() {
		return ErrNotFound
	}
	raw, err := m.open(t)
	if err != nil {
		return err
	}
	step, ok := matchStep(raw, code, m.now())
	if !ok {
		return ErrBadCode
	}
	if step <= t.LastStep {
		return ErrReplayed
	}
	return m.store.UseTOTPStep(ctx, subject, step)
}

// UseRecoveryCode checks a recovery code and uses it up: nil or
// ErrBadCode.
func (m *Manager) UseRecoveryCode(ctx context.Context, subject, code string) error {
	norm := normalizeRecoveryCode(code)
	if len(norm) != recoveryLen {
		return ErrBadCode
	}
	err := m.store.UseRecoveryCode(ctx, subject, hashRecoveryCode(subject, norm))
	if errors.Is(err, ErrNotFound) {
		return ErrBadCode
	}
	return err
}

// Reset deletes the subject's second factor (lost phone): the next
// sign-in that requires one enrols again. It reports whether there was
// one.
func (m *Manager) Reset(ctx context.Context, subject string) (bool, error) {
	return m.store.DeleteMFA(ctx, subject)
}

// Code returns the code of the base32 key at t: for tests and tools that
// play the authenticator app.
func Code(key string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(key, t, validateOpts)
}

var validateOpts = totp.ValidateOpts{Period: uint(Period / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// b32 is the encoding of keys in otpauth URLs.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// matchStep finds the step within Skew of now whose code is code,
// comparing every candidate in constant time.
func matchStep(raw []byte, code string, now time.Time) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != Digits {
		return 0, false
	}
	secret := b32.EncodeToString(raw)
	var found int64
	ok := 0
	for d := -Skew; d <= Skew; d++ {
		t := now.Add(time.Duration(d) * Period)
		c, err := totp.GenerateCodeCustom(secret, t, validateOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(c), []byte(code)) == 1 {
			found, ok = t.Unix()/int64(Period/time.Second), 1
		}
	}
	return found, ok == 1
}

// Sealing: the secret is bound to its subject (the sealer's additional
// data), so a sealed secret copied to another subject's row does not
// open.
const sealAlg = key.Algorithm("TOTP")

func sealID(subject string) string { return "mfa/totp/" + subject }

func (m *Manager) open(t TOTP) ([]byte, error) {
	raw, err := m.sealer.Open(sealID(t.Subject), sealAlg, t.Secret)
	if err != nil {
		return nil, fmt.Errorf("mfa: the TOTP secret of %q does not open: %w", t.Subject, err)
	}
	return raw, nil
}

// Recovery codes: 16 characters of a 32-letter alphabet without o, 1, l, i
// (80 bits), shown as four groups of four.
const (
	recoveryAlphabet = "023456789abcdefghjkmnpqrstuvwxyz"
	recoveryLen      = 16
)

func (m *Manager) recoveryCode() (string, error) {
	b := make([]byte, recoveryLen)
	if _, err := io.ReadFull(m.rand, b); err != nil {
		return "", fmt.Errorf("mfa: randomness: %w", err)
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(recoveryAlphabet[c&31])
	}
	return sb.String(), nil
}

// normalizeRecoveryCode lowercases a typed code, drops dashes and spaces
// and reads o as 0.
func normalizeRecoveryCode(code string) string {
	var b bytes.Buffer
	for _, r := range strings.ToLower(code) {
		switch r {
		case '-', ' ':
		case 'o': // read as a zero
			b.WriteByte('0')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hashRecoveryCode is the stored form of a recovery code: SHA-256 of the
// subject and the normalized code (80 random bits: a slow hash adds
// nothing).
func hashRecoveryCode(subject, code string) []byte {
	h := sha256.New()
	h.Write([]byte("signet mfa recovery code\x00"))
	h.Write([]byte(subject))
	h.Write([]byte{0})
	h.Write([]byte(normalizeRecoveryCode(code)))
	return h.Sum(nil)
}

// SealState seals a short state of a sign-in between two pages (who
// passed the first factor), so that only this server (every instance
// sharing the protection secrets) can have made it; OpenState opens it.
// Expiry and what it is bound to are the caller's.
func (m *Manager) SealState(state []byte) ([]byte, error) {
	return m.sealer.Seal(stateID, stateAlg, state)
}

// OpenState opens a state SealState sealed.
func (m *Manager) OpenState(sealed []byte) ([]byte, error) {
	return m.sealer.Open(stateID, stateAlg, sealed)
}

const (
	stateID  = "mfa/sign-in state"
	stateAlg = key.Algorithm("STATE")
)
