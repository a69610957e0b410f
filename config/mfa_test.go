package config

import (
	"slices"
	"strings"
	"testing"
)

const mfaClient = `
clients:
  - clientId: portal
    tokenEndpointAuthMethod: none
    allowedGrantTypes: [authorization_code]
    allowedScopes: [openid]
    redirectUris: [ "https://portal.example.com/cb" ]
    requireMfa: true
  - clientId: wiki
    tokenEndpointAuthMethod: none
    allowedGrantTypes: [authorization_code]
    allowedScopes: [openid]
    redirectUris: [ "https://wiki.example.com/cb" ]
`

func TestMFAParse(t *testing.T) {
	c := mustParse(t, minimal+mfaClient+`
mfa:
  required: true
  requiredSubjects: [ "u-1", "u-2" ]
`, nil)
	if !c.MFA.Required || !slices.Equal(c.MFA.RequiredSubjects, []string{"u-1", "u-2"}) {
		t.Errorf("mfa %+v", c.MFA)
	}
	if !c.Clients[0].RequireMFA || c.Clients[1].RequireMFA {
		t.Errorf("requireMfa: %v %v", c.Clients[0].RequireMFA, c.Clients[1].RequireMFA)
	}
	if c := mustParse(t, minimal, nil); c.MFA.Required || c.MFA.RequiredSubjects != nil {
		t.Errorf("default mfa %+v", c.MFA)
	}
}

func TestMFAErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{minimal + "mfa: { requiredSubjects: [ \"\" ] }", "mfa.requiredSubjects[0]: is empty"},
		{minimal + "mfa: { requiredSubjects: [ a, b, a ] }", `mfa.requiredSubjects[2]: "a" is listed twice`},
		{minimal + "mfa: { require: true }", `unknown key "require"`},
		{minimal + "mfa: { required: true }\nkeyManagement: { protection: { enabled: false } }", "mfa.required: needs keyManagement.protection.enabled"},
		{minimal + mfaClient + "keyManagement: { protection: { enabled: false } }", "clients[0].requireMfa: needs keyManagement.protection.enabled"},
		{minimal + `
apiResources: [ { name: orders, scopes: [orders.read] } ]
clients: [ { clientId: m2m, secrets: [ "plain:m2m-secret-0123456789abcdef" ], allowedGrantTypes: [client_credentials], requireMfa: true } ]`,
			"clients[0].requireMfa: (m2m) applies to sign-ins: the client needs authorization_code"},
	} {
		_, err := parse(t, tc.doc+"\n", nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n%v, want %q", tc.doc, err, tc.want)
		}
	}
}
