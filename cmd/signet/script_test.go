package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/seal"
	"github.com/signet-id/signet/signer/backend"
)

// updateGolden rewrites the expected outputs of the scripts (cmp) and of
// the timeline golden files from what the code prints now.
var updateGolden = flag.Bool("update", false, "rewrite golden files and script outputs")

// scriptCommands are the programs the scripts run as separate processes.
var scriptCommands = map[string]func(){"signet": scriptMain}

// scriptMain is main for the scripts: SIGNET_TEST_TTY=1 makes stdin count
// as a terminal (confirmation prompts), and the exit code is written to
// $SIGNET_TEST_EXITFILE for the exitcode command.
func scriptMain() {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, lookupEnv: os.LookupEnv}
	e.isTerminal = func() bool { return os.Getenv("SIGNET_TEST_TTY") == "1" || stdinIsTerminal() }
	code := run(context.Background(), os.Args[1:], e)
	if f := os.Getenv("SIGNET_TEST_EXITFILE"); f != "" {
		if err := os.WriteFile(f, []byte(strconv.Itoa(code)), 0o600); err != nil {
			os.Exit(100)
		}
	}
	os.Exit(code)
}

// TestScripts runs testdata/script/*.txtar. Custom commands:
//
//	exitcode N         the last signet command exited with N
//	addkey CONFIG KID ALG CREATED SIGNSFROM RETIRESAT DELETEAFTER [revoked=T] [x509] [secret=S]
//	                   store a managed key in CONFIG's store (creating the
//	                   store), sealed as the configuration says (or with S)
//	setmeta CONFIG NAME VALUE
//	                   set a migration timestamp in CONFIG's store
//	serverstart CONFIG TIME
//	                   what a server's start does at TIME: create the keys
//	                   that are due and record the migration's progress
//	                   (kids come from a counter, so they are stable)
//	[!] secretok CONFIG CLIENT_ID FILE TIME
//	                   the client_secret printed in FILE is accepted for
//	                   CLIENT_ID by a server started at TIME (file and
//	                   stored clients merged)
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *updateGolden,
		Setup: func(e *testscript.Env) error {
			e.Setenv("SIGNET_TEST_EXITFILE", filepath.Join(e.WorkDir, ".exitcode"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":    cmdExitCode,
			"addkey":      cmdAddKey,
			"setmeta":     cmdSetMeta,
			"serverstart": cmdServerStart,
			"secretok":    cmdSecretOK, // clients_script_test.go
		},
	})
}

func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: exitcode N")
	}
	b, err := os.ReadFile(ts.Getenv("SIGNET_TEST_EXITFILE"))
	ts.Check(err)
	got := strings.TrimSpace(string(b))
	if got != args[0] {
		ts.Fatalf("exit code %s, want %s", got, args[0])
	}
}

// scriptStore opens the store of the configuration at path (relative to
// the script's directory).
func scriptStore(ts *testscript.TestScript, path string) (*config.Config, keystore.Store, *seal.Sealer, func() error) {
	cfg, err := config.Load(ts.MkAbs(path), func(n string) (string, bool) { v := ts.Getenv(n); return v, v != "" })
	ts.Check(err)
	store, closeStore, err := signet.OpenStore(context.Background(), cfg)
	ts.Check(err)
	sealer, err := signet.NewSealer(cfg, slog.New(slog.DiscardHandler), nil)
	ts.Check(err)
	return cfg, store, sealer, closeStore
}

func scriptTime(ts *testscript.TestScript, s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	ts.Check(err)
	return t
}

func cmdAddKey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 7 {
		ts.Fatalf("usage: addkey CONFIG KID ALG CREATED SIGNSFROM RETIRESAT DELETEAFTER [revoked=T] [x509] [secret=S]")
	}
	cfg, store, sealer, closeStore := scriptStore(ts, args[0])
	defer closeStore()
	alg, err := key.ParseAlgorithm(args[2])
	ts.Check(err)
	r := key.Record{
		KID: args[1], Algorithm: alg,
		Created: scriptTime(ts, args[3]), SignsFrom: scriptTime(ts, args[4]),
		RetiresAt: scriptTime(ts, args[5]), DeleteAfter: scriptTime(ts, args[6]),
		Protection: key.ProtectionNone,
	}
	priv, err := jwk.Generate(alg, cfg.KeyManagement.RSAKeySize)
	ts.Check(err)
	for _, opt := range args[7:] {
		name, value, _ := strings.Cut(opt, "=")
		switch name {
		case "revoked":
			r.Revoked = scriptTime(ts, value)
		case "x509":
			r.X509 = true
			r.Certificate, err = jwk.SelfSigned(priv, r.KID, r.Created, r.DeleteAfter)
			ts.Check(err)
		case "secret":
			sealer, err = seal.New([][]byte{[]byte(value)})
			ts.Check(err)
		default:
			ts.Fatalf("addkey: unknown option %q", opt)
		}
	}
	r.PrivateKey, err = jwk.MarshalPrivate(priv)
	ts.Check(err)
	if sealer != nil {
		r.PrivateKey, err = sealer.Seal(r.KID, alg, r.PrivateKey)
		ts.Check(err)
		r.Protection = key.ProtectionAESGCM
	}
	ts.Check(store.CreateKey(context.Background(), r))
}

func cmdSetMeta(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: setmeta CONFIG NAME VALUE")
	}
	_, store, _, closeStore := scriptStore(ts, args[0])
	defer closeStore()
	ms, ok := store.(keystore.MetaStore)
	if !ok {
		ts.Fatalf("the store keeps no metadata")
	}
	ts.Check(ms.SetMeta(context.Background(), args[1], args[2]))
}

func cmdServerStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: serverstart CONFIG TIME")
	}
	cfg, store, sealer, closeStore := scriptStore(ts, args[0])
	defer closeStore()
	at := scriptTime(ts, args[1])
	signers, err := backend.Open()
	ts.Check(err)
	defer signers.Close()
	kc := signet.ManagerConfig(cfg, store, sealer, signers.Factory(), slog.New(slog.DiscardHandler))
	kc.Now = func() time.Time { return at }
	kc.Rand = &counterReader{}
	m, err := keymanager.New(kc)
	ts.Check(err)
	ts.Check(m.Start(context.Background()))
}

// counterReader yields 0, 1, 2, ...: stable kids for the scripts.
type counterReader struct{ n byte }

func (c *counterReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}
