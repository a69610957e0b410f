// Package flock takes exclusive flock(2) locks on files: a lock shared by
// every process on one host, dropped by the kernel if its holder dies.
// The file store and the SQLite store serialize key creation with it.
package flock

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"syscall"
	"time"
)

// Lock is an open file with an exclusive flock(2) on it.
type Lock struct{ f *os.File }

// Acquire opens path (creating it, 0600) and takes an exclusive flock on
// it, polling until it is held or ctx is done. flock locks belong to the
// open file, so each call excludes every other, in this process or
// another. The kernel drops the lock if the process dies.
func Acquire(ctx context.Context, path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	delay := 500 * time.Microsecond
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return &Lock{f: f}, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case !errors.Is(err, syscall.EWOULDBLOCK):
			f.Close()
			return nil, err
		}
		// Held elsewhere: wait a little (with jitter, so waiters do not
		// retry in step) and try again.
		t := time.NewTimer(delay + rand.N(delay))
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// Unlock releases the lock and closes the file.
func (l *Lock) Unlock() error {
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr // closing releases the lock too
	}
	return err
}
