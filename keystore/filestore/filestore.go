package filestore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/signet-id/signet/internal/flock"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
)

// DefaultPath is the directory of the file store when the configuration
// names none (keyManagement.keyPath).
const DefaultPath = "./keys"

// File names inside the directory.
const (
	metaFile      = "meta.json"
	revisionFile  = "revision"
	lockFile      = ".lock"
	writeLockFile = ".write.lock"
	tempPattern   = ".tmp-*"
	recordSuffix  = ".json"

	// staleTemp is how old a temporary file must be before Open removes
	// it: a writer that left it so long ago has died.
	staleTemp = time.Hour
)

// Store keeps keys in a directory. It holds no open files between calls:
// a Store needs no closing, and any number of Stores, in any number of
// processes, may use one directory.
type Store struct {
	dir string
}

var (
	_ keystore.Store      = (*Store)(nil)
	_ keystore.Locker     = (*Store)(nil)
	_ keystore.Revisioner = (*Store)(nil)
	_ keystore.MetaStore  = (*Store)(nil)
)

// Open returns a store on dir, creating it (mode 0700, with any missing
// parents) if it does not exist. An existing directory's mode is left as
// it is. Temporary files that a crashed writer left more than an hour ago
// are removed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("filestore: open: the key directory is empty: set keyPath")
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("filestore: open: create key directory: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("filestore: open: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("filestore: open: %s is not a directory: point keyPath at a directory", dir)
	}
	s := &Store{dir: dir}
	// Create the lock files now, so that the first Lock or write does not
	// change the directory (and with it the revision).
	for _, name := range []string{lockFile, writeLockFile} {
		f, err := os.OpenFile(s.path(name), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("filestore: open: create lock file: %w", err)
		}
		f.Close()
	}
	s.removeStaleTemps(time.Now())
	return s, nil
}

// Dir returns the directory the store keeps its files in.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(name string) string { return filepath.Join(s.dir, name) }

func (s *Store) removeStaleTemps(now time.Time) {
	matches, _ := filepath.Glob(s.path(tempPattern))
	for _, m := range matches {
		if fi, err := os.Lstat(m); err == nil && fi.Mode().IsRegular() && now.Sub(fi.ModTime()) > staleTemp {
			_ = os.Remove(m) // best effort: the next Open tries again
		}
	}
}

// maxKIDLen keeps "<kid>.json" well inside every file system's name limit.
const maxKIDLen = 200

var safeKID = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)

// checkKID refuses a kid that is not a safe file name of its own.
func checkKID(kid string) error {
	if len(kid) > maxKIDLen || !safeKID.MatchString(kid) || strings.EqualFold(kid+recordSuffix, metaFile) {
		return fmt.Errorf("kid %q cannot be a file name: use letters, digits, '-', '_' and '.' (not first), at most %d bytes, not %q",
			kid, maxKIDLen, strings.TrimSuffix(metaFile, recordSuffix))
	}
	return nil
}

func recordName(kid string) string { return kid + recordSuffix }

// Keys reads every record file.
func (s *Store) Keys(ctx context.Context) ([]key.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: keys: %w", err)
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("filestore: keys: %w", err)
	}
	var out []key.Record
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, recordSuffix) || strings.HasPrefix(name, ".") || name == metaFile {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("filestore: keys: %w", err)
		}
		r, err := s.readRecord(name, e)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted since the listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Store) readRecord(name string, e fs.DirEntry) (key.Record, error) {
	p := s.path(name)
	corrupt := func(format string, args ...any) (key.Record, error) {
		return key.Record{}, fmt.Errorf("filestore: %s: %w: "+format, append([]any{p, keystore.ErrCorrupt}, args...)...)
	}
	if !e.Type().IsRegular() {
		return corrupt("not a regular file (%s): move it out of the key directory", e.Type())
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return key.Record{}, err
	}
	if err != nil {
		return key.Record{}, fmt.Errorf("filestore: read %s: %w", p, err)
	}
	r, err := decodeRecord(b)
	if err != nil {
		return corrupt("%w", err)
	}
	if want := strings.TrimSuffix(name, recordSuffix); r.KID != want {
		return corrupt("holds kid %q, want %q (the file name): rename the file or fix its kid", r.KID, want)
	}
	if err := r.Validate(); err != nil {
		return corrupt("%w", err)
	}
	return r, nil
}

// CreateKey writes <kid>.json; keystore.ErrExists if it exists.
func (s *Store) CreateKey(ctx context.Context, r key.Record) error {
	return s.putRecord(ctx, "create", r, false)
}

// UpdateKey replaces <kid>.json; keystore.ErrNotFound if it does not exist.
func (s *Store) UpdateKey(ctx context.Context, r key.Record) error {
	return s.putRecord(ctx, "update", r, true)
}

