package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the SQLite driver, to count the store's rows

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/dpop"
)

// The stateful mode: `go run ./bench stateful` measures the flows that
// write to the store (refresh, sign-in: the whole authorization code flow)
// and introspection, for each store, with the server on serverCPU and the
// load from loadCPU, and reports the rate, p50/p99, and the store's rows
// and bytes per 1,000 operations. The same flows against the peer
// (oidc-provider, bench/peer) are measured in the same run on the same
// core when node is installed.

const (
	statefulIssuer   = "http://127.0.0.1"
	statefulClient   = "app"
	statefulService  = "svc" // a confidential client_credentials client
	statefulRedirect = "http://127.0.0.1/cb"
	statefulResource = "api"
	statefulUser     = "alice"
	// statefulUsers is how many users sign in to Signet: each client
	// signs in as its own (statefulUsername), as people do. One user for
	// every client would spend the budget of failed sign-ins per user and
	// address, which counts attempts in flight (5): with PostgreSQL, where
	// an attempt is in flight for two round trips, 16 clients signing in
	// as one user from one address were refused a few percent of the time.
	// Clients beyond statefulUsers share users, two or more to one, and
	// later flows' clients reuse them (their passwords stay verified).
	statefulUsers    = 16
	statefulPassword = "correct horse battery staple"
	statefulVerifier = "bench-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"
)

type statefulOptions struct {
	flows       []string
	stores      []string
	pgDSN       string
	peerDir     string
	duration    time.Duration
	warmup      time.Duration
	connections int
	signetBin   string
	out         string
	cores       []int  // 1: server on serverCPU, load on loadCPU; 2: both on both
	openssl     bool   // also a signet built with -tags openssl
	pipeline    int    // requests each connection sends at once (client_credentials flows)
	check       bool   // print each issue 20 target's ratio, PASS or FAIL
	cpuProfile  string // serve --cpuprofile PREFIX-SERVER-STORE-CORES.prof
	// serverProfile, when set, is a directory where each Signet server
	// writes its CPU profile (serve --cpuprofile).
	serverProfile string
	// serverEnv is added to each Signet server's environment (e.g.
	// GOGC=400, GODEBUG=gctrace=1).
	serverEnv []string
	// variants are more Signet servers measured in the same rounds, each
	// the same binary with more environment (--server-variant).
	variants []signetBuild
	// loadGOGC is this process's GOGC while it measures (runtimestats.go).
	loadGOGC int
	// introspectLoad is the introspect flow's load generator
	// (introspectload.go): introspectPoll or introspectNet.
	introspectLoad string
	// rounds: each round measures every store and the peer, in an
	// order reversed every other round (rounds.go).
	rounds int
}

type statefulRow struct {
	Server       string  `json:"server"`
	Cores        int     `json:"cores"`
	Store        string  `json:"store"`
	Flow         string  `json:"flow"`
	PerSecond    float64 `json:"perSecond"`
	P50Ms        float64 `json:"p50Ms"`
	P99Ms        float64 `json:"p99Ms"`
	Errors       int64   `json:"errors"`
	RowsPer1000  float64 `json:"rowsPer1000"`  // -1: not measured
	BytesPer1000 float64 `json:"bytesPer1000"` // -1: not measured
	Load1        float64 `json:"load1"`        // the machine's load average after the window
	// The server's RSS at the start and the end of the window, and the
	// largest of its samples every second (MiB; 0: not measured).
	RSSStartMiB float64 `json:"rssStartMiB,omitempty"`
	RSSEndMiB   float64 `json:"rssEndMiB,omitempty"`
	RSSMaxMiB   float64 `json:"rssMaxMiB,omitempty"`
	// CPU time per completed operation over the window: the server's
	// and this process's (the load), in ms (0: not measured).
	ServerCPUMs float64 `json:"serverCpuMs,omitempty"`
	LoadCPUMs   float64 `json:"loadCpuMs,omitempty"`
	// Go runtime figures of the window (runtimestats.go): GC cycles per
	// 1,000 operations and KiB allocated per operation, the server's and
	// the load generator's, and the p99 of the load generator's own
	// scheduling latency (0: not measured).
	ServerGCPer1000    float64 `json:"serverGcPer1000,omitempty"`
	ServerAllocKBPerOp float64 `json:"serverAllocKiBPerOp,omitempty"`
	LoadGCPer1000      float64 `json:"loadGcPer1000,omitempty"`
	LoadAllocKBPerOp   float64 `json:"loadAllocKiBPerOp,omitempty"`
	LoadSchedP99Ms     float64 `json:"loadSchedP99Ms,omitempty"`
	// ServerSwitchesPerOp is how often the server's threads gave up
	// their CPU per operation (procSwitches).
	ServerSwitchesPerOp float64 `json:"serverSwitchesPerOp,omitempty"`
	// PostgreSQL's costs per operation (postgres store only; pgmeter.go).
	PG *pgCosts `json:"postgres,omitempty"`
	// StoreStats are the SQLite store's write counters over the window
	// (storestats.go; nil: not measured).
	StoreStats *storeStats `json:"storeStats,omitempty"`
	// Steps are the sign-in's requests, timed apart (steps.go).
	Steps []stepFigure `json:"steps,omitempty"`
	Error string       `json:"error,omitempty"`
	// Round is the round of --rounds N that measured the row (1..N); 0
	// on a row that is the median of the rounds (Rounds of them,
	// medianRows) and on every row of a run of one round.
	Round  int `json:"round,omitempty"`
	Rounds int `json:"rounds,omitempty"`
}

