package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Connector types (connectors[].type).
const (
	ConnectorOIDC = "oidc"
	ConnectorLDAP = "ldap"
	// ConnectorLocal is not a type but the name, in
	// clients[].allowedConnectors, of Signet's own users (users, and a
	// user store): the username and password form. It cannot be a
	// connector id.
	ConnectorLocal = "local"
)

// Connector is an upstream identity source people sign in through
// (connectors): an OpenID Connect provider (Type ConnectorOIDC, OIDC set)
// or an LDAP directory (Type ConnectorLDAP, LDAP set).
type Connector struct {
	// ID (id) names the connector in URLs, in clients[].allowedConnectors
	// and in the subjects of its users: letters, digits, '-' and '_'.
	ID string
	// Type (type) is ConnectorOIDC or ConnectorLDAP.
	Type string
	// Name (name) is the label of its button on the login page.
	Name string
	OIDC *OIDCConnector
	LDAP *LDAPConnector
	// Digest identifies the entry as written (after ${} expansion).
	Digest Digest
}

// OIDCConnector is an upstream OpenID Connect provider.
type OIDCConnector struct {
	// Issuer (issuer) is the provider's issuer identifier: discovery is
	// read from Issuer + "/.well-known/openid-configuration" and the ID
	// tokens' iss must equal it.
	Issuer string
	// ClientID and ClientSecret (clientId, clientSecret) are Signet's
	// registration at the provider. ClientSecret may be empty for a
	// provider that registered Signet as a public client (PKCE only).
	ClientID     string
	ClientSecret string
	// Scopes (scopes) are asked of the provider; openid is always
	// included. Default: openid, profile, email.
	Scopes []string
	// ClaimMapping (claimMapping) says which upstream claim fills each of
	// the user's claims.
	ClaimMapping ClaimMapping
}

// ClaimMapping names the upstream claims (ID token, then userinfo) that
// fill a connector user's claims. An empty field takes its default.
type ClaimMapping struct {
	// Subject (subject): the claim that identifies the person at the
	// provider, stable for ever; default "sub" (Entra ID: "oid").
	Subject string
	// Username (username) fills preferred_username; default
	// "preferred_username".
	Username string
	// Name (name) fills name; default "name".
	Name string
	// Email (email) fills email; default "email".
	Email string
	// EmailVerified (emailVerified) fills email_verified; default
	// "email_verified".
	EmailVerified string
	// Groups (groups) fills groups (a list of strings); default: none.
	Groups string
}

// LDAPConnector is an LDAP directory (or Active Directory).
type LDAPConnector struct {
	// URL (url): ldaps://host:636 or ldap://host:389 (StartTLS).
	URL string
	// BindDN and BindPassword (bindDN, bindPassword): the service account
	// that searches the directory.
	BindDN       string
	BindPassword string
	UserSearch   LDAPUserSearch
	// GroupSearch (groupSearch) is nil when groups are not read.
	GroupSearch *LDAPGroupSearch
	// CAFile (caFile) is a PEM file of the CAs that sign the directory's
	// certificate; empty: the system's roots. ServerName (serverName) is
	// the name its certificate must carry; empty: the URL's host.
	CAFile     string
	ServerName string
	// InsecureNoTLS (insecureNoTLS) lets an ldap:// URL skip StartTLS:
	// passwords cross the network in clear.
	InsecureNoTLS bool
	// DialTimeout (dialTimeout, default 5s) bounds a connection's dial
	// and TLS handshake, Timeout (timeout, default 10s) a whole call;
	// MaxConnections (maxConnections, default 4, at most 64) is the size
	// of the service account's connection pool. Zero: the default.
	DialTimeout    time.Duration
	Timeout        time.Duration
	MaxConnections int
}

// LDAPUserSearch finds a user by username (connectors[].userSearch).
type LDAPUserSearch struct {
	BaseDN string // baseDN
	// Filter (filter) is ANDed with (Username=<escaped username>).
	Filter    string
	Username  string // username: the attribute typed as the username, e.g. uid
	IDAttr    string // idAttr: the stable id, e.g. entryUUID or objectGUID
	EmailAttr string // emailAttr
	NameAttr  string // nameAttr
	// DisabledFilter (disabledFilter) matches the entries that may not
	// sign in, e.g. (employeeType=disabled); besides the directory's own
	// flags (docs/connectors.md).
	DisabledFilter string
}