func (s *Store) putRecord(ctx context.Context, op string, r key.Record, replace bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("filestore: %s %q: %w", op, r.KID, err)
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("filestore: %s: %w", op, err)
	}
	if err := checkKID(r.KID); err != nil {
		return fmt.Errorf("filestore: %s: %w: %w", op, key.ErrInvalidRecord, err)
	}
	data, err := encodeRecord(r)
	if err != nil {
		return fmt.Errorf("filestore: %s %q: %w", op, r.KID, err)
	}
	name := recordName(r.KID)
	return s.write(ctx, op+" "+strconv.Quote(r.KID), func() error {
		_, err := os.Lstat(s.path(name))
		switch {
		case err == nil && !replace:
			return keystore.ErrExists
		case errors.Is(err, fs.ErrNotExist) && replace:
			return keystore.ErrNotFound
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return err
		}
		return s.writeFile(name, data)
	})
}

// DeleteKey removes <kid>.json; keystore.ErrNotFound if it does not exist.
func (s *Store) DeleteKey(ctx context.Context, kid string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("filestore: delete %q: %w", kid, err)
	}
	if err := checkKID(kid); err != nil {
		return fmt.Errorf("filestore: delete: %w: %w", keystore.ErrNotFound, err)
	}
	return s.write(ctx, "delete "+strconv.Quote(kid), func() error {
		err := os.Remove(s.path(recordName(kid)))
		if errors.Is(err, fs.ErrNotExist) {
			return keystore.ErrNotFound
		}
		return err
	})
}

// write runs change under the write lock, then replaces the revision
// token and syncs the directory. change's errors are wrapped with op.
func (s *Store) write(ctx context.Context, op string, change func() error) error {
	wl, err := flock.Acquire(ctx, s.path(writeLockFile))
	if err != nil {
		return fmt.Errorf("filestore: %s: wait for the write lock: %w", op, err)
	}
	defer wl.Unlock()
	if err := change(); err != nil {
		return fmt.Errorf("filestore: %s: %w", op, err)
	}
	// The token changes after the change is in place, so a reader that
	// sees the new revision sees the change too.
	if err := s.writeFile(revisionFile, []byte(newToken()+"\n")); err != nil {
		return fmt.Errorf("filestore: %s: bump revision: %w", op, err)
	}
	if err := s.syncDir(); err != nil {
		return fmt.Errorf("filestore: %s: %w", op, err)
	}
	return nil
}

// writeFile replaces name with data: a temporary file (0600) is written,
// synced and renamed over name. The caller syncs the directory.
func (s *Store) writeFile(name string, data []byte) (err error) {
	f, err := os.CreateTemp(s.dir, tempPattern) // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), s.path(name))
}

func (s *Store) syncDir() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync key directory: %w", err)
	}
	return nil
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

// Lock takes an exclusive flock on <dir>/.lock, waiting until it is free
// or ctx is done. Every Lock call holds its own open file, so two
// goroutines of one process exclude each other like two processes do. The
// lock ends with the unlock function or the process.
func (s *Store) Lock(ctx context.Context) (func() error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: lock: %w", err)
	}
	l, err := flock.Acquire(ctx, s.path(lockFile))
	if err != nil {
		return nil, fmt.Errorf("filestore: lock: %w", err)
	}
	var once sync.Once
	return func() error {
		err := errors.New("filestore: unlock: already unlocked")
		once.Do(func() {
			err = l.Unlock()
			if err != nil {
				err = fmt.Errorf("filestore: unlock: %w", err)
			}
		})
		return err
	}, nil
}

// Revision returns the revision token and the directory's modification
// time. Both change with every write; the second also with files added or
// removed by hand.
func (s *Store) Revision(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("filestore: revision: %w", err)
	}
	fi, err := os.Stat(s.dir)
	if err != nil {
		return "", fmt.Errorf("filestore: revision: %w", err)
	}
	tok, err := os.ReadFile(s.path(revisionFile))
	if errors.Is(err, fs.ErrNotExist) {
		tok = []byte("0") // nothing written yet
	} else if err != nil {
		return "", fmt.Errorf("filestore: revision: %w", err)
	}
	return strings.TrimSpace(string(tok)) + "." + strconv.FormatInt(fi.ModTime().UnixNano(), 10), nil
}

// Meta returns a value of meta.json; keystore.ErrNotFound if unset.
func (s *Store) Meta(ctx context.Context, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("filestore: meta %q: %w", name, err)
	}
	m, err := s.readMeta()
	if err != nil {
		return "", fmt.Errorf("filestore: meta %q: %w", name, err)
	}
	v, ok := m[name]
	if !ok {
		return "", fmt.Errorf("filestore: meta %q: %w", name, keystore.ErrNotFound)
	}
	return v, nil
}

// SetMeta sets a value of meta.json. A meta.json that cannot be parsed is
// left alone and the error wraps keystore.ErrCorrupt.
func (s *Store) SetMeta(ctx context.Context, name, value string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("filestore: set meta %q: %w", name, err)
	}
	return s.write(ctx, "set meta "+strconv.Quote(name), func() error {
		m, err := s.readMeta()
		if err != nil {
			return err
		}
		m[name] = value
		b, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		return s.writeFile(metaFile, append(b, '\n'))
	})
}

// readMeta returns the values of meta.json, empty if it does not exist.
func (s *Store) readMeta() (map[string]string, error) {
	p := s.path(metaFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", p, keystore.ErrCorrupt, err)
	}
	return m, nil
}
