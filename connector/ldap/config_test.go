package ldap

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/signet-id/signet/config"
)

func validConfig() Config {
	return Config{ID: "ad", Name: "Directory", URL: "ldaps://ldap.example.com",
		BindDN: "cn=signet,dc=example,dc=com", BindPassword: "pw",
		UserSearch: UserSearch{BaseDN: "dc=example,dc=com", Username: "uid"}}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.ID = "" }, "id is required"},
		{func(c *Config) { c.ID = "a:b" }, "without spaces or colons"},
		{func(c *Config) { c.URL = "https://ldap.example.com" }, "must be ldaps://"},
		{func(c *Config) { c.URL = "ldap://" }, "must be ldaps://"},
		{func(c *Config) { c.BindPassword = "" }, "bindDN and bindPassword go together"},
		{func(c *Config) { c.UserSearch.BaseDN = "" }, "userSearch.baseDN"},
		{func(c *Config) { c.UserSearch.Filter = "objectClass=person" }, "userSearch.filter \"objectClass=person\" is not an LDAP filter"},
		{func(c *Config) { c.UserSearch.DisabledFilter = "(a=b" }, "userSearch.disabledFilter"},
		{func(c *Config) { c.GroupSearch.BaseDN = "ou=groups" }, "groupSearch.userMatchers is required"},
		{func(c *Config) {
			c.GroupSearch = GroupSearch{BaseDN: "ou=groups", UserMatchers: []UserMatcher{{UserAttr: "DN"}}}
		}, "userMatchers[0] needs userAttr and groupAttr"},
		{func(c *Config) { c.MaxConnections = 65 }, "maxConnections 65"},
		{func(c *Config) { c.InsecureNoTLS = true }, "insecureNoTLS contradicts an ldaps:// url"},
		{func(c *Config) { c.URL, c.InsecureNoTLS, c.CAFile = "ldap://h", true, "/ca.pem" }, "caFile is unused with insecureNoTLS"},
		{func(c *Config) { c.CAFile = "/no/such/ca.pem" }, "caFile"},
	} {
		cfg := validConfig()
		tc.mod(&cfg)
		_, err := New(cfg, Options{})
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want ErrConfig with %q", cfg, err, tc.want)
		}
	}
	for _, tc := range []struct {
		url      string
		insecure bool
		startTLS bool
		address  string
	}{
		{"ldaps://h", false, false, "h:636"},
		{"ldap://h", false, true, "h:389"},
		{"ldap://h:1389", true, false, "h:1389"},
	} {
		cfg := validConfig()
		cfg.URL, cfg.InsecureNoTLS = tc.url, tc.insecure
		s, err := cfg.check()
		if err != nil {
			t.Fatal(err)
		}
		if s.startTLS != tc.startTLS || (s.tls == nil) != tc.insecure || s.address() != tc.address {
			t.Errorf("%s insecure=%v: startTLS %v, tls %v, address %s", tc.url, tc.insecure, s.startTLS, s.tls != nil, s.address())
		}
	}
	cfg := validConfig()
	cfg.BindDN, cfg.BindPassword = "", "" // anonymous searches
	if _, err := cfg.check(); err != nil {
		t.Fatalf("anonymous: %v", err)
	}
}

