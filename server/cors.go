package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/signet-id/signet/server/internal/oauth"
)

// CORS (the Fetch standard's cross-origin resource sharing) lets a browser
// application on another origin (a single-page app, a public client) call
// the endpoints it needs from JavaScript. Discovery and the JWKS are
// public and allow any origin (discovery.go, jwks.go). The token endpoint,
// userinfo and revocation allow only origins that some client lists in
// its AllowedCORSOrigins; the list is per client, the check is against all
// of them (the browser does not say which client calls), as the reference
// does. Authorize, login and end-session are browser navigations, and
// introspection is for APIs, so they send no CORS headers. No credentials
// (cookies) are allowed cross-origin.

// corsMaxAge is how long a browser may cache a preflight answer.
const corsMaxAge = 10 * 60 // seconds

// corsAllowedHeaders are the request headers a cross-origin call may send
// beyond the CORS-safelisted ones: DPoP carries a browser client's proof
// (RFC 9449).
const corsAllowedHeaders = "Authorization, Content-Type, DPoP"

// hdrExposeDPoP lets a browser application read the DPoP nonce to retry
// with, and the DPoP challenge of a refused request.
var hdrExposeDPoP = []string{"DPoP-Nonce, WWW-Authenticate"}[:1:1]

// allowedOrigin reports whether a client lists origin.
func (s *Server) allowedOrigin(origin string) bool {
	return origin != "" && s.reg.Load().corsOrigins[origin]
}

// cors wraps a handler of an endpoint that browsers may call cross-origin.
// Every response varies by Origin (so that no cache hands one origin's
// answer to another); an allowed origin gets Access-Control-Allow-Origin.
func (s *Server) cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr["Vary"] = hdrVaryOrigin // no allocation on the token path
		if origin := r.Header.Get("Origin"); s.allowedOrigin(origin) {
			hdr.Set("Access-Control-Allow-Origin", origin)
			hdr["Access-Control-Expose-Headers"] = hdrExposeDPoP
		}
		h(w, r)
	}
}

// hdrVaryOrigin is shared by every response; its capacity is its length,
// so a later Header.Add("Vary", ...) copies rather than writes into it.
var hdrVaryOrigin = []string{"Origin"}[:1:1]

// preflight answers a CORS preflight (OPTIONS with
// Access-Control-Request-Method) for an endpoint served with methods. An
// origin no client lists gets 403 and a plain-text reason, which the
// browser's network panel shows.
func (s *Server) preflight(methods string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Add("Vary", "Origin")
		hdr.Add("Vary", "Access-Control-Request-Method")
		hdr.Add("Vary", "Access-Control-Request-Headers")
		origin := r.Header.Get("Origin")
		method := r.Header.Get("Access-Control-Request-Method")
		switch {
		case origin == "" || method == "":
			// Not a preflight: an OPTIONS request of its own.
			hdr.Set("Allow", "OPTIONS, "+methods)
			w.WriteHeader(http.StatusNoContent)
			return
		case !s.allowedOrigin(origin):
			http.Error(w, "origin "+strconv.Quote(oauth.Clip(origin))+" is not allowed: add it to a client's allowedCorsOrigins", http.StatusForbidden)
			return
		case !listed(methods, method):
			http.Error(w, "method "+strconv.Quote(oauth.Clip(method))+" is not allowed here; allowed: "+methods, http.StatusForbidden)
			return
		}
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Set("Access-Control-Allow-Methods", methods)
		hdr.Set("Access-Control-Allow-Headers", corsAllowedHeaders)
		hdr.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
		w.WriteHeader(http.StatusNoContent)
	}
}

// listed reports whether method is one of the comma-separated methods.
func listed(methods, method string) bool {
	for m := range strings.SplitSeq(methods, ",") {
		if strings.TrimSpace(m) == method {
			return true
		}
	}
	return false
}
