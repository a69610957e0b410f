package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/signet-id/signet/key"
)

// Targets of issue 7 (and issue 8 for a -tags openssl build).
const (
	targetRSARatio      = 0.90 // RS256 tokens/raw
	targetOverheadFloor = 1.5  // ES256, EdDSA: overhead / HTTP floor
	targetJWKSRatio     = 0.8  // JWKS rate / floor rate
	// targetAssertionFloorShare: a private_key_jwt token may cost one ES256
	// verification plus this share of the floor more than a secret one.
	targetAssertionFloorShare = 0.2
	targetRotationP99         = 1.5  // p99 while rotating / steady p99
	targetLongRSSMiB          = 64   // RSS after the long run
	targetLongGrowthMiB       = 4    // RSS growth over the second half of the long run
	targetOpenSSLRatio        = 0.85 // RS256 tokens (-tags openssl) / openssl speed
)

// Disturbance thresholds: above these, other processes shared the
// benchmark's CPUs enough to lower a rate visibly.
const (
	maxOtherCPU    = 0.05
	minRawCPUShare = 0.97
)

// goroutineSettleLimit bounds the wait for the server's connection
// goroutines to end after the long run closed its connections.
const goroutineSettleLimit = 3 * time.Second

// runner holds what the phases of one run share.
type runner struct {
	ctx    context.Context
	o      *options
	rep    *report
	self   string // this binary, for raw-sign and baseline-server
	log    io.Writer
	logTo  io.Writer // the servers' logs (-v), or nil
	noisy  []string  // phases that started on a busy machine
	dir    string
	secret string
	// assertionKey and assertionJWK: the private_key_jwt client's.
	assertionKey *ecdsa.PrivateKey
	assertionJWK string
	bin          string
	flags        serveFlags
	floorReq     request // the request the floor answers
}

func (r *runner) progress(format string, args ...any) {
	fmt.Fprintf(r.log, "bench: "+format+"\n", args...)
}

// benchmark runs every phase and returns the report. Child processes are
// stopped before it returns, whatever happens.
func benchmark(ctx context.Context, o *options, log io.Writer) (*report, error) {
	if err := checkMachine(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "signet-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	r := &runner{ctx: ctx, o: o, log: log, dir: dir}
	if o.verbose {
		r.logTo = log
	}
	r.rep = &report{
		Command: strings.TrimSpace("go run ./bench " + strings.Join(os.Args[1:], " ")),
		Machine: describeMachine(ctx),
		Settings: settings{
			ServerCPU: serverCPU, LoadCPU: loadCPU, Connections: o.connections,
			WarmupS: o.warmup.Seconds(), WindowS: o.duration.Seconds(), RawS: o.rawDuration.Seconds(),
			Store: o.store, RSABits: o.rsaBits, KeyBackend: o.keyBackend,
			Request: "POST client_credentials, client_secret_basic, scope selects the algorithm",
		},
	}

	// Build with every core, then pin.
	r.bin = o.signetBin
	if r.bin == "" {
		r.bin = filepath.Join(dir, "signet")
		r.progress("building signet")
		if err := buildSignet(ctx, r.bin, ""); err != nil {
			return nil, err
		}
	}
	var tagged string
	if o.tags != "" {
		tagged = filepath.Join(dir, "signet-"+strings.NewReplacer(",", "-", " ", "-").Replace(o.tags))
		r.progress("building signet -tags %s", o.tags)
		if err := buildSignet(ctx, tagged, o.tags); err != nil {
			r.rep.Builds = append(r.rep.Builds, buildResult{Tags: o.tags, Error: oneLine(err.Error())})
			tagged = ""
		}
	}
	r.flags = probeServe(ctx, r.bin)
	if r.self, err = os.Executable(); err != nil {
		return nil, err
	}
	if r.secret, err = newSecret(); err != nil {
		return nil, err
	}
	if r.assertionKey, r.assertionJWK, err = newAssertionKey(); err != nil {
		return nil, err
	}
	cpuProfile := o.cpuProfile
	if cpuProfile != "" {
		if cpuProfile, err = filepath.Abs(cpuProfile); err != nil {
			return nil, err
		}
	}
	if err := pinSelf(loadCPU); err != nil {
		return nil, err
	}

	if o.compare != "" {
		if err := r.measureCompare(); err != nil { // compare.go
			return nil, err
		}
		if len(r.noisy) > 0 {
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("CPUs 0 and 1 were not idle within %s before: %s", o.quietWait, strings.Join(r.noisy, "; ")))
		}
		r.rep.evaluate()
		return r.rep, nil
	}
	srv, err := r.startServer("signet serve", "main", r.bin, false, cpuProfile)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	if err := r.measureMain(srv, cpuProfile); err != nil {
		return nil, err
	}
	if o.rotate {
		if err := r.measureRotation(); err != nil {
			return nil, err
		}
	}
	if o.tokens > 0 {
		if err := r.measureLong(srv); err != nil {
			return nil, err
		}
	}
	if tagged != "" {
		if err := r.measureBuild(tagged); err != nil {
			return nil, err
		}
	}
	if len(r.rep.Builds) > 0 {
		r.rep.Builds = append([]buildResult{r.defaultBuild()}, r.rep.Builds...)
	}
	if rss, err := procRSS(srv.pid()); err == nil {
		r.rep.Server.RSSEndMiB = round(mib(rss), 1)
	}
	if n, err := srv.goroutines(); err == nil {
		r.rep.Server.GoroutinesEnd = n
	}
	if err := srv.stop(); err != nil {
		return nil, err
	}
	if cpuProfile != "" {
		r.rep.Notes = append(r.rep.Notes, "CPU profiles: "+cpuProfile+" (signet serve), "+cpuProfile+".floor (floor)")
	}
	if len(r.noisy) > 0 {
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("CPUs 0 and 1 were not idle within %s before: %s", o.quietWait, strings.Join(r.noisy, "; ")))
	}
	r.rep.evaluate()
	return r.rep, nil
}

