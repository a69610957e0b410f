package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/signet-id/signet/userstore"
)

func TestPasswordsDefaults(t *testing.T) {
	c := mustParse(t, minimal, nil)
	want := Passwords{MinLength: 8, Argon2id: userstore.DefaultArgon2()}
	if !reflect.DeepEqual(c.Passwords, want) {
		t.Errorf("defaults %+v, want %+v", c.Passwords, want)
	}
}

func TestPasswords(t *testing.T) {
	c := mustParse(t, minimal+`passwords:
  minLength: 12
  breachedPasswordsFile: breached.txt
  argon2id: { memory: 19MiB, iterations: 2, parallelism: 1 }
`, nil)
	want := Passwords{MinLength: 12, BreachedPasswordsFile: "breached.txt",
		Argon2id: userstore.Argon2{MemoryKiB: 19 << 10, Iterations: 2, Parallelism: 1}}
	if !strings.HasSuffix(c.Passwords.BreachedPasswordsFile, "breached.txt") {
		t.Errorf("breachedPasswordsFile %q", c.Passwords.BreachedPasswordsFile)
	}
	c.Passwords.BreachedPasswordsFile = "breached.txt"
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "passwords.breachedPasswordsFile") || !strings.Contains(c.Warnings[0], "signet users will refuse to set passwords") {
		t.Errorf("a missing breached-password file: warnings %q", c.Warnings)
	}
	if !reflect.DeepEqual(c.Passwords, want) {
		t.Errorf("got %+v, want %+v", c.Passwords, want)
	}
}

func TestPasswordsErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"passwords: { minLength: 6 }\n", "passwords.minLength: must be from 8"},
		{"passwords: { argon2id: { memory: 1MiB } }\n", "passwords.argon2id.memory: must be from 8MiB to 4GiB"},
		{"passwords: { argon2id: { iterations: 0 } }\n", "passwords.argon2id.iterations: must be from 1 to 64"},
		{"passwords: { argon2id: { parallelism: 300 } }\n", "passwords.argon2id.parallelism: must be from 1 to 255"},
		{"passwords: { maxLength: 6 }\n", `unknown key "maxLength"`},
	} {
		_, err := parse(t, minimal+tc.doc, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.doc, err, tc.want)
		}
	}
}

// The address, phone and groups scopes and their claims, and custom
// claims, are accepted for the configuration's users; wrong types are not.
func TestUserStandardAndCustomClaims(t *testing.T) {
	c := mustParse(t, minimal+`apiResources: [ { name: orders, scopes: [orders.read] } ]
clients:
  - clientId: spa
    tokenEndpointAuthMethod: none
    allowedGrantTypes: [authorization_code]
    redirectUris: [https://a.example/cb]
    allowedScopes: [openid, profile, email, address, phone, groups]
users:
  - subject: s1
    username: alice
    passwordHash: "`+testPasswordHash+`"
    claims:
      address: { street_address: 1 Main St, locality: Springfield, country: US }
      phone_number: "+1 555 0100"
      phone_number_verified: true
      groups: [staff, admins]
      employee_id: E-7
`, nil)
	u := c.Users[0]
	if u.Claims["phone_number_verified"] != true || len(u.Claims["groups"].([]any)) != 2 || u.Claims["employee_id"] != "E-7" {
		t.Errorf("claims %v", u.Claims)
	}
	if !reflect.DeepEqual(c.Clients[0].AllowedScopes, []string{"openid", "profile", "email", "address", "phone", "groups"}) {
		t.Errorf("scopes %v", c.Clients[0].AllowedScopes)
	}
	user := func(claims string) string {
		return minimal + "users:\n  - { subject: s, username: a, passwordHash: \"" + testPasswordHash + "\", claims: " + claims + " }\n"
	}
	for _, tc := range []struct{ claims, want string }{
		{"{ address: Main St }", "users[0].claims.address: must be an object with some of formatted, street_address"},
		{"{ address: { street: x } }", `users[0].claims.address: has an unknown member "street"`},
		{"{ phone_number_verified: yes }", "users[0].claims.phone_number_verified: must be true or false"},
		{"{ groups: staff }", "users[0].claims.groups: must be a list of group names"},
		{"{ groups: [1] }", "users[0].claims.groups: must be a list of non-empty strings"},
		{"{ iss: x }", "users[0].claims.iss: is set by the server itself"},
	} {
		_, err := parse(t, user(tc.claims), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.claims, err, tc.want)
		}
	}
}