func TestIDEncoding(t *testing.T) {
	// objectGUID {3F2504E0-4F89-11D3-9A0C-0305E82C3301} as AD stores it.
	guid := []byte{0xe0, 0x04, 0x25, 0x3f, 0x89, 0x4f, 0xd3, 0x11, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01}
	for _, tc := range []struct {
		attr string
		raw  []byte
		want string
	}{
		{"objectGUID", guid, "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
		{"entryUUID", []byte("8c4bf416-8565-1041-9b10-b91b8f9dadec"), "8c4bf416-8565-1041-9b10-b91b8f9dadec"},
		{"employeeNumber", []byte{0, 1, 0xff}, "b64:AAH_"},
		{"uid", []byte("b64:looks-encoded"), "b64:YjY0Omxvb2tzLWVuY29kZWQ"},
	} {
		got := encodeID(tc.attr, tc.raw)
		if got != tc.want {
			t.Errorf("encodeID(%s, %x) = %q, want %q", tc.attr, tc.raw, got, tc.want)
		}
		back, ok := decodeID(tc.attr, got)
		if !ok || !bytes.Equal(back, tc.raw) {
			t.Errorf("decodeID(%s, %q) = %x, %v", tc.attr, got, back, ok)
		}
	}
	for _, bad := range []string{"", "3f2504e0", "zz2504e0-4f89-11d3-9a0c-0305e82c3301"} {
		if _, ok := decodeID("objectGUID", bad); ok {
			t.Errorf("decodeID(objectGUID, %q) accepted", bad)
		}
	}
}

func TestDisabledAttributes(t *testing.T) {
	for _, tc := range []struct {
		attrs map[string][]string
		want  bool
	}{
		{nil, false},
		{map[string][]string{"pwdAccountLockedTime": {"000001010000Z"}}, true},
		// A temporary lockout after failed binds: the directory's bind
		// decides while it lasts; sessions go on.
		{map[string][]string{"pwdAccountLockedTime": {"20261206020000Z"}}, false},
		{map[string][]string{"nsAccountLock": {"TRUE"}}, true},
		{map[string][]string{"nsAccountLock": {"false"}}, false},
		{map[string][]string{"userAccountControl": {"514"}}, true}, // NORMAL_ACCOUNT | ACCOUNTDISABLE
		{map[string][]string{"userAccountControl": {"512"}}, false},
		{map[string][]string{"userAccountControl": {"66050"}}, true}, // DONT_EXPIRE_PASSWORD | NORMAL | DISABLE
	} {
		if got := disabled(goldap.NewEntry("uid=x", tc.attrs)); got != tc.want {
			t.Errorf("disabled(%v) = %v, want %v", tc.attrs, got, tc.want)
		}
	}
}

func TestCheckUsername(t *testing.T) {
	for in, want := range map[string]string{"alice": "alice", " alice ": "alice", "Al Ice": "Al Ice", `st*r(x)\`: `st*r(x)\`} {
		if got, ok := checkUsername(in); !ok || got != want {
			t.Errorf("checkUsername(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "   ", "a\x00", "a\nb", "\talice", "\xff", strings.Repeat("x", MaxUsernameBytes+1)} {
		if _, ok := checkUsername(in); ok {
			t.Errorf("checkUsername(%q) accepted", in)
		}
	}
}

// The example, through the configuration, makes this connector.
func TestFromConfig(t *testing.T) {
	co := config.Connector{ID: "ad", Type: config.ConnectorLDAP, Name: "Acme directory", LDAP: &config.LDAPConnector{
		URL: "ldaps://ldap.acme.example:636", BindDN: "cn=signet,ou=services,dc=acme,dc=example", BindPassword: "pw",
		UserSearch: config.LDAPUserSearch{BaseDN: "ou=people,dc=acme,dc=example", Filter: "(objectClass=person)", Username: "uid",
			IDAttr: "entryUUID", EmailAttr: "mail", NameAttr: "cn", DisabledFilter: "(employeeType=left)"},
		GroupSearch: &config.LDAPGroupSearch{BaseDN: "ou=groups,dc=acme,dc=example", Filter: "(objectClass=groupOfNames)",
			UserMatchers: []config.LDAPUserMatcher{{UserAttr: "DN", GroupAttr: "member"}}, NameAttr: "cn"},
		ServerName: "ldap.internal", MaxConnections: 2, Timeout: time.Second}}
	want := Config{ID: "ad", Name: "Acme directory", URL: "ldaps://ldap.acme.example:636",
		BindDN: "cn=signet,ou=services,dc=acme,dc=example", BindPassword: "pw",
		UserSearch: UserSearch{BaseDN: "ou=people,dc=acme,dc=example", Filter: "(objectClass=person)", Username: "uid",
			IDAttr: "entryUUID", EmailAttr: "mail", NameAttr: "cn", DisabledFilter: "(employeeType=left)"},
		GroupSearch: GroupSearch{BaseDN: "ou=groups,dc=acme,dc=example", Filter: "(objectClass=groupOfNames)",
			UserMatchers: []UserMatcher{{UserAttr: "DN", GroupAttr: "member"}}, NameAttr: "cn"},
		ServerName: "ldap.internal", MaxConnections: 2, Timeout: time.Second}
	if got := FromConfig(co); !reflect.DeepEqual(got, want) {
		t.Fatalf("FromConfig:\n%+v\nwant\n%+v", got, want)
	}
	if _, err := New(FromConfig(co), Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestGroupFilter(t *testing.T) {
	cfg := validConfig()
	cfg.GroupSearch = GroupSearch{BaseDN: "dc=ad", Filter: "(objectClass=group)", UserMatchers: []UserMatcher{
		{UserAttr: "DN", GroupAttr: "member:1.2.840.113556.1.4.1941:"}, // AD's nested groups
		{UserAttr: "uid", GroupAttr: "memberUid"},
	}}
	c, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := goldap.NewEntry("CN=O*Brien (ops),OU=Staff,DC=ad", map[string][]string{"uid": {"obrien)(uid=*"}})
	f := c.groupFilter(e)
	want := `(&(objectClass=group)(|(member:1.2.840.113556.1.4.1941:=CN=O\2aBrien \28ops\29,OU=Staff,DC=ad)(memberUid=obrien\29\28uid=\2a)))`
	if f != want {
		t.Fatalf("filter\n%s\nwant\n%s", f, want)
	}
	if _, err := goldap.CompileFilter(f); err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	// No matcher attribute: nothing to search.
	cfg.GroupSearch.UserMatchers = cfg.GroupSearch.UserMatchers[1:]
	c, _ = New(cfg, Options{})
	if f := c.groupFilter(goldap.NewEntry("uid=x", nil)); f != "" {
		t.Fatalf("filter %q without a uid", f)
	}
}
