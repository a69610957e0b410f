package server

import (
	"net/url"
	"strings"

	"github.com/signet-id/signet/server/internal/oauth"
)

// tokenRequest is a parsed token request body.
type tokenRequest struct {
	grantType    string
	clientID     string
	clientSecret string
	scope        string // raw, space-separated
	resources    []string
	hasSecret    bool
	// assertion and assertionType are client_assertion and
	// client_assertion_type (private_key_jwt).
	assertion     string
	assertionType string
}

// maxResources bounds the resource parameters of a request.
const maxResources = 32

// parseTokenRequest parses an application/x-www-form-urlencoded token
// request. Following RFC 6749 section 3.2, a parameter without a value is
// treated as omitted, unknown parameters are ignored, and a parameter
// other than resource (RFC 8707) may not appear twice.
func parseTokenRequest(body string) (tokenRequest, *oauth.Error) {
	var req tokenRequest
	var seen uint8
	const (
		seenGrant = 1 << iota
		seenID
		seenSecret
		seenScope
		seenAssertion
		seenAssertionType
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
			return req, oauth.InvalidRequest("the body is not valid application/x-www-form-urlencoded")
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
		case "client_assertion":
			bit, dst = seenAssertion, &req.assertion
		case "client_assertion_type":
			bit, dst = seenAssertionType, &req.assertionType
		case "resource":
		default:
			continue // RFC 6749: ignore unrecognized parameters
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return req, oauth.InvalidRequest("the body is not valid application/x-www-form-urlencoded")
		}
		if val == "" {
			continue // RFC 6749 3.2: a parameter without a value is omitted
		}
		if name == "resource" {
			if len(req.resources) == maxResources {
				return req, oauth.InvalidRequest("too many resource parameters")
			}
			req.resources = append(req.resources, val)
			continue
		}
		if seen&bit != 0 {
			return req, oauth.InvalidRequest("parameter " + name + " appears more than once")
		}
		seen |= bit
		*dst = val
	}
	req.hasSecret = seen&seenSecret != 0
	return req, nil
}
