package connector_test

import (
	"context"
	"testing"

	"github.com/signet-id/signet/connector"
	"github.com/signet-id/signet/user"
)

// fake answers for the subjects of its id, and says who asked.
type fake struct{ id string }

func (f fake) ID() string   { return f.id }
func (f fake) Name() string { return "Fake " + f.id }
func (f fake) Active(_ context.Context, subject string) (bool, error) {
	return subject == f.id+":u", nil
}
func (f fake) Claims(_ context.Context, req user.ClaimsRequest) (map[string]any, error) {
	return map[string]any{"from": f.id}, nil
}

// local is the local user source: it knows "alice".
type local struct{}

func (local) Authenticate(context.Context, string, string) (string, error) { return "alice", nil }
func (local) Active(_ context.Context, s string) (bool, error)             { return s == "alice", nil }
func (local) Claims(context.Context, user.ClaimsRequest) (map[string]any, error) {
	return map[string]any{"from": "local"}, nil
}

func TestSetRoutes(t *testing.T) {
	set, err := connector.NewSet(fake{"corp"}, fake{"ad"})
	if err != nil {
		t.Fatal(err)
	}
	src := set.Source(local{})
	ctx := context.Background()
	for subject, want := range map[string]bool{"corp:u": true, "ad:u": true, "alice": true, "corp:x": false,
		"gone:u": false, "corp": false} {
		if got, err := src.Active(ctx, subject); got != want || err != nil {
			t.Errorf("Active(%q) = %v, %v; want %v", subject, got, err, want)
		}
	}
	for subject, want := range map[string]string{"corp:u": "corp", "ad:u": "ad", "alice": "local"} {
		c, _ := src.Claims(ctx, user.ClaimsRequest{Subject: subject})
		if c["from"] != want {
			t.Errorf("Claims(%q) from %v, want %s", subject, c["from"], want)
		}
	}
	if s, _ := src.Authenticate(ctx, "alice", "pw"); s != "alice" {
		t.Errorf("the password form goes to the local source: %q", s)
	}
	if ids := []string{set.All()[0].ID(), set.All()[1].ID()}; ids[0] != "corp" || ids[1] != "ad" {
		t.Errorf("order %v", ids)
	}
	if _, err := connector.NewSet(fake{"a"}, fake{"a"}); err == nil {
		t.Error("two connectors with one id")
	}
	if _, err := connector.NewSet(fake{"a:b"}); err == nil {
		t.Error("an id with ':'")
	}
}

func TestRelease(t *testing.T) {
	all := map[string]any{"name": "Ada", "email": "a@example.com", "groups": []string{"ops"}}
	if got := connector.Release(all, []string{"openid"}); got != nil {
		t.Errorf("openid alone: %v", got)
	}
	got := connector.Release(all, []string{"openid", "profile"})
	if len(got) != 2 || got["name"] != "Ada" || got["groups"] == nil {
		t.Errorf("profile: %v", got)
	}
}
