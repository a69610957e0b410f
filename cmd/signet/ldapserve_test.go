package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/signet-id/signet/connector/ldap/ldaptest"
)

// TestServeLDAPConnector: serve builds the configured ldap connector (its
// bind password from ${VAR}, its CA file, its records in SQLite); a
// person signs in through its button and form against the CI's slapd,
// and the client gets tokens for the namespaced subject. The connector's
// error counters are on the admin listener's /metrics, at 0.
func TestServeLDAPConnector(t *testing.T) {
	d := ldaptest.Open(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeFile(t, dir, "signet.yaml", `
issuer: http://`+addr+`
listen: `+addr+`
adminListen: 127.0.0.1:0
storage: { driver: sqlite, dsn: ./data/signet.db }
connectors:
  - id: ad
    type: ldap
    name: "Acme directory"
    url: `+d.LDAPSURL+`
    caFile: `+d.CA+`
    bindDN: "`+d.BindDN+`"
    bindPassword: ${LDAP_BIND_PASSWORD}
    userSearch: { baseDN: "ou=people,`+d.BaseDN+`", filter: "(objectClass=inetOrgPerson)", username: uid, idAttr: entryUUID, emailAttr: mail, nameAttr: cn }
    groupSearch: { baseDN: "ou=groups,`+d.BaseDN+`", filter: "(objectClass=groupOfNames)", userMatchers: [ { userAttr: DN, groupAttr: member } ], nameAttr: cn }
clients:
  - clientId: spa
    tokenEndpointAuthMethod: none
    allowedGrantTypes: [authorization_code]
    allowedScopes: [openid, email]
    redirectUris: [ "http://127.0.0.1:1/cb" ]
`)
	in := startServe(t, serveOptions{configPath: cfg}, map[string]string{"LDAP_BIND_PASSWORD": d.BindPassword})

	ff := newFormFlow(t)
	get, post := ff.get, ff.post
	verifier := strings.Repeat("v", 43)
	resp, _ := get(in.base + "/connect/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {"http://127.0.0.1:1/cb"},
		"scope": {"openid email"}, "state": {"x"}, "code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}}.Encode())
	_, page := get(resp.Header.Get("Location"))
	if !strings.Contains(page, `name="connector" value="ad"`) {
		t.Fatalf("login page:\n%s", page)
	}
	f := hidden(page)
	f.Set("connector", "ad")
	_, form := post(in.base+"/account/login", f)
	f = hidden(form)
	f.Set("connector", "ad")
	f.Set("connector_form", "1")
	f.Set("username", "bob")
	f.Set("password", "bob-password")
	resp, body := post(in.base+"/account/login", f)
	cb, _ := url.Parse(resp.Header.Get("Location"))
	if cb == nil || cb.Query().Get("code") == "" {
		t.Fatalf("sign-in: %d %s\n%s\nlogs:\n%s", resp.StatusCode, resp.Header.Get("Location"), body, in.logs)
	}
	tok := postToken(t, in.base+"/connect/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"spa"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:1/cb"}, "code_verifier": {verifier}})
	idt, _ := tok["id_token"].(string)
	if parts := strings.Split(idt, "."); len(parts) != 3 || !strings.Contains(decodeSegment(t, parts[1]), `"sub":"ad:`+d.EntryUUID(t, "bob")+`"`) {
		t.Fatalf("tokens %v", tok)
	}
	_, metrics := get("http://" + in.adminAddr + "/metrics")
	for _, kind := range []string{"network", "tls", "service_bind", "directory", "busy"} {
		if want := `signet_connector_errors_total{connector="ad",kind="` + kind + `"} 0`; !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(in.logs.String(), d.BindPassword) {
		t.Error("the bind password reached the logs")
	}
}