func statefulMain(args []string, stdout, stderr io.Writer) int {
	o := &statefulOptions{}
	fs := flag.NewFlagSet("bench stateful", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var flows, stores, cores string
	fs.StringVar(&flows, "flows", "refresh,signin,introspect", "flows to measure: refresh, signin, introspect (raw requests on kept connections), introspect_http (the same through Go's HTTP client, the load generator before), client_credentials (ES256), client_credentials_rs256, client_credentials_dpop (a DPoP proof per token, ES256); the client_credentials flows are Signet only")
	fs.StringVar(&cores, "cores", "1", "1: the server on CPU 0 (GOMAXPROCS=1), the load on CPU 1; 2: the server with GOMAXPROCS=2 and the load (this process) both on CPUs 0 and 1; 1,2: both, with the scaling factor")
	fs.StringVar(&stores, "stores", "sqlite,tmpfs,postgres", "Signet stores: sqlite (a file in the temp dir), tmpfs (SQLite in /dev/shm: no fsync cost, a reference), postgres (needs --postgres-dsn)")
	fs.StringVar(&o.pgDSN, "postgres-dsn", os.Getenv("SIGNET_BENCH_POSTGRES_DSN"), "PostgreSQL for the postgres store (a schema is created and dropped); default $SIGNET_BENCH_POSTGRES_DSN")
	fs.StringVar(&o.peerDir, "peer", "", "a directory holding a copy of bench/peer with oidc-provider installed (cp bench/peer/* DIR && cd DIR && npm install); empty: skip the peer")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured window of each flow")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before each window")
	fs.IntVar(&o.connections, "connections", 16, "concurrent clients (closed loop)")
	fs.StringVar(&o.signetBin, "signet", "", "use this signet binary instead of building ./cmd/signet")
	fs.StringVar(&o.out, "out", "", "also write the rows as JSON to this file")
	fs.IntVar(&o.pipeline, "pipeline", 4, "client_credentials and client_credentials_rs256: requests each connection sends at once (HTTP/1.1 pipelining; 1: none); more than 1 makes the load generator's CPU per token about half")
	fs.StringVar(&o.serverProfile, "server-cpuprofile", "", "a directory where each Signet server writes a CPU profile of its run (serve --cpuprofile), named SERVER-STORE-Ncore.pprof")
	fs.BoolVar(&o.openssl, "openssl", false, "also measure a signet built with -tags openssl (server signet+openssl; RSA signs through OpenSSL)")
	fs.BoolVar(&o.check, "check", false, "print each target of issue 20 (point 3) from this run's rows: its ratio and PASS or FAIL; exit status 3 if one fails")
	fs.Func("server-env", "KEY=VALUE added to each Signet server's environment (repeatable), e.g. GOGC=400 or GODEBUG=gctrace=1", func(v string) error {
		if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
			return fmt.Errorf("%q is not KEY=VALUE", v)
		}
		o.serverEnv = append(o.serverEnv, v)
		return nil
	})
	fs.Func("server-variant", "NAME:KEY=VALUE[,KEY=VALUE...]: also measure signet with this environment added (after --server-env), as server signet+NAME, in the same rounds as the others (repeatable), e.g. gomaxprocs2:GOMAXPROCS=2; an A/B comparison of a setting on one run's interleaved windows", func(v string) error {
		b, err := parseVariant(v)
		if err == nil {
			o.variants = append(o.variants, b)
		}
		return err
	})
	fs.IntVar(&o.loadGOGC, "load-gogc", defaultLoadGOGC, "the load generator's GOGC (its garbage collector's target, as GOGC=N); its GC cycles stall all its clients at once and so add to the latencies it measures")
	fs.StringVar(&o.introspectLoad, "introspect-load", introspectPoll, "the introspect flow's load generator: poll (raw sockets polled by one goroutine that never sleeps, as the main benchmark's) or net (Go's net package, one goroutine per connection sleeping in the network poller)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write each Signet server's CPU profile to PREFIX-STORE.prof (serve --cpuprofile)")
	fs.IntVar(&o.rounds, "rounds", defaultStatefulRounds, "rounds: each measures every store and the peer (a fresh server and store each), in an order reversed every other round (A B, B A, ...); the table gives the median of the rounds per row, and --check evaluates the targets on the medians; 1: one window per row")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.rounds < 1 || o.rounds > 100 {
		fmt.Fprintf(stderr, "bench stateful: --rounds: %d is not from 1 to 100\n", o.rounds)
		return 2
	}
	o.flows = strings.Split(flows, ",")
	if o.introspectLoad != introspectPoll && o.introspectLoad != introspectNet {
		fmt.Fprintf(stderr, "bench stateful: --introspect-load: %q is not %s or %s\n", o.introspectLoad, introspectPoll, introspectNet)
		return 2
	}
	for _, c := range strings.Split(cores, ",") {
		switch c {
		case "1":
			o.cores = append(o.cores, 1)
		case "2":
			o.cores = append(o.cores, 2)
		default:
			fmt.Fprintf(stderr, "bench stateful: --cores: %q is not 1 or 2\n", c)
			return 2
		}
	}
	o.stores = strings.Split(stores, ",")
	defer debug.SetGCPercent(debug.SetGCPercent(o.loadGOGC))
	rows, err := runStateful(context.Background(), o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "bench stateful: %v\n", err)
		return 1
	}
	med := roundRows(rows, 0) // the medians, or the rows of one round
	writeStatefulTable(stdout, med)
	writeRounds(stdout, rows)
	writePGCosts(stdout, med)
	writeScaling(stdout, med)
	writeRuntimeStats(stdout, med)
	writeStoreStats(stdout, med)
	writeSteps(stdout, med)
	if o.out != "" {
		b, _ := json.MarshalIndent(rows, "", "  ")
		if err := os.WriteFile(o.out, b, 0o644); err != nil {
			fmt.Fprintf(stderr, "bench stateful: %v\n", err)
			return 1
		}
	}
	if o.check && !writeStatefulChecks(stdout, rows, o.duration.String()) {
		return 3
	}
	return 0
}

