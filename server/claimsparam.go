package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/signet-id/signet/server/internal/oauth"
	"github.com/signet-id/signet/user"
)

// The claims request parameter (OpenID Connect Core 5.5): a JSON object
// whose members userinfo and id_token ask for individual claims, each
// null or {"essential": bool, "value": v, "values": [v, ...]}. Signet
// releases a requested claim when one of the client's identity scopes
// would release it (a client without the email scope gets no email by
// asking for it), in the ID token or at userinfo as asked, beside what
// the granted scopes release. "essential" changes nothing (a claim the
// user lacks is left out, as the specification allows); value and
// values are read for acr only: a request whose acceptable classes are
// only the multi-factor one needs a second factor. Claims the server
// sets itself (sub, auth_time, acr, amr, ...) are always in the ID
// token. Unknown members are ignored (Core 5.5).

// Bounds on the claims parameter.
const (
	maxClaimsLen       = 4096
	maxRequestedClaims = 64
)

// claimsRequest is a checked claims parameter.
type claimsRequest struct {
	userinfo []string // claim names asked for at userinfo
	idToken  []string // claim names asked for in the ID token
	// acr are the acceptable classes id_token.acr names (value and
	// values), in order.
	acr []string
	// sub is id_token.sub's value: the only user the request may get an
	// answer for (Core 5.5.1); "" for any.
	sub string
}

// claimSpec is one requested claim's object.
type claimSpec struct {
	Essential *bool           `json:"essential"`
	Value     json.RawMessage `json:"value"`
	Values    json.RawMessage `json:"values"`
}

// parseClaimsParameter checks the claims parameter raw. The error says
// what is wrong, for the client.
func parseClaimsParameter(raw string) (*claimsRequest, error) {
	if len(raw) > maxClaimsLen {
		return nil, fmt.Errorf("claims is longer than %d characters", maxClaimsLen)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &top); err != nil || top == nil {
		return nil, errors.New("claims must be a JSON object (OpenID Connect Core 5.5)")
	}
	cr := &claimsRequest{}
	n := 0
	for _, member := range []string{"userinfo", "id_token"} {
		m, ok := top[member]
		if !ok || bytes.Equal(m, []byte("null")) {
			continue
		}
		var claims map[string]json.RawMessage
		if err := json.Unmarshal(m, &claims); err != nil {
			return nil, fmt.Errorf("claims.%s must be a JSON object of claim names", member)
		}
		names := make([]string, 0, len(claims))
		for name, spec := range claims {
			if n++; n > maxRequestedClaims {
				return nil, fmt.Errorf("claims asks for more than %d claims", maxRequestedClaims)
			}
			if name == "" || len(name) > maxHintLen {
				return nil, fmt.Errorf("claims.%s has a claim name that is empty or too long", member)
			}
			names = append(names, name)
			if bytes.Equal(bytes.TrimSpace(spec), []byte("null")) {
				continue
			}
			var s claimSpec
			d := json.NewDecoder(bytes.NewReader(spec))
			if err := d.Decode(&s); err != nil {
				return nil, fmt.Errorf("claims.%s.%s must be null or an object with essential (a boolean), value or values (an array)", member, strconv.Quote(name))
			}
			if s.Values != nil && !bytes.Equal(s.Values, []byte("null")) && (len(s.Values) == 0 || s.Values[0] != '[') {
				return nil, fmt.Errorf("claims.%s.%s.values must be an array", member, strconv.Quote(name))
			}
			switch {
			case member == "id_token" && name == "acr":
				cr.acr = acrValuesOf(s)
			case member == "id_token" && name == "sub" && len(s.Value) > 0 && !bytes.Equal(s.Value, []byte("null")):
				if json.Unmarshal(s.Value, &cr.sub) != nil || cr.sub == "" {
					return nil, errors.New(`claims.id_token."sub".value must be a non-empty string`)
				}
			}
		}
		slices.Sort(names) // a fixed order: stored and compared
		if member == "userinfo" {
			cr.userinfo = names
		} else {
			cr.idToken = names
		}
	}
	return cr, nil
}

