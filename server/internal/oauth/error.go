package oauth

import (
	"net/http"
	"strconv"
)

// Error is an RFC 6749 section 5.2 error response.
type Error struct {
	Status    int
	Code      string // error
	Desc      string // error_description
	Challenge bool   // add WWW-Authenticate: Basic (every 401)
	Allow     string // Allow header (405)
	// RetryAfter is the Retry-After header in seconds (429); a 503
	// always says 1.
	RetryAfter int64
	// DPoPNonce is the DPoP-Nonce header (RFC 9449 section 8): the
	// nonce a use_dpop_nonce answer asks the client to retry with.
	DPoPNonce string
}

// Error returns the code and description.
func (e *Error) Error() string { return e.Code + ": " + e.Desc }

// InvalidRequest is a 400 invalid_request error.
func InvalidRequest(desc string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_request", Desc: desc}
}

// InvalidClient is a 401 invalid_client error with a Basic challenge.
func InvalidClient(desc string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "invalid_client", Desc: desc, Challenge: true}
}

// InvalidScope is a 400 invalid_scope error.
func InvalidScope(desc string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_scope", Desc: desc}
}

// InvalidTarget is a 400 invalid_target error (RFC 8707).
func InvalidTarget(desc string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_target", Desc: desc}
}

// ServerError is the token-endpoint style error for a failure the log
// explains.
func ServerError() *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "server_error", Desc: "internal error; the server log has the details"}
}

// Unavailable is the error for a grant store that cannot be reached.
func Unavailable() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Desc: "the grant store is unavailable; retry shortly"}
}

// InvalidGrant is a 400 invalid_grant error.
func InvalidGrant(desc string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_grant", Desc: desc}
}

// Header values shared by every response. They are never modified.
var (
	HdrJSON         = []string{"application/json"}
	HdrNoStore      = []string{"no-store"}
	HdrNoCache      = []string{"no-cache"}
	HdrChallenge    = []string{`Basic realm="signet", charset="UTF-8"`}
	HdrAllowAnyOrig = []string{"*"}
)

// WriteError writes e as JSON with the headers RFC 6749 requires.
func WriteError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h["Content-Type"] = HdrJSON
	h["Cache-Control"] = HdrNoStore
	h["Pragma"] = HdrNoCache
	if e.Challenge {
		h["Www-Authenticate"] = HdrChallenge
	}
	if e.Allow != "" {
		h.Set("Allow", e.Allow)
	}
	if e.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(e.RetryAfter, 10))
	}
	if e.DPoPNonce != "" {
		h.Set("DPoP-Nonce", e.DPoPNonce)
	}
	b := make([]byte, 0, 64+len(e.Desc))
	b = append(b, `{"error":`...)
	b = AppendJSONString(b, e.Code)
	if e.Desc != "" {
		b = append(b, `,"error_description":`...)
		b = AppendJSONString(b, SanitizeDescription(e.Desc))
	}
	b = append(b, '}')
	w.WriteHeader(e.Status)
	w.Write(b)
}

// SanitizeDescription keeps the characters RFC 6749 allows in
// error_description (%x20-21 / %x23-5B / %x5D-7E) and replaces the others
// with '?', so request input echoed in a description cannot break out.
func SanitizeDescription(s string) string {
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

// Clip shortens request input echoed in an error description.
func Clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// Base64URLChar reports whether b is in the base64url alphabet.
func Base64URLChar(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// HandleLen is the length of a base64url 32-byte handle.
const HandleLen = 43

// ValidHandle reports whether v has the shape of a 32-byte base64url
// handle; anything else is ignored without a store lookup.
func ValidHandle(v string) bool { return ValidBase64URL(v, HandleLen) }

// ValidBase64URL reports whether v is n characters of the base64url
// alphabet.
func ValidBase64URL(v string, n int) bool {
	if len(v) != n {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !Base64URLChar(v[i]) {
			return false
		}
	}
	return true
}