// startServer starts `signet serve` (bin) with the benchmark's
// configuration in its own data directory.
func (r *runner) startServer(name, dir, bin string, rotate bool, cpuProfile string) (*signetServer, error) {
	d := filepath.Join(r.dir, dir)
	if err := os.Mkdir(d, 0o700); err != nil {
		return nil, err
	}
	cfg := &serverConfig{dir: d, store: r.o.store, algs: r.o.algs, rsaBits: r.o.rsaBits, secret: r.secret, rotate: rotate,
		assertionKey: r.assertionKey, assertionJWK: r.assertionJWK}
	if r.o.keyBackend != "" {
		cfg.keyBackend = keyBackendYAML(r.o.keyBackendConfig)
	}
	r.progress("starting %s on CPU %d", name, serverCPU)
	return startSignet(r.ctx, name, bin, cfg, r.flags, cpuProfile, r.logTo)
}

// measureMain measures the floor, every algorithm against its raw
// signatures, and the JWKS. The floor and each raw rate are measured in
// two halves, before and after what they are compared with, so a slow
// drift of the machine's speed cancels out.
func (r *runner) measureMain(srv *signetServer, cpuProfile string) error {
	o, rep := r.o, r.rep
	rss, err := procRSS(srv.pid())
	if err != nil {
		return err
	}
	rep.Server.RSSStartMiB = round(mib(rss), 1)
	sizes := map[key.Algorithm]int{}
	for _, alg := range o.algs {
		if sizes[alg], err = srv.checkToken(alg); err != nil {
			return err
		}
	}

	// The floor answers the same request with a body of a token
	// response's size: ES256's if measured (the targets compare the
	// floor with ES256 and EdDSA), else EdDSA's, else the first's.
	refAlg := o.algs[0]
	for _, a := range []key.Algorithm{key.EdDSA, key.ES256} {
		if slices.Contains(o.algs, a) {
			refAlg = a
		}
	}
	r.floorReq = srv.tokenRequest(refAlg)
	bodySize := sizes[refAlg]
	floorProfile := ""
	if cpuProfile != "" {
		floorProfile = cpuProfile + ".floor"
	}
	r.progress("floor: net/http answering with %d bytes", bodySize)
	floor1, err := r.measureFloor(bodySize, o.duration/2, floorProfile)
	if err != nil {
		return err
	}

	type algRun struct {
		alg    key.Algorithm
		tokens *loadResult
		raw    *rawResult
	}
	var runs []algRun
	for _, alg := range o.algs {
		raw1, err := r.measureRaw(alg, o.rawDuration/2)
		if err != nil {
			return err
		}
		tokens, err := r.load(srv.addr, srv.pid(), srv.tokenRequest(alg), o.duration)
		if err != nil {
			return fmt.Errorf("%s: %w", alg, err)
		}
		raw2, err := r.measureRaw(alg, o.rawDuration/2)
		if err != nil {
			return err
		}
		raw := raw1.combine(raw2)
		runs = append(runs, algRun{alg, tokens, raw})
		r.progress("%s: raw %s sig/s, %s tokens/s, p99 %s µs", alg, num(raw.PerSecond), num(tokens.Rate()), num(float64(tokens.Hist.quantile(0.99).Microseconds())))
	}

	// private_key_jwt and DPoP beside the secret mode, for the floor's
	// algorithm (ES256 when measured): modes.go.
	for _, x := range runs {
		if x.alg == refAlg && o.keyBackend == "" {
			if err := r.measureModes(srv, x.alg, newPhaseResult(x.tokens)); err != nil {
				return err
			}
		}
	}

	var jwks200, jwks304 *loadResult
	if o.jwks {
		etag, jwksSize, err := srv.jwksETag()
		if err != nil {
			return err
		}
		rep.JWKS = &jwksResult{BodyBytes: jwksSize}
		if jwks200, err = r.load(srv.addr, srv.pid(), newRequest("GET", srv.jwksPath, nil, "", 200), o.duration); err != nil {
			return fmt.Errorf("JWKS: %w", err)
		}
		if jwks304, err = r.load(srv.addr, srv.pid(), newRequest("GET", srv.jwksPath, []string{"If-None-Match: " + etag}, "", 304), o.duration); err != nil {
			return fmt.Errorf("JWKS 304: %w", err)
		}
		r.progress("JWKS: %s/s (200), %s/s (304)", num(jwks200.Rate()), num(jwks304.Rate()))
	}

	floor2, err := r.measureFloor(bodySize, o.duration/2, "")
	if err != nil {
		return err
	}
	rep.Baseline = newPhaseResult(floor1.combine(floor2))
	rep.Baseline.BodyBytes = bodySize
	r.progress("floor: %s req/s, %.1f µs per request", num(rep.Baseline.PerSecond), rep.Baseline.perRequestUs())

	for _, x := range runs {
		p := newPhaseResult(x.tokens)
		p.BodyBytes = sizes[x.alg]
		a := algResult{Alg: string(x.alg), Tokens: p, RawPerSecond: round(x.raw.PerSecond, 1), RawCPUShare: round(x.raw.CPUShare, 3)}
		a.Ratio = round(p.PerSecond/x.raw.PerSecond, 4)
		a.OverheadUs = round(1e6/p.PerSecond-1e6/x.raw.PerSecond, 2)
		a.OverheadVsBaseline = round(a.OverheadUs/rep.Baseline.perRequestUs(), 3)
		rep.Algorithms = append(rep.Algorithms, a)
	}
	if rep.JWKS != nil {
		rep.JWKS.OK, rep.JWKS.NotModified = newPhaseResult(jwks200), newPhaseResult(jwks304)
		rep.JWKS.OKRatio = round(rep.JWKS.OK.PerSecond/rep.Baseline.PerSecond, 4)
		rep.JWKS.NotModRatio = round(rep.JWKS.NotModified.PerSecond/rep.Baseline.PerSecond, 4)
	}
	return nil
}

