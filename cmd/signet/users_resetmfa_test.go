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

// cmdEnrolMFA is the script command `enrolmfa CONFIG SUBJECT`: it stores
// a confirmed second factor for SUBJECT in CONFIG's store (a sealed-looking
// secret and two recovery codes), as a sign-in's enrolment would.
func cmdEnrolMFA(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: enrolmfa CONFIG SUBJECT")
	}
	ms, closeStore := scriptMFAStore(ts, args[0])
	defer closeStore()
	ctx, sub := context.Background(), args[1]
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
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
