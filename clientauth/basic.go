package clientauth

import (
	"encoding/base64"
	"net/url"
	"strings"
)

// ParseBasic parses an HTTP Basic Authorization header value as RFC 6749
// section 2.3.1 defines it for clients: base64 of
// urlencode(client_id) ":" urlencode(client_secret). Clients that do not
// form-encode are accepted too, since decoding a value without '%' or '+'
// changes nothing. ok is false when header is not Basic or is malformed.
func ParseBasic(header string) (clientID, secret string, ok bool) {
	const prefix = "basic "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", "", false
	}
	enc := strings.TrimSpace(header[len(prefix):])
	var buf [192]byte // the decoded credentials of a usual client, on the stack
	raw := buf[:0]
	if n := base64.StdEncoding.DecodedLen(len(enc)); n > len(buf) {
		raw = make([]byte, 0, n)
	}
	raw, err := base64.StdEncoding.AppendDecode(raw, []byte(enc))
	if err != nil {
		return "", "", false
	}
	id, sec, found := strings.Cut(string(raw), ":") // one allocation for both
	if !found {
		return "", "", false
	}
	if id, err = url.QueryUnescape(id); err != nil || id == "" {
		return "", "", false
	}
	if sec, err = url.QueryUnescape(sec); err != nil {
		return "", "", false
	}
	return id, sec, true
}

// IsBasic reports whether an Authorization header value uses the Basic
// scheme (well-formed or not).
func IsBasic(header string) bool {
	return len(header) >= 6 && strings.EqualFold(header[:6], "basic ")
}
