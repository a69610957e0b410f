package server

import "net/http"

// logAddr is the client's address for a log line: the address clientAddr
// finds (behind trusted proxies, from X-Forwarded-For), else the peer as
// net/http gives it.
func (s *Server) logAddr(r *http.Request) string {
	if ip, ok := s.clientAddr(r); ok {
		return ip.String()
	}
	return r.RemoteAddr
}
