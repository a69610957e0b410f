package config

import (
	"strings"
	"testing"
)

func TestAdminListen(t *testing.T) {
	if c := mustParse(t, minimal, nil); c.AdminListen != "" {
		t.Errorf("default adminListen %q, want none", c.AdminListen)
	}
	if c := mustParse(t, minimal+"adminListen: 127.0.0.1:9090\n", nil); c.AdminListen != "127.0.0.1:9090" {
		t.Errorf("adminListen %q", c.AdminListen)
	}
	if c := mustParse(t, minimal+"listen: 127.0.0.1:0\nadminListen: 127.0.0.1:0\n", nil); c.AdminListen != "127.0.0.1:0" {
		t.Errorf("two free ports: adminListen %q", c.AdminListen)
	}
	for doc, want := range map[string]string{
		minimal + "adminListen: 9090\n":                     `adminListen: "9090" is not a host:port address, e.g. 127.0.0.1:9090 or :9090`,
		minimal + "listen: :8080\nadminListen: \":8080\"\n": `adminListen: ":8080" is also listen; the admin listener needs its own address`,
	} {
		if _, err := parse(t, doc, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error:\n  %v\nwant:\n  %s", err, want)
		}
	}
}
