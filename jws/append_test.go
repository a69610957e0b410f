package jws_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
)

// TestAppendSign checks that AppendSign appends a token that verifies,
// leaves dst's bytes alone, has the length SignedLen promises, and does
// not depend on what the spare capacity held before (buffers are reused:
// stale bytes there must not leak into an ECDSA R||S with short
// integers, for instance).
func TestAppendSign(t *testing.T) {
	payload := []byte(`{"iss":"https://signet.example","sub":"svc","aud":"api","exp":1767225600}`)
	for _, alg := range key.Algorithms() {
		k := newKey(t, "kid-"+string(alg), alg, signerFor(alg))
		for _, prefix := range []string{"", `{"access_token":"`} {
			for _, fill := range []byte{0x00, 0xff} {
				t.Run(fmt.Sprintf("%s/prefix=%d/fill=%#x", alg, len(prefix), fill), func(t *testing.T) {
					n := k.SignedLen(jws.TypeAccessToken, len(payload))
					for range 20 { // ECDSA integers are short now and then
						dst := append(make([]byte, 0, len(prefix)+n), prefix...)
						spare := dst[len(dst):cap(dst)]
						for i := range spare {
							spare[i] = fill
						}
						out, err := k.AppendSign(dst, jws.TypeAccessToken, payload)
						if err != nil {
							t.Fatal(err)
						}
						if string(out[:len(prefix)]) != prefix {
							t.Fatalf("prefix = %q; want %q", out[:len(prefix)], prefix)
						}
						token := out[len(prefix):]
						if len(token) != n {
							t.Fatalf("appended %d bytes; SignedLen said %d", len(token), n)
						}
						if &out[0] != &dst[:1][0] {
							t.Fatal("AppendSign reallocated although dst had SignedLen bytes of room")
						}
						got, _ := verify(t, string(token), alg, k.Public())
						if !bytes.Equal(got, payload) {
							t.Fatalf("payload = %q", got)
						}
					}
				})
			}
		}
	}
}

// TestAppendSignGrows checks that a dst without room works too.
func TestAppendSignGrows(t *testing.T) {
	k := newKey(t, "k", key.ES256, signerFor(key.ES256))
	out, err := k.AppendSign([]byte("x"), jws.TypeJWT, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if out[0] != 'x' {
		t.Fatalf("prefix lost: %q", out)
	}
	verify(t, string(out[1:]), key.ES256, k.Public())
}
