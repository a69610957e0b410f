package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// report is the outcome of a run; --json prints it as is.
type report struct {
	Command    string       `json:"command"`
	Machine    machine      `json:"machine"`
	Settings   settings     `json:"settings"`
	Baseline   *phaseResult `json:"baseline"`
	Algorithms []algResult  `json:"algorithms"`
	JWKS       *jwksResult  `json:"jwks"`
	// PrivateKeyJWT is the private_key_jwt mode beside the secret mode.
	PrivateKeyJWT *modeResult `json:"private_key_jwt,omitempty"`
	// DPoP is the secret mode plus a DPoP proof per token (modes.go).
	DPoP     *modeResult      `json:"dpop,omitempty"`
	Server   serverStats      `json:"server"`
	Rotation []rotationResult `json:"rotation,omitempty"`
	Long     *longResult      `json:"long,omitempty"`
	Builds   []buildResult    `json:"builds,omitempty"`
	Compare  *compareResult   `json:"compare,omitempty"` // --compare (compare.go)
	Targets  []target         `json:"targets"`
	Pass     bool             `json:"pass"`
	Notes    []string         `json:"notes,omitempty"`
}

type machine struct {
	CPU      string  `json:"cpu"`
	CPUs     int     `json:"cpus"`
	MemGiB   float64 `json:"mem_gib"`
	Kernel   string  `json:"kernel"`
	Go       string  `json:"go"`
	OpenSSL  string  `json:"openssl,omitempty"`
	Revision string  `json:"revision,omitempty"`
}

type settings struct {
	ServerCPU   int     `json:"server_cpu"`
	LoadCPU     int     `json:"load_cpu"`
	Connections int     `json:"connections"`
	WarmupS     float64 `json:"warmup_s"`
	WindowS     float64 `json:"window_s"`
	RawS        float64 `json:"raw_s"`
	Store       string  `json:"store"`
	RSABits     int     `json:"rsa_bits"`
	// KeyBackend is where the keys are and sign (pkcs11, awskms): tokens
	// and raw signatures both go through it. Empty: in-process keys.
	KeyBackend string `json:"key_backend,omitempty"`
	Request    string `json:"request"`
	// RotationWindowS is the window of --rotate phases (at least two
	// rotations).
	RotationWindowS float64 `json:"rotation_window_s,omitempty"`
}

// phaseResult is one measured load window.
type phaseResult struct {
	PerSecond float64 `json:"per_second"`
	P50us     float64 `json:"p50_us"`
	P99us     float64 `json:"p99_us"`
	MaxUs     float64 `json:"max_us"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"` // answers with an unexpected status
	Seconds   float64 `json:"seconds"`
	// ServerCPU and LoadCPU are the fraction of one core the server and
	// the load generator used in the window (server -1: unknown). A
	// server near 1.0 was saturated, which the ratios assume.
	ServerCPU float64 `json:"server_cpu"`
	LoadCPU   float64 `json:"load_cpu"`
	// OtherCPU is the fraction of the server's core that other processes
	// took: anything above a few percent disturbed the window.
	OtherCPU float64 `json:"other_cpu"`
	// LoadOtherCPU is the share of the load generator's core other
	// processes took.
	LoadOtherCPU float64 `json:"load_other_cpu"`
	// ServerIdle and LoadIdle are the idle shares of the server's and the
	// load generator's CPUs.
	ServerIdle float64 `json:"server_core_idle"`
	LoadIdle   float64 `json:"load_core_idle"`
	BodyBytes  int     `json:"body_bytes,omitempty"`
}

func newPhaseResult(r *loadResult) *phaseResult {
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	return &phaseResult{
		PerSecond:    r.Rate(),
		P50us:        us(r.Hist.quantile(0.50)),
		P99us:        us(r.Hist.quantile(0.99)),
		MaxUs:        us(r.Hist.max),
		Requests:     r.Requests,
		Errors:       r.Errors,
		Seconds:      r.Elapsed.Seconds(),
		ServerCPU:    round(r.CPU.server, 3),
		LoadCPU:      round(r.CPU.load, 3),
		OtherCPU:     round(r.CPU.other, 3),
		LoadOtherCPU: round(r.CPU.loadOther, 3),
		ServerIdle:   round(r.CPU.serverIdle, 3),
		LoadIdle:     round(r.CPU.loadIdle, 3),
	}
}

// disturbance is the larger share of a core other processes took from
// the server or the load generator.
func (p *phaseResult) disturbance() float64 { return max(p.OtherCPU, p.LoadOtherCPU) }

// perRequestUs is the cost of one answer on the server's core.
func (p *phaseResult) perRequestUs() float64 { return 1e6 / p.PerSecond }