// LDAPGroupSearch finds a user's groups (connectors[].groupSearch).
type LDAPGroupSearch struct {
	BaseDN       string // baseDN
	Filter       string // filter
	UserMatchers []LDAPUserMatcher
	NameAttr     string // nameAttr: the group's name, e.g. cn
}

// LDAPUserMatcher matches a group to a user: the group's GroupAttr holds
// the user's UserAttr ("DN" for the user's distinguished name).
type LDAPUserMatcher struct {
	UserAttr  string // userAttr
	GroupAttr string // groupAttr
}

type connectorDoc struct {
	ID           string           `yaml:"id"`
	Type         string           `yaml:"type"`
	Name         string           `yaml:"name"`
	Issuer       string           `yaml:"issuer"`
	ClientID     string           `yaml:"clientId"`
	ClientSecret string           `yaml:"clientSecret"`
	Scopes       []string         `yaml:"scopes"`
	ClaimMapping *claimMappingDoc `yaml:"claimMapping"`
	URL          string           `yaml:"url"`
	BindDN       string           `yaml:"bindDN"`
	BindPassword string           `yaml:"bindPassword"`
	UserSearch   *userSearchDoc   `yaml:"userSearch"`
	GroupSearch  *groupSearchDoc  `yaml:"groupSearch"`
	// ldap, besides the keys
	CAFile         string    `yaml:"caFile"`
	ServerName     string    `yaml:"serverName"`
	InsecureNoTLS  bool      `yaml:"insecureNoTLS"`
	DialTimeout    *Duration `yaml:"dialTimeout"`
	Timeout        *Duration `yaml:"timeout"`
	MaxConnections int       `yaml:"maxConnections"`
}

type claimMappingDoc struct {
	Subject       string `yaml:"subject"`
	Username      string `yaml:"username"`
	Name          string `yaml:"name"`
	Email         string `yaml:"email"`
	EmailVerified string `yaml:"emailVerified"`
	Groups        string `yaml:"groups"`
}

type userSearchDoc struct {
	BaseDN    string `yaml:"baseDN"`
	Filter    string `yaml:"filter"`
	Username  string `yaml:"username"`
	IDAttr    string `yaml:"idAttr"`
	EmailAttr string `yaml:"emailAttr"`
	NameAttr  string `yaml:"nameAttr"`
	// DisabledFilter is not in the example: an operator's rule.
	DisabledFilter string `yaml:"disabledFilter"`
}

type groupSearchDoc struct {
	BaseDN       string           `yaml:"baseDN"`
	Filter       string           `yaml:"filter"`
	UserMatchers []userMatcherDoc `yaml:"userMatchers"`
	NameAttr     string           `yaml:"nameAttr"`
}

type userMatcherDoc struct {
	UserAttr  string `yaml:"userAttr"`
	GroupAttr string `yaml:"groupAttr"`
}

var connectorIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// resolveConnectors checks connectors.
func (p *parser) resolveConnectors(d *fileDoc, c *Config) error {
	seen := make(map[string]bool)
	for i, cd := range d.Connectors {
		path := fmt.Sprintf("connectors[%d]", i)
		if !connectorIDPattern.MatchString(cd.ID) {
			return p.at(path+".id", "%q: a connector needs an id of 1 to 64 letters, digits, '-' or '_' (it appears in URLs and in its users' subjects), e.g. id: corp", cd.ID)
		}
		if cd.ID == ConnectorLocal {
			return p.at(path+".id", "%q names Signet's own users in clients[].allowedConnectors; choose another id", cd.ID)
		}
		if seen[cd.ID] {
			return p.at(path+".id", "%q is used twice; connector ids must be unique", cd.ID)
		}
		seen[cd.ID] = true
		if strings.TrimSpace(cd.Name) == "" {
			return p.at(path+".name", "(%s) is required: the label of the connector's button on the login page, e.g. name: \"Acme SSO\"", cd.ID)
		}
		co := Connector{ID: cd.ID, Type: cd.Type, Name: cd.Name, Digest: digest(cd)}
		var err error
		switch cd.Type {
		case ConnectorOIDC:
			co.OIDC, err = p.oidcConnector(path, &cd)
		case ConnectorLDAP:
			co.LDAP, err = p.ldapConnector(path, &cd)
		case "":
			return p.at(path+".type", "(%s) is required: oidc (an OpenID Connect provider) or ldap (an LDAP directory or Active Directory)", cd.ID)
		default:
			return p.at(path+".type", "(%s) %q is not a connector type; use oidc or ldap", cd.ID, cd.Type)
		}
		if err != nil {
			return err
		}
		c.Connectors = append(c.Connectors, co)
	}
	// A connector user's subject is "<id>:<upstream id>": a local user's
	// subject with that prefix would be answered by the connector.
	for i, ud := range d.Users {
		if id, _, ok := strings.Cut(ud.Subject, ":"); ok && seen[id] {
			return p.at(fmt.Sprintf("users[%d].subject", i), "%q starts with %q, the prefix of connector %s's subjects; give the user a subject without it", ud.Subject, id+":", id)
		}
	}
	return nil
}

