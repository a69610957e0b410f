package main

import (
	"context"
	"regexp"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/clientauth"
)

// printedSecret finds the secret a clients command printed, as text or JSON.
var printedSecret = regexp.MustCompile(`(?m)(?:^client_secret: |"clientSecret": ")([A-Za-z0-9_-]+)`)

// cmdSecretOK: [!] secretok CONFIG CLIENT_ID FILE TIME.
func cmdSecretOK(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 {
		ts.Fatalf("usage: [!] secretok CONFIG CLIENT_ID FILE TIME")
	}
	m := printedSecret.FindStringSubmatch(ts.ReadFile(args[2]))
	if m == nil {
		ts.Fatalf("no client_secret in %s", args[2])
	}
	cfg, store, _, closeStore := scriptStore(ts, args[0])
	defer closeStore()
	recs, err := signet.ReadRegistry(context.Background(), signet.ClientRegistry(store))
	ts.Check(err)
	merged, _, _ := recs.Merge(cfg, scriptTime(ts, args[3]))
	ok := false
	for _, c := range merged.Clients {
		if c.ClientID == args[1] {
			ok = clientauth.VerifyAny(c.Secrets, m[1])
		}
	}
	if ok == neg {
		ts.Fatalf("secret of %s accepted at %s: %v, want %v", args[1], args[3], ok, !neg)
	}
}
