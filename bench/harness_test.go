package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	var all []time.Duration
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		d := time.Duration(rng.ExpFloat64() * float64(300*time.Microsecond))
		h.record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := all[int(q*float64(len(all)))-1]
		got := h.quantile(q)
		if diff := float64(got-want) / float64(want); diff > 0.01 || diff < -0.01 {
			t.Errorf("quantile(%v) = %v; want %v within 1%%", q, got, want)
		}
	}
	if h.quantile(1) != all[len(all)-1] {
		t.Errorf("quantile(1) = %v; want the max %v", h.quantile(1), all[len(all)-1])
	}
	var empty histogram
	if empty.quantile(0.5) != 0 {
		t.Error("an empty histogram has a median")
	}
	for _, v := range []uint64{0, 1, 255, 256, 257, 1 << 20, 1<<63 + 12345, 1<<64 - 1} {
		i := histIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d out of range", v, i)
		}
		if v < 1<<40 {
			if mid := histValue(i); float64(mid) < float64(v)*0.99 || float64(mid) > float64(v)*1.01+1 {
				t.Errorf("value %d lands in a bucket around %d", v, mid)
			}
		}
	}
}

func TestParseResponse(t *testing.T) {
	for _, tc := range []struct {
		in       string
		complete bool
		status   int
		close    bool
		err      bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", true, 200, false, false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{", false, 0, false, false},
		{"HTTP/1.1 200 OK\r\nContent-Len", false, 0, false, false},
		{"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", true, 304, false, false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", true, 200, false, false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n", false, 0, false, false},
		{"HTTP/1.1 400 Bad Request\r\nConnection: close\r\ncontent-length: 0\r\n\r\n", true, 400, true, false},
		{"HTTP/1.1 200 OK\r\n\r\n", false, 0, false, true}, // no length on keep-alive
		{"SMTP 220 hello\r\n\r\n", false, 0, false, true},
	} {
		want := 0
		if tc.complete {
			want = len(tc.in)
		}
		size, status, closeConn, err := parseResponse([]byte(tc.in))
		if size != want || status != tc.status || closeConn != tc.close || (err != nil) != tc.err {
			t.Errorf("parseResponse(%q) = %d, %d, %v, %v; want %d, %d, %v, error %v", tc.in, size, status, closeConn, err, want, tc.status, tc.close, tc.err)
		}
	}
}
