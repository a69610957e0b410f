package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnvFromFile: ${NAME} takes the contents of the file NAME_FILE names
// when NAME is not set (container and Kubernetes secrets).
func TestEnvFromFile(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "db_password")
	os.WriteFile(pw, []byte("s3cr3t-from-a-file\n"), 0o600)
	crlf := filepath.Join(dir, "crlf")
	os.WriteFile(crlf, []byte("crlf-value-long-enough\r\n"), 0o600)
	doc := "issuer: https://a.example\nstorage: { driver: postgres, dsn: \"postgres://signet:${DB_PASSWORD}@db/signet\" }\n" +
		"keyManagement: { protection: { secrets: [\"${KEY_SECRET}\"] } }\n"

	c, err := parse(t, doc, map[string]string{"DB_PASSWORD_FILE": pw, "KEY_SECRET_FILE": crlf})
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://signet:s3cr3t-from-a-file@db/signet"; c.Storage.DSN != want {
		t.Errorf("dsn = %q, want %q", c.Storage.DSN, want)
	}

	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"both", map[string]string{"DB_PASSWORD": "x", "DB_PASSWORD_FILE": pw, "KEY_SECRET": "k"},
			"signet.yaml:2: both DB_PASSWORD and DB_PASSWORD_FILE are set (referenced as ${DB_PASSWORD}); set only one"},
		{"unreadable", map[string]string{"DB_PASSWORD_FILE": filepath.Join(dir, "missing"), "KEY_SECRET": "k"},
			"signet.yaml:2: ${DB_PASSWORD}: DB_PASSWORD_FILE: open " + filepath.Join(dir, "missing") + ": no such file or directory; point it at a readable file"},
		{"neither", map[string]string{"KEY_SECRET": "k"},
			"signet.yaml:2: environment variable DB_PASSWORD is not set (referenced as ${DB_PASSWORD}); set it, or DB_PASSWORD_FILE to a file holding the value"},
	} {
		_, err := parse(t, doc, tc.vars)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want prefix %q", tc.name, err, tc.want)
		}
	}
}
