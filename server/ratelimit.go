package server

import (
	"net/http"
	"net/netip"
	"strings"
)

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