// acrValuesOf returns the strings of a claim's value and values.
func acrValuesOf(s claimSpec) []string {
	var out []string
	var one string
	if json.Unmarshal(s.Value, &one) == nil && one != "" {
		out = append(out, one)
	}
	var many []any
	if json.Unmarshal(s.Values, &many) == nil {
		for _, v := range many {
			if str, ok := v.(string); ok && str != "" {
				out = append(out, str)
			}
		}
	}
	return out
}

// wantedACR is the class of this server's that a request asks for:
// ACRMultiFactor when the first of its classes in acr_values is the
// multi-factor one, or when the claims parameter accepts only that one
// of the server's classes; "" otherwise.
func wantedACR(acrValues []string, claimsACR []string) string {
	for _, v := range acrValues {
		if v == ACRSingleFactor {
			break
		}
		if v == ACRMultiFactor {
			return ACRMultiFactor
		}
	}
	if slices.Contains(claimsACR, ACRMultiFactor) && !slices.Contains(claimsACR, ACRSingleFactor) {
		return ACRMultiFactor
	}
	return ""
}

// releasable keeps the names that one of scopes (a client's identity
// scopes) would release, without the server's own claims.
func releasable(names, scopes []string) []string {
	var out []string
	for _, n := range names {
		if reservedClaim(n) {
			continue
		}
		if scopeOfClaim(n, scopes) != "" {
			out = append(out, n)
		}
	}
	return out
}

// scopeOfClaim returns the first of scopes that releases the claim name.
func scopeOfClaim(name string, scopes []string) string {
	for _, sc := range scopes {
		if slices.Contains(user.ScopeClaims(sc), name) {
			return sc
		}
	}
	return ""
}

// requestedClaims returns the user source's values of names (claims
// asked for with the claims parameter), as far as the client's identity
// scopes still release them: the source is asked as for userinfo with
// the scopes that release them, and only names are kept.
func (s *Server) requestedClaims(ctx context.Context, subject, clientID string, names, clientScopes []string) (map[string]any, *oauth.Error) {
	names = releasable(names, clientScopes)
	if len(names) == 0 {
		return nil, nil
	}
	var scopes []string
	for _, n := range names {
		if sc := scopeOfClaim(n, clientScopes); !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	all, e := s.sourceClaims(ctx, user.ClaimsRequest{Subject: subject, ClientID: clientID, Scopes: append([]string{scopeOpenID}, scopes...), Caller: user.CallerUserinfo})
	if e != nil {
		return nil, e
	}
	var out map[string]any
	for _, n := range names {
		if v, ok := all[n]; ok {
			if out == nil {
				out = make(map[string]any, len(names))
			}
			out[n] = v
		}
	}
	return out, nil
}

// mergeClaims returns base with the claims of more that it lacks (a new
// map: base may be the user source's).
func mergeClaims(base, more map[string]any) map[string]any {
	if len(more) == 0 {
		return base
	}
	out := make(map[string]any, len(base)+len(more))
	maps.Copy(out, more)
	maps.Copy(out, base) // the source's own answer wins
	return out
}

// subValue is the user the request names with id_token.sub's value, ""
// for any.
func (cr *claimsRequest) subValue() string {
	if cr == nil {
		return ""
	}
	return cr.sub
}

// idTokenClaims and userinfoClaims are the claims asked for that the
// client's identity scopes release (stored with the code); nil without
// a claims parameter.
func (cr *claimsRequest) idTokenClaims(lc *loginClient) []string {
	if cr == nil {
		return nil
	}
	return releasable(cr.idToken, lc.identityScopes)
}

func (cr *claimsRequest) userinfoClaims(lc *loginClient) []string {
	if cr == nil {
		return nil
	}
	return releasable(cr.userinfo, lc.identityScopes)
}
