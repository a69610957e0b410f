package storetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/keystore"
)

// Environment of a child process of RunProcesses.
const (
	envChildTarget = "SIGNET_STORETEST_CHILD_TARGET"
	envChildSync   = "SIGNET_STORETEST_CHILD_SYNC"
	envChildIndex  = "SIGNET_STORETEST_CHILD_INDEX"
	// ProcessChildren is how many processes RunProcesses starts.
	ProcessChildren = 5
	createdMarker   = "CREATED A KEY"
)

// OpenTarget opens a store on shared storage named by target (a
// directory, a database path). The store must implement keystore.Locker.
type OpenTarget func(t *testing.T, target string) keystore.Store

// RunProcesses is the cross-process half of the lock contract: it starts
// ProcessChildren copies of the test binary, each running the test named
// childTest (which must call ProcessChild), releases them together, and
// requires that exactly one of them created a key by "lock, re-read,
// create only if still needed, unlock" on target, and that target holds
// exactly one key afterwards.
func RunProcesses(t *testing.T, childTest, target string, open OpenTarget) {
	t.Helper()
	syncDir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmds := make([]*exec.Cmd, ProcessChildren)
	outs := make([]strings.Builder, ProcessChildren)
	for i := range cmds {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+childTest+"$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), envChildTarget+"="+target, envChildSync+"="+syncDir, envChildIndex+"="+strconv.Itoa(i))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	// Wait until every child is ready, then start them together.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		ready, _ := filepath.Glob(filepath.Join(syncDir, "ready-*"))
		if len(ready) == ProcessChildren {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d children got ready", len(ready), ProcessChildren)
		}
	}
	if err := os.WriteFile(filepath.Join(syncDir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	creators := 0
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child %d: %v\n%s", i, err, outs[i].String())
		}
		if strings.Contains(outs[i].String(), createdMarker) {
			creators++
		}
	}
	rs, err := open(t, target).Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || creators != 1 {
		t.Fatalf("%d processes racing lock/re-read/create left %d keys, %d reported creating one; want exactly 1", ProcessChildren, len(rs), creators)
	}
}

// ProcessChild is the body of RunProcesses' child test. Run outside
// RunProcesses it skips. The store is opened only after the go signal, so
// the children also race to create (and migrate) the storage.
func ProcessChild(t *testing.T, open OpenTarget) {
	target := os.Getenv(envChildTarget)
	if target == "" {
		t.Skip("run as a child process by storetest.RunProcesses")
	}
	syncDir := os.Getenv(envChildSync)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := os.WriteFile(filepath.Join(syncDir, "ready-"+os.Getenv(envChildIndex)), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(syncDir, "go")); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no go signal from the parent")
		}
		time.Sleep(time.Millisecond)
	}
	s := open(t, target)
	l, ok := s.(keystore.Locker)
	if !ok {
		t.Fatalf("%T does not implement keystore.Locker", s)
	}
	created, err := lockRereadCreate(ctx, s, l)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		fmt.Println(createdMarker)
	}
}

func lockRereadCreate(ctx context.Context, s keystore.Store, l keystore.Locker) (bool, error) {
	unlock, err := l.Lock(ctx)
	if err != nil {
		return false, err
	}
	defer unlock()
	rs, err := s.Keys(ctx)
	if err != nil || len(rs) > 0 {
		return false, err
	}
	time.Sleep(20 * time.Millisecond) // generating a key takes time: widen the race
	if err := s.CreateKey(ctx, NewRecord()); err != nil {
		return false, err
	}
	return true, nil
}
