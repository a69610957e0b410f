package sqlschema

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestDialectsHoldTheSameLogicalSchema(t *testing.T) {
	lite, err := Migrations(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := Migrations(Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d: every change needs a migration in both dialects", len(lite), len(pg))
	}
	ln, pn := finalObjects(lite), finalObjects(pg)
	if !slices.Equal(ln, pn) {
		t.Errorf("tables and indexes differ:\nsqlite:   %v\npostgres: %v", ln, pn)
	}
	for _, want := range []string{"TABLE signing_keys", "TABLE store_meta", "TABLE store_revision", "TABLE grants", "INDEX grants_expires", "INDEX grants_family"} {
		if !slices.Contains(ln, want) {
			t.Errorf("schema lacks %s", want)
		}
	}
	for i := range lite {
		if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %s, postgres %s: keep file names paired", i, lite[i].Name, pg[i].Name)
		}
	}
}

// statement matches the statements that create, drop or rename tables and
// indexes.
var statement = regexp.MustCompile(`(?i)CREATE\s+(TABLE|INDEX)\s+(\w+)(?:\s+ON\s+(\w+))?|DROP\s+(TABLE|INDEX)\s+(\w+)|ALTER\s+TABLE\s+(\w+)\s+RENAME\s+TO\s+(\w+)`)

// finalObjects returns the tables and indexes ("TABLE grants", "INDEX
// grants_expires") that ms leave, sorted: a dropped table takes its
// indexes along, a renamed one keeps them (SQLite rebuilds a table this
// way to change a check).
func finalObjects(ms []Migration) []string {
	tables := map[string]bool{}
	indexes := map[string]string{} // index -> its table
	for _, m := range ms {
		for _, g := range statement.FindAllStringSubmatch(m.SQL, -1) {
			switch {
			case strings.EqualFold(g[1], "TABLE"):
				tables[g[2]] = true
			case strings.EqualFold(g[1], "INDEX"):
				indexes[g[2]] = g[3]
			case strings.EqualFold(g[4], "TABLE"):
				delete(tables, g[5])
				for i, tab := range indexes {
					if tab == g[5] {
						delete(indexes, i)
					}
				}
			case strings.EqualFold(g[4], "INDEX"):
				delete(indexes, g[5])
			case g[6] != "":
				delete(tables, g[6])
				tables[g[7]] = true
				for i, tab := range indexes {
					if tab == g[6] {
						indexes[i] = g[7]
					}
				}
			}
		}
	}
	var out []string
	for t := range tables {
		out = append(out, "TABLE "+t)
	}
	for i := range indexes {
		out = append(out, "INDEX "+i)
	}
	slices.Sort(out)
	return out
}

// TestFinalObjectsFollowsARebuild: the SQLite rebuild of a table (create
// new, copy, drop old, rename, index again) leaves the table and its
// indexes once, under their names.
func TestFinalObjectsFollowsARebuild(t *testing.T) {
	got := finalObjects([]Migration{
		{SQL: "CREATE TABLE t (a INT);\nCREATE INDEX t_a ON t (a);\nCREATE TABLE gone (b INT);\nCREATE INDEX gone_b ON gone (b);"},
		{SQL: "CREATE TABLE t_new (a INT);\nDROP TABLE t;\nALTER TABLE t_new RENAME TO t;\nCREATE INDEX t_a ON t (a);\nDROP TABLE gone;\nCREATE INDEX t_x ON t (a);\nDROP INDEX t_x;"},
	})
	if want := []string{"INDEX t_a", "TABLE t"}; !slices.Equal(got, want) {
		t.Fatalf("finalObjects = %v, want %v", got, want)
	}
}

func TestGrantKindsAreTheSchemaCheck(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		ms, err := Migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		// The newest migration that sets the check is the check in force.
		all := ""
		for _, m := range ms {
			if strings.Contains(m.SQL, "CHECK (kind IN") {
				all = m.SQL
			}
		}
		for _, kind := range []string{GrantAuthorizationCode, GrantRefreshToken, GrantSession, GrantRevocation, GrantJTI, GrantPushedRequest} {
			if !strings.Contains(all, "'"+kind+"'") {
				t.Errorf("%s: grants.kind check does not allow %q", d, kind)
			}
		}
	}
}

func TestLatest(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		ms, _ := Migrations(d)
		got, err := Latest(d)
		if err != nil {
			t.Fatal(err)
		}
		if got != len(ms) || got < 1 {
			t.Errorf("Latest(%s) = %d, want %d", d, got, len(ms))
		}
	}
	if _, err := Latest("oracle"); err == nil || !strings.Contains(err.Error(), `unknown dialect "oracle"`) {
		t.Errorf("Latest(oracle) error = %v, want unknown dialect", err)
	}
}

func TestLoadRefusesBadMigrationSets(t *testing.T) {
	f := func(names ...string) fstest.MapFS {
		m := fstest.MapFS{}
		for _, n := range names {
			m["d/"+n] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		return m
	}
	tests := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"gap", f("0001_a.sql", "0003_c.sql"), "version 3 out of sequence: want 2"},
		{"duplicate", f("0001_a.sql", "0001_b.sql"), "version 1 out of sequence: want 2"},
		{"starts at 2", f("0002_a.sql"), "version 2 out of sequence: want 1"},
		{"bad name", f("0001_a.sql", "notes.txt"), "notes.txt: not a migration"},
		{"empty", fstest.MapFS{"d": &fstest.MapFile{Mode: 0o755 | 1<<31}}, "no migrations under d"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(tc.fsys, "d")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("load error = %v, want it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "sqlschema: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	ms, err := load(f("0001_a.sql", "0002_b.sql"), "d")
	if err != nil || len(ms) != 2 || ms[1].Version != 2 || ms[1].Name != "0002_b.sql" || ms[1].SQL != "SELECT 1;" {
		t.Fatalf("load of a good set = %+v, %v", ms, err)
	}
}

func TestTooNewError(t *testing.T) {
	var err error = &TooNewError{Found: 7, Known: 1}
	if got, want := err.Error(), "database schema version 7 is newer than this signet knows (1); upgrade signet"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	var tn *TooNewError
	if !errors.As(errors.Join(errors.New("x"), err), &tn) || tn.Found != 7 {
		t.Error("errors.As does not find a wrapped TooNewError")
	}
}
