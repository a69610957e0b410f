package server

import (
	"net/http"
	"strconv"
)

// oauthError is an RFC 6749 section 5.2 error response.
type oauthError struct {
	status    int
	code      string // error
	desc      string // error_description
	challenge bool   // add WWW-Authenticate: Basic (every 401)
	allow     string // Allow header (405)
	// retryAfter is the Retry-After header in seconds (429); a 503
	// always says 1.
	retryAfter int64
}

func (e *oauthError) Error() string { return e.code + ": " + e.desc }

func invalidRequest(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_request", desc: desc}
}

func invalidClient(desc string) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: desc, challenge: true}
}

func invalidScope(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_scope", desc: desc}
}

func invalidTarget(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_target", desc: desc}
}

// Header values shared by every response. They are never modified.
var (
	hdrJSON         = []string{"application/json"}
	hdrNoStore      = []string{"no-store"}
	hdrNoCache      = []string{"no-cache"}
	hdrChallenge    = []string{`Basic realm="signet", charset="UTF-8"`}
	hdrAllowAnyOrig = []string{"*"}
)

// writeOAuthError writes e as JSON with the headers RFC 6749 requires.
func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	h["Pragma"] = hdrNoCache
	if e.challenge {
		h["Www-Authenticate"] = hdrChallenge
	}
	if e.allow != "" {
		h.Set("Allow", e.allow)
	}
	if e.status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(e.retryAfter, 10))
	}
	b := make([]byte, 0, 64+len(e.desc))
	b = append(b, `{"error":`...)
	b = appendJSONString(b, e.code)
	if e.desc != "" {
		b = append(b, `,"error_description":`...)
		b = appendJSONString(b, sanitizeDescription(e.desc))
	}
	b = append(b, '}')
	w.WriteHeader(e.status)
	w.Write(b)
}

// sanitizeDescription keeps the characters RFC 6749 allows in
// error_description (%x20-21 / %x23-5B / %x5D-7E) and replaces the others
// with '?', so request input echoed in a description cannot break out.
func sanitizeDescription(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if !descChar(s[i]) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	b := []byte(s)
	for i := range b {
		if !descChar(b[i]) {
			b[i] = '?'
		}
	}
	return string(b)
}

func descChar(c byte) bool {
	return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'
}

// clip shortens request input echoed in an error description.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