func writeStatefulTable(w io.Writer, rows []statefulRow) {
	fmt.Fprintf(w, "%-5s %-14s %-9s %-24s %10s %8s %8s %7s %10s %12s %6s %-21s %s\n", "cores", "server", "store", "flow", "per s", "p50 ms", "p99 ms", "errors", "rows/1k", "bytes/1k", "load1", "RSS MiB start/end/max", "CPU ms/op server/load")
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(w, "%-5d %-14s %-9s %-24s error: %s\n", r.Cores, r.Server, r.Store, r.Flow, r.Error)
			continue
		}
		m := func(v float64) string {
			if v < 0 {
				return "-"
			}
			return fmt.Sprintf("%.0f", v)
		}
		fmt.Fprintf(w, "%-5d %-14s %-9s %-24s %10.0f %8.2f %8.2f %7d %10s %12s %6.2f %-21s %.3f/%.3f\n", r.Cores, r.Server, r.Store, r.Flow, r.PerSecond, r.P50Ms, r.P99Ms, r.Errors,
			m(r.RowsPer1000), m(r.BytesPer1000), r.Load1, fmt.Sprintf("%.1f/%.1f/%.1f", r.RSSStartMiB, r.RSSEndMiB, r.RSSMaxMiB), r.ServerCPUMs, r.LoadCPUMs)
	}
}

// writeScaling prints, for each flow measured with 1 and 2 cores, the
// scaling factor (rate with 2 / rate with 1).
func writeScaling(w io.Writer, rows []statefulRow) {
	one := map[string]float64{}
	oneRow := map[string]statefulRow{}
	for _, r := range rows {
		if r.Cores == 1 && r.Error == "" {
			one[r.Server+" "+r.Store+" "+r.Flow] = r.PerSecond
			oneRow[r.Server+" "+r.Store+" "+r.Flow] = r
		}
	}
	for _, r := range rows {
		k := r.Server + " " + r.Store + " " + r.Flow
		if r.Cores == 2 && r.Error == "" && one[k] > 0 {
			fmt.Fprintf(w, "scaling %s: %.2fx (%.0f/s with 2 cores, %.0f/s with 1)", k, r.PerSecond/one[k], r.PerSecond, one[k])
			if r.ServerCPUMs > 0 && r.LoadCPUMs > 0 {
				// Sharing two CPUs with the load, the server has at most
				// 2·s/(s+l) of them, against one whole CPU with 1 core.
				fmt.Fprintf(w, "; CPU per op: server %.3f ms, load %.3f ms: sharing the CPUs with the load, the server can have at most %.2f of them",
					r.ServerCPUMs, r.LoadCPUMs, 2*r.ServerCPUMs/(r.ServerCPUMs+r.LoadCPUMs))
				writeBusyCPUs(w, oneRow[k], r)
			}
			fmt.Fprintln(w)
		}
	}
}

