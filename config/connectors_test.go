package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// connectorsDoc is the example, word for word, with clients.
const connectorsDoc = minimal + `
connectors:
  - id: corp
    type: oidc
    name: "Acme SSO"                 # the button's label
    issuer: https://login.acme.example
    clientId: signet
    clientSecret: ${ACME_SSO_SECRET}
    scopes: [openid, profile, email, groups]
    claimMapping: { username: preferred_username, groups: groups }
  - id: ad
    type: ldap
    name: "Acme directory"
    url: ldaps://ldap.acme.example:636
    bindDN: cn=signet,ou=services,dc=acme,dc=example
    bindPassword: ${LDAP_BIND_PASSWORD}
    userSearch: { baseDN: "ou=people,dc=acme,dc=example", filter: "(objectClass=person)", username: uid, idAttr: entryUUID, emailAttr: mail, nameAttr: cn }
    groupSearch: { baseDN: "ou=groups,dc=acme,dc=example", filter: "(objectClass=groupOfNames)", userMatchers: [ { userAttr: DN, groupAttr: member } ], nameAttr: cn }
clients:
  - clientId: spa
    tokenEndpointAuthMethod: none
    allowedGrantTypes: [authorization_code]
    allowedScopes: [openid, profile]
    redirectUris: [ "https://app.example.com/cb" ]
    allowedConnectors: [corp, local]
  - clientId: all
    tokenEndpointAuthMethod: none
    allowedGrantTypes: [authorization_code]
    allowedScopes: [openid]
    redirectUris: [ "https://all.example.com/cb" ]
`

var connectorVars = map[string]string{"ACME_SSO_SECRET": "sso-secret", "LDAP_BIND_PASSWORD": "bind-secret"}

func TestConnectorsConfig(t *testing.T) {
	c := mustParse(t, connectorsDoc, connectorVars)
	if len(c.Connectors) != 2 {
		t.Fatalf("connectors %+v", c.Connectors)
	}
	corp, ad := c.Connectors[0], c.Connectors[1]
	wantOIDC := &OIDCConnector{Issuer: "https://login.acme.example", ClientID: "signet", ClientSecret: "sso-secret",
		Scopes:       []string{"openid", "profile", "email", "groups"},
		ClaimMapping: ClaimMapping{Subject: "sub", Username: "preferred_username", Name: "name", Email: "email", EmailVerified: "email_verified", Groups: "groups"}}
	if corp.ID != "corp" || corp.Type != ConnectorOIDC || corp.Name != "Acme SSO" || corp.LDAP != nil || !reflect.DeepEqual(corp.OIDC, wantOIDC) {
		t.Errorf("corp %+v %+v", corp, corp.OIDC)
	}
	wantLDAP := &LDAPConnector{URL: "ldaps://ldap.acme.example:636", BindDN: "cn=signet,ou=services,dc=acme,dc=example", BindPassword: "bind-secret",
		UserSearch: LDAPUserSearch{BaseDN: "ou=people,dc=acme,dc=example", Filter: "(objectClass=person)", Username: "uid", IDAttr: "entryUUID", EmailAttr: "mail", NameAttr: "cn"},
		GroupSearch: &LDAPGroupSearch{BaseDN: "ou=groups,dc=acme,dc=example", Filter: "(objectClass=groupOfNames)",
			UserMatchers: []LDAPUserMatcher{{UserAttr: "DN", GroupAttr: "member"}}, NameAttr: "cn"}}
	if ad.ID != "ad" || ad.Type != ConnectorLDAP || ad.Name != "Acme directory" || ad.OIDC != nil || !reflect.DeepEqual(ad.LDAP, wantLDAP) {
		t.Errorf("ad %+v %+v", ad, ad.LDAP)
	}
	if !slices.Equal(c.Clients[0].AllowedConnectors, []string{"corp", "local"}) || c.Clients[1].AllowedConnectors != nil {
		t.Errorf("allowedConnectors %q, %q", c.Clients[0].AllowedConnectors, c.Clients[1].AllowedConnectors)
	}
	// No users, but connectors: people can sign in, no warning.
	for _, w := range c.Warnings {
		if strings.Contains(w, "nobody can sign in") {
			t.Errorf("warning %q with connectors configured", w)
		}
	}
	// The secrets stay out of the digest's neighbours: a changed secret
	// changes the digest.
	c2 := mustParse(t, connectorsDoc, map[string]string{"ACME_SSO_SECRET": "other", "LDAP_BIND_PASSWORD": "bind-secret"})
	if c2.Connectors[0].Digest == corp.Digest || c2.Connectors[1].Digest != ad.Digest {
		t.Error("digest does not follow the entry")
	}
}

