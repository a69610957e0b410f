package main

import (
	"math/bits"
	"time"
)

// histogram records durations in log-linear buckets: exact below 256ns,
// then 128 buckets per power of two, so a quantile is within 0.8% of the
// true value. The zero value is ready; it is not safe for concurrent use
// (each connection has its own, merged at the end).
type histogram struct {
	counts [histBuckets]uint32
	total  uint64
	max    time.Duration
}

const (
	histSubBits = 7                                 // 128 sub-buckets per power of two
	histBuckets = (65 - histSubBits) << histSubBits // the largest uint64 lands in the last
)

func histIndex(v uint64) int {
	shift := bits.Len64(v) - (histSubBits + 1)
	if shift <= 0 {
		return int(v)
	}
	return (shift+1)<<histSubBits + int(v>>shift) - 1<<histSubBits
}

// histValue returns the middle of bucket i.
func histValue(i int) uint64 {
	if i < 2<<histSubBits {
		return uint64(i)
	}
	shift := i>>histSubBits - 1
	m := uint64(i&(1<<histSubBits-1) + 1<<histSubBits)
	return m<<shift + (1<<shift)/2
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[histIndex(uint64(d))]++
	h.total++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile (0 < q <= 1), zero when empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.5)
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			return min(time.Duration(histValue(i)), h.max)
		}
	}
	return h.max
}
