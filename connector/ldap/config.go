package ldap

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Config is a connector of type ldap, as in the configuration's
// connectors list (docs/connectors.md). The fields the issue names keep
// its names; the rest are optional.
type Config struct {
	ID   string `yaml:"id"`   // the connector's id: the subjects' prefix
	Name string `yaml:"name"` // the login button's label
	// URL is ldaps://host[:636] or ldap://host[:389] (then StartTLS).
	URL string `yaml:"url"`
	// BindDN and BindPassword are the service account that searches
	// the directory; neither: the searches are anonymous.
	BindDN       string      `yaml:"bindDN"`
	BindPassword string      `yaml:"bindPassword"`
	UserSearch   UserSearch  `yaml:"userSearch"`
	GroupSearch  GroupSearch `yaml:"groupSearch"`

	// CAFile is a PEM file of the CA certificates that sign the
	// directory's certificate; empty: the system's roots.
	CAFile string `yaml:"caFile"`
	// ServerName is the name the certificate must carry; empty: the
	// URL's host.
	ServerName string `yaml:"serverName"`
	// InsecureNoTLS allows ldap:// without StartTLS: passwords in clear.
	InsecureNoTLS bool `yaml:"insecureNoTLS"`
	// DialTimeout bounds a connection's dial and TLS handshake (default
	// 5s); Timeout a whole call, waiting for a pooled connection included
	// (default 10s).
	DialTimeout time.Duration `yaml:"dialTimeout"`
	Timeout     time.Duration `yaml:"timeout"`
	// MaxConnections is the size of the service account's connection
	// pool (default 4, at most 64): at most this many calls talk to the
	// directory at once, the others wait (within Timeout).
	MaxConnections int `yaml:"maxConnections"`
}

// UserSearch says where the users are and which attributes say what.
type UserSearch struct {
	BaseDN string `yaml:"baseDN"`
	// Filter selects the entries that are users, e.g.
	// "(objectClass=person)"; default "(objectClass=*)".
	Filter string `yaml:"filter"`
	// Username is the attribute the username is matched against: uid,
	// or sAMAccountName / userPrincipalName on Active Directory.
	Username  string `yaml:"username"`
	IDAttr    string `yaml:"idAttr"`    // default entryUUID
	EmailAttr string `yaml:"emailAttr"` // default mail
	NameAttr  string `yaml:"nameAttr"`  // default cn
	// DisabledFilter, when set, matches the entries that may not sign
	// in, e.g. "(employeeType=disabled)". Use attributes the directory's
	// schema defines: a filter on an unknown attribute matches no one,
	// and then no one signs in.
	DisabledFilter string `yaml:"disabledFilter"`
}

// GroupSearch says where a user's groups are. Without a BaseDN no group
// is read.
type GroupSearch struct {
	BaseDN string `yaml:"baseDN"`
	// Filter selects the entries that are groups, e.g.
	// "(objectClass=groupOfNames)"; default "(objectClass=*)".
	Filter string `yaml:"filter"`
	// UserMatchers: a group is the user's when its GroupAttr holds the
	// user's UserAttr (DN: the entry's DN). Any matcher suffices.
	UserMatchers []UserMatcher `yaml:"userMatchers"`
	NameAttr     string        `yaml:"nameAttr"` // default cn
}

// UserMatcher matches a group attribute to a user attribute.
type UserMatcher struct {
	UserAttr  string `yaml:"userAttr"`  // DN, or an attribute of the user entry (uid for memberUid)
	GroupAttr string `yaml:"groupAttr"` // member, uniqueMember, memberUid
}

// Defaults.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultTimeout        = 10 * time.Second
	DefaultMaxConnections = 4
	MaxMaxConnections     = 64
	// MaxUsernameBytes is the longest username searched for.
	MaxUsernameBytes = 256
	// MaxGroups is the most groups read for a user.
	MaxGroups = 1000
)

// ErrConfig is returned, wrapped, for a configuration that cannot work.
var ErrConfig = errors.New("ldap: invalid connector configuration")

// settings is a checked Config with its defaults.
type settings struct {
	Config
	u         *url.URL
	tls       *tls.Config // nil: plain LDAP (InsecureNoTLS)
	startTLS  bool
	userAttrs []string // the attributes read from a user entry
}

