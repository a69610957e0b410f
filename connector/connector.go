package connector

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/signet-id/signet/user"
)

// Errors of connectors. Wrap them with %w to add detail.
var (
	// ErrUpstream: the upstream provider answered with an error (the
	// user refused, a bad or replayed code, a token that does not
	// verify). The message is logged, never shown.
	ErrUpstream = errors.New("connector: the upstream identity provider refused the sign-in")
	// ErrUnreachable: the upstream provider or directory could not be
	// reached (discovery, keys, the token endpoint). The user is asked to
	// try again.
	ErrUnreachable = errors.New("connector: the upstream identity provider cannot be reached")
	// ErrNotFound: no record of a connector user (Store).
	ErrNotFound = errors.New("connector: no such connector user")
)

// Connector is an upstream identity source. Its Profiles answer for the
// subjects it made ("<ID>:..."): Active and Claims.
type Connector interface {
	// ID is the connector's id (connectors[].id).
	ID() string
	// Name is the label of its button on the login page.
	Name() string
	user.Profiles
}

// Password is a connector that checks passwords (LDAP): Authenticate
// returns the namespaced subject ([Subject]), with the errors of
// user.Authenticator.
type Password interface {
	Connector
	user.Authenticator
}

// Redirect is a connector that signs people in at an upstream provider
// the browser is sent to (OpenID Connect).
type Redirect interface {
	Connector
	// AuthCodeURL returns where to send the browser. It may fetch the
	// provider's discovery document (ErrUnreachable).
	AuthCodeURL(ctx context.Context, b Begin) (string, error)
	// Exchange finishes the sign-in with the provider's answer: query is
	// the callback's query, b the values AuthCodeURL was given. It
	// returns the namespaced subject of the user who signed in, whose
	// record (claims, upstream refresh token) it has stored; ErrUpstream
	// or ErrUnreachable, wrapped.
	Exchange(ctx context.Context, query url.Values, b Begin) (subject string, err error)
}

// Begin is what the server binds one upstream round trip to.
type Begin struct {
	// RedirectURI is the connector's callback at Signet.
	RedirectURI string
	// State, Nonce and CodeVerifier (PKCE, RFC 7636) are random per
	// round trip and bound to the browser and the pending request.
	State        string
	Nonce        string
	CodeVerifier string
	// LoginHint and Prompt are the client's, passed up where meaningful.
	LoginHint string
	Prompt    string
}

// Subject returns the subject of a connector's user: "<id>:<upstream>".
func Subject(id, upstream string) string { return id + ":" + upstream }

// SplitSubject returns the connector id and upstream id of a connector
// subject; ok is false for a subject without a ':'.
func SplitSubject(subject string) (id, upstream string, ok bool) {
	return strings.Cut(subject, ":")
}

// Release returns the claims of all that scopes release: the standard
// ones (user.Release), and groups with profile.
func Release(all map[string]any, scopes []string) map[string]any {
	out := user.Release(all, scopes)
	if g, ok := all["groups"]; ok && slices.Contains(scopes, "profile") {
		if out == nil {
			out = make(map[string]any)
		}
		out["groups"] = g
	}
	return out
}

// ReleaseTo returns the claims of all that req's caller gets: the
// username and name on Signet's pages (user.CallerPage), the claims of
// req.Scopes at userinfo (Release). Other callers get none.
func ReleaseTo(all map[string]any, req user.ClaimsRequest) map[string]any {
	switch req.Caller {
	case user.CallerPage:
		out := map[string]any{}
		for _, k := range []string{"preferred_username", "name"} {
			if v, ok := all[k]; ok {
				out[k] = v
			}
		}
		return out
	case user.CallerUserinfo:
		return Release(all, req.Scopes)
	}
	return nil
}