// quiet waits for the machine to be idle before a phase (see waitQuiet).
func (r *runner) quiet(phase string) error {
	if r.o.quietWait <= 0 {
		return nil
	}
	ok, err := waitQuiet(r.ctx, r.o.quietWait)
	if err == nil && !ok {
		r.noisy = append(r.noisy, phase)
		r.progress("%s: the machine is busy with other work; measuring anyway", phase)
	}
	return err
}

// load runs one load phase. A window in which other processes took a
// visible share of a benchmark CPU is measured again, up to o.retries
// times.
func (r *runner) load(addr string, pid int, req request, window time.Duration) (*loadResult, error) {
	name := string(req.raw[:bytes.IndexByte(req.raw, '\r')])
	for try := 0; ; try++ {
		if err := r.quiet(name); err != nil {
			return nil, err
		}
		res, err := runLoad(r.ctx, loadSpec{addr: addr, req: req, connections: r.o.connections, warmup: r.o.warmup, window: window, serverPID: pid})
		if err != nil {
			return nil, err
		}
		d := res.CPU.disturbance()
		if d <= maxOtherCPU || try == r.o.retries {
			return res, nil
		}
		r.progress("%s: other processes took %.0f%% of a CPU; measuring again", name, 100*d)
	}
}

// measureRaw runs `bench raw-sign`, again when it did not get its CPU.
func (r *runner) measureRaw(alg key.Algorithm, window time.Duration) (*rawResult, error) {
	for try := 0; ; try++ {
		if err := r.quiet(string(alg) + " raw-sign"); err != nil {
			return nil, err
		}
		rr, err := rawSignRate(r.ctx, r.self, alg, r.o.rsaBits, window, r.o.keyBackend, r.o.connections)
		// Through a key backend raw-sign waits for the backend (another
		// process, the network): a low CPU share is expected.
		if err != nil || rr.CPUShare >= minRawCPUShare || try == r.o.retries || r.o.keyBackend != "" {
			return rr, err
		}
		r.progress("%s raw-sign: ran %.0f%% of its window; measuring again", alg, 100*rr.CPUShare)
	}
}

