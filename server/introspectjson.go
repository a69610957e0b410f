package server

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// appendIntrospection appends out as json.Marshal writes it, without
// reflection or a copy of the result. ok is false, with b unchanged,
// when a value holds a byte that json.Marshal would escape or compact
// (control characters, '"', '\\', '<', '>', '&', non-ASCII bytes, or
// white space in aud): the caller then uses json.Marshal. No value
// Signet issues has such a byte.
func appendIntrospection(b []byte, out *introspection) (_ []byte, ok bool) {
	if !plainJSON(out.Scope) || !plainJSON(out.ClientID) || !plainJSON(out.Sub) || !plainJSON(out.TokenType) ||
		!plainRawJSON(out.Aud) || !plainJSON(out.Iss) || !plainJSON(out.Jti) || (out.Cnf != nil && !plainJSON(out.Cnf.JKT)) {
		return b, false
	}
	b = append(b, `{"active":`...)
	b = strconv.AppendBool(b, out.Active)
	b = appendJSONField(b, `,"scope":"`, out.Scope)
	b = appendJSONField(b, `,"client_id":"`, out.ClientID)
	b = appendJSONField(b, `,"sub":"`, out.Sub)
	b = appendJSONField(b, `,"token_type":"`, out.TokenType)
	b = appendIntField(b, `,"exp":`, out.Exp)
	b = appendIntField(b, `,"iat":`, out.Iat)
	b = appendIntField(b, `,"nbf":`, out.Nbf)
	if len(out.Aud) > 0 {
		b = append(b, `,"aud":`...)
		b = append(b, out.Aud...)
	}
	b = appendJSONField(b, `,"iss":"`, out.Iss)
	b = appendJSONField(b, `,"jti":"`, out.Jti)
	if out.Cnf != nil {
		b = append(b, `,"cnf":{"jkt":"`...)
		b = append(b, out.Cnf.JKT...)
		b = append(b, `"}`...)
	}
	return append(b, '}'), true
}

// appendJSONField appends a string field (omitempty) whose value is
// plainJSON; key ends with the value's opening quote.
func appendJSONField(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, key...)
	b = append(b, v...)
	return append(b, '"')
}

// appendIntField appends an integer field (omitempty).
func appendIntField(b []byte, key string, v int64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendInt(append(b, key...), v, 10)
}

// plainJSON reports whether json.Marshal writes s between quotes as it
// is: printable ASCII without '"', '\\' or the HTML characters it escapes.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// plainRawJSON reports whether json.Marshal writes the raw (valid) JSON
// value raw as it is: no white space, no non-ASCII byte, no byte it
// escapes for HTML.
func plainRawJSON(raw json.RawMessage) bool {
	for _, c := range raw {
		if c <= 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// marshalIntrospection returns out's JSON, appended to b: by
// appendIntrospection, else by json.Marshal.
func marshalIntrospection(b []byte, out *introspection) []byte {
	if b, ok := appendIntrospection(b, out); ok {
		return b
	}
	o := *out                // a copy, so that the caller's out stays on its stack
	j, _ := json.Marshal(&o) // cannot fail
	return append(b, j...)
}

// introspectBufPool holds *[]byte buffers for introspection answers. A
// pool, not a field of Server: it is a cache with no observable state.
var introspectBufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// resourceScope returns the scopes of scope (space-separated) that are in
// allowed, joined by single spaces, as strings.Join(filtered Fields)
// would: scope itself, without allocating, when every scope is allowed
// and scope is already written that way.
func resourceScope(scope string, allowed []string) string {
	canonical := scope == "" || (scope[0] != ' ' && scope[len(scope)-1] != ' ' && !strings.Contains(scope, "  "))
	for i := 0; canonical && i < len(scope); i++ {
		if c := scope[i]; c > 0x7e || (c < 0x20+1 && c != ' ') {
			canonical = false // other white space (ASCII or Unicode) is the slow path's
		}
	}
	if canonical {
		for f := range strings.SplitSeq(scope, " ") {
			if scope != "" && !slices.Contains(allowed, f) {
				canonical = false
				break
			}
		}
		if canonical {
			return scope
		}
	}
	var scopes []string
	for _, sc := range strings.Fields(scope) {
		if slices.Contains(allowed, sc) {
			scopes = append(scopes, sc)
		}
	}
	return strings.Join(scopes, " ")
}
