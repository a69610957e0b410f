// Command bench is Signet's load benchmark: it measures how close the
// token endpoint comes to the cost of the signature itself.
//
// # Usage
//
//	go run ./bench                      # every algorithm, table on stdout
//	go run ./bench --json               # the same report as JSON
//	go run ./bench --rotate             # also: p99 while keys rotate
//	go run ./bench --tokens 1000000     # also: a million tokens, RSS and goroutines
//	go run ./bench --tags openssl       # also: the same server built with -tags openssl
//	go run ./bench --check              # exit 1 when a target is missed
//	go run ./bench --key-backend pkcs11 # keys in a PKCS#11 token (or awskms)
//	go run ./bench stateful --peer DIR  # refresh, sign-in, introspection per store (stateful.go)
//	go run ./bench stateful --stores tmpfs --cores 1,2 --openssl \
//	    --flows client_credentials,client_credentials_rs256  # scaling on two CPUs, Go and OpenSSL
//
// It builds signet, starts `signet serve` on CPU 0 (taskset -c 0,
// GOMAXPROCS=1) on loopback and drives it from CPU 1 (the bench process
// pins itself there, GOMAXPROCS=1) with its own keep-alive HTTP/1.1
// client: a fixed number of connections, each sending its next request
// when the previous answer arrived (a closed loop), all polled by one
// goroutine that never sleeps (see runLoad). Each phase warms up, then
// counts the answers of a fixed window.
//
// The limits are measured on the same core in the same run: raw
// signatures per second of each algorithm (`bench raw-sign`, a child of
// this binary pinned to CPU 0), half before and half after that
// algorithm's token window, and the HTTP floor, a minimal net/http server
// answering the same POST with a body of the token response's size
// (`bench baseline-server`, pinned the same way), half before and half
// after the token and JWKS phases. Before each phase it waits for the
// machine to be idle, and it measures a window again when other
// processes took CPU time from it. docs/benchmarks.md explains the
// report.
//
// Every loop is bounded by its window (or its token count) and every
// request by a timeout; child processes are stopped on every exit path,
// Ctrl-C included, and die with the bench process if it is killed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/signet-id/signet/internal/cpuprofile"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command line of a benchmark run.
type options struct {
	duration    time.Duration // measured window of each phase
	warmup      time.Duration // before each window
	rawDuration time.Duration // raw-sign window per algorithm
	connections int
	algs        []key.Algorithm
	rsaBits     int
	store       string // sqlite or memory
	json        bool
	out         string // also write the JSON report here
	check       bool
	rotate      bool
	tokens      int64 // long mode: this many tokens (0: off)
	longAlg     key.Algorithm
	tags        string // a second build's -tags (e.g. openssl)
	signetBin   string // prebuilt signet (skip the build)
	compare     string // a second signet binary to compare with (compare.go)
	rounds      int    // --compare rounds
	cpuProfile  string // passed to serve as --cpuprofile
	quietWait   time.Duration
	retries     int    // measure a disturbed window again, this many times at most
	loadProfile string // this process's CPU profile (the load generator)
	jwks        bool   // measure the JWKS endpoint
	verbose     bool
	// keyBackend is "" (software keys) or pkcs11/awskms: the server's
	// keys, and raw-sign's, are generated in and signed by that backend.
	keyBackend       string
	keyBackendConfig keybackend.Config
}

var defaultAlgs = []key.Algorithm{key.RS256, key.PS256, key.ES256, key.EdDSA}

