package oauth

import "strings"

// MaxScopes bounds the scopes of a request.
const MaxScopes = 64

// ParseScope splits a scope parameter into unique scope-tokens. It returns
// nil for an empty parameter.
func ParseScope(s string) ([]string, *Error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for s != "" {
		var tok string
		tok, s, _ = strings.Cut(s, " ")
		if tok == "" {
			continue
		}
		for i := 0; i < len(tok); i++ {
			if c := tok[i]; c < 0x21 || c == '"' || c == '\\' || c > 0x7e {
				return nil, InvalidScope("the scope parameter holds an invalid character")
			}
		}
		dup := false
		for _, o := range out {
			if o == tok {
				dup = true
				break
			}
		}
		if !dup {
			if len(out) == MaxScopes {
				return nil, InvalidScope("too many scopes requested")
			}
			out = append(out, tok)
		}
	}
	return out, nil
}
