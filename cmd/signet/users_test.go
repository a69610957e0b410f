package main

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/throttle"
)

// cmdSignIn checks a password as signet serve's user source does (the
// configuration's users, then the store's) and writes to the file signin
// "signed in as SUB" and, for a store user, "hash: KIND PARAMS" after the
// sign-in (an upgraded hash shows the configured parameters). With ! it
// expects a refusal.
func cmdSignIn(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: signin CONFIG USERNAME PASSWORD")
	}
	cfg, store, _, closeStore := scriptStore(ts, args[0])
	defer closeStore()
	ctx := context.Background()
	_, src, err := signet.UserSources(cfg, store, throttle.NewHashing(0, 0), slog.New(slog.DiscardHandler))
	ts.Check(err)
	sub, err := src.Authenticate(ctx, args[1], args[2])
	if neg {
		if err == nil {
			ts.Fatalf("signed in as %s, want a refusal", sub)
		}
		return
	}
	if err != nil {
		ts.Fatalf("sign in as %s: %v", args[1], err)
	}
	out := "signed in as " + sub + "\n"
	if us := signet.UserStore(store); us != nil {
		if r, err := us.UserByName(ctx, args[1]); err == nil {
			parts := strings.Split(r.PasswordHash, "$")
			out += "hash: " + parts[1] + " " + parts[min(3, len(parts)-1)] + "\n"
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs("signin"), []byte(out), 0o600))
}
