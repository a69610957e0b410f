package server

import (
	"net/url"
	"strings"
)

// tokenRequest is a parsed token request body.
type tokenRequest struct {
	grantType    string
	clientID     string
	clientSecret string
	scope        string // raw, space-separated
	resources    []string
	hasSecret    bool
}

// Limits that keep a request's work bounded.
const (
	maxResources = 32
	maxScopes    = 64
)

// parseTokenRequest parses an application/x-www-form-urlencoded token
// request. Following RFC 6749 section 3.2, a parameter without a value is
// treated as omitted, unknown parameters are ignored, and a parameter
// other than resource (RFC 8707) may not appear twice.
func parseTokenRequest(body string) (tokenRequest, *oauthError) {
	var req tokenRequest
	var seen uint8
	const (
		seenGrant = 1 << iota
		seenID
		seenSecret
		seenScope
	)
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return req, invalidRequest("the body is not valid application/x-www-form-urlencoded")
		}
		var bit uint8
		var dst *string
		switch name {
		case "grant_type":
			bit, dst = seenGrant, &req.grantType
		case "client_id":
			bit, dst = seenID, &req.clientID
		case "client_secret":
			bit, dst = seenSecret, &req.clientSecret
		case "scope":
			bit, dst = seenScope, &req.scope
		case "resource":
		default:
			continue // RFC 6749: ignore unrecognized parameters
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return req, invalidRequest("the body is not valid application/x-www-form-urlencoded")
		}
		if val == "" {
			continue // RFC 6749 3.2: a parameter without a value is omitted
		}
		if name == "resource" {
			if len(req.resources) == maxResources {
				return req, invalidRequest("too many resource parameters")
			}
			req.resources = append(req.resources, val)
			continue
		}
		if seen&bit != 0 {
			return req, invalidRequest("parameter " + name + " appears more than once")
		}
		seen |= bit
		*dst = val
	}
	req.hasSecret = seen&seenSecret != 0
	return req, nil
}

// parseScope splits a scope parameter into unique scope-tokens. It returns
// nil for an empty parameter.
func parseScope(s string) ([]string, *oauthError) {
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
				return nil, invalidScope("the scope parameter holds an invalid character")
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
			if len(out) == maxScopes {
				return nil, invalidScope("too many scopes requested")
			}
			out = append(out, tok)
		}
	}
	return out, nil
}
