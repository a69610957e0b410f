package server

import (
	"net/http"
	"strconv"
	"strings"
)

// serveJWKS serves the key manager's JWK set with a bounded max-age and a
// strong ETag, answering 304 when If-None-Match matches. GET patterns
// match HEAD too; net/http drops the body of a HEAD response. Until the
// instance is ready it answers 503 (no-store, Retry-After): a cacheable
// set missing a key would make relying parties reject valid tokens.
func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	j := s.keys.JWKS()
	if j == nil || s.keys.Ready() != nil {
		s.notReady(w)
		return
	}
	etag := j.ETag
	if !strings.HasPrefix(etag, `"`) {
		etag = `"` + etag + `"`
	}
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", s.maxAge)
	h["Access-Control-Allow-Origin"] = hdrAllowAnyOrig
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 && etagMatches(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = hdrJSON
	h.Set("Content-Length", strconv.Itoa(len(j.Body)))
	w.Write(j.Body)
}

// notReady answers a request for a cacheable document (the JWKS,
// discovery) while a configured algorithm cannot sign: 503, no-store,
// Retry-After.
func (s *Server) notReady(w http.ResponseWriter) {
	w.Header()["Access-Control-Allow-Origin"] = hdrAllowAnyOrig
	writeOAuthError(w, &oauthError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable",
		desc: "the signing keys are not ready; retry shortly (/readyz says more)"})
}

// etagMatches applies If-None-Match (RFC 9110 section 13.1.2): a list of
// entity tags compared weakly, or "*".
func etagMatches(headers []string, etag string) bool {
	opaque := strings.TrimPrefix(etag, "W/")
	for _, h := range headers {
		for h != "" {
			var tag string
			tag, h, _ = strings.Cut(h, ",")
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == opaque {
				return true
			}
		}
	}
	return false
}
