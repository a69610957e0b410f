package filestore_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/filestore"
	"github.com/signet-id/signet/keystore/storetest"
)

func open(t *testing.T, dir string) *filestore.Store {
	t.Helper()
	s, err := filestore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() keystore.Store {
		dir := filepath.Join(t.TempDir(), "keys")
		return func() keystore.Store { return open(t, dir) }
	})
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestModes(t *testing.T) {
	old := syscall.Umask(0) // the modes must not depend on a permissive umask
	defer syscall.Umask(old)
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "a", "keys")
	s := open(t, dir)
	r := storetest.NewRecord()
	if err := s.CreateKey(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "phase", "1"); err != nil {
		t.Fatal(err)
	}
	r.Revoked = r.SignsFrom
	if err := s.UpdateKey(ctx, r); err != nil { // a replaced file keeps 0600
		t.Fatal(err)
	}
	if got := mode(t, dir); got != 0o700 {
		t.Errorf("key directory mode %o, want 700", got)
	}
	if got := mode(t, filepath.Dir(dir)); got != 0o700 {
		t.Errorf("created parent directory mode %o, want 700", got)
	}
	for _, name := range []string{r.KID + ".json", "meta.json", "revision", ".lock", ".write.lock"} {
		if got := mode(t, filepath.Join(dir, name)); got != 0o600 {
			t.Errorf("%s mode %o, want 600", name, got)
		}
	}
	// Nothing is left behind but the files above.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 5 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want the record, meta.json, revision and two lock files", names)
	}
}

func TestRecordFileFormat(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := open(t, dir)
	r := storetest.NewRecord()
	zone := time.FixedZone("X", -7*3600)
	r.Created = r.Created.Add(789 * time.Nanosecond).In(zone)
	if err := s.CreateKey(ctx, r); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, r.KID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	want := `"created": "` + r.Created.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano) + `"`
	if !strings.Contains(string(b), want) || !strings.Contains(string(b), `"format": 1`) {
		t.Errorf("record file lacks %s and format 1 (UTC, microseconds):\n%s", want, b)
	}
	if strings.Contains(string(b), "revoked") {
		t.Errorf("a record that is not revoked has a revoked field:\n%s", b)
	}
	got, err := s.Keys(ctx)
	if err != nil || len(got) != 1 {
		t.Fatalf("Keys = %v, %v", got, err)
	}
	if got[0].Created.Location() != time.UTC || !got[0].Created.Equal(r.Created.Truncate(time.Microsecond)) {
		t.Errorf("Created read back as %s, want %s in UTC", got[0].Created, r.Created.Truncate(time.Microsecond).UTC())
	}
}

func TestUnsafeKIDs(t *testing.T) {
	ctx := t.Context()
	parent := t.TempDir()
	dir := filepath.Join(parent, "keys")
	s := open(t, dir)
	stored := storetest.NewRecord()
	if err := s.CreateKey(ctx, stored); err != nil {
		t.Fatal(err)
	}
	for _, kid := range []string{"../escape", "a/b", `a\b`, ".hidden", "..", "meta", "META", "a b", "nul\x00byte", "é", strings.Repeat("k", 201)} {
		r := storetest.NewRecord()
		r.KID = kid
		err := s.CreateKey(ctx, r)
		if !errors.Is(err, key.ErrInvalidRecord) || !strings.Contains(err.Error(), "cannot be a file name") {
			t.Errorf("CreateKey kid %q: error %v, want key.ErrInvalidRecord naming the file name rule", kid, err)
		}
		if err := s.UpdateKey(ctx, r); !errors.Is(err, key.ErrInvalidRecord) {
			t.Errorf("UpdateKey kid %q: error %v, want key.ErrInvalidRecord", kid, err)
		}
		if err := s.DeleteKey(ctx, kid); !errors.Is(err, keystore.ErrNotFound) || !strings.Contains(err.Error(), "cannot be a file name") {
			t.Errorf("DeleteKey kid %q: error %v, want keystore.ErrNotFound naming the file name rule", kid, err)
		}
	}
	if _, err := os.Stat(filepath.Join(parent, "escape.json")); err == nil {
		t.Error("a kid escaped the key directory")
	}
	// The longest and oddest safe kids work.
	for _, kid := range []string{strings.Repeat("k", 200), "A-b_c.d", "-x", "_", "meta2", "0"} {
		r := storetest.NewRecord()
		r.KID = kid
		if err := s.CreateKey(ctx, r); err != nil {
			t.Errorf("CreateKey kid %q: %v", kid, err)
		}
	}
	rs, err := s.Keys(ctx)
	if err != nil || len(rs) != 7 {
		t.Errorf("Keys = %d records, %v; want 7", len(rs), err)
	}
}