type algResult struct {
	Alg    string       `json:"alg"`
	Tokens *phaseResult `json:"tokens"`
	// RawPerSecond is crypto.Signer.Sign per second on the same core.
	RawPerSecond float64 `json:"raw_per_second"`
	// RawCPUShare is the fraction of the raw window raw-sign ran (below
	// about 0.97: disturbed).
	RawCPUShare float64 `json:"raw_cpu_share"`
	// Ratio is tokens/raw; OverheadUs is 1/tokens - 1/raw.
	Ratio      float64 `json:"ratio"`
	OverheadUs float64 `json:"overhead_us"`
	// OverheadVsBaseline is OverheadUs over the baseline's per-request
	// cost.
	OverheadVsBaseline float64 `json:"overhead_vs_baseline"`
}

type jwksResult struct {
	BodyBytes   int          `json:"body_bytes"`
	OK          *phaseResult `json:"get_200"`
	NotModified *phaseResult `json:"get_304"`
	OKRatio     float64      `json:"get_200_vs_baseline"`
	NotModRatio float64      `json:"get_304_vs_baseline"`
}

type serverStats struct {
	RSSStartMiB   float64 `json:"rss_start_mib"`
	RSSEndMiB     float64 `json:"rss_end_mib"`
	GoroutinesEnd int     `json:"goroutines_end"`
}

type rotationResult struct {
	Alg         string       `json:"alg"`
	Tokens      *phaseResult `json:"tokens"`
	KeysCreated int          `json:"keys_created"` // during the window, all algorithms
	SteadyP99us float64      `json:"steady_p99_us"`
	P99Ratio    float64      `json:"p99_ratio"`
}

type longResult struct {
	Alg              string       `json:"alg"`
	Tokens           int64        `json:"tokens"`
	Run              *phaseResult `json:"run"`
	RSSBeforeMiB     float64      `json:"rss_before_mib"`
	RSSHalfMiB       float64      `json:"rss_half_mib"`
	RSSAfterMiB      float64      `json:"rss_after_mib"`
	RSSSamplesMiB    []float64    `json:"rss_samples_mib"` // at every tenth of the run
	GoroutinesBefore int          `json:"goroutines_before"`
	GoroutinesAfter  int          `json:"goroutines_after"`
}

type buildResult struct {
	Tags  string     `json:"tags"` // "" for the default build
	Error string     `json:"error,omitempty"`
	Rows  []buildRow `json:"rows,omitempty"`
}

type buildRow struct {
	Alg              string       `json:"alg"`
	Tokens           *phaseResult `json:"tokens"`
	GoRawPerSecond   float64      `json:"go_raw_per_second"`
	OpenSSLPerSecond float64      `json:"openssl_per_second,omitempty"` // openssl speed
	VsOpenSSL        float64      `json:"tokens_vs_openssl,omitempty"`
}

// target is one goal of issue 7 (and 8), evaluated on this run.
type target struct {
	Name string  `json:"name"`
	Got  float64 `json:"got"`
	Want string  `json:"want"` // e.g. ">= 0.90"
	Pass bool    `json:"pass"`
}

