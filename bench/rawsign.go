package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/key"
)

// rawResult is the output of `bench raw-sign`.
type rawResult struct {
	Alg        key.Algorithm `json:"alg"`
	RSABits    int           `json:"rsa_bits,omitempty"`
	Signatures int64         `json:"signatures"`
	Seconds    float64       `json:"seconds"`
	PerSecond  float64       `json:"per_second"`
	// CPUShare is the fraction of the window this process ran: below
	// about 0.97, something else took the CPU and the rate is low.
	CPUShare float64 `json:"cpu_share"`
}

// combine returns the result of r's and b's windows taken together.
func (r *rawResult) combine(b *rawResult) *rawResult {
	out := *r
	out.Signatures += b.Signatures
	out.Seconds += b.Seconds
	out.PerSecond = float64(out.Signatures) / out.Seconds
	out.CPUShare = (r.CPUShare*r.Seconds + b.CPUShare*b.Seconds) / out.Seconds
	return &out
}

// rawSigningInput has the size of a typical access token's JWS signing
// input (base64url header '.' base64url claims): about 400 bytes.
var rawSigningInput = []byte(strings.Repeat("eyJhbGciOiJFUzI1NiIsImtpZCI6Ii0", 13))

// rawSignMain is `bench raw-sign --alg ALG --seconds N [--rsa-bits B]
// [--key-backend pkcs11|awskms]`:
// the signatures per second of one goroutine calling crypto.Signer.Sign
// with a key generated like the key manager's (jwk.Generate), over a
// token-sized signing input hashed as JWS does (EdDSA signs the input
// itself). The parent runs it pinned to the server's CPU with
// GOMAXPROCS=1. It prints one JSON object.
func rawSignMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("raw-sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("alg", "", "the signing algorithm")
	seconds := fs.Float64("seconds", 5, "measured window in seconds (after a tenth as warm-up)")
	bits := fs.Int("rsa-bits", key.DefaultRSAKeySize, "RSA key size")
	backend := fs.String("key-backend", "", "sign with a key generated in this key backend (pkcs11, awskms)")
	callers := fs.Int("callers", 1, "concurrent signing goroutines (for a key backend)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	alg, err := key.ParseAlgorithm(*name)
	if err != nil || *seconds <= 0 || *seconds > 3600 {
		fmt.Fprintf(stderr, "raw-sign: need --alg (%v) and 0 < --seconds <= 3600\n", err)
		return 2
	}
	res, err := rawSign(alg, *bits, time.Duration(*seconds*float64(time.Second)), *backend, max(*callers, 1))
	if err != nil {
		fmt.Fprintf(stderr, "raw-sign: %v\n", err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

// signerOpts are the options JWS signs alg with.
func signerOpts(alg key.Algorithm) crypto.SignerOpts {
	switch alg.Family() {
	case key.FamilyRSAPSS:
		return &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.Hash()}
	case key.FamilyEdDSA:
		return crypto.Hash(0)
	}
	return alg.Hash()
}

// rawSign measures signatures of a key generated like the key manager's:
// in process, or with keyBackend ("pkcs11", "awskms") a key generated in
// that backend and signed through it, as the server's tokens are.
func rawSign(alg key.Algorithm, bits int, window time.Duration, keyBackend string, callers int) (*rawResult, error) {
	signMsg := func(msg []byte) error { return nil }
	if keyBackend != "" {
		s, cleanup, err := backendSigner(keyBackend, alg, bits)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		signMsg = s
	} else {
		signer, err := jwk.Generate(alg, bits)
		if err != nil {
			return nil, err
		}
		opts := signerOpts(alg)
		signMsg = func(msg []byte) error {
			_, err := signer.Sign(rand.Reader, msg, opts)
			return err
		}
	}
	sign := func() error {
		msg := rawSigningInput
		if alg != key.EdDSA {
			h := alg.Hash().New()
			h.Write(rawSigningInput)
			var sum [64]byte
			msg = h.Sum(sum[:0])
		}
		return signMsg(msg)
	}
	loop1 := func(d time.Duration) (int64, time.Duration, error) {
		start := time.Now()
		var n int64
		for time.Since(start) < d {
			if err := sign(); err != nil {
				return 0, 0, err
			}
			n++
		}
		return n, time.Since(start), nil
	}
	// In process one caller saturates the CPU. A backend signs elsewhere
	// (a token's own lock, a KMS service) and is driven with as many
	// callers as the load has connections, so that both sides of the
	// ratio have the same concurrency.
	loop := func(d time.Duration) (int64, time.Duration, error) {
		if callers <= 1 {
			return loop1(d)
		}
		var (
			wg    sync.WaitGroup
			total atomic.Int64
			first atomic.Pointer[error]
		)
		start := time.Now()
		for range callers {
			wg.Go(func() {
				n, _, err := loop1(d)
				if err != nil {
					first.CompareAndSwap(nil, &err)
				}
				total.Add(n)
			})
		}
		wg.Wait()
		if e := first.Load(); e != nil {
			return 0, 0, *e
		}
		return total.Load(), time.Since(start), nil
	}
	if _, _, err := loop(window / 10); err != nil {
		return nil, err
	}
	cpu := selfCPU()
	n, elapsed, err := loop(window)
	if err != nil {
		return nil, err
	}
	res := &rawResult{Alg: alg, Signatures: n, Seconds: elapsed.Seconds(), PerSecond: float64(n) / elapsed.Seconds(),
		CPUShare: (selfCPU() - cpu).Seconds() / elapsed.Seconds()}
	if alg.IsRSA() {
		res.RSABits = bits
	}
	return res, nil
}