func TestCorruptRecords(t *testing.T) {
	valid := storetest.NewRecord()
	validJSON := func(edit func(string) string) string {
		dir := t.TempDir()
		s := open(t, dir)
		if err := s.CreateKey(t.Context(), valid); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, valid.KID+".json"))
		return edit(string(b))
	}
	tests := []struct {
		name, file, content, want string
		invalid                   bool
	}{
		{"not json", "bad.json", "{not json", "not a key record", false},
		{"empty", "empty.json", "", "not a key record", false},
		{"kid differs from name", "other.json", validJSON(func(s string) string { return s }), `holds kid "` + valid.KID + `", want "other"`, false},
		{"newer format", valid.KID + ".json", validJSON(func(s string) string { return strings.Replace(s, `"format": 1`, `"format": 2`, 1) }), "record format 2 is newer than this signet knows (1); upgrade signet", false},
		{"no format", valid.KID + ".json", validJSON(func(s string) string { return strings.Replace(s, `"format": 1,`, ``, 1) }), "record format 0 is unknown", false},
		{"invalid record", valid.KID + ".json", validJSON(func(s string) string { return strings.Replace(s, `"alg": "ES256"`, `"alg": "HS256"`, 1) }), `algorithm "HS256" is not supported`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir)
			good := storetest.NewRecord()
			if err := s.CreateKey(t.Context(), good); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, tc.file)
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Keys(t.Context())
			if !errors.Is(err, keystore.ErrCorrupt) {
				t.Fatalf("Keys error %v, want keystore.ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Keys error %q, want it to name %s and say %q", err, p, tc.want)
			}
			if tc.invalid && !errors.Is(err, key.ErrInvalidRecord) {
				t.Errorf("Keys error %v does not wrap key.ErrInvalidRecord", err)
			}
			if b, err := os.ReadFile(p); err != nil || string(b) != tc.content {
				t.Errorf("the corrupt file was changed or removed (%v)", err)
			}
		})
	}
	t.Run("directory named like a record", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir)
		if err := os.Mkdir(filepath.Join(dir, "x.json"), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Keys(t.Context()); !errors.Is(err, keystore.ErrCorrupt) || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Keys error %v, want keystore.ErrCorrupt: not a regular file", err)
		}
	})
}

func TestCorruptMeta(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := open(t, dir)
	p := filepath.Join(dir, "meta.json")
	if err := os.WriteFile(p, []byte("[1,2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Meta(ctx, "x"); !errors.Is(err, keystore.ErrCorrupt) || !strings.Contains(err.Error(), p) {
		t.Errorf("Meta error %v, want keystore.ErrCorrupt naming %s", err, p)
	}
	if err := s.SetMeta(ctx, "x", "y"); !errors.Is(err, keystore.ErrCorrupt) {
		t.Errorf("SetMeta error %v, want keystore.ErrCorrupt", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "[1,2" {
		t.Errorf("SetMeta overwrote a corrupt meta.json with %q", b)
	}
}

func TestIgnoresOtherFiles(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := open(t, dir)
	r := storetest.NewRecord()
	if err := s.CreateKey(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "a", "b"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"README", ".tmp-123", ".hidden.json", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := s.Keys(ctx)
	if err != nil || len(rs) != 1 || rs[0].KID != r.KID {
		t.Fatalf("Keys = %v, %v; want only %s", rs, err, r.KID)
	}
}

func TestOpenRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	stale, fresh := filepath.Join(dir, ".tmp-stale"), filepath.Join(dir, ".tmp-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	open(t, dir)
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary file was not removed (%v)", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a recent temporary file (a writer may be busy with it) was removed: %v", err)
	}
}

func TestOpenRefusesBadDirectories(t *testing.T) {
	if _, err := filestore.Open(""); err == nil || !strings.Contains(err.Error(), "filestore: open: the key directory is empty") {
		t.Errorf("Open(\"\") error %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := filestore.Open(file); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("Open(a file) error %v", err)
	}
}

func TestRevisionNoticesHandEdits(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := open(t, dir)
	before, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// An operator restores a key file from a backup.
	time.Sleep(10 * time.Millisecond) // let the directory's mtime tick on coarse clocks
	if err := os.WriteFile(filepath.Join(dir, "restored.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	after, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Errorf("revision %q did not change when a file was added by hand", after)
	}
}

func TestUnlockTwice(t *testing.T) {
	s := open(t, t.TempDir())
	unlock, err := s.Lock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err == nil || !strings.Contains(err.Error(), "already unlocked") {
		t.Errorf("second unlock error %v, want already unlocked", err)
	}
}

// The multi-process test: the test binary runs itself as lockChildren
// child processes, each an "instance" doing lock / re-read /
// create-if-missing on one directory.

func TestProcessesCreateOneKey(t *testing.T) {
	storetest.RunProcesses(t, "TestLockChildProcess", filepath.Join(t.TempDir(), "keys"), openTarget)
}

// TestLockChildProcess is one child of TestProcessesCreateOneKey.
func TestLockChildProcess(t *testing.T) { storetest.ProcessChild(t, openTarget) }

func openTarget(t *testing.T, dir string) keystore.Store { return open(t, dir) }
