package ldap

import "github.com/signet-id/signet/config"

// FromConfig returns the Config of a configuration's ldap connector
// (co.LDAP set; config checked it).
func FromConfig(co config.Connector) Config {
	l := co.LDAP
	c := Config{ID: co.ID, Name: co.Name, URL: l.URL, BindDN: l.BindDN, BindPassword: l.BindPassword,
		UserSearch: UserSearch{BaseDN: l.UserSearch.BaseDN, Filter: l.UserSearch.Filter, Username: l.UserSearch.Username,
			IDAttr: l.UserSearch.IDAttr, EmailAttr: l.UserSearch.EmailAttr, NameAttr: l.UserSearch.NameAttr,
			DisabledFilter: l.UserSearch.DisabledFilter},
		CAFile: l.CAFile, ServerName: l.ServerName, InsecureNoTLS: l.InsecureNoTLS,
		DialTimeout: l.DialTimeout, Timeout: l.Timeout, MaxConnections: l.MaxConnections}
	if g := l.GroupSearch; g != nil {
		c.GroupSearch = GroupSearch{BaseDN: g.BaseDN, Filter: g.Filter, NameAttr: g.NameAttr}
		for _, m := range g.UserMatchers {
			c.GroupSearch.UserMatchers = append(c.GroupSearch.UserMatchers, UserMatcher{UserAttr: m.UserAttr, GroupAttr: m.GroupAttr})
		}
	}
	return c
}
