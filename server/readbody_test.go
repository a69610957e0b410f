package server

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// readBody reads what io.ReadAll of the limited body read: the whole body
// when it is as announced, shorter, or of unknown length; more than limit
// bytes when it is longer (the caller answers 413); a read error as an
// error. One allocation when the length is announced.
func TestReadBody(t *testing.T) {
	const limit = 16
	for _, c := range []struct {
		name string
		body string
		n    int64
		want string
	}{
		{"as announced", "token=abc", 9, "token=abc"},
		{"unknown length", "token=abc", -1, "token=abc"},
		{"shorter than announced", "token=abc", 12, "token=abc"},
		{"longer than announced", "token=abcdef", 5, "token=abcdef"},
		{"longer than the limit", strings.Repeat("x", 40), 5, strings.Repeat("x", limit+1)},
		{"announced over the limit", strings.Repeat("x", 40), 40, strings.Repeat("x", limit+1)},
		{"empty", "", 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := readBody(iotest.OneByteReader(strings.NewReader(c.body)), c.n, limit)
			if err != nil || string(got) != c.want {
				t.Fatalf("readBody = %q, %v; want %q", got, err, c.want)
			}
		})
	}
	broken := errors.New("connection reset")
	if _, err := readBody(io.MultiReader(strings.NewReader("tok"), iotest.ErrReader(broken)), 9, limit); !errors.Is(err, broken) {
		t.Fatalf("read error: %v, want %v", err, broken)
	}
	body := []byte("token=" + strings.Repeat("a", 700))
	r := bytes.NewReader(body)
	if a := testing.AllocsPerRun(100, func() {
		r.Reset(body)
		if _, err := readBody(r, int64(len(body)), 1<<20); err != nil {
			t.Fatal(err)
		}
	}); a > 1 {
		t.Fatalf("%v allocations per announced body, want 1", a)
	}
}

// A client announcing a long body it does not send is not given a buffer
// of the announced size: only bodies up to readBodyPrealloc are allocated
// before they arrive.
func TestReadBodyAnnouncedNotSent(t *testing.T) {
	const announced = 1 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := readBody(strings.NewReader("token=abc"), announced, announced)
	runtime.ReadMemStats(&after)
	if err != nil || string(got) != "token=abc" {
		t.Fatalf("readBody = %q, %v", got, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n >= announced {
		t.Fatalf("%d bytes allocated for a 9-byte body announced as %d", n, announced)
	}
}

// tokenSum is the SHA-256 of the token, for short and long tokens alike,
// without an allocation for a token Signet issues.
func TestTokenSum(t *testing.T) {
	for _, n := range []int{0, 31, 700, tokenSumStack, tokenSumStack + 1, 10000} {
		tok := strings.Repeat("t", n)
		if tokenSum(tok) != sha256.Sum256([]byte(tok)) {
			t.Fatalf("tokenSum of %d bytes differs from SHA-256", n)
		}
	}
	tok := strings.Repeat("t", 700)
	if a := testing.AllocsPerRun(100, func() { tokenSum(tok) }); a != 0 {
		t.Fatalf("%v allocations per token, want 0", a)
	}
}
