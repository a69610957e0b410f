package config

import (
	"strings"
	"testing"
	"time"
)

// The ldap connector's keys beyond the example.
func TestLDAPConnectorOptions(t *testing.T) {
	doc := minimal + `connectors:
  - id: ad
    type: ldap
    name: AD
    url: ldap://dc1.example:389
    caFile: /etc/signet/ad-ca.pem
    serverName: dc1.ad.example
    dialTimeout: 2s
    timeout: 4s
    maxConnections: 8
    userSearch: { baseDN: "dc=ad,dc=example", username: sAMAccountName, idAttr: objectGUID, disabledFilter: "(employeeType=left)" }
`
	l := mustParse(t, doc, nil).Connectors[0].LDAP
	if l.CAFile != "/etc/signet/ad-ca.pem" || l.ServerName != "dc1.ad.example" || l.InsecureNoTLS || l.DialTimeout != 2*time.Second ||
		l.Timeout != 4*time.Second || l.MaxConnections != 8 || l.UserSearch.DisabledFilter != "(employeeType=left)" {
		t.Errorf("options %+v", l)
	}
	ldap := func(fields string) string {
		return minimal + "connectors:\n  - { id: ad, type: ldap, name: AD, userSearch: { baseDN: \"ou=p\", username: uid, idAttr: entryUUID }, " + fields + " }\n"
	}
	if l := mustParse(t, ldap(`url: "ldap://127.0.0.1:389", insecureNoTLS: true`), nil).Connectors[0].LDAP; !l.InsecureNoTLS {
		t.Errorf("insecureNoTLS %+v", l)
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"insecure ldaps", ldap(`url: "ldaps://x", insecureNoTLS: true`), "connectors[0].insecureNoTLS: (ad) contradicts an ldaps:// url"},
		{"insecure caFile", ldap(`url: "ldap://x", insecureNoTLS: true, caFile: /ca.pem`), "connectors[0].caFile: (ad) is unused with insecureNoTLS"},
		{"pool", ldap(`url: "ldaps://x", maxConnections: 65`), "connectors[0].maxConnections: (ad) 65: the pool holds 1 to 64"},
		{"timeout", ldap(`url: "ldaps://x", timeout: soon`), `invalid duration "soon"`},
		{"disabledFilter", minimal + "connectors:\n  - { id: ad, type: ldap, name: AD, url: \"ldaps://x\", userSearch: { baseDN: \"ou=p\", username: uid, idAttr: entryUUID, disabledFilter: \"x=y\" } }\n",
			`connectors[0].userSearch.disabledFilter: (ad) "x=y" is not an LDAP filter`},
		{"ldap option on oidc", minimal + "connectors:\n  - { id: corp, type: oidc, name: C, issuer: \"https://a.example\", clientId: s, caFile: /ca.pem }\n",
			"connectors[0].caFile: (corp) is an option of ldap connectors"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.doc, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}
