package sqlschema

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// Dialect names a SQL dialect with its own migrations.
type Dialect string

// The dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Grant kinds: the values the grants.kind column accepts.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantSession           = "session"
	GrantRevocation        = "revocation"
	GrantJTI               = "jti"                          // since version 4
	GrantPushedRequest     = "pushed_authorization_request" // since version 4
)

// Migration is one numbered schema change.
type Migration struct {
	Version int    // NNNN of the file name, from 1
	Name    string // file name, e.g. "0001_init.sql"
	SQL     string // statements, applied in one transaction with the others
}

// Migrations returns the migrations of dialect d, ordered by version.
func Migrations(d Dialect) ([]Migration, error) {
	switch d {
	case SQLite, Postgres:
	default:
		return nil, fmt.Errorf("sqlschema: unknown dialect %q (want %q or %q)", d, SQLite, Postgres)
	}
	return load(files, string(d))
}

// Latest returns the newest schema version of dialect d: the version a
// database has after this binary migrated it.
func Latest(d Dialect) (int, error) {
	ms, err := Migrations(d)
	if err != nil {
		return 0, err
	}
	return ms[len(ms)-1].Version, nil
}

// TooNewError reports a database whose schema a newer Signet migrated: this
// binary must not write to it. Check for it with errors.As.
type TooNewError struct {
	Found int // the database's schema version
	Known int // the newest version this binary knows
}

func (e *TooNewError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this signet knows (%d); upgrade signet", e.Found, e.Known)
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// load reads the migrations under dir of fsys and checks that they are
// numbered 1, 2, 3... without gaps or duplicates.
func load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlschema: read migrations of %s: %w", dir, err)
	}
	var out []Migration
	for _, e := range entries { // fs.ReadDir sorts by name
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			return nil, fmt.Errorf("sqlschema: %s/%s: not a migration: name files NNNN_description.sql", dir, e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if want := len(out) + 1; v != want {
			return nil, fmt.Errorf("sqlschema: %s/%s: version %d out of sequence: want %d (versions count from 1 without gaps or duplicates)", dir, e.Name(), v, want)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlschema: read %s/%s: %w", dir, e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("sqlschema: no migrations under %s", dir)
	}
	return out, nil
}
