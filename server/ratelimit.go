package server

import (
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// limiter counts failures per key in fixed windows: after max failures a
// key is blocked until its window ends. It tracks at most cap keys; when
// full it drops the keys whose window ended, then, if still full, a tenth
// of the others (arbitrary ones), so memory stays bounded whatever the
// number of usernames and addresses tried. It is safe for concurrent use.
type limiter struct {
	max    int
	window time.Duration
	cap    int

	mu      sync.Mutex // guards entries
	entries map[string]bucket
}

type bucket struct {
	n     int
	start time.Time
}

func newLimiter(max int, window time.Duration, cap int) *limiter {
	return &limiter{max: max, window: window, cap: cap, entries: make(map[string]bucket)}
}

// wait returns how long key stays blocked at now; 0 if it is not.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.entries[key]
	if !ok || b.n < l.max {
		return 0
	}
	end := b.start.Add(l.window)
	if !now.Before(end) {
		return 0
	}
	return end.Sub(now)
}

// fail counts a failure of key at now.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.entries[key]
	if ok && now.Sub(b.start) < l.window {
		b.n++
		l.entries[key] = b
		return
	}
	if !ok && len(l.entries) >= l.cap {
		l.evict(now)
	}
	l.entries[key] = bucket{n: 1, start: now}
}

// reset forgets key (a successful sign-in).
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
}

// len returns the number of keys tracked.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// evict makes room; l.mu is held.
func (l *limiter) evict(now time.Time) {
	for k, b := range l.entries {
		if now.Sub(b.start) >= l.window {
			delete(l.entries, k)
		}
	}
	drop := len(l.entries) - l.cap + max(1, l.cap/10)
	for k := range l.entries {
		if drop <= 0 {
			break
		}
		delete(l.entries, k)
		drop--
	}
}

// userKey is the rate-limit key of a username: case-folded and bounded,
// so variants of one name share a budget.
func userKey(username string) string {
	if len(username) > maxHintLen {
		username = username[:maxHintLen]
	}
	return "u:" + strings.ToLower(username)
}

// addrKey is the rate-limit key of the client's address (clientAddr): the
// IPv4 address, or the /64 of an IPv6 address (one host often owns a
// whole /64).
func (s *Server) addrKey(r *http.Request) string {
	ip, ok := s.clientAddr(r)
	if !ok {
		return "a:" + r.RemoteAddr
	}
	if ip.Is4() {
		return "a:" + ip.String()
	}
	return "a:" + netip.PrefixFrom(ip.WithZone(""), 64).Masked().String()
}

// clientAddr returns the address of the client that sent r: the TCP peer,
// unless the peer is a trusted proxy; then the nearest address in
// X-Forwarded-For (read from the right, as each proxy appends) that is not
// a trusted proxy. A malformed entry stops the walk at the last trusted
// hop: a client cannot forge its way past the proxies. ok is false when
// the peer address does not parse.
func (s *Server) clientAddr(r *http.Request) (ip netip.Addr, ok bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	ip = ap.Addr().Unmap()
	if !s.trustedProxy(ip) {
		return ip, true
	}
	fwd := r.Header.Values("X-Forwarded-For")
	for i := len(fwd) - 1; i >= 0; i-- {
		hops := strings.Split(fwd[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[j]))
			if err != nil {
				return ip, true
			}
			ip = a.Unmap()
			if !s.trustedProxy(ip) {
				return ip, true
			}
		}
	}
	return ip, true
}

func (s *Server) trustedProxy(ip netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
