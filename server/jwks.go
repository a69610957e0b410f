package server

import (
	"net/http"

	"github.com/signet-id/signet/server/internal/oauth"
)

// The JWKS is served by keymanager.JWKSHandler (built in New): a bounded
// max-age, a strong ETag, 304 when If-None-Match matches, HEAD; until the
// instance is ready, notReady's 503.

// notReady answers a request for a cacheable document (the JWKS,
// discovery) while a configured algorithm cannot sign: 503, no-store,
// Retry-After.
func (s *Server) notReady(w http.ResponseWriter) {
	w.Header()["Access-Control-Allow-Origin"] = oauth.HdrAllowAnyOrig
	oauth.WriteError(w, &oauth.Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
		Desc: "the signing keys are not ready; retry shortly (/readyz says more)"})
}
