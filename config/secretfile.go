package config

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/signet-id/signet/seal"
)

// ProtectionSecrets returns the secrets that seal private keys. With
// configured secrets it returns them. With protection on and none
// configured it uses the generated secret in Protection.SecretFile,
// creating it (32 random bytes from rnd, base64url, mode 0600) the first
// time; created reports that. For the memory store, which keeps nothing
// after the process ends, it returns a fresh random secret. With
// protection off it returns nil. With a key backend (pkcs11, awskms) it
// creates no secret file: it returns the generated one only if it exists
// (software keys from before the backend), else nil.
func (c *Config) ProtectionSecrets(rnd io.Reader) (secrets [][]byte, created bool, err error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	switch {
	case !c.Protection.Enabled:
		return nil, false, nil
	case len(c.Protection.Secrets) > 0:
		return c.Protection.Secrets, false, nil
	case c.Storage.Driver == DriverMemory:
		s, err := newSecret(rnd)
		return [][]byte{s}, false, err
	case c.Protection.SecretFile == "" && c.KeyBackend.External():
		return nil, false, nil // new keys live in the key backend; nothing to seal
	case c.Protection.SecretFile == "":
		return nil, false, errors.New("config: keyManagement.protection.secrets is required for this store")
	}
	path := c.Protection.SecretFile
	s, err := readProtectionSecretFile(path)
	if err == nil {
		return [][]byte{s}, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if c.KeyBackend.External() {
		// New keys live in the key backend: a secret is needed only for
		// software keys made before, sealed with an existing file.
		return nil, false, nil
	}
	s, err = newSecret(rnd)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("config: create the directory for the protection secret: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) { // another process created it first
			return c.ProtectionSecrets(rnd)
		}
		return nil, false, fmt.Errorf("config: create the protection secret: %w", err)
	}
	_, werr := f.Write(append(s, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return nil, false, fmt.Errorf("config: write the protection secret: %w", err)
	}
	return [][]byte{s}, true, nil
}

// CheckProtectionSecrets runs the checks ProtectionSecrets runs, creating
// nothing: configured secrets are long enough (Parse checked that) and an
// existing generated secret file is private, not empty and long enough. A
// missing generated file is no error: serve creates it.
func (c *Config) CheckProtectionSecrets() error {
	if !c.Protection.Enabled || len(c.Protection.Secrets) > 0 || c.Protection.SecretFile == "" {
		return nil
	}
	_, err := readProtectionSecretFile(c.Protection.SecretFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// readProtectionSecretFile reads a generated protection secret, refusing a
// file other users can read and one too short to seal with. The error
// wraps fs.ErrNotExist when the file does not exist.
func readProtectionSecretFile(path string) ([]byte, error) {
	data, err := ReadSecretFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("config: the protection secret file: %w", err)
	}
	s := bytes.TrimSpace(data)
	if len(s) == 0 {
		return nil, fmt.Errorf("config: the protection secret file %s is empty; restore it from a backup, or configure keyManagement.protection.secrets", path)
	}
	if len(s) < seal.MinSecretLength {
		return nil, fmt.Errorf("config: the protection secret in %s is %d bytes, at least %d are required; restore the file from a backup, or configure keyManagement.protection.secrets", path, len(s), seal.MinSecretLength)
	}
	return s, nil
}

// ReadSecretFile reads a file that holds a secret. It refuses a file that
// its group or other users can read or write, naming the chmod that fixes
// it, as Signet's own secret files are created with mode 0600. The error
// wraps fs.ErrNotExist when the file does not exist.
func ReadSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s holds a secret but other users can access it (mode %#o); run chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

func newSecret(rnd io.Reader) ([]byte, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return nil, fmt.Errorf("config: generate a protection secret: %w", err)
	}
	return []byte(base64.RawURLEncoding.EncodeToString(b)), nil
}
