package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
)

// A cheap argon2id hash (of "pw"); the parser checks only its shape.
const testPasswordHash = "$argon2id$v=19$m=8,t=1,p=1$c2lnbmV0LXRlc3Qtc2FsdA$dGVzdC1oYXNoLXRlc3QtaGFzaC10ZXN0LWhhc2gxMjM"

const loginDoc = minimal + `
apiResources:
  - { name: orders, scopes: [orders.read], secrets: ["plain:introspect-me"] }
clients:
  - clientId: spa
    tokenEndpointAuthMethod: none
    allowedGrantTypes: [authorization_code, refresh_token]
    allowedScopes: [openid, profile, email, offline_access, orders.read]
    redirectUris: [ "https://app.example.com/cb", "http://127.0.0.1:3000/cb", "com.example.app:/cb" ]
    postLogoutRedirectUris: [ "https://app.example.com/" ]
    refreshTokenLifetime: 7d
    identityTokenLifetime: 90s
    allowedCorsOrigins: [ "https://app.example.com", "http://localhost:3000", "http://[::1]:8081" ]
  - clientId: web
    secrets: ["plain:web"]
    allowedGrantTypes: [authorization_code, client_credentials]
    allowedScopes: [openid, orders.read]
    redirectUris: [ "https://web.example.com/cb" ]
    allowedIdentityTokenSigningAlgorithms: [RS256]
users:
  - subject: 0001
    username: alice
    passwordHash: "` + testPasswordHash + `"
    claims: { name: Alice, email: alice@example.com, email_verified: true, updated_at: 1700000000 }
  - { subject: "0002", username: bob, passwordHash: "` + testPasswordHash + `" }
`

func TestLoginConfig(t *testing.T) {
	c := mustParse(t, loginDoc, nil)
	spa, web := c.Clients[0], c.Clients[1]
	if !spa.Public || len(spa.Secrets) != 0 || spa.RefreshTokenLifetime != 7*24*time.Hour ||
		!slices.Equal(spa.RedirectURIs, []string{"https://app.example.com/cb", "http://127.0.0.1:3000/cb", "com.example.app:/cb"}) ||
		!slices.Equal(spa.PostLogoutRedirectURIs, []string{"https://app.example.com/"}) ||
		!slices.Equal(spa.AllowedScopes, []string{"openid", "profile", "email", "offline_access", "orders.read"}) ||
		!slices.Equal(spa.AllowedCORSOrigins, []string{"https://app.example.com", "http://localhost:3000", "http://[::1]:8081"}) {
		t.Errorf("spa %+v", spa)
	}
	if spa.IdentityTokenLifetime != 90*time.Second || web.IdentityTokenLifetime != DefaultIdentityTokenLifetime {
		t.Errorf("identityTokenLifetime spa %s, web %s; want 1m30s and the default", spa.IdentityTokenLifetime, web.IdentityTokenLifetime)
	}
	if web.Public || web.RefreshTokenLifetime != DefaultRefreshTokenLifetime || !slices.Equal(web.AllowedIdentityTokenSigningAlgorithms, []key.Algorithm{key.RS256}) {
		t.Errorf("web %+v", web)
	}
	if len(c.APIResources[0].Secrets) != 1 || !c.APIResources[0].Secrets[0].Verify("introspect-me") {
		t.Error("resource secret")
	}
	if len(c.Users) != 2 || c.Users[0].Subject != "0001" || c.Users[0].Username != "alice" || c.Users[0].Password == nil ||
		c.Users[0].Claims["email_verified"] != true || c.Users[1].Subject != "0002" {
		t.Errorf("users %+v", c.Users)
	}
	if len(c.Warnings) != 2 || !strings.Contains(c.Warnings[0], "API resource orders has a plain: secret") {
		t.Errorf("warnings %q", c.Warnings)
	}
	// Identity scopes are not API scopes.
	for _, s := range []string{"openid", "profile", "email", "offline_access"} {
		if !IsIdentityScope(s) {
			t.Errorf("%s", s)
		}
	}
	if IsIdentityScope("orders.read") || IsIdentityScope("phonebook") {
		t.Error("IsIdentityScope too wide")
	}
}

func TestLoginConfigWarnings(t *testing.T) {
	c := mustParse(t, minimal+`
clients:
  - clientId: spa
    tokenEndpointAuthMethod: none
    allowedGrantTypes: [authorization_code]
    allowedScopes: [openid]
    redirectUris: [ "http://app.example.com/cb" ]
    allowedCorsOrigins: [ "http://app.example.com" ]
`, nil)
	w := strings.Join(c.Warnings, "\n")
	for _, want := range []string{
		"clients[0].redirectUris[0]: http://app.example.com/cb uses plain http on a non-loopback host",
		"clients[0].allowedCorsOrigins[0]: http://app.example.com uses plain http on a non-loopback host",
		"clients spa allow authorization_code but no users are configured",
	} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings lack %q:\n%s", want, w)
		}
	}
}

