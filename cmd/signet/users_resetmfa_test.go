package main

import (
	"context"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/mfa"
)

// scriptMFAStore opens CONFIG's store for the second-factor script
// commands.
func scriptMFAStore(ts *testscript.TestScript, path string) (mfa.Store, func() error) {
	_, store, _, closeStore := scriptStore(ts, path)
	ms := signet.MFAStore(store)
	if ms == nil {
		ts.Fatalf("the store keeps no second factors")
	}
	return ms, closeStore
}

// cmdEnrolMFA is the script command `enrolmfa CONFIG SUBJECT [sealed]`:
// it stores a confirmed second factor for SUBJECT in CONFIG's store with
// two recovery codes, as a sign-in's enrolment would: with sealed, a real
// TOTP secret sealed with CONFIG's protection secrets (mfa.Manager);
// otherwise placeholder bytes.
func cmdEnrolMFA(ts *testscript.TestScript, neg bool, args []string) {
	if (len(args) != 2 && (len(args) != 3 || args[2] != "sealed")) || neg {
		ts.Fatalf("usage: enrolmfa CONFIG SUBJECT [sealed]")
	}
	_, store, sealer, closeStore := scriptStore(ts, args[0])
	defer closeStore()
	ms := signet.MFAStore(store)
	if ms == nil {
		ts.Fatalf("the store keeps no second factors")
	}
	ctx, sub := context.Background(), args[1]
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	if len(args) == 3 {
		m, err := mfa.New(mfa.Config{Store: ms, Sealer: sealer, Now: func() time.Time { return now }})
		ts.Check(err)
		en, err := m.Begin(ctx, sub, sub)
		ts.Check(err)
		code, err := mfa.Code(en.Key, now)
		ts.Check(err)
		_, err = m.Confirm(ctx, sub, code)
		ts.Check(err)
		return
	}
	ts.Check(ms.BeginTOTP(ctx, mfa.TOTP{Subject: sub, Secret: []byte("sealed-secret-of-" + sub), Created: now}))
	ts.Check(ms.ConfirmTOTP(ctx, sub, []byte("sealed-secret-of-"+sub), 1, [][]byte{[]byte("h1"), []byte("h2")}, now))
}

// cmdHasMFA is the script command `[!] hasmfa CONFIG SUBJECT`: SUBJECT
// has a second factor (a TOTP secret and recovery codes) in CONFIG's
// store, or (negated) nothing at all.
func cmdHasMFA(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: hasmfa CONFIG SUBJECT")
	}
	ms, closeStore := scriptMFAStore(ts, args[0])
	defer closeStore()
	ctx, sub := context.Background(), args[1]
	_, err := ms.TOTP(ctx, sub)
	n, err2 := ms.RecoveryCodesLeft(ctx, sub)
	ts.Check(err2)
	switch {
	case neg && (err == nil || n > 0):
		ts.Fatalf("%s has a second factor (%d recovery codes)", sub, n)
	case !neg && (err != nil || n == 0):
		ts.Fatalf("%s has no second factor: %v, %d recovery codes", sub, err, n)
	}
}