func (c Config) check() (*settings, error) {
	bad := func(format string, a ...any) (*settings, error) {
		id := c.ID
		if id == "" {
			id = "(no id)"
		}
		return nil, fmt.Errorf("%w: connector %s: %s", ErrConfig, id, fmt.Sprintf(format, a...))
	}
	s := &settings{Config: c}
	if c.ID == "" || strings.ContainsAny(c.ID, ": \t\r\n") {
		return bad("id is required, without spaces or colons (it prefixes the subjects)")
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" || (u.Scheme != "ldap" && u.Scheme != "ldaps") {
		return bad("url %q must be ldaps://host[:port] or ldap://host[:port]", c.URL)
	}
	s.u = u
	if (c.BindDN == "") != (c.BindPassword == "") {
		return bad("bindDN and bindPassword go together: the service account that searches the directory (neither: anonymous searches)")
	}
	us := &s.UserSearch
	if us.BaseDN == "" || us.Username == "" {
		return bad("userSearch.baseDN and userSearch.username are required")
	}
	if us.Filter == "" {
		us.Filter = "(objectClass=*)"
	}
	for name, f := range map[string]string{"userSearch.filter": us.Filter, "userSearch.disabledFilter": us.DisabledFilter, "groupSearch.filter": s.GroupSearch.Filter} {
		if f == "" {
			continue
		}
		if _, err := goldap.CompileFilter(f); err != nil {
			return bad("%s %q is not an LDAP filter (%v): write it as (attribute=value), in parentheses", name, f, err)
		}
	}
	us.IDAttr = cmp.Or(us.IDAttr, "entryUUID")
	us.EmailAttr = cmp.Or(us.EmailAttr, "mail")
	us.NameAttr = cmp.Or(us.NameAttr, "cn")
	gs := &s.GroupSearch
	gs.Filter = cmp.Or(gs.Filter, "(objectClass=*)")
	gs.NameAttr = cmp.Or(gs.NameAttr, "cn")
	if gs.BaseDN != "" && len(gs.UserMatchers) == 0 {
		return bad("groupSearch.userMatchers is required with groupSearch.baseDN, e.g. [{userAttr: DN, groupAttr: member}]")
	}
	for i, m := range gs.UserMatchers {
		if m.UserAttr == "" || m.GroupAttr == "" {
			return bad("groupSearch.userMatchers[%d] needs userAttr and groupAttr", i)
		}
	}
	s.DialTimeout = cmp.Or(s.DialTimeout, DefaultDialTimeout)
	s.Timeout = cmp.Or(s.Timeout, DefaultTimeout)
	if s.DialTimeout < 0 || s.Timeout < 0 {
		return bad("dialTimeout and timeout must be positive")
	}
	s.MaxConnections = cmp.Or(s.MaxConnections, DefaultMaxConnections)
	if s.MaxConnections < 1 || s.MaxConnections > MaxMaxConnections {
		return bad("maxConnections %d must be between 1 and %d", s.MaxConnections, MaxMaxConnections)
	}
	switch {
	case u.Scheme == "ldaps":
		if c.InsecureNoTLS {
			return bad("insecureNoTLS contradicts an ldaps:// url: remove it")
		}
	case c.InsecureNoTLS:
		if c.CAFile != "" {
			return bad("caFile is unused with insecureNoTLS: remove one")
		}
	default:
		s.startTLS = true
	}
	if !c.InsecureNoTLS {
		host := u.Hostname()
		if c.ServerName != "" {
			host = c.ServerName
		}
		s.tls = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return bad("caFile: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return bad("caFile %s holds no PEM certificate", c.CAFile)
			}
			s.tls.RootCAs = pool
		}
	}
	s.userAttrs = uniq(us.Username, us.IDAttr, us.EmailAttr, us.NameAttr,
		"pwdAccountLockedTime", "nsAccountLock", "userAccountControl")
	for _, m := range gs.UserMatchers {
		if !strings.EqualFold(m.UserAttr, "DN") {
			s.userAttrs = uniq(append(s.userAttrs, m.UserAttr)...)
		}
	}
	return s, nil
}

// address is host:port with the scheme's default port.
func (s *settings) address() string {
	if s.u.Port() != "" {
		return s.u.Host
	}
	port := "389"
	if s.u.Scheme == "ldaps" {
		port = "636"
	}
	return net.JoinHostPort(s.u.Hostname(), port)
}

// uniq returns names without repeats (case-insensitive, as LDAP
// attribute names).
func uniq(names ...string) []string {
	var out []string
	for _, n := range names {
		dup := false
		for _, o := range out {
			if strings.EqualFold(o, n) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out
}
