// Package storetest checks an implementation of connector.Store: every
// store (memory, SQLite, PostgreSQL) runs Run in its own tests.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/signet-id/signet/connector"
)

// Run checks s, which must be empty.
func Run(t *testing.T, s connector.Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.ConnectorUser(ctx, "corp:nobody"); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("unknown subject: %v, want ErrNotFound", err)
	}
	when := time.Date(2026, 12, 6, 3, 0, 0, 123000, time.UTC)
	r := connector.Record{Subject: "corp:u1", Connector: "corp", Claims: map[string]any{"name": "Ada", "email_verified": true,
		"groups": []any{"ops", "dev"}}, RefreshToken: []byte{1, 2, 3}, Updated: when}
	if err := s.PutConnectorUser(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConnectorUser(ctx, "corp:u1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != r.Subject || got.Connector != "corp" || !reflect.DeepEqual(got.Claims, r.Claims) ||
		!bytes.Equal(got.RefreshToken, r.RefreshToken) || !got.Updated.Equal(when) {
		t.Errorf("read back %+v, want %+v", got, r)
	}
	// Replaced whole: no refresh token any more.
	r2 := connector.Record{Subject: "corp:u1", Connector: "corp", Claims: map[string]any{"name": "Ada L."}, Updated: when.Add(time.Minute)}
	if err := s.PutConnectorUser(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if got, err = s.ConnectorUser(ctx, "corp:u1"); err != nil || got.RefreshToken != nil || got.Claims["name"] != "Ada L." || !got.Updated.Equal(r2.Updated) {
		t.Errorf("after replace %+v, %v", got, err)
	}
	if err := s.DeleteConnectorUser(ctx, "corp:u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConnectorUser(ctx, "corp:u1"); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := s.DeleteConnectorUser(ctx, "corp:u1"); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
}
