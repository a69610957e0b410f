package main

import (
	"context"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signet-id/signet/consent"
)

// cmdAddConsent stores a remembered consent in a configuration's store:
//
//	addconsent CONFIG SUBJECT CLIENT GRANTED SCOPE...
func cmdAddConsent(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 5 {
		ts.Fatalf("usage: addconsent CONFIG SUBJECT CLIENT GRANTED SCOPE...")
	}
	_, store, _, closeStore := scriptStore(ts, args[0])
	defer closeStore()
	st, ok := store.(consent.Store)
	if !ok {
		ts.Fatalf("addconsent: the store keeps no consents")
	}
	ts.Check(st.SaveConsent(context.Background(), consent.Record{Subject: args[1], ClientID: args[2], Granted: scriptTime(ts, args[3]), Scopes: args[4:]}))
}
