// Package ldaptest finds the test directory that .ci/ldap.sh starts (a
// throw-away slapd loaded with connector/ldap/testdata/directory.ldif),
// for the tests of the LDAP connector and of the server with it.
package ldaptest

import (
	"os"
	"os/exec"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

// Directory is the test directory.
type Directory struct {
	URL      string // ldap://127.0.0.1:PORT (StartTLS)
	LDAPSURL string // ldaps://127.0.0.1:PORT
	CA       string // the PEM file of the CA of its certificate
	BaseDN   string // dc=signet,dc=test
	// BindDN and BindPassword are the service account.
	BindDN, BindPassword string
	// AdminDN and AdminPassword are the directory's rootdn.
	AdminDN, AdminPassword string
	// RestartURL (ldaps) is a second slapd of the same directory that
	// Ctl stops and starts; only the restart test uses it.
	RestartURL, Ctl string
}

// Open returns the test directory, or skips t saying why.
func Open(t testing.TB) Directory {
	t.Helper()
	d := Directory{
		URL: os.Getenv("SIGNET_TEST_LDAP_URL"), LDAPSURL: os.Getenv("SIGNET_TEST_LDAPS_URL"),
		CA: os.Getenv("SIGNET_TEST_LDAP_CA"), BaseDN: os.Getenv("SIGNET_TEST_LDAP_BASE_DN"),
		BindDN: os.Getenv("SIGNET_TEST_LDAP_BIND_DN"), BindPassword: os.Getenv("SIGNET_TEST_LDAP_BIND_PASSWORD"),
		AdminDN: os.Getenv("SIGNET_TEST_LDAP_ADMIN_DN"), AdminPassword: os.Getenv("SIGNET_TEST_LDAP_ADMIN_PASSWORD"),
		RestartURL: os.Getenv("SIGNET_TEST_LDAP_RESTART_URL"), Ctl: os.Getenv("SIGNET_TEST_LDAP_CTL"),
	}
	if d.URL == "" || d.LDAPSURL == "" || d.CA == "" || d.BaseDN == "" || d.BindDN == "" || d.AdminDN == "" || d.RestartURL == "" || d.Ctl == "" {
		t.Skip("skipped: no test directory; SIGNET_TEST_LDAP_* are unset (`source .ci/ldap.sh` starts a slapd and sets them, as .ci/run does)")
	}
	return d
}

// Admin returns a connection bound as the rootdn, closed when t ends.
func (d Directory) Admin(t testing.TB) *goldap.Conn {
	t.Helper()
	conn, err := goldap.DialURL(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Bind(d.AdminDN, d.AdminPassword); err != nil {
		t.Fatal(err)
	}
	return conn
}

// EntryUUID reads the entryUUID of the user uid.
func (d Directory) EntryUUID(t testing.TB, uid string) string {
	t.Helper()
	res, err := d.Admin(t).Search(goldap.NewSearchRequest("ou=people,"+d.BaseDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		0, 0, false, "(uid="+goldap.EscapeFilter(uid)+")", []string{"entryUUID"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("entryUUID of %s: %v (%v)", uid, err, res)
	}
	return res.Entries[0].GetAttributeValue("entryUUID")
}

// Lock locks the user uid as an administrator would (OpenLDAP ppolicy:
// pwdAccountLockedTime 000001010000Z) until t ends.
func (d Directory) Lock(t testing.TB, uid string) {
	t.Helper()
	admin := d.Admin(t)
	dn := "uid=" + goldap.EscapeDN(uid) + ",ou=people," + d.BaseDN
	lock := goldap.NewModifyRequest(dn, nil)
	lock.Add("pwdAccountLockedTime", []string{"000001010000Z"})
	if err := admin.Modify(lock); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unlock := goldap.NewModifyRequest(dn, nil)
		unlock.Delete("pwdAccountLockedTime", nil)
		if err := admin.Modify(unlock); err != nil {
			t.Errorf("unlocking %s: %v", uid, err)
		}
	})
}

// Restart runs Ctl stop or start.
func (d Directory) Restart(t testing.TB, verb string) {
	t.Helper()
	if out, err := exec.Command(d.Ctl, verb).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", d.Ctl, verb, err, out)
	}
}