// errUsage marks a wrong command line (exit code 2).
var errUsage = errors.New("usage")

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [flags]\n       bench raw-sign --alg ALG --seconds N\n       bench baseline-server --body-bytes N\n\nflags:\n")
		fs.PrintDefaults()
	}
	var algs, longAlg string
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured window of each load phase")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "warm-up before each measured window")
	fs.DurationVar(&o.rawDuration, "raw", 5*time.Second, "raw signature window per algorithm: half before its token window, half after")
	fs.IntVar(&o.connections, "connections", 8, "concurrent keep-alive connections (closed loop)")
	fs.StringVar(&algs, "algs", "RS256,PS256,ES256,EdDSA", "comma-separated signing algorithms to measure")
	fs.IntVar(&o.rsaBits, "rsa-bits", key.DefaultRSAKeySize, "RSA key size of the server's keys and of raw-sign")
	fs.StringVar(&o.store, "store", "sqlite", "the server's key store: sqlite or memory")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON instead of a table")
	fs.StringVar(&o.out, "out", "", "also write the JSON report to this file")
	fs.BoolVar(&o.check, "check", false, "exit 1 when a target is missed (default: always exit 0 after a complete run)")
	fs.BoolVar(&o.rotate, "rotate", false, "also measure p99 while the server rotates keys every few seconds")
	fs.Int64Var(&o.tokens, "tokens", 0, "also issue this many tokens (e.g. 1000000) and report RSS and goroutines before and after")
	fs.StringVar(&longAlg, "long-alg", "EdDSA", "the algorithm of the --tokens run")
	fs.StringVar(&o.tags, "tags", "", "also build signet with these build tags (e.g. openssl) and measure RSA beside the default build")
	fs.StringVar(&o.signetBin, "signet", "", "use this signet binary instead of building ./cmd/signet")
	fs.StringVar(&o.compare, "compare", "", "measure only the token rate of --algs, against this second signet binary, in alternating windows (compare.go)")
	fs.IntVar(&o.rounds, "rounds", 10, "--compare: rounds of one window per binary")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the server's CPU profile to this file (needs serve --cpuprofile)")
	fs.DurationVar(&o.quietWait, "quiet-wait", 30*time.Second, "before each phase, wait up to this long for CPUs 0 and 1 to be idle (other work on the machine); 0: don't")
	fs.BoolVar(&o.jwks, "jwks", true, "measure the JWKS endpoint (--jwks=false skips it, e.g. to profile the token path alone)")
	fs.IntVar(&o.retries, "retries", 2, "measure a window again, this many times at most, when other processes took more than 5% of a benchmark CPU")
	fs.StringVar(&o.loadProfile, "load-cpuprofile", "", "write the load generator's own CPU profile to this file")
	fs.BoolVar(&o.verbose, "v", false, "copy the server's log to stderr")
	fs.StringVar(&o.keyBackend, "key-backend", "", "generate the server's keys in this key backend, pkcs11 or awskms (settings from SIGNET_TEST_PKCS11_* or SIGNET_TEST_KMS_*; see docs/hsm-and-kms.md), and measure raw signatures through the same backend; default algorithms RS256,PS256,ES256")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected argument %q\n", fs.Arg(0))
		return nil, errUsage
	}
	bad := func(format string, args ...any) (*options, error) {
		fmt.Fprintf(stderr, "bench: "+format+"\n", args...)
		return nil, errUsage
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	if o.keyBackend != "" {
		var err error
		if o.keyBackendConfig, err = keyBackendConfig(o.keyBackend); err != nil {
			return bad("%v", err)
		}
		if !explicit["algs"] {
			algs = "RS256,PS256,ES256"
		}
		if !explicit["long-alg"] {
			longAlg = "ES256"
		}
	}
	for _, a := range strings.Split(algs, ",") {
		alg, err := key.ParseAlgorithm(strings.TrimSpace(a))
		if err != nil {
			return bad("--algs: %v", err)
		}
		if err := keybackend.Supports(o.keyBackendConfig.Type, alg, o.rsaBits); err != nil {
			return bad("--algs: %v", err)
		}
		o.algs = append(o.algs, alg)
	}
	alg, err := key.ParseAlgorithm(longAlg)
	if err != nil {
		return bad("--long-alg: %v", err)
	}
	o.longAlg = alg
	switch {
	case o.duration < 100*time.Millisecond || o.duration > time.Hour:
		return bad("--duration must be from 100ms to 1h")
	case o.warmup < 0 || o.warmup > time.Hour:
		return bad("--warmup must be from 0 to 1h")
	case o.rawDuration < 100*time.Millisecond || o.rawDuration > time.Hour:
		return bad("--raw must be from 100ms to 1h")
	case o.connections < 1 || o.connections > 1024:
		return bad("--connections must be from 1 to 1024")
	case o.retries < 0 || o.retries > 10:
		return bad("--retries must be from 0 to 10")
	case o.tokens < 0:
		return bad("--tokens must not be negative")
	case o.store != "sqlite" && o.store != "memory":
		return bad("--store must be sqlite or memory")
	case o.rounds < 1 || o.rounds > 1000:
		return bad("--rounds must be from 1 to 1000")
	case o.compare != "" && (o.rotate || o.tokens > 0 || o.tags != "" || o.keyBackend != "" || o.cpuProfile != ""):
		return bad("--compare measures the token rate only: drop --rotate, --tokens, --tags, --key-backend and --cpuprofile")
	}
	return o, nil
}

// run executes the command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "raw-sign":
			return rawSignMain(args[1:], stdout, stderr)
		case "raw-verify":
			return rawVerifyMain(args[1:], stdout, stderr)
		case "baseline-server":
			return baselineMain(args[1:], stdout, stderr)
		case "stateful":
			return statefulMain(args[1:], stdout, stderr)
		}
	}
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.loadProfile != "" {
		stopProfile, err := cpuprofile.Start(o.loadProfile)
		if err != nil {
			fmt.Fprintf(stderr, "bench: --load-cpuprofile: %v\n", err)
			return 1
		}
		defer stopProfile()
	}
	rep, err := benchmark(ctx, o, stderr)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "bench: interrupted")
			return 130
		}
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	if o.out != "" {
		if err := writeReportFile(o.out, rep); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
	}
	if o.json {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	if o.check && !rep.Pass {
		fmt.Fprintln(stderr, "bench: targets missed (--check)")
		return 1
	}
	return 0
}

// writeReportFile writes the JSON report to path.
func writeReportFile(path string, rep *report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.writeJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