func runStateful(ctx context.Context, o *statefulOptions, log io.Writer) ([]statefulRow, error) {
	dir, err := os.MkdirTemp("", "signet-bench-stateful-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := o.signetBin
	if bin == "" {
		bin = filepath.Join(dir, "signet")
		fmt.Fprintln(log, "bench: building signet")
		if err := buildSignet(ctx, bin, ""); err != nil {
			return nil, err
		}
	}
	hash, err := hashPassword(ctx, bin, statefulPassword)
	if err != nil {
		return nil, err
	}
	builds := []signetBuild{{name: "signet", bin: bin}}
	for _, v := range o.variants {
		v.bin = bin
		builds = append(builds, v)
	}
	if o.openssl {
		ob := filepath.Join(dir, "signet-openssl")
		fmt.Fprintln(log, "bench: building signet -tags openssl")
		if err := buildSignet(ctx, ob, "openssl"); err != nil {
			return nil, err
		}
		builds = append(builds, signetBuild{name: "signet+openssl", bin: ob})
	}
	// The units of a round: each build with each store, then the peer.
	// Each is a fresh server (and a fresh store) in every round, the peer
	// as Signet: no unit carries a longer-lived heap, a larger store or a
	// warmer JIT into a later round than another.
	type unit struct {
		b     signetBuild
		store string // "": the peer
	}
	var units []unit
	for _, b := range builds {
		for _, store := range o.stores {
			units = append(units, unit{b, store})
		}
	}
	if o.peerDir != "" {
		units = append(units, unit{signetBuild{name: "oidc-provider"}, ""})
	}
	var rows []statefulRow
	for _, cores := range o.cores {
		var err error
		if cores == 1 {
			err = pinSelf(loadCPU)
		} else {
			err = pinSelfCPUs(serverCPU, loadCPU)
		}
		if err != nil {
			return nil, err
		}
		var all []statefulRow
		for r, order := range roundOrder(o.rounds, len(units)) {
			if o.rounds > 1 {
				var names []string
				for _, i := range order {
					names = append(names, strings.TrimSpace(units[i].b.name+" "+units[i].store))
				}
				fmt.Fprintf(log, "bench: round %d/%d, %d core(s): %s\n", r+1, o.rounds, cores, strings.Join(names, ", "))
			}
			for _, i := range order {
				u := units[i]
				var got []statefulRow
				if u.store == "" {
					got = measurePeer(ctx, o, cores, log)
				} else if st, err := newBenchStore(ctx, u.store, dir, o.pgDSN); err != nil {
					got = []statefulRow{{Server: u.b.name, Cores: cores, Store: u.store, Error: err.Error()}}
				} else {
					got = measureSignet(ctx, o, u.b, hash, st, cores, log)
					st.close()
				}
				for j := range got {
					if o.rounds > 1 {
						got[j].Round = r + 1
					}
				}
				all = append(all, got...)
			}
		}
		rows = append(rows, all...)
		if o.rounds > 1 {
			rows = append(rows, medianRows(all)...)
		}
	}
	return rows, nil
}

// signetBuild is a signet binary and the server name its rows carry, and
// environment added to its servers' (a --server-variant).
type signetBuild struct {
	name, bin string
	env       []string
}

// parseVariant reads --server-variant's NAME:KEY=VALUE[,KEY=VALUE...].
func parseVariant(v string) (signetBuild, error) {
	name, env, ok := strings.Cut(v, ":")
	if !ok || name == "" || env == "" || strings.ContainsAny(name, " \t") {
		return signetBuild{}, fmt.Errorf("%q is not NAME:KEY=VALUE[,KEY=VALUE...]", v)
	}
	b := signetBuild{name: "signet+" + name}
	for _, kv := range strings.Split(env, ",") {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return signetBuild{}, fmt.Errorf("%q: %q is not KEY=VALUE", v, kv)
		}
		b.env = append(b.env, kv)
	}
	return b, nil
}

// serverCPUs are the CPUs of a server of cores cores.
func serverCPUs(cores int) []int {
	if cores == 1 {
		return []int{serverCPU}
	}
	return []int{serverCPU, loadCPU}
}

