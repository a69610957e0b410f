// Package pgtest holds what the PostgreSQL tests of several packages share.
package pgtest

import (
	"net/url"
	"strings"
	"testing"
)

// WithParams sets run-time parameters (search_path, application_name, ...)
// of a URL or key=value DSN; in a key=value DSN later settings override
// earlier ones, and values are quoted.
func WithParams(t testing.TB, dsn string, kv ...string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for i := 0; i < len(kv); i += 2 {
		dsn += " " + kv[i] + "='" + strings.ReplaceAll(kv[i+1], "'", `\'`) + "'"
	}
	return dsn
}
