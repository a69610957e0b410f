package mfa

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors of a Store and a Manager.
var (
	// ErrNotFound: no second factor (or no such recovery code, or no
	// pending enrolment) for the subject.
	ErrNotFound = errors.New("mfa: not found")
	// ErrEnrolled: the subject already has a confirmed TOTP secret; an
	// enrolment must not replace it (reset it first: signet users
	// reset-mfa).
	ErrEnrolled = errors.New("mfa: a second factor is already enrolled")
	// ErrReplayed: the code's time step is not after the last one
	// accepted (a code used again, or an older one).
	ErrReplayed = errors.New("mfa: the code was already used")
	// ErrBadCode: the code is wrong.
	ErrBadCode = errors.New("mfa: wrong code")
)

// TOTP is a subject's stored TOTP secret.
type TOTP struct {
	Subject string
	// Secret is the sealed secret (Manager seals and opens it).
	Secret []byte
	// Created is when the enrolment began; Confirmed when its first code
	// was accepted (zero: the enrolment is pending and the secret is not
	// yet a factor).
	Created   time.Time
	Confirmed time.Time
	// LastStep is the time step (Unix time / 30 s) of the last code
	// accepted; codes of this step or an earlier one are refused.
	LastStep int64
}

// Store keeps the second factors. Implementations are safe for
// concurrent use, and their conditional writes are atomic across every
// process sharing the store.
type Store interface {
	// TOTP returns the subject's record, or ErrNotFound.
	TOTP(ctx context.Context, subject string) (TOTP, error)
	// BeginTOTP stores t, an enrolment not yet confirmed, replacing a
	// pending one of the subject; ErrEnrolled when the subject has a
	// confirmed one (left unchanged).
	BeginTOTP(ctx context.Context, t TOTP) error
	// ConfirmTOTP confirms the subject's pending enrolment at now, only
	// if its sealed secret is secret, with step as the last step used,
	// and replaces the subject's recovery codes by the hashes recovery,
	// in one transaction; ErrNotFound when there is no such pending
	// enrolment (confirmed meanwhile, or replaced).
	ConfirmTOTP(ctx context.Context, subject string, secret []byte, step int64, recovery [][]byte, now time.Time) error
	// UseTOTPStep records step as the subject's last step, only if it is
	// after the stored one and the secret is confirmed: ErrReplayed
	// otherwise (ErrNotFound without a confirmed secret).
	UseTOTPStep(ctx context.Context, subject string, step int64) error
	// UseRecoveryCode deletes the subject's recovery code whose hash is
	// hash; ErrNotFound if it has none such (never issued, or used).
	UseRecoveryCode(ctx context.Context, subject string, hash []byte) error
	// RecoveryCodesLeft counts the subject's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, subject string) (int, error)
	// DeleteMFA deletes the subject's TOTP secret and recovery codes and
	// reports whether there was any.
	DeleteMFA(ctx context.Context, subject string) (bool, error)
	// ListTOTP returns every subject's record (Reseal).
	ListTOTP(ctx context.Context) ([]TOTP, error)
	// ResealTOTP replaces the subject's sealed secret old by sealed, only
	// if it is still old; ErrNotFound otherwise.
	ResealTOTP(ctx context.Context, subject string, old, sealed []byte) error
}
