package pgtest

import "testing"

func TestWithParams(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:p@h:5432/db?sslmode=disable", "postgres://u:p@h:5432/db?search_path=s1&sslmode=disable"},
		{"host=h dbname=db", "host=h dbname=db search_path='s1'"},
	} {
		if got := WithParams(t, c.in, "search_path", "s1"); got != c.want {
			t.Errorf("WithParams(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := WithParams(t, "host=h", "application_name", "it's"); got != `host=h application_name='it\'s'` {
		t.Errorf("quoting: %q", got)
	}
}