func TestConnectorDefaults(t *testing.T) {
	c := mustParse(t, minimal+"connectors: [ { id: g, type: oidc, name: Google, issuer: \"https://accounts.google.com\", clientId: x } ]\n", nil)
	o := c.Connectors[0].OIDC
	if !slices.Equal(o.Scopes, []string{"openid", "profile", "email"}) || o.ClaimMapping.Subject != "sub" || o.ClaimMapping.Username != "preferred_username" || o.ClaimMapping.Groups != "" {
		t.Errorf("defaults %+v", o)
	}
	// openid is always asked for.
	c = mustParse(t, minimal+"connectors: [ { id: g, type: oidc, name: G, issuer: \"http://127.0.0.1:9/x\", clientId: x, scopes: [email], claimMapping: { subject: oid } } ]\n", nil)
	if o := c.Connectors[0].OIDC; !slices.Equal(o.Scopes, []string{"openid", "email"}) || o.ClaimMapping.Subject != "oid" {
		t.Errorf("scopes %q, mapping %+v", o.Scopes, o.ClaimMapping)
	}
}

func TestConnectorErrors(t *testing.T) {
	oidc := func(fields string) string {
		return minimal + "connectors:\n  - { id: corp, type: oidc, name: Corp, " + fields + " }\n"
	}
	ldap := func(fields string) string {
		return minimal + "connectors:\n  - { id: ad, type: ldap, name: AD, " + fields + " }\n"
	}
	search := `userSearch: { baseDN: "ou=p", username: uid, idAttr: entryUUID }`
	client := func(allowed string) string {
		return oidc("issuer: \"https://sso.example\", clientId: s") + "clients:\n  - { clientId: c, tokenEndpointAuthMethod: none, allowedGrantTypes: [authorization_code], allowedScopes: [openid], redirectUris: [\"https://c.example/cb\"], allowedConnectors: " + allowed + " }\n"
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"no id", minimal + "connectors: [ { type: oidc, name: X } ]\n", `signet.yaml:4: connectors[0].id: "": a connector needs an id`},
		{"bad id", minimal + "connectors: [ { id: \"a/b\", type: oidc, name: X } ]\n", `connectors[0].id: "a/b": a connector needs an id of 1 to 64 letters`},
		{"local id", minimal + "connectors: [ { id: local, type: oidc, name: X } ]\n", `connectors[0].id: "local" names Signet's own users`},
		{"twice", oidc("issuer: \"https://a.example\", clientId: s") + "  - { id: corp, type: oidc, name: B, issuer: \"https://b.example\", clientId: s }\n", `connectors[1].id: "corp" is used twice`},
		{"no name", minimal + "connectors: [ { id: a, type: oidc } ]\n", "connectors[0].name: (a) is required: the label of the connector's button"},
		{"no type", minimal + "connectors: [ { id: a, name: A } ]\n", "connectors[0].type: (a) is required: oidc"},
		{"bad type", minimal + "connectors: [ { id: a, name: A, type: saml } ]\n", `connectors[0].type: (a) "saml" is not a connector type; use oidc or ldap`},
		{"unknown key", minimal + "connectors: [ { id: a, name: A, type: oidc, issuerUrl: x } ]\n", `unknown key "issuerUrl" in connectors[0]`},
		{"no issuer", oidc("clientId: s"), "connectors[0].issuer: (corp) is required: the provider's issuer URL"},
		{"bad issuer", oidc("issuer: \"https://a.example/?x=1\", clientId: s"), `connectors[0].issuer: (corp) "https://a.example/?x=1" is not an issuer URL`},
		{"http issuer", oidc("issuer: \"http://sso.example\", clientId: s"), `(corp) "http://sso.example" uses plain http: only a loopback issuer may`},
		{"no client id", oidc("issuer: \"https://a.example\""), "connectors[0].clientId: (corp) is required"},
		{"bad scope", oidc("issuer: \"https://a.example\", clientId: s, scopes: [\"a b\"]"), `connectors[0].scopes[0]: (corp) "a b" is not a scope token`},
		{"bad claim", oidc("issuer: \"https://a.example\", clientId: s, claimMapping: { username: \" x\" }"), `connectors[0].claimMapping.username: (corp) " x" is not a claim name`},
		{"unknown mapping", oidc("issuer: \"https://a.example\", clientId: s, claimMapping: { login: x }"), `unknown key "login" in connectors[0].claimMapping`},
		{"ldap field on oidc", oidc("issuer: \"https://a.example\", clientId: s, url: \"ldaps://x\""), "connectors[0].url: (corp) is an option of ldap connectors; this one is type: oidc"},
		{"oidc field on ldap", ldap("url: \"ldaps://x\", issuer: \"https://a\", " + search), "connectors[0].issuer: (ad) is an option of oidc connectors; this one is type: ldap"},
		{"no url", ldap(search), "connectors[0].url: (ad) is required: the directory's address"},
		{"bad url", ldap("url: \"https://x\", " + search), `connectors[0].url: (ad) "https://x" is not an LDAP URL`},
		{"bind half", ldap("url: \"ldaps://x\", bindDN: cn=a, " + search), "(ad) bindDN and bindPassword go together"},
		{"no search", ldap("url: \"ldaps://x\""), "connectors[0].userSearch: (ad) needs baseDN, username"},
		{"bad filter", ldap(`url: "ldaps://x", userSearch: { baseDN: "ou=p", username: uid, idAttr: entryUUID, filter: "objectClass=person" }`), `connectors[0].userSearch.filter: (ad) "objectClass=person" is not an LDAP filter`},
		{"group search", ldap(`url: "ldaps://x", ` + search + `, groupSearch: { baseDN: "ou=g" }`), "connectors[0].groupSearch: (ad) needs baseDN, nameAttr"},
		{"matcher", ldap(`url: "ldaps://x", ` + search + `, groupSearch: { baseDN: "ou=g", nameAttr: cn, userMatchers: [ { userAttr: DN } ] }`), "connectors[0].groupSearch.userMatchers[0]: (ad) needs userAttr and groupAttr"},
		{"unknown allowed", client("[corp, nope]"), `clients[0].allowedConnectors[1]: (c) "nope" is not a connector id (known: corp; "local" names Signet's own users)`},
		{"allowed twice", client("[corp, corp]"), `clients[0].allowedConnectors[1]: (c) lists "corp" twice`},
		{"user subject in a connector's namespace", oidc("issuer: \"https://a.example\", clientId: s") + "users: [ { subject: \"corp:1\", username: a, passwordHash: \"" + testPasswordHash + "\" } ]\n", `users[0].subject: "corp:1" starts with "corp:", the prefix of connector corp's subjects`},
		{"env unset", oidc("issuer: \"https://a.example\", clientId: s, clientSecret: \"${NOPE}\""), "environment variable NOPE is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.doc, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
	// allowedConnectors on a client without the login flow.
	doc := oidc("issuer: \"https://sso.example\", clientId: s") + "clients:\n  - { clientId: m, secrets: [\"plain:m\"], allowedGrantTypes: [client_credentials], allowedConnectors: [corp] }\n"
	if _, err := parse(t, doc, nil); err == nil || !strings.Contains(err.Error(), "(m) connectors sign people in through the login flow; add authorization_code") {
		t.Errorf("got %v", err)
	}
}