// misplaced reports the first field of cd that belongs to the other type.
func misplaced(cd *connectorDoc) string {
	oidc := map[string]bool{"issuer": cd.Issuer != "", "clientId": cd.ClientID != "", "clientSecret": cd.ClientSecret != "",
		"scopes": len(cd.Scopes) > 0, "claimMapping": cd.ClaimMapping != nil}
	ldap := map[string]bool{"url": cd.URL != "", "bindDN": cd.BindDN != "", "bindPassword": cd.BindPassword != "",
		"userSearch": cd.UserSearch != nil, "groupSearch": cd.GroupSearch != nil,
		"caFile": cd.CAFile != "", "serverName": cd.ServerName != "", "insecureNoTLS": cd.InsecureNoTLS,
		"dialTimeout": cd.DialTimeout != nil, "timeout": cd.Timeout != nil, "maxConnections": cd.MaxConnections != 0}
	other := ldap
	if cd.Type == ConnectorLDAP {
		other = oidc
	}
	keys := make([]string, 0, len(other))
	for k, set := range other {
		if set {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

func (p *parser) oidcConnector(path string, cd *connectorDoc) (*OIDCConnector, error) {
	if k := misplaced(cd); k != "" {
		return nil, p.at(path+"."+k, "(%s) is an option of ldap connectors; this one is type: oidc", cd.ID)
	}
	u, err := url.Parse(cd.Issuer)
	switch {
	case cd.Issuer == "":
		return nil, p.at(path+".issuer", "(%s) is required: the provider's issuer URL, e.g. https://accounts.google.com", cd.ID)
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		return nil, p.at(path+".issuer", "(%s) %q is not an issuer URL: write https://host[/path] with no query or fragment, exactly as the provider's discovery document says", cd.ID, cd.Issuer)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return nil, p.at(path+".issuer", "(%s) %q uses plain http: only a loopback issuer may (for tests); use https", cd.ID, cd.Issuer)
	}
	if cd.ClientID == "" {
		return nil, p.at(path+".clientId", "(%s) is required: the client id Signet was registered with at the provider", cd.ID)
	}
	o := &OIDCConnector{Issuer: cd.Issuer, ClientID: cd.ClientID, ClientSecret: cd.ClientSecret}
	o.Scopes = []string{"openid", "profile", "email"}
	if len(cd.Scopes) > 0 {
		o.Scopes = []string{"openid"}
		for j, s := range cd.Scopes {
			if !validScopeToken(s) {
				return nil, p.at(fmt.Sprintf("%s.scopes[%d]", path, j), "(%s) %q is not a scope token", cd.ID, s)
			}
			if !slices.Contains(o.Scopes, s) {
				o.Scopes = append(o.Scopes, s)
			}
		}
	}
	m := ClaimMapping{Subject: "sub", Username: "preferred_username", Name: "name", Email: "email", EmailVerified: "email_verified"}
	if cm := cd.ClaimMapping; cm != nil {
		for _, f := range []struct {
			key  string
			v    string
			into *string
		}{{"subject", cm.Subject, &m.Subject}, {"username", cm.Username, &m.Username}, {"name", cm.Name, &m.Name},
			{"email", cm.Email, &m.Email}, {"emailVerified", cm.EmailVerified, &m.EmailVerified}, {"groups", cm.Groups, &m.Groups}} {
			if f.v == "" {
				continue
			}
			if strings.TrimSpace(f.v) != f.v || strings.ContainsAny(f.v, "\x00\n") {
				return nil, p.at(path+".claimMapping."+f.key, "(%s) %q is not a claim name", cd.ID, f.v)
			}
			*f.into = f.v
		}
	}
	o.ClaimMapping = m
	return o, nil
}

func (p *parser) ldapConnector(path string, cd *connectorDoc) (*LDAPConnector, error) {
	if k := misplaced(cd); k != "" {
		return nil, p.at(path+"."+k, "(%s) is an option of oidc connectors; this one is type: ldap", cd.ID)
	}
	u, err := url.Parse(cd.URL)
	switch {
	case cd.URL == "":
		return nil, p.at(path+".url", "(%s) is required: the directory's address, e.g. ldaps://ldap.example.com:636 (or ldap://...:389, upgraded with StartTLS)", cd.ID)
	case err != nil || (u.Scheme != "ldaps" && u.Scheme != "ldap") || u.Host == "":
		return nil, p.at(path+".url", "(%s) %q is not an LDAP URL: write ldaps://host:636 or ldap://host:389", cd.ID, cd.URL)
	}
	if (cd.BindDN == "") != (cd.BindPassword == "") {
		return nil, p.at(path, "(%s) bindDN and bindPassword go together: the service account that searches the directory, e.g. bindPassword: ${LDAP_BIND_PASSWORD}", cd.ID)
	}
	us := cd.UserSearch
	if us == nil || us.BaseDN == "" || us.Username == "" || us.IDAttr == "" {
		return nil, p.at(path+".userSearch", "(%s) needs baseDN, username (the attribute typed as the username, e.g. uid or sAMAccountName) and idAttr (a stable id, e.g. entryUUID or objectGUID)", cd.ID)
	}
	if us.Filter != "" && !balancedFilter(us.Filter) {
		return nil, p.at(path+".userSearch.filter", "(%s) %q is not an LDAP filter: write it in parentheses, e.g. (objectClass=person)", cd.ID, us.Filter)
	}
	l := &LDAPConnector{URL: cd.URL, BindDN: cd.BindDN, BindPassword: cd.BindPassword,
		UserSearch: LDAPUserSearch{BaseDN: us.BaseDN, Filter: us.Filter, Username: us.Username, IDAttr: us.IDAttr, EmailAttr: us.EmailAttr, NameAttr: us.NameAttr}}
	if err := p.ldapOptions(path, cd, u, l); err != nil {
		return nil, err
	}
	if gs := cd.GroupSearch; gs != nil {
		if gs.BaseDN == "" || gs.NameAttr == "" || len(gs.UserMatchers) == 0 {
			return nil, p.at(path+".groupSearch", "(%s) needs baseDN, nameAttr (e.g. cn) and userMatchers (e.g. [ { userAttr: DN, groupAttr: member } ])", cd.ID)
		}
		if gs.Filter != "" && !balancedFilter(gs.Filter) {
			return nil, p.at(path+".groupSearch.filter", "(%s) %q is not an LDAP filter: write it in parentheses, e.g. (objectClass=groupOfNames)", cd.ID, gs.Filter)
		}
		g := &LDAPGroupSearch{BaseDN: gs.BaseDN, Filter: gs.Filter, NameAttr: gs.NameAttr}
		for j, m := range gs.UserMatchers {
			if m.UserAttr == "" || m.GroupAttr == "" {
				return nil, p.at(fmt.Sprintf("%s.groupSearch.userMatchers[%d]", path, j), "(%s) needs userAttr and groupAttr, e.g. { userAttr: DN, groupAttr: member }", cd.ID)
			}
			g.UserMatchers = append(g.UserMatchers, LDAPUserMatcher{UserAttr: m.UserAttr, GroupAttr: m.GroupAttr})
		}
		l.GroupSearch = g
	}
	return l, nil
}

// ldapOptions checks the ldap connector's keys beyond the issue's
// example: TLS, timeouts, pool size, disabledFilter.
func (p *parser) ldapOptions(path string, cd *connectorDoc, u *url.URL, l *LDAPConnector) error {
	if f := cd.UserSearch.DisabledFilter; f != "" && !balancedFilter(f) {
		return p.at(path+".userSearch.disabledFilter", "(%s) %q is not an LDAP filter: write it in parentheses, e.g. (employeeType=disabled)", cd.ID, f)
	}
	l.UserSearch.DisabledFilter = cd.UserSearch.DisabledFilter
	switch {
	case cd.InsecureNoTLS && u.Scheme == "ldaps":
		return p.at(path+".insecureNoTLS", "(%s) contradicts an ldaps:// url: remove it", cd.ID)
	case cd.InsecureNoTLS && cd.CAFile != "":
		return p.at(path+".caFile", "(%s) is unused with insecureNoTLS: remove one", cd.ID)
	}
	if cd.MaxConnections < 0 || cd.MaxConnections > 64 {
		return p.at(path+".maxConnections", "(%s) %d: the pool holds 1 to 64 connections (default 4)", cd.ID, cd.MaxConnections)
	}
	l.CAFile, l.ServerName, l.InsecureNoTLS, l.MaxConnections = cd.CAFile, cd.ServerName, cd.InsecureNoTLS, cd.MaxConnections
	if cd.DialTimeout != nil {
		l.DialTimeout = time.Duration(*cd.DialTimeout)
	}
	if cd.Timeout != nil {
		l.Timeout = time.Duration(*cd.Timeout)
	}
	return nil
}

// balancedFilter reports whether f looks like an LDAP filter: wrapped in
// parentheses that balance. The directory parses it for real.
func balancedFilter(f string) bool {
	if !strings.HasPrefix(f, "(") || !strings.HasSuffix(f, ")") {
		return false
	}
	depth := 0
	for _, r := range f {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

// resolveAllowedConnectors checks clients[].allowedConnectors against
// connectors.
func (p *parser) resolveAllowedConnectors(d *fileDoc, c *Config) error {
	for i, cd := range d.Clients {
		if err := p.resolveClientConnectors(fmt.Sprintf("clients[%d]", i), cd.AllowedConnectors, &c.Clients[i], c); err != nil {
			return err
		}
	}
	return nil
}

// resolveClientConnectors checks one client's allowedConnectors (the
// client at path) against c's connectors and sets them on cl.
func (p *parser) resolveClientConnectors(path string, ids []string, cl *Client, c *Config) error {
	for j, id := range ids {
		at := fmt.Sprintf("%s.allowedConnectors[%d]", path, j)
		if id != ConnectorLocal && !slices.ContainsFunc(c.Connectors, func(co Connector) bool { return co.ID == id }) {
			known := "none are configured"
			if len(c.Connectors) > 0 {
				names := make([]string, len(c.Connectors))
				for k, co := range c.Connectors {
					names[k] = co.ID
				}
				known = "known: " + strings.Join(names, ", ")
			}
			return p.at(at, "(%s) %q is not a connector id (%s; %q names Signet's own users)", cl.ClientID, id, known, ConnectorLocal)
		}
		if !slices.Contains(cl.AllowedGrantTypes, GrantAuthorizationCode) {
			return p.at(at, "(%s) connectors sign people in through the login flow; add authorization_code to allowedGrantTypes or remove allowedConnectors", cl.ClientID)
		}
		if slices.Contains(cl.AllowedConnectors, id) {
			return p.at(at, "(%s) lists %q twice", cl.ClientID, id)
		}
		cl.AllowedConnectors = append(cl.AllowedConnectors, id)
	}
	return nil
}