// hashPassword runs signet hash-password.
func hashPassword(ctx context.Context, bin, password string) (string, error) {
	cmd := execCommand(ctx, bin, "hash-password")
	cmd.Stdin = strings.NewReader(password)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("signet hash-password: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// benchStore is a Signet store under test and a way to measure it.
type benchStore struct {
	name, driver, dsn string
	db                *sql.DB   // sqlite
	pg                *pgx.Conn // postgres
	schema            string
	app               string // postgres: the server's application_name
	dir               string
}

func newBenchStore(ctx context.Context, name, dir, pgDSN string) (*benchStore, error) {
	switch name {
	case "sqlite", "tmpfs":
		parent := dir // a fresh database for each server
		if name == "tmpfs" {
			parent = "/dev/shm"
		}
		base, err := os.MkdirTemp(parent, "signet-bench-"+name+"-")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return &benchStore{name: name, driver: "sqlite", dsn: filepath.Join(base, "signet.db"), dir: base}, nil
	case "postgres":
		if pgDSN == "" {
			return nil, errors.New("no --postgres-dsn")
		}
		conn, err := pgx.Connect(ctx, pgDSN)
		if err != nil {
			return nil, err
		}
		schema := fmt.Sprintf("signet_bench_%d", time.Now().UnixNano())
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			conn.Close(ctx)
			return nil, err
		}
		u, err := url.Parse(pgDSN)
		if err != nil {
			return nil, err
		}
		q := u.Query()
		q.Set("search_path", schema)
		q.Set("application_name", schema) // its backends, for pgmeter.go
		u.RawQuery = q.Encode()
		return &benchStore{name: name, driver: "postgres", dsn: u.String(), pg: conn, schema: schema, app: schema}, nil
	}
	return nil, fmt.Errorf("unknown store %q: sqlite, tmpfs or postgres", name)
}

func (b *benchStore) close() {
	if b.db != nil {
		b.db.Close()
	}
	if b.pg != nil {
		b.pg.Exec(context.Background(), "DROP SCHEMA "+b.schema+" CASCADE")
		b.pg.Close(context.Background())
	}
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// size returns the grants' rows and bytes.
func (b *benchStore) size(ctx context.Context) (rows, bytes int64, err error) {
	if b.driver == "postgres" {
		err = b.pg.QueryRow(ctx, "SELECT COUNT(*), pg_total_relation_size('"+b.schema+".grants') FROM "+b.schema+".grants").Scan(&rows, &bytes)
		return
	}
	if b.db == nil {
		if b.db, err = sql.Open("sqlite", "file:"+b.dsn+"?mode=ro&_pragma=busy_timeout(10000)"); err != nil {
			return
		}
	}
	if err = b.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM grants").Scan(&rows); err != nil {
		return
	}
	// The pages the database uses (WAL included), minus free ones.
	var pages, free, size int64
	if err = b.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return
	}
	if err = b.db.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
		return
	}
	err = b.db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size)
	return rows, (pages - free) * size, err
}

// config is the server's configuration. With rs256, RS256 keys are made
// too (after ES256, which stays the default) and the scope rs256.read
// names a resource whose tokens are RS256.
func (b *benchStore) config(dir, hash, introspectSecret string, rs256 bool) string {
	var s strings.Builder
	fmt.Fprintf(&s, "issuer: %s\nlisten: 127.0.0.1:0\nadminListen: 127.0.0.1:0\n", statefulIssuer)
	fmt.Fprintf(&s, "storage: { driver: %s, dsn: %q }\n", b.driver, b.dsn)
	algs, svcScopes := "{ name: ES256 }", "api.read"
	if rs256 {
		algs, svcScopes = "{ name: ES256 }, { name: RS256 }", "api.read, rs256.read"
	}
	fmt.Fprintf(&s, "keyManagement:\n  enabled: true\n  signingAlgorithms: [ %s ]\n  protection: { enabled: true, secrets: [ %q ] }\n", algs, introspectSecret+"-protection")
	fmt.Fprintf(&s, "apiResources:\n  - { name: %s, scopes: [ api.read ], secrets: [ %q ] }\n", statefulResource, clientauth.HashSHA256(introspectSecret))
	if rs256 {
		fmt.Fprintf(&s, "  - { name: %s-rs256, scopes: [ rs256.read ], allowedAccessTokenSigningAlgorithms: [ RS256 ] }\n", statefulResource)
	}
	fmt.Fprintf(&s, "clients:\n  - clientId: %s\n    tokenEndpointAuthMethod: none\n    allowedGrantTypes: [authorization_code, refresh_token]\n", statefulClient)
	fmt.Fprintf(&s, "    allowedScopes: [openid, offline_access, api.read]\n    redirectUris: [ %q ]\n", statefulRedirect)
	fmt.Fprintf(&s, "  - clientId: %s\n    secrets: [ %q ]\n    allowedGrantTypes: [client_credentials]\n    allowedScopes: [%s]\n", statefulService, clientauth.HashSHA256(introspectSecret), svcScopes)
	s.WriteString("users:\n")
	for i := range statefulUsers {
		fmt.Fprintf(&s, "  - { subject: u-%s, username: %[1]s, passwordHash: %q }\n", statefulUsername(i), hash)
	}
	return s.String()
}