func (r *report) addTarget(name string, got float64, op string, limit float64) {
	pass := false
	switch op {
	case ">=":
		pass = got >= limit
	case "<=":
		pass = got <= limit
	case "<":
		pass = got < limit
	}
	if math.IsNaN(got) || math.IsInf(got, 0) {
		pass = false
	}
	r.Targets = append(r.Targets, target{Name: name, Got: round(got, 3), Want: fmt.Sprintf("%s %s", op, trimFloat(limit)), Pass: pass})
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func trimFloat(v float64) string { return strings.TrimSuffix(fmt.Sprintf("%g", v), ".0") }

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeTable prints the report for a terminal.
func (r *report) writeTable(w io.Writer) error {
	if r.Compare != nil {
		return r.writeCompareTable(w) // compare.go
	}
	var b strings.Builder
	s := r.Settings
	fmt.Fprintf(&b, "Signet load benchmark: signet serve on CPU %d (GOMAXPROCS=1), load from CPU %d, %d keep-alive connections (closed loop),\n",
		s.ServerCPU, s.LoadCPU, s.Connections)
	fmt.Fprintf(&b, "%s warm-up + %s window per phase, raw signatures %s per algorithm, %s store, RSA %d bits.\n",
		dur(s.WarmupS), dur(s.WindowS), dur(s.RawS), s.Store, s.RSABits)
	if s.KeyBackend != "" {
		fmt.Fprintf(&b, "Keys in the %s key backend: every token and every raw signature is one call to it; raw-sign uses %d callers.\n", s.KeyBackend, s.Connections)
	}
	m := r.Machine
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %.1f GiB, Linux %s, %s", m.CPU, m.CPUs, m.MemGiB, m.Kernel, m.Go)
	if m.Revision != "" {
		fmt.Fprintf(&b, ", signet %s", m.Revision)
	}
	b.WriteString(".\n\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tPER S\tP50 µs\tP99 µs\tRAW SIG/S\tRATIO\tOVERHEAD µs\tOVERHEAD/FLOOR\tSERVER CPU\tOTHER CPU\tERRORS\t")
	for _, a := range r.Algorithms {
		t := a.Tokens
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.3f\t%.1f\t%.2f\t%s\t%s\t%d\t\n", a.Alg, num(t.PerSecond), num(t.P50us), num(t.P99us),
			num(a.RawPerSecond), a.Ratio, a.OverheadUs, a.OverheadVsBaseline, pct(t.ServerCPU), pct(t.OtherCPU), t.Errors)
	}
	if p := r.Baseline; p != nil {
		fmt.Fprintf(tw, "floor\t%s\t%s\t%s\t\t\t%.1f\t1.00\t%s\t%s\t%d\t\n", num(p.PerSecond), num(p.P50us), num(p.P99us), p.perRequestUs(), pct(p.ServerCPU), pct(p.OtherCPU), p.Errors)
	}
	if j := r.JWKS; j != nil {
		for _, x := range []struct {
			name  string
			p     *phaseResult
			ratio float64
		}{{"JWKS 200", j.OK, j.OKRatio}, {"JWKS 304", j.NotModified, j.NotModRatio}} {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t%.3f\t\t\t%s\t%s\t%d\t\n", x.name, num(x.p.PerSecond), num(x.p.P50us), num(x.p.P99us), x.ratio, pct(x.p.ServerCPU), pct(x.p.OtherCPU), x.p.Errors)
		}
	}
	tw.Flush()
	if p := r.Baseline; p != nil {
		fmt.Fprintf(&b, "\nAlgorithm rows: client_credentials tokens; RATIO = tokens/raw; OVERHEAD = 1/tokens - 1/raw.\n")
		fmt.Fprintf(&b, "floor: a bare net/http server answering the same POST with a %d-byte body; its %.1f µs per request is the HTTP floor.\n", p.BodyBytes, p.perRequestUs())
	}
	if j := r.JWKS; j != nil {
		fmt.Fprintf(&b, "JWKS rows: GET (%d-byte JWKS) and GET with a matching If-None-Match; RATIO = rate / floor rate.\n", j.BodyBytes)
	}
	b.WriteString("SERVER CPU: share of CPU 0 the server used (100%: saturated); OTHER CPU: share other processes took from it.\n")
	r.writeModes(&b)

	if len(r.Rotation) > 0 {
		b.WriteString("\nRotation (keys rotate every few seconds during load):\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "ALG\tTOKENS/S\tP50 µs\tP99 µs\tSTEADY P99 µs\tP99 RATIO\tKEYS CREATED\tERRORS\t")
		for _, x := range r.Rotation {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.2f\t%d\t%d\t\n", x.Alg, num(x.Tokens.PerSecond), num(x.Tokens.P50us), num(x.Tokens.P99us),
				num(x.SteadyP99us), x.P99Ratio, x.KeysCreated, x.Tokens.Errors)
		}
		tw.Flush()
	}
	if l := r.Long; l != nil {
		fmt.Fprintf(&b, "\nLong run: %s %s tokens at %s/s (p99 %s µs, %d errors); RSS %.1f MiB before, %.1f at half, %.1f after; goroutines %d before, %d after.\n",
			num(float64(l.Tokens)), l.Alg, num(l.Run.PerSecond), num(l.Run.P99us), l.Run.Errors, l.RSSBeforeMiB, l.RSSHalfMiB, l.RSSAfterMiB, l.GoroutinesBefore, l.GoroutinesAfter)
	}
	for _, bd := range r.Builds {
		if bd.Error != "" {
			fmt.Fprintf(&b, "\nBuild -tags %s: not measured: %s\n", bd.Tags, bd.Error)
		}
	}
	if rows := r.buildRows(); len(rows) > 0 {
		b.WriteString("\nBuilds (RSA):\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "BUILD\tALG\tTOKENS/S\tP99 µs\tGO RAW/S\tOPENSSL RAW/S\tTOKENS/OPENSSL\t")
		for _, x := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t\n", x.build, x.Alg, num(x.Tokens.PerSecond), num(x.Tokens.P99us), num(x.GoRawPerSecond), num(x.OpenSSLPerSecond), x.VsOpenSSL)
		}
		tw.Flush()
	}

	r.writeTargets(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTargets prints the targets and the notes.
func (r *report) writeTargets(b *strings.Builder) {
	b.WriteString("\nTargets:\n")
	for _, t := range r.Targets {
		verdict := "PASS"
		if !t.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(b, "  %s  %-52s %10s  (want %s)\n", verdict, t.Name, trimFloat(t.Got), t.Want)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(b, "note: %s\n", n)
	}
}

type namedBuildRow struct {
	build string
	buildRow
}

func (r *report) buildRows() []namedBuildRow {
	var out []namedBuildRow
	for _, bd := range r.Builds {
		name := "default"
		if bd.Tags != "" {
			name = "-tags " + bd.Tags
		}
		for _, row := range bd.Rows {
			out = append(out, namedBuildRow{name, row})
		}
	}
	return out
}

// num formats a rate or a latency with thousands separators and no
// decimals (one decimal below 100).
func num(v float64) string {
	if v < 100 {
		return fmt.Sprintf("%.1f", v)
	}
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func pct(v float64) string {
	if v < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f%%", v*100)
}

func dur(s float64) string { return time.Duration(s * float64(time.Second)).String() }
