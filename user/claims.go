package user

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// Scopes whose claims Signet's own user sources release (ScopeClaims).
var claimScopes = []string{"profile", "email", "address", "phone", "groups"}

// addressFields are the members of the address claim (OpenID Connect
// Core 5.1.1).
var addressFields = []string{"formatted", "street_address", "locality", "region", "postal_code", "country"}

// standardClaims holds the claims of claimScopes (ScopeClaims), built
// once: IsStandardClaim runs for every claim a token or UserInfo
// response releases.
var standardClaims = func() map[string]bool {
	m := make(map[string]bool)
	for _, sc := range claimScopes {
		for _, name := range ScopeClaims(sc) {
			m[name] = true
		}
	}
	return m
}()

// IsStandardClaim reports whether name is a claim some scope releases
// (ScopeClaims).
func IsStandardClaim(name string) bool { return standardClaims[name] }

// IsReservedClaim reports whether the server sets the claim name itself
// (iss, sub, aud, exp, ...): a user may not carry it.
func IsReservedClaim(name string) bool {
	switch name {
	case "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "auth_time", "nonce", "at_hash", "c_hash", "s_hash",
		"sid", "acr", "amr", "azp", "cnf", "client_id", "scope", "_claim_names", "_claim_sources":
		return true
	}
	return false
}

// ReleaseAll is Release plus a user's custom claims (any name that is
// neither standard nor reserved), which the profile scope releases.
func ReleaseAll(all map[string]any, scopes []string) map[string]any {
	out := Release(all, scopes)
	if !slices.Contains(scopes, "profile") {
		return out
	}
	for name, v := range all {
		if IsStandardClaim(name) || IsReservedClaim(name) {
			continue
		}
		if out == nil {
			out = make(map[string]any)
		}
		out[name] = v
	}
	return out
}

// ErrInvalidClaim: a user's claim has a wrong name or value.
var ErrInvalidClaim = errors.New("user: invalid claim")

// ClaimError is CheckClaim's error: the claim Name and what is wrong with
// it (Problem, a sentence without the name). It wraps ErrInvalidClaim.
type ClaimError struct {
	Name, Problem string
}

func (e *ClaimError) Error() string { return "user: claim " + e.Name + ": " + e.Problem }

// Unwrap returns ErrInvalidClaim.
func (e *ClaimError) Unwrap() error { return ErrInvalidClaim }

// CheckClaim checks one claim a user carries: a standard claim's value
// has its OpenID Connect Core 5.1 type (address is an object of its
// string members, groups a list of names), a custom claim's name is not
// one the server sets and its value encodes as JSON. Errors wrap
// ErrInvalidClaim and say what is expected.
func CheckClaim(name string, v any) error {
	bad := func(format string, args ...any) error {
		return &ClaimError{Name: name, Problem: fmt.Sprintf(format, args...)}
	}
	switch {
	case name == "email_verified", name == "phone_number_verified":
		if _, ok := v.(bool); !ok {
			return bad("must be true or false")
		}
	case name == "updated_at":
		if !integral(v) {
			return bad("must be a number of seconds since 1970 (Unix time)")
		}
	case name == "address":
		m, ok := v.(map[string]any)
		if !ok || len(m) == 0 {
			return bad("must be an object with some of %s (OpenID Connect Core 5.1.1)", strings.Join(addressFields, ", "))
		}
		for k, x := range m {
			if !slices.Contains(addressFields, k) {
				return bad("has an unknown member %q; the members are %s", k, strings.Join(addressFields, ", "))
			}
			if s, ok := x.(string); !ok || s == "" {
				return bad("member %s must be a non-empty string", k)
			}
		}
	case name == "groups":
		list, ok := v.([]any)
		if !ok {
			if ss, ok2 := v.([]string); ok2 {
				for _, s := range ss {
					list = append(list, s)
				}
				ok = true
			}
		}
		if !ok {
			return bad("must be a list of group names, e.g. [staff, admins]")
		}
		for _, x := range list {
			if s, ok := x.(string); !ok || s == "" {
				return bad("must be a list of non-empty strings")
			}
		}
	case IsStandardClaim(name):
		if s, ok := v.(string); !ok || s == "" {
			return bad("must be a non-empty string")
		}
	case IsReservedClaim(name):
		return bad("is set by the server itself; a user cannot carry it (rename the claim)")
	case name == "" || len(name) > 255 || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r > '~' }):
		return bad("is not a claim name: use printable ASCII without spaces, at most 255 characters")
	default:
		if _, err := json.Marshal(v); err != nil {
			return bad("cannot be encoded as JSON: %v", err)
		}
		if v == nil {
			return bad("has no value")
		}
	}
	return nil
}

// CheckClaims checks every claim of claims (CheckClaim), in name order.
func CheckClaims(claims map[string]any) error {
	for _, k := range slices.Sorted(maps.Keys(claims)) {
		if err := CheckClaim(k, claims[k]); err != nil {
			return err
		}
	}
	return nil
}

// integral reports whether v is a whole number as YAML or JSON decode it.
func integral(v any) bool {
	switch n := v.(type) {
	case int, int64, uint64:
		return true
	case float64:
		return n == math.Trunc(n) && !math.IsInf(n, 0)
	case json.Number:
		_, err := n.Int64()
		return err == nil
	}
	return false
}