// evaluate adds the targets of issue 7 (and 8) that this run measured.
func (r *report) evaluate() {
	backend := r.Settings.KeyBackend != ""
	if backend {
		r.Notes = append(r.Notes, "keys in "+r.Settings.KeyBackend+": the speed targets (written for in-process signing) are not evaluated; compare PER S with RAW SIG/S, both through the backend")
	}
	for _, a := range r.Algorithms {
		switch key.Algorithm(a.Alg) {
		case key.RS256:
			if backend {
				break
			}
			r.addTarget("RS256 tokens/raw", a.Ratio, ">=", targetRSARatio)
		case key.ES256, key.EdDSA:
			if backend {
				break
			}
			r.addTarget(a.Alg+" overhead / HTTP floor per request", a.OverheadVsBaseline, "<=", targetOverheadFloor)
		}
		if a.Tokens.Errors > 0 {
			r.addTarget(a.Alg+" answers with an unexpected status", float64(a.Tokens.Errors), "<=", 0)
		}
	}
	r.evaluateModes()
	if j := r.JWKS; j != nil {
		r.addTarget("JWKS 200 rate / HTTP floor rate", j.OKRatio, ">=", targetJWKSRatio)
		r.addTarget("JWKS 304 rate / HTTP floor rate", j.NotModRatio, ">=", targetJWKSRatio)
	}
	for _, x := range r.Rotation {
		r.addTarget(x.Alg+" p99 while rotating / steady p99", x.P99Ratio, "<=", targetRotationP99)
		if x.Tokens.Errors > 0 {
			r.addTarget(x.Alg+" answers with an unexpected status while rotating", float64(x.Tokens.Errors), "<=", 0)
		}
	}
	if l := r.Long; l != nil {
		r.addTarget(fmt.Sprintf("RSS MiB after %s tokens", num(float64(l.Tokens))), l.RSSAfterMiB, "<", targetLongRSSMiB)
		r.addTarget("RSS growth MiB over the second half of the long run", l.RSSAfterMiB-l.RSSHalfMiB, "<=", targetLongGrowthMiB)
		r.addTarget("goroutine growth over the long run", float64(l.GoroutinesAfter-l.GoroutinesBefore), "<=", 0)
		if l.Run.Errors > 0 {
			r.addTarget("long run answers with an unexpected status", float64(l.Run.Errors), "<=", 0)
		}
	}
	for _, bd := range r.Builds {
		if bd.Tags != "openssl" {
			continue
		}
		for _, row := range bd.Rows {
			if row.Alg == string(key.RS256) && row.OpenSSLPerSecond > 0 {
				r.addTarget("RS256 tokens (-tags openssl) / openssl speed", row.VsOpenSSL, ">=", targetOpenSSLRatio)
			}
		}
	}
	if r.Compare != nil {
		r.evaluateCompare() // compare.go
	}
	r.noteDisturbances()
	r.Pass = true
	for _, t := range r.Targets {
		r.Pass = r.Pass && t.Pass
	}
}

