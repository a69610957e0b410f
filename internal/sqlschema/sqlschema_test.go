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
	objects := regexp.MustCompile(`(?i)CREATE\s+(TABLE|INDEX)\s+(\w+)`)
	names := func(ms []Migration) []string {
		var out []string
		for _, m := range ms {
			for _, g := range objects.FindAllStringSubmatch(m.SQL, -1) {
				out = append(out, strings.ToUpper(g[1])+" "+g[2])
			}
		}
		slices.Sort(out)
		return out
	}
	ln, pn := names(lite), names(pg)
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

func TestGrantKindsAreTheSchemaCheck(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		ms, err := Migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		all := ""
		for _, m := range ms {
			all += m.SQL
		}
		for _, kind := range []string{GrantAuthorizationCode, GrantRefreshToken, GrantSession, GrantRevocation} {
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
