package clientreg_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/clientreg/regtest"
)

// TestRotate: the fresh secret first; the old ones valid until the grace
// period ends (never later than they already expired), expired ones
// dropped; grace 0 keeps only the fresh one.
func TestRotate(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	soon, gone := now.Add(time.Hour), now.Add(-time.Minute)
	old := []clientreg.Secret{
		{Hash: "sha256:a"},                   // no expiry: gets the grace period's end
		{Hash: "sha256:b", ExpiresAt: &soon}, // expires before the grace period ends: kept as is
		{Hash: "sha256:c", ExpiresAt: &gone}, // already expired: dropped
	}
	fresh := clientreg.Secret{Hash: "sha256:new", CreatedAt: now}
	got := clientreg.Rotate(old, fresh, now, 24*time.Hour)
	if len(got) != 3 || got[0].Hash != "sha256:new" || got[0].ExpiresAt != nil ||
		got[1].Hash != "sha256:a" || !got[1].ExpiresAt.Equal(now.Add(24*time.Hour)) ||
		got[2].Hash != "sha256:b" || !got[2].ExpiresAt.Equal(soon) {
		t.Errorf("Rotate = %+v", got)
	}
	if old[0].ExpiresAt != nil {
		t.Error("Rotate changed the old slice")
	}
	if got := clientreg.Rotate(old, fresh, now, 0); len(got) != 1 || got[0].Hash != "sha256:new" {
		t.Errorf("Rotate with grace 0 = %+v", got)
	}
	if !got[1].ValidAt(now.Add(24*time.Hour-time.Nanosecond)) || got[1].ValidAt(now.Add(24*time.Hour)) {
		t.Error("a secret must be valid until, not at, its expiry")
	}
}

// TestReserve: the file's ids are refused for every operation, the error
// names the file; other ids pass through.
func TestReserve(t *testing.T) {
	s := clientreg.Reserve(clientreg.NewMemory(nil), clientreg.Reserved{File: "/etc/signet/signet.yaml", Clients: []string{"web"}, Resources: []string{"orders"}})
	ctx := t.Context()
	ch := clientreg.Change{By: clientreg.ByCLI}
	var errs []error
	_, err := s.CreateClient(ctx, regtest.Client("web"), ch)
	errs = append(errs, err)
	_, err = s.Client(ctx, "web")
	errs = append(errs, err)
	_, err = s.UpdateClient(ctx, regtest.Client("web"), 0, ch)
	errs = append(errs, err)
	errs = append(errs, s.DeleteClient(ctx, "web", 0, ch))
	_, err = s.CreateResource(ctx, clientreg.Resource{Name: "orders", Scopes: []string{"x"}}, ch)
	errs = append(errs, err)
	_, err = s.Resource(ctx, "orders")
	errs = append(errs, err)
	errs = append(errs, s.DeleteResource(ctx, "orders", 0, ch))
	for i, err := range errs {
		if !errors.Is(err, clientreg.ErrReserved) || !strings.Contains(err.Error(), "/etc/signet/signet.yaml") {
			t.Errorf("operation %d on a file id: %v, want ErrReserved naming the file", i, err)
		}
	}
	if _, err := s.CreateClient(ctx, regtest.Client("api"), ch); err != nil {
		t.Errorf("an id the file does not define: %v", err)
	}
	// The resource "web" is not the client "web".
	if _, err := s.CreateResource(ctx, clientreg.Resource{Name: "web", Scopes: []string{"web.read"}}, ch); err != nil {
		t.Errorf("a resource named like a file client: %v", err)
	}
}

// TestRedact: no hash of any kind survives, the times do.
func TestRedact(t *testing.T) {
	c := regtest.Client("x")
	c.RegistrationAccessTokenHash = clientauth.HashSHA256("rat")
	out := string(clientreg.Redact(c))
	if strings.Contains(out, "sha256") || strings.Contains(out, "hash") || !strings.Contains(out, `"expiresAt"`) || !strings.Contains(out, `"clientId":"x"`) {
		t.Errorf("Redact = %s", out)
	}
	r := clientreg.Resource{Name: "r", Secrets: []clientreg.Secret{{Hash: clientauth.HashSHA256("s")}}}
	if out := string(clientreg.Redact(&r)); strings.Contains(out, "sha256") || !strings.Contains(out, `"secrets":[{`) {
		t.Errorf("Redact(resource) = %s", out)
	}
}

func TestParseETag(t *testing.T) {
	m := clientreg.Meta{Revision: 42}
	for _, s := range []string{m.ETag(), `W/"42"`, "42"} {
		if n, err := clientreg.ParseETag(s); err != nil || n != 42 {
			t.Errorf("ParseETag(%s) = %d, %v", s, n, err)
		}
	}
	for _, s := range []string{`"x"`, `"0"`, `"-1"`, ""} {
		if _, err := clientreg.ParseETag(s); !errors.Is(err, clientreg.ErrInvalid) {
			t.Errorf("ParseETag(%s): %v, want ErrInvalid", s, err)
		}
	}
}