func TestLoginConfigErrors(t *testing.T) {
	client := func(body string) string {
		return minimal + "apiResources: [ { name: orders, scopes: [orders.read] } ]\nclients:\n  - clientId: c1\n" + body
	}
	public := "    tokenEndpointAuthMethod: none\n"
	code := "    allowedGrantTypes: [authorization_code]\n    redirectUris: [https://a.example/cb]\n"
	user := func(body string) string {
		return minimal + "users:\n  - " + body + "\n"
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"public with secrets", client(public + "    secrets: [plain:x]\n" + code), "clients[0].secrets: (c1) is a public client (tokenEndpointAuthMethod: none) and cannot have secrets"},
		{"unknown auth method", client("    tokenEndpointAuthMethod: client_secret_jwt\n    secrets: [plain:x]\n" + code), `clients[0].tokenEndpointAuthMethod: "client_secret_jwt" is not supported`},
		{"no secrets hint", client(code), "or set tokenEndpointAuthMethod: none for a public client"},
		{"public client_credentials", client(public + "    allowedGrantTypes: [authorization_code, client_credentials]\n    redirectUris: [https://a/cb]\n"), "a public client cannot use client_credentials"},
		{"public without code", client(public + "    allowedGrantTypes: [client_credentials]\n"), "cannot use client_credentials"},
		{"refresh without code", client("    secrets: [plain:x]\n    allowedGrantTypes: [client_credentials, refresh_token]\n    allowedScopes: [offline_access]\n"), "refresh_token needs authorization_code"},
		{"offline without refresh", client(public + code + "    allowedScopes: [openid, offline_access]\n"), "refresh tokens need both refresh_token in allowedGrantTypes and offline_access"},
		{"refresh without offline", client(public + "    allowedGrantTypes: [authorization_code, refresh_token]\n    redirectUris: [https://a/cb]\n"), "refresh tokens need both"},
		{"code without redirect", client(public + "    allowedGrantTypes: [authorization_code]\n"), "(c1) allows authorization_code but has no redirectUris"},
		{"redirect without code", client("    secrets: [plain:x]\n    allowedGrantTypes: [client_credentials]\n    redirectUris: [https://a/cb]\n"), "has redirectUris or postLogoutRedirectUris but does not allow authorization_code"},
		{"relative redirect", client(public + "    allowedGrantTypes: [authorization_code]\n    redirectUris: [/cb]\n"), `clients[0].redirectUris[0]: "/cb" is not an absolute URI`},
		{"fragment", client(public + "    allowedGrantTypes: [authorization_code]\n    redirectUris: [\"https://a/cb#x\"]\n"), "has a fragment"},
		{"duplicate redirect", client(public + "    allowedGrantTypes: [authorization_code]\n    redirectUris: [https://a/cb, https://a/cb]\n"), `clients[0].redirectUris[1]: lists "https://a/cb" twice`},
		{"bad logout uri", client(public + code + "    postLogoutRedirectUris: [\"x y\"]\n"), "clients[0].postLogoutRedirectUris[0]"},
		{"id token lifetime without code", client("    secrets: [plain:x]\n    allowedGrantTypes: [client_credentials]\n    identityTokenLifetime: 10m\n"), "clients[0].identityTokenLifetime: (c1) ID tokens are issued by the login flow; add authorization_code to allowedGrantTypes or remove identityTokenLifetime"},
		{"id token lifetime too short", client(public + code + "    identityTokenLifetime: 500ms\n"), "clients[0].identityTokenLifetime: must be at least 1s"},
		{"origin with a slash", client(public + code + "    allowedCorsOrigins: [\"https://app.example/\"]\n"), `clients[0].allowedCorsOrigins[0]: "https://app.example/" is not an origin as browsers send it; write "https://app.example" (lower case, no path or trailing slash, no default port)`},
		{"origin with a path", client(public + code + "    allowedCorsOrigins: [\"https://app.example/spa\"]\n"), `write "https://app.example"`},
		{"origin in upper case", client(public + code + "    allowedCorsOrigins: [\"https://App.Example\"]\n"), `write "https://app.example"`},
		{"origin with the default port", client(public + code + "    allowedCorsOrigins: [\"https://app.example:443\"]\n"), `write "https://app.example"`},
		{"origin not http", client(public + code + "    allowedCorsOrigins: [\"file:///index.html\"]\n"), `clients[0].allowedCorsOrigins[0]: "file:///index.html" is not an origin; write scheme://host[:port]`},
		{"origin twice", client(public + code + "    allowedCorsOrigins: [\"http://localhost:3000\", \"http://localhost:3000\"]\n"), `clients[0].allowedCorsOrigins[1]: lists "http://localhost:3000" twice`},
		{"identity scope without code", client("    secrets: [plain:x]\n    allowedGrantTypes: [client_credentials]\n    allowedScopes: [openid]\n"), `clients[0].allowedScopes[0]: "openid" is an OpenID Connect scope; it needs authorization_code`},
		{"unknown identity scope", client(public + code + "    allowedScopes: [phonebook]\n"), `scope "phonebook" belongs to no API resource`},
		{"refresh lifetime", client(public + "    allowedGrantTypes: [authorization_code, refresh_token]\n    allowedScopes: [offline_access]\n    redirectUris: [https://a/cb]\n    refreshTokenLifetime: 0s\n"), "clients[0].refreshTokenLifetime: must be a positive duration"},
		{"id alg not signable", client(public + code + "    allowedIdentityTokenSigningAlgorithms: [ES384]\n"), "allowedIdentityTokenSigningAlgorithms: allows ES384, but Signet signs only with RS256"},
		{"resource uses openid", minimal + "apiResources: [ { name: a, scopes: [openid] } ]\n", `apiResources[0].scopes[0]: "openid" is an OpenID Connect scope served by Signet itself`},
		{"resource bad secret", minimal + "apiResources: [ { name: a, scopes: [a], secrets: [nope] } ]\n", "apiResources[0].secrets[0]: clientauth: invalid client secret"},
		{"user no subject", user("{ username: a, passwordHash: \"" + testPasswordHash + "\" }"), "users[0]: subject is required"},
		{"user no username", user("{ subject: s, passwordHash: \"" + testPasswordHash + "\" }"), "users[0]: (s) username is required"},
		{"user spaces", user("{ subject: s, username: \" a\", passwordHash: \"" + testPasswordHash + "\" }"), "without leading or trailing spaces"},
		{"user no hash", user("{ subject: s, username: a }"), "users[0]: (a) passwordHash is required: an argon2id hash from `signet hash-password`"},
		{"user sha256", user("{ subject: s, username: a, passwordHash: \"sha256:" + strings.Repeat("ab", 32) + "\" }"), "users[0].passwordHash: (a) must be an argon2id PHC string"},
		{"user bad hash", user("{ subject: s, username: a, passwordHash: \"$argon2id$v=19$x\" }"), "users[0].passwordHash: clientauth: invalid client secret"},
		{"duplicate subject", minimal + "users:\n  - { subject: s, username: a, passwordHash: \"" + testPasswordHash + "\" }\n  - { subject: s, username: b, passwordHash: \"" + testPasswordHash + "\" }\n", `users[1]: subject "s" is used twice`},
		{"duplicate username", minimal + "users:\n  - { subject: s, username: a, passwordHash: \"" + testPasswordHash + "\" }\n  - { subject: t, username: a, passwordHash: \"" + testPasswordHash + "\" }\n", `users[1]: username "a" is used twice`},
		{"subject is a clientId", minimal + "apiResources: [ { name: orders, scopes: [orders.read] } ]\nclients:\n  - { clientId: c0, secrets: [plain:x], allowedGrantTypes: [client_credentials] }\n  - { clientId: robot, secrets: [plain:x], allowedGrantTypes: [client_credentials] }\nusers:\n  - { subject: robot, username: a, passwordHash: \"" + testPasswordHash + "\" }\n",
			`users[0].subject: "robot" is also the clientId of clients[1]; a client's tokens carry its clientId as sub, so they would name this user (RFC 9068 section 5): rename the client or give the user another subject`},
		{"unknown claim", user("{ subject: s, username: a, passwordHash: \"" + testPasswordHash + "\", claims: { sub: admin } }"), `users[0].claims.sub: is set by the server itself; a user cannot carry it`},
		{"email_verified type", user("{ subject: s, username: a, passwordHash: \"" + testPasswordHash + "\", claims: { email_verified: \"yes\" } }"), "users[0].claims.email_verified: must be true or false"},
		{"name type", user("{ subject: s, username: a, passwordHash: \"" + testPasswordHash + "\", claims: { name: [a] } }"), "users[0].claims.name: must be a non-empty string"},
		{"unknown user key", user("{ subject: s, username: a, password: x }"), `unknown key "password" in users[0]; known keys: claims, passwordHash, subject, username`},
		{"file store", "issuer: https://a.example\nstorage: { driver: file }\nusers:\n  - { subject: s, username: a, passwordHash: \"" + testPasswordHash + "\" }\n", "storage.driver: the file store keeps keys only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.doc, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n  %v\nwant it to contain:\n  %s", err, tc.want)
			}
		})
	}
}
