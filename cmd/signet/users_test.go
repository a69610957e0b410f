package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/throttle"
)

// cmdSignIn checks a password as signet serve's user source does (the
// configuration's users, then the store's) and writes to the file signin
// "signed in as SUB" and, for a store user, "hash: KIND PARAMS" after the
// sign-in (an upgraded hash shows the configured parameters). With ! it
// expects a refusal.
func cmdSignIn(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: signin CONFIG USERNAME PASSWORD")
	}
	cfg, store, _, closeStore := scriptStore(ts, args[0])
	defer closeStore()
	ctx := context.Background()
	_, src, err := signet.UserSources(cfg, store, throttle.NewHashing(0, 0), slog.New(slog.DiscardHandler))
	ts.Check(err)
	sub, err := src.Authenticate(ctx, args[1], args[2])
	if neg {
		if err == nil {
			ts.Fatalf("signed in as %s, want a refusal", sub)
		}
		return
	}
	if err != nil {
		ts.Fatalf("sign in as %s: %v", args[1], err)
	}
	out := "signed in as " + sub + "\n"
	if us := signet.UserStore(store); us != nil {
		if r, err := us.UserByName(ctx, args[1]); err == nil {
			parts := strings.Split(r.PasswordHash, "$")
			out += "hash: " + parts[1] + " " + parts[min(3, len(parts)-1)] + "\n"
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs("signin"), []byte(out), 0o600))
}

// On a terminal, users add and set-password ask for the password twice
// through readSecret (no echo), never reading stdin; two different
// answers change nothing.
func TestUsersPasswordOnTerminal(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "signet.yaml", `
issuer: https://login.example.com
storage: { driver: sqlite, dsn: ./signet.db }
passwords: { argon2id: { memory: 8MiB, iterations: 1, parallelism: 1 } }
`)
	terminal := func(answers ...string) (*env, *bytes.Buffer, *[]string) {
		var out, errb bytes.Buffer
		var prompts []string
		e := &env{stdin: strings.NewReader("stdin must not be read\n"), stdout: &out, stderr: &errb,
			lookupEnv: func(string) (string, bool) { return "", false }, isTerminal: func() bool { return true }}
		e.readSecret = func(prompt string) (string, error) {
			prompts = append(prompts, prompt)
			a := answers[0]
			answers = answers[1:]
			return a, nil
		}
		return e, &out, &prompts
	}
	e, out, prompts := terminal("terminal passphrase", "terminal passphrase")
	if code := run(context.Background(), []string{"users", "add", "tina", "--config", cfg, "--subject", "u-tina"}, e); code != 0 {
		t.Fatalf("add: %d %s", code, out)
	}
	if strings.Join(*prompts, "|") != "Password for tina: |Repeat the password: " {
		t.Errorf("prompts %q", *prompts)
	}
	e, out, _ = terminal("one passphrase", "another passphrase")
	if code := run(context.Background(), []string{"users", "set-password", "tina", "--config", cfg}, e); code != 1 {
		t.Errorf("differing passwords: exit %d %s", code, out)
	}
	// The first password still signs in; stdin was never taken for it.
	c, _ := config.Load(cfg, func(string) (string, bool) { return "", false })
	store, closeStore, err := signet.OpenStore(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	_, src, err := signet.UserSources(c, store, throttle.NewHashing(0, 0), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if sub, err := src.Authenticate(context.Background(), "tina", "terminal passphrase"); err != nil || sub != "u-tina" {
		t.Errorf("sign in: %q %v", sub, err)
	}
}
