package oidc

import (
	"errors"
	"reflect"
	"testing"

	"github.com/signet-id/signet/connector"
)

func TestMapClaims(t *testing.T) {
	c, err := New(Config{ID: "corp", Issuer: "https://sso.example", ClientID: "x", Store: connector.NewMemoryStore(),
		Mapping: Mapping{Username: "email", Groups: "roles"}})
	if err != nil {
		t.Fatal(err)
	}
	got := c.mapClaims(map[string]any{"sub": "1", "email": "a@example.com", "name": "Ada", "email_verified": "true",
		"roles": []any{"ops", 7, "dev"}, "preferred_username": "ignored"})
	want := map[string]any{"preferred_username": "a@example.com", "name": "Ada", "email": "a@example.com", "email_verified": true,
		"groups": []string{"ops", "dev"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mapped %v\nwant %v", got, want)
	}
	if got := c.mapClaims(map[string]any{"roles": "solo", "email_verified": "maybe"}); !reflect.DeepEqual(got, map[string]any{"groups": []string{"solo"}}) {
		t.Errorf("a single group, an unreadable email_verified: %v", got)
	}
}

func TestUpstreamID(t *testing.T) {
	c, err := New(Config{ID: "entra", Issuer: "https://sso.example", ClientID: "x", Store: connector.NewMemoryStore(), Mapping: Mapping{Subject: "oid"}})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := c.upstreamID(map[string]any{"sub": "pairwise", "oid": "0000-1111"}); id != "0000-1111" || err != nil {
		t.Errorf("oid: %q %v", id, err)
	}
	for _, claims := range []map[string]any{{"sub": "x"}, {"oid": 12}, {"oid": "has space"}, {"oid": ""}, {"oid": string(make([]byte, 201))}} {
		if _, err := c.upstreamID(claims); !errors.Is(err, connector.ErrUpstream) {
			t.Errorf("%v: %v, want ErrUpstream", claims, err)
		}
	}
}

func TestNewRefusesIncomplete(t *testing.T) {
	for _, cfg := range []Config{{Issuer: "https://a", ClientID: "x", Store: connector.NewMemoryStore()},
		{ID: "a", ClientID: "x", Store: connector.NewMemoryStore()}, {ID: "a", Issuer: "https://a", ClientID: "x"}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