func measureSignet(ctx context.Context, o *statefulOptions, b signetBuild, hash string, st *benchStore, cores int, log io.Writer) []statefulRow {
	fail := func(err error) []statefulRow {
		return []statefulRow{{Server: b.name, Cores: cores, Store: st.name, Error: err.Error()}}
	}
	secret, err := newSecret()
	if err != nil {
		return fail(err)
	}
	sdir := filepath.Join(os.TempDir(), fmt.Sprintf("signet-bench-%s-%d", st.name, time.Now().UnixNano()))
	if err := os.MkdirAll(sdir, 0o700); err != nil {
		return fail(err)
	}
	defer os.RemoveAll(sdir)
	path := filepath.Join(sdir, "signet.yaml")
	if err := os.WriteFile(path, []byte(st.config(sdir, hash, secret, slices.Contains(o.flows, flowCCRS256))), 0o600); err != nil {
		return fail(err)
	}
	var extra []string
	switch {
	case o.serverProfile != "": // serve's hidden --cpuprofile
		extra = []string{"--cpuprofile", filepath.Join(o.serverProfile, fmt.Sprintf("%s-%s-%dcore.pprof", b.name, st.name, cores))}
	case o.cpuProfile != "":
		extra = []string{"--cpuprofile", fmt.Sprintf("%s-%s-%s-%d.prof", o.cpuProfile, b.name, st.name, cores)}
	}
	srv, err := startServe(ctx, b.bin, path, b.name+" "+st.name, cores, append(slices.Clone(o.serverEnv), b.env...), extra...)
	if err != nil {
		return fail(err)
	}
	defer srv.stop()
	base := "http://" + srv.addr
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fail(err)
	}
	prover, err := dpop.NewProver(key, "ES256", nil)
	if err != nil {
		return fail(err)
	}
	srv.mu.Lock()
	admin := srv.adminAddr
	srv.mu.Unlock()
	f := &signetFlows{base: base, secret: secret, prover: prover, admin: admin}
	var rows []statefulRow
	for _, flow := range o.flows {
		fmt.Fprintf(log, "bench: %s %s %s, %d core(s)\n", b.name, st.name, flow, cores)
		var row statefulRow
		if alg, ok := netLoadFlows[flow]; ok { // the cheap load generator (scaling.go)
			row = measureNetLoadFlow(ctx, o, statefulRow{Server: b.name, Store: st.name, Flow: flow, RowsPer1000: -1, BytesPer1000: -1}, srv.addr, secret, alg, srv.pid())
		} else {
			row = measureFlow(ctx, o, b.name, st, flow, f, srv.pid())
		}
		row.Cores = cores
		rows = append(rows, row)
	}
	return rows
}

// startServe starts signet serve with a configuration file on serverCPU.
func startServe(ctx context.Context, bin, path, name string, cores int, env []string, extraArgs ...string) (*signetServer, error) {
	s := &signetServer{}
	started := make(chan string, 1)
	onLine := func(line string) { s.onServeLine(line, started) }
	c, err := startPinnedCPUs(name, serverCPUs(cores), bin, append([]string{"serve", "--config", path, "--log-format", "json", "--log-level", "info"}, extraArgs...), env, nil, onLine)
	if err != nil {
		return nil, err
	}
	s.child = c
	select {
	case s.addr = <-started:
	case <-c.done:
		return nil, c.exitErr(errors.New("exited during start-up: " + oneLine(c.tail.String())))
	case <-time.After(startTimeout):
		c.stop()
		return nil, errors.New("did not start: " + oneLine(c.tail.String()))
	}
	if err := s.waitReady(ctx); err != nil {
		c.stop()
		return nil, err
	}
	return s, nil
}

// flows are one server's implementations of the measured operations.
type flows interface {
	// signIn is the whole code flow; laps (nil: none) times its steps.
	signIn(c *http.Client, laps *stepLaps) (tokens, error)
	refresh(c *http.Client, rt string) (tokens, error)
	introspect(c *http.Client, at string) error
	// clientCredentials gets an access token signed with alg.
	clientCredentials(c *http.Client, alg string) error
}

// flowCCRS256 is client_credentials for a resource whose tokens are RS256.
const flowCCRS256 = "client_credentials_rs256"