// noteDisturbances adds a note for every window in which other processes
// took a visible share of a benchmark CPU.
func (r *report) noteDisturbances() {
	var hit []string
	check := func(name string, p *phaseResult) {
		if p != nil && p.disturbance() > maxOtherCPU {
			hit = append(hit, fmt.Sprintf("%s (%.0f%% taken)", name, 100*p.disturbance()))
		}
	}
	check("floor", r.Baseline)
	for _, a := range r.Algorithms {
		check(a.Alg, a.Tokens)
		if a.RawCPUShare > 0 && a.RawCPUShare < minRawCPUShare {
			hit = append(hit, fmt.Sprintf("%s raw (ran %.0f%% of the window)", a.Alg, 100*a.RawCPUShare))
		}
	}
	for _, m := range r.modes() {
		check(m.Mode, m.Tokens)
	}
	if r.JWKS != nil {
		check("JWKS 200", r.JWKS.OK)
		check("JWKS 304", r.JWKS.NotModified)
	}
	for _, x := range r.Rotation {
		check(x.Alg+" rotating", x.Tokens)
	}
	for _, bd := range r.Builds {
		if bd.Tags == "" {
			continue
		}
		for _, row := range bd.Rows {
			check("-tags "+bd.Tags+" "+row.Alg, row.Tokens)
		}
	}
	if len(hit) > 0 {
		r.Notes = append(r.Notes, "other processes took CPU time from the benchmark during: "+strings.Join(hit, ", ")+"; those rates are low and their ratios unreliable: rerun on a quiet machine")
	}
}

// measureFloor starts `bench baseline-server` on the server's CPU and
// sends it the floor request the way the token endpoint is loaded.
func (r *runner) measureFloor(bodySize int, window time.Duration, profile string) (*loadResult, error) {
	addrs := make(chan string, 1)
	out := &lineWriter{fn: func(line string) {
		if a, ok := strings.CutPrefix(line, "listening "); ok {
			select {
			case addrs <- a:
			default:
			}
		}
	}}
	args := []string{"baseline-server", "--body-bytes", strconv.Itoa(bodySize)}
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	c, err := startPinned("baseline-server", serverCPU, r.self, args, nil, out, nil)
	if err != nil {
		return nil, err
	}
	defer c.stop()
	t := time.NewTimer(startTimeout)
	defer t.Stop()
	var addr string
	select {
	case addr = <-addrs:
	case <-c.done:
		return nil, c.exitErr(errors.New("exited during start-up"))
	case <-t.C:
		return nil, c.exitErr(errors.New("did not start"))
	case <-r.ctx.Done():
		return nil, r.ctx.Err()
	}
	res, err := r.load(addr, c.pid(), r.floorReq, window)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	return res, c.stop()
}

