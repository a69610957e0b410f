package userstoretest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/userstore"
)

// Store is what the suite needs: a user store that also keeps grants (so
// that disabling a user can be seen to revoke them).
type Store interface {
	userstore.Store
	grant.Store
}

// A bcrypt hash of "correct horse battery" (cost 4) and argon2id hashes
// (m=8 KiB) for the suite; their passwords do not matter here.
const (
	hashA = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	hashB = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
)

var t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// Record returns a valid record for username and subject.
func Record(username, subject string) userstore.Record {
	return userstore.Record{Subject: subject, Username: username, PasswordHash: hashA,
		Claims: map[string]any{
			"name": "Alice Example", "email": "alice@example.com", "email_verified": true,
			"address":      map[string]any{"street_address": "1 Main St", "locality": "Springfield", "country": "US"},
			"phone_number": "+1 555 0100", "phone_number_verified": false,
			"groups":      []any{"staff", "admins"},
			"employee_id": "E-7",
		},
		Created: t0, Updated: t0}
}

// Run runs the suite; open returns a new, empty store.
func Run(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	t.Run("CreateAndRead", func(t *testing.T) {
		s := open(t)
		src := &userstore.Source{Store: s}
		if has, err := src.HasUsers(ctx); err != nil || has {
			t.Fatalf("HasUsers of an empty store: %v, %v; want false", has, err)
		}
		want := Record("alice", "u-1")
		if err := s.CreateUser(ctx, want); err != nil {
			t.Fatal(err)
		}
		if has, err := src.HasUsers(ctx); err != nil || !has {
			t.Fatalf("HasUsers with a user: %v, %v; want true", has, err)
		}
		for name, get := range map[string]func() (userstore.Record, error){
			"by name":    func() (userstore.Record, error) { return s.UserByName(ctx, "alice") },
			"by subject": func() (userstore.Record, error) { return s.UserBySubject(ctx, "u-1") },
		} {
			got, err := get()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\n got %#v\nwant %#v", name, got, want)
			}
		}
		if _, err := s.UserByName(ctx, "bob"); !errors.Is(err, userstore.ErrNotFound) {
			t.Errorf("unknown name: %v, want ErrNotFound", err)
		}
		if _, err := s.UserBySubject(ctx, "u-2"); !errors.Is(err, userstore.ErrNotFound) {
			t.Errorf("unknown subject: %v, want ErrNotFound", err)
		}
	})
	t.Run("Duplicates", func(t *testing.T) {
		s := open(t)
		if err := s.CreateUser(ctx, Record("alice", "u-1")); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUser(ctx, Record("alice", "u-2")); !errors.Is(err, userstore.ErrExists) {
			t.Errorf("same username: %v, want ErrExists", err)
		}
		if err := s.CreateUser(ctx, Record("bob", "u-1")); !errors.Is(err, userstore.ErrExists) {
			t.Errorf("same subject: %v, want ErrExists", err)
		}
		if err := s.CreateUser(ctx, Record("bob", "u-2")); err != nil {
			t.Fatal(err)
		}
		r := Record("alice", "u-2") // bob renamed to alice
		if err := s.UpdateUser(ctx, r); !errors.Is(err, userstore.ErrExists) {
			t.Errorf("rename onto a taken name: %v, want ErrExists", err)
		}
		if got, _ := s.UserBySubject(ctx, "u-2"); got.Username != "bob" {
			t.Errorf("a refused update changed the user: %q", got.Username)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		s := open(t)
		bad := Record("alice", "u-1")
		bad.PasswordHash = "plain:secret"
		if err := s.CreateUser(ctx, bad); !errors.Is(err, userstore.ErrInvalid) {
			t.Errorf("bad hash: %v, want ErrInvalid", err)
		}
		bad = Record("alice", "u-1")
		bad.Claims = map[string]any{"sub": "someone-else"}
		if err := s.CreateUser(ctx, bad); !errors.Is(err, userstore.ErrInvalid) {
			t.Errorf("reserved claim: %v, want ErrInvalid", err)
		}
	})
	t.Run("ListUpdateDelete", func(t *testing.T) {
		s := open(t)
		for _, r := range []userstore.Record{Record("carol", "u-3"), Record("alice", "u-1"), Record("bob", "u-2")} {
			if err := s.CreateUser(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range list {
			names = append(names, r.Username)
		}
		if !reflect.DeepEqual(names, []string{"alice", "bob", "carol"}) {
			t.Errorf("Users = %v, want by username", names)
		}
		r := Record("alicia", "u-1")
		r.Claims = map[string]any{"name": "Alicia"}
		r.PasswordHash = hashB
		r.Created, r.Updated = t0.Add(time.Hour), t0.Add(time.Hour) // Created must stay
		if err := s.UpdateUser(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := s.UserBySubject(ctx, "u-1")
		if err != nil {
			t.Fatal(err)
		}
		r.Created = t0
		if !reflect.DeepEqual(got, r) {
			t.Errorf("after update:\n got %#v\nwant %#v", got, r)
		}
		if _, err := s.UserByName(ctx, "alice"); !errors.Is(err, userstore.ErrNotFound) {
			t.Errorf("old name after rename: %v", err)
		}
		if err := s.UpdateUser(ctx, Record("dave", "u-9")); !errors.Is(err, userstore.ErrNotFound) {
			t.Errorf("update unknown: %v, want ErrNotFound", err)
		}
		if _, err := s.DeleteUser(ctx, "u-2", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserBySubject(ctx, "u-2"); !errors.Is(err, userstore.ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
		if _, err := s.DeleteUser(ctx, "u-2", t0); !errors.Is(err, userstore.ErrNotFound) {
			t.Errorf("delete twice: %v, want ErrNotFound", err)
		}
	})
	t.Run("UpgradePassword", func(t *testing.T) {
		s := open(t)
		if err := s.CreateUser(ctx, Record("alice", "u-1")); err != nil {
			t.Fatal(err)
		}
		if err := s.UpgradePassword(ctx, "u-1", hashB, hashA, t0); !errors.Is(err, userstore.ErrChanged) {
			t.Errorf("stale old hash: %v, want ErrChanged", err)
		}
		if err := s.UpgradePassword(ctx, "u-1", hashA, hashB, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.UserBySubject(ctx, "u-1"); got.PasswordHash != hashB || !got.Updated.Equal(t0.Add(time.Minute)) {
			t.Errorf("after upgrade: %q %v", got.PasswordHash, got.Updated)
		}
		if err := s.UpgradePassword(ctx, "u-9", hashA, hashB, t0); !errors.Is(err, userstore.ErrNotFound) {
			t.Errorf("unknown: %v, want ErrNotFound", err)
		}
	})
	t.Run("DisableRevokesGrants", func(t *testing.T) {
		s := open(t)
		if err := s.CreateUser(ctx, Record("alice", "u-1")); err != nil {
			t.Fatal(err)
		}
		exp := t0.Add(time.Hour)
		mine := []grant.Grant{
			{ID: "s1", Kind: grant.KindSession, Subject: "u-1", SessionID: "sid1", Created: t0, Expires: exp},
			{ID: "r1", Kind: grant.KindRefreshToken, ClientID: "app", Subject: "u-1", FamilyID: "f1", Created: t0, Expires: exp},
		}
		other := grant.Grant{ID: "s2", Kind: grant.KindSession, Subject: "u-2", SessionID: "sid2", Created: t0, Expires: exp}
		for _, g := range append(mine, other) {
			if err := s.CreateGrant(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.DisableUser(ctx, "u-1", t0.Add(time.Minute))
		if err != nil || n != 2 {
			t.Fatalf("DisableUser = %d, %v; want 2 grants revoked", n, err)
		}
		for _, g := range mine {
			got, _ := s.Grant(ctx, g.ID)
			if got.Revoked.IsZero() {
				t.Errorf("grant %s of the disabled user is not revoked", g.ID)
			}
		}
		if got, _ := s.Grant(ctx, "s2"); !got.Revoked.IsZero() {
			t.Error("another user's session was revoked")
		}
		if got, _ := s.UserBySubject(ctx, "u-1"); !got.Disabled {
			t.Error("not disabled")
		}
		if err := s.EnableUser(ctx, "u-1", t0.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.UserBySubject(ctx, "u-1"); got.Disabled {
			t.Error("still disabled after EnableUser")
		}
		if got, _ := s.Grant(ctx, "s1"); got.Revoked.IsZero() {
			t.Error("enabling brought a revoked session back")
		}
		// Disabling through UpdateUser revokes too; deleting does.
		g := grant.Grant{ID: "s3", Kind: grant.KindSession, Subject: "u-1", SessionID: "sid3", Created: t0, Expires: exp}
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		r, _ := s.UserBySubject(ctx, "u-1")
		r.Disabled, r.Updated = true, t0.Add(3*time.Minute)
		if err := s.UpdateUser(ctx, r); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Grant(ctx, "s3"); got.Revoked.IsZero() {
			t.Error("UpdateUser with Disabled did not revoke the session")
		}
		if err := s.CreateGrant(ctx, grant.Grant{ID: "s4", Kind: grant.KindSession, Subject: "u-1", SessionID: "sid4", Created: t0, Expires: exp}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.DeleteUser(ctx, "u-1", t0.Add(4*time.Minute)); err != nil || n != 1 {
			t.Errorf("DeleteUser = %d, %v; want 1", n, err)
		}
		if _, err := s.DisableUser(ctx, "u-1", t0); !errors.Is(err, userstore.ErrNotFound) {
			t.Errorf("disable unknown: %v", err)
		}
	})
	t.Run("ConcurrentCreate", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { errs[i] = s.CreateUser(ctx, Record("alice", "u-"+string(rune('a'+i)))) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, userstore.ErrExists):
				t.Errorf("concurrent create: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d concurrent creates of one username succeeded, want 1", ok)
		}
	})
}