// newFlowClient is one client of the flows: its own connection, and
// redirects returned, not followed.
func newFlowClient() *http.Client {
	return &http.Client{Timeout: ioTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 1},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// measureFlow runs one flow with o.connections clients in a closed loop.
func measureFlow(ctx context.Context, o *statefulOptions, server string, st *benchStore, flow string, f flows, pid int) statefulRow {
	row := statefulRow{Server: server, Store: "memory", Flow: flow, RowsPer1000: -1, BytesPer1000: -1}
	if st != nil {
		row.Store = st.name
	}
	switch flow { // raw requests (introspectload.go)
	case "introspect":
		return measureIntrospect(ctx, o, row, st, f, pid)
	case flowHealthz:
		return measureHealthz(ctx, o, row, f, pid)
	}
	clients := make([]*http.Client, o.connections)
	state := make([]tokens, o.connections)
	for i := range clients {
		clients[i] = newFlowClient()
		// Refresh and introspection need a sign-in's tokens; a sign-in
		// before the window also has the client's user's password verified
		// (argon2id, then remembered, as in production), so the window
		// measures sign-ins, not the first hash of each user.
		if flow == "refresh" || flow == flowIntrospectHTTP || flow == "signin" {
			t, err := f.signIn(clients[i], nil)
			if err != nil {
				row.Error = "setup sign-in: " + err.Error()
				return row
			}
			state[i] = t
		}
	}
	laps := make([]stepLaps, len(clients))
	op := func(i int) error {
		c := clients[i]
		switch flow {
		case "refresh":
			t, err := f.refresh(c, state[i].RefreshToken)
			if err == nil {
				state[i] = t
			}
			return err
		case "signin":
			_, err := f.signIn(c, &laps[i])
			return err
		case flowIntrospectHTTP:
			return f.introspect(c, state[i].AccessToken)
		case "client_credentials":
			return f.clientCredentials(c, "ES256")
		case flowCCRS256:
			return f.clientCredentials(c, "RS256")
		case "client_credentials_dpop":
			sf, ok := f.(*signetFlows)
			if !ok {
				return errors.New("client_credentials_dpop is measured for Signet only")
			}
			return sf.dpopClientCredentials(c)
		}
		return fmt.Errorf("unknown flow %q", flow)
	}
	var (
		measuring atomic.Bool
		stop      atomic.Bool
		count     atomic.Int64
		errs      atomic.Int64
		mu        sync.Mutex
		hist      = &histogram{}
		steps     stepRecorder
		firstErr  atomic.Value
	)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for !stop.Load() {
				laps[i].reset()
				t0 := time.Now()
				err := op(i)
				d := time.Since(t0)
				if !measuring.Load() {
					continue
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					if flow == "refresh" { // a broken family: start another
						if t, err := f.signIn(clients[i], nil); err == nil {
							state[i] = t
						}
					}
					continue
				}
				count.Add(1)
				mu.Lock()
				hist.record(d)
				if len(laps[i].names) > 0 {
					steps.record(d, &laps[i])
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(o.warmup)
	admin := ""
	if sf, ok := f.(*signetFlows); ok {
		admin = sf.admin
	}
	probe := newWindowProbe(ctx, st, admin, pid)
	probe.begin(&row)
	measuring.Store(true)
	start := time.Now()
	for time.Since(start) < o.duration {
		time.Sleep(min(time.Second, o.duration-time.Since(start)))
		probe.sampleRSS(&row)
	}
	measuring.Store(false)
	probe.stop(&row)
	elapsed := time.Since(start)
	n := count.Load()
	probe.finish(&row, n)
	stop.Store(true)
	wg.Wait()
	row.PerSecond = float64(n) / elapsed.Seconds()
	row.P50Ms = float64(hist.quantile(0.50).Microseconds()) / 1000
	row.P99Ms = float64(hist.quantile(0.99).Microseconds()) / 1000
	row.Steps = steps.figures(hist.quantile(0.99))
	row.Errors = errs.Load()
	if v, ok := firstErr.Load().(string); ok {
		row.Error = "first error: " + v
		if row.Errors*100 < n { // a few errors: report them, keep the numbers
			row.Error = ""
		}
	}
	probe.size(&row, n)
	row.Load1 = loadAverage()
	return row
}

func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	var l float64
	fmt.Sscanf(string(b), "%f", &l)
	return l
}

// signetFlows are Signet's operations.
type signetFlows struct {
	base, secret string
	users        sync.Map     // *http.Client → its username
	nextUser     atomic.Int64 // users given out
	// prover makes the DPoP proofs of the client_credentials_dpop flow:
	// one key, a new proof per request.
	prover *dpop.Prover
	// admin is the server's admin listener (/metrics), "" when unknown.
	admin string
}

// flowHealthz is GET /healthz: no store, no signature, a reference for
// the latency the load generator and HTTP alone add (the introspection
// tail, docs/benchmarks.md).
const flowHealthz = "healthz"

var reHiddenField = regexp.MustCompile(`name="(request|csrf)" value="([^"]*)"`)

func pkceChallenge(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// signIn is the whole code flow of a new browser: authorize, the login
// page, the login, the code exchange.
func (f *signetFlows) signIn(c *http.Client, laps *stepLaps) (tokens, error) {
	jar, _ := cookiejar.New(nil)
	c.Jar = jar
	defer func() { c.Jar = nil }()
	q := url.Values{"response_type": {"code"}, "client_id": {statefulClient}, "redirect_uri": {statefulRedirect},
		"scope": {"openid offline_access api.read"}, "state": {"s"}, "code_challenge": {pkceChallenge(statefulVerifier)},
		"code_challenge_method": {"S256"}}
	resp, _, err := do(c, "GET", f.base+"/connect/authorize?"+q.Encode(), nil, 302)
	if err != nil {
		return tokens{}, err
	}
	laps.lap("authorize")
	loc := resp.Header.Get("Location")
	if rest, ok := strings.CutPrefix(loc, statefulIssuer); ok { // the configured issuer
		loc = f.base + rest
	}
	_, body, err := do(c, "GET", loc, nil, 200)
	if err != nil {
		return tokens{}, err
	}
	laps.lap("login page")
	form := url.Values{"username": {f.username(c)}, "password": {statefulPassword}}
	for _, m := range reHiddenField.FindAllStringSubmatch(string(body), -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	resp, _, err = do(c, "POST", f.base+"/account/login", form, 303)
	if err != nil {
		return tokens{}, err
	}
	laps.lap("login")
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || cb.Query().Get("code") == "" {
		return tokens{}, fmt.Errorf("login: no code in %q", resp.Header.Get("Location"))
	}
	t, err := tokenCall(c, f.base+"/connect/token", url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {statefulRedirect}, "client_id": {statefulClient}, "code_verifier": {statefulVerifier}}, "", "")
	laps.lap("token")
	return t, err
}

// username is the user client c signs in as: its own, one of
// statefulUsers given out in turn.
func (f *signetFlows) username(c *http.Client) string {
	if u, ok := f.users.Load(c); ok {
		return u.(string)
	}
	u, _ := f.users.LoadOrStore(c, statefulUsername(int(f.nextUser.Add(1)-1)%statefulUsers))
	return u.(string)
}

// statefulUsername is the name of Signet's user i.
func statefulUsername(i int) string { return statefulUser + strconv.Itoa(i) }

func (f *signetFlows) refresh(c *http.Client, rt string) (tokens, error) {
	return tokenCall(c, f.base+"/connect/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {statefulClient}}, "", "")
}

func (f *signetFlows) clientCredentials(c *http.Client, alg string) error {
	scope := "api.read" // the default key: ES256
	if alg == "RS256" {
		scope = "rs256.read"
	}
	t, err := tokenCall(c, f.base+"/connect/token", url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, statefulService, f.secret)
	if err != nil {
		return err
	}
	return checkAlg(t.AccessToken, alg)
}

// checkAlg checks that jwt's header names alg.
func checkAlg(jwt, alg string) error {
	head, _, _ := strings.Cut(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	var h struct{ Alg string }
	if err == nil {
		err = json.Unmarshal(b, &h)
	}
	if err != nil || h.Alg != alg {
		return fmt.Errorf("access token signed with %q, want %s (%v)", h.Alg, alg, err)
	}
	return nil
}

// dpopClientCredentials is clientCredentials with a DPoP proof (RFC
// 9449): the server verifies it, records its jti in the store and binds
// the token. Making the proof is the load generator's work.
func (f *signetFlows) dpopClientCredentials(c *http.Client) error {
	proof, err := f.prover.Proof("POST", statefulIssuer+"/connect/token", dpop.ProofOptions{})
	if err != nil {
		return err
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"api.read"}}
	req, _ := http.NewRequest("POST", f.base+"/connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", proof)
	req.SetBasicAuth(statefulService, f.secret)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"token_type":"DPoP"`) {
		return fmt.Errorf("DPoP token: %d %.200s", resp.StatusCode, b)
	}
	return nil
}

func (f *signetFlows) introspect(c *http.Client, at string) error {
	return introspectCall(c, f.base+"/connect/introspect", at, statefulResource, f.secret)
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }

func do(c *http.Client, method, u string, form url.Values, want int) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return nil, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != want {
		return nil, nil, fmt.Errorf("%s %s: %d, want %d: %.200s", method, u, resp.StatusCode, want, b)
	}
	return resp, b, nil
}

func tokenCall(c *http.Client, u string, form url.Values, user, pass string) (tokens, error) {
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		return tokens{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return tokens{}, err
	}
	var t tokens
	if resp.StatusCode != 200 || json.Unmarshal(b, &t) != nil || t.AccessToken == "" {
		return tokens{}, fmt.Errorf("token: %d %.200s", resp.StatusCode, b)
	}
	return t, nil
}

func introspectCall(c *http.Client, u, token, user, pass string) error {
	req, _ := http.NewRequest("POST", u, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var m struct {
		Active bool `json:"active"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &m) != nil || !m.Active {
		return fmt.Errorf("introspect: %d %.200s", resp.StatusCode, b)
	}
	return nil
}