// rawSignRate runs `bench raw-sign` on the server's CPU.
func rawSignRate(ctx context.Context, self string, alg key.Algorithm, bits int, window time.Duration, keyBackend string, callers int) (*rawResult, error) {
	args := []string{"raw-sign", "--alg", string(alg), "--rsa-bits", strconv.Itoa(bits), "--seconds", strconv.FormatFloat(window.Seconds(), 'f', -1, 64)}
	if keyBackend != "" {
		args = append(args, "--key-backend", keyBackend, "--callers", strconv.Itoa(callers))
	}
	out, err := runPinnedChild(ctx, "raw-sign "+string(alg), self, args, window)
	if err != nil {
		return nil, err
	}
	var res rawResult
	if err := json.Unmarshal(out, &res); err != nil || res.PerSecond <= 0 {
		return nil, fmt.Errorf("raw-sign %s: bad output %q", alg, out)
	}
	return &res, nil
}

// runPinnedChild runs `self args...` (a measuring child of this binary:
// raw-sign, raw-verify) on the server's CPU, waits for it to finish its
// window, and returns what it printed.
func runPinnedChild(ctx context.Context, name, self string, args []string, window time.Duration) ([]byte, error) {
	var out strings.Builder
	c, err := startPinned(name, serverCPU, self, args, nil, &out, nil)
	if err != nil {
		return nil, err
	}
	defer c.stop()
	limit := time.NewTimer(window + startTimeout)
	defer limit.Stop()
	select {
	case <-c.done:
	case <-limit.C:
		return nil, c.exitErr(errors.New("did not finish"))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := c.exitErr(c.err); err != nil {
		return nil, err
	}
	return []byte(out.String()), nil
}

// measureRotation loads a server whose keys rotate every few seconds and
// compares each algorithm's p99 with the steady server's.
func (r *runner) measureRotation() error {
	srv, err := r.startServer("signet serve (rotating)", "rotate", r.bin, true, "")
	if err != nil {
		return err
	}
	defer srv.stop()
	window := max(r.o.duration, rotateMinWindow)
	r.rep.Settings.RotationWindowS = window.Seconds()
	r.progress("rotation: every key signs %s, so each algorithm gets a successor that often; %s windows", rotateSigns, window)
	for _, a := range r.rep.Algorithms {
		alg := key.Algorithm(a.Alg)
		res, err := r.load(srv.addr, srv.pid(), srv.tokenRequest(alg), window)
		if err != nil {
			return fmt.Errorf("rotation %s: %w", alg, err)
		}
		p := newPhaseResult(res)
		now := time.Now() // the window ended just now
		x := rotationResult{Alg: a.Alg, Tokens: p, KeysCreated: srv.keysCreated(now.Add(-res.Elapsed), now),
			SteadyP99us: a.Tokens.P99us, P99Ratio: round(p.P99us/a.Tokens.P99us, 3)}
		r.rep.Rotation = append(r.rep.Rotation, x)
		r.progress("rotation %s: p99 %s µs (steady %s), %d keys created", alg, num(p.P99us), num(a.Tokens.P99us), x.KeysCreated)
	}
	return srv.stop()
}

// measureLong issues o.tokens tokens and samples the server's RSS and
// goroutines.
func (r *runner) measureLong(srv *signetServer) error {
	o := r.o
	l := &longResult{Alg: string(o.longAlg), Tokens: o.tokens}
	if !slices.Contains(o.algs, o.longAlg) {
		return fmt.Errorf("--long-alg %s is not among --algs", o.longAlg)
	}
	var err error
	if l.GoroutinesBefore, err = srv.goroutines(); err != nil {
		return err
	}
	rss, err := procRSS(srv.pid())
	if err != nil {
		return err
	}
	l.RSSBeforeMiB = round(mib(rss), 1)
	r.progress("long run: %s %s tokens", num(float64(o.tokens)), o.longAlg)
	next := int64(1)
	res, err := runLoad(r.ctx, loadSpec{addr: srv.addr, req: srv.tokenRequest(o.longAlg), connections: o.connections, limit: o.tokens, serverPID: srv.pid(),
		progress: func(done int64) {
			for next <= 10 && done >= o.tokens*next/10 {
				if rss, err := procRSS(srv.pid()); err == nil {
					l.RSSSamplesMiB = append(l.RSSSamplesMiB, round(mib(rss), 1))
					if next == 5 {
						l.RSSHalfMiB = round(mib(rss), 1)
					}
				}
				next++
			}
		}})
	if err != nil {
		return fmt.Errorf("long run: %w", err)
	}
	l.Run = newPhaseResult(res)
	if rss, err = procRSS(srv.pid()); err != nil {
		return err
	}
	l.RSSAfterMiB = round(mib(rss), 1)
	// The server's goroutines of the closed connections end shortly.
	deadline := time.Now().Add(goroutineSettleLimit)
	for {
		if l.GoroutinesAfter, err = srv.goroutines(); err != nil {
			return err
		}
		if l.GoroutinesAfter <= l.GoroutinesBefore || time.Now().After(deadline) {
			break
		}
		if err := sleepCtx(r.ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	r.rep.Long = l
	r.progress("long run: %s tokens/s, RSS %.1f → %.1f MiB, goroutines %d → %d", num(l.Run.PerSecond), l.RSSBeforeMiB, l.RSSAfterMiB, l.GoroutinesBefore, l.GoroutinesAfter)
	return nil
}

// measureBuild loads a second build (e.g. -tags openssl) with the RSA
// algorithms and runs `openssl speed` on the server's CPU.
func (r *runner) measureBuild(bin string) error {
	o := r.o
	bd := buildResult{Tags: o.tags}
	if err := r.quiet("openssl speed"); err != nil {
		return err
	}
	// Like the raw Go rate, openssl speed runs half before the token
	// windows and half after, so that a drift of the machine's speed
	// during the run does not bias the ratio.
	sslBefore, err := opensslSpeed(r.ctx, o.rsaBits, o.rawDuration/2)
	if err != nil {
		r.rep.Notes = append(r.rep.Notes, "openssl speed: "+oneLine(err.Error()))
	}
	srv, err := r.startServer("signet serve -tags "+o.tags, "tags", bin, false, "")
	if err != nil {
		return err
	}
	defer srv.stop()
	type tokenRow struct {
		alg    key.Algorithm
		tokens *phaseResult
		goRaw  float64
	}
	var rows []tokenRow
	for _, a := range r.rep.Algorithms {
		alg := key.Algorithm(a.Alg)
		if !alg.IsRSA() {
			continue
		}
		if _, err := srv.checkToken(alg); err != nil {
			return err
		}
		res, err := r.load(srv.addr, srv.pid(), srv.tokenRequest(alg), o.duration)
		if err != nil {
			return fmt.Errorf("-tags %s %s: %w", o.tags, alg, err)
		}
		p := newPhaseResult(res)
		rows = append(rows, tokenRow{alg, p, a.RawPerSecond})
		r.progress("-tags %s %s: %s tokens/s", o.tags, alg, num(p.PerSecond))
	}
	if err := srv.stop(); err != nil {
		return err
	}
	if err := r.quiet("openssl speed"); err != nil {
		return err
	}
	sslAfter, err := opensslSpeed(r.ctx, o.rsaBits, o.rawDuration/2)
	if err != nil {
		r.rep.Notes = append(r.rep.Notes, "openssl speed: "+oneLine(err.Error()))
	}
	sslRate := sslBefore
	if sslBefore > 0 && sslAfter > 0 {
		sslRate = (sslBefore + sslAfter) / 2
		r.progress("openssl speed rsa%d: %s sig/s before, %s after", o.rsaBits, num(sslBefore), num(sslAfter))
	}
	for _, tr := range rows {
		row := buildRow{Alg: string(tr.alg), Tokens: tr.tokens, GoRawPerSecond: tr.goRaw, OpenSSLPerSecond: round(sslRate, 1)}
		if sslRate > 0 {
			row.VsOpenSSL = round(tr.tokens.PerSecond/sslRate, 4)
		}
		bd.Rows = append(bd.Rows, row)
	}
	r.rep.Builds = append(r.rep.Builds, bd)
	return nil
}

// defaultBuild restates the default build's RSA rows beside a second
// build.
func (r *runner) defaultBuild() buildResult {
	var ssl float64
	for _, bd := range r.rep.Builds {
		for _, row := range bd.Rows {
			ssl = row.OpenSSLPerSecond
		}
	}
	var bd buildResult
	for _, a := range r.rep.Algorithms {
		if !key.Algorithm(a.Alg).IsRSA() {
			continue
		}
		row := buildRow{Alg: a.Alg, Tokens: a.Tokens, GoRawPerSecond: a.RawPerSecond, OpenSSLPerSecond: ssl}
		if ssl > 0 {
			row.VsOpenSSL = round(a.Tokens.PerSecond/ssl, 4)
		}
		bd.Rows = append(bd.Rows, row)
	}
	return bd
}

// opensslSpeed runs `openssl speed rsaBITS` on the server's CPU and
// returns its signatures per second.
func opensslSpeed(ctx context.Context, bits int, window time.Duration) (float64, error) {
	secs := strconv.Itoa(max(1, int(window.Round(time.Second).Seconds())))
	var out strings.Builder
	c, err := startPinned("openssl speed", serverCPU, "openssl", []string{"speed", "-seconds", secs, "rsa" + strconv.Itoa(bits)}, nil, &out, nil)
	if err != nil {
		return 0, err
	}
	defer c.stop()
	limit := time.NewTimer(4*window + startTimeout) // it also measures verification
	defer limit.Stop()
	select {
	case <-c.done:
	case <-limit.C:
		return 0, c.exitErr(errors.New("did not finish"))
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if err := c.exitErr(c.err); err != nil {
		return 0, err
	}
	// "rsa 2048 bits 0.000284s 0.000015s   3516.8  65035.8"
	for line := range strings.Lines(out.String()) {
		f := strings.Fields(line)
		if len(f) >= 7 && f[0] == "rsa" && f[1] == strconv.Itoa(bits) && f[2] == "bits" {
			return strconv.ParseFloat(f[5], 64)
		}
	}
	return 0, fmt.Errorf("no rsa %d line in its output:\n%s", bits, out.String())
}

// buildSignet builds ./cmd/signet into out, with tags when not empty.
func buildSignet(ctx context.Context, out, tags string) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	args := []string{"build", "-o", out}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, "./cmd/signet")
	cmd := execCommand(ctx, "go", args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// execCommand is exec.CommandContext that interrupts, then kills, the
// command when ctx is done.
func execCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// checkMachine checks what the benchmark needs: taskset and CPUs 0 and 1.
func checkMachine() error {
	if _, err := exec.LookPath("taskset"); err != nil {
		return errors.New("taskset is required (package util-linux): the server and the load generator are pinned to separate CPUs")
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return fmt.Errorf("read the CPU affinity: %w", err)
	}
	if !set.IsSet(serverCPU) || !set.IsSet(loadCPU) {
		return fmt.Errorf("the benchmark needs CPUs %d and %d (this process may use %d CPUs)", serverCPU, loadCPU, set.Count())
	}
	return nil
}

// describeMachine reads the CPU model, memory and kernel.
func describeMachine(ctx context.Context) machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(v); len(f) == 2 {
					kb, _ := strconv.ParseFloat(f[0], 64)
					m.MemGiB = round(kb/(1<<20), 1)
				}
			}
		}
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if out, err := commandOutput(ctx, "git", "rev-parse", "--short=12", "HEAD"); err == nil {
		m.Revision = strings.TrimSpace(out)
		if st, err := commandOutput(ctx, "git", "status", "--porcelain", "--untracked-files=no"); err == nil && strings.TrimSpace(st) != "" {
			m.Revision += "+dirty"
		}
	}
	if out, err := commandOutput(ctx, "openssl", "version"); err == nil {
		m.OpenSSL = strings.TrimSpace(out)
	}
	return m
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// oneLine joins a multi-line message into one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// lineWriter calls fn with every complete line written to it.
type lineWriter struct {
	buf []byte
	fn  func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.fn(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}
