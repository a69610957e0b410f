package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"
)

// verifyResult is the output of `bench raw-verify`.
type verifyResult struct {
	Verifications int64   `json:"verifications"`
	Seconds       float64 `json:"seconds"`
	PerSecond     float64 `json:"per_second"`
	// CPUShare is the fraction of the window this process ran (below
	// about 0.97: disturbed).
	CPUShare float64 `json:"cpu_share"`
}

// us is one verification in µs.
func (v *verifyResult) us() float64 { return 1e6 / v.PerSecond }

// combine returns the result of v's and b's windows taken together.
func (v *verifyResult) combine(b *verifyResult) *verifyResult {
	out := *v
	out.Verifications += b.Verifications
	out.Seconds += b.Seconds
	out.PerSecond = float64(out.Verifications) / out.Seconds
	out.CPUShare = (v.CPUShare*v.Seconds + b.CPUShare*b.Seconds) / out.Seconds
	return &out
}

// rawVerifyMain is `bench raw-verify --seconds N`: ES256 verifications
// per second of one goroutine (crypto/ecdsa.VerifyASN1 of a SHA-256 hash
// of a token-sized signing input, what a client assertion's or a DPoP
// proof's signature costs), run by the parent pinned to the server's CPU
// like raw-sign. It prints one JSON object.
func rawVerifyMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("raw-verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seconds := fs.Float64("seconds", 2, "measured window in seconds (after a tenth as warm-up)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *seconds <= 0 || *seconds > 3600 {
		fmt.Fprintln(stderr, "raw-verify: need 0 < --seconds <= 3600")
		return 2
	}
	res, err := rawVerify(time.Duration(*seconds * float64(time.Second)))
	if err != nil {
		fmt.Fprintf(stderr, "raw-verify: %v\n", err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

// rawVerify measures ES256 verifications for window.
func rawVerify(window time.Duration) (*verifyResult, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(rawSigningInput)
	sig, err := ecdsa.SignASN1(rand.Reader, k, h[:])
	if err != nil {
		return nil, err
	}
	loop := func(d time.Duration) (int64, time.Duration, error) {
		start := time.Now()
		var n int64
		for time.Since(start) < d {
			if !ecdsa.VerifyASN1(&k.PublicKey, h[:], sig) {
				return 0, 0, errors.New("ES256 verification failed")
			}
			n++
		}
		return n, time.Since(start), nil
	}
	if _, _, err := loop(window / 10); err != nil {
		return nil, err
	}
	cpu := selfCPU()
	n, elapsed, err := loop(window)
	if err != nil {
		return nil, err
	}
	return &verifyResult{Verifications: n, Seconds: elapsed.Seconds(), PerSecond: float64(n) / elapsed.Seconds(),
		CPUShare: (selfCPU() - cpu).Seconds() / elapsed.Seconds()}, nil
}

// rawVerifyRate runs `bench raw-verify` on the server's CPU.
func rawVerifyRate(ctx context.Context, self string, window time.Duration) (*verifyResult, error) {
	args := []string{"raw-verify", "--seconds", strconv.FormatFloat(window.Seconds(), 'f', -1, 64)}
	out, err := runPinnedChild(ctx, "raw-verify", self, args, window)
	if err != nil {
		return nil, err
	}
	var res verifyResult
	if err := json.Unmarshal(out, &res); err != nil || res.PerSecond <= 0 {
		return nil, fmt.Errorf("raw-verify: bad output %q", out)
	}
	return &res, nil
}

// measureVerify runs raw-verify, again when it did not get its CPU.
func (r *runner) measureVerify(window time.Duration) (*verifyResult, error) {
	for try := 0; ; try++ {
		if err := r.quiet("ES256 raw-verify"); err != nil {
			return nil, err
		}
		v, err := rawVerifyRate(r.ctx, r.self, window)
		if err != nil || v.CPUShare >= minRawCPUShare || try == r.o.retries {
			return v, err
		}
		r.progress("ES256 raw-verify: ran %.0f%% of its window; measuring again", 100*v.CPUShare)
	}
}
